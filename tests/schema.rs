//! shipgate.toml's JSON Schema (`shipgate schema`): the committed `shipgate.schema.json` is
//! the generated one, this repository's shipgate.toml and the docs' examples validate, and
//! the schema and the loader accept and refuse the same files.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn generated() -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_shipgate"))
        .arg("schema")
        .output()
        .expect("shipgate runs");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(&generated()).expect("the schema is JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles")
}

/// The schema's complaints about a TOML text (None: it is not TOML at all).
fn schema_errors(validator: &jsonschema::Validator, text: &str) -> Option<Vec<String>> {
    let value: Value = toml::from_str(text).ok()?;
    Some(
        validator
            .iter_errors(&value)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect(),
    )
}

#[test]
fn the_committed_schema_is_the_generated_one() {
    let committed = std::fs::read_to_string(root().join("shipgate.schema.json"))
        .unwrap_or_else(|e| panic!("cannot read shipgate.schema.json ({e}); run `shipgate schema > shipgate.schema.json`"));
    assert!(
        committed == generated(),
        "shipgate.schema.json is stale: run `shipgate schema > shipgate.schema.json` at the repository root and commit it"
    );
}

#[test]
fn this_repositorys_shipgate_toml_validates_and_names_its_schema() {
    let text = std::fs::read_to_string(root().join("shipgate.toml")).expect("shipgate.toml");
    assert!(
        text.starts_with("#:schema ./shipgate.schema.json\n"),
        "the first line names the schema for taplo"
    );
    let errors = schema_errors(&validator(), &text).expect("TOML");
    assert!(errors.is_empty(), "{errors:#?}");
    shipgate_settings::parse(&text).expect("the loader accepts it");
}

#[path = "support/docs.rs"]
mod docs;

/// The ```toml blocks of README.md and the site's pages whose top-level keys are all
/// shipgate.toml sections, as (`page:line`, text).
fn readme_examples() -> Vec<(String, String)> {
    docs::pages()
        .into_iter()
        .flat_map(|(page, text)| {
            page_examples(&text)
                .into_iter()
                .map(move |(line, block)| (format!("{page}:{line}"), block))
        })
        .collect()
}

/// The shipgate.toml ```toml blocks of one page, with their first lines.
fn page_examples(readme: &str) -> Vec<(usize, String)> {
    const SECTIONS: [&str; 5] = ["release", "changelog", "environments", "canary", "promote"];
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String, usize)> = None;
    for (i, line) in readme.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        match &mut current {
            None if trimmed == "```toml" => current = Some((i + 1, String::new(), indent)),
            Some((start, text, _)) if trimmed.starts_with("```") => {
                blocks.push((*start, std::mem::take(text)));
                current = None;
            }
            Some((_, text, indent)) => {
                text.push_str(line.get(*indent..).unwrap_or(trimmed));
                text.push('\n');
            }
            None => {}
        }
    }
    blocks
        .into_iter()
        .filter(|(_, text)| {
            toml::from_str::<toml::Table>(text)
                .map(|t| t.keys().all(|k| SECTIONS.contains(&k.as_str())))
                .unwrap_or(true)
        })
        .collect()
}

#[test]
fn readmes_shipgate_toml_examples_validate() {
    let validator = validator();
    let examples = readme_examples();
    assert!(examples.len() >= 7, "{} examples found", examples.len());
    for (line, text) in examples {
        let errors = schema_errors(&validator, &text)
            .unwrap_or_else(|| panic!("{line}: the example is not TOML"));
        assert!(errors.is_empty(), "{line}: {errors:#?}\n{text}");
        if let Err(e) = shipgate_settings::parse(&text) {
            panic!("{line}: the loader refuses the example: {e:?}\n{text}");
        }
    }
}

/// What `config validate` says about shipgate.toml `text`, as `line: message`, the findings
/// `keep` keeps.
fn findings(text: &str, keep: impl Fn(&shipgate_settings::Finding) -> bool) -> Vec<String> {
    shipgate_settings::parse(text)
        .expect("the loader accepts it")
        .findings()
        .unwrap_or_default()
        .into_iter()
        .filter(keep)
        .map(|f| format!("{}: {}", f.line, f.message))
        .collect()
}

