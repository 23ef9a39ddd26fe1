//! One HTTP exchange with GitHub, with the waiting and retrying rules, and a count of the
//! requests made.
//!
//! Built on octocrab's raw `_get/_post/_patch` calls: octocrab's own retry layer retries
//! 5xx only and knows nothing of `retry-after` or `x-ratelimit-reset`, so the loop is here.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use octocrab::Octocrab;
use serde_json::Value;

use crate::GitHubError;
use crate::config::{Config, RetryPolicy};

/// A configured connection to one GitHub (REST and GraphQL).
pub struct Client {
    config: Config,
    rest: (Octocrab, String),
    graphql: (Octocrab, String),
    requests: AtomicUsize,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .field("requests", &self.requests())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Patch,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
        }
    }
}

/// A status and a body.
pub(crate) struct Answer {
    pub status: u16,
    pub body: String,
}

impl Answer {
    pub fn json(&self, path: &str) -> Result<Value, GitHubError> {
        serde_json::from_str(&self.body).map_err(|e| GitHubError::BadResponse {
            path: path.to_string(),
            message: e.to_string(),
        })
    }

    /// The `message` of a GitHub error body, or the start of the body.
    pub fn message(&self) -> String {
        serde_json::from_str::<Value>(&self.body)
            .ok()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| self.body.chars().take(200).collect())
    }
}

/// `https://host:port/path` → (`https://host:port`, `/path`).
fn split_url(url: &str) -> Result<(String, String), GitHubError> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| GitHubError::BadUrl(url.to_string()))?;
    if !matches!(scheme, "http" | "https") {
        return Err(GitHubError::BadUrl(url.to_string()));
    }
    let (authority, path) = rest
        .split_once('/')
        .map_or((rest, String::new()), |(a, p)| {
            (a, format!("/{}", p.trim_end_matches('/')))
        });
    if authority.is_empty() || authority.contains('@') {
        return Err(GitHubError::BadUrl(url.to_string()));
    }
    Ok((format!("{scheme}://{authority}"), path))
}

fn build(origin: &str, config: &Config) -> Result<Octocrab, GitHubError> {
    let mut builder = Octocrab::builder()
        .base_uri(origin)
        .map_err(|_| GitHubError::BadUrl(origin.to_string()))?;
    if let Some(token) = &config.token {
        builder = builder.personal_token(token.expose().to_string());
    }
    builder.build().map_err(|e| GitHubError::Transport {
        api_url: origin.to_string(),
        message: e.to_string(),
    })
}

impl Client {
    /// A client for `config`. Makes no request.
    pub fn new(config: Config) -> Result<Client, GitHubError> {
        let (rest_origin, rest_path) = split_url(&config.api_url)?;
        let (graphql_origin, graphql_path) = split_url(&config.graphql_url)?;
        let rest = (build(&rest_origin, &config)?, rest_path);
        let graphql = (build(&graphql_origin, &config)?, graphql_path);
        Ok(Client {
            config,
            rest,
            graphql,
            requests: AtomicUsize::new(0),
        })
    }

    /// A token is configured.
    pub fn has_token(&self) -> bool {
        self.config.token.is_some()
    }

