//! End-to-end tests of `shipgate release` on real temporary git repositories.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

#[path = "support/fake_github.rs"]
mod fake_github;
use fake_github::FakeGithub;

/// A scratch repository driven through the `git` binary, with fixed, increasing dates.
struct Repo {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    clock: std::cell::Cell<i64>,
}

impl Repo {
    fn new() -> Repo {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("repo");
        std::fs::create_dir(&dir).expect("mkdir");
        let repo = Repo {
            _tmp: tmp,
            dir,
            clock: std::cell::Cell::new(1_700_000_000),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.git(&["config", "user.name", "Release Tester"]);
        repo.git(&["config", "user.email", "tester@example.com"]);
        repo.git(&["config", "commit.gpgsign", "false"]);
        repo.git(&["config", "tag.gpgsign", "false"]);
        repo
    }

    fn at(dir: &Path) -> Repo {
        let tmp = tempfile::tempdir().expect("tempdir");
        Repo {
            _tmp: tmp,
            dir: dir.to_path_buf(),
            clock: std::cell::Cell::new(1_800_000_000),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    fn git_output(&self, args: &[&str]) -> Output {
        let t = self.clock.get() + 60;
        self.clock.set(t);
        let date = format!("@{t} +0000");
        Command::new("git")
            .current_dir(&self.dir)
            .args(args)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .expect("git runs")
    }

    fn git(&self, args: &[&str]) -> String {
        let out = self.git_output(args);
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).expect("read")
    }

    /// Commits a change to `file` with `message`.
    fn commit_file(&self, file: &str, message: &str) -> String {
        let p = self.path(file);
        let old = std::fs::read_to_string(&p).unwrap_or_default();
        self.write(file, &format!("{old}{message}\n"));
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    fn commit(&self, message: &str) -> String {
        self.commit_file("src.txt", message)
    }

    fn shipgate(&self, args: &[&str]) -> Output {
        shipgate_in(&self.dir, args, &[])
    }

    fn shipgate_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        shipgate_in(&self.dir, args, env)
    }

    fn plan(&self, extra: &[&str]) -> Value {
        let mut args = vec!["release", "--dry-run", "--json"];
        args.extend_from_slice(extra);
        let out = self.shipgate(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("json plan")
    }

    fn release(&self, extra: &[&str]) -> Value {
        let mut args = vec!["release", "--json"];
        args.extend_from_slice(extra);
        let out = self.shipgate(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("json outcome")
    }

    fn tags(&self) -> Vec<String> {
        let out = self.git(&["tag", "--list"]);
        out.lines().map(str::to_string).collect()
    }

    fn log(&self) -> Vec<String> {
        self.git(&["log", "--format=%s"])
            .lines()
            .map(str::to_string)
            .collect()
    }
}

fn shipgate_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_shipgate"));
    cmd.current_dir(dir)
        .args(args)
        .env("SOURCE_DATE_EPOCH", "1764115200")
        .env("NO_COLOR", "1")
        .env_remove("SHIPGATE_FAILPOINT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("shipgate runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn s(v: &Value) -> Option<&str> {
    v.as_str()
}

/// A workspace: two members inheriting the version, one with its own, internal path deps.
fn workspace(repo: &Repo, version: &str) {
    repo.write(
        "Cargo.toml",
        &format!(
            "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"3\"\n\n[workspace.package]\n# the one version\nversion = \"{version}\"\nedition = \"2024\"\n\n[workspace.dependencies]\ncore-lib = {{ path = \"crates/core-lib\", version = \"{version}\" }}\n"
        ),
    );
    repo.write(
        "crates/core-lib/Cargo.toml",
        "[package]\nname = \"core-lib\"\nversion.workspace = true\nedition.workspace = true\n",
    );
    repo.write("crates/core-lib/src/lib.rs", "");
    repo.write(
        "crates/app/Cargo.toml",
        &format!("[package]\nname = \"app\"\nversion = \"{version}\" # own\nedition = \"2024\"\n\n[dependencies]\ncore-lib = {{ path = \"../core-lib\", version = \"={version}\" }}\nserde = \"1\"\n"),
    );
    repo.write("crates/app/src/main.rs", "fn main() {}\n");
    repo.write(
        "Cargo.lock",
        &format!("# This file is automatically @generated by Cargo.\nversion = 4\n\n[[package]]\nname = \"app\"\nversion = \"{version}\"\ndependencies = [\n \"core-lib\",\n \"serde\",\n]\n\n[[package]]\nname = \"core-lib\"\nversion = \"{version}\"\n\n[[package]]\nname = \"serde\"\nversion = \"{version}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n"),
    );
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "chore: scaffold"]);
}

#[test]
fn no_tag_uses_the_manifest_version_and_the_below_one_rule() {
    let repo = Repo::new();
    workspace(&repo, "0.3.0");
    repo.commit("feat: a feature");
    repo.commit("fix: a fix");
    let plan = repo.plan(&[]);
    assert_eq!(s(&plan["current"]), Some("0.3.0"));
    assert_eq!(
        s(&plan["next"]),
        Some("0.3.1"),
        "feat below 1.0 bumps patch: {plan}"
    );
    assert_eq!(s(&plan["bump"]), Some("minor"));
    assert_eq!(s(&plan["tag"]), Some("v0.3.1"));
    assert_eq!(plan["commits"], 3);
    repo.commit("feat!: breaking");
    assert_eq!(
        s(&repo.plan(&[])["next"]),
        Some("0.4.0"),
        "breaking below 1.0 bumps minor"
    );
}

#[test]
fn bump_rules_follow_the_contract() {
    let cases: &[(&[&str], Option<&str>, &str)] = &[
        (&["feat: x"], Some("1.4.0"), "minor"),
        (&["fix: x"], Some("1.3.1"), "patch"),
        (&["perf: x", "docs: y"], Some("1.3.1"), "patch"),
        (&["feat(api)!: x"], Some("2.0.0"), "major"),
        (&["fix: x\n\nBREAKING CHANGE: gone"], Some("2.0.0"), "major"),
        (&["fix: x\n\nBREAKING-CHANGE: gone"], Some("2.0.0"), "major"),
        (&["docs: x", "chore: y", "Update README"], None, "none"),
    ];
    for (messages, next, bump) in cases {
        let repo = Repo::new();
        workspace(&repo, "1.3.0");
        repo.git(&["tag", "-a", "v1.3.0", "-m", "release"]);
        for m in *messages {
            repo.commit(m);
        }
        let plan = repo.plan(&[]);
        assert_eq!(s(&plan["next"]), *next, "{messages:?}: {plan}");
        assert_eq!(s(&plan["bump"]), Some(*bump), "{messages:?}");
        assert_eq!(s(&plan["current"]), Some("1.3.0"));
        assert_eq!(plan["commits"], messages.len());
    }
}

#[test]
fn release_bumps_manifests_writes_changelog_commits_and_tags_once() {
    let repo = Repo::new();
    workspace(&repo, "1.3.0");
    repo.git(&["tag", "-a", "v1.3.0", "-m", "release"]);
    repo.write("CHANGELOG.md", "# Changelog\n\nHand-written intro.\n\n## [Unreleased]\n\n## [1.3.0] - 2026-01-01\n\n### Added\n\n- old entry, edited by hand\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "docs: changelog"]);
    repo.commit("feat(api): add search");
    repo.commit("fix: handle empty cart");
    let before_tree = repo.git(&["status", "--porcelain"]);
    assert_eq!(before_tree, "");
    let out = repo.release(&[]);
    assert_eq!(s(&out["next"]), Some("1.4.0"));
    assert_eq!(out["tagged"], serde_json::json!(["v1.4.0"]));
    assert_eq!(repo.log()[0], "chore(release): v1.4.0");
    assert_eq!(
        repo.git(&["cat-file", "-t", "v1.4.0"]),
        "tag",
        "annotated tag"
    );
    assert_eq!(
        repo.git(&["rev-parse", "v1.4.0^{commit}"]),
        repo.git(&["rev-parse", "HEAD"])
    );
    assert_eq!(
        repo.git(&["status", "--porcelain"]),
        "",
        "nothing left uncommitted"
    );

    let root = repo.read("Cargo.toml");
    assert!(
        root.contains("# the one version\nversion = \"1.4.0\""),
        "{root}"
    );
    assert!(
        root.contains("core-lib = { path = \"crates/core-lib\", version = \"1.4.0\" }"),
        "{root}"
    );
    let app = repo.read("crates/app/Cargo.toml");
    assert!(app.contains("version = \"1.4.0\" # own"), "{app}");
    assert!(
        app.contains("version = \"=1.4.0\" }"),
        "operator kept: {app}"
    );
    assert!(app.contains("serde = \"1\""));
    assert_eq!(
        repo.read("crates/core-lib/Cargo.toml"),
        "[package]\nname = \"core-lib\"\nversion.workspace = true\nedition.workspace = true\n"
    );
    let lock = repo.read("Cargo.lock");
    assert_eq!(lock.matches("version = \"1.4.0\"").count(), 2, "{lock}");
    assert!(
        lock.contains("name = \"serde\"\nversion = \"1.3.0\""),
        "registry packages untouched: {lock}"
    );

    let changelog = repo.read("CHANGELOG.md");
    assert!(
        changelog.starts_with(
            "# Changelog\n\nHand-written intro.\n\n## [Unreleased]\n\n## [1.4.0] - 2025-11-26\n"
        ),
        "{changelog}"
    );
    assert!(
        changelog.contains("### Added\n\n- **api**: add search\n"),
        "{changelog}"
    );
    assert!(
        changelog.contains("### Fixed\n\n- handle empty cart\n"),
        "{changelog}"
    );
    assert!(
        changelog
            .ends_with("## [1.3.0] - 2026-01-01\n\n### Added\n\n- old entry, edited by hand\n"),
        "{changelog}"
    );

    // a re-run has nothing to do and changes nothing
    let again = repo.release(&[]);
    assert_eq!(again["next"], Value::Null);
    assert_eq!(repo.tags(), vec!["v1.3.0", "v1.4.0"]);
    assert_eq!(
        repo.log()
            .iter()
            .filter(|m| m.starts_with("chore(release)"))
            .count(),
        1
    );
    assert_eq!(repo.read("CHANGELOG.md"), changelog);
}

#[test]
fn dry_run_writes_nothing() {
    let repo = Repo::new();
    workspace(&repo, "1.0.0");
    repo.commit("feat: x");
    let snapshot = |dir: &Path| {
        let mut files = Vec::new();
        for entry in walk(dir) {
            let meta = std::fs::metadata(&entry).expect("meta");
            files.push((
                entry.clone(),
                meta.len(),
                meta.modified().ok(),
                std::fs::read(&entry).ok(),
            ));
        }
        files
    };
    let before = snapshot(&repo.dir);
    let out = repo.shipgate(&["release", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("next       1.1.0 (minor)") && text.contains("dry run: nothing was written"),
        "{text}"
    );
    assert_eq!(
        snapshot(&repo.dir),
        before,
        "the work tree and .git are untouched"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("readdir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn prerelease_lifecycle_then_stable() {
    let repo = Repo::new();
    workspace(&repo, "1.3.0");
    repo.git(&["tag", "-a", "v1.3.0", "-m", "release"]);
    repo.commit("feat: one");
    assert_eq!(
        s(&repo.release(&["--pre", "rc"])["next"]),
        Some("1.4.0-rc.1")
    );
    // no new commits: nothing to do
    assert_eq!(repo.plan(&["--pre", "rc"])["next"], Value::Null);
    repo.commit("fix: two");
    let rc2 = repo.release(&["--pre", "rc"]);
    assert_eq!(s(&rc2["next"]), Some("1.4.0-rc.2"));
    assert_eq!(s(&rc2["current"]), Some("1.4.0-rc.1"));
    let stable = repo.release(&[]);
    assert_eq!(s(&stable["next"]), Some("1.4.0"), "{stable}");
    assert_eq!(s(&stable["current"]), Some("1.4.0-rc.2"));
    assert_eq!(
        stable["commits"], 4,
        "every change since the last stable release (including the rc release commits)"
    );
    assert_eq!(
        repo.tags(),
        vec!["v1.3.0", "v1.4.0", "v1.4.0-rc.1", "v1.4.0-rc.2"]
    );
    let changelog = repo.read("CHANGELOG.md");
    for heading in ["## [1.4.0] -", "## [1.4.0-rc.2] -", "## [1.4.0-rc.1] -"] {
        assert_eq!(
            changelog.matches(heading).count(),
            1,
            "{heading} once: {changelog}"
        );
    }
    let stable_section = changelog.split("## [1.4.0-rc.2]").next().expect("section");
    assert!(
        stable_section.contains("- one") && stable_section.contains("- two"),
        "stable gathers the rcs' changes: {changelog}"
    );
    assert_eq!(
        repo.read("crates/app/Cargo.toml")
            .matches("1.4.0\"")
            .count(),
        2
    );
}

#[test]
fn per_crate_mode_bumps_touched_crates_and_their_dependents() {
    let repo = Repo::new();
    repo.write("Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n");
    repo.write(
        "crates/core-lib/Cargo.toml",
        "[package]\nname = \"core-lib\"\nversion = \"1.0.0\"\n",
    );
    repo.write("crates/app/Cargo.toml", "[package]\nname = \"app\"\nversion = \"2.1.0\"\n\n[dependencies]\ncore-lib = { path = \"../core-lib\", version = \"1.0.0\" }\n");
    repo.write(
        "crates/other/Cargo.toml",
        "[package]\nname = \"other\"\nversion = \"0.5.0\"\n",
    );
    repo.write("shipgate.toml", "[release]\nmode = \"per-crate\"\n");
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "chore: scaffold"]);
    for t in ["core-lib-v1.0.0", "app-v2.1.0", "other-v0.5.0"] {
        repo.git(&["tag", "-a", t, "-m", "release"]);
    }
    repo.commit_file("crates/core-lib/src/lib.rs", "feat(core): new api");
    repo.commit_file("README.md", "docs: readme");
    let out = repo.release(&[]);
    let packages = out["packages"].as_array().expect("packages");
    let by_name = |n: &str| {
        packages
            .iter()
            .find(|p| p["name"] == n)
            .cloned()
            .expect("package")
    };
    assert_eq!(s(&by_name("core-lib")["next"]), Some("1.1.0"));
    assert_eq!(
        s(&by_name("app")["next"]),
        Some("2.1.1"),
        "dependent gets a patch"
    );
    assert_eq!(
        by_name("other")["next"],
        Value::Null,
        "untouched crate is not released"
    );
    assert_eq!(by_name("core-lib")["commits"], 1);
    let mut tags = repo.tags();
    tags.sort();
    assert_eq!(
        tags,
        vec![
            "app-v2.1.0",
            "app-v2.1.1",
            "core-lib-v1.0.0",
            "core-lib-v1.1.0",
            "other-v0.5.0"
        ]
    );
    assert!(
        repo.read("crates/app/Cargo.toml")
            .contains("version = \"1.1.0\" }")
    );
    assert!(
        repo.read("crates/core-lib/CHANGELOG.md")
            .contains("- **core**: new api")
    );
    assert_eq!(repo.log()[0], "chore(release): app-v2.1.1, core-lib-v1.1.0");
    // the next feature in `other` releases only other
    repo.commit_file("crates/other/x.rs", "fix: other fix");
    let out = repo.plan(&[]);
    let names: Vec<&str> = out["packages"]
        .as_array()
        .expect("p")
        .iter()
        .filter(|p| !p["next"].is_null())
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, vec!["other"]);
}

#[test]
fn reverts_cancel_the_reverted_commit() {
    let repo = Repo::new();
    workspace(&repo, "1.0.0");
    repo.git(&["tag", "-a", "v1.0.0", "-m", "r"]);
    repo.commit("fix: small");
    let feat = repo.commit("feat: risky");
    repo.git(&["revert", "--no-edit", &feat]);
    let plan = repo.plan(&[]);
    assert_eq!(s(&plan["next"]), Some("1.0.1"), "{plan}");
    assert_eq!(plan["reverted"], 2);
    let breaking = repo.commit("feat!: even riskier");
    repo.commit(&format!(
        "revert: even riskier\n\nRefs: {}",
        &breaking[..10]
    ));
    let plan = repo.plan(&[]);
    assert_eq!(s(&plan["next"]), Some("1.0.1"), "{plan}");
    assert!(
        !plan["changelog"]
            .as_str()
            .expect("section")
            .contains("riskier")
    );
}

#[test]
fn merge_commits_bring_their_commits_but_do_not_count() {
    let repo = Repo::new();
    workspace(&repo, "1.0.0");
    repo.git(&["tag", "-a", "v1.0.0", "-m", "r"]);
    repo.git(&["checkout", "-q", "-b", "topic"]);
    repo.commit_file("a.txt", "feat: from a branch");
    repo.git(&["checkout", "-q", "main"]);
    repo.commit_file("b.txt", "fix: on main");
    repo.git(&[
        "merge",
        "--no-ff",
        "-q",
        "-m",
        "Merge branch 'topic'",
        "topic",
    ]);
    let plan = repo.plan(&[]);
    assert_eq!(s(&plan["next"]), Some("1.1.0"));
    assert_eq!(
        plan["commits"], 2,
        "the merge commit itself is not counted: {plan}"
    );
    assert_eq!(plan["non_conventional"], 0);
}

#[test]
fn shallow_clone_is_deepened_from_the_remote_or_refused() {
    let origin = Repo::new();
    workspace(&origin, "2.0.0");
    origin.git(&["tag", "-a", "v2.0.0", "-m", "r"]);
    origin.commit("feat: deep feature");
    for i in 0..150 {
        origin.commit(&format!("fix: fix {i}"));
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let clone = tmp.path().join("clone");
    let url = format!("file://{}", origin.dir.display());
    let out = Command::new("git")
        .args(["clone", "-q", "--depth", "1", &url])
        .arg(&clone)
        .output()
        .expect("clone");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c = Repo::at(&clone);
    assert!(clone.join(".git/shallow").exists());
    let plan = c.plan(&[]);
    assert_eq!(s(&plan["current"]), Some("2.0.0"), "{plan}");
    assert_eq!(
        s(&plan["next"]),
        Some("2.1.0"),
        "the deep feature is seen: {plan}"
    );
    assert_eq!(plan["commits"], 151);

    // without a remote: refused, never a silently wrong version
    let clone2 = tmp.path().join("clone2");
    let out = Command::new("git")
        .args(["clone", "-q", "--depth", "1", &url])
        .arg(&clone2)
        .output()
        .expect("clone");
    assert!(out.status.success());
    let c2 = Repo::at(&clone2);
    c2.git(&["remote", "remove", "origin"]);
    let out = c2.shipgate(&["release", "--dry-run"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("shallow clone") && err.contains("hint: "),
        "{err}"
    );
}

#[test]
fn interrupted_runs_converge_without_duplicates() {
    for step in ["after-files", "after-commit", "after-tag"] {
        let remote = tempfile::tempdir().expect("tmp");
        let bare = remote.path().join("origin.git");
        let out = Command::new("git")
            .args(["init", "-q", "--bare", "-b", "main"])
            .arg(&bare)
            .output()
            .expect("init");
        assert!(out.status.success());
        let repo = Repo::new();
        workspace(&repo, "1.0.0");
        repo.git(&["tag", "-a", "v1.0.0", "-m", "r"]);
        repo.git(&["remote", "add", "origin", &bare.to_string_lossy()]);
        repo.git(&["push", "-q", "origin", "main", "v1.0.0"]);
        repo.commit("feat: something");
        let crashed = repo.shipgate_env(&["release", "--push"], &[("SHIPGATE_FAILPOINT", step)]);
        assert_ne!(
            crashed.status.code(),
            Some(0),
            "{step}: the failpoint stops the run"
        );
        let out = repo.release(&["--push"]);
        assert_eq!(s(&out["next"]), Some("1.1.0"), "{step}: {out}");
        assert_eq!(out["resumed"], true, "{step}");
        assert_eq!(repo.tags(), vec!["v1.0.0", "v1.1.0"], "{step}");
        assert_eq!(
            repo.log()
                .iter()
                .filter(|m| m.starts_with("chore(release)"))
                .count(),
            1,
            "{step}"
        );
        assert_eq!(
            repo.read("CHANGELOG.md").matches("## [1.1.0]").count(),
            1,
            "{step}"
        );
        assert_eq!(repo.git(&["status", "--porcelain"]), "", "{step}");
        assert!(
            !repo.path(".git/shipgate/release.json").exists(),
            "{step}: journal removed"
        );
        let remote_tags = Command::new("git")
            .arg("-C")
            .arg(&bare)
            .args(["tag", "--list"])
            .output()
            .expect("tags");
        assert_eq!(
            String::from_utf8_lossy(&remote_tags.stdout)
                .lines()
                .collect::<Vec<_>>(),
            vec!["v1.0.0", "v1.1.0"],
            "{step}"
        );
        let remote_head = Command::new("git")
            .arg("-C")
            .arg(&bare)
            .args(["rev-parse", "main"])
            .output()
            .expect("head");
        assert_eq!(
            String::from_utf8_lossy(&remote_head.stdout).trim(),
            repo.git(&["rev-parse", "HEAD"]),
            "{step}"
        );
        // and once more: nothing
        assert_eq!(repo.release(&["--push"])["next"], Value::Null);
    }
}

#[test]
fn rejected_push_is_a_clear_error_and_a_rerun_finishes() {
    let remote = tempfile::tempdir().expect("tmp");
    let bare = remote.path().join("origin.git");
    assert!(
        Command::new("git")
            .args(["init", "-q", "--bare", "-b", "main"])
            .arg(&bare)
            .status()
            .expect("init")
            .success()
    );
    let hook = bare.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho 'protected branch: pushes refused' >&2\nexit 1\n",
    )
    .expect("hook");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let repo = Repo::new();
    workspace(&repo, "1.0.0");
    repo.git(&["remote", "add", "origin", &bare.to_string_lossy()]);
    repo.commit("fix: x");
    let out = repo.shipgate(&["release", "--push"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("error: `git push")
            && err.contains("protected branch")
            && err.contains("hint: "),
        "{err}"
    );
    std::fs::remove_file(&hook).expect("rm hook");
    let out = repo.release(&["--push"]);
    assert_eq!(out["pushed"], true);
    assert_eq!(repo.tags(), vec!["v1.0.1"]);
    assert_eq!(
        repo.log()
            .iter()
            .filter(|m| m.starts_with("chore(release)"))
            .count(),
        1
    );
}

#[test]
fn dirty_tree_is_refused_unless_allowed() {
    let repo = Repo::new();
    workspace(&repo, "1.0.0");
    repo.commit("feat: x");
    repo.write("src.txt", "local edit\n");
    let out = repo.shipgate(&["release"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("uncommitted changes: src.txt") && err.contains("hint: commit or stash"),
        "{err}"
    );
    assert!(repo.tags().is_empty());
    let out = repo.release(&["--allow-dirty"]);
    assert_eq!(s(&out["next"]), Some("1.1.0"));
    assert_eq!(
        repo.read("src.txt"),
        "local edit\n",
        "the local edit is kept"
    );
    assert_eq!(
        repo.git(&["status", "--porcelain"]),
        "M src.txt",
        "and stays out of the release commit"
    );
}

#[test]
fn detached_head_releases() {
    let repo = Repo::new();
    workspace(&repo, "1.0.0");
    repo.commit("fix: x");
    let head = repo.git(&["rev-parse", "HEAD"]);
    repo.git(&["checkout", "-q", "--detach", &head]);
    let out = repo.release(&[]);
    assert_eq!(s(&out["next"]), Some("1.0.1"));
    assert_eq!(
        repo.git(&["rev-parse", "v1.0.1^{commit}"]),
        repo.git(&["rev-parse", "HEAD"])
    );
    assert_eq!(repo.git(&["rev-parse", "HEAD~1"]), head);
}

#[test]
fn other_ecosystems_files_are_bumped() {
    let repo = Repo::new();
    repo.write("pom.xml", "<project>\n  <parent>\n    <version>3.2.0</version>\n  </parent>\n  <artifactId>checkout</artifactId>\n  <version>1.4.0</version>\n</project>\n");
    repo.write(
        "web/package.json",
        "{\n  \"name\": \"shop-web\",\n  \"version\": \"1.4.0\"\n}\n",
    );
    repo.write("VERSION", "1.4.0\n");
    repo.write(
        "shipgate.toml",
        "[release]\nchangelog = \"\"\n\n[[release.files]]\npath = \"pom.xml\"\npattern = \"<artifactId>checkout</artifactId> <version>{version}</version>\"\n\n[[release.files]]\npath = \"web/package.json\"\npattern = '\"version\": \"{version}\"'\n\n[[release.files]]\npath = \"VERSION\"\npattern = \"{version}\"\n",
    );
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "chore: scaffold"]);
    repo.commit("feat(checkout): express checkout");
    let plan = repo.plan(&[]);
    assert_eq!(
        s(&plan["current"]),
        Some("1.4.0"),
        "no tag: the first file's version: {plan}"
    );
    let out = repo.release(&[]);
    assert_eq!(s(&out["next"]), Some("1.5.0"));
    assert!(
        repo.read("pom.xml").contains("<version>3.2.0</version>")
            && repo.read("pom.xml").contains("<version>1.5.0</version>")
    );
    assert!(
        repo.read("web/package.json")
            .contains("\"version\": \"1.5.0\"")
    );
    assert_eq!(repo.read("VERSION"), "1.5.0\n");
    assert!(
        !repo.path("CHANGELOG.md").exists(),
        "changelog = \"\" writes none"
    );
}

#[test]
fn version_override_and_strict_mode() {
    let repo = Repo::new();
    workspace(&repo, "1.0.0");
    repo.git(&["tag", "-a", "v1.0.0", "-m", "r"]);
    repo.commit("fix: x");
    assert_eq!(
        s(&repo.plan(&["--version", "3.0.0"])["next"]),
        Some("3.0.0")
    );
    let out = repo.shipgate(&["release", "--dry-run", "--version", "0.9.0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not greater than the current version 1.0.0"),
        "{}",
        stderr(&out)
    );

    repo.commit("Update things");
    assert_eq!(repo.plan(&[])["non_conventional"], 1);
    repo.write("shipgate.toml", "[release]\nstrict = true\n");
    let out = repo.shipgate(&["release", "--dry-run"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "strict refusal is a 'no': {}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("Update things"), "{}", stderr(&out));
}

#[test]
fn bad_input_gets_clear_errors() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = shipgate_in(tmp.path(), &["release", "--dry-run"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not a git repository"),
        "{}",
        stderr(&out)
    );

    let repo = Repo::new();
    let out = repo.shipgate(&["release", "--dry-run"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("has no commits yet"),
        "{}",
        stderr(&out)
    );

    workspace(&repo, "1.0.0");
    repo.git(&["tag", "v1.0.0"]);
    repo.git(&["tag", "v1.1.0"]);
    repo.commit("fix: x");
    let out = repo.shipgate(&["release", "--dry-run"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("two release tags: v1.0.0, v1.1.0"),
        "{}",
        stderr(&out)
    );
    repo.git(&["tag", "-d", "v1.1.0"]);

    repo.git(&["tag", "v1.0"]);
    let out = repo.shipgate(&["release", "--dry-run"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("warning: tag v1.0 is not a semantic version; skipped"),
        "{}",
        stderr(&out)
    );

    repo.write("shipgate.toml", "[release]\ntag-fromat = \"v{version}\"\n");
    let out = repo.shipgate(&["release", "--dry-run"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("shipgate.toml:2:1")
            && err.contains("tag-fromat")
            && err.contains("hint: did you mean `tag-format`?"),
        "{err}"
    );
    std::fs::remove_file(repo.path("shipgate.toml")).expect("rm");

    repo.write(
        "crates/app/Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"1.0.0\n",
    );
    let out = repo.shipgate(&["release", "--dry-run"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("crates/app/Cargo.toml:3:"), "{err}");
}

#[test]
fn invalid_utf8_commit_messages_are_read_lossily() {
    let repo = Repo::new();
    workspace(&repo, "1.0.0");
    repo.git(&["tag", "-a", "v1.0.0", "-m", "r"]);
    repo.write("x.txt", "x");
    repo.git(&["add", "-A"]);
    let msg = repo.path("msg");
    std::fs::write(&msg, b"feat: caf\xe9 menu\n").expect("msg");
    repo.git(&[
        "-c",
        "i18n.commitEncoding=ISO-8859-1",
        "commit",
        "-q",
        "-F",
        &msg.to_string_lossy(),
    ]);
    std::fs::remove_file(&msg).expect("rm");
    let plan = repo.plan(&[]);
    assert_eq!(s(&plan["next"]), Some("1.1.0"));
    assert!(
        plan["changelog"]
            .as_str()
            .expect("section")
            .contains("caf\u{fffd} menu"),
        "{plan}"
    );
}

#[test]
fn github_release_is_created_once_with_the_notes() {
    let github = FakeGithub::start();
    let repo = Repo::new();
    workspace(&repo, "1.0.0");
    repo.git(&["tag", "-a", "v1.0.0", "-m", "r"]);
    repo.git(&[
        "remote",
        "add",
        "origin",
        "https://github.com/acme/shop.git",
    ]);
    repo.commit("feat(cart): gift wrapping (#12)");
    repo.commit("fix: totals");
    let env = [
        ("GITHUB_API_URL", github.url.as_str()),
        ("GITHUB_TOKEN", "ghp_secret_token_value"),
        ("GITHUB_REPOSITORY", "acme/shop"),
    ];
    let out = repo.shipgate_env(
        &["release", "--json", "--pre", "rc", "--github-release"],
        &env,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let outcome: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(outcome["github"][0]["action"], "created", "{outcome}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("ghp_secret")
            && !stderr(&out).contains("ghp_secret"),
        "the token is never printed"
    );
    let posts: Vec<_> = github
        .requests()
        .into_iter()
        .filter(|(m, p, _)| m == "POST" && p == "/repos/acme/shop/releases")
        .collect();
    assert_eq!(posts.len(), 1);
    let body: Value = serde_json::from_str(&posts[0].2).expect("json body");
    assert_eq!(body["tag_name"], "v1.1.0-rc.1");
    assert_eq!(body["prerelease"], true);
    let notes = body["body"].as_str().expect("notes");
    assert!(
        notes.contains("gift wrapping") && notes.contains("totals"),
        "{notes}"
    );
    // a re-run (nothing new to release, HEAD tagged) finds the same release, unchanged
    let out = repo.shipgate_env(
        &["release", "--json", "--pre", "rc", "--github-release"],
        &env,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let again: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(again["next"], Value::Null);
    assert_eq!(again["github"][0]["action"], "unchanged", "{again}");
    let creates = github
        .requests()
        .into_iter()
        .filter(|(m, p, _)| m == "POST" && p == "/repos/acme/shop/releases")
        .count();
    assert_eq!(creates, 1, "never a second release for the same tag");
    assert_eq!(repo.tags(), vec!["v1.0.0", "v1.1.0-rc.1"]);
}
