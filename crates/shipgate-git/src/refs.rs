//! Refs, trees and commits beyond a release's: what the promotion ledger needs. Any ref by
//! name, compare-and-swap updates, commits built from a parent's tree plus changed files
//! (never from the work tree), first-parent chains with their messages, files read from a
//! commit's tree (through the `git` binary when a partial clone lacks the blob), fetches of
//! named refs and atomic pushes whose losers learn they lost a race.

use std::path::Path;

use git2::Oid;

use crate::{GitError, Repo, ctx, network};

/// One ref a push updates, and what the pusher expects the remote to hold now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefUpdate {
    /// The commit to send; None deletes the remote ref.
    pub new: Option<Oid>,
    /// The remote ref (`refs/heads/main`).
    pub dst: String,
    /// What the remote ref must hold for the push to go through.
    pub expect: Expect,
}

/// A push's precondition on one remote ref.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// The update must be a fast-forward of whatever the remote has.
    FastForward,
    /// The remote ref must be exactly this commit (compare-and-swap).
    Exactly(Oid),
    /// The remote ref must not exist.
    Absent,
    /// Whatever the remote has is replaced (a branch of our own, such as a pull request's).
    Replace,
}

/// How an atomic push ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// Every ref was updated.
    Sent,
    /// Nothing was updated: a ref moved on the remote since it was read (a race to lose,
    /// fetch and try again).
    Moved {
        /// The refs that moved, and git's words.
        refs: Vec<String>,
    },
}

/// A file of a commit's tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeFile {
    /// Its name in the directory.
    pub name: String,
    /// Its contents.
    pub bytes: Vec<u8>,
}

impl Repo {
    /// The commit a ref names, if it exists.
    pub fn ref_target(&self, name: &str) -> Result<Option<Oid>, GitError> {
        match self.repo.find_reference(name) {
            Ok(r) => {
                let commit = r
                    .peel_to_commit()
                    .map_err(ctx(format!("cannot read {name}")))?;
                Ok(Some(commit.id()))
            }
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(GitError::Git {
                context: format!("cannot read {name}"),
                source: e,
            }),
        }
    }

    /// Every ref under `prefix` (`refs/shipgate/locks/`), with the commit it names.
    pub fn refs_under(&self, prefix: &str) -> Result<Vec<(String, Oid)>, GitError> {
        let glob = format!("{prefix}*");
        let refs = self
            .repo
            .references_glob(&glob)
            .map_err(ctx(format!("cannot list {glob}")))?;
        let mut out = Vec::new();
        for r in refs {
            let r = r.map_err(ctx(format!("cannot list {glob}")))?;
            let (Ok(name), Ok(commit)) = (r.name(), r.peel_to_commit()) else {
                continue;
            };
            out.push((name.to_string(), commit.id()));
        }
        Ok(out)
    }

    /// Points `name` at `new` if it holds `expected` now (None: if it does not exist), and
    /// fails otherwise: a local compare-and-swap.
    pub fn set_ref(
        &self,
        name: &str,
        new: Oid,
        expected: Option<Oid>,
        log: &str,
    ) -> Result<(), GitError> {
        let result = match expected {
            Some(old) => self
                .repo
                .reference_matching(name, new, true, old, log)
                .map(drop),
            None => self.repo.reference(name, new, false, log).map(drop),
        };
        result.map_err(ctx(format!(
            "cannot move {name} to {new} (it changed since it was read)"
        )))
    }

    /// Points `name` at `new` whatever it holds (a remote-tracking ref after a fetch).
    pub fn force_ref(&self, name: &str, new: Oid, log: &str) -> Result<(), GitError> {
        self.repo
            .reference(name, new, true, log)
            .map(drop)
            .map_err(ctx(format!("cannot move {name} to {new}")))
    }

    /// Deletes `name` if it exists.
    pub fn delete_ref(&self, name: &str) -> Result<(), GitError> {
        match self.repo.find_reference(name) {
            Ok(mut r) => r.delete().map_err(ctx(format!("cannot delete {name}"))),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(()),
            Err(e) => Err(GitError::Git {
                context: format!("cannot delete {name}"),
                source: e,
            }),
        }
    }

