//! Handlebars templates: the built-in keep-a-changelog and github-release ones, or a
//! custom file's text. A template renders one release; its context is [`Release`].
//!
//! A template is checked when it is loaded, by rendering a sample release that fills every
//! field, so a syntax error or an unknown helper is reported at once, at its line.

use handlebars::{
    Context, Handlebars, Helper, HelperResult, Output, RenderContext, RenderErrorReason,
};

use crate::ChangelogError;
use crate::model::{CommitInput, Contributor, Release, ReleaseInput, build_release};
use crate::native::indent;
use crate::settings::ChangelogSettings;

/// The built-in Keep a Changelog 1.1.0 release section.
pub const KEEP_A_CHANGELOG: &str = include_str!("templates/keep-a-changelog.hbs");
/// The built-in GitHub release body.
pub const GITHUB_RELEASE: &str = include_str!("templates/github-release.hbs");

/// Where a template's text comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateSource {
    KeepAChangelog,
    GithubRelease,
    /// A template file's text; `name` (its path) is used in errors.
    Custom {
        name: String,
        text: String,
    },
}

impl TemplateSource {
    /// The built-in template called `name` (`keep-a-changelog`, `github-release`). Any other
    /// `[changelog] template` value is a file path: read it and pass [`TemplateSource::Custom`].
    pub fn builtin(name: &str) -> Option<TemplateSource> {
        match name {
            "keep-a-changelog" => Some(TemplateSource::KeepAChangelog),
            "github-release" => Some(TemplateSource::GithubRelease),
            _ => None,
        }
    }

    fn name_and_text(&self) -> (&str, &str) {
        match self {
            TemplateSource::KeepAChangelog => ("keep-a-changelog", KEEP_A_CHANGELOG),
            TemplateSource::GithubRelease => ("github-release", GITHUB_RELEASE),
            TemplateSource::Custom { name, text } => (name, text),
        }
    }
}

/// A checked template, ready to render releases.
pub struct Template {
    registry: Handlebars<'static>,
    name: String,
    /// The built-in keep-a-changelog template, rendered natively (same bytes, checked by a
    /// test) because it is the whole-history hot path.
    native_keep_a_changelog: bool,
    /// Releases rendered with it make a changelog file: a header above them and the link
    /// definitions below. Not so for github-release, whose output is a release's body.
    changelog_file: bool,
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Template")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Template {
    /// Compiles and checks a template.
    pub fn new(source: &TemplateSource) -> Result<Template, ChangelogError> {
        let (name, text) = source.name_and_text();
        let mut registry = Handlebars::new();
        registry.register_escape_fn(handlebars::no_escape);
        registry.register_helper("indent", Box::new(indent_helper));
        registry.register_template_string(name, text).map_err(|e| {
            let (line, column) = e.pos().map_or((None, None), |(l, c)| (Some(l), Some(c)));
            ChangelogError::Template {
                name: name.to_string(),
                line,
                column,
                message: e.reason().to_string(),
            }
        })?;
        let template = Template {
            registry,
            name: name.to_string(),
            native_keep_a_changelog: false,
            changelog_file: *source != TemplateSource::GithubRelease,
        };
        template.render_handlebars(&sample())?;
        Ok(Template {
            native_keep_a_changelog: *source == TemplateSource::KeepAChangelog,
            ..template
        })
    }

    /// The template's name (a built-in's name or the custom file's path).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether a whole document rendered with it is a changelog file, with the header above
    /// the releases and the link definitions below them: keep-a-changelog and custom
    /// templates (`[changelog] header = ""` leaves the header out); not github-release,
    /// whose text is a GitHub release's body.
    pub fn is_changelog_file(&self) -> bool {
        self.changelog_file
    }

    /// Renders one release.
    pub fn render(&self, release: &Release) -> Result<String, ChangelogError> {
        if self.native_keep_a_changelog {
            let mut out = String::new();
            crate::native::keep_a_changelog(release, &mut out);
            return Ok(out);
        }
        self.render_handlebars(release)
    }

    pub(crate) fn render_handlebars(&self, release: &Release) -> Result<String, ChangelogError> {
        self.registry
            .render(&self.name, release)
            .map_err(|e| ChangelogError::Template {
                name: self.name.clone(),
                line: e.line_no,
                column: e.column_no,
                message: e.reason().to_string(),
            })
    }
}

