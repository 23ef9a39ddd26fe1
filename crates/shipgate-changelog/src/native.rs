//! The built-in keep-a-changelog template written as plain Rust: the whole-history hot
//! path. `templates/keep-a-changelog.hbs` is the reference; a test checks both give the
//! same bytes.

use std::fmt::Write as _;

use crate::model::Release;

/// Appends one release rendered like `templates/keep-a-changelog.hbs`.
pub(crate) fn keep_a_changelog(release: &Release, out: &mut String) {
    out.push_str("## ");
    match &release.version {
        Some(v) => {
            let _ = write!(out, "[{v}]");
            if let Some(d) = &release.date {
                let _ = write!(out, " - {d}");
            }
        }
        None => out.push_str("[Unreleased]"),
    }
    out.push('\n');
    for section in &release.sections {
        let _ = write!(out, "\n### {}\n\n", section.title);
        for e in &section.entries {
            out.push_str("- ");
            if let Some(scope) = &e.scope {
                let _ = write!(out, "**{scope}**: ");
            }
            out.push_str(&e.description);
            if !e.links.is_empty() {
                let _ = write!(out, " ({})", e.links);
            }
            if e.breaking {
                out.push_str(" [**BREAKING**]");
            }
            out.push('\n');
            if let Some(note) = &e.breaking_note {
                let _ = writeln!(out, "  - {}", indent(note, "    "));
            }
        }
    }
}

/// `text` with every line after the first indented by `prefix` (blank lines stay bare).
pub(crate) fn indent(text: &str, prefix: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            s.push('\n');
            if !line.is_empty() {
                s.push_str(prefix);
            }
        }
        s.push_str(line);
    }
    s
}
