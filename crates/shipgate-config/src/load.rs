//! The edge: finding configuration sets on disk and reading their files. Everything that can
//! go wrong with one file (unreadable, a symlink loop, too large, not UTF-8) becomes a
//! diagnostic for that file; only a path that cannot be searched at all is an error.
//!
//! Layout: a directory that holds `base.toml` is one configuration set, its other `*.toml`
//! files the overlays. A directory without `base.toml` is searched (symlinked directories
//! are not followed, hidden ones and `target` are skipped) for such directories: one per
//! service, e.g. `services/checkout/{base,dev,staging,prod}.toml`. The schema of a set is
//! the nearest `schema.json` in its directory or above it, up to the searched path, unless
//! `[environments] schema` names one.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::check::{ConfigSet, Content, SourceFile};
use crate::diagnostic::{Diagnostic, Rule};
use crate::schema::Schema;
use crate::settings::EnvironmentsSettings;

/// How deep below a searched path configuration sets are looked for.
const MAX_DEPTH: usize = 8;

/// Why a path could not be searched. The message is what went wrong; the hint
/// ([`LoadError::hint`]) is data, not part of the message.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Path {
        path: String,
        source: std::io::Error,
    },
    #[error("no base.toml in {path} or below it")]
    NoConfig { path: String },
}

impl LoadError {
    /// What to do about it: shown on a line of its own after the message.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            LoadError::Path { .. } => {
                "pass the environments directory, e.g. `shipgate config validate environments`"
                    .into()
            }
            LoadError::NoConfig { .. } => {
                "a configuration directory holds base.toml and one overlay per environment (dev.toml, staging.toml, prod.toml)"
                    .into()
            }
        })
    }
}

/// What to load.
#[derive(Debug, Clone)]
pub struct LoadRequest<'a> {
    /// Paths are shown relative to this directory.
    pub repo: &'a Path,
    /// Directories (or files, meaning their directory) to search.
    pub paths: Vec<PathBuf>,
    pub settings: &'a EnvironmentsSettings,
}

/// Every set found, each with the index of its schema in `schemas`.
#[derive(Debug, Default)]
pub struct Workspace {
    pub sets: Vec<(ConfigSet, Option<usize>)>,
    /// Compiled schemas, or the diagnostic saying why one is invalid.
    pub schemas: Vec<Result<Schema, Diagnostic>>,
}

/// Finds and reads every configuration set under the requested paths.
pub fn load(request: &LoadRequest<'_>) -> Result<Workspace, LoadError> {
    let mut dirs: Vec<(PathBuf, PathBuf)> = Vec::new();
    for path in &request.paths {
        let meta = std::fs::metadata(path).map_err(|source| LoadError::Path {
            path: display(request.repo, path),
            source,
        })?;
        let root = if meta.is_dir() {
            path.clone()
        } else {
            path.parent().unwrap_or(Path::new(".")).to_path_buf()
        };
        let found = discover(&root);
        if found.is_empty() {
            return Err(LoadError::NoConfig {
                path: display(request.repo, path),
            });
        }
        for dir in found {
            if !dirs.iter().any(|(d, _)| *d == dir) {
                dirs.push((dir, root.clone()));
            }
        }
    }
    let explicit_schema = request
        .settings
        .schema
        .as_ref()
        .map(|s| request.repo.join(s));
    let mut schema_index: HashMap<PathBuf, usize> = HashMap::new();
    let mut schema_paths = Vec::new();
    let mut with_schema = Vec::new();
    for (dir, root) in dirs {
        let schema = explicit_schema
            .clone()
            .or_else(|| nearest_schema(&dir, &root));
        let index = schema.map(|s| {
            let next = schema_index.len();
            *schema_index.entry(s.clone()).or_insert_with(|| {
                schema_paths.push(s);
                next
            })
        });
        with_schema.push((dir, index));
    }
    let max = request.settings.max_file_size;
    let sets = crate::parallel_map(&with_schema, |(dir, index)| {
        (read_set(request.repo, dir, max), *index)
    });
    let schemas = schema_paths
        .iter()
        .map(|path| {
            let name = display(request.repo, path);
            match read_source(path, &name, max).content {
                Content::Text(text) => Schema::compile(&name, &text),
                Content::Unusable(d) => Err(Diagnostic {
                    rule: Rule::SchemaInvalid,
                    ..d
                }),
            }
        })
        .collect();
    Ok(Workspace { sets, schemas })
}