/// `{{indent text "    "}}`: the text with every line after the first prefixed (default
/// two spaces), so multi-line notes stay inside a list item.
fn indent_helper(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    let text = h
        .param(0)
        .ok_or(RenderErrorReason::ParamNotFoundForIndex("indent", 0))?;
    let text = text.value().as_str().unwrap_or_default();
    let prefix = h.param(1).and_then(|p| p.value().as_str()).unwrap_or("  ");
    out.write(&indent(text, prefix))?;
    Ok(())
}

/// A release that fills every field a template can use, to check templates at load time.
fn sample() -> Release {
    let commit = |id: &str, message: &str| CommitInput {
        id: id.to_string(),
        message: message.to_string(),
        author_name: "Ada".to_string(),
        author_email: "ada@example.com".to_string(),
        author_login: Some("ada".to_string()),
        pr: None,
        parsed: None,
    };
    let input = ReleaseInput {
        version: Some("1.1.0".to_string()),
        tag: Some("v1.1.0".to_string()),
        previous_tag: Some("v1.0.0".to_string()),
        date: Some("2026-01-01".to_string()),
        commits: vec![
            commit(
                "0000000000000000000000000000000000000001",
                "feat(api)!: a\n\nbody\n\nBREAKING CHANGE: note\nline two\nCloses #2",
            ),
            commit("0000000000000000000000000000000000000002", "feat: b (#3)"),
            commit("0000000000000000000000000000000000000003", "fix: c"),
        ],
        remote_url: Some("https://github.com/owner/repo".to_string()),
        new_contributors: vec![Contributor {
            login: "ada".to_string(),
            first_pr: Some(3),
        }],
    };
    build_release(&input, &ChangelogSettings::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn custom(text: &str) -> Result<Template, ChangelogError> {
        Template::new(&TemplateSource::Custom {
            name: "notes.hbs".into(),
            text: text.into(),
        })
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let e = custom("## {{title}}\n\n{{#each sections}}\n### {{title}\n{{/each}}\n")
            .expect_err("syntax error");
        let msg = e.to_string();
        assert!(msg.starts_with("template notes.hbs: line 4"), "{msg}");
    }

    #[test]
    fn unknown_helpers_name_the_line() {
        let e = custom("## {{title}}\n{{#each sections}}\n{{shout title}}\n{{/each}}\n")
            .expect_err("unknown helper");
        let msg = e.to_string();
        assert!(msg.starts_with("template notes.hbs: line 3"), "{msg}");
        assert!(msg.contains("shout"), "{msg}");
    }

    #[test]
    fn unclosed_blocks_are_errors() {
        assert!(custom("{{#each sections}}\n{{title}}\n").is_err());
    }

    #[test]
    fn builtins_load() {
        for name in ["keep-a-changelog", "github-release"] {
            let source = TemplateSource::builtin(name).expect("builtin");
            assert_eq!(Template::new(&source).expect("loads").name(), name);
        }
        assert_eq!(TemplateSource::builtin("templates/notes.hbs"), None);
    }

    #[test]
    fn custom_templates_see_the_context() {
        let t = custom("{{title}}:{{#each sections}} {{title}}={{#each entries}}{{description}}{{#if pr}}#{{pr}}{{/if}};{{/each}}{{/each}}").expect("loads");
        assert_eq!(
            t.render(&sample()).expect("renders"),
            "1.1.0: ⚠ Breaking changes=a; Added=b#3; Fixed=c;"
        );
    }

    #[test]
    fn indent_keeps_blank_lines_bare() {
        assert_eq!(indent("a\n\nb", "  "), "a\n\n  b");
    }

    #[test]
    fn native_keep_a_changelog_matches_the_template() {
        let handlebars = Template::new(&TemplateSource::Custom {
            name: "kac".into(),
            text: KEEP_A_CHANGELOG.into(),
        })
        .expect("loads");
        let native = Template::new(&TemplateSource::KeepAChangelog).expect("loads");
        let mut releases = vec![sample()];
        let mut unreleased = sample();
        unreleased.version = None;
        unreleased.title = "Unreleased".into();
        releases.push(unreleased);
        let mut no_date = sample();
        no_date.date = None;
        no_date.sections.clear();
        releases.push(no_date);
        let mut plain = sample();
        for s in &mut plain.sections {
            for e in &mut s.entries {
                e.scope = None;
                e.links.clear();
            }
        }
        releases.push(plain);
        for r in &releases {
            assert_eq!(
                native.render(r).expect("native"),
                handlebars.render(r).expect("handlebars")
            );
        }
    }
}
