//! `[canary.prometheus]`: where the Prometheus HTTP API is (also Thanos, Mimir, Amazon
//! Managed Prometheus) and how requests to it are authenticated. The client is
//! `shipgate-canary`'s `provider`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use shipgate_judge::HumanDuration;

/// `[canary.prometheus]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PrometheusConfig {
    /// Base URL, e.g. `http://prometheus:9090` (the API is under `/api/v1`).
    pub url: String,
    /// Per-request timeout (default 10s).
    #[serde(default = "default_timeout")]
    pub timeout: HumanDuration,
    /// Retries after a transport error, a 5xx or a 429 (default 3), with backoff.
    #[serde(default = "default_retries")]
    pub retries: u32,
    /// Name of the environment variable holding a bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token_env: Option<String>,
    /// Basic auth user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth_user: Option<String>,
    /// Name of the environment variable holding the basic auth password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth_password_env: Option<String>,
    /// `sigv4 = { region = "eu-west-1" }`: sign every request with AWS Signature V4
    /// (Amazon Managed Prometheus), with the credentials of AWS's standard chain
    /// (environment, profile, web identity, container and instance metadata).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigv4: Option<SigV4Config>,
}

/// `[canary.prometheus] sigv4`: AWS Signature V4 request signing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SigV4Config {
    /// The workspace's region, e.g. `eu-west-1`.
    pub region: String,
    /// The signing service name (default `aps`, Amazon Managed Prometheus).
    #[serde(default = "default_service")]
    pub service: String,
    /// The shared profile to take credentials from (default: `AWS_PROFILE`, then
    /// `default`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
}

fn default_service() -> String {
    "aps".into()
}
fn default_timeout() -> HumanDuration {
    HumanDuration(Duration::from_secs(10))
}
fn default_retries() -> u32 {
    3
}
