//! Version edits in manifests, as pure text-to-text functions that keep formatting and
//! comments: Cargo.toml (`[package]`, `[workspace.package]`, internal dependency
//! requirements), Cargo.lock, and pattern-matched files of other ecosystems.

use std::collections::BTreeMap;

use regex::Regex;
use semver::Version;
use toml_edit::{DocumentMut, Item, value};

/// A problem in a manifest's text, located at line and column (1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {message}")]
pub struct ManifestError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl ManifestError {
    fn at(text: &str, offset: usize, message: impl Into<String>) -> Self {
        let (line, column) = shipgate_stdx::text::line_col(text, offset);
        ManifestError {
            line,
            column,
            message: message.into(),
        }
    }

    fn whole(message: impl Into<String>) -> Self {
        ManifestError {
            line: 1,
            column: 1,
            message: message.into(),
        }
    }
}

/// What the release needs to know of one Cargo.toml.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CargoManifest {
    /// `[package] name`, when this manifest has a package.
    pub name: Option<String>,
    /// `[package] version` when it is a literal.
    pub own_version: Option<Version>,
    /// `version.workspace = true`.
    pub inherits_version: bool,
    /// `[workspace.package] version`.
    pub workspace_version: Option<Version>,
    /// `[workspace] members` and `exclude` (only in a workspace root).
    pub members: Vec<String>,
    pub exclude: Vec<String>,
    /// Whether a `[workspace]` table is present.
    pub is_workspace: bool,
    /// Names of the packages this one depends on by path (any dependency kind).
    pub path_dependencies: Vec<String>,
    /// `[package] publish`.
    pub publish: Publish,
    /// `[workspace.package] publish`, which members with `publish.workspace = true` take.
    pub workspace_publish: Publish,
}

/// A `publish` key, as Cargo reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Publish {
    /// Absent: Cargo's default (crates.io, when the package has a version).
    #[default]
    Unset,
    /// `publish = true`, or a list of registries.
    Registries,
    /// `publish = false`.
    False,
    /// `publish = []`: no registry.
    NoRegistry,
    /// `publish.workspace = true`.
    Workspace,
}

fn publish_of(item: Option<&Item>) -> Publish {
    let Some(item) = item else {
        return Publish::Unset;
    };
    if let Some(b) = item.as_bool() {
        return if b {
            Publish::Registries
        } else {
            Publish::False
        };
    }
    if let Some(a) = item.as_array() {
        return if a.is_empty() {
            Publish::NoRegistry
        } else {
            Publish::Registries
        };
    }
    if item
        .as_table_like()
        .and_then(|t| t.get("workspace"))
        .and_then(Item::as_bool)
        == Some(true)
    {
        return Publish::Workspace;
    }
    Publish::Unset
}

impl CargoManifest {
    /// Why Cargo would not publish this package (`cargo publish --workspace` skips it), or
    /// `None` when it would. `root` is the workspace root's manifest, for
    /// `publish.workspace = true`.
    pub fn unpublished(&self, root: Option<&CargoManifest>) -> Option<&'static str> {
        let publish = match self.publish {
            Publish::Workspace => root.map_or(Publish::Unset, |r| r.workspace_publish),
            p => p,
        };
        match publish {
            Publish::False => Some("publish = false"),
            Publish::NoRegistry => Some("publish = []"),
            Publish::Unset if self.own_version.is_none() && !self.inherits_version => {
                Some("no `version`, so Cargo does not publish it")
            }
            _ => None,
        }
    }
}

fn parse(text: &str) -> Result<DocumentMut, ManifestError> {
    text.parse::<DocumentMut>().map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        ManifestError::at(text, offset, e.message().trim().to_string())
    })
}

fn version_at(text: &str, item: &Item, what: &str) -> Result<Option<Version>, ManifestError> {
    let Some(s) = item.as_str() else {
        return Ok(None);
    };
    Version::parse(s).map(Some).map_err(|e| {
        let offset = item.span().map_or(0, |s| s.start);
        ManifestError::at(
            text,
            offset,
            format!("{what} `{s}` is not a semantic version: {e}"),
        )
    })
}

