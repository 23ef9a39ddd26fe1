//! Output formats of `validate`: human (rustc-like carets), json, github annotations,
//! SARIF 2.1.0 and JUnit XML. Pure: diagnostics in, text out.

use std::fmt::Write as _;

use serde_json::json;

use crate::diagnostic::{Diagnostic, Rule, Severity};

/// The output formats (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Github,
    Sarif,
    Junit,
}

impl Format {
    pub const NAMES: [&'static str; 5] = ["human", "json", "github", "sarif", "junit"];

    pub fn parse(name: &str) -> Option<Format> {
        Some(match name {
            "human" => Format::Human,
            "json" => Format::Json,
            "github" => Format::Github,
            "sarif" => Format::Sarif,
            "junit" => Format::Junit,
            _ => return None,
        })
    }
}

/// Renders diagnostics. `files` are all files checked (JUnit lists the clean ones too);
/// `color` adds ANSI colour to human output.
pub fn render(format: Format, diagnostics: &[Diagnostic], files: &[String], color: bool) -> String {
    match format {
        Format::Human => human(diagnostics, color),
        Format::Json => json_array(diagnostics),
        Format::Github => github(diagnostics),
        Format::Sarif => sarif(diagnostics),
        Format::Junit => junit(diagnostics, files),
    }
}

/// rustc-style: the message, the place, the source line and a caret under the value.
pub fn human(diagnostics: &[Diagnostic], color: bool) -> String {
    let paint = |code: &str, text: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let mut out = String::new();
    for d in diagnostics {
        let (label, code) = match d.severity {
            Severity::Error => ("error", "1;31"),
            Severity::Warning => ("warning", "1;33"),
        };
        let _ = writeln!(
            out,
            "{}{}",
            paint(code, &format!("{label}[{}]", d.rule)),
            paint("1", &format!(": {}", d.message))
        );
        let gutter = " ".repeat(d.line.to_string().len());
        let _ = writeln!(
            out,
            "{gutter}{} {}:{}:{}",
            paint("1;34", "-->"),
            d.file,
            d.line,
            d.column
        );
        if let Some(source) = d.source_line.as_deref() {
            let bar = paint("1;34", "|");
            let _ = writeln!(out, "{gutter} {bar}");
            let _ = writeln!(out, "{} {bar} {source}", paint("1;34", &d.line.to_string()));
            let before: String = source
                .chars()
                .take(d.column.saturating_sub(1) as usize)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let line_len = source.chars().count() as u32;
            let end = if d.end_line == d.line {
                d.end_column
            } else {
                line_len + 1
            };
            // A redacted line is shorter than the span: stop at its end.
            let width = end.min(line_len + 1).saturating_sub(d.column).max(1) as usize;
            let _ = writeln!(
                out,
                "{gutter} {bar} {before}{}",
                paint(code, &"^".repeat(width))
            );
        }
        if let Some(hint) = &d.hint {
            let _ = writeln!(out, "{gutter} = hint: {hint}");
        }
        out.push('\n');
    }
    out
}

/// A JSON array of `{file, line, column, end_line, end_column, rule, severity, message, hint}`.
pub fn json_array(diagnostics: &[Diagnostic]) -> String {
    let mut text = serde_json::to_string_pretty(diagnostics).unwrap_or_else(|_| "[]".into());
    text.push('\n');
    text
}

/// GitHub Actions workflow commands: `::error file=F,line=L,col=C,title=RULE::message`.
pub fn github(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut message = d.message.clone();
        if let Some(hint) = &d.hint {
            message.push_str("\nhint: ");
            message.push_str(hint);
        }
        let _ = writeln!(
            out,
            "::{command} file={},line={},col={},title={}::{}",
            escape_property(&d.file),
            d.line,
            d.column,
            escape_property(d.rule.id()),
            escape_data(&message)
        );
    }
    out
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// SARIF 2.1.0: one run of the `shipgate` driver, every rule described, one result per
/// diagnostic with its region; columns in Unicode code points.
pub fn sarif(diagnostics: &[Diagnostic]) -> String {
    let rules: Vec<_> = Rule::ALL
        .iter()
        .map(|r| {
            json!({
                "id": r.id(),
                "shortDescription": { "text": r.description() },
                "defaultConfiguration": { "level": "error" },
            })
        })
        .collect();
    let results: Vec<_> = diagnostics
        .iter()
        .map(|d| {
            let mut text = d.message.clone();
            if let Some(hint) = &d.hint {
                text.push_str("\nhint: ");
                text.push_str(hint);
            }
            let rule_index = Rule::ALL.iter().position(|r| *r == d.rule).unwrap_or(0);
            json!({
                "ruleId": d.rule.id(),
                "ruleIndex": rule_index,
                "level": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&d.file), "uriBaseId": "%SRCROOT%" },
                        "region": {
                            "startLine": d.line.max(1),
                            "startColumn": d.column.max(1),
                            "endLine": d.end_line.max(d.line).max(1),
                            "endColumn": if d.end_line > d.line { d.end_column.max(1) } else { d.end_column.max(d.column).max(1) },
                        }
                    }
                }],
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "shipgate",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/shipgate/shipgate",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
    text.push('\n');
    text
}

