//! What every workflow runs with: the repository and its settings, who runs it, when, from
//! which CI run and host ([`Pipeline`]), built once from what the caller read of its
//! environment ([`Caller`]); and the names the events are stamped with.

use std::path::Path;

use jiff::Timestamp;
use shipgate_promote::PromoteSettings;
use shipgate_promote::github::Github;
use shipgate_promote::ops::Context;

use crate::error::PipelineError;
use crate::event::{Event, Record};

/// What the caller knows of who and where it runs: read from its environment by the
/// binary (`GITHUB_ACTOR`, `SHIPGATE_NOW`, the run's address, the host name), so that the
/// workflows read no environment variable and no file of their own.
#[derive(Debug, Clone)]
pub struct Caller {
    /// `GITHUB_ACTOR`, when set; else the git identity's e-mail is who.
    pub actor: Option<String>,
    /// When (the clock, or `SHIPGATE_NOW`).
    pub now: Timestamp,
    /// The CI run's address.
    pub run_url: Option<String>,
    /// The host a canary's hold names.
    pub host: String,
    /// The process a canary's hold names.
    pub pid: u32,
}

/// Who, when and from which run: what every event is stamped with.
#[derive(Debug, Clone, PartialEq)]
pub struct Stamp {
    pub who: String,
    pub now: Timestamp,
    pub run_url: Option<String>,
}

impl Stamp {
    /// `event`, stamped.
    pub fn record(&self, event: Event) -> Record {
        Record {
            at: self.now,
            by: self.who.clone(),
            run_url: self.run_url.clone(),
            event,
        }
    }
}

/// Everything a promotion or canary workflow runs with, owned.
pub struct Pipeline {
    pub repo: shipgate_git::Repo,
    pub settings: shipgate_settings::Settings,
    /// `[promote]`, or its defaults.
    pub promote: PromoteSettings,
    pub stamp: Stamp,
    pub host: String,
    pub pid: u32,
    /// GitHub, when a token and a repository are known (deployments, `promote --pr`).
    pub github: Option<Github>,
}

impl Pipeline {
    /// Opens the repository at `repo` with its `settings`; who is `caller.actor`, else the
    /// git identity's e-mail (none: an error saying how to set one).
    pub fn open(
        repo: &Path,
        settings: shipgate_settings::Settings,
        caller: Caller,
    ) -> Result<Self, PipelineError> {
        let repo = shipgate_git::open(repo)?;
        let who = match caller.actor.filter(|a| !a.trim().is_empty()) {
            Some(actor) => actor.trim().to_string(),
            None => repo.identity_email().ok_or(PipelineError::NoAuthor)?,
        };
        let github = Github::from_env(repo.remote_url(&settings.release.remote));
        Ok(Pipeline {
            github,
            promote: settings.promote.clone().unwrap_or_default(),
            repo,
            settings,
            stamp: Stamp {
                who,
                now: caller.now,
                run_url: caller.run_url,
            },
            host: caller.host,
            pid: caller.pid,
        })
    }

    /// The context of `shipgate_promote::ops`.
    pub fn context(&self) -> Context<'_> {
        Context {
            repo: &self.repo,
            settings: &self.promote,
            environments: &self.settings.environments,
            release: &self.settings.release,
            who: self.stamp.who.clone(),
            now: self.stamp.now,
            run_url: self.stamp.run_url.clone(),
            github: self.github.as_ref(),
        }
    }

    /// Where an environment stands in the order: whether it is the last (production).
    pub fn facts(&self) -> EnvFacts<'_> {
        EnvFacts {
            order: &self.settings.environments.order,
            promote: &self.promote,
        }
    }
}

/// What the events say of an environment beyond its name.
#[derive(Clone, Copy)]
pub struct EnvFacts<'a> {
    pub order: &'a [String],
    pub promote: &'a PromoteSettings,
}

impl EnvFacts<'_> {
    /// Whether `env` is the last environment of the order.
    pub fn production(&self, env: &str) -> bool {
        self.order.last().is_some_and(|l| l == env)
    }

    /// Whether `env` verifies its versions by canary (a promotion is in progress until the
    /// verdict).
    pub fn verifying(&self, env: &str) -> bool {
        self.promote.for_env(env).verification == shipgate_promote::Verification::Canary
    }
}
