//! What every actuator shares, below them all: the runner's [`Traffic`] port, the values of
//! an actuator's templates ([`ActuatorVars`]), a failed action ([`ActuatorError`]), an
//! actuator that cannot be set up ([`SetupError`]), and retrying an action until it
//! succeeds. The actuators ([`crate::command`], [`crate::webhook`],
//! [`crate::argo_rollouts`], [`crate::alb`]) implement [`Traffic`]; [`crate::actuator`]
//! picks one of them.

use std::time::Duration;

/// How traffic moves.
pub trait Traffic {
    /// Asks before step `step` (0-based) at `weight` starts, the promotion included; an
    /// `Err` (its reason) halts the rollout: a pause. Default: always confirmed.
    fn confirm(&mut self, step: usize, weight: u8) -> Result<(), String> {
        let _ = (step, weight);
        Ok(())
    }
    /// Sets the canary's share.
    fn set_weight(&mut self, weight: u8) -> Result<(), ActuatorError>;
    /// Completes the rollout.
    fn promote(&mut self) -> Result<(), ActuatorError>;
    /// Sends everything back to the baseline.
    fn rollback(&mut self) -> Result<(), ActuatorError>;
}

/// An action that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{action} failed after {attempts} attempt(s): `{command}`: {message}")]
pub struct ActuatorError {
    /// `set-weight`, `promote` or `rollback`.
    pub action: &'static str,
    /// The rendered command.
    pub command: String,
    /// Attempts made.
    pub attempts: u32,
    /// Exit status and the end of stderr.
    pub message: String,
}

/// Values for the templates.
#[derive(Debug, Clone, Default)]
pub struct ActuatorVars {
    /// The canary's version.
    pub version: String,
    /// The baseline's version.
    pub baseline_version: String,
    /// The environment.
    pub env: String,
    /// The current step, 1-based (0 before the first).
    pub step: usize,
}

/// An actuator that cannot be set up; nothing was moved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    /// `[canary.argo-rollouts]`: a name that is not one once `{{env}}` is filled in.
    #[error("[canary.argo-rollouts] {0}")]
    ArgoRollouts(String),
    /// `[canary.alb]`: the AWS session.
    #[error("[canary.alb]: {0}")]
    Alb(crate::aws::AwsSetupError),
}

impl SetupError {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            SetupError::ArgoRollouts(_) => Some(
                "write the Kubernetes name in [canary.argo-rollouts] (or in [canary.env.<ENV>.argo-rollouts] for this environment)".into(),
            ),
            SetupError::Alb(e) => e.hint().map(|h| h.replace("[canary.cloudwatch]", "[canary.alb]")),
        }
    }
}

/// Runs `attempt` up to `attempts` times, with a short growing pause between tries, until
/// it succeeds; its last message becomes the error, with `command` as what was run.
pub(crate) fn retrying<T>(
    action: &'static str,
    command: &str,
    attempts: u32,
    mut attempt: impl FnMut() -> Result<T, String>,
) -> Result<T, ActuatorError> {
    let attempts = attempts.max(1);
    let mut message = String::new();
    for n in 1..=attempts {
        match attempt() {
            Ok(value) => return Ok(value),
            Err(m) => message = m,
        }
        if n < attempts {
            std::thread::sleep(Duration::from_millis(200 * u64::from(n)));
        }
    }
    Err(ActuatorError {
        action,
        command: command.to_string(),
        attempts,
        message,
    })
}

/// A failed process in a few words: its exit status and the last line of its stderr.
pub(crate) fn failure_message(out: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: String = stderr
        .trim()
        .lines()
        .last()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect();
    if tail.is_empty() {
        out.status.to_string()
    } else {
        format!("{}: {tail}", out.status)
    }
}
