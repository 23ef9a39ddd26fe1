//! The promotion commands: `promote`, `rollback`, `approve`, `verify`, `freeze`,
//! `unfreeze`, `unblock`, `status`, `history`, `metrics`, and what `canary run` records.
//! Each builds its entries on the ledger as just fetched and publishes them with a
//! compare-and-swap; a lost race fetches again, re-evaluates (a promotion's gates on the new
//! state) and retries, up to `[promote] push-attempts` times.

use jiff::Timestamp;
use serde::Serialize;
use shipgate_config::{EnvironmentsSettings, Layout, Schema};
use shipgate_git::{Oid, Repo};
use shipgate_release::ReleaseSettings;
use shipgate_stdx::names::InvalidName;

use crate::entry::{
    CanarySummary, Changes, Entry, Gate, Kind, MAX_CHANGE_TIMES, Source, VerifyResult,
};
use crate::envfile::EnvFileError;
use crate::gates::{self, GateInput, LockFact};
use crate::ledger::{BranchMove, Ledger, LedgerError, Published, tracking_branch};
use crate::lock::{self, Hold, LockState};
use crate::metrics::{self, EnvMetrics};
use crate::settings::PromoteSettings;
use crate::state::{RollbackInfo, VerificationFact};
use crate::targets::{self, Place, TargetError};

/// What every command needs: the repository, the settings, who and when.
pub struct Context<'a> {
    /// The repository.
    pub repo: &'a Repo,
    /// `[promote]`.
    pub settings: &'a PromoteSettings,
    /// `[environments]`: the order, where the files are, the schema.
    pub environments: &'a EnvironmentsSettings,
    /// `[release]`: the tag format (what was released) and the remote.
    pub release: &'a ReleaseSettings,
    /// Who: `GITHUB_ACTOR`, else the git identity's e-mail.
    pub who: String,
    /// When: the clock, or `SHIPGATE_NOW`.
    pub now: Timestamp,
    /// The CI run's address, when there is one.
    pub run_url: Option<String>,
    /// GitHub, when a token and a repository are known: the pull request of `--pr`
    /// (deployments are a listener of the pipeline's events).
    pub github: Option<&'a crate::github::Github>,
}

/// Why a command could not run.
#[derive(Debug, thiserror::Error)]
pub enum OpError {
    /// Not an environment of `[environments] order`.
    #[error("`{env}` is not an environment of this repository ({})", order.join(", "))]
    UnknownEnv {
        /// The name given.
        env: String,
        /// The closest name.
        suggestion: Option<String>,
        /// The environments.
        order: Vec<String>,
    },
    /// Not a valid version or name.
    #[error(transparent)]
    Name(#[from] InvalidName),
    /// A version that was never released.
    #[error("{version} was never released (no tag {tag})")]
    NotReleased {
        /// The version.
        version: String,
        /// The tag it would have.
        tag: String,
        /// The released versions nearest to it.
        nearest: Vec<String>,
    },
    /// The promoter's clock is behind the ledger.
    #[error("this clock ({now}) is more than {skew} behind the ledger's newest entry ({newest})")]
    ClockSkew {
        /// This clock.
        now: Timestamp,
        /// The newest entry.
        newest: Timestamp,
        /// `max-clock-skew`.
        skew: String,
    },
    /// Nothing runs in the environment yet.
    #[error("nothing runs in {0} according to the ledger")]
    NothingRuns(String),
    /// No version to roll back to.
    #[error("no version passed in {env} before {current}")]
    NoRollbackTarget {
        /// The environment.
        env: String,
        /// What runs.
        current: String,
    },
    /// A rollback to what runs.
    #[error("{version} already runs in {env}")]
    AlreadyRuns {
        /// The environment.
        env: String,
        /// The version.
        version: String,
    },
    /// Another run holds the environment.
    #[error("{env} is held: {holder}")]
    Held {
        /// The environment.
        env: String,
        /// Who holds it.
        holder: String,
    },
    /// The stale canary could not be rolled back.
    #[error(
        "{env} was held by a canary that died ({holder}), and rolling it back failed: {source}"
    )]
    StaleRollback {
        /// The environment.
        env: String,
        /// The dead run's hold.
        holder: String,
        /// The actuator's error.
        source: TrafficError,
    },
    /// The environment's file is not on the branch.
    #[error("{path} is not on {branch}")]
    NoEnvFile {
        /// The file.
        path: String,
        /// The branch.
        branch: String,
    },
    /// The branch does not exist.
    #[error("there is no branch {branch}{}", remote.as_ref().map(|r| format!(" here or on {r}")).unwrap_or_default())]
    NoBranch {
        /// The branch.
        branch: String,
        /// The remote.
        remote: Option<String>,
    },
    /// The environment's file cannot take the version.
    #[error(transparent)]
    EnvFile(#[from] EnvFileError),
    /// A `[[promote.target]]` cannot take the version.
    #[error(transparent)]
    Target(#[from] TargetError),
    /// No place to write the version for the environment.
    #[error("nothing says where a promotion into {env} writes its version{}", if *layout == Layout::Overlays { String::new() } else { format!(" (with layout = \"{}\", version-key has no file to go in)", layout.as_str()) })]
    NoTargets {
        /// The environment.
        env: String,
        /// `[environments] layout`.
        layout: Layout,
    },
    /// Every attempt lost a race.
    #[error("the ledger kept moving: {attempts} attempts lost a race ({})", refs.join("; "))]
    Raced {
        /// Attempts made.
        attempts: u32,
        /// What moved the last time.
        refs: Vec<String>,
    },
    /// `--pr` without GitHub.
    #[error(
        "--pr needs GitHub: no GITHUB_TOKEN, or no GitHub repository (GITHUB_REPOSITORY or the remote's URL)"
    )]
    NoGithub,
    /// `--pr` without a remote to push the branch to.
    #[error("--pr needs the remote of [release] remote to push its branch to")]
    NoRemote,
    /// GitHub refused.
    #[error("GitHub: {0}")]
    Github(String),
    /// Not frozen.
    #[error("{0} is not frozen")]
    NotFrozen(String),
    /// Not blocked.
    #[error("{0} is not blocked")]
    NotBlocked(String),
    /// The ledger.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// Git.
    #[error(transparent)]
    Git(#[from] shipgate_git::GitError),
    /// Reading the releases.
    #[error(transparent)]
    Release(#[from] shipgate_release::ReleaseError),
}

impl OpError {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            OpError::UnknownEnv { suggestion, .. } => Some(match suggestion {
                Some(s) => format!("did you mean `{s}`?"),
                None => "use a name from [environments] order".into(),
            }),
            OpError::Name(_) => Some("pass the version as released, e.g. 1.4.0".into()),
            OpError::NotReleased { nearest, .. } => Some(if nearest.is_empty() {
                "release it first (shipgate release), or fetch the tags (git fetch --tags)".into()
            } else {
                format!("released versions nearest to it: {}", nearest.join(", "))
            }),
            OpError::ClockSkew { .. } => {
                Some("set the clock right (or SHIPGATE_NOW when rehearsing)".into())
            }
            OpError::NothingRuns(_) => Some("promote a version there first".into()),
            OpError::NoRollbackTarget { env, .. } => {
                Some(format!("give the version: shipgate rollback --env {env} --to VERSION --reason …"))
            }
            OpError::AlreadyRuns { .. } => None,
            OpError::Held { .. } => Some(
                "wait for it to end, or cancel its job: a cancelled canary rolls back and lets go"
                    .into(),
            ),
            OpError::StaleRollback { .. } => Some(
                "fix the actuator (or move traffic back by hand), then re-run: nothing was recorded"
                    .into(),
            ),
            OpError::NoEnvFile { .. } => Some(
                "each environment of [environments] order needs its file beside base.toml, and each [[promote.target]] file must exist".into(),
            ),
            OpError::NoBranch { .. } => Some("set [promote] branch to the branch the environment files are on".into()),
            OpError::EnvFile(_) => Some("fix the file, or set [promote] version-key".into()),
            OpError::Target(e) => Some(e.hint()),
            OpError::NoTargets { .. } => Some(
                "add a [[promote.target]] with the file and key where the GitOps engine reads the version (a kustomization.yaml's images[name=…].newTag, Helm values' image.tag)".into(),
            ),
            OpError::Raced { .. } => Some(
                "others are promoting right now; re-run in a moment: nothing of this attempt was written"
                    .into(),
            ),
            OpError::NoGithub => Some("set GITHUB_TOKEN (and GITHUB_REPOSITORY outside Actions)".into()),
            OpError::NoRemote => Some("add the remote, or promote with --push instead".into()),
            OpError::Github(_) => None,
            OpError::NotFrozen(_) | OpError::NotBlocked(_) => None,
            OpError::Ledger(e) => e.hint(),
            OpError::Git(_) => None,
            OpError::Release(_) => None,
        }
    }
}

