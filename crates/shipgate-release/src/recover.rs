//! After a killed run: the lock files that libgit2 and git leave in `.git` when they are
//! killed halfway through rewriting a file (`index.lock`, `refs/heads/main.lock`,
//! `refs/tags/v1.4.0.lock`, …), which make every later write fail with `failed to lock
//! file`, and the temporary files of interrupted atomic writes (`.shipgate-*`).
//!
//! Only a run that holds the release lock (`runlock`) gets here, so no other shipgate is
//! running. A lock file in the release's way is shipgate's own when a release was
//! interrupted (the previous run never ended by itself, or its journal is still there) and
//! the file is not older than that run: then it is removed, and the run says so. Any other
//! lock file in the way is named, with why shipgate cannot call it its own and when removing
//! it is safe. Lock files of other refs are left alone: they are not in the way.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use shipgate_git::{LockFile, Locked, Repo};

use crate::ReleaseError;

/// Mtimes are compared with this much slack (coarse file-system clocks).
const SLACK: Duration = Duration::from_secs(2);

/// The interrupted run, as far as the repository tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Interrupted {
    pub pid: Option<u32>,
    /// When it started (unknown when only its journal tells of it).
    pub started: Option<SystemTime>,
}

/// The refs the release is about to move.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope<'a> {
    /// The branch HEAD is on (`None`: detached).
    pub branch: Option<&'a str>,
    pub remote: &'a str,
    pub tags: &'a [String],
}

/// What to do about one lock file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Not in the release's way.
    Ignore,
    /// Left by the interrupted release: remove it.
    Ours,
    /// In the way, and not provably shipgate's.
    Foreign { why: String },
}

/// Decides about one lock file (pure).
pub(crate) fn judge(
    what: &Locked,
    modified: Option<SystemTime>,
    scope: &Scope<'_>,
    interrupted: Option<Interrupted>,
) -> Verdict {
    let in_the_way = match what {
        Locked::Index | Locked::Head | Locked::PackedRefs => true,
        Locked::Ref(name) => {
            scope.branch.is_some_and(|b| {
                *name == format!("refs/heads/{b}")
                    || *name == format!("refs/remotes/{}/{b}", scope.remote)
            }) || scope.tags.iter().any(|t| *name == format!("refs/tags/{t}"))
        }
        Locked::Other(_) => false,
    };
    if !in_the_way {
        return Verdict::Ignore;
    }
    let Some(run) = interrupted else {
        return Verdict::Foreign {
            why: "no shipgate release was interrupted in this repository, so a git command made it"
                .into(),
        };
    };
    if let (Some(started), Some(modified)) = (run.started, modified)
        && modified + SLACK < started
    {
        return Verdict::Foreign {
            why: "it is older than the interrupted release, so that release did not make it".into(),
        };
    }
    Verdict::Ours
}

