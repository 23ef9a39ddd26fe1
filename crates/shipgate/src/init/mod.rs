//! What `shipgate init` writes: the manifests it finds (Cargo.toml, pom.xml, package.json,
//! Chart.yaml, VERSION), the environments the repository configures ([`environments`]) and
//! the tags it releases with ([`tags`]), and the files of a whole pipeline made from them
//! (shipgate.toml, its schema, an environments/ skeleton when there is no configuration to
//! point at, three workflows). Templates are real files beside this module, so CI checks
//! the workflows as they are shipped. Nothing found in a manifest is pasted into a file
//! unchecked: names and versions are validated, TOML strings are written by the TOML
//! serializer.

pub mod environments;
pub mod tags;

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use shipgate_config::Layout;
use shipgate_version::files::{FileError, Format};

const SHIPGATE_TOML: &str = include_str!("shipgate.toml");
const CI_YML: &str = include_str!("workflows/ci.yml");
const RELEASE_YML: &str = include_str!("workflows/release.yml");
const DEPLOY_YML: &str = include_str!("workflows/deploy.yml");
const BASE_TOML: &str = include_str!("environments/base.toml");
const FIRST_TOML: &str = include_str!("environments/first.toml");
const MIDDLE_TOML: &str = include_str!("environments/middle.toml");
const LAST_TOML: &str = include_str!("environments/last.toml");
const ENV_SCHEMA: &str = include_str!("environments/schema.json");
const ARGO_ROLLOUTS_YAML: &str = include_str!("engines/argo-rollouts.yaml");
const FLAGGER_YAML: &str = include_str!("engines/flagger.yaml");
const SERVE_YAML: &str = include_str!("engines/serve.yaml");
/// `--grafana`: the delivery dashboard over `shipgate metrics --format prometheus`.
const GRAFANA_DASHBOARD: &str = include_str!("grafana/shipgate-delivery.json");

/// The traffic engines init writes manifests for (`--argo-rollouts`, `--flagger`), in
/// `deploy/shipgate/`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Engines {
    pub argo_rollouts: bool,
    pub flagger: bool,
    /// The Kubernetes namespace of the service (and of shipgate's Deployment).
    pub namespace: String,
    /// The environment the manifests' analysis names (the last of `order`).
    pub env: String,
    /// Prometheus's address, for Flagger's own MetricTemplate.
    pub prometheus: String,
}

/// The image the manifests run: this shipgate's release.
pub fn image() -> String {
    format!("ghcr.io/shipgate/shipgate:{}", env!("CARGO_PKG_VERSION"))
}

/// The manifests of `engines` for the service `name`, each a file of `deploy/shipgate/`.
pub fn engine_files(engines: &Engines, name: &str) -> Vec<File> {
    if !engines.argo_rollouts && !engines.flagger {
        return Vec::new();
    }
    let fill = |t: &str| {
        t.replace("@NAME@", name)
            .replace("@NAMESPACE@", &engines.namespace)
            .replace("@ENV@", &engines.env)
            .replace("@IMAGE@", &image())
            // A URL from shipgate.toml: a JSON string is a YAML double-quoted scalar.
            .replace(
                "@PROMETHEUS@",
                &serde_json::Value::from(engines.prometheus.as_str()).to_string(),
            )
    };
    let mut out = Vec::new();
    if engines.argo_rollouts {
        out.push(File {
            path: PathBuf::from("deploy/shipgate/argo-rollouts.yaml"),
            contents: fill(ARGO_ROLLOUTS_YAML),
        });
    }
    if engines.flagger {
        out.push(File {
            path: PathBuf::from("deploy/shipgate/flagger.yaml"),
            contents: fill(FLAGGER_YAML),
        });
    }
    // Argo Rollouts' Web metrics carry the bearer token; Flagger's webhooks carry none.
    let serve = if engines.argo_rollouts {
        SERVE_YAML.to_string()
    } else {
        SERVE_YAML
            .replace("            - --token-env\n            - SHIPGATE_TOKEN\n", "")
            .replace(
                "          env:\n            - name: SHIPGATE_TOKEN\n              valueFrom:\n                secretKeyRef:\n                  name: shipgate-@NAME@\n                  key: token\n",
                "",
            )
            .replace(
                "#   kubectl -n @NAMESPACE@ create secret generic shipgate-@NAME@ --from-literal=token=\"$(openssl rand -hex 32)\"\n",
                "# No token: Flagger's webhooks send none; let only Flagger reach it (a NetworkPolicy).\n",
            )
    };
    out.push(File {
        path: PathBuf::from("deploy/shipgate/serve.yaml"),
        contents: fill(&serve),
    });
    out
}