impl Context<'_> {
    /// The remote the ledger is shared through: `[release] remote`, when the repository has it.
    pub fn remote(&self) -> Option<&str> {
        let name = self.release.remote.as_str();
        self.repo.remote_url(name).map(|_| name)
    }

    fn order(&self) -> &[String] {
        &self.environments.order
    }

    /// `[environments] directory` as a path in git's trees: `/`-separated, no `./`, and
    /// empty for the repository's root (`.`).
    fn dir(&self) -> String {
        let dir = self
            .environments
            .directory
            .to_string_lossy()
            .replace('\\', "/");
        let mut dir = dir.trim_end_matches('/');
        while let Some(rest) = dir.strip_prefix("./") {
            dir = rest.trim_start_matches('/');
        }
        if dir == "." {
            String::new()
        } else {
            dir.to_string()
        }
    }

    /// Where a promotion of `env` writes: `[[promote.target]]`, or `version-key` in
    /// `environments/<env>.toml`.
    pub fn places(&self, env: &str) -> Vec<Place> {
        let name = |e: &str| {
            let n = self.environments.file_name(e);
            n.split(',').next().unwrap_or(&n).to_string()
        };
        targets::places(
            &self.settings.target,
            &self.settings.version_key,
            &self.dir(),
            env,
            &name,
            self.environments.layout == Layout::Overlays,
        )
    }

    /// Every place of `env` at `base` with `version` written: one edit per file, in the
    /// order of the places. Nothing is written: a place that cannot take it is an error
    /// naming the file and the key.
    fn edits(&self, base: Oid, places: &[Place], version: &str) -> Result<Vec<FileEdit>, OpError> {
        let mut out: Vec<FileEdit> = Vec::new();
        for place in places {
            let i = match out.iter().position(|e| e.file == place.file) {
                Some(i) => i,
                None => {
                    let old = self
                        .repo
                        .file_at(base, &place.file)?
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .ok_or_else(|| OpError::NoEnvFile {
                            path: place.file.clone(),
                            branch: self.settings.branch.clone(),
                        })?;
                    out.push(FileEdit {
                        file: place.file.clone(),
                        new: old.clone(),
                        old,
                    });
                    out.len() - 1
                }
            };
            out[i].new = targets::set(place, &out[i].new, version)?;
        }
        Ok(out)
    }

    fn check_env(&self, env: &str) -> Result<(), OpError> {
        shipgate_stdx::names::check_env(env)?;
        if self.order().iter().any(|e| e == env) {
            return Ok(());
        }
        Err(OpError::UnknownEnv {
            env: env.to_string(),
            suggestion: shipgate_stdx::text::closest(env, self.order().iter().map(String::as_str))
                .map(String::from),
            order: self.order().to_vec(),
        })
    }

    /// The release of `version`: its tag and commit; else the nearest released versions.
    fn released(&self, version: &str, package: Option<&str>) -> Result<(String, Oid), OpError> {
        shipgate_stdx::names::check_version(version)?;
        let all = shipgate_release::released(self.repo, self.release, package)?;
        if let Some((_, tag, commit)) = all.iter().find(|(v, _, _)| v.to_string() == version) {
            return Ok((tag.clone(), *commit));
        }
        let wanted = semver::Version::parse(version).ok();
        let mut nearest: Vec<&semver::Version> = all.iter().map(|(v, _, _)| v).collect();
        match &wanted {
            // Nearest in release order (`all` is sorted): the release just below it and the
            // one just above first, then outwards.
            Some(w) => {
                let below = nearest.iter().filter(|v| **v < w).count();
                let mut ranked: Vec<(usize, &semver::Version)> = nearest
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| (if i < below { below - 1 - i } else { i - below }, v))
                    .collect();
                ranked.sort_by_key(|(distance, _)| *distance);
                nearest = ranked.into_iter().map(|(_, v)| v).collect();
            }
            None => nearest.reverse(),
        }
        let format = match package {
            Some(p) => self.release.crate_tag_format.replace("{crate}", p),
            None => self.release.tag_format.clone(),
        };
        Err(OpError::NotReleased {
            version: version.to_string(),
            tag: format.replace("{version}", version),
            nearest: nearest
                .into_iter()
                .take(3)
                .map(ToString::to_string)
                .collect(),
        })
    }

    /// Refuses a write whose clock is more than `max-clock-skew` behind the ledger's newest
    /// entry (the gates' soak, approvals and freezes read times), or, for what must never
    /// wait on a clock, says so in a warning.
    fn check_skew(&self, ledger: &Ledger<'_>, on_skew: OnSkew) -> Result<Option<String>, OpError> {
        let Some(newest) = ledger.state.newest_at else {
            return Ok(None);
        };
        let skew = self.settings.max_clock_skew;
        if self.now.as_second() + (skew.0.as_secs() as i64) >= newest.as_second() {
            return Ok(None);
        }
        let refused = OpError::ClockSkew {
            now: self.now,
            newest,
            skew: skew.to_string(),
        };
        let until = Timestamp::from_second(newest.as_second() - skew.0.as_secs() as i64)
            .map(|t| t.to_string())
            .unwrap_or_default();
        let what = match on_skew {
            OnSkew::Refuse => return Err(refused),
            OnSkew::DryRun => {
                "a dry run writes nothing and goes on; a promotion with this clock is refused"
            }
            OnSkew::Record(kind) => &format!(
                "a {kind} is never refused for that and is recorded at this clock's time; other writes with this clock are refused"
            ),
        };
        Ok(Some(format!("{refused}: {what} until {until}")))
    }

    fn entry(&self, kind: Kind, env: Option<&str>, version: Option<&str>) -> Entry {
        Entry {
            environment: env.map(String::from),
            version: version.map(String::from),
            run_url: self.run_url.clone(),
            ..Entry::new(kind, &self.who, self.now)
        }
    }

    /// The branch commit a pushed promotion or rollback builds on: that of the entries
    /// written here without `--push`, which go along, else [`Context::branch_base`].
    fn push_base(&self, ledger: &Ledger<'_>, push: bool) -> Result<Oid, OpError> {
        if push && let Some(carried) = ledger.unpushed_branch_commit()? {
            return Ok(carried);
        }
        self.branch_base(push)
    }

    /// The branch commit new entries build on: the remote's branch when pushing, else the
    /// local branch (or the remote's, when there is no local one).
    fn branch_base(&self, push: bool) -> Result<Oid, OpError> {
        let branch = &self.settings.branch;
        let local = self.repo.ref_target(&format!("refs/heads/{branch}"))?;
        let remote = match self.remote() {
            Some(r) => self.repo.ref_target(&tracking_branch(r, branch))?,
            None => None,
        };
        let base = if push {
            remote.or(local)
        } else {
            local.or(remote)
        };
        base.ok_or_else(|| OpError::NoBranch {
            branch: branch.clone(),
            remote: self.remote().map(String::from),
        })
    }

    fn hold_fact(&self, env: &str) -> Result<LockState, OpError> {
        Ok(lock::read(
            self.repo,
            self.remote(),
            env,
            self.now,
            self.settings.lock_timeout.0,
        )?)
    }
}