fn shown(repo: &Repo, path: &Path) -> String {
    path.strip_prefix(repo.workdir())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Removes what the interrupted release left in its way, or names what is in the way and
/// not its own. Returns one line per removal, for the run's warnings.
pub(crate) fn clean(
    repo: &Repo,
    scope: &Scope<'_>,
    interrupted: Option<Interrupted>,
    temp_dirs: &[PathBuf],
) -> Result<Vec<String>, ReleaseError> {
    let locks: Vec<(LockFile, Verdict)> = repo
        .lock_files()
        .into_iter()
        .map(|l| {
            let verdict = judge(&l.what, l.modified, scope, interrupted);
            (l, verdict)
        })
        .collect();
    if let Some((lock, Verdict::Foreign { why })) = locks
        .iter()
        .find(|(_, v)| matches!(v, Verdict::Foreign { .. }))
    {
        return Err(ReleaseError::ForeignLock {
            path: lock.path.clone(),
            why: why.clone(),
            hint: format!(
                "if no git command is running in this repository (an editor's background fetch, another terminal), a killed git process left it and removing it is safe: rm {}; if one is running, let it finish, then re-run",
                lock.path.display()
            ),
        });
    }
    let by = match interrupted.and_then(|i| i.pid) {
        Some(pid) => format!("the interrupted release (pid {pid})"),
        None => "the interrupted release".to_string(),
    };
    let mut said = Vec::new();
    for (lock, _) in locks.iter().filter(|(_, v)| *v == Verdict::Ours) {
        repo.remove_lock(lock)?;
        said.push(format!(
            "removed {}, left by {by}: no other shipgate is running (this run holds the release lock)",
            shown(repo, &lock.path)
        ));
    }
    if let Some(run) = interrupted {
        let mut removed = Vec::new();
        for path in temp_files(temp_dirs, run.started) {
            match std::fs::remove_file(&path) {
                Ok(()) => removed.push(shown(repo, &path)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(ReleaseError::Io {
                        action: "remove",
                        path,
                        source,
                    });
                }
            }
        }
        if !removed.is_empty() {
            said.push(format!(
                "removed {} temporary file(s) of an atomic write, left by {by}: {}",
                removed.len(),
                removed.join(", ")
            ));
        }
    }
    Ok(said)
}

/// shipgate's temporary files (`.shipgate-*`, see `fsutil::write_atomic`) in `dirs`, not
/// older than the interrupted run.
fn temp_files(dirs: &[PathBuf], started: Option<SystemTime>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let ours = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(crate::fsutil::TEMP_PREFIX));
            let meta = entry.metadata().ok();
            let recent = match (started, meta.as_ref().and_then(|m| m.modified().ok())) {
                (Some(started), Some(modified)) => modified + SLACK >= started,
                _ => true,
            };
            if ours && recent && meta.is_some_and(|m| m.is_file()) {
                out.push(path);
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(tags: &[String]) -> Scope<'_> {
        Scope {
            branch: Some("main"),
            remote: "origin",
            tags,
        }
    }

    const STARTED: Duration = Duration::from_secs(1_764_115_200);

    fn run() -> Option<Interrupted> {
        Some(Interrupted {
            pid: Some(42),
            started: Some(SystemTime::UNIX_EPOCH + STARTED),
        })
    }

    fn at(offset: i64) -> Option<SystemTime> {
        let base = SystemTime::UNIX_EPOCH + STARTED;
        Some(if offset >= 0 {
            base + Duration::from_secs(offset.unsigned_abs())
        } else {
            base - Duration::from_secs(offset.unsigned_abs())
        })
    }

    #[test]
    fn locks_in_the_release_s_way_are_ours_after_an_interrupted_run() {
        let tags = ["v1.4.0".to_string()];
        for what in [
            Locked::Index,
            Locked::Head,
            Locked::PackedRefs,
            Locked::Ref("refs/heads/main".into()),
            Locked::Ref("refs/tags/v1.4.0".into()),
            Locked::Ref("refs/remotes/origin/main".into()),
        ] {
            assert_eq!(
                judge(&what, at(1), &scope(&tags), run()),
                Verdict::Ours,
                "{what:?}"
            );
            assert_eq!(
                judge(&what, None, &scope(&tags), run()),
                Verdict::Ours,
                "no mtime: {what:?}"
            );
        }
    }

    #[test]
    fn locks_of_other_refs_and_files_are_not_in_the_way() {
        let tags = ["v1.4.0".to_string()];
        for what in [
            Locked::Ref("refs/heads/topic".into()),
            Locked::Ref("refs/tags/v1.3.0".into()),
            Locked::Ref("refs/remotes/upstream/main".into()),
            Locked::Other("config".into()),
        ] {
            assert_eq!(
                judge(&what, at(1), &scope(&tags), run()),
                Verdict::Ignore,
                "{what:?}"
            );
            assert_eq!(
                judge(&what, at(1), &scope(&tags), None),
                Verdict::Ignore,
                "{what:?}"
            );
        }
        let detached = Scope {
            branch: None,
            ..scope(&tags)
        };
        assert_eq!(
            judge(
                &Locked::Ref("refs/heads/main".into()),
                at(1),
                &detached,
                run()
            ),
            Verdict::Ignore
        );
    }

    #[test]
    fn without_an_interrupted_run_or_from_before_it_a_lock_is_foreign() {
        let tags: [String; 0] = [];
        let foreign = |v: Verdict| matches!(v, Verdict::Foreign { .. });
        assert!(foreign(judge(&Locked::Index, at(1), &scope(&tags), None)));
        assert!(foreign(judge(
            &Locked::Index,
            at(-60),
            &scope(&tags),
            run()
        )));
        assert_eq!(
            judge(&Locked::Index, at(-1), &scope(&tags), run()),
            Verdict::Ours,
            "within the mtime slack"
        );
        let journal_only = Some(Interrupted {
            pid: None,
            started: None,
        });
        assert_eq!(
            judge(&Locked::Index, at(-3600), &scope(&tags), journal_only),
            Verdict::Ours,
            "the journal alone ties it to the interrupted release"
        );
    }

    #[test]
    fn temp_files_are_shipgate_s_own_and_recent() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(".shipgate-abc123"), "x").expect("write");
        std::fs::write(dir.path().join("Cargo.toml"), "x").expect("write");
        std::fs::create_dir(dir.path().join(".shipgate-dir")).expect("mkdir");
        let dirs = [dir.path().to_path_buf()];
        assert_eq!(
            temp_files(&dirs, Some(SystemTime::now() - Duration::from_secs(60))),
            vec![dir.path().join(".shipgate-abc123")]
        );
        assert_eq!(
            temp_files(&dirs, Some(SystemTime::now() + Duration::from_secs(3600))),
            Vec::<PathBuf>::new(),
            "older than the interrupted run: not its"
        );
    }
}
