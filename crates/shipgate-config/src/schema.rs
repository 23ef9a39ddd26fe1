//! The JSON Schema check of a merged configuration: schema errors become diagnostics at the
//! node (key or value) that the error's instance path leads to.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::LocationSegment;
use jsonschema::{JsonType, JsonTypeSet};

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
    /// the schema file (boxed: a diagnostic is large and this error rare).
    pub fn compile(name: &str, text: &str) -> Result<Schema, Box<Diagnostic>> {
        let json: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            let line = u32::try_from(e.line().max(1)).unwrap_or(u32::MAX);
            let column = u32::try_from(e.column().max(1)).unwrap_or(u32::MAX);
            Box::new(Diagnostic {
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
            })
        })?;
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&json)
            .or_else(|_| jsonschema::validator_for(&json))
            .map_err(|e| {
                let at = e.instance_path().as_str();
                let at = if at.is_empty() { String::new() } else { format!(" at `{at}`") };
                Box::new(Diagnostic::at_file_start(
                    name,
                    Rule::SchemaInvalid,
                    format!("the schema is not a valid JSON Schema{at}: {}", truncate(&e.to_string(), 300)),
                    Some("check it against the draft 2020-12 meta-schema; remote $ref is not fetched".into()),
                ))
            })?;
        Ok(Schema {
            name: name.to_string(),
            json,
            validator,
        })
    }

    /// Every schema problem of one merged configuration, as (node, rule-free message, hint,
    /// whether the node's key rather than its value is meant), the values read as `reading`
    /// says; `base` is the base file's name, for hints.
    pub fn check<'n>(
        &self,
        merged: &'n Node,
        reading: Reading,
        base: &str,
    ) -> Vec<SchemaProblem<'n>> {
        let mut instance = tree::to_json(merged);
        let mut unknown: Vec<String> = Vec::new();
        if reading == Reading::Spring {
            spring_values(merged, &mut instance, "", &mut unknown);
            // Spring converts text to the type it binds: text that converts is that value.
            let mut conversions = Vec::new();
            for error in self.validator.iter_errors(&instance) {
                if let ValidationErrorKind::Type { kind } = error.kind()
                    && let Some(text) = instance
                        .pointer(error.instance_path().as_str())
                        .and_then(|v| v.as_str())
                    && let Some(value) = convert(text, kind)
                {
                    conversions.push((error.instance_path().as_str().to_string(), value));
                }
            }
            for (pointer, value) in conversions {
                if let Some(slot) = instance.pointer_mut(&pointer) {
                    *slot = value;
                }
            }
        }
        let mut out = Vec::new();
        // Most documents are valid: `is_valid` stops at nothing and builds no error.
        if self.validator.is_valid(&instance) {
            return out;
        }
        for error in self.validator.iter_errors(&instance) {
            let at = error.instance_path().as_str();
            // A placeholder without a default is only known when the application starts.
            if unknown
                .iter()
                .any(|u| at == u || at.starts_with(&format!("{u}/")))
            {
                continue;
            }
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
                        hint: Some(format!("set it in {base}, or in this environment's file")),
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

/// How values are read before the schema sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// As the file says.
    AsWritten,
    /// As Spring Boot binds them: `${NAME:default}` is its default (a placeholder without
    /// one is unknown: no schema problem is reported at it), and text is converted to the
    /// number or boolean the schema asks for when it can be.
    Spring,
}

/// Fills in placeholders' defaults in `instance` (the JSON of `node`), and lists the JSON
/// pointers of values that are only known at start-up.
fn spring_values(
    node: &Node,
    instance: &mut serde_json::Value,
    pointer: &str,
    unknown: &mut Vec<String>,
) {
    match (&node.value, instance) {
        (tree::Value::Table(t), serde_json::Value::Object(o)) => {
            for (k, child) in t {
                if let Some(slot) = o.get_mut(k) {
                    let p = format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1"));
                    spring_values(child, slot, &p, unknown);
                }
            }
        }
        (tree::Value::Array(items), serde_json::Value::Array(slots)) => {
            for (i, (child, slot)) in items.iter().zip(slots.iter_mut()).enumerate() {
                spring_values(child, slot, &format!("{pointer}/{i}"), unknown);
            }
        }
        (tree::Value::String(s), slot) if s.contains("${") => {
            match crate::placeholder::with_defaults(s) {
                Some(v) => *slot = serde_json::Value::String(v),
                None => unknown.push(pointer.to_string()),
            }
        }
        _ => {}
    }
}

/// `text` as the first of `kind`'s types it converts to, as Spring's converters read it.
fn convert(text: &str, kind: &TypeKind) -> Option<serde_json::Value> {
    let types = match kind {
        TypeKind::Single(t) => JsonTypeSet::from(*t),
        TypeKind::Multiple(set) => *set,
    };
    let t = text.trim();
    if types.contains(JsonType::Integer)
        && let Ok(i) = t.parse::<i64>()
    {
        return Some(i.into());
    }
    if types.contains(JsonType::Number)
        && let Ok(f) = t.parse::<f64>()
        && let Some(n) = serde_json::Number::from_f64(f)
    {
        return Some(serde_json::Value::Number(n));
    }
    if types.contains(JsonType::Boolean) {
        match t.to_ascii_lowercase().as_str() {
            "true" | "on" | "yes" | "1" => return Some(true.into()),
            "false" | "off" | "no" | "0" => return Some(false.into()),
            _ => {}
        }
    }
    None
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
            .check(&node, Reading::AsWritten, "base.toml")
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
