//! One value of a file set to new text: the span the parser gave is replaced by the new value
//! written in the style the old one had (plain, single- or double-quoted; TOML basic or
//! literal; JSON string), and every other byte is kept: comments, quoting elsewhere, order,
//! indentation, document separators. The result is read back before it is returned: the
//! path must give exactly the new text, and every other value of every document must be what
//! it was (an anchor shared by an alias, say, would change two places: refused).

use crate::node::{Node, Value, to_json};
use crate::path::{Concrete, KeyPath, Selected};
use crate::scalar::{Dialect, resolve_plain};
use crate::{Format, parse};

/// Why a value cannot be read or set. Lines are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("{line}:{column}: not valid {format}: {message}")]
    Syntax {
        format: &'static str,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("`{key}` selects nothing{}", if reached.is_empty() { String::new() } else { format!(" (`{reached}` exists; what follows it does not)") })]
    NotFound { key: String, reached: String },
    #[error("`{key}` selects {} places (lines {}); it must select one", lines.len(), lines.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))]
    Ambiguous { key: String, lines: Vec<usize> },
    #[error("`{key}` is {found} on line {line}, not a single value")]
    NotScalar {
        key: String,
        found: &'static str,
        line: usize,
    },
    #[error("`{key}` on line {line} is a block scalar (`|` or `>`)")]
    BlockScalar { key: String, line: usize },
    #[error(
        "setting `{key}` on line {line} would change other values too (an anchor with aliases?)"
    )]
    Shared { key: String, line: usize },
}

impl EditError {
    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            EditError::Syntax { .. } => "fix the file's syntax".into(),
            EditError::NotFound { .. } => {
                "check the key against the file: list items are chosen with [field=value] or [index]".into()
            }
            EditError::Ambiguous { .. } => {
                "narrow the key: choose list items with [field=value], or the document with a leading [metadata.name=…]".into()
            }
            EditError::NotScalar { .. } => "point the key at the value itself, one level deeper".into(),
            EditError::BlockScalar { .. } => "write the value on one line, plain or quoted".into(),
            EditError::Shared { .. } => "give the value its own text instead of an alias".into(),
        }
    }
}

/// A value found by [`locate`].
#[derive(Debug, Clone)]
pub struct Located {
    pub value: Value,
    /// Its text as written, properties and quotes included.
    pub raw: String,
    pub line: usize,
}

fn documents(text: &str, format: Format) -> Result<Vec<Node>, EditError> {
    parse(text, format, crate::FileId(0))
        .map(|p| p.documents.into_iter().map(|d| d.root).collect())
        .map_err(|errors| {
            let e = &errors[0];
            let (line, column) = shipgate_stdx::text::line_col(text, e.span.start as usize);
            EditError::Syntax {
                format: format.name(),
                line,
                column,
                message: e.message.clone(),
            }
        })
}

fn line(text: &str, node: &Node) -> usize {
    shipgate_stdx::text::line_col(text, node.span.start as usize).0
}

fn kind(node: &Node) -> &'static str {
    match node.value {
        Value::Table(_) => "a mapping",
        Value::Array(_) => "a list",
        _ => "a value",
    }
}

/// The one place `key` selects in `docs`.
fn one<'n>(text: &str, docs: &'n [Node], key: &KeyPath) -> Result<Selected<'n>, EditError> {
    let refs: Vec<&Node> = docs.iter().collect();
    let mut found = key.select(&refs);
    match found.len() {
        0 => Err(EditError::NotFound {
            key: key.to_string(),
            reached: key.reached(&refs),
        }),
        1 => {
            let s = found.remove(0);
            if s.node.is_scalar() {
                Ok(s)
            } else {
                Err(EditError::NotScalar {
                    key: key.to_string(),
                    found: kind(s.node),
                    line: line(text, s.node),
                })
            }
        }
        _ => Err(EditError::Ambiguous {
            key: key.to_string(),
            lines: found.iter().map(|s| line(text, s.node)).collect(),
        }),
    }
}

