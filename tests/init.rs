//! End-to-end tests of `shipgate init` through the real binary: a Cargo workspace, a Maven
//! project, Gradle projects, npm projects with their lockfiles and an empty repository each
//! get a setup that validates and releases; a pom.xml on one line gets a pattern that finds
//! its version, or a warning instead of a broken one; a release workflow of the
//! repository's own is named, and replaced on request; re-runs keep every file (and write
//! no skeleton into a Spring or Helm layout's directory); `--dry-run` writes nothing; a
//! hostile `[environments] directory` is refused. Spring Boot profiles and Helm values files
//! become the environments (JHipster's, cognigy's, podinfo's and prison-register's shapes),
//! a chart's version is released, and the tag format follows the repository's tags.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

#[path = "support/git_repo.rs"]
mod git_repo;
use git_repo::{Repo, shipgate_command, stderr};
#[path = "support/rng.rs"]
mod rng;
#[path = "support/spring.rs"]
mod spring;
use spring::POM;

/// Every file a setup with the default environments has.
const SETUP: [&str; 11] = [
    "shipgate.toml",
    "shipgate.schema.json",
    "environments/schema.json",
    "environments/base.toml",
    "environments/dev.toml",
    "environments/staging.toml",
    "environments/prod.toml",
    ".github/workflows/ci.yml",
    ".github/workflows/release.yml",
    ".github/workflows/deploy.yml",
    "VERSION",
];

/// `shipgate init --json …`: its exit code and JSON answer.
fn init(repo: &Repo, extra: &[&str]) -> Value {
    let mut args = vec!["init", "--json"];
    args.extend_from_slice(extra);
    let out = repo.shipgate(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("string").to_string())
        .collect()
}

/// Every file under `dir` (not .git), with its contents.
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("list") {
            let path = entry.expect("entry").path();
            if path.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("inside");
                out.push((
                    rel.display().to_string(),
                    std::fs::read(&path).expect("read"),
                ));
            }
        }
    }
    out.sort();
    out
}

/// `shipgate config validate` passes on the repository.
fn assert_valid(repo: &Repo) {
    let out = repo.shipgate(&["config", "validate"]);
    let output = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{output}");
}

/// The setup validates, its shipgate.toml validates against the schema it wrote, and a
/// release is planned after a `feat:` commit; returns the plan.
fn check_setup(repo: &Repo) -> Value {
    let schema: Value =
        serde_json::from_str(&repo.read("shipgate.schema.json")).expect("schema JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let text = repo.read("shipgate.toml");
    assert!(
        text.starts_with("#:schema ./shipgate.schema.json\n"),
        "{text}"
    );
    let config: Value = toml::from_str(&text).expect("TOML");
    let errors: Vec<String> = validator
        .iter_errors(&config)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}\n{text}");

    assert_valid(repo);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "chore: shipgate init"]);
    repo.commit("feat: something new");
    let out = repo.shipgate(&["release", "--dry-run", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("plan JSON")
}

#[test]
fn a_cargo_workspace_gets_a_valid_setup() {
    let repo = Repo::new();
    repo.write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"3\"\n\n[workspace.package]\nversion = \"0.3.0\"\n",
    );
    repo.write(
        "crates/cart/Cargo.toml",
        "[package]\nname = \"cart\"\nversion.workspace = true\nedition = \"2024\"\n",
    );
    repo.write("crates/cart/src/lib.rs", "//! cart\n");
    repo.commit("chore: start");
    let answer = init(&repo, &[]);
    assert_eq!(
        strings(&answer["detected"]),
        ["Cargo.toml".to_string()].into()
    );
    let expected: BTreeSet<String> = SETUP[..10].iter().map(|s| s.to_string()).collect();
    assert_eq!(strings(&answer["written"]), expected);
    assert_eq!(answer["dry_run"], false);
    assert!(!repo.read("shipgate.toml").contains("[[release.files]]"));
    let plan = check_setup(&repo);
    assert_eq!(
        (plan["current"].as_str(), plan["next"].as_str()),
        (Some("0.3.0"), Some("0.3.1"))
    );
}

/// A project with one manifest `(path, text)` gets a valid setup: the manifest detected,
/// `entry` in its shipgate.toml, `service` as the service's name, and the release after a
/// `feat:` commit going `from` → `to`.
fn check_project(manifest: (&str, &str), entry: &str, service: &str, from: &str, to: &str) {
    let repo = Repo::new();
    repo.write(manifest.0, manifest.1);
    repo.commit("chore: start");
    let answer = init(&repo, &[]);
    assert_eq!(
        strings(&answer["detected"]),
        [manifest.0.to_string()].into()
    );
    let text = repo.read("shipgate.toml");
    assert!(text.contains(entry), "{text}");
    let base = repo.read("environments/base.toml");
    assert!(base.contains(&format!("name = \"{service}\"")), "{base}");
    assert!(base.contains(&format!("tag = \"{from}\"")), "{base}");
    let plan = check_setup(&repo);
    assert_eq!(
        (plan["current"].as_str(), plan["next"].as_str()),
        (Some(from), Some(to))
    );
}

#[test]
fn a_maven_project_gets_a_valid_setup() {
    check_project(
        ("pom.xml", POM),
        "path = \"pom.xml\"\npattern = \"<artifactId>orders</artifactId> <version>{version}</version>\"",
        "orders",
        "1.3.0",
        "1.4.0",
    );
}

#[test]
fn a_package_json_project_gets_a_valid_setup() {
    check_project(
        (
            "package.json",
            "{\n  \"name\": \"@shop/web\",\n  \"version\": \"2.0.1\",\n  \"dependencies\": { \"left-pad\": \"1.3.0\" }\n}\n",
        ),
        "# The version in package.json (shipgate knows its format by its name).\n[[release.files]]\npath = \"package.json\"\n\n",
        "web",
        "2.0.1",
        "2.1.0",
    );
}