/// What a command does when this clock is more than `max-clock-skew` behind the ledger's
/// newest entry (a rehearsal pushed entries dated in the future, or this clock is wrong).
///
/// Most writes are refused. A freeze and a rollback are what an incident needs at once, and a
/// dry run writes nothing: they go on with a warning. Their entries keep this clock's time,
/// before the newest entry's, and that keeps the ledger consistent: the indexes fold the
/// entries in the order they were written (the ledger's first-parent chain, never sorted by
/// time), so the freeze holds and the rollback's version runs from that entry on, whatever
/// the dates before it; `history` lists entries in the order written; each metrics record
/// carries its own time, a restore counts from the failure to the rollback and never below
/// zero, and `newest_at` stays the newest, so other writes are still refused until the clock
/// catches up. Dating the entry at the newest one instead would put a real freeze's start and
/// a real restore hours into the future, out of `metrics` until then.
#[derive(Debug, Clone, Copy)]
enum OnSkew {
    /// Refused: [`OpError::ClockSkew`].
    Refuse,
    /// Recorded all the same, with a warning: `"freeze"`, `"rollback"`.
    Record(&'static str),
    /// A dry run: evaluated all the same, with a warning.
    DryRun,
}

/// After an entry dated `written_at` was pushed, the time until which writes with the real
/// `clock` are refused on clock skew, when that is still to come: what a rehearsal with
/// `SHIPGATE_NOW` ahead of the clock leaves for everyone (freeze, rollback and dry runs
/// excepted).
pub fn skew_refused_until(
    settings: &PromoteSettings,
    written_at: Timestamp,
    clock: Timestamp,
) -> Option<Timestamp> {
    let until =
        Timestamp::from_second(written_at.as_second() - settings.max_clock_skew.0.as_secs() as i64)
            .ok()?;
    (until > clock).then_some(until)
}

/// Runs `attempt` on a freshly read ledger until it is published or out of attempts; what
/// it made, and the warnings for the user.
fn with_retries<T>(
    ctx: &Context<'_>,
    on_skew: OnSkew,
    mut attempt: impl FnMut(&mut Ledger<'_>, u32) -> Result<Result<T, Vec<String>>, OpError>,
) -> Result<(T, Vec<String>), OpError> {
    let attempts = ctx.settings.push_attempts.max(1);
    let mut last = Vec::new();
    for n in 1..=attempts {
        let mut ledger = Ledger::open(ctx.repo, ctx.remote(), &ctx.settings.branch, true)?;
        let warnings: Vec<String> = ctx.check_skew(&ledger, on_skew)?.into_iter().collect();
        match attempt(&mut ledger, n)? {
            Ok(done) => return Ok((done, warnings)),
            Err(moved) => last = moved,
        }
        // Jitter, so that two losers do not meet again at once.
        let jitter = (std::process::id() as u64 * 37 + u64::from(n) * 101) % 150;
        std::thread::sleep(std::time::Duration::from_millis(50 * u64::from(n) + jitter));
    }
    Err(OpError::Raced {
        attempts,
        refs: last,
    })
}

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
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
pub struct Written {
    /// The file.
    pub file: String,
    /// The key path in it.
    pub key: String,
    /// What it now says.
    pub value: String,
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

fn clear_stale(
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
        let done = rollback_entries(
            ctx,
            &RollbackRequest {
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
            },
        )?;
        notes.push(format!(
            "recorded: rollback of {env} from {} to {}",
            done.from, done.to
        ));
    }
    lock::release(ctx.repo, ctx.remote(), env, commit)?;
    Ok(notes)
}

/// One file of a promotion: what it says now and what it will say.
#[derive(Debug, Clone)]
struct FileEdit {
    file: String,
    old: String,
    new: String,
}

/// What a promotion's places will say, for the configuration gate's evidence:
/// `environments/prod.toml validates with service.image.tag = "1.4.0"`, and the other
/// places after it.
fn places_summary(places: &[Place], version: &str) -> String {
    let mut out = String::new();
    for (i, p) in places.iter().enumerate() {
        if i == 0 {
            out.push_str(&format!(
                "{} validates with {} = \"{}\"",
                p.file,
                p.key,
                p.value(version)
            ));
        } else {
            out.push_str(&format!(
                "; {} {} = \"{}\"",
                p.file,
                p.key,
                p.value(version)
            ));
        }
    }
    out
}

/// What is wrong in the promotion's files that are not configuration files (a key set twice
/// in a kustomization.yaml, which its reader would refuse or read either way), as the
/// configuration gate reports problems.
fn target_problems(edits: &[FileEdit], set: Option<&shipgate_config::ConfigSet>) -> Vec<String> {
    let mut out = Vec::new();
    for e in edits {
        if set.is_some_and(|set| set.file_names().any(|n| n == e.file)) {
            continue;
        }
        let Some(format) = shipgate_doc::Format::of_path(&e.file) else {
            continue;
        };
        if let Ok(parsed) = shipgate_doc::parse(&e.new, format, shipgate_doc::FileId(0)) {
            for p in parsed.problems {
                if p.kind == shipgate_doc::ProblemKind::DuplicateKey {
                    let (line, column) =
                        shipgate_stdx::text::line_col(&e.new, p.span.start as usize);
                    out.push(format!(
                        "{}:{line}:{column}: {} [duplicate-key]",
                        e.file, p.message
                    ));
                }
            }
        }
    }
    out
}

/// The configuration of `env` at `base` with the promotion's files as they will be:
/// `Ok(what was checked)` or the errors that concern `env`, each at its file and line.
fn check_configuration(
    ctx: &Context<'_>,
    base: Oid,
    env: &str,
    edits: &[FileEdit],
    summary: String,
) -> Result<Result<String, Vec<String>>, OpError> {
    let dir = ctx.dir();
    let files = ctx.repo.files_in(base, &dir)?;
    let texts: Vec<(String, String)> = files
        .iter()
        .map(|f| {
            let path = targets::in_dir(&dir, &f.name);
            let text = match edits.iter().find(|e| e.file == path) {
                Some(e) => e.new.clone(),
                None => String::from_utf8_lossy(&f.bytes).into_owned(),
            };
            (f.name.clone(), text)
        })
        .collect();
    let layout = ctx.environments.layout;
    let Some(set) = shipgate_config::load::assemble(&dir, layout, texts) else {
        // No configuration set to validate: the places themselves were read back after the
        // edit (each gives exactly the new value, every other value unchanged).
        let problems = target_problems(edits, None);
        if !problems.is_empty() {
            return Ok(Err(problems));
        }
        return Ok(Ok(format!(
            "{summary} (read back; no configuration in {dir} to validate)"
        )));
    };
    let helm_schema = targets::in_dir(&dir, "values.schema.json");
    let schema_path = match &ctx.environments.schema {
        Some(p) => {
            let p = p.to_string_lossy().replace('\\', "/");
            p.strip_prefix("./").unwrap_or(&p).to_string()
        }
        None if layout == Layout::Helm && ctx.repo.file_at(base, &helm_schema)?.is_some() => {
            helm_schema
        }
        None => targets::in_dir(&dir, "schema.json"),
    };
    let schema = match ctx.repo.file_at(base, &schema_path)? {
        Some(bytes) => match Schema::compile(&schema_path, &String::from_utf8_lossy(&bytes)) {
            Ok(s) => Some(s),
            Err(d) => {
                return Ok(Err(vec![format!(
                    "{}:{}:{}: {}",
                    d.file, d.line, d.column, d.message
                )]));
            }
        },
        None => None,
    };
    let report = shipgate_config::check::check(&set, schema.as_ref(), ctx.environments);
    // What concerns `env`: an error about it (its merged configuration, its parity, its
    // missing file), or one about no environment in particular in a file it reads (a syntax
    // error, a secret) or in the schema; never one about another environment alone.
    let reads: Vec<&str> = report
        .files
        .iter()
        .find(|(e, _)| e == env)
        .map(|(_, f)| f.iter().map(String::as_str).collect())
        .unwrap_or_default();
    let concerns = |d: &shipgate_config::Diagnostic| {
        if d.severity != shipgate_config::Severity::Error {
            return false;
        }
        if d.environments.is_empty() {
            reads.contains(&d.file.as_str())
                || d.file == schema_path
                || edits.iter().any(|e| e.file == d.file)
        } else {
            d.environments.iter().any(|e| e == env)
        }
    };
    let problems: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| concerns(d))
        .map(|d| {
            format!(
                "{}:{}:{}: {} [{}]",
                d.file,
                d.line,
                d.column,
                d.message,
                d.rule.id()
            )
        })
        .collect();
    let mut problems = problems;
    problems.extend(target_problems(edits, Some(&set)));
    Ok(if problems.is_empty() {
        Ok(format!(
            "{summary}{}",
            if schema.is_some() {
                " (schema and rules)"
            } else {
                " (rules; no schema)"
            }
        ))
    } else {
        Err(problems)
    })
}

/// The commits `tag_commit` brings into `env` for the first time: those not in the
/// highest version promoted there or, for a first promotion, not in the release before it
/// (for a stable version the stable release before it, whose rcs it gathers, as its
/// changelog section does). A first promotion of the first release has no release before
/// it: its commits are counted but carry no times, so they stay out of the lead time; they
/// are the whole history before releases began, whose age says nothing about delivery.
fn changes(
    ctx: &Context<'_>,
    highest: Option<&str>,
    version: &str,
    tag_commit: Oid,
    package: Option<&str>,
) -> Result<Changes, OpError> {
    let all = shipgate_release::released(ctx.repo, ctx.release, package)?;
    let promoted_before = highest.and_then(|h| {
        all.iter()
            .find(|(v, _, _)| v.to_string() == h)
            .map(|(_, _, c)| *c)
    });
    let release_before = || {
        let wanted = semver::Version::parse(version).ok()?;
        all.iter()
            .filter(|(v, _, _)| *v < wanted && (v.pre.is_empty() || !wanted.pre.is_empty()))
            .map(|(_, _, c)| *c)
            .next_back()
    };
    let lower = promoted_before.or_else(release_before);
    let commits = ctx
        .repo
        .range(tag_commit, &lower.into_iter().collect::<Vec<_>>())?;
    let mut times: Vec<i64> = match lower {
        Some(_) => commits.iter().map(|c| c.time).collect(),
        None => Vec::new(),
    };
    times.truncate(MAX_CHANGE_TIMES);
    Ok(Changes {
        count: commits.len() as u64,
        commit_times: times,
    })
}

/// `shipgate promote VERSION --to ENV`.
pub fn promote(
    ctx: &Context<'_>,
    req: &PromoteRequest,
    roll_back_stale: &mut RollBackTraffic<'_>,
) -> Result<PromoteOutcome, OpError> {
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
    let on_skew = if req.dry_run {
        OnSkew::DryRun
    } else {
        OnSkew::Refuse
    };
    let (mut done, warnings) = with_retries(ctx, on_skew, |ledger, attempt| {
        notes.append(&mut ledger.notes);
        let now = match (req.dry_run, req.at) {
            (true, Some(at)) => at,
            _ => ctx.now,
        };
        let base = ctx.push_base(ledger, req.push)?;
        let edits = ctx.edits(base, &places, &req.version)?;
        let configuration = check_configuration(
            ctx,
            base,
            &req.to,
            &edits,
            places_summary(&places, &req.version),
        )?;
        let facts = ledger.version_facts(&req.version)?;
        let lock = match ctx.hold_fact(&req.to)? {
            LockState::Free => LockFact::Free,
            LockState::Held { hold, .. } => LockFact::Held {
                holder: hold.describe(),
            },
            // Only a dry run gets here with a stale hold: a real promotion clears it first.
            LockState::Stale { hold, .. } => LockFact::Held {
                holder: format!(
                    "{}; it is STALE (its run died): a promotion without --dry-run rolls it back first",
                    hold.describe()
                ),
            },
        };
        let gates = gates::evaluate(&GateInput {
            target: &req.to,
            version: &req.version,
            order: ctx.order(),
            settings: ctx.settings,
            state: &ledger.state,
            facts: &facts,
            now,
            promoter: &ctx.who,
            configuration: &configuration,
            override_freeze: req.override_freeze.as_deref(),
            lock: &lock,
            alarms: &req.alarms,
        });
        let current = ledger.state.environments.get(&req.to);
        let from = current.and_then(|e| e.version.clone());
        let mut outcome = PromoteOutcome {
            version: req.version.clone(),
            environment: req.to.clone(),
            from: from.clone(),
            promoted: false,
            dry_run: req.dry_run,
            gates: gates.clone(),
            at: now,
            commit: None,
            ledger_commit: None,
            pushed: false,
            attempts: attempt,
            new_commit: false,
            file: file.clone(),
            files: places
                .iter()
                .map(|p| Written {
                    file: p.file.clone(),
                    key: p.key.clone(),
                    value: p.value(&req.version),
                })
                .collect(),
            deployment: None,
            pull_request: None,
            notes: notes.clone(),
            warnings: Vec::new(),
        };
        if req.dry_run || !gates::all_passed(&gates) {
            return Ok(Ok(outcome));
        }
        if req.pr {
            outcome.pull_request = Some(open_pull_request(ctx, req, base, &edits, &gates)?);
            return Ok(Ok(outcome));
        }
        // The branch commit, unless the files already say so (a merged pull request).
        let message = format!(
            "chore(promote): {} to {}\n\nshipgate promote {} --to {} by {}\n",
            req.version, req.to, req.version, req.to, ctx.who
        );
        let (commit, branch_move) = commit_edits(ctx, base, &edits, &message)?;
        let highest = current.and_then(|e| e.highest.clone());
        let mut entry = ctx.entry(Kind::Promotion, Some(&req.to), Some(&req.version));
        entry.from = from;
        entry.gates = gates;
        entry.commit = Some(commit.to_string());
        entry.reason = req.override_freeze.clone();
        entry.changes = Some(changes(
            ctx,
            highest.as_deref(),
            &req.version,
            tag_commit,
            req.package.as_deref(),
        )?);
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
    })?;
    done.warnings = warnings;
    Ok(done)
}

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
#[derive(Debug, Clone, Serialize)]
pub struct RollbackOutcome {
    /// The environment.
    pub environment: String,
    /// What ran.
    pub from: String,
    /// What runs now.
    pub to: String,
    /// When.
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
    if ctx.settings.for_env(env).verification != crate::settings::Verification::None {
        return Ok(ledger
            .state
            .environments
            .get(env)
            .and_then(|e| e.passed.iter().rev().find(|v| *v != current).cloned()));
    }
    let mut failed = std::collections::BTreeSet::new();
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

fn rollback_entries(ctx: &Context<'_>, req: &RollbackRequest) -> Result<RollbackOutcome, OpError> {
    let places = ctx.places(&req.env);
    if places.is_empty() {
        return Err(OpError::NoTargets {
            env: req.env.clone(),
            layout: ctx.environments.layout,
        });
    }
    let (mut done, warnings) = with_retries(ctx, OnSkew::Record("rollback"), |ledger, attempt| {
        let state = ledger.state.environments.get(&req.env);
        let current = state
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
        let base = ctx.push_base(ledger, req.push)?;
        // The same places as the promotion, back to `to`.
        let edits = ctx.edits(base, &places, &to)?;
        let message = format!(
            "chore(rollback): {} from {current} to {to}\n\nshipgate rollback --env {} by {} (the reason is in the ledger entry)\n",
            req.env, req.env, ctx.who
        );
        let (commit, branch_move) = commit_edits(ctx, base, &edits, &message)?;
        let mut entries = Vec::new();
        if let Some(summary) = &req.canary {
            let mut v = ctx.entry(Kind::Verification, Some(&req.env), Some(&current));
            v.result = Some(VerifyResult::Fail);
            v.source = Some(Source::Canary);
            v.canary = Some(summary.clone());
            v.evidence = Some(summary.rule.clone());
            entries.push(v);
        }
        let mut r = ctx.entry(Kind::Rollback, Some(&req.env), Some(&to));
        r.from = Some(current.clone());
        r.reason = Some(req.reason.clone());
        r.commit = Some(commit.to_string());
        // Time to restore counts from the failure: the verdict given, else the latest failed
        // verification of the version here since its promotion, else this request.
        let failed_at = ledger
            .version_facts(&current)?
            .environments
            .get(&req.env)
            .and_then(|f| {
                let since = f.promoted.last().copied();
                f.verification
                    .as_ref()
                    .filter(|v| v.result == VerifyResult::Fail && since.is_none_or(|p| v.at >= p))
                    .map(|v| v.at)
            });
        r.requested_at = Some(req.requested_at.or(failed_at).unwrap_or(ctx.now));
        r.canary = req.canary.clone();
        entries.push(r);
        let mut b = ctx.entry(Kind::Block, Some(&req.env), Some(&current));
        b.reason = Some(req.reason.clone());
        entries.push(b);
        let tip = ledger.build(ledger.tip, &entries, branch_move.as_ref().map(|m| m.new))?;
        let old_commit = state.and_then(|e| e.commit.clone());
        let pushed = match ledger.publish(tip, branch_move.as_ref(), req.push)? {
            Published::Moved { refs } => return Ok(Err(refs)),
            p => p == Published::Pushed,
        };
        let notes = std::mem::take(&mut ledger.notes);
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
            notes,
            warnings: Vec::new(),
        }))
    })?;
    done.warnings = warnings;
    Ok(done)
}

