//! `[changelog]` in shipgate.toml: which commits go to which section, which are skipped,
//! how messages are rewritten first, which template renders them.
//!
//! Regular expressions are compiled while the settings are read, so a bad pattern is an
//! error at its line in shipgate.toml and rendering itself never fails on settings.

use std::fmt;

use regex::Regex;
use serde::{Deserialize, Deserializer};

/// `[changelog]` in shipgate.toml. Every key is optional.
///
/// ```toml
/// [changelog]
/// template = "keep-a-changelog"   # or "github-release", or a path to a .hbs file
/// fold-prereleases = false
///
/// [[changelog.parsers]]           # first match wins; the built-in mapping comes after
/// type = "docs"
/// section = "Documentation"
///
/// [[changelog.skip]]              # never listed
/// author = '\[bot\]'
///
/// [[changelog.preprocessors]]     # applied to each message before it is parsed
/// pattern = 'JIRA-(\d+)'
/// replace = "[JIRA-$1](https://jira.example.com/browse/JIRA-$1)"
/// ```
#[derive(Debug, Default, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct ChangelogSettings {
    /// `keep-a-changelog` (default), `github-release`, or the path of a handlebars file
    /// (relative to the repository root; read by the caller, see [`crate::TemplateSource`]).
    pub template: Option<String>,
    /// Text above the releases of a whole document or a new CHANGELOG.md. Default: the Keep
    /// a Changelog introduction.
    pub header: Option<String>,
    /// When a stable release follows release candidates, drop the candidates' sections:
    /// the stable section already gathers their changes.
    pub fold_prereleases: bool,
    /// The repository's web address (`https://github.com/OWNER/REPO`), used for PR, issue,
    /// commit and compare links. Default: derived from the `origin` remote by the caller.
    pub remote_url: Option<String>,
    /// Rules tried in order before the built-in type → section mapping; the first that
    /// matches decides.
    pub parsers: Vec<CommitParser>,
    /// Commits matching any rule are left out (besides the built-in `chore(release)` rule).
    pub skip: Vec<SkipRule>,
    /// Regex replacements applied, in order, to each commit message before it is parsed.
    pub preprocessors: Vec<Preprocessor>,
}

/// `[[changelog.parsers]]`: every given field must match; then the commit goes to
/// `section`, or is left out when `skip = true`.
#[derive(Debug, Default, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CommitParser {
    /// The Conventional Commits type (case-insensitive); `*` matches any conventional commit.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// A regex over the scope (a commit without a scope never matches).
    pub scope: Option<Pattern>,
    /// A regex over the first line after the type and scope (the whole first line for a
    /// commit that is not conventional).
    pub message: Option<Pattern>,
    /// A regex over the author's name, e-mail address and GitHub login.
    pub author: Option<Pattern>,
    /// The section's title, e.g. `Documentation`. Built-in titles keep their place in the
    /// Keep a Changelog order; others follow, in the order of the parsers.
    pub section: Option<String>,
    /// Leave the commit out.
    #[serde(default)]
    pub skip: bool,
}

/// `[[changelog.skip]]`: a commit matching every given field is left out.
#[derive(Debug, Default, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SkipRule {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub scope: Option<Pattern>,
    pub message: Option<Pattern>,
    pub author: Option<Pattern>,
}

/// `[[changelog.preprocessors]]`: `pattern` replaced by `replace` (`$1`, `${name}` refer to
/// groups) everywhere in each message.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Preprocessor {
    pub pattern: Pattern,
    pub replace: String,
}

/// A regular expression checked when the settings are read.
#[derive(Clone)]
pub struct Pattern(pub Regex);

impl Pattern {
    /// Compiles `pattern`.
    pub fn new(pattern: &str) -> Result<Pattern, regex::Error> {
        Regex::new(pattern).map(Pattern)
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.0.is_match(text)
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pattern({:?})", self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Pattern::new(&text).map_err(|e| {
            serde::de::Error::custom(format!("invalid regular expression {text:?}: {e}"))
        })
    }
}