/// A manifest found at the repository's root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Its path, relative to the root, `/`-separated (`pom.xml`).
    pub path: String,
    /// The version it holds, when one was found.
    pub version: Option<semver::Version>,
    /// The project's name, when one was found and is usable as a service name.
    pub name: Option<String>,
    /// Its `[[release.files]]` entry, checked to find `version` in the file as it is; None
    /// for Cargo.toml (read natively) or when no entry would find it.
    pub entry: Option<Entry>,
    /// A Cargo.toml `shipgate release` reads itself: a workspace (its members hold the
    /// versions) or a package with a version.
    pub native: bool,
    /// Why it gets no entry although it looks like it holds a version, and what to do.
    pub note: Option<String>,
}

/// A `[[release.files]]` entry: the file's own format (known by its name) or a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub pattern: Option<String>,
}

impl Manifest {
    fn new(path: &str) -> Manifest {
        Manifest {
            path: path.to_string(),
            version: None,
            name: None,
            entry: None,
            native: false,
            note: None,
        }
    }

    /// This manifest with the entry `pattern` (None: the format its name says), when that
    /// entry finds `version` in `text` as a release would; else with a note saying why not.
    fn with_entry(mut self, text: &str, pattern: Option<String>) -> Manifest {
        let found = Format::of(&self.path, pattern.as_deref()).and_then(|format| format.find(text));
        match found {
            Ok(found)
                if found
                    .iter()
                    .any(|f| Some(&f.version) == self.version.as_ref()) =>
            {
                self.version = found.first().map(|f| f.version.clone());
                self.entry = Some(Entry { pattern });
            }
            Ok(found) => {
                let problem = format!(
                    "{}: the pattern `{}` finds {}, not the project's version",
                    self.path,
                    pattern.as_deref().unwrap_or_default(),
                    found
                        .first()
                        .map(|f| f.version.to_string())
                        .unwrap_or_default()
                );
                self.note = Some(no_entry(
                    &problem,
                    "write a pattern that finds it",
                    &self.path,
                    None,
                ));
            }
            Err(e) => {
                self.version = None;
                let problem = match e {
                    FileError::NotSemver { .. }
                    | FileError::Json { .. }
                    | FileError::Yaml { .. } => {
                        format!("{}:{e}", self.path)
                    }
                    _ => format!("{}: {e}", self.path),
                };
                self.note = Some(no_entry(
                    &problem,
                    &e.hint(),
                    &self.path,
                    pattern.as_deref(),
                ));
            }
        }
        self
    }
}

/// A note for a manifest that gets no `[[release.files]]` entry: what is wrong, what to do,
/// and the entry to add then (init never rewrites the shipgate.toml it wrote).
fn no_entry(problem: &str, hint: &str, path: &str, pattern: Option<&str>) -> String {
    let pattern = pattern
        .map(|p| format!(", pattern = {}", toml_string(p)))
        .unwrap_or_default();
    format!(
        "{problem}, so shipgate.toml has no [[release.files]] entry for it: {hint}; then add one to shipgate.toml: [[release.files]] path = {}{pattern}",
        toml_string(path)
    )
}