#[test]
fn readmes_canary_metrics_are_split_by_pod_and_valid() {
    let mut with_metrics = 0;
    for (line, text) in readme_examples() {
        if !text.contains("[[canary.metrics]]") {
            continue;
        }
        with_metrics += 1;
        // About the example's own metrics, not a default one.
        let found = findings(&text, |f| {
            f.key.contains("metrics[") && !f.message.contains("(a default metric")
        });
        // The CloudWatch example elides the baseline's queries (`# … the same three`).
        let elided = text.contains("# … the same three");
        assert!(
            found
                .iter()
                .all(|f| elided && f.contains("is not a query of")),
            "{line}: {found:#?}\n{text}"
        );
    }
    assert!(with_metrics >= 4, "{with_metrics} examples with metrics");
}

#[test]
fn inits_shipgate_toml_has_nothing_for_config_validate_to_say() {
    // What init writes, through init itself (every placeholder of the template filled).
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"orders\"\nversion = \"1.3.0\"\nedition = \"2024\"\n",
    )
    .expect("Cargo.toml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shipgate"))
        .arg("--repo")
        .arg(dir.path())
        .arg("init")
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("init runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.path().join("shipgate.toml")).expect("written");
    assert!(text.contains("\n[canary]\n"));
    assert_eq!(findings(&text, |_| true), Vec::<String>::new());
    // The commented actuator too, once uncommented (README's adoption step).
    let uncommented = text
        .replace("# [canary.argo-rollouts]", "[canary.argo-rollouts]")
        .replace("\n# rollout = ", "\nrollout = ")
        .replace("\n# namespace = ", "\nnamespace = ");
    assert!(uncommented.contains("\n[canary.argo-rollouts]\nrollout = \"orders\"\nnamespace = "));
    assert_eq!(findings(&uncommented, |_| true), Vec::<String>::new());
}

/// `text`, accepted (true) or refused (false) by both the schema and the loader.
fn check(validator: &jsonschema::Validator, text: &str, accepted: bool) {
    let schema = schema_errors(validator, text).expect("test cases are TOML");
    let loader = shipgate_settings::parse(text);
    assert_eq!(
        schema.is_empty(),
        accepted,
        "schema on {text:?}: {schema:#?}"
    );
    assert_eq!(loader.is_ok(), accepted, "loader on {text:?}: {loader:?}");
}

