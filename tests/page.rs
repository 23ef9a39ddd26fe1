//! The status page end to end: a ledger written by the real `shipgate` commands (promotions,
//! verifications, approvals, a failed verification and its rollback, a freeze), a canary
//! recording, `shipgate page --out DIR`, and the pages opened in a real headless Chromium
//! (Debian's `chromium`) from `file://` URLs: no console error, no failed load, the matrix
//! and the tables say what the ledger says, every link resolves, text contrast, headings,
//! the keyboard's first stop, no sideways scrolling on a phone. The screenshots are kept in
//! the target directory as the test's artefacts.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

#[path = "support/git_repo.rs"]
mod git_repo;
use git_repo::{Repo, stderr};

const RECORDING: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/canary/error-regression.json"
);

const BROWSER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/support/browser.py"
);

/// 1 December 2026, 09:00 UTC.
const T0: i64 = 1_796_115_600;

fn at(minutes: i64) -> String {
    jiff::Timestamp::from_second(T0 + minutes * 60)
        .expect("in range")
        .to_string()
}

const CHANGELOG: &str = "# Changelog\n\n## [1.6.0] - 2026-11-30\n\n### Added\n\n- gift cards\n\n## [1.5.0] - 2026-11-29\n\n### Fixed\n\n- the basket keeps its items <b>after</b> a login\n\n## [1.4.0] - 2026-11-28\n\n- first\n";

/// A repository with environments, releases 1.4.0 to 1.6.0 and a ledger written by the
/// commands: 1.4.0 everywhere, 1.5.0 in staging waiting for prod's second approval, 1.6.0
/// failed in staging and rolled back (blocked), prod frozen.
fn ledger() -> Repo {
    let repo = Repo::with_clock(1_764_000_000, 60);
    repo.write_environments();
    repo.write(
        "shipgate.toml",
        "[environments]\norder = [\"dev\", \"staging\", \"prod\"]\n\n[promote]\nversion-key = \"service.image.tag\"\n\n[promote.env.dev]\nverification = \"none\"\n\n[promote.env.prod]\napprovals = 2\n",
    );
    repo.write("CHANGELOG.md", CHANGELOG);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "chore: the storefront"]);
    for v in ["1.4.0", "1.5.0", "1.6.0"] {
        repo.commit(&format!("feat: what {v} brings"));
        repo.tag(&format!("v{v}"));
    }
    let mut minute = 0;
    let mut run = |who: &str, args: &[&str]| {
        minute += 10;
        let now = at(minute);
        let out = repo.shipgate_env(args, &[("SHIPGATE_NOW", &now), ("GITHUB_ACTOR", who)]);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    };
    run("ci", &["promote", "1.4.0", "--to", "dev"]);
    run("ci", &["promote", "1.4.0", "--to", "staging"]);
    run(
        "qa",
        &[
            "verify",
            "1.4.0",
            "--env",
            "staging",
            "--result",
            "pass",
            "--evidence",
            "https://ci.example.com/runs/1",
        ],
    );
    run("alice", &["approve", "1.4.0", "--env", "prod"]);
    run("bob", &["approve", "1.4.0", "--env", "prod"]);
    run("ci", &["promote", "1.4.0", "--to", "prod"]);
    run(
        "qa",
        &["verify", "1.4.0", "--env", "prod", "--result", "pass"],
    );
    run("ci", &["promote", "1.5.0", "--to", "dev"]);
    run("ci", &["promote", "1.5.0", "--to", "staging"]);
    run(
        "qa",
        &["verify", "1.5.0", "--env", "staging", "--result", "pass"],
    );
    run("alice", &["approve", "1.5.0", "--env", "prod"]);
    run("ci", &["promote", "1.6.0", "--to", "dev"]);
    run("ci", &["promote", "1.6.0", "--to", "staging"]);
    run(
        "qa",
        &[
            "verify",
            "1.6.0",
            "--env",
            "staging",
            "--result",
            "fail",
            "--evidence",
            "p95 2.4 s <script>alert(1)</script>",
        ],
    );
    run(
        "carol",
        &[
            "rollback",
            "--env",
            "staging",
            "--to",
            "1.5.0",
            "--reason",
            "p95 over 2 s after 1.6.0",
        ],
    );
    run(
        "carol",
        &[
            "freeze",
            "--env",
            "prod",
            "--reason",
            "INC-7: payments degraded",
        ],
    );
    repo
}

