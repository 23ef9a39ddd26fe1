//! Why a run could not complete normally ([`RunError`]), with what a failed traffic move
//! and the rollback after it did ([`ActuatorFailure`]). [`crate::actuator`] answers with
//! it when no actuator (or several) is configured, [`crate::runner`] for everything else.

use shipgate_judge::{ConfigProblem, Recording};

use crate::provider::ProviderError;
use crate::traffic::{ActuatorError, SetupError};

/// Why a run could not complete normally.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The settings are invalid.
    #[error("invalid [canary] settings: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Settings(Vec<ConfigProblem>),
    /// A query uses a placeholder that has no value (`{{canary_hash}}` without
    /// `--canary-hash`); no traffic was moved.
    #[error("metric `{}`'s query uses {{{{{}}}}}, which has no value; no traffic was moved", .0.metric, .0.placeholder)]
    MissingValue(crate::analysis::Missing),
    /// A query failed its check; no traffic was moved.
    #[error("metric `{metric}`: {source}")]
    Query {
        /// The metric.
        metric: String,
        /// Prometheus's answer.
        source: ProviderError,
    },
    /// Moving traffic failed; a rollback was attempted.
    #[error("{0}")]
    Actuator(Box<ActuatorFailure>),
    /// No actuator is configured.
    #[error("no actuator in the configuration: traffic cannot move")]
    NoActuator,
    /// Several actuators are configured.
    #[error(
        "several actuators are configured ({}); exactly one must move traffic",
        .0.iter().map(|a| format!("[canary.{a}]")).collect::<Vec<_>>().join(", ")
    )]
    SeveralActuators(Vec<&'static str>),
    /// The actuator could not be set up; nothing was moved.
    #[error(transparent)]
    ActuatorSetup(SetupError),
    /// A live run without `[canary.prometheus]`.
    #[error("no [canary.prometheus] in the configuration")]
    NoPrometheus,
    /// The Prometheus client could not be set up (credentials, TLS).
    #[error(transparent)]
    Provider(ProviderError),
    /// The alarms of `[canary.alarms]` could not be read before traffic moved.
    #[error("alarm gate: {0}")]
    Alarms(ProviderError),
    /// An alarm fires before any traffic moved: the environment is already in trouble.
    #[error("alarm gate: {0}; no traffic was moved")]
    AlarmFiring(String),
    /// The webhook's token is not set.
    #[error(transparent)]
    Token(#[from] crate::webhook::MissingToken),
    /// The webhook's HTTP client could not be set up.
    #[error(transparent)]
    Client(#[from] crate::http::ClientSetupError),
}

impl RunError {
    /// What to do about it, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            RunError::Query { source, .. } => Some(match source.hint() {
                Some(h) => format!("no traffic was moved; {h}"),
                None => "no traffic was moved".into(),
            }),
            RunError::NoActuator => Some(
                "add one of [canary.argo-rollouts] (rollout = \"NAME\"), [canary.alb] (listener-arn and the two target groups), [canary.command] (set-weight, promote and rollback commands) or [canary.webhook] (url = \"https://…\")".into(),
            ),
            RunError::SeveralActuators(_) => Some("keep one of them".into()),
            RunError::ActuatorSetup(e) => e.hint(),
            RunError::MissingValue(m) => Some(format!("give --{}", m.flag())),
            RunError::NoPrometheus => {
                Some("add [canary.prometheus] with url = \"http://prometheus:9090\"".into())
            }
            RunError::Provider(e) => e.hint(),
            RunError::Alarms(e) => Some(match e.hint() {
                Some(h) => format!("no traffic was moved; {h}"),
                None => "no traffic was moved".into(),
            }),
            RunError::AlarmFiring(_) => Some(
                "deploy once the alarms are back to OK (an alarm already firing would roll back any canary)".into(),
            ),
            RunError::Token(e) => Some(e.hint()),
            RunError::Settings(_) | RunError::Actuator(_) | RunError::Client(_) => None,
        }
    }
}

impl RunError {
    /// What was observed before the error, when traffic had started to move.
    pub fn recording(&self) -> Option<&Recording> {
        match self {
            RunError::Actuator(failure) => Some(&failure.recording),
            _ => None,
        }
    }
}

/// A failed traffic move and what the rollback after it did.
#[derive(Debug, thiserror::Error)]
#[error("{source}{}", match (.source.action, .rollback) {
    ("rollback", _) => String::new(),
    (_, None) => "; the rollback after it succeeded".to_string(),
    (_, Some(e)) => format!("; the rollback after it ALSO FAILED: {e}"),
})]
pub struct ActuatorFailure {
    /// The failed action.
    pub source: ActuatorError,
    /// The rollback's error, if it failed too (or was the failed action).
    pub rollback: Option<ActuatorError>,
    /// What was observed so far.
    pub recording: Recording,
}
