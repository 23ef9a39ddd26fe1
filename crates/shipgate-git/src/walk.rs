//! History walks: from HEAD back to the release boundary, newest first, reading commit
//! objects only.

use std::collections::{BinaryHeap, HashSet};

use git2::Oid;

use crate::{GitError, ctx};

/// One commit's metadata; the message is decoded lossily (invalid UTF-8 never fails).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    pub id: Oid,
    pub parents: Vec<Oid>,
    pub message: String,
    pub author_name: String,
    pub author_email: String,
    /// Author time, seconds since the epoch, and its UTC offset in minutes.
    pub time: i64,
    pub offset_minutes: i32,
}

/// What a walk found.
#[derive(Debug, Clone, Default)]
pub struct Walk {
    /// Commits before any boundary, newest first (by commit time).
    pub commits: Vec<CommitInfo>,
    /// The commits where the walk stopped.
    pub boundaries: Vec<Oid>,
    /// True when the walk ran into the edge of a shallow clone: the answer may be wrong.
    pub hit_shallow: bool,
}

pub(crate) fn commit_info(repo: &git2::Repository, id: Oid) -> Result<CommitInfo, GitError> {
    let c = repo
        .find_commit(id)
        .map_err(ctx(format!("cannot read commit {id}")))?;
    Ok(info(&c))
}

fn info(c: &git2::Commit<'_>) -> CommitInfo {
    let author = c.author();
    CommitInfo {
        id: c.id(),
        parents: c.parent_ids().collect(),
        message: String::from_utf8_lossy(c.message_bytes()).into_owned(),
        author_name: String::from_utf8_lossy(author.name_bytes()).into_owned(),
        author_email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
        time: author.when().seconds(),
        offset_minutes: author.when().offset_minutes(),
    }
}

/// A commit waiting in the walk's queue, ordered by commit time (newest first).
struct Queued<'r>(i64, git2::Commit<'r>);

impl PartialEq for Queued<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0 && self.1.id() == other.1.id()
    }
}
impl Eq for Queued<'_> {}
impl PartialOrd for Queued<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0
            .cmp(&other.0)
            .then_with(|| self.1.id().cmp(&other.1.id()))
    }
}

pub(crate) fn walk(
    repo: &git2::Repository,
    from: Oid,
    stop: &dyn Fn(Oid) -> bool,
    shallow: &HashSet<Oid>,
) -> Result<Walk, GitError> {
    let mut out = Walk::default();
    let mut seen = HashSet::new();
    let mut queue = BinaryHeap::new();
    let first = repo
        .find_commit(from)
        .map_err(ctx(format!("cannot read commit {from}")))?;
    seen.insert(from);
    queue.push(Queued(first.time().seconds(), first));
    while let Some(Queued(_, c)) = queue.pop() {
        let id = c.id();
        if stop(id) {
            out.boundaries.push(id);
            continue;
        }
        if shallow.contains(&id) {
            out.hit_shallow = true;
        }
        // Each commit object is read once: as a parent, then kept in the queue.
        for parent in c.parents() {
            if seen.insert(parent.id()) {
                queue.push(Queued(parent.time().seconds(), parent));
            }
        }
        out.commits.push(info(&c));
    }
    Ok(out)
}