/// Reads the manifests at `root` (Cargo.toml, pom.xml, gradle.properties, build.gradle,
/// build.gradle.kts, package.json, package-lock.json, npm-shrinkwrap.json, the Helm charts'
/// Chart.yaml below it ([`environments::charts`]), VERSION), in that order. A file that
/// cannot be read or parsed is still listed, without a version and with a note.
pub fn detect(root: &Path) -> Vec<Manifest> {
    let read = |name: &str| std::fs::read_to_string(root.join(name)).ok();
    let mut found = Vec::new();
    if let Some(text) = read("Cargo.toml") {
        found.push(cargo(&text));
    }
    if let Some(text) = read("pom.xml") {
        found.push(pom(&text));
    }
    let gradle_name = ["settings.gradle.kts", "settings.gradle"]
        .iter()
        .find_map(|f| read(f))
        .and_then(|text| gradle_project_name(&text));
    if let Some(text) = read("gradle.properties")
        && !matches!(
            Format::GradleProperties.find(&text),
            Err(FileError::NotFound { .. })
        )
    {
        found.push(version_file(
            "gradle.properties",
            &text,
            gradle_name.clone(),
        ));
    }
    // A build script without a literal version is fine when gradle.properties holds it.
    let in_properties = found
        .iter()
        .any(|m| m.path == "gradle.properties" && m.entry.is_some());
    for script in ["build.gradle", "build.gradle.kts"] {
        if let Some(text) = read(script) {
            let mut m = version_file(script, &text, gradle_name.clone());
            let no_literal = matches!(
                Format::GradleScript.find(&text),
                Err(FileError::NotFound { .. })
            );
            if in_properties && no_literal {
                m.note = None;
            }
            found.push(m);
        }
    }
    if let Some(text) = read("package.json") {
        found.push(package_json(&text));
    }
    for lock in ["package-lock.json", "npm-shrinkwrap.json"] {
        if let Some(text) = read(lock) {
            found.push(version_file(lock, &text, None));
        }
    }
    for chart in environments::charts(root) {
        let path = chart.join("Chart.yaml");
        if let Some(text) = read(&path.to_string_lossy()) {
            found.push(helm_chart(
                &path.to_string_lossy().replace('\\', "/"),
                &text,
            ));
        }
    }
    if let Some(text) = read("VERSION") {
        let version = semver::Version::parse(text.trim()).ok();
        let mut m = Manifest::new("VERSION");
        m.entry = version.as_ref().map(|_| Entry {
            pattern: Some("{version}".to_string()),
        });
        m.version = version;
        found.push(m);
    }
    found
}

/// A Helm chart's Chart.yaml: an entry when its `version` is its `appVersion` (the chart is
/// released with the application, as podinfo's is); a chart versioned on its own line (the
/// two differ, or the appVersion is not semver, as `helm create` writes `"1.0"`) gets a note
/// instead, since a release would move its version to the application's.
fn helm_chart(path: &str, text: &str) -> Manifest {
    let own_line = match Format::HelmChart.find(text) {
        Ok(found) => match found.as_slice() {
            [chart, app] if chart.version != app.version => Some(format!(
                "its version {} is not its appVersion {}",
                chart.version, app.version
            )),
            _ => None,
        },
        Err(FileError::NotSemver {
            line,
            column,
            value,
        }) => Some(format!(
            "at {line}:{column}, `{}` is not a semantic version",
            value.escape_debug()
        )),
        Err(_) => None,
    };
    // The chart's top-level `name:` (never indented: a dependency's is), as a service name.
    let name = text.lines().find_map(|line| {
        let value = line.strip_prefix("name:")?.split(" #").next()?.trim();
        service_name(value.trim_matches(|c| c == '"' || c == '\''))
    });
    let Some(why) = own_line else {
        return version_file(path, text, name);
    };
    let mut m = Manifest::new(path);
    m.name = name;
    m.note = Some(no_entry(
        &format!("{path}: the chart is versioned on its own line ({why})"),
        "to release the chart with the application, set its version and appVersion to the application's version",
        path,
        None,
    ));
    m
}

/// A file whose format shipgate knows by its name: its entry is the file's own format.
fn version_file(path: &str, text: &str, name: Option<String>) -> Manifest {
    let version = Format::by_name(path)
        .and_then(|f| f.find(text).ok())
        .and_then(|found| found.first().map(|f| f.version.clone()));
    let mut m = Manifest::new(path);
    m.version = version;
    m.name = name;
    m.with_entry(text, None)
}

/// `rootProject.name = "orders"` of a settings.gradle(.kts), as a service name.
fn gradle_project_name(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let rest = line.trim_start().strip_prefix("rootProject.name")?;
        let value = rest.trim_start().strip_prefix('=')?.trim();
        let value = value.strip_suffix(';').unwrap_or(value).trim();
        let quoted = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))?;
        service_name(quoted)
    })
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
    let mut m = Manifest::new("Cargo.toml");
    m.native = workspace || version.is_some();
    m.version = version;
    m.name = get(&["package", "name"]).and_then(|n| service_name(&n));
    m
}

