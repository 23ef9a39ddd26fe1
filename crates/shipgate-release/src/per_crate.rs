//! The per-crate plan (`mode = "per-crate"`): each crate versioned from the commits that
//! touch its directory, its dependents released with it, a changelog per crate and the
//! workspace changelog. In steps: read every crate's line of history in one pass
//! ([`lines`]), decide the versions ([`decide::propagate`]), then write the plan's
//! outputs ([`outputs`], [`workspace_changelog`]).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use semver::Version;
use shipgate_changelog::{InsertOptions, insert_release_with};
use shipgate_git::{CommitInfo, Oid, Repo};
use shipgate_version::Bump;

use crate::decide::{self, CrateBump, Member, classify};
use crate::history::{self, History, TagFormat, TagSource};
use crate::model::{FileChange, LeftOut, PackagePlan, Plan};
use crate::packages::{Manifest, Workspace};
use crate::steps::{
    cargo_changes, changelog_change, changelog_section, check_strict, next_for, rel_str,
};
use crate::{ReleaseError, ReleaseRequest, fsutil};

/// One crate's version line: its history since its last release and what it asks for.
struct Line {
    name: String,
    dir: PathBuf,
    history: History,
    /// The last stable version (or the manifest's, with no tag yet).
    base: Version,
    /// The newest version, prereleases included.
    current: Version,
    bump: Bump,
    kept: Vec<CommitInfo>,
    commits: usize,
    deps: Vec<String>,
}

/// The commit counts of the whole plan, summed over crates.
#[derive(Default)]
struct Counts {
    total: usize,
    conventional: usize,
    non_conventional: usize,
    reverted: usize,
}

pub(crate) fn plan(
    repo: &mut Repo,
    head: Oid,
    req: &ReleaseRequest,
    ws: &Workspace,
    tags: &mut TagSource,
) -> Result<Plan, ReleaseError> {
    if req.version.is_some() {
        return Err(ReleaseError::OverrideInPerCrate);
    }
    if ws.packages.is_empty() {
        return Err(ReleaseError::NoManifest);
    }
    let (mut lines, counts, left_out) = lines(repo, head, req, ws, tags)?;
    let crates: Vec<CrateBump<'_>> = lines
        .iter()
        .map(|l| CrateBump {
            name: &l.name,
            bump: l.bump,
            deps: &l.deps,
        })
        .collect();
    let (bumps, versions) = decide::propagate(&crates, |k, bump| {
        next_for(&lines[k].history, &lines[k].base, bump, req, None)
    })?;
    for (line, bump) in lines.iter_mut().zip(bumps) {
        line.bump = bump;
    }
    let mut warnings: Vec<String> = lines
        .iter()
        .flat_map(|l| l.history.warnings.clone())
        .collect();
    warnings.sort();
    warnings.dedup();
    let mut out = outputs(repo, req, &lines, &versions, &mut warnings)?;
    let mut files = cargo_changes(ws, &versions, None, repo.workdir())?;
    files.append(&mut out.files);
    files.extend(workspace_changelog(
        repo,
        req,
        &lines,
        &out.workspace_sections,
        &mut warnings,
    )?);
    let bump = out
        .packages
        .iter()
        .map(|p| p.bump)
        .max()
        .unwrap_or(Bump::None);
    let joined = out.tags.join(", ");
    Ok(Plan {
        mode: "per-crate".into(),
        current: None,
        next: None,
        bump,
        tag: None,
        prerelease: req.pre.is_some() && !out.tags.is_empty(),
        previous_tag: None,
        commits: counts.total,
        conventional: counts.conventional,
        non_conventional: counts.non_conventional,
        reverted: counts.reverted,
        message: if out.tags.is_empty() {
            String::new()
        } else {
            req.settings
                .commit_message
                .replace("{tag}", &joined)
                .replace("{version}", &joined)
        },
        tags: out.tags,
        packages: out.packages,
        left_out,
        files,
        changelog: (!out.sections.is_empty()).then(|| out.sections.join("\n")),
        head: head.to_string(),
        resumed: false,
        release_commit: None,
        warnings,
        developing: None,
        next_snapshot: None,
    })
}

