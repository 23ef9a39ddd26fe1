//! The configuration tree with provenance: every node remembers the file and the spans of
//! its key and value, so a problem found after merging points at the text that caused it.

use std::collections::BTreeMap;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::source::Span;

/// Index of a source file within one configuration set (0 is base.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FileId(pub u32);

/// A table: keys in sorted order (TOML tables are unordered).
pub type Table = BTreeMap<String, Node>;

/// A TOML value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    String(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    /// Kept as written (RFC 3339).
    Datetime(String),
    Array(Vec<Node>),
    Table(Table),
}

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub file: FileId,
    /// The key that set it (for array elements and roots: the value itself).
    pub key: Span,
    pub span: Span,
}

impl Node {
    pub fn as_table(&self) -> Option<&Table> {
        match &self.value {
            Value::Table(t) => Some(t),
            _ => None,
        }
    }

    /// A number as f64 (integers and floats).
    pub fn as_f64(&self) -> Option<f64> {
        match self.value {
            Value::Integer(i) => Some(i as f64),
            Value::Float(f) => Some(f),
            _ => None,
        }
    }

    /// The JSON Schema type name of the value.
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::String(_) | Value::Datetime(_) => "string",
            Value::Integer(_) => "integer",
            Value::Float(_) => "number",
            Value::Boolean(_) => "boolean",
            Value::Array(_) => "array",
            Value::Table(_) => "table",
        }
    }
}

/// Parses one file. On syntax errors: every error the parser recovered from, as
/// (message, span).
pub fn parse(text: &str, file: FileId) -> Result<Node, Vec<(String, Span)>> {
    let (doc, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        let len = text.len();
        return Err(errors
            .iter()
            .map(|e| {
                let span = e.span().unwrap_or(0..0);
                (
                    e.message().trim().to_string(),
                    Span::new(span.start.min(len)..span.end.min(len)),
                )
            })
            .collect());
    }
    let root = Span::new(0..0);
    Ok(Node {
        value: Value::Table(table(doc.get_ref(), file)),
        file,
        key: root,
        span: root,
    })
}

fn table(t: &DeTable<'_>, file: FileId) -> Table {
    t.iter()
        .map(|(k, v)| {
            let node = node(v, file, Span::new(k.span()));
            (k.get_ref().to_string(), node)
        })
        .collect()
}

fn node(v: &Spanned<DeValue<'_>>, file: FileId, key: Span) -> Node {
    let span = Span::new(v.span());
    let value = match v.get_ref() {
        DeValue::String(s) => Value::String(s.to_string()),
        DeValue::Integer(i) => {
            let digits = i.as_str().replace('_', "");
            match i64::from_str_radix(&digits, i.radix()) {
                Ok(n) => Value::Integer(n),
                Err(_) => Value::Float(digits.parse().unwrap_or(f64::NAN)),
            }
        }
        DeValue::Float(f) => Value::Float(f.as_str().replace('_', "").parse().unwrap_or(f64::NAN)),
        DeValue::Boolean(b) => Value::Boolean(*b),
        DeValue::Datetime(d) => Value::Datetime(d.to_string()),
        DeValue::Array(a) => Value::Array(
            a.iter()
                .map(|e| node(e, file, Span::new(e.span())))
                .collect(),
        ),
        DeValue::Table(t) => Value::Table(table(t, file)),
    };
    Node {
        value,
        file,
        key,
        span,
    }
}

/// Layers `overlay` over `base`: tables merge key by key, anything else (arrays too) is
/// replaced whole. Each resulting node keeps the provenance of the file that set it; a table
/// present in both keeps the base's place. The root takes the overlay's file.
pub fn merge(base: &Node, overlay: &Node) -> Node {
    match (&base.value, &overlay.value) {
        (Value::Table(b), Value::Table(o)) => {
            let mut merged = b.clone();
            for (key, value) in o {
                let next = match merged.get(key) {
                    Some(existing)
                        if existing.as_table().is_some() && value.as_table().is_some() =>
                    {
                        merge(existing, value)
                    }
                    _ => value.clone(),
                };
                merged.insert(key.clone(), next);
            }
            Node {
                value: Value::Table(merged),
                ..base.clone()
            }
        }
        _ => overlay.clone(),
    }
}