fn strings(item: Option<&Item>) -> Vec<String> {
    item.and_then(Item::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Reads the facts of one Cargo.toml.
pub fn read_cargo(text: &str) -> Result<CargoManifest, ManifestError> {
    let parsed = toml_edit::Document::parse(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        ManifestError::at(text, offset, e.message().trim().to_string())
    })?;
    let doc = parsed.as_table();
    let mut m = CargoManifest::default();
    if let Some(package) = doc.get("package").and_then(Item::as_table_like) {
        m.name = package
            .get("name")
            .and_then(Item::as_str)
            .map(str::to_string);
        if let Some(version) = package.get("version") {
            if version
                .as_table_like()
                .and_then(|t| t.get("workspace"))
                .and_then(Item::as_bool)
                == Some(true)
            {
                m.inherits_version = true;
            } else {
                m.own_version = version_at(text, version, "[package] version")?;
            }
        }
        m.publish = publish_of(package.get("publish"));
    }
    if let Some(ws) = doc.get("workspace").and_then(Item::as_table_like) {
        m.is_workspace = true;
        m.members = strings(ws.get("members"));
        m.exclude = strings(ws.get("exclude"));
        let package = ws.get("package").and_then(Item::as_table_like);
        if let Some(version) = package.and_then(|p| p.get("version")) {
            m.workspace_version = version_at(text, version, "[workspace.package] version")?;
        }
        m.workspace_publish = publish_of(package.and_then(|p| p.get("publish")));
    }
    for_each_dependency_table(doc, |deps| {
        for (key, dep) in deps.iter() {
            let Some(t) = dep.as_table_like() else {
                continue;
            };
            if t.contains_key("path") {
                let name = t.get("package").and_then(Item::as_str).unwrap_or(key);
                m.path_dependencies.push(name.to_string());
            }
        }
    });
    m.path_dependencies.sort();
    m.path_dependencies.dedup();
    Ok(m)
}

fn for_each_dependency_table(doc: &toml_edit::Table, mut f: impl FnMut(&dyn toml_edit::TableLike)) {
    const KINDS: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];
    for kind in KINDS {
        if let Some(t) = doc.get(kind).and_then(Item::as_table_like) {
            f(t);
        }
    }
    if let Some(t) = doc
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(Item::as_table_like)
    {
        f(t);
    }
    if let Some(targets) = doc.get("target").and_then(Item::as_table_like) {
        for (_, target) in targets.iter() {
            for kind in KINDS {
                if let Some(t) = target.get(kind).and_then(Item::as_table_like) {
                    f(t);
                }
            }
        }
    }
}

fn for_each_dependency_table_mut(
    doc: &mut DocumentMut,
    mut f: impl FnMut(&mut dyn toml_edit::TableLike),
) {
    const KINDS: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];
    for kind in KINDS {
        if let Some(t) = doc.get_mut(kind).and_then(Item::as_table_like_mut) {
            f(t);
        }
    }
    if let Some(t) = doc
        .get_mut("workspace")
        .and_then(|w| w.get_mut("dependencies"))
        .and_then(Item::as_table_like_mut)
    {
        f(t);
    }
    if let Some(targets) = doc.get_mut("target").and_then(Item::as_table_like_mut) {
        for (_, target) in targets.iter_mut() {
            for kind in KINDS {
                if let Some(t) = target.get_mut(kind).and_then(Item::as_table_like_mut) {
                    f(t);
                }
            }
        }
    }
}

