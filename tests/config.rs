//! End-to-end tests of `shipgate config validate|show`: fixture directories of good and bad
//! configurations (tests/fixtures/config), every output format, bad input on disk, and this
//! repository's own environments/.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/config")
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the binary in `dir` with `args`.
fn shipgate(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_shipgate"))
        .env_remove("GITHUB_ACTIONS") // not a step of its own: no annotations
        .env_remove("GITHUB_OUTPUT")
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("shipgate runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `config validate` of one fixture case with the fixtures' shipgate.toml.
fn validate_fixture(case: &str, format: &str) -> Run {
    shipgate(
        &fixtures(),
        &[
            "--repo",
            ".",
            "--config",
            "shipgate.toml",
            "config",
            "validate",
            case,
            "--format",
            format,
        ],
    )
}

/// The JSON diagnostics of a fixture as `file:line:col rule: message` lines, for snapshots.
fn check(case: &str, expected_code: i32) -> String {
    let run = validate_fixture(case, "json");
    assert_eq!(
        run.code, expected_code,
        "{case}: {}{}",
        run.stdout, run.stderr
    );
    let diagnostics: Vec<Value> = serde_json::from_str(&run.stdout).expect("a JSON array");
    diagnostics
        .iter()
        .map(|d| {
            for field in ["file", "line", "column", "rule", "severity", "message"] {
                assert!(!d[field].is_null(), "missing {field} in {d}");
            }
            format!(
                "{}:{}:{} {}: {}",
                d["file"].as_str().unwrap_or(""),
                d["line"],
                d["column"],
                d["rule"].as_str().unwrap_or(""),
                d["message"].as_str().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn good_configuration_is_clean_in_every_format() {
    assert_eq!(check("good", 0), "");
    assert_eq!(validate_fixture("good", "github").stdout, "");
    let human = validate_fixture("good", "human");
    assert_eq!((human.code, human.stdout.as_str()), (0, ""));
    assert!(
        human.stderr.contains("ok: 1 configuration valid"),
        "{}",
        human.stderr
    );
    let junit = validate_fixture("good", "junit").stdout;
    assert!(junit.contains("tests=\"5\" failures=\"0\""), "{junit}");
}

#[test]
fn bad_configuration_reports_every_problem_at_its_place() {
    insta::assert_snapshot!("bad", check("bad", 1));
}

#[test]
fn toml_syntax_errors_point_at_the_error() {
    insta::assert_snapshot!("syntax", check("syntax", 1));
}

#[test]
fn missing_overlay_and_unknown_environment() {
    insta::assert_snapshot!("layout", check("layout", 1));
}

#[test]
fn multi_service_tree_reports_per_service_files() {
    insta::assert_snapshot!("services", check("services", 1));
}

#[test]
fn secrets_are_reported_and_redacted_in_every_format() {
    insta::assert_snapshot!("secrets", check("secrets", 1));
    for format in ["human", "json", "github", "sarif", "junit"] {
        let run = validate_fixture("secrets", format);
        assert_eq!(run.code, 1, "{format}");
        let all = format!("{}{}", run.stdout, run.stderr);
        for secret in [
            "correct-horse-battery-staple",
            "AKIAIOSFODNN7EXAMPLE",
            "hunter22",
        ] {
            assert!(!all.contains(secret), "{format} leaks {secret}:\n{all}");
        }
        assert!(all.contains("secret-literal"), "{format}: {all}");
    }
    let run = validate_fixture("bad", "human");
    assert!(!run.stdout.contains("Tr0ub4dor"), "{}", run.stdout);
    assert!(
        run.stdout.contains("password = [redacted]"),
        "{}",
        run.stdout
    );
}

#[test]
fn human_format_shows_the_line_and_a_caret() {
    let run = validate_fixture("bad", "human");
    assert_eq!(run.code, 1);
    let expected = "error[schema]: `logging.level`: \"verbose\" is not one of \"debug\", \"info\" or 2 other candidates (in dev)\n \
                    --> bad/dev.toml:5:9\n  |\n5 | level = \"verbose\"\n  |         ^^^^^^^^^\n";
    assert!(run.stdout.contains(expected), "{}", run.stdout);
    assert!(run.stderr.contains("10 error(s)"), "{}", run.stderr);
}

#[test]
fn github_format_is_one_annotation_per_problem() {
    let run = validate_fixture("bad", "github");
    assert_eq!(run.code, 1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 10, "{}", run.stdout);
    assert!(lines.contains(&"::error file=bad/dev.toml,line=2,col=12,title=schema::`service.replicas` must be of type \"integer\", found string (in dev)"), "{}", run.stdout);
    for line in lines {
        let rest = line
            .strip_prefix("::error file=")
            .expect("an error command");
        let (props, message) = rest.split_once("::").expect("props::message");
        let parts: Vec<&str> = props.split(',').collect();
        assert_eq!(parts.len(), 4, "{line}");
        assert!(
            parts[1].starts_with("line=")
                && parts[2].starts_with("col=")
                && parts[3].starts_with("title="),
            "{line}"
        );
        assert!(!message.is_empty() && !message.contains('\n'));
    }
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0() {
    let schema_text = std::fs::read_to_string(fixtures().join("../sarif-2.1.0.json"))
        .expect("vendored SARIF schema");
    let schema: Value = serde_json::from_str(&schema_text).expect("schema JSON");
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .build(&schema)
        .expect("the SARIF schema compiles");
    for case in ["bad", "good", "secrets", "syntax", "layout"] {
        let run = validate_fixture(case, "sarif");
        let log: Value = serde_json::from_str(&run.stdout).expect("SARIF is JSON");
        let errors: Vec<String> = validator
            .iter_errors(&log)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{case}: {errors:?}");
        assert_eq!(log["version"], "2.1.0");
    }
    let log: Value = serde_json::from_str(&validate_fixture("bad", "sarif").stdout).expect("json");
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 10);
    let region = &results[0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(14), Some(13))
    );
}

#[test]
fn junit_output_has_a_case_per_file() {
    let run = validate_fixture("bad", "junit");
    assert!(run.stdout.starts_with("<?xml"), "{}", run.stdout);
    assert!(
        run.stdout.contains("tests=\"5\" failures=\"4\""),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("<testcase classname=\".\" name=\"schema.json\"/>"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("bad/prod.toml:2:12: error[ordering]"),
        "{}",
        run.stdout
    );
    assert_eq!(run.stdout.matches("<failure ").count(), 4);
}

#[test]
fn global_json_flag_means_json_format() {
    let run = shipgate(
        &fixtures(),
        &[
            "--json",
            "--repo",
            ".",
            "--config",
            "shipgate.toml",
            "config",
            "validate",
            "layout",
        ],
    );
    assert_eq!(run.code, 1);
    let v: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(v.as_array().map(Vec::len), Some(2));
}

#[test]
fn this_repositorys_environments_are_valid() {
    let run = shipgate(&workspace(), &["config", "validate"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let run = shipgate(
        &workspace(),
        &["config", "validate", "environments", "--format", "json"],
    );
    assert_eq!(run.stdout.trim(), "[]");
}

#[test]
fn show_prints_the_merged_configuration_with_provenance() {
    let run = shipgate(&workspace(), &["config", "show", "prod", "--provenance"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("replicas = 3  # environments/prod.toml:"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("port = 8080  # environments/base.toml:"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("\n[[kafka.topics]]\n"),
        "{}",
        run.stdout
    );
    let json = shipgate(
        &workspace(),
        &["--json", "config", "show", "staging", "--provenance"],
    );
    let v: Value = serde_json::from_str(&json.stdout).expect("json");
    let replicas = v["values"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["key"] == "service.replicas"))
        .expect("replicas");
    assert_eq!(
        (replicas["value"].as_i64(), replicas["file"].as_str()),
        (Some(2), Some("environments/staging.toml"))
    );
    let plain = shipgate(&workspace(), &["--json", "config", "show", "dev"]);
    let v: Value = serde_json::from_str(&plain.stdout).expect("json");
    assert_eq!(v["service"]["replicas"], 1);
}

#[test]
fn show_redacts_secrets_and_refuses_unknown_environments() {
    let run = shipgate(
        &fixtures(),
        &[
            "--repo",
            ".",
            "--config",
            "shipgate.toml",
            "config",
            "show",
            "dev",
            "secrets",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("password = \"[redacted]\""),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("correct-horse") && !run.stdout.contains("AKIA"),
        "{}",
        run.stdout
    );
    let run = shipgate(
        &fixtures(),
        &[
            "--repo",
            ".",
            "--config",
            "shipgate.toml",
            "config",
            "show",
            "qa",
            "good",
        ],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("error: `qa` is not an environment") && run.stderr.contains("hint: "),
        "{}",
        run.stderr
    );
    let run = shipgate(
        &fixtures(),
        &[
            "--repo",
            ".",
            "--config",
            "shipgate.toml",
            "config",
            "show",
            "dev",
            "syntax",
        ],
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("toml-syntax") && run.stderr.contains("cannot merge `dev`"),
        "{}",
        run.stderr
    );
}

// ---- bad input on disk: each a diagnostic with a place, or a clear error; never a panic.

fn scratch(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    let good = fixtures().join("good");
    let env = tmp.path().join("environments");
    std::fs::create_dir_all(&env).expect("mkdir");
    for name in ["base", "dev", "staging", "prod"] {
        std::fs::copy(
            good.join(format!("{name}.toml")),
            env.join(format!("{name}.toml")),
        )
        .expect("copy");
    }
    std::fs::copy(fixtures().join("schema.json"), env.join("schema.json")).expect("copy schema");
    for (name, bytes) in files {
        std::fs::write(env.join(name), bytes).expect("write");
    }
    tmp
}

/// (file, line, column, rule) of one diagnostic.
type Place = (String, u64, u64, String);

fn validate_json(dir: &Path) -> (i32, Vec<Place>, String) {
    let run = shipgate(dir, &["config", "validate", "--format", "json"]);
    let v: Vec<Value> = serde_json::from_str(&run.stdout).unwrap_or_default();
    let got = v
        .iter()
        .map(|d| {
            (
                d["file"].as_str().unwrap_or("").to_string(),
                d["line"].as_u64().unwrap_or(0),
                d["column"].as_u64().unwrap_or(0),
                d["rule"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    (run.code, got, run.stderr)
}

#[test]
fn scratch_copy_of_good_is_clean() {
    let tmp = scratch(&[]);
    let (code, got, stderr) = validate_json(tmp.path());
    assert_eq!((code, got), (0, vec![]), "{stderr}");
}

#[test]
fn non_utf8_bytes_are_located() {
    let tmp = scratch(&[("dev.toml", b"[logging]\nlevel = \"d\xffbug\"\n")]);
    let (code, got, _) = validate_json(tmp.path());
    assert_eq!(code, 1);
    assert_eq!(
        got,
        [(
            "environments/dev.toml".to_string(),
            2,
            11,
            "encoding".to_string()
        )]
    );
}

#[test]
fn a_ten_megabyte_file_is_reported_not_read() {
    let big = format!("# {}\n", "x".repeat(10 * 1024 * 1024));
    let tmp = scratch(&[("staging.toml", big.as_bytes())]);
    let (code, got, _) = validate_json(tmp.path());
    assert_eq!(code, 1);
    assert_eq!(
        got,
        [(
            "environments/staging.toml".to_string(),
            1,
            1,
            "file-too-large".to_string()
        )]
    );
}

#[test]
fn a_symlink_loop_is_a_read_error() {
    let tmp = scratch(&[]);
    let env = tmp.path().join("environments");
    std::fs::remove_file(env.join("prod.toml")).expect("rm");
    std::os::unix::fs::symlink(env.join("prod.toml"), env.join("prod.toml")).expect("symlink");
    let (code, got, _) = validate_json(tmp.path());
    assert_eq!(code, 1);
    assert_eq!(
        got,
        [(
            "environments/prod.toml".to_string(),
            1,
            1,
            "read-error".to_string()
        )]
    );
    // A symlinked directory loop is not followed.
    std::os::unix::fs::symlink(tmp.path(), env.join("loop")).expect("dir symlink");
    let run = shipgate(tmp.path(), &["config", "validate", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
}

#[test]
fn an_invalid_schema_file_is_a_diagnostic() {
    let tmp = scratch(&[(
        "schema.json",
        b"{\n  \"type\": \"object\",\n  \"properties\": {\n}",
    )]);
    let (code, got, _) = validate_json(tmp.path());
    assert_eq!(code, 1);
    assert_eq!(
        got,
        [(
            "environments/schema.json".to_string(),
            4,
            1,
            "schema-invalid".to_string()
        )]
    );
    let tmp = scratch(&[("schema.json", br#"{"type": "objekt"}"#)]);
    let (_, got, _) = validate_json(tmp.path());
    assert_eq!(
        got,
        [(
            "environments/schema.json".to_string(),
            1,
            1,
            "schema-invalid".to_string()
        )]
    );
}

#[test]
fn wrong_types_and_unknown_keys_with_default_settings() {
    let tmp = scratch(&[("dev.toml", b"[service]\nreplicas = 1.5\nreplcas = 2\n")]);
    let (code, got, _) = validate_json(tmp.path());
    assert_eq!(code, 1);
    assert_eq!(
        got,
        [
            (
                "environments/dev.toml".to_string(),
                2,
                12,
                "schema".to_string()
            ),
            (
                "environments/dev.toml".to_string(),
                3,
                1,
                "schema".to_string()
            ),
        ]
    );
}

#[test]
fn could_not_run_is_exit_code_2() {
    let tmp = scratch(&[]);
    let run = shipgate(tmp.path(), &["config", "validate", "nowhere"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with("error: cannot read nowhere"),
        "{}",
        run.stderr
    );
    let empty = tempfile::tempdir().expect("tempdir");
    let run = shipgate(empty.path(), &["config", "validate", "."]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("no base.toml") && run.stderr.contains("hint: "),
        "{}",
        run.stderr
    );
    std::fs::write(
        tmp.path().join("shipgate.toml"),
        "[environments]\norder = [\"dev\", \"dev\"]\n",
    )
    .expect("write");
    let run = shipgate(tmp.path(), &["config", "validate"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("lists `dev` twice"), "{}", run.stderr);
    std::fs::write(
        tmp.path().join("shipgate.toml"),
        "[environments]\nordr = []\n",
    )
    .expect("write");
    let run = shipgate(tmp.path(), &["config", "validate"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("shipgate.toml:2:1") && run.stderr.contains("did you mean `order`?"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_set_without_schema_is_still_checked_and_says_so() {
    let tmp = scratch(&[]);
    std::fs::remove_file(tmp.path().join("environments/schema.json")).expect("rm");
    std::fs::write(
        tmp.path().join("environments/prod.toml"),
        "[service]\nreplicas = 1\n",
    )
    .expect("write");
    let run = shipgate(tmp.path(), &["config", "validate", "--format", "json"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("note: no schema.json for environments"),
        "{}",
        run.stderr
    );
    let v: Vec<Value> = serde_json::from_str(&run.stdout).expect("json");
    assert!(v.iter().any(|d| d["rule"] == "ordering"), "{v:?}");
}

#[test]
fn environments_not_in_the_order_list() {
    let tmp = scratch(&[]);
    std::fs::write(
        tmp.path().join("shipgate.toml"),
        "[environments]\norder = [\"dev\", \"prod\"]\n",
    )
    .expect("write");
    let (code, got, _) = validate_json(tmp.path());
    assert_eq!(code, 1);
    assert_eq!(
        got,
        [(
            "environments/staging.toml".to_string(),
            1,
            1,
            "unknown-environment".to_string()
        )]
    );
}

// ---- shipgate.toml's [canary]: what `canary run` would refuse, at its line.

/// A `[canary]` with a typo in a query placeholder (line 13) and a quoted placeholder in a
/// command (line 6); `pod-label` as `with_pod_label` says.
fn canary_toml(with_pod_label: bool) -> String {
    let by = if with_pod_label {
        "sum by (pod) "
    } else {
        "sum"
    };
    format!(
        r#"[environments]
order = ["dev", "staging", "prod"]

[canary.command]
promote = "kubectl argo rollouts promote shop --full"
set-weight = "kubectl argo rollouts set weight shop \"{{{{weight}}}}\""
rollback = "kubectl argo rollouts abort shop"

[[canary.metrics]]
name = "error-rate"
kind = "counts"
threshold = 0.001
canary = {{ errors = '{by}(increase(e{{v="{{{{versoin}}}}"}}[{{{{interval}}}}]))', requests = '{by}(increase(r{{v="{{{{version}}}}"}}[{{{{interval}}}}]))' }}
{}"#,
        if with_pod_label {
            "pod-label = \"pod\"\n"
        } else {
            ""
        }
    )
}

/// `canary run --env dev` of 1.4.0 against 1.3.0 in `dir`.
fn canary_run(dir: &Path) -> Run {
    shipgate(
        dir,
        &[
            "canary",
            "run",
            "--env",
            "dev",
            "--canary-version",
            "1.4.0",
            "--baseline-version",
            "1.3.0",
        ],
    )
}

#[test]
fn canary_problems_in_shipgate_toml_are_reported_at_their_key() {
    let tmp = scratch(&[]);
    std::fs::write(tmp.path().join("shipgate.toml"), canary_toml(true)).expect("write");
    let run = shipgate(tmp.path(), &["config", "validate", "--format", "json"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let v: Vec<Value> = serde_json::from_str(&run.stdout).expect("json");
    let got: Vec<(&str, u64, u64, &str, &str)> = v
        .iter()
        .map(|d| {
            (
                d["file"].as_str().unwrap_or(""),
                d["line"].as_u64().unwrap_or(0),
                d["column"].as_u64().unwrap_or(0),
                d["rule"].as_str().unwrap_or(""),
                d["severity"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("shipgate.toml", 6, 1, "canary-settings", "error"),
            ("shipgate.toml", 13, 12, "canary-settings", "error"),
        ]
    );
    let messages: Vec<&str> = v.iter().filter_map(|d| d["message"].as_str()).collect();
    assert!(
        messages[0].starts_with("canary.command.set-weight: `{{weight}}` is inside quotes"),
        "{messages:?}"
    );
    assert!(
        messages[1].starts_with(
            "canary.metrics[0].canary.errors: unknown placeholder `{{versoin}}`; did you mean `{{version}}`?"
        ),
        "{messages:?}"
    );
    assert!(
        run.stderr.contains("2 error(s), 0 warning(s)"),
        "{}",
        run.stderr
    );

    let run = shipgate(tmp.path(), &["config", "validate", "--format", "github"]);
    assert_eq!(run.code, 1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    assert!(
        lines[0].starts_with(
            "::error file=shipgate.toml,line=6,col=1,title=canary-settings::canary.command.set-weight: `{{weight}}` is inside quotes"
        ),
        "{}",
        run.stdout
    );
    assert!(
        lines[1].starts_with("::error file=shipgate.toml,line=13,col=12,title=canary-settings::")
            && lines[1].contains("did you mean `{{version}}`?"),
        "{}",
        run.stdout
    );

    let human = shipgate(tmp.path(), &["config", "validate"]);
    assert_eq!(human.code, 1);
    assert!(
        human
            .stdout
            .contains("error[canary-settings]: canary.metrics[0].canary.errors")
            && human.stdout.contains("--> shipgate.toml:13:12")
            && human.stdout.contains("canary = { errors = '"),
        "{}",
        human.stdout
    );
    let sarif = shipgate(tmp.path(), &["config", "validate", "--format", "sarif"]);
    let log: Value = serde_json::from_str(&sarif.stdout).expect("sarif");
    let results = log["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    assert_eq!(results[1]["ruleId"], "canary-settings");
    assert_eq!(
        results[1]["locations"][0]["physicalLocation"]["region"]["startLine"],
        13
    );
    let junit = shipgate(tmp.path(), &["config", "validate", "--format", "junit"]);
    assert!(
        junit.stdout.contains("name=\"shipgate.toml\"") && junit.stdout.contains("canary-settings"),
        "{}",
        junit.stdout
    );

    // `canary run` refuses the same settings before anything moves.
    let run = canary_run(tmp.path());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("invalid [canary] settings")
            && run.stderr.contains("did you mean `{{version}}`?"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_metric_without_a_pod_label_is_a_warning_in_validate_and_in_canary_run() {
    let tmp = scratch(&[]);
    let fixed = canary_toml(false)
        .replace("{{versoin}}", "{{version}}")
        .replace("\\\"{{weight}}\\\"", "{{weight}}");
    std::fs::write(tmp.path().join("shipgate.toml"), &fixed).expect("write");
    let run = shipgate(tmp.path(), &["config", "validate", "--format", "json"]);
    assert_eq!(
        run.code, 0,
        "warnings do not fail: {}{}",
        run.stdout, run.stderr
    );
    let v: Vec<Value> = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(v.len(), 1, "{v:?}");
    let d = &v[0];
    assert_eq!(
        (
            &d["file"],
            &d["line"],
            &d["column"],
            &d["rule"],
            &d["severity"]
        ),
        (
            &Value::from("shipgate.toml"),
            &Value::from(9),
            &Value::from(1),
            &Value::from("canary-settings"),
            &Value::from("warning")
        )
    );
    assert!(
        d["message"]
            .as_str()
            .is_some_and(|m| m.contains("metric `error-rate` has no pod-label")),
        "{d}"
    );
    assert!(
        d["hint"]
            .as_str()
            .is_some_and(|h| h.starts_with("set pod-label = \"pod\"")),
        "{d}"
    );
    let github = shipgate(tmp.path(), &["config", "validate", "--format", "github"]);
    assert!(
        github
            .stdout
            .starts_with("::warning file=shipgate.toml,line=9,col=1,title=canary-settings::"),
        "{}",
        github.stdout
    );

    // `canary run` prints the same warning, at the same place, before it starts (here it
    // then stops: there is no [canary.prometheus]).
    let run = canary_run(tmp.path());
    assert!(
        run.stderr.starts_with(
            "warning: shipgate.toml:9:1: canary.metrics[0].pod-label: metric `error-rate` has no pod-label"
        ) && run.stderr.contains("\nhint: set pod-label = \"pod\""),
        "{}",
        run.stderr
    );

    // With the label and `sum by (pod)`, nothing to say.
    let with_label = canary_toml(true)
        .replace("{{versoin}}", "{{version}}")
        .replace("\\\"{{weight}}\\\"", "{{weight}}");
    std::fs::write(tmp.path().join("shipgate.toml"), with_label).expect("write");
    let (code, got, stderr) = validate_json(tmp.path());
    assert_eq!((code, got), (0, vec![]), "{stderr}");
}

#[test]
fn a_repository_without_canary_settings_gets_no_canary_diagnostics() {
    let tmp = scratch(&[]);
    std::fs::write(
        tmp.path().join("shipgate.toml"),
        "[environments]\norder = [\"dev\", \"staging\", \"prod\"]\n",
    )
    .expect("write");
    let (code, got, stderr) = validate_json(tmp.path());
    assert_eq!((code, got), (0, vec![]), "{stderr}");
}
