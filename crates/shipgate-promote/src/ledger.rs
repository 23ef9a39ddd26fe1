//! The ledger in git: the ref `refs/shipgate/ledger`, one commit per entry (the entry in
//! its message, [`crate::entry`]), each commit's tree holding the indexes the entries add up
//! to ([`crate::state`]). Read and written through shipgate-git only.
//!
//! - A clone alone rebuilds it: fetch `refs/shipgate/*` and every entry is there.
//! - Append-only: a writer only adds commits on top of the tip it read, and pushes with a
//!   compare-and-swap on the remote ref (`--force-with-lease=refs/shipgate/ledger:<tip>`),
//!   atomically with the branch commit that changes an environment's file, so the two land
//!   together or not at all. A lost race ([`Published::Moved`]) is for the caller to fetch,
//!   re-evaluate and retry.
//! - What arrives from the remote is checked: it must descend from what was known (never
//!   rewritten), each new entry must have its shape, and the indexes each new commit holds
//!   must be what its entry makes of its parent's.
//! - Entries written without `--push` stay on the local ref until a later `--push`; those
//!   that touch no branch are replayed on top of a remote that moved meanwhile.

use std::collections::BTreeMap;

use shipgate_git::{Expect, Oid, PushOutcome, RefUpdate, Repo};

use crate::entry::{Entry, EntryError, Kind, LEDGER_REF};
use crate::state::{
    Indexes, LedgerState, MonthMetrics, Needs, STATE_PATH, VersionFacts, month_path, version_path,
};

/// The local copy of a remote's ref `refs/shipgate/<name>`.
pub fn tracking(remote: &str, name: &str) -> String {
    format!("refs/shipgate-remote/{remote}/{name}")
}

/// The local copy of a remote's branch.
pub fn tracking_branch(remote: &str, branch: &str) -> String {
    format!("refs/remotes/{remote}/{branch}")
}

/// What went wrong with the ledger.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// Git failed.
    #[error(transparent)]
    Git(#[from] shipgate_git::GitError),
    /// An entry of the wrong shape.
    #[error(transparent)]
    Entry(#[from] EntryError),
    /// An index file that cannot be read.
    #[error("ledger commit {commit}: {path} is not a valid index: {message}")]
    BadIndex {
        /// The commit.
        commit: String,
        /// The file in its tree.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A remote commit whose indexes are not what its entry makes of its parent's.
    #[error(
        "ledger commit {commit} from {remote}: {path} does not match what its entry makes of the ledger before it"
    )]
    Inconsistent {
        /// The remote.
        remote: String,
        /// The commit.
        commit: String,
        /// The index file that differs.
        path: String,
    },
    /// The remote ledger does not descend from the one known here.
    #[error(
        "the ledger on {remote} ({remote_tip}) does not contain the one known here ({known}): it was rewritten"
    )]
    Rewritten {
        /// The remote.
        remote: String,
        /// The remote's tip.
        remote_tip: String,
        /// The tip known here.
        known: String,
    },
    /// Local unpushed entries that change a branch, while the remote's ledger or branch moved
    /// on.
    #[error(
        "{count} ledger entr{} written here without --push ({}) change{} {branch}, and {remote}'s ledger or {branch} moved since",
        if *count == 1 { "y" } else { "ies" },
        summaries.join("; "),
        if *count == 1 { "s" } else { "" }
    )]
    Diverged {
        /// The remote.
        remote: String,
        /// The branch.
        branch: String,
        /// How many.
        count: usize,
        /// Their summaries.
        summaries: Vec<String>,
    },
}

impl LedgerError {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            LedgerError::Git(e) => e.hint(),
            LedgerError::Entry(_) | LedgerError::BadIndex { .. } => Some(
                "the ledger is written only by shipgate; restore the remote's refs/shipgate/ledger from a clone that has a good one".into(),
            ),
            LedgerError::Inconsistent { .. } => Some(
                "a writer other than shipgate (or a shipgate of another version) wrote this commit; nothing was built on it".into(),
            ),
            LedgerError::Rewritten { .. } => Some(
                "entries are append-only: push the known ledger back, or delete refs/shipgate/ledger here if the remote's is the right one".into(),
            ),
            LedgerError::Diverged { .. } => Some(
                "nothing was lost: push those entries' effect again with --push from a fresh clone, or delete refs/shipgate/ledger here to drop them".into(),
            ),
        }
    }
}

