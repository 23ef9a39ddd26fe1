//! The Prometheus provider: the HTTP API's instant and range queries (also served by
//! Thanos, Mimir and Amazon Managed Prometheus), bearer, basic or SigV4 auth, timeouts, retries
//! with backoff, and the shapes the judge needs (one value, or a histogram by `le`). The
//! only code in shipgate that talks to a metrics backend.

use std::time::Duration;

use serde::Deserialize;

use shipgate_judge::{Histogram, Num};

pub use shipgate_canary_settings::prometheus::{PrometheusConfig, SigV4Config};

/// Where a SigV4 client's credentials come from.
#[derive(Clone)]
enum Credentials {
    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (the chain's first link, read
    /// through the caller's `env`).
    Fixed(aws_smithy_runtime_api::client::identity::Identity),
    /// The rest of the standard chain (profile, web identity, container, instance), asked
    /// before each request (it caches them until they near expiry).
    Chain(Box<crate::aws::AwsSession>),
}

/// The signing key material of a SigV4 client.
#[derive(Clone)]
struct SigV4 {
    config: SigV4Config,
    credentials: Credentials,
}

impl SigV4 {
    /// The headers that sign a GET of `url` now with SigV4 (`x-amz-date`, the session
    /// token, `authorization`).
    fn headers(&self, url: &str) -> Result<Vec<(String, String)>, ProviderError> {
        let identity = match &self.credentials {
            Credentials::Fixed(identity) => identity.clone(),
            Credentials::Chain(session) => {
                session
                    .identity()
                    .map_err(|e| ProviderError::AwsCredentials {
                        message: e.0.clone(),
                    })?
            }
        };
        use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
        let failed = |e: &dyn std::fmt::Display| ProviderError::Sign {
            url: url.to_string(),
            message: e.to_string(),
        };
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.config.region)
            .name(&self.config.service)
            .time(std::time::SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| failed(&e))?
            .into();
        let request =
            SignableRequest::new("GET", url, std::iter::empty(), SignableBody::Bytes(&[]))
                .map_err(|e| failed(&e))?;
        let (instructions, _) = sign(request, &params).map_err(|e| failed(&e))?.into_parts();
        Ok(instructions
            .headers()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }
}

impl std::fmt::Debug for SigV4 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigV4")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What went wrong talking to Prometheus.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// No answer after the retries (connection refused, timeout, 5xx).
    #[error("Prometheus at {url} is unreachable after {attempts} attempt(s): {message}")]
    Unreachable {
        /// The base URL.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last error.
        message: String,
    },
    /// Prometheus refused the query (a PromQL error, a bad parameter).
    #[error("Prometheus rejected the query `{query}`: {message}")]
    Query {
        /// The query.
        query: String,
        /// Prometheus's message.
        message: String,
    },
    /// The answer does not have the expected shape (several series where one is expected…).
    #[error("unexpected answer to `{query}`: {message}")]
    Shape {
        /// The query.
        query: String,
        /// What is wrong.
        message: String,
    },
    /// A credential's environment variable is not set.
    #[error("environment variable {name} is not set")]
    MissingVariable {
        /// The variable `[canary.prometheus]` names.
        name: String,
    },
    /// SigV4 together with a bearer token or basic auth.
    #[error(
        "[canary.prometheus] sets sigv4 and a bearer token or basic auth; Amazon Managed Prometheus takes SigV4 only"
    )]
    SigV4WithOtherAuth,
    /// A request could not be signed.
    #[error("cannot sign the request to {url} with SigV4: {message}")]
    Sign {
        /// The request's URL.
        url: String,
        /// Why.
        message: String,
    },
    /// The HTTP client could not be set up (TLS).
    #[error(transparent)]
    Client(#[from] crate::http::ClientSetupError),
    /// AWS refused a call (a CloudWatch query with a bad statistic, a bad expression…).
    #[error("CloudWatch rejected {what}: {code}: {message}")]
    Aws {
        /// The query or the alarms asked about.
        what: String,
        /// AWS's error code.
        code: String,
        /// AWS's message.
        message: String,
    },
    /// The credentials may not make the call.
    #[error("CloudWatch denied {action} for {what}: {message}")]
    AccessDenied {
        /// The IAM action refused.
        action: String,
        /// The query or the alarms asked about.
        what: String,
        /// AWS's code and message.
        message: String,
    },
    /// Still throttled after the retries.
    #[error("CloudWatch throttled {what} after {attempts} attempt(s): {message}")]
    Throttled {
        /// The query or the alarms asked about.
        what: String,
        /// Attempts made.
        attempts: u32,
        /// AWS's code and message.
        message: String,
    },
    /// No answer from an AWS endpoint after the retries (connection refused, timeout, 5xx).
    #[error("CloudWatch at {endpoint} is unreachable after {attempts} attempt(s): {message}")]
    AwsUnreachable {
        /// The endpoint.
        endpoint: String,
        /// Attempts made.
        attempts: u32,
        /// The last error.
        message: String,
    },
    /// The credential chain gave nothing usable.
    #[error("no usable AWS credentials: {message}")]
    AwsCredentials {
        /// What the chain or AWS said.
        message: String,
    },
    /// The AWS session could not be set up (region, runtime).
    #[error(transparent)]
    AwsSetup(crate::aws::AwsSetupError),
    /// Alarms named in the configuration that CloudWatch does not have.
    #[error("no such CloudWatch alarm: {what}")]
    NoSuchAlarm {
        /// The names (or the prefix) not found.
        what: String,
    },
}

