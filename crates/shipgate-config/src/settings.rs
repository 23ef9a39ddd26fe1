//! `[environments]` in shipgate.toml: the environments and their order, where their files
//! live and how they are laid out, and the declarations of the built-in rules.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

/// `[environments]`.
#[derive(Debug, Clone, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct EnvironmentsSettings {
    /// The environments, in promotion order.
    #[schemars(schema_with = "env_names")]
    pub order: Vec<String>,
    /// How the files are laid out: `overlays` (base.toml, .yaml, .yml or .json, then one
    /// overlay per environment named after it), `spring` (Spring Boot's application.yml and
    /// application-<profile>.yml, read as Spring Boot reads them) or `helm` (values.yaml and
    /// values-<env>.yaml, read as Helm reads them).
    pub layout: Layout,
    /// Where the files live, relative to the repository root. A directory without the
    /// layout's base file (base.toml, application.yml, values.yaml) is searched for one
    /// sub-directory per service.
    pub directory: PathBuf,
    /// An environment's name in the files where it differs from its name in `order`:
    /// `{ prod = "production" }`. With `layout = "spring"` the value may list several
    /// profiles, as `spring.profiles.active` does: `"production,msk"`.
    #[schemars(schema_with = "env_name_map")]
    #[schemars(extend("examples" = [{ "prod": "production" }]))]
    pub names: BTreeMap<String, String>,
    /// The JSON Schema of the merged configuration. Default: the nearest `schema.json` in
    /// the configuration's directory or above it, up to the validated path.
    pub schema: Option<PathBuf>,
    /// Files larger than this many bytes are reported, not read.
    pub max_file_size: u64,
    pub ordering: OrderingSettings,
    pub parity: ParitySettings,
    pub secrets: SecretSettings,
    pub slo: SloSettings,
}

/// `order`'s schema: distinct environment names (1 to 63 of `[A-Za-z0-9_-]`, not starting
/// with `-`), never `base`; the rule of [`EnvironmentsSettings::check`].
fn env_names(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "array",
        "uniqueItems": true,
        "items": {
            "type": "string",
            "pattern": "^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}$",
            "not": { "const": "base" },
        },
    })
}

/// `names`' schema: environment names to names in files (comma-separated profile lists
/// allowed), each part 1 to 63 of `[A-Za-z0-9_-]`.
fn env_name_map(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "propertyNames": { "pattern": "^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}$" },
        "additionalProperties": {
            "type": "string",
            "pattern": "^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}(,[A-Za-z0-9_][A-Za-z0-9_-]{0,62})*$",
        },
    })
}

/// How an environment's configuration is laid out in files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// `base.<ext>` and `<env>.<ext>` (TOML, YAML read as YAML 1.2, or JSON).
    #[default]
    Overlays,
    /// Spring Boot: `application.yml` (documents activated by
    /// `spring.config.activate.on-profile`, profile groups) then `application-<profile>.yml`.
    Spring,
    /// Helm: `values.yaml` then `values-<env>.yaml`; a null removes a key; the schema
    /// defaults to the chart's `values.schema.json`.
    Helm,
}

impl Layout {
    /// The word in shipgate.toml.
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Overlays => "overlays",
            Layout::Spring => "spring",
            Layout::Helm => "helm",
        }
    }
}

impl Default for EnvironmentsSettings {
    fn default() -> Self {
        EnvironmentsSettings {
            order: vec!["dev".into(), "staging".into(), "prod".into()],
            layout: Layout::Overlays,
            directory: PathBuf::from("environments"),
            names: BTreeMap::new(),
            schema: None,
            max_file_size: 4 * 1024 * 1024,
            ordering: OrderingSettings::default(),
            parity: ParitySettings::default(),
            secrets: SecretSettings::default(),
            slo: SloSettings::default(),
        }
    }
}

/// `[environments.ordering]`: numeric keys that must not decrease (or increase) from one
/// environment to the next in `order` (`prod.replicas >= staging.replicas`).
#[derive(Debug, Clone, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct OrderingSettings {
    pub non_decreasing: Vec<String>,
    pub non_increasing: Vec<String>,
}

impl Default for OrderingSettings {
    fn default() -> Self {
        OrderingSettings {
            non_decreasing: [
                "service.replicas",
                "service.autoscaling.min_replicas",
                "service.autoscaling.max_replicas",
                "database.instances",
                "cache.nodes",
                "slo.availability_percent",
            ]
            .map(String::from)
            .to_vec(),
            non_increasing: ["slo.latency_p95_ms", "slo.error_rate_percent"]
                .map(String::from)
                .to_vec(),
        }
    }
}

