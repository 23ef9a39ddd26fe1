//! The release job: plan the next version from history (commits and tags only), then bump
//! manifests, write the changelog, commit, tag and push, so that a run killed after any
//! step converges on the next run without doing anything twice.
//!
//! `plan` reads; `run` writes. Both take a [`ReleaseRequest`]: the binary and `cargo xtask
//! release` build one from their arguments and call the same functions.

mod changelog;
mod decide;
mod error;
mod failpoint;
mod files;
mod fsutil;
mod github;
mod history;
mod journal;
mod model;
mod packages;
mod per_crate;
mod plan;
mod recover;
mod run;
mod runlock;
mod steps;

pub use changelog::{ChangelogRequest, Span, collect as collect_changelog};
pub use error::ReleaseError;
pub use github::{Published, enrich as enrich_from_github, publish as publish_github_release};
pub use history::released;
pub use model::{Developing, SnapshotPlan};

pub use model::{FileChange, LeftOut, PackagePlan, Plan};
pub use plan::plan;
pub use run::{Outcome, run};
pub use shipgate_changelog::ChangelogSettings;
pub use shipgate_settings::release::{Mode, ReleaseFile, ReleaseSettings};

use std::path::PathBuf;

/// Everything a release run needs, built by the binary or xtask from their arguments.
#[derive(Debug, Clone)]
pub struct ReleaseRequest {
    /// Any path inside the repository.
    pub repo: PathBuf,
    pub settings: ReleaseSettings,
    pub changelog: ChangelogSettings,
    /// `--pre rc`.
    pub pre: Option<String>,
    /// `--version X.Y.Z`.
    pub version: Option<semver::Version>,
    pub push: bool,
    /// Create or update the GitHub release of each new tag (after the push).
    pub github_release: bool,
    pub allow_dirty: bool,
    /// The release date, `YYYY-MM-DD` (the caller reads the clock).
    pub date: String,
}

/// Why the release date could not be read.
#[derive(Debug, thiserror::Error)]
#[error("SOURCE_DATE_EPOCH={0} is not a number of seconds since 1970")]
pub struct DateError(String);

impl DateError {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        Some("unset it, or give whole seconds".into())
    }
}

shipgate_stdx::hints!(ReleaseError, DateError, error::Downgrade);

/// The release date, `YYYY-MM-DD`: `SOURCE_DATE_EPOCH` when set (reproducible builds),
/// else today in UTC. The one place the release reads the clock.
pub fn release_date() -> Result<String, DateError> {
    let now = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(s) if !s.trim().is_empty() => s
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(|secs| time::OffsetDateTime::from_unix_timestamp(secs).ok())
            .ok_or(DateError(s))?,
        _ => time::OffsetDateTime::now_utc(),
    };
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Ok(now.format(&format).unwrap_or_default())
}