#[test]
fn an_empty_repository_gets_a_version_file_and_a_valid_setup() {
    let repo = Repo::new();
    let answer = init(&repo, &[]);
    assert_eq!(strings(&answer["detected"]), BTreeSet::new());
    let expected: BTreeSet<String> = SETUP.iter().map(|s| s.to_string()).collect();
    assert_eq!(strings(&answer["written"]), expected);
    assert_eq!(repo.read("VERSION"), "0.1.0\n");
    let plan = check_setup(&repo);
    assert_eq!(
        (plan["current"].as_str(), plan["next"].as_str()),
        (Some("0.1.0"), Some("0.1.1"))
    );
}

#[test]
fn a_rerun_keeps_everything_and_writes_nothing() {
    let repo = Repo::new();
    repo.write("pom.xml", POM);
    init(&repo, &[]);
    let before = tree(&repo.dir);
    let answer = init(&repo, &[]);
    assert_eq!(strings(&answer["written"]), BTreeSet::new());
    assert_eq!(strings(&answer["kept"]).len(), 10);
    assert_eq!(tree(&repo.dir), before);
    // The human answer names what it kept.
    let out = repo.stdout(&["init"]);
    assert!(
        out.contains("kept       shipgate.toml (it exists)"),
        "{out}"
    );
}

#[test]
fn an_existing_file_is_kept_and_the_rest_written() {
    let repo = Repo::new();
    repo.write(".github/workflows/ci.yml", "name: our own ci\n");
    let answer = init(&repo, &[]);
    assert_eq!(
        strings(&answer["kept"]),
        [".github/workflows/ci.yml".to_string()].into()
    );
    assert_eq!(repo.read(".github/workflows/ci.yml"), "name: our own ci\n");
    assert!(strings(&answer["written"]).contains("shipgate.toml"));
}

#[test]
fn an_existing_shipgate_toml_is_kept_and_says_where_the_environments_go() {
    let repo = Repo::new();
    repo.write(
        "shipgate.toml",
        "[environments]\norder = [\"test\", \"live\"]\ndirectory = \"deploy/envs\"\n",
    );
    let answer = init(&repo, &[]);
    assert!(strings(&answer["kept"]).contains("shipgate.toml"));
    let written = strings(&answer["written"]);
    for f in [
        "deploy/envs/base.toml",
        "deploy/envs/test.toml",
        "deploy/envs/live.toml",
    ] {
        assert!(written.contains(f), "{written:?}");
    }
    assert_valid(&repo);
}

#[test]
fn dry_run_writes_nothing() {
    let repo = Repo::new();
    repo.write("pom.xml", POM);
    let before = tree(&repo.dir);
    let answer = init(&repo, &["--dry-run"]);
    assert_eq!(answer["dry_run"], true);
    assert_eq!(strings(&answer["written"]).len(), 10);
    assert_eq!(tree(&repo.dir), before);
    let out = repo.stdout(&["init", "--dry-run"]);
    assert!(out.contains("would write shipgate.toml"), "{out}");
    assert_eq!(tree(&repo.dir), before);
}

#[test]
fn an_init_cut_short_is_finished_by_the_next_run() {
    let repo = Repo::new();
    repo.write("pom.xml", POM);
    init(&repo, &[]);
    let done = tree(&repo.dir);
    // As a run killed before its last writes leaves it: files missing, a temp file left.
    std::fs::remove_file(repo.path("shipgate.toml")).expect("rm");
    std::fs::remove_file(repo.path("environments/prod.toml")).expect("rm");
    repo.write("environments/.shipgate-4242-0.tmp", "[service]\nrepl");
    let answer = init(&repo, &[]);
    assert_eq!(
        strings(&answer["written"]),
        [
            "environments/prod.toml".to_string(),
            "shipgate.toml".to_string()
        ]
        .into()
    );
    std::fs::remove_file(repo.path("environments/.shipgate-4242-0.tmp")).expect("rm");
    assert_eq!(tree(&repo.dir), done);
}

#[test]
fn a_hostile_environments_directory_is_refused() {
    let repo = Repo::new();
    let outside = repo.dir.parent().expect("tmp").join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir");
    std::os::unix::fs::symlink(&outside, repo.path("linked")).expect("symlink");
    for dir in [
        "../outside",
        "environments/../../outside",
        &outside.display().to_string(),
        "linked/envs",
    ] {
        let config = format!("[environments]\ndirectory = {}\n", Value::from(dir));
        repo.write("shipgate.toml", &config);
        let before = tree(&repo.dir);
        let out = repo.shipgate(&["init"]);
        assert_eq!(out.status.code(), Some(2), "{dir}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("is outside the repository"),
            "{}",
            stderr(&out)
        );
        assert_eq!(tree(&repo.dir), before, "{dir}");
        assert_eq!(
            std::fs::read_dir(&outside).expect("list").count(),
            0,
            "{dir}"
        );
    }
}

/// The files of `dir` without the temporary files a killed write leaves
/// (`.shipgate-<pid>-<n>.tmp`).
fn finished(dir: &Path) -> Vec<(String, Vec<u8>)> {
    tree(dir)
        .into_iter()
        .filter(|(path, _)| {
            !path
                .rsplit('/')
                .next()
                .is_some_and(|n| n.starts_with(".shipgate-"))
        })
        .collect()
}

#[test]
fn random_sigkills_during_init_leave_whole_files_and_converge() {
    let reference = Repo::new();
    reference.write("pom.xml", POM);
    init(&reference, &[]);
    let done = finished(&reference.dir);
    let mut rng = rng::Rng::from_env("random_sigkills_during_init");
    for _ in 0..12 {
        let repo = Repo::new();
        repo.write("pom.xml", POM);
        let mut child = shipgate_command(&repo.dir, &["init"], &[])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(std::time::Duration::from_micros(rng.below(100_000)));
        let _ = child.kill();
        let _ = child.wait();
        // Whatever was written is whole: every file is the finished run's, or absent.
        for (path, contents) in finished(&repo.dir) {
            let expected = done.iter().find(|(p, _)| *p == path).map(|(_, c)| c);
            assert_eq!(expected, Some(&contents), "{path} is half written");
        }
        init(&repo, &[]);
        assert_eq!(finished(&repo.dir), done);
    }
}