/// What a command that only writes entries did.
#[derive(Debug, Clone, Serialize)]
pub struct Recorded {
    /// The entries written.
    pub entries: Vec<Entry>,
    /// The ledger's new tip.
    pub ledger_commit: String,
    /// Whether they are on the remote.
    pub pushed: bool,
    /// The branch commit the first entry's environment runs at (a deployment to mark).
    #[serde(skip)]
    pub commit: Option<String>,
    /// Attempts.
    pub attempts: u32,
    /// Notes.
    pub notes: Vec<String>,
    /// Warnings: a clock behind the ledger.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

fn record(
    ctx: &Context<'_>,
    push: bool,
    on_skew: OnSkew,
    make: &dyn Fn(&Ledger<'_>) -> Result<Vec<Entry>, OpError>,
) -> Result<Recorded, OpError> {
    let (mut done, warnings) = with_retries(ctx, on_skew, |ledger, attempt| {
        let entries = make(ledger)?;
        let tip = ledger.build(ledger.tip, &entries, None)?;
        let pushed = match ledger.publish(tip, None, push)? {
            Published::Moved { refs } => return Ok(Err(refs)),
            p => p == Published::Pushed,
        };
        let commit = entries
            .first()
            .and_then(|e| e.environment.as_deref())
            .and_then(|env| ledger.state.environments.get(env))
            .and_then(|e| e.commit.clone());
        Ok(Ok(Recorded {
            entries,
            ledger_commit: tip.to_string(),
            pushed,
            commit,
            attempts: attempt,
            notes: std::mem::take(&mut ledger.notes),
            warnings: Vec::new(),
        }))
    })?;
    done.warnings = warnings;
    Ok(done)
}

/// `shipgate approve VERSION --env ENV`: recorded even for the later promoter, whose own
/// approval never counts for their promotion.
pub fn approve(
    ctx: &Context<'_>,
    version: &str,
    env: &str,
    push: bool,
) -> Result<Recorded, OpError> {
    ctx.check_env(env)?;
    ctx.released(version, None)?;
    record(ctx, push, OnSkew::Refuse, &|_| {
        Ok(vec![ctx.entry(Kind::Approval, Some(env), Some(version))])
    })
}

/// `shipgate verify VERSION --env ENV --result pass|fail [--evidence …]`.
pub fn verify(
    ctx: &Context<'_>,
    version: &str,
    env: &str,
    result: VerifyResult,
    evidence: Option<&str>,
    push: bool,
) -> Result<Recorded, OpError> {
    ctx.check_env(env)?;
    ctx.released(version, None)?;
    record(ctx, push, OnSkew::Refuse, &|_| {
        let mut e = ctx.entry(Kind::Verification, Some(env), Some(version));
        e.result = Some(result);
        e.source = Some(Source::Verify);
        e.evidence = evidence.map(String::from);
        Ok(vec![e])
    })
}

/// `shipgate freeze --env ENV --reason TEXT`.
pub fn freeze(ctx: &Context<'_>, env: &str, reason: &str, push: bool) -> Result<Recorded, OpError> {
    ctx.check_env(env)?;
    record(ctx, push, OnSkew::Record("freeze"), &|_| {
        let mut e = ctx.entry(Kind::Freeze, Some(env), None);
        e.reason = Some(reason.to_string());
        Ok(vec![e])
    })
}

/// `shipgate unfreeze --env ENV`.
pub fn unfreeze(ctx: &Context<'_>, env: &str, push: bool) -> Result<Recorded, OpError> {
    ctx.check_env(env)?;
    record(ctx, push, OnSkew::Refuse, &|ledger| {
        let frozen = ledger
            .state
            .environments
            .get(env)
            .is_some_and(|e| e.freeze.is_some());
        if !frozen {
            return Err(OpError::NotFrozen(env.to_string()));
        }
        Ok(vec![ctx.entry(Kind::Unfreeze, Some(env), None)])
    })
}

/// `shipgate unblock VERSION --reason TEXT`.
pub fn unblock(
    ctx: &Context<'_>,
    version: &str,
    reason: &str,
    push: bool,
) -> Result<Recorded, OpError> {
    shipgate_stdx::names::check_version(version)?;
    record(ctx, push, OnSkew::Refuse, &|ledger| {
        if !ledger.state.blocked.contains_key(version) {
            return Err(OpError::NotBlocked(version.to_string()));
        }
        let mut e = ctx.entry(Kind::Unblock, None, Some(version));
        e.reason = Some(reason.to_string());
        Ok(vec![e])
    })
}

/// A canary's verdict for (version, env), as `canary run` records it when it passed.
pub fn record_canary_pass(
    ctx: &Context<'_>,
    version: &str,
    env: &str,
    summary: CanarySummary,
) -> Result<Recorded, OpError> {
    record(ctx, ctx.remote().is_some(), OnSkew::Refuse, &|_| {
        let mut e = ctx.entry(Kind::Verification, Some(env), Some(version));
        e.result = Some(VerifyResult::Pass);
        e.source = Some(Source::Canary);
        e.evidence = Some(summary.rule.clone());
        e.canary = Some(summary.clone());
        Ok(vec![e])
    })
}

/// `promote --pr`: the environment's change pushed to a branch of its own and a pull
/// request opened with every gate in its body; the ledger records the promotion once the
/// pull request is merged and `promote` runs again (the files then already say so).
fn open_pull_request(
    ctx: &Context<'_>,
    req: &PromoteRequest,
    base: Oid,
    edits: &[FileEdit],
    gates: &[Gate],
) -> Result<String, OpError> {
    let gh = ctx.github.ok_or(OpError::NoGithub)?;
    let remote = ctx.remote().ok_or(OpError::NoRemote)?;
    let places = ctx.places(&req.to);
    let title = format!("chore(promote): {} to {}", req.version, req.to);
    let changed: Vec<(String, Option<Vec<u8>>)> = edits
        .iter()
        .map(|e| (e.file.clone(), Some(e.new.as_bytes().to_vec())))
        .collect();
    let commit = ctx.repo.make_commit(
        &[base],
        Some(base),
        &changed,
        &format!(
            "{title}\n\nshipgate promote {} --to {} --pr by {}\n",
            req.version, req.to, ctx.who
        ),
    )?;
    let head = format!("shipgate/promote/{}/{}", req.to, req.version);
    let pushed = ctx.repo.push_cas(
        remote,
        &[shipgate_git::RefUpdate {
            new: Some(commit),
            dst: format!("refs/heads/{head}"),
            expect: shipgate_git::Expect::Replace,
        }],
    )?;
    if let shipgate_git::PushOutcome::Moved { refs } = pushed {
        return Err(OpError::Raced { attempts: 1, refs });
    }
    let sets: Vec<String> = places
        .iter()
        .map(|p| format!("`{}` sets `{}`", p.file, p.key))
        .collect();
    let mut body = format!(
        "Promotes **{}** to **{}**: {}.\n\n| gate | | evidence |\n|---|---|---|\n",
        req.version,
        req.to,
        sets.join(", ")
    );
    for g in gates {
        let _ = std::fmt::Write::write_fmt(
            &mut body,
            format_args!(
                "| {} | {} | {} |\n",
                g.name,
                if g.passed { "pass" } else { "**fail**" },
                g.detail.replace('|', "\\|").replace('\n', " ")
            ),
        );
    }
    body.push_str(&format!(
        "\nAsked by {} at {}. After the merge, `shipgate promote {} --to {} --push` records the promotion in the ledger (the file already says so: no new commit).\n",
        ctx.who, ctx.now, req.version, req.to
    ));
    gh.pull_request(&head, &ctx.settings.branch, &title, &body)
        .map_err(OpError::Github)
}

/// The ledger for a command that only reads it (`env`, when given, checked first).
fn read_only<'r>(ctx: &Context<'r>, env: Option<&str>, fetch: bool) -> Result<Ledger<'r>, OpError> {
    if let Some(e) = env {
        ctx.check_env(e)?;
    }
    Ok(Ledger::open(
        ctx.repo,
        ctx.remote(),
        &ctx.settings.branch,
        fetch && ctx.remote().is_some(),
    )?)
}

