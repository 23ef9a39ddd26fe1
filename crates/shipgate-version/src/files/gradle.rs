//! Gradle's version: the `version` property of `gradle.properties` (Java properties:
//! `version=1.2.0`, `version = 1.2.0`, `version: 1.2.0`), and the `version` statements of
//! a build script (`version = '1.2.0'`, `version "1.2.0"`, `project.version = "1.2.0"`,
//! Groovy or Kotlin). A plugin's `id("…") version "…"` is never one: a statement starts
//! with `version`.

use std::sync::LazyLock;

use regex::Regex;

use super::{FileError, Found};

/// Lines of `text` with the byte offset each starts at, without their line ending.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut at = 0;
    text.split_inclusive('\n').map(move |raw| {
        let start = at;
        at += raw.len();
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        (start, line.strip_suffix('\r').unwrap_or(line))
    })
}

/// Whether a properties line goes on on the next one: an odd number of trailing `\`.
fn continues(line: &str) -> bool {
    line.bytes().rev().take_while(|b| *b == b'\\').count() % 2 == 1
}

/// Every `version` property of a `gradle.properties` (the file Gradle reads `version` from
/// when the build script does not set it).
pub(super) fn properties(text: &str) -> Result<Vec<Found>, FileError> {
    let mut found = Vec::new();
    let mut continued = false;
    for (start, line) in lines(text) {
        let was_continued = continued;
        continued = continues(line);
        if was_continued {
            continue;
        }
        let body = line.trim_start_matches([' ', '\t', '\u{c}']);
        if body.starts_with(['#', '!']) {
            continue;
        }
        let Some(rest) = body.strip_prefix("version") else {
            continue;
        };
        // The key ends at `=`, `:` or whitespace; `versionCode=…` is another key.
        let after_key = rest.trim_start_matches([' ', '\t', '\u{c}']);
        let value = match after_key.strip_prefix(['=', ':']) {
            Some(v) => v.trim_start_matches([' ', '\t', '\u{c}']),
            None if after_key.len() < rest.len() => after_key,
            None => continue,
        };
        // `value` is a suffix of `line`: where it starts is what is left of the line.
        let value_start = start + line.len() - value.len();
        let value = value.trim_end_matches([' ', '\t', '\u{c}']);
        if continued {
            let (line, column) = shipgate_stdx::text::line_col(text, value_start);
            return Err(FileError::NotSemver {
                line,
                column,
                value: format!("{value}…"),
            });
        }
        found.push(Found::at(text, value_start..value_start + value.len())?);
    }
    if found.is_empty() {
        return Err(FileError::NotFound {
            what: "no `version` property (`version=1.2.0`)".into(),
            hint: "add `version=` with the current version to this file, or point the [[release.files]] entry at the build script that sets it".into(),
        });
    }
    Ok(found)
}

/// A `version` statement with a literal: `version = "1.2.0"`, `version '1.2.0'`,
/// `project.version = '1.2.0'`, a `;` or a comment after it.
static STATEMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"^[ \t]*(?:project\.)?version(?:[ \t]*=[ \t]*|[ \t]+)(?:"(?P<d>[^"\\$\r\n]*)"|'(?P<s>[^'\\$\r\n]*)')[ \t]*;?[ \t]*(?://.*|/\*.*)?$"#,
    )
    .unwrap_or_else(|e| unreachable!("a fixed regex: {e}"))
});

/// A `version` assignment whatever its value: to name it when it is not a literal.
static ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[ \t]*(?:project\.)?version[ \t]*=")
        .unwrap_or_else(|e| unreachable!("a fixed regex: {e}"))
});

/// Every `version` statement with a literal version in a build script, outside comments.
pub(super) fn script(text: &str) -> Result<Vec<Found>, FileError> {
    let mut found = Vec::new();
    let mut expression: Option<usize> = None;
    let mut in_comment = false;
    for (number, (start, line)) in lines(text).enumerate() {
        let was_in_comment = in_comment;
        in_comment = block_comment_open(line, was_in_comment);
        if was_in_comment {
            continue;
        }
        if let Some(caps) = STATEMENT.captures(line) {
            let Some(m) = caps.name("d").or_else(|| caps.name("s")) else {
                continue;
            };
            found.push(Found::at(text, start + m.start()..start + m.end())?);
        } else if ASSIGNMENT.is_match(line) {
            expression.get_or_insert(number + 1);
        }
    }
    if found.is_empty() {
        let hint = match expression {
            Some(line) => format!(
                "line {line} sets `version` from an expression: point the [[release.files]] entry at the file that holds the literal (gradle.properties), or give it a `pattern`"
            ),
            None => "set the version in this script (`version = \"1.2.0\"`) or in gradle.properties (`version=1.2.0`), and point the [[release.files]] entry there".into(),
        };
        return Err(FileError::NotFound {
            what: "no `version = \"…\"` statement with a literal version".into(),
            hint,
        });
    }
    Ok(found)
}