/// Directories holding base.toml at or below `root`, sorted.
fn discover(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(root, 0, &mut out);
    out.sort();
    out
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if std::fs::symlink_metadata(dir.join("base.toml")).is_ok() {
        out.push(dir.to_path_buf());
        return;
    }
    if depth >= MAX_DEPTH {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && !name.starts_with('.') && name != "target" && name != "node_modules" {
            walk(&entry.path(), depth + 1, out);
        }
    }
}

fn nearest_schema(dir: &Path, root: &Path) -> Option<PathBuf> {
    let mut current = Some(dir);
    while let Some(d) = current {
        let candidate = d.join("schema.json");
        if std::fs::symlink_metadata(&candidate).is_ok() {
            return Some(candidate);
        }
        if d == root {
            break;
        }
        current = d.parent();
    }
    None
}

/// Reads base.toml and every other `*.toml` of a directory (sorted by name).
fn read_set(repo: &Path, dir: &Path, max: u64) -> ConfigSet {
    let base_path = dir.join("base.toml");
    let base = read_source(&base_path, &display(repo, &base_path), max);
    let mut overlays: Vec<(String, SourceFile)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            if path.extension().is_some_and(|e| e == "toml") && stem != "base" {
                let name = display(repo, &path);
                overlays.push((stem.to_string(), read_source(&path, &name, max)));
            }
        }
    }
    ConfigSet {
        dir: display(repo, dir),
        base,
        overlays,
    }
}

/// Reads one file, never more than `max` bytes of it.
pub fn read_source(path: &Path, name: &str, max: u64) -> SourceFile {
    let content = match read_limited(path, max) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Content::Text(text),
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let prefix = String::from_utf8_lossy(&e.as_bytes()[..valid]).into_owned();
                let (line, column) =
                    crate::source::LineIndex::new(&prefix).line_col(&prefix, valid);
                Content::Unusable(Diagnostic {
                    line,
                    column,
                    end_line: line,
                    end_column: column + 1,
                    ..Diagnostic::at_file_start(
                        name,
                        Rule::Encoding,
                        format!("{name} is not valid UTF-8 (byte {valid})"),
                        Some("TOML files must be UTF-8: re-save the file as UTF-8".into()),
                    )
                })
            }
        },
        Err(ReadError::TooLarge(size)) => Content::Unusable(Diagnostic::at_file_start(
            name,
            Rule::FileTooLarge,
            format!(
                "{name} is {} or more, over the {} limit",
                bytes(size),
                bytes(max)
            ),
            Some("split it, or raise [environments] max-file-size in shipgate.toml".into()),
        )),
        Err(ReadError::Io(e)) => {
            let hint = if e.raw_os_error() == Some(40) {
                "a symbolic link points back at itself: fix or remove the link"
            } else {
                "check that the file exists, is a regular file and is readable"
            };
            Content::Unusable(Diagnostic::at_file_start(
                name,
                Rule::ReadError,
                format!("cannot read {name}: {e}"),
                Some(hint.into()),
            ))
        }
    };
    SourceFile {
        name: name.to_string(),
        content,
    }
}

enum ReadError {
    TooLarge(u64),
    Io(std::io::Error),
}

fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>, ReadError> {
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    let meta = file.metadata().map_err(ReadError::Io)?;
    if meta.is_dir() {
        return Err(ReadError::Io(std::io::Error::other("it is a directory")));
    }
    if meta.len() > max {
        return Err(ReadError::TooLarge(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > max {
        return Err(ReadError::TooLarge(bytes.len() as u64));
    }
    Ok(bytes)
}

fn bytes(n: u64) -> String {
    if n >= 1024 * 1024 {
        format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0))
    } else {
        format!("{n} bytes")
    }
}

/// A path as shown: relative to the repository when inside it, `/`-separated.
pub fn display(repo: &Path, path: &Path) -> String {
    let relative = path
        .strip_prefix(repo)
        .ok()
        .filter(|p| !p.as_os_str().is_empty());
    let shown = relative
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/");
    shown.strip_prefix("./").map(String::from).unwrap_or(shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hint_is_data_not_part_of_the_message() {
        let err = LoadError::NoConfig {
            path: "services".into(),
        };
        assert_eq!(err.to_string(), "no base.toml in services or below it");
        assert_eq!(
            err.hint().as_deref(),
            Some(
                "a configuration directory holds base.toml and one overlay per environment (dev.toml, staging.toml, prod.toml)"
            )
        );
    }
}