/// `status`: one environment.
#[derive(Debug, Clone, Serialize)]
pub struct EnvStatus {
    /// The environment.
    pub name: String,
    /// The version that runs, per the ledger.
    pub version: Option<String>,
    /// Since when.
    pub since: Option<Timestamp>,
    /// Who put it there.
    pub by: Option<String>,
    /// Whether its latest verification there passed.
    pub verified: bool,
    /// That verification.
    pub verification: Option<VerificationFact>,
    /// The last rollback.
    pub last_rollback: Option<RollbackInfo>,
    /// What the environment's file on the branch says.
    pub desired: Option<String>,
    /// An emergency freeze, or the freeze windows in force now.
    pub frozen: Vec<String>,
    /// The hold: `free`, `held` or `stale`.
    pub lock: &'static str,
    /// Who holds it.
    pub holder: Option<String>,
}

/// `shipgate status`.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// Per environment, in order.
    pub environments: Vec<EnvStatus>,
    /// Blocked versions.
    pub blocked: Vec<String>,
    /// Entries here that the remote does not have.
    pub pending: usize,
    /// The ledger's tip.
    pub ledger_commit: Option<String>,
    /// Entries in the ledger.
    pub entries: u64,
    /// Notes.
    pub notes: Vec<String>,
}

/// `shipgate status [--env ENV]`: reads the state, the running versions' files and the
/// environments' files; its cost does not grow with the ledger.
pub fn status(ctx: &Context<'_>, env: Option<&str>, fetch: bool) -> Result<Status, OpError> {
    let ledger = read_only(ctx, env, fetch)?;
    let base = ctx.branch_base(false).ok();
    let mut environments = Vec::new();
    for name in ctx.order().iter().filter(|n| env.is_none_or(|e| e == *n)) {
        let s = ledger
            .state
            .environments
            .get(name)
            .cloned()
            .unwrap_or_default();
        let verification = match &s.version {
            Some(v) => ledger
                .version_facts(v)?
                .environments
                .get(name)
                .and_then(|f| f.verification.clone()),
            None => None,
        };
        let desired = match base {
            Some(b) => desired_version(ctx, b, name)?,
            None => None,
        };
        let mut frozen: Vec<String> = ctx
            .settings
            .for_env(name)
            .freeze
            .iter()
            .filter(|w| w.contains(ctx.now))
            .map(|w| format!("freeze window {w}"))
            .collect();
        if let Some(f) = &s.freeze {
            frozen.push(format!(
                "emergency freeze by {} since {}: {}",
                f.by, f.at, f.reason
            ));
        }
        let (lock, holder) = match ctx.hold_fact(name)? {
            LockState::Free => ("free", None),
            LockState::Held { hold, .. } => ("held", Some(hold.describe())),
            LockState::Stale { hold, .. } => ("stale", Some(hold.describe())),
        };
        environments.push(EnvStatus {
            name: name.clone(),
            verified: verification
                .as_ref()
                .is_some_and(|v| v.result == VerifyResult::Pass),
            version: s.version,
            since: s.since,
            by: s.by,
            verification,
            last_rollback: s.last_rollback,
            desired,
            frozen,
            lock,
            holder,
        });
    }
    Ok(Status {
        environments,
        blocked: ledger.state.blocked.keys().cloned().collect(),
        pending: ledger.pending,
        ledger_commit: ledger.tip.map(|t| t.to_string()),
        entries: ledger.state.entries,
        notes: ledger.notes.clone(),
    })
}

