//! The release's advisory lock: `.git/shipgate/lock`, held (flock, or LockFileEx on
//! Windows) for the whole of `run`, so that two releases never run at once and a run that
//! holds it knows that no other shipgate is working in the repository. The operating system
//! releases it when the process ends, however it ends.
//!
//! The file also records the run (pid, start, whether it ended by itself, the process
//! group of its running `git push`), so the next run can tell that the previous one was
//! killed, and wait for a push that outlived it.

use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use shipgate_git::Repo;

use crate::ReleaseError;

/// What a run writes into the lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Record {
    pub pid: u32,
    /// When the run started, milliseconds since the epoch.
    pub started_ms: u64,
    /// The run ended by itself (with success or an error), so it left nothing half done
    /// that the journal does not describe.
    pub finished: bool,
    /// The run's `git push` while it runs.
    pub push: Option<PushChild>,
}

impl Record {
    pub(crate) fn started(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.started_ms)
    }
}

/// A `git push` in a process group of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PushChild {
    /// Its pid, which is its process group's id.
    pub pgid: u32,
    /// Its start time in clock ticks since boot (Linux), to tell a reused pid.
    pub start: Option<u64>,
}

/// The held lock. Dropping it marks the run finished; the lock itself goes with the file.
#[derive(Debug)]
pub(crate) struct RunLock {
    file: File,
    path: PathBuf,
    record: Record,
    /// The previous run's record, when there was one.
    pub previous: Option<Record>,
}

pub(crate) fn path(repo: &Repo) -> PathBuf {
    repo.git_dir().join("shipgate").join("lock")
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ReleaseError {
    let path = path.to_path_buf();
    move |source| ReleaseError::Io {
        action,
        path,
        source,
    }
}

fn read_record(mut file: &File) -> Option<Record> {
    let mut text = String::new();
    file.seek(std::io::SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

/// Takes the lock, or says which shipgate holds it.
pub(crate) fn acquire(repo: &Repo) -> Result<RunLock, ReleaseError> {
    let path = path(repo);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io("create", dir))?;
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io("open", &path))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            return Err(ReleaseError::Running {
                pid: read_record(&file)
                    .map_or_else(|| "unknown".to_string(), |r| r.pid.to_string()),
                path,
            });
        }
        Err(TryLockError::Error(e)) => return Err(io("lock", &path)(e)),
    }
    let previous = read_record(&file);
    let started_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut lock = RunLock {
        file,
        path,
        record: Record {
            pid: std::process::id(),
            started_ms,
            finished: false,
            push: None,
        },
        previous,
    };
    lock.write()?;
    Ok(lock)
}

