//! Actuators: how traffic moves and how a rollback happens. [`Actuator::from_settings`] is
//! the one place that picks the actuator `[canary]` configures: `command` (a templated
//! shell command per action, e.g. `kubectl patch` of an Istio VirtualService's weights),
//! `webhook` ([`crate::webhook`]), `argo-rollouts` ([`crate::argo_rollouts`]: a Rollout
//! driven step by step with the plugin's `promote` and `abort`) or `alb`
//! ([`crate::alb`]: an AWS load balancer's weighted target groups). A failing rollback is
//! retried and then reported as an error, never swallowed.
//!
//! Values are data, never shell syntax: each `{{placeholder}}` of a `command` becomes one
//! shell-quoted word (`'1.4.0'`), and every value is also in the command's environment
//! (`SHIPGATE_VERSION`, `SHIPGATE_BASELINE_VERSION`, `SHIPGATE_WEIGHT`,
//! `SHIPGATE_BASELINE_WEIGHT`, `SHIPGATE_ENV`, `SHIPGATE_STEP`, `SHIPGATE_ACTION`). A
//! placeholder inside quotes is refused when the settings are validated: quoting a quoted
//! value would undo the quoting.

use std::process::Command;
use std::time::Duration;

use shipgate_judge::settings::render_with;

pub use shipgate_canary_settings::command::{
    ACTUATOR_PLACEHOLDERS, CommandActuator, CommandProblem, check_unquoted,
};

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

/// Running `[canary.command]`'s commands (its settings, [`CommandActuator`], are data): each
/// with its placeholders filled in, through `sh -c`.
pub trait CommandActions {
    /// Sets the canary's weight.
    fn set_weight(&self, vars: &ActuatorVars, weight: u8) -> Result<(), ActuatorError>;
    /// Promotes the canary.
    fn promote(&self, vars: &ActuatorVars) -> Result<(), ActuatorError>;
    /// Rolls back, retrying with a short backoff.
    fn rollback(&self, vars: &ActuatorVars) -> Result<(), ActuatorError>;
}

impl CommandActions for CommandActuator {
    fn set_weight(&self, vars: &ActuatorVars, weight: u8) -> Result<(), ActuatorError> {
        run("set-weight", &self.set_weight, vars, Some(weight), 1)
    }

    fn promote(&self, vars: &ActuatorVars) -> Result<(), ActuatorError> {
        run("promote", &self.promote, vars, Some(100), 1)
    }

    fn rollback(&self, vars: &ActuatorVars) -> Result<(), ActuatorError> {
        run(
            "rollback",
            &self.rollback,
            vars,
            Some(0),
            self.rollback_attempts.max(1),
        )
    }
}

