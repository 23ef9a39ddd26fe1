//! Key paths that say where a value is in any of the formats: `service.image.tag`,
//! `images[name=storefront].newTag` (list items chosen by a field), `images[0]` (by
//! position), `metadata.annotations["app.kubernetes.io/version"]` (a key with dots), and
//! `[metadata.name=backend-prod].spec.source.kustomize.images[0]` (the document of a
//! multi-document file whose field says so).

use std::fmt;

use crate::node::{Node, Value};

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A key of a table.
    Key(String),
    /// A list item by position.
    Index(usize),
    /// The list items (or, on a table, the table itself) whose `field` (a key path of its
    /// own) holds `value`.
    Where { field: Vec<String>, value: String },
}

/// A parsed key path; shown as it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPath {
    text: String,
    steps: Vec<Step>,
}

/// Why a key path cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("key `{path}` is not a key path: {message} (at character {at})")]
pub struct PathError {
    pub path: String,
    pub message: String,
    pub at: usize,
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Where a selected value is, key by key and index by index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Concrete {
    Key(String),
    Index(usize),
}

/// A value a path selected: which document, the way there, the node.
#[derive(Debug, Clone)]
pub struct Selected<'n> {
    pub document: usize,
    pub way: Vec<Concrete>,
    pub node: &'n Node,
}

fn is_bare(c: char) -> bool {
    !matches!(c, '.' | '[' | ']' | '"' | '=') && !c.is_whitespace()
}

impl KeyPath {
    pub fn parse(text: &str) -> Result<KeyPath, PathError> {
        let fail = |message: &str, at: usize| PathError {
            path: text.to_string(),
            message: message.to_string(),
            at,
        };
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        let mut steps = Vec::new();
        let mut expect_key = true;
        if chars.is_empty() {
            return Err(fail("it is empty", 0));
        }
        while i < chars.len() {
            match chars[i] {
                '[' => {
                    let close = (i + 1..chars.len())
                        .find(|&j| chars[j] == ']' && !in_quotes(&chars[i + 1..j]));
                    let Some(close) = close else {
                        return Err(fail("`[` without `]`", i));
                    };
                    let inner: String = chars[i + 1..close].iter().collect();
                    steps.push(bracket(&inner).map_err(|m| fail(&m, i + 1))?);
                    i = close + 1;
                    expect_key = false;
                }
                '.' => {
                    if expect_key {
                        return Err(fail("an empty key", i));
                    }
                    i += 1;
                    expect_key = true;
                    if i == chars.len() {
                        return Err(fail("it ends with `.`", i));
                    }
                }
                c if is_bare(c) => {
                    if !expect_key {
                        return Err(fail("a key must follow `.`", i));
                    }
                    let start = i;
                    while i < chars.len() && is_bare(chars[i]) {
                        i += 1;
                    }
                    steps.push(Step::Key(chars[start..i].iter().collect()));
                    expect_key = false;
                }
                _ => return Err(fail("unexpected character", i)),
            }
        }
        Ok(KeyPath {
            text: text.to_string(),
            steps,
        })
    }

    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Every place the path selects in the documents, in document order.
    pub fn select<'n>(&self, documents: &[&'n Node]) -> Vec<Selected<'n>> {
        let mut current: Vec<Selected<'n>> = documents
            .iter()
            .enumerate()
            .map(|(document, node)| Selected {
                document,
                way: Vec::new(),
                node,
            })
            .collect();
        for step in &self.steps {
            let mut next = Vec::new();
            for s in current {
                match (step, &s.node.value) {
                    (Step::Key(k), Value::Table(t)) => {
                        if let Some(child) = t.get(k) {
                            next.push(s.child(Concrete::Key(k.clone()), child));
                        }
                    }
                    (Step::Index(i), Value::Array(items)) => {
                        if let Some(child) = items.get(*i) {
                            next.push(s.child(Concrete::Index(*i), child));
                        }
                    }
                    (Step::Where { field, value }, Value::Array(items)) => {
                        for (i, item) in items.iter().enumerate() {
                            if holds(item, field, value) {
                                next.push(s.child(Concrete::Index(i), item));
                            }
                        }
                    }
                    (Step::Where { field, value }, Value::Table(_))
                        if holds(s.node, field, value) =>
                    {
                        next.push(s);
                    }
                    _ => {}
                }
            }
            current = next;
        }
        current
    }

    /// How far the path gets in the documents before it selects nothing: the longest
    /// prefix (as text) that still selects something, for "found up to here" messages.
    pub fn reached(&self, documents: &[&Node]) -> String {
        let mut best = String::new();
        for n in 1..=self.steps.len() {
            let prefix = KeyPath {
                text: String::new(),
                steps: self.steps[..n].to_vec(),
            };
            if prefix.select(documents).is_empty() {
                break;
            }
            best = show_steps(&self.steps[..n]);
        }
        best
    }
}

