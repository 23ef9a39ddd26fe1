//! Why a promotion command could not run, with what to do about it.

use jiff::Timestamp;
use shipgate_config::Layout;
use shipgate_stdx::names::InvalidName;

use crate::envfile::EnvFileError;
use crate::ledger::LedgerError;
use crate::targets::TargetError;

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
        source: super::TrafficError,
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