/// The command for `template` with every placeholder replaced by its shell-quoted value,
/// and the `SHIPGATE_*` variables that carry the same values.
fn command_for(
    action: &'static str,
    template: &str,
    vars: &ActuatorVars,
    weight: Option<u8>,
) -> (String, Vec<(&'static str, String)>) {
    let baseline_weight = weight
        .map(|w| 100u8.saturating_sub(w).to_string())
        .unwrap_or_default();
    let weight = weight.map(|w| w.to_string()).unwrap_or_default();
    let step = vars.step.to_string();
    let values = [
        ("weight", weight.as_str()),
        ("baseline_weight", baseline_weight.as_str()),
        ("version", vars.version.as_str()),
        ("baseline_version", vars.baseline_version.as_str()),
        ("env", vars.env.as_str()),
        ("step", step.as_str()),
    ];
    let command = render_with(template, &values, shipgate_stdx::shell::quote);
    let env = vec![
        ("SHIPGATE_ACTION", action.to_string()),
        ("SHIPGATE_WEIGHT", weight.clone()),
        ("SHIPGATE_BASELINE_WEIGHT", baseline_weight.clone()),
        ("SHIPGATE_VERSION", vars.version.clone()),
        ("SHIPGATE_BASELINE_VERSION", vars.baseline_version.clone()),
        ("SHIPGATE_ENV", vars.env.clone()),
        ("SHIPGATE_STEP", step.clone()),
    ];
    (command, env)
}

fn run(
    action: &'static str,
    template: &str,
    vars: &ActuatorVars,
    weight: Option<u8>,
    attempts: u32,
) -> Result<(), ActuatorError> {
    let (command, env) = command_for(action, template, vars, weight);
    retrying(action, &command, attempts, || {
        match Command::new("sh")
            .arg("-c")
            .arg(&command)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
        {
            Ok(out) if out.status.success() => Ok(()),
            Ok(out) => Err(failure_message(&out)),
            Err(e) => Err(format!("cannot start sh: {e}")),
        }
    })
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

/// The actuator `[canary]` configures, ready to move traffic: the runner's `Traffic`.
pub enum Actuator<'a> {
    /// `[canary.command]`.
    Command(crate::runner::CommandTraffic<'a>),
    /// `[canary.webhook]`.
    Webhook(crate::webhook::WebhookTraffic<'a>),
    /// `[canary.argo-rollouts]`.
    ArgoRollouts(crate::argo_rollouts::ArgoRolloutsTraffic),
    /// `[canary.alb]`.
    Alb(Box<crate::alb::AlbTraffic>),
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

impl<'a> Actuator<'a> {
    /// The one place that picks how traffic moves: the actuator `settings` configure (an
    /// error when none or several are), with `vars` for its values; `env` reads
    /// environment variables (the webhook's token). Nothing is sent or run here.
    pub fn from_settings(
        settings: &'a crate::CanarySettings,
        vars: ActuatorVars,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, crate::RunError> {
        use crate::RunError;
        let configured = settings.actuators();
        if configured.len() > 1 {
            return Err(RunError::SeveralActuators(configured));
        }
        let steps = settings.gates.rollout.steps.as_slice();
        if let Some(actuator) = &settings.command {
            return Ok(Actuator::Command(crate::runner::CommandTraffic {
                actuator,
                vars,
            }));
        }
        if let Some(webhook) = &settings.webhook {
            let authorization = crate::webhook::authorization(webhook, env)?;
            return crate::webhook::WebhookTraffic::new(webhook, vars, steps.len(), authorization)
                .map(Actuator::Webhook)
                .map_err(RunError::Client);
        }
        if let Some(argo) = &settings.argo_rollouts {
            let weights: Vec<u8> = steps.iter().map(|s| s.weight).collect();
            return crate::argo_rollouts::ArgoRolloutsTraffic::new(argo, &vars, &weights)
                .map(Actuator::ArgoRollouts)
                .map_err(|e| RunError::ActuatorSetup(SetupError::ArgoRollouts(e)));
        }
        if let Some(alb) = &settings.alb {
            return crate::alb::AlbTraffic::new(alb)
                .map(|t| Actuator::Alb(Box::new(t)))
                .map_err(|e| RunError::ActuatorSetup(SetupError::Alb(e)));
        }
        Err(RunError::NoActuator)
    }

    fn traffic(&mut self) -> &mut dyn crate::runner::Traffic {
        match self {
            Actuator::Command(t) => t,
            Actuator::Webhook(t) => t,
            Actuator::ArgoRollouts(t) => t,
            Actuator::Alb(t) => t.as_mut(),
        }
    }
}

impl crate::runner::Traffic for Actuator<'_> {
    fn confirm(&mut self, step: usize, weight: u8) -> Result<(), String> {
        self.traffic().confirm(step, weight)
    }
    fn set_weight(&mut self, weight: u8) -> Result<(), ActuatorError> {
        self.traffic().set_weight(weight)
    }
    fn promote(&mut self) -> Result<(), ActuatorError> {
        self.traffic().promote()
    }
    fn rollback(&mut self) -> Result<(), ActuatorError> {
        self.traffic().rollback()
    }
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
            step: 2,
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

    /// Values no validation would let through still arrive as one word each, and nothing in
    /// them runs: the rendered command and the environment carry them as data.
    #[test]
    fn hostile_values_arrive_intact_and_run_nothing() {
        let dir =
            std::env::temp_dir().join(format!("shipgate-actuator-hostile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let log = dir.join("log").display().to_string();
        let pwned = dir.join("pwned");
        let touch = format!("touch {}", pwned.display());
        let hostile = [
            format!("1.4.0;{touch}"),
            format!("$({touch})"),
            format!("`{touch}`"),
            format!("x' ; {touch} ; echo '"),
            format!("x\" ; {touch} ; echo \""),
            format!("a b\n{touch}"),
            String::new(),
        ];
        for value in &hostile {
            let v = ActuatorVars {
                version: value.clone(),
                baseline_version: value.clone(),
                env: value.clone(),
                step: 1,
            };
            let a = CommandActuator {
                set_weight: format!(
                    "printf '%s|%s|%s|%s\\n' {{{{version}}}} {{{{baseline_version}}}} {{{{ env }}}} \"$SHIPGATE_VERSION\" >> {log}"
                ),
                promote: "true".into(),
                rollback: "true".into(),
                rollback_attempts: 1,
            };
            a.validate().expect("valid");
            std::fs::remove_file(dir.join("log")).ok();
            a.set_weight(&v, 5).expect("runs");
            let got = std::fs::read_to_string(dir.join("log")).expect("log");
            assert_eq!(
                got,
                format!("{value}|{value}|{value}|{value}\n"),
                "{value:?}"
            );
            assert!(!pwned.exists(), "{value:?} executed something");
        }
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn every_value_is_also_in_the_environment() {
        let (command, env) = command_for(
            "set-weight",
            "deploy {{version}} {{weight}} {{baseline_weight}}",
            &vars(),
            Some(25),
        );
        assert_eq!(command, "deploy '1.4.0' '25' '75'");
        let env: std::collections::BTreeMap<_, _> = env.into_iter().collect();
        assert_eq!(env["SHIPGATE_VERSION"], "1.4.0");
        assert_eq!(env["SHIPGATE_BASELINE_VERSION"], "1.3.2");
        assert_eq!(env["SHIPGATE_WEIGHT"], "25");
        assert_eq!(env["SHIPGATE_BASELINE_WEIGHT"], "75");
        assert_eq!(env["SHIPGATE_ENV"], "prod");
        assert_eq!(env["SHIPGATE_STEP"], "2");
        assert_eq!(env["SHIPGATE_ACTION"], "set-weight");
    }

    #[test]
    fn placeholders_inside_quotes_are_refused() {
        for bad in [
            "deploy '{{version}}'",
            "deploy \"{{version}}\"",
            "deploy \"v={{ version }}\"",
            "deploy \\{{version}}",
            "echo 'a' \"b {{env}}\"",
        ] {
            let err = check_unquoted(bad).expect_err(bad);
            assert!(err.to_string().contains("is inside quotes"), "{bad}: {err}");
        }
        for good in [
            "deploy {{version}}",
            "deploy app={{version}} -n shop-{{env}}",
            "echo 'quoted text' {{version}} \"more\" {{env}}",
            "echo \"it\\\"s\" {{version}}",
            "echo 'a\\' {{version}}",
        ] {
            assert_eq!(check_unquoted(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn unknown_placeholders_are_refused() {
        let a = CommandActuator {
            set_weight: "kubectl patch httproute app --type=json -p {{wieght}}".into(),
            promote: "true".into(),
            rollback: "true".into(),
            rollback_attempts: 3,
        };
        assert!(
            a.validate()
                .expect_err("invalid")
                .to_string()
                .contains("set-weight: unknown placeholder `{{wieght}}`")
        );
        let both = CommandActuator {
            set_weight: "route --stable {{baseline_weight}} --canary {{weight}}".into(),
            ..a
        };
        assert_eq!(both.validate(), Ok(()));
        let (command, _) = command_for("rollback", &both.set_weight, &vars(), Some(0));
        assert_eq!(command, "route --stable '100' --canary '0'");
    }
}
