//! Release notes: the model, templates, and in-place CHANGELOG.md updates.
//!
//! Pure: commit messages and dates come in, text goes out; no git, no network, no clock,
//! no filesystem. The one commit parser is `shipgate_version::parse_message`.
//!
//! - [`model`]: commits → releases → sections → entries, by the `[changelog]` rules; the
//!   structs are the templates' context.
//! - [`template`]: handlebars templates, built-in or custom, checked when loaded.
//! - [`document`]: whole documents and in-place updates that never lose a byte.

pub mod document;
mod links;
pub mod model;
mod native;
pub mod settings;
pub mod template;

pub use document::{
    HEADER, InsertOptions, Inserted, insert_release, insert_release_with, render_changelog,
    render_model,
};
pub use links::web_url;
pub use model::{
    BREAKING_TITLE, Changelog, ChangelogInput, CommitInput, Contributor, Entry, IssueRef,
    LinkDefinition, NewContributor, Release, ReleaseInput, SECTION_ORDER, Section, build_changelog,
    build_release, is_prerelease,
};
pub use settings::{ChangelogSettings, CommitParser, Pattern, Preprocessor, SkipRule};
pub use template::{GITHUB_RELEASE, KEEP_A_CHANGELOG, Template, TemplateSource};

/// What can go wrong while rendering: only templates can fail.
#[derive(Debug, thiserror::Error)]
pub enum ChangelogError {
    #[error("template {name}: {}{message}", position(*line, *column))]
    Template {
        name: String,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
}

fn position(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("line {l}, column {c}: "),
        (Some(l), None) => format!("line {l}: "),
        _ => String::new(),
    }
}

/// Renders one release as a Keep a Changelog 1.1.0 section (`## [1.4.0] - 2026-11-26`),
/// followed by its link definition (`[1.4.0]: compare URL`) when the remote is known;
/// [`insert_release`] moves that line to the bottom of the file.
pub fn render_release(release: &ReleaseInput, settings: &ChangelogSettings) -> String {
    let model = build_release(release, settings);
    let mut out = String::new();
    native::keep_a_changelog(&model, &mut out);
    if let Some(url) = &model.compare_url {
        out.push_str(&format!("\n[{}]: {url}\n", model.title));
    }
    out
}

/// Renders one release with any template (e.g. the github-release body).
pub fn render_release_with(
    release: &ReleaseInput,
    settings: &ChangelogSettings,
    template: &Template,
) -> Result<String, ChangelogError> {
    template.render(&build_release(release, settings))
}
