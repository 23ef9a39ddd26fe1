//! In-place CHANGELOG.md updates: where the section goes, what is kept, and that a second
//! run changes nothing.

use proptest::prelude::*;
use shipgate_changelog::{HEADER, InsertOptions, insert_release, insert_release_with};

const SECTION: &str = "## [1.4.0] - 2026-11-26\n\n### Added\n\n- a thing\n\n[1.4.0]: https://github.com/o/r/compare/v1.3.0...v1.4.0\n";

/// Inserts `SECTION` into `existing`, checks the result, and that inserting again is a no-op.
fn check(existing: Option<&str>, expected: &str, warned: bool) {
    let first = insert_release(existing, "1.4.0", SECTION);
    assert_eq!(
        first.text, expected,
        "\n--- got ---\n{}\n--- expected ---\n{expected}",
        first.text
    );
    assert!(first.changed);
    assert_eq!(first.warning.is_some(), warned, "{:?}", first.warning);
    let second = insert_release(Some(&first.text), "1.4.0", SECTION);
    assert!(!second.changed);
    assert_eq!(second.text, first.text);
}

#[test]
fn new_file() {
    check(
        None,
        &format!(
            "{HEADER}\n## [Unreleased]\n\n## [1.4.0] - 2026-11-26\n\n### Added\n\n- a thing\n\n[1.4.0]: https://github.com/o/r/compare/v1.3.0...v1.4.0\n"
        ),
        false,
    );
    check(
        Some("  \n"),
        &insert_release(None, "1.4.0", SECTION).text,
        false,
    );
}

#[test]
fn under_unreleased_and_links_after_the_unreleased_link() {
    let existing = "# Changelog\n\nIntro, edited by hand.\n\n## [Unreleased]\n\n- hand-written note\n\n## [1.3.0] - 2026-10-01\n\n### Fixed\n\n- old  \n\n[Unreleased]: https://github.com/o/r/compare/v1.3.0...HEAD\n[1.3.0]: https://github.com/o/r/releases/tag/v1.3.0\n";
    let expected = "# Changelog\n\nIntro, edited by hand.\n\n## [Unreleased]\n\n- hand-written note\n\n## [1.4.0] - 2026-11-26\n\n### Added\n\n- a thing\n\n## [1.3.0] - 2026-10-01\n\n### Fixed\n\n- old  \n\n[Unreleased]: https://github.com/o/r/compare/v1.3.0...HEAD\n[1.4.0]: https://github.com/o/r/compare/v1.3.0...v1.4.0\n[1.3.0]: https://github.com/o/r/releases/tag/v1.3.0\n";
    check(Some(existing), expected, false);
}

#[test]
fn unreleased_only() {
    let existing = "# Changelog\n\n## [Unreleased]\n";
    check(
        Some(existing),
        "# Changelog\n\n## [Unreleased]\n\n## [1.4.0] - 2026-11-26\n\n### Added\n\n- a thing\n\n[1.4.0]: https://github.com/o/r/compare/v1.3.0...v1.4.0\n",
        false,
    );
}

#[test]
fn no_unreleased_heading_goes_before_the_newest_release() {
    let existing = "# Changelog\n\n## 1.3.0 (2026-10-01)\n\n- old\n";
    check(
        Some(existing),
        "# Changelog\n\n## [1.4.0] - 2026-11-26\n\n### Added\n\n- a thing\n\n## 1.3.0 (2026-10-01)\n\n- old\n\n[1.4.0]: https://github.com/o/r/compare/v1.3.0...v1.4.0\n",
        false,
    );
}

#[test]
fn title_only_appends() {
    check(
        Some("# Changelog\n\nNothing yet."),
        "# Changelog\n\nNothing yet.\n\n## [1.4.0] - 2026-11-26\n\n### Added\n\n- a thing\n\n[1.4.0]: https://github.com/o/r/compare/v1.3.0...v1.4.0\n",
        false,
    );
}

#[test]
fn other_shapes_go_to_the_top_with_a_warning() {
    let existing = "Release history\n===============\n\nv1.3.0: fixed things\n";
    check(
        Some(existing),
        "## [1.4.0] - 2026-11-26\n\n### Added\n\n- a thing\n\nRelease history\n===============\n\nv1.3.0: fixed things\n\n[1.4.0]: https://github.com/o/r/compare/v1.3.0...v1.4.0\n",
        true,
    );
}

#[test]
fn headings_already_there_in_other_spellings_are_found() {
    for heading in [
        "## [1.4.0]",
        "## 1.4.0",
        "## [v1.4.0](https://x) - 2026",
        "## v1.4.0 (2026-11-26)",
        "## [1.4.0] - 2026-11-26\r",
    ] {
        let existing = format!("# Changelog\n\n{heading}\n\n- done by hand\n");
        let r = insert_release(Some(&existing), "1.4.0", SECTION);
        assert!(!r.changed, "{heading}");
        assert_eq!(r.text, existing);
    }
    // a longer version is another version
    assert!(insert_release(Some("# Changelog\n\n## [1.4.0-rc.1]\n"), "1.4.0", SECTION).changed);
    assert!(
        insert_release(
            Some("# Changelog\n\n## [1.4.0-rc.1]\n"),
            "v1.4.0-rc.1",
            SECTION
        )
        .changed
        .eq(&false)
    );
}

