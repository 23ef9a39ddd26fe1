//! The pure core on plain data: texts in, diagnostics (file, line, column, rule) out.

use proptest::prelude::*;
use shipgate_config::check::{ConfigSet, Content, SourceFile, check};
use shipgate_config::{EnvironmentsSettings, Rule, Schema};

const SCHEMA: &str = r#"{
  "type": "object", "additionalProperties": false,
  "required": ["service", "database", "logging"],
  "properties": {
    "service": { "type": "object", "additionalProperties": false, "required": ["replicas"],
      "properties": {
        "replicas": { "type": "integer", "minimum": 1 },
        "availability_zones": { "type": "array", "items": { "type": "string" } },
        "tag": { "type": "string", "pattern": "^[0-9]+\\.[0-9]+\\.[0-9]+$" } } },
    "database": { "type": "object", "additionalProperties": false,
      "properties": { "pool_size": { "type": "integer", "minimum": 1, "maximum": 500 },
                      "password": { "type": "string" } } },
    "logging": { "type": "object", "additionalProperties": false,
      "properties": { "level": { "enum": ["debug", "info", "warn"] } } },
    "canary": { "type": "object", "properties": { "enabled": { "type": "boolean" } } },
    "slo": { "type": "object" }
  }
}"#;

const PROD_SLO: &str = "[slo]\navailability_percent = 99.95\nlatency_p95_ms = 1500\nerror_rate_percent = 0.05\n\
recovery_time_seconds = 300\ndata_loss_window_seconds = 60\n[canary]\nenabled = true\n";

fn set(files: &[(&str, &str)]) -> ConfigSet {
    let source = |name: &str, text: &str| SourceFile {
        name: format!("env/{name}.toml"),
        content: Content::Text(text.into()),
    };
    let base = files
        .iter()
        .find(|(n, _)| *n == "base")
        .map_or("", |(_, t)| *t);
    ConfigSet::overlays(
        "env",
        source("base", base),
        files
            .iter()
            .filter(|(n, _)| *n != "base")
            .map(|(n, t)| (n.to_string(), source(n, t)))
            .collect(),
    )
}

/// Checks the files against the schema with default settings: (file, line, column, rule).
fn run(files: &[(&str, &str)]) -> Vec<(String, u32, u32, Rule, String)> {
    let schema = Schema::compile("schema.json", SCHEMA).expect("schema compiles");
    check(&set(files), Some(&schema), &EnvironmentsSettings::default())
        .diagnostics
        .into_iter()
        .map(|d| (d.file, d.line, d.column, d.rule, d.message))
        .collect()
}

fn places(files: &[(&str, &str)]) -> Vec<(String, u32, u32, Rule)> {
    run(files)
        .into_iter()
        .map(|(f, l, c, r, _)| (f, l, c, r))
        .collect()
}

const BASE: &str = "[service]\nreplicas = 2\navailability_zones = [\"a\", \"b\"]\ntag = \"1.0.0\"\n\
[database]\npool_size = 10\npassword = \"secret://db\"\n[logging]\nlevel = \"info\"\n";

fn p(file: &str, line: u32, col: u32, rule: Rule) -> (String, u32, u32, Rule) {
    (format!("env/{file}.toml"), line, col, rule)
}

#[test]
fn a_clean_set_has_no_diagnostics() {
    assert_eq!(
        places(&[
            ("base", BASE),
            ("dev", ""),
            ("staging", ""),
            ("prod", PROD_SLO)
        ]),
        []
    );
}

#[test]
fn overlay_values_point_at_the_overlay_and_inherited_ones_at_base() {
    let base = BASE.replace("pool_size = 10", "pool_size = 0");
    let got = run(&[
        ("base", &base),
        ("dev", "[logging]\nlevel = \"loud\"\n"),
        ("staging", ""),
        ("prod", PROD_SLO),
    ]);
    let at: Vec<_> = got
        .iter()
        .map(|(f, l, c, r, _)| (f.clone(), *l, *c, *r))
        .collect();
    assert_eq!(
        at,
        [p("base", 6, 13, Rule::Schema), p("dev", 2, 9, Rule::Schema)]
    );
    assert!(
        got[0].4.ends_with("(in dev, staging, prod)"),
        "{}",
        got[0].4
    );
    assert!(got[1].4.ends_with("(in dev)"), "{}", got[1].4);
}

#[test]
fn an_overridden_base_value_is_not_reported() {
    let base = BASE.replace("level = \"info\"", "level = \"loud\"");
    let fix = "[logging]\nlevel = \"info\"\n";
    let prod = format!("{PROD_SLO}{fix}");
    assert_eq!(
        places(&[
            ("base", &base),
            ("dev", fix),
            ("staging", fix),
            ("prod", &prod)
        ]),
        []
    );
}

