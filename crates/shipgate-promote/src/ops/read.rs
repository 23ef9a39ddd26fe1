//! The commands that only read: `status`, `history`, `metrics`, and the latest move of an
//! environment (what a deployment or a canary starts from).

use jiff::Timestamp;
use serde::Serialize;
use shipgate_git::Oid;

use super::files::desired_version;
use super::{Context, OpError};
use crate::entry::{Entry, Kind, VerifyResult};
use crate::freeze::FreezeWindow;
use crate::ledger::Ledger;
use crate::lock::LockState;
use crate::metrics::{self, EnvMetrics};
use crate::state::{FreezeInfo, RollbackInfo, VerificationFact};

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
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct EnvStatus {
    /// The environment.
    pub name: String,
    /// The version that runs, per the ledger.
    pub version: Option<String>,
    /// Since when.
    #[schemars(with = "Option<String>")]
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
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
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
        environments.push(env_status(ctx, &ledger, base, name)?);
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

/// The status of the environment `name`, its files read at `base`.
fn env_status(
    ctx: &Context<'_>,
    ledger: &Ledger<'_>,
    base: Option<Oid>,
    name: &str,
) -> Result<EnvStatus, OpError> {
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
    let frozen = frozen(
        &ctx.settings.for_env(name).freeze,
        s.freeze.as_ref(),
        ctx.now,
    );
    let (lock, holder) = lock_words(ctx.hold_fact(name)?);
    Ok(EnvStatus {
        name: name.to_string(),
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
    })
}

/// What freezes an environment at `now`: the freeze `windows` in force, then an emergency
/// `freeze`, in words.
fn frozen(windows: &[FreezeWindow], freeze: Option<&FreezeInfo>, now: Timestamp) -> Vec<String> {
    let mut frozen: Vec<String> = windows
        .iter()
        .filter(|w| w.contains(now))
        .map(|w| format!("freeze window {w}"))
        .collect();
    if let Some(f) = freeze {
        frozen.push(format!(
            "emergency freeze by {} since {}: {}",
            f.by, f.at, f.reason
        ));
    }
    frozen
}

/// An environment's hold in `status`'s words: `free`, `held` or `stale`, and who holds it.
fn lock_words(lock: LockState) -> (&'static str, Option<String>) {
    match lock {
        LockState::Free => ("free", None),
        LockState::Held { hold, .. } => ("held", Some(hold.describe())),
        LockState::Stale { hold, .. } => ("stale", Some(hold.describe())),
    }
}

/// `history`: one entry with its commit.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
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

/// Everything the ledger holds, for the status page: every entry, and every environment's
/// month records.
#[derive(Debug, Clone)]
pub struct Journal {
    /// Every entry, newest first (the order they were written in).
    pub entries: Vec<Entry>,
    /// Per environment of the order: its month records, oldest first.
    pub months: Vec<(String, Vec<crate::state::MonthMetrics>)>,
}

/// Every entry and every month record, after a fetch of the remote's ledger when `fetch`.
pub fn journal(ctx: &Context<'_>, fetch: bool) -> Result<Journal, OpError> {
    let ledger = read_only(ctx, None, fetch)?;
    let entries = ledger.entries()?;
    let mut months = Vec::new();
    for name in ctx.order() {
        months.push((name.clone(), ledger.months(name)?));
    }
    Ok(Journal { entries, months })
}

/// `shipgate metrics`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Metrics {
    /// Per environment, in order.
    pub environments: Vec<EnvMetrics>,
    /// The window's start.
    #[schemars(with = "String")]
    pub since: Timestamp,
    /// Its end (now).
    #[schemars(with = "String")]
    pub until: Timestamp,
    /// How far back a rollback or a failed verification makes a promotion rework, seconds.
    pub rework_window_s: i64,
    /// Since when the ledger's indexes hold the canaries' verdicts (older ones are not
    /// counted): its first entry, or its first entry written by shipgate with index format
    /// 2 or later.
    #[schemars(with = "Option<String>")]
    pub canaries_since: Option<Timestamp>,
}

/// `shipgate metrics [--env ENV] [--since …] [--rework-window …]`: from the ledger's month
/// records alone (`rework_window`: seconds, [`metrics::REWORK_WINDOW_S`] by default).
pub fn metrics(
    ctx: &Context<'_>,
    env: Option<&str>,
    since: Option<Timestamp>,
    rework_window: i64,
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
            rework_window,
        ));
    }
    Ok(Metrics {
        environments,
        since,
        until: ctx.now,
        rework_window_s: rework_window,
        canaries_since: ledger.state.canaries_since,
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{at, hold};
    use super::*;

    fn span(start: &str, end: &str) -> FreezeWindow {
        FreezeWindow::Span {
            start: at(start),
            end: at(end),
        }
    }

    #[test]
    fn frozen_lists_the_windows_in_force_then_the_emergency_freeze() {
        let windows = [
            span("2025-03-04T00:00:00Z", "2025-03-05T00:00:00Z"),
            span("2025-03-10T00:00:00Z", "2025-03-11T00:00:00Z"),
        ];
        let freeze = FreezeInfo {
            at: at("2025-03-04T08:00:00Z"),
            by: "carol".into(),
            reason: "INC-42".into(),
        };
        let now = at("2025-03-04T10:00:00Z");
        assert_eq!(
            frozen(&windows, Some(&freeze), now),
            [
                "freeze window 2025-03-04T00:00:00Z to 2025-03-05T00:00:00Z",
                "emergency freeze by carol since 2025-03-04T08:00:00Z: INC-42",
            ]
        );
        assert!(frozen(&windows, None, at("2025-03-06T10:00:00Z")).is_empty());
        assert!(frozen(&[], None, now).is_empty());
    }

    #[test]
    fn the_hold_in_words() {
        let hold = hold();
        let commit = shipgate_git::Oid::ZERO_SHA1;
        assert_eq!(lock_words(LockState::Free), ("free", None));
        assert_eq!(
            lock_words(LockState::Held {
                hold: hold.clone(),
                commit
            }),
            ("held", Some(hold.describe()))
        );
        assert_eq!(
            lock_words(LockState::Stale {
                hold: hold.clone(),
                commit
            }),
            ("stale", Some(hold.describe()))
        );
    }
}