/// Whether a `/* … */` comment is open at the end of `line`, given whether one was open at
/// its start. Strings are not tracked: a `/*` inside a string on a line of its own is rare
/// enough in a build script's version statements to be ignored.
fn block_comment_open(line: &str, mut open: bool) -> bool {
    let mut rest = line;
    loop {
        if open {
            match rest.find("*/") {
                Some(i) => {
                    rest = &rest[i + 2..];
                    open = false;
                }
                None => return true,
            }
        } else {
            let line_comment = rest.find("//");
            match rest.find("/*") {
                Some(i) if line_comment.is_none_or(|l| l > i) => {
                    rest = &rest[i + 2..];
                    open = true;
                }
                _ => return false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Format;
    use super::*;

    fn found(
        text: &str,
        f: fn(&str) -> Result<Vec<Found>, FileError>,
    ) -> Vec<(String, usize, usize)> {
        f(text)
            .expect("found")
            .into_iter()
            .map(|f| (f.version.to_string(), f.line, f.column))
            .collect()
    }

    fn set(format: &Format, text: &str, to: &str) -> String {
        format
            .set(text, &semver::Version::parse(to).expect("v"))
            .expect("set")
    }

    #[test]
    fn properties_take_every_separator_and_keep_every_other_byte() {
        let text = "# version=9.9.9\n! version=9.9.9\norg.gradle.jvmargs=-Xmx2g\nversionCode=42\n  version = 0.0.1-SNAPSHOT  \r\nkotlin.version=2.0.0\n";
        assert_eq!(
            found(text, properties),
            [("0.0.1-SNAPSHOT".to_string(), 5, 13)]
        );
        assert_eq!(
            set(&Format::GradleProperties, text, "1.1.0"),
            text.replace("0.0.1-SNAPSHOT", "1.1.0")
        );
        for line in [
            "version=1.2.0",
            "version:1.2.0",
            "version 1.2.0",
            "version\t=\t1.2.0",
        ] {
            assert_eq!(
                found(line, properties),
                [("1.2.0".to_string(), 1, line.len() - 4)],
                "{line}"
            );
        }
    }

    #[test]
    fn properties_without_a_version_or_with_a_bad_one_are_errors() {
        let err = properties("group=com.example\n").expect_err("none");
        assert!(err.to_string().contains("no `version` property"), "{err}");
        let err = properties("a=1\nversion=1.0\n").expect_err("not semver");
        assert_eq!(
            err,
            FileError::NotSemver {
                line: 2,
                column: 9,
                value: "1.0".into()
            }
        );
        // a continued line is another line's value, not a key
        let err = properties("description=a \\\nversion=1.0.0\n").expect_err("continued");
        assert!(matches!(err, FileError::NotFound { .. }), "{err}");
    }

    #[test]
    fn build_scripts_find_the_projects_version_not_a_plugins() {
        let groovy = "plugins {\n    id 'java'\n    id 'org.springframework.boot' version '3.3.4'\n    id 'io.spring.dependency-management' version '1.1.6'\n}\n\ngroup = 'com.example'\nversion = '0.0.1-SNAPSHOT'\n\njava {\n    toolchain {\n        languageVersion = JavaLanguageVersion.of(21)\n    }\n}\n\ndependencies {\n    implementation 'org.springframework.boot:spring-boot-starter-web:3.3.4'\n}\n";
        assert_eq!(
            found(groovy, script),
            [("0.0.1-SNAPSHOT".to_string(), 8, 12)]
        );
        assert_eq!(
            set(&Format::GradleScript, groovy, "1.1.0"),
            groovy.replace("version = '0.0.1-SNAPSHOT'", "version = '1.1.0'")
        );
        let kotlin = "plugins {\n    id(\"org.springframework.boot\") version \"3.3.4\"\n    kotlin(\"jvm\") version \"2.0.21\"\n}\n\ngroup = \"com.example\"\nversion = \"1.2.0\" // released by shipgate\n";
        assert_eq!(found(kotlin, script), [("1.2.0".to_string(), 7, 12)]);
        for (text, column) in [
            ("version '1.2.0'", 10),
            ("version \"1.2.0\";", 10),
            ("project.version = \"1.2.0\"", 20),
            ("\tversion='1.2.0' /* here */", 11),
        ] {
            assert_eq!(
                found(text, script),
                [("1.2.0".to_string(), 1, column)],
                "{text}"
            );
        }
    }

    #[test]
    fn build_scripts_skip_comments_and_name_expressions() {
        let text = "// version = '9.9.9'\n/*\nversion = '9.9.9'\n*/\nversion = \"1.0.0\"\n";
        assert_eq!(found(text, script), [("1.0.0".to_string(), 5, 12)]);
        let err = script("version = \"${major}.0.0\"\n").expect_err("interpolated");
        assert!(
            err.hint()
                .starts_with("line 1 sets `version` from an expression"),
            "{}",
            err.hint()
        );
        let err = script("version = findProperty(\"v\")\n").expect_err("expression");
        assert!(err.hint().starts_with("line 1 sets"), "{}", err.hint());
        let err = script("plugins { id 'java' }\n").expect_err("none");
        assert!(
            err.to_string().contains("no `version = \"…\"` statement"),
            "{err}"
        );
        let err = script("version = '1.0'\n").expect_err("not semver");
        assert!(
            matches!(
                err,
                FileError::NotSemver {
                    line: 1,
                    column: 12,
                    ..
                }
            ),
            "{err}"
        );
    }
}
