//! A Helm chart's version: `Chart.yaml`'s top-level `version` (the chart's) and `appVersion`
//! (the application's), read as Helm reads the file (go-yaml v2). A dependency's `version`
//! under `dependencies:` is never one. Plain and quoted values are found alike; the quotes
//! stay where they are.

use shipgate_doc::{Dialect, FileId, Value};

use super::{FileError, Found};

/// The keys of Chart.yaml that hold the release's version, in the file's order.
const KEYS: [&str; 2] = ["version", "appVersion"];

pub(super) fn chart(text: &str) -> Result<Vec<Found>, FileError> {
    let parsed = shipgate_doc::yaml::parse(text, FileId(0), Dialect::Helm).map_err(|errors| {
        let offset = errors.first().map_or(0, |e| e.span.start as usize);
        let (line, column) = shipgate_stdx::text::line_col(text, offset);
        FileError::Yaml {
            line,
            column,
            message: errors
                .first()
                .map_or_else(|| "not YAML".into(), |e| e.message.clone()),
        }
    })?;
    let Some(top) = parsed.documents.first().and_then(|d| d.root.as_table()) else {
        return Err(FileError::Yaml {
            line: 1,
            column: 1,
            message: "expected a mapping at the top".into(),
        });
    };
    let mut found = Vec::new();
    for key in KEYS {
        let Some(node) = top.get(key) else { continue };
        if matches!(node.value, Value::Table(_) | Value::Array(_)) {
            continue;
        }
        let mut span = node.span.range();
        let raw = &text[span.clone()];
        let quoted = raw.len() >= 2
            && (raw.starts_with('"') && raw.ends_with('"')
                || raw.starts_with('\'') && raw.ends_with('\''));
        if quoted {
            span = span.start + 1..span.end - 1;
        }
        found.push(Found::at(text, span)?);
    }
    if !top.contains_key("version") {
        return Err(FileError::NotFound {
            what: "no top-level `version` (Helm requires one)".into(),
            hint: "add `version: 0.1.0` at the top of Chart.yaml".into(),
        });
    }
    found.sort_by_key(|f| f.span.start);
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::super::Format;
    use super::*;

    fn v(s: &str) -> semver::Version {
        semver::Version::parse(s).expect("test version")
    }

    /// cognigy-vg-helm-chart's Chart.yaml, cut short: quoted versions, dependencies with
    /// versions of their own.
    const COGNIGY: &str = "apiVersion: v2\nname: voicegateway\ndescription: A Helm Chart for Cognigy VoiceGateway\nversion: \"2026.15.2\"\nappVersion: \"2026.15.2\"\nkubeVersion: \"<v1.35.0-0\"\ndependencies:\n  - name: traefik\n    version: \"39.0.9\"\n    repository: \"https://helm.traefik.io/traefik\"\n  - name: postgresql\n    version: \"11.9.13\"\n";

    /// podinfo's: plain versions, appVersion after version.
    const PODINFO: &str =
        "apiVersion: v1\nversion: 6.14.1\nappVersion: 6.14.1 # the image\nname: podinfo\n";

    #[test]
    fn a_chart_moves_its_version_and_app_version_never_a_dependencys() {
        let found = chart(COGNIGY).expect("found");
        assert_eq!(
            found
                .iter()
                .map(|f| (f.version.to_string(), f.line, f.column))
                .collect::<Vec<_>>(),
            [
                ("2026.15.2".to_string(), 4, 11),
                ("2026.15.2".to_string(), 5, 14)
            ]
        );
        let out = Format::HelmChart
            .set(COGNIGY, &v("2026.15.3"))
            .expect("set");
        assert_eq!(
            out,
            COGNIGY.replace("\"2026.15.2\"", "\"2026.15.3\""),
            "quotes, the kubeVersion and the dependencies' versions kept"
        );
        let out = Format::HelmChart.set(PODINFO, &v("6.15.0")).expect("set");
        assert_eq!(out, PODINFO.replace("6.14.1", "6.15.0"));
        assert!(out.contains("# the image\n"));
    }

    #[test]
    fn a_chart_without_a_usable_version_is_named() {
        let err = chart("name: x\nappVersion: 1.0.0\n").expect_err("no version");
        assert!(err.to_string().contains("no top-level `version`"), "{err}");
        // the chart template's appVersion "1.0" is not semver: named at its place
        let err = chart("version: 0.1.0\nappVersion: \"1.0\"\n").expect_err("not semver");
        assert_eq!(
            err.to_string(),
            "2:14: version `1.0` is not a semantic version (X.Y.Z)"
        );
        let err = chart("version: [\n").expect_err("not YAML");
        assert!(matches!(err, FileError::Yaml { .. }), "{err}");
        assert!(err.to_string().contains("not YAML"), "{err}");
    }

    #[test]
    fn chart_yaml_is_known_by_its_name() {
        assert!(matches!(
            Format::of("charts/podinfo/Chart.yaml", None),
            Ok(Format::HelmChart)
        ));
        assert!(
            Format::by_name("chart.yaml").is_none(),
            "Helm reads Chart.yaml only"
        );
    }
}
