//! `[promote]` in shipgate.toml: where the desired version lives in an environment's file,
//! and each target environment's gates (`[promote.env.<ENV>]`): how versions are verified
//! there, soak time, approvals, freeze windows.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use shipgate_stdx::duration::HumanDuration;

use crate::freeze::FreezeWindow;

/// `[promote]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct PromoteSettings {
    /// The dotted key of an environment's file that holds its desired version
    /// (`service.image.tag`); a promotion writes it in `environments/<env>.toml`.
    pub version_key: String,
    /// The branch the environment files live on, where promotion commits go.
    pub branch: String,
    /// A promoter whose clock is this far behind the ledger's newest entry is refused.
    pub max_clock_skew: HumanDuration,
    /// A canary's hold on an environment that has not been renewed for this long is stale:
    /// its run died, and the next command for that environment rolls it back.
    pub lock_timeout: HumanDuration,
    /// How often a lost race (the remote ledger moved) is fetched, re-evaluated and retried.
    pub push_attempts: u32,
    /// `[promote.env.<ENV>]`: the gates of promotions into each environment.
    pub env: BTreeMap<String, EnvPromote>,
    /// `[[promote.target]]`: where a promotion writes the version (Kustomize overlays, Argo
    /// CD Applications, Helm values, any TOML, YAML or JSON file), all in one commit. Without
    /// any, `version-key` in the environment's own file.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub target: Vec<crate::target::Target>,
}

impl Default for PromoteSettings {
    fn default() -> Self {
        Self {
            version_key: "version".into(),
            branch: "main".into(),
            max_clock_skew: HumanDuration(Duration::from_secs(5 * 60)),
            lock_timeout: HumanDuration(Duration::from_secs(5 * 60)),
            push_attempts: 5,
            env: BTreeMap::new(),
            target: Vec::new(),
        }
    }
}

/// How a version is shown to work in an environment before it may move on.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Verification {
    /// A passing canary verdict or `shipgate verify --result pass` is needed.
    #[default]
    Canary,
    /// Being promoted there is enough (e.g. dev).
    None,
}

/// `[promote.env.<ENV>]`: the gates of promotions into ENV, and how ENV verifies.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct EnvPromote {
    /// How versions are verified in this environment (read by the next environment's
    /// `previous-environment` gate).
    pub verification: Verification,
    /// How long a version must have been verified in the previous environment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soak: Option<HumanDuration>,
    /// Distinct approvers a promotion into this environment needs (the promoter never counts).
    pub approvals: u32,
    /// Whether `--override-freeze --reason` may pass the freeze gate (default true).
    #[serde(default = "yes")]
    pub allow_freeze_override: bool,
    /// `[[promote.env.<ENV>.freeze]]`: windows in which promotions are refused.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub freeze: Vec<FreezeWindow>,
    /// `alarms`: no promotion into ENV while these alarms fire (the `alarms` gate; its
    /// states are read by the caller and given to the gate as facts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alarms: Option<shipgate_stdx::alarms::AlarmsConfig>,
    /// The recovery time objective: how long a failed rollout may take from its failing
    /// verdict to its rollback (`shipgate review` compares; default 5m).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rto: Option<HumanDuration>,
}

/// The recovery time objective when `[promote.env.<ENV>]` sets no `rto`.
pub const DEFAULT_RTO: Duration = Duration::from_secs(5 * 60);

impl EnvPromote {
    /// `rto`, or [`DEFAULT_RTO`].
    pub fn rto(&self) -> Duration {
        self.rto.map_or(DEFAULT_RTO, |d| d.0)
    }
}

fn yes() -> bool {
    true
}

/// A problem in `[promote]` that the types cannot catch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("promote.{key}: {message}")]
pub struct PromoteProblem {
    /// Dotted path below `[promote]`.
    pub key: String,
    /// What is wrong.
    pub message: String,
    /// What to do about it, when there is something to say.
    pub hint: Option<String>,
}

impl PromoteSettings {
    /// The gates of promotions into `env` (defaults when it has no section).
    pub fn for_env(&self, env: &str) -> EnvPromote {
        self.env.get(env).cloned().unwrap_or_else(|| EnvPromote {
            allow_freeze_override: true,
            ..EnvPromote::default()
        })
    }

