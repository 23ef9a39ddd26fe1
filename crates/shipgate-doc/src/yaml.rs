//! YAML into the tree: every document of a file (`---`), anchors and aliases, merge keys
//! (`<<`), scalars resolved as the file's reader resolves them ([`Dialect`]), and the byte
//! spans of keys and values. saphyr-parser gives events with character positions; they are
//! turned into byte offsets here.
//!
//! Refused, with the place: syntax errors, keys that are lists or mappings, an alias used as
//! a key, nesting deeper than [`MAX_DEPTH`], and aliases that would expand to more nodes than
//! the file could hold by itself (the "billion laughs"). Reported beside the tree: duplicate
//! keys (an error: Spring Boot refuses them) and, for YAML 1.2 readers, plain scalars that a
//! YAML 1.1 reader would take for something else (`on`, `0777`, `1:30`).

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Tag};

use crate::node::{FileId, Node, Span, Table, Value};
use crate::scalar::{self, Dialect};
use crate::{Problem, ProblemKind, SyntaxError};

/// Deeper nesting than this is refused: every consumer of the tree recurses.
pub const MAX_DEPTH: usize = 256;

/// One document of a YAML stream.
#[derive(Debug, Clone)]
pub struct Document {
    /// The document's value (`Null` for an empty document).
    pub root: Node,
    /// From its first token (or `---`) to its end.
    pub span: Span,
}

/// A parsed YAML file.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub documents: Vec<Document>,
    /// Duplicate keys, and readings that differ between YAML 1.1 and 1.2.
    pub problems: Vec<Problem>,
}

/// Character index to byte offset, for texts that are not all ASCII.
struct Offsets {
    bytes: Option<Vec<u32>>,
    len: usize,
}

impl Offsets {
    fn new(text: &str) -> Offsets {
        let bytes = (!text.is_ascii()).then(|| {
            let mut v: Vec<u32> = text
                .char_indices()
                .map(|(i, _)| u32::try_from(i).unwrap_or(u32::MAX))
                .collect();
            v.push(u32::try_from(text.len()).unwrap_or(u32::MAX));
            v
        });
        Offsets {
            bytes,
            len: text.len(),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.bytes {
            None => char_index.min(self.len),
            Some(v) => v.get(char_index).map_or(self.len, |b| *b as usize),
        }
    }

    fn span(&self, s: saphyr_parser::Span) -> Span {
        Span::new(self.byte(s.start.index())..self.byte(s.end.index()))
    }
}

enum Frame {
    Map {
        table: Table,
        start: usize,
        anchor: usize,
        /// The key waiting for its value: text and span.
        key: Option<(String, Span)>,
        /// `<<` values, in order.
        merges: Vec<Node>,
    },
    Seq {
        items: Vec<Node>,
        start: usize,
        anchor: usize,
    },
}

struct Builder<'t> {
    file: FileId,
    dialect: Dialect,
    offsets: Offsets,
    text: &'t str,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    root: Option<Node>,
    /// Nodes made so far, aliases counted at their expanded size.
    nodes: usize,
    max_nodes: usize,
    out: Parsed,
}

fn error(message: impl Into<String>, span: Span) -> Vec<SyntaxError> {
    vec![SyntaxError {
        message: message.into(),
        span,
    }]
}