/// The node at a dotted key path (`service.replicas`); keys with dots are not addressable.
pub fn get<'n>(root: &'n Node, path: &str) -> Option<&'n Node> {
    path.split('.')
        .try_fold(root, |node, key| node.as_table()?.get(key))
}

/// Every leaf (non-table value, arrays included) with its dotted path, depth first.
pub fn leaves<'n>(root: &'n Node, prefix: &str, out: &mut Vec<(String, &'n Node)>) {
    if let Some(table) = root.as_table() {
        for (key, node) in table {
            let path = join(prefix, key);
            if node.as_table().is_some() {
                leaves(node, &path, out);
            } else {
                out.push((path, node));
            }
        }
    }
}

/// `prefix.key`, or `key` at the root.
pub fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// The JSON document the schema sees. Non-finite floats become strings (JSON has none).
pub fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &node.value {
        Value::String(s) | Value::Datetime(s) => J::String(s.clone()),
        Value::Integer(i) => J::from(*i),
        Value::Float(f) => {
            serde_json::Number::from_f64(*f).map_or_else(|| J::String(f.to_string()), J::Number)
        }
        Value::Boolean(b) => J::Bool(*b),
        Value::Array(a) => J::Array(a.iter().map(to_json).collect()),
        Value::Table(t) => J::Object(t.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str, file: u32) -> Node {
        parse(text, FileId(file)).expect("valid TOML")
    }

    #[test]
    fn merge_replaces_scalars_and_arrays_and_merges_tables() {
        let base = parse_ok("[a]\nx = 1\ny = [1, 2]\n[a.deep]\nz = \"b\"\n", 0);
        let over = parse_ok("[a]\ny = [3]\n[a.deep]\nw = true\n", 1);
        let merged = merge(&base, &over);
        assert_eq!(get(&merged, "a.x").map(|n| n.file), Some(FileId(0)));
        let y = get(&merged, "a.y").expect("y");
        assert_eq!(y.file, FileId(1));
        assert!(matches!(&y.value, Value::Array(items) if items.len() == 1));
        assert_eq!(get(&merged, "a.deep.z").map(|n| n.file), Some(FileId(0)));
        assert_eq!(get(&merged, "a.deep.w").map(|n| n.file), Some(FileId(1)));
        assert_eq!(
            merged.file,
            FileId(0),
            "root keeps base provenance for tables"
        );
    }

    #[test]
    fn an_overlay_scalar_replaces_a_table_and_back() {
        let base = parse_ok("a = { x = 1 }\n", 0);
        let over = parse_ok("a = 5\n", 1);
        assert_eq!(
            get(&merge(&base, &over), "a").map(|n| n.type_name()),
            Some("integer")
        );
        assert_eq!(
            get(&merge(&over, &base), "a.x").map(|n| n.file),
            Some(FileId(0))
        );
    }

    #[test]
    fn spans_point_at_keys_and_values() {
        let text = "[s]\nreplicas = 3\n";
        let node = parse_ok(text, 0);
        let r = get(&node, "s.replicas").expect("replicas");
        assert_eq!(&text[r.key.range()], "replicas");
        assert_eq!(&text[r.span.range()], "3");
    }

    #[test]
    fn syntax_errors_are_all_reported_with_spans() {
        let errors = parse("a = \nb = [1,\n", FileId(0)).expect_err("invalid");
        assert!(!errors.is_empty());
        assert!(errors.iter().all(|(m, _)| !m.is_empty()));
    }

    #[test]
    fn numbers_in_every_radix_and_json_conversion() {
        let node = parse_ok("h = 0xff\nu = 1_000\nf = 1.5\ni = inf\nd = 2024-01-01\n", 0);
        let json = to_json(&node);
        assert_eq!(json["h"], 255);
        assert_eq!(json["u"], 1000);
        assert_eq!(json["f"], 1.5);
        assert_eq!(json["i"], "inf");
        assert_eq!(json["d"], "2024-01-01");
    }
}
