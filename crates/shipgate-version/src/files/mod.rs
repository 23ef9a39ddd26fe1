//! The version a release file holds, found and set by the file's format: Gradle
//! (`gradle.properties`, `build.gradle`, `build.gradle.kts`), npm (`package.json`,
//! `package-lock.json`, `npm-shrinkwrap.json`) and Helm (`Chart.yaml`) by their names, any
//! other file by a `{version}` pattern. Every place the file holds its own version is found, with its line,
//! so that a release can say what each holds before it writes; an edit changes those
//! versions and keeps every other byte.

mod gradle;
mod helm;
mod npm;

use std::ops::Range;

use semver::Version;

use crate::bump::{core, is_snapshot};
use crate::manifest::{PatternError, VersionPattern};

/// How a release file's version is found.
#[derive(Debug, Clone)]
pub enum Format {
    /// A `{version}` pattern: its first match, and every other match at the same version
    /// ([`VersionPattern::spans`]).
    Pattern(VersionPattern),
    /// `gradle.properties`: the `version` property.
    GradleProperties,
    /// `build.gradle` / `build.gradle.kts`: `version = "…"`, `version '…'` statements
    /// (never a plugin's `id(…) version "…"`).
    GradleScript,
    /// `package.json`: the top-level `"version"`.
    NpmPackage,
    /// `package-lock.json` / `npm-shrinkwrap.json` (lockfileVersion 1, 2, 3): the top-level
    /// `"version"` and `packages[""].version`, never a dependency's.
    NpmLock,
    /// `Chart.yaml`: the top-level `version` and `appVersion`, never a dependency's.
    HelmChart,
}

/// The file names whose format is known without a pattern.
pub const KNOWN_NAMES: [&str; 7] = [
    "gradle.properties",
    "build.gradle",
    "build.gradle.kts",
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "Chart.yaml",
];

/// `path`'s last component, `/` or `\` separated.
fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

impl Format {
    /// The format a file's name says, if shipgate knows it.
    pub fn by_name(path: &str) -> Option<Format> {
        Some(match file_name(path) {
            "gradle.properties" => Format::GradleProperties,
            "build.gradle" | "build.gradle.kts" => Format::GradleScript,
            "package.json" => Format::NpmPackage,
            "package-lock.json" | "npm-shrinkwrap.json" => Format::NpmLock,
            "Chart.yaml" => Format::HelmChart,
            _ => return None,
        })
    }

    /// The format of a `[[release.files]]` entry: its pattern when it has one, else the
    /// format its file's name says.
    pub fn of(path: &str, pattern: Option<&str>) -> Result<Format, FileError> {
        match pattern {
            Some(p) => VersionPattern::new(p)
                .map(Format::Pattern)
                .map_err(FileError::Pattern),
            None => Format::by_name(path).ok_or_else(|| FileError::UnknownFormat {
                name: file_name(path).to_string(),
            }),
        }
    }

    /// Every place `text` holds its own version, in document order; at least one.
    pub fn find(&self, text: &str) -> Result<Vec<Found>, FileError> {
        match self {
            Format::Pattern(p) => {
                let spans = p.spans(text);
                if spans.is_empty() {
                    return Err(FileError::Pattern(PatternError::NotFound {
                        pattern: p.pattern().to_string(),
                    }));
                }
                spans.into_iter().map(|s| Found::at(text, s)).collect()
            }
            Format::GradleProperties => gradle::properties(text),
            Format::GradleScript => gradle::script(text),
            Format::NpmPackage => npm::package(text),
            Format::NpmLock => npm::lock(text),
            Format::HelmChart => helm::chart(text),
        }
    }

    /// `text` with every version [`Format::find`] finds set to `to`, every other byte kept.
    /// Idempotent.
    pub fn set(&self, text: &str, to: &Version) -> Result<String, FileError> {
        let found = self.find(text)?;
        let new = to.to_string();
        let mut out = String::with_capacity(text.len() + found.len() * new.len());
        let mut at = 0;
        for f in &found {
            out.push_str(&text[at..f.span.start]);
            out.push_str(&new);
            at = f.span.end;
        }
        out.push_str(&text[at..]);
        Ok(out)
    }

    /// Advice about using this format on `path`: a pattern on an npm lockfile finds the
    /// text, not the package, so it moves a dependency at the package's version as well, or
    /// misses `packages[""].version` when it is written otherwise.
    pub fn advice(&self, path: &str) -> Option<String> {
        match (self, Format::by_name(path)) {
            (Format::Pattern(_), Some(Format::NpmLock)) => Some(format!(
                "{path}: a `pattern` finds text, not the package: in a lockfile it also moves a dependency at the package's version, or misses `packages[\"\"].version`; remove `pattern` from its [[release.files]] entry and shipgate edits the package's two versions (never a dependency's)"
            )),
            _ => None,
        }
    }
}

