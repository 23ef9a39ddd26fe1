//! Why a release could not be planned or made; every variant says what to do.

use std::path::PathBuf;

/// Why a release could not be planned or made.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error(
        "no package `{name}` in this workspace\nhint: give the `name` of a workspace member's Cargo.toml"
    )]
    UnknownPackage { name: String },
    #[error(
        "{tag} is not a release tag of this repository\nhint: check [release] tag-format, or fetch tags (git fetch --tags)"
    )]
    UnknownTag { tag: String },
    #[error(transparent)]
    Changelog(#[from] shipgate_changelog::ChangelogError),
    #[error("GitHub: {0}")]
    Github(#[from] shipgate_github::GitHubError),
    #[error(
        "cannot tell which GitHub repository to publish to: no GITHUB_REPOSITORY and the `{remote}` remote is not on GitHub\nhint: set GITHUB_REPOSITORY=owner/name"
    )]
    NoGithubRepository { remote: String },
    #[error(transparent)]
    Git(#[from] shipgate_git::GitError),
    #[error("{}:{line}:{column}: {message}\nhint: fix the manifest, then re-run", path.display())]
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
        "{count} commit(s) do not follow Conventional Commits and [release] strict = true:\n{list}\nhint: reword them (git rebase -i), or set strict = false"
    )]
    Strict { count: usize, list: String },
    #[error(
        "this is a shallow clone and history ends at {commit} before any release tag was found\nhint: {hint}"
    )]
    Shallow { commit: String, hint: String },
    #[error(
        "the work tree has uncommitted changes: {paths}\nhint: commit or stash them, or pass --allow-dirty"
    )]
    Dirty { paths: String },
    #[error(transparent)]
    Version(#[from] shipgate_version::bump::NextVersionError),
    #[error(
        "--version {requested} is not greater than the current version {current}\nhint: give a version above {current}"
    )]
    OverrideNotGreater {
        requested: semver::Version,
        current: semver::Version,
    },
    #[error("{}: {source}\nhint: fix `pattern` of this [[release.files]] entry in shipgate.toml", path.display())]
    Pattern {
        path: PathBuf,
        source: shipgate_version::manifest::PatternError,
    },
    #[error(
        "no version to start from: no release tag, no Cargo.toml version and no [[release.files]]\nhint: add `version` to Cargo.toml, a [[release.files]] entry, or tag the last release (git tag v0.1.0)"
    )]
    NoManifest,
    #[error(
        "{name} inherits `version.workspace = true`, so it cannot get a version of its own in per-crate mode\nhint: give {name} its own `version`, or use mode = \"unified\""
    )]
    InheritedInPerCrate { name: String },
    #[error(
        "another shipgate release is running in this repository (pid {pid})\nhint: wait for it to finish; it holds {} while it runs", path.display()
    )]
    Running { pid: String, path: PathBuf },
    #[error("{} is in the way of the release, and shipgate cannot tell it is its own: {why}\nhint: {hint}", path.display())]
    ForeignLock {
        path: PathBuf,
        why: String,
        hint: String,
    },
    #[error(
        "the push of an interrupted release (process group {pgid}) is still running after {seconds} s\nhint: let it finish, or stop it (kill -- -{pgid}), then re-run"
    )]
    PushStillRunning { pgid: u32, seconds: u64 },
    #[error("the release journal {} is unreadable: {message}\nhint: remove it if no release is in progress", path.display())]
    Journal { path: PathBuf, message: String },
    #[error(
        "[release] include-unpublished names `{name}`, which is not a member of this workspace\nhint: members: {members}"
    )]
    UnknownUnpublished { name: String, members: String },
    #[error(
        "--version cannot be used with mode = \"per-crate\"\nhint: per-crate versions come from each crate's commits"
    )]
    OverrideInPerCrate,
}

impl ReleaseError {
    pub(crate) fn manifest(path: PathBuf, e: shipgate_version::manifest::ManifestError) -> Self {
        ReleaseError::Manifest {
            path,
            line: e.line,
            column: e.column,
            message: e.message,
        }
    }
}
