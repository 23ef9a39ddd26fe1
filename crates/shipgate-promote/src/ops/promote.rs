//! `promote`, step by step: resolve the request (the environment, the release, a stale
//! hold cleared, the places), then on each attempt read the facts, evaluate the gates, and
//! when they pass commit the environment's edits, write the entry and publish both (or,
//! with `--pr`, open a pull request); the outcome says what happened.

use jiff::Timestamp;
use serde::Serialize;
use shipgate_git::Oid;

use super::configuration::{check_configuration, places_summary};
use super::files::{FileEdit, commit_edits};
use super::pull_request::open_pull_request;
use super::releases::changes;
use super::rollback::{RollBackTraffic, clear_stale};
use super::{Context, OnSkew, OpError, with_retries};
use crate::entry::{Changes, Entry, Gate, Kind};
use crate::gates::{self, GateInput, LockFact};
use crate::ledger::{Ledger, Published};
use crate::lock::LockState;
use crate::state::{LedgerState, VersionFacts};
use crate::targets::Place;

/// `shipgate promote`: what was asked.
#[derive(Debug, Clone, Default)]
pub struct PromoteRequest {
    /// The version.
    pub version: String,
    /// The target environment.
    pub to: String,
    /// One crate's releases (`{crate}-v{version}` tags).
    pub package: Option<String>,
    /// Evaluate the gates only.
    pub dry_run: bool,
    /// With `dry_run`: the time to ask the gates about.
    pub at: Option<Timestamp>,
    /// Open a pull request with the environment's change instead of pushing it.
    pub pr: bool,
    /// `--override-freeze --reason`.
    pub override_freeze: Option<String>,
    /// Push the branch commit and the entry.
    pub push: bool,
    /// The target environment's alarms, read by the caller (`alarms` gate).
    pub alarms: gates::AlarmFact,
}

/// `shipgate promote`: what happened.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PromoteOutcome {
    /// The version.
    pub version: String,
    /// The target environment.
    pub environment: String,
    /// What ran there before.
    pub from: Option<String>,
    /// Whether the version is now the environment's.
    pub promoted: bool,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// Every gate, with its evidence.
    pub gates: Vec<Gate>,
    /// The time the gates were asked about.
    #[schemars(with = "String")]
    pub at: Timestamp,
    /// The branch commit that changed the environment's file (or, when the files already
    /// said so, the branch commit they say it at: `new_commit` is false).
    pub commit: Option<String>,
    /// Whether this promotion made `commit`.
    pub new_commit: bool,
    /// The ledger commit of the entry.
    pub ledger_commit: Option<String>,
    /// Whether it is on the remote.
    pub pushed: bool,
    /// Attempts (more than one: races were lost and the gates re-evaluated).
    pub attempts: u32,
    /// The environment's (first) file and what it now says.
    pub file: String,
    /// Every place written: file, key, value.
    pub files: Vec<Written>,
    /// The GitHub deployment created for it (by the pipeline's listener, after the entry).
    pub deployment: Option<u64>,
    /// With `--pr`: the pull request opened with the change.
    pub pull_request: Option<String>,
    /// Notes for the user.
    pub notes: Vec<String>,
    /// Warnings for the user: a dry run with a clock behind the ledger.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// A place a promotion wrote.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Written {
    /// The file.
    pub file: String,
    /// The key path in it.
    pub key: String,
    /// What it now says.
    pub value: String,
}
/// `shipgate promote VERSION --to ENV`.
pub fn promote(
    ctx: &Context<'_>,
    req: &PromoteRequest,
    roll_back_stale: &mut RollBackTraffic<'_>,
) -> Result<PromoteOutcome, OpError> {
    let (target, mut notes) = resolve(ctx, req, roll_back_stale)?;
    let on_skew = if req.dry_run {
        OnSkew::DryRun
    } else {
        OnSkew::Refuse
    };
    let (mut done, warnings) = with_retries(ctx, on_skew, |ledger, attempt| {
        notes.append(&mut ledger.notes);
        attempt_promotion(ctx, req, &target, ledger, attempt, &notes)
    })?;
    done.warnings = warnings;
    Ok(done)
}

