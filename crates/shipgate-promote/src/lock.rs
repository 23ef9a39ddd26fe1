//! One canary in flight per environment: a hold is the ref `refs/shipgate/locks/<env>`,
//! naming a commit whose message says who holds it, for which versions, since when, and
//! when it was last renewed. It is taken with a compare-and-swap ("must not exist"),
//! renewed while the canary runs, and deleted when it ends. A hold not renewed for
//! `lock-timeout` is stale: its run died (SIGKILL, a lost runner) and left traffic on the
//! canary, which the next command for that environment rolls back first.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use shipgate_git::{Expect, Oid, PushOutcome, RefUpdate, Repo};

use crate::ledger::{LedgerError, tracking};

/// The marker line before a hold's JSON.
const MARKER: &str = "shipgate-hold: 1";

/// The ref of an environment's hold.
pub fn lock_ref(env: &str) -> String {
    format!("refs/shipgate/locks/{env}")
}

/// Who holds an environment, and for what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hold {
    /// The environment.
    pub environment: String,
    /// The canary's version.
    pub version: String,
    /// The version it is judged against (where a rollback goes).
    pub baseline_version: String,
    /// Who runs it.
    pub by: String,
    /// The CI run, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_url: Option<String>,
    /// When the hold was taken.
    pub started_at: Timestamp,
    /// When it was last renewed.
    pub renewed_at: Timestamp,
    /// The machine and process that hold it.
    pub host: String,
    /// The process.
    pub pid: u32,
}

impl Hold {
    /// In words, for gates and errors.
    pub fn describe(&self) -> String {
        format!(
            "a canary of {} (against {}) by {} since {}, last renewed {}{}",
            self.version,
            self.baseline_version,
            self.by,
            self.started_at,
            self.renewed_at,
            self.run_url
                .as_ref()
                .map(|u| format!(", run {u}"))
                .unwrap_or_default()
        )
    }
}

/// An environment's hold, as read.
#[derive(Debug, Clone, PartialEq)]
pub enum LockState {
    /// Nobody holds it.
    Free,
    /// A run holds it and renews it.
    Held {
        /// The hold.
        hold: Hold,
        /// Its commit.
        commit: Oid,
    },
    /// A run held it and stopped renewing it.
    Stale {
        /// The hold.
        hold: Hold,
        /// Its commit.
        commit: Oid,
    },
}

fn read_hold(repo: &Repo, commit: Oid) -> Result<Hold, LedgerError> {
    let message = repo.message(commit)?;
    let json = message
        .find(&format!("\n{MARKER}\n"))
        .map(|i| &message[i + MARKER.len() + 2..])
        .unwrap_or("");
    serde_json::from_str(json.trim()).map_err(|e| LedgerError::BadIndex {
        commit: commit.to_string(),
        path: "(hold)".into(),
        message: e.to_string(),
    })
}

/// `env`'s hold as last fetched from `remote` (or here, without a remote), judged stale
/// when not renewed for `timeout` at `now`.
pub fn read(
    repo: &Repo,
    remote: Option<&str>,
    env: &str,
    now: Timestamp,
    timeout: std::time::Duration,
) -> Result<LockState, LedgerError> {
    let name = match remote {
        Some(r) => tracking(r, &format!("locks/{env}")),
        None => lock_ref(env),
    };
    let Some(commit) = repo.ref_target(&name)? else {
        return Ok(LockState::Free);
    };
    let hold = read_hold(repo, commit)?;
    let age = now.as_second() - hold.renewed_at.as_second();
    if age > timeout.as_secs() as i64 {
        Ok(LockState::Stale { hold, commit })
    } else {
        Ok(LockState::Held { hold, commit })
    }
}

fn hold_commit(repo: &Repo, hold: &Hold) -> Result<Oid, LedgerError> {
    let json = serde_json::to_string(hold).unwrap_or_default();
    let message = format!(
        "hold of {} for a canary of {}\n\n{MARKER}\n{json}\n",
        hold.environment, hold.version
    );
    Ok(repo.make_commit(&[], None, &[], &message)?)
}

/// How taking or renewing a hold went.
#[derive(Debug, Clone, PartialEq)]
pub enum Taken {
    /// The hold is ours; its commit.
    Ours(Oid),
    /// Someone else's hold is there (or ours was taken over).
    Lost,
}

/// Moves `env`'s hold from `expected` (None: it must not exist) to `new` (None: delete),
/// on the remote when there is one (and then here), else here.
fn swap(
    repo: &Repo,
    remote: Option<&str>,
    env: &str,
    expected: Option<Oid>,
    new: Option<Oid>,
) -> Result<bool, LedgerError> {
    let name = lock_ref(env);
    if let Some(r) = remote {
        let update = RefUpdate {
            new,
            dst: name.clone(),
            expect: match expected {
                Some(e) => Expect::Exactly(e),
                None => Expect::Absent,
            },
        };
        match repo.push_cas(r, &[update])? {
            PushOutcome::Moved { .. } => return Ok(false),
            PushOutcome::Sent => {}
        }
        let tracked = tracking(r, &format!("locks/{env}"));
        match new {
            Some(n) => repo.force_ref(&tracked, n, "shipgate: hold")?,
            None => repo.delete_ref(&tracked)?,
        }
        match new {
            Some(n) => repo.force_ref(&name, n, "shipgate: hold")?,
            None => repo.delete_ref(&name)?,
        }
        return Ok(true);
    }
    let current = repo.ref_target(&name)?;
    if current != expected {
        return Ok(false);
    }
    match new {
        Some(n) => repo.set_ref(&name, n, expected, "shipgate: hold")?,
        None => repo.delete_ref(&name)?,
    }
    Ok(true)
}

/// Takes `hold.environment`'s hold, which must be free.
pub fn take(repo: &Repo, remote: Option<&str>, hold: &Hold) -> Result<Taken, LedgerError> {
    let commit = hold_commit(repo, hold)?;
    Ok(
        if swap(repo, remote, &hold.environment, None, Some(commit))? {
            Taken::Ours(commit)
        } else {
            Taken::Lost
        },
    )
}

/// Renews our hold (commit `ours`) with `hold`'s new `renewed_at`.
pub fn renew(
    repo: &Repo,
    remote: Option<&str>,
    ours: Oid,
    hold: &Hold,
) -> Result<Taken, LedgerError> {
    let commit = hold_commit(repo, hold)?;
    Ok(
        if swap(repo, remote, &hold.environment, Some(ours), Some(commit))? {
            Taken::Ours(commit)
        } else {
            Taken::Lost
        },
    )
}

/// Deletes `env`'s hold if it is still `commit` (ours, or the stale one just rolled back).
pub fn release(
    repo: &Repo,
    remote: Option<&str>,
    env: &str,
    commit: Oid,
) -> Result<bool, LedgerError> {
    swap(repo, remote, env, Some(commit), None)
}
