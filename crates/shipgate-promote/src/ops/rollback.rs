//! `rollback`: the environment's places back to an earlier version, the version rolled back
//! from blocked, never held by a gate; and the rollback that clears a stale hold (a canary
//! whose run died), which every command for an environment does first.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde::Serialize;
use shipgate_git::Oid;

use super::files::commit_edits;
use super::{Context, OnSkew, OpError, with_retries};
use crate::entry::{CanarySummary, Entry, Kind, Source, VerifyResult};
use crate::ledger::{Ledger, Published};
use crate::lock::{self, Hold, LockState};
use crate::settings::Verification;
use crate::state::VersionFacts;
use crate::targets::Place;

/// `shipgate rollback`: what was asked.
#[derive(Debug, Clone, Default)]
pub struct RollbackRequest {
    /// The environment.
    pub env: String,
    /// Where to (default: the last version that passed there).
    pub to: Option<String>,
    /// Why.
    pub reason: String,
    /// Push.
    pub push: bool,
    /// When it was asked for (default: now): the failing verdict for a canary's rollback.
    pub requested_at: Option<Timestamp>,
    /// A failed canary's verdict: recorded as a failed verification first.
    pub canary: Option<CanarySummary>,
    /// The caller holds the environment (the canary run rolling itself back).
    pub holds_lock: bool,
}

/// `shipgate rollback`: what happened.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RollbackOutcome {
    /// The environment.
    pub environment: String,
    /// What ran.
    pub from: String,
    /// What runs now.
    pub to: String,
    /// When.
    #[schemars(with = "String")]
    pub at: Timestamp,
    /// Who.
    pub by: String,
    /// Why.
    pub reason: String,
    /// The branch commit.
    pub commit: Option<String>,
    /// The ledger's new tip.
    pub ledger_commit: String,
    /// Whether it is on the remote.
    pub pushed: bool,
    /// The version now blocked.
    pub blocked: String,
    /// The branch commit of the version rolled back from (its deployment failed).
    #[serde(skip)]
    pub replaced_commit: Option<String>,
    /// Attempts.
    pub attempts: u32,
    /// Notes.
    pub notes: Vec<String>,
    /// Warnings: a clock behind the ledger.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// `shipgate rollback --env ENV [--to VERSION] --reason TEXT`: never frozen, never held by
/// approvals or soak; the version rolled back from is blocked.
pub fn rollback(
    ctx: &Context<'_>,
    req: &RollbackRequest,
    roll_back_stale: &mut RollBackTraffic<'_>,
) -> Result<RollbackOutcome, OpError> {
    ctx.check_env(&req.env)?;
    let mut notes = Vec::new();
    if !req.holds_lock {
        notes.extend(clear_stale(ctx, &req.env, req.push, roll_back_stale)?);
        if let LockState::Held { hold, .. } = ctx.hold_fact(&req.env)? {
            return Err(OpError::Held {
                env: req.env.clone(),
                holder: hold.describe(),
            });
        }
    }
    let mut out = rollback_entries(ctx, req)?;
    notes.append(&mut out.notes);
    out.notes = notes;
    Ok(out)
}

/// `rollback`'s default target: the last version other than `current` that passed in
/// `env`. Where the environment asks only for a promotion (`verification = "none"`), a
/// promotion there is that pass, as it is for the gates of the next environment: the
/// newest version promoted there (or verified there with a pass) that was neither rolled
/// back from nor failed a verification there since. Those environments' passes are read
/// from the ledger's entries, newest first, because the indexes (`passed`) fold entries
/// alone and cannot know the setting; the walk stops at the first candidate.
fn rollback_target(
    ctx: &Context<'_>,
    ledger: &Ledger<'_>,
    env: &str,
    current: &str,
) -> Result<Option<String>, OpError> {
    if ctx.settings.for_env(env).verification != Verification::None {
        return Ok(ledger
            .state
            .environments
            .get(env)
            .and_then(|e| e.passed.iter().rev().find(|v| *v != current).cloned()));
    }
    let mut failed = BTreeSet::new();
    let mut found = None;
    ledger.walk(&mut |_, e| {
        let (Some(version), true) = (e.version, e.environment.as_deref() == Some(env)) else {
            return true;
        };
        match (e.kind, e.result) {
            (Kind::Rollback, _) => failed.extend(e.from),
            (Kind::Verification, Some(VerifyResult::Fail)) => {
                failed.insert(version);
            }
            (Kind::Promotion, _) | (Kind::Verification, Some(VerifyResult::Pass))
                if version != current && !failed.contains(&version) =>
            {
                found = Some(version);
                return false;
            }
            _ => {}
        }
        true
    })?;
    Ok(found)
}