/// The version an environment's files ask for at `commit`: its first place's value (the
/// shorthand: its own key, else base.toml's).
fn desired_version(ctx: &Context<'_>, commit: Oid, env: &str) -> Result<Option<String>, OpError> {
    let Some(place) = ctx.places(env).into_iter().next() else {
        return Ok(None);
    };
    let mut files = vec![place.file.clone()];
    if place.shorthand {
        files.push(targets::in_dir(&ctx.dir(), "base.toml"));
    }
    for file in files {
        let found = ctx.repo.file_at(commit, &file)?.and_then(|bytes| {
            targets::get(&place, &String::from_utf8_lossy(&bytes))
                .and_then(|v| place.version_in(&v))
        });
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// One commit with every changed file of `edits` on `base` (none when nothing changed).
fn commit_edits(
    ctx: &Context<'_>,
    base: Oid,
    edits: &[FileEdit],
    message: &str,
) -> Result<(Oid, Option<BranchMove>), OpError> {
    let changed: Vec<&FileEdit> = edits.iter().filter(|e| e.new != e.old).collect();
    if changed.is_empty() {
        return Ok((base, None));
    }
    let files: Vec<(String, Option<Vec<u8>>)> = changed
        .iter()
        .map(|e| (e.file.clone(), Some(e.new.as_bytes().to_vec())))
        .collect();
    let new = ctx.repo.make_commit(&[base], Some(base), &files, message)?;
    Ok((
        new,
        Some(BranchMove {
            branch: ctx.settings.branch.clone(),
            base,
            new,
            paths: changed.iter().map(|e| e.file.clone()).collect(),
        }),
    ))
}

/// `history`: one entry with its commit.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    /// The entry.
    #[serde(flatten)]
    pub entry: Entry,
    /// Its ledger commit.
    pub ledger_commit: String,
    /// Whether it is on the remote.
    pub pushed: bool,
}

/// `shipgate history`.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    /// Newest first.
    pub entries: Vec<HistoryEntry>,
}