impl ProviderError {
    /// What to do about it, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            ProviderError::Query { .. } | ProviderError::Shape { .. } => {
                "fix the query in [canary.metrics]".into()
            }
            ProviderError::Unreachable { .. } => {
                "check the url in [canary.prometheus] and that Prometheus is running".into()
            }
            ProviderError::MissingVariable { name } => {
                format!("export {name} (in GitHub Actions: env: {name}: ${{{{ secrets.{name} }}}})")
            }
            ProviderError::SigV4WithOtherAuth => "keep one of them".into(),
            ProviderError::Aws { .. } => {
                "fix the query in [canary.cloudwatch.queries] (namespace, metric-name, dimensions, stat or expression)".into()
            }
            ProviderError::AccessDenied { .. } => format!(
                "grant the role or user these IAM actions: {}",
                crate::aws::CLOUDWATCH_IAM_ACTIONS
            ),
            ProviderError::Throttled { .. } => {
                "CloudWatch's API limit was hit; raise retries in [canary.cloudwatch], lengthen the interval, or ask AWS for a higher GetMetricData quota".into()
            }
            ProviderError::AwsCredentials { .. } => crate::aws::CREDENTIALS_HINT.into(),
            ProviderError::AwsUnreachable { .. } => {
                "check region and endpoint-url in [canary.cloudwatch] (or AWS_ENDPOINT_URL) and the network path to CloudWatch".into()
            }
            ProviderError::AwsSetup(e) => return e.hint(),
            ProviderError::NoSuchAlarm { .. } => {
                "check the names in the alarms gate against `aws cloudwatch describe-alarms` (region and account included)".into()
            }
            ProviderError::Sign { .. } | ProviderError::Client(_) => return None,
        })
    }
}

/// A Prometheus HTTP API client.
#[derive(Debug, Clone)]
pub struct Prometheus {
    base: String,
    client: reqwest::blocking::Client,
    authorization: Option<String>,
    sigv4: Option<SigV4>,
    retries: u32,
}

/// One series of an instant vector: its labels and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Labels.
    pub labels: std::collections::BTreeMap<String, String>,
    /// Value (may be NaN or ±Inf).
    pub value: f64,
}