/// The rollback `rollback` checked (or a stale hold's): its entries and its branch commit,
/// on the ledger as just fetched, again on a lost race.
fn rollback_entries(ctx: &Context<'_>, req: &RollbackRequest) -> Result<RollbackOutcome, OpError> {
    let places = ctx.places(&req.env);
    if places.is_empty() {
        return Err(OpError::NoTargets {
            env: req.env.clone(),
            layout: ctx.environments.layout,
        });
    }
    let (mut done, warnings) = with_retries(ctx, OnSkew::Record("rollback"), |ledger, attempt| {
        roll_back(ctx, req, &places, ledger, attempt)
    })?;
    done.warnings = warnings;
    Ok(done)
}

/// One attempt of a rollback on `ledger`: the branch commit and the entries, published;
/// `Err(refs)` when the race was lost.
fn roll_back(
    ctx: &Context<'_>,
    req: &RollbackRequest,
    places: &[Place],
    ledger: &mut Ledger<'_>,
    attempt: u32,
) -> Result<Result<RollbackOutcome, Vec<String>>, OpError> {
    let (current, to) = from_and_to(ctx, ledger, req)?;
    let base = ctx.push_base(ledger, req.push)?;
    // The same places as the promotion, back to `to`.
    let edits = ctx.edits(base, places, &to)?;
    let message = rollback_message(&req.env, &current, &to, &ctx.who);
    let (commit, branch_move) = commit_edits(ctx, base, &edits, &message)?;
    let failed_at = failed_at(&ledger.version_facts(&current)?, &req.env);
    let entries = entries(ctx, req, &current, &to, commit, failed_at);
    let tip = ledger.build(ledger.tip, &entries, branch_move.as_ref().map(|m| m.new))?;
    let old_commit = ledger
        .state
        .environments
        .get(&req.env)
        .and_then(|e| e.commit.clone());
    let pushed = match ledger.publish(tip, branch_move.as_ref(), req.push)? {
        Published::Moved { refs } => return Ok(Err(refs)),
        p => p == Published::Pushed,
    };
    Ok(Ok(RollbackOutcome {
        environment: req.env.clone(),
        from: current.clone(),
        to,
        at: ctx.now,
        by: ctx.who.clone(),
        reason: req.reason.clone(),
        commit: Some(commit.to_string()),
        ledger_commit: tip.to_string(),
        pushed,
        blocked: current,
        replaced_commit: old_commit,
        attempts: attempt,
        notes: std::mem::take(&mut ledger.notes),
        warnings: Vec::new(),
    }))
}

/// What runs in the environment, and the version to roll back to (asked, else
/// [`rollback_target`]), a released one other than what runs.
fn from_and_to(
    ctx: &Context<'_>,
    ledger: &Ledger<'_>,
    req: &RollbackRequest,
) -> Result<(String, String), OpError> {
    let current = ledger
        .state
        .environments
        .get(&req.env)
        .and_then(|e| e.version.clone())
        .ok_or_else(|| OpError::NothingRuns(req.env.clone()))?;
    let to = match &req.to {
        Some(v) => v.clone(),
        None => rollback_target(ctx, ledger, &req.env, &current)?.ok_or_else(|| {
            OpError::NoRollbackTarget {
                env: req.env.clone(),
                current: current.clone(),
            }
        })?,
    };
    ctx.released(&to, None)?;
    if to == current {
        return Err(OpError::AlreadyRuns {
            env: req.env.clone(),
            version: to,
        });
    }
    Ok((current, to))
}

