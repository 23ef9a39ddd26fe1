//! Actuators: how traffic moves and how a rollback happens. `command` runs a templated
//! shell command per action (e.g. `kubectl argo rollouts set weight …`); a failing
//! rollback is retried and then reported as an error, never swallowed.

use std::process::Command;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{check_placeholders, render};

/// `[canary.actuator]`: templated commands, run with `sh -c`. Placeholders: `{{weight}}`,
/// `{{version}}`, `{{baseline_version}}`, `{{env}}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CommandActuator {
    /// Moves the canary to `{{weight}}` percent of traffic.
    pub set_weight: String,
    /// Completes the rollout (the canary becomes the stable version).
    pub promote: String,
    /// Sends all traffic back to the baseline.
    pub rollback: String,
    /// Attempts for a rollback before giving up loudly (default 3).
    #[serde(default = "default_attempts")]
    pub rollback_attempts: u32,
}

fn default_attempts() -> u32 {
    3
}

/// The actuator's templates' placeholders.
pub const ACTUATOR_PLACEHOLDERS: [&str; 4] = ["weight", "version", "baseline_version", "env"];

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
}

impl CommandActuator {
    /// Checks the templates' placeholders.
    pub fn validate(&self) -> Result<(), String> {
        for (key, t) in [
            ("set-weight", &self.set_weight),
            ("promote", &self.promote),
            ("rollback", &self.rollback),
        ] {
            if t.trim().is_empty() {
                return Err(format!("{key} is empty"));
            }
            check_placeholders(t, &ACTUATOR_PLACEHOLDERS).map_err(|e| format!("{key}: {e}"))?;
        }
        Ok(())
    }

    /// Sets the canary's weight.
    pub fn set_weight(&self, vars: &ActuatorVars, weight: u8) -> Result<(), ActuatorError> {
        run("set-weight", &self.set_weight, vars, Some(weight), 1)
    }

    /// Promotes the canary.
    pub fn promote(&self, vars: &ActuatorVars) -> Result<(), ActuatorError> {
        run("promote", &self.promote, vars, Some(100), 1)
    }

    /// Rolls back, retrying with a short backoff.
    pub fn rollback(&self, vars: &ActuatorVars) -> Result<(), ActuatorError> {
        run(
            "rollback",
            &self.rollback,
            vars,
            Some(0),
            self.rollback_attempts.max(1),
        )
    }
}

fn run(
    action: &'static str,
    template: &str,
    vars: &ActuatorVars,
    weight: Option<u8>,
    attempts: u32,
) -> Result<(), ActuatorError> {
    let weight = weight.map(|w| w.to_string()).unwrap_or_default();
    let command = render(
        template,
        &[
            ("weight", weight.as_str()),
            ("version", vars.version.as_str()),
            ("baseline_version", vars.baseline_version.as_str()),
            ("env", vars.env.as_str()),
        ],
    );
    let mut message = String::new();
    for attempt in 1..=attempts {
        match Command::new("sh").arg("-c").arg(&command).output() {
            Ok(out) if out.status.success() => return Ok(()),
            Ok(out) => {
                let stderr = String::from_utf8_lossy(&out.stderr);
                let tail: String = stderr
                    .trim()
                    .lines()
                    .last()
                    .unwrap_or("")
                    .chars()
                    .take(200)
                    .collect();
                message = format!(
                    "{}{}",
                    out.status,
                    if tail.is_empty() {
                        String::new()
                    } else {
                        format!(": {tail}")
                    }
                );
            }
            Err(e) => message = format!("cannot start sh: {e}"),
        }
        if attempt < attempts {
            std::thread::sleep(Duration::from_millis(200 * u64::from(attempt)));
        }
    }
    Err(ActuatorError {
        action,
        command,
        attempts,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actuator(dir: &std::path::Path, rollback: &str) -> CommandActuator {
        let log = dir.join("log").display().to_string();
        CommandActuator {
            set_weight: format!("echo weight {{{{weight}}}} {{{{version}}}} >> {log}"),
            promote: format!("echo promote {{{{version}}}} {{{{env}}}} >> {log}"),
            rollback: rollback.replace("LOG", &log),
            rollback_attempts: 3,
        }
    }

    fn vars() -> ActuatorVars {
        ActuatorVars {
            version: "1.4.0".into(),
            baseline_version: "1.3.2".into(),
            env: "prod".into(),
        }
    }

    #[test]
    fn commands_run_with_their_placeholders_filled() {
        let dir = std::env::temp_dir().join(format!("shipgate-actuator-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let a = actuator(&dir, "echo rollback {{baseline_version}} >> LOG");
        a.validate().expect("valid");
        a.set_weight(&vars(), 25).expect("set weight");
        a.promote(&vars()).expect("promote");
        a.rollback(&vars()).expect("rollback");
        let log = std::fs::read_to_string(dir.join("log")).expect("log");
        assert_eq!(log, "weight 25 1.4.0\npromote 1.4.0 prod\nrollback 1.3.2\n");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn a_failing_rollback_is_retried_then_reported() {
        let dir =
            std::env::temp_dir().join(format!("shipgate-actuator-fail-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let a = actuator(
            &dir,
            "echo try >> LOG; echo 'cluster unreachable' >&2; exit 3",
        );
        let err = a.rollback(&vars()).expect_err("fails");
        assert_eq!(err.attempts, 3);
        assert!(
            err.message.contains("exit status: 3: cluster unreachable"),
            "{err}"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("log"))
                .expect("log")
                .lines()
                .count(),
            3
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn unknown_placeholders_are_refused() {
        let a = CommandActuator {
            set_weight: "kubectl argo rollouts set weight app {{wieght}}".into(),
            promote: "true".into(),
            rollback: "true".into(),
            rollback_attempts: 3,
        };
        assert!(
            a.validate()
                .expect_err("invalid")
                .contains("set-weight: unknown placeholder `{{wieght}}`")
        );
    }
}