/// The project's own `<artifactId>` and `<version>` (the `<parent>`'s are skipped): the
/// pattern anchors on the artifactId so that the parent's version is never touched, and is
/// checked to find that version in the file.
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
    let mut out = Manifest::new("pom.xml");
    let by_hand = |mut out: Manifest, problem: String| {
        out.note = Some(no_entry(
            &format!("pom.xml: {problem}"),
            "find the project's own `<version>`",
            "pom.xml",
            Some("<artifactId>NAME</artifactId> <version>{version}</version>"),
        ));
        out
    };
    let Some((after, artifact)) = tag(&project, "artifactId") else {
        return by_hand(out, "no project `<artifactId>`".into());
    };
    let artifact_ok = !artifact.is_empty()
        && artifact
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !artifact_ok {
        return by_hand(
            out,
            format!(
                "the project's `<artifactId>` `{}` is not a plain name",
                artifact.escape_debug()
            ),
        );
    }
    out.name = service_name(&artifact);
    let pattern = format!("<artifactId>{artifact}</artifactId> <version>{{version}}</version>");
    let rest = project[after..].trim_start();
    let Some(written) = rest
        .strip_prefix("<version>")
        .and_then(|r| r.split_once("</version>"))
        .map(|(v, _)| v.trim().to_string())
    else {
        return by_hand(
            out,
            format!("no `<version>` right after `<artifactId>{artifact}</artifactId>`"),
        );
    };
    let Ok(version) = semver::Version::parse(&written) else {
        out.note = Some(no_entry(
            &format!(
                "pom.xml: the project's version `{}` is not a semantic version (X.Y.Z)",
                written.escape_debug()
            ),
            &format!(
                "write it as one (e.g. `{}`)",
                shipgate_version::files::padded(&written)
                    .map_or("1.0.0".to_string(), |v| v.to_string())
            ),
            "pom.xml",
            Some(&pattern),
        ));
        return out;
    };
    out.version = Some(version);
    out.with_entry(text, Some(pattern))
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
    let mut m = Manifest::new("package.json");
    m.version = field("version").and_then(|v| semver::Version::parse(&v).ok());
    m.name = field("name")
        .map(|n| n.rsplit('/').next().unwrap_or_default().to_string())
        .and_then(|n| service_name(&n));
    m.with_entry(text, None)
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

/// Where the environments' configuration is, and so what init writes for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Environments {
    /// None found: a TOML skeleton, `<directory>/base.toml` and one overlay per
    /// environment of `order` (the directory checked by [`check_directory`]).
    Skeleton {
        directory: PathBuf,
        order: Vec<String>,
    },
    /// The repository's own (Spring Boot's, a Helm chart's): shipgate.toml points at it and
    /// nothing is written beside it.
    Found(environments::Found),
    /// A shipgate.toml that init keeps says `layout` is `spring` or `helm`: its files are the
    /// repository's own, and nothing is written beside them.
    Kept { layout: Layout, directory: PathBuf },
}

impl Environments {
    /// From the `[environments]` of a shipgate.toml that init keeps: a skeleton for the
    /// overlays layout (checked to stay inside the repository), nothing otherwise.
    pub fn from_settings(
        root: &Path,
        settings: &shipgate_config::EnvironmentsSettings,
    ) -> Result<Environments, OutsideRepo> {
        Ok(match settings.layout {
            Layout::Overlays => Environments::Skeleton {
                directory: check_directory(root, &settings.directory)?,
                order: settings.order.clone(),
            },
            layout => Environments::Kept {
                layout,
                directory: settings.directory.clone(),
            },
        })
    }
}

/// What the files are made from.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    pub manifests: &'a [Manifest],
    pub environments: &'a Environments,
    /// The repository's release tags, when it has some.
    pub tags: Option<&'a tags::Scheme>,
    /// The branch promotions commit to.
    pub branch: &'a str,
    /// The traffic engines to write manifests for.
    pub engines: &'a Engines,
    /// Whether to write the delivery dashboard (`--grafana`).
    pub grafana: bool,
}