/// A string that must compile as a regular expression (Rust `regex` syntax).
impl schemars::JsonSchema for Pattern {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Regex".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "regex",
            "description": "A regular expression (Rust `regex` syntax), checked when the settings are read.",
        })
    }
}

impl From<SkipRule> for CommitParser {
    fn from(rule: SkipRule) -> Self {
        CommitParser {
            kind: rule.kind,
            scope: rule.scope,
            message: rule.message,
            author: rule.author,
            section: None,
            skip: true,
        }
    }
}

/// What a rule looks at in one commit.
pub(crate) struct Subject<'a> {
    pub kind: Option<&'a str>,
    pub scope: Option<&'a str>,
    pub message: &'a str,
    pub authors: [&'a str; 3],
}

impl CommitParser {
    pub(crate) fn matches(&self, s: &Subject<'_>) -> bool {
        if let Some(kind) = &self.kind {
            match s.kind {
                Some(k) if kind == "*" || kind.eq_ignore_ascii_case(k) => {}
                _ => return false,
            }
        }
        if let Some(scope) = &self.scope
            && !s.scope.is_some_and(|sc| scope.is_match(sc))
        {
            return false;
        }
        if let Some(message) = &self.message
            && !message.is_match(s.message)
        {
            return false;
        }
        if let Some(author) = &self.author
            && !s
                .authors
                .iter()
                .any(|a| !a.is_empty() && author.is_match(a))
        {
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct File {
        changelog: ChangelogSettings,
    }

    #[test]
    fn reads_every_key() {
        let text = r##"
            [changelog]
            template = "github-release"
            header = "# History\n"
            fold-prereleases = true
            remote-url = "https://github.com/o/r"
            [[changelog.parsers]]
            type = "docs"
            section = "Documentation"
            [[changelog.parsers]]
            message = "^WIP"
            skip = true
            [[changelog.skip]]
            author = '\[bot\]$'
            [[changelog.preprocessors]]
            pattern = 'JIRA-(\d+)'
            replace = "[JIRA-$1](https://jira/JIRA-$1)"
        "##;
        let s = toml::from_str::<File>(text).expect("valid").changelog;
        assert!(s.fold_prereleases);
        assert_eq!(s.parsers.len(), 2);
        assert!(s.parsers[1].skip);
        assert_eq!(s.skip.len(), 1);
        assert_eq!(
            s.preprocessors[0].replace,
            "[JIRA-$1](https://jira/JIRA-$1)"
        );
    }

    #[test]
    fn unknown_keys_and_bad_regexes_are_errors() {
        let e = toml::from_str::<File>("[changelog]\nfold-prerelease = true\n")
            .expect_err("unknown key");
        assert!(e.to_string().contains("fold-prerelease"), "{e}");
        let e =
            toml::from_str::<File>("[[changelog.skip]]\nmessage = '('\n").expect_err("bad regex");
        assert!(e.to_string().contains("invalid regular expression"), "{e}");
        assert!(e.to_string().contains("line 2"), "{e}");
    }

    #[test]
    fn matching_needs_every_given_field() {
        let p = CommitParser {
            kind: Some("chore".into()),
            scope: Some(Pattern::new("^release$").expect("re")),
            ..Default::default()
        };
        let subject = |kind, scope| Subject {
            kind,
            scope,
            message: "x",
            authors: ["a", "", ""],
        };
        assert!(p.matches(&subject(Some("chore"), Some("release"))));
        assert!(!p.matches(&subject(Some("chore"), None)));
        assert!(!p.matches(&subject(Some("feat"), Some("release"))));
        assert!(!p.matches(&subject(None, Some("release"))));
        let any = CommitParser {
            kind: Some("*".into()),
            ..Default::default()
        };
        assert!(any.matches(&subject(Some("docs"), None)));
        assert!(!any.matches(&subject(None, None)));
    }
}