impl<'n> Selected<'n> {
    fn child(&self, step: Concrete, node: &'n Node) -> Selected<'n> {
        let mut way = self.way.clone();
        way.push(step);
        Selected {
            document: self.document,
            way,
            node,
        }
    }
}

fn in_quotes(chars: &[char]) -> bool {
    chars.iter().filter(|c| **c == '"').count() % 2 == 1
}

fn unquote(s: &str) -> Result<String, String> {
    let s = s.trim();
    match s.strip_prefix('"') {
        Some(rest) => rest
            .strip_suffix('"')
            .map(String::from)
            .ok_or_else(|| "a quote without its end".to_string()),
        None if s.is_empty() => Err("an empty name".into()),
        None if s.chars().all(is_bare) => Ok(s.to_string()),
        None => Err(format!("`{s}` needs quotes")),
    }
}

fn bracket(inner: &str) -> Result<Step, String> {
    let trimmed = inner.trim();
    if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return trimmed
            .parse()
            .map(Step::Index)
            .map_err(|_| "an index too large".into());
    }
    if trimmed.starts_with('"') && !trimmed[1..].contains('=') {
        return unquote(trimmed).map(Step::Key);
    }
    let Some((field, value)) = split_eq(trimmed) else {
        return Err("`[…]` holds an index, a quoted key or field=value".into());
    };
    let field: Vec<String> = field
        .trim()
        .split('.')
        .map(unquote)
        .collect::<Result<_, _>>()?;
    Ok(Step::Where {
        field,
        value: unquote(value)?,
    })
}

/// `field=value`, the `=` outside quotes.
fn split_eq(s: &str) -> Option<(&str, &str)> {
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '=' if !quoted => return Some((&s[..i], &s[i + 1..])),
            _ => {}
        }
    }
    None
}

/// Whether `node`'s `field` is a scalar whose text is `value`.
fn holds(node: &Node, field: &[String], value: &str) -> bool {
    let mut n = node;
    for k in field {
        match n.as_table().and_then(|t| t.get(k)) {
            Some(child) => n = child,
            None => return false,
        }
    }
    match &n.value {
        Value::String(s) | Value::Datetime(s) => s == value,
        Value::Integer(i) => i.to_string() == value,
        Value::Float(f) => f.to_string() == value,
        Value::Boolean(b) => b.to_string() == value,
        Value::Null | Value::Array(_) | Value::Table(_) => false,
    }
}

fn show_steps(steps: &[Step]) -> String {
    let mut out = String::new();
    for s in steps {
        match s {
            Step::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                if k.chars().all(is_bare) {
                    out.push_str(k);
                } else {
                    out.push_str(&format!("[\"{k}\"]"));
                }
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
            Step::Where { field, value } => {
                out.push_str(&format!("[{}={value}]", field.join(".")));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::FileId;

    fn docs(text: &str) -> Vec<Node> {
        crate::yaml::parse(text, FileId(0), crate::Dialect::Yaml12)
            .expect("valid")
            .documents
            .into_iter()
            .map(|d| d.root)
            .collect()
    }

    fn texts(path: &str, text: &str) -> Vec<String> {
        let docs = docs(text);
        let refs: Vec<&Node> = docs.iter().collect();
        KeyPath::parse(path)
            .expect("valid path")
            .select(&refs)
            .iter()
            .map(|s| text[s.node.span.range()].to_string())
            .collect()
    }

    const KUSTOMIZATION: &str =
        "images:\n- name: storefront\n  newTag: 1.3.0\n- name: backend\n  newTag: \"2.0.0\"\n";

    #[test]
    fn paths_select_by_key_index_field_and_document() {
        assert_eq!(
            texts("images[name=storefront].newTag", KUSTOMIZATION),
            ["1.3.0"]
        );
        assert_eq!(texts("images[1].newTag", KUSTOMIZATION), ["\"2.0.0\""]);
        assert_eq!(
            texts("images[name=nothing].newTag", KUSTOMIZATION),
            Vec::<String>::new()
        );
        assert_eq!(texts("images.newTag", KUSTOMIZATION), Vec::<String>::new());
        let apps = "metadata:\n  name: backend-dev\nspec: {x: a}\n---\nmetadata:\n  name: backend-prod\nspec: {x: b}\n";
        assert_eq!(texts("spec.x", apps), ["a", "b"]);
        assert_eq!(texts("[metadata.name=backend-prod].spec.x", apps), ["b"]);
        assert_eq!(
            texts(
                "a[\"app.kubernetes.io/version\"]",
                "a:\n  app.kubernetes.io/version: v1\n"
            ),
            ["v1"]
        );
        assert_eq!(texts("l[k=\"a b\"].v", "l:\n- {k: a b, v: 1}\n"), ["1"]);
    }

    #[test]
    fn bad_paths_say_where() {
        for (bad, at) in [
            ("", 0),
            ("a..b", 2),
            ("a.", 2),
            ("a[", 1),
            ("a[b]", 2),
            ("[x=\"y]", 0),
            ("a b", 1),
        ] {
            let e = KeyPath::parse(bad).expect_err(bad);
            assert_eq!(e.at, at, "{bad}: {e}");
        }
    }

    #[test]
    fn how_far_a_path_gets() {
        let docs = docs(KUSTOMIZATION);
        let refs: Vec<&Node> = docs.iter().collect();
        let p = KeyPath::parse("images[name=storefrnt].newTag").expect("valid");
        assert_eq!(p.reached(&refs), "images");
    }
}