/// The `[[release.files]]` entry init writes for a file known by its name.
fn known(path: &str) -> String {
    format!(
        "# The version in {path} (shipgate knows its format by its name).\n[[release.files]]\npath = \"{path}\"\n"
    )
}

/// Spring Initializr's Gradle build, Groovy or Kotlin, at `version`.
fn build_gradle(kotlin: bool, version: &str) -> String {
    if kotlin {
        format!(
            "plugins {{\n    java\n    id(\"org.springframework.boot\") version \"3.3.4\"\n    id(\"io.spring.dependency-management\") version \"1.1.6\"\n}}\n\ngroup = \"com.example\"\nversion = \"{version}\"\n"
        )
    } else {
        format!(
            "plugins {{\n    id 'java'\n    id 'org.springframework.boot' version '3.3.4'\n    id 'io.spring.dependency-management' version '1.1.6'\n}}\n\ngroup = 'com.example'\nversion = '{version}'\n"
        )
    }
}

#[test]
fn a_gradle_project_gets_a_valid_setup_with_snapshots() {
    for (script, kotlin) in [("build.gradle", false), ("build.gradle.kts", true)] {
        let repo = Repo::new();
        repo.write("settings.gradle", "rootProject.name = 'orders'\n");
        repo.write(script, &build_gradle(kotlin, "1.3.0-SNAPSHOT"));
        repo.commit("chore: start");
        let answer = init(&repo, &[]);
        assert_eq!(strings(&answer["detected"]), [script.to_string()].into());
        assert_eq!(answer["warnings"], serde_json::json!([]), "{answer}");
        let text = repo.read("shipgate.toml");
        assert!(text.contains(&known(script)), "{text}");
        assert!(
            text.contains("\nnext-snapshot = true\n"),
            "a SNAPSHOT project: {text}"
        );
        assert!(
            repo.read("environments/base.toml")
                .contains("name = \"orders\""),
            "the service is named after rootProject.name"
        );
        let plan = check_setup(&repo);
        assert_eq!(
            (plan["current"].as_str(), plan["next"].as_str()),
            (Some("1.3.0-SNAPSHOT"), Some("1.3.0")),
            "{plan}"
        );
        assert_eq!(plan["next_snapshot"]["version"], "1.3.1-SNAPSHOT", "{plan}");
        assert_eq!(plan["warnings"], serde_json::json!([]), "{plan}");
    }
}

#[test]
fn gradle_properties_holds_the_version_when_the_script_does_not() {
    let repo = Repo::new();
    repo.write(
        "gradle.properties",
        "org.gradle.jvmargs=-Xmx2g\nversion=2.4.0\n",
    );
    repo.write(
        "build.gradle.kts",
        "plugins {\n    id(\"org.springframework.boot\") version \"3.3.4\"\n}\n",
    );
    repo.commit("chore: start");
    let answer = init(&repo, &[]);
    assert_eq!(
        strings(&answer["detected"]),
        [
            "build.gradle.kts".to_string(),
            "gradle.properties".to_string()
        ]
        .into()
    );
    assert_eq!(answer["warnings"], serde_json::json!([]), "{answer}");
    let text = repo.read("shipgate.toml");
    assert!(text.contains(&known("gradle.properties")), "{text}");
    assert!(!text.contains("path = \"build.gradle.kts\""), "{text}");
    assert!(
        text.contains("\n# next-snapshot = true\n"),
        "no SNAPSHOT: commented: {text}"
    );
    let plan = check_setup(&repo);
    assert_eq!(
        (plan["current"].as_str(), plan["next"].as_str()),
        (Some("2.4.0"), Some("2.5.0"))
    );
}

#[test]
fn a_gradle_script_without_a_version_is_named_with_what_to_do() {
    let repo = Repo::new();
    repo.write(
        "build.gradle",
        "plugins {\n    id 'org.springframework.boot' version '3.3.4'\n}\nversion = findProperty('release') ?: '0.0.0'\n",
    );
    let answer = init(&repo, &[]);
    assert_eq!(
        answer["warnings"],
        serde_json::json!([
            "build.gradle: no `version = \"…\"` statement with a literal version, so shipgate.toml has no [[release.files]] entry for it: line 4 sets `version` from an expression: point the [[release.files]] entry at the file that holds the literal (gradle.properties), or give it a `pattern`; then add one to shipgate.toml: [[release.files]] path = \"build.gradle\""
        ])
    );
    // nothing held a version: the VERSION file, so that the release still has one
    assert_eq!(repo.read("VERSION"), "0.1.0\n");
    assert!(
        !repo
            .read("shipgate.toml")
            .contains("path = \"build.gradle\"")
    );
    check_setup(&repo);
}

/// package.json and its lockfile of `lockfile_version`, with a dependency at the package's
/// own version.
fn npm_project(repo: &Repo, lockfile_version: u8) {
    repo.write(
        "package.json",
        "{\n  \"name\": \"@shop/web\",\n  \"version\": \"1.4.0\",\n  \"dependencies\": {\n    \"left-pad\": \"1.4.0\"\n  }\n}\n",
    );
    let packages = "  \"packages\": {\n    \"\": {\n      \"name\": \"@shop/web\",\n      \"version\": \"1.4.0\",\n      \"dependencies\": { \"left-pad\": \"1.4.0\" }\n    },\n    \"node_modules/left-pad\": { \"version\": \"1.4.0\" }\n  }";
    let dependencies = "  \"dependencies\": {\n    \"left-pad\": { \"version\": \"1.4.0\" }\n  }";
    let body = match lockfile_version {
        1 => dependencies.to_string(),
        2 => format!("{packages},\n{dependencies}"),
        _ => packages.to_string(),
    };
    let lock = format!(
        "{{\n  \"name\": \"@shop/web\",\n  \"version\": \"1.4.0\",\n  \"lockfileVersion\": {lockfile_version},\n  \"requires\": true,\n{body}\n}}\n"
    );
    let name = if lockfile_version == 1 {
        "npm-shrinkwrap.json"
    } else {
        "package-lock.json"
    };
    repo.write(name, &lock);
}

