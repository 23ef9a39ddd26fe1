//! JSON into the tree, strictly (no comments, no trailing commas), with byte spans from
//! jsonc-parser. Nesting deeper than [`crate::yaml::MAX_DEPTH`] is refused before the
//! (recursive) parser sees it; duplicate keys are reported.

use jsonc_parser::ast::{ObjectPropName, Value as J};
use jsonc_parser::{CollectOptions, ParseOptions};

use crate::node::{FileId, Node, Span, Table, Value};
use crate::yaml::MAX_DEPTH;
use crate::{Problem, ProblemKind, SyntaxError};

/// Parses one JSON document; problems are duplicate keys.
pub fn parse(text: &str, file: FileId) -> Result<(Node, Vec<Problem>), Vec<SyntaxError>> {
    if let Some(at) = too_deep(text) {
        return Err(vec![SyntaxError {
            message: format!("nesting deeper than {MAX_DEPTH} levels is not supported"),
            span: Span::new(at..at + 1),
        }]);
    }
    let strict = ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    let parsed =
        jsonc_parser::parse_to_ast(text, &CollectOptions::default(), &strict).map_err(|e| {
            let r = e.range();
            vec![SyntaxError {
                message: e.kind().to_string(),
                span: Span::new(r.start..r.end),
            }]
        })?;
    let Some(value) = parsed.value else {
        return Err(vec![SyntaxError {
            message: "the file holds no JSON value".into(),
            span: Span::new(0..0),
        }]);
    };
    let mut problems = Vec::new();
    let root = node(&value, file, &mut problems, text);
    Ok((root, problems))
}

fn range(r: jsonc_parser::common::Range) -> Span {
    Span::new(r.start..r.end)
}

fn node(v: &J<'_>, file: FileId, problems: &mut Vec<Problem>, text: &str) -> Node {
    let (value, span) = match v {
        J::StringLit(s) => (Value::String(s.value.to_string()), range(s.range)),
        J::NumberLit(n) => {
            let is_int = !n.value.contains(['.', 'e', 'E']);
            let value = match (is_int, n.value.parse::<i64>()) {
                (true, Ok(i)) => Value::Integer(i),
                _ => Value::Float(n.value.parse().unwrap_or(f64::NAN)),
            };
            (value, range(n.range))
        }
        J::BooleanLit(b) => (Value::Boolean(b.value), range(b.range)),
        J::NullKeyword(n) => (Value::Null, range(n.range)),
        J::Array(a) => (
            Value::Array(
                a.elements
                    .iter()
                    .map(|e| node(e, file, problems, text))
                    .collect(),
            ),
            range(a.range),
        ),
        J::Object(o) => {
            let mut table = Table::new();
            for prop in &o.properties {
                let (name, key_span) = match &prop.name {
                    ObjectPropName::String(s) => (s.value.to_string(), range(s.range)),
                    ObjectPropName::Word(w) => (w.value.to_string(), range(w.range)),
                };
                let mut child = node(&prop.value, file, problems, text);
                child.key = key_span;
                if let Some(previous) = table.get(&name) {
                    let (line, _) =
                        shipgate_stdx::text::line_col(text, previous.key.start as usize);
                    problems.push(Problem {
                        kind: ProblemKind::DuplicateKey,
                        span: key_span,
                        message: format!(
                            "`{name}` is set twice in this object (first on line {line}); readers disagree on which one counts"
                        ),
                        hint: "remove one of them".into(),
                    });
                }
                table.insert(name, child);
            }
            (Value::Table(table), range(o.range))
        }
    };
    Node::new(value, file, span)
}

/// The offset of the first bracket deeper than [`MAX_DEPTH`], outside strings.
fn too_deep(text: &str) -> Option<usize> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, b) in text.bytes().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::get;

    #[test]
    fn values_and_spans() {
        let text = "{\n  \"service\": {\"name\": \"shop\", \"replicas\": 3, \"ratio\": 0.5, \"on\": true, \"x\": null}\n}";
        let (root, problems) = parse(text, FileId(1)).expect("valid");
        assert!(problems.is_empty());
        let name = get(&root, "service.name").expect("name");
        assert_eq!(&text[name.key.range()], "\"name\"");
        assert_eq!(&text[name.span.range()], "\"shop\"");
        assert_eq!(
            get(&root, "service.replicas").map(|n| n.value.clone()),
            Some(Value::Integer(3))
        );
        assert_eq!(
            get(&root, "service.ratio").map(|n| n.value.clone()),
            Some(Value::Float(0.5))
        );
        assert_eq!(
            get(&root, "service.x").map(|n| n.value.clone()),
            Some(Value::Null)
        );
    }

    #[test]
    fn strict_json_only() {
        for bad in [
            "{\"a\": 1,}",
            "{a: 1}",
            "// c\n{}",
            "{'a': 1}",
            "",
            "{\"a\": 0x1}",
        ] {
            assert!(parse(bad, FileId(0)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn duplicates_and_depth() {
        let (_, problems) = parse("{\"a\": 1,\n \"a\": 2}", FileId(0)).expect("parses");
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("first on line 1"));
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse(&deep, FileId(0)).is_err());
        let in_string = format!("{{\"a\": \"{}\"}}", "[".repeat(1000));
        assert!(parse(&in_string, FileId(0)).is_ok());
    }
}