#[test]
fn the_schema_and_the_loader_agree() {
    let validator = validator();
    let cases: &[(&str, bool)] = &[
        ("", true),
        (
            "#:schema ./shipgate.schema.json\n[release]\nmode = \"per-crate\"\n",
            true,
        ),
        // unknown keys, at every level
        ("[relase]\n", false),
        ("[release]\ntag-fromat = \"v{version}\"\n", false),
        (
            "[release.bump]\nminor-types = [\"feat\"]\nmajor-types = []\n",
            false,
        ),
        (
            "[[release.files]]\npath = \"VERSION\"\npattern = \"{version}\"\nglob = true\n",
            false,
        ),
        ("[changelog]\nfold-prerelease = true\n", false),
        ("[environments.slo]\nmin-replica = 2\n", false),
        ("[canary]\nintervall = \"10s\"\n", false),
        (
            "[canary.prometheus]\nurl = \"http://p:9090\"\ntimeot = \"1s\"\n",
            false,
        ),
        (
            "[canary.command]\nset-weight = \"a\"\npromote = \"b\"\nrollback = \"c\"\nabort = \"d\"\n",
            false,
        ),
        ("[canary.env.prod]\nstpes = []\n", false),
        ("[promote]\nversion-keys = \"x\"\n", false),
        (
            "[[promote.env.prod.freeze]]\ndate = \"2026-12-24\"\ntime-zone = \"UTC\"\nreason = \"x\"\n",
            false,
        ),
        // wrong types
        ("[release]\nstrict = \"yes\"\n", false),
        ("[release]\nfiles = \"pom.xml\"\n", false),
        ("[environments]\norder = \"dev\"\n", false),
        ("[environments]\nmax-file-size = -1\n", false),
        ("[canary]\nalpha = \"0.01\"\n", false),
        ("[canary]\nsteps = [{ weight = 500 }]\n", false),
        ("[canary]\nsteps = []\n", false),
        ("[promote.env.prod]\napprovals = \"two\"\n", false),
        // bad enum values and malformed strings
        ("[release]\nmode = \"per-package\"\n", false),
        ("[canary]\non-inconclusive = \"ignore\"\n", false),
        (
            "[[canary.metrics]]\nname = \"x\"\nkind = \"histogram\"\ncanary = { value = \"q\" }\n",
            false,
        ),
        ("[promote.env.dev]\nverification = \"smoke\"\n", false),
        ("[canary]\ninterval = \"10 parsecs\"\n", false),
        ("[promote.env.prod]\nsoak = \"2 hours\"\n", false),
        (
            "[[promote.env.prod.freeze]]\nfrom = \"Fri 16:00\"\nto = \"Mon 08:00\"\n",
            false,
        ),
        (
            "[[promote.env.prod.freeze]]\nfrom = \"Fry 16:00\"\nto = \"Mon 08:00\"\ntime-zone = \"UTC\"\n",
            false,
        ),
        (
            "[[promote.env.prod.freeze]]\ndate = \"2026-12-24\"\nstart = \"2026-12-24T00:00:00Z\"\ntime-zone = \"UTC\"\n",
            false,
        ),
        ("[environments]\norder = [\"dev\", \"../prod\"]\n", false),
        ("[environments]\norder = [\"dev\", \"dev\"]\n", false),
        ("[environments]\norder = [\"base\", \"prod\"]\n", false),
        (
            "[[release.files]]\npath = \"../outside/pom.xml\"\npattern = \"{version}\"\n",
            false,
        ),
        (
            "[[release.files]]\npath = \"/etc/passwd\"\npattern = \"{version}\"\n",
            false,
        ),
        (
            "[[release.files]]\npath = \"VERSION\"\npattern = \"version\"\n",
            false,
        ),
        // a file whose format shipgate does not know by its name needs a pattern
        ("[[release.files]]\npath = \"VERSION\"\n", false),
        ("[[release.files]]\npath = \"web/my-package.json\"\n", false),
        (
            "[[release.files]]\npath = \"gradle.properties.bak\"\n",
            false,
        ),
        ("[release]\nnext-snapshot = \"yes\"\n", false),
        // valid files the schema must not refuse
        (
            "[release]\nnext-snapshot = true\n\n[[release.files]]\npath = \"gradle.properties\"\n\n[[release.files]]\npath = \"app/build.gradle.kts\"\n\n[[release.files]]\npath = \"web\\\\package-lock.json\"\nnext-snapshot = false\n\n[[release.files]]\npath = \"build.gradle\"\n\n[[release.files]]\npath = \"npm-shrinkwrap.json\"\n\n[[release.files]]\npath = \"web/package.json\"\n",
            true,
        ),
        (
            "[[release.files]]\npath = \"web/package.json\"\npattern = '\"version\": \"{version}\"'\n",
            true,
        ),
        (
            "[release]\nremote = \"upstream\"\n[release.bump]\npatch-types = [\"fix\"]\n",
            true,
        ),
        (
            "[canary]\ninterval = \"1h30m\"\nsteps = [{ weight = 10, hold = \"500ms\" }, { weight = 100 }]\n",
            true,
        ),
        (
            "[[promote.env.prod.freeze]]\nfrom = \"friday 16:00\"\nto = \"MON 08:00\"\ntime-zone = \"Europe/Berlin\"\n",
            true,
        ),
        (
            "[[promote.env.prod.freeze]]\nstart = \"2026-12-20T00:00:00+01:00\"\nend = \"2027-01-04T08:00:00+01:00\"\n",
            true,
        ),
        (
            "[environments]\norder = [\"test\", \"live\"]\n[environments.parity]\npairs = [[\"test\", \"live\"]]\n",
            true,
        ),
        (
            "[canary.webhook]\nurl = \"https://hooks.example.com\"\nbearer-token-env = \"T\"\n",
            true,
        ),
    ];
    assert!(cases.len() >= 20);
    for (text, accepted) in cases {
        check(&validator, text, *accepted);
    }
}