/// What a promotion resolves to before its first attempt.
struct Target {
    /// The release's commit.
    tag_commit: Oid,
    /// Where the version goes: at least one place.
    places: Vec<Place>,
    /// The first place's file.
    file: String,
}

/// Resolves the request: the environment and the release checked, a stale hold of the
/// environment cleared (unless it is a dry run: notes say what that did), and the places
/// the version goes.
fn resolve(
    ctx: &Context<'_>,
    req: &PromoteRequest,
    roll_back_stale: &mut RollBackTraffic<'_>,
) -> Result<(Target, Vec<String>), OpError> {
    ctx.check_env(&req.to)?;
    let (_tag, tag_commit) = ctx.released(&req.version, req.package.as_deref())?;
    let mut notes = Vec::new();
    if !req.dry_run {
        notes.extend(clear_stale(ctx, &req.to, req.push, roll_back_stale)?);
    }
    let places = ctx.places(&req.to);
    let file = places
        .first()
        .ok_or_else(|| OpError::NoTargets {
            env: req.to.clone(),
            layout: ctx.environments.layout,
        })?
        .file
        .clone();
    let target = Target {
        tag_commit,
        places,
        file,
    };
    Ok((target, notes))
}

/// One attempt on `ledger` as just fetched: the gates evaluated and, when they pass, the
/// promotion written and published (or its pull request opened); `Err(refs)` when the
/// publication lost a race.
fn attempt_promotion(
    ctx: &Context<'_>,
    req: &PromoteRequest,
    target: &Target,
    ledger: &mut Ledger<'_>,
    attempt: u32,
    notes: &[String],
) -> Result<Result<PromoteOutcome, Vec<String>>, OpError> {
    let at = gate_time(req, ctx.now);
    let base = ctx.push_base(ledger, req.push)?;
    let edits = ctx.edits(base, &target.places, &req.version)?;
    let facts = read_facts(ctx, req, ledger, base, &edits, &target.places)?;
    let gates = gates::evaluate(&gate_input(ctx, req, &ledger.state, &facts, at));
    let from = ledger
        .state
        .environments
        .get(&req.to)
        .and_then(|e| e.version.clone());
    let mut outcome = outcome(req, target, from, gates, at, attempt, notes.to_vec());
    if req.dry_run || !gates::all_passed(&outcome.gates) {
        return Ok(Ok(outcome));
    }
    if req.pr {
        let url = open_pull_request(ctx, &req.version, &req.to, base, &edits, &outcome.gates)?;
        outcome.pull_request = Some(url);
        return Ok(Ok(outcome));
    }
    write_and_publish(ctx, req, target.tag_commit, ledger, base, &edits, outcome)
}

/// The time the gates are asked about: `--at` for a dry run, else now.
fn gate_time(req: &PromoteRequest, now: Timestamp) -> Timestamp {
    match (req.dry_run, req.at) {
        (true, Some(at)) => at,
        _ => now,
    }
}

/// What the gates read besides the ledger's state and the request.
struct Facts {
    /// The version's history in the ledger.
    version: VersionFacts,
    /// The configuration check's answer, with the promotion's edits.
    configuration: Result<String, Vec<String>>,
    /// The target environment's hold.
    lock: LockFact,
}

/// Reads the facts the gates need: the environment's configuration with `edits` on `base`,
/// the version's history, the environment's hold.
fn read_facts(
    ctx: &Context<'_>,
    req: &PromoteRequest,
    ledger: &Ledger<'_>,
    base: Oid,
    edits: &[FileEdit],
    places: &[Place],
) -> Result<Facts, OpError> {
    let summary = places_summary(places, &req.version);
    let configuration = check_configuration(ctx, base, &req.to, edits, summary)?;
    let version = ledger.version_facts(&req.version)?;
    let lock = lock_fact(ctx.hold_fact(&req.to)?);
    Ok(Facts {
        version,
        configuration,
        lock,
    })
}

