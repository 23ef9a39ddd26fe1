//! Planning a release: the next version(s), the file edits, the changelog section and the
//! tags, computed from history and the work tree without writing anything.

use std::collections::BTreeMap;
use std::path::Path;

use semver::Version;
use serde::{Deserialize, Serialize};
use shipgate_changelog::{InsertOptions, ReleaseInput, insert_release_with, render_release};
use shipgate_git::{CommitInfo, Repo};
use shipgate_version::bump::NextVersion;
use shipgate_version::manifest::{CargoEdit, edit_cargo, edit_lock};
use shipgate_version::{Bump, bump, next_version};

use crate::decide::{Classified, classify};
use crate::files::{self, Developing, ReleaseFileText, SnapshotPlan};
use crate::history::{self, History, TagFormat, TagSource};
use crate::packages::{self, Workspace};
use crate::settings::Mode;
use crate::{ReleaseError, ReleaseRequest, fsutil, journal, per_crate};

/// A file the release writes, with its new contents.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileChange {
    /// Relative to the repository root, `/`-separated.
    pub path: String,
    #[serde(skip_serializing, default)]
    pub contents: String,
}

/// One package's part of the release (per-crate mode, or the workspace's members).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PackagePlan {
    pub name: String,
    pub path: String,
    pub current: Option<Version>,
    pub next: Option<Version>,
    pub bump: Bump,
    pub tag: Option<String>,
    pub commits: usize,
}

/// A workspace member a per-crate release leaves out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftOut {
    pub name: String,
    pub path: String,
    /// `publish = false`, `publish = []`, …
    pub reason: String,
}

/// What a release will do. `--dry-run --json` prints it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub mode: String,
    /// The newest release reachable from HEAD (or the manifest's version with no tag).
    pub current: Option<Version>,
    /// `None`: nothing to release.
    pub next: Option<Version>,
    pub bump: Bump,
    /// The release tag (unified mode).
    pub tag: Option<String>,
    /// Every tag the release makes.
    pub tags: Vec<String>,
    pub previous_tag: Option<String>,
    pub prerelease: bool,
    /// Commits considered (merge commits excluded).
    pub commits: usize,
    pub conventional: usize,
    pub non_conventional: usize,
    /// Commits cancelled by a revert in the same range (both counted).
    pub reverted: usize,
    pub packages: Vec<PackagePlan>,
    /// Per-crate mode: members Cargo would not publish, which the release leaves out
    /// (unless `[release] include-unpublished` names them).
    #[serde(default)]
    pub left_out: Vec<LeftOut>,
    pub files: Vec<FileChange>,
    /// The release commit's message.
    pub message: String,
    /// The new changelog section(s).
    pub changelog: Option<String>,
    /// HEAD when planned.
    pub head: String,
    /// An interrupted release is being finished.
    pub resumed: bool,
    /// When finishing an interrupted release: its commit, already made.
    pub release_commit: Option<String>,
    pub warnings: Vec<String>,
    /// A release file's `-SNAPSHOT` that raised the release to its version (the commits
    /// asked for less).
    #[serde(default)]
    pub developing: Option<Developing>,
    /// `[release] next-snapshot`: the commit after the release and its tag that sets the
    /// next development version.
    #[serde(default)]
    pub next_snapshot: Option<SnapshotPlan>,
}

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

/// Plans the release that `run` would make. Reads only (a shallow clone may be deepened).
pub fn plan(req: &ReleaseRequest) -> Result<Plan, ReleaseError> {
    let mut repo = shipgate_git::open(&req.repo)?;
    let head = repo.head()?;
    if let Some(j) = journal::load(&repo)?
        && let Some(plan) = journal::resumable(&repo, head, j)?
    {
        return Ok(plan);
    }
    plan_fresh(&mut repo, head, req)
}

pub(crate) fn plan_fresh(
    repo: &mut Repo,
    head: shipgate_git::Oid,
    req: &ReleaseRequest,
) -> Result<Plan, ReleaseError> {
    let ws = packages::discover(repo.workdir())?;
    let mut tags = TagSource::new(repo)?;
    match req.settings.mode {
        Mode::Unified => plan_unified(repo, head, req, &ws, &mut tags),
        Mode::PerCrate => per_crate::plan(repo, head, req, &ws, &mut tags),
    }
}