/// The rollback's branch commit message (the reason is in the entry, not in `main`'s
/// history).
fn rollback_message(env: &str, current: &str, to: &str, who: &str) -> String {
    format!(
        "chore(rollback): {env} from {current} to {to}\n\nshipgate rollback --env {env} by {who} (the reason is in the ledger entry)\n"
    )
}

/// When the version that runs failed in `env`: its latest verification there, when that
/// failed since its latest promotion there. Time to restore counts from it.
fn failed_at(facts: &VersionFacts, env: &str) -> Option<Timestamp> {
    facts.environments.get(env).and_then(|f| {
        let since = f.promoted.last().copied();
        f.verification
            .as_ref()
            .filter(|v| v.result == VerifyResult::Fail && since.is_none_or(|p| v.at >= p))
            .map(|v| v.at)
    })
}

/// A rollback's entries: a failed canary's verdict (a failed verification of `current`),
/// the rollback to `to` at `commit`, and the block of `current`.
fn entries(
    ctx: &Context<'_>,
    req: &RollbackRequest,
    current: &str,
    to: &str,
    commit: Oid,
    failed_at: Option<Timestamp>,
) -> Vec<Entry> {
    let mut entries = Vec::new();
    if let Some(summary) = &req.canary {
        let mut v = ctx.entry(Kind::Verification, Some(&req.env), Some(current));
        v.result = Some(VerifyResult::Fail);
        v.source = Some(Source::Canary);
        v.canary = Some(summary.clone());
        v.evidence = Some(summary.rule.clone());
        entries.push(v);
    }
    let mut r = ctx.entry(Kind::Rollback, Some(&req.env), Some(to));
    r.from = Some(current.to_string());
    r.reason = Some(req.reason.clone());
    r.commit = Some(commit.to_string());
    // Time to restore counts from the failure: the verdict given, else the latest failed
    // verification of the version here since its promotion, else this request.
    r.requested_at = Some(req.requested_at.or(failed_at).unwrap_or(ctx.now));
    r.canary = req.canary.clone();
    entries.push(r);
    let mut b = ctx.entry(Kind::Block, Some(&req.env), Some(current));
    b.reason = Some(req.reason.clone());
    entries.push(b);
    entries
}

/// Why traffic could not be moved back: the actuator's error, whole (its chain and hint).
pub type TrafficError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a stale hold's rollback must do to traffic (the canary's actuator, from the caller).
pub type RollBackTraffic<'f> = dyn FnMut(&Hold) -> Result<(), TrafficError> + 'f;

/// Clears a stale hold of `env`: traffic back through `roll_back`, a rollback entry (when
/// the ledger says the dead canary's version runs), the hold released. What every command
/// for an environment does first; `canary run` too, before it takes the hold.
pub fn clear_stale_hold(
    ctx: &Context<'_>,
    env: &str,
    push: bool,
    roll_back: &mut RollBackTraffic<'_>,
) -> Result<Vec<String>, OpError> {
    ctx.check_env(env)?;
    clear_stale(ctx, env, push, roll_back)
}

/// [`clear_stale_hold`] for an environment already checked.
pub(super) fn clear_stale(
    ctx: &Context<'_>,
    env: &str,
    push: bool,
    roll_back: &mut RollBackTraffic<'_>,
) -> Result<Vec<String>, OpError> {
    // A fresh look at the remote's holds: one taken since the last fetch counts too.
    let ledger = Ledger::open(
        ctx.repo,
        ctx.remote(),
        &ctx.settings.branch,
        ctx.remote().is_some(),
    )?;
    let LockState::Stale { hold, commit } = ctx.hold_fact(env)? else {
        return Ok(Vec::new());
    };
    roll_back(&hold).map_err(|source| OpError::StaleRollback {
        env: env.to_string(),
        holder: hold.describe(),
        source,
    })?;
    let mut notes = vec![format!(
        "{env} was held by {}, which stopped renewing it: its traffic went back to {}",
        hold.describe(),
        hold.baseline_version
    )];
    let runs = ledger
        .state
        .environments
        .get(env)
        .and_then(|e| e.version.clone());
    if runs.as_deref() == Some(hold.version.as_str()) {
        let done = rollback_entries(ctx, &stale_rollback(env, &hold, push))?;
        notes.push(format!(
            "recorded: rollback of {env} from {} to {}",
            done.from, done.to
        ));
    }
    lock::release(ctx.repo, ctx.remote(), env, commit)?;
    Ok(notes)
}

