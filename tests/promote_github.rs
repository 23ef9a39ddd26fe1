//! `shipgate promote` and `rollback` on GitHub, against a local server that answers like its
//! REST API: a deployment per promotion and rollback with its statuses, the pull request of
//! `--pr`, and no request at all without a token.

use std::path::Path;

use serde_json::Value;

#[path = "support/fake_github.rs"]
mod fake_github;
use fake_github::FakeGithub;

#[path = "support/git_repo.rs"]
mod git_repo;
use git_repo::{Repo, stderr};

/// A repository with this platform's environments/, releases v1.4.0 and v1.5.0, and a bare
/// origin; dev verifies nothing, staging and prod need a passing verification.
fn platform() -> (Repo, tempfile::TempDir) {
    let repo = Repo::new();
    let envs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../environments");
    for entry in std::fs::read_dir(&envs).expect("environments/") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_string();
        repo.write(
            &format!("environments/{name}"),
            &std::fs::read_to_string(&path).expect("read"),
        );
    }
    repo.write(
        "shipgate.toml",
        "[environments]\norder = [\"dev\", \"staging\", \"prod\"]\n\n[promote]\nversion-key = \"service.image.tag\"\n\n[promote.env.dev]\nverification = \"none\"\n",
    );
    repo.commit("feat: the storefront");
    repo.tag("v1.4.0");
    repo.commit("feat(cart): save for later");
    repo.tag("v1.5.0");
    let origin = tempfile::tempdir().expect("tempdir");
    let bare = origin.path().join("origin.git");
    repo.git(&["clone", "-q", "--bare", ".", &bare.display().to_string()]);
    repo.git(&["remote", "add", "origin", &bare.display().to_string()]);
    repo.git(&["fetch", "-q", "origin"]);
    (repo, origin)
}

fn run(repo: &Repo, args: &[&str], github: Option<&FakeGithub>) -> (i32, Value, String) {
    let mut env = vec![
        ("SHIPGATE_NOW", "2026-12-01T10:00:00Z"),
        ("GITHUB_ACTOR", "alice"),
    ];
    if let Some(g) = github {
        env.extend([
            ("GITHUB_TOKEN", "test-token-not-a-secret"),
            ("GITHUB_API_URL", g.url.as_str()),
            ("GITHUB_REPOSITORY", "acme/shop"),
        ]);
    }
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = repo.shipgate_env(&all, &env);
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), json, stderr(&out))
}

/// `(method, path, body as JSON)` of every request to `/repos/acme/shop/deployments…`.
fn deployments(github: &FakeGithub) -> Vec<(String, String, Value)> {
    github
        .requests()
        .into_iter()
        .filter(|(_, path, _)| path.starts_with("/repos/acme/shop/deployments"))
        .map(|(m, p, b)| (m, p, serde_json::from_str(&b).unwrap_or(Value::Null)))
        .collect()
}

#[test]
fn each_promotion_and_rollback_is_a_deployment_with_its_statuses() {
    let (repo, _origin) = platform();
    let github = FakeGithub::start();
    let (code, out, err) = run(
        &repo,
        &["promote", "1.5.0", "--to", "dev", "--push"],
        Some(&github),
    );
    assert_eq!(code, 0, "{err}");
    let commit = out["commit"].as_str().expect("a commit").to_string();
    assert_eq!(out["deployment"], 1, "{out:#}");
    let d = deployments(&github);
    assert_eq!(d[0].0, "POST");
    assert_eq!(d[0].1, "/repos/acme/shop/deployments");
    assert_eq!(
        (d[0].2["ref"].as_str(), d[0].2["environment"].as_str()),
        (Some(commit.as_str()), Some("dev"))
    );
    assert_eq!(d[0].2["payload"]["version"], "1.5.0");
    assert_eq!(d[0].2["production_environment"], false);
    // dev verifies nothing: the deployment succeeds at once.
    assert_eq!(d[1].1, "/repos/acme/shop/deployments/1/statuses");
    assert_eq!(d[1].2["state"], "success");

    // staging verifies with a canary: in progress until the verdict.
    let (code, out, err) = run(
        &repo,
        &["promote", "1.5.0", "--to", "staging", "--push"],
        Some(&github),
    );
    assert_eq!(code, 0, "{err}");
    let staging_commit = out["commit"].as_str().expect("commit").to_string();
    let d = deployments(&github);
    assert_eq!(d[3].2["state"], "in_progress", "{d:#?}");

    // A rollback: the failed deployment is marked, the rollback is a deployment of its own.
    let (code, out, err) = run(
        &repo,
        &[
            "rollback",
            "--env",
            "staging",
            "--to",
            "1.4.0",
            "--reason",
            "p95 regression",
            "--push",
        ],
        Some(&github),
    );
    assert_eq!(code, 0, "{err}");
    let d = deployments(&github);
    let rest: Vec<(&str, &str, &Value)> = d[4..]
        .iter()
        .map(|(m, p, b)| (m.as_str(), p.as_str(), b))
        .collect();
    assert_eq!(rest[0].0, "GET");
    assert!(
        rest[0].1.contains(&format!("sha={staging_commit}")),
        "{rest:?}"
    );
    assert_eq!(rest[1].1, "/repos/acme/shop/deployments/2/statuses");
    assert_eq!(rest[1].2["state"], "failure");
    assert_eq!(rest[2].2["payload"]["version"], "1.4.0");
    assert_eq!(rest[2].2["ref"].as_str(), out["commit"].as_str());
    assert_eq!(rest[3].2["state"], "success");
    // The token went in the Authorization header only, never in the output.
    assert!(!err.contains("test-token-not-a-secret"));
}