/// The version the manifests hold, for a repository with no release tag yet: Cargo's, else
/// the first `[[release.files]]` entry's.
fn manifest_version(ws: &Workspace, files: &[ReleaseFileText]) -> Result<Version, ReleaseError> {
    if let Some(root) = &ws.root
        && let Some(v) = root
            .info
            .workspace_version
            .clone()
            .or_else(|| root.info.own_version.clone())
    {
        return Ok(v);
    }
    if let Some(v) = ws.packages.iter().find_map(|p| p.info.own_version.clone()) {
        return Ok(v);
    }
    files
        .first()
        .and_then(|f| f.found.first())
        .map(|f| f.version.clone())
        .ok_or(ReleaseError::NoManifest)
}

/// One release's changelog section; `label` is its heading (`1.4.0`, or a crate's tag in
/// the workspace changelog of per-crate mode).
pub(crate) fn changelog_section(
    repo: &Repo,
    label: &str,
    date: &str,
    tag: &str,
    previous: Option<&str>,
    commits: &[&CommitInfo],
    req: &ReleaseRequest,
) -> String {
    let remote_url = repo.remote_url(&req.settings.remote);
    let input = ReleaseInput {
        version: Some(label.to_string()),
        tag: Some(tag.to_string()),
        previous_tag: previous.map(str::to_string),
        date: Some(date.to_string()),
        commits: commits.iter().map(|c| crate::changelog::input(c)).collect(),
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

fn plan_unified(
    repo: &mut Repo,
    head: shipgate_git::Oid,
    req: &ReleaseRequest,
    ws: &Workspace,
    tags: &mut TagSource,
) -> Result<Plan, ReleaseError> {
    let format = TagFormat::new(&req.settings.tag_format, None);
    let h = history::read(repo, head, &format, tags, &req.settings.remote)?;
    let c = classify(&h.commits, &req.settings.bump, &|_| true);
    check_strict(req, &c)?;
    let release_files = files::read_all(repo.workdir(), &req.settings)?;
    let manifest = match &h.stable {
        Some(_) => None,
        None => Some(manifest_version(ws, &release_files)?),
    };
    let base = h
        .stable
        .as_ref()
        .map(|r| r.version.clone())
        .or_else(|| manifest.clone())
        .ok_or(ReleaseError::NoManifest)?;
    let current = h.latest.as_ref().map(|r| r.version.clone()).or(manifest);
    let developing = files::developing(&release_files);
    let next = match &req.version {
        Some(v) => {
            if let Some(cur) = current.as_ref().filter(|cur| v <= *cur) {
                return Err(ReleaseError::OverrideNotGreater {
                    requested: v.clone(),
                    current: cur.clone(),
                });
            }
            Some(v.clone())
        }
        None => next_for(
            &h,
            &base,
            c.bump,
            req,
            developing.as_ref().map(|d| &d.version),
        )?,
    };
    let mut warnings = h.warnings.clone();
    warnings.extend(files::advice(&release_files));
    let mut plan = Plan {
        mode: "unified".into(),
        current,
        next: next.clone(),
        bump: c.bump,
        tag: None,
        tags: Vec::new(),
        previous_tag: h.latest.as_ref().map(|r| r.name.clone()),
        prerelease: next.as_ref().is_some_and(|v| !v.pre.is_empty()),
        commits: c.total,
        conventional: c.conventional,
        non_conventional: c.non_conventional.len(),
        reverted: c.reverted,
        packages: Vec::new(),
        left_out: Vec::new(),
        files: Vec::new(),
        message: String::new(),
        changelog: None,
        head: head.to_string(),
        resumed: false,
        release_commit: None,
        warnings: Vec::new(),
        developing: None,
        next_snapshot: None,
    };
    let Some(next) = next else {
        plan.warnings = warnings;
        return Ok(plan);
    };
    warnings.extend(files::check(&release_files, plan.current.as_ref(), &next)?);
    // The release is the version a file's SNAPSHOT develops: say so beside the bump.
    plan.developing =
        developing.filter(|d| req.version.is_none() && bump::core(&d.version) == bump::core(&next));
    let tag = format.render(&next);
    let versions: BTreeMap<String, Version> = ws
        .packages
        .iter()
        .filter_map(|p| p.info.name.clone())
        .map(|n| (n, next.clone()))
        .collect();
    plan.packages = ws
        .packages
        .iter()
        .filter_map(|p| {
            Some(PackagePlan {
                name: p.info.name.clone()?,
                path: rel_str(&p.dir),
                current: p.info.own_version.clone().or_else(|| {
                    ws.root
                        .as_ref()
                        .and_then(|r| r.info.workspace_version.clone())
                }),
                next: Some(next.clone()),
                bump: c.bump,
                tag: Some(tag.clone()),
                commits: c.total,
            })
        })
        .collect();
    let mut changes = cargo_changes(ws, &versions, Some(&next), repo.workdir())?;
    let released = files::changes(&release_files, &next, repo.workdir())?;
    plan.next_snapshot = files::snapshot(&release_files, &released, &next, repo.workdir())?;
    if req.settings.next_snapshot && release_files.is_empty() {
        warnings.push(
            "[release] next-snapshot = true, but there is no [[release.files]] entry to hold the next development version".into(),
        );
    }
    changes.extend(released);
    let section = changelog_section(
        repo,
        &next.to_string(),
        &req.date,
        &tag,
        plan.previous_tag.as_deref(),
        &c.kept,
        req,
    );
    changes.extend(changelog_change(
        repo,
        Path::new(""),
        req,
        &next,
        &section,
        &mut warnings,
    )?);
    plan.message = req
        .settings
        .commit_message
        .replace("{tag}", &tag)
        .replace("{version}", &next.to_string());
    plan.changelog = Some(section);
    plan.tag = Some(tag.clone());
    plan.tags = vec![tag];
    plan.files = changes;
    plan.warnings = warnings;
    Ok(plan)
}

impl Plan {
    /// True when the plan makes a release.
    pub fn releases(&self) -> bool {
        !self.tags.is_empty()
    }
}

/// The plan as a few aligned lines, for people.
/// The bump in words; below 1.0 it says what Cargo's rule made of it (a feature is a patch,
/// a breaking change a minor).
fn bump_label(current: Option<&semver::Version>, bump: Bump) -> String {
    match (current.map(|c| c.major), bump) {
        (Some(0), Bump::Minor) => "minor changes: a patch below 1.0".into(),
        (Some(0), Bump::Major) => "breaking changes: a minor below 1.0".into(),
        (_, b) => b.to_string(),
    }
}

impl std::fmt::Display for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = |v: &Option<Version>| v.as_ref().map_or("none".to_string(), ToString::to_string);
        if self.resumed {
            writeln!(f, "resuming   an interrupted release")?;
        }
        if self.mode == "per-crate" {
            for p in &self.packages {
                writeln!(
                    f,
                    "{:<24} {} -> {} ({})",
                    p.name,
                    v(&p.current),
                    v(&p.next),
                    bump_label(p.current.as_ref(), p.bump)
                )?;
            }
            for l in &self.left_out {
                writeln!(
                    f,
                    "{:<24} left out: {} (name it in [release] include-unpublished to release it)",
                    l.name, l.reason
                )?;
            }
        } else {
            let previous = self
                .previous_tag
                .as_ref()
                .map(|t| format!(" ({t})"))
                .unwrap_or_default();
            writeln!(f, "current    {}{previous}", v(&self.current))?;
            let developing = self
                .developing
                .as_ref()
                .map(|d| format!("; {} develops {}", d.path, d.version))
                .unwrap_or_default();
            writeln!(
                f,
                "next       {} ({}{developing})",
                v(&self.next),
                bump_label(self.current.as_ref(), self.bump)
            )?;
        }
        if self.releases() {
            writeln!(f, "tag        {}", self.tags.join(", "))?;
        } else {
            writeln!(f, "nothing to release")?;
        }
        writeln!(
            f,
            "commits    {} considered: {} conventional, {} other, {} reverted",
            self.commits, self.conventional, self.non_conventional, self.reverted
        )?;
        if !self.files.is_empty() {
            let files: Vec<&str> = self.files.iter().map(|f| f.path.as_str()).collect();
            writeln!(f, "files      {}", files.join(", "))?;
        }
        if let Some(snapshot) = self.next_snapshot.as_ref().filter(|_| self.releases()) {
            let files: Vec<&str> = snapshot.files.iter().map(|f| f.path.as_str()).collect();
            writeln!(
                f,
                "then       {} after the tag: {}",
                snapshot.message,
                files.join(", ")
            )?;
        }
        if let Some(section) = &self.changelog {
            writeln!(f)?;
            write!(f, "{section}")?;
            if !section.ends_with('\n') {
                writeln!(f)?;
            }
        }
        Ok(())
    }
}
