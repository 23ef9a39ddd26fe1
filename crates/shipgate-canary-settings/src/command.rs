//! `[canary.command]`: the templated shell commands that set a weight, promote and roll
//! back, checked here (not empty, known placeholders, none inside quotes, where quoting a
//! quoted value would undo it). Running them is `shipgate-canary`'s `actuator`.

use serde::{Deserialize, Serialize};
use shipgate_judge::settings::{TemplateError, check_placeholders, placeholders};

/// `[canary.command]`: templated commands, run with `sh -c`. Placeholders: `{{weight}}`
/// (the canary's percent), `{{baseline_weight}}` (100 − weight), `{{version}}`,
/// `{{baseline_version}}`, `{{env}}`, `{{step}}`, each replaced by its shell-quoted value;
/// the same values are exported as `SHIPGATE_*` variables.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize, schemars::JsonSchema)]
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
pub const ACTUATOR_PLACEHOLDERS: [&str; 6] = [
    "weight",
    "baseline_weight",
    "version",
    "baseline_version",
    "env",
    "step",
];

impl CommandActuator {
    /// Checks the templates: not empty, known placeholders, none inside quotes.
    pub fn validate(&self) -> Result<(), CommandProblem> {
        for (key, t) in [
            ("set-weight", &self.set_weight),
            ("promote", &self.promote),
            ("rollback", &self.rollback),
        ] {
            if t.trim().is_empty() {
                return Err(CommandProblem::Empty { key });
            }
            check_placeholders(t, &ACTUATOR_PLACEHOLDERS)
                .and_then(|()| check_unquoted(t))
                .map_err(|error| CommandProblem::Template { key, error })?;
        }
        Ok(())
    }
}

/// A `[canary.command]` template that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandProblem {
    /// A command is empty.
    #[error("{key} is empty")]
    Empty {
        /// `set-weight`, `promote` or `rollback`.
        key: &'static str,
    },
    /// A command's placeholders are wrong.
    #[error("{key}: {error}")]
    Template {
        /// `set-weight`, `promote` or `rollback`.
        key: &'static str,
        /// What is wrong.
        error: TemplateError,
    },
}

/// Refuses a placeholder inside single or double quotes (or after a backslash): its
/// shell-quoted value would be pasted into the quoted text, where its own quotes lose their
/// meaning. The scan follows `sh`'s quoting: `'…'` ends only at `'`; in `"…"` and outside,
/// a backslash escapes the next character.
pub fn check_unquoted(template: &str) -> Result<(), TemplateError> {
    #[derive(PartialEq)]
    enum State {
        Bare,
        Single,
        Double,
    }
    let spans = placeholders(template)?;
    let mut state = State::Bare;
    let mut escaped = false;
    let mut next = spans.iter().peekable();
    for (i, c) in template.char_indices() {
        if let Some(p) = next.peek()
            && i == p.span.start
        {
            if state != State::Bare || escaped {
                return Err(TemplateError::Quoted {
                    name: p.name.to_string(),
                });
            }
            next.next();
        }
        if escaped {
            escaped = false;
            continue;
        }
        match (&state, c) {
            (State::Single, '\'') => state = State::Bare,
            (State::Single, _) => {}
            (_, '\\') => escaped = true,
            (State::Bare, '\'') => state = State::Single,
            (State::Bare, '"') => state = State::Double,
            (State::Double, '"') => state = State::Bare,
            _ => {}
        }
    }
    Ok(())
}
