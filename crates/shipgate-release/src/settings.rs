//! `[release]` in shipgate.toml.

use serde::Deserialize;
use shipgate_version::BumpRules;

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

/// A file of another ecosystem to bump: `pattern` holds `{version}` where the version is.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseFile {
    pub path: String,
    pub pattern: String,
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
            include_unpublished: Vec::new(),
        }
    }
}