/// Edits to make in one Cargo.toml.
#[derive(Debug, Clone)]
pub struct CargoEdit<'a> {
    /// New `[package] version` (only applied when it is a literal, not inherited).
    pub package_version: Option<&'a Version>,
    /// New `[workspace.package] version`.
    pub workspace_version: Option<&'a Version>,
    /// New versions of internal packages: path dependencies with a `version` requirement
    /// on them get it rewritten (keeping `=`, `^` or `~`).
    pub dependencies: &'a BTreeMap<String, Version>,
}

/// Applies `edit` to a Cargo.toml's text, keeping everything else byte for byte.
pub fn edit_cargo(text: &str, edit: &CargoEdit<'_>) -> Result<String, ManifestError> {
    let mut doc = parse(text)?;
    if let Some(new) = edit.package_version
        && let Some(version) = doc.get_mut("package").and_then(|p| p.get_mut("version"))
        && version.is_str()
    {
        set_keeping_decor(version, &new.to_string());
    }
    if let Some(new) = edit.workspace_version {
        let version = doc
            .get_mut("workspace")
            .and_then(|w| w.get_mut("package"))
            .and_then(|p| p.get_mut("version"));
        match version {
            Some(version) if version.is_str() => set_keeping_decor(version, &new.to_string()),
            _ => {
                return Err(ManifestError::whole(
                    "[workspace.package] has no version to bump",
                ));
            }
        }
    }
    if !edit.dependencies.is_empty() {
        for_each_dependency_table_mut(&mut doc, |deps| {
            for (key, dep) in deps.iter_mut() {
                let Some(t) = dep.as_table_like_mut() else {
                    continue;
                };
                if !t.contains_key("path") {
                    continue;
                }
                let name = t
                    .get("package")
                    .and_then(Item::as_str)
                    .unwrap_or(key.get())
                    .to_string();
                let Some(new) = edit.dependencies.get(&name) else {
                    continue;
                };
                if let Some(req) = t.get_mut("version")
                    && let Some(old) = req.as_str()
                {
                    let op: String = old
                        .chars()
                        .take_while(|c| matches!(c, '=' | '^' | '~' | ' '))
                        .collect();
                    set_keeping_decor(req, &format!("{op}{new}"));
                }
            }
        });
    }
    Ok(doc.to_string())
}

fn set_keeping_decor(item: &mut Item, new: &str) {
    let decor = item.as_value().map(|v| v.decor().clone());
    *item = value(new);
    if let (Some(decor), Some(v)) = (decor, item.as_value_mut()) {
        *v.decor_mut() = decor;
    }
}

/// Sets the versions of workspace packages (those without `source`) in Cargo.lock, as
/// `cargo` itself would after the bump, without running cargo or touching the network.
pub fn edit_lock(
    text: &str,
    versions: &BTreeMap<String, Version>,
) -> Result<String, ManifestError> {
    let mut doc = parse(text)?;
    let Some(packages) = doc
        .get_mut("package")
        .and_then(Item::as_array_of_tables_mut)
    else {
        return Ok(text.to_string());
    };
    for package in packages.iter_mut() {
        if package.contains_key("source") {
            continue;
        }
        let Some(name) = package
            .get("name")
            .and_then(Item::as_str)
            .map(str::to_string)
        else {
            continue;
        };
        if let Some(new) = versions.get(&name)
            && let Some(v) = package.get_mut("version")
        {
            set_keeping_decor(v, &new.to_string());
        }
    }
    Ok(doc.to_string())
}

/// A file of another ecosystem whose version is found by a pattern such as
/// `<version>{version}</version>` or `"version": "{version}"`.
#[derive(Debug, Clone)]
pub struct VersionPattern {
    regex: Regex,
    pattern: String,
}

/// Why a pattern cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("pattern `{0}` has no `{{version}}` placeholder")]
    NoPlaceholder(String),
    #[error("pattern `{pattern}` does not match any version in the file")]
    NotFound { pattern: String },
}

const SEMVER: &str = r"(?P<version>(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)";