/// How a publication ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Published {
    /// Committed here only (no `--push`, or no remote).
    Local,
    /// On the remote.
    Pushed,
    /// The remote ledger or branch moved since it was read: nothing changed anywhere.
    Moved {
        /// What moved, in git's words.
        refs: Vec<String>,
    },
}

/// A branch commit published with ledger entries: it moves `branch` from `base` to `new`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchMove {
    /// The branch (`main`).
    pub branch: String,
    /// What it was built on.
    pub base: Oid,
    /// The new commit.
    pub new: Oid,
    /// The files it changed, for the work tree.
    pub paths: Vec<String>,
}

/// The ledger as read: its tip, what the remote has, the state.
pub struct Ledger<'r> {
    repo: &'r Repo,
    remote: Option<String>,
    branch: String,
    /// The ledger's tip here (after syncing with the remote).
    pub tip: Option<Oid>,
    /// The remote's tip, as fetched.
    pub remote_tip: Option<Oid>,
    /// The state at the tip.
    pub state: LedgerState,
    /// Entries here that the remote does not have yet.
    pub pending: usize,
    /// Messages for the user (entries replayed, a branch left behind).
    pub notes: Vec<String>,
}

fn short(id: Oid) -> String {
    id.to_string().chars().take(10).collect()
}

impl<'r> Ledger<'r> {
    /// Reads the ledger: with a remote and `fetch`, first fetches the remote's
    /// `refs/shipgate/*` and `branch`, checks what arrived, and brings the local ledger up
    /// to it (replaying unpushed entries that change no branch on top of it).
    pub fn open(
        repo: &'r Repo,
        remote: Option<&str>,
        branch: &str,
        fetch: bool,
    ) -> Result<Self, LedgerError> {
        let known = match remote {
            Some(r) => repo.ref_target(&tracking(r, "ledger"))?,
            None => None,
        };
        if let (Some(remote), true) = (remote, fetch) {
            repo.fetch_refs(
                remote,
                &[
                    format!("+refs/shipgate/*:{}", tracking(remote, "*")),
                    format!("+refs/heads/{branch}:{}", tracking_branch(remote, branch)),
                ],
            )?;
        }
        let local = repo.ref_target(LEDGER_REF)?;
        let remote_tip = match remote {
            Some(r) => repo.ref_target(&tracking(r, "ledger"))?,
            None => None,
        };
        let mut ledger = Ledger {
            repo,
            remote: remote.map(String::from),
            branch: branch.to_string(),
            tip: local,
            remote_tip,
            state: LedgerState::default(),
            pending: 0,
            notes: Vec::new(),
        };
        if let (Some(r), Some(known), Some(now)) = (remote, known, remote_tip)
            && !repo.is_ancestor(known, now)?
        {
            return Err(LedgerError::Rewritten {
                remote: r.to_string(),
                remote_tip: now.to_string(),
                known: known.to_string(),
            });
        }
        ledger.sync(branch)?;
        ledger.state = ledger.read_state(ledger.tip)?;
        Ok(ledger)
    }

    /// The remote, if the ledger has one.
    pub fn remote(&self) -> Option<&str> {
        self.remote.as_deref()
    }

