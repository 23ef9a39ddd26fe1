//! Rendered outputs, as snapshots: the built-in templates over a fixed history.

use shipgate_changelog::{
    ChangelogInput, ChangelogSettings, CommitInput, CommitParser, Contributor, Pattern,
    ReleaseInput, SkipRule, Template, TemplateSource, build_changelog, render_changelog,
    render_release, render_release_with,
};

fn commit(n: u32, message: &str, login: Option<&str>) -> CommitInput {
    CommitInput {
        id: format!("{n:07x}{}", "0".repeat(33)),
        message: message.to_string(),
        author_name: login.unwrap_or("Ada Lovelace").to_string(),
        author_email: "dev@example.com".to_string(),
        author_login: login.map(str::to_string),
        pr: None,
        parsed: None,
    }
}

fn release(
    version: Option<&str>,
    previous: Option<&str>,
    date: &str,
    commits: Vec<CommitInput>,
) -> ReleaseInput {
    ReleaseInput {
        version: version.map(str::to_string),
        tag: version.map(|v| format!("v{v}")),
        previous_tag: previous.map(|p| format!("v{p}")),
        date: version.map(|_| date.to_string()),
        commits,
        ..Default::default()
    }
}

/// A small project's history, newest first: unreleased work, 1.4.0 after two candidates,
/// and the first release.
fn history() -> ChangelogInput {
    ChangelogInput {
        releases: vec![
            release(
                None,
                Some("1.4.0"),
                "",
                vec![
                    commit(20, "feat(cli): add --json to status", None),
                    commit(19, "docs: typo", None),
                ],
            ),
            release(
                Some("1.4.0"),
                Some("1.4.0-rc.2"),
                "2026-11-26",
                vec![
                    commit(18, "chore(release): v1.4.0", None),
                    commit(
                        17,
                        "fix(canary): keep waiting on NaN metrics (#41)",
                        Some("bob"),
                    ),
                    commit(16, "perf(git): walk history once", None),
                ],
            ),
            release(
                Some("1.4.0-rc.2"),
                Some("1.4.0-rc.1"),
                "2026-11-20",
                vec![commit(
                    15,
                    "fix(promote): refuse promotion during a freeze window\n\nCloses #33",
                    None,
                )],
            ),
            release(
                Some("1.4.0-rc.1"),
                Some("1.3.0"),
                "2026-11-12",
                vec![
                    commit(
                        14,
                        "feat(api)!: drop the v1 endpoints (#30)\n\nBREAKING CHANGE: clients must call /v2;\nsee the migration guide",
                        None,
                    ),
                    commit(
                        13,
                        "feat(config): report unknown keys with a did-you-mean (#29)",
                        None,
                    ),
                    commit(12, "refactor: split the judge from the runner", None),
                    commit(11, "feat(deps): bump tokio", Some("dependabot[bot]")),
                    commit(10, "Merge pull request #28 from x/y", None),
                ],
            ),
            release(
                Some("1.3.0"),
                None,
                "2026-10-01",
                vec![
                    commit(2, "feat: first release", None),
                    commit(1, "security: redact tokens in errors (#5)", None),
                ],
            ),
        ],
        remote_url: Some("git@github.com:shipgate/shipgate.git".to_string()),
    }
}