fn chromium() -> PathBuf {
    // Searched on PATH here, without a shell.
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Some(found) = std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
        {
            return found;
        }
    }
    panic!("no chromium on PATH: `cargo xtask test` installs Debian's package `chromium`");
}

/// A copy of the fixture's recording, edited, as `dir/name`.
fn write_recording(dir: &Path, name: &str, edit: impl FnOnce(&mut Value)) {
    std::fs::create_dir_all(dir).expect("mkdir");
    let mut recording: Value =
        serde_json::from_str(&std::fs::read_to_string(RECORDING).expect("read")).expect("json");
    edit(&mut recording);
    std::fs::write(dir.join(name), recording.to_string()).expect("write");
}

/// `shipgate page --out site [--recordings dir] …` at minute 200.
fn page(repo: &Repo, site: &Path, recordings: Option<&Path>, more: &[&str]) -> Output {
    let site = site.display().to_string();
    let mut args = vec!["page", "--out", &site];
    let recordings = recordings.map(|r| r.display().to_string());
    if let Some(r) = &recordings {
        args.extend(["--recordings", r]);
    }
    args.extend(more);
    repo.shipgate_env(&args, &[("SHIPGATE_NOW", &at(200))])
}

/// The reports of `browser.py` for `pages` of the site in `site`.
fn browse(site: &Path, shots: &Path, pages: &[&str]) -> Vec<Value> {
    let urls: Vec<String> = pages
        .iter()
        .map(|p| format!("file://{}", site.join(p).display()))
        .collect();
    let out = Command::new("python3")
        .arg(BROWSER)
        .arg(chromium())
        .arg(shots)
        .args(&urls)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "browser.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<Value>>(&out.stdout).expect("browser.py prints JSON")
}

/// Cell `i` of `row` holds `text`.
fn says(row: &[String], i: usize, text: &str) {
    assert!(
        row[i].contains(text),
        "cell {i} of {row:?} does not say {text:?}"
    );
}