impl RunLock {
    fn write(&mut self) -> Result<(), ReleaseError> {
        let text = serde_json::to_string(&self.record).map_err(|e| ReleaseError::Journal {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        let path = self.path.clone();
        self.file.set_len(0).map_err(io("truncate", &path))?;
        self.file
            .seek(std::io::SeekFrom::Start(0))
            .map_err(io("write", &path))?;
        self.file
            .write_all(text.as_bytes())
            .map_err(io("write", &path))
    }

    /// Records the run's `git push` (its pid is its process group's), or its end.
    pub(crate) fn set_push(&mut self, pgid: Option<u32>) -> Result<(), ReleaseError> {
        self.record.push = pgid.map(|pgid| PushChild {
            pgid,
            start: stat(pgid).map(|s| s.start),
        });
        self.write()
    }

    /// The previous run, if it did not end by itself (it was killed).
    pub(crate) fn interrupted(&self) -> Option<&Record> {
        self.previous.as_ref().filter(|r| !r.finished)
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        self.record.finished = true;
        self.record.push = None;
        let _ = self.write();
    }
}

/// Waits for the `git push` of a killed run to end, so that it cannot move the remote while
/// this run pushes. `None` when there was none running; otherwise what was waited.
pub(crate) fn wait_for_push(
    previous: Option<&Record>,
    limit: Duration,
) -> Result<Option<String>, ReleaseError> {
    let Some(child) = previous.and_then(|r| r.push) else {
        return Ok(None);
    };
    let started = Instant::now();
    if !group_alive(child) {
        return Ok(None);
    }
    while group_alive(child) {
        if started.elapsed() > limit {
            return Err(ReleaseError::PushStillRunning {
                pgid: child.pgid,
                seconds: limit.as_secs(),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(Some(format!(
        "waited for the push of the interrupted release (process group {}) to finish: {:.2} s",
        child.pgid,
        started.elapsed().as_secs_f64()
    )))
}

/// One line of `/proc/<pid>/stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stat {
    state: char,
    pgrp: u32,
    /// Clock ticks since boot.
    start: u64,
}

fn parse_stat(text: &str) -> Option<Stat> {
    // `pid (comm) state ppid pgrp … starttime …`: comm may hold spaces and parentheses
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(Stat {
        state: fields.first()?.chars().next()?,
        pgrp: fields.get(2)?.parse().ok()?,
        start: fields.get(19)?.parse().ok()?,
    })
}

fn stat(pid: u32) -> Option<Stat> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Whether any live process (not a zombie) is in the push's process group. Without
/// `/proc` (not Linux) nothing can be told, and nothing is waited for.
fn group_alive(child: PushChild) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|e| {
        e.file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
            .and_then(stat)
            .is_some_and(|s| {
                s.pgrp == child.pgid
                    && !matches!(s.state, 'Z' | 'X' | 'x')
                    && child.start.is_none_or(|start| s.start >= start)
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> (tempfile::TempDir, Repo) {
        let dir = tempfile::tempdir().expect("tempdir");
        git2::Repository::init(dir.path()).expect("git init");
        let repo = shipgate_git::open(dir.path()).expect("open");
        (dir, repo)
    }

    #[test]
    fn a_second_run_is_refused_while_the_first_holds_the_lock() {
        let (_dir, repo) = scratch();
        let first = acquire(&repo).expect("first");
        assert_eq!(first.previous, None);
        match acquire(&repo) {
            Err(ReleaseError::Running { pid, path }) => {
                assert_eq!(pid, std::process::id().to_string());
                assert!(path.ends_with(".git/shipgate/lock"), "{}", path.display());
            }
            other => panic!("expected Running, got {other:?}"),
        }
        let message = acquire(&repo).map(drop).map_err(|e| e.to_string());
        assert!(
            message
                .as_ref()
                .is_err_and(|m| m
                    .starts_with("another shipgate release is running in this repository (pid ")),
            "{message:?}"
        );
        drop(first);
        let second = acquire(&repo).expect("free again");
        let previous = second.previous.clone().expect("the first run's record");
        assert!(previous.finished, "a run that ended by itself says so");
        assert_eq!(second.interrupted(), None);
    }

    #[test]
    fn a_run_that_did_not_end_by_itself_is_seen_as_interrupted() {
        let (_dir, repo) = scratch();
        // what a SIGKILL leaves: the record as written, never marked finished
        let killed = Record {
            pid: 77,
            started_ms: 1_764_115_200_000,
            finished: false,
            push: Some(PushChild {
                pgid: 4_000_000,
                start: Some(5),
            }),
        };
        let path = path(&repo);
        std::fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
        std::fs::write(&path, serde_json::to_string(&killed).expect("json")).expect("write");
        let mut next = acquire(&repo).expect("acquire");
        assert_eq!(next.interrupted(), Some(&killed));
        assert_eq!(
            killed.started(),
            UNIX_EPOCH + Duration::from_secs(1_764_115_200)
        );
        next.set_push(Some(123)).expect("record the push");
        let written: Record =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        assert_eq!((written.pid, written.finished), (std::process::id(), false));
        assert_eq!(written.push.map(|p| p.pgid), Some(123));
        drop(next);
        let done: Record =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        assert!(done.finished && done.push.is_none(), "{done:?}");
    }

    #[test]
    fn proc_stat_lines_parse_even_with_odd_command_names() {
        let line = "4242 (git (push) x) S 1 4242 4242 0 -1 4194560 97 0 0 0 0 0 0 0 20 0 1 0 987654 8000000 100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
        assert_eq!(
            parse_stat(line),
            Some(Stat {
                state: 'S',
                pgrp: 4242,
                start: 987_654
            })
        );
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn a_running_process_group_is_waited_for_and_a_gone_one_is_not() {
        let gone = PushChild {
            pgid: 4_000_000,
            start: None,
        };
        let record = |push| Record {
            pid: 1,
            started_ms: 0,
            finished: false,
            push: Some(push),
        };
        assert_eq!(
            wait_for_push(Some(&record(gone)), Duration::from_secs(5)).expect("ok"),
            None
        );
        if std::path::Path::new("/proc/self/stat").exists() {
            // this test process's own group is alive for as long as the test runs
            let me = stat(std::process::id()).expect("own stat");
            let own_group = PushChild {
                pgid: me.pgrp,
                start: None,
            };
            assert!(group_alive(own_group));
            let err = wait_for_push(Some(&record(own_group)), Duration::from_millis(50));
            assert!(
                matches!(err, Err(ReleaseError::PushStillRunning { .. })),
                "{err:?}"
            );
        }
    }
}