    /// Checks the values against each other and against `order` (the environments of
    /// `[environments]`): every `[promote.env.<ENV>]` names one of them, the version key
    /// is a dotted key, the branch a branch name, the durations and attempts usable.
    pub fn problems(&self, order: &[String]) -> Vec<PromoteProblem> {
        let mut out = Vec::new();
        let mut bad = |key: String, message: String, hint: Option<String>| {
            out.push(PromoteProblem { key, message, hint })
        };
        if self
            .version_key
            .split('.')
            .any(|part| part.trim().is_empty())
        {
            bad(
                "version-key".into(),
                format!(
                    "`{}` is not a dotted key like `service.image.tag`",
                    self.version_key
                ),
                None,
            );
        }
        let branch_ok = !self.branch.is_empty()
            && !self.branch.starts_with('-')
            && !self.branch.contains("..")
            && self
                .branch
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.'));
        if !branch_ok {
            bad(
                "branch".into(),
                format!("`{}` is not a branch name", self.branch),
                None,
            );
        }
        if self.push_attempts == 0 {
            bad("push-attempts".into(), "must be at least 1".into(), None);
        }
        if self.lock_timeout.0 < Duration::from_secs(10) {
            bad(
                "lock-timeout".into(),
                format!("{} is shorter than 10s", self.lock_timeout),
                None,
            );
        }
        for (env, gates) in &self.env {
            if !order.iter().any(|e| e == env) {
                let hint = shipgate_stdx::text::closest(env, order.iter().map(String::as_str))
                    .map(|m| format!("did you mean `{m}`?"));
                bad(
                    format!("env.{env}"),
                    format!(
                        "`{env}` is not in [environments] order ({})",
                        order.join(", ")
                    ),
                    hint,
                );
            }
            if gates.rto.is_some_and(|s| s.0.is_zero()) {
                bad(
                    format!("env.{env}.rto"),
                    "must be longer than 0s (leave it out for the default, 5m)".into(),
                    None,
                );
            }
            if gates.soak.is_some_and(|s| s.0.is_zero()) {
                bad(
                    format!("env.{env}.soak"),
                    "must be longer than 0s (leave it out for no soak)".into(),
                    None,
                );
            }
        }
        for (key, message, hint) in crate::target::problems(&self.target, order) {
            bad(key, message, hint);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct File {
        promote: PromoteSettings,
    }

    fn parse(text: &str) -> Result<PromoteSettings, String> {
        toml::from_str::<File>(text)
            .map(|f| f.promote)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_full_section_parses() {
        let s = parse(
            r#"
[promote]
version-key = "service.image.tag"
max-clock-skew = "2m"

[promote.env.staging]
verification = "canary"
soak = "30m"

[promote.env.prod]
soak = "2h"
approvals = 2
allow-freeze-override = false

[[promote.env.prod.freeze]]
from = "Fri 16:00"
to = "Mon 08:00"
time-zone = "Europe/Berlin"

[[promote.env.prod.freeze]]
date = "2026-12-24"
time-zone = "Europe/Berlin"

[[promote.env.prod.freeze]]
start = "2026-12-20T00:00:00+01:00"
end = "2027-01-04T08:00:00+01:00"
"#,
        )
        .expect("parses");
        assert_eq!(s.version_key, "service.image.tag");
        assert_eq!(s.max_clock_skew.secs(), 120.0);
        let prod = s.for_env("prod");
        assert_eq!(prod.approvals, 2);
        assert!(!prod.allow_freeze_override);
        assert_eq!(prod.freeze.len(), 3);
        assert_eq!(prod.soak.map(|d| d.secs()), Some(7200.0));
        let dev = s.for_env("dev");
        assert!(
            dev.allow_freeze_override,
            "an absent section allows overrides"
        );
        assert_eq!(dev.verification, Verification::Canary);
        let order: Vec<String> = ["dev", "staging", "prod"].map(String::from).into();
        assert_eq!(s.problems(&order), vec![]);
    }

    #[test]
    fn unknown_keys_and_environments_are_refused() {
        let err = parse("[promote]\nversion-kye = \"x\"\n").expect_err("typo");
        assert!(err.contains("unknown field `version-kye`"), "{err}");
        let err = parse("[promote.env.prod]\nsoak = \"2 hours\"\n").expect_err("duration");
        assert!(err.contains("not a duration"), "{err}");
        let s = parse("[promote.env.prdo]\napprovals = 1\n").expect("parses");
        let order: Vec<String> = ["dev", "staging", "prod"].map(String::from).into();
        let problems = s.problems(&order);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].key, "env.prdo");
        assert_eq!(problems[0].hint.as_deref(), Some("did you mean `prod`?"));
    }

    #[test]
    fn values_that_cannot_work_are_reported_at_their_key() {
        let s = PromoteSettings {
            version_key: "service..tag".into(),
            branch: "-x".into(),
            push_attempts: 0,
            lock_timeout: HumanDuration(Duration::from_secs(1)),
            ..PromoteSettings::default()
        };
        let keys: Vec<String> = s.problems(&[]).into_iter().map(|p| p.key).collect();
        assert_eq!(
            keys,
            ["version-key", "branch", "push-attempts", "lock-timeout"]
        );
    }
}