    /// The repository.
    pub fn repo(&self) -> &'r Repo {
        self.repo
    }

    fn sync(&mut self, branch: &str) -> Result<(), LedgerError> {
        let (Some(remote), Some(remote_tip)) = (self.remote.clone(), self.remote_tip) else {
            self.pending = match (self.tip, self.remote_tip) {
                (Some(tip), None) if self.remote.is_some() => {
                    self.repo.first_parents(tip, None, None)?.len()
                }
                _ => 0,
            };
            return Ok(());
        };
        let Some(local) = self.tip else {
            // A first look (a fresh clone): the remote's tip entry must read; the rest is
            // checked as it grows.
            Entry::from_message(&remote_tip.to_string(), &self.repo.message(remote_tip)?)?;
            self.repo
                .set_ref(LEDGER_REF, remote_tip, None, "shipgate: ledger from remote")?;
            self.tip = Some(remote_tip);
            return Ok(());
        };
        if local == remote_tip {
            return Ok(());
        }
        if self.repo.is_ancestor(local, remote_tip)? {
            self.check_arrived(&remote, local, remote_tip)?;
            self.repo.set_ref(
                LEDGER_REF,
                remote_tip,
                Some(local),
                "shipgate: ledger from remote",
            )?;
            self.tip = Some(remote_tip);
            return Ok(());
        }
        if self.repo.is_ancestor(remote_tip, local)? {
            self.pending = self
                .repo
                .first_parents(local, Some(remote_tip), None)?
                .len();
            return Ok(());
        }
        // Diverged: entries here the remote lacks, and entries there we lack.
        let base = self.repo.merge_base(local, remote_tip)?;
        let Some(base) = base else {
            return Err(LedgerError::Rewritten {
                remote,
                remote_tip: remote_tip.to_string(),
                known: local.to_string(),
            });
        };
        self.check_arrived(&remote, base, remote_tip)?;
        let mut ours = self.repo.first_parents(local, Some(base), None)?;
        ours.reverse();
        let mut entries = Vec::with_capacity(ours.len());
        for (id, message) in &ours {
            let entry = Entry::from_message(&id.to_string(), message)?;
            entries.push(entry);
        }
        let moving: Vec<String> = entries
            .iter()
            .filter(|e| matches!(e.kind, Kind::Promotion | Kind::Rollback))
            .map(Entry::summary)
            .collect();
        if !moving.is_empty() {
            return Err(LedgerError::Diverged {
                remote,
                branch: branch.to_string(),
                count: moving.len(),
                summaries: moving,
            });
        }
        let replayed = self.build(Some(remote_tip), &entries, None)?;
        self.repo.set_ref(
            LEDGER_REF,
            replayed,
            Some(local),
            "shipgate: unpushed entries replayed",
        )?;
        self.notes.push(format!(
            "{} unpushed ledger entr{} replayed on top of {remote}'s ledger",
            entries.len(),
            if entries.len() == 1 { "y" } else { "ies" }
        ));
        self.tip = Some(replayed);
        self.pending = entries.len();
        Ok(())
    }

    /// The branch commit of the newest entry here that the remote lacks and that moved the
    /// branch (a promotion or rollback written without `--push`), unless the remote's branch
    /// has it already: what a push of the ledger must take along, and build on. When the
    /// remote's branch moved on meanwhile, it cannot go along: [`LedgerError::Diverged`].
    pub fn unpushed_branch_commit(&self) -> Result<Option<Oid>, LedgerError> {
        let (Some(tip), Some(remote)) = (self.tip, &self.remote) else {
            return Ok(None);
        };
        let mut moving = Vec::new();
        let mut newest = None;
        for (id, message) in self.repo.first_parents(tip, self.remote_tip, None)? {
            let entry = Entry::from_message(&id.to_string(), &message)?;
            if matches!(entry.kind, Kind::Promotion | Kind::Rollback) {
                moving.push(entry.summary());
                newest = newest.or(entry.commit.and_then(|c| Oid::from_str(&c).ok()));
            }
        }
        let remote_branch = self
            .repo
            .ref_target(&tracking_branch(remote, &self.branch))?;
        let (Some(commit), Some(there)) = (newest, remote_branch) else {
            return Ok(newest);
        };
        if self.repo.is_ancestor(commit, there)? {
            return Ok(None);
        }
        if !self.repo.is_ancestor(there, commit)? {
            moving.reverse();
            return Err(LedgerError::Diverged {
                remote: remote.clone(),
                branch: self.branch.clone(),
                count: moving.len(),
                summaries: moving,
            });
        }
        Ok(Some(commit))
    }

    /// Checks the commits from `from` (excluded) to `to` that came from `remote`: each
    /// entry reads, and the indexes each commit holds are what its entry makes of its
    /// parent's.
    fn check_arrived(&self, remote: &str, from: Oid, to: Oid) -> Result<(), LedgerError> {
        let mut chain = self.repo.first_parents(to, Some(from), None)?;
        chain.reverse();
        let mut parent = from;
        for (id, message) in chain {
            let entry = Entry::from_message(&id.to_string(), &message)?;
            let mut indexes = self.load(Some(parent), &Needs::default())?;
            let needs = indexes.needs(&entry);
            indexes = self.load(Some(parent), &needs)?;
            indexes.apply(&entry);
            for (path, bytes) in changes(&indexes) {
                let stored = self.repo.file_at(id, &path)?;
                if stored.as_deref() != Some(bytes.as_slice()) {
                    return Err(LedgerError::Inconsistent {
                        remote: remote.to_string(),
                        commit: id.to_string(),
                        path,
                    });
                }
            }
            parent = id;
        }
        Ok(())
    }

    fn read_json<T: serde::de::DeserializeOwned>(
        &self,
        commit: Oid,
        path: &str,
    ) -> Result<Option<T>, LedgerError> {
        let Some(bytes) = self.repo.file_at(commit, path)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| LedgerError::BadIndex {
                commit: commit.to_string(),
                path: path.to_string(),
                message: e.to_string(),
            })
    }

    fn read_state(&self, at: Option<Oid>) -> Result<LedgerState, LedgerError> {
        match at {
            Some(commit) => Ok(self.read_json(commit, STATE_PATH)?.unwrap_or_default()),
            None => Ok(LedgerState::default()),
        }
    }

    /// The state and the pieces `needs` names, at `at`.
    fn load(&self, at: Option<Oid>, needs: &Needs) -> Result<Indexes, LedgerError> {
        let mut indexes = Indexes {
            state: self.read_state(at)?,
            ..Indexes::default()
        };
        let Some(commit) = at else {
            return Ok(indexes);
        };
        for v in &needs.versions {
            if let Some(f) = self.read_json::<VersionFacts>(commit, &version_path(v))? {
                indexes.versions.insert(v.clone(), f);
            }
        }
        for (env, month) in &needs.months {
            if let Some(m) = self.read_json::<MonthMetrics>(commit, &month_path(env, month))? {
                indexes.months.insert((env.clone(), month.clone()), m);
            }
        }
        Ok(indexes)
    }

    /// One version's history at the tip.
    pub fn version_facts(&self, version: &str) -> Result<VersionFacts, LedgerError> {
        let Some(tip) = self.tip else {
            return Ok(VersionFacts {
                version: version.to_string(),
                ..VersionFacts::default()
            });
        };
        Ok(self
            .read_json(tip, &version_path(version))?
            .unwrap_or_else(|| VersionFacts {
                version: version.to_string(),
                ..VersionFacts::default()
            }))
    }

    /// Every month's metrics of `env` at the tip.
    pub fn months(&self, env: &str) -> Result<Vec<MonthMetrics>, LedgerError> {
        let Some(tip) = self.tip else {
            return Ok(Vec::new());
        };
        let dir = format!("metrics/{env}");
        let mut out = Vec::new();
        for f in self.repo.files_in(tip, &dir)? {
            let path = format!("{dir}/{}", f.name);
            let m: MonthMetrics =
                serde_json::from_slice(&f.bytes).map_err(|e| LedgerError::BadIndex {
                    commit: tip.to_string(),
                    path,
                    message: e.to_string(),
                })?;
            out.push(m);
        }
        Ok(out)
    }

    /// Entries, newest first, with their commits: at most `limit` (None: all) of those
    /// `keep` lets through. Every entry read is checked.
    pub fn history(
        &self,
        limit: Option<usize>,
        keep: &dyn Fn(&Entry) -> bool,
    ) -> Result<Vec<(Oid, Entry)>, LedgerError> {
        let mut out = Vec::new();
        if limit == Some(0) {
            return Ok(out);
        }
        self.walk(&mut |id, entry| {
            if keep(&entry) {
                out.push((id, entry));
            }
            limit.is_none_or(|l| out.len() < l)
        })?;
        Ok(out)
    }

    /// Hands each entry, newest first (the order they were written in), with its commit to
    /// `visit` until it answers false. Every entry read is checked.
    pub fn walk(&self, visit: &mut dyn FnMut(Oid, Entry) -> bool) -> Result<(), LedgerError> {
        let Some(tip) = self.tip else {
            return Ok(());
        };
        let mut failed = None;
        self.repo
            .each_first_parent(tip, &mut |id, message| match Entry::from_message(
                &id.to_string(),
                message,
            ) {
                Ok(entry) => visit(id, entry),
                Err(e) => {
                    failed = Some(e);
                    false
                }
            })?;
        match failed {
            Some(e) => Err(e.into()),
            None => Ok(()),
        }
    }

    /// Every entry, newest first, each checked: the commits are read on this thread while
    /// another reads their messages as entries, in batches (the first bad entry, newest
    /// first, is the error, and stops both).
    pub fn entries(&self) -> Result<Vec<Entry>, LedgerError> {
        const BATCH: usize = 2_048;
        let Some(tip) = self.tip else {
            return Ok(Vec::new());
        };
        let (send, receive) = std::sync::mpsc::sync_channel::<Vec<(Oid, String)>>(8);
        std::thread::scope(|s| {
            let reader = s.spawn(move || -> Result<Vec<Entry>, EntryError> {
                let mut entries = Vec::new();
                for batch in receive {
                    for (id, message) in batch {
                        entries.push(Entry::from_message(&id.to_string(), &message)?);
                    }
                }
                Ok(entries)
            });
            let mut batch = Vec::with_capacity(BATCH);
            let walked = self.repo.each_first_parent(tip, &mut |id, message| {
                batch.push((id, message.to_string()));
                if batch.len() < BATCH {
                    return true;
                }
                // The reader stopped at a bad entry: no need to read on.
                send.send(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)))
                    .is_ok()
            });
            if !batch.is_empty() {
                let _ = send.send(batch);
            }
            drop(send);
            let read = match reader.join() {
                Ok(read) => read,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            // A bad entry is newer than a commit the walk could not read: it is the error.
            let entries = read?;
            walked?;
            Ok(entries)
        })
    }

    /// Whether `commit` (of this ledger) is on the remote already.
    pub fn is_pushed(&self, commit: Oid) -> Result<bool, LedgerError> {
        match self.remote_tip {
            Some(remote_tip) => Ok(self.repo.is_ancestor(commit, remote_tip)?),
            None => Ok(self.remote.is_none()),
        }
    }

    /// New ledger commits for `entries` on top of `base` (nothing moves): one per entry,
    /// each with the indexes it makes. `branch_commit` becomes the second parent of the
    /// first (when it has a first), so that a push of the ledger carries it. Returns the
    /// last.
    pub fn build(
        &self,
        base: Option<Oid>,
        entries: &[Entry],
        branch_commit: Option<Oid>,
    ) -> Result<Oid, LedgerError> {
        let mut parent = base;
        let mut indexes = self.load(base, &Needs::default())?;
        let mut loaded = Needs::default();
        for (i, entry) in entries.iter().enumerate() {
            entry.check().map_err(|message| EntryError {
                commit: "(new)".into(),
                line: 1,
                column: 1,
                message,
            })?;
            let needs = indexes.needs(entry);
            let missing = Needs {
                versions: needs
                    .versions
                    .difference(&loaded.versions)
                    .cloned()
                    .collect(),
                months: needs.months.difference(&loaded.months).cloned().collect(),
            };
            let more = self.load(base, &missing)?;
            indexes.versions.extend(more.versions);
            indexes.months.extend(more.months);
            loaded.versions.extend(missing.versions);
            loaded.months.extend(missing.months);
            let before = indexes.clone();
            indexes.apply(entry);
            let files = changed(&before, &indexes);
            let mut parents: Vec<Oid> = parent.into_iter().collect();
            // The branch commit rides along as a second parent, so that pushing the ledger
            // carries it; never as the first (the ledger's chain is its first parents).
            if let (0, Some(b), false) = (i, branch_commit, parents.is_empty()) {
                parents.push(b);
            }
            parent = Some(
                self.repo
                    .make_commit(&parents, parent, &files, &entry.to_message())?,
            );
        }
        parent.ok_or_else(|| {
            LedgerError::Entry(EntryError {
                commit: "(new)".into(),
                line: 1,
                column: 1,
                message: "no entries to write".into(),
            })
        })
    }

    /// Moves the ledger to `new_tip` (and `branch`, when the entries change one): with
    /// `push` and a remote, atomically on the remote first (compare-and-swap on the
    /// ledger, fast-forward on the branch, or on the branch commit of entries written
    /// without `--push`, which go along), then here; else here only.
    pub fn publish(
        &mut self,
        new_tip: Oid,
        branch: Option<&BranchMove>,
        push: bool,
    ) -> Result<Published, LedgerError> {
        let result = match (&self.remote, push) {
            (Some(remote), true) => {
                let mut updates = vec![RefUpdate {
                    new: Some(new_tip),
                    dst: LEDGER_REF.into(),
                    expect: match self.remote_tip {
                        Some(t) => Expect::Exactly(t),
                        None => Expect::Absent,
                    },
                }];
                let carried = match branch {
                    Some(b) => Some((b.branch.clone(), b.new)),
                    None => self
                        .unpushed_branch_commit()?
                        .map(|c| (self.branch.clone(), c)),
                };
                if let Some((name, new)) = &carried {
                    updates.push(RefUpdate {
                        new: Some(*new),
                        dst: format!("refs/heads/{name}"),
                        expect: Expect::FastForward,
                    });
                }
                match self.repo.push_cas(remote, &updates)? {
                    PushOutcome::Moved { refs } => return Ok(Published::Moved { refs }),
                    PushOutcome::Sent => {}
                }
                self.repo
                    .force_ref(&tracking(remote, "ledger"), new_tip, "shipgate: pushed")?;
                if let Some((name, new)) = carried {
                    self.repo.force_ref(
                        &tracking_branch(remote, &name),
                        new,
                        "shipgate: pushed",
                    )?;
                }
                self.remote_tip = Some(new_tip);
                Published::Pushed
            }
            _ => Published::Local,
        };
        self.repo
            .set_ref(LEDGER_REF, new_tip, self.tip, "shipgate: ledger entry")?;
        self.tip = Some(new_tip);
        self.state = self.read_state(self.tip)?;
        if let Some(b) = branch {
            self.move_branch(b)?;
        }
        self.pending = match &self.remote {
            Some(_) => match self.remote_tip {
                Some(r) => self.repo.first_parents(new_tip, Some(r), None)?.len(),
                None => self.repo.first_parents(new_tip, None, None)?.len(),
            },
            None => 0,
        };
        Ok(result)
    }

    /// The local branch follows the new commit when it can fast-forward; the work tree too,
    /// where it is untouched.
    fn move_branch(&mut self, b: &BranchMove) -> Result<(), LedgerError> {
        let name = format!("refs/heads/{}", b.branch);
        let local = self.repo.ref_target(&name)?;
        match local {
            Some(l) if l == b.new => {}
            Some(l) if self.repo.is_ancestor(l, b.new)? => {
                self.repo
                    .set_ref(&name, b.new, Some(l), "shipgate: promotion")?;
                let skipped = self.repo.follow_branch(&b.branch, l, b.new, &b.paths)?;
                if !skipped.is_empty() {
                    self.notes.push(format!(
                        "{} changed here and was left as it is; the new version is in {} ({})",
                        skipped.join(", "),
                        b.branch,
                        short(b.new)
                    ));
                }
            }
            Some(l) => self.notes.push(format!(
                "local {} ({}) has commits the promotion is not built on; the promotion is {} on top of {}: pull to get it",
                b.branch,
                short(l),
                short(b.new),
                short(b.base)
            )),
            None => {
                self.repo.set_ref(&name, b.new, None, "shipgate: promotion")?;
            }
        }
        Ok(())
    }
}

/// Every index file of `indexes` as it would be written.
fn changes(indexes: &Indexes) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![(STATE_PATH.to_string(), json(&indexes.state))];
    for (v, f) in &indexes.versions {
        out.push((version_path(v), json(f)));
    }
    for ((env, month), m) in &indexes.months {
        out.push((month_path(env, month), json(m)));
    }
    out
}

/// The index files that differ between `before` and `after`, for a commit.
fn changed(before: &Indexes, after: &Indexes) -> Vec<(String, Option<Vec<u8>>)> {
    let mut out = vec![(STATE_PATH.to_string(), Some(json(&after.state)))];
    let versions: BTreeMap<&String, &VersionFacts> = before.versions.iter().collect();
    for (v, f) in &after.versions {
        if versions.get(v) != Some(&f) {
            out.push((version_path(v), Some(json(f))));
        }
    }
    for (key, m) in &after.months {
        if before.months.get(key) != Some(m) {
            out.push((month_path(&key.0, &key.1), Some(json(m))));
        }
    }
    out
}

fn json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    // Index types hold strings, numbers, booleans, timestamps and maps with string keys.
    let mut bytes = serde_json::to_vec(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}