#[test]
fn npm_lockfiles_are_detected_and_released_with_the_package() {
    for lockfile_version in [1u8, 2, 3] {
        let repo = Repo::new();
        npm_project(&repo, lockfile_version);
        repo.commit("chore: start");
        let lock = if lockfile_version == 1 {
            "npm-shrinkwrap.json"
        } else {
            "package-lock.json"
        };
        let answer = init(&repo, &[]);
        assert_eq!(
            strings(&answer["detected"]),
            [lock.to_string(), "package.json".to_string()].into(),
            "v{lockfile_version}"
        );
        let text = repo.read("shipgate.toml");
        assert!(
            text.contains(&known("package.json")) && text.contains(&known(lock)),
            "v{lockfile_version}: {text}"
        );
        let plan = check_setup(&repo);
        assert_eq!(plan["next"], "1.5.0", "v{lockfile_version}: {plan}");
        let before = repo.read(lock);
        let out = repo.shipgate(&["release"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let own = if lockfile_version == 1 { 1 } else { 2 };
        assert_eq!(
            repo.read(lock),
            before.replacen("\"version\": \"1.4.0\",", "\"version\": \"1.5.0\",", own),
            "v{lockfile_version}: the package's versions move, left-pad's stays"
        );
        assert!(
            repo.read("package.json")
                .contains("\"left-pad\": \"1.4.0\"")
        );
    }
}

#[test]
fn a_one_line_pom_gets_a_pattern_that_finds_its_version() {
    let repo = Repo::new();
    repo.write(
        "pom.xml",
        "<project><modelVersion>4.0.0</modelVersion><groupId>com.example</groupId><artifactId>x</artifactId><version>1.0.0</version></project>\n",
    );
    repo.commit("chore: start");
    let answer = init(&repo, &[]);
    assert_eq!(answer["warnings"], serde_json::json!([]), "{answer}");
    let plan = check_setup(&repo);
    assert_eq!(
        (plan["current"].as_str(), plan["next"].as_str()),
        (Some("1.0.0"), Some("1.1.0"))
    );
    let out = repo.shipgate(&["release"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        repo.read("pom.xml")
            .contains("<artifactId>x</artifactId><version>1.1.0</version>")
    );
}

#[test]
fn a_pom_whose_version_no_pattern_finds_is_named_instead_of_a_broken_entry() {
    let repo = Repo::new();
    repo.write(
        "pom.xml",
        "<project><artifactId>x</artifactId><version>1.0</version></project>\n",
    );
    let out = repo.shipgate(&["init"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("warning: pom.xml: the project's version `1.0` is not a semantic version (X.Y.Z), so shipgate.toml has no [[release.files]] entry for it: write it as one (e.g. `1.0.0`); then add one to shipgate.toml: [[release.files]] path = \"pom.xml\", pattern = \"<artifactId>x</artifactId> <version>{version}</version>\"\n"),
        "{}",
        stderr(&out)
    );
    assert!(!repo.read("shipgate.toml").contains("pom.xml\""));
    // what init wrote releases: the next dry run is not an error
    check_setup(&repo);
}

/// A release workflow of the repository's own: on `v*.*.*` tags, every job disabled.
const FOREIGN_RELEASE: &str = "name: release\non:\n  push:\n    tags: ['v*.*.*']\njobs:\n  publish:\n    if: false\n    runs-on: ubuntu-latest\n    steps:\n      - run: ./gradlew publish\n";

#[test]
fn a_foreign_release_workflow_is_named_and_replaced_on_request() {
    let repo = Repo::new();
    repo.write(".github/workflows/release.yml", FOREIGN_RELEASE);
    repo.write(".github/workflows/ci.yml", "name: our own ci\n");
    let out = repo.shipgate(&["init"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("kept       .github/workflows/release.yml (it exists)"),
        "{stdout}"
    );
    assert_eq!(
        stderr(&out).lines().next(),
        Some(
            "warning: .github/workflows/release.yml is the repository's own and does not run shipgate, so init kept it and shipgate's is not there: run `shipgate init --replace-workflows` to put shipgate's in its place (yours is kept as .github/workflows/release.yml.orig), or move it aside yourself (`git mv .github/workflows/release.yml .github/workflows/release.yml.orig`) and run `shipgate init` again"
        )
    );
    assert!(
        !stderr(&out).contains("ci.yml"),
        "the project's CI is its own business"
    );
    assert_eq!(repo.read(".github/workflows/release.yml"), FOREIGN_RELEASE);

    let before = tree(&repo.dir);
    let answer = init(&repo, &["--replace-workflows", "--dry-run"]);
    assert_eq!(
        answer["replaced"],
        serde_json::json!([{ "path": ".github/workflows/release.yml", "backup": ".github/workflows/release.yml.orig" }])
    );
    assert_eq!(tree(&repo.dir), before, "a dry run moves nothing");

    let answer = init(&repo, &["--replace-workflows"]);
    assert_eq!(
        strings(&answer["written"]),
        [".github/workflows/release.yml".to_string()].into()
    );
    assert_eq!(answer["warnings"], serde_json::json!([]));
    assert_eq!(
        repo.read(".github/workflows/release.yml.orig"),
        FOREIGN_RELEASE
    );
    let ours = repo.read(".github/workflows/release.yml");
    assert!(
        ours.contains("args: release --push --github-release"),
        "{ours}"
    );
    assert_eq!(
        repo.read(".github/workflows/ci.yml"),
        "name: our own ci\n",
        "never replaced"
    );
    // shipgate's own is kept from now on, and a second backup is never overwritten
    let answer = init(&repo, &["--replace-workflows"]);
    assert_eq!(strings(&answer["written"]), BTreeSet::new());
    assert_eq!(answer["warnings"], serde_json::json!([]));
    repo.write(".github/workflows/release.yml", FOREIGN_RELEASE);
    let out = repo.shipgate(&["init", "--replace-workflows"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("error: cannot replace .github/workflows/release.yml: .github/workflows/release.yml.orig exists already\nhint: move or remove the old backup"),
        "{}",
        stderr(&out)
    );
}

/// A JHipster-style Spring Boot service (Gradle, `src/main/resources/config`): dev and prod
/// profiles, and profiles that are not environments (tls, secret-samples).
fn jhipster(repo: &Repo) {
    repo.write("settings.gradle", "rootProject.name = 'jhipster-sample'\n");
    repo.write("build.gradle", &build_gradle(false, "0.0.1-SNAPSHOT"));
    let config = "src/main/resources/config";
    repo.write(
        &format!("{config}/application.yml"),
        "# Spring Boot configuration shared by every profile.\nspring:\n  application:\n    name: jhipsterSampleApplication\n  profiles:\n    active: '@spring.profiles.active@'\nserver:\n  port: 8080\n",
    );
    for profile in ["dev", "prod"] {
        repo.write(
            &format!("{config}/application-{profile}.yml"),
            &format!(
                "# Spring Boot configuration for the \"{profile}\" profile.\nlogging:\n  level:\n    ROOT: {}\n",
                if profile == "dev" { "DEBUG" } else { "INFO" }
            ),
        );
    }
    repo.write(
        &format!("{config}/application-tls.yml"),
        "server:\n  ssl:\n    enabled: true\n",
    );
    repo.write(
        &format!("{config}/application-secret-samples.yml"),
        "spring:\n  datasource:\n    username: sample\n",
    );
}

/// Every file under `rel`, with its contents.
fn files_under(repo: &Repo, rel: &str) -> Vec<(String, Vec<u8>)> {
    tree(&repo.path(rel))
}

/// init's JSON `environments` for configuration it detected.
fn detected(layout: &str, directory: &str, order: &[&str], names: Value, not: &[&str]) -> Value {
    serde_json::json!({
        "from": "detected",
        "layout": layout,
        "directory": directory,
        "order": order,
        "names": names,
        "not_environments": not,
    })
}

#[test]
fn a_spring_boot_service_gets_its_profiles_as_environments_and_no_skeleton() {
    let repo = Repo::new();
    jhipster(&repo);
    repo.commit("chore: start");
    let config = files_under(&repo, "src/main/resources/config");
    let answer = init(&repo, &[]);
    assert_eq!(
        answer["environments"],
        detected(
            "spring",
            "src/main/resources/config",
            &["dev", "prod"],
            serde_json::json!({}),
            &["secret-samples", "tls"]
        ),
        "{answer}"
    );
    let written = strings(&answer["written"]);
    assert!(
        written.iter().all(|f| !f.starts_with("environments/")),
        "{written:?}"
    );
    assert!(!repo.path("environments").exists());
    assert_eq!(files_under(&repo, "src/main/resources/config"), config);
    let text = repo.read("shipgate.toml");
    assert!(
        text.contains(
            "[environments]\nlayout = \"spring\"\ndirectory = \"src/main/resources/config\"\norder = [\"dev\", \"prod\"]\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("[promote.env.dev]\nverification = \"none\"\n")
            && text.contains("[promote.env.prod]\nsoak = \"2h\"\n"),
        "{text}"
    );
    assert!(!text.contains("version-key"), "{text}");
    let out = repo.stdout(&["init", "--dry-run"]);
    assert!(
        out.contains("kept       [environments] layout = \"spring\" in src/main/resources/config (shipgate.toml)"),
        "{out}"
    );
    check_setup(&repo);
}

#[test]
fn a_rerun_with_a_spring_or_helm_layout_writes_no_skeleton_into_its_directory() {
    for (layout, directory) in [
        ("spring", "src/main/resources/config"),
        ("helm", "src/main/resources/config"),
    ] {
        let repo = Repo::new();
        jhipster(&repo);
        repo.write(
            "shipgate.toml",
            &format!(
                "[environments]\nlayout = \"{layout}\"\ndirectory = \"{directory}\"\norder = [\"dev\", \"prod\"]\n"
            ),
        );
        let before = files_under(&repo, directory);
        let answer = init(&repo, &[]);
        let written = strings(&answer["written"]);
        assert!(
            written.iter().all(|f| !f.starts_with(directory)),
            "{layout}: {written:?}"
        );
        assert_eq!(files_under(&repo, directory), before, "{layout}");
        assert!(!repo.path("environments").exists(), "{layout}");
        assert_eq!(
            answer["environments"],
            serde_json::json!({ "from": "shipgate.toml", "layout": layout, "directory": directory }),
            "{layout}"
        );
    }
}

/// cognigy-vg-helm-chart's shape: the chart at the root, quoted versions, dependencies of
/// its own, values per environment (`production` for prod).
const COGNIGY_CHART: &str = "apiVersion: v2\nname: voicegateway\ndescription: A Helm Chart for Cognigy VoiceGateway\nversion: \"2026.15.2\"\nappVersion: \"2026.15.2\"\nkubeVersion: \"<v1.35.0-0\"\ndependencies:\n  - name: traefik\n    version: \"39.0.9\"\n    repository: \"https://helm.traefik.io/traefik\"\n";

#[test]
fn a_helm_chart_gets_its_values_files_as_environments_and_its_version_released() {
    let repo = Repo::new();
    repo.write("Chart.yaml", COGNIGY_CHART);
    repo.write(
        "values.yaml",
        "replicaCount: 1\nimage:\n  tag: \"2026.15.2\"\n",
    );
    repo.write("values-dev.yaml", "replicaCount: 1\n");
    repo.write("values-production.yaml", "replicaCount: 3\n");
    repo.write("templates/deployment.yaml", "kind: Deployment\n");
    repo.commit("feat: voice gateway");
    repo.tag("v4.99.0");
    repo.commit("feat: calendar versions");
    repo.tag("v2026.15.2");
    let answer = init(&repo, &[]);
    assert_eq!(
        strings(&answer["detected"]),
        ["Chart.yaml".to_string()].into()
    );
    assert_eq!(
        answer["environments"],
        detected(
            "helm",
            ".",
            &["dev", "prod"],
            serde_json::json!({ "prod": "production" }),
            &[]
        ),
        "{answer}"
    );
    let written = strings(&answer["written"]);
    assert!(
        !written.contains("VERSION") && written.iter().all(|f| !f.starts_with("environments/")),
        "the tags say the version, the chart holds it: {written:?}"
    );
    let text = repo.read("shipgate.toml");
    assert!(
        text.contains("[environments]\nlayout = \"helm\"\ndirectory = \".\"\norder = [\"dev\", \"prod\"]\nnames = { prod = \"production\" }\n"),
        "{text}"
    );
    assert!(text.contains(&known("Chart.yaml")), "{text}");
    assert!(text.contains("\ntag-format = \"v{version}\"\n"), "{text}");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "chore: shipgate init"]);
    repo.commit("fix: the feature server's probe");
    let plan: Value =
        serde_json::from_str(&repo.stdout(&["release", "--dry-run", "--json"])).expect("plan JSON");
    assert_eq!(
        (plan["current"].as_str(), plan["next"].as_str()),
        (Some("2026.15.2"), Some("2026.15.3")),
        "{plan}"
    );
    let out = repo.shipgate(&["release"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        repo.read("Chart.yaml"),
        COGNIGY_CHART.replace("\"2026.15.2\"", "\"2026.15.3\"")
    );
}

/// podinfo's history, cut short: v-tags until 1.8.0, then tags without one up to 6.14.1,
/// and a newer v-tag on a branch HEAD does not reach.
fn podinfo(repo: &Repo) {
    repo.write(
        "charts/podinfo/Chart.yaml",
        "apiVersion: v1\nversion: 6.14.1\nappVersion: 6.14.1\nname: podinfo\n",
    );
    repo.write("charts/podinfo/values.yaml", "image:\n  tag: 6.14.1\n");
    repo.write("charts/podinfo/values-prod.yaml", "replicaCount: 2\n");
    repo.commit("feat: podinfo");
    repo.tag("v1.8.0");
    repo.commit("feat: drop the v");
    repo.tag("6.14.0");
    repo.git(&["checkout", "-q", "-b", "old-line"]);
    repo.commit("fix: a backport");
    repo.tag("v9.0.0");
    repo.git(&["checkout", "-q", "main"]);
    repo.commit("fix: release 6.14.1");
    repo.tag("6.14.1");
}

#[test]
fn the_tag_format_is_the_newest_reachable_tags() {
    let repo = Repo::new();
    podinfo(&repo);
    let answer = init(&repo, &[]);
    assert_eq!(
        answer["tag_format"],
        serde_json::json!({
            "format": "{version}",
            "why": "6.14.1 is the newest release tag reachable from HEAD; 2 release tags are written without a `v`, 2 with one",
        })
    );
    let text = repo.read("shipgate.toml");
    assert!(text.contains("\ntag-format = \"{version}\"\n"), "{text}");
    assert!(
        !repo.path("VERSION").exists(),
        "a repository with release tags needs no seeded version"
    );
    assert!(
        text.contains("# rollout = \"podinfo\"\n"),
        "the service is named after the chart: {text}"
    );
    let out = String::from_utf8_lossy(&repo.shipgate(&["init", "--dry-run"]).stdout).into_owned();
    assert!(
        out.contains("detected   charts/podinfo/Chart.yaml (6.14.1)"),
        "{out}"
    );
    let plan = check_setup(&repo);
    assert_eq!(
        (
            plan["current"].as_str(),
            plan["next"].as_str(),
            plan["tag"].as_str()
        ),
        (Some("6.14.1"), Some("6.15.0"), Some("6.15.0")),
        "{plan}"
    );
    // the shipgate.toml an older init wrote is kept, and its format named
    let repo = Repo::new();
    podinfo(&repo);
    repo.write("shipgate.toml", "[release]\ntag-format = \"v{version}\"\n");
    let answer = init(&repo, &[]);
    assert_eq!(
        answer["warnings"],
        serde_json::json!([
            "shipgate.toml's tag-format is `v{version}`, but 6.14.1 is the newest release tag reachable from HEAD; 2 release tags are written without a `v`, 2 with one: set [release] tag-format = \"{version}\" if those are this project's releases"
        ])
    );
}

#[test]
fn a_shallow_clone_says_its_tag_format_comes_from_the_tags_it_has() {
    let repo = Repo::new();
    podinfo(&repo);
    let clone = repo.dir.parent().expect("tmp").join("shallow");
    git_repo::git_in(
        repo.dir.parent().expect("tmp"),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            &format!("file://{}", repo.dir.display()),
            "shallow",
        ],
    );
    let shallow = Repo::at(&clone);
    let answer = init(&shallow, &[]);
    assert_eq!(answer["tag_format"]["format"], "{version}", "{answer}");
    assert_eq!(
        answer["warnings"],
        serde_json::json!([
            "this is a shallow clone: tag-format \"{version}\" was chosen from the tags it has; check it against the repository's release tags (`git fetch --unshallow --tags`, then `git tag --sort=-creatordate`)"
        ])
    );
}

#[test]
fn a_manifest_off_the_tags_is_named() {
    let repo = Repo::new();
    jhipster(&repo);
    repo.commit("chore: generated");
    repo.tag("v9.1.0");
    let answer = init(&repo, &[]);
    assert_eq!(
        answer["warnings"],
        serde_json::json!([
            "build.gradle holds 0.0.1-SNAPSHOT, but the newest release tag is v9.1.0: the next release continues from v9.1.0 and sets build.gradle to the version after it; if those tags are not this project's releases, set [release] tag-format to a format of its own (e.g. \"app-v{version}\")"
        ])
    );
}

#[test]
fn a_service_deployed_by_a_shared_chart_takes_its_environments_from_the_values_files() {
    // prison-register's shape: Spring profiles dev and localstack, Helm values per
    // environment beside the chart, a chart versioned on its own line.
    let repo = Repo::new();
    repo.write(
        "src/main/resources/application.yml",
        "server:\n  port: 8080\n",
    );
    repo.write(
        "src/main/resources/application-dev.yml",
        "server:\n  port: 8081\n",
    );
    repo.write(
        "src/main/resources/application-localstack.yml",
        "hmpps.sqs:\n  provider: localstack\n",
    );
    repo.write(
        "helm_deploy/prison-register/Chart.yaml",
        "apiVersion: v2\nappVersion: '1.0'\ndescription: A Helm chart for Kubernetes\nname: prison-register\nversion: 0.1.1\n",
    );
    repo.write(
        "helm_deploy/prison-register/values.yaml",
        "generic-service:\n  replicaCount: 4\n",
    );
    for env in ["dev", "preprod", "prod"] {
        repo.write(
            &format!("helm_deploy/values-{env}.yaml"),
            "generic-service:\n  replicaCount: 2\n",
        );
    }
    let answer = init(&repo, &[]);
    assert_eq!(
        answer["environments"],
        detected(
            "spring",
            "src/main/resources",
            &["dev", "preprod", "prod"],
            serde_json::json!({}),
            &["localstack"]
        ),
        "{answer}"
    );
    assert_eq!(
        answer["warnings"],
        serde_json::json!([
            "helm_deploy/prison-register/Chart.yaml: the chart is versioned on its own line (at 2:14, `1.0` is not a semantic version), so shipgate.toml has no [[release.files]] entry for it: to release the chart with the application, set its version and appVersion to the application's version; then add one to shipgate.toml: [[release.files]] path = \"helm_deploy/prison-register/Chart.yaml\""
        ])
    );
    let text = repo.read("shipgate.toml");
    assert!(
        text.contains("# file = \"helm_deploy/values-{{env}}.yaml\"\n"),
        "{text}"
    );
    check_setup(&repo);
}

/// The schema of a manifest's kind, from the published CRDs and Kubernetes' OpenAPI.
fn crd_schema(kind: &str) -> jsonschema::Validator {
    let file = match kind {
        "AnalysisTemplate" => "argo-rollouts-analysistemplate.json",
        "Rollout" => "argo-rollouts-rollout.json",
        "Canary" => "flagger-canary.json",
        "MetricTemplate" => "flagger-metrictemplate.json",
        "Deployment" => "k8s-deployment.json",
        "Service" => "k8s-service.json",
        "ServiceAccount" => "k8s-serviceaccount.json",
        other => panic!("no schema for kind {other}"),
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/crds")
        .join(file);
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("schema")).expect("json");
    jsonschema::validator_for(&schema).expect("a valid schema")
}

/// Every document of a manifest file, as JSON, each checked against its kind's schema.
fn valid_manifests(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("manifest");
    let parsed = shipgate_doc::parse(
        &text,
        shipgate_doc::Format::Yaml(shipgate_doc::Dialect::Yaml12),
        shipgate_doc::FileId(0),
    )
    .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
    assert!(
        parsed.problems.is_empty(),
        "{}: {:?}",
        path.display(),
        parsed.problems
    );
    parsed
        .documents
        .iter()
        .map(|d| {
            let json = shipgate_doc::node::to_json(&d.root);
            let kind = json["kind"].as_str().unwrap_or_default().to_string();
            let errors: Vec<String> = crd_schema(&kind)
                .iter_errors(&json)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(
                errors.is_empty(),
                "{} ({kind}): {errors:#?}",
                path.display()
            );
            json
        })
        .collect()
}

#[test]
fn argo_rollouts_and_flagger_manifests_validate_against_the_published_schemas() {
    let repo = Repo::new();
    repo.write(
        "Cargo.toml",
        "[package]\nname = \"storefront\"\nversion = \"1.3.0\"\nedition = \"2024\"\n",
    );
    repo.write("src/main.rs", "fn main() {}\n");
    let out = init(
        &repo,
        &["--argo-rollouts", "--flagger", "--namespace", "shop"],
    );
    let written = strings(&out["written"]);
    for f in [
        "deploy/shipgate/argo-rollouts.yaml",
        "deploy/shipgate/flagger.yaml",
        "deploy/shipgate/serve.yaml",
    ] {
        assert!(written.contains(f), "{f} in {out:#}");
    }
    let argo = valid_manifests(&repo.path("deploy/shipgate/argo-rollouts.yaml"));
    // The schemas are strict: a misspelled field fails.
    let mut typo = argo[0].clone();
    typo["spec"]["metrics"][0]["provdier"] = typo["spec"]["metrics"][0]["provider"].take();
    assert!(!crd_schema("AnalysisTemplate").is_valid(&typo));
    let kinds: Vec<&str> = argo.iter().filter_map(|d| d["kind"].as_str()).collect();
    assert_eq!(kinds, ["AnalysisTemplate", "AnalysisTemplate", "Rollout"]);
    // The Job runs `canary analyze` with the hashes the Rollout passes.
    let job = &argo[0]["spec"]["metrics"][0]["provider"]["job"]["spec"]["template"]["spec"]["containers"]
        [0];
    let args: Vec<&str> = job["args"]
        .as_array()
        .expect("args")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        args,
        [
            "--config",
            "/etc/shipgate/shipgate.toml",
            "canary",
            "analyze",
            "--env",
            "{{args.env}}",
            "--canary-hash",
            "{{args.canary-hash}}",
            "--stable-hash",
            "{{args.stable-hash}}",
            "--duration",
            "5m"
        ]
    );
    assert_eq!(
        job["image"],
        format!("ghcr.io/shipgate/shipgate:{}", env!("CARGO_PKG_VERSION"))
    );
    let step_args = &argo[2]["spec"]["strategy"]["canary"]["steps"][1]["analysis"]["args"];
    assert_eq!(step_args[1]["valueFrom"]["podTemplateHashValue"], "Latest");
    assert_eq!(step_args[2]["valueFrom"]["podTemplateHashValue"], "Stable");
    let web = argo[1]["spec"]["metrics"][0]["provider"]["web"]["url"]
        .as_str()
        .unwrap_or_default();
    assert!(
        web.starts_with("http://shipgate-storefront.shop.svc.cluster.local:8080/v1/verdict?env="),
        "{web}"
    );
    let flagger = valid_manifests(&repo.path("deploy/shipgate/flagger.yaml"));
    let hooks = &flagger[0]["spec"]["analysis"]["webhooks"];
    assert_eq!(hooks[1]["type"], "confirm-promotion");
    assert_eq!(hooks[1]["metadata"]["require"], "pass");
    let serve = valid_manifests(&repo.path("deploy/shipgate/serve.yaml"));
    let container = &serve[1]["spec"]["template"]["spec"]["containers"][0];
    assert!(
        container["args"].to_string().contains("--token-env"),
        "{container}"
    );

    // Flagger alone: its webhooks send no token, so serve asks for none.
    let flagger_only = Repo::new();
    flagger_only.write(
        "Cargo.toml",
        "[package]\nname = \"orders\"\nversion = \"0.4.0\"\nedition = \"2024\"\n",
    );
    init(&flagger_only, &["--flagger"]);
    assert!(
        !flagger_only
            .path("deploy/shipgate/argo-rollouts.yaml")
            .exists()
    );
    let serve = valid_manifests(&flagger_only.path("deploy/shipgate/serve.yaml"));
    let text = serve[1].to_string();
    assert!(
        !text.contains("SHIPGATE_TOKEN") && !text.contains("--token-env"),
        "{text}"
    );
    assert_eq!(serve[1]["metadata"]["namespace"], "orders");
}

#[test]
fn a_namespace_that_is_not_a_name_is_refused() {
    let repo = Repo::new();
    let out = shipgate_command(
        &repo.dir,
        &["init", "--argo-rollouts", "--namespace", "shop\n  x: y"],
        &[],
    )
    .output()
    .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is not a Kubernetes namespace name"),
        "{}",
        stderr(&out)
    );
    assert!(!repo.path("deploy").exists(), "nothing written");
}

/// Grafana's dashboard JSON Schema (grafana/grafana-foundation-sdk, jsonschema/; see
/// tests/fixtures/grafana/README.md).
fn dashboard_schema() -> jsonschema::Validator {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/grafana/dashboard.jsonschema.json"
    );
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("the schema")).expect("JSON");
    jsonschema::validator_for(&schema).expect("a valid schema")
}

