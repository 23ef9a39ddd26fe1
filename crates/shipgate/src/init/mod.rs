//! What `shipgate init` writes: the manifests it finds (Cargo.toml, pom.xml, package.json,
//! VERSION), and the files of a whole pipeline made from them (shipgate.toml, its schema,
//! an environments/ skeleton, three workflows). Templates are real files beside this
//! module, so CI checks the workflows as they are shipped. Nothing found in a manifest is
//! pasted into a file unchecked: names and versions are validated, TOML strings are
//! written by the TOML serializer.

use std::path::{Component, Path, PathBuf};

const SHIPGATE_TOML: &str = include_str!("shipgate.toml");
const CI_YML: &str = include_str!("workflows/ci.yml");
const RELEASE_YML: &str = include_str!("workflows/release.yml");
const DEPLOY_YML: &str = include_str!("workflows/deploy.yml");
const BASE_TOML: &str = include_str!("environments/base.toml");
const FIRST_TOML: &str = include_str!("environments/first.toml");
const MIDDLE_TOML: &str = include_str!("environments/middle.toml");
const LAST_TOML: &str = include_str!("environments/last.toml");
const ENV_SCHEMA: &str = include_str!("environments/schema.json");

/// A manifest found at the repository's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Its path, relative to the root (`pom.xml`).
    pub path: &'static str,
    /// The version it holds, when one was found.
    pub version: Option<semver::Version>,
    /// The project's name, when one was found and is usable as a service name.
    pub name: Option<String>,
    /// The `[[release.files]]` pattern that finds its version; None for Cargo.toml (read
    /// natively) or when no pattern would find it.
    pub pattern: Option<String>,
    /// A Cargo.toml `shipgate release` reads itself: a workspace (its members hold the
    /// versions) or a package with a version.
    pub native: bool,
}

/// Reads the manifests at `root` (Cargo.toml, pom.xml, package.json, VERSION), in that
/// order. A file that cannot be read or parsed is still listed, without a version.
pub fn detect(root: &Path) -> Vec<Manifest> {
    let read = |name: &str| std::fs::read_to_string(root.join(name)).ok();
    let mut found = Vec::new();
    if let Some(text) = read("Cargo.toml") {
        found.push(cargo(&text));
    }
    if let Some(text) = read("pom.xml") {
        found.push(pom(&text));
    }
    if let Some(text) = read("package.json") {
        found.push(package_json(&text));
    }
    if let Some(text) = read("VERSION") {
        let version = semver::Version::parse(text.trim()).ok();
        found.push(Manifest {
            path: "VERSION",
            pattern: version.as_ref().map(|_| "{version}".to_string()),
            version,
            name: None,
            native: false,
        });
    }
    found
}

fn cargo(text: &str) -> Manifest {
    let doc = text.parse::<toml::Table>().ok();
    let get = |path: &[&str]| {
        let mut v = doc.as_ref().map(|d| d as &toml::Table)?;
        let (last, tables) = path.split_last()?;
        for key in tables {
            v = v.get(*key)?.as_table()?;
        }
        v.get(*last)?.as_str().map(str::to_string)
    };
    let version = get(&["workspace", "package", "version"])
        .or_else(|| get(&["package", "version"]))
        .and_then(|v| semver::Version::parse(&v).ok());
    let workspace = doc.as_ref().is_some_and(|d| d.contains_key("workspace"));
    Manifest {
        path: "Cargo.toml",
        native: workspace || version.is_some(),
        version,
        name: get(&["package", "name"]).and_then(|n| service_name(&n)),
        pattern: None,
    }
}

/// The project's own `<artifactId>` and `<version>` (the `<parent>`'s are skipped): the
/// pattern anchors on the artifactId so that the parent's version is never touched.
fn pom(text: &str) -> Manifest {
    let project = match (text.find("<parent>"), text.find("</parent>")) {
        (Some(start), Some(end)) if start < end => {
            format!("{}{}", &text[..start], &text[end + "</parent>".len()..])
        }
        _ => text.to_string(),
    };
    let tag = |s: &str, name: &str| -> Option<(usize, String)> {
        let open = format!("<{name}>");
        let start = s.find(&open)? + open.len();
        let len = s[start..].find(&format!("</{name}>"))?;
        Some((
            start + len + name.len() + 3,
            s[start..start + len].trim().to_string(),
        ))
    };
    let mut out = Manifest {
        path: "pom.xml",
        version: None,
        name: None,
        pattern: None,
        native: false,
    };
    let Some((after, artifact)) = tag(&project, "artifactId") else {
        return out;
    };
    let artifact_ok = !artifact.is_empty()
        && artifact
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !artifact_ok {
        return out;
    }
    out.name = service_name(&artifact);
    let rest = project[after..].trim_start();
    if let Some(version) = rest
        .strip_prefix("<version>")
        .and_then(|r| r.split_once("</version>"))
        .map(|(v, _)| v.trim())
        .and_then(|v| semver::Version::parse(v).ok())
    {
        out.version = Some(version);
        out.pattern = Some(format!(
            "<artifactId>{artifact}</artifactId> <version>{{version}}</version>"
        ));
    }
    out
}

