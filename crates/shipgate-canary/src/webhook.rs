//! The `webhook` actuator (Flagger-style): every action is an HTTP POST of a JSON event to
//! one URL. A `confirm` event goes out before each step (and before the promotion); any
//! answer but 2xx halts the rollout (a pause). `set-weight` and `promote` must be answered
//! with 2xx; a `rollback` is retried and then reported as an error, never swallowed.
//!
//! The event:
//!
//! ```json
//! {"event": "set-weight", "env": "prod", "version": "1.4.0", "baseline_version": "1.3.2",
//!  "weight": 25, "step": 2, "steps": 4}
//! ```
//!
//! `event` is `confirm`, `set-weight`, `promote` (weight 100) or `rollback` (weight 0);
//! `step` is 1-based (absent on `rollback`).

use std::time::Duration;

use serde::Serialize;

use crate::traffic::{ActuatorError, ActuatorVars, Traffic};

pub use shipgate_canary_settings::webhook::{WebhookActuator, WebhookProblem};

/// `bearer-token-env` names a variable that is not set (or is empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "[canary.webhook] bearer-token-env names `{name}`, which is not set or empty; no traffic was moved"
)]
pub struct MissingToken {
    /// The variable.
    pub name: String,
}

impl MissingToken {
    /// What to do about it.
    pub fn hint(&self) -> String {
        let name = &self.name;
        format!("export {name} (in GitHub Actions: env: {name}: ${{{{ secrets.{name} }}}})")
    }
}

/// One event, as POSTed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event<'a> {
    /// `confirm`, `set-weight`, `promote` or `rollback`.
    pub event: &'static str,
    /// The environment.
    pub env: &'a str,
    /// The canary's version.
    pub version: &'a str,
    /// The baseline's version.
    pub baseline_version: &'a str,
    /// The canary's share of traffic the action is about, in percent.
    pub weight: u8,
    /// The step (1-based) the action is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    /// The number of steps.
    pub steps: usize,
}

/// The `Authorization` header value from `webhook`'s `bearer-token-env`, read through
/// `env`; an error when the variable is named but not set (before any traffic moves).
pub fn authorization(
    webhook: &WebhookActuator,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>, MissingToken> {
    let Some(name) = &webhook.bearer_token_env else {
        return Ok(None);
    };
    match env(name) {
        Some(token) if !token.trim().is_empty() => Ok(Some(format!("Bearer {}", token.trim()))),
        _ => Err(MissingToken { name: name.clone() }),
    }
}

impl WebhookTraffic<'_> {
    /// POSTs `event` up to `attempts` times until a 2xx answer.
    fn post(&self, event: &Event<'_>, attempts: u32) -> Result<(), ActuatorError> {
        let (client, authorization) = (&self.client, self.authorization.as_deref());
        let body = serde_json::to_string(event).unwrap_or_default();
        let mut message = String::new();
        for attempt in 1..=attempts {
            let mut request = client
                .post(&self.webhook.url)
                .header("Content-Type", "application/json")
                .body(body.clone());
            if let Some(value) = authorization {
                request = request.header("Authorization", value);
            }
            match request.send() {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    if (200..300).contains(&status) {
                        return Ok(());
                    }
                    let text = resp.text().unwrap_or_default();
                    let text: String = text.trim().chars().take(200).collect();
                    message = if text.is_empty() {
                        format!("HTTP {status}")
                    } else {
                        format!("HTTP {status}: {text}")
                    };
                }
                Err(e) => message = crate::http::describe(&e),
            }
            if attempt < attempts {
                std::thread::sleep(Duration::from_millis(200 * u64::from(attempt)));
            }
        }
        Err(ActuatorError {
            action: event.event,
            command: format!("POST {}", self.webhook.url),
            attempts,
            message,
        })
    }
}

/// The webhook actuator with its event values, as the runner's `Traffic`.
pub struct WebhookTraffic<'a> {
    webhook: &'a WebhookActuator,
    client: reqwest::blocking::Client,
    vars: ActuatorVars,
    steps: usize,
    /// The current step (1-based), set by `confirm`.
    step: usize,
    authorization: Option<String>,
}

