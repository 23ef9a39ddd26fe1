//! Where a promotion writes the version: `[[promote.target]]` places (a file, a key path in
//! it, the value to write), any number, in TOML, YAML or JSON; or, without any, the
//! shorthand `version-key` in the environment's own file (`environments/<env>.toml`), as
//! before. Pure: the places and their edits are functions of texts; [`crate::ops`] reads the
//! files from git and commits what changed, all targets of a promotion in one commit.

use shipgate_doc::{EditError, Format, KeyPath, Value};

use crate::envfile;

pub use shipgate_settings::target::{Target, problems, version_template};

/// One place for one environment: the file, the key, what to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub file: String,
    pub key: String,
    /// The value template, `{{env}}` filled in (`{{version}}` still there).
    pub template: String,
    /// `version-key` in the environment's TOML file: missing tables are added.
    pub shorthand: bool,
}

impl Place {
    /// The value written for `version`.
    pub fn value(&self, version: &str) -> String {
        self.template.replace("{{version}}", version)
    }

    /// The version a written value holds, when it has the template's shape.
    pub fn version_in(&self, value: &str) -> Option<String> {
        let (before, after) = self.template.split_once("{{version}}")?;
        let v = value.strip_prefix(before)?.strip_suffix(after)?;
        (!v.is_empty()).then(|| v.to_string())
    }
}

/// Why a place cannot take the version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    /// The file does not parse, or the key selects nothing, several places or no value.
    #[error("{file}:{source}", source = edit_prefix(.source))]
    Edit { file: String, source: EditError },
    /// The shorthand's TOML edit failed.
    #[error(transparent)]
    EnvFile(#[from] envfile::EnvFileError),
    /// A file of unknown format.
    #[error("{file}: not a .toml, .yaml, .yml or .json file")]
    Format { file: String },
    /// The key cannot be read.
    #[error(transparent)]
    Key(#[from] shipgate_doc::PathError),
}

fn edit_prefix(e: &EditError) -> String {
    match e {
        EditError::Syntax { .. } => e.to_string(),
        _ => format!(" {e}"),
    }
}

impl TargetError {
    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            TargetError::Edit { source, .. } => source.hint(),
            TargetError::EnvFile(_) => "fix the file, or set [promote] version-key".into(),
            TargetError::Format { .. } => {
                "name a TOML, YAML or JSON file in [[promote.target]] file".into()
            }
            TargetError::Key(_) => "fix [[promote.target]] key in shipgate.toml".into(),
        }
    }
}

/// The places of `env`: each `[[promote.target]]` that applies to it, with the
/// environment's name in that target filled in; or, without any target, the shorthand
/// (`dir/<name>.toml`, `version-key`, its name from `file_names`: `[environments] names`,
/// the configuration files' own) when `shorthand` (the overlays layout).
pub fn places(
    targets: &[Target],
    version_key: &str,
    dir: &str,
    env: &str,
    file_names: &dyn Fn(&str) -> String,
    shorthand: bool,
) -> Vec<Place> {
    if targets.is_empty() {
        return if shorthand {
            vec![Place {
                file: in_dir(dir, &format!("{}.toml", file_names(env))),
                key: version_key.to_string(),
                template: version_template(),
                shorthand: true,
            }]
        } else {
            Vec::new()
        };
    }
    targets
        .iter()
        .filter(|t| t.environments.is_empty() || t.environments.iter().any(|e| e == env))
        .map(|t| {
            let name = t.names.get(env).cloned().unwrap_or_else(|| env.to_string());
            Place {
                file: t.file.replace("{{env}}", &name),
                key: t.key.replace("{{env}}", &name),
                template: t.value.replace("{{env}}", &name),
                shorthand: false,
            }
        })
        .collect()
}

