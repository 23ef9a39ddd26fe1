//! `config show`: one environment's merged configuration, each value with the file:line it
//! came from, secrets redacted. Pure: a layered set in, text or JSON out.

use std::fmt::Write as _;

use crate::check::{ConfigSet, Content};
use crate::rules::{self, Merged};
use crate::secrets::REDACTED;
use crate::source::LineIndex;
use crate::tree::{self, FileId, Node, Table, Value};

/// Places of values: file name and 1-based line:col of each node.
struct Places<'s> {
    set: &'s ConfigSet,
    indexes: Vec<Option<LineIndex>>,
}

impl<'s> Places<'s> {
    fn new(set: &'s ConfigSet) -> Self {
        let indexes = set
            .file_names()
            .enumerate()
            .map(|(i, _)| match &file(set, FileId(i as u32)).content {
                Content::Text(t) => Some(LineIndex::new(t)),
                Content::Unusable(_) => None,
            })
            .collect();
        Places { set, indexes }
    }

    fn of(&self, node: &Node) -> (String, u32, u32) {
        let f = file(self.set, node.file);
        let (line, column) = match (&self.indexes[node.file.0 as usize], &f.content) {
            (Some(index), Content::Text(text)) => index.line_col(text, node.span.start as usize),
            _ => (1, 1),
        };
        (f.name.clone(), line, column)
    }
}

fn file(set: &ConfigSet, id: FileId) -> &crate::check::SourceFile {
    set.file(id)
}

/// The merged configuration as TOML; with `provenance`, each value ends with
/// `# file:line` of the file that set it.
pub fn toml(set: &ConfigSet, merged: &Merged, provenance: bool) -> String {
    let places = Places::new(set);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# {} configuration of {} (merged; secrets redacted)",
        merged.env, set.dir
    );
    if let Some(root) = merged.root.as_table() {
        emit_table(&mut out, "", root, &places, provenance);
    }
    out
}

fn emit_table(out: &mut String, path: &str, table: &Table, places: &Places<'_>, provenance: bool) {
    let is_table_array = |n: &Node| matches!(&n.value, Value::Array(items) if !items.is_empty() && items.iter().all(|i| i.as_table().is_some()));
    for (key, node) in table {
        if node.as_table().is_some() || is_table_array(node) {
            continue;
        }
        if node.value == Value::Null {
            // TOML has no null: say so in a comment rather than invent a value.
            let _ = write!(out, "# {} = null", toml_key(key));
        } else {
            let _ = write!(
                out,
                "{} = {}",
                toml_key(key),
                inline(&tree::join(path, key), node)
            );
        }
        if provenance {
            let (file, line, _) = places.of(node);
            let _ = write!(out, "  # {file}:{line}");
        }
        out.push('\n');
    }
    for (key, node) in table {
        let child_path = if path.is_empty() {
            toml_key(key)
        } else {
            format!("{path}.{}", toml_key(key))
        };
        match &node.value {
            Value::Table(t) => {
                let _ = writeln!(out, "\n[{child_path}]");
                emit_table(out, &child_path, t, places, provenance);
            }
            Value::Array(items) if is_table_array(node) => {
                for item in items {
                    let _ = writeln!(out, "\n[[{child_path}]]");
                    if let Some(t) = item.as_table() {
                        emit_table(out, &child_path, t, places, provenance);
                    }
                }
            }
            _ => {}
        }
    }
}

fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_string()
    } else {
        toml::Value::String(key.to_string()).to_string()
    }
}

/// A value as inline TOML, secrets replaced; `path` is its dotted key path.
fn inline(path: &str, node: &Node) -> String {
    to_toml(path, node).to_string()
}

fn to_toml(path: &str, node: &Node) -> toml::Value {
    if rules::secret_reason(path, node).is_some() {
        return toml::Value::String(REDACTED.into());
    }
    match &node.value {
        Value::String(s) | Value::Datetime(s) => {
            if let Value::Datetime(d) = &node.value
                && let Ok(dt) = d.parse::<toml::value::Datetime>()
            {
                return toml::Value::Datetime(dt);
            }
            toml::Value::String(s.clone())
        }
        Value::Null => toml::Value::String(String::new()),
        Value::Integer(i) => toml::Value::Integer(*i),
        Value::Float(f) => toml::Value::Float(*f),
        Value::Boolean(b) => toml::Value::Boolean(*b),
        Value::Array(items) => toml::Value::Array(items.iter().map(|i| to_toml(path, i)).collect()),
        Value::Table(t) => toml::Value::Table(
            t.iter()
                .map(|(k, v)| (k.clone(), to_toml(&tree::join(path, k), v)))
                .collect(),
        ),
    }
}

/// The merged configuration as JSON (secrets redacted). With `provenance`: a list of
/// `{key, value, file, line, column}` for every leaf instead.
pub fn json(set: &ConfigSet, merged: &Merged, provenance: bool) -> serde_json::Value {
    if !provenance {
        return redacted_json("", &merged.root);
    }
    let places = Places::new(set);
    let mut leaves = Vec::new();
    tree::leaves(&merged.root, "", &mut leaves);
    let values: Vec<_> = leaves
        .into_iter()
        .map(|(path, node)| {
            let (file, line, column) = places.of(node);
            serde_json::json!({
                "value": redacted_json(&path, node),
                "key": path,
                "file": file,
                "line": line,
                "column": column,
            })
        })
        .collect();
    serde_json::json!({ "environment": merged.env, "values": values })
}

fn redacted_json(path: &str, node: &Node) -> serde_json::Value {
    if rules::secret_reason(path, node).is_some() {
        return serde_json::Value::String(REDACTED.into());
    }
    match &node.value {
        Value::Array(items) => {
            serde_json::Value::Array(items.iter().map(|i| redacted_json(path, i)).collect())
        }
        Value::Table(t) => serde_json::Value::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), redacted_json(&tree::join(path, k), v)))
                .collect(),
        ),
        _ => tree::to_json(node),
    }
}
