//! The release journal: `.git/shipgate/release.json`, written before the first file and
//! removed after the last step. A run that finds it finishes the interrupted release from
//! where the repository says it stopped (before the release commit, at it, or at the next
//! development version's commit after it), with the same plan, instead of planning anew.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use shipgate_git::{CommitInfo, Oid, Repo};

use crate::model::{FileChange, Plan};
use crate::{ReleaseError, fsutil};

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Journal {
    pub plan: Plan,
    /// (path, contents) of every file the release writes.
    pub files: Vec<(String, String)>,
    /// (path, contents) of every file the next development version's commit writes.
    #[serde(default)]
    pub snapshot_files: Vec<(String, String)>,
}

pub(crate) fn path(repo: &Repo) -> PathBuf {
    repo.git_dir().join("shipgate").join("release.json")
}

pub(crate) fn load(repo: &Repo) -> Result<Option<Journal>, ReleaseError> {
    let path = path(repo);
    let Some(text) = fsutil::read_optional(&path)? else {
        return Ok(None);
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| ReleaseError::Journal {
            path,
            message: e.to_string(),
        })
}

pub(crate) fn save(repo: &Repo, plan: &Plan) -> Result<(), ReleaseError> {
    let path = path(repo);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| ReleaseError::Io {
            action: "create",
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let journal = Journal {
        plan: plan.clone(),
        files: plan
            .files
            .iter()
            .map(|f| (f.path.clone(), f.contents.clone()))
            .collect(),
        snapshot_files: plan
            .next_snapshot
            .iter()
            .flat_map(|s| &s.files)
            .map(|f| (f.path.clone(), f.contents.clone()))
            .collect(),
    };
    let text = serde_json::to_string(&journal).map_err(|e| ReleaseError::Journal {
        path: path.clone(),
        message: e.to_string(),
    })?;
    fsutil::write_atomic(&path, text.as_bytes())
}

pub(crate) fn remove(repo: &Repo) -> Result<(), ReleaseError> {
    let path = path(repo);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(ReleaseError::Io {
            action: "remove",
            path,
            source,
        }),
    }
}

/// The plan to finish, when the journal matches the repository: HEAD is still where the
/// release started (files may be half written), HEAD is the release commit on top of it, or
/// HEAD is the next development version's commit on top of that. `None` (a stale journal)
/// when HEAD has moved elsewhere.
pub(crate) fn resumable(
    repo: &Repo,
    head: Oid,
    journal: Journal,
) -> Result<Option<Plan>, ReleaseError> {
    let mut plan = journal.plan;
    plan.resumed = true;
    if let Some(snapshot) = plan.next_snapshot.as_mut() {
        snapshot.files = changes(journal.snapshot_files);
    }
    if plan.head == head.to_string() {
        plan.files = changes(journal.files);
        return Ok(Some(plan));
    }
    let commit = repo.commit(head)?;
    if is_release_commit(&commit, &plan) {
        plan.release_commit = Some(head.to_string());
        return Ok(Some(plan));
    }
    let release = match (&plan.next_snapshot, commit.parents.as_slice()) {
        (Some(snapshot), [parent]) if commit.message.trim() == snapshot.message.trim() => {
            Some(repo.commit(*parent)?)
        }
        _ => None,
    };
    if let Some(release) = release.filter(|r| is_release_commit(r, &plan)) {
        plan.release_commit = Some(release.id.to_string());
        if let Some(snapshot) = plan.next_snapshot.as_mut() {
            snapshot.commit = Some(head.to_string());
        }
        return Ok(Some(plan));
    }
    Ok(None)
}

fn changes(files: Vec<(String, String)>) -> Vec<FileChange> {
    files
        .into_iter()
        .map(|(path, contents)| FileChange { path, contents })
        .collect()
}

/// Whether `commit` is the plan's release commit: its message, on the commit it started from.
fn is_release_commit(commit: &CommitInfo, plan: &Plan) -> bool {
    commit.parents.len() == 1
        && commit.parents[0].to_string() == plan.head
        && commit.message.trim() == plan.message.trim()
}
