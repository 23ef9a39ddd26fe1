//! The one place shipgate touches git: opening repositories, reading tags, walking history
//! from HEAD to the last release, checking which paths a commit touched (by tree ids, never
//! blob contents), making release commits and tags, and the network operations (push,
//! deepen a shallow clone, list remote tags), which go through the `git` binary so that the
//! user's credential helpers and Actions' `http.extraheader` apply.

mod network;
mod pack;
mod packed;
mod rawcommit;
mod refs;
#[cfg(test)]
mod test_repos;
mod walk;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

pub use git2::Oid;
pub use network::RemoteTag;
pub use refs::{Expect, PushOutcome, RefUpdate, TreeFile};
pub use walk::{CommitInfo, MultiWalk, Walk};

/// What went wrong talking to git. The message is what went wrong; the hint
/// ([`GitError::hint`]) is data, not part of the message.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("{} is not a git repository", path.display())]
    NotARepo { path: PathBuf },
    #[error("the repository at {} has no commits yet", path.display())]
    NoCommits { path: PathBuf },
    #[error("the repository at {} has no work tree (bare repository)", path.display())]
    Bare { path: PathBuf },
    #[error("tag {name} already exists and points at {existing}, not {wanted}")]
    TagExists {
        name: String,
        existing: String,
        wanted: String,
    },
    #[error("no identity to make the release commit with")]
    NoIdentity,
    #[error("`git {args}` failed: {stderr}")]
    Command {
        args: String,
        stderr: String,
        /// What to do about it, if the caller knows ([`GitError::hint`]).
        hint: Option<String>,
    },
    #[error("cannot remove {}: {source}", path.display())]
    Remove {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{context}: {source}")]
    Git {
        context: String,
        source: git2::Error,
    },
}

impl GitError {
    /// What to do about it, when there is something to say: shown on a line of its own
    /// after the message.
    pub fn hint(&self) -> Option<String> {
        match self {
            GitError::NotARepo { .. } => {
                Some("run shipgate inside a git checkout, or pass --repo PATH".into())
            }
            GitError::NoCommits { .. } => Some("commit something first".into()),
            GitError::TagExists { .. } => Some(
                "a release for this version was made elsewhere; fetch tags and re-run, or delete the tag"
                    .into(),
            ),
            GitError::NoIdentity => Some(
                "git config user.name \"…\" && git config user.email \"…\" (or set GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL)"
                    .into(),
            ),
            GitError::Command { hint, .. } => hint.clone(),
            GitError::Bare { .. } | GitError::Remove { .. } | GitError::Git { .. } => None,
        }
    }
}

shipgate_stdx::hints!(GitError);

fn ctx(context: impl Into<String>) -> impl FnOnce(git2::Error) -> GitError {
    let context = context.into();
    move |source| GitError::Git { context, source }
}

/// What a push did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// The remote took the refs.
    Sent,
    /// The push failed, but the remote already had every ref as wanted.
    AlreadyThere,
}

/// A lock file in the `.git` directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockFile {
    pub path: PathBuf,
    /// The file it locks.
    pub what: Locked,
    /// When it was last written.
    pub modified: Option<std::time::SystemTime>,
}

impl LockFile {
    fn new(path: PathBuf, what: Locked) -> Self {
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        LockFile {
            path,
            what,
            modified,
        }
    }
}

/// The file a lock file locks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Locked {
    /// `index.lock`.
    Index,
    /// `HEAD.lock`.
    Head,
    /// `packed-refs.lock`.
    PackedRefs,
    /// A ref, by its full name (`refs/heads/main`, `refs/tags/v1.4.0`).
    Ref(String),
    /// Another file of the `.git` directory (`config`, `shallow`, …), by name.
    Other(String),
}

/// A tag, peeled to the commit it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub name: String,
    pub commit: Oid,
}

/// An open repository with a work tree.
pub struct Repo {
    repo: git2::Repository,
    workdir: PathBuf,
    /// The pack files, opened when first read (see [`pack`]).
    packs: std::cell::OnceCell<Option<pack::Packs>>,
}

impl std::fmt::Debug for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repo")
            .field("workdir", &self.workdir)
            .finish()
    }
}

/// libgit2's process-wide read options, set once before the first repository is opened.
///
/// - No object cache: shipgate reads each commit, tree and tag about once per run (a history
///   walk, a ledger chain), so the cache only grew (to 256 MB on a 100,000-commit changelog)
///   and its teardown cost 15 % of that run.
/// - No re-hashing of every object read, as git itself reads: a pack's zlib streams carry
///   their own checksums, and `git fsck` is the tool that verifies hashes.
fn read_options() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        git2::opts::enable_caching(false);
        git2::opts::strict_hash_verification(false);
    });
}

