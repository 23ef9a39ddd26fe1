//! `[[promote.target]]`: the places a promotion writes, as shipgate.toml has them, and what
//! is wrong with them. Writing them is `shipgate-promote`'s (`targets`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use shipgate_doc::{Format, KeyPath};

/// `[[promote.target]]`: one place a promotion writes.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(extend("examples" = [{
    "file": "deploy/{{env}}/kustomization.yaml",
    "key": "images[name=storefront].newTag",
    "value": "{{version}}",
    "names": { "prod": "production" },
    "environments": ["staging", "prod"],
}]))]
pub struct Target {
    /// The file, relative to the repository root; `{{env}}` is the environment's name in
    /// this target (`names`). TOML, YAML or JSON by extension.
    pub file: String,
    /// Where the value is: a dotted key path; list items chosen by a field
    /// (`images[name=storefront].newTag`) or by position (`images[0]`); a key with dots in
    /// quotes (`annotations["app.kubernetes.io/version"]`); the document of a multi-document
    /// file by a leading `[field=value]`, e.g. `[metadata.name=backend-{{env}}].spec…`. It
    /// must select exactly one value; `{{env}}` is allowed.
    pub key: String,
    /// What is written there: `{{version}}` (the default), or text around it, e.g.
    /// `ghcr.io/acme/backend:{{version}}`; `{{env}}` is allowed too.
    #[serde(default = "version_template")]
    pub value: String,
    /// The environment's name in this target where it differs: `{ prod = "production" }`.
    /// Default: the environment's own name (each source names environments its own way).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub names: BTreeMap<String, String>,
    /// Only promotions into these environments write this place (default: every
    /// environment of `[environments] order`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environments: Vec<String>,
}

/// What a target writes unless it says otherwise: the version itself.
pub fn version_template() -> String {
    "{{version}}".into()
}

/// What is wrong with the targets, as (key below `[promote]`, message, hint).
pub fn problems(targets: &[Target], order: &[String]) -> Vec<(String, String, Option<String>)> {
    let mut out = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let at = |k: &str| format!("target[{i}].{k}");
        let file_ok = !t.file.is_empty()
            && !t.file.starts_with(['/', '\\'])
            && !t.file.contains(':')
            && !t.file.split(['/', '\\']).any(|p| p == "..");
        if !file_ok {
            out.push((
                at("file"),
                format!("`{}` is not a path inside the repository", t.file),
                Some("write it relative to the repository root, without `..`".into()),
            ));
        }
        if Format::of_path(&t.file).is_none() {
            out.push((
                at("file"),
                format!("`{}` is not a .toml, .yaml, .yml or .json file", t.file),
                None,
            ));
        }
        for (field, text, allowed) in [
            ("file", &t.file, &["env"][..]),
            ("key", &t.key, &["env"][..]),
            ("value", &t.value, &["version", "env"][..]),
        ] {
            for name in placeholders(text) {
                if !allowed.contains(&name.as_str()) {
                    let hint = shipgate_stdx::text::closest(&name, allowed.iter().copied())
                        .map(|m| format!("did you mean `{{{{{m}}}}}`?"))
                        .or_else(|| {
                            Some(format!(
                                "{} may hold {}",
                                field,
                                allowed
                                    .iter()
                                    .map(|a| format!("{{{{{a}}}}}"))
                                    .collect::<Vec<_>>()
                                    .join(" and ")
                            ))
                        });
                    out.push((
                        at(field),
                        format!("`{{{{{name}}}}}` is not a placeholder here"),
                        hint,
                    ));
                }
            }
        }
        if t.value.matches("{{version}}").count() != 1 {
            out.push((
                at("value"),
                format!("`{}` must hold `{{{{version}}}}` once", t.value),
                None,
            ));
        }
        if let Err(e) = KeyPath::parse(&t.key.replace("{{env}}", "env")) {
            out.push((
                at("key"),
                format!("{}: {} (at character {})", t.key, e.message, e.at),
                Some(
                    "write list items as [field=value], a value with dots or slashes in quotes ([name=\"ghcr.io/acme/shop\"], in a TOML 'literal string'), a document as [field=value].spec…".into(),
                ),
            ));
        }
        let shared = !t.file.contains("{{env}}") && !t.key.contains("{{env}}");
        if shared && t.environments.len() != 1 {
            out.push((
                at("file"),
                format!(
                    "`{}` holds no {{{{env}}}} in its file or key: every environment would write the same place",
                    t.file
                ),
                Some("put {{env}} in `file` or `key`, or name the one environment with environments = [\"prod\"]".into()),
            ));
        }
        for env in &t.environments {
            if !order.iter().any(|e| e == env) {
                out.push((
                    at("environments"),
                    format!(
                        "`{env}` is not in [environments] order ({})",
                        order.join(", ")
                    ),
                    None,
                ));
            }
        }
        for (env, name) in &t.names {
            if !order.iter().any(|e| e == env) {
                out.push((
                    at(&format!("names.{env}")),
                    format!(
                        "`{env}` is not in [environments] order ({})",
                        order.join(", ")
                    ),
                    None,
                ));
            }
            if shipgate_stdx::names::check_env(name).is_err() {
                out.push((
                    at(&format!("names.{env}")),
                    format!("`{name}` is not a valid name in files"),
                    Some("use 1 to 63 letters, digits, `-` and `_`".into()),
                ));
            }
        }
    }
    out
}

/// The `{{name}}` placeholders of a template.
fn placeholders(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else { break };
        out.push(after[..j].trim().to_string());
        rest = &after[j + 2..];
    }
    out
}