/// Cell `i` of `row` starts with `text`.
fn begins(row: &[String], i: usize, text: &str) {
    assert!(
        row[i].starts_with(text),
        "cell {i} of {row:?} does not start with {text:?}"
    );
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|x| x.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A table's rows as the browser shows them (`tables[label]`).
fn rows(report: &Value, label: &str) -> Vec<Vec<String>> {
    report["tables"][label]
        .as_array()
        .unwrap_or_else(|| panic!("no table {label} in {}", report["url"]))
        .iter()
        .map(strings)
        .collect()
}

#[test]
fn the_status_page_shows_the_ledger_in_a_real_browser() {
    let repo = ledger();
    let tmp = repo.dir.parent().expect("tmp");
    let recordings = tmp.join("recordings");
    write_recording(&recordings, "canary-1.6.0.json", |r| {
        r["env"] = "staging".into();
        r["version"] = "1.6.0".into();
        r["baseline_version"] = "1.5.0".into();
    });
    let site = tmp.join("site");
    let out = page(
        &repo,
        &site,
        Some(&recordings),
        &["--title", "shop/storefront"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("from 17 ledger entries"), "{said}");

    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("page-screenshots");
    let _ = std::fs::remove_dir_all(&shots);
    let pages = [
        "index.html",
        "history/index.html",
        "history/kind-rollback.html",
        "versions/page.html",
        "canaries/index.html",
        "canaries/report-1.html",
        "delivery.html",
    ];
    let reports = browse(&site, &shots, &pages);
    assert_eq!(reports.len(), pages.len());

    let mut links = BTreeSet::new();
    for r in &reports {
        let url = r["url"].as_str().unwrap_or_default();
        for side in [r, &r["phone"]] {
            for key in [
                "console",
                "exceptions",
                "log",
                "failed_requests",
                "contrast_failures",
            ] {
                assert_eq!(
                    side[key],
                    serde_json::json!([]),
                    "{key} on {url} ({} px)",
                    side["width"]
                );
            }
            assert_eq!(
                side["scrolls_sideways"], false,
                "{url} scrolls sideways at {} px",
                side["width"]
            );
            let shot = side["screenshot"].as_str().expect("a screenshot");
            assert!(
                std::fs::metadata(shot).expect("screenshot kept").len() > 1_000,
                "{shot}"
            );
        }
        assert_eq!(r["lang"], "en", "{url}");
        assert_eq!(r["h1"].as_array().map(Vec::len), Some(1), "one h1 on {url}");
        assert_eq!(r["heading_skips"], serde_json::json!([]), "{url}");
        assert_eq!(r["th_without_scope"], 0, "{url}");
        assert_eq!(r["tables_without_headings"], 0, "{url}");
        assert_eq!(r["svg_without_title"], 0, "{url}");
        assert_eq!(r["scripts"], 0, "no script on {url}");
        // The keyboard's first stop skips the navigation.
        assert_eq!(strings(&r["first_tab"]), ["A", "skip", "#content"], "{url}");
        for image in r["images"].as_array().expect("images") {
            assert_eq!(image["loaded"], true, "{image} on {url}");
            assert!(
                image["alt"].as_str().is_some_and(|a| !a.is_empty()),
                "{image}"
            );
        }
        for link in strings(&r["links"]) {
            links.insert(link);
        }
    }

    // Every link is a file of the site, and its fragment an element of that file; the only
    // other link is the evidence's URL.
    for link in &links {
        if link.starts_with("https://") {
            assert_eq!(
                link, "https://ci.example.com/runs/1",
                "only the evidence leaves the site"
            );
            continue;
        }
        let rest = link
            .strip_prefix("file://")
            .unwrap_or_else(|| panic!("a link that leaves the site: {link}"));
        let (path, fragment) = rest.split_once('#').unwrap_or((rest, ""));
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{link}: {e}"));
        if !fragment.is_empty() {
            assert!(
                text.contains(&format!("id=\"{fragment}\"")),
                "{link}: no element {fragment}"
            );
        }
    }

    // What runs where, as the ledger says.
    let index = &reports[0];
    let envs = rows(index, "Environments");
    let row = |name: &str| {
        envs.iter()
            .find(|r| r.first().map(String::as_str) == Some(name))
            .unwrap_or_else(|| panic!("{name} in {envs:?}"))
            .clone()
    };
    assert_eq!(row("dev")[1], "1.6.0");
    assert_eq!(row("staging")[1], "1.5.0");
    assert_eq!(row("prod")[1], "1.4.0");
    assert_eq!(row("prod")[3], "ci");
    begins(&row("prod"), 4, "passed");
    says(&row("prod"), 6, "INC-7: payments degraded");
    says(&row("staging"), 8, "1.6.0 → 1.5.0");
    says(&row("staging"), 8, "p95 over 2 s after 1.6.0");

    let matrix = rows(index, "Versions and environments");
    assert_eq!(matrix[0], ["Version", "dev", "staging", "prod"]);
    let version = |v: &str| {
        matrix
            .iter()
            .find(|r| r[0] == v)
            .unwrap_or_else(|| panic!("{v} in {matrix:?}"))
            .clone()
    };
    begins(&version("1.6.0"), 1, "running");
    says(&version("1.6.0"), 2, "rolled back");
    says(&version("1.6.0"), 2, "verification failed");
    assert_eq!(version("1.6.0")[3], "blocked");
    begins(&version("1.5.0"), 2, "running");
    assert_eq!(version("1.5.0")[3], "1 approval of 2");
    begins(&version("1.4.0"), 3, "running");

    let index_html = std::fs::read_to_string(site.join("index.html")).expect("index");
    assert!(
        index_html.contains("<code>shipgate approve 1.5.0 --env prod --push</code>"),
        "the approval still to give"
    );
    assert!(index_html.contains("<code>shipgate unblock 1.6.0 --reason"));

    // History: newest first, rollbacks marked; the hostile evidence is text.
    let history = rows(&reports[1], "Ledger entries");
    assert_eq!(
        history.len(),
        18,
        "a heading row and 17 entries: {history:?}"
    );
    assert_eq!(history[1][1], "Freeze");
    assert_eq!(history[2][1], "Block", "written with the rollback");
    assert_eq!(history[3][1], "Rollback");
    says(&history[3], 5, "p95 over 2 s after 1.6.0");
    says(&history[4], 5, "<script>alert(1)</script>");
    let rollbacks = rows(&reports[2], "Ledger entries");
    assert_eq!(rollbacks.len(), 2);

    // The canary report: the recording judged again, with one chart per metric.
    let report = &reports[5];
    assert!(!rows(report, "Metrics").is_empty());
    assert!(!report["images"].as_array().expect("images").is_empty());

    // Delivery: one chart per measure and environment with a table beside them.
    let delivery = &reports[6];
    let prod = rows(delivery, "Delivery of prod by month");
    assert_eq!(prod[1][0], "2026-12");
    assert_eq!(prod[1][1], "1", "one promotion into prod");
}

#[test]
fn a_directory_of_other_files_is_refused_and_left_alone() {
    let repo = ledger();
    let out_dir = repo.dir.parent().expect("tmp").join("docs");
    std::fs::create_dir(&out_dir).expect("mkdir");
    std::fs::write(out_dir.join("guide.md"), "mine").expect("write");
    let out = page(&repo, &out_dir, None, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("did not write"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(out_dir.join("guide.md")).expect("kept"),
        "mine"
    );
    assert_eq!(std::fs::read_dir(&out_dir).expect("list").count(), 1);
}

#[test]
fn a_recording_without_its_environment_is_refused_before_the_ledger_is_read() {
    let repo = ledger();
    let tmp = repo.dir.parent().expect("tmp");
    let recordings = tmp.join("recordings");
    write_recording(&recordings, "replay.json", |r| {
        r.as_object_mut().expect("object").remove("env");
    });
    let site = tmp.join("site");
    let refused = |what: &str| {
        let out = page(&repo, &site, Some(&recordings), &[]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains(what), "{}", stderr(&out));
        assert!(!site.exists(), "nothing written");
    };
    refused("replay.json does not say its environment and version");
    std::fs::write(recordings.join("broken.json"), "{\"format\": ").expect("write");
    refused("broken.json: line 1, column 11: the file ends too early (truncated?)");
}

#[test]
fn a_bad_ledger_entry_is_named_and_nothing_is_written() {
    let repo = ledger();
    let tip = repo.git(&["rev-parse", "refs/shipgate/ledger"]);
    let tree = repo.git(&["rev-parse", "refs/shipgate/ledger^{tree}"]);
    let message = "approval of 1.5.0 for prod by x\n\nshipgate-ledger-entry: 1\n{\"kind\":\"approval\",\"by\":\"x\",\"at\":\"2026-12-01T12:00:00Z\",\"environment\":\"prod\",\"version\":\"1.5.0\",\"extra\":1}\n";
    let bad = repo.git(&["commit-tree", &tree, "-p", &tip, "-m", message]);
    repo.git(&["update-ref", "refs/shipgate/ledger", &bad]);
    let site = repo.dir.parent().expect("tmp").join("site");
    let out = page(&repo, &site, None, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("ledger entry {bad}: line 4")),
        "{err}"
    );
    assert!(err.contains("unknown field `extra`"), "{err}");
    assert!(!site.exists(), "nothing written");
}
