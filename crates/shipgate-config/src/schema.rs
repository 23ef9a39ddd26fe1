//! The JSON Schema check of a merged configuration: schema errors become diagnostics at the
//! node (key or value) that the error's instance path leads to.

use jsonschema::error::ValidationErrorKind;
use jsonschema::paths::LocationSegment;

use crate::diagnostic::{Diagnostic, Rule};
use crate::tree::{self, Node};

/// A compiled schema and the JSON it came from (for did-you-mean hints on unknown keys).
pub struct Schema {
    pub name: String,
    json: serde_json::Value,
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schema")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Schema {
    /// Parses and compiles a schema file (draft 2020-12 unless `$schema` says otherwise).
    /// Nothing is fetched: a remote `$ref` is a compile error. Problems are diagnostics in
    /// the schema file.
    pub fn compile(name: &str, text: &str) -> Result<Schema, Diagnostic> {
        let json: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            let line = u32::try_from(e.line().max(1)).unwrap_or(u32::MAX);
            let column = u32::try_from(e.column().max(1)).unwrap_or(u32::MAX);
            Diagnostic {
                line,
                column,
                end_line: line,
                end_column: column,
                ..Diagnostic::at_file_start(
                    name,
                    Rule::SchemaInvalid,
                    format!(
                        "the schema is not valid JSON: {}",
                        strip_position(&e.to_string())
                    ),
                    Some("fix the JSON syntax of the schema file".into()),
                )
            }
        })?;
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&json)
            .or_else(|_| jsonschema::validator_for(&json))
            .map_err(|e| {
                let at = e.instance_path().as_str();
                let at = if at.is_empty() { String::new() } else { format!(" at `{at}`") };
                Diagnostic::at_file_start(
                    name,
                    Rule::SchemaInvalid,
                    format!("the schema is not a valid JSON Schema{at}: {}", truncate(&e.to_string(), 300)),
                    Some("check it against the draft 2020-12 meta-schema; remote $ref is not fetched".into()),
                )
            })?;
        Ok(Schema {
            name: name.to_string(),
            json,
            validator,
        })
    }

    /// Every schema problem of one merged configuration, as (node, rule-free message, hint,
    /// whether the node's key rather than its value is meant).
    pub fn check<'n>(&self, merged: &'n Node) -> Vec<SchemaProblem<'n>> {
        let instance = tree::to_json(merged);
        let mut out = Vec::new();
        for error in self.validator.iter_errors(&instance) {
            let (node, path) = locate(merged, error.instance_path().segments());
            let shown = if path.is_empty() {
                "the configuration".to_string()
            } else {
                format!("`{path}`")
            };
            match error.kind() {
                ValidationErrorKind::AdditionalProperties { unexpected }
                | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
                    let known = self.known_properties(error.schema_path().as_str());
                    for key in unexpected {
                        let child = node.as_table().and_then(|t| t.get(key)).unwrap_or(node);
                        let full = tree::join(&path, key);
                        out.push(SchemaProblem {
                            node: child,
                            at_key: true,
                            message: format!("unknown key `{full}`"),
                            hint: did_you_mean(key, &known),
                        });
                    }
                }
                ValidationErrorKind::Required { property } => {
                    let property = property
                        .as_str()
                        .map_or_else(|| property.to_string(), String::from);
                    out.push(SchemaProblem {
                        node,
                        at_key: true,
                        message: format!("missing required key `{}`", tree::join(&path, &property)),
                        hint: Some("set it in base.toml, or in this environment's overlay".into()),
                    });
                }
                ValidationErrorKind::Type { .. } => {
                    let expected = error.to_string();
                    let expected = expected
                        .rsplit_once(" is not of type ")
                        .map_or("", |(_, t)| t)
                        .to_string();
                    out.push(SchemaProblem {
                        node,
                        at_key: false,
                        message: format!(
                            "{shown} must be of type {expected}, found {}",
                            node.type_name()
                        ),
                        hint: None,
                    });
                }
                _ => out.push(SchemaProblem {
                    node,
                    at_key: false,
                    message: format!("{shown}: {}", truncate(&error.to_string(), 240)),
                    hint: None,
                }),
            }
        }
        out
    }

    /// The `properties` names beside the keyword at `schema_path` (e.g.
    /// `/properties/service/additionalProperties` -> the keys of service's properties).
    fn known_properties(&self, schema_path: &str) -> Vec<String> {
        let parent = schema_path.rsplit_once('/').map_or("", |(p, _)| p);
        self.json
            .pointer(&format!("{parent}/properties"))
            .and_then(|p| p.as_object())
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    }
}

