//! The edge: finding configuration sets on disk and reading their files. Everything that can
//! go wrong with one file (unreadable, a symlink loop, too large, not UTF-8) becomes a
//! diagnostic for that file; only a path that cannot be searched at all is an error.
//!
//! A directory that holds the layout's base file (`base.toml` or `.yaml`, `.yml`, `.json`;
//! `application.yml`; `values.yaml`) is one configuration set, and [`crate::layout::members`]
//! says which of its other files are overlays. A directory without one is searched
//! (symlinked directories are not followed, hidden ones, `target` and `node_modules` are
//! skipped) for such directories: one per service, e.g.
//! `services/checkout/{base,dev,staging,prod}.toml`. The schema of a set is the nearest
//! `schema.json` in its directory or above it, up to the searched path (for Helm, the chart's
//! `values.schema.json` first), unless `[environments] schema` names one.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::check::{ConfigSet, Content, SourceFile};
use crate::diagnostic::{Diagnostic, Rule};
use crate::layout::{self, base_files};
use crate::schema::Schema;
use crate::settings::{EnvironmentsSettings, Layout};

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
    #[error("no {} in {path} or below it", files(*layout))]
    NoConfig {
        path: String,
        layout: Layout,
        /// The layout the files there look like, when another one.
        looks_like: Option<Layout>,
    },
}

fn files(layout: Layout) -> String {
    let names = base_files(layout);
    match names {
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
        [] => String::new(),
    }
}

impl LoadError {
    /// What to do about it: shown on a line of its own after the message.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            LoadError::Path { .. } => {
                "pass the environments directory, e.g. `shipgate config validate environments`"
                    .into()
            }
            LoadError::NoConfig {
                looks_like: Some(other),
                ..
            } => format!(
                "these files look like the `{}` layout: set [environments] layout = \"{}\" in shipgate.toml",
                other.as_str(),
                other.as_str()
            ),
            LoadError::NoConfig { layout, .. } => match layout {
                Layout::Overlays => "a configuration directory holds base.toml and one overlay per environment (dev.toml, staging.toml, prod.toml); YAML and JSON work the same way".into(),
                Layout::Spring => "point [environments] directory at the folder with application.yml (e.g. src/main/resources)".into(),
                Layout::Helm => "point [environments] directory at the chart's folder, with values.yaml".into(),
            },
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
    pub schemas: Vec<Result<Schema, Box<Diagnostic>>>,
}

/// Finds and reads every configuration set under the requested paths.
pub fn load(request: &LoadRequest<'_>) -> Result<Workspace, LoadError> {
    let mut dirs: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut listed: HashSet<PathBuf> = HashSet::new();
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
        let layout = request.settings.layout;
        let found = discover(&root, layout);
        if found.is_empty() {
            let looks_like = [Layout::Overlays, Layout::Spring, Layout::Helm]
                .into_iter()
                .find(|l| *l != layout && !discover(&root, *l).is_empty());
            return Err(LoadError::NoConfig {
                path: display(request.repo, path),
                layout,
                looks_like,
            });
        }
        for dir in found {
            if listed.insert(dir.clone()) {
                dirs.push((dir, root.clone()));
            }
        }
    }
    let explicit_schema = request
        .settings
        .schema
        .as_ref()
        .map(|s| request.repo.join(s));
    let max = request.settings.max_file_size;
    let layout = request.settings.layout;
    // Each directory's files and its schema's place, in one pass on every core (the schema's
    // lookup is a stat or two per directory); the schemas are numbered after, in order.
    let found = shipgate_stdx::par::map(&dirs, |(dir, root)| {
        let schema = explicit_schema.clone().or_else(|| {
            let chart = dir.join("values.schema.json");
            let helm = layout == Layout::Helm && std::fs::symlink_metadata(&chart).is_ok();
            if helm {
                Some(chart)
            } else {
                nearest_schema(dir, root)
            }
        });
        (read_set(request.repo, dir, max, layout), schema)
    });
    let mut schema_index: HashMap<PathBuf, usize> = HashMap::new();
    let mut schema_paths = Vec::new();
    let mut sets = Vec::with_capacity(found.len());
    for (set, schema) in found {
        let index = schema.map(|s| {
            let next = schema_index.len();
            *schema_index.entry(s.clone()).or_insert_with(|| {
                schema_paths.push(s);
                next
            })
        });
        sets.push((set, index));
    }
    let schemas = schema_paths
        .iter()
        .map(|path| {
            let name = display(request.repo, path);
            match read_source(path, &name, max).content {
                Content::Text(text) => Schema::compile(&name, &text),
                Content::Unusable(d) => Err(Box::new(Diagnostic {
                    rule: Rule::SchemaInvalid,
                    ..d
                })),
            }
        })
        .collect();
    Ok(Workspace { sets, schemas })
}

