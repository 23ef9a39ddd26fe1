//! `[canary.webhook]`: the URL the events are POSTed to, the timeout, the rollback's
//! attempts, the variable that holds the bearer token (its name, never its value). The
//! actuator that sends the events, and reads the token, is `shipgate-canary`'s `webhook`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use shipgate_judge::HumanDuration;

/// `[canary.webhook]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct WebhookActuator {
    /// Where the events are POSTed (http:// or https://).
    pub url: String,
    /// Per-request timeout (default 10s).
    #[serde(default = "default_timeout")]
    pub timeout: HumanDuration,
    /// Attempts for a rollback before giving up loudly (default 3).
    #[serde(default = "default_attempts")]
    pub rollback_attempts: u32,
    /// Name of the environment variable holding a bearer token, sent as
    /// `Authorization: Bearer …` with every event (the token never reaches recordings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token_env: Option<String>,
}

fn default_timeout() -> HumanDuration {
    HumanDuration(Duration::from_secs(10))
}
fn default_attempts() -> u32 {
    3
}

/// A `[canary.webhook]` that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookProblem {
    /// The URL is not http(s).
    #[error("url: `{url}` is not an http:// or https:// URL")]
    NotHttp {
        /// The URL as written.
        url: String,
    },
    /// `rollback-attempts = 0`.
    #[error("rollback-attempts: must be at least 1")]
    NoAttempts,
}

impl WebhookActuator {
    /// Checks the URL and the attempts.
    pub fn validate(&self) -> Result<(), WebhookProblem> {
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(WebhookProblem::NotHttp {
                url: self.url.clone(),
            });
        }
        if self.rollback_attempts == 0 {
            return Err(WebhookProblem::NoAttempts);
        }
        Ok(())
    }
}
