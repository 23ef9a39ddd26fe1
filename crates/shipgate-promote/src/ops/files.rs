//! The environments' files: the edits a promotion or a rollback makes to its places, the
//! branch commit that carries them, and the version the files ask for.

use shipgate_git::Oid;

use super::{Context, OpError};
use crate::ledger::BranchMove;
use crate::targets::{self, Place};

/// One file of a promotion: what it says now and what it will say.
#[derive(Debug, Clone)]
pub(super) struct FileEdit {
    /// The file, as a path in git's trees.
    pub(super) file: String,
    /// What it says at the base.
    pub(super) old: String,
    /// What it will say.
    pub(super) new: String,
}

impl Context<'_> {
    /// Every place of `env` at `base` with `version` written: one edit per file, in the
    /// order of the places. Nothing is written: a place that cannot take it is an error
    /// naming the file and the key.
    pub(super) fn edits(
        &self,
        base: Oid,
        places: &[Place],
        version: &str,
    ) -> Result<Vec<FileEdit>, OpError> {
        let mut out: Vec<FileEdit> = Vec::new();
        for place in places {
            let i = match out.iter().position(|e| e.file == place.file) {
                Some(i) => i,
                None => {
                    let old = self
                        .repo
                        .file_at(base, &place.file)?
                        .map(|b| String::from_utf8_lossy(&b).into_owned())
                        .ok_or_else(|| OpError::NoEnvFile {
                            path: place.file.clone(),
                            branch: self.settings.branch.clone(),
                        })?;
                    out.push(FileEdit {
                        file: place.file.clone(),
                        new: old.clone(),
                        old,
                    });
                    out.len() - 1
                }
            };
            out[i].new = targets::set(place, &out[i].new, version)?;
        }
        Ok(out)
    }
}

/// The version an environment's files ask for at `commit`: its first place's value (the
/// shorthand: its own key, else base.toml's).
pub(super) fn desired_version(
    ctx: &Context<'_>,
    commit: Oid,
    env: &str,
) -> Result<Option<String>, OpError> {
    let Some(place) = ctx.places(env).into_iter().next() else {
        return Ok(None);
    };
    let mut files = vec![place.file.clone()];
    if place.shorthand {
        files.push(targets::in_dir(&ctx.dir(), "base.toml"));
    }
    for file in files {
        let found = ctx.repo.file_at(commit, &file)?.and_then(|bytes| {
            targets::get(&place, &String::from_utf8_lossy(&bytes))
                .and_then(|v| place.version_in(&v))
        });
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// One commit with every changed file of `edits` on `base` (none when nothing changed).
pub(super) fn commit_edits(
    ctx: &Context<'_>,
    base: Oid,
    edits: &[FileEdit],
    message: &str,
) -> Result<(Oid, Option<BranchMove>), OpError> {
    let changed: Vec<&FileEdit> = edits.iter().filter(|e| e.new != e.old).collect();
    if changed.is_empty() {
        return Ok((base, None));
    }
    let files: Vec<(String, Option<Vec<u8>>)> = changed
        .iter()
        .map(|e| (e.file.clone(), Some(e.new.as_bytes().to_vec())))
        .collect();
    let new = ctx.repo.make_commit(&[base], Some(base), &files, message)?;
    Ok((
        new,
        Some(BranchMove {
            branch: ctx.settings.branch.clone(),
            base,
            new,
            paths: changed.iter().map(|e| e.file.clone()).collect(),
        }),
    ))
}
