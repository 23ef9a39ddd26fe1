//! Whole documents and in-place CHANGELOG.md updates.
//!
//! An update only ever inserts: every byte of the existing file is kept, in order, and a
//! release whose heading is already there is not inserted again.

use crate::ChangelogError;
use crate::model::{Changelog, ChangelogInput, build_changelog};
use crate::settings::ChangelogSettings;
use crate::template::Template;

pub use crate::model::HEADER;

/// Renders a whole document: the header, every release (newest first, the unreleased one
/// first), then the link definitions (`[1.4.0]: compare URL`) when the remote is known. A
/// template that is not a changelog file's ([`Template::is_changelog_file`]: github-release)
/// gets the releases alone.
pub fn render_changelog(
    input: &ChangelogInput,
    settings: &ChangelogSettings,
    template: &Template,
) -> Result<String, ChangelogError> {
    render_model(&build_changelog(input, settings), template)
}

/// Renders an already built document model (see [`build_changelog`]).
pub fn render_model(doc: &Changelog, template: &Template) -> Result<String, ChangelogError> {
    let mut out = String::with_capacity(64 * 1024);
    let file = template.is_changelog_file();
    if file {
        out.push_str(&doc.header);
    }
    for release in &doc.releases {
        ensure_blank_line(&mut out);
        out.push_str(&template.render(release)?);
    }
    if file && !doc.links.is_empty() {
        ensure_blank_line(&mut out);
        for l in &doc.links {
            out.push('[');
            out.push_str(&l.label);
            out.push_str("]: ");
            out.push_str(&l.url);
            out.push('\n');
        }
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

fn ensure_blank_line(out: &mut String) {
    if out.is_empty() {
        return;
    }
    if !out.ends_with('\n') {
        out.push('\n');
    }
    if !out.ends_with("\n\n") {
        out.push('\n');
    }
}

/// The result of putting a section into an existing CHANGELOG.md.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inserted {
    pub text: String,
    /// False when the file already had this release's section (nothing changed).
    pub changed: bool,
    /// Set when the file did not have the expected shape (the section went to the top).
    pub warning: Option<String>,
}

/// Inserts `section` (which starts with `## [VERSION]`) into `existing` under
/// `## [Unreleased]` (after its content), before the first release heading, or at the top
/// with a warning when the file has neither; everything else is kept byte for byte.
/// Link definitions at the end of `section` (`[1.4.0]: …`) go to the definitions at the
/// bottom of the file. Inserting a version whose heading is already there changes nothing.
pub fn insert_release(existing: Option<&str>, version: &str, section: &str) -> Inserted {
    let (body, defs) = split_definitions(section);
    let Some(existing) = existing.filter(|e| !e.trim().is_empty()) else {
        let mut text = format!("{HEADER}\n## [Unreleased]\n\n{}", with_newline(body));
        if !defs.is_empty() {
            text.push('\n');
            text.push_str(&with_newline(defs));
        }
        return Inserted {
            text,
            changed: true,
            warning: None,
        };
    };
    let shape = scan(existing, version);
    if shape.already_there {
        return Inserted {
            text: existing.to_string(),
            changed: false,
            warning: None,
        };
    }
    let (mut at, mut warning) = match (shape.first_release, shape.unreleased_end, shape.title_only) {
        (Some(at), _, _) => (at, None),
        (None, Some(end), _) => (end, None),
        (None, None, true) => (existing.len(), None),
        (None, None, false) => (
            0,
            Some("CHANGELOG.md has no `## [Unreleased]` or release heading; the new section went to the top".to_string()),
        ),
    };
    // a code block left open runs to the end of the file: never insert inside it
    if let Some(fence) = shape.open_fence.filter(|f| *f < at) {
        at = fence;
        warning.get_or_insert_with(|| {
            "CHANGELOG.md has a code block that is never closed; the new section went before it"
                .to_string()
        });
    }
    let mut text = String::with_capacity(existing.len() + section.len() + 4);
    text.push_str(&existing[..at]);
    if at > 0 {
        ensure_blank_line(&mut text);
    }
    text.push_str(&with_newline(body));
    if at < existing.len() {
        text.push('\n');
    }
    // link definitions: into the block at the end of the file, after `[Unreleased]: …`
    let new_defs: Vec<&str> = defs
        .lines()
        .filter(|d| {
            definition_label(d)
                .is_some_and(|label| !shape.labels.iter().any(|l| l.eq_ignore_ascii_case(label)))
        })
        .collect();
    match shape.definitions_at.filter(|d| *d >= at) {
        Some(def_at) if !new_defs.is_empty() => {
            text.push_str(&existing[at..def_at]);
            for d in &new_defs {
                text.push_str(d);
                text.push('\n');
            }
            text.push_str(&existing[def_at..]);
        }
        _ => {
            text.push_str(&existing[at..]);
            if !new_defs.is_empty() {
                ensure_blank_line(&mut text);
                for d in &new_defs {
                    text.push_str(d);
                    text.push('\n');
                }
            }
        }
    }
    Inserted {
        text,
        changed: true,
        warning,
    }
}

/// [`insert_release`] with options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InsertOptions<'a> {
    /// The version of `section`'s heading.
    pub version: &'a str,
    /// The rendered section (`## [VERSION] …`), maybe followed by its link definition.
    pub section: &'a str,
    /// `fold-prereleases = true`: when `version` is stable, the sections of its
    /// prereleases (`## [VERSION-rc.N]`) and their link definitions are removed, since the
    /// new section gathers their changes. Nothing else is touched.
    pub fold_prereleases: bool,
}

