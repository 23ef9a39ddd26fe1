use super::*;
use shipgate_promote::entry::{CanarySummary, Changes, Gate};
use shipgate_promote::ops::EnvStatus;

fn at(t: &str) -> Timestamp {
    t.parse().expect("timestamp")
}

fn entry(kind: Kind, env: Option<&str>, version: Option<&str>, by: &str, t: &str) -> Entry {
    Entry {
        environment: env.map(String::from),
        version: version.map(String::from),
        ..Entry::new(kind, by, at(t))
    }
}

fn env_status(name: &str, version: Option<&str>) -> EnvStatus {
    EnvStatus {
        name: name.into(),
        version: version.map(String::from),
        since: version.map(|_| at("2026-12-01T10:00:00Z")),
        by: version.map(|_| "ci".into()),
        verified: false,
        verification: None,
        last_rollback: None,
        desired: version.map(String::from),
        frozen: Vec::new(),
        lock: "free",
        holder: None,
    }
}

/// Newest first, as the ledger hands them.
fn entries() -> Vec<Entry> {
    let mut list = vec![
        Entry {
            from: Some("1.0.0".into()),
            gates: vec![Gate {
                name: "soak".into(),
                passed: true,
                detail: "verified in staging <2h> ago".into(),
            }],
            changes: Some(Changes {
                count: 2,
                commit_times: vec![],
            }),
            ..entry(
                Kind::Promotion,
                Some("staging"),
                Some("1.1.0"),
                "alice",
                "2026-12-01T09:00:00Z",
            )
        },
        entry(
            Kind::Promotion,
            Some("dev"),
            Some("1.1.0"),
            "ci",
            "2026-12-01T09:30:00Z",
        ),
        Entry {
            from: Some("1.1.0".into()),
            reason: Some("canary failed: <script>alert(1)</script>".into()),
            canary: Some(CanarySummary {
                verdict: VerifyResult::Fail,
                decided_at_s: 70.0,
                metric: Some("errors".into()),
                rule: "error rate above the baseline's".into(),
                baseline_version: "1.0.0".into(),
            }),
            ..entry(
                Kind::Rollback,
                Some("staging"),
                Some("1.0.0"),
                "canary",
                "2026-12-01T10:00:00Z",
            )
        },
        Entry {
            reason: Some("canary failed".into()),
            ..entry(
                Kind::Block,
                None,
                Some("1.1.0"),
                "canary",
                "2026-12-01T10:00:00Z",
            )
        },
        entry(
            Kind::Approval,
            Some("prod"),
            Some("1.0.0"),
            "bob",
            "2026-12-01T11:00:00Z",
        ),
    ];
    list.reverse();
    list
}

fn render_with(entries: &[Entry], status: &Status) -> BTreeMap<String, String> {
    let order = vec!["dev".to_string(), "staging".into(), "prod".into()];
    let months = vec![];
    let site = Site {
        title: "shop/<storefront>",
        generated_at: at("2026-12-02T00:00:00Z"),
        order: &order,
        status,
        entries,
        months: &months,
        approvals: [("prod".to_string(), 2)].into(),
        rework_window_s: 7 * 86_400,
        changelog: [(
            "1.1.0".to_string(),
            "### Fixed\n\n- <img src=x onerror=alert(1)> [x](javascript:alert(1))".to_string(),
        )]
        .into(),
        reports: Vec::new(),
    };
    render(&site)
        .into_iter()
        .map(|f| (f.path, String::from_utf8(f.bytes).expect("utf-8")))
        .collect()
}

fn status() -> Status {
    Status {
        environments: vec![
            env_status("dev", Some("1.1.0")),
            env_status("staging", Some("1.0.0")),
            env_status("prod", None),
        ],
        blocked: vec!["1.1.0".into()],
        pending: 0,
        ledger_commit: Some("c0ffee".repeat(7)),
        entries: 5,
        notes: Vec::new(),
    }
}