/// The single value `key` selects in `text`.
pub fn locate(text: &str, format: Format, key: &KeyPath) -> Result<Located, EditError> {
    let docs = documents(text, format)?;
    let s = one(text, &docs, key)?;
    Ok(Located {
        value: s.node.value.clone(),
        raw: text[s.node.span.range()].to_string(),
        line: line(text, s.node),
    })
}

/// `text` with the value at `key` set to the string `new`, every other byte kept.
pub fn set(text: &str, format: Format, key: &KeyPath, new: &str) -> Result<String, EditError> {
    let docs = documents(text, format)?;
    let selected = one(text, &docs, key)?;
    let span = selected.node.span;
    let at_line = line(text, selected.node);
    let raw = &text[span.range()];
    let mut expected: Vec<serde_json::Value> = docs.iter().map(to_json).collect();
    if let Some(slot) = pointer(&mut expected[selected.document], &selected.way) {
        *slot = serde_json::Value::String(new.to_string());
    }
    let candidates: Vec<String> = match format {
        Format::Json => vec![json_string(new)],
        Format::Toml => vec![toml_token(raw, new)],
        Format::Yaml(_) => {
            let (props, token) = split_properties(raw);
            if crate::yaml::is_block_scalar_at(text, span.start as usize) {
                return Err(EditError::BlockScalar {
                    key: key.to_string(),
                    line: at_line,
                });
            }
            let quoted = double_quoted(new);
            let mut c = Vec::new();
            match token.chars().next() {
                Some('"') => c.push(format!("{props}{quoted}")),
                Some('\'') => c.push(format!("{props}'{}'", new.replace('\'', "''"))),
                _ => {
                    if plain_ok(new) {
                        c.push(format!("{props}{new}"));
                    }
                    c.push(format!("{props}{quoted}"));
                }
            }
            c
        }
    };
    let (start, end, pad) = if span.start == span.end {
        // An empty value (`newTag:`): after the `:`, with a space.
        let at = span.start as usize;
        let after = if text[at..].starts_with(':') {
            at + 1
        } else {
            at
        };
        (after, after, " ")
    } else {
        (span.start as usize, span.end as usize, "")
    };
    for token in candidates {
        let out = format!("{}{pad}{token}{}", &text[..start], &text[end..]);
        if reads_back(&out, format, key, new, &expected) {
            return Ok(out);
        }
    }
    Err(EditError::Shared {
        key: key.to_string(),
        line: at_line,
    })
}

/// Whether `out` gives `new` at `key` and otherwise what `expected` says.
fn reads_back(
    out: &str,
    format: Format,
    key: &KeyPath,
    new: &str,
    expected: &[serde_json::Value],
) -> bool {
    let Ok(docs) = documents(out, format) else {
        return false;
    };
    let Ok(s) = one(out, &docs, key) else {
        return false;
    };
    s.node.value == Value::String(new.to_string())
        && docs.len() == expected.len()
        && docs.iter().map(to_json).zip(expected).all(|(a, b)| a == *b)
}

fn pointer<'v>(
    root: &'v mut serde_json::Value,
    way: &[Concrete],
) -> Option<&'v mut serde_json::Value> {
    way.iter().try_fold(root, |v, step| match step {
        Concrete::Key(k) => v.get_mut(k.as_str()),
        Concrete::Index(i) => v.get_mut(*i),
    })
}

/// `&anchor !tag ` in front of a YAML scalar, and the scalar's own text.
fn split_properties(raw: &str) -> (&str, &str) {
    let mut rest = raw;
    loop {
        let trimmed = rest.trim_start();
        if trimmed.starts_with(['&', '!']) {
            let end = trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
            rest = &trimmed[end..];
        } else {
            let props = &raw[..raw.len() - trimmed.len()];
            return (props, trimmed);
        }
    }
}