/// Like [`insert_release`], folding the prereleases' sections when asked. When the
/// version's heading is already there nothing changes, folded or not.
pub fn insert_release_with(existing: Option<&str>, options: &InsertOptions<'_>) -> Inserted {
    let stable = !crate::model::is_prerelease(options.version);
    match existing {
        Some(text)
            if options.fold_prereleases && stable && !scan(text, options.version).already_there =>
        {
            let folded = fold_prereleases(text, options.version);
            insert_release(Some(&folded), options.version, options.section)
        }
        _ => insert_release(existing, options.version, options.section),
    }
}

/// Drops the sections (heading to the next heading) and link definitions of `version`'s
/// prereleases.
fn fold_prereleases(existing: &str, version: &str) -> String {
    let prefix = format!("{}-", version.trim().trim_start_matches('v'));
    let is_candidate = |v: &str| v.trim_start_matches('v').starts_with(&prefix);
    let mut out = String::with_capacity(existing.len());
    let mut in_fence = false;
    let mut dropping = false;
    for line in existing.split_inclusive('\n') {
        let trimmed = line.trim_end();
        let fence =
            trimmed.trim_start().starts_with("```") || trimmed.trim_start().starts_with("~~~");
        if !in_fence && !fence {
            if let Some(rest) = trimmed.strip_prefix("## ") {
                dropping = heading_version(rest).is_some_and(is_candidate);
            } else if trimmed.starts_with("# ") {
                dropping = false;
            } else if let Some(label) = definition_label(trimmed) {
                if is_candidate(label) {
                    continue;
                }
                dropping = false;
            }
        }
        if fence {
            in_fence = !in_fence;
        }
        if !dropping {
            out.push_str(line);
        }
    }
    out
}

/// What [`insert_release`] needs to know about a file.
struct Shape<'a> {
    already_there: bool,
    first_release: Option<usize>,
    unreleased_end: Option<usize>,
    /// A `# Title` and no `##` heading at all: the section goes at the end.
    title_only: bool,
    /// Where new link definitions go: after `[Unreleased]: …` in the final block of
    /// definitions, or at the block's start.
    definitions_at: Option<usize>,
    labels: Vec<&'a str>,
    /// The start of a code fence that is never closed.
    open_fence: Option<usize>,
}

