//! The alarms that stop a canary (`[canary.alarms]`) or a promotion (`[promote.env.<ENV>]
//! alarms`): one setting, read by `shipgate-canary` and gated by `shipgate-promote`.

use serde::{Deserialize, Serialize};

/// What `INSUFFICIENT_DATA` counts as.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum InsufficientData {
    /// Not an alarm (as CodeDeploy); shown in the evidence.
    #[default]
    Ok,
    /// An alarm: the canary fails.
    Alarm,
}

/// `[canary.alarms]`: the alarms that stop a canary.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AlarmsConfig {
    /// CloudWatch alarm names (placeholders allowed, e.g. `shop-{{env}}-high-cpu`); each
    /// must exist.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cloudwatch: Vec<String>,
    /// Every CloudWatch alarm whose name starts with this; at least one must exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudwatch_prefix: Option<String>,
    /// What `INSUFFICIENT_DATA` counts as (default `ok`: not an alarm).
    #[serde(default)]
    pub insufficient_data: InsufficientData,
    /// A PromQL query whose every series is a firing alert, e.g.
    /// `ALERTS{alertstate="firing",severity="critical"}` (asked of `[canary.prometheus]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<String>,
}

impl AlarmsConfig {
    /// Whether it names any alarm at all.
    pub fn is_empty(&self) -> bool {
        self.cloudwatch.is_empty() && self.cloudwatch_prefix.is_none() && self.prometheus.is_none()
    }
}