/// `[environments.parity]`: every key set in the first environment of a pair is set in the
/// second, except the allow-listed intended differences.
#[derive(Debug, Clone, PartialEq, Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct ParitySettings {
    /// Pairs `[from, to]`. Default: the last two environments of `order` (with `layout =
    /// "spring"` or `"helm"`, only when `order` has three or more).
    #[schemars(extend("examples" = [[["staging", "prod"]]]))]
    pub pairs: Option<Vec<[String; 2]>>,
    /// Key paths (a table path covers everything under it; `*` matches one key).
    pub allow: Vec<String>,
}

/// `[environments.secrets]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Default, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct SecretSettings {
    /// Key paths whose values are known not to be secrets (same patterns as parity).
    pub allow: Vec<String>,
}

/// `[environments.slo]`: the platform's service-level objectives, checked on one environment.
#[derive(Debug, Clone, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct SloSettings {
    /// Default: on with `layout = "overlays"` (the platform's own format, whose keys the
    /// rules name), off with `spring` and `helm`, whose keys are the application's.
    pub enabled: Option<bool>,
    /// Default: the last environment of `order`.
    pub environment: Option<String>,
    pub min_availability_percent: f64,
    pub max_latency_p95_ms: f64,
    pub max_error_rate_percent: f64,
    pub max_recovery_time_seconds: f64,
    pub max_data_loss_window_seconds: f64,
    pub min_replicas: f64,
    pub min_availability_zones: usize,
    pub require_canary: bool,
}

impl Default for SloSettings {
    fn default() -> Self {
        SloSettings {
            enabled: None,
            environment: None,
            min_availability_percent: 99.9,
            max_latency_p95_ms: 2000.0,
            max_error_rate_percent: 0.1,
            max_recovery_time_seconds: 300.0,
            max_data_loss_window_seconds: 60.0,
            min_replicas: 2.0,
            min_availability_zones: 2,
            require_canary: true,
        }
    }
}

/// Why the settings cannot be used. The message is what went wrong; the hint
/// ([`SettingsProblem::hint`]) is data, not part of the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsProblem {
    #[error("[environments] order is empty")]
    EmptyOrder,
    #[error("[environments] order lists `{0}` twice")]
    Duplicate(String),
    #[error("[environments] order: `{0}` is not a valid environment name")]
    BadName(String),
    #[error("[environments.{section}] names `{env}`, which is not in [environments] order")]
    UnknownEnvironment { section: &'static str, env: String },
    #[error("[environments] names: `{name}` (for `{env}`) is not a valid name in files")]
    BadFileName { env: String, name: String },
}

impl SettingsProblem {
    /// What to do about it, when there is something to say (shown after the message).
    pub fn hint(&self) -> Option<String> {
        match self {
            SettingsProblem::EmptyOrder => {
                Some("list the environments, e.g. order = [\"dev\", \"staging\", \"prod\"]".into())
            }
            SettingsProblem::BadName(_) => Some(
                "use 1 to 63 letters, digits, `-` and `_`, not starting with `-`, and not `base`"
                    .into(),
            ),
            SettingsProblem::BadFileName { .. } => Some(
                "use 1 to 63 letters, digits, `-` and `_` (several Spring profiles separated by `,`)"
                    .into(),
            ),
            SettingsProblem::Duplicate(_) | SettingsProblem::UnknownEnvironment { .. } => None,
        }
    }
}

impl EnvironmentsSettings {
    /// Checks what serde cannot: names, duplicates, references to environments.
    pub fn check(&self) -> Result<(), SettingsProblem> {
        if self.order.is_empty() {
            return Err(SettingsProblem::EmptyOrder);
        }
        for (i, env) in self.order.iter().enumerate() {
            // The shared rule (environment names reach commands, queries and file names),
            // and not `base`, which is the file every environment layers on.
            let valid = env != "base" && shipgate_stdx::names::check_env(env).is_ok();
            if !valid {
                return Err(SettingsProblem::BadName(env.clone()));
            }
            if self.order[..i].contains(env) {
                return Err(SettingsProblem::Duplicate(env.clone()));
            }
        }
        let known = |section: &'static str, env: &String| {
            if self.order.contains(env) {
                Ok(())
            } else {
                Err(SettingsProblem::UnknownEnvironment {
                    section,
                    env: env.clone(),
                })
            }
        };
        for pair in self.parity.pairs.iter().flatten() {
            pair.iter().try_for_each(|e| known("parity", e))?;
        }
        if let Some(env) = &self.slo.environment {
            known("slo", env)?;
        }
        for (env, name) in &self.names {
            known("names", env)?;
            let several = self.layout == Layout::Spring;
            let parts: Vec<&str> = if several {
                name.split(',').collect()
            } else {
                vec![name.as_str()]
            };
            if parts
                .iter()
                .any(|p| shipgate_stdx::names::check_env(p).is_err())
            {
                return Err(SettingsProblem::BadFileName {
                    env: env.clone(),
                    name: name.clone(),
                });
            }
        }
        Ok(())
    }

    /// `env`'s name in the files: `names`' value, else the environment's own name.
    pub fn file_name(&self, env: &str) -> String {
        self.names
            .get(env)
            .cloned()
            .unwrap_or_else(|| env.to_string())
    }

    /// Whether the SLO rules run: `[environments.slo] enabled`, else on for the overlays
    /// layout only.
    pub fn slo_enabled(&self) -> bool {
        self.slo.enabled.unwrap_or(self.layout == Layout::Overlays)
    }

    /// The parity pairs in force. Default: the last two environments; with `spring` and
    /// `helm` only when there are three or more (dev next to prod differs on purpose: an
    /// in-memory database, dev tools).
    pub fn parity_pairs(&self) -> Vec<[String; 2]> {
        match &self.parity.pairs {
            Some(pairs) => pairs.clone(),
            None if self.layout != Layout::Overlays && self.order.len() < 3 => Vec::new(),
            None => match self.order.as_slice() {
                [.., a, b] => vec![[a.clone(), b.clone()]],
                _ => Vec::new(),
            },
        }
    }

    /// The environment the SLO rules apply to, if any.
    pub fn slo_environment(&self) -> Option<&str> {
        if !self.slo_enabled() {
            return None;
        }
        self.slo
            .environment
            .as_deref()
            .or(self.order.last().map(String::as_str))
    }
}

