//! The GitHub release of a tag, created or brought up to date: running it twice changes
//! nothing the second time.

use serde_json::{Value, json};

use crate::client::{Method, segment};
use crate::config::Repository;
use crate::{Client, GitHubError};

/// The release to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseRequest {
    pub repo: Repository,
    /// The tag, which must already be pushed.
    pub tag: String,
    /// The release title (usually the tag).
    pub name: String,
    /// The notes, e.g. the github-release template's output.
    pub body: String,
    pub prerelease: bool,
}

/// What [`upsert_release`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseOutcome {
    Created {
        id: u64,
        url: String,
    },
    Updated {
        id: u64,
        url: String,
    },
    /// The release already had this name, body and prerelease flag: no write.
    Unchanged {
        id: u64,
        url: String,
    },
}

/// Creates the release of `req.tag`, or updates its name, body and prerelease flag when
/// they differ. Needs a token.
pub async fn upsert_release(
    client: &Client,
    req: &ReleaseRequest,
) -> Result<ReleaseOutcome, GitHubError> {
    if !client.has_token() {
        return Err(GitHubError::NoToken);
    }
    let base = format!(
        "/repos/{}/{}/releases",
        segment(&req.repo.owner),
        segment(&req.repo.name)
    );
    let wanted = json!({ "tag_name": req.tag, "name": req.name, "body": req.body, "prerelease": req.prerelease, "draft": false });
    // twice at most: a release created by someone else between our GET and POST is updated
    for _ in 0..2 {
        let by_tag = format!("{base}/tags/{}", segment(&req.tag));
        let found = client.rest(Method::Get, &by_tag, None).await?;
        match found.status {
            200 => {
                let current = found.json(&by_tag)?;
                let id = id_of(&current, &by_tag)?;
                let url = html_url(&current);
                let same = current.get("name").and_then(Value::as_str) == Some(req.name.as_str())
                    && current.get("body").and_then(Value::as_str).unwrap_or("") == req.body
                    && current.get("prerelease").and_then(Value::as_bool) == Some(req.prerelease);
                if same {
                    return Ok(ReleaseOutcome::Unchanged { id, url });
                }
                let path = format!("{base}/{id}");
                let patch =
                    json!({ "name": req.name, "body": req.body, "prerelease": req.prerelease });
                let answer = client.rest(Method::Patch, &path, Some(&patch)).await?;
                if answer.status != 200 {
                    return Err(GitHubError::Status {
                        method: "PATCH",
                        path,
                        status: answer.status,
                        message: answer.message(),
                    });
                }
                let updated = answer.json(&path)?;
                return Ok(ReleaseOutcome::Updated {
                    id,
                    url: html_url(&updated),
                });
            }
            404 => {
                let answer = client.rest(Method::Post, &base, Some(&wanted)).await?;
                match answer.status {
                    201 | 200 => {
                        let created = answer.json(&base)?;
                        return Ok(ReleaseOutcome::Created {
                            id: id_of(&created, &base)?,
                            url: html_url(&created),
                        });
                    }
                    // `already_exists`: someone else created it meanwhile; update it
                    422 if answer.body.contains("already_exists") => continue,
                    status => {
                        return Err(GitHubError::Status {
                            method: "POST",
                            path: base,
                            status,
                            message: answer.message(),
                        });
                    }
                }
            }
            status => {
                return Err(GitHubError::Status {
                    method: "GET",
                    path: by_tag,
                    status,
                    message: found.message(),
                });
            }
        }
    }
    Err(GitHubError::BadResponse {
        path: base,
        message: "the release exists but cannot be found by its tag".to_string(),
    })
}

fn id_of(release: &Value, path: &str) -> Result<u64, GitHubError> {
    release
        .get("id")
        .and_then(Value::as_u64)
        .ok_or_else(|| GitHubError::BadResponse {
            path: path.to_string(),
            message: "no release id".to_string(),
        })
}

fn html_url(release: &Value) -> String {
    release
        .get("html_url")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}
