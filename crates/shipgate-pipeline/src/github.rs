//! The `github-deployments` listener: a GitHub deployment per promotion and rollback, with
//! its statuses, so the repository's Environments page shows what runs where. A promotion
//! into an environment that verifies by canary is `in_progress` until the verdict; a
//! verification marks it `success` or `failure`; a rollback marks the version rolled back
//! from `failure` and is a deployment of its own. Only entries that reached the remote
//! are shown (a local rehearsal tells GitHub nothing).

use shipgate_github::DeploymentState;
use shipgate_promote::github::{Deployment, Github};

use crate::event::{Event, Heard, Listener, Record};

/// Deployments on GitHub, from the events.
pub struct GithubDeployments {
    github: Github,
}

impl GithubDeployments {
    pub fn new(github: Github) -> Self {
        GithubDeployments { github }
    }
}

impl Listener for GithubDeployments {
    fn name(&self) -> String {
        "github-deployments".into()
    }

    fn on(&mut self, r: &Record) -> Result<Heard, String> {
        let log_url = r.run_url.as_deref();
        match &r.event {
            Event::Promoted {
                env,
                version,
                commit: Some(commit),
                pushed: true,
                verifying,
                production,
                ..
            } => {
                let id = self.github.deploy(&Deployment {
                    sha: commit,
                    env,
                    version,
                    production: *production,
                    state: if *verifying {
                        DeploymentState::InProgress
                    } else {
                        DeploymentState::Success
                    },
                    description: &format!("promoted by {}", r.by),
                    log_url,
                })?;
                Ok(Heard {
                    notes: Vec::new(),
                    facts: vec![("deployment".into(), id.to_string())],
                })
            }
            Event::RolledBack {
                env,
                from,
                to,
                reason,
                commit,
                replaced_commit,
                pushed: true,
                production,
                ..
            } => {
                let mut heard = Heard::nothing();
                if let Some(old) = replaced_commit
                    && let Err(e) = self.github.mark(
                        old,
                        env,
                        DeploymentState::Failure,
                        &format!("rolled back: {reason}"),
                        log_url,
                    )
                {
                    heard.notes.push(format!(
                        "the GitHub deployment of {from} was not marked failed: {e}"
                    ));
                }
                if let Some(commit) = commit {
                    let id = self
                        .github
                        .deploy(&Deployment {
                            sha: commit,
                            env,
                            version: to,
                            production: *production,
                            state: DeploymentState::Success,
                            description: &format!("rollback by {}", r.by),
                            log_url,
                        })
                        .map_err(|e| format!("the deployment of the rollback: {e}"))?;
                    heard.facts.push(("deployment".into(), id.to_string()));
                }
                Ok(heard)
            }
            Event::Verified {
                env,
                passed,
                evidence,
                canary,
                commit: Some(commit),
                pushed: true,
                ..
            } => {
                let what = if *canary { "canary" } else { "verification" };
                let (state, description) = if *passed {
                    (DeploymentState::Success, format!("{what} passed"))
                } else {
                    (DeploymentState::Failure, format!("{what} failed"))
                };
                let description = match evidence {
                    Some(e) => format!("{description}: {e}"),
                    None => description,
                };
                self.github
                    .mark(commit, env, state, &description, log_url)
                    .map(|_| Heard::nothing())
            }
            _ => Ok(Heard::nothing()),
        }
    }
}