/// Parses every document of `text`.
pub fn parse(text: &str, file: FileId, dialect: Dialect) -> Result<Parsed, Vec<SyntaxError>> {
    let mut b = Builder {
        file,
        dialect,
        offsets: Offsets::new(text),
        text,
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        nodes: 0,
        max_nodes: 100_000 + text.len(),
        out: Parsed::default(),
    };
    let mut doc_start = 0;
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| {
            let at = b.offsets.byte(e.marker().index());
            error(e.info().to_string(), Span::new(at..at))
        })?;
        let at = b.offsets.span(span);
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
            Event::DocumentStart(_) => {
                doc_start = at.start as usize;
                b.root = None;
                b.anchors.clear();
            }
            Event::DocumentEnd => {
                let end = (at.end as usize).max(doc_start);
                let span = Span::new(doc_start..end);
                let root = b
                    .root
                    .take()
                    .unwrap_or_else(|| Node::new(Value::Null, file, span));
                b.out.documents.push(Document { root, span });
            }
            Event::Scalar(value, style, anchor, tag) => {
                b.scalar(&value, style, anchor, tag.as_deref(), at)?;
            }
            Event::Alias(id) => {
                let Some(node) = b.anchors.get(&id).cloned() else {
                    return Err(error("an alias to an anchor that is not defined", at));
                };
                b.nodes += node.count();
                if b.nodes > b.max_nodes {
                    return Err(error(
                        "aliases expand to more values than the file could hold (a \"billion laughs\"?)",
                        at,
                    ));
                }
                if matches!(b.stack.last(), Some(Frame::Map { key: None, .. })) {
                    return Err(error("an alias used as a key is not supported", at));
                }
                b.deliver(node, 0)?;
            }
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                if matches!(b.stack.last(), Some(Frame::Map { key: None, .. })) {
                    return Err(error(
                        "a key that is a list or a mapping is not supported: write a plain key",
                        at,
                    ));
                }
                if b.stack.len() >= MAX_DEPTH {
                    return Err(error(
                        format!("nesting deeper than {MAX_DEPTH} levels is not supported"),
                        at,
                    ));
                }
                let start = at.start as usize;
                b.stack.push(if matches!(event, Event::MappingStart(..)) {
                    Frame::Map {
                        table: Table::new(),
                        start,
                        anchor,
                        key: None,
                        merges: Vec::new(),
                    }
                } else {
                    Frame::Seq {
                        items: Vec::new(),
                        start,
                        anchor,
                    }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => b.end(at)?,
        }
    }
    Ok(b.out)
}

impl Builder<'_> {
    fn scalar(
        &mut self,
        value: &str,
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        at: Span,
    ) -> Result<(), Vec<SyntaxError>> {
        // A key: its text is its name.
        if let Some(Frame::Map { key, table, .. }) = self.stack.last_mut()
            && key.is_none()
        {
            let name = value.to_string();
            if let Some(previous) = table.get(&name).filter(|_| name != "<<") {
                let (line, _) =
                    shipgate_stdx::text::line_col(self.text, previous.key.start as usize);
                self.out.problems.push(Problem {
                    kind: ProblemKind::DuplicateKey,
                    span: at,
                    message: format!("`{name}` is set twice in this mapping (first on line {line}); readers disagree on which one counts"),
                    hint: "remove one of them".into(),
                });
            }
            *key = Some((name, at));
            return Ok(());
        }
        self.nodes += 1;
        // saphyr's span of a quoted scalar runs on to the next token (a comment included):
        // it ends at the closing quote.
        let at = match style {
            ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
                quoted_end(self.text, at.start as usize)
                    .map_or(at, |end| Span::new(at.start as usize..end))
            }
            _ => at,
        };
        let resolved = match (style, tag) {
            (ScalarStyle::Plain, None) => {
                let v = scalar::resolve_plain(value, self.dialect);
                if self.dialect == Dialect::Yaml12
                    && let Some((v11, v12)) = scalar::ambiguity(value)
                {
                    self.out.problems.push(Problem {
                        kind: ProblemKind::Ambiguous,
                        span: at,
                        message: format!(
                            "`{value}` is {} to YAML 1.2 readers but {} to YAML 1.1 readers (Helm, Spring Boot, older tools)",
                            scalar::show(&v12),
                            scalar::show(&v11)
                        ),
                        hint: format!("quote it (\"{value}\") if you mean the text, or write what you mean plainly (true, 90, 511)"),
                    });
                }
                v
            }
            (_, Some(tag)) if tag.handle == "tag:yaml.org,2002:" => {
                scalar::resolve_tagged(value, &tag.suffix, self.dialect).ok_or_else(|| {
                    error(format!("`!!{}` does not fit `{value}`", tag.suffix), at)
                })?
            }
            (ScalarStyle::Plain, Some(tag)) if !(tag.handle == "!" && tag.suffix.is_empty()) => {
                scalar::resolve_plain(value, self.dialect)
            }
            _ => Value::String(value.to_string()),
        };
        self.deliver(Node::new(resolved, self.file, at), anchor)
    }

    /// Hands a finished node to its parent (or makes it the document's root).
    fn deliver(&mut self, mut node: Node, anchor: usize) -> Result<(), Vec<SyntaxError>> {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                table, key, merges, ..
            }) => {
                let Some((name, key_span)) = key.take() else {
                    return Err(error("a key that is not a scalar", node.span));
                };
                if name == "<<" {
                    let ok = match &node.value {
                        Value::Table(_) => true,
                        Value::Array(items) => items.iter().all(|i| i.as_table().is_some()),
                        _ => false,
                    };
                    if !ok {
                        return Err(error(
                            "a merge key (`<<`) takes a mapping or a list of mappings",
                            node.span,
                        ));
                    }
                    merges.push(node);
                    return Ok(());
                }
                node.key = key_span;
                table.insert(name, node);
            }
        }
        Ok(())
    }

    fn end(&mut self, at: Span) -> Result<(), Vec<SyntaxError>> {
        let Some(frame) = self.stack.pop() else {
            return Err(error("an end without a start", at));
        };
        self.nodes += 1;
        let end = (at.end as usize).max(at.start as usize);
        let (node, anchor) = match frame {
            Frame::Map {
                mut table,
                start,
                anchor,
                merges,
                ..
            } => {
                // Merge keys: explicit keys win, then the sources in the order written.
                for source in merges {
                    let sources = match source.value {
                        Value::Table(t) => vec![t],
                        Value::Array(items) => items
                            .into_iter()
                            .filter_map(|i| match i.value {
                                Value::Table(t) => Some(t),
                                _ => None,
                            })
                            .collect(),
                        _ => Vec::new(),
                    };
                    for t in sources {
                        for (k, v) in t {
                            table.entry(k).or_insert(v);
                        }
                    }
                }
                let span = Span::new(start..end.max(start));
                (Node::new(Value::Table(table), self.file, span), anchor)
            }
            Frame::Seq {
                items,
                start,
                anchor,
            } => {
                let span = Span::new(start..end.max(start));
                (Node::new(Value::Array(items), self.file, span), anchor)
            }
        };
        self.deliver(node, anchor)
    }
}