/// A relative URI reference for a path: `/`-separated, everything outside the unreserved
/// set percent-encoded.
fn uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// JUnit XML: one test case per file checked, failing with its problems.
pub fn junit(diagnostics: &[Diagnostic], files: &[String]) -> String {
    let mut names: Vec<&str> = files.iter().map(String::as_str).collect();
    for d in diagnostics {
        if !names.contains(&d.file.as_str()) {
            names.push(&d.file);
        }
    }
    let failing = names
        .iter()
        .filter(|f| diagnostics.iter().any(|d| d.file == **f))
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"shipgate config validate\" tests=\"{}\" failures=\"{failing}\">",
        names.len()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"shipgate config\" tests=\"{}\" failures=\"{failing}\" errors=\"0\" skipped=\"0\">",
        names.len()
    );
    for name in names {
        let mine: Vec<&Diagnostic> = diagnostics.iter().filter(|d| d.file == name).collect();
        let class = name.rsplit_once('/').map_or(".", |(dir, _)| dir);
        let _ = write!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\"",
            xml(class),
            xml(name)
        );
        if mine.is_empty() {
            out.push_str("/>\n");
            continue;
        }
        out.push_str(">\n");
        let rules: Vec<&str> = mine.iter().map(|d| d.rule.id()).collect();
        let mut body = String::new();
        for d in &mine {
            let _ = writeln!(
                body,
                "{}:{}:{}: {}[{}]: {}",
                d.file,
                d.line,
                d.column,
                d.severity.as_str(),
                d.rule,
                d.message
            );
            if let Some(hint) = &d.hint {
                let _ = writeln!(body, "  hint: {hint}");
            }
        }
        let _ = writeln!(
            out,
            "      <failure message=\"{} problem(s)\" type=\"{}\">{}</failure>",
            mine.len(),
            xml(&rules.join(",")),
            xml(&body)
        );
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// XML text/attribute escaping; characters XML 1.0 cannot hold are dropped.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Diagnostic> {
        vec![Diagnostic {
            file: "env s/prod.toml".into(),
            line: 3,
            column: 12,
            end_line: 3,
            end_column: 13,
            rule: Rule::Schema,
            severity: Severity::Error,
            message: "`service.replicas`: 0 is less than the minimum of 1, really: 100%".into(),
            hint: Some("raise it".into()),
            source_line: Some("replicas = 0".into()),
            environments: Vec::new(),
        }]
    }

    #[test]
    fn human_has_a_caret_under_the_value() {
        let text = human(&sample(), false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "error[schema]: `service.replicas`: 0 is less than the minimum of 1, really: 100%"
        );
        assert_eq!(lines[1], " --> env s/prod.toml:3:12");
        assert_eq!(lines[3], "3 | replicas = 0");
        assert_eq!(lines[4], "  |            ^");
        assert_eq!(lines[5], "  = hint: raise it");
    }

    #[test]
    fn github_escapes_data_and_properties() {
        assert_eq!(
            github(&sample()),
            "::error file=env s/prod.toml,line=3,col=12,title=schema::`service.replicas`: 0 is less than the minimum of 1, really: 100%25%0Ahint: raise it\n"
        );
    }

    #[test]
    fn json_has_the_contract_fields() {
        let v: serde_json::Value = serde_json::from_str(&json_array(&sample())).expect("json");
        let d = &v[0];
        assert_eq!(
            (d["file"].as_str(), d["line"].as_u64(), d["column"].as_u64()),
            (Some("env s/prod.toml"), Some(3), Some(12))
        );
        assert_eq!(
            (d["rule"].as_str(), d["severity"].as_str()),
            (Some("schema"), Some("error"))
        );
        assert!(d["message"].as_str().is_some_and(|m| m.contains("minimum")));
    }

    #[test]
    fn sarif_encodes_uris_and_regions() {
        let v: serde_json::Value = serde_json::from_str(&sarif(&sample())).expect("json");
        let loc = &v["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "env%20s/prod.toml");
        assert_eq!(loc["region"]["startColumn"], 12);
        assert_eq!(v["runs"][0]["results"][0]["ruleId"], "schema");
    }

    #[test]
    fn junit_lists_clean_and_failing_files() {
        let text = junit(
            &sample(),
            &["env s/base.toml".into(), "env s/prod.toml".into()],
        );
        assert!(text.contains("tests=\"2\" failures=\"1\""), "{text}");
        assert!(
            text.contains("<testcase classname=\"env s\" name=\"env s/base.toml\"/>"),
            "{text}"
        );
        assert!(
            text.contains("type=\"schema\">env s/prod.toml:3:12: error[schema]"),
            "{text}"
        );
        assert_eq!(xml("a<\u{1}&"), "a&lt;&amp;");
    }
}