fn settings() -> ChangelogSettings {
    ChangelogSettings {
        skip: vec![SkipRule {
            author: Some(Pattern::new(r"\[bot\]$").expect("regex")),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn template(name: &str) -> Template {
    Template::new(&TemplateSource::builtin(name).expect("builtin")).expect("loads")
}

#[test]
fn keep_a_changelog_whole_history() {
    let text =
        render_changelog(&history(), &settings(), &template("keep-a-changelog")).expect("renders");
    insta::assert_snapshot!(text);
}

#[test]
fn keep_a_changelog_whole_history_folded() {
    let settings = ChangelogSettings {
        fold_prereleases: true,
        ..settings()
    };
    let text =
        render_changelog(&history(), &settings, &template("keep-a-changelog")).expect("renders");
    insta::assert_snapshot!(text);
}

#[test]
fn keep_a_changelog_without_remote() {
    let mut input = history();
    input.remote_url = None;
    let text =
        render_changelog(&input, &settings(), &template("keep-a-changelog")).expect("renders");
    assert!(!text.contains("github.com"), "{text}");
    assert!(
        text.contains("- **canary**: keep waiting on NaN metrics (#41)\n"),
        "{text}"
    );
}

#[test]
fn one_release_section_for_the_release_command() {
    let mut r = history().releases.remove(3);
    r.remote_url = Some("https://github.com/shipgate/shipgate".into());
    insta::assert_snapshot!(render_release(&r, &settings()));
}

#[test]
fn github_release_body_with_new_contributors() {
    let mut r = history().releases.remove(1);
    // the release command passes every commit since the last stable release
    for older in history().releases.drain(2..4) {
        r.commits.extend(older.commits);
    }
    r.previous_tag = Some("v1.3.0".into());
    r.remote_url = Some("https://github.com/shipgate/shipgate".into());
    r.new_contributors = vec![Contributor {
        login: "bob".into(),
        first_pr: Some(41),
    }];
    let text = render_release_with(&r, &settings(), &template("github-release")).expect("renders");
    insta::assert_snapshot!(text);
}

#[test]
fn github_release_without_changes() {
    let r = release(
        Some("1.4.1"),
        Some("1.4.0"),
        "2026-11-27",
        vec![commit(1, "chore: tidy", None)],
    );
    let text = render_release_with(&r, &settings(), &template("github-release")).expect("renders");
    assert_eq!(text, "## What's Changed\n\nNo notable changes.\n");
}

#[test]
fn github_release_documents_have_no_file_header_or_link_definitions() {
    let mut input = history();
    input.releases.truncate(2);
    let text = render_changelog(&input, &settings(), &template("github-release")).expect("renders");
    assert!(text.starts_with("## What's Changed\n"), "{text}");
    assert!(
        !text.contains("# Changelog") && !text.contains("]: https://"),
        "{text}"
    );
    // A custom template is a file's: the header stays (`[changelog] header = ""` drops it).
    let custom = Template::new(&TemplateSource::Custom {
        name: "notes.hbs".into(),
        text: "## {{title}}\n".into(),
    })
    .expect("loads");
    let text = render_changelog(&input, &settings(), &custom).expect("renders");
    assert!(text.starts_with("# Changelog\n"), "{text}");
    assert!(text.contains("\n[1.4.0]: https://"), "{text}");
}

#[test]
fn custom_sections_follow_the_built_in_ones() {
    let settings = ChangelogSettings {
        parsers: vec![
            CommitParser {
                kind: Some("docs".into()),
                section: Some("Documentation".into()),
                ..Default::default()
            },
            CommitParser {
                kind: Some("ci".into()),
                section: Some("Build".into()),
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    let r = release(
        Some("2.0.0"),
        Some("1.0.0"),
        "2026-11-26",
        vec![
            commit(3, "ci: cache", None),
            commit(2, "docs: guide", None),
            commit(1, "fix: x", None),
        ],
    );
    let titles: Vec<String> = shipgate_changelog::build_release(&r, &settings)
        .sections
        .into_iter()
        .map(|s| s.title)
        .collect();
    assert_eq!(titles, vec!["Fixed", "Documentation", "Build"]);
}

#[test]
fn issue_footers_with_hash_separator_are_linked() {
    let text =
        render_changelog(&history(), &settings(), &template("keep-a-changelog")).expect("renders");
    assert!(text.contains("- **promote**: refuse promotion during a freeze window ([#33](https://github.com/shipgate/shipgate/issues/33))\n"), "{text}");
}

#[test]
fn context_is_json() {
    let doc = build_changelog(&history(), &settings());
    let json = serde_json::to_value(&doc).expect("serializes");
    let entry = &json["releases"][1]["sections"][0]["entries"][0];
    assert_eq!(json["releases"][1]["title"], "1.4.0");
    assert_eq!(
        json["releases"][1]["sections"][0]["title"],
        "⚠ Breaking changes"
    );
    assert_eq!(entry["type"], "feat");
    assert_eq!(entry["scope"], "api");
    assert_eq!(entry["pr"], 30);
    assert_eq!(
        entry["pr_url"],
        "https://github.com/shipgate/shipgate/pull/30"
    );
    assert_eq!(
        entry["breaking_note"],
        "clients must call /v2;\nsee the migration guide"
    );
    assert_eq!(json["links"][0]["label"], "Unreleased");
}
