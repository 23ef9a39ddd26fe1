//! What both ways of planning a release share (one version for the workspace, or one per
//! crate): the strict check, the changelog section and its file, the Cargo edits, the next
//! version of a line of history. Below `plan` and `per_crate`, which both use it.

use std::collections::BTreeMap;
use std::path::Path;

use semver::Version;
use shipgate_changelog::{
    CommitInput, InsertOptions, ReleaseInput, insert_release_with, render_release,
};
use shipgate_git::Repo;
use shipgate_version::bump::NextVersion;
use shipgate_version::manifest::{CargoEdit, edit_cargo, edit_lock};
use shipgate_version::{Bump, next_version};

use crate::decide::Classified;
use crate::history::History;
use crate::model::FileChange;
use crate::packages::Workspace;
use crate::{ReleaseError, ReleaseRequest, fsutil};

pub(crate) fn check_strict(req: &ReleaseRequest, c: &Classified<'_>) -> Result<(), ReleaseError> {
    if !req.settings.strict || c.non_conventional.is_empty() {
        return Ok(());
    }
    let list = c
        .non_conventional
        .iter()
        .take(10)
        .map(|x| {
            format!(
                "  {} {}",
                &x.id.to_string()[..8],
                x.message.lines().next().unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    Err(ReleaseError::Strict {
        count: c.non_conventional.len(),
        list,
    })
}

pub(crate) fn rel_str(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

/// One release's changelog section; `label` is its heading (`1.4.0`, or a crate's tag in
/// the workspace changelog of per-crate mode).
pub(crate) fn changelog_section(
    repo: &Repo,
    label: &str,
    date: &str,
    tag: &str,
    previous: Option<&str>,
    commits: Vec<CommitInput>,
    req: &ReleaseRequest,
) -> String {
    let remote_url = repo.remote_url(&req.settings.remote);
    let input = ReleaseInput {
        version: Some(label.to_string()),
        tag: Some(tag.to_string()),
        previous_tag: previous.map(str::to_string),
        date: Some(date.to_string()),
        commits,
        remote_url,
        ..Default::default()
    };
    render_release(&input, &req.changelog)
}

pub(crate) fn changelog_change(
    repo: &Repo,
    dir: &Path,
    req: &ReleaseRequest,
    version: &Version,
    section: &str,
    warnings: &mut Vec<String>,
) -> Result<Option<FileChange>, ReleaseError> {
    if req.settings.changelog.is_empty() {
        return Ok(None);
    }
    let rel = dir.join(&req.settings.changelog);
    let existing = fsutil::read_optional(&repo.workdir().join(&rel))?;
    let version = version.to_string();
    let options = InsertOptions {
        version: &version,
        section,
        fold_prereleases: req.changelog.fold_prereleases,
    };
    let inserted = insert_release_with(existing.as_deref(), &options);
    if let Some(w) = inserted.warning {
        warnings.push(format!("{}: {w}", rel_str(&rel)));
    }
    Ok(inserted.changed.then(|| FileChange {
        path: rel_str(&rel),
        contents: inserted.text,
    }))
}

/// Edits of every Cargo manifest and Cargo.lock for the new versions.
pub(crate) fn cargo_changes(
    ws: &Workspace,
    versions: &BTreeMap<String, Version>,
    workspace_version: Option<&Version>,
    workdir: &Path,
) -> Result<Vec<FileChange>, ReleaseError> {
    let mut out = Vec::new();
    for m in ws.manifests() {
        let own = m
            .info
            .name
            .as_ref()
            .and_then(|n| versions.get(n))
            .filter(|_| m.info.own_version.is_some());
        let ws_version = workspace_version.filter(|_| m.info.workspace_version.is_some());
        let edit = CargoEdit {
            package_version: own,
            workspace_version: ws_version,
            dependencies: versions,
        };
        let text = edit_cargo(&m.text, &edit)
            .map_err(|e| ReleaseError::manifest(workdir.join(&m.path), e))?;
        if text != m.text {
            out.push(FileChange {
                path: rel_str(&m.path),
                contents: text,
            });
        }
    }
    if let Some((path, text)) = &ws.lock {
        let new =
            edit_lock(text, versions).map_err(|e| ReleaseError::manifest(workdir.join(path), e))?;
        if new != *text {
            out.push(FileChange {
                path: rel_str(path),
                contents: new,
            });
        }
    }
    Ok(out)
}

pub(crate) fn next_for(
    h: &History,
    base: &Version,
    bump: Bump,
    req: &ReleaseRequest,
    developing: Option<&Version>,
) -> Result<Option<Version>, ReleaseError> {
    Ok(next_version(&NextVersion {
        base,
        latest: h.latest.as_ref().map(|r| &r.version),
        bump,
        commits_since_latest: h.since_latest,
        pre: req.pre.as_deref(),
        existing: &h.existing,
        developing,
    })?)
}
