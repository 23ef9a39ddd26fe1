//! The environments a repository already configures: Spring Boot's `application.yml` with its
//! `application-<profile>.yml`, or a Helm chart's `values.yaml` with its `values-<env>.yaml`.
//! init points `[environments]` at them (layout, directory, order, names) instead of
//! writing a skeleton beside them. Which profiles and values files are environments, and in
//! which order they are promoted, is decided here from their names alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use shipgate_config::Layout;

/// Configuration found in the repository, as `[environments]` will point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub layout: Layout,
    /// Relative to the root, `/`-separated; `.` for the root itself.
    pub directory: String,
    /// The environments, in promotion order, by shipgate's names.
    pub order: Vec<String>,
    /// An environment's name in the files where it differs (`prod` → `production`).
    pub names: BTreeMap<String, String>,
    /// Profiles or values files whose names are not environments (`tls`, `localstack`).
    pub not_environments: Vec<String>,
    /// Environments taken from elsewhere than `directory` (a Spring service's Helm values
    /// one level above its chart), by where they were found.
    pub also_from: Option<String>,
}

/// How far below the root a Helm chart is looked for (`helm_deploy/<chart>/Chart.yaml` is 2).
const CHART_DEPTH: usize = 3;

/// Directories never searched for charts: tools' and dependencies' trees.
const SKIPPED_DIRS: [&str; 6] = [
    "node_modules",
    "vendor",
    "target",
    "build",
    "dist",
    "templates",
];

/// Where Spring Boot reads its configuration from, in the order it is looked for.
const SPRING_DIRS: [&str; 2] = ["src/main/resources/config", "src/main/resources"];

/// A name's place in a promotion: earlier environments first. None for a name that is not
/// an environment (a profile such as `tls`, `localstack`, `secret-samples`).
fn rank(name: &str) -> Option<u8> {
    Some(match name.to_ascii_lowercase().as_str() {
        "dev" | "develop" | "development" => 0,
        "int" | "integration" => 1,
        "test" | "testing" | "qa" | "sit" => 2,
        "uat" => 3,
        "stage" | "staging" | "stg" | "preprod" | "pre-prod" | "preproduction" => 4,
        "prod" | "production" | "prd" | "live" => 5,
        _ => return None,
    })
}

/// shipgate's name for an environment whose files say `name`: the short names the
/// generated `[promote.env.*]` sections use (`development` → `dev`, `production` → `prod`).
fn canonical(name: &str) -> String {
    match name.to_ascii_lowercase().as_str() {
        "develop" | "development" => "dev".into(),
        "stage" | "stg" => "staging".into(),
        "production" | "prd" => "prod".into(),
        other => other.to_string(),
    }
}

/// The environments among `file_names` (profiles, values-file suffixes), in promotion order
/// by shipgate's names, with the file names that differ, and the names that are not
/// environments. Two files for one environment (`prod` and `production`): the first wins,
/// the other is not an environment.
pub fn classify(file_names: &[String]) -> (Vec<String>, BTreeMap<String, String>, Vec<String>) {
    let mut envs: Vec<(u8, String, String)> = Vec::new();
    let mut other = Vec::new();
    let mut sorted: Vec<&String> = file_names.iter().collect();
    sorted.sort();
    sorted.dedup();
    for name in sorted {
        let env = canonical(name);
        match rank(name) {
            Some(r)
                if shipgate_stdx::names::check_env(&env).is_ok()
                    && shipgate_stdx::names::check_env(name).is_ok()
                    && !envs.iter().any(|(_, e, _)| *e == env) =>
            {
                envs.push((r, env, name.clone()));
            }
            _ => other.push(name.clone()),
        }
    }
    envs.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let names = envs
        .iter()
        .filter(|(_, env, file)| env != file)
        .map(|(_, env, file)| (env.clone(), file.clone()))
        .collect();
    (
        envs.into_iter().map(|(_, env, _)| env).collect(),
        names,
        other,
    )
}

