//! Actuators: how traffic moves and how a rollback happens. [`Actuator::from_settings`] is
//! the one place that picks the actuator `[canary]` configures: `command`
//! ([`crate::command`]: a templated shell command per action, e.g. `kubectl patch` of an
//! Istio VirtualService's weights), `webhook` ([`crate::webhook`]), `argo-rollouts`
//! ([`crate::argo_rollouts`]: a Rollout driven step by step with the plugin's `promote` and
//! `abort`) or `alb` ([`crate::alb`]: an AWS load balancer's weighted target groups). What
//! they share (the [`Traffic`] port, [`ActuatorVars`], [`ActuatorError`], [`SetupError`])
//! is in [`crate::traffic`], below them all; this module sits on top of them.

use crate::alb::AlbTraffic;
use crate::argo_rollouts::ArgoRolloutsTraffic;
use crate::run_error::RunError;
use crate::webhook::WebhookTraffic;

pub use crate::command::{
    ACTUATOR_PLACEHOLDERS, CommandActions, CommandActuator, CommandProblem, CommandTraffic,
    check_unquoted,
};
use crate::traffic::Traffic;
pub use crate::traffic::{ActuatorError, ActuatorVars, SetupError};

/// The actuator `[canary]` configures, ready to move traffic: the runner's `Traffic`.
pub enum Actuator<'a> {
    /// `[canary.command]`.
    Command(CommandTraffic<'a>),
    /// `[canary.webhook]`.
    Webhook(WebhookTraffic<'a>),
    /// `[canary.argo-rollouts]`.
    ArgoRollouts(ArgoRolloutsTraffic),
    /// `[canary.alb]`.
    Alb(Box<AlbTraffic>),
}

impl<'a> Actuator<'a> {
    /// The one place that picks how traffic moves: the actuator `settings` configure (an
    /// error when none or several are), with `vars` for its values; `env` reads
    /// environment variables (the webhook's token). Nothing is sent or run here.
    pub fn from_settings(
        settings: &'a crate::CanarySettings,
        vars: ActuatorVars,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, RunError> {
        let configured = settings.actuators();
        if configured.len() > 1 {
            return Err(RunError::SeveralActuators(configured));
        }
        let steps = settings.gates.rollout.steps.as_slice();
        if let Some(actuator) = &settings.command {
            return Ok(Actuator::Command(CommandTraffic { actuator, vars }));
        }
        if let Some(webhook) = &settings.webhook {
            let authorization = crate::webhook::authorization(webhook, env)?;
            return WebhookTraffic::new(webhook, vars, steps.len(), authorization)
                .map(Actuator::Webhook)
                .map_err(RunError::Client);
        }
        if let Some(argo) = &settings.argo_rollouts {
            let weights: Vec<u8> = steps.iter().map(|s| s.weight).collect();
            return ArgoRolloutsTraffic::new(argo, &vars, &weights)
                .map(Actuator::ArgoRollouts)
                .map_err(|e| RunError::ActuatorSetup(SetupError::ArgoRollouts(e)));
        }
        if let Some(alb) = &settings.alb {
            return AlbTraffic::new(alb)
                .map(|t| Actuator::Alb(Box::new(t)))
                .map_err(|e| RunError::ActuatorSetup(SetupError::Alb(e)));
        }
        Err(RunError::NoActuator)
    }

    fn traffic(&mut self) -> &mut dyn Traffic {
        match self {
            Actuator::Command(t) => t,
            Actuator::Webhook(t) => t,
            Actuator::ArgoRollouts(t) => t,
            Actuator::Alb(t) => t.as_mut(),
        }
    }
}

impl Traffic for Actuator<'_> {
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
    use crate::command::command_for;

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