#[test]
fn unknown_keys_point_at_the_key_with_a_did_you_mean() {
    let schema = Schema::compile("schema.json", SCHEMA).expect("schema");
    let report = check(
        &set(&[
            ("base", BASE),
            ("dev", "[service]\nreplica = 3\n"),
            ("staging", ""),
            ("prod", PROD_SLO),
        ]),
        Some(&schema),
        &EnvironmentsSettings::default(),
    );
    let d = &report.diagnostics[0];
    assert_eq!(
        (d.file.as_str(), d.line, d.column, d.rule),
        ("env/dev.toml", 2, 1, Rule::Schema)
    );
    assert_eq!(d.hint.as_deref(), Some("did you mean `replicas`?"));
}

#[test]
fn every_syntax_error_and_the_other_files_still_checked() {
    let got = places(&[
        ("base", BASE),
        ("dev", "[logging\nlevel = 1\n"),
        ("staging", "a = \n"),
        ("prod", PROD_SLO),
    ]);
    assert!(got.contains(&p("dev", 1, 9, Rule::TomlSyntax)), "{got:?}");
    assert!(
        got.iter()
            .any(|d| d.0 == "env/staging.toml" && d.3 == Rule::TomlSyntax),
        "{got:?}"
    );
}

#[test]
fn missing_overlay_and_unknown_environment() {
    let got = places(&[("base", BASE), ("dev", ""), ("prod", PROD_SLO), ("qa", "")]);
    assert_eq!(
        got,
        [
            p("base", 1, 1, Rule::MissingOverlay),
            p("qa", 1, 1, Rule::UnknownEnvironment)
        ]
    );
}

#[test]
fn ordering_and_parity_across_environments() {
    let staging =
        "[service]\nreplicas = 4\n[logging]\nlevel = \"debug\"\n[debug]\nprofiler = true\n";
    let got = places(&[
        ("base", BASE),
        ("dev", ""),
        ("staging", staging),
        ("prod", PROD_SLO),
    ]);
    assert!(
        got.contains(&p("base", 2, 12, Rule::Ordering)),
        "prod inherits 2 from base: {got:?}"
    );
    assert!(got.contains(&p("staging", 5, 2, Rule::Parity)), "{got:?}");
    // The unknown top-level table is also a schema problem in staging.
    assert!(got.contains(&p("staging", 5, 2, Rule::Schema)), "{got:?}");
}

#[test]
fn secrets_are_reported_and_redacted_everywhere() {
    let base = BASE.replace("\"secret://db\"", "\"hunter2-hunter2\"");
    let dev = "[logging]\nlevel = \"AKIAIOSFODNN7EXAMPLE\"\n";
    let schema = Schema::compile("schema.json", SCHEMA).expect("schema");
    let report = check(
        &set(&[
            ("base", &base),
            ("dev", dev),
            ("staging", ""),
            ("prod", PROD_SLO),
        ]),
        Some(&schema),
        &EnvironmentsSettings::default(),
    );
    let rules: Vec<_> = report
        .diagnostics
        .iter()
        .map(|d| (d.file.as_str(), d.line, d.rule))
        .collect();
    assert!(
        rules.contains(&("env/base.toml", 7, Rule::SecretLiteral)),
        "{rules:?}"
    );
    assert!(
        rules.contains(&("env/dev.toml", 2, Rule::SecretLiteral)),
        "{rules:?}"
    );
    assert!(
        rules.contains(&("env/dev.toml", 2, Rule::Schema)),
        "the enum error quotes the value: {rules:?}"
    );
    let all = format!("{:?}", report.diagnostics);
    assert!(
        !all.contains("hunter2") && !all.contains("AKIAIOSFODNN7EXAMPLE"),
        "{all}"
    );
    assert!(all.contains("[redacted]"), "{all}");
}

#[test]
fn slo_rules_hold_for_prod() {
    let prod = PROD_SLO
        .replace("99.95", "99.5")
        .replace("enabled = true", "enabled = false");
    let got = places(&[
        ("base", BASE),
        ("dev", ""),
        ("staging", ""),
        ("prod", &prod),
    ]);
    assert_eq!(
        got,
        [p("prod", 2, 24, Rule::Slo), p("prod", 8, 11, Rule::Slo)]
    );
    let got = places(&[("base", BASE), ("dev", ""), ("staging", ""), ("prod", "")]);
    assert_eq!(got.len(), 6, "each missing SLO key once: {got:?}");
    assert!(got.iter().all(|d| *d == p("prod", 1, 1, Rule::Slo)));
}

#[test]
fn unusable_files_keep_their_diagnostic() {
    let mut s = set(&[
        ("base", BASE),
        ("dev", ""),
        ("staging", ""),
        ("prod", PROD_SLO),
    ]);
    let d = shipgate_config::Diagnostic::at_file_start(
        "env/dev.toml",
        Rule::Encoding,
        "not UTF-8",
        None,
    );
    s.files[1].1.content = Content::Unusable(d);
    let report = check(&s, None, &EnvironmentsSettings::default());
    let rules: Vec<_> = report.diagnostics.iter().map(|d| d.rule).collect();
    assert_eq!(rules, [Rule::Encoding]);
}