fn package_json(text: &str) -> Manifest {
    let value: Option<serde_json::Value> = serde_json::from_str(text).ok();
    let field = |k: &str| {
        value
            .as_ref()
            .and_then(|v| v.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let version = field("version").and_then(|v| semver::Version::parse(&v).ok());
    // The pattern finds the first `"version": "X.Y.Z"`; written as npm writes it.
    let pattern = version
        .as_ref()
        .filter(|v| text.contains(&format!("\"version\": \"{v}\"")))
        .map(|_| "\"version\": \"{version}\"".to_string());
    Manifest {
        path: "package.json",
        version,
        name: field("name")
            .map(|n| n.rsplit('/').next().unwrap_or_default().to_string())
            .and_then(|n| service_name(&n)),
        pattern,
        native: false,
    }
}

/// `name` as a DNS label (lower case, `[a-z0-9-]`, at most 63), or None when nothing of it
/// is left.
fn service_name(name: &str) -> Option<String> {
    let mut out = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out: String = out.chars().take(63).collect();
    let out = out.trim_matches('-').to_string();
    (!out.is_empty()).then_some(out)
}

/// One file `init` would write, relative to the repository root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub path: PathBuf,
    pub contents: String,
}

/// What the files are made from.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    pub manifests: &'a [Manifest],
    /// The environments' directory, relative to the root (checked by [`check_directory`]).
    pub directory: &'a Path,
    /// The environments, in promotion order (checked names).
    pub order: &'a [String],
    /// The branch promotions commit to.
    pub branch: &'a str,
}

/// The version the skeleton starts from: the first manifest's, else 0.1.0.
pub fn start_version(manifests: &[Manifest]) -> semver::Version {
    manifests
        .iter()
        .find_map(|m| m.version.clone())
        .unwrap_or_else(|| semver::Version::new(0, 1, 0))
}

/// Every file of a pipeline, in the order they are written (shipgate.toml last, so a run
/// killed halfway is not mistaken for a finished one by a reader of shipgate.toml).
pub fn files(inputs: &Inputs<'_>) -> Vec<File> {
    let name = inputs
        .manifests
        .iter()
        .find_map(|m| m.name.clone())
        .unwrap_or_else(|| "app".to_string());
    let version = start_version(inputs.manifests).to_string();
    let mut out = Vec::new();
    let has_version = inputs
        .manifests
        .iter()
        .any(|m| m.native || m.pattern.is_some());
    let mut entries = String::new();
    for m in inputs.manifests {
        let Some(pattern) = &m.pattern else { continue };
        entries.push_str(&format!(
            "\n# The version in {path}.\n[[release.files]]\npath = {}\npattern = {}\n",
            toml_string(m.path),
            toml_string(pattern),
            path = m.path,
        ));
    }
    if !has_version {
        // Nothing holds a version yet: a VERSION file does, so the first release has one to
        // start from.
        out.push(File {
            path: PathBuf::from("VERSION"),
            contents: format!("{version}\n"),
        });
        entries.push_str(
            "\n# The version in VERSION (no manifest held one).\n[[release.files]]\npath = \"VERSION\"\npattern = \"{version}\"\n",
        );
    }
    let dir = inputs.directory;
    out.push(File {
        path: dir.join("schema.json"),
        contents: ENV_SCHEMA.to_string(),
    });
    out.push(File {
        path: dir.join("base.toml"),
        contents: BASE_TOML
            .replace("@NAME@", &name)
            .replace("@VERSION@", &version),
    });
    let n = inputs.order.len();
    for (i, env) in inputs.order.iter().enumerate() {
        let template = if i + 1 == n {
            LAST_TOML
        } else if i + 2 == n {
            MIDDLE_TOML
        } else {
            FIRST_TOML
        };
        out.push(File {
            path: dir.join(format!("{env}.toml")),
            contents: template.replace("@ENV@", env),
        });
    }
    for (file, text) in [
        ("ci.yml", CI_YML),
        ("release.yml", RELEASE_YML),
        ("deploy.yml", DEPLOY_YML),
    ] {
        out.push(File {
            path: Path::new(".github/workflows").join(file),
            contents: text.to_string(),
        });
    }
    out.push(File {
        path: PathBuf::from(shipgate_settings::SCHEMA_FILE),
        contents: shipgate_settings::json_schema_text(),
    });
    out.push(File {
        path: PathBuf::from("shipgate.toml"),
        contents: SHIPGATE_TOML
            .replace("@RELEASE_FILES@", &entries)
            .replace("@NAME@", &name)
            .replace("@BRANCH@", inputs.branch),
    });
    out
}