/// The rollback of a stale hold's canary: back to its baseline, counted from its last
/// renewal, by a caller that holds the environment (the dead run's hold, until released).
fn stale_rollback(env: &str, hold: &Hold, push: bool) -> RollbackRequest {
    RollbackRequest {
        env: env.to_string(),
        to: Some(hold.baseline_version.clone()),
        reason: format!(
            "stale canary: {}; rolled back by the next command for {env}",
            hold.describe()
        ),
        push,
        requested_at: Some(hold.renewed_at),
        canary: None,
        holds_lock: true,
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{Fixture, at, hold};
    use super::*;
    use crate::state::{VerificationFact, VersionEnv};

    #[test]
    fn the_branch_commit_keeps_the_reason_out() {
        assert_eq!(
            rollback_message("prod", "1.4.0", "1.3.0", "alice@example.com"),
            "chore(rollback): prod from 1.4.0 to 1.3.0\n\nshipgate rollback --env prod by \
             alice@example.com (the reason is in the ledger entry)\n"
        );
    }

    fn facts(
        env: &str,
        promoted: &[&str],
        verification: Option<(VerifyResult, &str)>,
    ) -> VersionFacts {
        let mut facts = VersionFacts {
            version: "1.4.0".into(),
            ..VersionFacts::default()
        };
        facts.environments.insert(
            env.into(),
            VersionEnv {
                promoted: promoted.iter().map(|t| at(t)).collect(),
                verification: verification.map(|(result, t)| VerificationFact {
                    result,
                    at: at(t),
                    by: "canary".into(),
                    source: Source::Canary,
                    evidence: None,
                }),
                ..VersionEnv::default()
            },
        );
        facts
    }

    #[test]
    fn the_failure_is_the_latest_failed_verification_since_the_promotion() {
        let fail = Some((VerifyResult::Fail, "2025-03-04T09:30:00Z"));
        let promoted = ["2025-03-01T08:00:00Z", "2025-03-04T09:00:00Z"];
        assert_eq!(
            failed_at(&facts("prod", &promoted, fail), "prod"),
            Some(at("2025-03-04T09:30:00Z"))
        );
        // Verified, not promoted (a verification alone): it still counts.
        assert_eq!(
            failed_at(&facts("prod", &[], fail), "prod"),
            Some(at("2025-03-04T09:30:00Z"))
        );
        // At the promotion's second: since it.
        let same = Some((VerifyResult::Fail, "2025-03-04T09:00:00Z"));
        assert_eq!(
            failed_at(&facts("prod", &promoted, same), "prod"),
            Some(at("2025-03-04T09:00:00Z"))
        );
        // Before the latest promotion: that failure was of an earlier run.
        let before = Some((VerifyResult::Fail, "2025-03-02T00:00:00Z"));
        assert_eq!(failed_at(&facts("prod", &promoted, before), "prod"), None);
        // A pass, no verification, another environment.
        let pass = Some((VerifyResult::Pass, "2025-03-04T09:30:00Z"));
        assert_eq!(failed_at(&facts("prod", &promoted, pass), "prod"), None);
        assert_eq!(failed_at(&facts("prod", &promoted, None), "prod"), None);
        assert_eq!(failed_at(&facts("staging", &promoted, fail), "prod"), None);
    }

    fn request() -> RollbackRequest {
        RollbackRequest {
            env: "prod".into(),
            to: None,
            reason: "errors up".into(),
            push: true,
            ..RollbackRequest::default()
        }
    }

    fn summary() -> CanarySummary {
        CanarySummary {
            verdict: VerifyResult::Fail,
            decided_at_s: 93.5,
            metric: Some("error_rate".into()),
            rule: "error_rate above 1% for 2m".into(),
            baseline_version: "1.3.0".into(),
        }
    }

    #[test]
    fn a_rollback_is_its_entry_and_the_block_of_what_ran() {
        let f = Fixture::new();
        let ctx = f.context();
        let commit = Oid::from_bytes(&[9; 20]).expect("oid");
        let failed = Some(at("2025-03-04T09:30:00Z"));
        let entries = entries(&ctx, &request(), "1.4.0", "1.3.0", commit, failed);
        let run_url = Some("https://ci.example/runs/7".to_string());
        assert_eq!(
            entries,
            [
                Entry {
                    environment: Some("prod".into()),
                    version: Some("1.3.0".into()),
                    from: Some("1.4.0".into()),
                    reason: Some("errors up".into()),
                    commit: Some(commit.to_string()),
                    requested_at: failed,
                    run_url: run_url.clone(),
                    ..Entry::new(Kind::Rollback, "alice@example.com", ctx.now)
                },
                Entry {
                    environment: Some("prod".into()),
                    version: Some("1.4.0".into()),
                    reason: Some("errors up".into()),
                    run_url,
                    ..Entry::new(Kind::Block, "alice@example.com", ctx.now)
                },
            ]
        );
        for e in &entries {
            assert_eq!(e.check(), Ok(()), "{e:?}");
        }
        // No failure known: the time to restore counts from now.
        let entries = entries_of(&ctx, &request(), None);
        assert_eq!(entries[0].requested_at, Some(ctx.now));
    }

    fn entries_of(
        ctx: &Context<'_>,
        req: &RollbackRequest,
        failed_at: Option<Timestamp>,
    ) -> Vec<Entry> {
        entries(ctx, req, "1.4.0", "1.3.0", Oid::ZERO_SHA1, failed_at)
    }

    #[test]
    fn a_canarys_rollback_records_its_failed_verdict_first_and_counts_from_it() {
        let f = Fixture::new();
        let ctx = f.context();
        let verdict = at("2025-03-04T09:45:00Z");
        let req = RollbackRequest {
            canary: Some(summary()),
            requested_at: Some(verdict),
            holds_lock: true,
            ..request()
        };
        let entries = entries_of(&ctx, &req, Some(at("2025-03-04T09:30:00Z")));
        let kinds: Vec<Kind> = entries.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [Kind::Verification, Kind::Rollback, Kind::Block]);
        let v = &entries[0];
        assert_eq!(v.version.as_deref(), Some("1.4.0"));
        assert_eq!(v.result, Some(VerifyResult::Fail));
        assert_eq!(v.source, Some(Source::Canary));
        assert_eq!(v.evidence.as_deref(), Some("error_rate above 1% for 2m"));
        assert_eq!(v.canary, Some(summary()));
        assert_eq!(entries[1].requested_at, Some(verdict));
        assert_eq!(entries[1].canary, Some(summary()));
        for e in &entries {
            assert_eq!(e.check(), Ok(()), "{e:?}");
        }
    }

    #[test]
    fn a_stale_hold_rolls_back_to_its_baseline_from_its_last_renewal() {
        let hold = hold();
        let req = stale_rollback("prod", &hold, true);
        assert_eq!(req.env, "prod");
        assert_eq!(req.to.as_deref(), Some("1.3.0"));
        assert_eq!(
            req.reason,
            format!(
                "stale canary: {}; rolled back by the next command for prod",
                hold.describe()
            )
        );
        assert!(req.push);
        assert_eq!(req.requested_at, Some(at("2025-03-04T09:01:00Z")));
        assert!(req.canary.is_none());
        assert!(req.holds_lock);
        assert!(!stale_rollback("prod", &hold, false).push);
    }
}