impl<'a> WebhookTraffic<'a> {
    /// The webhook's traffic for a rollout of `steps` steps with `vars`; `authorization`
    /// is [`authorization`]'s answer.
    pub fn new(
        webhook: &'a WebhookActuator,
        vars: ActuatorVars,
        steps: usize,
        authorization: Option<String>,
    ) -> Result<Self, crate::http::ClientSetupError> {
        Ok(Self {
            client: crate::http::client(webhook.timeout.0)?,
            webhook,
            vars,
            steps,
            step: 0,
            authorization,
        })
    }

    fn event(&self, event: &'static str, weight: u8, step: Option<usize>) -> Event<'_> {
        Event {
            event,
            env: &self.vars.env,
            version: &self.vars.version,
            baseline_version: &self.vars.baseline_version,
            weight,
            step,
            steps: self.steps,
        }
    }
}

impl Traffic for WebhookTraffic<'_> {
    fn confirm(&mut self, step: usize, weight: u8) -> Result<(), String> {
        self.step = step + 1;
        self.post(&self.event("confirm", weight, Some(self.step)), 1)
            .map_err(|e| {
                format!(
                    "the webhook did not confirm step {} (weight {weight}%): {}",
                    self.step, e.message
                )
            })
    }
    fn set_weight(&mut self, weight: u8) -> Result<(), ActuatorError> {
        self.post(&self.event("set-weight", weight, Some(self.step)), 1)
    }
    fn promote(&mut self) -> Result<(), ActuatorError> {
        self.post(&self.event("promote", 100, Some(self.step)), 1)
    }
    fn rollback(&mut self) -> Result<(), ActuatorError> {
        self.post(
            &self.event("rollback", 0, None),
            self.webhook.rollback_attempts.max(1),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shipgate_judge::HumanDuration;
    use std::time::Duration;

    #[test]
    fn events_serialize_flat() {
        let e = Event {
            event: "set-weight",
            env: "prod",
            version: "1.4.0",
            baseline_version: "1.3.2",
            weight: 25,
            step: Some(2),
            steps: 4,
        };
        assert_eq!(
            serde_json::to_string(&e).expect("json"),
            r#"{"event":"set-weight","env":"prod","version":"1.4.0","baseline_version":"1.3.2","weight":25,"step":2,"steps":4}"#
        );
    }

    #[test]
    fn the_token_comes_from_the_named_variable_and_must_be_set() {
        let w = WebhookActuator {
            url: "https://hooks.example.com/canary".into(),
            timeout: HumanDuration(Duration::from_secs(10)),
            rollback_attempts: 3,
            bearer_token_env: Some("HOOK_TOKEN".into()),
        };
        let set = |name: &str| (name == "HOOK_TOKEN").then(|| "s3cret\n".to_string());
        assert_eq!(authorization(&w, &set), Ok(Some("Bearer s3cret".into())));
        let err = authorization(&w, &|_| None).expect_err("unset");
        assert!(
            err.to_string().contains("`HOOK_TOKEN`, which is not set"),
            "{err}"
        );
        assert!(
            err.hint().starts_with("export HOOK_TOKEN"),
            "{}",
            err.hint()
        );
        let none = WebhookActuator {
            bearer_token_env: None,
            ..w
        };
        assert_eq!(authorization(&none, &|_| None), Ok(None));
    }

    #[test]
    fn the_url_is_checked() {
        let w = WebhookActuator {
            url: "hooks.example.com".into(),
            timeout: HumanDuration(Duration::from_secs(10)),
            rollback_attempts: 3,
            bearer_token_env: None,
        };
        assert!(
            w.validate()
                .expect_err("bad")
                .to_string()
                .contains("not an http://")
        );
        let w = WebhookActuator {
            url: "https://hooks.example.com/canary".into(),
            ..w
        };
        assert_eq!(w.validate(), Ok(()));
    }

    #[test]
    fn an_unreachable_rollback_is_retried_then_reported() {
        let w = WebhookActuator {
            url: "http://127.0.0.1:9/hook".into(),
            timeout: HumanDuration(Duration::from_secs(2)),
            rollback_attempts: 2,
            bearer_token_env: None,
        };
        let mut t = WebhookTraffic::new(&w, ActuatorVars::default(), 3, None).expect("client");
        let err = crate::runner::Traffic::rollback(&mut t).expect_err("unreachable");
        assert_eq!((err.action, err.attempts), ("rollback", 2));
        assert_eq!(err.command, "POST http://127.0.0.1:9/hook");
    }
}
