//! `[canary.argo-rollouts]`: the Rollout's name, namespace and kubectl context (each may
//! hold `{{env}}`, checked when parsed and again once rendered), how long a step may take,
//! the rollback's attempts. The actuator that drives the Rollout is `shipgate-canary`'s
//! `argo_rollouts`.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use shipgate_judge::HumanDuration;
use shipgate_judge::settings::{check_placeholders, render};

/// `[canary.argo-rollouts]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ArgoRolloutsActuator {
    /// The Rollout's name; `{{env}}` may be part of it (`storefront-{{env}}`).
    pub rollout: KubeName,
    /// Its namespace (default: kubectl's current one); `{{env}}` may be part of it
    /// (`shop-{{env}}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<KubeName>,
    /// kubectl's context (default: the current one); `{{env}}` may be part of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<KubeContext>,
    /// How long the Rollout may take to stand paused at a step after a promotion (its
    /// canary pods must be ready) before the step fails and the canary is rolled back
    /// (default 5m).
    #[serde(default = "default_step_timeout")]
    pub step_timeout: HumanDuration,
    /// Attempts for a rollback (`abort`) before giving up loudly (default 3).
    #[serde(default = "default_attempts")]
    pub rollback_attempts: u32,
}

fn default_step_timeout() -> HumanDuration {
    HumanDuration(Duration::from_secs(300))
}
fn default_attempts() -> u32 {
    3
}

/// A Kubernetes name as written in shipgate.toml: lower-case letters, digits, `-` and `.`,
/// with `{{env}}` allowed among them. Checked when parsed; the rendered name is checked
/// again when the run starts (an environment name may have capitals or `_`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeName(String);

/// kubectl's context as written: no spaces or control characters, `{{env}}` allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeContext(String);

/// The rule for names, in words.
const NAME_RULE: &str = "a Kubernetes name is lower-case letters, digits, `-` and `.`, starting and ending with a letter or digit (`{{env}}` may be part of it)";

impl KubeName {
    /// Checks `text` (see the type).
    pub fn parse(text: &str) -> Result<Self, String> {
        check_placeholders(text, &["env"]).map_err(|e| e.to_string())?;
        let literal = render(text, &[("env", "x")]);
        if literal.is_empty()
            || literal.len() > 253
            || !literal.starts_with(|c: char| c.is_ascii_alphanumeric())
            || !literal.ends_with(|c: char| c.is_ascii_alphanumeric())
            || !literal
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        {
            return Err(format!(
                "`{}` is not a valid name: {NAME_RULE}",
                text.escape_debug()
            ));
        }
        Ok(Self(text.to_string()))
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name for `env`, checked: a DNS-1123 label (a namespace: at most 63 characters,
    /// no `.`) when `label`, else a DNS-1123 subdomain (a Rollout's name).
    pub fn render(&self, env: &str, label: bool) -> Result<String, String> {
        let name = render(&self.0, &[("env", env)]);
        let max = if label { 63 } else { 253 };
        let ok = !name.is_empty()
            && name.len() <= max
            && name.split('.').all(|part| {
                let b = part.as_bytes();
                !b.is_empty()
                    && b.iter()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
                    && b[0].is_ascii_alphanumeric()
                    && b[b.len() - 1].is_ascii_alphanumeric()
            })
            && !(label && name.contains('.'));
        if ok {
            Ok(name)
        } else {
            Err(format!(
                "`{}` (from `{}` in {env}) is not a Kubernetes {}: lower-case letters, digits and `-`{}, starting and ending with a letter or digit, at most {max} characters",
                name.escape_debug(),
                self.0,
                if label { "namespace" } else { "name" },
                if label {
                    ""
                } else {
                    " (and `.` between parts)"
                },
            ))
        }
    }
}

impl KubeContext {
    /// Checks `text` (see the type).
    pub fn parse(text: &str) -> Result<Self, String> {
        check_placeholders(text, &["env"]).map_err(|e| e.to_string())?;
        if text.is_empty()
            || text.len() > 253
            || text.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(format!(
                "`{}` is not a kubectl context: no spaces or control characters, at most 253 characters",
                text.escape_debug()
            ));
        }
        Ok(Self(text.to_string()))
    }

    /// The context for `env`.
    pub fn render(&self, env: &str) -> String {
        render(&self.0, &[("env", env)])
    }
}

macro_rules! text_type {
    ($t:ident, $name:literal, $description:literal) => {
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                $t::parse(&text).map_err(serde::de::Error::custom)
            }
        }
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl schemars::JsonSchema for $t {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                $name.into()
            }
            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 253,
                    "description": $description,
                })
            }
        }
    };
}

text_type!(
    KubeName,
    "KubeName",
    "A Kubernetes name: lower-case letters, digits, `-` and `.`; `{{env}}` may be part of it."
);
text_type!(
    KubeContext,
    "KubeContext",
    "A kubectl context: no spaces or control characters; `{{env}}` may be part of it."
);
