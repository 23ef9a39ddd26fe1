//! History walks: from HEAD back to the release boundary, newest first, reading commit
//! objects only.

use std::collections::{BinaryHeap, HashSet};

use git2::Oid;

use crate::pack::Packs;
use crate::rawcommit::{self, Fields};
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
    CommitInfo::of(
        c.id(),
        c.parent_ids().collect(),
        &Fields::of_commit(c, &author),
    )
}

impl CommitInfo {
    /// A commit's metadata from its fields, however they were read; text decoded lossily.
    fn of(id: Oid, parents: Vec<Oid>, f: &Fields<'_>) -> CommitInfo {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        CommitInfo {
            id,
            parents,
            message: text(f.message),
            author_name: text(f.author_name),
            author_email: text(f.author_email),
            time: f.time,
            offset_minutes: f.offset_minutes,
        }
    }
}

/// A commit as the walk read it: its raw object with the header parsed here, or libgit2's
/// commit where that parser gives way (see [`crate::rawcommit`]).
enum Read<'r> {
    Raw(Object<'r>, rawcommit::Header),
    Lib(git2::Commit<'r>),
}

/// A commit object's bytes: inflated here from a pack, or read by libgit2.
enum Object<'r> {
    Packed(Vec<u8>),
    Odb(git2::OdbObject<'r>),
}

impl Object<'_> {
    fn data(&self) -> &[u8] {
        match self {
            Object::Packed(data) => data,
            Object::Odb(object) => object.data(),
        }
    }
}

impl Read<'_> {
    /// Committer time: the walk's order, as git's own walks.
    fn time(&self) -> i64 {
        match self {
            Read::Raw(_, h) => h.commit_time,
            Read::Lib(c) => c.time().seconds(),
        }
    }

    fn parents(&self) -> Vec<Oid> {
        match self {
            Read::Raw(_, h) => h.parents.clone(),
            Read::Lib(c) => c.parent_ids().collect(),
        }
    }

    fn info(&self, id: Oid) -> CommitInfo {
        match self {
            Read::Raw(object, h) => CommitInfo::of(id, h.parents.clone(), &h.fields(object.data())),
            Read::Lib(c) => info(c),
        }
    }
}

/// Reads commits for a walk: raw objects when the repository does not rewrite parents
/// (not shallow, no grafts), from its packs where [`Packs::read_commit`] reads them, else
/// through libgit2's object database; through libgit2's commit parser otherwise.
struct Reader<'r> {
    repo: &'r git2::Repository,
    odb: Option<git2::Odb<'r>>,
    packs: Option<&'r Packs>,
}

impl<'r> Reader<'r> {
    fn new(repo: &'r git2::Repository, packs: Option<&'r Packs>) -> Self {
        let grafts = [repo.path(), repo.commondir()]
            .iter()
            .any(|dir| dir.join("info/grafts").exists());
        let raw = !repo.is_shallow() && !grafts;
        Reader {
            repo,
            odb: raw.then(|| repo.odb().ok()).flatten(),
            packs: packs.filter(|_| raw),
        }
    }

    fn read(&self, id: Oid) -> Result<Read<'_>, git2::Error> {
        if let Some(read) = self
            .packs
            .and_then(|p| p.read_commit(id))
            .and_then(|data| raw(Object::Packed(data)))
        {
            return Ok(read);
        }
        if let Some(odb) = &self.odb
            && let Ok(object) = odb.read(id)
            && object.kind() == git2::ObjectType::Commit
            && let Some(read) = raw(Object::Odb(object))
        {
            return Ok(read);
        }
        self.repo.find_commit(id).map(Read::Lib)
    }
}

/// A commit's raw object with its header parsed, when the parser takes it.
fn raw(object: Object<'_>) -> Option<Read<'_>> {
    let header = rawcommit::header(object.data())?;
    Some(Read::Raw(object, header))
}

/// A commit waiting in the walk's queue, ordered by commit time (newest first).
struct Queued<'r>(i64, Oid, Read<'r>);

impl PartialEq for Queued<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0 && self.1 == other.1
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
        self.0.cmp(&other.0).then_with(|| self.1.cmp(&other.1))
    }
}

