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
    let multi = walk_lines(repo, from, 1, &|id, _| stop(id), shallow)?;
    Ok(Walk {
        commits: multi.commits,
        boundaries: multi.boundaries.into_iter().next().unwrap_or_default(),
        hit_shallow: multi.hit_shallow,
    })
}

/// A walk for several version lines at once (one per crate, say): each commit carries the
/// lines for which it is still above that line's boundary, so history is read once however
/// many lines there are.
#[derive(Debug, Clone, Default)]
pub struct MultiWalk {
    /// Commits above at least one line's boundary, newest first (by commit time).
    pub commits: Vec<CommitInfo>,
    /// For each commit, its lines as a bit set (bit `l % 64` of word `l / 64`).
    pub lines: Vec<Vec<u64>>,
    /// For each line, the commits where it stopped.
    pub boundaries: Vec<Vec<Oid>>,
    /// True when some line ran into the edge of a shallow clone.
    pub hit_shallow: bool,
}

impl MultiWalk {
    /// The commits of line `l`.
    pub fn line(&self, l: usize) -> impl Iterator<Item = &CommitInfo> {
        self.commits
            .iter()
            .zip(&self.lines)
            .filter(move |(_, bits)| bits.get(l / 64).is_some_and(|w| w & (1 << (l % 64)) != 0))
            .map(|(c, _)| c)
    }
}

/// Per commit: the lines that reach it from HEAD, and the lines for which it is at or below
/// a boundary (git's "uninteresting"), which wins.
#[derive(Clone)]
struct Marks {
    reach: Vec<u64>,
    below: Vec<u64>,
}

impl Marks {
    fn live(&self) -> bool {
        self.reach.iter().zip(&self.below).any(|(r, b)| r & !b != 0)
    }
}

pub(crate) fn walk_lines(
    repo: &git2::Repository,
    from: Oid,
    lines: usize,
    stop: &dyn Fn(Oid, usize) -> bool,
    shallow: &HashSet<Oid>,
) -> Result<MultiWalk, GitError> {
    let words = lines.div_ceil(64).max(1);
    let mut out = MultiWalk {
        boundaries: vec![Vec::new(); lines],
        ..MultiWalk::default()
    };
    let mut all = vec![0u64; words];
    for l in 0..lines {
        all[l / 64] |= 1 << (l % 64);
    }
    // Commits are taken newest first (commit time, as git's own walks), so a commit's marks
    // are complete when it is reached. Below a boundary the walk goes on only to mark
    // ancestors as excluded, and ends when no queued commit is live for any line: a branch
    // forked before the last release and merged after it brings only its own commits.
    let mut marks: std::collections::HashMap<Oid, Marks> = std::collections::HashMap::new();
    let mut done: HashSet<Oid> = HashSet::new();
    let mut queue = BinaryHeap::new();
    let first = repo
        .find_commit(from)
        .map_err(ctx(format!("cannot read commit {from}")))?;
    marks.insert(
        from,
        Marks {
            reach: all,
            below: vec![0; words],
        },
    );
    queue.push(Queued(first.time().seconds(), first));
    let mut candidates: Vec<(CommitInfo, Vec<u64>)> = Vec::new();
    while let Some(Queued(_, c)) = queue.pop() {
        let id = c.id();
        done.insert(id);
        let Some(mut m) = marks.remove(&id) else {
            continue;
        };
        for l in 0..lines {
            let bit = 1 << (l % 64);
            let w = l / 64;
            if m.reach[w] & !m.below[w] & bit != 0 && stop(id, l) {
                m.below[w] |= bit;
                out.boundaries[l].push(id);
            }
        }
        let live = m.live();
        if live && shallow.contains(&id) {
            out.hit_shallow = true;
        }
        for parent in c.parents() {
            let pid = parent.id();
            if done.contains(&pid) {
                continue; // reached already (a commit dated after its child)
            }
            match marks.get_mut(&pid) {
                Some(pm) => {
                    pm.reach.iter_mut().zip(&m.reach).for_each(|(a, b)| *a |= b);
                    pm.below.iter_mut().zip(&m.below).for_each(|(a, b)| *a |= b);
                }
                None => {
                    marks.insert(pid, m.clone());
                    queue.push(Queued(parent.time().seconds(), parent));
                }
            }
        }
        if live {
            let own: Vec<u64> = m.reach.iter().zip(&m.below).map(|(r, b)| r & !b).collect();
            candidates.push((info(&c), own));
        }
        if !marks.values().any(Marks::live) {
            break;
        }
    }
    for (commit, bits) in candidates {
        out.commits.push(commit);
        out.lines.push(bits);
    }
    Ok(out)
}