    /// HTTP requests sent so far, retries included.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// A REST call; `path` starts with `/` and is relative to the API address.
    pub(crate) async fn rest(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, GitHubError> {
        let full = format!("{}{path}", self.rest.1);
        self.send(&self.rest.0, method, &full, body).await
    }

    /// A GraphQL query; GraphQL errors without data are errors.
    pub(crate) async fn graphql(
        &self,
        query: &str,
        variables: Value,
    ) -> Result<Value, GitHubError> {
        let body = serde_json::json!({ "query": query, "variables": variables });
        let path = self.graphql.1.clone();
        let answer = self
            .send(&self.graphql.0, Method::Post, &path, Some(&body))
            .await?;
        if answer.status != 200 {
            return Err(GitHubError::Status {
                method: "POST",
                path,
                status: answer.status,
                message: answer.message(),
            });
        }
        let value = answer.json(&path)?;
        match value.get("data") {
            Some(data) if !data.is_null() => Ok(data.clone()),
            _ => Err(GitHubError::BadResponse {
                path,
                message: value
                    .get("errors")
                    .map_or_else(|| "no data".to_string(), Value::to_string),
            }),
        }
    }

    async fn send(
        &self,
        octocrab: &Octocrab,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, GitHubError> {
        let policy: &RetryPolicy = &self.config.retry;
        let mut attempt: u32 = 0;
        loop {
            self.requests.fetch_add(1, Ordering::Relaxed);
            let sent = match method {
                Method::Get => octocrab._get(path).await,
                Method::Post => octocrab._post(path, body).await,
                Method::Patch => octocrab._patch(path, body).await,
            };
            let response = match sent {
                Ok(r) => r,
                Err(e) => {
                    if attempt < policy.max_retries {
                        tokio::time::sleep(backoff(policy, attempt)).await;
                        attempt += 1;
                        continue;
                    }
                    return Err(GitHubError::Transport {
                        api_url: self.config.api_url.clone(),
                        message: error_chain(&e),
                    });
                }
            };
            let status = response.status().as_u16();
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let limit = RateLimitHeaders {
                retry_after: header("retry-after"),
                remaining: header("x-ratelimit-remaining"),
                reset: header("x-ratelimit-reset"),
            };
            let body_text = octocrab.body_to_string(response).await.unwrap_or_default();
            let graphql_limited = status == 200
                && limit.remaining.as_deref() == Some("0")
                && body_text.contains("\"RATE_LIMITED\"");
            if let Some(wait) = rate_limit_wait(
                if graphql_limited { 403 } else { status },
                &limit,
                now_epoch(),
            ) {
                if wait > policy.max_wait || attempt >= policy.max_retries {
                    return Err(GitHubError::RateLimited {
                        wait_secs: wait.as_secs(),
                        max_wait_secs: policy.max_wait.as_secs(),
                    });
                }
                tokio::time::sleep(wait).await;
                attempt += 1;
                continue;
            }
            if status >= 500 && attempt < policy.max_retries {
                tokio::time::sleep(backoff(policy, attempt)).await;
                attempt += 1;
                continue;
            }
            if status >= 500 {
                let answer = Answer {
                    status,
                    body: body_text,
                };
                return Err(GitHubError::Status {
                    method: method.name(),
                    path: path.to_string(),
                    status,
                    message: answer.message(),
                });
            }
            return Ok(Answer {
                status,
                body: body_text,
            });
        }
    }
}

/// The error and its sources on one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    policy
        .backoff
        .saturating_mul(2u32.saturating_pow(attempt))
        .min(policy.max_wait)
}

fn now_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

struct RateLimitHeaders {
    retry_after: Option<String>,
    remaining: Option<String>,
    reset: Option<String>,
}

/// How long to wait before retrying, when the answer is a rate limit: `retry-after`
/// seconds, else until `x-ratelimit-reset` when nothing remains, else (a 429 without
/// either) one minute, as GitHub documents for secondary limits. `None`: not a rate limit
/// (a plain 403 is a permission problem).
fn rate_limit_wait(status: u16, h: &RateLimitHeaders, now: u64) -> Option<Duration> {
    if status != 403 && status != 429 {
        return None;
    }
    if let Some(secs) = h
        .retry_after
        .as_deref()
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        return Some(Duration::from_secs(secs));
    }
    if h.remaining.as_deref().map(str::trim) == Some("0")
        && let Some(reset) = h
            .reset
            .as_deref()
            .and_then(|v| v.trim().parse::<u64>().ok())
    {
        return Some(Duration::from_secs(reset.saturating_sub(now) + 1));
    }
    (status == 429).then_some(Duration::from_secs(60))
}

/// Percent-encodes one path segment (a tag name).
pub(crate) fn segment(text: &str) -> String {
    shipgate_stdx::text::percent_encode(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(
        retry_after: Option<&str>,
        remaining: Option<&str>,
        reset: Option<&str>,
    ) -> RateLimitHeaders {
        RateLimitHeaders {
            retry_after: retry_after.map(Into::into),
            remaining: remaining.map(Into::into),
            reset: reset.map(Into::into),
        }
    }

    #[test]
    fn rate_limit_rules() {
        let secs = |s| Some(Duration::from_secs(s));
        assert_eq!(rate_limit_wait(429, &h(Some("7"), None, None), 0), secs(7));
        assert_eq!(rate_limit_wait(403, &h(Some("7"), None, None), 0), secs(7));
        assert_eq!(
            rate_limit_wait(403, &h(None, Some("0"), Some("1000")), 990),
            secs(11)
        );
        assert_eq!(
            rate_limit_wait(403, &h(None, Some("0"), Some("900")), 990),
            secs(1)
        );
        assert_eq!(
            rate_limit_wait(403, &h(None, Some("12"), Some("1000")), 990),
            None
        );
        assert_eq!(rate_limit_wait(403, &h(None, None, None), 0), None);
        assert_eq!(rate_limit_wait(429, &h(None, None, None), 0), secs(60));
        assert_eq!(rate_limit_wait(500, &h(Some("1"), None, None), 0), None);
    }

    #[test]
    fn urls_split_into_origin_and_path() {
        assert_eq!(
            split_url("https://api.github.com").ok(),
            Some(("https://api.github.com".into(), String::new()))
        );
        assert_eq!(
            split_url("http://127.0.0.1:8080/api/v3/").ok(),
            Some(("http://127.0.0.1:8080".into(), "/api/v3".into()))
        );
        assert!(split_url("api.github.com").is_err());
        assert!(split_url("https://user:pw@host").is_err());
    }

    #[test]
    fn backoff_doubles_up_to_the_bound() {
        let p = RetryPolicy {
            max_retries: 5,
            backoff: Duration::from_millis(100),
            max_wait: Duration::from_millis(500),
        };
        assert_eq!(backoff(&p, 0), Duration::from_millis(100));
        assert_eq!(backoff(&p, 2), Duration::from_millis(400));
        assert_eq!(backoff(&p, 3), Duration::from_millis(500));
    }

    #[test]
    fn tag_segments_are_encoded() {
        assert_eq!(segment("v1.4.0-rc.1"), "v1.4.0-rc.1");
        assert_eq!(segment("crate/v1+b"), "crate%2Fv1%2Bb");
    }
}
