//! The layouts on plain data, with files written from the shapes Spring Boot's, Helm's and
//! YAML/JSON users' documentation shows: which documents make each environment, and every
//! diagnostic at its file:line:col in the YAML or JSON it came from.

use std::collections::BTreeMap;

use shipgate_config::check::{check, layer};
use shipgate_config::tree::{Value, get};
use shipgate_config::{EnvironmentsSettings, Layout, Rule, Schema, Severity};

/// (file, line, column, rule, severity, message) of every diagnostic.
type Found = Vec<(String, u32, u32, Rule, Severity, String)>;

fn settings(layout: Layout, order: &[&str], names: &[(&str, &str)]) -> EnvironmentsSettings {
    EnvironmentsSettings {
        layout,
        order: order.iter().map(|s| s.to_string()).collect(),
        names: names
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<BTreeMap<_, _>>(),
        ..EnvironmentsSettings::default()
    }
}

fn set(settings: &EnvironmentsSettings, files: &[(&str, &str)]) -> shipgate_config::ConfigSet {
    let files = files
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    shipgate_config::load::assemble("cfg", settings.layout, files).expect("a set")
}

fn run(settings: &EnvironmentsSettings, files: &[(&str, &str)], schema: Option<&str>) -> Found {
    let schema = schema.map(|s| Schema::compile("schema.json", s).expect("schema"));
    check(&set(settings, files), schema.as_ref(), settings)
        .diagnostics
        .into_iter()
        .map(|d| (d.file, d.line, d.column, d.rule, d.severity, d.message))
        .collect()
}

/// The merged value at `path` in `env`.
fn value(
    settings: &EnvironmentsSettings,
    files: &[(&str, &str)],
    env: &str,
    path: &str,
) -> Option<Value> {
    let layered = layer(&set(settings, files), settings);
    let merged = layered.merged.iter().find(|m| m.env == env)?;
    get(&merged.root, path).map(|n| n.value.clone())
}

#[track_caller]
fn has(found: &Found, file: &str, line: u32, column: u32, rule: Rule) -> String {
    found
        .iter()
        .find(|f| f.0 == format!("cfg/{file}") && f.1 == line && f.2 == column && f.3 == rule)
        .map(|f| f.5.clone())
        .unwrap_or_else(|| panic!("no {rule} at {file}:{line}:{column} in {found:#?}"))
}

// ---------------------------------------------------------------------------------------
// Spring Boot
// ---------------------------------------------------------------------------------------

/// application.yml as Spring Boot's reference documentation writes it: defaults, a profile
/// group, a document for everything but dev, a document for production in the EU.
const APPLICATION: &str = r#"# defaults for every profile
spring:
  application:
    name: storefront
  datasource:
    url: jdbc:postgresql://${DB_HOST:localhost}:${DB_PORT:5432}/shop
    username: shop
    password: ${DB_PASSWORD}
  data:
    redis:
      password: ${REDIS_PASSWORD:}
  profiles:
    group:
      production: "production,openapi,msk"
server.port: ${SERVER_PORT:8080}
shop:
  checkout:
    enabled: on
    retries: 2
    timeout-ms: "1500"
---
spring:
  config:
    activate:
      on-profile: "!dev"
shop.checkout.retries: 3
---
spring.config.activate.on-profile: production & eu
shop:
  region: eu-west-1
"#;

const PRODUCTION: &str = "shop:\n  checkout:\n    retries: 5\n  kafka: production-cluster\n";
const MSK: &str = "shop:\n  kafka: msk-cluster # AWS MSK wins: the group's last profile\n";
const DEV: &str = "shop:\n  checkout:\n    retries: 1\n";

const SPRING_SCHEMA: &str = r#"{
  "type": "object",
  "properties": {
    "server": { "type": "object", "properties": { "port": { "type": "integer", "maximum": 65535 } } },
    "shop": { "type": "object", "additionalProperties": false, "properties": {
      "region": { "type": "string" },
      "kafka": { "type": "string" },
      "checkout": { "type": "object", "additionalProperties": false, "properties": {
        "enabled": { "type": "boolean" },
        "retries": { "type": "integer", "minimum": 1 },
        "timeout-ms": { "type": "integer", "maximum": 2000 } } } } }
  }
}"#;

fn spring_files(application: &str) -> Vec<(&'static str, &str)> {
    vec![
        ("application.yml", application),
        ("application-dev.yml", DEV),
        ("application-production.yml", PRODUCTION),
        ("application-msk.yml", MSK),
    ]
}

fn spring() -> EnvironmentsSettings {
    settings(
        Layout::Spring,
        &["dev", "staging", "prod"],
        &[("prod", "production")],
    )
}

