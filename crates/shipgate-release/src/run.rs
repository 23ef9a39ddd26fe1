//! Making the release: journal, files, commit, tags, push, in that order; each step
//! idempotent so an interrupted run converges when run again.

use std::path::PathBuf;

use serde::Serialize;

use crate::github::{Published, publish};
use crate::plan::{Plan, plan_fresh};
use crate::settings::Mode;
use crate::{ReleaseError, ReleaseRequest, failpoint, fsutil, journal};

/// What a release run did.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    #[serde(flatten)]
    pub plan: Plan,
    /// The release commit (new, or found when finishing an interrupted run).
    pub commit: Option<String>,
    pub tagged: Vec<String>,
    pub pushed: bool,
    /// GitHub releases created or updated (`--github-release`).
    pub github: Vec<Published>,
}

/// Makes the release the plan describes, or finishes an interrupted one.
pub fn run(req: &ReleaseRequest) -> Result<Outcome, ReleaseError> {
    let mut repo = shipgate_git::open(&req.repo)?;
    let head = repo.head()?;
    let mut warnings = Vec::new();
    let plan = match journal::load(&repo)? {
        Some(j) => match journal::resumable(&repo, head, j)? {
            Some(plan) => plan,
            None => {
                warnings.push(format!(
                    "discarded a stale release journal ({}): HEAD moved since that run",
                    journal::path(&repo).display()
                ));
                journal::remove(&repo)?;
                plan_fresh(&mut repo, head, req)?
            }
        },
        None => plan_fresh(&mut repo, head, req)?,
    };
    let mut outcome = Outcome {
        plan,
        commit: None,
        tagged: Vec::new(),
        pushed: false,
        github: Vec::new(),
    };
    outcome.plan.warnings.extend(warnings);
    if !outcome.plan.releases() {
        // Nothing new; a release at HEAD that was never pushed or published is finished now.
        if let Some(tag) = outcome.plan.previous_tag.clone() {
            if repo.tag_commit(&tag)? == Some(head) {
                if req.push {
                    push(&repo, req, std::slice::from_ref(&tag))?;
                    outcome.pushed = true;
                }
                if req.github_release {
                    outcome.github.push(publish(req, &tag, None)?);
                }
            }
        }
        return Ok(outcome);
    }
    let ours: Vec<&str> = outcome.plan.files.iter().map(|f| f.path.as_str()).collect();
    let dirty: Vec<String> = repo
        .dirty_paths()?
        .into_iter()
        .filter(|p| !ours.contains(&p.as_str()))
        .collect();
    if !dirty.is_empty() && !req.allow_dirty {
        return Err(ReleaseError::Dirty {
            paths: dirty.join(", "),
        });
    }
    let commit = if let Some(done) = outcome.plan.release_commit.as_deref() {
        shipgate_git::Oid::from_str(done).map_err(|e| ReleaseError::Journal {
            path: journal::path(&repo),
            message: e.to_string(),
        })?
    } else {
        journal::save(&repo, &outcome.plan)?;
        for f in &outcome.plan.files {
            fsutil::write_atomic(&repo.workdir().join(&f.path), f.contents.as_bytes())?;
        }
        failpoint::hit("after-files");
        let paths: Vec<PathBuf> = outcome
            .plan
            .files
            .iter()
            .map(|f| PathBuf::from(&f.path))
            .collect();
        let commit = repo.commit_paths(&paths, &outcome.plan.message)?;
        failpoint::hit("after-commit");
        commit
    };
    outcome.commit = Some(commit.to_string());
    for tag in &outcome.plan.tags {
        repo.create_tag(tag, commit, &format!("Release {tag}"))?;
        outcome.tagged.push(tag.clone());
    }
    failpoint::hit("after-tag");
    if req.push {
        push(&repo, req, &outcome.plan.tags)?;
        outcome.pushed = true;
    }
    journal::remove(&repo)?;
    // After the journal: a failed publication is finished by a re-run (nothing to release,
    // HEAD tagged), and the GitHub release is idempotent.
    if req.github_release {
        let per_crate: Vec<(String, String)> = match req.settings.mode {
            Mode::PerCrate => outcome
                .plan
                .packages
                .iter()
                .filter_map(|p| Some((p.tag.clone()?, p.name.clone())))
                .collect(),
            Mode::Unified => Vec::new(),
        };
        if per_crate.is_empty() {
            for tag in &outcome.plan.tags {
                outcome.github.push(publish(req, tag, None)?);
            }
        } else {
            for (tag, name) in &per_crate {
                outcome.github.push(publish(req, tag, Some(name))?);
            }
        }
    }
    Ok(outcome)
}

fn push(
    repo: &shipgate_git::Repo,
    req: &ReleaseRequest,
    tags: &[String],
) -> Result<(), ReleaseError> {
    let mut refspecs: Vec<String> = Vec::new();
    if let Some(branch) = repo.branch() {
        refspecs.push(format!("HEAD:refs/heads/{branch}"));
    }
    refspecs.extend(tags.iter().map(|t| format!("refs/tags/{t}:refs/tags/{t}")));
    repo.push(&req.settings.remote, &refspecs)?;
    Ok(())
}