fn scan<'a>(existing: &'a str, version: &str) -> Shape<'a> {
    let version = version.trim().trim_start_matches('v');
    let mut shape = Shape {
        already_there: false,
        first_release: None,
        unreleased_end: None,
        title_only: false,
        definitions_at: None,
        labels: Vec::new(),
        open_fence: None,
    };
    let mut offset = 0;
    let mut in_fence = false;
    let mut has_title = false;
    let mut has_h2 = false;
    // the last run of definition lines (blank lines allowed inside), as (start, after unreleased)
    let mut block: Option<(usize, Option<usize>)> = None;
    for line in existing.split_inclusive('\n') {
        let trimmed = line.trim_end();
        let start = offset;
        offset += line.len();
        if trimmed.trim_start().starts_with("```") || trimmed.trim_start().starts_with("~~~") {
            in_fence = !in_fence;
            shape.open_fence = in_fence.then_some(start);
            block = None;
            continue;
        }
        if in_fence {
            continue;
        }
        if let Some(label) = definition_label(trimmed) {
            shape.labels.push(label);
            let entry = block.get_or_insert((start, None));
            if label.eq_ignore_ascii_case("unreleased") {
                entry.1 = Some(offset);
            }
            continue;
        }
        if trimmed.trim().is_empty() {
            continue;
        }
        block = None;
        if trimmed.starts_with("# ") {
            has_title = true;
        }
        let Some(rest) = trimmed.strip_prefix("## ") else {
            continue;
        };
        has_h2 = true;
        let Some(v) = heading_version(rest) else {
            continue;
        };
        if v.eq_ignore_ascii_case("unreleased") {
            if shape.first_release.is_none() {
                shape.unreleased_end = Some(offset);
            }
        } else if v.starts_with(|c: char| c.is_ascii_digit()) {
            if v == version {
                shape.already_there = true;
            }
            shape.first_release.get_or_insert(start);
        }
    }
    shape.title_only = has_title && !has_h2;
    shape.definitions_at = block.map(|(start, after_unreleased)| after_unreleased.unwrap_or(start));
    shape
}

/// `[1.4.0] - 2026-11-26`, `1.4.0`, `[v1.4.0](url)`, `v1.4.0 (2026-11-26)` → `1.4.0`.
fn heading_version(rest: &str) -> Option<&str> {
    let rest = rest.trim_start();
    let rest = rest.strip_prefix('[').unwrap_or(rest);
    let rest = rest
        .strip_prefix('v')
        .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or(rest);
    let end = rest.find([']', ' ', '(', '\t']).unwrap_or(rest.len());
    let v = &rest[..end];
    (!v.is_empty()).then_some(v)
}

/// `[label]: url` → `label`.
fn definition_label(line: &str) -> Option<&str> {
    let rest = line.strip_prefix('[')?;
    let (label, after) = rest.split_once("]:")?;
    (!label.is_empty()
        && !label.contains(['[', ']'])
        && !after.trim().is_empty()
        && after.starts_with([' ', '\t']))
    .then_some(label)
}

/// Splits trailing link definition lines off a rendered section.
fn split_definitions(section: &str) -> (&str, &str) {
    let mut starts = Vec::new();
    let mut offset = 0;
    for line in section.split_inclusive('\n') {
        starts.push((offset, line));
        offset += line.len();
    }
    let mut cut = None;
    for (start, line) in starts.into_iter().rev() {
        if definition_label(line.trim_end()).is_some() {
            cut = Some(start);
        } else if !line.trim().is_empty() {
            break;
        }
    }
    match cut {
        Some(cut) => (section[..cut].trim_end_matches('\n'), &section[cut..]),
        None => (section, ""),
    }
}

fn with_newline(s: &str) -> String {
    if s.ends_with('\n') {
        s.to_string()
    } else {
        format!("{s}\n")
    }
}
