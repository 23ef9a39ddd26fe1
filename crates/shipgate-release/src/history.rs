//! Release history: which tags are releases, the last stable and the newest release
//! reachable from HEAD, and the commits since; shallow clones are deepened until the
//! answer is certain, or refused.

use std::collections::HashSet;

use semver::Version;
use shipgate_git::{CommitInfo, Oid, Repo, Tag};

use crate::ReleaseError;

/// A tag format such as `v{version}` or `api-v{version}`.
#[derive(Debug, Clone)]
pub(crate) struct TagFormat {
    prefix: String,
    suffix: String,
}

impl TagFormat {
    pub(crate) fn new(format: &str, crate_name: Option<&str>) -> Self {
        let format = match crate_name {
            Some(name) => format.replace("{crate}", name),
            None => format.to_string(),
        };
        let (prefix, suffix) = format
            .split_once("{version}")
            .unwrap_or((format.as_str(), ""));
        TagFormat {
            prefix: prefix.to_string(),
            suffix: suffix.to_string(),
        }
    }

    pub(crate) fn render(&self, v: &Version) -> String {
        format!("{}{v}{}", self.prefix, self.suffix)
    }

    /// `None`: not this format's tag. `Some(Err)`: this format's tag, but not semver.
    fn parse(&self, name: &str) -> Option<Result<Version, ()>> {
        let rest = name
            .strip_prefix(&self.prefix)?
            .strip_suffix(&self.suffix)?;
        if !rest.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        Some(Version::parse(rest).map_err(drop))
    }
}