pub(crate) fn walk(
    repo: &git2::Repository,
    packs: Option<&Packs>,
    from: Oid,
    stop: &dyn Fn(Oid) -> bool,
    shallow: &HashSet<Oid>,
) -> Result<Walk, GitError> {
    let multi = walk_lines(repo, packs, from, 1, &|id, _| stop(id), shallow)?;
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
    packs: Option<&Packs>,
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
    // Object ids are hashes already: foldhash, not SipHash (hashing and probing were about a
    // quarter of the walk's own bookkeeping in the profile).
    let mut marks: foldhash::HashMap<Oid, Marks> = foldhash::HashMap::default();
    let mut done: foldhash::HashSet<Oid> = foldhash::HashSet::default();
    let reader = Reader::new(repo, packs);
    let mut queue = BinaryHeap::new();
    let first = reader
        .read(from)
        .map_err(ctx(format!("cannot read commit {from}")))?;
    marks.insert(
        from,
        Marks {
            reach: all,
            below: vec![0; words],
        },
    );
    queue.push(Queued(first.time(), from, first));
    while let Some(Queued(_, id, c)) = queue.pop() {
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
        for pid in c.parents() {
            if done.contains(&pid) {
                continue; // reached already (a commit dated after its child)
            }
            match marks.get_mut(&pid) {
                Some(pm) => {
                    pm.reach.iter_mut().zip(&m.reach).for_each(|(a, b)| *a |= b);
                    pm.below.iter_mut().zip(&m.below).for_each(|(a, b)| *a |= b);
                }
                None => {
                    // A parent that cannot be read ends this commit's parents, as libgit2's
                    // parent iterator did (a parent reached before was read already).
                    let Ok(parent) = reader.read(pid) else {
                        break;
                    };
                    marks.insert(pid, m.clone());
                    queue.push(Queued(parent.time(), pid, parent));
                }
            }
        }
        if live {
            out.commits.push(c.info(id));
            out.lines
                .push(m.reach.iter().zip(&m.below).map(|(r, b)| r & !b).collect());
        }
        if !marks.values().any(Marks::live) {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// A scratch repository whose commits are made directly (empty trees, fixed dates).
    struct Scratch {
        _dir: tempfile::TempDir,
        repo: git2::Repository,
    }

    impl Scratch {
        fn new() -> Scratch {
            let dir = tempfile::tempdir().expect("tempdir");
            let repo = git2::Repository::init(dir.path()).expect("git init");
            Scratch { _dir: dir, repo }
        }

        /// A commit with `parents`, authored and committed at `time`.
        fn commit(&self, message: &str, time: i64, parents: &[Oid]) -> Oid {
            let sig = git2::Signature::new("Ada", "ada@example.com", &git2::Time::new(time, 0))
                .expect("signature");
            let tree_id = self
                .repo
                .treebuilder(None)
                .and_then(|b| b.write())
                .expect("empty tree");
            let tree = self.repo.find_tree(tree_id).expect("tree");
            let parents: Vec<git2::Commit<'_>> = parents
                .iter()
                .map(|p| self.repo.find_commit(*p).expect("parent"))
                .collect();
            let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
            self.repo
                .commit(None, &sig, &sig, message, &tree, &parents)
                .expect("commit")
        }

        /// A linear history of `n` commits a minute apart; the oldest first.
        fn chain(&self, n: usize) -> Vec<Oid> {
            let mut out: Vec<Oid> = Vec::new();
            for i in 0..n {
                let parents: Vec<Oid> = out.last().copied().into_iter().collect();
                out.push(self.commit(&format!("c{i}"), 1_700_000_000 + 60 * i as i64, &parents));
            }
            out
        }

        fn walk(&self, from: Oid, lines: usize, stop: &dyn Fn(Oid, usize) -> bool) -> MultiWalk {
            walk_lines(&self.repo, None, from, lines, stop, &HashSet::new()).expect("walk")
        }
    }

    /// A history packed by `git gc` walks the same through the pack reader as through
    /// libgit2: commits, their lines and the boundaries.
    #[test]
    fn a_packed_history_walks_as_through_libgit2() {
        let s = Scratch::new();
        let c = s.chain(40);
        let side = s.commit("feat: side", 1_700_000_000 + 60 * 15, &[c[10]]);
        let merge = s.commit("merge", 1_700_000_000 + 60 * 50, &[c[39], side]);
        s.repo
            .reference("refs/heads/main", merge, true, "test")
            .expect("branch");
        crate::test_repos::gc(s.repo.path());
        let packs = Packs::open(&s.repo.path().join("objects")).expect("packed");
        assert!(
            packs.read_commit(merge).is_some(),
            "the pack reader reads them"
        );
        let stop = |id: Oid, l: usize| id == [c[5], c[20]][l];
        let ours =
            walk_lines(&s.repo, Some(&packs), merge, 2, &stop, &HashSet::new()).expect("walk");
        let theirs = s.walk(merge, 2, &stop);
        assert_eq!(ours.commits, theirs.commits);
        assert_eq!(ours.lines, theirs.lines);
        assert_eq!(ours.boundaries, theirs.boundaries);
        assert_eq!(
            ours.commits.len(),
            36,
            "34 above c5, the side commit and the merge"
        );
    }

    fn messages<'a>(commits: impl Iterator<Item = &'a CommitInfo>) -> Vec<&'a str> {
        commits.map(|c| c.message.as_str()).collect()
    }

    #[test]
    fn one_line_lists_the_commits_above_its_boundary_newest_first() {
        let s = Scratch::new();
        let c = s.chain(5);
        let w = s.walk(c[4], 1, &|id, _| id == c[1]);
        assert_eq!(messages(w.commits.iter()), vec!["c4", "c3", "c2"]);
        assert_eq!(w.boundaries, vec![vec![c[1]]]);
        assert!(!w.hit_shallow);
        let c4 = &w.commits[0];
        assert_eq!((c4.parents.clone(), c4.time), (vec![c[3]], 1_700_000_240));
        assert_eq!(c4.author_email, "ada@example.com");
    }

    #[test]
    fn no_boundary_walks_to_the_root() {
        let s = Scratch::new();
        let c = s.chain(3);
        let w = s.walk(c[2], 1, &|_, _| false);
        assert_eq!(messages(w.commits.iter()), vec!["c2", "c1", "c0"]);
        assert_eq!(w.boundaries, vec![Vec::<Oid>::new()]);
    }

    #[test]
    fn each_line_has_its_own_boundary_in_one_pass() {
        let s = Scratch::new();
        let c = s.chain(5);
        // line 0 stops at c1, line 1 at c3, line 2 never
        let stop = |id: Oid, line: usize| match line {
            0 => id == c[1],
            1 => id == c[3],
            _ => false,
        };
        let w = s.walk(c[4], 3, &stop);
        assert_eq!(messages(w.line(0)), vec!["c4", "c3", "c2"]);
        assert_eq!(messages(w.line(1)), vec!["c4"]);
        assert_eq!(messages(w.line(2)), vec!["c4", "c3", "c2", "c1", "c0"]);
        assert_eq!(w.boundaries, vec![vec![c[1]], vec![c[3]], vec![]]);
        assert_eq!(w.commits.len(), 5, "every commit read once");
    }

    #[test]
    fn a_branch_forked_before_the_boundary_brings_only_its_own_commits() {
        // base - A (boundary) - C ---- M
        //    \                        /
        //     F ---------------------
        let s = Scratch::new();
        let t = 1_700_000_000;
        let base = s.commit("base", t, &[]);
        let a = s.commit("A", t + 60, &[base]);
        let f = s.commit("F", t + 120, &[base]);
        let c = s.commit("C", t + 180, &[a]);
        let m = s.commit("M", t + 240, &[c, f]);
        let w = s.walk(m, 1, &|id, _| id == a);
        assert_eq!(messages(w.commits.iter()), vec!["M", "C", "F"]);
        assert_eq!(w.boundaries, vec![vec![a]]);
    }

    #[test]
    fn below_a_boundary_wins_for_that_line_only() {
        // base - A - B - M ; line 0 stops at A, line 1 at B (B reaches A's ancestors too)
        let s = Scratch::new();
        let c = s.chain(4);
        let w = s.walk(c[3], 2, &|id, line| id == [c[1], c[2]][line]);
        assert_eq!(messages(w.line(0)), vec!["c3", "c2"]);
        assert_eq!(messages(w.line(1)), vec!["c3"]);
        assert_eq!(w.lines[1], vec![0b01], "c2 is live for line 0 only");
    }

    #[test]
    fn the_walk_ends_when_no_line_is_live() {
        let s = Scratch::new();
        let c = s.chain(30);
        let calls = Cell::new(0);
        let w = s.walk(c[29], 1, &|id, _| {
            calls.set(calls.get() + 1);
            id == c[27]
        });
        assert_eq!(w.commits.len(), 2);
        assert_eq!(calls.get(), 3, "nothing below the boundary is asked about");
    }

    #[test]
    fn a_commit_dated_before_its_parent_is_still_listed_once() {
        // clock skew: C is dated an hour before its parent B
        let s = Scratch::new();
        let t = 1_700_000_000;
        let a = s.commit("A", t, &[]);
        let b = s.commit("B", t + 7200, &[a]);
        let c = s.commit("C", t + 3600, &[b]);
        let d = s.commit("D", t + 10_800, &[c, b]);
        let w = s.walk(d, 1, &|id, _| id == a);
        let mut got = messages(w.commits.iter());
        got.sort_unstable();
        assert_eq!(got, vec!["B", "C", "D"]);
        assert_eq!(w.boundaries, vec![vec![a]]);
    }

    #[test]
    fn more_than_64_lines_use_more_words() {
        let s = Scratch::new();
        let c = s.chain(3);
        // line 69 stops at c2 (HEAD), every other line at c0
        let w = s.walk(c[2], 70, &|id, line| {
            if line == 69 { id == c[2] } else { id == c[0] }
        });
        assert_eq!(messages(w.line(68)), vec!["c2", "c1"]);
        assert_eq!(w.line(69).count(), 0);
        assert_eq!(w.boundaries[69], vec![c[2]]);
        assert_eq!(w.lines[0].len(), 2);
        assert_eq!(
            w.lines[0][1],
            (1 << 5) - 1,
            "lines 64..69 of HEAD: 64-68 live, 69 not"
        );
    }

    #[test]
    fn a_live_commit_at_the_shallow_edge_is_reported() {
        let s = Scratch::new();
        let c = s.chain(4);
        let shallow: HashSet<Oid> = [c[1]].into();
        let stop_at = |at: Oid| move |id: Oid, _: usize| id == at;
        let w = walk_lines(&s.repo, None, c[3], 1, &stop_at(c[0]), &shallow).expect("walk");
        assert!(
            w.hit_shallow,
            "the boundary is below the edge: the answer may be wrong"
        );
        let w = walk_lines(&s.repo, None, c[3], 1, &stop_at(c[2]), &shallow).expect("walk");
        assert!(!w.hit_shallow, "the boundary is above the edge");
    }

    #[test]
    fn invalid_utf8_messages_are_read_lossily() {
        let s = Scratch::new();
        let sig =
            git2::Signature::new("Ada", "ada@example.com", &git2::Time::new(1_700_000_000, 0))
                .expect("signature");
        let tree = s
            .repo
            .treebuilder(None)
            .and_then(|b| b.write())
            .expect("tree");
        let mut buf = s
            .repo
            .commit_create_buffer(
                &sig,
                &sig,
                "feat: caf\u{e9}",
                &s.repo.find_tree(tree).expect("tree"),
                &[],
            )
            .expect("buffer")
            .to_vec();
        let at = buf.len() - 2;
        buf[at] = 0xff; // the first byte of "é": no longer UTF-8
        let odb = s.repo.odb().expect("odb");
        let id = odb.write(git2::ObjectType::Commit, &buf).expect("write");
        let w = s.walk(id, 1, &|_, _| false);
        assert_eq!(w.commits[0].message, "feat: caf\u{fffd}\u{fffd}");
    }
}
