//! Why a release could not be planned or made: the message says what went wrong, and
//! [`ReleaseError::hint`] what to do about it.

use std::path::PathBuf;

/// Why a release could not be planned or made. The message is what went wrong; the hint
/// ([`ReleaseError::hint`]) is data, not part of the message.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("no package `{name}` in this workspace")]
    UnknownPackage { name: String },
    #[error("{tag} is not a release tag of this repository")]
    UnknownTag { tag: String },
    #[error(transparent)]
    Changelog(#[from] shipgate_changelog::ChangelogError),
    #[error("GitHub: {0}")]
    Github(#[from] shipgate_github::GitHubError),
    #[error(
        "cannot tell which GitHub repository to publish to: no GITHUB_REPOSITORY and the `{remote}` remote is not on GitHub"
    )]
    NoGithubRepository { remote: String },
    #[error(transparent)]
    Git(#[from] shipgate_git::GitError),
    #[error("{}:{line}:{column}: {message}", path.display())]
    Manifest {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{count} commit(s) do not follow Conventional Commits and [release] strict = true:\n{list}"
    )]
    Strict { count: usize, list: String },
    #[error(
        "this is a shallow clone and history ends at {commit} before any release tag was found"
    )]
    Shallow { commit: String, hint: String },
    #[error("the work tree has uncommitted changes: {paths}")]
    Dirty { paths: String },
    #[error("the release writes {paths}, outside this sparse checkout")]
    OutsideSparseCheckout { paths: String },
    #[error(transparent)]
    Version(#[from] shipgate_version::bump::NextVersionError),
    #[error("--version {requested} is not greater than the current version {current}")]
    OverrideNotGreater {
        requested: semver::Version,
        current: semver::Version,
    },
    #[error("{}{}", path.display(), located(source))]
    ReleaseFile {
        path: PathBuf,
        source: shipgate_version::files::FileError,
    },
    #[error(transparent)]
    Downgrade(Box<Downgrade>),
    #[error(
        "no version to start from: no release tag, no Cargo.toml version and no [[release.files]]"
    )]
    NoManifest,
    #[error(
        "{name} inherits `version.workspace = true`, so it cannot get a version of its own in per-crate mode"
    )]
    InheritedInPerCrate { name: String },
    #[error("another shipgate release is running in this repository (pid {pid})")]
    Running { pid: String, path: PathBuf },
    #[error("{} is in the way of the release, and shipgate cannot tell it is its own: {why}", path.display())]
    ForeignLock {
        path: PathBuf,
        why: String,
        hint: String,
    },
    #[error(
        "the push of an interrupted release (process group {pgid}) is still running after {seconds} s"
    )]
    PushStillRunning { pgid: u32, seconds: u64 },
    #[error("the release journal {} is unreadable: {message}", path.display())]
    Journal { path: PathBuf, message: String },
    #[error(
        "[release] include-unpublished names `{name}`, which is not a member of this workspace"
    )]
    UnknownUnpublished { name: String, members: String },
    #[error("--version cannot be used with mode = \"per-crate\"")]
    OverrideInPerCrate,
}

/// A release file holds a version above the one being released.
#[derive(Debug, thiserror::Error)]
#[error(
    "{path}:{line}:{column}: holds {found}, above {next}, the version this release would set: a release never moves a version down"
)]
pub struct Downgrade {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub found: semver::Version,
    pub next: semver::Version,
    pub current: Option<semver::Version>,
}

impl Downgrade {
    /// What to do about it.
    pub(crate) fn hint(&self) -> String {
        let release = shipgate_version::bump::core(&self.found);
        let back = self
            .current
            .as_ref()
            .map_or(String::new(), |c| format!(" (the current version is {c})"));
        format!(
            "if {release} is the version to release, run `shipgate release --version {release}`; if {} is wrong, set it back{back}, commit, and run the release again",
            self.path
        )
    }
}

/// A release file's error after its path: `:line:col: …` when it has a place, else `: …`.
fn located(e: &shipgate_version::files::FileError) -> String {
    use shipgate_version::files::FileError;
    match e {
        FileError::NotSemver { .. } | FileError::Json { .. } | FileError::Yaml { .. } => {
            format!(":{e}")
        }
        _ => format!(": {e}"),
    }
}

