//! `--github-release`: a release's notes rendered with the github-release template
//! (enriched with PR numbers, logins and first-time contributors when a token is set), and
//! the GitHub release of its tag created or updated, idempotently.

use serde::Serialize;
use shipgate_changelog::{Template, TemplateSource, render_release_with};
use shipgate_github::{
    Client, Config, ReleaseOutcome, Repository, apply, block_on, enrich_commits,
    first_time_contributors, upsert_release,
};

use shipgate_changelog::ChangelogInput;

use crate::changelog::{ChangelogRequest, Span, collect};
use crate::{ReleaseError, ReleaseRequest};

/// What happened to one GitHub release.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Published {
    /// The release's tag.
    pub tag: String,
    /// `created`, `updated` or `unchanged`.
    pub action: &'static str,
    /// The release's page on GitHub.
    pub url: String,
    /// Enrichment that failed (the release was published without it).
    pub warnings: Vec<String>,
}

/// The GitHub repository to talk to: `GITHUB_REPOSITORY` (as Actions sets it), else the
/// remote's URL when it is on GitHub.
fn github_repository(remote_url: Option<String>) -> Option<Repository> {
    std::env::var("GITHUB_REPOSITORY")
        .ok()
        .and_then(|r| Repository::parse(&r))
        .or_else(|| remote_url.and_then(|u| Repository::parse(&u)))
}

/// Creates or updates the GitHub release of `tag` with its notes; `package` names the
/// crate of a per-crate tag (its notes are the commits touching that crate).
pub fn publish(
    req: &ReleaseRequest,
    tag: &str,
    package: Option<&str>,
) -> Result<Published, ReleaseError> {
    let repo = shipgate_git::open(&req.repo)?;
    let github_repo =
        github_repository(repo.remote_url(&req.settings.remote)).ok_or_else(|| {
            ReleaseError::NoGithubRepository {
                remote: req.settings.remote.clone(),
            }
        })?;
    let mut input = collect(&ChangelogRequest {
        repo: req.repo.clone(),
        settings: req.settings.clone(),
        span: Span::Release {
            tag: tag.to_string(),
        },
        package: package.map(str::to_string),
    })?;
    let mut release = input
        .releases
        .pop()
        .ok_or_else(|| ReleaseError::UnknownTag {
            tag: tag.to_string(),
        })?;
    // octocrab needs the runtime while the client is built, so everything runs inside it.
    let remote = async {
        let client = Client::new(Config::from_env())?;
        let mut warnings = Vec::new();
        let ids: Vec<String> = release.commits.iter().map(|c| c.id.clone()).collect();
        match enrich_commits(&client, &github_repo, &ids).await {
            Ok(enrichment) => apply(&enrichment, &mut release.commits),
            Err(e) => warnings.push(warning(
                "PR and author lookup failed, notes published without it",
                &e,
                e.hint(),
            )),
        }
        let mut authors: Vec<(String, u64)> = release
            .commits
            .iter()
            .filter_map(|c| Some((c.author_login.clone()?, c.pr?)))
            .collect();
        authors.sort();
        authors.dedup();
        match first_time_contributors(&client, &github_repo, &authors).await {
            Ok(new) => release.new_contributors = new,
            Err(e) => warnings.push(warning(
                "first-time contributor lookup failed",
                &e,
                e.hint(),
            )),
        }
        let template = Template::new(&TemplateSource::GithubRelease)?;
        let body = render_release_with(&release, &req.changelog, &template)?;
        let prerelease = release
            .version
            .as_deref()
            .is_some_and(shipgate_changelog::is_prerelease);
        let request = shipgate_github::ReleaseRequest {
            repo: github_repo.clone(),
            tag: tag.to_string(),
            name: tag.to_string(),
            body,
            prerelease,
        };
        let outcome = upsert_release(&client, &request).await?;
        Ok::<_, ReleaseError>((outcome, warnings))
    };
    let (outcome, warnings) = block_on(remote)??;
    let (action, url) = match outcome {
        ReleaseOutcome::Created { url, .. } => ("created", url),
        ReleaseOutcome::Updated { url, .. } => ("updated", url),
        ReleaseOutcome::Unchanged { url, .. } => ("unchanged", url),
    };
    Ok(Published {
        tag: tag.to_string(),
        action,
        url,
        warnings,
    })
}

/// Fills PR numbers, authors' logins and first-time contributors into changelog input from
/// GitHub, when a token is set (one GraphQL request per 100 commits); without a token it
/// sends nothing and changes nothing. Failures become warnings: the notes stay usable.
pub fn enrich(req_repo: &std::path::Path, remote: &str, input: &mut ChangelogInput) -> Vec<String> {
    let config = Config::from_env();
    if config.token.is_none() {
        return Vec::new();
    }
    let github_repo = github_repository(
        shipgate_git::open(req_repo)
            .ok()
            .and_then(|repo| repo.remote_url(remote)),
    );
    let Some(github_repo) = github_repo else {
        return vec![format!(
            "GITHUB_TOKEN is set but the `{remote}` remote is not on GitHub and GITHUB_REPOSITORY is unset: no PR lookup"
        )];
    };
    let work = async {
        let client = Client::new(config)?;
        let ids: Vec<String> = input
            .releases
            .iter()
            .flat_map(|r| r.commits.iter().map(|c| c.id.clone()))
            .collect();
        let enrichment = enrich_commits(&client, &github_repo, &ids).await?;
        for release in &mut input.releases {
            apply(&enrichment, &mut release.commits);
        }
        Ok::<_, ReleaseError>(())
    };
    match block_on(work) {
        Ok(Ok(())) => Vec::new(),
        Ok(Err(e)) => vec![warning(
            "PR and author lookup failed; the notes are without it",
            &e,
            e.hint(),
        )],
        Err(e) => vec![warning(
            "PR and author lookup could not start",
            &e,
            e.hint(),
        )],
    }
}

/// The text of a warning as the user reads it: what failed and why, then the error's hint
/// (when it has one) on a line of its own, the way errors are printed.
fn warning(what: &str, why: &dyn std::fmt::Display, hint: Option<String>) -> String {
    match hint {
        Some(hint) => format!("{what}: {why}\nhint: {hint}"),
        None => format!("{what}: {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_warning_shows_the_hint_of_its_error_on_a_line_of_its_own() {
        let e = shipgate_github::GitHubError::NoToken;
        assert_eq!(
            warning("PR and author lookup could not start", &e, e.hint()),
            "PR and author lookup could not start: no GitHub token\nhint: set GITHUB_TOKEN (in Actions: `env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}`)"
        );
        let e = shipgate_github::GitHubError::BadUrl("x".into());
        assert_eq!(
            warning("PR and author lookup could not start", &e, e.hint()),
            "PR and author lookup could not start: invalid GitHub API address \"x\""
        );
    }
}