    /// A commit's whole message (lossy UTF-8).
    pub fn message(&self, id: Oid) -> Result<String, GitError> {
        let commit = self
            .repo
            .find_commit(id)
            .map_err(ctx(format!("cannot read commit {id}")))?;
        Ok(String::from_utf8_lossy(commit.message_bytes()).into_owned())
    }

    /// A commit's parents.
    pub fn parents(&self, id: Oid) -> Result<Vec<Oid>, GitError> {
        let commit = self
            .repo
            .find_commit(id)
            .map_err(ctx(format!("cannot read commit {id}")))?;
        Ok(commit.parent_ids().collect())
    }

    /// Hands each commit of the first-parent chain from `from`, newest first, with its
    /// message (lossy UTF-8), to `visit` until it answers false or the root is passed: one
    /// object read per commit.
    pub fn each_first_parent(
        &self,
        from: Oid,
        visit: &mut dyn FnMut(Oid, &str) -> bool,
    ) -> Result<(), GitError> {
        let mut at = Some(from);
        while let Some(id) = at {
            let commit = self
                .repo
                .find_commit(id)
                .map_err(ctx(format!("cannot read commit {id}")))?;
            if !visit(id, &String::from_utf8_lossy(commit.message_bytes())) {
                break;
            }
            at = commit.parent_id(0).ok();
        }
        Ok(())
    }

    /// The first-parent chain from `from`, newest first, with each commit's message: up to
    /// `stop` (excluded) or the root, at most `limit` commits.
    pub fn first_parents(
        &self,
        from: Oid,
        stop: Option<Oid>,
        limit: Option<usize>,
    ) -> Result<Vec<(Oid, String)>, GitError> {
        let mut out = Vec::new();
        let mut at = Some(from);
        while let Some(id) = at {
            if Some(id) == stop || limit.is_some_and(|l| out.len() >= l) {
                break;
            }
            let commit = self
                .repo
                .find_commit(id)
                .map_err(ctx(format!("cannot read commit {id}")))?;
            out.push((
                id,
                String::from_utf8_lossy(commit.message_bytes()).into_owned(),
            ));
            at = commit.parent_id(0).ok();
        }
        Ok(out)
    }

    /// Whether `ancestor` is `of` or one of its ancestors.
    pub fn is_ancestor(&self, ancestor: Oid, of: Oid) -> Result<bool, GitError> {
        if ancestor == of {
            return Ok(true);
        }
        self.repo
            .graph_descendant_of(of, ancestor)
            .map_err(ctx(format!("cannot compare {ancestor} and {of}")))
    }

    /// The file at `path` (`/`-separated) in `commit`'s tree, if there is one. A blob that a
    /// partial clone has not fetched is read through the `git` binary, which fetches it.
    pub fn file_at(&self, commit: Oid, path: &str) -> Result<Option<Vec<u8>>, GitError> {
        let tree = self.tree_of(commit)?;
        let entry = match tree.get_path(Path::new(path)) {
            Ok(e) => e,
            Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(None),
            Err(e) => {
                return Err(GitError::Git {
                    context: format!("cannot read {path} at {commit}"),
                    source: e,
                });
            }
        };
        if entry.kind() != Some(git2::ObjectType::Blob) {
            return Ok(None);
        }
        self.blob(entry.id(), path).map(Some)
    }

    /// The files (blobs) directly in `dir` of `commit`'s tree, by name.
    pub fn files_in(&self, commit: Oid, dir: &str) -> Result<Vec<TreeFile>, GitError> {
        let tree = self.tree_of(commit)?;
        let sub = if dir.is_empty() || dir == "." {
            tree
        } else {
            match tree.get_path(Path::new(dir)) {
                Ok(e) if e.kind() == Some(git2::ObjectType::Tree) => self
                    .repo
                    .find_tree(e.id())
                    .map_err(ctx(format!("cannot read {dir} at {commit}")))?,
                Ok(_) => return Ok(Vec::new()),
                Err(e) if e.code() == git2::ErrorCode::NotFound => return Ok(Vec::new()),
                Err(e) => {
                    return Err(GitError::Git {
                        context: format!("cannot read {dir} at {commit}"),
                        source: e,
                    });
                }
            }
        };
        let mut out = Vec::new();
        for entry in sub.iter() {
            if entry.kind() != Some(git2::ObjectType::Blob) {
                continue;
            }
            let Ok(name) = entry.name() else { continue };
            let bytes = self.blob(entry.id(), &format!("{dir}/{name}"))?;
            out.push(TreeFile {
                name: name.to_string(),
                bytes,
            });
        }
        Ok(out)
    }