/// The newest promotion or rollback of `env`: what runs there, and what ran before it
/// (`from`). None when nothing was ever promoted there.
pub fn latest_move(ctx: &Context<'_>, env: &str, fetch: bool) -> Result<Option<Entry>, OpError> {
    let ledger = read_only(ctx, Some(env), fetch)?;
    let keep = |e: &Entry| {
        e.environment.as_deref() == Some(env) && matches!(e.kind, Kind::Promotion | Kind::Rollback)
    };
    Ok(ledger
        .history(Some(1), &keep)?
        .into_iter()
        .next()
        .map(|(_, e)| e))
}

/// `shipgate history [--env ENV] [--limit N]`: newest first.
pub fn history(
    ctx: &Context<'_>,
    env: Option<&str>,
    limit: Option<usize>,
    fetch: bool,
) -> Result<History, OpError> {
    let ledger = read_only(ctx, env, fetch)?;
    let keep =
        |e: &Entry| env.is_none_or(|want| e.environment.as_deref().is_none_or(|have| have == want));
    let mut entries = Vec::new();
    for (commit, entry) in ledger.history(limit, &keep)? {
        entries.push(HistoryEntry {
            pushed: ledger.is_pushed(commit)?,
            ledger_commit: commit.to_string(),
            entry,
        });
    }
    Ok(History { entries })
}

/// `shipgate metrics`.
#[derive(Debug, Clone, Serialize)]
pub struct Metrics {
    /// Per environment, in order.
    pub environments: Vec<EnvMetrics>,
    /// The window's start.
    pub since: Timestamp,
    /// Its end (now).
    pub until: Timestamp,
}

/// `shipgate metrics [--env ENV] [--since …]`: from the ledger's month records alone.
pub fn metrics(
    ctx: &Context<'_>,
    env: Option<&str>,
    since: Option<Timestamp>,
    fetch: bool,
) -> Result<Metrics, OpError> {
    let ledger = read_only(ctx, env, fetch)?;
    let since = since.or(ledger.state.oldest_at).unwrap_or(ctx.now);
    let mut environments = Vec::new();
    for name in ctx.order().iter().filter(|n| env.is_none_or(|e| e == *n)) {
        let months = ledger.months(name)?;
        environments.push(metrics::compute(
            name,
            &months,
            since.as_second(),
            ctx.now.as_second(),
        ));
    }
    Ok(Metrics {
        environments,
        since,
        until: ctx.now,
    })
}
