//! Where GitHub is, who we are there, and how long we are willing to wait.

use std::fmt;
use std::time::Duration;

/// The default API address (github.com).
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// A GitHub token. It is only ever sent in the `Authorization` header: `Debug` prints
/// `Token(***)` and there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// `None` for an empty or blank value.
    pub fn new(value: impl Into<String>) -> Option<Token> {
        let value = value.into();
        (!value.trim().is_empty()).then(|| Token(value.trim().to_string()))
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

/// Bounded retrying: rate limits are waited out when they reset within `max_wait`, 5xx
/// answers and connection failures are retried `max_retries` times with exponential
/// backoff from `backoff`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub backoff: Duration,
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            backoff: Duration::from_millis(500),
            max_wait: Duration::from_secs(120),
        }
    }
}

/// How to reach GitHub.
#[derive(Debug, Clone)]
pub struct Config {
    /// REST API address, e.g. `https://api.github.com` or `https://ghe.example.com/api/v3`.
    pub api_url: String,
    /// GraphQL address; default: `https://api.github.com/graphql`, or `…/api/graphql` on
    /// GitHub Enterprise Server (`…/api/v3` REST address).
    pub graphql_url: String,
    pub token: Option<Token>,
    pub retry: RetryPolicy,
}

impl Config {
    /// `api_url` with its GraphQL address derived, the default retry policy.
    pub fn new(api_url: &str, token: Option<Token>) -> Config {
        let api_url = api_url.trim().trim_end_matches('/').to_string();
        let graphql_url = match api_url.strip_suffix("/api/v3") {
            Some(host) => format!("{host}/api/graphql"),
            None => format!("{api_url}/graphql"),
        };
        Config {
            api_url,
            graphql_url,
            token,
            retry: RetryPolicy::default(),
        }
    }

    /// From the environment, as GitHub Actions sets it: `GITHUB_API_URL` (default
    /// https://api.github.com), `GITHUB_GRAPHQL_URL`, `GITHUB_TOKEN` (or `GH_TOKEN`).
    pub fn from_env() -> Config {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let api_url = var("GITHUB_API_URL").unwrap_or_else(|| DEFAULT_API_URL.to_string());
        let token = var("GITHUB_TOKEN")
            .or_else(|| var("GH_TOKEN"))
            .and_then(Token::new);
        let mut config = Config::new(&api_url, token);
        if let Some(graphql) = var("GITHUB_GRAPHQL_URL") {
            config.graphql_url = graphql.trim_end_matches('/').to_string();
        }
        config
    }
}

/// `owner/name` of a repository on GitHub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub owner: String,
    pub name: String,
}

impl Repository {
    /// `owner/name` (as in `GITHUB_REPOSITORY`), or a remote/web URL
    /// (`git@github.com:owner/name.git`, `https://github.com/owner/name`).
    pub fn parse(text: &str) -> Option<Repository> {
        let text = text.trim();
        let path = match shipgate_changelog::web_url(text) {
            Some(url) => url
                .split_once("://")
                .map(|(_, rest)| rest.split_once('/').map_or("", |(_, p)| p).to_string())?,
            None => text.to_string(),
        };
        let mut parts = path.trim_matches('/').split('/');
        let (owner, name) = (parts.next()?, parts.next()?);
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        (parts.next().is_none() && valid(owner) && valid(name)).then(|| Repository {
            owner: owner.to_string(),
            name: name.to_string(),
        })
    }
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_redacted() {
        let config = Config::new("https://api.github.com", Token::new("ghp_secret123"));
        let debug = format!("{config:?}");
        assert!(!debug.contains("ghp_secret123"), "{debug}");
        assert!(debug.contains("Token(***)"), "{debug}");
        assert_eq!(Token::new("  "), None);
    }

    #[test]
    fn graphql_address_follows_the_rest_address() {
        assert_eq!(
            Config::new("https://api.github.com/", None).graphql_url,
            "https://api.github.com/graphql"
        );
        assert_eq!(
            Config::new("https://ghe.example.com/api/v3", None).graphql_url,
            "https://ghe.example.com/api/graphql"
        );
    }

    #[test]
    fn repositories_from_names_and_remotes() {
        let r = |owner: &str, name: &str| {
            Some(Repository {
                owner: owner.into(),
                name: name.into(),
            })
        };
        assert_eq!(
            Repository::parse("shipgate/shipgate"),
            r("shipgate", "shipgate")
        );
        assert_eq!(Repository::parse("git@github.com:o/r.git"), r("o", "r"));
        assert_eq!(
            Repository::parse("https://github.com/o/r.js"),
            r("o", "r.js")
        );
        assert_eq!(
            Repository::parse("https://ghe.example.com/group/sub/r"),
            None
        );
        assert_eq!(Repository::parse("o"), None);
        assert_eq!(Repository::parse("o/r\"x"), None);
    }
}