impl VersionPattern {
    pub fn new(pattern: &str) -> Result<Self, PatternError> {
        let (before, after) = pattern
            .split_once("{version}")
            .ok_or_else(|| PatternError::NoPlaceholder(pattern.to_string()))?;
        // Whitespace inside the pattern matches any run of whitespace (indentation,
        // newlines), or none: `<artifactId>a</artifactId> <version>` finds a pom.xml that
        // writes both on one line as well as one that indents them on two.
        let literal = |s: &str| {
            s.split_whitespace()
                .map(regex::escape)
                .collect::<Vec<_>>()
                .join(r"\s*")
        };
        let edge = |s: &str, at_start: bool| {
            let ws = if at_start {
                s.starts_with(char::is_whitespace)
            } else {
                s.ends_with(char::is_whitespace)
            };
            if ws && !s.trim().is_empty() {
                r"\s+"
            } else {
                ""
            }
        };
        let source = format!(
            "{}{}{}{SEMVER}{}{}{}",
            edge(before, true),
            literal(before),
            edge(before, false),
            edge(after, true),
            literal(after),
            edge(after, false)
        );
        let regex =
            Regex::new(&source).map_err(|_| PatternError::NoPlaceholder(pattern.to_string()))?;
        Ok(VersionPattern {
            regex,
            pattern: pattern.to_string(),
        })
    }

    /// The version of the first match.
    pub fn read(&self, text: &str) -> Option<Version> {
        let caps = self.regex.captures(text)?;
        Version::parse(caps.name("version")?.as_str()).ok()
    }