impl ReleaseError {
    /// What to do about it, when there is something to say: shown on a line of its own
    /// after the message. Errors of other crates give their own hints.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            ReleaseError::UnknownPackage { .. } => {
                "give the `name` of a workspace member's Cargo.toml".into()
            }
            ReleaseError::UnknownTag { .. } => {
                "check [release] tag-format, or fetch tags (git fetch --tags)".into()
            }
            ReleaseError::Changelog(_) | ReleaseError::Io { .. } => return None,
            ReleaseError::Github(e) => return e.hint(),
            ReleaseError::NoGithubRepository { .. } => "set GITHUB_REPOSITORY=owner/name".into(),
            ReleaseError::Git(e) => return e.hint(),
            ReleaseError::Manifest { .. } => "fix the manifest, then re-run".into(),
            ReleaseError::Strict { .. } => {
                "reword them (git rebase -i), or set strict = false".into()
            }
            ReleaseError::Shallow { hint, .. } | ReleaseError::ForeignLock { hint, .. } => {
                hint.clone()
            }
            ReleaseError::Dirty { .. } => "commit or stash them, or pass --allow-dirty".into(),
            ReleaseError::OutsideSparseCheckout { .. } => {
                "nothing was written: add their directories to the sparse checkout (git sparse-checkout add DIR), or release from a full checkout".into()
            }
            ReleaseError::Version(e) => return e.hint(),
            ReleaseError::OverrideNotGreater { current, .. } => {
                format!("give a version above {current}")
            }
            ReleaseError::ReleaseFile { source, .. } => source.hint(),
            ReleaseError::Downgrade(d) => d.hint(),
            ReleaseError::NoManifest => {
                "add `version` to Cargo.toml, a [[release.files]] entry, or tag the last release (git tag v0.1.0)".into()
            }
            ReleaseError::InheritedInPerCrate { name } => {
                format!("give {name} its own `version`, or use mode = \"unified\"")
            }
            ReleaseError::Running { path, .. } => format!(
                "wait for it to finish; it holds {} while it runs",
                path.display()
            ),
            ReleaseError::PushStillRunning { pgid, .. } => {
                format!("let it finish, or stop it (kill -- -{pgid}), then re-run")
            }
            ReleaseError::Journal { .. } => "remove it if no release is in progress".into(),
            ReleaseError::UnknownUnpublished { members, .. } => format!("members: {members}"),
            ReleaseError::OverrideInPerCrate => {
                "per-crate versions come from each crate's commits".into()
            }
        })
    }

    pub(crate) fn manifest(path: PathBuf, e: shipgate_version::manifest::ManifestError) -> Self {
        ReleaseError::Manifest {
            path,
            line: e.line,
            column: e.column,
            message: e.message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_are_data_not_part_of_the_message() {
        let err = ReleaseError::Dirty {
            paths: "src.txt".into(),
        };
        assert_eq!(
            err.to_string(),
            "the work tree has uncommitted changes: src.txt"
        );
        assert_eq!(
            err.hint().as_deref(),
            Some("commit or stash them, or pass --allow-dirty")
        );
        let err = ReleaseError::OverrideNotGreater {
            requested: semver::Version::new(1, 0, 0),
            current: semver::Version::new(1, 2, 0),
        };
        assert_eq!(
            err.to_string(),
            "--version 1.0.0 is not greater than the current version 1.2.0"
        );
        assert_eq!(err.hint().as_deref(), Some("give a version above 1.2.0"));
    }

    #[test]
    fn wrapped_errors_give_their_own_hints() {
        let err = ReleaseError::from(shipgate_git::GitError::NoIdentity);
        assert_eq!(
            err.to_string(),
            "no identity to make the release commit with"
        );
        assert!(
            err.hint()
                .is_some_and(|h| h.starts_with("git config user.name")),
            "{:?}",
            err.hint()
        );
        let err = ReleaseError::from(shipgate_github::GitHubError::NoToken);
        assert_eq!(err.to_string(), "GitHub: no GitHub token");
        assert!(
            err.hint()
                .is_some_and(|h| h.starts_with("set GITHUB_TOKEN")),
            "{:?}",
            err.hint()
        );
        let err = ReleaseError::from(shipgate_github::GitHubError::BadUrl("x".into()));
        assert_eq!(err.hint(), None);
    }
}