/// One place a file holds its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub version: Version,
    /// 1-based line and column of the version's first character.
    pub line: usize,
    pub column: usize,
    span: Range<usize>,
}

impl Found {
    /// The version written at `span` of `text`, which must be a semantic version.
    fn at(text: &str, span: Range<usize>) -> Result<Found, FileError> {
        let (line, column) = shipgate_stdx::text::line_col(text, span.start);
        let written = &text[span.clone()];
        let version = Version::parse(written).map_err(|_| FileError::NotSemver {
            line,
            column,
            value: written.to_string(),
        })?;
        Ok(Found {
            version,
            line,
            column,
            span,
        })
    }
}

/// A short version as the semantic version it means: `1.0` is `1.0.0`, `2-SNAPSHOT` is
/// `2.0.0-SNAPSHOT`; None when it is not one with parts left out.
pub fn padded(written: &str) -> Option<Version> {
    let (numbers, rest) = match written.find(['-', '+']) {
        Some(i) => written.split_at(i),
        None => (written, ""),
    };
    let parts = numbers.split('.').count();
    if parts >= 3
        || numbers
            .split('.')
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    Version::parse(&format!("{numbers}{}{rest}", ".0".repeat(3 - parts))).ok()
}

/// What a version found in a release file is, next to the release.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    /// The current version (the last release, or the manifest's with no tag yet).
    Current,
    /// The version being released already.
    Next,
    /// A development version on the way to the release: `X.Y.Z-SNAPSHOT` with X.Y.Z above
    /// the current version and at most the release's (`1.3.0-SNAPSHOT` for 1.3.0, or for
    /// 1.4.0 when the commits ask for more).
    Developing,
    /// Another version, below the release: set to it all the same, with a warning.
    Other,
    /// A version above the release: setting it would move the file down.
    Above,
}

/// What `found` is next to a release of `next` from `current`.
pub fn holds(found: &Version, current: Option<&Version>, next: &Version) -> Holds {
    if found == next {
        return Holds::Next;
    }
    if is_snapshot(found) {
        let developing = core(found);
        if developing > core(next) {
            return Holds::Above;
        }
        if current.is_none_or(|c| developing > *c) {
            return Holds::Developing;
        }
        return Holds::Other;
    }
    if found > next {
        Holds::Above
    } else if Some(found) == current {
        Holds::Current
    } else {
        Holds::Other
    }
}

/// Why a release file's version cannot be found or set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error(transparent)]
    Pattern(PatternError),
    #[error(
        "shipgate does not know the format of `{name}` by its name, and its entry has no `pattern`"
    )]
    UnknownFormat { name: String },
    #[error("{line}:{column}: version `{value}` is not a semantic version (X.Y.Z)")]
    NotSemver {
        line: usize,
        column: usize,
        value: String,
    },
    #[error("{what}")]
    NotFound { what: String, hint: String },
    #[error("{line}:{column}: not JSON: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{line}:{column}: not YAML: {message}")]
    Yaml {
        line: usize,
        column: usize,
        message: String,
    },
}

