//! GitHub deployments and pull requests for promotion: a deployment per promotion and
//! rollback with its statuses (in_progress, then success, failure or inactive), so the
//! repository's Environments page shows what runs where; and the pull request `promote
//! --pr` opens instead of pushing.

use serde_json::{Value, json};

use crate::client::{Method, segment};
use crate::config::Repository;
use crate::{Client, GitHubError};

/// A deployment to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentRequest {
    /// The repository.
    pub repo: Repository,
    /// The commit deployed (the commit that changed the environment's file).
    pub sha: String,
    /// The environment.
    pub environment: String,
    /// The version, shown as the deployment's description.
    pub version: String,
    /// Whether it is the production environment (the last of the order).
    pub production: bool,
}

/// A deployment status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeploymentState {
    /// Being verified (a canary runs).
    InProgress,
    /// Verified, or nothing to verify.
    Success,
    /// Its verification failed.
    Failure,
    /// Replaced.
    Inactive,
}

impl DeploymentState {
    /// GitHub's name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentState::InProgress => "in_progress",
            DeploymentState::Success => "success",
            DeploymentState::Failure => "failure",
            DeploymentState::Inactive => "inactive",
        }
    }
}

fn base(repo: &Repository) -> String {
    format!("/repos/{}/{}", segment(&repo.owner), segment(&repo.name))
}

fn id_of(v: &Value, path: &str) -> Result<u64, GitHubError> {
    v.get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| GitHubError::BadResponse {
            path: path.to_string(),
            message: "no `id` in the answer".into(),
        })
}

/// Creates a deployment (no required status checks, no auto-merge: the commit is already
/// on the branch); returns its id. Needs a token.
pub async fn create_deployment(
    client: &Client,
    req: &DeploymentRequest,
) -> Result<u64, GitHubError> {
    if !client.has_token() {
        return Err(GitHubError::NoToken);
    }
    let path = format!("{}/deployments", base(&req.repo));
    let body = json!({
        "ref": req.sha,
        "environment": req.environment,
        "description": format!("shipgate: {} to {}", req.version, req.environment),
        "payload": { "version": req.version },
        "auto_merge": false,
        "required_contexts": [],
        "production_environment": req.production,
    });
    let answer = client.rest(Method::Post, &path, Some(&body)).await?;
    if answer.status != 201 {
        return Err(GitHubError::Status {
            method: "POST",
            path,
            status: answer.status,
            message: answer.message(),
        });
    }
    id_of(&answer.json(&path)?, &path)
}

/// Adds a status to deployment `id`; `auto_inactive` marks the environment's earlier
/// deployments inactive when this one succeeds.
pub async fn set_deployment_status(
    client: &Client,
    repo: &Repository,
    id: u64,
    state: DeploymentState,
    description: &str,
    log_url: Option<&str>,
) -> Result<(), GitHubError> {
    if !client.has_token() {
        return Err(GitHubError::NoToken);
    }
    let path = format!("{}/deployments/{id}/statuses", base(repo));
    let mut body = json!({
        "state": state.as_str(),
        "description": description.chars().take(140).collect::<String>(),
        "auto_inactive": true,
    });
    if let Some(url) = log_url {
        body["log_url"] = url.into();
    }
    let answer = client.rest(Method::Post, &path, Some(&body)).await?;
    if answer.status != 201 {
        return Err(GitHubError::Status {
            method: "POST",
            path,
            status: answer.status,
            message: answer.message(),
        });
    }
    Ok(())
}

/// The newest deployment of `sha` to `environment`, if there is one.
pub async fn find_deployment(
    client: &Client,
    repo: &Repository,
    environment: &str,
    sha: &str,
) -> Result<Option<u64>, GitHubError> {
    if !client.has_token() {
        return Err(GitHubError::NoToken);
    }
    let path = format!(
        "{}/deployments?environment={}&sha={}&per_page=1",
        base(repo),
        segment(environment),
        segment(sha)
    );
    let answer = client.rest(Method::Get, &path, None).await?;
    if answer.status != 200 {
        return Err(GitHubError::Status {
            method: "GET",
            path,
            status: answer.status,
            message: answer.message(),
        });
    }
    let list = answer.json(&path)?;
    Ok(list
        .as_array()
        .and_then(|a| a.first())
        .and_then(|d| d.get("id"))
        .and_then(Value::as_u64))
}

/// A pull request to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    /// The repository.
    pub repo: Repository,
    /// The branch with the change (already pushed).
    pub head: String,
    /// The branch to merge into.
    pub base: String,
    /// The title.
    pub title: String,
    /// The body (Markdown).
    pub body: String,
}

/// Opens the pull request, or finds the open one of the same head (a re-run); returns its
/// address.
pub async fn open_pull_request(client: &Client, req: &PullRequest) -> Result<String, GitHubError> {
    if !client.has_token() {
        return Err(GitHubError::NoToken);
    }
    let path = format!("{}/pulls", base(&req.repo));
    let body = json!({ "title": req.title, "head": req.head, "base": req.base, "body": req.body });
    let answer = client.rest(Method::Post, &path, Some(&body)).await?;
    let url_of = |v: &Value| {
        v.get("html_url")
            .and_then(Value::as_str)
            .map(String::from)
            .unwrap_or_default()
    };
    match answer.status {
        201 => Ok(url_of(&answer.json(&path)?)),
        422 => {
            let find = format!(
                "{path}?head={}:{}&state=open",
                segment(&req.repo.owner),
                segment(&req.head)
            );
            let found = client.rest(Method::Get, &find, None).await?;
            let list = found.json(&find)?;
            match list.as_array().and_then(|a| a.first()) {
                Some(pr) => Ok(url_of(pr)),
                None => Err(GitHubError::Status {
                    method: "POST",
                    path,
                    status: 422,
                    message: answer.message(),
                }),
            }
        }
        status => Err(GitHubError::Status {
            method: "POST",
            path,
            status,
            message: answer.message(),
        }),
    }
}
