//! The fast path for the TOML configuration is written in: `[table]` and `[[array]]`
//! headers of bare keys, `key = value` lines, comments, and values that are basic strings
//! without escapes, decimal integers, plain decimal floats, booleans, and arrays of those
//! (over several lines, with comments). Such a file is read straight into the tree in one
//! pass, with the same nodes and spans the toml crate gives; anything else (an escape, a
//! literal or multi-line string, a dotted key, an inline table, a nested array, a date, a
//! key or table defined twice, a syntax error) answers `None`, and the caller reads the file with the toml crate, which also words
//! the errors. Parsing was a third of `config validate`'s time on a tree of 4,000 files
//! (issue 24); the tests compare both readers on generated files.

use std::collections::HashSet;

use crate::node::{FileId, Node, Span, Table, Value};

/// Deeper headers than this are left to the toml crate.
const MAX_DEPTH: usize = 32;

/// The file's tree, or `None` when it is not in the plain subset (or not valid TOML).
pub fn parse(text: &str, file: FileId) -> Option<Node> {
    let b = text.as_bytes();
    // Control characters are errors everywhere but in multi-line strings (none here),
    // except tab; `\r` (CRLF files) and a byte-order mark are left to the toml crate.
    if b.iter()
        .any(|&c| (c < 0x20 && c != b'\t' && c != b'\n') || c == 0x7f)
        || text.starts_with('\u{feff}')
    {
        return None;
    }
    let mut p = Reader {
        text,
        b,
        i: 0,
        file,
    };
    let mut root = Table::new();
    // The current table's path, and every table a header defined (a second header for
    // one is an error).
    let mut current: Vec<&str> = Vec::new();
    let mut defined: HashSet<Vec<&str>> = HashSet::new();
    loop {
        p.skip_ws();
        let Some(&c) = b.get(p.i) else { break };
        match c {
            b'\n' => p.i += 1,
            b'#' => p.skip_comment(),
            b'[' => {
                let (keys, span, array) = p.header()?;
                p.end_of_line()?;
                if array {
                    append(&mut root, &keys, span, file)?;
                } else {
                    define(&mut root, &keys, span, file, &mut defined)?;
                }
                current = keys.into_iter().map(|(k, _)| k).collect();
            }
            _ => {
                let (key, key_span) = p.bare_key()?;
                p.skip_ws();
                if b.get(p.i) != Some(&b'=') {
                    return None;
                }
                p.i += 1;
                p.skip_ws();
                let mut node = p.value(true)?;
                node.key = key_span;
                p.end_of_line()?;
                let table = table_at(&mut root, &current)?;
                if table.contains_key(key) {
                    return None;
                }
                table.insert(key.to_string(), node);
            }
        }
    }
    Some(Node::new(Value::Table(root), file, Span::new(0..0)))
}

/// Whether a node is an array of tables (`[[a]]`): its key is inside its span, the
/// header's, where a value's key is before it.
fn is_array_of_tables(node: &Node) -> bool {
    matches!(node.value, Value::Array(_)) && node.key.start > node.span.start
}

/// The table a step of a path leads to: a table, or an array of tables' last one.
fn step(node: &mut Node) -> Option<&mut Table> {
    let aot = is_array_of_tables(node);
    match &mut node.value {
        Value::Table(t) => Some(t),
        Value::Array(items) if aot => match &mut items.last_mut()?.value {
            Value::Table(t) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

/// The table at `path` (every step a table or an array of tables: headers made them so).
fn table_at<'t>(root: &'t mut Table, path: &[&str]) -> Option<&'t mut Table> {
    let mut t = root;
    for k in path {
        t = step(t.get_mut(*k)?)?;
    }
    Some(t)
}

/// The table a header's leading keys lead to, made (as their first mention's key) where
/// missing.
fn parents<'t>(root: &'t mut Table, keys: &[(&str, Span)], file: FileId) -> Option<&'t mut Table> {
    let mut t = root;
    for (k, key_span) in keys {
        let node = t.entry((*k).to_string()).or_insert_with(|| Node {
            value: Value::Table(Table::new()),
            file,
            key: *key_span,
            span: *key_span,
        });
        t = step(node)?;
    }
    Some(t)
}

