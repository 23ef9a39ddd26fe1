//! The platform as it lives: Spring Boot's YAML configuration (`layout = "spring"`), the
//! desired image tag in Kustomize overlays (`images[name=…].newTag`) and in Argo CD
//! Applications (`spec.source.kustomize.images`), promoted through `[[promote.target]]` on a
//! real repository shared through a bare origin. Every file must stay byte-identical outside
//! the value that moves, and a key that selects nothing or too much stops the promotion
//! before anything is written.

use std::process::Output;

use serde_json::Value;

#[path = "support/git_repo.rs"]
mod git_repo;
use git_repo::{Repo, git_in};

const SHIPGATE_TOML: &str = r#"[environments]
layout = "spring"
directory = "app/src/main/resources"
order = ["dev", "staging", "prod"]
names = { prod = "production" }
schema = "app/config-schema.json"

[promote.env.dev]
verification = "none"
[promote.env.staging]
verification = "none"
[promote.env.prod]
verification = "none"

[[promote.target]]
file = "infrastructure/k8s/overlays/{{env}}/kustomization.yaml"
key = "images[name=storefront].newTag"
names = { dev = "development", prod = "production" }

[[promote.target]]
file = "gitops/applications/backend-{{env}}.yaml"
key = "spec.source.kustomize.images[0]"
value = "ghcr.io/acme/backend:{{version}}"
"#;

const APPLICATION: &str = "spring:\n  application:\n    name: storefront\n  datasource:\n    password: ${DB_PASSWORD}\n  profiles:\n    group:\n      production: \"production,msk\"\nserver:\n  port: 8080\n";
const PRODUCTION: &str = "server:\n  port: 8443\n";
const SCHEMA: &str = r#"{"type": "object", "properties": {"server": {"type": "object", "properties": {"port": {"type": "integer", "maximum": 65535}}}}}"#;

/// An overlay's kustomization.yaml as Kustomize's documentation writes one, with comments,
/// another image and a quoted tag, so that anything but the value moving shows.
fn kustomization(env: &str, tag: &str) -> String {
    format!(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n# {env}: the storefront and its sidecar\nresources:\n  - ../../base\nnamespace: shop-{env}\nimages:\n  - name: nginx   # the sidecar, not ours\n    newTag: \"1.27\"\n  - name: storefront\n    newName: ghcr.io/acme/storefront\n    newTag: {tag} # moved by shipgate\n"
    )
}

/// An Argo CD Application with a Kustomize source, as Argo CD's documentation shows it.
fn application(env: &str, tag: &str) -> String {
    format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: backend-{env}\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://github.com/acme/platform.git\n    path: backend/overlays/{env}\n    kustomize:\n      images:\n        - 'ghcr.io/acme/backend:{tag}'\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: backend-{env}\n"
    )
}

struct Platform {
    repo: Repo,
    origin: std::path::PathBuf,
}

impl Platform {
    fn new() -> Platform {
        let repo = Repo::with_clock(1_764_000_000, 60);
        repo.write("shipgate.toml", SHIPGATE_TOML);
        repo.write("app/src/main/resources/application.yml", APPLICATION);
        repo.write(
            "app/src/main/resources/application-dev.yml",
            "server:\n  port: 8081\n",
        );
        repo.write(
            "app/src/main/resources/application-staging.yml",
            "server:\n  port: 8082\n",
        );
        repo.write(
            "app/src/main/resources/application-production.yml",
            PRODUCTION,
        );
        repo.write("app/config-schema.json", SCHEMA);
        for (env, dir) in [
            ("dev", "development"),
            ("staging", "staging"),
            ("prod", "production"),
        ] {
            repo.write(
                &format!("infrastructure/k8s/overlays/{dir}/kustomization.yaml"),
                &kustomization(dir, "1.3.0"),
            );
            repo.write(
                &format!("gitops/applications/backend-{env}.yaml"),
                &application(env, "1.3.0"),
            );
        }
        repo.git(&["add", "-A"]);
        repo.git(&["commit", "-q", "-m", "chore: the storefront's platform"]);
        for v in ["1.4.0", "1.5.0"] {
            repo.commit(&format!("feat: what {v} brings"));
            repo.tag(&format!("v{v}"));
        }
        let tmp = repo.dir.parent().expect("tmp").to_path_buf();
        git_in(&tmp, &["clone", "-q", "--bare", "repo", "origin.git"]);
        let origin = tmp.join("origin.git");
        repo.git(&["remote", "add", "origin", &origin.display().to_string()]);
        repo.git(&["fetch", "-q", "origin"]);
        Platform { repo, origin }
    }

