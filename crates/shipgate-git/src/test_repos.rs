//! Repositories the readers' tests share: a real history to compare with libgit2, and a
//! scratch repository packed by git itself.

use std::path::Path;

use git2::Oid;

/// The repository `var` names, else the checkout the tests run in, and the commits HEAD
/// reaches (libgit2's walk); `None` for a source archive without its history.
pub(crate) fn real_history(var: &str) -> Option<(git2::Repository, Vec<Oid>)> {
    let path = std::env::var_os(var)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let repo = git2::Repository::discover(&path).ok()?;
    let mut walk = repo.revwalk().expect("revwalk");
    walk.push_head().expect("HEAD");
    let ids = walk.map(|id| id.expect("id")).collect();
    Some((repo, ids))
}

/// `git gc -q` in `dir`: every reachable object packed, as git packs it.
pub(crate) fn gc(dir: &Path) {
    crate::network::git(dir, &["gc".into(), "-q".into()], None).expect("git gc");
}