/// Opens the repository that contains `path` (searching upwards, like git).
pub fn open(path: &Path) -> Result<Repo, GitError> {
    read_options();
    let repo = git2::Repository::discover(path).map_err(|e| match e.code() {
        git2::ErrorCode::NotFound => GitError::NotARepo {
            path: path.to_path_buf(),
        },
        _ => GitError::Git {
            context: format!("cannot open the repository at {}", path.display()),
            source: e,
        },
    })?;
    let workdir = repo
        .workdir()
        .map(Path::to_path_buf)
        .ok_or_else(|| GitError::Bare {
            path: path.to_path_buf(),
        })?;
    Ok(Repo {
        repo,
        workdir,
        packs: std::cell::OnceCell::new(),
    })
}

impl Repo {
    /// The root of the work tree.
    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// The `.git` directory (for shipgate's own state, e.g. the release journal).
    pub fn git_dir(&self) -> &Path {
        self.repo.path()
    }

    /// The commit HEAD points at.
    pub fn head(&self) -> Result<Oid, GitError> {
        if let Some(id) = self.head_as_stored() {
            return Ok(id);
        }
        match self.repo.head() {
            Ok(r) => r
                .peel_to_commit()
                .map(|c| c.id())
                .map_err(ctx("cannot read HEAD")),
            Err(e)
                if matches!(
                    e.code(),
                    git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound
                ) =>
            {
                Err(GitError::NoCommits {
                    path: self.workdir.clone(),
                })
            }
            Err(e) => Err(GitError::Git {
                context: "cannot read HEAD".into(),
                source: e,
            }),
        }
    }

    /// HEAD read as git stores it in the common case: `ref: refs/heads/<branch>`, the
    /// branch's id in its loose file or else in `packed-refs`, naming a commit. libgit2
    /// loads every packed ref to answer the same (0.15 ms with 1,000 tags); anything else
    /// (a detached HEAD, a symbolic branch, an odd file) is left to it.
    fn head_as_stored(&self) -> Option<Oid> {
        let head = std::fs::read(self.repo.path().join("HEAD")).ok()?;
        let branch = std::str::from_utf8(head.strip_prefix(b"ref: ")?.strip_suffix(b"\n")?).ok()?;
        if !branch.starts_with("refs/heads/") || !git2::Reference::is_valid_name(branch) {
            return None;
        }
        let common = self.repo.commondir();
        let id = match std::fs::read(common.join(branch)) {
            Ok(bytes) => rawcommit::oid(bytes.strip_suffix(b"\n")?)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => packed::find(common, branch)?,
            Err(_) => return None,
        };
        let commit = match self.packs().and_then(|p| p.is_commit(id)) {
            Some(commit) => commit,
            None => self.repo.odb().ok()?.read_header(id).ok()?.1 == git2::ObjectType::Commit,
        };
        commit.then_some(id)
    }

    /// The repository's pack files, for reads that skip libgit2 (see [`pack`]).
    fn packs(&self) -> Option<&pack::Packs> {
        self.packs
            .get_or_init(|| pack::Packs::open(&self.repo.commondir().join("objects")))
            .as_ref()
    }

    /// The branch HEAD is on, or `None` when detached.
    pub fn branch(&self) -> Option<String> {
        let head = self.repo.head().ok()?;
        if !head.is_branch() {
            return None;
        }
        head.shorthand().ok().map(str::to_string)
    }

    /// Whether this is a shallow clone.
    pub fn is_shallow(&self) -> bool {
        self.repo.is_shallow()
    }