    fn run(&self, args: &[&str]) -> Output {
        self.repo.shipgate_env(
            args,
            &[
                ("GITHUB_ACTOR", "alice"),
                ("SHIPGATE_NOW", "2026-12-01T09:00:00Z"),
            ],
        )
    }

    /// Commits everything written, with `message`.
    fn commit(&self, message: &str) {
        self.repo.git(&["add", "-A"]);
        self.repo.git(&["commit", "-q", "-m", message]);
    }

    fn origin_file(&self, path: &str) -> String {
        git_in(&self.origin, &["show", &format!("main:{path}")])
    }

    fn origin_commits(&self) -> usize {
        git_in(&self.origin, &["rev-list", "--count", "main"])
            .parse()
            .expect("count")
    }

    fn origin_entries(&self) -> usize {
        let out = std::process::Command::new("git")
            .current_dir(&self.origin)
            .args(["rev-list", "--count", "refs/shipgate/ledger"])
            .output()
            .expect("git");
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0)
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)))
}

#[test]
fn a_promotion_writes_every_target_in_one_commit_and_nothing_else() {
    let p = Platform::new();
    let before = p.origin_commits();
    let out = p.run(&["--json", "promote", "1.4.0", "--to", "dev", "--push"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let o = json(&out);
    assert_eq!(o["promoted"], true);
    assert_eq!(
        o["file"],
        "infrastructure/k8s/overlays/development/kustomization.yaml"
    );
    let files: Vec<(String, String, String)> = o["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap_or_default().into(),
                f["key"].as_str().unwrap_or_default().into(),
                f["value"].as_str().unwrap_or_default().into(),
            )
        })
        .collect();
    assert_eq!(
        files,
        [
            (
                "infrastructure/k8s/overlays/development/kustomization.yaml".into(),
                "images[name=storefront].newTag".into(),
                "1.4.0".into()
            ),
            (
                "gitops/applications/backend-dev.yaml".into(),
                "spec.source.kustomize.images[0]".into(),
                "ghcr.io/acme/backend:1.4.0".into()
            ),
        ]
    );
    let configuration = o["gates"]
        .as_array()
        .expect("gates")
        .iter()
        .find(|g| g["name"] == "configuration")
        .expect("gate")
        .clone();
    assert_eq!(configuration["passed"], true, "{configuration}");
    // One commit on origin's main, touching exactly the two files, each byte for byte the
    // old text with the one value moved (the sidecar's quoted "1.27" and the comments stay).
    assert_eq!(p.origin_commits(), before + 1);
    let changed = git_in(&p.origin, &["diff", "--name-only", "main~1", "main"]);
    assert_eq!(
        changed,
        "gitops/applications/backend-dev.yaml\ninfrastructure/k8s/overlays/development/kustomization.yaml"
    );
    assert_eq!(
        p.origin_file("infrastructure/k8s/overlays/development/kustomization.yaml"),
        kustomization("development", "1.4.0").trim_end()
    );
    assert_eq!(
        p.origin_file("gitops/applications/backend-dev.yaml"),
        application("dev", "1.4.0").trim_end()
    );
    assert_eq!(
        p.origin_file("infrastructure/k8s/overlays/staging/kustomization.yaml"),
        kustomization("staging", "1.3.0").trim_end()
    );
    // status reads what the files ask for through the first target.
    let status = json(&p.run(&["--json", "status", "--env", "dev"]));
    let dev = &status["environments"][0];
    assert_eq!(
        (dev["version"].as_str(), dev["desired"].as_str()),
        (Some("1.4.0"), Some("1.4.0")),
        "{status}"
    );
}

