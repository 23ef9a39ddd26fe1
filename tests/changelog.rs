//! End-to-end tests of `shipgate changelog` on real temporary git repositories, and the
//! comparison with git-cliff's Keep a Changelog example configuration on the same history.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "support/fake_github.rs"]
mod fake_github;
use fake_github::FakeGithub;

#[path = "support/git_repo.rs"]
mod git_repo;
use git_repo::Repo;

/// Empty commits an hour apart (the dates the snapshots show).
trait History {
    fn commit_empty(&self, message: &str);
}

impl History for Repo {
    fn commit_empty(&self, message: &str) {
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
    }
}

fn new_repo() -> Repo {
    Repo::with_clock(1_764_000_000, 3600)
}

/// A shop's history: two releases, a release candidate, unreleased work.
fn shop() -> Repo {
    let repo = new_repo();
    repo.commit_empty("feat(cart): add cart (#1)");
    repo.commit_empty("fix: rounding of prices");
    repo.commit_empty("chore: tidy");
    repo.tag("v1.0.0");
    repo.commit_empty("feat(search)!: new search API\n\nBREAKING CHANGE: /v1/search is gone");
    repo.commit_empty("perf(db): index orders by customer");
    repo.tag("v2.0.0-rc.1");
    repo.commit_empty("fix(search): empty queries (#7)");
    repo.tag("v2.0.0");
    repo.commit_empty("feat: wish lists");
    repo.commit_empty("docs: readme");
    repo.git(&["remote", "add", "origin", "git@github.com:acme/shop.git"]);
    repo
}

/// The text of one release, found by its heading (ASCII case-insensitive: git-cliff writes
/// `## [unreleased]`).
fn section<'a>(doc: &'a str, heading: &str) -> &'a str {
    let start = doc
        .to_ascii_lowercase()
        .find(&heading.to_ascii_lowercase())
        .unwrap_or_else(|| panic!("{heading} missing in:\n{doc}"));
    let rest = &doc[start + heading.len()..];
    let end = rest.find("\n## ").map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

#[test]
fn whole_history_in_keep_a_changelog_shape() {
    let repo = shop();
    let doc = repo.stdout(&["changelog"]);
    insta::assert_snapshot!("whole_history", doc);
    let unreleased = section(&doc, "## [Unreleased]");
    assert!(unreleased.contains("### Added\n\n- wish lists\n"), "{doc}");
    assert!(
        !unreleased.contains("readme"),
        "docs are not listed by default: {doc}"
    );
    let v2 = section(&doc, "## [2.0.0] - ");
    assert!(
        v2.contains("- **search**: new search API"),
        "the stable release gathers the rc's changes: {v2}"
    );
    assert!(
        v2.contains("- **search**: empty queries ([#7](https://github.com/acme/shop/pull/7))"),
        "{v2}"
    );
    assert!(
        v2.contains("### Performance\n\n- **db**: index orders by customer"),
        "{v2}"
    );
    let breaking = v2.find("BREAKING").expect("breaking marked");
    assert!(
        breaking < v2.find("### Fixed").expect("fixed"),
        "breaking changes come first: {v2}"
    );
    let rc = section(&doc, "## [2.0.0-rc.1] - ");
    assert!(
        rc.contains("new search API") && !rc.contains("empty queries"),
        "{rc}"
    );
    let v1 = section(&doc, "## [1.0.0] - ");
    assert!(
        v1.contains(
            "### Added\n\n- **cart**: add cart ([#1](https://github.com/acme/shop/pull/1))"
        ),
        "{v1}"
    );
    assert!(v1.contains("### Fixed\n\n- rounding of prices"), "{v1}");
    assert!(!v1.contains("tidy"));
    assert!(
        doc.contains("[2.0.0]: https://github.com/acme/shop/compare/v2.0.0-rc.1...v2.0.0")
            || doc.contains("[2.0.0]: https://github.com/acme/shop/compare/v1.0.0...v2.0.0"),
        "compare links: {doc}"
    );
    assert!(
        doc.contains("[Unreleased]: https://github.com/acme/shop/compare/v2.0.0...HEAD"),
        "{doc}"
    );
    // order: newest first
    let pos = |h: &str| doc.find(h).expect("heading");
    assert!(
        pos("## [Unreleased]") < pos("## [2.0.0] -")
            && pos("## [2.0.0] -") < pos("## [2.0.0-rc.1]")
            && pos("## [2.0.0-rc.1]") < pos("## [1.0.0]")
    );
}

