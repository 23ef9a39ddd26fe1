//! The `--json` reference page, generated from the types the commands print (their
//! `schemars::JsonSchema`): each command's object, field by field, and every object it
//! holds.

use std::fmt::Write as _;

use serde_json::{Map, Value};

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

fn description(s: &Value) -> String {
    s.get("description")
        .and_then(Value::as_str)
        .map(one_line)
        .unwrap_or_default()
}

/// An object's fields as a table.
fn fields(s: &Value, props: &Map<String, Value>, out: &mut String) {
    let required: Vec<&str> = s
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    out.push_str("| field | type | always | meaning |\n|---|---|---|---|\n");
    for (k, v) in props {
        let always = if required.contains(&k.as_str()) {
            "yes"
        } else {
            "no"
        };
        let meaning = match (description(v), v.get("const")) {
            (d, Some(tag)) if d.is_empty() => format!("Which of these it is: `{tag}` here."),
            (d, _) => d,
        };
        let _ = writeln!(
            out,
            "| `{k}` | {} | {always} | {} |",
            type_of(v).replace('|', "\\|"),
            meaning.replace('|', "\\|")
        );
    }
}

/// An object's fields as a table, an enum's values as a list, each object variant of an
/// enum (a tagged one, or one flattened into an object) as its own table.
fn describe(s: &Value, out: &mut String) {
    let props = s.get("properties").and_then(Value::as_object);
    if let Some(props) = props {
        fields(s, props, out);
    }
    if let Some(one) = s.get("oneOf").and_then(Value::as_array) {
        if props.is_some() {
            out.push_str("\nand the fields of one of:\n");
        }
        for v in one {
            match v.get("properties").and_then(Value::as_object) {
                Some(variant) => {
                    let _ = write!(out, "\n{}\n\n", description(v));
                    fields(v, variant, out);
                }
                None => {
                    let _ = writeln!(out, "- {}: {}", type_of(v), description(v));
                }
            }
        }
    } else if props.is_none() {
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
         version. A field that is not \"always\" there is absent when it does not apply;\n\
         one whose type includes `null` is `null` then. The tests run each command below on\n\
         a real repository and hold what it prints to its shape, with no field the type does\n\
         not have.\n",
    );
    for shipgate::json_shapes::Shape {
        command,
        what,
        schema,
    } in shipgate::json_shapes::shapes()
    {
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
    out.push_str(
        "\n## Output without a type\n\n\
         These commands print JSON whose shape no type of shipgate's describes:\n\n",
    );
    for (command, why) in shipgate::json_shapes::UNTYPED {
        let _ = writeln!(out, "- `{command}`: {}.", one_line(why));
    }
    out
}

/// Where a field of the shapes says nothing about itself: `command: path`.
#[cfg(test)]
pub fn undescribed() -> Vec<String> {
    fn walk(s: &Value, path: &str, out: &mut Vec<String>) {
        match s {
            Value::Object(map) => {
                if let Some(props) = map.get("properties").and_then(Value::as_object) {
                    for (k, v) in props {
                        if description(v).is_empty() && v.get("const").is_none() {
                            out.push(format!("{path}.{k}"));
                        }
                    }
                }
                for (k, v) in map {
                    walk(v, &format!("{path}/{k}"), out);
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, path, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for shape in shipgate::json_shapes::shapes() {
        walk(&shape.schema, shape.command, &mut out);
    }
    out
}