/// Whether `v` can be written as a plain YAML scalar that every reader takes for this text.
fn plain_ok(v: &str) -> bool {
    let string = |d| matches!(resolve_plain(v, d), Value::String(_));
    !v.is_empty()
        && v == v.trim()
        && string(Dialect::Yaml12)
        && string(Dialect::Helm)
        && !v.starts_with([
            '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%',
            '@', '`',
        ])
        && !v.contains(": ")
        && !v.contains(" #")
        && !v.ends_with(':')
        && !v.contains([',', '[', ']', '{', '}'])
        && !v.chars().any(char::is_control)
}

fn double_quoted(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_string(v: &str) -> String {
    serde_json::Value::String(v.to_string()).to_string()
}

/// A TOML string in the old value's style: a literal string stays literal when it can.
fn toml_token(raw: &str, new: &str) -> String {
    let literal_ok = !new.contains('\'') && !new.chars().any(char::is_control);
    if raw.starts_with('\'') && !raw.starts_with("'''") && literal_ok {
        format!("'{new}'")
    } else {
        double_quoted(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> KeyPath {
        KeyPath::parse(k).expect("valid key")
    }

    fn yaml() -> Format {
        Format::Yaml(Dialect::Yaml12)
    }

    #[track_caller]
    fn check(text: &str, format: Format, k: &str, new: &str, want: &str) {
        let out = set(text, format, &key(k), new).expect("sets");
        assert_eq!(out, want);
        let again = set(&out, format, &key(k), new).expect("sets again");
        assert_eq!(again, out, "idempotent");
    }

    #[test]
    fn yaml_keeps_every_other_byte_and_the_quoting() {
        let text = "# overlay for prod\nimages:\n- name: storefront # the shop\n  newTag: 1.3.0   # set by shipgate\n- name: backend\n  newTag: \"2.0.0\"\n- name: worker\n  newTag: '3.0.0'\n";
        check(
            text,
            yaml(),
            "images[name=storefront].newTag",
            "1.4.0",
            &text.replace("1.3.0", "1.4.0"),
        );
        check(
            text,
            yaml(),
            "images[name=backend].newTag",
            "2.1.0",
            &text.replace("2.0.0", "2.1.0"),
        );
        check(
            text,
            yaml(),
            "images[name=worker].newTag",
            "it's",
            &text.replace("'3.0.0'", "'it''s'"),
        );
    }

    #[test]
    fn a_comment_after_a_quoted_value_stays() {
        let text = "image:\n  tag: 'app_version'   # set by shipgate\n  pull: \"0.9.0\"   # c\n";
        check(
            text,
            yaml(),
            "image.tag",
            "1.0.0",
            &text.replace("'app_version'", "'1.0.0'"),
        );
        check(
            text,
            yaml(),
            "image.pull",
            "1.0.0",
            &text.replace("\"0.9.0\"", "\"1.0.0\""),
        );
    }

    #[test]
    fn a_plain_value_that_would_read_as_a_number_or_boolean_is_quoted() {
        let text = "tag: 1.3.0\n";
        check(text, yaml(), "tag", "1.10", "tag: \"1.10\"\n");
        check(text, yaml(), "tag", "on", "tag: \"on\"\n");
        check(
            text,
            yaml(),
            "tag",
            "ghcr.io/acme/shop:1.4.0",
            "tag: ghcr.io/acme/shop:1.4.0\n",
        );
        check(text, yaml(), "tag", "a: b", "tag: \"a: b\"\n");
    }

    #[test]
    fn documents_separators_crlf_and_empty_values() {
        let text = "a: 1\r\n---\r\nspec:\r\n  tag:\r\n  other: x # keep\r\n";
        check(
            text,
            yaml(),
            "spec.tag",
            "1.4.0",
            "a: 1\r\n---\r\nspec:\r\n  tag: 1.4.0\r\n  other: x # keep\r\n",
        );
    }

    #[test]
    fn argo_cd_images_and_flow_lists() {
        let text = "spec:\n  source:\n    kustomize:\n      images: [\"ghcr.io/acme/backend:1.3.0\", other:2]\n";
        check(
            text,
            yaml(),
            "spec.source.kustomize.images[0]",
            "ghcr.io/acme/backend:1.4.0",
            &text.replace("1.3.0", "1.4.0"),
        );
    }

    #[test]
    fn toml_and_json() {
        let toml = "[service.image]\ntag = '1.3.0' # pinned\nname = \"x\"\n";
        check(
            toml,
            Format::Toml,
            "service.image.tag",
            "1.4.0",
            &toml.replace("1.3.0", "1.4.0"),
        );
        check(
            toml,
            Format::Toml,
            "service.image.name",
            "a\"b",
            "[service.image]\ntag = '1.3.0' # pinned\nname = \"a\\\"b\"\n",
        );
        let json = "{\n  \"image\": {\"tag\": \"1.3.0\", \"n\": 3}\n}\n";
        check(
            json,
            Format::Json,
            "image.tag",
            "1.4.0",
            &json.replace("1.3.0", "1.4.0"),
        );
        check(
            json,
            Format::Json,
            "image.n",
            "1.4.0",
            &json.replace("3}", "\"1.4.0\"}"),
        );
    }

    #[test]
    fn nothing_two_places_a_table_or_an_alias_is_refused() {
        let text = "images:\n- name: a\n  newTag: 1\n- name: a\n  newTag: 2\n";
        let e = set(text, yaml(), &key("images[name=a].newTag"), "3").expect_err("two");
        assert_eq!(
            e,
            EditError::Ambiguous {
                key: "images[name=a].newTag".into(),
                lines: vec![3, 5]
            }
        );
        let e = set(text, yaml(), &key("images[name=b].newTag"), "3").expect_err("none");
        assert_eq!(
            e.to_string(),
            "`images[name=b].newTag` selects nothing (`images` exists; what follows it does not)"
        );
        let e = set(text, yaml(), &key("images"), "3").expect_err("list");
        assert!(matches!(e, EditError::NotScalar { line: 2, .. }), "{e:?}");
        let shared = "a: &t 1.3.0\nb: *t\n";
        let e = set(shared, yaml(), &key("a"), "1.4.0").expect_err("shared");
        assert!(matches!(e, EditError::Shared { .. }), "{e:?}");
        let block = "a: |\n  x\n";
        assert!(matches!(
            set(block, yaml(), &key("a"), "y"),
            Err(EditError::BlockScalar { .. })
        ));
        let bad = "a: [\n";
        assert!(matches!(
            set(bad, yaml(), &key("a"), "y"),
            Err(EditError::Syntax { line: 2, .. })
        ));
    }

    #[test]
    fn properties_are_kept() {
        check("a: !!str 1.3.0\n", yaml(), "a", "1.4.0", "a: !!str 1.4.0\n");
    }

    proptest::proptest! {
        #[test]
        fn any_text_round_trips_and_nothing_else_moves(new in "\\PC{0,30}") {
            let text = "# c\nx: 1\nimages:\n- name: shop\n  newTag: 1.3.0 # t\ny: [1, 2]\n";
            let out = set(text, yaml(), &key("images[name=shop].newTag"), &new).expect("sets");
            let l = locate(&out, yaml(), &key("images[name=shop].newTag")).expect("reads");
            proptest::prop_assert_eq!(l.value, Value::String(new.clone()));
            proptest::prop_assert!(out.starts_with("# c\nx: 1\nimages:\n- name: shop\n  newTag: "));
            proptest::prop_assert!(out.ends_with(" # t\ny: [1, 2]\n"));
            for format in [Format::Json, Format::Toml] {
                let text = if format == Format::Json { "{\"a\": {\"b\": \"1\"}, \"c\": 2}" } else { "c = 2\n[a]\nb = '1' # k\n" };
                let out = set(text, format, &key("a.b"), &new).expect("sets");
                let l = locate(&out, format, &key("a.b")).expect("reads");
                proptest::prop_assert_eq!(l.value, Value::String(new.clone()));
            }
        }
    }
}
