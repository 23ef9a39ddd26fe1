//! End-to-end tests of `shipgate init` through the real binary: a Cargo workspace, a Maven
//! project, a package.json project and an empty repository each get a setup that validates
//! and releases; re-runs keep every file; `--dry-run` writes nothing; a hostile
//! `[environments] directory` is refused.

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
        "path = \"package.json\"\npattern = '\"version\": \"{version}\"'",
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