#[test]
fn every_page_is_there_and_every_local_link_resolves() {
    let files = render_with(&entries(), &status());
    for path in [
        "index.html",
        "style.css",
        "history/index.html",
        "history/people.html",
        "history/kind-rollback.html",
        "versions/index.html",
        "versions/page.html",
        "canaries/index.html",
        "delivery.html",
    ] {
        assert!(files.contains_key(path), "{path} in {:?}", files.keys());
    }
    for (path, text) in &files {
        let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
        for href in text
            .split("href=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
        {
            if href.starts_with("http") || href.starts_with('#') {
                continue;
            }
            let target = href.split('#').next().expect("path");
            let mut parts: Vec<&str> = if dir.is_empty() {
                vec![]
            } else {
                dir.split('/').collect()
            };
            for part in target.split('/') {
                match part {
                    ".." => {
                        parts.pop();
                    }
                    p => parts.push(p),
                }
            }
            let resolved = parts.join("/");
            assert!(
                files.contains_key(&resolved),
                "{path} links {href} → {resolved}"
            );
        }
    }
}

#[test]
fn outside_text_never_becomes_markup() {
    let files = render_with(&entries(), &status());
    for (path, text) in &files {
        assert!(!text.contains("<script"), "{path}");
        assert!(!text.contains("<img src=x"), "{path}");
        assert!(!text.contains("javascript:"), "{path}");
    }
    assert!(files["index.html"].contains("shop/&lt;storefront&gt;"));
    assert!(files["versions/page.html"].contains("verified in staging &lt;2h&gt; ago"));
}

#[test]
fn the_front_page_says_what_runs_where_and_what_waits() {
    let files = render_with(&entries(), &status());
    let index = &files["index.html"];
    // The staging row: 1.0.0, since the rollback.
    assert!(
        index.contains(
            "<th scope=\"row\">staging</th><td><a href=\"versions/page.html#v-1.0.0\">1.0.0</a>"
        ),
        "{index}"
    );
    // 1.1.0 is blocked: never pending approval, and the unblock line is there.
    assert!(index.contains("shipgate unblock 1.1.0 --reason"), "{index}");
    // 1.0.0 runs in staging with 1 of prod's 2 approvals.
    assert!(
        index.contains("for prod: 1 of 2 approvals; to approve, <code>shipgate approve 1.0.0 --env prod --push</code>"),
        "{index}"
    );
    // The matrix: 1.1.0 rolled back in staging, running in dev.
    let row = index
        .split("<tr><th scope=\"row\"><a href=\"versions/page.html#v-1.1.0\">")
        .nth(1)
        .and_then(|r| r.split("</tr>").next())
        .expect("1.1.0's row");
    assert!(
        row.contains("<strong class=\"run\">running</strong>"),
        "{row}"
    );
    assert!(
        row.contains("rolled back</span> <time datetime=\"2026-12-01T10:00:00Z\">"),
        "{row}"
    );
}

#[test]
fn history_is_filtered_by_environment_kind_and_person_with_rollbacks_marked() {
    let files = render_with(&entries(), &status());
    let staging = files
        .iter()
        .find(|(p, _)| p.starts_with("history/env-staging-"))
        .map(|(_, t)| t)
        .expect("staging's listing");
    assert!(staging.contains("2 entries"), "{staging}");
    assert!(staging.contains("<tr class=\"rollback\">"), "{staging}");
    assert!(
        staging.contains("<strong>canary failed: &lt;script&gt;"),
        "{staging}"
    );
    let rollbacks = &files["history/kind-rollback.html"];
    assert!(rollbacks.contains("1 entry"), "{rollbacks}");
    let people = &files["history/people.html"];
    assert!(people.contains(">alice</a></th><td>1</td>"), "{people}");
    let all = &files["history/index.html"];
    assert!(all.contains("5 entries"), "{all}");
    // Newest first.
    let approval = all.find("Approval").expect("approval");
    let promotion = all.find("<td>Promotion</td>").expect("promotion");
    assert!(approval < promotion);
}

#[test]
fn a_journey_shows_the_gates_the_changelog_and_the_canary() {
    let files = render_with(&entries(), &status());
    let page = &files["versions/page.html"];
    let section = page
        .split("<section class=\"version\" aria-labelledby=\"v-1.1.0\">")
        .nth(1)
        .and_then(|s| s.split("</section>").next())
        .expect("1.1.0's journey");
    assert!(section.contains("<h3>dev</h3>"), "{section}");
    assert!(
        section.contains("passed</span> soak: verified in staging"),
        "{section}"
    );
    assert!(section.contains("<h3>Every environment</h3>"), "{section}");
    assert!(
        section.contains("canary failed at 70 s on errors"),
        "{section}"
    );
    assert!(section.contains("<h3>Fixed</h3>"), "{section}");
    // dev before staging, whatever the order of the entries.
    assert!(section.find("<h3>dev</h3>") < section.find("<h3>staging</h3>"));
}

#[test]
fn canaries_list_each_verdict_once() {
    let mut list = entries();
    // A verification written with the rollback carries the same summary.
    let mut twin = list[2].clone();
    twin.kind = Kind::Verification;
    twin.result = Some(VerifyResult::Fail);
    twin.version = Some("1.1.0".into());
    twin.from = None;
    list.insert(2, twin);
    let files = render_with(&list, &status());
    let canaries = &files["canaries/index.html"];
    assert!(canaries.contains("1 canary verdicts"), "{canaries}");
    assert!(canaries.contains("failed, rolled back"), "{canaries}");
}

#[test]
fn a_big_ledger_is_split_into_pages_under_a_megabyte() {
    let mut list = Vec::new();
    for i in 0..5_000 {
        list.push(Entry {
            reason: Some("x".repeat(5_000)),
            from: Some("0.9.0".into()),
            ..entry(
                Kind::Rollback,
                Some("prod"),
                Some(&format!("1.{i}.0")),
                &format!("person-{}", i % 7),
                "2026-12-01T10:00:00Z",
            )
        });
    }
    let files = render_with(&list, &status());
    let too_big: Vec<(&String, usize)> = files
        .iter()
        .map(|(p, t)| (p, t.len()))
        .filter(|(_, n)| *n > 1_000_000)
        .collect();
    assert!(too_big.is_empty(), "{too_big:?}");
    assert!(
        files.contains_key("history/index-5.html"),
        "{:?}",
        files
            .keys()
            .filter(|k| k.starts_with("history/index"))
            .collect::<Vec<_>>()
    );
    assert!(files.contains_key("versions/page-50.html"));
}
