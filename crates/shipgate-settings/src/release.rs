//! `[release]` in shipgate.toml.

use serde::Deserialize;
use shipgate_version::BumpRules;
use shipgate_version::files::{FileError, Format, KNOWN_NAMES};

/// How versions are kept in a workspace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// One version for the whole workspace, one tag.
    #[default]
    Unified,
    /// Each crate versioned from the commits touching its directory, tagged `{crate}-v…`.
    PerCrate,
}

/// A file of another ecosystem to bump. Gradle's, npm's and Helm's files are known by their
/// names (`gradle.properties`, `build.gradle`, `build.gradle.kts`, `package.json`,
/// `package-lock.json`, `npm-shrinkwrap.json`, `Chart.yaml`); any other needs a `pattern`
/// with `{version}` where the version is.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(extend("if" = { "not": { "properties": { "path": { "pattern": KNOWN_NAME } } } }, "then" = { "required": ["pattern"] }))]
#[schemars(extend("examples" = [{ "path": "pom.xml", "pattern": "<version>{version}</version>", "next-snapshot": true }]))]
pub struct ReleaseFile {
    /// Relative to the repository's root; never absolute, never through `..`.
    #[schemars(schema_with = "relative_path")]
    pub path: String,
    /// The text around the version, `{version}` where it is. Optional for the files known
    /// by their names; given, it is used instead of the file's format.
    #[serde(default)]
    #[schemars(regex(pattern = r"\{version\}"))]
    pub pattern: Option<String>,
    /// Whether this file gets the next development version after a release (default:
    /// `[release] next-snapshot`).
    #[serde(default)]
    pub next_snapshot: Option<bool>,
}

/// A path whose file name shipgate knows the format of (`Format::by_name`).
const KNOWN_NAME: &str = r"(^|[/\\])(gradle\.properties|build\.gradle|build\.gradle\.kts|package\.json|package-lock\.json|npm-shrinkwrap\.json|Chart\.yaml)$";

impl ReleaseFile {
    /// What is wrong with this entry, if anything: a path that leaves the repository, or a
    /// pattern without `{version}`.
    pub fn problem(&self) -> Option<String> {
        let escapes = self.path.is_empty()
            || self.path.starts_with(['/', '\\'])
            || self.path.get(1..2) == Some(":")
            || self.path.split(['/', '\\']).any(|part| part == "..");
        if escapes {
            return Some(format!(
                "path `{}` is not a relative path inside the repository",
                self.path
            ));
        }
        match &self.pattern {
            Some(pattern) if !pattern.contains("{version}") => Some(format!(
                "pattern `{pattern}` has no `{{version}}` placeholder"
            )),
            Some(_) => None,
            None if Format::by_name(&self.path).is_none() => Some(format!(
                "`{}` has no `pattern`, and shipgate does not know its format by its name: give it a `pattern` with `{{version}}` where the version is (without one, shipgate knows {})",
                self.path,
                KNOWN_NAMES.join(", ")
            )),
            None => None,
        }
    }

    /// How its version is found.
    pub fn format(&self) -> Result<Format, FileError> {
        Format::of(&self.path, self.pattern.as_deref())
    }
}

/// `[[release.files]] path`'s schema: what [`ReleaseFile::problem`] accepts.
fn relative_path(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "string",
        "minLength": 1,
        "not": { "pattern": r"^[/\\]|^.:|(^|[/\\])\.\.([/\\]|$)" },
    })
}

/// `[release]`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct ReleaseSettings {
    pub mode: Mode,
    /// Release tags, `{version}` replaced (default `v{version}`).
    pub tag_format: String,
    /// Per-crate tags (default `{crate}-v{version}`).
    pub crate_tag_format: String,
    /// Non-conventional commits are an error instead of being counted.
    pub strict: bool,
    /// The changelog file, relative to the repository (per crate in per-crate mode); empty
    /// to write none.
    pub changelog: String,
    /// The release commit's message; `{tag}` is replaced (all tags, comma-separated).
    pub commit_message: String,
    /// The remote to push to and deepen shallow clones from.
    pub remote: String,
    pub bump: BumpRules,
    pub files: Vec<ReleaseFile>,
    /// After the release commit and its tag, a second commit sets every `[[release.files]]`
    /// entry to the next development version (`chore(release): prepare 1.3.1-SNAPSHOT`), as
    /// Maven's release plugin prepares the next development iteration.
    pub next_snapshot: bool,
    /// Per-crate mode: members Cargo would not publish (`publish = false`, `publish = []`)
    /// that are released all the same. Others are left out, as `cargo publish --workspace`
    /// and release-plz leave them.
    pub include_unpublished: Vec<String>,
}

impl Default for ReleaseSettings {
    fn default() -> Self {
        ReleaseSettings {
            mode: Mode::Unified,
            tag_format: "v{version}".into(),
            crate_tag_format: "{crate}-v{version}".into(),
            strict: false,
            changelog: "CHANGELOG.md".into(),
            commit_message: "chore(release): {tag}".into(),
            remote: "origin".into(),
            bump: BumpRules::default(),
            files: Vec::new(),
            next_snapshot: false,
            include_unpublished: Vec::new(),
        }
    }
}