#[test]
fn unreleased_range_output_and_context() {
    let repo = shop();
    let unreleased = repo.stdout(&["changelog", "--unreleased"]);
    assert!(
        unreleased.contains("- wish lists") && !unreleased.contains("## [2.0.0]"),
        "{unreleased}"
    );
    let range = repo.stdout(&["changelog", "--range", "v1.0.0..v2.0.0-rc.1"]);
    assert!(
        range.contains("## [2.0.0-rc.1]")
            && range.contains("new search API")
            && !range.contains("add cart")
            && !range.contains("wish lists"),
        "{range}"
    );
    let out_file = repo.dir.join("NOTES.md");
    let out = repo.shipgate(&["changelog", "--output", &out_file.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert_eq!(
        std::fs::read_to_string(&out_file).expect("written"),
        repo.stdout(&["changelog"])
    );
    let context: serde_json::Value =
        serde_json::from_str(&repo.stdout(&["changelog", "--context"])).expect("json context");
    let releases = context["releases"].as_array().expect("releases");
    assert_eq!(releases.len(), 4, "unreleased + 3 releases: {context}");
    assert_eq!(context["remote_url"], "https://github.com/acme/shop");
}

#[test]
fn github_release_template_is_a_release_body_with_its_issue_references() {
    let repo = new_repo();
    repo.commit_empty("feat: orders");
    repo.tag("v1.0.0");
    repo.commit_empty("fix: handle nulls (#124)");
    repo.commit_empty("fix(cart): totals\n\nRefs: #125");
    repo.commit_empty("feat: gift cards for #126\n\nCloses #127");
    let notes = |extra: &[&str]| {
        let mut args = vec!["changelog", "--template", "github-release", "--unreleased"];
        args.extend_from_slice(extra);
        repo.stdout(&args)
    };
    // No remote: the numbers as GitHub links them by themselves.
    assert_eq!(
        notes(&[]),
        "## What's Changed\n\n### Added\n\n- gift cards for #126 (#126, #127)\n\n\
         ### Fixed\n\n- **cart**: totals (#125)\n- handle nulls in #124\n"
    );
    // On GitHub: links, the compare link in the body, and no link definitions below it.
    repo.git(&["remote", "add", "origin", "git@github.com:acme/shop.git"]);
    let body = notes(&[]);
    assert!(
        body.starts_with("## What's Changed\n"),
        "no file header: {body}"
    );
    for line in [
        "- gift cards for #126 ([#126](https://github.com/acme/shop/issues/126), [#127](https://github.com/acme/shop/issues/127))\n",
        "- **cart**: totals ([#125](https://github.com/acme/shop/issues/125))\n",
        "- handle nulls in https://github.com/acme/shop/pull/124\n",
    ] {
        assert!(body.contains(line), "{line} in {body}");
    }
    assert!(
        body.ends_with(
            "\n**Full Changelog**: https://github.com/acme/shop/compare/v1.0.0...HEAD\n"
        ),
        "{body}"
    );
    // keep-a-changelog is still a file: its header above, its link definitions below.
    let file = repo.stdout(&["changelog", "--unreleased"]);
    assert!(file.starts_with("# Changelog\n"), "{file}");
    assert!(
        file.ends_with("[Unreleased]: https://github.com/acme/shop/compare/v1.0.0...HEAD\n"),
        "{file}"
    );
}

#[test]
fn template_errors_point_at_the_template_line() {
    let repo = shop();
    std::fs::write(
        repo.dir.join("notes.hbs"),
        "{{#each releases}}\n{{version}}\n{{#if}}\n",
    )
    .expect("template");
    let out = repo.shipgate(&["changelog", "--template", "notes.hbs"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("notes.hbs") && err.contains("line "), "{err}");
    let out = repo.shipgate(&["changelog", "--template", "missing.hbs"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("hint: "));
    let out = repo.shipgate(&["changelog", "--range", "v1.0.0"]);
    assert_eq!(out.status.code(), Some(2));
}

/// (section, entry) pairs of one release of a Keep a Changelog document, lower-cased
/// (git-cliff's example capitalises the first letter).
fn entries(doc: &str, heading: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in section(doc, heading).lines() {
        if let Some(h) = line.strip_prefix("### ") {
            current = h.trim().to_string();
        } else if let Some(e) = line.strip_prefix("- ") {
            out.push((current.clone(), e.trim().to_lowercase()));
        }
    }
    out.sort();
    out
}

fn git_cliff() -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("git-cliff"))
            .find(|p| p.is_file())
    })
}

