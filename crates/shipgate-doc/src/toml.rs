//! TOML into the tree, with toml's spans (keys and values).

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::SyntaxError;
use crate::node::{FileId, Node, Span, Table, Value};

mod plain;

/// Parses one TOML file. On syntax errors: every error the parser recovered from. Plain
/// files (most configuration) take a fast path with the same answer ([`plain`]).
pub fn parse(text: &str, file: FileId) -> Result<Node, Vec<SyntaxError>> {
    match plain::parse(text, file) {
        Some(node) => Ok(node),
        None => parse_with_toml(text, file),
    }
}

/// [`parse`] through the toml crate, whatever the file.
fn parse_with_toml(text: &str, file: FileId) -> Result<Node, Vec<SyntaxError>> {
    let (doc, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        let len = text.len();
        return Err(errors
            .iter()
            .map(|e| {
                let span = e.span().unwrap_or(0..0);
                SyntaxError {
                    message: e.message().trim().to_string(),
                    span: Span::new(span.start.min(len)..span.end.min(len)),
                }
            })
            .collect());
    }
    Ok(Node::new(
        Value::Table(table(doc.get_ref(), file)),
        file,
        Span::new(0..0),
    ))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::{get, merge, to_json};

    fn parse_ok(text: &str, file: u32) -> Node {
        parse(text, FileId(file)).expect("valid TOML")
    }

    #[test]
    fn merge_of_parsed_files_keeps_provenance() {
        let base = parse_ok("[a]\nx = 1\ny = [1, 2]\n[a.deep]\nz = \"b\"\n", 0);
        let over = parse_ok("[a]\ny = [3]\n[a.deep]\nw = true\n", 1);
        let merged = merge(&base, &over);
        assert_eq!(get(&merged, "a.x").map(|n| n.file), Some(FileId(0)));
        let y = get(&merged, "a.y").expect("y");
        assert_eq!(y.file, FileId(1));
        assert!(matches!(&y.value, Value::Array(items) if items.len() == 1));
        assert_eq!(get(&merged, "a.deep.z").map(|n| n.file), Some(FileId(0)));
        assert_eq!(get(&merged, "a.deep.w").map(|n| n.file), Some(FileId(1)));
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
        assert!(errors.iter().all(|e| !e.message.is_empty()));
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
