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

pub(crate) fn git(dir: &Path, args: &[String], hint: Option<&str>) -> Result<String, GitError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|e| GitError::Command {
            args: args.join(" "),
            stderr: e.to_string(),
            hint: Some("install git and put it on PATH".into()),
        })?;
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