/// `name` in the directory `dir` of a git tree (`""` is the root).
pub fn in_dir(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// `text` (the file of `place`) with the place set to `version`'s value.
pub fn set(place: &Place, text: &str, version: &str) -> Result<String, TargetError> {
    let value = place.value(version);
    if place.shorthand {
        return Ok(envfile::set_version(&place.file, text, &place.key, &value)?);
    }
    let format = Format::of_path(&place.file).ok_or_else(|| TargetError::Format {
        file: place.file.clone(),
    })?;
    let key = KeyPath::parse(&place.key)?;
    shipgate_doc::edit::set(text, format, &key, &value).map_err(|source| TargetError::Edit {
        file: place.file.clone(),
        source,
    })
}

/// The value at `place` in `text`, as text (None when it is not there or not a scalar).
pub fn get(place: &Place, text: &str) -> Option<String> {
    if place.shorthand {
        return envfile::get_version(text, &place.key);
    }
    let format = Format::of_path(&place.file)?;
    let key = KeyPath::parse(&place.key).ok()?;
    match shipgate_doc::edit::locate(text, format, &key).ok()?.value {
        Value::String(s) | Value::Datetime(s) => Some(s),
        Value::Integer(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn target(file: &str, key: &str, value: &str) -> Target {
        Target {
            file: file.into(),
            key: key.into(),
            value: value.into(),
            names: BTreeMap::new(),
            environments: Vec::new(),
        }
    }

    fn names(env: &str) -> String {
        if env == "prod" {
            "production".into()
        } else {
            env.into()
        }
    }

    #[test]
    fn the_shorthand_is_the_environment_file() {
        let p = places(
            &[],
            "service.image.tag",
            "environments",
            "prod",
            &names,
            true,
        );
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].file, "environments/production.toml");
        assert!(p[0].shorthand);
        let out = set(&p[0], "[service]\n", "1.4.0").expect("sets");
        assert_eq!(get(&p[0], &out).as_deref(), Some("1.4.0"));
    }

    #[test]
    fn targets_fill_in_the_environment_and_the_version() {
        let mut overlay = target(
            "k8s/overlays/{{env}}/kustomization.yaml",
            "images[name=storefront].newTag",
            "{{version}}",
        );
        overlay.names.insert("dev".into(), "development".into());
        let argo = target(
            "gitops/backend-{{env}}.yaml",
            "spec.source.kustomize.images[0]",
            "ghcr.io/acme/backend:{{version}}",
        );
        let p = places(
            &[overlay.clone(), argo.clone()],
            "version",
            "environments",
            "dev",
            &names,
            true,
        );
        assert_eq!(p[0].file, "k8s/overlays/development/kustomization.yaml");
        assert_eq!(p[1].file, "gitops/backend-dev.yaml");
        let prod = places(
            &[overlay, argo],
            "version",
            "environments",
            "prod",
            &names,
            true,
        );
        assert_eq!(
            prod[1].file, "gitops/backend-prod.yaml",
            "a target's own names only"
        );
        let text = "spec:\n  source:\n    kustomize:\n      images:\n        - ghcr.io/acme/backend:1.3.0 # pinned\n";
        let out = set(&p[1], text, "1.4.0").expect("sets");
        assert_eq!(out, text.replace("1.3.0", "1.4.0"));
        assert_eq!(
            p[1].version_in(&get(&p[1], &out).expect("value"))
                .as_deref(),
            Some("1.4.0")
        );
        assert_eq!(p[1].version_in("ghcr.io/other:1.0"), None);
    }

    #[test]
    fn a_key_that_selects_nothing_names_the_file() {
        let p = places(
            &[target("k.yaml", "images[name=shop].newTag", "{{version}}")],
            "v",
            "e",
            "dev",
            &names,
            true,
        );
        let e = set(&p[0], "images: []\n", "1.4.0").expect_err("nothing");
        assert_eq!(
            e.to_string(),
            "k.yaml: `images[name=shop].newTag` selects nothing (`images` exists; what follows it does not)"
        );
        let e = set(&p[0], "images: [\n", "1.4.0").expect_err("syntax");
        assert!(
            e.to_string().starts_with("k.yaml:2:1: not valid YAML"),
            "{e}"
        );
    }

    #[test]
    fn bad_targets_are_reported_at_their_key() {
        let order: Vec<String> = ["dev", "prod"].map(String::from).into();
        let mut t = target("../x/{{enV}}.yaml", "a..b", "{{versoin}}");
        t.names.insert("qa".into(), "q/a".into());
        let p = problems(&[t], &order);
        let keys: Vec<&str> = p.iter().map(|(k, _, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "target[0].file",
                "target[0].file",
                "target[0].value",
                "target[0].value",
                "target[0].key",
                "target[0].file",
                "target[0].names.qa",
                "target[0].names.qa"
            ]
        );
        assert_eq!(p[2].2.as_deref(), Some("did you mean `{{version}}`?"));
        assert!(problems(&[target("a/{{env}}.json", "a.b", "x:{{version}}")], &order).is_empty());
        // One file for every environment is a mistake, unless it names its one environment.
        let shared = target("values.yaml", "image.tag", "{{version}}");
        assert_eq!(problems(std::slice::from_ref(&shared), &order).len(), 1);
        let prod_only = Target {
            environments: vec!["prod".into()],
            ..shared
        };
        assert!(problems(std::slice::from_ref(&prod_only), &order).is_empty());
        assert!(
            places(
                std::slice::from_ref(&prod_only),
                "v",
                "e",
                "dev",
                &names,
                true
            )
            .is_empty()
        );
        assert_eq!(
            places(&[prod_only], "v", "e", "prod", &names, true).len(),
            1
        );
        // {{env}} in a key picks the environment's document.
        let doc = target(
            "apps.yaml",
            "[metadata.name=backend-{{env}}].spec.image",
            "{{version}}",
        );
        assert!(problems(std::slice::from_ref(&doc), &order).is_empty());
        assert_eq!(
            places(&[doc], "v", "e", "prod", &names, true)[0].key,
            "[metadata.name=backend-prod].spec.image"
        );
        assert!(
            places(&[], "v", "e", "prod", &names, false).is_empty(),
            "no shorthand for spring"
        );
    }
}