/// The hold as the `lock` gate reads it. Only a dry run gets here with a stale hold: a real
/// promotion clears it first.
fn lock_fact(state: LockState) -> LockFact {
    match state {
        LockState::Free => LockFact::Free,
        LockState::Held { hold, .. } => LockFact::Held {
            holder: hold.describe(),
        },
        LockState::Stale { hold, .. } => LockFact::Held {
            holder: format!(
                "{}; it is STALE (its run died): a promotion without --dry-run rolls it back first",
                hold.describe()
            ),
        },
    }
}

/// What the gates are asked: the request, the ledger's `state` and the `facts`, at `at`.
fn gate_input<'a>(
    ctx: &'a Context<'_>,
    req: &'a PromoteRequest,
    state: &'a LedgerState,
    facts: &'a Facts,
    at: Timestamp,
) -> GateInput<'a> {
    GateInput {
        target: &req.to,
        version: &req.version,
        order: ctx.order(),
        settings: ctx.settings,
        state,
        facts: &facts.version,
        now: at,
        promoter: &ctx.who,
        configuration: &facts.configuration,
        override_freeze: req.override_freeze.as_deref(),
        lock: &facts.lock,
        alarms: &req.alarms,
    }
}

/// The outcome of an attempt whose gates were evaluated, before anything is written: not
/// promoted, every place with the value it gets.
fn outcome(
    req: &PromoteRequest,
    target: &Target,
    from: Option<String>,
    gates: Vec<Gate>,
    at: Timestamp,
    attempt: u32,
    notes: Vec<String>,
) -> PromoteOutcome {
    PromoteOutcome {
        version: req.version.clone(),
        environment: req.to.clone(),
        from,
        promoted: false,
        dry_run: req.dry_run,
        gates,
        at,
        commit: None,
        ledger_commit: None,
        pushed: false,
        attempts: attempt,
        new_commit: false,
        file: target.file.clone(),
        files: target
            .places
            .iter()
            .map(|p| Written {
                file: p.file.clone(),
                key: p.key.clone(),
                value: p.value(&req.version),
            })
            .collect(),
        deployment: None,
        pull_request: None,
        notes,
        warnings: Vec::new(),
    }
}

/// Writes the promotion whose gates passed: the branch commit with `edits` on `base`
/// (unless the files already say so: a merged pull request), the entry, both published
/// together; `outcome` then says so. `Err(refs)` when the publication lost a race.
fn write_and_publish(
    ctx: &Context<'_>,
    req: &PromoteRequest,
    tag_commit: Oid,
    ledger: &mut Ledger<'_>,
    base: Oid,
    edits: &[FileEdit],
    mut outcome: PromoteOutcome,
) -> Result<Result<PromoteOutcome, Vec<String>>, OpError> {
    let (commit, branch_move) = commit_edits(ctx, base, edits, &promotion_message(req, &ctx.who))?;
    let highest = ledger
        .state
        .environments
        .get(&req.to)
        .and_then(|e| e.highest.clone());
    let package = req.package.as_deref();
    let changes = changes(ctx, highest.as_deref(), &req.version, tag_commit, package)?;
    let entry = promotion_entry(ctx, req, &outcome, commit, changes);
    let tip = ledger.build(ledger.tip, &[entry], branch_move.as_ref().map(|b| b.new))?;
    match ledger.publish(tip, branch_move.as_ref(), req.push)? {
        Published::Moved { refs } => return Ok(Err(refs)),
        p => outcome.pushed = p == Published::Pushed,
    }
    outcome.promoted = true;
    outcome.new_commit = branch_move.is_some();
    outcome.commit = Some(commit.to_string());
    outcome.ledger_commit = Some(tip.to_string());
    outcome.notes.append(&mut ledger.notes);
    Ok(Ok(outcome))
}