/// The `<x>` of every `<prefix><x>.yaml` / `.yml` file in `dir`.
fn suffixes(dir: &Path, prefix: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter_map(|name| {
            let stem = name
                .strip_suffix(".yaml")
                .or_else(|| name.strip_suffix(".yml"))?;
            stem.strip_prefix(prefix)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

fn has_yaml(dir: &Path, stem: &str) -> bool {
    ["yaml", "yml"]
        .iter()
        .any(|ext| dir.join(format!("{stem}.{ext}")).is_file())
}

/// `rel` as shipgate.toml and the output show it: `/`-separated, `.` for the root.
fn shown(rel: &Path) -> String {
    let text = rel.to_string_lossy().replace('\\', "/");
    if text.is_empty() { ".".into() } else { text }
}

/// The Helm charts under `root` (a directory with Chart.yaml and values.yaml), shallowest
/// first, then by path, at most [`CHART_DEPTH`] levels down. A chart's own directories
/// (subcharts, templates) are not searched, nor hidden directories, nor links.
pub fn charts(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut level = vec![PathBuf::new()];
    for depth in 0..=CHART_DEPTH {
        let mut next = Vec::new();
        for rel in level {
            let dir = root.join(&rel);
            if dir.join("Chart.yaml").is_file() {
                if has_yaml(&dir, "values") {
                    out.push(rel);
                }
                continue;
            }
            if depth == CHART_DEPTH {
                continue;
            }
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut subdirs: Vec<PathBuf> = entries
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| !n.starts_with('.') && !SKIPPED_DIRS.contains(&n.as_str()))
                .map(|n| rel.join(n))
                .collect();
            subdirs.sort();
            next.extend(subdirs);
        }
        level = next;
    }
    out
}

/// What init finds: a chart with values files per environment (Helm's layout), else Spring
/// Boot's configuration with profiles per environment (with the environments of Helm values
/// files kept beside its chart, as a service deployed by a shared chart keeps them), else
/// None.
pub fn detect(root: &Path) -> Option<Found> {
    let charts = charts(root);
    for chart in &charts {
        let (order, names, not_environments) = classify(&suffixes(&root.join(chart), "values-"));
        if !order.is_empty() {
            return Some(Found {
                layout: Layout::Helm,
                directory: shown(chart),
                order,
                names,
                not_environments,
                also_from: None,
            });
        }
    }
    let spring = SPRING_DIRS
        .iter()
        .map(Path::new)
        .find(|d| has_yaml(&root.join(d), "application"))?;
    let profiles = suffixes(&root.join(spring), "application-");
    let (mut order, mut names, not_environments) = classify(&profiles);
    // Values files one level above a chart (helm_deploy/values-dev.yaml beside
    // helm_deploy/<chart>/) name environments the profiles may not have.
    let mut also_from = None;
    for chart in &charts {
        let Some(parent) = chart.parent() else {
            continue;
        };
        let (more, more_names, _) = classify(&suffixes(&root.join(parent), "values-"));
        if more.iter().any(|e| !order.contains(e)) {
            let mut all: Vec<String> = order.iter().map(|e| file_name(e, &names)).collect();
            all.extend(more.iter().map(|e| file_name(e, &more_names)));
            (order, names, _) = classify(&all);
            also_from = Some(shown(parent));
            break;
        }
    }
    if order.is_empty() {
        // application.yml alone configures no environment: the skeleton gives promotions a
        // file per environment to write to.
        return None;
    }
    Some(Found {
        layout: Layout::Spring,
        directory: shown(spring),
        order,
        names,
        not_environments,
        also_from,
    })
}

/// `env`'s name in its files.
fn file_name(env: &str, names: &BTreeMap<String, String>) -> String {
    names.get(env).cloned().unwrap_or_else(|| env.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn environments_are_ordered_and_named_and_other_profiles_left_out() {
        // jhipster's profiles
        let (order, names, other) = classify(&strings(&["dev", "prod", "secret-samples", "tls"]));
        assert_eq!(order, ["dev", "prod"]);
        assert!(names.is_empty());
        assert_eq!(other, ["secret-samples", "tls"]);
        // prison-register's values files, and long names
        let (order, names, _) = classify(&strings(&["preprod", "prod", "dev"]));
        assert_eq!(order, ["dev", "preprod", "prod"]);
        assert!(names.is_empty());
        let (order, names, _) = classify(&strings(&[
            "production",
            "qa",
            "development",
            "uat",
            "staging",
        ]));
        assert_eq!(order, ["dev", "qa", "uat", "staging", "prod"]);
        assert_eq!(
            names,
            [
                ("dev".to_string(), "development".to_string()),
                ("prod".to_string(), "production".to_string())
            ]
            .into()
        );
        // two files for one environment: one is the environment
        let (order, names, other) = classify(&strings(&["prod", "production"]));
        assert_eq!(
            (order, names, other),
            (
                strings(&["prod"]),
                BTreeMap::new(),
                strings(&["production"])
            )
        );
        // a name that is not a valid environment name never becomes one
        let (order, _, other) = classify(&strings(&["$(id)", "localstack"]));
        assert!(order.is_empty());
        assert_eq!(other, ["$(id)", "localstack"]);
    }
}