// ---- property: random valid configurations are clean; one mutated value gives one
// diagnostic at the mutated line.

#[derive(Debug, Clone)]
struct Generated {
    files: Vec<(String, Vec<String>)>,
}

impl Generated {
    fn texts(&self) -> Vec<(String, String)> {
        self.files
            .iter()
            .map(|(n, lines)| (n.clone(), lines.join("\n") + "\n"))
            .collect()
    }
}

/// Keys any file may set, with a valid and an invalid rendering.
const KEYS: [(&str, &str); 3] = [
    ("database", "pool_size"),
    ("logging", "level"),
    ("service", "tag"),
];

fn valid_value(key: usize, seed: u32) -> String {
    match key {
        0 => format!("{}", 1 + seed % 500),
        1 => format!("\"{}\"", ["debug", "info", "warn"][seed as usize % 3]),
        _ => format!("\"{}.{}.{}\"", seed % 7, seed % 13, seed % 100),
    }
}

fn invalid_value(key: usize, seed: u32) -> String {
    match key {
        0 => ["0", "501", "\"ten\"", "true"][seed as usize % 4].to_string(),
        1 => ["\"loud\"", "3", "[\"info\"]"][seed as usize % 3].to_string(),
        _ => ["\"latest-\"", "\"v1\"", "1.0"][seed as usize % 3].to_string(),
    }
}

fn build(replicas: [u32; 3], sets: &[[Option<u32>; 3]; 4]) -> Generated {
    let names = ["base", "dev", "staging", "prod"];
    let mut files = Vec::new();
    for (f, name) in names.iter().enumerate() {
        let mut lines = vec![format!("# {name}")];
        let mut sections: Vec<(&str, Vec<String>)> = vec![
            ("service", vec![]),
            ("database", vec![]),
            ("logging", vec![]),
        ];
        if f == 0 {
            sections[0].1.push(format!("replicas = {}", replicas[0]));
            sections[0]
                .1
                .push("availability_zones = [\"a\", \"b\"]".into());
        } else {
            sections[0]
                .1
                .push(format!("replicas = {}", replicas[f - 1]));
        }
        for (k, (table, key)) in KEYS.iter().enumerate() {
            let seed = if f == 0 {
                Some(sets[0][k].unwrap_or(1))
            } else {
                sets[f][k]
            };
            if let Some(seed) = seed {
                let section = sections
                    .iter_mut()
                    .find(|(t, _)| t == table)
                    .expect("section");
                section.1.push(format!("{key} = {}", valid_value(k, seed)));
            }
        }
        for (table, body) in sections {
            if !body.is_empty() {
                lines.push(format!("[{table}]"));
                lines.extend(body);
            }
        }
        if *name == "prod" {
            lines.extend(PROD_SLO.lines().map(String::from));
        }
        files.push((name.to_string(), lines));
    }
    Generated { files }
}

fn run_generated(g: &Generated) -> Vec<(String, u32, u32, Rule, String)> {
    let texts = g.texts();
    let refs: Vec<(&str, &str)> = texts
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    run(&refs)
}

fn arb_sets() -> impl Strategy<Value = [[Option<u32>; 3]; 4]> {
    let cell = proptest::option::of(0u32..10_000);
    let row = [cell.clone(), cell.clone(), cell];
    [row.clone(), row.clone(), row.clone(), row]
}

fn arb_replicas() -> impl Strategy<Value = [u32; 3]> {
    (1u32..5, 0u32..5, 0u32..5).prop_map(|(a, b, c)| [a, a + b, (a + b + c).max(2)])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_valid_configurations_are_clean(replicas in arb_replicas(), sets in arb_sets()) {
        let g = build(replicas, &sets);
        prop_assert_eq!(run_generated(&g), vec![]);
    }

    #[test]
    fn one_mutated_value_gives_one_diagnostic_at_its_line(
        replicas in arb_replicas(),
        sets in arb_sets(),
        file in 0usize..4,
        key in 0usize..3,
        seed in 0u32..100,
    ) {
        let mut sets = sets;
        if file == 0 {
            // The base value must reach at least one environment: dev does not override it.
            sets[1][key] = None;
        } else {
            sets[file][key] = Some(1);
        }
        let mut g = build(replicas, &sets);
        let name = g.files[file].0.clone();
        let lines = &mut g.files[file].1;
        let prefix = format!("{} = ", KEYS[key].1);
        let index = lines.iter().position(|l| l.starts_with(&prefix)).expect("the key is set");
        lines[index] = format!("{prefix}{}", invalid_value(key, seed));
        let line = index as u32 + 1;
        let got = run_generated(&g);
        prop_assert_eq!(got.len(), 1, "{:?}", got);
        prop_assert_eq!(&got[0].0, &format!("env/{name}.toml"));
        prop_assert_eq!(got[0].1, line);
        prop_assert_eq!(got[0].2, prefix.len() as u32 + 1);
        prop_assert_eq!(got[0].3, Rule::Schema);
    }
}
