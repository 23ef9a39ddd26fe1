//! npm's version: `package.json`'s top-level `"version"`, and in a lockfile
//! (`package-lock.json`, `npm-shrinkwrap.json`) every field that is the package's own: the
//! top-level `"version"` (lockfileVersion 1, 2, 3) and `packages[""].version` (2, 3). A
//! dependency's version (`dependencies.<name>.version`, `packages["node_modules/…"]`) is
//! never one, whatever it holds.

use shipgate_doc::{FileId, Node, Value};

use super::{FileError, Found};

/// The document, through shipgate-doc's JSON reader (strict JSON with byte spans); a byte
/// order mark before it is allowed, as editors sometimes write one.
fn parse(text: &str) -> Result<(Node, usize), FileError> {
    let skip = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let (doc, _) = shipgate_doc::json::parse(&text[skip..], FileId(0)).map_err(|errors| {
        let offset = skip + errors.first().map_or(0, |e| e.span.start as usize);
        let (line, column) = shipgate_stdx::text::line_col(text, offset);
        FileError::Json {
            line,
            column,
            message: errors
                .first()
                .map_or_else(|| "not JSON".into(), |e| e.message.clone()),
        }
    })?;
    if doc.as_table().is_none() {
        return Err(FileError::Json {
            line: 1,
            column: 1,
            message: "expected an object at the top".into(),
        });
    }
    Ok((doc, skip))
}

/// The string value of `"version"` in `object` (between its quotes), added to `out`.
fn versions(text: &str, skip: usize, object: &Node, out: &mut Vec<Found>) -> Result<(), FileError> {
    if let Some(v) = object.as_table().and_then(|t| t.get("version"))
        && let Value::String(_) = v.value
    {
        let span = v.span.range();
        out.push(Found::at(text, skip + span.start + 1..skip + span.end - 1)?);
    }
    Ok(())
}

pub(super) fn package(text: &str) -> Result<Vec<Found>, FileError> {
    let (doc, skip) = parse(text)?;
    let mut found = Vec::new();
    versions(text, skip, &doc, &mut found)?;
    if found.is_empty() {
        return Err(FileError::NotFound {
            what: "no top-level `\"version\"`".into(),
            hint: "add `\"version\": \"0.1.0\"` (npm pkg set version=0.1.0)".into(),
        });
    }
    Ok(found)
}

pub(super) fn lock(text: &str) -> Result<Vec<Found>, FileError> {
    let (doc, skip) = parse(text)?;
    let mut found = Vec::new();
    versions(text, skip, &doc, &mut found)?;
    if let Some(root) = shipgate_doc::node::get(&doc, "packages")
        .and_then(|p| p.as_table())
        .and_then(|p| p.get(""))
    {
        versions(text, skip, root, &mut found)?;
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
            "2:21: not JSON: Trailing commas are not allowed"
        );
        assert!(matches!(lock("[]"), Err(FileError::Json { .. })));
        let err = lock("{\"version\": \"latest\"}").expect_err("not semver");
        assert!(matches!(err, FileError::NotSemver { .. }), "{err}");
    }
}