    /// The commits whose parents a shallow clone cut off.
    pub fn shallow_boundary(&self) -> HashSet<Oid> {
        std::fs::read_to_string(self.repo.path().join("shallow"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| Oid::from_str(l.trim()).ok())
            .collect()
    }

    /// Every tag, peeled to its commit (tags of trees or blobs are left out).
    ///
    /// A packed tag carries its peeled id (`git pack-refs`, `git gc`), so only the object's
    /// header is read to know it names a commit; a loose annotated tag is read and peeled.
    pub fn tags(&self) -> Result<Vec<Tag>, GitError> {
        self.read_tags(true)
    }

    /// As [`Repo::tags`], without reading the objects that `packed-refs` already peeled: such
    /// a tag's id is what it was peeled to, whatever its kind (a tag of a tree keeps the
    /// tree's id, which is no commit's). For callers that only look commits up by id and
    /// read tag names, such as the next version's walk, which stops at commits it reads
    /// anyway: one header read per tag was 15 % of the next version's time on 990 tags.
    pub fn tags_for_lookup(&self) -> Result<Vec<Tag>, GitError> {
        self.read_tags(false)
    }

    fn read_tags(&self, check_peeled: bool) -> Result<Vec<Tag>, GitError> {
        self.read_tags_from(check_peeled, true)
    }

    /// `packed_first`: read `packed-refs` directly when no tag is loose (tests compare both).
    fn read_tags_from(&self, check_peeled: bool, packed_first: bool) -> Result<Vec<Tag>, GitError> {
        let odb = self
            .repo
            .odb()
            .map_err(ctx("cannot read the object database"))?;
        // The commit a tag names: its peeled id when `packed-refs` has it and the caller
        // only looks commits up; otherwise the object's kind from its header, and a tag
        // object read and peeled.
        let commit_of =
            |target: Option<Oid>, peeled: Option<Oid>, peel: &dyn Fn() -> Option<Oid>| {
                if !check_peeled && peeled.is_some() {
                    return peeled;
                }
                let known = peeled.or(target);
                match known.and_then(|id| odb.read_header(id).ok().map(|(_, kind)| (id, kind))) {
                    Some((id, git2::ObjectType::Commit)) => Some(id),
                    Some((_, git2::ObjectType::Tag)) | None => peel(),
                    Some(_) => None,
                }
            };
        let mut tags = Vec::new();
        let packed = packed_first
            .then(|| packed::tags(self.repo.commondir(), self.repo.path()))
            .flatten();
        if let Some(packed) = packed {
            for t in packed {
                let peel = || {
                    self.repo
                        .find_object(t.target, None)
                        .and_then(|o| o.peel_to_commit())
                        .ok()
                        .map(|c| c.id())
                };
                if let Some(commit) = commit_of(Some(t.target), t.peeled, &peel) {
                    tags.push(Tag {
                        name: t.name,
                        commit,
                    });
                }
            }
            return Ok(tags);
        }
        let refs = self
            .repo
            .references_glob("refs/tags/*")
            .map_err(ctx("cannot list tags"))?;
        for r in refs {
            let r = r.map_err(ctx("cannot read a tag"))?;
            let Some(name) = r.name().ok().and_then(|n| n.strip_prefix("refs/tags/")) else {
                continue;
            };
            let name = name.to_string();
            let peel = || r.peel_to_commit().ok().map(|c| c.id());
            if let Some(commit) = commit_of(r.target(), r.target_peel(), &peel) {
                tags.push(Tag { name, commit });
            }
        }
        Ok(tags)
    }

    /// The commit a tag names, if the tag exists.
    pub fn tag_commit(&self, name: &str) -> Result<Option<Oid>, GitError> {
        match self.repo.find_reference(&format!("refs/tags/{name}")) {
            Ok(r) => r
                .peel_to_commit()
                .map(|c| Some(c.id()))
                .map_err(ctx(format!("cannot read tag {name}"))),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(GitError::Git {
                context: format!("cannot read tag {name}"),
                source: e,
            }),
        }
    }

    /// One commit's metadata and message.
    pub fn commit(&self, id: Oid) -> Result<CommitInfo, GitError> {
        walk::commit_info(&self.repo, id)
    }

    /// Walks history from `from` in commit-time order. A commit for which `stop` returns
    /// true is a boundary: recorded, not listed, and its parents not walked.
    pub fn walk(&self, from: Oid, stop: &dyn Fn(Oid) -> bool) -> Result<Walk, GitError> {
        walk::walk(
            &self.repo,
            self.packs(),
            from,
            stop,
            &self.shallow_boundary(),
        )
    }

    /// Commits reachable from `to` and not from any of `hide` (`git log hide..to`), newest
    /// first.
    pub fn range(&self, to: Oid, hide: &[Oid]) -> Result<Vec<CommitInfo>, GitError> {
        let mut walk = self.repo.revwalk().map_err(ctx("cannot walk history"))?;
        walk.set_sorting(git2::Sort::TIME)
            .map_err(ctx("cannot walk history"))?;
        walk.push(to)
            .map_err(ctx(format!("cannot walk from {to}")))?;
        for h in hide {
            walk.hide(*h)
                .map_err(ctx(format!("cannot walk history below {h}")))?;
        }
        walk.map(|id| {
            id.map_err(ctx("cannot walk history"))
                .and_then(|id| self.commit(id))
        })
        .collect()
    }

    /// Resolves a revision (`v1.2.0`, `main~3`, a sha) to a commit.
    pub fn resolve(&self, rev: &str) -> Result<Oid, GitError> {
        self.repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .map(|c| c.id())
            .map_err(|e| GitError::Command {
                args: format!("rev-parse {rev}"),
                stderr: e.message().to_string(),
                hint: Some("give a tag, branch or commit id".into()),
            })
    }

    /// Walks history once for `lines` version lines: `stop(commit, line)` marks a line's
    /// boundary; each commit is listed with the lines it is above the boundary of.
    pub fn walk_lines(
        &self,
        from: Oid,
        lines: usize,
        stop: &dyn Fn(Oid, usize) -> bool,
    ) -> Result<MultiWalk, GitError> {
        walk::walk_lines(
            &self.repo,
            self.packs(),
            from,
            lines,
            stop,
            &self.shallow_boundary(),
        )
    }

    /// For each of `paths` (relative to the work tree root; empty = the whole tree): whether
    /// the commit changed anything below it compared with its only parent. Compares tree
    /// ids only. Merge commits touch nothing (what they bring in is counted on its own).
    pub fn touched(&self, commit: &CommitInfo, paths: &[PathBuf]) -> Result<Vec<bool>, GitError> {
        if commit.parents.len() > 1 {
            return Ok(vec![false; paths.len()]);
        }
        let tree_of = |id: Oid| -> Result<git2::Tree<'_>, GitError> {
            self.repo
                .find_commit(id)
                .and_then(|c| c.tree())
                .map_err(ctx(format!("cannot read the tree of {id}")))
        };
        let tree = tree_of(commit.id)?;
        let parent = commit.parents.first().map(|p| tree_of(*p)).transpose()?;
        let entry = |tree: &git2::Tree<'_>, path: &Path| -> Option<Oid> {
            if path.as_os_str().is_empty() {
                Some(tree.id())
            } else {
                tree.get_path(path).ok().map(|e| e.id())
            }
        };
        Ok(paths
            .iter()
            .map(|path| {
                let now = entry(&tree, path);
                let before = parent.as_ref().and_then(|p| entry(p, path));
                now != before
            })
            .collect())
    }

    /// Tracked paths whose work-tree or index state differs from HEAD (untracked files are
    /// not counted: a release commits only the files it writes).
    ///
    /// As `git status` sees it: a file outside a sparse checkout (skip-worktree) is absent
    /// from the work tree by design, not deleted, so only a staged change of it counts; a
    /// file marked assume-unchanged is not looked at (libgit2 already skips it), because
    /// neither `git commit -a` nor `git stash` would act on it either.
    pub fn dirty_paths(&self) -> Result<Vec<String>, GitError> {
        let mut opts = git2::StatusOptions::new();
        opts.include_untracked(false)
            .include_ignored(false)
            .exclude_submodules(true);
        let statuses = self
            .repo
            .statuses(Some(&mut opts))
            .map_err(ctx("cannot read the work tree's status"))?;
        let sparse = self.skip_worktree()?;
        let staged = git2::Status::INDEX_NEW
            | git2::Status::INDEX_MODIFIED
            | git2::Status::INDEX_DELETED
            | git2::Status::INDEX_RENAMED
            | git2::Status::INDEX_TYPECHANGE
            | git2::Status::CONFLICTED;
        let mut paths: Vec<String> = statuses
            .iter()
            .filter_map(|s| {
                let path = s.path().ok()?;
                let status = if sparse.contains(path) {
                    s.status() & staged
                } else {
                    s.status()
                };
                (status != git2::Status::CURRENT).then(|| path.to_string())
            })
            .collect();
        paths.sort();
        Ok(paths)
    }

    /// Of `paths` (relative, `/`-separated), those outside the sparse checkout: the index
    /// marks them skip-worktree, so the work tree does not have them.
    pub fn outside_sparse_checkout(&self, paths: &[&str]) -> Result<Vec<String>, GitError> {
        let sparse = self.skip_worktree()?;
        Ok(paths
            .iter()
            .filter(|p| sparse.contains(**p))
            .map(|p| p.to_string())
            .collect())
    }

    /// The index's skip-worktree paths (none outside a sparse checkout).
    fn skip_worktree(&self) -> Result<HashSet<String>, GitError> {
        let mut index = self.repo.index().map_err(ctx("cannot read the index"))?;
        // As it is on disk now, not as this handle first read it.
        index.read(false).map_err(ctx("cannot read the index"))?;
        let flag = git2::IndexEntryExtendedFlag::SKIP_WORKTREE.bits();
        Ok(index
            .iter()
            .filter(|e| e.flags_extended & flag != 0)
            .map(|e| String::from_utf8_lossy(&e.path).into_owned())
            .collect())
    }

    /// The identity to commit and tag with: git config, else GIT_AUTHOR_NAME/EMAIL.
    fn signature(&self) -> Result<git2::Signature<'static>, GitError> {
        if let Ok(sig) = self.repo.signature() {
            return Ok(sig.to_owned());
        }
        let name = std::env::var("GIT_AUTHOR_NAME")
            .ok()
            .filter(|s| !s.is_empty());
        let email = std::env::var("GIT_AUTHOR_EMAIL")
            .ok()
            .filter(|s| !s.is_empty());
        match (name, email) {
            (Some(n), Some(e)) => git2::Signature::now(&n, &e).map_err(|_| GitError::NoIdentity),
            _ => Err(GitError::NoIdentity),
        }
    }

    /// Commits the current work-tree contents of `paths` (relative) on top of HEAD, and
    /// nothing else: other staged changes stay staged and out of the commit. Works on a
    /// branch or a detached HEAD. Returns the new commit.
    pub fn commit_paths(&self, paths: &[PathBuf], message: &str) -> Result<Oid, GitError> {
        let head = self
            .repo
            .find_commit(self.head()?)
            .map_err(ctx("cannot read HEAD"))?;
        let head_tree = head.tree().map_err(ctx("cannot read HEAD's tree"))?;
        let mut tree_index = git2::Index::new().map_err(ctx("cannot make an index"))?;
        tree_index
            .read_tree(&head_tree)
            .map_err(ctx("cannot read HEAD's tree"))?;
        let mut index = self.repo.index().map_err(ctx("cannot open the index"))?;
        for rel in paths {
            let abs = self.workdir.join(rel);
            let rel_str = rel.to_string_lossy().replace('\\', "/");
            if abs.exists() {
                index
                    .add_path(rel)
                    .map_err(ctx(format!("cannot stage {rel_str}")))?;
                let entry = index.get_path(rel, 0).ok_or_else(|| GitError::Git {
                    context: format!("cannot stage {rel_str}"),
                    source: git2::Error::from_str("not in the index"),
                })?;
                tree_index
                    .add(&entry)
                    .map_err(ctx(format!("cannot stage {rel_str}")))?;
            } else {
                let _ = index.remove_path(rel);
                let _ = tree_index.remove_path(rel);
            }
        }
        let tree_id = tree_index
            .write_tree_to(&self.repo)
            .map_err(ctx("cannot write the release tree"))?;
        index.write().map_err(ctx("cannot write the index"))?;
        let tree = self
            .repo
            .find_tree(tree_id)
            .map_err(ctx("cannot read the release tree"))?;
        let sig = self.signature()?;
        self.repo
            .commit(Some("HEAD"), &sig, &sig, message, &tree, &[&head])
            .map_err(ctx("cannot make the release commit"))
    }

    /// Makes an annotated tag, or does nothing when the same tag already names `target`.
    pub fn create_tag(&self, name: &str, target: Oid, message: &str) -> Result<(), GitError> {
        if let Some(existing) = self.tag_commit(name)? {
            if existing == target {
                return Ok(());
            }
            return Err(GitError::TagExists {
                name: name.into(),
                existing: existing.to_string(),
                wanted: target.to_string(),
            });
        }
        let object = self
            .repo
            .find_object(target, Some(git2::ObjectType::Commit))
            .map_err(ctx(format!("cannot find {target}")))?;
        let sig = self.signature()?;
        self.repo
            .tag(name, &object, &sig, message, false)
            .map_err(ctx(format!("cannot create tag {name}")))?;
        Ok(())
    }

    /// The fetch URL of a remote, if it exists.
    pub fn remote_url(&self, name: &str) -> Option<String> {
        self.repo
            .find_remote(name)
            .ok()
            .and_then(|r| r.url().ok().map(str::to_string))
    }

    /// Pushes `SRC:DST` refspecs to a remote with `git push --atomic`. The `git push` runs
    /// in a process group of its own (`on_spawn` gets its pid, the group's id, as soon as it
    /// runs), so that a re-run after a killed run can wait for it.
    ///
    /// The push converges: when it fails but the remote already names what every `SRC` names
    /// (the push of a killed run got there first), that is [`Pushed::AlreadyThere`]; when it
    /// failed because another process held a ref of the remote, it is tried again, a few
    /// times over about three seconds.
    pub fn push(
        &self,
        remote: &str,
        refspecs: &[String],
        on_spawn: &mut dyn FnMut(u32),
    ) -> Result<Pushed, GitError> {
        let mut args = vec![
            "push".to_string(),
            "--atomic".into(),
            "--porcelain".into(),
            remote.to_string(),
        ];
        args.extend(refspecs.iter().cloned());
        let hint = "the remote has commits you do not: pull (or rebase), then re-run shipgate release --push; what is already done is not done again";
        let mut delay = std::time::Duration::from_millis(100);
        let mut attempt = 0;
        loop {
            let err = match network::git_detached(&self.workdir, &args, Some(hint), on_spawn) {
                Ok(_) => return Ok(Pushed::Sent),
                Err(err) => err,
            };
            if self.remote_has(remote, refspecs).unwrap_or(false) {
                return Ok(Pushed::AlreadyThere);
            }
            let contention = matches!(&err, GitError::Command { stderr, .. } if network::is_lock_contention(stderr));
            if !contention || attempt >= 5 {
                return Err(err);
            }
            std::thread::sleep(delay);
            delay *= 2;
            attempt += 1;
        }
    }

    /// Whether the remote's `DST` refs already name what the local `SRC`s name.
    fn remote_has(&self, remote: &str, refspecs: &[String]) -> Result<bool, GitError> {
        let have = network::remote_refs(&self.workdir, remote)?;
        for spec in refspecs {
            let Some((src, dst)) = spec.split_once(':') else {
                return Ok(false);
            };
            let wanted = self
                .repo
                .revparse_single(src)
                .map_err(ctx(format!("cannot resolve {src}")))?
                .id();
            if !have.iter().any(|(name, id)| name == dst && *id == wanted) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The lock files (`*.lock`) in the `.git` directory: the index, HEAD, packed-refs and
    /// refs. A git or libgit2 process holds one for the moment it rewrites that file; one that
    /// stays was left by a process that was killed, or belongs to one still running.
    pub fn lock_files(&self) -> Vec<LockFile> {
        let mut out = Vec::new();
        let mut dirs = vec![self.repo.path().to_path_buf()];
        let common = self.repo.commondir().to_path_buf();
        if common != dirs[0] {
            dirs.push(common);
        }
        for dir in dirs {
            if let Ok(entries) = std::fs::read_dir(&dir) {
                for entry in entries.flatten() {
                    let path = entry.path();
                    if let Some(what) = path
                        .file_name()
                        .and_then(|n| n.to_str())
                        .and_then(|n| n.strip_suffix(".lock"))
                        .filter(|_| path.is_file())
                    {
                        let what = match what {
                            "index" => Locked::Index,
                            "HEAD" => Locked::Head,
                            "packed-refs" => Locked::PackedRefs,
                            other => Locked::Other(other.to_string()),
                        };
                        out.push(LockFile::new(path, what));
                    }
                }
            }
            let mut stack = vec![dir.join("refs")];
            while let Some(d) = stack.pop() {
                let Ok(entries) = std::fs::read_dir(&d) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let path = entry.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if path.extension().is_some_and(|e| e == "lock") {
                        let name = path
                            .with_extension("")
                            .strip_prefix(&dir)
                            .map(|p| p.to_string_lossy().replace('\\', "/"))
                            .unwrap_or_default();
                        out.push(LockFile::new(path, Locked::Ref(name)));
                    }
                }
            }
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        out
    }

    /// Removes a lock file found by [`Repo::lock_files`].
    pub fn remove_lock(&self, lock: &LockFile) -> Result<(), GitError> {
        match std::fs::remove_file(&lock.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(GitError::Remove {
                path: lock.path.clone(),
                source,
            }),
        }
    }

    /// Deepens a shallow clone by `by` commits (or fetches everything when `by` is None),
    /// then reopens the repository (libgit2 reads the shallow boundary once, at open).
    pub fn deepen(&mut self, remote: &str, by: Option<u32>) -> Result<(), GitError> {
        let depth = match by {
            Some(n) => format!("--deepen={n}"),
            None => "--unshallow".to_string(),
        };
        network::git(
            &self.workdir,
            &[
                "fetch".into(),
                "--quiet".into(),
                "--no-tags".into(),
                depth,
                remote.to_string(),
            ],
            None,
        )?;
        let path = self.repo.path().to_path_buf();
        self.repo = git2::Repository::open(&path)
            .map_err(ctx(format!("cannot reopen {}", path.display())))?;
        self.packs = std::cell::OnceCell::new(); // the fetch may have brought a pack
        Ok(())
    }

    /// The remote's tags, peeled, without fetching any object (`git ls-remote --tags`).
    pub fn remote_tags(&self, remote: &str) -> Result<Vec<RemoteTag>, GitError> {
        network::remote_tags(&self.workdir, remote)
    }

    /// Tags by the commit they name.
    pub fn tags_by_commit(tags: &[Tag]) -> HashMap<Oid, Vec<&Tag>> {
        let mut map: HashMap<Oid, Vec<&Tag>> = HashMap::with_capacity(tags.len());
        for tag in tags {
            map.entry(tag.commit).or_default().push(tag);
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `git ARGS` in `dir`, which must succeed: its output.
    fn git(dir: &Path, args: &[&str]) -> String {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let out = network::git(dir, &args, None).expect("git succeeds");
        out.trim().to_string()
    }

    /// A repository with `a/x.txt`, `b/y.txt` and `top.txt` committed.
    fn three_files() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        git(d, &["init", "-q", "-b", "main"]);
        git(d, &["config", "user.name", "Ada"]);
        git(d, &["config", "user.email", "ada@example.com"]);
        for (path, text) in [("a/x.txt", "x\n"), ("b/y.txt", "y\n"), ("top.txt", "t\n")] {
            std::fs::create_dir_all(d.join(path).parent().expect("parent")).expect("mkdir");
            std::fs::write(d.join(path), text).expect("write");
        }
        git(d, &["add", "-A"]);
        git(d, &["commit", "-q", "-m", "feat: three files"]);
        dir
    }

    #[test]
    fn tags_for_lookup_keep_what_packed_refs_peeled_and_tags_check_it() {
        let dir = three_files();
        let d = dir.path();
        let head = git(d, &["rev-parse", "HEAD"]);
        let tree = git(d, &["rev-parse", "HEAD^{tree}"]);
        git(d, &["tag", "-a", "-m", "a release", "v1.0.0"]);
        git(d, &["tag", "-a", "-m", "a tree", "v9.0.0", &tree]);
        git(d, &["tag", "light"]);
        git(d, &["tag", "-a", "-m", "loose", "v1.0.1"]);
        git(d, &["pack-refs", "--all"]);
        git(d, &["tag", "-a", "-m", "after packing", "v1.0.2"]);
        let repo = open(d).expect("opens");
        let named = |tags: Vec<Tag>| {
            let mut v: Vec<(String, String)> = tags
                .into_iter()
                .map(|t| (t.name, t.commit.to_string()))
                .collect();
            v.sort();
            v
        };
        let commit = |name: &str| (name.to_string(), head.clone());
        // The checked list leaves the tree's tag out; every other tag names HEAD, packed
        // (annotated or not) or loose.
        assert_eq!(
            named(repo.tags().expect("tags")),
            vec![
                commit("light"),
                commit("v1.0.0"),
                commit("v1.0.1"),
                commit("v1.0.2")
            ]
        );
        // Without reading objects, the packed tag of a tree keeps the tree's id: a lookup by
        // commit never meets it.
        let mut expected = vec![
            commit("light"),
            commit("v1.0.0"),
            commit("v1.0.1"),
            commit("v1.0.2"),
            ("v9.0.0".to_string(), tree),
        ];
        expected.sort();
        assert_eq!(named(repo.tags_for_lookup().expect("tags")), expected);
    }

    #[test]
    fn tags_read_from_packed_refs_are_what_libgit2_lists() {
        let dir = three_files();
        let d = dir.path();
        let blob = git(d, &["rev-parse", "HEAD:top.txt"]);
        git(d, &["tag", "-a", "-m", "a release", "v1.0.0"]);
        git(d, &["tag", "-a", "-m", "a blob", "blob", &blob]);
        git(
            d,
            &["tag", "-a", "-m", "a tag of a tag", "v2.0.0", "v1.0.0"],
        );
        git(d, &["tag", "light"]);
        git(d, &["tag", "team/v3.0.0"]);
        git(d, &["tag", "-a", "-m", "nested", "team/a/v4.0.0"]);
        git(d, &["pack-refs", "--all"]);
        let repo = open(d).expect("opens");
        let named = |tags: Vec<Tag>| -> Vec<(String, Oid)> {
            tags.into_iter().map(|t| (t.name, t.commit)).collect()
        };
        assert!(
            packed::tags(repo.repo.commondir(), repo.repo.path()).is_some(),
            "every tag is packed"
        );
        for check_peeled in [true, false] {
            let direct = named(repo.read_tags_from(check_peeled, true).expect("tags"));
            let libgit2 = named(repo.read_tags_from(check_peeled, false).expect("tags"));
            assert_eq!(direct, libgit2, "check_peeled = {check_peeled}");
            assert_eq!(direct.len(), if check_peeled { 5 } else { 6 });
        }
        // A `packed-refs` without peeled lines (as git before 1.6 wrote it): the tag objects
        // are read and peeled, as libgit2 does.
        let file = std::fs::read_to_string(d.join(".git/packed-refs")).expect("packed-refs");
        let bare: String = file
            .lines()
            .filter(|l| !l.starts_with(['^', '#']))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(d.join(".git/packed-refs"), bare).expect("write");
        let repo = open(d).expect("opens");
        for check_peeled in [true, false] {
            let direct = named(repo.read_tags_from(check_peeled, true).expect("tags"));
            let libgit2 = named(repo.read_tags_from(check_peeled, false).expect("tags"));
            assert_eq!(direct, libgit2, "unpeeled, check_peeled = {check_peeled}");
            assert_eq!(direct.len(), 5);
        }
    }

    #[test]
    fn head_read_as_stored_is_what_libgit2_resolves() {
        let dir = three_files();
        let d = dir.path();
        let libgit2 = |repo: &Repo| {
            repo.repo
                .head()
                .and_then(|r| r.peel_to_commit())
                .map(|c| c.id())
                .ok()
        };
        let first = git(d, &["rev-parse", "HEAD"]);
        // a loose branch
        let repo = open(d).expect("opens");
        assert_eq!(
            repo.head_as_stored().map(|id| id.to_string()),
            Some(first.clone())
        );
        // a packed one, and a loose file that moved on since
        git(d, &["pack-refs", "--all"]);
        let repo = open(d).expect("opens");
        assert_eq!(repo.head_as_stored(), libgit2(&repo));
        git(d, &["commit", "-q", "--allow-empty", "-m", "fix: second"]);
        let repo = open(d).expect("opens");
        assert_eq!(repo.head_as_stored(), libgit2(&repo));
        assert_ne!(
            repo.head_as_stored().map(|id| id.to_string()),
            Some(first.clone())
        );
        // detached, a branch of a tag object, and an unborn branch are libgit2's to read
        git(d, &["checkout", "-q", "--detach"]);
        assert_eq!(open(d).expect("opens").head_as_stored(), None);
        git(d, &["checkout", "-q", "main"]);
        git(d, &["tag", "-a", "-m", "t", "v1"]);
        let tag = git(d, &["rev-parse", "v1"]);
        std::fs::write(d.join(".git/refs/heads/main"), format!("{tag}\n")).expect("write");
        let repo = open(d).expect("opens");
        assert_eq!(repo.head_as_stored(), None);
        assert_eq!(repo.head().ok(), libgit2(&repo));
        std::fs::write(d.join(".git/HEAD"), "ref: refs/heads/../../../etc\n").expect("write");
        assert_eq!(open(d).expect("opens").head_as_stored(), None);
        std::fs::write(d.join(".git/HEAD"), "ref: refs/heads/main\n").expect("write");
        git(d, &["checkout", "-q", "--orphan", "unborn"]);
        let repo = open(d).expect("opens");
        assert_eq!(repo.head_as_stored(), None);
        assert!(matches!(repo.head(), Err(GitError::NoCommits { .. })));
    }

    #[test]
    fn files_outside_a_sparse_checkout_are_not_changes() {
        let dir = three_files();
        let d = dir.path();
        git(d, &["sparse-checkout", "set", "a"]);
        assert!(!d.join("b/y.txt").exists(), "b is outside the cone");
        let repo = open(d).expect("opens");
        assert_eq!(repo.dirty_paths().expect("status"), Vec::<String>::new());
        assert_eq!(
            repo.outside_sparse_checkout(&["a/x.txt", "b/y.txt", "top.txt", "new.txt"])
                .expect("index"),
            ["b/y.txt"]
        );
        // A real change inside the cone still counts, and so does a staged one outside it.
        std::fs::write(d.join("a/x.txt"), "edited\n").expect("write");
        let blob = git(d, &["rev-parse", "HEAD:top.txt"]);
        let staged = format!("100644,{blob},b/y.txt");
        git(d, &["update-index", "--cacheinfo", &staged]);
        assert_eq!(repo.dirty_paths().expect("status"), ["a/x.txt", "b/y.txt"]);
    }

    #[test]
    fn assume_unchanged_files_are_not_looked_at() {
        let dir = three_files();
        let d = dir.path();
        git(
            d,
            &["update-index", "--assume-unchanged", "top.txt", "a/x.txt"],
        );
        std::fs::write(d.join("top.txt"), "edited\n").expect("write");
        std::fs::remove_file(d.join("a/x.txt")).expect("rm");
        std::fs::write(d.join("b/y.txt"), "edited\n").expect("write");
        let repo = open(d).expect("opens");
        assert_eq!(repo.dirty_paths().expect("status"), ["b/y.txt"]);
    }

    #[test]
    fn hints_are_data_not_part_of_the_message() {
        let err = GitError::Command {
            args: "rev-parse v9".into(),
            stderr: "revspec 'v9' not found".into(),
            hint: Some("give a tag, branch or commit id".into()),
        };
        assert_eq!(
            err.to_string(),
            "`git rev-parse v9` failed: revspec 'v9' not found"
        );
        assert_eq!(
            err.hint().as_deref(),
            Some("give a tag, branch or commit id")
        );
        let err = GitError::NotARepo {
            path: PathBuf::from("/nowhere"),
        };
        assert_eq!(err.to_string(), "/nowhere is not a git repository");
        assert_eq!(
            err.hint().as_deref(),
            Some("run shipgate inside a git checkout, or pass --repo PATH")
        );
        let err = GitError::Bare {
            path: PathBuf::from("/bare"),
        };
        assert_eq!(err.hint(), None);
    }
}