impl FileError {
    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            FileError::Pattern(_) => {
                "fix `pattern` of this [[release.files]] entry in shipgate.toml".into()
            }
            FileError::UnknownFormat { .. } => format!(
                "give the entry a `pattern` with `{{version}}` where the version is; without one, shipgate knows {}",
                KNOWN_NAMES.join(", ")
            ),
            FileError::NotSemver { value, .. } => {
                let padded = padded(value)
                    .map(|v| format!(" (`{v}`)"))
                    .unwrap_or_default();
                format!(
                    "write it as a semantic version{padded}, or point the [[release.files]] entry at the file that holds the version"
                )
            }
            FileError::NotFound { hint, .. } => hint.clone(),
            FileError::Json { .. } | FileError::Yaml { .. } => "fix the file, then re-run".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).expect("test version")
    }

    #[test]
    fn names_pick_the_format_and_a_pattern_overrides_it() {
        assert!(matches!(
            Format::of("backend/gradle.properties", None),
            Ok(Format::GradleProperties)
        ));
        assert!(matches!(
            Format::of("app\\build.gradle.kts", None),
            Ok(Format::GradleScript)
        ));
        assert!(matches!(
            Format::of("web/npm-shrinkwrap.json", None),
            Ok(Format::NpmLock)
        ));
        assert!(matches!(
            Format::of("package.json", Some("\"version\": \"{version}\"")),
            Ok(Format::Pattern(_))
        ));
        let err = Format::of("VERSION", None).expect_err("unknown");
        assert!(err.to_string().contains("`VERSION`"), "{err}");
        assert!(
            err.hint().contains("gradle.properties, build.gradle"),
            "{}",
            err.hint()
        );
    }

    #[test]
    fn a_pattern_finds_its_first_match_with_its_line() {
        let f = Format::of(
            "pom.xml",
            Some("<artifactId>a</artifactId> <version>{version}</version>"),
        )
        .expect("ok");
        let pom = "<project>\n  <artifactId>a</artifactId><version>1.0.0</version>\n</project>\n";
        let found = f.find(pom).expect("found");
        assert_eq!(
            found
                .iter()
                .map(|f| (f.version.to_string(), f.line, f.column))
                .collect::<Vec<_>>(),
            [("1.0.0".to_string(), 2, 38)]
        );
        assert_eq!(
            f.set(pom, &v("1.1.0")).expect("set"),
            pom.replace("1.0.0", "1.1.0")
        );
        assert!(matches!(
            f.find("<project/>"),
            Err(FileError::Pattern(PatternError::NotFound { .. }))
        ));
    }

    #[test]
    fn a_pattern_finds_every_match_at_its_first_matchs_version() {
        let f = Format::of("cronjob.yaml", Some("image: podinfo:{version}")).expect("ok");
        let text = "- image: podinfo:6.14.1\n- image: podinfo:6.0.0\n- image: podinfo:6.14.1\n";
        let found = f.find(text).expect("found");
        assert_eq!(
            found
                .iter()
                .map(|f| (f.version.to_string(), f.line))
                .collect::<Vec<_>>(),
            [("6.14.1".to_string(), 1), ("6.14.1".to_string(), 3)]
        );
        let set = f.set(text, &v("6.14.2")).expect("set");
        assert_eq!(set, text.replace("6.14.1", "6.14.2"));
        assert_eq!(f.set(&set, &v("6.14.2")).expect("idempotent"), set);
    }

    #[test]
    fn a_pattern_on_a_lockfile_gets_advice() {
        let f =
            Format::of("web/package-lock.json", Some("\"version\": \"{version}\"")).expect("ok");
        assert!(
            f.advice("web/package-lock.json")
                .is_some_and(|a| a.contains("remove `pattern`"))
        );
        let f = Format::of("web/package-lock.json", None).expect("ok");
        assert_eq!(f.advice("web/package-lock.json"), None);
    }

    #[test]
    fn what_a_file_holds_next_to_the_release() {
        let check = |found: &str, current: Option<&str>, next: &str| {
            holds(&v(found), current.map(v).as_ref(), &v(next))
        };
        for (found, current, next, expected) in [
            ("1.0.0", Some("1.0.0"), "1.1.0", Holds::Current),
            ("1.1.0", Some("1.0.0"), "1.1.0", Holds::Next),
            ("1.1.0-SNAPSHOT", Some("1.0.0"), "1.1.0", Holds::Developing),
            ("1.0.1-SNAPSHOT", Some("1.0.0"), "1.1.0", Holds::Developing),
            ("1.1.0-SNAPSHOT", None, "1.1.0", Holds::Developing),
            // a prerelease is out; the file develops its version
            (
                "1.1.0-SNAPSHOT",
                Some("1.1.0-rc.1"),
                "1.1.0-rc.2",
                Holds::Developing,
            ),
            // what users reported: a forgotten SNAPSHOT, and a file ahead of the release
            ("0.0.1-SNAPSHOT", Some("1.0.0"), "1.1.0", Holds::Other),
            ("1.0.0-SNAPSHOT", Some("1.0.0"), "1.1.0", Holds::Other),
            ("0.9.0", Some("1.0.0"), "1.1.0", Holds::Other),
            ("2.0.0", Some("1.0.0"), "1.1.0", Holds::Above),
            ("1.2.0-SNAPSHOT", Some("1.0.0"), "1.1.0", Holds::Above),
            ("1.1.0-rc.1", Some("1.0.0"), "1.1.0-beta.1", Holds::Above),
        ] {
            assert_eq!(
                check(found, current, next),
                expected,
                "{found} {current:?} {next}"
            );
        }
    }

    #[test]
    fn short_versions_are_padded() {
        for (written, expected) in [
            ("1.0", Some("1.0.0")),
            ("2", Some("2.0.0")),
            ("1.0-SNAPSHOT", Some("1.0.0-SNAPSHOT")),
            ("1.2.3", None),
            ("latest", None),
            ("1..0", None),
        ] {
            assert_eq!(
                padded(written).map(|v| v.to_string()).as_deref(),
                expected,
                "{written}"
            );
        }
    }

    #[test]
    fn hints_pad_short_versions() {
        let err = FileError::NotSemver {
            line: 1,
            column: 9,
            value: "1.0".into(),
        };
        assert_eq!(
            err.to_string(),
            "1:9: version `1.0` is not a semantic version (X.Y.Z)"
        );
        assert!(err.hint().contains("(`1.0.0`)"), "{}", err.hint());
    }
}
