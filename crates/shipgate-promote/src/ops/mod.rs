//! The promotion commands: `promote`, `rollback`, `approve`, `verify`, `freeze`,
//! `unfreeze`, `unblock`, `status`, `history`, `metrics`, and what `canary run` records.
//! Each builds its entries on the ledger as just fetched and publishes them with a
//! compare-and-swap; a lost race fetches again, re-evaluates (a promotion's gates on the new
//! state) and retries, up to `[promote] push-attempts` times.
//!
//! This module holds what every command shares: the [`Context`], the clock-skew check and
//! the retry loop ([`with_retries`]). The commands live in its children, which use these
//! and never each other in both directions:
//!
//! | module | what |
//! |---|---|
//! | `error` | [`OpError`], with its hint |
//! | `releases` | what was released: a version's tag, the nearest ones, the commits a promotion brings |
//! | `files` | the environments' files: the edits of a promotion or rollback, their commit, what they ask for |
//! | `configuration` | the configuration gate's evidence: the environment's configuration with the edits |
//! | `promote` | `promote`, step by step: resolve, read the facts, gates, commit, entry, outcome |
//! | `pull_request` | `promote --pr`: the branch and the pull request |
//! | `rollback` | `rollback`, its default target, and clearing a stale hold |
//! | `record` | the commands that only write entries: approve, verify, freeze, unfreeze, unblock, a canary's pass |
//! | `read` | the commands that only read: status, history, metrics, the latest move |

mod configuration;
mod error;
mod files;
mod promote;
mod pull_request;
mod read;
mod record;
mod releases;
mod rollback;

use jiff::Timestamp;
use shipgate_config::{EnvironmentsSettings, Layout};
use shipgate_git::{Oid, Repo};
use shipgate_release::ReleaseSettings;
use shipgate_stdx::duration::HumanDuration;

use crate::entry::{Entry, Kind};
use crate::ledger::{Ledger, tracking_branch};
use crate::lock::{self, LockState};
use crate::settings::PromoteSettings;
use crate::targets::{self, Place};