    /// Where the file's version is written: the first match, and every other match that
    /// holds the same text. The same reference written twice (two containers of one image, a
    /// chart's version and its appVersion) is one version and moves together; a match at
    /// another version is something else written with the same text around it (a
    /// dependency's version) and stays. Empty when nothing matches.
    pub fn spans(&self, text: &str) -> Vec<std::ops::Range<usize>> {
        let mut first: Option<&str> = None;
        let mut out = Vec::new();
        for m in self
            .regex
            .captures_iter(text)
            .filter_map(|c| c.name("version"))
        {
            if *first.get_or_insert(m.as_str()) == m.as_str() {
                out.push(m.range());
            }
        }
        out
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).expect("test version")
    }

    #[test]
    fn reads_workspace_and_members() {
        let m = read_cargo(
            "[workspace]\nmembers = [\"crates/*\"]\n[workspace.package]\nversion = \"1.2.3\"\n",
        )
        .expect("ok");
        assert!(m.is_workspace);
        assert_eq!(m.members, vec!["crates/*"]);
        assert_eq!(m.workspace_version, Some(v("1.2.3")));
        let m = read_cargo("[package]\nname = \"a\"\nversion.workspace = true\n[dependencies]\nb = { path = \"../b\", version = \"1\" }\nc = \"1\"\nd = { package = \"dd\", path = \"../d\" }\n").expect("ok");
        assert!(m.inherits_version);
        assert_eq!(m.path_dependencies, vec!["b", "dd"]);
    }

    #[test]
    fn publish_settings_say_which_members_cargo_would_not_publish() {
        let root = read_cargo("[workspace]\n[workspace.package]\npublish = false\n").expect("ok");
        let reason = |text: &str| read_cargo(text).expect("ok").unpublished(Some(&root));
        let pkg = "[package]\nname = \"a\"\nversion = \"1.0.0\"\n";
        assert_eq!(reason(pkg), None);
        assert_eq!(reason(&format!("{pkg}publish = true\n")), None);
        assert_eq!(reason(&format!("{pkg}publish = [\"crates-io\"]\n")), None);
        assert_eq!(
            reason(&format!("{pkg}publish = false\n")),
            Some("publish = false")
        );
        assert_eq!(
            reason(&format!("{pkg}publish = []\n")),
            Some("publish = []")
        );
        assert_eq!(
            reason(&format!("{pkg}publish.workspace = true\n")),
            Some("publish = false"),
            "inherited from [workspace.package]"
        );
        assert_eq!(
            read_cargo(&format!("{pkg}publish.workspace = true\n"))
                .expect("ok")
                .unpublished(None),
            None
        );
        assert_eq!(
            reason("[package]\nname = \"a\"\n"),
            Some("no `version`, so Cargo does not publish it")
        );
        assert_eq!(
            reason("[package]\nname = \"a\"\nversion.workspace = true\n"),
            None
        );
    }

    #[test]
    fn malformed_manifest_has_a_line() {
        let err = read_cargo("[package]\nname = \"a\"\nversion = \n").expect_err("bad");
        assert_eq!(err.line, 3, "{err}");
        let err = read_cargo("[package]\nname = \"a\"\nversion = \"one\"\n").expect_err("bad");
        assert_eq!((err.line, err.column), (3, 11), "{err}");
    }

    #[test]
    fn edits_keep_comments_and_operators() {
        let text = "[package]\nname = \"a\" # the name\nversion = \"0.1.0\" # bumped by shipgate\n\n[dependencies]\nb = { path = \"../b\", version = \"=0.1.0\" }\nserde = \"1\"\n\n[target.'cfg(unix)'.dev-dependencies]\nc = { path = \"../c\", version = \"0.1.0\" }\n";
        let deps: BTreeMap<String, Version> =
            [("b".to_string(), v("0.2.0")), ("c".to_string(), v("0.2.0"))].into();
        let out = edit_cargo(
            text,
            &CargoEdit {
                package_version: Some(&v("0.2.0")),
                workspace_version: None,
                dependencies: &deps,
            },
        )
        .expect("ok");
        assert_eq!(
            out,
            text.replace("version = \"0.1.0\" #", "version = \"0.2.0\" #")
                .replace("\"=0.1.0\"", "\"=0.2.0\"")
                .replace("version = \"0.1.0\" }", "version = \"0.2.0\" }")
        );
    }

    #[test]
    fn lock_edits_only_local_packages() {
        let lock = "version = 4\n\n[[package]]\nname = \"a\"\nversion = \"0.1.0\"\ndependencies = [\n \"serde\",\n]\n\n[[package]]\nname = \"serde\"\nversion = \"0.1.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n";
        let versions: BTreeMap<String, Version> = [
            ("a".to_string(), v("0.2.0")),
            ("serde".to_string(), v("9.0.0")),
        ]
        .into();
        let out = edit_lock(lock, &versions).expect("ok");
        assert_eq!(
            out,
            lock.replacen("version = \"0.1.0\"", "version = \"0.2.0\"", 1)
        );
    }

    #[test]
    fn patterns_find_and_replace() {
        let pom = "<parent><version>3.2.0</version></parent>\n<artifactId>shop</artifactId>\n    <version>1.4.0</version>\n";
        let p = VersionPattern::new("<artifactId>shop</artifactId> <version>{version}</version>")
            .expect("ok");
        assert_eq!(p.read(pom), Some(v("1.4.0")));
        // on one line, as some poms write it: whitespace in the pattern may be none
        assert_eq!(
            p.read("<artifactId>shop</artifactId><version>1.4.0</version>"),
            Some(v("1.4.0"))
        );
        assert_eq!(
            p.read("<artifactId>shops</artifactId><version>1.4.0</version>"),
            None
        );
        let at = pom.find("1.4.0").expect("in the text");
        assert_eq!(
            p.spans(pom),
            vec![std::ops::Range {
                start: at,
                end: at + 5
            }]
        );
        assert!(p.spans("nothing").is_empty());
        let json = VersionPattern::new("\"version\": \"{version}\"").expect("ok");
        assert_eq!(
            json.read("{\n  \"version\": \"0.3.0-beta.1\"\n}"),
            Some(v("0.3.0-beta.1"))
        );
        assert!(matches!(
            VersionPattern::new("version"),
            Err(PatternError::NoPlaceholder(_))
        ));
    }
}