#[test]
fn spring_profiles_groups_and_documents_layer_in_spring_boot_s_order() {
    let s = spring();
    let files = spring_files(APPLICATION);
    let v = |env: &str, path: &str| value(&s, &files, env, path);
    // dev: application.yml's first document, then application-dev.yml; `!dev` does not apply.
    assert_eq!(v("dev", "shop.checkout.retries"), Some(Value::Integer(1)));
    // staging has no file of its own: application.yml, its `!dev` document included.
    assert_eq!(
        v("staging", "shop.checkout.retries"),
        Some(Value::Integer(3))
    );
    // prod is the `production` profile, whose group adds openapi and msk after it.
    assert_eq!(v("prod", "shop.checkout.retries"), Some(Value::Integer(5)));
    assert_eq!(
        v("prod", "shop.kafka"),
        Some(Value::String("msk-cluster".into()))
    );
    // `production & eu` needs eu: not active.
    assert_eq!(v("prod", "shop.region"), None);
    // Dotted keys are nested as Spring binds them; `on` is true to SnakeYAML.
    assert_eq!(
        v("dev", "server.port"),
        Some(Value::String("${SERVER_PORT:8080}".into()))
    );
    assert_eq!(
        v("dev", "shop.checkout.enabled"),
        Some(Value::Boolean(true))
    );
    // The activation keys are not configuration.
    assert_eq!(v("staging", "spring.config"), None);
    let eu = settings(Layout::Spring, &["prod"], &[("prod", "production,eu")]);
    assert_eq!(
        value(&eu, &files, "prod", "shop.region"),
        Some(Value::String("eu-west-1".into()))
    );
}

#[test]
fn spring_placeholders_are_references_and_their_defaults_are_checked() {
    let s = spring();
    let found = run(&s, &spring_files(APPLICATION), Some(SPRING_SCHEMA));
    // `${DB_PASSWORD}` and `${REDIS_PASSWORD:}` are references; "1500" is a number to Spring.
    let errors: Vec<_> = found.iter().filter(|f| f.4 == Severity::Error).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // A staging without its own file is said, as a warning.
    let w = has(&found, "application.yml", 1, 1, Rule::MissingOverlay);
    assert!(
        w.contains("`staging` has no configuration of its own"),
        "{w}"
    );

    let bad = APPLICATION
        .replace("${SERVER_PORT:8080}", "${SERVER_PORT:99999}")
        .replace("timeout-ms: \"1500\"", "timeout-ms: \"soon\"")
        .replace("${DB_PASSWORD}", "${DB_PASSWORD:hunter2-hunter2}");
    let found = run(&s, &spring_files(&bad), Some(SPRING_SCHEMA));
    let m = has(&found, "application.yml", 15, 14, Rule::Schema);
    assert!(m.contains("`server.port`") && m.contains("99999"), "{m}");
    let m = has(&found, "application.yml", 20, 17, Rule::Schema);
    assert!(
        m.contains("`shop.checkout.timeout-ms` must be of type \"integer\""),
        "{m}"
    );
    let m = has(&found, "application.yml", 8, 15, Rule::SecretLiteral);
    assert!(
        m.contains("literal credential as its placeholder's default"),
        "{m}"
    );
    let all = format!("{found:?}");
    assert!(!all.contains("hunter2"), "redacted: {all}");
}

#[test]
fn spring_yaml_problems_are_placed_in_the_yaml() {
    let s = spring();
    let unknown = APPLICATION.replace("    retries: 2\n", "    retries: 2\n    retires: 3\n");
    let found = run(&s, &spring_files(&unknown), Some(SPRING_SCHEMA));
    let m = has(&found, "application.yml", 20, 5, Rule::Schema);
    assert!(m.contains("unknown key `shop.checkout.retires`"), "{m}");
    let syntax = spring_files(APPLICATION)
        .into_iter()
        .map(|(n, t)| {
            if n == "application-msk.yml" {
                (n, "shop:\n  kafka: [a\n")
            } else {
                (n, t)
            }
        })
        .collect::<Vec<_>>();
    let found = run(&s, &syntax, None);
    assert!(
        found
            .iter()
            .any(|f| f.0 == "cfg/application-msk.yml" && f.3 == Rule::YamlSyntax),
        "{found:#?}"
    );
    let twice = APPLICATION.replace("    retries: 2\n", "    retries: 2\n    retries: 4\n");
    let found = run(&s, &spring_files(&twice), None);
    let m = has(&found, "application.yml", 20, 5, Rule::DuplicateKey);
    assert!(m.contains("first on line 19"), "{m}");
    let mixed = APPLICATION.replace(
        "on-profile: production & eu",
        "on-profile: production & eu | dev",
    );
    let found = run(&s, &spring_files(&mixed), None);
    has(&found, "application.yml", 28, 36, Rule::Profiles);
}

// ---------------------------------------------------------------------------------------
// Helm
// ---------------------------------------------------------------------------------------