#[test]
fn headings_in_code_blocks_do_not_count() {
    let existing = "# Changelog\n\n```md\n## [1.4.0]\n```\n\n## [1.3.0]\n";
    let r = insert_release(Some(existing), "1.4.0", SECTION);
    assert!(r.changed);
    assert!(
        r.text
            .starts_with("# Changelog\n\n```md\n## [1.4.0]\n```\n\n## [1.4.0] - 2026-11-26\n"),
        "{}",
        r.text
    );
}

#[test]
fn an_existing_link_definition_is_not_repeated() {
    let existing = "# Changelog\n\n## [1.3.0]\n\n[1.4.0]: https://elsewhere\n";
    let r = insert_release(Some(existing), "1.4.0", SECTION);
    assert_eq!(r.text.matches("[1.4.0]:").count(), 1, "{}", r.text);
}

#[test]
fn stable_release_folds_its_candidates_in_place() {
    let existing = "# Changelog\n\n## [Unreleased]\n\n## [1.4.0-rc.2] - 2026-11-20\n\n### Fixed\n\n- b\n\n## [1.4.0-rc.1] - 2026-11-12\n\n### Added\n\n- a\n\n```\n## [1.4.0-rc.9] (a code block inside rc.1's section)\n```\n\n## [1.3.0] - 2026-10-01\n\n- old, edited by hand\n\n[Unreleased]: https://github.com/o/r/compare/v1.4.0-rc.2...HEAD\n[1.4.0-rc.2]: https://github.com/o/r/compare/v1.4.0-rc.1...v1.4.0-rc.2\n[1.4.0-rc.1]: https://github.com/o/r/compare/v1.3.0...v1.4.0-rc.1\n[1.3.0]: https://github.com/o/r/releases/tag/v1.3.0\n";
    let options = InsertOptions {
        version: "1.4.0",
        section: SECTION,
        fold_prereleases: true,
    };
    let first = insert_release_with(Some(existing), &options);
    let expected = "# Changelog\n\n## [Unreleased]\n\n## [1.4.0] - 2026-11-26\n\n### Added\n\n- a thing\n\n## [1.3.0] - 2026-10-01\n\n- old, edited by hand\n\n[Unreleased]: https://github.com/o/r/compare/v1.4.0-rc.2...HEAD\n[1.4.0]: https://github.com/o/r/compare/v1.3.0...v1.4.0\n[1.3.0]: https://github.com/o/r/releases/tag/v1.3.0\n";
    // the code block sits inside rc.1's section, so it goes with it
    assert_eq!(first.text, expected, "\n{}", first.text);
    assert!(first.changed);
    let second = insert_release_with(Some(&first.text), &options);
    assert!(!second.changed);
    assert_eq!(second.text, first.text);
    // without folding, or for a prerelease, it is a plain insert
    let plain = InsertOptions {
        fold_prereleases: false,
        ..options
    };
    assert_eq!(
        insert_release_with(Some(existing), &plain),
        insert_release(Some(existing), "1.4.0", SECTION)
    );
    let rc = InsertOptions {
        version: "1.4.0-rc.3",
        ..options
    };
    assert!(
        insert_release_with(Some(existing), &rc)
            .text
            .contains("## [1.4.0-rc.1]")
    );
}

/// `needle`'s bytes appear in `hay` in order.
fn is_subsequence(needle: &[u8], hay: &[u8]) -> bool {
    let mut it = hay.iter();
    needle.iter().all(|b| it.any(|h| h == b))
}

fn document() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        Just("# Changelog".to_string()),
        Just("## [Unreleased]".to_string()),
        Just("## [1.3.0] - 2026-10-01".to_string()),
        Just("## 0.9.0".to_string()),
        Just("```".to_string()),
        Just("[Unreleased]: https://x/compare/v1.3.0...HEAD".to_string()),
        Just("[1.3.0]: https://x/releases/tag/v1.3.0".to_string()),
        Just(String::new()),
        "[ -~]{0,30}",
        "\\PC{0,20}",
    ];
    (
        prop::collection::vec(line, 0..25),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(lines, crlf, final_newline)| {
            let mut s = lines.join(if crlf { "\r\n" } else { "\n" });
            if final_newline {
                s.push('\n');
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn never_loses_a_byte_and_is_idempotent(existing in document()) {
        let first = insert_release(Some(&existing), "1.4.0", SECTION);
        if existing.trim().is_empty() {
            // A blank file counts as no file (see `new_file`): whitespace is all it loses.
            prop_assert_eq!(&first.text, &insert_release(None, "1.4.0", SECTION).text);
        } else {
            prop_assert!(is_subsequence(existing.as_bytes(), first.text.as_bytes()));
        }
        prop_assert!(first.text.contains("## [1.4.0] - 2026-11-26\n\n### Added\n\n- a thing\n"));
        prop_assert!(first.text.contains("[1.4.0]: https://github.com/o/r/compare/v1.3.0...v1.4.0\n"));
        let second = insert_release(Some(&first.text), "1.4.0", SECTION);
        prop_assert!(!second.changed);
        prop_assert_eq!(second.text, first.text);
    }
}
