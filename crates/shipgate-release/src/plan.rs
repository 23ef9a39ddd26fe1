//! Planning a release: the next version(s), the file edits, the changelog section and the
//! tags, computed from history and the work tree without writing anything.

use std::collections::BTreeMap;
use std::path::Path;

use semver::Version;
use shipgate_changelog::CommitInput;
use shipgate_git::Repo;
use shipgate_version::bump;

use crate::changelog;
use crate::decide::classify;
use crate::files::{self, ReleaseFileText};
use crate::history::{self, TagFormat, TagSource};
use crate::model::{PackagePlan, Plan};
use crate::packages::{self, Workspace};
use crate::steps::{
    cargo_changes, changelog_change, changelog_section, check_strict, next_for, rel_str,
};
use crate::{ReleaseError, ReleaseRequest, journal, per_crate};
use shipgate_settings::release::Mode;

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

fn plan_unified(
    repo: &mut Repo,
    head: shipgate_git::Oid,
    req: &ReleaseRequest,
    ws: &Workspace,
    tags: &mut TagSource,
) -> Result<Plan, ReleaseError> {
    let format = TagFormat::new(&req.settings.tag_format, None);
    let h = history::read(repo, head, &format, tags, &req.settings.remote)?;
    let mut c = classify(&h.commits, &req.settings.bump, &|_| true);
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
        // the messages as the bump parsed them: the section does not parse them again
        c.kept
            .iter()
            .zip(std::mem::take(&mut c.kept_messages))
            .map(|(commit, parsed)| CommitInput {
                parsed: Some(parsed),
                ..changelog::input(commit)
            })
            .collect(),
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
