//! The Cargo packages of the repository: the root manifest, workspace members (globs
//! expanded), and Cargo.lock. Read from the work tree.

use std::path::{Path, PathBuf};

use shipgate_version::manifest::{CargoManifest, read_cargo};

use crate::ReleaseError;
use crate::fsutil;

/// One Cargo.toml.
#[derive(Debug, Clone)]
pub(crate) struct Manifest {
    /// Relative to the work tree root.
    pub path: PathBuf,
    pub dir: PathBuf,
    pub text: String,
    pub info: CargoManifest,
}

/// The Cargo side of the repository (empty when there is no Cargo.toml).
#[derive(Debug, Default)]
pub(crate) struct Workspace {
    pub root: Option<Manifest>,
    /// Members, then the root package (if the root has one), each with a `[package]`.
    pub packages: Vec<Manifest>,
    pub lock: Option<(PathBuf, String)>,
}

impl Workspace {
    /// Every manifest to edit: the root first, then members.
    pub(crate) fn manifests(&self) -> impl Iterator<Item = &Manifest> {
        self.root.iter().chain(
            self.packages
                .iter()
                .filter(|p| !p.path.as_os_str().eq("Cargo.toml")),
        )
    }
}

fn load(workdir: &Path, rel: PathBuf) -> Result<Manifest, ReleaseError> {
    let text = fsutil::read(&workdir.join(&rel))?;
    let info = read_cargo(&text).map_err(|e| ReleaseError::manifest(workdir.join(&rel), e))?;
    let dir = rel.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok(Manifest {
        path: rel,
        dir,
        text,
        info,
    })
}

pub(crate) fn discover(workdir: &Path) -> Result<Workspace, ReleaseError> {
    let mut ws = Workspace::default();
    if !workdir.join("Cargo.toml").is_file() {
        return Ok(ws);
    }
    let root = load(workdir, PathBuf::from("Cargo.toml"))?;
    let mut dirs: Vec<PathBuf> = Vec::new();
    for member in &root.info.members {
        let pattern = workdir.join(member);
        let matches =
            glob::glob(&pattern.to_string_lossy()).map_err(|e| ReleaseError::Manifest {
                path: workdir.join("Cargo.toml"),
                line: 1,
                column: 1,
                message: format!("workspace member pattern `{member}` is invalid: {e}"),
            })?;
        for path in matches.flatten() {
            if path.join("Cargo.toml").is_file()
                && let Ok(rel) = path.strip_prefix(workdir)
            {
                dirs.push(rel.to_path_buf());
            }
        }
    }
    let excluded: Vec<PathBuf> = root.info.exclude.iter().map(PathBuf::from).collect();
    dirs.retain(|d| !excluded.iter().any(|e| d.starts_with(e)));
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        if dir.as_os_str().is_empty() {
            continue;
        }
        let m = load(workdir, dir.join("Cargo.toml"))?;
        if m.info.name.is_some() {
            ws.packages.push(m);
        }
    }
    if root.info.name.is_some() {
        ws.packages.push(root.clone());
    }
    if let Some(text) = fsutil::read_optional(&workdir.join("Cargo.lock"))? {
        ws.lock = Some((PathBuf::from("Cargo.lock"), text));
    }
    ws.root = Some(root);
    Ok(ws)
}