pub use error::OpError;
pub use promote::{PromoteOutcome, PromoteRequest, Written, promote};
pub use read::{
    EnvStatus, History, HistoryEntry, Journal, Metrics, Status, history, journal, latest_move,
    metrics, status,
};
pub use record::{Recorded, approve, freeze, record_canary_pass, unblock, unfreeze, verify};
pub use rollback::{
    RollBackTraffic, RollbackOutcome, RollbackRequest, TrafficError, clear_stale_hold, rollback,
};

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

    /// Refuses a write whose clock is more than `max-clock-skew` behind the ledger's newest
    /// entry (the gates' soak, approvals and freezes read times), or, for what must never
    /// wait on a clock, says so in a warning.
    fn check_skew(&self, ledger: &Ledger<'_>, on_skew: OnSkew) -> Result<Option<String>, OpError> {
        match ledger.state.newest_at {
            Some(newest) => skew_verdict(self.now, newest, self.settings.max_clock_skew, on_skew),
            None => Ok(None),
        }
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

/// A write at `now` when the ledger's newest entry is at `newest`: nothing to say when `now`
/// is at most `skew` behind it; else refused ([`OnSkew::Refuse`]) or a warning that says
/// until when.
fn skew_verdict(
    now: Timestamp,
    newest: Timestamp,
    skew: HumanDuration,
    on_skew: OnSkew,
) -> Result<Option<String>, OpError> {
    if now.as_second() + (skew.0.as_secs() as i64) >= newest.as_second() {
        return Ok(None);
    }
    let refused = OpError::ClockSkew {
        now,
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

/// A [`Context`] over an empty repository, for the tests of what the commands build.
#[cfg(test)]
mod fixture {
    use super::*;

    /// What a [`Context`] borrows.
    pub(super) struct Fixture {
        _dir: tempfile::TempDir,
        repo: Repo,
        pub(super) settings: PromoteSettings,
        pub(super) environments: EnvironmentsSettings,
        release: ReleaseSettings,
    }

    impl Fixture {
        pub(super) fn new() -> Self {
            let dir = tempfile::tempdir().expect("temporary directory");
            git2::Repository::init(dir.path()).expect("git init");
            let repo = shipgate_git::open(dir.path()).expect("open");
            Fixture {
                _dir: dir,
                repo,
                settings: PromoteSettings::default(),
                environments: EnvironmentsSettings::default(),
                release: ReleaseSettings::default(),
            }
        }

        /// alice, at 2025-03-04T10:00:00Z, in CI run 7.
        pub(super) fn context(&self) -> Context<'_> {
            Context {
                repo: &self.repo,
                settings: &self.settings,
                environments: &self.environments,
                release: &self.release,
                who: "alice@example.com".into(),
                now: at("2025-03-04T10:00:00Z"),
                run_url: Some("https://ci.example/runs/7".into()),
                github: None,
            }
        }
    }

    pub(super) fn at(t: &str) -> Timestamp {
        t.parse().expect("timestamp")
    }

    /// bob's canary of 1.4.0 against 1.3.0 in prod, last renewed at 09:01.
    pub(super) fn hold() -> crate::lock::Hold {
        crate::lock::Hold {
            environment: "prod".into(),
            version: "1.4.0".into(),
            baseline_version: "1.3.0".into(),
            by: "bob".into(),
            run_url: Some("https://ci.example/runs/6".into()),
            started_at: at("2025-03-04T09:00:00Z"),
            renewed_at: at("2025-03-04T09:01:00Z"),
            host: "runner-1".into(),
            pid: 7,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::{Fixture, at};
    use super::*;

    fn minutes(n: u64) -> HumanDuration {
        HumanDuration(std::time::Duration::from_secs(n * 60))
    }

    #[test]
    fn a_clock_within_the_skew_writes() {
        let newest = at("2025-03-04T10:05:00Z");
        for on_skew in [OnSkew::Refuse, OnSkew::DryRun, OnSkew::Record("freeze")] {
            let now = at("2025-03-04T10:00:00Z");
            assert_eq!(
                skew_verdict(now, newest, minutes(5), on_skew).ok(),
                Some(None)
            );
            let later = at("2025-03-04T11:00:00Z");
            assert_eq!(
                skew_verdict(later, newest, minutes(5), on_skew).ok(),
                Some(None)
            );
        }
    }

    #[test]
    fn a_clock_behind_the_skew_is_refused_or_warned_until_it_catches_up() {
        let now = at("2025-03-04T10:00:00Z");
        let newest = at("2025-03-04T10:05:01Z");
        let refused = skew_verdict(now, newest, minutes(5), OnSkew::Refuse);
        assert!(
            matches!(refused, Err(OpError::ClockSkew { now: n, newest: w, ref skew })
                if n == now && w == newest && skew == "5m"),
            "{refused:?}"
        );
        let prefix = "this clock (2025-03-04T10:00:00Z) is more than 5m behind the ledger's \
                      newest entry (2025-03-04T10:05:01Z): ";
        let dry = skew_verdict(now, newest, minutes(5), OnSkew::DryRun).expect("warned");
        assert_eq!(
            dry.as_deref(),
            Some(
                format!(
                    "{prefix}a dry run writes nothing and goes on; a promotion with this clock \
                     is refused until 2025-03-04T10:00:01Z"
                )
                .as_str()
            )
        );
        let freeze = skew_verdict(now, newest, minutes(5), OnSkew::Record("freeze"));
        assert_eq!(
            freeze.expect("warned").as_deref(),
            Some(
                format!(
                    "{prefix}a freeze is never refused for that and is recorded at this clock's \
                     time; other writes with this clock are refused until 2025-03-04T10:00:01Z"
                )
                .as_str()
            )
        );
    }

    #[test]
    fn skew_refused_until_is_the_entry_less_the_skew_when_still_to_come() {
        let settings = PromoteSettings {
            max_clock_skew: minutes(5),
            ..PromoteSettings::default()
        };
        let written = at("2025-03-04T12:00:00Z");
        assert_eq!(
            skew_refused_until(&settings, written, at("2025-03-04T10:00:00Z")),
            Some(at("2025-03-04T11:55:00Z"))
        );
        assert_eq!(
            skew_refused_until(&settings, written, at("2025-03-04T11:55:00Z")),
            None
        );
        assert_eq!(
            skew_refused_until(&settings, written, at("2025-03-04T12:00:00Z")),
            None
        );
    }

    #[test]
    fn the_directory_is_a_path_in_git_trees() {
        let mut f = Fixture::new();
        for (directory, dir) in [
            ("environments", "environments"),
            ("./environments/", "environments"),
            (".//deploy/envs", "deploy/envs"),
            ("deploy\\envs", "deploy/envs"),
            (".", ""),
            ("./", ""),
        ] {
            f.environments.directory = directory.into();
            assert_eq!(f.context().dir(), dir, "{directory}");
        }
    }

    #[test]
    fn without_targets_a_promotion_writes_the_version_key_of_the_environment_file() {
        let mut f = Fixture::new();
        f.environments
            .names
            .insert("prod".into(), "production".into());
        let places = f.context().places("prod");
        assert_eq!(places.len(), 1);
        assert_eq!(places[0].file, "environments/production.toml");
        assert_eq!(places[0].key, "version");
        assert!(places[0].shorthand);
        assert_eq!(places[0].value("1.4.0"), "1.4.0");
    }

    #[test]
    fn an_unknown_environment_names_the_closest_one() {
        let f = Fixture::new();
        let ctx = f.context();
        assert!(ctx.check_env("staging").is_ok());
        match ctx.check_env("prd") {
            Err(OpError::UnknownEnv {
                env,
                suggestion,
                order,
            }) => {
                assert_eq!(env, "prd");
                assert_eq!(suggestion.as_deref(), Some("prod"));
                assert_eq!(order, ["dev", "staging", "prod"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(ctx.check_env("../prod"), Err(OpError::Name(_))));
    }

    #[test]
    fn an_entry_is_by_whom_and_when_the_context_says() {
        let f = Fixture::new();
        let e = f
            .context()
            .entry(Kind::Approval, Some("prod"), Some("1.4.0"));
        assert_eq!(e.kind, Kind::Approval);
        assert_eq!(e.environment.as_deref(), Some("prod"));
        assert_eq!(e.version.as_deref(), Some("1.4.0"));
        assert_eq!(e.by, "alice@example.com");
        assert_eq!(e.at, at("2025-03-04T10:00:00Z"));
        assert_eq!(e.run_url.as_deref(), Some("https://ci.example/runs/7"));
    }
}
