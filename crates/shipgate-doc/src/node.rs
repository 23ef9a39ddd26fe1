//! The tree every format is read into: values with the file and the spans (key and value)
//! they were written at, so a problem found after merging points at the text that caused it.

use std::collections::BTreeMap;

/// A byte range in one source text. `u32` keeps nodes small; files are capped well below 4 GiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(range: std::ops::Range<usize>) -> Self {
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Span {
            start: clamp(range.start),
            end: clamp(range.end.max(range.start)),
        }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// Which source file a node came from (an index the caller gives out; 0 is usually the base).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FileId(pub u32);

/// A table (mapping, object): keys in sorted order, as TOML tables are unordered.
pub type Table = BTreeMap<String, Node>;

/// A value, whichever format it was written in.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// YAML's `null`, `~` or nothing; JSON's `null`. TOML has none.
    Null,
    String(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    /// A TOML date-time, kept as written (RFC 3339).
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
    /// A node at `span` whose key is the value itself (roots, array items).
    pub fn new(value: Value, file: FileId, span: Span) -> Node {
        Node {
            value,
            file,
            key: span,
            span,
        }
    }

    pub fn as_table(&self) -> Option<&Table> {
        match &self.value {
            Value::Table(t) => Some(t),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
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

    /// True for a value that is neither a table nor an array.
    pub fn is_scalar(&self) -> bool {
        !matches!(self.value, Value::Table(_) | Value::Array(_))
    }

    /// The JSON Schema type name of the value (`table` for tables, as TOML says).
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::String(_) | Value::Datetime(_) => "string",
            Value::Integer(_) => "integer",
            Value::Float(_) => "number",
            Value::Boolean(_) => "boolean",
            Value::Array(_) => "array",
            Value::Table(_) => "table",
        }
    }

    /// How many nodes this one holds, itself included.
    pub fn count(&self) -> usize {
        1 + match &self.value {
            Value::Array(items) => items.iter().map(Node::count).sum(),
            Value::Table(t) => t.values().map(Node::count).sum(),
            _ => 0,
        }
    }
}

/// What a null in an overlay does to the value beneath it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nulls {
    /// It is a value like any other (YAML 1.2 and JSON readers).
    Keep,
    /// It removes the key (Helm's values files: `helm -f` drops a key set to null).
    Remove,
    /// It is the empty text and never removes what is beneath it (Spring Boot flattens
    /// `spring:` with nothing under it to `spring=""`, beside `spring.jpa.…` from other
    /// files).
    Empty,
}

/// Layers `overlay` over `base`: tables merge key by key, anything else (arrays too) is
/// replaced whole. Each resulting node keeps the provenance of the file that set it; a table
/// present in both keeps the base's place.
pub fn merge(base: &Node, overlay: &Node) -> Node {
    let mut merged = base.clone();
    merge_into(&mut merged, overlay, Nulls::Keep);
    merged
}

/// [`merge`] in place, nulls doing what `nulls` says.
pub fn merge_into(base: &mut Node, overlay: &Node, nulls: Nulls) {
    match (&mut base.value, &overlay.value) {
        (Value::Table(b), Value::Table(o)) => {
            for (key, value) in o {
                if value.value == Value::Null {
                    match nulls {
                        Nulls::Remove => {
                            b.remove(key);
                            continue;
                        }
                        Nulls::Empty => {
                            if b.get(key).is_none_or(|e| e.as_table().is_none()) {
                                let mut empty = value.clone();
                                empty.value = Value::String(String::new());
                                b.insert(key.clone(), empty);
                            }
                            continue;
                        }
                        Nulls::Keep => {}
                    }
                }
                match b.get_mut(key) {
                    Some(existing)
                        if existing.as_table().is_some() && value.as_table().is_some() =>
                    {
                        merge_into(existing, value, nulls);
                    }
                    _ => {
                        let mut value = value.clone();
                        if nulls == Nulls::Empty {
                            empty_nulls(&mut value);
                        }
                        b.insert(key.clone(), value);
                    }
                }
            }
        }
        _ => *base = overlay.clone(),
    }
}

/// Every null below `node` made the empty text.
fn empty_nulls(node: &mut Node) {
    match &mut node.value {
        Value::Null => node.value = Value::String(String::new()),
        Value::Table(t) => t.values_mut().for_each(empty_nulls),
        Value::Array(items) => items.iter_mut().for_each(empty_nulls),
        _ => {}
    }
}

/// The node at a dotted key path (`service.replicas`); keys with dots are not addressable
/// this way (see [`crate::path`] for paths that can say anything).
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

/// The JSON document a schema sees. Non-finite floats become strings (JSON has none).
pub fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value as J;
    match &node.value {
        Value::Null => J::Null,
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

    fn leaf(value: Value, file: u32) -> Node {
        Node::new(value, FileId(file), Span::default())
    }

    fn table(entries: Vec<(&str, Node)>, file: u32) -> Node {
        leaf(
            Value::Table(entries.into_iter().map(|(k, v)| (k.into(), v)).collect()),
            file,
        )
    }

    #[test]
    fn merge_replaces_scalars_and_arrays_and_merges_tables() {
        let base = table(
            vec![(
                "a",
                table(
                    vec![
                        ("x", leaf(Value::Integer(1), 0)),
                        ("y", leaf(Value::Array(vec![leaf(Value::Integer(1), 0)]), 0)),
                    ],
                    0,
                ),
            )],
            0,
        );
        let over = table(
            vec![("a", table(vec![("y", leaf(Value::Array(vec![]), 1))], 1))],
            1,
        );
        let merged = merge(&base, &over);
        assert_eq!(get(&merged, "a.x").map(|n| n.file), Some(FileId(0)));
        assert_eq!(get(&merged, "a.y").map(|n| n.file), Some(FileId(1)));
        assert_eq!(
            merged.file,
            FileId(0),
            "a table present in both keeps the base's"
        );
    }

    #[test]
    fn a_null_deletes_only_when_asked() {
        let base = table(vec![("a", leaf(Value::Integer(1), 0))], 0);
        let over = table(vec![("a", leaf(Value::Null, 1))], 1);
        assert_eq!(
            get(&merge(&base, &over), "a").map(|n| n.value.clone()),
            Some(Value::Null)
        );
        let mut helm = base.clone();
        merge_into(&mut helm, &over, Nulls::Remove);
        assert!(get(&helm, "a").is_none());
        // Spring: `spring:` with nothing under it keeps what other files set below it.
        let spring_base = table(
            vec![("s", table(vec![("x", leaf(Value::Integer(1), 0))], 0))],
            0,
        );
        let spring_null = table(
            vec![("s", leaf(Value::Null, 1)), ("p", leaf(Value::Null, 1))],
            1,
        );
        let mut spring = spring_base.clone();
        merge_into(&mut spring, &spring_null, Nulls::Empty);
        assert_eq!(
            get(&spring, "s.x").map(|n| n.value.clone()),
            Some(Value::Integer(1))
        );
        assert_eq!(
            get(&spring, "p").map(|n| n.value.clone()),
            Some(Value::String(String::new()))
        );
    }

    #[test]
    fn json_has_no_non_finite_numbers() {
        let n = table(
            vec![
                ("f", leaf(Value::Float(f64::INFINITY), 0)),
                ("n", leaf(Value::Null, 0)),
            ],
            0,
        );
        assert_eq!(to_json(&n), serde_json::json!({"f": "inf", "n": null}));
        assert_eq!(n.count(), 3);
    }
}
