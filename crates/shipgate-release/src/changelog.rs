//! `shipgate changelog`: the releases of a range of history (the whole history, the
//! unreleased changes, or `A..B`) gathered into the changelog model's input.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use shipgate_changelog::{ChangelogInput, CommitInput, ReleaseInput};
use shipgate_git::{CommitInfo, Oid, Repo};

use crate::history::{Release, Releases, TagFormat};
use crate::{ReleaseError, ReleaseSettings};

/// Which part of history to describe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Span {
    /// Every release, and the unreleased changes on top.
    All,
    /// The commits since the newest release reachable from HEAD.
    Unreleased,
    /// `A..B`: reachable from B and not from A.
    Range { from: String, to: String },
    /// One release, by its tag, as in the whole history.
    Release { tag: String },
}

/// What `collect` needs.
#[derive(Debug, Clone)]
pub struct ChangelogRequest {
    pub repo: PathBuf,
    pub settings: ReleaseSettings,
    pub span: Span,
    /// One crate of the workspace: its tags (`crate-tag-format`) and the commits touching
    /// its directory.
    pub package: Option<String>,
}

pub(crate) fn input(c: &CommitInfo) -> CommitInput {
    CommitInput {
        id: c.id.to_string(),
        message: c.message.clone(),
        author_name: c.author_name.clone(),
        author_email: c.author_email.clone(),
        ..Default::default()
    }
}

/// The commits a changelog lists: merges left out, and for one crate only those that touch
/// its directory.
fn inputs(
    repo: &Repo,
    commits: &[CommitInfo],
    package_dir: Option<&std::path::Path>,
) -> Result<Vec<CommitInput>, ReleaseError> {
    let mut out = Vec::with_capacity(commits.len());
    for c in commits.iter().filter(|c| c.parents.len() <= 1) {
        let touched = match package_dir {
            Some(dir) => repo
                .touched(c, &[dir.to_path_buf()])?
                .first()
                .copied()
                .unwrap_or(false),
            None => true,
        };
        if touched {
            out.push(input(c));
        }
    }
    Ok(out)
}

fn date(repo: &Repo, id: Oid) -> Result<String, ReleaseError> {
    let c = repo.commit(id)?;
    let t = time::OffsetDateTime::from_unix_timestamp(c.time)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Ok(t.format(&format).unwrap_or_default())
}

fn best(releases: &Releases, boundaries: &[Oid]) -> Option<Release> {
    boundaries
        .iter()
        .flat_map(|b| releases.on(*b))
        .max_by(|a, b| a.version.cmp(&b.version))
        .cloned()
}

/// A release described: its input, and the releases its walk reached (its boundaries and
/// the tagged commits it passed), newest first as walked.
type Described = Result<(ReleaseInput, Vec<Oid>), ReleaseError>;

/// One release: its commits are walked from its tag down to the previous release of its
/// kind (a stable release reaches back to the previous stable one, so it gathers its
/// release candidates' changes; a prerelease stops at any release).
fn describe(
    repo: &Repo,
    releases: &Releases,
    commit: Oid,
    release: &Release,
    remote_url: Option<String>,
    package_dir: Option<&std::path::Path>,
) -> Result<(ReleaseInput, shipgate_git::Walk), ReleaseError> {
    let stable = release.version.pre.is_empty();
    let stop = |id: Oid| {
        id != commit
            && releases
                .on(id)
                .iter()
                .any(|r| !stable || r.version.pre.is_empty())
    };
    let walk = repo.walk(commit, &stop)?;
    let input = ReleaseInput {
        version: Some(release.version.to_string()),
        previous_tag: best(releases, &walk.boundaries).map(|r| r.name),
        tag: Some(release.name.clone()),
        date: Some(date(repo, commit)?),
        commits: inputs(repo, &walk.commits, package_dir)?,
        remote_url,
        ..Default::default()
    };
    Ok((input, walk))
}