/// git-cliff's `keepachangelog` example sorts by words in the message (`add`, `remove`,
/// `fix` …), not by type; these shipgate parsers say the same.
const CLIFF_LIKE: &str = r#"
[[changelog.parsers]]
message = "^[aA]dd"
section = "Added"
[[changelog.parsers]]
message = "^[sS]upport"
section = "Added"
[[changelog.parsers]]
message = "^[rR]emove"
section = "Removed"
[[changelog.parsers]]
message = "^delete"
section = "Removed"
[[changelog.parsers]]
type = "test"
section = "Fixed"
[[changelog.parsers]]
type = "fix"
section = "Fixed"
[[changelog.parsers]]
message = "^fix"
section = "Fixed"
[[changelog.parsers]]
message = ".*"
section = "Changed"
"#;

#[test]
fn same_entries_in_the_same_sections_as_git_cliff_keepachangelog() {
    let cliff =
        git_cliff().expect("git-cliff is installed by `cargo xtask test` (pip install git-cliff)");
    let repo = new_repo();
    for m in [
        "feat: add cart",
        "fix: rounding of prices",
        "perf: faster checkout",
        "refactor: remove legacy tax code",
        "chore: tidy",
        "docs: readme",
        "Support gift cards",
        "feat: fix typo in banner",
    ] {
        repo.commit_empty(m);
    }
    repo.tag("v1.0.0");
    for m in [
        "feat: wish lists",
        "fix: empty search",
        "feat: add gift cards",
        "test: cover refunds",
        "feat: delete stale carts",
    ] {
        repo.commit_empty(m);
    }
    repo.tag("v1.1.0");
    repo.commit_empty("feat: add unreleased thing");
    let dir: &Path = &repo.dir;
    let init = Command::new(&cliff)
        .current_dir(dir)
        .args(["--init", "keepachangelog"])
        .output()
        .expect("git-cliff --init");
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let theirs = Command::new(&cliff)
        .current_dir(dir)
        .args(["--config", "cliff.toml"])
        .env("NO_COLOR", "1")
        .output()
        .expect("git-cliff runs");
    assert!(
        theirs.status.success(),
        "{}",
        String::from_utf8_lossy(&theirs.stderr)
    );
    let theirs = String::from_utf8_lossy(&theirs.stdout).into_owned();
    std::fs::remove_file(dir.join("cliff.toml")).expect("rm");
    std::fs::write(dir.join("shipgate.toml"), CLIFF_LIKE).expect("config");
    let ours = repo.stdout(&["changelog"]);
    for heading in ["## [Unreleased]", "## [1.1.0]", "## [1.0.0]"] {
        let (o, t) = (entries(&ours, heading), entries(&theirs, heading));
        assert!(!o.is_empty(), "{heading}: {ours}");
        assert_eq!(
            o, t,
            "{heading}\n--- shipgate:\n{ours}\n--- git-cliff:\n{theirs}"
        );
    }
}

#[test]
fn github_enrichment_adds_pr_links_in_one_request_per_hundred_commits() {
    let github = FakeGithub::start();
    let repo = new_repo();
    for i in 0..120 {
        repo.commit_empty(&format!("fix: defect {i}"));
    }
    repo.git(&[
        "remote",
        "add",
        "origin",
        "https://github.com/acme/shop.git",
    ]);
    let plain = repo.stdout(&["changelog", "--unreleased"]);
    assert!(!plain.contains("/pull/"), "no token: no PR links: {plain}");
    assert!(github.requests().is_empty(), "no token: no request");
    let out = repo.shipgate_env(
        &["changelog", "--unreleased"],
        &[
            ("GITHUB_API_URL", github.url.as_str()),
            ("GITHUB_TOKEN", "ghp_test_token"),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = String::from_utf8_lossy(&out.stdout);
    assert!(
        doc.contains("([#100](https://github.com/acme/shop/pull/100))"),
        "{doc}"
    );
    let graphql = github
        .requests()
        .iter()
        .filter(|(m, p, _)| m == "POST" && p == "/graphql")
        .count();
    assert_eq!(graphql, 2, "120 commits: ceil(120 / 100) requests");
    assert!(
        !doc.contains("ghp_test_token")
            && !String::from_utf8_lossy(&out.stderr).contains("ghp_test_token")
    );
}