/// The byte after the closing quote of the quoted scalar whose text (properties such as
/// `&anchor !tag` first) starts at `start`: `''` is a quote inside single quotes, `\"`
/// inside double quotes.
fn quoted_end(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let open = start + text.get(start..)?.find(['\'', '"'])?;
    let quote = bytes[open];
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b if b == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Whether the scalar whose span starts at byte `start` is a block scalar (`|` or `>`), whose
/// span covers only its content.
pub fn is_block_scalar_at(text: &str, start: usize) -> bool {
    let offsets = Offsets::new(text);
    Parser::new_from_str(text)
        .map_while(Result::ok)
        .any(|(event, span)| {
            matches!(
                event,
                Event::Scalar(_, ScalarStyle::Literal | ScalarStyle::Folded, ..)
            ) && offsets.byte(span.start.index()) == start
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::get;

    fn one(text: &str, dialect: Dialect) -> Node {
        let parsed = parse(text, FileId(0), dialect).expect("valid YAML");
        assert_eq!(parsed.documents.len(), 1, "{parsed:?}");
        parsed.documents[0].root.clone()
    }

    #[test]
    fn spans_are_byte_offsets_of_keys_and_values() {
        let text = "# é comment\nservice:\n  name: \"café\"\n  replicas: 3\n";
        let root = one(text, Dialect::Yaml12);
        let name = get(&root, "service.name").expect("name");
        assert_eq!(&text[name.key.range()], "name");
        assert_eq!(&text[name.span.range()], "\"café\"");
        assert_eq!(name.value, Value::String("café".into()));
        let replicas = get(&root, "service.replicas").expect("replicas");
        assert_eq!(&text[replicas.span.range()], "3");
        assert_eq!(replicas.value, Value::Integer(3));
    }

    #[test]
    fn every_document_is_kept_with_its_span() {
        let text = "a: 1\n---\nb: 2\n---\n# nothing\n";
        let parsed = parse(text, FileId(3), Dialect::Spring).expect("valid");
        assert_eq!(parsed.documents.len(), 3);
        assert_eq!(
            get(&parsed.documents[1].root, "b").map(|n| n.file),
            Some(FileId(3))
        );
        assert_eq!(parsed.documents[2].root.value, Value::Null);
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let text = "base: &b\n  x: 1\n  y: 2\nprod:\n  <<: *b\n  y: 3\nlist: [&i 7, *i]\n";
        let root = one(text, Dialect::Yaml12);
        assert_eq!(
            get(&root, "prod.x").map(|n| n.value.clone()),
            Some(Value::Integer(1))
        );
        assert_eq!(
            get(&root, "prod.y").map(|n| n.value.clone()),
            Some(Value::Integer(3))
        );
        assert!(get(&root, "prod.<<").is_none());
        let list = get(&root, "list").expect("list");
        assert!(matches!(&list.value, Value::Array(items) if items.len() == 2));
    }

    #[test]
    fn a_billion_laughs_is_refused() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for c in 'b'..='k' {
            text.push_str(&format!("{c}: &{c} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
            prev = c;
        }
        let errors = parse(&text, FileId(0), Dialect::Yaml12).expect_err("refused");
        assert!(errors[0].message.contains("billion laughs"), "{errors:?}");
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let text = format!("a: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
        let errors = parse(&text, FileId(0), Dialect::Yaml12).expect_err("refused");
        // saphyr's own limit, or ours: either way an error with a place, not a stack overflow.
        assert!(
            errors[0].message.contains("nesting") || errors[0].message.contains("recursion"),
            "{errors:?}"
        );
        assert!(errors[0].span.start > 0);
    }

    #[test]
    fn duplicate_keys_and_ambiguous_scalars_are_reported() {
        let text = "a: 1\nb: on\na: 2\n";
        let parsed = parse(text, FileId(0), Dialect::Yaml12).expect("parses");
        let kinds: Vec<_> = parsed
            .problems
            .iter()
            .map(|p| (p.kind, &text[p.span.range()]))
            .collect();
        assert_eq!(
            kinds,
            [
                (ProblemKind::Ambiguous, "on"),
                (ProblemKind::DuplicateKey, "a")
            ]
        );
        assert!(parsed.problems[1].message.contains("first on line 1"));
        // Spring's reader knows what `on` is: no ambiguity to report.
        let spring = parse(text, FileId(0), Dialect::Spring).expect("parses");
        assert_eq!(spring.problems.len(), 1);
        assert_eq!(
            get(&spring.documents[0].root, "b").map(|n| n.value.clone()),
            Some(Value::Boolean(true))
        );
    }

    #[test]
    fn tags_and_quotes_decide_strings() {
        let root = one(
            "a: !!str 1.10\nb: '1.10'\nc: 1.10\nd: !custom 5\n",
            Dialect::Spring,
        );
        assert_eq!(
            get(&root, "a").map(|n| n.value.clone()),
            Some(Value::String("1.10".into()))
        );
        assert_eq!(
            get(&root, "b").map(|n| n.value.clone()),
            Some(Value::String("1.10".into()))
        );
        assert_eq!(
            get(&root, "c").map(|n| n.value.clone()),
            Some(Value::Float(1.1))
        );
        assert_eq!(
            get(&root, "d").map(|n| n.value.clone()),
            Some(Value::Integer(5))
        );
        let errors = parse("a: !!int abc\n", FileId(0), Dialect::Yaml12).expect_err("refused");
        assert!(errors[0].message.contains("!!int"));
    }

    #[test]
    fn syntax_errors_and_complex_keys_have_places() {
        let text = "a: 1\nb: c: d\n";
        let errors = parse(text, FileId(0), Dialect::Yaml12).expect_err("invalid");
        assert_eq!(
            shipgate_stdx::text::line_col(text, errors[0].span.start as usize).0,
            2
        );
        let errors = parse("? [a]\n: 1\n", FileId(0), Dialect::Yaml12).expect_err("refused");
        assert!(errors[0].message.contains("key that is a list"));
    }

    #[test]
    fn a_quoted_value_ends_at_its_quote_not_at_the_comment() {
        let text = "a: 'it''s'   # c\nb: \"x\\\"y\" # d\nc: [ 'p' , \"q\" ]\n";
        let root = one(text, Dialect::Yaml12);
        let span = |k: &str| text[get(&root, k).expect(k).span.range()].to_string();
        assert_eq!(span("a"), "'it''s'");
        assert_eq!(span("b"), "\"x\\\"y\"");
        let c = get(&root, "c").expect("c");
        let Value::Array(items) = &c.value else {
            panic!("{c:?}")
        };
        assert_eq!(&text[items[0].span.range()], "'p'");
        assert_eq!(&text[items[1].span.range()], "\"q\"");
    }

    #[test]
    fn a_byte_order_mark_and_crlf_keep_offsets_right() {
        let text = "\u{feff}a: x\r\nb: \"é\"\r\n";
        let root = one(text, Dialect::Yaml12);
        let b = get(&root, "b").expect("b");
        assert_eq!(&text[b.span.range()], "\"é\"");
    }
}