#[test]
fn a_rollback_edits_the_same_places_back() {
    let p = Platform::new();
    for (v, env) in [
        ("1.4.0", "dev"),
        ("1.4.0", "staging"),
        ("1.4.0", "prod"),
        ("1.5.0", "dev"),
        ("1.5.0", "staging"),
        ("1.5.0", "prod"),
    ] {
        let out = p.run(&["promote", v, "--to", env, "--push"]);
        assert_eq!(out.status.code(), Some(0), "{v} {env}: {}", text(&out));
    }
    assert_eq!(
        p.origin_file("gitops/applications/backend-prod.yaml"),
        application("prod", "1.5.0").trim_end()
    );
    let out = p.run(&[
        "rollback",
        "--env",
        "prod",
        "--to",
        "1.4.0",
        "--reason",
        "checkout errors",
        "--push",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        p.origin_file("infrastructure/k8s/overlays/production/kustomization.yaml"),
        kustomization("production", "1.4.0").trim_end()
    );
    assert_eq!(
        p.origin_file("gitops/applications/backend-prod.yaml"),
        application("prod", "1.4.0").trim_end()
    );
    let subject = git_in(&p.origin, &["log", "-1", "--format=%s", "main"]);
    assert_eq!(subject, "chore(rollback): prod from 1.5.0 to 1.4.0");
}

#[test]
fn a_key_that_selects_nothing_or_too_much_writes_nothing() {
    let p = Platform::new();
    let broken = SHIPGATE_TOML.replace(
        "images[name=storefront].newTag",
        "images[name=storefrnt].newTag",
    );
    p.repo.write("shipgate.toml", &broken);
    p.commit("chore: a typo in the target");
    p.repo.git(&["push", "-q", "origin", "main"]);
    let (commits, entries) = (p.origin_commits(), p.origin_entries());
    let out = p.run(&["promote", "1.4.0", "--to", "dev", "--push"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = text(&out);
    assert!(
        err.contains("error: infrastructure/k8s/overlays/development/kustomization.yaml: `images[name=storefrnt].newTag` selects nothing (`images` exists; what follows it does not)"),
        "{err}"
    );
    assert!(
        err.contains("hint: check the key against the file"),
        "{err}"
    );
    // Two Applications in one file: the key selects two places.
    p.repo.write("shipgate.toml", SHIPGATE_TOML);
    p.repo.write(
        "gitops/applications/backend-dev.yaml",
        &format!(
            "{}---\n{}",
            application("dev", "1.3.0"),
            application("dev-eu", "1.3.0")
        ),
    );
    p.commit("chore: a second Application in the file");
    p.repo.git(&["push", "-q", "origin", "main"]);
    let (commits2, _) = (p.origin_commits(), 0);
    let out = p.run(&["promote", "1.4.0", "--to", "dev", "--push"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("gitops/applications/backend-dev.yaml: `spec.source.kustomize.images[0]` selects 2 places (lines 13, 30)"), "{}", text(&out));
    assert!(
        text(&out).contains("hint: narrow the key"),
        "{}",
        text(&out)
    );
    assert_eq!(p.origin_commits(), commits2, "nothing pushed");
    assert_eq!(commits2, commits + 1, "only the test's own commit");
    assert_eq!(p.origin_entries(), entries, "no ledger entry");
    // Narrowed to the document by its name, it works.
    let narrowed = SHIPGATE_TOML.replace(
        "key = \"spec.source.kustomize.images[0]\"",
        "key = \"[metadata.name=backend-{{env}}].spec.source.kustomize.images[0]\"",
    );
    assert!(narrowed.contains("[metadata.name="));
    p.repo.write(
        "shipgate.toml",
        &narrowed.replace("backend-{{env}}].spec", "backend-dev].spec"),
    );
    let out = p.run(&["promote", "1.4.0", "--to", "dev", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn the_configuration_gate_checks_spring_s_files_for_the_environment() {
    let p = Platform::new();
    p.repo.write(
        "app/src/main/resources/application-production.yml",
        "server:\n  port: 99999\n",
    );
    p.commit("fix: a port too far");
    let out = p.run(&["--json", "promote", "1.4.0", "--to", "prod", "--dry-run"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let o = json(&out);
    let gate = o["gates"]
        .as_array()
        .expect("gates")
        .iter()
        .find(|g| g["name"] == "configuration")
        .expect("gate")
        .clone();
    assert_eq!(gate["passed"], false, "{gate}");
    let detail = gate["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("app/src/main/resources/application-production.yml:2:9"),
        "{detail}"
    );
    // dev's configuration does not have the problem: its gate passes.
    let out = p.run(&["--json", "promote", "1.4.0", "--to", "dev", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn config_validate_reads_the_spring_files_at_their_lines() {
    let p = Platform::new();
    let out = p.run(&["config", "validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    p.repo.write(
        "app/src/main/resources/application-staging.yml",
        "server:\n  port: on\n",
    );
    let out = p.run(&["config", "validate", "--format", "github"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout
            .contains("::error file=app/src/main/resources/application-staging.yml,line=2,col=9,"),
        "{stdout}"
    );
    assert!(
        stdout.contains("found boolean"),
        "SnakeYAML reads `on` as true: {stdout}"
    );
    let shown = p.run(&["config", "show", "prod", "--provenance"]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown.contains("port = 8443  # app/src/main/resources/application-production.yml:2"),
        "{shown}"
    );
}

#[test]
fn a_layout_that_does_not_match_the_files_says_which_one_does() {
    let p = Platform::new();
    p.repo.write(
        "shipgate.toml",
        &SHIPGATE_TOML.replace("layout = \"spring\"", "layout = \"overlays\""),
    );
    let out = p.run(&["config", "validate"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = text(&out);
    assert!(
        err.contains(
            "no base.toml, base.yaml, base.yml or base.json in app/src/main/resources or below it"
        ),
        "{err}"
    );
    assert!(err.contains("hint: these files look like the `spring` layout: set [environments] layout = \"spring\""), "{err}");
}

#[test]
fn a_syntax_error_in_an_environment_s_profile_refuses_that_environment_only() {
    let p = Platform::new();
    p.repo.write(
        "app/src/main/resources/application-dev.yml",
        "server:\n  port: [8081\n",
    );
    p.commit("fix: a bracket too many");
    let gate = |env: &str| {
        let out = p.run(&["--json", "promote", "1.4.0", "--to", env, "--dry-run"]);
        let o = json(&out);
        o["gates"]
            .as_array()
            .expect("gates")
            .iter()
            .find(|g| g["name"] == "configuration")
            .expect("gate")
            .clone()
    };
    let dev = gate("dev");
    assert_eq!(dev["passed"], false, "{dev}");
    assert!(
        dev["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("app/src/main/resources/application-dev.yml:3:1"),
        "{dev}"
    );
    assert_eq!(
        gate("prod")["passed"],
        true,
        "prod reads no application-dev.yml"
    );
}

#[test]
fn without_targets_a_spring_layout_says_where_the_version_must_go() {
    let p = Platform::new();
    let no_targets = SHIPGATE_TOML
        .split("[[promote.target]]")
        .next()
        .expect("head")
        .to_string();
    p.repo.write("shipgate.toml", &no_targets);
    p.commit("chore: no targets");
    let out = p.run(&["promote", "1.4.0", "--to", "dev", "--dry-run"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = text(&out);
    assert!(
        err.contains("error: nothing says where a promotion into dev writes its version (with layout = \"spring\", version-key has no file to go in)"),
        "{err}"
    );
    assert!(err.contains("hint: add a [[promote.target]]"), "{err}");
}

/// A Helm chart at the repository's root, as many chart repositories are.
#[test]
fn a_helm_chart_at_the_root_promotes_through_its_values_files() {
    let repo = Repo::with_clock(1_764_000_000, 60);
    repo.write(
        "shipgate.toml",
        "[environments]\nlayout = \"helm\"\ndirectory = \".\"\norder = [\"dev\", \"prod\"]\n\n[promote.env.dev]\nverification = \"none\"\n\n[[promote.target]]\nfile = \"values-{{env}}.yaml\"\nkey = \"image.tag\"\n",
    );
    repo.write(
        "Chart.yaml",
        "apiVersion: v2\nname: storefront\nversion: 0.3.0\n",
    );
    repo.write(
        "values.yaml",
        "replicaCount: 2\nimage:\n  repository: ghcr.io/acme/storefront\n  tag: \"1.3.0\" # the default\n",
    );
    repo.write(
        "values-dev.yaml",
        "image:\n  tag: \"1.3.0\"   # moved by shipgate\n",
    );
    repo.write(
        "values-prod.yaml",
        "replicaCount: 3\nimage:\n  tag: 1.3.0\n",
    );
    repo.write(
        "values.schema.json",
        r#"{"type": "object", "properties": {"replicaCount": {"type": "integer", "minimum": 2}}}"#,
    );
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "chore: the chart"]);
    repo.commit("feat: 1.4.0");
    repo.tag("v1.4.0");
    let env = [
        ("GITHUB_ACTOR", "alice"),
        ("SHIPGATE_NOW", "2026-12-01T09:00:00Z"),
    ];
    let out = repo.shipgate_env(&["--json", "promote", "1.4.0", "--to", "dev"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let o = json(&out);
    let detail = o["gates"]
        .as_array()
        .expect("gates")
        .iter()
        .find(|g| g["name"] == "configuration")
        .and_then(|g| g["detail"].as_str())
        .unwrap_or_default()
        .to_string();
    assert!(
        detail
            .starts_with("values-dev.yaml validates with image.tag = \"1.4.0\" (schema and rules)"),
        "{detail}"
    );
    assert_eq!(
        repo.read("values-dev.yaml"),
        "image:\n  tag: \"1.4.0\"   # moved by shipgate\n"
    );
    // The chart's own schema refuses prod with one replica, at the values file's line.
    repo.write(
        "values-prod.yaml",
        "replicaCount: 1\nimage:\n  tag: 1.3.0\n",
    );
    repo.git(&["commit", "-q", "-am", "fix: fewer replicas"]);
    let out = repo.shipgate_env(
        &["--json", "promote", "1.4.0", "--to", "prod", "--dry-run"],
        &env,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("values-prod.yaml:1:15"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_key_set_twice_in_a_target_file_refuses_the_promotion() {
    let p = Platform::new();
    let twice = kustomization("development", "1.3.0").replace(
        "namespace: shop-development\n",
        "namespace: shop-development\nnamespace: shop-dev\n",
    );
    p.repo.write(
        "infrastructure/k8s/overlays/development/kustomization.yaml",
        &twice,
    );
    p.commit("chore: two namespaces");
    let out = p.run(&["--json", "promote", "1.4.0", "--to", "dev", "--dry-run"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let o = json(&out);
    let gate = o["gates"]
        .as_array()
        .expect("gates")
        .iter()
        .find(|g| g["name"] == "configuration")
        .expect("gate")
        .clone();
    let detail = gate["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("infrastructure/k8s/overlays/development/kustomization.yaml:7:1: `namespace` is set twice"),
        "{detail}"
    );
}