/// The promotion's branch commit message.
fn promotion_message(req: &PromoteRequest, who: &str) -> String {
    format!(
        "chore(promote): {} to {}\n\nshipgate promote {} --to {} by {who}\n",
        req.version, req.to, req.version, req.to
    )
}

/// The promotion's entry: what ran before, the gates passed, the branch commit, the freeze
/// overridden, the changes it brings.
fn promotion_entry(
    ctx: &Context<'_>,
    req: &PromoteRequest,
    outcome: &PromoteOutcome,
    commit: Oid,
    changes: Changes,
) -> Entry {
    let mut entry = ctx.entry(Kind::Promotion, Some(&req.to), Some(&req.version));
    entry.from = outcome.from.clone();
    entry.gates = outcome.gates.clone();
    entry.commit = Some(commit.to_string());
    entry.reason = req.override_freeze.clone();
    entry.changes = Some(changes);
    entry
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{Fixture, at, hold};
    use super::*;
    use crate::gates::AlarmFact;

    fn request() -> PromoteRequest {
        PromoteRequest {
            version: "1.4.0".into(),
            to: "prod".into(),
            override_freeze: Some("hotfix for INC-42".into()),
            alarms: AlarmFact::Unreadable("CloudWatch: access denied".into()),
            ..PromoteRequest::default()
        }
    }

    fn target() -> Target {
        let place = |file: &str, key: &str, template: &str| Place {
            file: file.into(),
            key: key.into(),
            template: template.into(),
            shorthand: false,
        };
        Target {
            tag_commit: Oid::ZERO_SHA1,
            places: vec![
                place(
                    "deploy/prod/kustomization.yaml",
                    "images[name=app].newTag",
                    "{{version}}",
                ),
                place(
                    "charts/values-prod.yaml",
                    "image",
                    "ghcr.io/acme/app:{{version}}",
                ),
            ],
            file: "deploy/prod/kustomization.yaml".into(),
        }
    }

    fn gate(name: &str, passed: bool) -> Gate {
        Gate {
            name: name.into(),
            passed,
            detail: format!("{name} evidence"),
        }
    }

    #[test]
    fn the_gates_are_asked_about_at_only_in_a_dry_run() {
        let now = at("2025-03-04T10:00:00Z");
        let then = at("2025-03-08T23:30:00Z");
        let mut req = request();
        assert_eq!(gate_time(&req, now), now);
        req.at = Some(then);
        assert_eq!(gate_time(&req, now), now, "--at without --dry-run");
        req.dry_run = true;
        assert_eq!(gate_time(&req, now), then);
        req.at = None;
        assert_eq!(gate_time(&req, now), now);
    }

    #[test]
    fn a_hold_is_the_lock_gates_fact_and_a_stale_one_says_so() {
        assert_eq!(lock_fact(LockState::Free), LockFact::Free);
        let described = hold().describe();
        assert_eq!(
            lock_fact(LockState::Held {
                hold: hold(),
                commit: Oid::ZERO_SHA1
            }),
            LockFact::Held {
                holder: described.clone()
            }
        );
        assert_eq!(
            lock_fact(LockState::Stale {
                hold: hold(),
                commit: Oid::ZERO_SHA1
            }),
            LockFact::Held {
                holder: format!(
                    "{described}; it is STALE (its run died): a promotion without --dry-run \
                     rolls it back first"
                )
            }
        );
    }

    #[test]
    fn the_gates_are_asked_about_the_request_the_ledger_and_the_facts() {
        let f = Fixture::new();
        let ctx = f.context();
        let req = request();
        let state = LedgerState {
            entries: 3,
            ..LedgerState::default()
        };
        let facts = Facts {
            version: VersionFacts {
                version: "1.4.0".into(),
                ..VersionFacts::default()
            },
            configuration: Err(vec!["environments/prod.toml:1:1: wrong".into()]),
            lock: LockFact::Held {
                holder: "a canary".into(),
            },
        };
        let when = at("2025-03-08T23:30:00Z");
        let input = gate_input(&ctx, &req, &state, &facts, when);
        assert_eq!(input.target, "prod");
        assert_eq!(input.version, "1.4.0");
        assert_eq!(input.order, ["dev", "staging", "prod"]);
        assert!(std::ptr::eq(input.settings, &f.settings));
        assert_eq!(input.state.entries, 3);
        assert_eq!(input.facts.version, "1.4.0");
        assert_eq!(input.now, when);
        assert_eq!(input.promoter, "alice@example.com");
        assert_eq!(input.configuration, &facts.configuration);
        assert_eq!(input.override_freeze, Some("hotfix for INC-42"));
        assert_eq!(input.lock, &facts.lock);
        assert_eq!(input.alarms, &req.alarms);
    }

    #[test]
    fn an_evaluated_outcome_names_every_place_and_promotes_nothing_yet() {
        let mut req = request();
        req.dry_run = true;
        let gates = vec![gate("order", true), gate("approvals", false)];
        let when = at("2025-03-08T23:30:00Z");
        let notes = vec!["replayed 1 entry".to_string()];
        let out = outcome(
            &req,
            &target(),
            Some("1.3.0".into()),
            gates.clone(),
            when,
            2,
            notes,
        );
        assert_eq!(out.version, "1.4.0");
        assert_eq!(out.environment, "prod");
        assert_eq!(out.from.as_deref(), Some("1.3.0"));
        assert!(!out.promoted);
        assert!(out.dry_run);
        assert_eq!(out.gates, gates);
        assert_eq!(out.at, when);
        assert_eq!(out.attempts, 2);
        assert_eq!(out.file, "deploy/prod/kustomization.yaml");
        let files: Vec<(&str, &str, &str)> = out
            .files
            .iter()
            .map(|w| (w.file.as_str(), w.key.as_str(), w.value.as_str()))
            .collect();
        assert_eq!(
            files,
            [
                (
                    "deploy/prod/kustomization.yaml",
                    "images[name=app].newTag",
                    "1.4.0"
                ),
                ("charts/values-prod.yaml", "image", "ghcr.io/acme/app:1.4.0"),
            ]
        );
        assert_eq!(out.notes, ["replayed 1 entry"]);
        assert_eq!(
            (out.commit, out.ledger_commit, out.pushed, out.new_commit),
            (None, None, false, false)
        );
        assert_eq!((out.deployment, out.pull_request), (None, None));
        assert!(out.warnings.is_empty());
    }

    #[test]
    fn the_branch_commit_says_what_moved_where_and_who_moved_it() {
        assert_eq!(
            promotion_message(&request(), "alice@example.com"),
            "chore(promote): 1.4.0 to prod\n\nshipgate promote 1.4.0 --to prod by alice@example.com\n"
        );
    }

    #[test]
    fn the_entry_carries_the_gates_the_commit_the_override_and_the_changes() {
        let f = Fixture::new();
        let ctx = f.context();
        let req = request();
        let gates = vec![gate("order", true), gate("freeze", true)];
        let out = outcome(
            &req,
            &target(),
            Some("1.3.0".into()),
            gates.clone(),
            ctx.now,
            1,
            vec![],
        );
        let commit = Oid::from_bytes(&[7; 20]).expect("oid");
        let changes = Changes {
            count: 2,
            commit_times: vec![1_741_000_000, 1_740_000_000],
        };
        let entry = promotion_entry(&ctx, &req, &out, commit, changes.clone());
        assert_eq!(
            entry,
            Entry {
                environment: Some("prod".into()),
                version: Some("1.4.0".into()),
                from: Some("1.3.0".into()),
                gates,
                commit: Some(commit.to_string()),
                reason: Some("hotfix for INC-42".into()),
                changes: Some(changes),
                run_url: Some("https://ci.example/runs/7".into()),
                ..Entry::new(Kind::Promotion, "alice@example.com", ctx.now)
            }
        );
        assert_eq!(entry.check(), Ok(()));
    }
}