/// The version the skeleton starts from: the first manifest's, else the newest release
/// tag's, else 0.1.0.
pub fn start_version(manifests: &[Manifest], tags: Option<&tags::Scheme>) -> semver::Version {
    manifests
        .iter()
        .find_map(|m| m.version.clone())
        .or_else(|| tags.map(|t| t.version.clone()))
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
    let version = start_version(inputs.manifests, inputs.tags).to_string();
    let mut out = Vec::new();
    let has_version = inputs
        .manifests
        .iter()
        .any(|m| m.native || m.entry.is_some());
    // A project on -SNAPSHOT versions (Maven's, Gradle's way) goes back to one after each
    // release; npm's files and a chart stay at the release.
    let snapshots = inputs.manifests.iter().any(|m| {
        m.entry.is_some()
            && m.version
                .as_ref()
                .is_some_and(shipgate_version::bump::is_snapshot)
    });
    let mut entries = String::new();
    for m in inputs.manifests {
        let Some(entry) = &m.entry else { continue };
        let (why, pattern) = match &entry.pattern {
            Some(p) => (String::new(), format!("pattern = {}\n", toml_string(p))),
            None => (
                " (shipgate knows its format by its name)".to_string(),
                String::new(),
            ),
        };
        let stays_at_release = matches!(
            Format::by_name(&m.path),
            Some(Format::NpmPackage | Format::NpmLock | Format::HelmChart)
        );
        let stays = if snapshots && stays_at_release {
            "next-snapshot = false # stays at the release\n"
        } else {
            ""
        };
        entries.push_str(&format!(
            "\n# The version in {path}{why}.\n[[release.files]]\npath = {}\n{pattern}{stays}",
            toml_string(&m.path),
            path = m.path,
        ));
    }
    if !has_version && inputs.tags.is_none() {
        // Nothing holds a version yet, and no tag says which was released last: a VERSION
        // file does, so the first release has one to start from.
        out.push(File {
            path: PathBuf::from("VERSION"),
            contents: format!("{version}\n"),
        });
        entries.push_str(
            "\n# The version in VERSION (no manifest held one).\n[[release.files]]\npath = \"VERSION\"\npattern = \"{version}\"\n",
        );
    }
    let order = match inputs.environments {
        Environments::Skeleton { directory, order } => {
            out.extend(skeleton(directory, order, &name, &version));
            order.clone()
        }
        Environments::Found(found) => found.order.clone(),
        Environments::Kept { .. } => Vec::new(),
    };
    out.extend(engine_files(inputs.engines, &name));
    if inputs.grafana {
        out.push(File {
            path: PathBuf::from("grafana/shipgate-delivery.json"),
            contents: GRAFANA_DASHBOARD.to_string(),
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
    // With `Kept`, shipgate.toml exists and is kept: listed, never written.
    out.push(File {
        path: PathBuf::from("shipgate.toml"),
        contents: shipgate_toml(inputs, &entries, snapshots, &order, &name),
    });
    out
}

/// The TOML skeleton of the overlays layout: schema.json, base.toml, one overlay per
/// environment.
fn skeleton(dir: &Path, order: &[String], name: &str, version: &str) -> Vec<File> {
    let mut out = vec![
        File {
            path: dir.join("schema.json"),
            contents: ENV_SCHEMA.to_string(),
        },
        File {
            path: dir.join("base.toml"),
            contents: BASE_TOML
                .replace("@NAME@", name)
                .replace("@VERSION@", version),
        },
    ];
    let n = order.len();
    for (i, env) in order.iter().enumerate() {
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
    out
}

/// shipgate.toml: the template with the release files, the tag format, the environments
/// and the promotion sections of `order`'s first and last environments.
fn shipgate_toml(
    inputs: &Inputs<'_>,
    entries: &str,
    snapshots: bool,
    order: &[String],
    name: &str,
) -> String {
    let (tag_comment, tag_format) = match inputs.tags {
        Some(t) => (
            comment(&format!(
                "The format of the repository's tags: {}.",
                t.why()
            )),
            t.format,
        ),
        None => (String::new(), "v{version}"),
    };
    let list = |items: &[String]| {
        let items: Vec<String> = items.iter().map(|i| toml_string(i)).collect();
        format!("[{}]", items.join(", "))
    };
    let (environments, written, where_key, target) = match inputs.environments {
        Environments::Found(found) => (
            format!(
                "{}[environments]\nlayout = \"{}\"\ndirectory = {}\norder = {}\n{}",
                found_comment(found),
                found.layout.as_str(),
                toml_string(&found.directory),
                list(&found.order),
                names_line(&found.names),
            ),
            "where the GitOps engine reads it ([[promote.target]], at the end)",
            "",
            target_example(found, name),
        ),
        Environments::Skeleton { directory, order } => (
            format!(
                "# The environments, in promotion order. Each has <directory>/<env>.toml on top of\n# base.toml, checked by `shipgate config validate` against <directory>/schema.json.\n[environments]\norder = {}\ndirectory = {}\n",
                list(order),
                toml_string(&directory.to_string_lossy().replace('\\', "/")),
            ),
            "at version-key of the environment's file",
            "version-key = \"service.image.tag\"\n",
            String::new(),
        ),
        Environments::Kept { .. } => (String::new(), "", "", String::new()),
    };
    let (first, last, verified) = match order {
        [first, .., last] => (
            format!(
                "\n# {first} verifies nothing: being promoted there is enough for the next.\n[promote.env.{first}]\nverification = \"none\"\n"
            ),
            last.as_str(),
            format!("verified in {}", order[order.len() - 2]),
        ),
        [only] => (String::new(), only.as_str(), "verified".to_string()),
        [] => (String::new(), "prod", "verified".to_string()),
    };
    let last_comment = comment(&format!(
        "{last}: {verified} two hours ago, one approval (`shipgate approve`), no promotions over the weekend (unless `--override-freeze --reason …`)."
    ));
    let mut text = SHIPGATE_TOML
        .replace("@TAG_COMMENT@", &tag_comment)
        .replace("@TAG_FORMAT@", &toml_string(tag_format))
        .replace("@NEXT_SNAPSHOT@", if snapshots { "" } else { "# " })
        .replace("@RELEASE_FILES@", entries)
        .replace("@ENVIRONMENTS@", &environments)
        .replace("@PROMOTE_INTRO@", &comment(&format!(
            "`shipgate promote VERSION --to ENV`: the version is written {written}, through the gates below, and recorded in the ledger (refs/shipgate/ledger). An environment needs a passing canary or `shipgate verify VERSION --env ENV --result pass` unless its verification is \"none\"."
        )))
        .replace("@PROMOTE_WHERE@", where_key)
        .replace("@PROMOTE_FIRST@", &first)
        .replace("@LAST_COMMENT@", &last_comment)
        .replace("@LAST@", last)
        .replace("@NAME@", name)
        .replace("@BRANCH@", inputs.branch);
    text.push_str(&NOTIFY_EXAMPLE.replace("@LAST@", last));
    text.push_str(&target);
    text
}

/// What shipgate tells whom: commented, for the repository to fill in.
const NOTIFY_EXAMPLE: &str = r#"
# Who hears what shipgate decided (README, "Notifications"). Secrets stay in the
# environment: each `*-env` key names a variable, and `shipgate notify test` checks them.
# [[notify]]
# kind = "slack"
# url-env = "SLACK_OPS_WEBHOOK"
# events = ["rollback", "rollback-failed", "canary-failed", "promotion"]
# environments = ["@LAST@"]
#
# [[notify]]
# kind = "pagerduty"
# routing-key-env = "PAGERDUTY_ROUTING_KEY"
#
# [links]
# runbook = "https://wiki.example.com/runbooks/failed-deployment?env={{env}}"
# dashboard = "https://grafana.example.com/d/shop?var-env={{env}}&from={{from}}&to={{to}}"
"#;

/// `text` as TOML comment lines of at most 90 columns.
fn comment(text: &str) -> String {
    let mut out = String::new();
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.len() > 1 && line.len() + 1 + word.len() > 90 {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// The comment above `[environments]` for configuration init found.
fn found_comment(found: &environments::Found) -> String {
    let what = match found.layout {
        Layout::Spring => format!(
            "Spring Boot's configuration in {}: application.yml, then application-<profile>.yml, read as Spring Boot reads them",
            found.directory
        ),
        _ => format!(
            "the Helm chart in {}: values.yaml, then values-<env>.yaml, read as Helm reads them (the schema is the chart's values.schema.json when it has one)",
            found.directory
        ),
    };
    let mut text = format!(
        "The environments, in promotion order, found by `shipgate init`: {what}; checked by `shipgate config validate`. shipgate writes nothing there."
    );
    if let Some(from) = &found.also_from {
        text.push_str(&format!(
            " Environments without a profile of their own are those of {from}/values-<env>.yaml."
        ));
    }
    if !found.not_environments.is_empty() {
        text.push_str(&format!(
            " Not environments (add them to order if they are): {}.",
            found.not_environments.join(", ")
        ));
    }
    comment(&text)
}

/// A commented `[[promote.target]]` for configuration init found: promotions write the
/// version where the GitOps engine reads it, not into the configuration.
fn target_example(found: &environments::Found, name: &str) -> String {
    let (file, key) = match (found.layout, &found.also_from) {
        (Layout::Helm, _) => (
            format!("{}/values-{{{{env}}}}.yaml", found.directory),
            "image.tag".to_string(),
        ),
        (_, Some(from)) => (
            format!("{from}/values-{{{{env}}}}.yaml"),
            "image.tag".to_string(),
        ),
        _ => (
            "deploy/overlays/{{env}}/kustomization.yaml".to_string(),
            format!("images[name={name}].newTag"),
        ),
    };
    let names = names_line(&found.names);
    format!(
        "\n# Where promotions write the version: the file and key your GitOps engine reads (a\n# Kustomize overlay, Helm values, an Argo CD Application); the key must exist in each\n# environment's file. Until a target is set, `shipgate promote` has nowhere to write.\n# [[promote.target]]\n# file = {}\n# key = {}\n{}",
        toml_string(&file),
        toml_string(&key),
        if names.is_empty() {
            String::new()
        } else {
            format!("# {names}")
        },
    )
}

/// `names = { prod = "production" }` and a newline; empty for no names.
fn names_line(names: &BTreeMap<String, String>) -> String {
    if names.is_empty() {
        return String::new();
    }
    let pairs: Vec<String> = names
        .iter()
        .map(|(env, file)| format!("{env} = {}", toml_string(file)))
        .collect();
    format!("names = {{ {} }}\n", pairs.join(", "))
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
            m.entry.and_then(|e| e.pattern).as_deref(),
            Some("<artifactId>orders</artifactId> <version>{version}</version>")
        );
        let odd = pom("<project><artifactId>a\"b</artifactId><version>1.0.0</version></project>");
        assert_eq!((odd.entry, odd.name), (None, None));
        assert!(odd.note.is_some_and(|n| n.contains("is not a plain name")));
    }

    #[test]
    fn a_one_line_pom_gets_a_pattern_that_finds_its_version() {
        let m = pom(
            "<project><modelVersion>4.0.0</modelVersion><artifactId>x</artifactId><version>1.0.0</version></project>",
        );
        assert_eq!(m.version, Some(semver::Version::new(1, 0, 0)));
        assert!(m.entry.is_some() && m.note.is_none(), "{m:?}");
        // not semver: no entry, and a note with the version to write and the entry to add
        let m = pom("<project><artifactId>x</artifactId><version>1.0</version></project>");
        assert_eq!((m.entry, m.version), (None, None));
        let note = m.note.unwrap_or_default();
        assert!(
            note.starts_with("pom.xml: the project's version `1.0` is not a semantic version (X.Y.Z), so shipgate.toml has no [[release.files]] entry for it: write it as one (e.g. `1.0.0`); then add one to shipgate.toml: [[release.files]] path = \"pom.xml\", pattern = \"<artifactId>x</artifactId> <version>{version}</version>\""),
            "{note}"
        );
    }

    #[test]
    fn gradle_names_its_project_in_settings() {
        for text in [
            "rootProject.name = 'orders'\ninclude 'api'\n",
            "rootProject.name = \"Orders_Service\"\n",
        ] {
            assert!(
                gradle_project_name(text).is_some_and(|n| n.starts_with("orders")),
                "{text}"
            );
        }
        assert_eq!(gradle_project_name("rootProject.name = name()\n"), None);
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