/// A header `[[a.b]]` at `span`: a new table at the end of the array `b`, which the first
/// such header makes (with its key and place, as the toml crate does).
fn append(root: &mut Table, keys: &[(&str, Span)], span: Span, file: FileId) -> Option<()> {
    let (last, leading) = keys.split_last()?;
    let t = parents(root, leading, file)?;
    let table = Node::new(Value::Table(Table::new()), file, span);
    match t.get_mut(last.0) {
        None => {
            t.insert(
                last.0.to_string(),
                Node {
                    value: Value::Array(vec![table]),
                    file,
                    key: last.1,
                    span,
                },
            );
        }
        Some(node) if is_array_of_tables(node) => match &mut node.value {
            Value::Array(items) => items.push(table),
            _ => return None,
        },
        Some(_) => return None,
    }
    Some(())
}

/// A header `[a.b.c]` at `span`: `a` and `b` made (as their first mention's key) when
/// missing, `c` made or, when only a header below it made it so far, given this header's
/// place, as the toml crate does.
fn define<'k>(
    root: &mut Table,
    keys: &[(&'k str, Span)],
    span: Span,
    file: FileId,
    defined: &mut HashSet<Vec<&'k str>>,
) -> Option<()> {
    let (last, leading) = keys.split_last()?;
    let t = parents(root, leading, file)?;
    let path: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
    if !defined.insert(path) {
        return None;
    }
    match t.get_mut(last.0) {
        None => {
            t.insert(
                last.0.to_string(),
                Node {
                    value: Value::Table(Table::new()),
                    file,
                    key: last.1,
                    span,
                },
            );
        }
        Some(node) if node.as_table().is_some() => {
            node.key = last.1;
            node.span = span;
        }
        Some(_) => return None,
    }
    Some(())
}

/// A header's keys, each with its span.
type Keys<'a> = Vec<(&'a str, Span)>;