/// One series of a range query: its labels and `(time, value)` points, times in Unix
/// seconds, ascending.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Labels.
    pub labels: std::collections::BTreeMap<String, String>,
    /// `(time, value)` points; values may be NaN or ±Inf.
    pub points: Vec<(f64, f64)>,
}

#[derive(Deserialize)]
struct ApiResponse {
    status: String,
    #[serde(default)]
    data: Option<ApiData>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct ApiData {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct VectorItem {
    metric: std::collections::BTreeMap<String, String>,
    value: (f64, String),
}

fn base64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn parse_value(s: &str) -> f64 {
    match s {
        "NaN" => f64::NAN,
        "+Inf" | "Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other.parse().unwrap_or(f64::NAN),
    }
}

impl Prometheus {
    /// A client for `config`; `env` reads credentials' environment variables.
    pub fn new(
        config: &PrometheusConfig,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ProviderError> {
        let read = |name: &String| {
            env(name).ok_or_else(|| ProviderError::MissingVariable { name: name.clone() })
        };
        let authorization = match (&config.bearer_token_env, &config.basic_auth_user) {
            (Some(var), _) => Some(format!("Bearer {}", read(var)?)),
            (None, Some(user)) => {
                let password = config
                    .basic_auth_password_env
                    .as_ref()
                    .map(read)
                    .transpose()?
                    .unwrap_or_default();
                Some(format!(
                    "Basic {}",
                    base64(format!("{user}:{password}").as_bytes())
                ))
            }
            (None, None) => None,
        };
        let sigv4 = match &config.sigv4 {
            None => None,
            Some(_) if authorization.is_some() => {
                return Err(ProviderError::SigV4WithOtherAuth);
            }
            Some(sigv4) => {
                let credentials = match (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
                    (Some(key), Some(secret)) => Credentials::Fixed(
                        aws_credential_types::Credentials::new(
                            key,
                            secret,
                            env("AWS_SESSION_TOKEN").filter(|t| !t.is_empty()),
                            None,
                            "environment",
                        )
                        .into(),
                    ),
                    _ => Credentials::Chain(Box::new(
                        crate::aws::AwsSession::load(&crate::aws::AwsSettings {
                            region: Some(sigv4.region.clone()),
                            endpoint_url: None,
                            profile: sigv4.profile.clone(),
                            timeout: config.timeout.0,
                            retries: config.retries,
                        })
                        .map_err(ProviderError::AwsSetup)?,
                    )),
                };
                Some(SigV4 {
                    config: sigv4.clone(),
                    credentials,
                })
            }
        };
        let client = crate::http::client(config.timeout.0).map_err(ProviderError::Client)?;
        Ok(Self {
            base: config.url.trim_end_matches('/').to_string(),
            client,
            authorization,
            sigv4,
            retries: config.retries,
        })
    }

    fn get(
        &self,
        path: &str,
        params: &[(&str, String)],
        query: &str,
    ) -> Result<ApiData, ProviderError> {
        // The query string is encoded here (RFC 3986), so that what is signed is what is sent.
        const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'_')
            .remove(b'.')
            .remove(b'~');
        let encoded: Vec<String> = params
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k}={}",
                    percent_encoding::utf8_percent_encode(v, COMPONENT)
                )
            })
            .collect();
        let url = format!("{}/api/v1/{path}?{}", self.base, encoded.join("&"));
        let attempts = self.retries + 1;
        let mut last = String::new();
        for attempt in 1..=attempts {
            if attempt > 1 {
                std::thread::sleep(Duration::from_millis(250 * (1 << (attempt - 2).min(4))));
            }
            let mut req = self.client.get(&url);
            if let Some(auth) = &self.authorization {
                req = req.header("Authorization", auth);
            }
            if let Some(sigv4) = &self.sigv4 {
                for (name, value) in sigv4.headers(&url)? {
                    req = req.header(name, value);
                }
            }
            let resp = match req.send() {
                Ok(r) => r,
                Err(e) => {
                    last = crate::http::describe(&e);
                    continue;
                }
            };
            let status = resp.status().as_u16();
            let body = resp.text().unwrap_or_default();
            if status >= 500 || status == 429 {
                last = format!("HTTP {status}");
                continue;
            }
            let parsed: ApiResponse =
                serde_json::from_str(&body).map_err(|e| ProviderError::Shape {
                    query: query.into(),
                    message: format!("HTTP {status}, not a Prometheus API answer: {e}"),
                })?;
            if parsed.status != "success" {
                let kind = parsed.error_type.unwrap_or_else(|| "error".into());
                return Err(ProviderError::Query {
                    query: query.into(),
                    message: format!("{kind}: {}", parsed.error.unwrap_or_default()),
                });
            }
            return parsed.data.ok_or_else(|| ProviderError::Shape {
                query: query.into(),
                message: "no data".into(),
            });
        }
        Err(ProviderError::Unreachable {
            url: self.base.clone(),
            attempts,
            message: last,
        })
    }

    /// An instant query at `time` (Unix seconds; None = now).
    pub fn instant(&self, query: &str, time: Option<f64>) -> Result<Vec<Sample>, ProviderError> {
        let mut params = vec![("query", query.to_string())];
        if let Some(t) = time {
            params.push(("time", format!("{t:.3}")));
        }
        let data = self.get("query", &params, query)?;
        let shape = |message: String| ProviderError::Shape {
            query: query.into(),
            message,
        };
        match data.result_type.as_str() {
            "vector" => {
                let items: Vec<VectorItem> =
                    serde_json::from_value(data.result).map_err(|e| shape(e.to_string()))?;
                Ok(items
                    .into_iter()
                    .map(|i| Sample {
                        labels: i.metric,
                        value: parse_value(&i.value.1),
                    })
                    .collect())
            }
            "scalar" => {
                let (_, v): (f64, String) =
                    serde_json::from_value(data.result).map_err(|e| shape(e.to_string()))?;
                Ok(vec![Sample {
                    labels: Default::default(),
                    value: parse_value(&v),
                }])
            }
            other => Err(shape(format!(
                "a {other} result, expected an instant vector"
            ))),
        }
    }

    /// A range query evaluated at `start`, `start + step`, ... up to `end` (Unix seconds):
    /// each series with its points. Prometheus answers at most 11,000 points per series.
    pub fn range(
        &self,
        query: &str,
        start: f64,
        end: f64,
        step: Duration,
    ) -> Result<Vec<Series>, ProviderError> {
        let params = [
            ("query", query.to_string()),
            ("start", format!("{start:.3}")),
            ("end", format!("{end:.3}")),
            ("step", format!("{}", step.as_secs_f64())),
        ];
        let data = self.get("query_range", &params, query)?;
        let shape = |message: String| ProviderError::Shape {
            query: query.into(),
            message,
        };
        if data.result_type != "matrix" {
            return Err(shape(format!(
                "a {} result, expected a range vector (matrix)",
                data.result_type
            )));
        }
        #[derive(Deserialize)]
        struct MatrixItem {
            metric: std::collections::BTreeMap<String, String>,
            values: Vec<(f64, String)>,
        }
        let items: Vec<MatrixItem> =
            serde_json::from_value(data.result).map_err(|e| shape(e.to_string()))?;
        Ok(items
            .into_iter()
            .map(|i| Series {
                labels: i.metric,
                points: i
                    .values
                    .into_iter()
                    .map(|(t, v)| (t, parse_value(&v)))
                    .collect(),
            })
            .collect())
    }

    /// Checks a query before any traffic moves: Prometheus parses and runs it once.
    pub fn check(&self, query: &str) -> Result<(), ProviderError> {
        self.instant(query, None).map(|_| ())
    }

    /// One value: None when the query returns nothing; an error for several series.
    pub fn value(&self, query: &str) -> Result<Option<f64>, ProviderError> {
        one_value(query, &self.instant(query, None)?)
    }

    /// A histogram from series labelled `le`: None when the query returns nothing.
    pub fn histogram(&self, query: &str) -> Result<Option<Histogram>, ProviderError> {
        histogram_of(query, &self.instant(query, None)?)
    }
}