    fn tree_of(&self, commit: Oid) -> Result<git2::Tree<'_>, GitError> {
        self.repo
            .find_commit(commit)
            .and_then(|c| c.tree())
            .map_err(ctx(format!("cannot read the tree of {commit}")))
    }

    fn blob(&self, id: Oid, path: &str) -> Result<Vec<u8>, GitError> {
        match self.repo.find_blob(id) {
            Ok(b) => Ok(b.content().to_vec()),
            Err(e) if e.code() == git2::ErrorCode::NotFound => {
                // A partial clone: `git cat-file` fetches the blob from the promisor remote.
                let out = network::command(
                    &self.workdir,
                    &["cat-file".into(), "blob".into(), id.to_string()],
                )
                .output()
                .map_err(|e| GitError::Command {
                    args: format!("cat-file blob {id}"),
                    stderr: e.to_string(),
                    hint: None,
                })?;
                if out.status.success() {
                    Ok(out.stdout)
                } else {
                    Err(GitError::Command {
                        args: format!("cat-file blob {id} ({path})"),
                        stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
                        hint: None,
                    })
                }
            }
            Err(e) => Err(GitError::Git {
                context: format!("cannot read {path}"),
                source: e,
            }),
        }
    }

    /// Makes a commit (no ref moves): `base`'s tree with `changes` applied (`(path, Some
    /// (bytes))` writes a file, `(path, None)` removes one), the given parents and message.
    /// The committer is the git identity when there is one, else `shipgate`.
    pub fn make_commit(
        &self,
        parents: &[Oid],
        base: Option<Oid>,
        changes: &[(String, Option<Vec<u8>>)],
        message: &str,
    ) -> Result<Oid, GitError> {
        let base_tree = match base {
            Some(commit) => Some(self.tree_of(commit)?),
            None => None,
        };
        let empty;
        let base_tree = match base_tree {
            Some(t) => t,
            None => {
                let id = self
                    .repo
                    .treebuilder(None)
                    .and_then(|b| b.write())
                    .map_err(ctx("cannot write an empty tree"))?;
                empty = self
                    .repo
                    .find_tree(id)
                    .map_err(ctx("cannot read an empty tree"))?;
                empty.clone()
            }
        };
        let mut update = git2::build::TreeUpdateBuilder::new();
        for (path, bytes) in changes {
            match bytes {
                Some(bytes) => {
                    let blob = self
                        .repo
                        .blob(bytes)
                        .map_err(ctx(format!("cannot write {path}")))?;
                    update.upsert(path.as_str(), blob, git2::FileMode::Blob);
                }
                None => {
                    update.remove(path.as_str());
                }
            }
        }
        let tree_id = update
            .create_updated(&self.repo, &base_tree)
            .map_err(ctx("cannot write the tree"))?;
        let tree = self
            .repo
            .find_tree(tree_id)
            .map_err(ctx("cannot read the tree"))?;
        let parents: Vec<git2::Commit<'_>> = parents
            .iter()
            .map(|p| self.repo.find_commit(*p))
            .collect::<Result<_, _>>()
            .map_err(ctx("cannot read a parent commit"))?;
        let parent_refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
        let sig = match self.signature() {
            Ok(s) => s,
            Err(_) => git2::Signature::now("shipgate", "shipgate@localhost")
                .map_err(ctx("cannot make a signature"))?,
        };
        self.repo
            .commit(None, &sig, &sig, message, &tree, &parent_refs)
            .map_err(ctx("cannot make the commit"))
    }

    /// The git identity's e-mail (`user.email`, or `GIT_COMMITTER_EMAIL`/`GIT_AUTHOR_EMAIL`).
    pub fn identity_email(&self) -> Option<String> {
        self.signature()
            .ok()
            .and_then(|s| s.email().ok().map(String::from))
    }

    /// Fetches `refspecs` (`+SRC:DST`, globs allowed) from `remote` without tags. A remote
    /// that lacks a glob's refs is not an error; one that lacks an exact ref is.
    pub fn fetch_refs(&self, remote: &str, refspecs: &[String]) -> Result<(), GitError> {
        let mut args = vec![
            "fetch".to_string(),
            "--quiet".into(),
            "--no-tags".into(),
            "--no-write-fetch-head".into(),
            "--prune".into(),
            "--".into(),
            remote.to_string(),
        ];
        args.extend(refspecs.iter().cloned());
        network::git(&self.workdir, &args, None).map(drop)
    }

    /// Pushes `updates` to `remote` atomically (all or none), each with its precondition.
    /// A push refused because a ref moved on the remote is [`PushOutcome::Moved`]; refused
    /// for any other reason (a protected branch, a hook, no access) it is an error with the
    /// remote's words.
    pub fn push_cas(&self, remote: &str, updates: &[RefUpdate]) -> Result<PushOutcome, GitError> {
        let mut args = vec![
            "push".to_string(),
            "--atomic".into(),
            "--porcelain".into(),
            "--no-verify".into(),
        ];
        for u in updates {
            match u.expect {
                Expect::FastForward => {}
                Expect::Exactly(old) => args.push(format!("--force-with-lease={}:{old}", u.dst)),
                Expect::Absent => args.push(format!("--force-with-lease={}:", u.dst)),
                Expect::Replace => {}
            }
        }
        args.push("--".into());
        args.push(remote.to_string());
        for u in updates {
            let force = if u.expect == Expect::Replace { "+" } else { "" };
            match u.new {
                Some(new) => args.push(format!("{force}{new}:{}", u.dst)),
                None => args.push(format!(":{}", u.dst)),
            }
        }
        let out = network::command(&self.workdir, &args)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| GitError::Command {
                args: args.join(" "),
                stderr: e.to_string(),
                hint: Some("install git and put it on PATH".into()),
            })?;
        if out.status.success() {
            return Ok(PushOutcome::Sent);
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        let (mut moved, refused) = porcelain_rejections(&stdout);
        if lost_lock(&stderr) {
            // The remote's own compare-and-swap lost to a push that landed while this one
            // was on its way: a race like any other.
            moved.extend(refused);
            return Ok(PushOutcome::Moved { refs: moved });
        }
        if refused.is_empty() && !moved.is_empty() {
            return Ok(PushOutcome::Moved { refs: moved });
        }
        let detail = if refused.is_empty() {
            stderr.clone()
        } else {
            let remote_says: Vec<&str> = stderr
                .lines()
                .filter_map(|l| l.strip_prefix("remote: "))
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            let mut text = refused.join("; ");
            if !remote_says.is_empty() {
                text.push_str(": ");
                text.push_str(&remote_says.join(" "));
            }
            text
        };
        Err(GitError::Command {
            args: args.join(" "),
            stderr: detail,
            hint: None,
        })
    }

    /// The best common ancestor of two commits, if they have one.
    pub fn merge_base(&self, a: Oid, b: Oid) -> Result<Option<Oid>, GitError> {
        match self.repo.merge_base(a, b) {
            Ok(id) => Ok(Some(id)),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(GitError::Git {
                context: format!("cannot find a common ancestor of {a} and {b}"),
                source: e,
            }),
        }
    }

    /// After `refs/heads/<branch>` moved from `old` to `new`: when HEAD is that branch,
    /// brings `paths` of the work tree and the index to `new`, each only if the work tree
    /// still has `old`'s content there (a file someone edited is left alone). Returns the
    /// paths left alone.
    pub fn follow_branch(
        &self,
        branch: &str,
        old: Oid,
        new: Oid,
        paths: &[String],
    ) -> Result<Vec<String>, GitError> {
        let on_branch = self
            .repo
            .head()
            .ok()
            .and_then(|h| h.name().ok().map(String::from))
            .is_some_and(|n| n == format!("refs/heads/{branch}"));
        if !on_branch {
            return Ok(Vec::new());
        }
        let mut skipped = Vec::new();
        let mut checkout = git2::build::CheckoutBuilder::new();
        checkout.force().update_index(true);
        let mut any = false;
        for path in paths {
            let before = self.file_at(old, path)?;
            let now = std::fs::read(self.workdir.join(path)).ok();
            if before == now {
                checkout.path(path.as_str());
                any = true;
            } else {
                skipped.push(path.clone());
            }
        }
        if any {
            let tree = self
                .repo
                .find_commit(new)
                .and_then(|c| c.tree())
                .map_err(ctx(format!("cannot read {new}")))?;
            self.repo
                .checkout_tree(tree.as_object(), Some(&mut checkout))
                .map_err(ctx("cannot update the work tree"))?;
        }
        Ok(skipped)
    }

    /// What `remote` names for `name` now, without fetching (`git ls-remote`).
    pub fn remote_ref(&self, remote: &str, name: &str) -> Result<Option<Oid>, GitError> {
        let refs = network::remote_refs(&self.workdir, remote)?;
        Ok(refs.into_iter().find(|(n, _)| n == name).map(|(_, id)| id))
    }
}

