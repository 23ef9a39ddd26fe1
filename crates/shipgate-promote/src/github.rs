//! What promotion shows on GitHub, through shipgate-github: deployments and their statuses
//! (called by the pipeline's `github-deployments` listener, after the ledger entry), so the
//! repository's Environments page shows what runs where, and the pull request `promote
//! --pr` opens instead of pushing. Without a token nothing is sent and nothing fails; a
//! GitHub error after the ledger was written is a warning, never a different outcome (the
//! promotion happened).

use shipgate_github::{
    Client, Config, DeploymentRequest, DeploymentState, PullRequest, Repository, block_on,
};

/// A deployment to show: which commit, where, which version, its first status.
#[derive(Debug, Clone, Copy)]
pub struct Deployment<'a> {
    /// The commit that changed the environment's file.
    pub sha: &'a str,
    /// The environment.
    pub env: &'a str,
    /// The version.
    pub version: &'a str,
    /// Whether it is the last environment of the order.
    pub production: bool,
    /// Its first status.
    pub state: DeploymentState,
    /// In words.
    pub description: &'a str,
    /// The CI run.
    pub log_url: Option<&'a str>,
}

/// A GitHub repository to report to, with a token. Each call makes its client on the
/// runtime it runs on (octocrab's client belongs to the runtime that built it).
#[derive(Clone)]
pub struct Github {
    config: Config,
    repo: Repository,
}

impl std::fmt::Debug for Github {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Github")
            .field("repo", &self.repo)
            .finish_non_exhaustive()
    }
}

impl Github {
    /// From the environment (`GITHUB_TOKEN`, `GITHUB_API_URL`, `GITHUB_REPOSITORY`, else
    /// the remote's URL): None without a token or a repository.
    pub fn from_env(remote_url: Option<String>) -> Option<Self> {
        let config = Config::from_env();
        config.token.as_ref()?;
        let repo = std::env::var("GITHUB_REPOSITORY")
            .ok()
            .and_then(|r| Repository::parse(&r))
            .or_else(|| remote_url.and_then(|u| Repository::parse(&u)))?;
        Some(Self { config, repo })
    }

    /// A deployment with its first status; returns its id.
    pub fn deploy(&self, d: &Deployment<'_>) -> Result<u64, String> {
        let req = DeploymentRequest {
            repo: self.repo.clone(),
            sha: d.sha.to_string(),
            environment: d.env.to_string(),
            version: d.version.to_string(),
            production: d.production,
        };
        let work = async {
            let client = Client::new(self.config.clone())?;
            let id = shipgate_github::create_deployment(&client, &req).await?;
            shipgate_github::set_deployment_status(
                &client,
                &self.repo,
                id,
                d.state,
                d.description,
                d.log_url,
            )
            .await?;
            Ok::<_, shipgate_github::GitHubError>(id)
        };
        flatten(block_on(work))
    }

    /// A new status on the newest deployment of `sha` to `env`, if there is one.
    pub fn mark(
        &self,
        sha: &str,
        env: &str,
        state: DeploymentState,
        description: &str,
        log_url: Option<&str>,
    ) -> Result<Option<u64>, String> {
        let work = async {
            let client = Client::new(self.config.clone())?;
            let Some(id) = shipgate_github::find_deployment(&client, &self.repo, env, sha).await?
            else {
                return Ok(None);
            };
            shipgate_github::set_deployment_status(
                &client,
                &self.repo,
                id,
                state,
                description,
                log_url,
            )
            .await?;
            Ok::<_, shipgate_github::GitHubError>(Some(id))
        };
        flatten(block_on(work))
    }

    /// Opens (or finds) the pull request of `head` into `base`; returns its address.
    pub fn pull_request(
        &self,
        head: &str,
        base: &str,
        title: &str,
        body: &str,
    ) -> Result<String, String> {
        let req = PullRequest {
            repo: self.repo.clone(),
            head: head.to_string(),
            base: base.to_string(),
            title: title.to_string(),
            body: body.to_string(),
        };
        flatten(block_on(async {
            let client = Client::new(self.config.clone())?;
            shipgate_github::open_pull_request(&client, &req).await
        }))
    }
}

fn flatten<T>(
    r: Result<Result<T, shipgate_github::GitHubError>, shipgate_github::GitHubError>,
) -> Result<T, String> {
    match r {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) | Err(e) => Err(e.to_string()),
    }
}