#[test]
fn grafana_dashboard_validates_and_charts_what_metrics_exports() {
    let repo = Repo::new();
    repo.write(
        "Cargo.toml",
        "[package]\nname = \"storefront\"\nversion = \"1.3.0\"\nedition = \"2024\"\n",
    );
    repo.write("src/main.rs", "fn main() {}\n");
    let without = init(&repo, &[]);
    assert!(
        !strings(&without["written"]).contains("grafana/shipgate-delivery.json"),
        "only with --grafana: {without:#}"
    );
    let out = init(&repo, &["--grafana"]);
    assert!(
        strings(&out["written"]).contains("grafana/shipgate-delivery.json"),
        "{out:#}"
    );
    let text = std::fs::read_to_string(repo.path("grafana/shipgate-delivery.json")).expect("read");
    let dashboard: Value = serde_json::from_str(&text).expect("JSON");
    let schema = dashboard_schema();
    let errors: Vec<String> = schema
        .iter_errors(&dashboard)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The schema is strict: a misspelled field fails.
    let mut typo = dashboard.clone();
    typo["panels"][0]["titel"] = typo["panels"][0]["title"].take();
    assert!(!schema.is_valid(&typo));

    // Every series a panel asks for is one `metrics --format prometheus` exports.
    let exported = shipgate_command(&repo.dir, &["metrics", "--format", "prometheus"], &[])
        .output()
        .expect("runs");
    assert_eq!(exported.status.code(), Some(0), "{}", stderr(&exported));
    let families: BTreeSet<String> = String::from_utf8_lossy(&exported.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    let mut charted = BTreeSet::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("expr");
            let name: String = expr
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            assert!(
                families.contains(&name),
                "{name} is not exported: {families:?}"
            );
            charted.insert(name);
        }
    }
    for key in [
        "shipgate_deployments_per_day",
        "shipgate_lead_time_median_seconds",
        "shipgate_change_failure_ratio",
        "shipgate_time_to_restore_median_seconds",
        "shipgate_deployment_success_ratio",
        "shipgate_deployment_rework_ratio",
    ] {
        assert!(charted.contains(key), "{key} has no panel");
    }
    // shipgate's own annotations (the grafana [[notify]] channel tags them `shipgate`).
    let annotations = dashboard["annotations"]["list"].as_array().expect("list");
    assert!(
        annotations
            .iter()
            .any(|a| a["target"]["tags"] == serde_json::json!(["shipgate"])),
        "{annotations:#?}"
    );
}