/// Whether the remote refused an update because the ref moved between its advertisement
/// and the update (`cannot lock ref '…': is at … but expected …`, or `reference already
/// exists` for one that had to be absent): another push won the race on the remote itself.
fn lost_lock(stderr: &str) -> bool {
    stderr.lines().any(|l| {
        l.contains("cannot lock ref")
            && (l.contains("but expected") || l.contains("reference already exists"))
    })
}

/// From `git push --porcelain` output: the refs rejected because they moved on the remote
/// (`non-fast-forward`, `fetch first`, `stale info`), and those refused for any other
/// reason (`[remote rejected]`, with its words). Refs rejected only because an atomic push
/// failed elsewhere count as neither.
fn porcelain_rejections(stdout: &str) -> (Vec<String>, Vec<String>) {
    let (mut moved, mut refused) = (Vec::new(), Vec::new());
    for line in stdout.lines() {
        let mut parts = line.splitn(3, '\t');
        let (Some(flag), Some(spec), Some(summary)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if flag != "!" {
            continue;
        }
        let dst = spec.rsplit(':').next().unwrap_or(spec);
        if summary.contains("atomic push failed") {
            continue;
        }
        let race = [
            "non-fast-forward",
            "fetch first",
            "stale info",
            "already exists",
        ]
        .iter()
        .any(|r| summary.contains(r))
            && summary.starts_with("[rejected]");
        if race {
            moved.push(format!("{dst} {summary}"));
        } else {
            refused.push(format!("{dst} {summary}"));
        }
    }
    (moved, refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn porcelain_tells_a_lost_race_from_a_refusal() {
        let race = "To /tmp/origin.git\n!\t1111:refs/shipgate/ledger\t[rejected] (stale info)\n!\t2222:refs/heads/main\t[rejected] (atomic push failed)\nDone\n";
        let (moved, refused) = porcelain_rejections(race);
        assert_eq!(moved, ["refs/shipgate/ledger [rejected] (stale info)"]);
        assert!(refused.is_empty());
        let ff = "!\t1:refs/heads/main\t[rejected] (non-fast-forward)\n";
        assert_eq!(porcelain_rejections(ff).0.len(), 1);
        let hook = "!\t1:refs/heads/main\t[remote rejected] (pre-receive hook declined)\n!\t2:refs/shipgate/ledger\t[rejected] (atomic push failed)\n";
        let (moved, refused) = porcelain_rejections(hook);
        assert!(moved.is_empty());
        assert_eq!(
            refused,
            ["refs/heads/main [remote rejected] (pre-receive hook declined)"]
        );
        assert_eq!(
            porcelain_rejections("=\trefs/heads/main:refs/heads/main\t[up to date]\n"),
            (vec![], vec![])
        );
    }

    #[test]
    fn a_ref_that_moved_during_the_push_is_a_lost_race() {
        assert!(lost_lock(
            "remote: error: cannot lock ref 'refs/heads/main': is at 25f0376e7a81b7cb40c56b130f01ad03fa9b3234 but expected 6e44f38e831fae63f93ea6c43d8dbba238004e9a"
        ));
        assert!(lost_lock(
            "error: cannot lock ref 'refs/shipgate/locks/prod': reference already exists"
        ));
        assert!(!lost_lock(
            "remote: main is protected: open a pull request\nerror: failed to push some refs"
        ));
    }

    fn repo() -> (tempfile::TempDir, Repo) {
        let dir = tempfile::tempdir().expect("tempdir");
        let git = git2::Repository::init(dir.path()).expect("init");
        let mut config = git.config().expect("config");
        config.set_str("user.name", "t").expect("name");
        config
            .set_str("user.email", "t@example.com")
            .expect("email");
        let sig = git2::Signature::now("t", "t@example.com").expect("sig");
        let tree = git.treebuilder(None).and_then(|b| b.write()).expect("tree");
        let tree = git.find_tree(tree).expect("tree");
        git.commit(Some("HEAD"), &sig, &sig, "root", &tree, &[])
            .expect("commit");
        let repo = crate::open(dir.path()).expect("open");
        (dir, repo)
    }

    #[test]
    fn commits_refs_and_files_round_trip() {
        let (_dir, repo) = repo();
        let c1 = repo
            .make_commit(
                &[],
                None,
                &[
                    ("state.json".into(), Some(b"{}".to_vec())),
                    ("versions/ab/1.4.0.json".into(), Some(b"{\"v\":1}".to_vec())),
                ],
                "first\n",
            )
            .expect("commit");
        repo.set_ref("refs/shipgate/ledger", c1, None, "start")
            .expect("create");
        assert!(
            repo.set_ref("refs/shipgate/ledger", c1, None, "again")
                .is_err(),
            "exists"
        );
        let c2 = repo
            .make_commit(
                &[c1],
                Some(c1),
                &[
                    ("versions/ab/1.4.0.json".into(), None),
                    ("state.json".into(), Some(b"{\"n\":2}".to_vec())),
                ],
                "second\n",
            )
            .expect("commit");
        assert!(
            repo.set_ref("refs/shipgate/ledger", c2, Some(c2), "wrong")
                .is_err(),
            "cas"
        );
        repo.set_ref("refs/shipgate/ledger", c2, Some(c1), "cas")
            .expect("cas");
        assert_eq!(
            repo.ref_target("refs/shipgate/ledger").expect("read"),
            Some(c2)
        );
        assert_eq!(repo.ref_target("refs/shipgate/none").expect("read"), None);
        assert_eq!(
            repo.file_at(c2, "state.json").expect("read").as_deref(),
            Some(&b"{\"n\":2}"[..])
        );
        assert_eq!(
            repo.file_at(c2, "versions/ab/1.4.0.json").expect("read"),
            None
        );
        assert_eq!(repo.files_in(c1, "versions/ab").expect("list").len(), 1);
        let chain = repo.first_parents(c2, None, None).expect("chain");
        assert_eq!(
            chain.iter().map(|(_, m)| m.as_str()).collect::<Vec<_>>(),
            ["second\n", "first\n"]
        );
        assert_eq!(
            repo.first_parents(c2, Some(c1), None).expect("chain").len(),
            1
        );
        assert_eq!(
            repo.first_parents(c2, None, Some(1)).expect("chain").len(),
            1
        );
        assert!(repo.is_ancestor(c1, c2).expect("ancestry"));
        assert!(!repo.is_ancestor(c2, c1).expect("ancestry"));
        assert_eq!(repo.refs_under("refs/shipgate/").expect("list").len(), 1);
        repo.delete_ref("refs/shipgate/ledger").expect("delete");
        assert_eq!(repo.ref_target("refs/shipgate/ledger").expect("read"), None);
    }
}
