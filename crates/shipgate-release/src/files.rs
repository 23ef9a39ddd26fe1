//! `[[release.files]]` in a release: each file read once, what it holds checked against the
//! release (another version is a warning, a higher one a refusal), the edits to the new
//! version, and the next development version (`next-snapshot`) after it.

use std::collections::BTreeMap;
use std::path::Path;

use semver::Version;
use shipgate_version::bump::{core, is_snapshot, next_snapshot};
use shipgate_version::files::{Format, Found, Holds, holds};

use crate::error::Downgrade;
use crate::model::FileChange;
pub use crate::model::{Developing, SnapshotPlan};
use crate::{ReleaseError, fsutil};
use shipgate_settings::release::ReleaseSettings;

/// One `[[release.files]]` entry as the work tree has it.
pub(crate) struct ReleaseFileText {
    /// As written in shipgate.toml, `/`-separated.
    pub path: String,
    format: Format,
    pub text: String,
    /// Every place it holds its version (at least one).
    pub found: Vec<Found>,
    /// Whether it gets the next development version.
    snapshot: bool,
}

/// The message of the commit that prepares `version`.
pub(crate) fn snapshot_message(version: &Version) -> String {
    format!("chore(release): prepare {version}")
}

fn shown(path: &str) -> String {
    path.replace('\\', "/")
}

/// Reads every entry and finds its versions; a file that cannot be read, has no version
/// where its format says, or holds one that is not semver is an error naming it.
pub(crate) fn read_all(
    workdir: &Path,
    settings: &ReleaseSettings,
) -> Result<Vec<ReleaseFileText>, ReleaseError> {
    let mut out = Vec::new();
    for entry in &settings.files {
        let path = workdir.join(&entry.path);
        let error = |source| ReleaseError::ReleaseFile {
            path: path.clone(),
            source,
        };
        let format = entry.format().map_err(error)?;
        let text = fsutil::read(&path)?;
        let found = format.find(&text).map_err(error)?;
        out.push(ReleaseFileText {
            path: shown(&entry.path),
            format,
            text,
            found,
            snapshot: entry.next_snapshot.unwrap_or(settings.next_snapshot),
        });
    }
    Ok(out)
}

/// Advice about the entries (a pattern on an npm lockfile), as warnings.
pub(crate) fn advice(files: &[ReleaseFileText]) -> Vec<String> {
    files
        .iter()
        .filter_map(|f| f.format.advice(&f.path))
        .collect()
}

/// The highest `-SNAPSHOT` the files hold, with the first file that holds it.
pub(crate) fn developing(files: &[ReleaseFileText]) -> Option<Developing> {
    let mut best: Option<Developing> = None;
    for f in files {
        for found in f.found.iter().filter(|x| is_snapshot(&x.version)) {
            if best
                .as_ref()
                .is_none_or(|b| core(&found.version) > core(&b.version))
            {
                best = Some(Developing {
                    path: f.path.clone(),
                    version: found.version.clone(),
                });
            }
        }
    }
    best
}

/// Checks what each file holds against a release of `next` from `current`: a version above
/// `next` is refused (nothing is written), another version than the current one is a
/// warning naming the file and both versions.
pub(crate) fn check(
    files: &[ReleaseFileText],
    current: Option<&Version>,
    next: &Version,
) -> Result<Vec<String>, ReleaseError> {
    let mut warnings = Vec::new();
    for f in files {
        for found in &f.found {
            match holds(&found.version, current, next) {
                Holds::Current | Holds::Next | Holds::Developing => {}
                Holds::Other => warnings.push(format!(
                    "{}:{}: holds {}, not the current version {}; the release sets it to {next}",
                    f.path,
                    found.line,
                    found.version,
                    current.map_or("(none)".to_string(), ToString::to_string),
                )),
                Holds::Above => {
                    return Err(ReleaseError::Downgrade(Box::new(Downgrade {
                        path: f.path.clone(),
                        line: found.line,
                        column: found.column,
                        found: found.version.clone(),
                        next: next.clone(),
                        current: current.cloned(),
                    })));
                }
            }
        }
    }
    Ok(warnings)
}

/// The files with their versions set to `next`; an entry listed twice (two patterns in one
/// file) gets both edits.
pub(crate) fn changes(
    files: &[ReleaseFileText],
    next: &Version,
    workdir: &Path,
) -> Result<Vec<FileChange>, ReleaseError> {
    edits(files, |_| true, next, &BTreeMap::new(), workdir)
}

