//! Pull request numbers and author logins for commits, and first-time contributors.
//!
//! GraphQL, not REST: REST's `commits/{sha}/pulls` costs one request per commit (100,000
//! for a long history), while one GraphQL query with 100 aliased `object(oid:)` lookups
//! answers 100 commits, PRs and logins together: at most ceil(commits / 100) requests.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};
use shipgate_changelog::{CommitInput, Contributor};

use crate::config::Repository;
use crate::{Client, GitHubError};

/// Commits per GraphQL query (GitHub accepts far more aliases; 100 keeps each answer small
/// and is the documented batch size).
pub const BATCH: usize = 100;
/// Logins per first-contribution query (each is a search, which costs more).
const LOGIN_BATCH: usize = 50;

/// What GitHub knows about one commit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitInfo {
    /// The merged pull request that brought it (else the first associated one).
    pub pr: Option<u64>,
    /// The author's login, when the author's e-mail belongs to a GitHub account.
    pub login: Option<String>,
}

/// Commit id → what GitHub knows. Commits GitHub does not know (not pushed) are absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enrichment {
    pub commits: HashMap<String, CommitInfo>,
}

fn is_full_oid(id: &str) -> bool {
    id.len() == 40 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Looks up the PR and the author's login of each commit (full 40-hex ids; others are
/// ignored), 100 per request. Without a token: an empty result and no request.
pub async fn enrich_commits(
    client: &Client,
    repo: &Repository,
    ids: &[String],
) -> Result<Enrichment, GitHubError> {
    let mut out = Enrichment::default();
    if !client.has_token() {
        return Ok(out);
    }
    let mut seen = HashSet::new();
    let wanted: Vec<String> = ids
        .iter()
        .map(|id| id.to_ascii_lowercase())
        .filter(|id| is_full_oid(id) && seen.insert(id.clone()))
        .collect();
    for batch in wanted.chunks(BATCH) {
        let mut query = String::from(
            "query($owner: String!, $name: String!) {\n  repository(owner: $owner, name: $name) {\n",
        );
        for (i, id) in batch.iter().enumerate() {
            query.push_str(&format!(
                "    c{i}: object(oid: \"{id}\") {{ ...commit }}\n"
            ));
        }
        query.push_str("  }\n}\nfragment commit on Commit {\n  author { user { login } }\n  associatedPullRequests(first: 5) { nodes { number merged } }\n}\n");
        let data = client
            .graphql(&query, json!({ "owner": repo.owner, "name": repo.name }))
            .await?;
        let repository = data.get("repository").unwrap_or(&Value::Null);
        for (i, id) in batch.iter().enumerate() {
            let Some(node) = repository.get(format!("c{i}")).filter(|n| n.is_object()) else {
                continue;
            };
            let login = node
                .pointer("/author/user/login")
                .and_then(Value::as_str)
                .map(str::to_string);
            let prs = node
                .pointer("/associatedPullRequests/nodes")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let number = |n: &Value| n.get("number").and_then(Value::as_u64);
            let pr = prs
                .iter()
                .find(|n| n.get("merged").and_then(Value::as_bool) == Some(true))
                .and_then(number)
                .or_else(|| prs.first().and_then(number));
            out.commits.insert(id.clone(), CommitInfo { pr, login });
        }
    }
    Ok(out)
}

/// Fills `pr` (when the commit has none) and `author_login` of each commit that GitHub knows.
pub fn apply(enrichment: &Enrichment, commits: &mut [CommitInput]) {
    for c in commits {
        if let Some(info) = enrichment.commits.get(&c.id.to_ascii_lowercase()) {
            if c.pr.is_none() {
                c.pr = info.pr;
            }
            if info.login.is_some() {
                c.author_login.clone_from(&info.login);
            }
        }
    }
}

fn is_login(login: &str) -> bool {
    !login.is_empty()
        && login.len() <= 39
        && login
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Of the authors of a release's pull requests (`(login, PR number)` pairs), those whose
/// first merged pull request in the repository is one of them. Bots are not counted.
/// Without a token: an empty list and no request.
pub async fn first_time_contributors(
    client: &Client,
    repo: &Repository,
    authors: &[(String, u64)],
) -> Result<Vec<Contributor>, GitHubError> {
    if !client.has_token() {
        return Ok(Vec::new());
    }
    let mut logins: Vec<&str> = Vec::new();
    for (login, _) in authors {
        if is_login(login) && !logins.contains(&login.as_str()) {
            logins.push(login);
        }
    }
    let mut out = Vec::new();
    for batch in logins.chunks(LOGIN_BATCH) {
        let mut query = String::from("query {\n");
        for (i, login) in batch.iter().enumerate() {
            query.push_str(&format!(
                "  u{i}: search(query: \"repo:{repo} is:pr is:merged author:{login} sort:created-asc\", type: ISSUE, first: 1) {{ nodes {{ ... on PullRequest {{ number }} }} }}\n"
            ));
        }
        query.push_str("}\n");
        let data = client.graphql(&query, json!({})).await?;
        for (i, login) in batch.iter().enumerate() {
            let first = data
                .pointer(&format!("/u{i}/nodes/0/number"))
                .and_then(Value::as_u64);
            if let Some(first) = first
                && authors.iter().any(|(l, pr)| l == login && *pr == first)
            {
                out.push(Contributor {
                    login: login.to_string(),
                    first_pr: Some(first),
                });
            }
        }
    }
    Ok(out)
}