#[test]
fn without_a_token_no_request_is_sent_and_nothing_fails() {
    let (repo, _origin) = platform();
    let github = FakeGithub::start();
    let out = repo.shipgate_env(
        &["promote", "1.5.0", "--to", "dev", "--push"],
        &[
            ("SHIPGATE_NOW", "2026-12-01T10:00:00Z"),
            ("GITHUB_ACTOR", "alice"),
            ("GITHUB_API_URL", github.url.as_str()),
            ("GITHUB_REPOSITORY", "acme/shop"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(github.requests().is_empty(), "{:?}", github.requests());
}

#[test]
fn pr_opens_a_pull_request_with_the_gates_instead_of_pushing() {
    let (repo, origin) = platform();
    let github = FakeGithub::start();
    let bare = origin.path().join("origin.git").display().to_string();
    let main_before = repo.git(&["-C", &bare, "rev-parse", "main"]);
    let (code, out, err) = run(
        &repo,
        &["promote", "1.5.0", "--to", "dev", "--pr"],
        Some(&github),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out["promoted"], false, "not until it is merged");
    assert_eq!(
        out["pull_request"],
        format!("{}/acme/shop/pull/7", github.url)
    );
    // The change is on its own branch on origin; main and the ledger did not move.
    assert_eq!(repo.git(&["-C", &bare, "rev-parse", "main"]), main_before);
    let file = repo.git(&[
        "-C",
        &bare,
        "show",
        "shipgate/promote/dev/1.5.0:environments/dev.toml",
    ]);
    assert!(file.contains("tag = \"1.5.0\""), "{file}");
    assert!(
        repo.git_output(&["-C", &bare, "rev-parse", "--verify", "refs/shipgate/ledger"])
            .status
            .code()
            != Some(0)
    );
    let pulls: Vec<Value> = github
        .requests()
        .into_iter()
        .filter(|(m, p, _)| m == "POST" && p == "/repos/acme/shop/pulls")
        .map(|(_, _, b)| serde_json::from_str(&b).unwrap_or(Value::Null))
        .collect();
    assert_eq!(pulls.len(), 1);
    assert_eq!(pulls[0]["title"], "chore(promote): 1.5.0 to dev");
    assert_eq!(
        (pulls[0]["head"].as_str(), pulls[0]["base"].as_str()),
        (Some("shipgate/promote/dev/1.5.0"), Some("main"))
    );
    let body = pulls[0]["body"].as_str().unwrap_or_default();
    for gate in [
        "previous-environment",
        "soak",
        "version-order",
        "blocked",
        "configuration",
        "freeze",
        "approvals",
        "lock",
    ] {
        assert!(
            body.contains(&format!("| {gate} | pass |")),
            "{gate} in {body}"
        );
    }

    // After the merge, promote records it without a second commit.
    repo.git(&[
        "-C",
        &bare,
        "update-ref",
        "refs/heads/main",
        "refs/heads/shipgate/promote/dev/1.5.0",
    ]);
    let (code, out, err) = run(&repo, &["promote", "1.5.0", "--to", "dev", "--push"], None);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out["promoted"], true);
    assert_eq!(
        out["commit"].as_str().map(String::from),
        Some(repo.git(&["-C", &bare, "rev-parse", "main"])),
        "the merged commit is the promotion's"
    );

    // --pr without a token is refused before anything is pushed.
    let (code, _, err) = run(
        &repo,
        &["promote", "1.5.0", "--to", "staging", "--pr"],
        None,
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--pr needs GitHub"), "{err}");
    assert!(
        repo.git_output(&[
            "-C",
            &bare,
            "rev-parse",
            "--verify",
            "refs/heads/shipgate/promote/staging/1.5.0"
        ])
        .status
        .code()
            != Some(0)
    );
}
