//! The `--json` reference page, generated from the types the commands print (their
//! `schemars::JsonSchema`): each command's object, field by field, and every object it
//! holds.

use std::fmt::Write as _;

use serde_json::{Map, Value};

/// The commands whose `--json` output is a typed value: the command, what it prints, and
/// the JSON Schema of that value.
pub fn shapes() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "shipgate release --dry-run --json",
            "one object: the release plan (without `--dry-run`, the same plan is what the release did)",
            schemars::schema_for!(shipgate_release::Plan).to_value(),
        ),
        (
            "shipgate config validate --json",
            "an array of diagnostics (`--format json` prints the same)",
            schemars::schema_for!(Vec<shipgate_config::Diagnostic>).to_value(),
        ),
        (
            "shipgate promote VERSION --to ENV --json",
            "one object: what the promotion did, or would do with `--dry-run`, gate by gate",
            schemars::schema_for!(shipgate_promote::ops::PromoteOutcome).to_value(),
        ),
    ]
}

fn def_name(s: &Value) -> Option<&str> {
    s.get("$ref")?.as_str()?.strip_prefix("#/$defs/")
}

/// A type as people read it; objects and enums by their names, linked below.
fn type_of(s: &Value) -> String {
    if let Some(name) = def_name(s) {
        return format!("`{name}`");
    }
    if let Some(any) = s.get("anyOf").and_then(Value::as_array) {
        let parts: Vec<String> = any.iter().map(type_of).collect();
        return parts.join(" or ");
    }
    if let Some(c) = s.get("const") {
        return format!("`{c}`");
    }
    if let Some(values) = s.get("enum").and_then(Value::as_array) {
        return values
            .iter()
            .map(|v| format!("`{v}`"))
            .collect::<Vec<_>>()
            .join(" or ");
    }
    if let Some(one) = s.get("oneOf").and_then(Value::as_array) {
        return one.iter().map(type_of).collect::<Vec<_>>().join(" or ");
    }
    let types: Vec<String> = match s.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        _ => vec!["any".into()],
    };
    types
        .iter()
        .map(|t| match t.as_str() {
            "array" => format!("array of {}", s.get("items").map_or("any".into(), type_of)),
            other => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

fn one_line(text: &str) -> String {
    crate::docs_config::text(&text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// An object's fields as a table, or an enum's values as a list.
fn describe(s: &Value, out: &mut String) {
    if let Some(props) = s.get("properties").and_then(Value::as_object) {
        let required: Vec<&str> = s
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        out.push_str("| field | type | always | meaning |\n|---|---|---|---|\n");
        for (k, v) in props {
            let desc = v
                .get("description")
                .and_then(Value::as_str)
                .map(one_line)
                .unwrap_or_default();
            let always = if required.contains(&k.as_str()) {
                "yes"
            } else {
                "no"
            };
            let _ = writeln!(
                out,
                "| `{k}` | {} | {always} | {} |",
                type_of(v).replace('|', "\\|"),
                desc.replace('|', "\\|")
            );
        }
    } else if let Some(one) = s.get("oneOf").and_then(Value::as_array) {
        for v in one {
            let desc = v
                .get("description")
                .and_then(Value::as_str)
                .map(one_line)
                .unwrap_or_default();
            let _ = writeln!(out, "- {}: {desc}", type_of(v));
        }
    } else {
        let _ = writeln!(out, "{}", type_of(s));
    }
}

/// The page: `docs/src/reference/json.md`.
pub fn page() -> String {
    let mut out = String::new();
    out.push_str(crate::docs_config::GENERATED);
    out.push_str(
        "# `--json` output\n\n\
         With the global `--json` flag, a command prints its answer as JSON on stdout and its\n\
         logs on stderr. The shapes below are generated from the types the commands print.\n\
         Fields are added over time; none is removed or changes its type within a major\n\
         version. A field that is not \"always\" there is absent or `null` when it does not\n\
         apply.\n",
    );
    for (command, what, schema) in shapes() {
        let _ = write!(out, "\n## `{command}`\n\n{what}.\n\n");
        let top = if schema.get("type").and_then(Value::as_str) == Some("array") {
            out.push_str("Each element:\n\n");
            schema.get("items").cloned().unwrap_or(Value::Null)
        } else {
            schema.clone()
        };
        let top = match def_name(&top) {
            Some(name) => schema
                .get("$defs")
                .and_then(|d| d.get(name))
                .cloned()
                .unwrap_or(top),
            None => top,
        };
        describe(&top, &mut out);
        let defs: Map<String, Value> = schema
            .get("$defs")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (name, def) in &defs {
            let _ = write!(out, "\n### `{name}`\n\n");
            if let Some(d) = def.get("description").and_then(Value::as_str) {
                let _ = write!(out, "{}\n\n", one_line(d));
            }
            describe(def, &mut out);
        }
    }
    out
}