/// Every released crate's line, from one walk for all of them and one tree comparison per
/// commit for all crate directories: the cost grows with the commits, not commits × crates.
/// Members Cargo would not publish are left out (see [`decide::select`]).
fn lines(
    repo: &mut Repo,
    head: Oid,
    req: &ReleaseRequest,
    ws: &Workspace,
    tags: &mut TagSource,
) -> Result<(Vec<Line>, Counts, Vec<LeftOut>), ReleaseError> {
    let named: Vec<(&Manifest, String)> = ws
        .packages
        .iter()
        .filter_map(|p| p.info.name.clone().map(|n| (p, n)))
        .collect();
    let root = ws.root.as_ref().map(|r| &r.info);
    let members: Vec<Member<'_>> = named
        .iter()
        .map(|(p, name)| Member {
            name,
            unpublished: p.info.unpublished(root),
        })
        .collect();
    let selection =
        decide::select(&members, &req.settings.include_unpublished).map_err(|name| {
            ReleaseError::UnknownUnpublished {
                name: name.to_string(),
                members: members
                    .iter()
                    .map(|m| m.name)
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        })?;
    let left_out: Vec<LeftOut> = selection
        .left_out
        .iter()
        .map(|(k, reason)| LeftOut {
            name: named[*k].1.clone(),
            path: rel_str(&named[*k].0.dir),
            reason: (*reason).to_string(),
        })
        .collect();
    let packages: Vec<(&Manifest, String, Version)> = selection
        .released
        .iter()
        .map(|k| (named[*k].0, named[*k].1.clone()))
        .map(|(p, name)| {
            let own = p
                .info
                .own_version
                .clone()
                .ok_or_else(|| ReleaseError::InheritedInPerCrate { name: name.clone() })?;
            Ok((p, name, own))
        })
        .collect::<Result<_, ReleaseError>>()?;
    let formats: Vec<TagFormat> = packages
        .iter()
        .map(|(_, name, _)| TagFormat::new(&req.settings.crate_tag_format, Some(name)))
        .collect();
    let histories = history::read_many(repo, head, &formats, tags, &req.settings.remote)?;
    let dirs: Vec<PathBuf> = packages.iter().map(|(p, _, _)| p.dir.clone()).collect();
    let mut touched: HashMap<Oid, Vec<bool>> = HashMap::new();
    for h in &histories {
        for commit in &h.commits {
            if let std::collections::hash_map::Entry::Vacant(slot) = touched.entry(commit.id) {
                slot.insert(repo.touched(commit, &dirs)?);
            }
        }
    }
    let mut counts = Counts::default();
    let mut lines = Vec::with_capacity(packages.len());
    for (k, ((p, name, own), h)) in packages.into_iter().zip(histories).enumerate() {
        let c = classify(&h.commits, &req.settings.bump, &|c| {
            touched.get(&c.id).is_some_and(|t| t[k])
        });
        check_strict(req, &c)?;
        counts.total += c.total;
        counts.conventional += c.conventional;
        counts.non_conventional += c.non_conventional.len();
        counts.reverted += c.reverted;
        let base = h
            .stable
            .as_ref()
            .map(|r| r.version.clone())
            .unwrap_or_else(|| own.clone());
        let current = h.latest.as_ref().map(|r| r.version.clone()).unwrap_or(own);
        let kept = c.kept.iter().map(|x| (*x).clone()).collect();
        lines.push(Line {
            name,
            dir: p.dir.clone(),
            base,
            current,
            bump: c.bump,
            kept,
            commits: c.total,
            deps: p.info.path_dependencies.clone(),
            history: h,
        });
    }
    Ok((lines, counts, left_out))
}

/// What the released crates add to the plan.
struct Outputs {
    /// Each released crate's own CHANGELOG.md.
    files: Vec<FileChange>,
    /// `name:\nsection` per released crate, for the plan's `changelog`.
    sections: Vec<String>,
    /// (tag, section headed by the tag) per released crate, for the workspace changelog.
    workspace_sections: Vec<(String, String)>,
    /// Every crate, released or not.
    packages: Vec<PackagePlan>,
    tags: Vec<String>,
}

fn outputs(
    repo: &Repo,
    req: &ReleaseRequest,
    lines: &[Line],
    versions: &BTreeMap<String, Version>,
    warnings: &mut Vec<String>,
) -> Result<Outputs, ReleaseError> {
    let mut out = Outputs {
        files: Vec::new(),
        sections: Vec::new(),
        workspace_sections: Vec::new(),
        packages: Vec::new(),
        tags: Vec::new(),
    };
    for line in lines {
        let next = versions.get(&line.name).cloned();
        let tag = next
            .as_ref()
            .map(|v| TagFormat::new(&req.settings.crate_tag_format, Some(&line.name)).render(v));
        if let (Some(next), Some(tag)) = (&next, &tag) {
            let kept = || line.kept.iter().map(crate::changelog::input).collect();
            let previous = line.history.latest.as_ref().map(|r| r.name.as_str());
            let section = changelog_section(
                repo,
                &next.to_string(),
                &req.date,
                tag,
                previous,
                kept(),
                req,
            );
            out.workspace_sections.push((
                tag.clone(),
                changelog_section(repo, tag, &req.date, tag, previous, kept(), req),
            ));
            out.files.extend(changelog_change(
                repo, &line.dir, req, next, &section, warnings,
            )?);
            out.sections.push(format!("{}:\n{section}", line.name));
            out.tags.push(tag.clone());
        }
        out.packages.push(PackagePlan {
            name: line.name.clone(),
            path: rel_str(&line.dir),
            current: Some(line.current.clone()),
            next,
            bump: line.bump,
            tag,
            commits: line.commits,
        });
    }
    Ok(out)
}

/// The workspace changelog: every crate's release of this run, headed by its tag, from the
/// same pass (unless the root is itself a crate, whose changelog that file is).
fn workspace_changelog(
    repo: &Repo,
    req: &ReleaseRequest,
    lines: &[Line],
    sections: &[(String, String)],
    warnings: &mut Vec<String>,
) -> Result<Option<FileChange>, ReleaseError> {
    if req.settings.changelog.is_empty()
        || sections.is_empty()
        || lines.iter().any(|l| l.dir.as_os_str().is_empty())
    {
        return Ok(None);
    }
    let rel = PathBuf::from(&req.settings.changelog);
    let existing = fsutil::read_optional(&repo.workdir().join(&rel))?;
    let mut text = existing.clone();
    for (tag, section) in sections.iter().rev() {
        let options = InsertOptions {
            version: tag,
            section,
            fold_prereleases: false,
        };
        let inserted = insert_release_with(text.as_deref(), &options);
        if let Some(w) = inserted.warning {
            warnings.push(format!("{}: {w}", rel_str(&rel)));
        }
        text = Some(inserted.text);
    }
    Ok(text
        .filter(|t| Some(t) != existing.as_ref())
        .map(|contents| FileChange {
            path: rel_str(&rel),
            contents,
        }))
}