/// Every release tag of `settings`' format (a crate's format with `package`): its version,
/// its name and its commit, in version order. For promotion: a version is one that was
/// released.
pub fn released(
    repo: &Repo,
    settings: &crate::ReleaseSettings,
    package: Option<&str>,
) -> Result<Vec<(Version, String, Oid)>, ReleaseError> {
    let format = match package {
        Some(name) => TagFormat::new(&settings.crate_tag_format, Some(name)),
        None => TagFormat::new(&settings.tag_format, None),
    };
    let mut out: Vec<(Version, String, Oid)> = repo
        .tags()?
        .into_iter()
        .filter_map(|t| match format.parse(&t.name) {
            Some(Ok(v)) => Some((v, t.name, t.commit)),
            _ => None,
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// A release tag: name and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Release {
    pub name: String,
    pub version: Version,
}

/// Release tags by commit.
#[derive(Debug, Default)]
pub(crate) struct Releases {
    by_commit: foldhash::HashMap<Oid, Vec<Release>>,
    pub all: Vec<Version>,
    pub warnings: Vec<String>,
}

impl Releases {
    pub(crate) fn new(tags: &[Tag], format: &TagFormat) -> Self {
        let mut out = Releases {
            by_commit: foldhash::HashMap::with_capacity_and_hasher(tags.len(), Default::default()),
            all: Vec::with_capacity(tags.len()),
            warnings: Vec::new(),
        };
        let mut seen: foldhash::HashSet<&str> =
            foldhash::HashSet::with_capacity_and_hasher(tags.len(), Default::default());
        for tag in tags {
            if !seen.insert(tag.name.as_str()) {
                continue;
            }
            match format.parse(&tag.name) {
                None => {}
                Some(Err(())) => out.warnings.push(format!(
                    "tag {} is not a semantic version; skipped",
                    tag.name
                )),
                Some(Ok(version)) => {
                    out.all.push(version.clone());
                    out.by_commit.entry(tag.commit).or_default().push(Release {
                        name: tag.name.clone(),
                        version,
                    });
                }
            }
        }
        out
    }

    /// Every release with its commit, in a fixed order (by version, then tag name).
    pub(crate) fn each(&self) -> Vec<(Oid, &Release)> {
        let mut out: Vec<(Oid, &Release)> = self
            .by_commit
            .iter()
            .flat_map(|(id, on)| on.iter().map(move |r| (*id, r)))
            .collect();
        out.sort_by(|a, b| (&a.1.version, &a.1.name).cmp(&(&b.1.version, &b.1.name)));
        out
    }

    pub(crate) fn on(&self, id: Oid) -> &[Release] {
        self.by_commit.get(&id).map_or(&[], Vec::as_slice)
    }

    /// The release a boundary commit stands for: the highest of its tags. Several stable
    /// tags on one commit happen (v12.4.0 and v12.4.1 in semantic-release's own history) and
    /// published tags cannot be deleted, so that is a warning naming them all, not an error.
    fn of_commit(&self, id: Oid, stable_only: bool) -> (Option<Release>, Option<String>) {
        let on = self.on(id);
        let best = on
            .iter()
            .filter(|r| !stable_only || r.version.pre.is_empty())
            .max_by(|a, b| a.version.cmp(&b.version))
            .cloned();
        let stable = on.iter().filter(|r| r.version.pre.is_empty()).count();
        let warning = best.as_ref().filter(|_| stable > 1).map(|best| {
            let mut names: Vec<&Release> = on.iter().collect();
            names.sort_by(|a, b| a.version.cmp(&b.version));
            let names: Vec<&str> = names.iter().map(|r| r.name.as_str()).collect();
            format!(
                "commit {} carries several release tags: {}; the highest, {}, is taken",
                &id.to_string()[..10],
                names.join(", "),
                best.name
            )
        });
        (best, warning)
    }
}

/// What history says about one version line (the workspace, or one crate).
#[derive(Debug, Default)]
pub(crate) struct History {
    /// The last stable release reachable from HEAD.
    pub stable: Option<Release>,
    /// The newest release reachable from HEAD, prereleases included.
    pub latest: Option<Release>,
    /// Commits since the last stable release, newest first.
    pub commits: Vec<CommitInfo>,
    /// Non-merge commits since the newest release.
    pub since_latest: usize,
    /// Every released version of this line (to number prereleases).
    pub existing: Vec<Version>,
    pub warnings: Vec<String>,
}

/// The highest release among a line's boundaries; warnings for commits with several tags.
fn boundary_max(
    releases: &Releases,
    boundaries: &[Oid],
    stable_only: bool,
    warnings: &mut Vec<String>,
) -> Option<Release> {
    let mut best: Option<Release> = None;
    for id in boundaries {
        let (release, warning) = releases.of_commit(*id, stable_only);
        if let Some(w) = warning.filter(|w| !warnings.contains(w)) {
            warnings.push(w);
        }
        if let Some(r) = release
            && best.as_ref().is_none_or(|b| r.version > b.version)
        {
            best = Some(r);
        }
    }
    best
}

/// Tags, local and (for shallow clones) remote, loaded once per run.
#[derive(Debug)]
pub(crate) struct TagSource {
    tags: Vec<Tag>,
    fetched_remote: bool,
}

impl TagSource {
    pub(crate) fn new(repo: &Repo) -> Result<Self, ReleaseError> {
        Ok(TagSource {
            // Looked up by the commits the walk reads, and read for their names.
            tags: repo.tags_for_lookup()?,
            fetched_remote: false,
        })
    }
}

/// Reads the history of one version line, deepening a shallow clone as needed.
pub(crate) fn read(
    repo: &mut Repo,
    head: Oid,
    format: &TagFormat,
    tags: &mut TagSource,
    remote: &str,
) -> Result<History, ReleaseError> {
    let mut many = read_many(repo, head, std::slice::from_ref(format), tags, remote)?;
    Ok(many.pop().unwrap_or_default())
}

/// Reads the histories of several version lines (one per tag format, e.g. per crate) in one
/// walk of the commits: cost grows with the commits, not commits × lines.
pub(crate) fn read_many(
    repo: &mut Repo,
    head: Oid,
    formats: &[TagFormat],
    tags: &mut TagSource,
    remote: &str,
) -> Result<Vec<History>, ReleaseError> {
    let mut depth: u32 = 100;
    loop {
        let releases: Vec<Releases> = formats
            .iter()
            .map(|f| Releases::new(&tags.tags, f))
            .collect();
        // Line 2k stops at format k's stable releases, line 2k + 1 at any of its releases.
        let stop = |id: Oid, line: usize| {
            let on = releases[line / 2].on(id);
            if line.is_multiple_of(2) {
                on.iter().any(|r| r.version.pre.is_empty())
            } else {
                !on.is_empty()
            }
        };
        let mut walk = repo.walk_lines(head, formats.len() * 2, &stop)?;
        if !walk.hit_shallow || !repo.is_shallow() {
            let mut out = Vec::with_capacity(formats.len());
            for (k, r) in releases.into_iter().enumerate() {
                let mut warnings = r.warnings.clone();
                let since_latest = walk
                    .line(2 * k + 1)
                    .filter(|c| c.parents.len() <= 1)
                    .count();
                // One version line whose commits are all the walk read (as always for one
                // line: its latest release stops it no later than its stable one) takes them.
                let all_of_them =
                    formats.len() == 1 && walk.lines.iter().all(|bits| bits[0] & 1 == 1);
                out.push(History {
                    latest: boundary_max(&r, &walk.boundaries[2 * k + 1], false, &mut warnings),
                    stable: boundary_max(&r, &walk.boundaries[2 * k], true, &mut warnings),
                    since_latest,
                    commits: if all_of_them {
                        std::mem::take(&mut walk.commits)
                    } else {
                        walk.line(2 * k).cloned().collect()
                    },
                    existing: r.all,
                    warnings,
                });
            }
            return Ok(out);
        }
        let edge = repo
            .shallow_boundary()
            .into_iter()
            .next()
            .map(|o| o.to_string())
            .unwrap_or_default();
        if repo.remote_url(remote).is_none() {
            return Err(ReleaseError::Shallow {
                commit: edge,
                hint: format!(
                    "there is no remote `{remote}` to deepen from: clone without --depth (actions/checkout: fetch-depth: 0), or set [release] remote"
                ),
            });
        }
        if !tags.fetched_remote {
            // Tags the clone did not fetch may name commits we already have.
            tags.fetched_remote = true;
            let known: HashSet<String> = tags.tags.iter().map(|t| t.name.clone()).collect();
            for t in repo.remote_tags(remote)? {
                if !known.contains(&t.name) {
                    tags.tags.push(Tag {
                        name: t.name,
                        commit: t.commit,
                    });
                }
            }
            continue;
        }
        let before = repo.shallow_boundary();
        let by = (depth <= 102_400).then_some(depth);
        repo.deepen(remote, by)?;
        depth = depth.saturating_mul(4);
        if repo.is_shallow() && repo.shallow_boundary() == before {
            if by.is_none() {
                return Err(ReleaseError::Shallow {
                    commit: edge,
                    hint: format!(
                        "`git fetch --unshallow {remote}` did not deepen the clone; fetch the full history by hand"
                    ),
                });
            }
            depth = u32::MAX;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(n: u8) -> Oid {
        Oid::from_bytes(&[n; 20]).expect("20 bytes are an object id")
    }

    fn tags(list: &[(&str, u8)]) -> Vec<Tag> {
        list.iter()
            .map(|(name, n)| Tag {
                name: (*name).to_string(),
                commit: oid(*n),
            })
            .collect()
    }

    #[test]
    fn several_stable_tags_on_a_boundary_give_the_highest_and_one_warning() {
        let releases = Releases::new(
            &tags(&[
                ("v12.4.1", 1),
                ("v12.4.0", 1),
                ("v2.0.0-rc.1", 2),
                ("v2.0.0", 2),
            ]),
            &TagFormat::new("v{version}", None),
        );
        let mut warnings = Vec::new();
        let stable = boundary_max(&releases, &[oid(1)], true, &mut warnings);
        assert_eq!(stable.map(|r| r.name).as_deref(), Some("v12.4.1"));
        let latest = boundary_max(&releases, &[oid(1)], false, &mut warnings);
        assert_eq!(latest.map(|r| r.name).as_deref(), Some("v12.4.1"));
        assert_eq!(
            warnings,
            vec![format!(
                "commit {} carries several release tags: v12.4.0, v12.4.1; the highest, v12.4.1, is taken",
                &oid(1).to_string()[..10]
            )],
            "the stable and the latest line warn once together"
        );
        // a prerelease and its stable release on one commit is the usual promotion: silent
        let mut warnings = Vec::new();
        let latest = boundary_max(&releases, &[oid(2)], false, &mut warnings);
        assert_eq!(latest.map(|r| r.name).as_deref(), Some("v2.0.0"));
        assert_eq!(warnings, Vec::<String>::new());
    }
}