/// The one value of an instant vector (`query`'s answer at one time): None when it is
/// empty, an error for several series. Shared by live queries and captured ranges.
pub(crate) fn one_value(query: &str, samples: &[Sample]) -> Result<Option<f64>, ProviderError> {
    match samples {
        [] => Ok(None),
        [one] => Ok(Some(one.value)),
        many => Err(ProviderError::Shape {
            query: query.into(),
            message: format!(
                "{} series where one is expected; aggregate it, e.g. sum(...)",
                many.len()
            ),
        }),
    }
}

/// A histogram from an instant vector's series labelled `le` (`query`'s answer at one
/// time): None when it is empty. Shared by live queries and captured ranges.
pub(crate) fn histogram_of(
    query: &str,
    samples: &[Sample],
) -> Result<Option<Histogram>, ProviderError> {
    if samples.is_empty() {
        return Ok(None);
    }
    let mut buckets = Vec::with_capacity(samples.len());
    for s in samples {
        let le = s.labels.get("le").ok_or_else(|| ProviderError::Shape {
            query: query.into(),
            message: "a series without an `le` label; use sum by (le) (...)".into(),
        })?;
        buckets.push((parse_value(le), s.value));
    }
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    if buckets.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(ProviderError::Shape {
            query: query.into(),
            message: "several series share an `le`; aggregate with sum by (le) (...)".into(),
        });
    }
    Ok(Some(Histogram {
        buckets: buckets.into_iter().map(|(l, c)| (Num(l), Num(c))).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shipgate_judge::HumanDuration;
    use std::time::Duration;

    #[test]
    fn basic_auth_is_base64() {
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
    }

    #[test]
    fn credentials_come_from_the_environment() {
        let config = PrometheusConfig {
            url: "http://127.0.0.1:9".into(),
            timeout: HumanDuration(Duration::from_secs(10)),
            retries: 0,
            bearer_token_env: Some("PROM_TOKEN".into()),
            basic_auth_user: None,
            basic_auth_password_env: None,
            sigv4: None,
        };
        let err = Prometheus::new(&config, |_| None).expect_err("unset");
        assert_eq!(
            err.to_string(),
            "environment variable PROM_TOKEN is not set"
        );
        let p = Prometheus::new(&config, |_| Some("s3cret".into())).expect("set");
        assert_eq!(p.authorization.as_deref(), Some("Bearer s3cret"));
    }

    #[test]
    fn an_unreachable_url_is_reported_after_the_retries() {
        // Port 9 (discard) on loopback: nothing listens there.
        let config = PrometheusConfig {
            url: "http://127.0.0.1:9/".into(),
            timeout: HumanDuration(Duration::from_secs(2)),
            retries: 1,
            bearer_token_env: None,
            basic_auth_user: None,
            basic_auth_password_env: None,
            sigv4: None,
        };
        let p = Prometheus::new(&config, |_| None).expect("client");
        let err = p.value("up").expect_err("unreachable");
        assert!(
            matches!(&err, ProviderError::Unreachable { attempts: 2, url, .. } if url == "http://127.0.0.1:9"),
            "{err}"
        );
    }

    /// A received request: its request line and headers (lower-case names).
    type Received = (String, Vec<(String, String)>);

    /// A one-request server answering an empty vector; returns its URL and, once the request
    /// came, what was received.
    fn capture_one() -> (String, std::sync::mpsc::Receiver<Received>) {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            let mut headers = Vec::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = line.trim_end().split_once(':') {
                    headers.push((k.to_ascii_lowercase(), v.trim().to_string()));
                }
            }
            let body = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = tx.send((request_line.trim_end().to_string(), headers));
        });
        (url, rx)
    }

    fn sigv4_config(url: &str) -> PrometheusConfig {
        PrometheusConfig {
            url: url.into(),
            timeout: HumanDuration(Duration::from_secs(5)),
            retries: 0,
            bearer_token_env: None,
            basic_auth_user: None,
            basic_auth_password_env: None,
            sigv4: Some(SigV4Config {
                region: "eu-west-1".into(),
                service: "aps".into(),
                profile: None,
            }),
        }
    }

    fn aws_env(name: &str) -> Option<String> {
        match name {
            "AWS_ACCESS_KEY_ID" => Some("AKIDEXAMPLE".into()),
            "AWS_SECRET_ACCESS_KEY" => Some("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into()),
            "AWS_SESSION_TOKEN" => Some("session-token".into()),
            _ => None,
        }
    }

    #[test]
    fn sigv4_signs_exactly_what_is_sent() {
        let (url, rx) = capture_one();
        let p = Prometheus::new(&sigv4_config(&url), aws_env).expect("client");
        let query = r#"sum(increase(http_requests_total{version="1.4.0",status=~"5.."}[30s]))"#;
        assert_eq!(p.value(query).expect("answer"), None);
        let (line, headers) = rx.recv().expect("a request");
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let authorization = header("authorization");
        let date = header("x-amz-date");
        assert_eq!(header("x-amz-security-token"), "session-token");
        assert!(
            authorization.starts_with(&format!(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{}/eu-west-1/aps/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=",
                &date[..8]
            )),
            "{authorization}"
        );
        // Recompute the signature from the request as received: path, query and host as
        // they arrived, at the time in x-amz-date.
        let path = line
            .strip_prefix("GET ")
            .and_then(|l| l.strip_suffix(" HTTP/1.1"))
            .expect("a GET");
        assert!(
            path.starts_with("/api/v1/query?query=sum%28increase"),
            "{path}"
        );
        let at = time::PrimitiveDateTime::parse(
            &date,
            time::macros::format_description!("[year][month][day]T[hour][minute][second]Z"),
        )
        .expect("x-amz-date")
        .assume_utc();
        let identity = aws_credential_types::Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            Some("session-token".into()),
            None,
            "test",
        )
        .into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("eu-west-1")
            .name("aps")
            .time(std::time::SystemTime::from(at))
            .settings(aws_sigv4::http_request::SigningSettings::default())
            .build()
            .expect("params")
            .into();
        let received = format!("http://{}{path}", header("host"));
        let request = aws_sigv4::http_request::SignableRequest::new(
            "GET",
            received,
            std::iter::empty(),
            aws_sigv4::http_request::SignableBody::Bytes(&[]),
        )
        .expect("signable");
        let (instructions, _) = aws_sigv4::http_request::sign(request, &params)
            .expect("signed")
            .into_parts();
        let expected = instructions
            .headers()
            .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
            .map(|(_, v)| v.to_string());
        assert_eq!(Some(authorization), expected);
    }

    #[test]
    fn sigv4_takes_the_chain_and_no_other_auth() {
        let config = sigv4_config("https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1");
        // Without keys in the environment the rest of the chain is asked, request by request.
        let p = Prometheus::new(&config, |_| None).expect("the chain is asked lazily");
        assert!(matches!(
            p.sigv4.as_ref().map(|s| &s.credentials),
            Some(Credentials::Chain(_))
        ));
        let both = PrometheusConfig {
            bearer_token_env: Some("PROM_TOKEN".into()),
            ..config
        };
        let err = Prometheus::new(&both, |_| Some("x".into())).expect_err("two auths");
        assert!(err.to_string().contains("SigV4 only"), "{err}");
    }

    #[test]
    fn special_values_parse() {
        assert!(parse_value("NaN").is_nan());
        assert_eq!(parse_value("+Inf"), f64::INFINITY);
        assert_eq!(parse_value("0.25"), 0.25);
    }
}
