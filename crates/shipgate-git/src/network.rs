//! Network operations through the `git` binary: push, fetch, ls-remote. The binary honours
//! the user's credential helpers and `http.extraheader` (how actions/checkout passes its
//! token), which libgit2 does not.

use std::path::Path;
use std::process::Command;

use git2::Oid;

use crate::GitError;

/// A tag on a remote, peeled to its commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteTag {
    pub name: String,
    pub commit: Oid,
}

pub(crate) fn command(dir: &Path, args: &[String]) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0");
    cmd
}

fn not_started(args: &[String], e: &std::io::Error) -> GitError {
    GitError::Command {
        args: args.join(" "),
        stderr: e.to_string(),
        hint: Some("install git and put it on PATH".into()),
    }
}

pub(crate) fn git(dir: &Path, args: &[String], hint: Option<&str>) -> Result<String, GitError> {
    let out = command(dir, args)
        .output()
        .map_err(|e| not_started(args, &e))?;
    finish(args, out, hint)
}

/// Like [`git`], for a child that must outlive a killed parent in one piece: it runs in a
/// process group of its own (on Unix; the group's id is the pid given to `on_spawn`), so a
/// re-run can wait for the whole group, and a signal to the parent's group does not cut it
/// off halfway.
pub(crate) fn git_detached(
    dir: &Path,
    args: &[String],
    hint: Option<&str>,
    on_spawn: &mut dyn FnMut(u32),
) -> Result<String, GitError> {
    let mut cmd = command(dir, args);
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let child = cmd.spawn().map_err(|e| not_started(args, &e))?;
    on_spawn(child.id());
    let out = child
        .wait_with_output()
        .map_err(|e| not_started(args, &e))?;
    finish(args, out, hint)
}

fn finish(
    args: &[String],
    out: std::process::Output,
    hint: Option<&str>,
) -> Result<String, GitError> {
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let detail = if stderr.is_empty() { stdout } else { stderr };
        return Err(GitError::Command {
            args: args.join(" "),
            stderr: detail,
            hint: hint.map(str::to_string),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Every ref of a remote with the id it names (annotated tags: the tag object), from
/// `git ls-remote`, without the peeled `^{}` lines.
pub(crate) fn remote_refs(dir: &Path, remote: &str) -> Result<Vec<(String, Oid)>, GitError> {
    let out = git(dir, &["ls-remote".into(), remote.to_string()], None)?;
    Ok(out
        .lines()
        .filter_map(|line| {
            let (sha, name) = line.split_once('\t')?;
            if name.ends_with("^{}") {
                return None;
            }
            Some((name.trim().to_string(), Oid::from_str(sha.trim()).ok()?))
        })
        .collect())
}

/// Whether a failed push failed because another process held a ref of the remote (a push
/// that was still running, say): worth trying again.
pub(crate) fn is_lock_contention(stderr: &str) -> bool {
    ["cannot lock ref", "Unable to create", "failed to lock"]
        .iter()
        .any(|needle| stderr.contains(needle))
}

pub(crate) fn remote_tags(dir: &Path, remote: &str) -> Result<Vec<RemoteTag>, GitError> {
    let out = git(
        dir,
        &["ls-remote".into(), "--tags".into(), remote.to_string()],
        None,
    )?;
    let mut tags: Vec<RemoteTag> = Vec::new();
    for line in out.lines() {
        let Some((sha, name)) = line.split_once('\t') else {
            continue;
        };
        let Some(name) = name.strip_prefix("refs/tags/") else {
            continue;
        };
        let Ok(commit) = Oid::from_str(sha.trim()) else {
            continue;
        };
        match name.strip_suffix("^{}") {
            // the peeled line of an annotated tag replaces the tag object's id
            Some(base) => match tags.iter_mut().find(|t| t.name == base) {
                Some(t) => t.commit = commit,
                None => tags.push(RemoteTag {
                    name: base.to_string(),
                    commit,
                }),
            },
            None => tags.push(RemoteTag {
                name: name.to_string(),
                commit,
            }),
        }
    }
    Ok(tags)
}