/// True when a dotted key path matches an allow-list pattern: equal, below it, or equal
/// with `*` matching any one key.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let mut pat = pattern.split('.');
    let mut keys = path.split('.');
    loop {
        match (pat.next(), keys.next()) {
            (None, _) => return true,
            (Some(_), None) => return false,
            (Some(p), Some(k)) if p == "*" || p == k => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_platform() {
        let s = EnvironmentsSettings::default();
        assert_eq!(s.order, ["dev", "staging", "prod"]);
        assert_eq!(
            s.parity_pairs(),
            vec![["staging".to_string(), "prod".to_string()]]
        );
        assert_eq!(s.slo_environment(), Some("prod"));
        assert!(s.check().is_ok());
    }

    #[test]
    fn kebab_case_and_unknown_fields() {
        let s: EnvironmentsSettings = toml::from_str(
            "order = [\"a\", \"b\"]\n[parity]\nallow = [\"x.y\"]\n[slo]\nmin-replicas = 3\n",
        )
        .expect("ok");
        assert_eq!(s.slo.min_replicas, 3.0);
        assert_eq!(s.parity.allow, ["x.y"]);
        assert!(toml::from_str::<EnvironmentsSettings>("ordr = []").is_err());
    }

    #[test]
    fn check_rejects_bad_orders() {
        let with = |order: &[&str]| EnvironmentsSettings {
            order: order.iter().map(|s| s.to_string()).collect(),
            ..EnvironmentsSettings::default()
        };
        assert_eq!(with(&[]).check(), Err(SettingsProblem::EmptyOrder));
        assert_eq!(
            SettingsProblem::EmptyOrder.to_string(),
            "[environments] order is empty"
        );
        assert_eq!(
            SettingsProblem::EmptyOrder.hint().as_deref(),
            Some("list the environments, e.g. order = [\"dev\", \"staging\", \"prod\"]")
        );
        assert_eq!(
            with(&["a", "a"]).check(),
            Err(SettingsProblem::Duplicate("a".into()))
        );
        assert_eq!(
            with(&["base"]).check(),
            Err(SettingsProblem::BadName("base".into()))
        );
        for bad in ["-x", "../prod", "a b", "prod;id", "$(id)", ""] {
            assert_eq!(
                with(&["dev", bad]).check(),
                Err(SettingsProblem::BadName(bad.into())),
                "{bad:?}"
            );
        }
        let mut s = with(&["a", "b"]);
        s.names.insert("b".into(), "../b".into());
        assert!(matches!(
            s.check(),
            Err(SettingsProblem::BadFileName { .. })
        ));
        s.names.insert("b".into(), "production,msk".into());
        assert!(
            matches!(s.check(), Err(SettingsProblem::BadFileName { .. })),
            "one name outside spring"
        );
        s.layout = Layout::Spring;
        assert!(s.check().is_ok());
        s.names.insert("c".into(), "x".into());
        assert!(matches!(
            s.check(),
            Err(SettingsProblem::UnknownEnvironment {
                section: "names",
                ..
            })
        ));
        s.names.clear();
        s.slo.environment = Some("prod".into());
        assert!(matches!(
            s.check(),
            Err(SettingsProblem::UnknownEnvironment { .. })
        ));
    }

    #[test]
    fn allow_patterns() {
        assert!(path_matches("a.b", "a.b"));
        assert!(path_matches("a", "a.b.c"));
        assert!(path_matches("a.*.c", "a.x.c"));
        assert!(!path_matches("a.b", "a.bc"));
        assert!(!path_matches("a.b.c", "a.b"));
    }
}