/// Directories holding the layout's base file at or below `root`, sorted.
fn discover(root: &Path, layout: Layout) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(root, 0, layout, &mut out);
    out.sort();
    out
}

fn walk(dir: &Path, depth: usize, layout: Layout, out: &mut Vec<PathBuf>) {
    if base_files(layout)
        .iter()
        .any(|b| std::fs::symlink_metadata(dir.join(b)).is_ok())
    {
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
            walk(&entry.path(), depth + 1, layout, out);
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

/// Reads the files of a directory's set (sorted by name).
fn read_set(repo: &Path, dir: &Path, max: u64, layout: Layout) -> ConfigSet {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| !e.file_type().is_ok_and(|t| t.is_dir()))
                .filter_map(|e| e.file_name().to_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let members = layout::members(layout, &names, None).unwrap_or_else(|| {
        // The base file went away since discovery: read it anyway, as unreadable.
        vec![(layout::Role::Base, base_files(layout)[0].to_string())]
    });
    ConfigSet {
        dir: display(repo, dir),
        layout,
        files: members
            .into_iter()
            .map(|(role, name)| {
                let path = dir.join(&name);
                let shown = display(repo, &path);
                (role, read_source(&path, &shown, max))
            })
            .collect(),
    }
}

/// A set from files already read (`name` → text), as from a git tree: the files of
/// `dir` whose names make a set of `layout`; `None` without a base file.
pub fn assemble(dir: &str, layout: Layout, files: Vec<(String, String)>) -> Option<ConfigSet> {
    let mut names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    names.sort();
    let members = layout::members(layout, &names, None)?;
    let mut files = files;
    Some(ConfigSet {
        dir: dir.to_string(),
        layout,
        files: members
            .into_iter()
            .map(|(role, name)| {
                let text = files
                    .iter_mut()
                    .find(|(n, _)| *n == name)
                    .map(|(_, t)| std::mem::take(t))
                    .unwrap_or_default();
                let shown = if dir.is_empty() {
                    name
                } else {
                    format!("{dir}/{name}")
                };
                (
                    role,
                    SourceFile {
                        name: shown,
                        content: Content::Text(text),
                    },
                )
            })
            .collect(),
    })
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
                        Some("configuration files must be UTF-8: re-save the file as UTF-8".into()),
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
            layout: Layout::Overlays,
            looks_like: None,
        };
        assert_eq!(
            err.to_string(),
            "no base.toml, base.yaml, base.yml or base.json in services or below it"
        );
        assert!(
            err.hint()
                .is_some_and(|h| h.contains("base.toml and one overlay"))
        );
        let spring = LoadError::NoConfig {
            path: "src".into(),
            layout: Layout::Overlays,
            looks_like: Some(Layout::Spring),
        };
        assert_eq!(
            spring.hint().as_deref(),
            Some(
                "these files look like the `spring` layout: set [environments] layout = \"spring\" in shipgate.toml"
            )
        );
    }
}