/// `text` as a TOML string literal, escaped by the TOML serializer.
fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// Why an environments directory is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("[environments] directory `{0}` is outside the repository")]
pub struct OutsideRepo(pub String);

/// `dir` as a path inside `root`: relative, no `..`, and no existing part of it a link
/// out of the repository.
pub fn check_directory(root: &Path, dir: &Path) -> Result<PathBuf, OutsideRepo> {
    let shown = || OutsideRepo(dir.display().to_string());
    let mut clean = PathBuf::new();
    for part in dir.components() {
        match part {
            Component::Normal(p) => clean.push(p),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(shown());
            }
        }
    }
    if clean.as_os_str().is_empty() {
        return Err(shown());
    }
    let real_root = root.canonicalize().map_err(|_| shown())?;
    let mut at = real_root.clone();
    for part in clean.components() {
        at.push(part);
        match at.canonicalize() {
            Ok(real) if real.starts_with(&real_root) => at = real,
            Ok(_) => return Err(shown()),
            Err(_) if at.symlink_metadata().is_ok() => return Err(shown()),
            Err(_) => break,
        }
    }
    Ok(clean)
}

/// The branch HEAD names (`.git/HEAD`), when it is a plain branch name; else `main`.
pub fn current_branch(root: &Path) -> String {
    std::fs::read_to_string(root.join(".git/HEAD"))
        .ok()
        .and_then(|head| {
            head.trim()
                .strip_prefix("ref: refs/heads/")
                .map(str::to_string)
        })
        .filter(|b| {
            !b.is_empty()
                && !b.starts_with('-')
                && !b.contains("..")
                && b.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.'))
        })
        .unwrap_or_else(|| "main".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_poms_project_version_not_its_parents() {
        let m = pom(
            "<project>\n  <parent>\n    <groupId>org.springframework.boot</groupId>\n    <artifactId>spring-boot-starter-parent</artifactId>\n    <version>3.3.4</version>\n  </parent>\n  <groupId>com.example</groupId>\n  <artifactId>orders</artifactId>\n  <version>1.3.0-SNAPSHOT</version>\n</project>\n",
        );
        assert_eq!(
            m.version,
            Some(semver::Version::parse("1.3.0-SNAPSHOT").expect("v"))
        );
        assert_eq!(m.name.as_deref(), Some("orders"));
        assert_eq!(
            m.pattern.as_deref(),
            Some("<artifactId>orders</artifactId> <version>{version}</version>")
        );
        let odd = pom("<project><artifactId>a\"b</artifactId><version>1.0.0</version></project>");
        assert_eq!((odd.pattern, odd.name), (None, None));
    }

    #[test]
    fn names_become_dns_labels() {
        assert_eq!(
            service_name("@scope/My_App").as_deref(),
            Some("scope-my-app")
        );
        assert_eq!(service_name("$(id)").as_deref(), Some("id"));
        assert_eq!(service_name("../.."), None);
    }

    #[test]
    fn strings_are_escaped_by_toml() {
        let parsed: toml::Table =
            toml::from_str(&format!("k = {}", toml_string("x\"'\n"))).expect("valid TOML");
        assert_eq!(parsed["k"].as_str(), Some("x\"'\n"));
    }

    #[test]
    fn directories_outside_the_repository_are_refused() {
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path();
        for bad in ["../x", "/etc", "a/../../b", ".", ""] {
            assert!(check_directory(root, Path::new(bad)).is_err(), "{bad}");
        }
        assert_eq!(
            check_directory(root, Path::new("./deploy/envs")),
            Ok(PathBuf::from("deploy/envs"))
        );
        std::os::unix::fs::symlink("/tmp", root.join("out")).expect("link");
        assert!(check_directory(root, Path::new("out/envs")).is_err());
    }
}
