//! The only crate that talks to GitHub: pull request and author lookup for commits,
//! first-time contributors, creating or updating the release of a tag, and the deployments
//! and pull requests of promotion.
//!
//! The API address comes from `GITHUB_API_URL` (as GitHub Actions sets it), the token from
//! `GITHUB_TOKEN`; tests point the address at a local server. Without a token, enrichment
//! returns nothing and is never an error. Rate limits (403/429 with `retry-after` or
//! `x-ratelimit-reset`) are waited out up to a bound, 5xx answers are retried with
//! exponential backoff, and the token never appears in `Debug` output or errors.

mod client;
mod config;
mod deploy;
mod enrich;
mod release;

pub use client::Client;
pub use config::{Config, Repository, RetryPolicy, Token};
pub use deploy::{
    DeploymentRequest, DeploymentState, PullRequest, create_deployment, find_deployment,
    open_pull_request, set_deployment_status,
};
pub use enrich::{CommitInfo, Enrichment, apply, enrich_commits, first_time_contributors};
pub use release::{ReleaseOutcome, ReleaseRequest, upsert_release};

/// Why a GitHub call failed. Messages never contain the token. The message is what went
/// wrong; the hint ([`GitHubError::hint`]) is data, not part of the message.
#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    #[error(
        "GitHub rate limit reached: it resets in {wait_secs} s, longer than the {max_wait_secs} s shipgate waits"
    )]
    RateLimited { wait_secs: u64, max_wait_secs: u64 },
    #[error("GitHub answered {status} to {method} {path}: {message}")]
    Status {
        method: &'static str,
        path: String,
        status: u16,
        message: String,
    },
    #[error("cannot reach GitHub at {api_url}: {message}")]
    Transport { api_url: String, message: String },
    #[error("unexpected answer from GitHub to {path}: {message}")]
    BadResponse { path: String, message: String },
    #[error("no GitHub token")]
    NoToken,
    #[error("invalid GitHub API address {0:?}")]
    BadUrl(String),
    #[error("cannot start the HTTP runtime: {0}")]
    Runtime(String),
}

impl GitHubError {
    /// What to do about it, when there is something to say: shown on a line of its own
    /// after the message.
    pub fn hint(&self) -> Option<String> {
        match self {
            GitHubError::RateLimited { .. } => {
                Some("re-run later, or use a token with a higher limit".into())
            }
            GitHubError::Transport { .. } => Some("check GITHUB_API_URL and the network".into()),
            GitHubError::NoToken => Some(
                "set GITHUB_TOKEN (in Actions: `env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}`)"
                    .into(),
            ),
            GitHubError::Status { .. }
            | GitHubError::BadResponse { .. }
            | GitHubError::BadUrl(_)
            | GitHubError::Runtime(_) => None,
        }
    }
}

shipgate_stdx::hints!(GitHubError);

/// Runs a future to completion on a fresh single-threaded runtime: for synchronous callers
/// (the binary, xtask).
pub fn block_on<F: std::future::Future>(future: F) -> Result<F::Output, GitHubError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| GitHubError::Runtime(e.to_string()))?;
    Ok(runtime.block_on(future))
}