const VALUES: &str = "replicaCount: 1\nimage:\n  repository: ghcr.io/acme/storefront\n  tag: 1.3.0\nresources:\n  limits:\n    cpu: 500m\nfeatureFlags:\n  beta: y\n";
const VALUES_PROD: &str = "replicaCount: 3\nresources:\n  limits: null\nfeatureFlags:\n  beta: n\n";
const HELM_SCHEMA: &str = r#"{"type": "object", "properties": {"replicaCount": {"type": "integer", "minimum": 2},
  "featureFlags": {"type": "object", "properties": {"beta": {"type": "boolean"}}}}}"#;

#[test]
fn helm_values_layer_with_nulls_removing_keys_and_go_yaml_s_booleans() {
    let s = settings(Layout::Helm, &["dev", "prod"], &[("prod", "production")]);
    let files = [
        ("values.yaml", VALUES),
        ("values-dev.yaml", ""),
        ("values-production.yaml", VALUES_PROD),
        ("values-ci.yaml", "replicaCount: 0\n"),
    ];
    assert_eq!(
        value(&s, &files, "prod", "replicaCount"),
        Some(Value::Integer(3))
    );
    assert_eq!(value(&s, &files, "prod", "resources.limits"), None);
    assert_eq!(
        value(&s, &files, "dev", "featureFlags.beta"),
        Some(Value::Boolean(true))
    );
    let found = run(&s, &files, Some(HELM_SCHEMA));
    let m = has(&found, "values.yaml", 1, 15, Rule::Schema);
    assert!(
        m.contains("(in dev)"),
        "dev inherits 1 from values.yaml: {m}"
    );
    assert!(
        !found.iter().any(|f| f.3 == Rule::YamlAmbiguous),
        "Helm's reader is known: {found:#?}"
    );
    // A chart runs on values.yaml alone: a warning, and staging is still checked.
    let missing = run(
        &settings(Layout::Helm, &["dev", "staging"], &[]),
        &files,
        Some(HELM_SCHEMA),
    );
    let m = has(&missing, "values.yaml", 1, 1, Rule::MissingOverlay);
    assert!(
        m.contains("`staging` has no configuration of its own: no cfg/values-staging.yaml; it runs on cfg/values.yaml alone"),
        "{m}"
    );
    assert!(
        missing
            .iter()
            .any(|f| f.3 == Rule::MissingOverlay && f.4 == Severity::Warning)
    );
    let m = has(&missing, "values.yaml", 1, 15, Rule::Schema);
    assert!(m.contains("(in dev, staging)"), "{m}");
}

// ---------------------------------------------------------------------------------------
// YAML and JSON overlays
// ---------------------------------------------------------------------------------------

#[test]
fn yaml_overlays_warn_where_yaml_1_1_readers_disagree() {
    let mut s = settings(Layout::Overlays, &["dev", "prod"], &[]);
    s.slo.enabled = Some(false);
    let files = [
        (
            "base.yaml",
            "service:\n  replicas: 2\n  debug: off\ncountry: NO\n",
        ),
        ("dev.yaml", "service:\n  replicas: 1\n"),
        ("prod.yml", "service:\n  replicas: 3\n"),
        ("schema.json", "{}"),
    ];
    let found = run(&s, &files, None);
    let m = has(&found, "base.yaml", 3, 10, Rule::YamlAmbiguous);
    assert!(
        m.contains("the text \"off\" to YAML 1.2 readers but false to YAML 1.1"),
        "{m}"
    );
    has(&found, "base.yaml", 4, 10, Rule::YamlAmbiguous);
    assert!(found.iter().all(|f| f.4 == Severity::Warning), "{found:#?}");
    // The rules work on YAML like on TOML: prod may not have fewer replicas than dev's 1.
    let fewer = [
        ("prod.yml", "service:\n  replicas: 0\n"),
        files[0],
        files[1],
    ];
    let found = run(&s, &fewer, None);
    has(&found, "prod.yml", 2, 13, Rule::Ordering);
}

#[test]
fn json_overlays_and_their_errors() {
    let s = settings(Layout::Overlays, &["dev", "prod"], &[]);
    let files = [
        (
            "base.json",
            "{\n  \"service\": {\"replicas\": 2, \"replicas\": 3}\n}\n",
        ),
        ("dev.json", "{}"),
        ("prod.json", "{\n  \"service\": {\"replicas\": 1,}\n}\n"),
        ("schema.json", "{\"type\": \"object\"}"),
    ];
    let found = run(&s, &files, None);
    has(&found, "base.json", 2, 30, Rule::DuplicateKey);
    has(&found, "prod.json", 2, 28, Rule::JsonSyntax);
    assert!(
        !found.iter().any(|f| f.0.ends_with("schema.json")),
        "the schema is not an overlay: {found:#?}"
    );
}

#[test]
fn a_document_that_is_not_a_mapping_is_refused_at_its_place() {
    let s = settings(Layout::Overlays, &["dev"], &[]);
    let found = run(&s, &[("base.yaml", "- a\n- b\n"), ("dev.yaml", "")], None);
    let m = has(&found, "base.yaml", 1, 1, Rule::YamlSyntax);
    assert!(m.contains("must be a mapping"), "{m}");
}
