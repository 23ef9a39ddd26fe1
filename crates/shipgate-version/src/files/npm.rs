//! npm's version: `package.json`'s top-level `"version"`, and in a lockfile
//! (`package-lock.json`, `npm-shrinkwrap.json`) every field that is the package's own: the
//! top-level `"version"` (lockfileVersion 1, 2, 3) and `packages[""].version` (2, 3). A
//! dependency's version (`dependencies.<name>.version`, `packages["node_modules/…"]`) is
//! never one, whatever it holds.

use super::json::{self, Json};
use super::{FileError, Found};

fn parse(text: &str) -> Result<Json, FileError> {
    let doc = json::parse(text).map_err(|e| {
        let (line, column) = shipgate_stdx::text::line_col(text, e.offset);
        FileError::Json {
            line,
            column,
            message: e.message,
        }
    })?;
    if !matches!(doc, Json::Object(_)) {
        return Err(FileError::Json {
            line: 1,
            column: 1,
            message: "expected an object at the top".into(),
        });
    }
    Ok(doc)
}

/// The string values of `"version"` in `object`, added to `out`.
fn versions(text: &str, object: &Json, out: &mut Vec<Found>) -> Result<(), FileError> {
    for value in object.get_all("version") {
        if let Json::String { span, .. } = value {
            out.push(Found::at(text, span.clone())?);
        }
    }
    Ok(())
}

pub(super) fn package(text: &str) -> Result<Vec<Found>, FileError> {
    let doc = parse(text)?;
    let mut found = Vec::new();
    versions(text, &doc, &mut found)?;
    if found.is_empty() {
        return Err(FileError::NotFound {
            what: "no top-level `\"version\"`".into(),
            hint: "add `\"version\": \"0.1.0\"` (npm pkg set version=0.1.0)".into(),
        });
    }
    Ok(found)
}

pub(super) fn lock(text: &str) -> Result<Vec<Found>, FileError> {
    let doc = parse(text)?;
    let mut found = Vec::new();
    versions(text, &doc, &mut found)?;
    for packages in doc.get_all("packages") {
        for root in packages.get_all("") {
            versions(text, root, &mut found)?;
        }
    }
    found.sort_by_key(|f| f.span.start);
    if found.is_empty() {
        return Err(FileError::NotFound {
            what: "no version of the package itself (top-level `\"version\"` or `packages[\"\"].version`)".into(),
            hint: "give package.json a version, then run `npm install --package-lock-only` to write it into the lockfile".into(),
        });
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::super::Format;
    use super::*;

    fn versions_of(
        text: &str,
        f: fn(&str) -> Result<Vec<Found>, FileError>,
    ) -> Vec<(String, usize)> {
        f(text)
            .expect("found")
            .into_iter()
            .map(|f| (f.version.to_string(), f.line))
            .collect()
    }

    /// lockfileVersion 3, as npm 9+ writes it: a dependency at the package's own version.
    const V3: &str = r#"{
  "name": "web",
  "version": "1.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {
      "name": "web",
      "version": "1.0.0",
      "dependencies": {
        "left-pad": "^1.0.0"
      }
    },
    "node_modules/left-pad": {
      "version": "1.0.0",
      "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.0.0.tgz"
    }
  }
}
"#;

    #[test]
    fn a_lockfile_moves_the_packages_versions_never_a_dependencys() {
        assert_eq!(
            versions_of(V3, lock),
            [("1.0.0".to_string(), 3), ("1.0.0".to_string(), 9)]
        );
        let out = Format::NpmLock
            .set(V3, &semver::Version::parse("1.1.0").expect("v"))
            .expect("set");
        assert_eq!(
            out,
            V3.replacen("\"version\": \"1.0.0\"", "\"version\": \"1.1.0\"", 2)
        );
        assert!(out.contains("\"node_modules/left-pad\": {\n      \"version\": \"1.0.0\""));
    }

    #[test]
    fn lockfile_version_1_has_only_the_top_level_version() {
        let v1 = "{\n  \"name\": \"web\",\n  \"version\": \"1.0.0\",\n  \"lockfileVersion\": 1,\n  \"dependencies\": {\n    \"left-pad\": { \"version\": \"1.0.0\" }\n  }\n}\n";
        assert_eq!(versions_of(v1, lock), [("1.0.0".to_string(), 3)]);
    }

    #[test]
    fn package_json_has_its_top_level_version_only() {
        let text =
            "{\"name\":\"web\",\"dependencies\":{\"version\":\"9.9.9\"},\"version\":\"2.0.1\"}";
        assert_eq!(versions_of(text, package), [("2.0.1".to_string(), 1)]);
        let err = package("{\"name\": \"web\"}").expect_err("none");
        assert!(err.to_string().contains("no top-level"), "{err}");
    }

    fn version() -> impl proptest::strategy::Strategy<Value = semver::Version> {
        use proptest::prelude::*;
        (0u64..3, 0u64..3, 0u64..3).prop_map(|(a, b, c)| semver::Version::new(a, b, c))
    }

    proptest::proptest! {
        /// Whatever the dependencies hold (often the package's own version), an edit moves
        /// the package's two versions and keeps every other byte.
        #[test]
        fn an_edit_moves_only_the_packages_versions(
            own in version(),
            to in version(),
            deps in proptest::collection::vec(version(), 0..6),
        ) {
            let entries: Vec<String> = deps
                .iter()
                .enumerate()
                .map(|(i, v)| format!(",\n    \"node_modules/d{i}\": {{ \"version\": \"{v}\", \"dev\": true }}"))
                .collect();
            let text = |own: &semver::Version| {
                format!(
                    "{{\n  \"name\": \"web\",\n  \"version\": \"{own}\",\n  \"lockfileVersion\": 3,\n  \"packages\": {{\n    \"\": {{ \"name\": \"web\", \"version\": \"{own}\" }}{}\n  }}\n}}\n",
                    entries.concat()
                )
            };
            let out = Format::NpmLock.set(&text(&own), &to).expect("set");
            proptest::prop_assert_eq!(out, text(&to));
        }
    }

    #[test]
    fn bad_json_is_located() {
        let err = lock("{\n  \"version\": \"1.0.0\",\n}\n").expect_err("trailing comma");
        assert_eq!(
            err.to_string(),
            "3:1: not JSON: expected a key in quotes, found `}`"
        );
        assert!(matches!(lock("[]"), Err(FileError::Json { .. })));
        let err = lock("{\"version\": \"latest\"}").expect_err("not semver");
        assert!(matches!(err, FileError::NotSemver { .. }), "{err}");
    }
}
