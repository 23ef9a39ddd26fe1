//! The `command` actuator: a templated shell command per action (e.g. `kubectl patch` of an
//! Istio VirtualService's weights), run through `sh -c`. A failing rollback is retried and
//! then reported as an error, never swallowed.
//!
//! Values are data, never shell syntax: each `{{placeholder}}` of a `command` becomes one
//! shell-quoted word (`'1.4.0'`), and every value is also in the command's environment
//! (`SHIPGATE_VERSION`, `SHIPGATE_BASELINE_VERSION`, `SHIPGATE_WEIGHT`,
//! `SHIPGATE_BASELINE_WEIGHT`, `SHIPGATE_ENV`, `SHIPGATE_STEP`, `SHIPGATE_ACTION`). A
//! placeholder inside quotes is refused when the settings are validated: quoting a quoted
//! value would undo the quoting.

use std::process::Command;

use shipgate_judge::settings::render_with;

use crate::traffic::{ActuatorError, ActuatorVars, Traffic, failure_message, retrying};

pub use shipgate_canary_settings::command::{
    ACTUATOR_PLACEHOLDERS, CommandActuator, CommandProblem, check_unquoted,
};

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
pub(crate) fn command_for(
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

/// The command actuator with its template values.
pub struct CommandTraffic<'a> {
    /// The commands.
    pub actuator: &'a CommandActuator,
    /// The values for their placeholders.
    pub vars: ActuatorVars,
}

impl Traffic for CommandTraffic<'_> {
    fn confirm(&mut self, step: usize, _weight: u8) -> Result<(), String> {
        self.vars.step = step + 1;
        Ok(())
    }
    fn set_weight(&mut self, weight: u8) -> Result<(), ActuatorError> {
        self.actuator.set_weight(&self.vars, weight)
    }
    fn promote(&mut self) -> Result<(), ActuatorError> {
        self.actuator.promote(&self.vars)
    }
    fn rollback(&mut self) -> Result<(), ActuatorError> {
        self.actuator.rollback(&self.vars)
    }
}