/// `files` (those `pick` selects) set to `to`, each starting from `base` when it has an
/// entry there (the release's contents) or from the work tree's text; only the files that
/// change.
fn edits(
    files: &[ReleaseFileText],
    pick: impl Fn(&ReleaseFileText) -> bool,
    to: &Version,
    base: &BTreeMap<String, String>,
    workdir: &Path,
) -> Result<Vec<FileChange>, ReleaseError> {
    let mut order: Vec<&str> = Vec::new();
    let mut texts: BTreeMap<&str, (String, String)> = BTreeMap::new();
    for f in files.iter().filter(|f| pick(f)) {
        let entry = texts.entry(&f.path).or_insert_with(|| {
            order.push(&f.path);
            let start = base.get(&f.path).unwrap_or(&f.text).clone();
            (start.clone(), start)
        });
        entry.1 = f
            .format
            .set(&entry.1, to)
            .map_err(|source| ReleaseError::ReleaseFile {
                path: workdir.join(&f.path),
                source,
            })?;
    }
    Ok(order
        .into_iter()
        .filter_map(|path| {
            let (start, text) = texts.remove(path)?;
            (text != start).then(|| FileChange {
                path: path.to_string(),
                contents: text,
            })
        })
        .collect())
}

/// The next development version after releasing `next`, for the files that take it; None
/// when no file does (or the settings do not ask for it), so no empty commit is made.
pub(crate) fn snapshot(
    files: &[ReleaseFileText],
    released: &[FileChange],
    next: &Version,
    workdir: &Path,
) -> Result<Option<SnapshotPlan>, ReleaseError> {
    if !files.iter().any(|f| f.snapshot) {
        return Ok(None);
    }
    let version = next_snapshot(next);
    let base: BTreeMap<String, String> = released
        .iter()
        .map(|c| (c.path.clone(), c.contents.clone()))
        .collect();
    let changes = edits(files, |f| f.snapshot, &version, &base, workdir)?;
    if changes.is_empty() {
        return Ok(None);
    }
    Ok(Some(SnapshotPlan {
        message: snapshot_message(&version),
        version,
        files: changes,
        commit: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An entry of `v.txt` with `pattern`, over `text`.
    fn entry(text: &str, pattern: &str, snapshot: bool) -> ReleaseFileText {
        let format = Format::of("v.txt", Some(pattern)).expect("pattern");
        ReleaseFileText {
            path: "v.txt".into(),
            found: format.find(text).expect("found"),
            format,
            text: text.into(),
            snapshot,
        }
    }

    #[test]
    fn a_file_listed_twice_gets_both_edits_and_its_snapshot_starts_from_the_release() {
        let text = "a=1.0.0\nb=1.0.0\n";
        let files = [
            entry(text, "a={version}", true),
            entry(text, "b={version}", false),
        ];
        let released = changes(&files, &Version::new(1, 1, 0), Path::new("")).expect("edits");
        assert_eq!(released.len(), 1);
        assert_eq!(released[0].contents, "a=1.1.0\nb=1.1.0\n");
        let next = snapshot(&files, &released, &Version::new(1, 1, 0), Path::new(""))
            .expect("edits")
            .expect("a file takes it");
        assert_eq!(next.message, "chore(release): prepare 1.1.1-SNAPSHOT");
        assert_eq!(next.files.len(), 1);
        assert_eq!(next.files[0].contents, "a=1.1.1-SNAPSHOT\nb=1.1.0\n");
        // no file takes it: no commit to make
        let none = [entry(text, "a={version}", false)];
        let none = snapshot(&none, &released, &Version::new(1, 1, 0), Path::new(""));
        assert!(none.expect("edits").is_none());
    }

    #[test]
    fn developing_is_the_highest_snapshot() {
        let files = [
            entry("v=1.2.0-SNAPSHOT", "v={version}", false),
            entry("v=1.10.0-SNAPSHOT", "v={version}", false),
            entry("v=9.0.0", "v={version}", false),
        ];
        assert_eq!(
            developing(&files).map(|d| d.version.to_string()),
            Some("1.10.0-SNAPSHOT".to_string())
        );
        let warnings = check(
            &files[..2],
            Some(&Version::new(1, 1, 0)),
            &Version::new(1, 10, 0),
        )
        .expect("no version above");
        assert_eq!(warnings, Vec::<String>::new());
        let err = check(
            &files,
            Some(&Version::new(1, 1, 0)),
            &Version::new(1, 10, 0),
        )
        .expect_err("9.0.0 is above");
        assert!(
            err.to_string()
                .starts_with("v.txt:1:3: holds 9.0.0, above 1.10.0"),
            "{err}"
        );
    }
}
