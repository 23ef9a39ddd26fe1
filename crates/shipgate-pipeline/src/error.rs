//! Why a workflow could not run. Each error carries its hint as data; an error of a
//! library below is kept whole (its own hint included).

use shipgate_promote::ops::OpError;

/// Why a workflow could not run.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Nobody to record as the author of an entry.
    #[error("no one to record as the author: GITHUB_ACTOR is not set and git has no user.email")]
    NoAuthor,
    /// The ledger, a gate or a file said no.
    #[error(transparent)]
    Op(#[from] OpError),
    /// The repository could not be read.
    #[error(transparent)]
    Git(#[from] shipgate_git::GitError),
    /// The release could not be planned or made.
    #[error(transparent)]
    Release(#[from] shipgate_release::ReleaseError),
    /// The canary's rollout could not run (or could not finish).
    #[error(transparent)]
    Run(#[from] shipgate_canary::RunError),
    /// A live canary with `[promote]` needs a promotion to judge.
    #[error("no promotion into {env} to run a canary of (the ledger says {env} runs {runs})")]
    NoPromotion {
        /// The environment.
        env: String,
        /// What the ledger says runs there.
        runs: String,
    },
    /// The canary's version is not the environment's latest promotion.
    #[error(
        "the canary's version {given} is not {env}'s latest promotion ({promoted}, per the ledger)"
    )]
    NotLatest {
        /// The environment.
        env: String,
        /// The version given.
        given: String,
        /// The latest promotion.
        promoted: String,
    },
    /// The first promotion into an environment has no baseline.
    #[error(
        "{version} is the first version promoted into {env}: there is no baseline to judge it against"
    )]
    NoBaseline {
        /// The environment.
        env: String,
        /// The version.
        version: String,
    },
    /// A review could not be built (no rollback matches, another rollout's recording).
    #[error(transparent)]
    Review(#[from] ReviewError),
    /// The canary's verdict moved traffic, but its ledger entry could not be written.
    #[error("the canary {version} ({result}), but its ledger entry could not be written")]
    VerdictNotRecorded {
        /// The canary's version.
        version: String,
        /// What happened to traffic.
        result: String,
        /// Why the entry was not written.
        #[source]
        source: Box<PipelineError>,
    },
}

impl PipelineError {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            PipelineError::NoAuthor => Some("git config user.email you@example.com".into()),
            PipelineError::Op(e) => e.hint(),
            PipelineError::Git(e) => e.hint(),
            PipelineError::Run(e) => e.hint(),
            PipelineError::Release(e) => e.hint(),
            PipelineError::Review(e) => e.hint(),
            PipelineError::NoPromotion { env, .. } => Some(format!(
                "promote the version first: shipgate promote VERSION --to {env}"
            )),
            PipelineError::NotLatest {
                env,
                given,
                promoted,
            } => Some(format!(
                "promote it first (shipgate promote {given} --to {env}), or run the canary of {promoted}"
            )),
            PipelineError::NoBaseline { .. } => Some(
                "give the version serving the rest of the traffic with --baseline-version".into(),
            ),
            PipelineError::VerdictNotRecorded { source, .. } => source.hint(),
        }
    }
}

/// Why a review cannot be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReviewError {
    /// No rollback matches.
    #[error("no {what} in {env} in the ledger")]
    NoRollback {
        /// The environment.
        env: String,
        /// What was looked for.
        what: String,
        /// The environment's rollbacks, newest first: `1.5.0 at …`.
        rollbacks: Vec<String>,
    },
    /// The recording is of another rollout.
    #[error("the recording's {field} is {recorded}, but the rollback is of {ledger}")]
    OtherRecording {
        /// `env` or `version`.
        field: &'static str,
        /// What the recording says.
        recorded: String,
        /// What the ledger says.
        ledger: String,
    },
    /// The recording's settings cannot be replayed.
    #[error("the recording's settings cannot be judged: {0}")]
    Settings(String),
}

impl ReviewError {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            ReviewError::NoRollback { env, rollbacks, .. } if rollbacks.is_empty() => {
                Some(format!(
                    "{env} has no rollback to review; `shipgate history --env {env}` lists its entries"
                ))
            }
            ReviewError::NoRollback { rollbacks, .. } => {
                Some(format!("rollbacks there: {}", rollbacks.join("; ")))
            }
            ReviewError::OtherRecording { .. } => {
                Some("give the recording `canary run --record FILE` wrote for this rollout".into())
            }
            ReviewError::Settings(_) => {
                Some("check the recording with `shipgate canary judge FILE`".into())
            }
        }
    }
}