struct Reader<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
    file: FileId,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn skip_comment(&mut self) {
        while !matches!(self.peek(), None | Some(b'\n')) {
            self.i += 1;
        }
    }

    /// Spaces, then a comment, a newline or the end.
    fn end_of_line(&mut self) -> Option<()> {
        self.skip_ws();
        match self.peek() {
            None => Some(()),
            Some(b'\n') => {
                self.i += 1;
                Some(())
            }
            Some(b'#') => {
                self.skip_comment();
                Some(())
            }
            Some(_) => None,
        }
    }

    fn bare_key(&mut self) -> Option<(&'a str, Span)> {
        let start = self.i;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        {
            self.i += 1;
        }
        (self.i > start).then(|| (&self.text[start..self.i], Span::new(start..self.i)))
    }

    /// `[ a . b ]` or `[[ a . b ]]`: its keys, the span from the first `[` to the last
    /// `]`, and whether it is an array's.
    fn header(&mut self) -> Option<(Keys<'a>, Span, bool)> {
        let start = self.i;
        self.i += 1;
        let array = self.peek() == Some(b'[');
        if array {
            self.i += 1;
        }
        let mut keys = Vec::new();
        loop {
            self.skip_ws();
            keys.push(self.bare_key()?);
            if keys.len() > MAX_DEPTH {
                return None;
            }
            self.skip_ws();
            match self.peek()? {
                b'.' => self.i += 1,
                b']' => {
                    self.i += 1;
                    if array {
                        if self.peek() != Some(b']') {
                            return None;
                        }
                        self.i += 1;
                    }
                    return Some((keys, Span::new(start..self.i), array));
                }
                _ => return None,
            }
        }
    }

    /// A value; arrays only where `array` (no nested arrays). Its key span is its own.
    fn value(&mut self, array: bool) -> Option<Node> {
        let start = self.i;
        let value = match self.peek()? {
            b'"' => self.string()?,
            b'[' if array => return self.array(),
            b't' | b'f' => {
                let word = if self.peek() == Some(b't') {
                    "true"
                } else {
                    "false"
                };
                if !self.text[self.i..].starts_with(word) {
                    return None;
                }
                self.i += word.len();
                Value::Boolean(word == "true")
            }
            b'-' | b'0'..=b'9' => self.number()?,
            _ => return None,
        };
        // A value ends at a space, a comment, a newline, a comma or a bracket; `truex`,
        // `1979-05-27` and `1e3` are not plain.
        if !matches!(
            self.peek(),
            None | Some(b' ' | b'\t' | b'\n' | b'#' | b',' | b']')
        ) {
            return None;
        }
        Some(Node::new(value, self.file, Span::new(start..self.i)))
    }

    /// `"…"` without escapes, on one line; `""` is empty, `"""` is left to the toml crate.
    fn string(&mut self) -> Option<Value> {
        let open = self.i + 1;
        let len = self.b[open..]
            .iter()
            .position(|&c| matches!(c, b'"' | b'\\' | b'\n'))?;
        let close = open + len;
        if self.b[close] != b'"' || (len == 0 && self.b.get(close + 1) == Some(&b'"')) {
            return None;
        }
        self.i = close + 1;
        Some(Value::String(self.text[open..close].to_string()))
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?`: an integer that fits in i64, or a plain float.
    fn number(&mut self) -> Option<Value> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let digits = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        let int_len = self.i - digits;
        if int_len == 0 || (int_len > 1 && self.b[digits] == b'0') {
            return None;
        }
        if self.peek() != Some(b'.') {
            return self.text[start..self.i].parse().ok().map(Value::Integer);
        }
        self.i += 1;
        let frac = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        if self.i == frac {
            return None;
        }
        self.text[start..self.i].parse().ok().map(Value::Float)
    }

    /// Spaces, newlines and comments, as between an array's values.
    fn skip_blank(&mut self) {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n') => self.i += 1,
                Some(b'#') => self.skip_comment(),
                _ => return,
            }
        }
    }

    /// `[a, b, …]` of scalars, over lines and with comments, a trailing comma allowed.
    fn array(&mut self) -> Option<Node> {
        let start = self.i;
        self.i += 1;
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            if self.peek()? == b']' {
                break;
            }
            items.push(self.value(false)?);
            self.skip_blank();
            match self.peek()? {
                b',' => self.i += 1,
                b']' => break,
                _ => return None,
            }
        }
        self.i += 1;
        let node = Node::new(Value::Array(items), self.file, Span::new(start..self.i));
        match self.peek() {
            None | Some(b' ' | b'\t' | b'\n' | b'#') => Some(node),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;

    /// What the toml crate reads (the reference), as `super::super::parse` did before.
    fn reference(text: &str) -> Option<Node> {
        super::super::parse_with_toml(text, FileId(3)).ok()
    }

    fn same_as_reference(text: &str) -> Result<bool, TestCaseError> {
        let Some(fast) = parse(text, FileId(3)) else {
            return Ok(false);
        };
        let Some(slow) = reference(text) else {
            return Err(TestCaseError::fail(format!(
                "the fast path read a file the toml crate refuses:\n{text}"
            )));
        };
        prop_assert_eq!(fast, slow, "{}", text);
        Ok(true)
    }

    #[test]
    fn plain_files_read_as_the_toml_crate_reads_them() {
        let text = "#:schema ./schema.json\n# the service's base\n\n[service]\nname = \"svc\" # the name\nport = 8001\nratio = -0.25\nzones = [\"a\", \"b\",]\non = true\n\n[service.image]\ntag = \"1.2.3\"\n[a.b]\nx = 1\n[a]\ny = []\n[ c . d ]\t# spaced\nlist = [\n  1, # one\n  2\n  # end\n]\n[[m.al]]\nx = 1\n[[ m . al ]]\ny = 2\n[m.al.sub]\nz = 3\n[m]\n";
        assert!(same_as_reference(text).expect("same"));
    }

    #[test]
    fn everything_else_is_left_to_the_toml_crate() {
        for text in [
            "a = \"x\\ty\"\n",
            "a = 'lit'\n",
            "a = \"\"\"\nmulti\"\"\"\n",
            "a.b = 1\n",
            "\"quoted\" = 1\n",
            "a = { b = 1 }\n",
            "a = 1979-05-27\n",
            "a = 1e3\n",
            "a = 1_000\n",
            "a = 0x1f\n",
            "a = +1\n",
            "a = 01\n",
            "a = inf\n",
            "a = [[1], [2]]\n",
            "[[a]]\n[a]\n",
            "a = [1]\n[[a]]\n",
            "[a.b]\n[[a.b]]\n",
            "a = [1, [2]]\n",
            "a = 1\r\n",
            "a = 1\na = 2\n",
            "[a]\n[a]\n",
            "[a]\nb = 1\n[a.b]\n",
            "a = 99999999999999999999\n",
            "a = truex\n",
            "a = 1 b = 2\n",
            "[a] b = 1\n",
            "a =\n",
            "a = \"unterminated\n",
        ] {
            assert!(parse(text, FileId(0)).is_none(), "{text:?}");
        }
    }

    /// Every TOML file of this repository (the environments, the fixtures, the manifests):
    /// where the fast path reads one, the toml crate reads the same; and it reads the
    /// configuration it was made for.
    #[test]
    fn the_repository_s_toml_files_read_the_same() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut stack = vec![root.clone()];
        let (mut fast, mut all) = (0, 0);
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir)
                .expect("a readable directory")
                .flatten()
            {
                let path = entry.path();
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if path.is_dir() {
                    if !name.starts_with('.') && name != "target" {
                        stack.push(path);
                    }
                } else if name.ends_with(".toml") {
                    let text = std::fs::read_to_string(&path).expect("UTF-8");
                    all += 1;
                    if same_as_reference(&text).expect("the same tree") {
                        fast += 1;
                    }
                }
            }
        }
        assert!(all >= 50, "{all} TOML files found");
        let environments = std::fs::read_to_string(root.join("environments/prod.toml"))
            .expect("environments/prod.toml");
        assert!(parse(&environments, FileId(0)).is_some());
        assert!(fast >= 10, "{fast} of {all} read by the fast path");
    }

    /// Lines from the plain subset and from just outside it.
    fn line() -> impl Strategy<Value = String> {
        let key = prop::sample::select(vec!["a", "b", "port", "x-y", "k_1", "9", "true", "é"]);
        let value = prop::sample::select(vec![
            "1",
            "-7",
            "0",
            "-0",
            "01",
            "1_0",
            "0.5",
            "-12.25",
            "1.",
            "1e2",
            "true",
            "false",
            "truex",
            "\"s\"",
            "\"\"",
            "\"a b # c\"",
            "\"é\"",
            "\"q\\\"\"",
            "'l'",
            "\"\"\"m\"\"\"",
            "[]",
            "[ ]",
            "[1, 2]",
            "[1,2,]",
            "[\"a\" , true]",
            "[[1]]",
            "[1 2]",
            "{ a = 1 }",
            "[\n 1, # c\n 2\n]",
            "[ # c\n]",
            "[1\n,2]",
            "[\n\"x\",\n\n]",
            "1979-05-27",
            "inf",
            "nan",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
        ]);
        let header = prop::collection::vec(key.clone(), 1..4);
        prop_oneof![
            (
                key.clone(),
                value,
                prop::sample::select(vec!["", " # c", "\t#'c'", " x"])
            )
                .prop_map(|(k, v, tail)| format!("{k} = {v}{tail}")),
            (
                header,
                prop::sample::select(vec!["", " # h", " k = 1"]),
                any::<bool>(),
                any::<bool>()
            )
                .prop_map(|(keys, tail, spaced, array)| {
                    let sep = if spaced { " . " } else { "." };
                    let (open, close) = if array { ("[[", "]]") } else { ("[", "]") };
                    format!("{open}{}{close}{tail}", keys.join(sep))
                }),
            prop::sample::select(vec!["", "# comment", "  ", "[[t]]", "a.b = 1", "\"k\" = 1"])
                .prop_map(String::from),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Whatever the fast path reads, the toml crate reads the same: the same keys,
        /// values, files and spans.
        #[test]
        fn the_fast_path_agrees_with_the_toml_crate(lines in prop::collection::vec(line(), 0..12), newline_at_end in any::<bool>()) {
            let mut text = lines.join("\n");
            if newline_at_end {
                text.push('\n');
            }
            same_as_reference(&text)?;
        }
    }

    /// The generator reaches both sides: files the fast path reads and files it leaves.
    #[test]
    fn the_generated_files_exercise_both_paths() {
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let strategy = prop::collection::vec(line(), 0..12);
        let (mut fast, mut left) = (0, 0);
        for _ in 0..500 {
            let text = strategy
                .new_tree(&mut runner)
                .expect("a value")
                .current()
                .join("\n");
            if parse(&text, FileId(0)).is_some() {
                fast += 1;
            } else {
                left += 1;
            }
        }
        assert!(fast > 50 && left > 50, "fast {fast}, left {left}");
    }
}
