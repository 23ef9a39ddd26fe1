//! Making the release: journal, files, commit, tags, push, in that order; each step
//! idempotent so an interrupted run converges when run again. The whole run holds the
//! release lock (`runlock`); a run after a killed one first waits for that run's push, if it
//! outlived it, and clears what it left in the way (`recover`).

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use shipgate_git::Pushed;

use shipgate_version::bump::next_snapshot;

use crate::files::snapshot_message;
use crate::github::{Published, publish};
use crate::model::Plan;
use crate::plan::plan_fresh;
use crate::recover::{self, Interrupted, Scope};
use crate::runlock::{self, RunLock};
use crate::{ReleaseError, ReleaseRequest, failpoint, fsutil, journal};
use shipgate_settings::release::Mode;

/// How long a run waits for the push of a killed run to end.
const PUSH_WAIT: Duration = Duration::from_secs(300);

/// What a release run did.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Outcome {
    /// The plan that was carried out.
    #[serde(flatten)]
    pub plan: Plan,
    /// The release commit (new, or found when finishing an interrupted run).
    pub commit: Option<String>,
    /// The next development version's commit (`[release] next-snapshot`), after the tag.
    pub snapshot_commit: Option<String>,
    /// The tags made (or found when finishing an interrupted run).
    pub tagged: Vec<String>,
    /// Whether the commits and tags were pushed (`--push`).
    pub pushed: bool,
    /// GitHub releases created or updated (`--github-release`).
    pub github: Vec<Published>,
}

/// Makes the release the plan describes, or finishes an interrupted one.
pub fn run(req: &ReleaseRequest) -> Result<Outcome, ReleaseError> {
    let mut repo = shipgate_git::open(&req.repo)?;
    let mut lock = runlock::acquire(&repo)?;
    let mut warnings = Vec::new();
    warnings.extend(runlock::wait_for_push(lock.interrupted(), PUSH_WAIT)?);
    let interrupted = match lock.interrupted() {
        Some(r) => Some(Interrupted {
            pid: Some(r.pid),
            started: Some(r.started()),
        }),
        None => journal::path(&repo).exists().then_some(Interrupted {
            pid: None,
            started: None,
        }),
    };
    let head = repo.head()?;
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
        snapshot_commit: None,
        tagged: Vec::new(),
        pushed: false,
        github: Vec::new(),
    };
    if outcome.plan.releases() || req.push {
        // the refs this run may move: its tags, or the release at HEAD it may push
        let mut tags = outcome.plan.tags.clone();
        tags.extend(outcome.plan.previous_tag.clone());
        let branch = repo.branch();
        let scope = Scope {
            branch: branch.as_deref(),
            remote: &req.settings.remote,
            tags: &tags,
        };
        let mut temp_dirs: Vec<PathBuf> = written(&outcome.plan)
            .filter_map(|f| repo.workdir().join(f).parent().map(PathBuf::from))
            .collect();
        temp_dirs.push(repo.git_dir().join("shipgate"));
        temp_dirs.sort();
        temp_dirs.dedup();
        warnings.extend(recover::clean(&repo, &scope, interrupted, &temp_dirs)?);
    }
    outcome.plan.warnings.extend(warnings);
    if !outcome.plan.releases() {
        // Nothing new; a release at HEAD (or its next development version's commit) that was
        // never pushed or published is finished now.
        if let Some(tag) = outcome.plan.previous_tag.clone()
            && released_at_head(&repo, &tag, head, outcome.plan.current.as_ref())?
        {
            if req.push {
                push(
                    &repo,
                    req,
                    std::slice::from_ref(&tag),
                    &mut lock,
                    &mut outcome,
                )?;
            }
            if req.github_release {
                outcome.github.push(publish(req, &tag, None)?);
            }
        }
        return Ok(outcome);
    }
    let ours: Vec<&str> = written(&outcome.plan).collect();
    // A file outside a sparse checkout was read as absent: writing it would replace what is
    // committed (a whole CHANGELOG.md) with what was planned from nothing.
    let outside = repo.outside_sparse_checkout(&ours)?;
    if !outside.is_empty() {
        return Err(ReleaseError::OutsideSparseCheckout {
            paths: outside.join(" "),
        });
    }
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
    if let Some(snapshot) = &outcome.plan.next_snapshot {
        let commit = match snapshot.commit.as_deref() {
            Some(done) => done.to_string(),
            None => {
                for f in &snapshot.files {
                    fsutil::write_atomic(&repo.workdir().join(&f.path), f.contents.as_bytes())?;
                }
                failpoint::hit("after-snapshot-files");
                let paths: Vec<PathBuf> = snapshot
                    .files
                    .iter()
                    .map(|f| PathBuf::from(&f.path))
                    .collect();
                let commit = repo.commit_paths(&paths, &snapshot.message)?;
                failpoint::hit("after-snapshot-commit");
                commit.to_string()
            }
        };
        outcome.snapshot_commit = Some(commit);
    }
    if req.push {
        let tags = outcome.plan.tags.clone();
        push(&repo, req, &tags, &mut lock, &mut outcome)?;
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

/// The paths a plan writes: the release's files and its next development version's.
fn written(plan: &Plan) -> impl Iterator<Item = &str> {
    plan.files
        .iter()
        .chain(plan.next_snapshot.iter().flat_map(|s| &s.files))
        .map(|f| f.path.as_str())
}

/// Whether `tag` is the release at `head`: it names HEAD, or HEAD is the commit that
/// prepared the next development version after it (`[release] next-snapshot`).
fn released_at_head(
    repo: &shipgate_git::Repo,
    tag: &str,
    head: shipgate_git::Oid,
    version: Option<&semver::Version>,
) -> Result<bool, ReleaseError> {
    let Some(tagged) = repo.tag_commit(tag)? else {
        return Ok(false);
    };
    if tagged == head {
        return Ok(true);
    }
    let Some(version) = version else {
        return Ok(false);
    };
    let commit = repo.commit(head)?;
    let message = snapshot_message(&next_snapshot(version));
    Ok(commit.parents == [tagged] && commit.message.trim() == message)
}

/// Pushes the branch and `tags`, recording the `git push` in the lock file while it runs
/// (so that a run after a kill can wait for it).
fn push(
    repo: &shipgate_git::Repo,
    req: &ReleaseRequest,
    tags: &[String],
    lock: &mut RunLock,
    outcome: &mut Outcome,
) -> Result<(), ReleaseError> {
    let mut refspecs: Vec<String> = Vec::new();
    if let Some(branch) = repo.branch() {
        refspecs.push(format!("HEAD:refs/heads/{branch}"));
    }
    refspecs.extend(tags.iter().map(|t| format!("refs/tags/{t}:refs/tags/{t}")));
    let mut recorded = Ok(());
    let pushed = repo.push(&req.settings.remote, &refspecs, &mut |pid| {
        recorded = lock.set_push(Some(pid));
    });
    let cleared = lock.set_push(None);
    let pushed = pushed?;
    recorded.and(cleared)?;
    if pushed == Pushed::AlreadyThere {
        outcome.plan.warnings.push(format!(
            "{} already had {}: an interrupted push got there first",
            req.settings.remote,
            refspecs.join(" ")
        ));
    }
    outcome.pushed = true;
    Ok(())
}