/// One schema problem before it is placed in a file.
#[derive(Debug)]
pub struct SchemaProblem<'n> {
    pub node: &'n Node,
    pub at_key: bool,
    pub message: String,
    pub hint: Option<String>,
}

/// The deepest node along an instance path, and its dotted path (array indexes as `[i]`).
fn locate<'n, 's>(
    root: &'n Node,
    segments: impl Iterator<Item = LocationSegment<'s>>,
) -> (&'n Node, String) {
    let mut node = root;
    let mut path = String::new();
    for segment in segments {
        let next = match (&node.value, &segment) {
            (tree::Value::Table(t), LocationSegment::Property(key)) => t.get(key.as_ref()),
            (tree::Value::Array(items), LocationSegment::Index(i)) => items.get(*i),
            _ => None,
        };
        let Some(next) = next else { break };
        match segment {
            LocationSegment::Property(key) => path = tree::join(&path, &key),
            LocationSegment::Index(i) => path.push_str(&format!("[{i}]")),
        }
        node = next;
    }
    (node, path)
}

fn did_you_mean(unknown: &str, known: &[String]) -> Option<String> {
    match shipgate_stdx::text::closest(unknown, known.iter().map(String::as_str)) {
        Some(name) => Some(format!("did you mean `{name}`?")),
        None if !known.is_empty() && known.len() <= 12 => {
            Some(format!("known keys here: {}", known.join(", ")))
        }
        None => Some("remove it, or add it to the schema".into()),
    }
}

/// serde_json appends " at line L column C"; the diagnostic has its own position.
fn strip_position(message: &str) -> String {
    message
        .rsplit_once(" at line ")
        .map_or(message, |(m, _)| m)
        .to_string()
}

/// At most `max` characters, with an ellipsis when cut.
pub fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::FileId;

    const SCHEMA: &str = r#"{
      "type": "object", "additionalProperties": false, "required": ["service"],
      "properties": { "service": { "type": "object", "additionalProperties": false, "required": ["name"],
        "properties": { "name": {"type": "string"}, "replicas": {"type": "integer", "minimum": 1} } } }
    }"#;

    fn problems(toml: &str) -> Vec<(String, String)> {
        let schema = Schema::compile("schema.json", SCHEMA).expect("valid schema");
        let node = tree::parse(toml, FileId(0)).expect("valid toml");
        schema
            .check(&node)
            .into_iter()
            .map(|p| {
                let span = if p.at_key { p.node.key } else { p.node.span };
                (toml[span.range()].to_string(), p.message)
            })
            .collect()
    }

    #[test]
    fn errors_point_at_the_offending_text() {
        assert_eq!(
            problems("[service]\nname = \"a\"\nreplicas = 0\n"),
            [(
                "0".to_string(),
                "`service.replicas`: 0 is less than the minimum of 1".to_string()
            )]
        );
        assert_eq!(
            problems("[service]\nname = 1\n"),
            [(
                "1".to_string(),
                "`service.name` must be of type \"string\", found integer".to_string()
            )]
        );
        assert_eq!(
            problems("[service]\nname = \"a\"\nreplica = 2\n"),
            [(
                "replica".to_string(),
                "unknown key `service.replica`".to_string()
            )]
        );
        assert_eq!(
            problems("[service]\nreplicas = 2\n"),
            [(
                "service".to_string(),
                "missing required key `service.name`".to_string()
            )]
        );
    }

    #[test]
    fn invalid_schema_files_are_diagnostics() {
        let d = Schema::compile("s.json", "{\n  \"type\": \n}").expect_err("bad json");
        assert_eq!((d.rule, d.line), (Rule::SchemaInvalid, 3));
        let d = Schema::compile("s.json", r#"{"type": "strnig"}"#).expect_err("bad schema");
        assert_eq!(d.rule, Rule::SchemaInvalid);
        let d = Schema::compile("s.json", r#"{"$ref": "https://example.com/x.json"}"#)
            .expect_err("remote ref");
        assert_eq!(d.rule, Rule::SchemaInvalid);
    }
}