/// Gathers the releases of `req.span`, newest first. Each release's commits are walked
/// once from its tag down to the previous release of its kind (a stable release reaches
/// back to the previous stable one, so it gathers its release candidates' changes).
pub fn collect(req: &ChangelogRequest) -> Result<ChangelogInput, ReleaseError> {
    let repo = shipgate_git::open(&req.repo)?;
    let head = repo.head()?;
    let (format, package_path) = match &req.package {
        None => (TagFormat::new(&req.settings.tag_format, None), None),
        Some(name) => {
            let ws = crate::packages::discover(repo.workdir())?;
            let p = ws
                .packages
                .iter()
                .find(|p| p.info.name.as_deref() == Some(name))
                .ok_or_else(|| ReleaseError::UnknownPackage { name: name.clone() })?;
            (
                TagFormat::new(&req.settings.crate_tag_format, Some(name)),
                Some(p.dir.clone()),
            )
        }
    };
    let package_dir = package_path.as_deref();
    let releases = Releases::new(&repo.tags()?, &format);
    let remote_url = repo.remote_url(&req.settings.remote);
    let any = |id: Oid| !releases.on(id).is_empty();
    let mut out = ChangelogInput {
        releases: Vec::new(),
        remote_url: remote_url.clone(),
    };
    // The unreleased changes; the walk's boundaries are the newest releases.
    let unreleased = |out: &mut ChangelogInput| -> Result<Vec<Oid>, ReleaseError> {
        let walk = repo.walk(head, &any)?;
        let commits: Vec<CommitInput> = inputs(&repo, &walk.commits, package_dir)?;
        out.releases.push(ReleaseInput {
            previous_tag: best(&releases, &walk.boundaries).map(|r| r.name),
            commits,
            remote_url: remote_url.clone(),
            ..Default::default()
        });
        Ok(walk.boundaries)
    };
    match &req.span {
        Span::Unreleased => {
            unreleased(&mut out)?;
        }
        Span::Range { from, to } => {
            let (a, b) = (repo.resolve(from)?, repo.resolve(to)?);
            let commits: Vec<CommitInput> = inputs(&repo, &repo.range(b, &[a])?, package_dir)?;
            let tagged = releases
                .on(b)
                .iter()
                .max_by(|x, y| x.version.cmp(&y.version))
                .cloned();
            out.releases.push(ReleaseInput {
                version: tagged.as_ref().map(|r| r.version.to_string()),
                tag: tagged.map(|r| r.name),
                previous_tag: releases
                    .on(a)
                    .iter()
                    .max_by(|x, y| x.version.cmp(&y.version))
                    .map(|r| r.name.clone()),
                date: Some(date(&repo, b)?),
                commits,
                remote_url: remote_url.clone(),
                ..Default::default()
            });
        }
        Span::Release { tag } => {
            let commit = repo
                .tag_commit(tag)?
                .ok_or_else(|| ReleaseError::UnknownTag { tag: tag.clone() })?;
            let release = releases
                .on(commit)
                .iter()
                .find(|r| r.name == *tag)
                .cloned()
                .ok_or_else(|| ReleaseError::UnknownTag { tag: tag.clone() })?;
            out.releases.push(
                describe(
                    &repo,
                    &releases,
                    commit,
                    &release,
                    remote_url.clone(),
                    package_dir,
                )?
                .0,
            );
        }
        Span::All => {
            // Releases reachable from HEAD, found walk by walk: a walk's boundaries and the
            // tagged commits it passes are the next releases to describe. Every release is
            // described first, on all cores (each walk stops at the previous release of its
            // kind, so they are independent), then the reachable ones are taken.
            let mut queue: Vec<Oid> = unreleased(&mut out)?;
            let all = releases.each();
            let mut handles = vec![repo];
            for _ in 1..shipgate_stdx::par::threads(all.len()) {
                handles.push(shipgate_git::open(&req.repo)?);
            }
            let mut ready: Vec<Option<Described>> =
                shipgate_stdx::par::map_with(&all, &mut handles, |repo, (commit, release)| {
                    let (input, walk) = describe(
                        repo,
                        &releases,
                        *commit,
                        release,
                        remote_url.clone(),
                        package_dir,
                    )?;
                    let next = walk
                        .boundaries
                        .iter()
                        .copied()
                        .chain(walk.commits.iter().map(|c| c.id))
                        .filter(|id| any(*id))
                        .collect();
                    Ok((input, next))
                })
                .into_iter()
                .map(Some)
                .collect();
            let at: HashMap<(Oid, &str), usize> = all
                .iter()
                .enumerate()
                .map(|(i, (commit, release))| ((*commit, release.name.as_str()), i))
                .collect();
            let mut seen: HashSet<Oid> = queue.iter().copied().collect();
            let mut described = Vec::new();
            while let Some(commit) = queue.pop() {
                for release in releases.on(commit) {
                    // A release no walk from HEAD reaches is never asked for, nor its error.
                    let (described_one, next) = at
                        .get(&(commit, release.name.as_str()))
                        .and_then(|i| ready[*i].take())
                        .ok_or_else(|| ReleaseError::UnknownTag {
                            tag: release.name.clone(),
                        })??;
                    for id in next {
                        if seen.insert(id) {
                            queue.push(id);
                        }
                    }
                    described.push(described_one);
                }
            }
            described.sort_by_cached_key(|r| {
                std::cmp::Reverse(
                    r.version
                        .as_deref()
                        .and_then(|v| semver::Version::parse(v).ok()),
                )
            });
            out.releases.extend(described);
        }
    }
    Ok(out)
}
