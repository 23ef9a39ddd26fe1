//! The one AWS session of the canary's edges: `aws-config`'s standard credential chain
//! (environment, shared profile, web identity as GitHub Actions' OIDC gives it, container
//! and instance metadata), the region, an endpoint override, HTTPS on rustls with ring, all
//! driven on a small current-thread tokio runtime so that the blocking runner can call the
//! async SDK. CloudWatch and the SigV4 signing of Amazon Managed Prometheus share it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;

/// Where and how the SDK talks to AWS; each field falls back to what the SDK reads itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsSettings {
    /// The region; `None`: `AWS_REGION`, then the shared profile.
    pub region: Option<String>,
    /// The endpoint; `None`: `AWS_ENDPOINT_URL` (or the service's own variable), then AWS.
    pub endpoint_url: Option<String>,
    /// The shared profile; `None`: `AWS_PROFILE`, then `default`.
    pub profile: Option<String>,
    /// Per-attempt timeout.
    pub timeout: Duration,
    /// Retries after a throttled, transient or timed-out call, with exponential backoff.
    pub retries: u32,
}

/// What stops a session from being set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AwsSetupError {
    /// No region in the settings, the environment or the profile.
    #[error("no AWS region: not in the configuration, AWS_REGION or the shared profile")]
    NoRegion,
    /// A region that is not one.
    #[error("`{0}` is not an AWS region (like eu-west-1)")]
    InvalidRegion(String),
    /// The runtime could not start.
    #[error("cannot start the AWS client's runtime: {0}")]
    Runtime(String),
}

impl AwsSetupError {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            AwsSetupError::NoRegion | AwsSetupError::InvalidRegion(_) => Some(
                "set region = \"eu-west-1\" in [canary.cloudwatch] (or export AWS_REGION)".into(),
            ),
            AwsSetupError::Runtime(_) => None,
        }
    }
}

pub use shipgate_canary_settings::aws::is_region;

/// A loaded AWS configuration and the runtime its futures run on.
#[derive(Clone)]
pub struct AwsSession {
    runtime: Arc<tokio::runtime::Runtime>,
    config: aws_config::SdkConfig,
    /// The last credentials the chain gave, reused until five minutes before they expire.
    cached: Arc<Mutex<Option<aws_credential_types::Credentials>>>,
}

impl std::fmt::Debug for AwsSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsSession")
            .field("region", &self.config.region())
            .finish_non_exhaustive()
    }
}

/// The HTTPS client of every AWS call: the smithy client on rustls with ring (no aws-lc),
/// the system's roots.
fn http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

impl AwsSession {
    /// Loads the configuration: region, endpoint and the standard credential chain.
    /// Credentials are only resolved (and cached) when a call needs them.
    pub fn load(settings: &AwsSettings) -> Result<Self, AwsSetupError> {
        if let Some(r) = settings.region.as_deref().filter(|r| !is_region(r)) {
            return Err(AwsSetupError::InvalidRegion(r.to_string()));
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| AwsSetupError::Runtime(e.to_string()))?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http_client())
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(settings.retries + 1)
                    .with_initial_backoff(Duration::from_millis(200))
                    .with_max_backoff(Duration::from_secs(5)),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_attempt_timeout(settings.timeout)
                    .connect_timeout(settings.timeout)
                    .build(),
            );
        if let Some(region) = &settings.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &settings.endpoint_url {
            loader = loader.endpoint_url(url.clone());
        }
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile.clone());
        }
        let config = runtime.block_on(loader.load());
        match config.region().map(|r| r.as_ref().to_string()) {
            None => return Err(AwsSetupError::NoRegion),
            Some(r) if !is_region(&r) => return Err(AwsSetupError::InvalidRegion(r)),
            Some(_) => {}
        }
        Ok(Self {
            runtime: Arc::new(runtime),
            config,
            cached: Arc::new(Mutex::new(None)),
        })
    }

    /// The loaded configuration.
    pub fn config(&self) -> &aws_config::SdkConfig {
        &self.config
    }

    /// The region the session uses.
    pub fn region(&self) -> String {
        self.config
            .region()
            .map(|r| r.as_ref().to_string())
            .unwrap_or_default()
    }

    /// Runs a future of the SDK to its end on this session's runtime.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// The chain's current credentials as a signing identity: asked of the chain once, then
    /// reused until five minutes before they expire.
    pub fn identity(
        &self,
    ) -> Result<aws_smithy_runtime_api::client::identity::Identity, CredentialsUnavailable> {
        let fresh = |c: &aws_credential_types::Credentials| {
            c.expiry()
                .is_none_or(|at| at > std::time::SystemTime::now() + Duration::from_secs(300))
        };
        if let Some(c) = self
            .cached
            .lock()
            .ok()
            .and_then(|c| c.clone())
            .filter(|c| fresh(c))
        {
            return Ok(c.into());
        }
        let provider: SharedCredentialsProvider = self
            .config
            .credentials_provider()
            .ok_or_else(|| CredentialsUnavailable("no credential provider is configured".into()))?;
        let credentials = self
            .block_on(provider.provide_credentials())
            .map_err(|e| CredentialsUnavailable(error_text(&e)))?;
        if let Ok(mut cached) = self.cached.lock() {
            *cached = Some(credentials.clone());
        }
        Ok(credentials.into())
    }
}

/// The credential chain found no usable credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no AWS credentials: {0}")]
pub struct CredentialsUnavailable(pub String);

/// What to do when the chain finds no credentials.
pub const CREDENTIALS_HINT: &str = "give credentials in one of the chain's places: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile (AWS_PROFILE), web identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN; in GitHub Actions aws-actions/configure-aws-credentials), or container/instance metadata";

/// The IAM actions shipgate's CloudWatch calls need (the hint of a denied call, in
/// [`crate::provider`], names them; [`crate::cloudwatch`] re-exports them).
pub const CLOUDWATCH_IAM_ACTIONS: &str = "cloudwatch:GetMetricData, cloudwatch:DescribeAlarms";

/// An error and its causes on one line (the SDK's errors say little at the top).
pub fn error_text(e: &(dyn std::error::Error + 'static)) -> String {
    crate::http::with_causes(e.to_string(), e.source())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_are_checked_before_anything_is_sent() {
        for ok in ["eu-west-1", "us-gov-west-1", "ap-southeast-4"] {
            assert!(is_region(ok), "{ok}");
        }
        for bad in [
            "",
            "EU-WEST-1",
            "eu west 1",
            "eu-west-1.evil.com",
            "1-west",
            "local",
        ] {
            assert!(!is_region(bad), "{bad}");
        }
        let err = AwsSession::load(&AwsSettings {
            region: Some("eu west 1".into()),
            timeout: Duration::from_secs(1),
            ..AwsSettings::default()
        })
        .expect_err("invalid");
        assert_eq!(err, AwsSetupError::InvalidRegion("eu west 1".into()));
        assert!(err.hint().is_some_and(|h| h.contains("region = ")));
    }
}
