//! What a release plan is, as data: the plan, its packages, the files it writes, a
//! `-SNAPSHOT` that raised it and the development commit after it; and the plan as people
//! read it. The bottom layer of the crate: every module that plans, journals or runs a
//! release reads these types, and this module reads none of theirs.

use semver::Version;
use serde::{Deserialize, Serialize};
use shipgate_version::Bump;

/// A file the release writes, with its new contents.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FileChange {
    /// Relative to the repository root, `/`-separated.
    pub path: String,
    #[serde(skip_serializing, default)]
    pub contents: String,
}

/// One package's part of the release (per-crate mode, or the workspace's members).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PackagePlan {
    /// The package's name.
    pub name: String,
    /// Its directory, relative to the repository root.
    pub path: String,
    /// Its newest release (or its manifest's version with no tag).
    pub current: Option<Version>,
    /// Its next version; `null`: nothing to release for it.
    pub next: Option<Version>,
    /// How much its commits move its version.
    pub bump: Bump,
    /// The tag its release makes.
    pub tag: Option<String>,
    /// The commits that touch it.
    pub commits: usize,
}

/// A workspace member a per-crate release leaves out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LeftOut {
    /// The member's name.
    pub name: String,
    /// Its directory, relative to the repository root.
    pub path: String,
    /// `publish = false`, `publish = []`, …
    pub reason: String,
}

/// What a release will do. `--dry-run --json` prints it.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Plan {
    /// `unified` or `per-crate` (`[release] mode`).
    pub mode: String,
    /// The newest release reachable from HEAD (or the manifest's version with no tag).
    pub current: Option<Version>,
    /// The next version; `null`: nothing to release.
    pub next: Option<Version>,
    /// How much the commits move the version.
    pub bump: Bump,
    /// The release tag (unified mode).
    pub tag: Option<String>,
    /// Every tag the release makes.
    pub tags: Vec<String>,
    /// The tag of the current release, when there is one.
    pub previous_tag: Option<String>,
    /// Whether the next version is a prerelease (`--pre`).
    pub prerelease: bool,
    /// Commits considered (merge commits excluded).
    pub commits: usize,
    /// Of those, the Conventional Commits.
    pub conventional: usize,
    /// Of those, the others (they bump nothing).
    pub non_conventional: usize,
    /// Commits cancelled by a revert in the same range (both counted).
    pub reverted: usize,
    /// Each package's part (per-crate mode, or the workspace's members).
    pub packages: Vec<PackagePlan>,
    /// Per-crate mode: members Cargo would not publish, which the release leaves out
    /// (unless `[release] include-unpublished` names them).
    #[serde(default)]
    pub left_out: Vec<LeftOut>,
    /// The files the release writes.
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
    /// What the user should know (several tags on one commit, a shallow history…).
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

/// A release file's `-SNAPSHOT`, which raised the release to its version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Developing {
    /// The release file that holds it.
    pub path: String,
    /// The `-SNAPSHOT` version it held.
    pub version: Version,
}

/// The commit after the release and its tag that sets the next development version.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SnapshotPlan {
    /// `1.3.1-SNAPSHOT` after `1.3.0`.
    pub version: Version,
    /// The commit's message.
    pub message: String,
    /// The files the commit writes.
    pub files: Vec<FileChange>,
    /// When finishing an interrupted release: the commit, already made.
    #[serde(default)]
    pub commit: Option<String>,
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
