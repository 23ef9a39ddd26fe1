//! `[canary]` in shipgate.toml: rollout steps, judging cadence, failure policy and the
//! metrics to judge, with their validation.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The placeholders a query template may use.
pub const PLACEHOLDERS: [&str; 4] = ["version", "baseline_version", "env", "interval"];

/// `[canary]`: how traffic moves and how the canary is judged.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct CanarySettings {
    /// Traffic steps, strictly increasing weights ending at 100.
    pub steps: Steps,
    /// How often the metrics are queried and judged.
    pub interval: HumanDuration,
    /// The whole rollout's limit; still undecided then = inconclusive.
    pub max_duration: HumanDuration,
    /// The overall false-rollback bound, split among metrics and their tests.
    pub alpha: f64,
    /// Consecutive inconclusive intervals (no data, NaN, provider error) a metric may have;
    /// one more fails safe.
    pub consecutive_error_limit: u32,
    /// What an undecided canary at `max-duration` does.
    pub on_inconclusive: OnInconclusive,
    /// The metrics to judge.
    pub metrics: Vec<MetricConfig>,
    /// `[canary.prometheus]`: where the metrics are queried (needed by `canary run`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<crate::provider::PrometheusConfig>,
    /// `[canary.command]`: the command actuator (needed by `canary run`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<crate::actuator::CommandActuator>,
    /// `[canary.webhook]`: the webhook actuator (the alternative to `[canary.command]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook: Option<crate::webhook::WebhookActuator>,
    /// `[canary.env.<ENV>]`: per-environment overrides, applied by
    /// [`CanarySettings::for_env`]. Empty in effective settings (and in recordings).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, CanaryOverride>,
}

/// `[canary.env.<ENV>]`: the `[canary]` keys one environment sets differently.
///
/// Every key set here replaces the base key wholesale: `steps` or `[[…metrics]]` replace
/// the whole list, `[….prometheus]` the whole table; nothing is merged. `command` and
/// `webhook` are the two forms of the one actuator: an override that sets either replaces
/// the base actuator, whichever form it had.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CanaryOverride {
    /// Replaces `steps`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Steps>,
    /// Replaces `interval`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<HumanDuration>,
    /// Replaces `max-duration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration: Option<HumanDuration>,
    /// Replaces `alpha`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    /// Replaces `consecutive-error-limit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consecutive_error_limit: Option<u32>,
    /// Replaces `on-inconclusive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_inconclusive: Option<OnInconclusive>,
    /// `[[canary.env.<ENV>.metrics]]`: replaces the whole list of metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Vec<MetricConfig>>,
    /// `[canary.env.<ENV>.prometheus]`: replaces the whole `[canary.prometheus]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<crate::provider::PrometheusConfig>,
    /// `[canary.env.<ENV>.command]`: replaces the actuator (command or webhook).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<crate::actuator::CommandActuator>,
    /// `[canary.env.<ENV>.webhook]`: replaces the actuator (command or webhook).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<crate::webhook::WebhookActuator>,
}

impl Default for CanarySettings {
    fn default() -> Self {
        let step = |weight, hold: Option<u64>| Step {
            weight,
            hold: hold.map(|s| HumanDuration(Duration::from_secs(s))),
        };
        Self {
            steps: Steps(vec![
                step(5, Some(120)),
                step(25, Some(300)),
                step(50, Some(300)),
                step(100, None),
            ]),
            interval: HumanDuration(Duration::from_secs(30)),
            max_duration: HumanDuration(Duration::from_secs(30 * 60)),
            alpha: 0.01,
            consecutive_error_limit: 4,
            on_inconclusive: OnInconclusive::Rollback,
            metrics: MetricConfig::platform_defaults(),
            prometheus: None,
            command: None,
            webhook: None,
            env: BTreeMap::new(),
        }
    }
}

/// One traffic step.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Step {
    /// Percent of traffic on the canary, 1..=100.
    pub weight: u8,
    /// How long to judge at this weight before moving on (required except on 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<HumanDuration>,
}

/// Steps, checked when parsed: not empty, weights in 1..=100, strictly increasing, ending
/// at 100, every step before the last with a `hold`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Steps(Vec<Step>);

impl Steps {
    /// Checks the steps (see the type's documentation).
    pub fn new(steps: Vec<Step>) -> Result<Self, String> {
        let Some(last) = steps.last() else {
            return Err("steps must not be empty; the last one must have weight = 100".into());
        };
        for (i, s) in steps.iter().enumerate() {
            if s.weight == 0 || s.weight > 100 {
                return Err(format!(
                    "steps[{i}].weight = {} is not a percentage in 1..=100",
                    s.weight
                ));
            }
            if i > 0 && s.weight <= steps[i - 1].weight {
                return Err(format!(
                    "steps must increase: steps[{i}].weight = {} follows {}",
                    s.weight,
                    steps[i - 1].weight
                ));
            }
            if i + 1 < steps.len() && s.hold.is_none_or(|h| h.0.is_zero()) {
                return Err(format!(
                    "steps[{i}] (weight {}) needs a non-zero hold, e.g. hold = \"5m\"",
                    s.weight
                ));
            }
        }
        if last.weight != 100 {
            return Err(format!(
                "the last step must have weight = 100, not {}",
                last.weight
            ));
        }
        Ok(Self(steps))
    }

    /// The steps in order.
    pub fn as_slice(&self) -> &[Step] {
        &self.0
    }

    /// The sum of the holds.
    pub fn total_hold(&self) -> Duration {
        self.0.iter().filter_map(|s| s.hold).map(|h| h.0).sum()
    }
}

impl<'de> Deserialize<'de> for Steps {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Steps::new(Vec::<Step>::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A duration written like `90s`, `2m`, `1h30m` or `500ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    /// Parses `1h30m`, `2m`, `45s`, `500ms` (units h, m, s, ms; at least one part).
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("`{text}` is not a duration; write e.g. \"30s\", \"2m\", \"1h30m\"");
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err(bad());
        }
        let mut total = Duration::ZERO;
        while !rest.is_empty() {
            let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
            if digits == 0 {
                return Err(bad());
            }
            let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
            rest = &rest[digits..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let part = match &rest[..unit_len] {
                "h" => Duration::from_secs(n.saturating_mul(3600)),
                "m" => Duration::from_secs(n.saturating_mul(60)),
                "s" => Duration::from_secs(n),
                "ms" => Duration::from_millis(n),
                _ => return Err(bad()),
            };
            total = total.saturating_add(part);
            rest = &rest[unit_len..];
        }
        Ok(Self(total))
    }

    /// Seconds, with fractions.
    pub fn secs(self) -> f64 {
        self.0.as_secs_f64()
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms == 0 {
            return f.write_str("0s");
        }
        if ms % 1000 != 0 {
            return write!(f, "{ms}ms");
        }
        let s = ms / 1000;
        let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
        if h > 0 {
            write!(f, "{h}h")?;
        }
        if m > 0 {
            write!(f, "{m}m")?;
        }
        if s > 0 {
            write!(f, "{s}s")?;
        }
        Ok(())
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        HumanDuration::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// What an undecided canary does at `max-duration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnInconclusive {
    /// Roll back (fail safe).
    #[default]
    Rollback,
    /// Keep the current weight and stop, for a human to decide.
    Pause,
}

/// What a metric measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MetricKind {
    /// Events over trials per interval, e.g. errors over requests.
    Counts,
    /// A Prometheus histogram: cumulative bucket counts per interval.
    Latency,
    /// One value per interval, e.g. CPU seconds or memory.
    Gauge,
}

impl MetricKind {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Counts => "counts",
            MetricKind::Latency => "latency",
            MetricKind::Gauge => "gauge",
        }
    }
}

/// Which way is worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// A larger value is a regression (error rates, latency).
    #[default]
    Higher,
    /// A smaller value is a regression (success or conversion rates, throughput).
    Lower,
}

/// Query templates for one side (canary or baseline); which ones a kind needs is checked
/// by [`CanarySettings::validate`].
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Queries {
    /// `counts`: events in the interval (e.g. 5xx responses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<String>,
    /// `counts` and `latency`: trials in the interval (requests). For `latency` optional:
    /// the `+Inf` bucket is the request count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<String>,
    /// `latency`: bucket increases by `le` in the interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buckets: Option<String>,
    /// `gauge`: the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl Queries {
    fn all(&self) -> impl Iterator<Item = (&'static str, &String)> {
        [
            ("errors", &self.errors),
            ("requests", &self.requests),
            ("buckets", &self.buckets),
            ("value", &self.value),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
    }
}

/// One `[[canary.metrics]]` entry.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MetricConfig {
    /// Unique name, shown in reports.
    pub name: String,
    /// What is measured.
    pub kind: MetricKind,
    /// Queries for the canary.
    pub canary: Queries,
    /// Queries for the baseline; absent = absolute threshold only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Queries>,
    /// Which way is worse.
    #[serde(default)]
    pub direction: Direction,
    /// Absolute limit: `counts` a rate in (0, 1) (0.001 = 0.1 %), `latency` seconds at
    /// `quantile`, `gauge` a value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// `latency`: the quantile the threshold is for (default 0.95: "p95 < threshold").
    #[serde(default = "default_quantile")]
    pub quantile: f64,
    /// `latency`: the baseline quantiles whose nearest bucket boundaries are compared.
    #[serde(default = "default_compare_quantiles")]
    pub compare_quantiles: Vec<f64>,
    /// Allowed relative change against the baseline (0.1 = 10 % worse is still fine).
    #[serde(default)]
    pub tolerance: f64,
    /// A failing critical metric rolls the canary back; a non-critical one only warns.
    #[serde(default = "yes")]
    pub critical: bool,
    /// Requests the canary (and the baseline) must have served before the metric can pass.
    #[serde(default = "default_min_requests")]
    pub min_requests: u64,
    /// Intervals with data the metric needs before it can pass.
    #[serde(default = "default_min_intervals")]
    pub min_intervals: u32,
}

fn default_quantile() -> f64 {
    0.95
}
fn default_compare_quantiles() -> Vec<f64> {
    vec![0.5, 0.95, 0.99]
}
fn yes() -> bool {
    true
}
fn default_min_requests() -> u64 {
    1000
}
fn default_min_intervals() -> u32 {
    3
}

impl MetricConfig {
    /// A metric with every optional field at its default.
    pub fn new(name: &str, kind: MetricKind, canary: Queries, baseline: Option<Queries>) -> Self {
        Self {
            name: name.into(),
            kind,
            canary,
            baseline,
            direction: Direction::Higher,
            threshold: None,
            quantile: default_quantile(),
            compare_quantiles: default_compare_quantiles(),
            tolerance: 0.0,
            critical: true,
            min_requests: default_min_requests(),
            min_intervals: default_min_intervals(),
        }
    }

    /// The platform's SLOs for Spring services behind Micrometer's Prometheus registry:
    /// error rate < 0.1 % and p95 < 2 s, each also compared with the baseline.
    pub fn platform_defaults() -> Vec<Self> {
        let sel = |v: &str| format!("version=\"{{{{{v}}}}}\",env=\"{{{{env}}}}\"");
        let counts = |v: &str| Queries {
            errors: Some(format!(
                "sum(increase(http_server_requests_seconds_count{{{},status=~\"5..\"}}[{{{{interval}}}}]))",
                sel(v)
            )),
            requests: Some(format!(
                "sum(increase(http_server_requests_seconds_count{{{}}}[{{{{interval}}}}]))",
                sel(v)
            )),
            ..Queries::default()
        };
        let buckets = |v: &str| Queries {
            buckets: Some(format!(
                "sum by (le) (increase(http_server_requests_seconds_bucket{{{}}}[{{{{interval}}}}]))",
                sel(v)
            )),
            ..Queries::default()
        };
        let mut errors = MetricConfig::new(
            "error-rate",
            MetricKind::Counts,
            counts("version"),
            Some(counts("baseline_version")),
        );
        errors.threshold = Some(0.001);
        let mut latency = MetricConfig::new(
            "latency",
            MetricKind::Latency,
            buckets("version"),
            Some(buckets("baseline_version")),
        );
        latency.threshold = Some(2.0);
        vec![errors, latency]
    }
}

/// One problem in `[canary]`, with the key it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("canary.{key}: {message}")]
pub struct ConfigProblem {
    /// Dotted path below `[canary]`, e.g. `metrics[1].threshold`.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl CanarySettings {
    /// The settings `env` runs with: these with `[canary.env.<env>]` applied (each key it
    /// sets replaces the base key wholesale), `env` emptied, validated. An environment
    /// without an override gets the base. Problems the override causes are keyed
    /// `env.<env>.…`; problems the base already has keep their plain key.
    pub fn for_env(&self, env: &str) -> Result<CanarySettings, Vec<ConfigProblem>> {
        let effective = self.with_override(self.env.get(env));
        let mut problems = effective.problems();
        if self.env.contains_key(env) {
            let base = self.problems();
            for p in problems.iter_mut().filter(|p| !base.contains(p)) {
                p.key = format!("env.{env}.{}", p.key);
            }
        }
        if problems.is_empty() {
            Ok(effective)
        } else {
            Err(problems)
        }
    }

    /// These settings with `over` applied and no overrides left.
    fn with_override(&self, over: Option<&CanaryOverride>) -> CanarySettings {
        let mut s = CanarySettings {
            env: BTreeMap::new(),
            ..self.clone()
        };
        let Some(o) = over else { return s };
        let o = o.clone();
        if let Some(v) = o.steps {
            s.steps = v;
        }
        if let Some(v) = o.interval {
            s.interval = v;
        }
        if let Some(v) = o.max_duration {
            s.max_duration = v;
        }
        if let Some(v) = o.alpha {
            s.alpha = v;
        }
        if let Some(v) = o.consecutive_error_limit {
            s.consecutive_error_limit = v;
        }
        if let Some(v) = o.on_inconclusive {
            s.on_inconclusive = v;
        }
        if let Some(v) = o.metrics {
            s.metrics = v;
        }
        if o.prometheus.is_some() {
            s.prometheus = o.prometheus;
        }
        if o.command.is_some() || o.webhook.is_some() {
            s.command = o.command;
            s.webhook = o.webhook;
        }
        s
    }

    /// Checks what the types cannot: ranges, per-kind queries, template placeholders,
    /// unique names, a maximum duration that fits the holds; and the same for each
    /// environment's effective settings, keyed `env.<ENV>.…`. Returns every problem.
    pub fn validate(&self) -> Result<(), Vec<ConfigProblem>> {
        let mut problems = self.problems();
        for env in self.env.keys() {
            if let Err(e) = shipgate_stdx::names::check_env(env) {
                problems.push(ConfigProblem {
                    key: format!("env.{env}"),
                    message: e.to_string(),
                });
            }
        }
        for (env, over) in &self.env {
            let effective = self.with_override(Some(over));
            let more = env_problems(env, &effective, &problems);
            problems.extend(more);
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// The problems of these settings alone, overrides not looked at.
    fn problems(&self) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        let mut bad = |key: String, message: String| problems.push(ConfigProblem { key, message });
        if self.interval.0 < Duration::from_secs(1) {
            bad(
                "interval".into(),
                format!("{} is shorter than 1s", self.interval),
            );
        }
        let holds = self.steps.total_hold();
        if self.max_duration.0 < holds {
            bad(
                "max-duration".into(),
                format!(
                    "{} is shorter than the steps' holds ({})",
                    self.max_duration,
                    HumanDuration(holds)
                ),
            );
        }
        if !(self.alpha > 0.0 && self.alpha <= 0.5) {
            bad("alpha".into(), format!("{} is not in (0, 0.5]", self.alpha));
        }
        if self.consecutive_error_limit == 0 {
            bad(
                "consecutive-error-limit".into(),
                "must be at least 1".into(),
            );
        }
        if self.metrics.is_empty() {
            bad(
                "metrics".into(),
                "no metrics: a canary judged on nothing can never pass".into(),
            );
        }
        if let Some(Err(e)) = self
            .command
            .as_ref()
            .map(crate::actuator::CommandActuator::validate)
        {
            bad("command".into(), e);
        }
        if let Some(Err(e)) = self
            .webhook
            .as_ref()
            .map(crate::webhook::WebhookActuator::validate)
        {
            bad("webhook".into(), e);
        }
        if self.command.is_some() && self.webhook.is_some() {
            bad(
                "webhook".into(),
                "both [canary.command] and [canary.webhook] are set; exactly one actuator must move traffic".into(),
            );
        }
        let url = self.prometheus.as_ref().map(|p| p.url.as_str());
        if let Some(url) = url.filter(|u| !(u.starts_with("http://") || u.starts_with("https://")))
        {
            bad(
                "prometheus.url".into(),
                format!("`{url}` is not an http:// or https:// URL"),
            );
        }
        let mut names = BTreeSet::new();
        for (i, m) in self.metrics.iter().enumerate() {
            let key = |k: &str| format!("metrics[{i}].{k}");
            if m.name.trim().is_empty() {
                bad(key("name"), "must not be empty".into());
            } else if !names.insert(m.name.as_str()) {
                bad(
                    key("name"),
                    format!("`{}` is used by another metric", m.name),
                );
            }
            let needed: &[&str] = match m.kind {
                MetricKind::Counts => &["errors", "requests"],
                MetricKind::Latency => &["buckets"],
                MetricKind::Gauge => &["value"],
            };
            for (side, queries) in [
                ("canary", Some(&m.canary)),
                ("baseline", m.baseline.as_ref()),
            ] {
                let Some(q) = queries else { continue };
                for need in needed {
                    if !q.all().any(|(k, _)| k == *need) {
                        bad(
                            key(side),
                            format!("a {} metric needs a `{need}` query", m.kind.as_str()),
                        );
                    }
                }
                for (k, template) in q.all() {
                    if !(needed.contains(&k) || k == "requests" && m.kind == MetricKind::Latency) {
                        bad(
                            format!("metrics[{i}].{side}.{k}"),
                            format!("not used by a {} metric", m.kind.as_str()),
                        );
                    }
                    if let Err(e) = check_template(template) {
                        bad(format!("metrics[{i}].{side}.{k}"), e);
                    }
                }
            }
            if m.threshold.is_none() && m.baseline.is_none() {
                bad(
                    key("threshold"),
                    "give a threshold, a baseline query, or both".into(),
                );
            }
            if let Some(t) = m.threshold {
                let ok = match m.kind {
                    MetricKind::Counts => t > 0.0 && t < 1.0,
                    MetricKind::Latency => t > 0.0 && t.is_finite(),
                    MetricKind::Gauge => t.is_finite(),
                };
                if !ok {
                    let want = match m.kind {
                        MetricKind::Counts => "a rate in (0, 1), e.g. 0.001 for 0.1 %",
                        MetricKind::Latency => "a positive number of seconds",
                        MetricKind::Gauge => "a finite number",
                    };
                    bad(key("threshold"), format!("{t} is not {want}"));
                }
            }
            if m.kind == MetricKind::Latency {
                if m.direction == Direction::Lower {
                    bad(
                        key("direction"),
                        "latency regressions are always higher".into(),
                    );
                }
                if !(m.quantile > 0.0 && m.quantile < 1.0) {
                    bad(key("quantile"), format!("{} is not in (0, 1)", m.quantile));
                }
                if m.baseline.is_some() && m.compare_quantiles.is_empty() {
                    bad(
                        key("compare-quantiles"),
                        "must not be empty when a baseline is compared".into(),
                    );
                }
                if let Some(q) = m
                    .compare_quantiles
                    .iter()
                    .find(|q| !(**q > 0.0 && **q < 1.0))
                {
                    bad(key("compare-quantiles"), format!("{q} is not in (0, 1)"));
                }
            }
            let tol_ok = m.tolerance.is_finite()
                && m.tolerance >= 0.0
                && (m.direction == Direction::Higher || m.tolerance < 1.0);
            if !tol_ok {
                bad(
                    key("tolerance"),
                    format!(
                        "{} is not a relative tolerance in [0, 1) or ≥ 0 for higher",
                        m.tolerance
                    ),
                );
            }
            if m.min_intervals == 0 {
                bad(key("min-intervals"), "must be at least 1".into());
            }
        }
        problems
    }
}

/// The problems of `env`'s effective settings that `base` does not already report, keyed
/// `env.<env>.…`.
fn env_problems(
    env: &str,
    effective: &CanarySettings,
    base: &[ConfigProblem],
) -> Vec<ConfigProblem> {
    effective
        .problems()
        .into_iter()
        .filter(|p| !base.contains(p))
        .map(|p| ConfigProblem {
            key: format!("env.{env}.{}", p.key),
            message: p.message,
        })
        .collect()
}

/// Checks that a query template only uses known `{{placeholders}}` and closes its braces.
pub fn check_template(template: &str) -> Result<(), String> {
    check_placeholders(template, &PLACEHOLDERS)
}

/// One `{{name}}` of a template: where it is (the braces included) and its name, trimmed
/// (`{{ version }}` is `version`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder<'a> {
    /// Byte range of `{{…}}` in the template.
    pub span: std::ops::Range<usize>,
    /// The name inside the braces, without surrounding whitespace.
    pub name: &'a str,
}

/// Every placeholder of `template`, in order; an error for a `{{` that is never closed.
/// Checking ([`check_placeholders`]) and rendering ([`render_with`]) both read templates
/// through this one function, so what is accepted is exactly what is rendered.
pub fn placeholders(template: &str) -> Result<Vec<Placeholder<'_>>, String> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(found) = template[at..].find("{{") {
        let start = at + found;
        let inner = start + 2;
        let end = template[inner..]
            .find("}}")
            .map(|e| inner + e)
            .ok_or_else(|| format!("unclosed `{{{{` in `{template}`"))?;
        out.push(Placeholder {
            span: start..end + 2,
            name: template[inner..end].trim(),
        });
        at = end + 2;
    }
    Ok(out)
}

/// Checks that `template` only uses the placeholders in `known` and closes its braces.
pub fn check_placeholders(template: &str, known: &[&str]) -> Result<(), String> {
    for p in placeholders(template)? {
        if !known.contains(&p.name) {
            let hint = shipgate_stdx::text::did_you_mean(p.name, known)
                .map(|m| format!("did you mean `{{{{{m}}}}}`? "))
                .unwrap_or_default();
            return Err(format!(
                "unknown placeholder `{{{{{}}}}}`; {hint}known: {}",
                p.name,
                known
                    .iter()
                    .map(|k| format!("{{{{{k}}}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    Ok(())
}

/// Fills `{{name}}` placeholders from `vars` (pairs of name and value), values as they are:
/// for query templates, whose values (versions, environment names, durations) were
/// checked where they entered and cannot be read as PromQL syntax.
pub fn render(template: &str, vars: &[(&str, &str)]) -> String {
    render_with(template, vars, str::to_string)
}

/// Fills `{{name}}` placeholders from `vars`, each value passed through `encode` first (a
/// shell command's values are shell-quoted). Placeholders not in `vars` stay as written; a
/// template that does not parse is returned unchanged (validation refuses it first).
pub fn render_with(
    template: &str,
    vars: &[(&str, &str)],
    encode: impl Fn(&str) -> String,
) -> String {
    let Ok(found) = placeholders(template) else {
        return template.to_string();
    };
    let mut out = String::with_capacity(template.len());
    let mut at = 0;
    for p in found {
        let Some((_, value)) = vars.iter().find(|(name, _)| *name == p.name) else {
            continue;
        };
        out.push_str(&template[at..p.span.start]);
        out.push_str(&encode(value));
        at = p.span.end;
    }
    out.push_str(&template[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct File {
        canary: CanarySettings,
    }

    fn parse(text: &str) -> Result<CanarySettings, String> {
        toml::from_str::<File>(text)
            .map(|f| f.canary)
            .map_err(|e| e.to_string())
    }

    fn check_parse_err(text: &str, needle: &str) {
        let err = parse(text).expect_err("must not parse");
        assert!(err.contains(needle), "{err}");
    }

    fn check_invalid(settings: &CanarySettings, key: &str, needle: &str) {
        let problems = settings.validate().expect_err("must be invalid");
        assert!(
            problems
                .iter()
                .any(|p| p.key == key && p.message.contains(needle)),
            "{problems:?}"
        );
    }

    const FULL: &str = r#"
[canary]
steps = [{ weight = 5, hold = "2m" }, { weight = 25, hold = "5m" }, { weight = 50, hold = "5m" }, { weight = 100 }]
interval = "10s"
max-duration = "1h"
alpha = 0.01
consecutive-error-limit = 4
on-inconclusive = "pause"

[canary.prometheus]
url = "https://aps-workspaces.eu-west-1.amazonaws.com/workspaces/ws-1"
timeout = "5s"
retries = 2
bearer-token-env = "PROMETHEUS_TOKEN"

[canary.command]
set-weight = "kubectl argo rollouts set weight shop {{weight}}"
promote = "kubectl argo rollouts promote shop --full"
rollback = "kubectl argo rollouts abort shop"

[[canary.metrics]]
name = "error-rate"
kind = "counts"
canary = { errors = 'sum(increase(http_requests_total{version="{{version}}",code=~"5.."}[{{interval}}]))', requests = 'sum(increase(http_requests_total{version="{{version}}"}[{{interval}}]))' }
baseline = { errors = 'sum(increase(http_requests_total{version="{{baseline_version}}",code=~"5.."}[{{interval}}]))', requests = 'sum(increase(http_requests_total{version="{{baseline_version}}"}[{{interval}}]))' }
threshold = 0.001
tolerance = 0.1
min-requests = 500

[[canary.metrics]]
name = "latency"
kind = "latency"
canary = { buckets = 'sum by (le) (increase(http_duration_seconds_bucket{version="{{version}}"}[{{interval}}]))' }
threshold = 2.0
quantile = 0.95

[[canary.metrics]]
name = "memory"
kind = "gauge"
canary = { value = 'max(process_resident_memory_bytes{version="{{version}}",env="{{env}}"})' }
baseline = { value = 'max(process_resident_memory_bytes{version="{{baseline_version}}",env="{{env}}"})' }
tolerance = 0.2
critical = false
"#;

    #[test]
    fn a_full_section_parses_and_validates() {
        let s = parse(FULL).expect("parses");
        s.validate().expect("valid");
        assert_eq!(s.steps.as_slice().len(), 4);
        assert_eq!(
            s.steps.as_slice()[1].hold,
            Some(HumanDuration(Duration::from_secs(300)))
        );
        assert_eq!(s.interval.secs(), 10.0);
        assert_eq!(s.on_inconclusive, OnInconclusive::Pause);
        assert_eq!(s.metrics[0].min_requests, 500);
        assert_eq!(s.metrics[1].baseline, None);
        assert!(!s.metrics[2].critical);
        assert_eq!(s.metrics[2].direction, Direction::Higher);
        let prometheus = s.prometheus.as_ref().expect("prometheus");
        assert_eq!((prometheus.retries, prometheus.timeout.secs()), (2, 5.0));
        assert_eq!(s.command.as_ref().map(|c| c.rollback_attempts), Some(3));
    }

    #[test]
    fn sigv4_parses_with_the_aps_service_by_default() {
        let text = FULL.replace(
            "bearer-token-env = \"PROMETHEUS_TOKEN\"",
            "sigv4 = { region = \"eu-west-1\" }",
        );
        let s = parse(&text).expect("parses");
        let sigv4 = s
            .prometheus
            .as_ref()
            .and_then(|p| p.sigv4.clone())
            .expect("sigv4");
        assert_eq!(
            (sigv4.region.as_str(), sigv4.service.as_str()),
            ("eu-west-1", "aps")
        );
        let typo = FULL.replace(
            "bearer-token-env = \"PROMETHEUS_TOKEN\"",
            "sigv4 = { regoin = \"eu-west-1\" }",
        );
        assert!(parse(&typo).is_err());
    }

    #[test]
    fn provider_and_actuator_are_checked() {
        let mut s = parse(FULL).expect("parses");
        if let Some(p) = s.prometheus.as_mut() {
            p.url = "prometheus:9090".into();
        }
        check_invalid(&s, "prometheus.url", "not an http:// or https:// URL");
        let mut s = parse(FULL).expect("parses");
        if let Some(c) = s.command.as_mut() {
            c.promote = "deploy {{versoin}}".into();
        }
        check_invalid(&s, "command", "promote: unknown placeholder `{{versoin}}`");
        check_parse_err(
            "[canary.command]\nset-weight = \"x\"\npromote = \"x\"\nrollback = \"x\"\nabort = \"x\"\n",
            "unknown field `abort`",
        );
    }

    #[test]
    fn the_webhook_actuator_parses_and_excludes_the_command_one() {
        let s = parse("[canary.webhook]\nurl = \"https://hooks.example.com/canary\"\n")
            .expect("parses");
        s.validate().expect("valid");
        let w = s.webhook.as_ref().expect("webhook");
        assert_eq!((w.timeout.secs(), w.rollback_attempts), (10.0, 3));
        let s = parse("[canary.webhook]\nurl = \"hooks\"\n").expect("parses");
        check_invalid(
            &s,
            "webhook",
            "url: `hooks` is not an http:// or https:// URL",
        );
        let mut s = parse(FULL).expect("parses");
        s.webhook = Some(crate::webhook::WebhookActuator {
            url: "http://hooks".into(),
            timeout: HumanDuration(Duration::from_secs(1)),
            rollback_attempts: 1,
            bearer_token_env: None,
        });
        check_invalid(&s, "webhook", "exactly one actuator");
        check_parse_err(
            "[canary.webhook]\nurl = \"http://x\"\nheaders = 1\n",
            "unknown field `headers`",
        );
    }

    #[test]
    fn defaults_are_valid_and_encode_the_slos() {
        let s = CanarySettings::default();
        s.validate().expect("valid");
        assert_eq!(s.consecutive_error_limit, 4);
        assert_eq!(s.on_inconclusive, OnInconclusive::Rollback);
        assert_eq!(s.metrics[0].threshold, Some(0.001));
        assert_eq!(s.metrics[1].threshold, Some(2.0));
        assert_eq!(s.metrics[1].quantile, 0.95);
        assert_eq!(parse("[canary]\n").expect("empty section"), s);
    }

    #[test]
    fn settings_round_trip_through_json() {
        let s = parse(FULL).expect("parses");
        let json = serde_json::to_string(&s).expect("serializes");
        let back: CanarySettings = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, s);
    }

    #[test]
    fn bad_steps_are_refused_when_parsed() {
        check_parse_err(
            "[canary]\nsteps = [{ weight = 50, hold = \"1m\" }, { weight = 25, hold = \"1m\" }, { weight = 100 }]",
            "must increase",
        );
        check_parse_err(
            "[canary]\nsteps = [{ weight = 5 }, { weight = 100 }]",
            "needs a non-zero hold",
        );
        check_parse_err(
            "[canary]\nsteps = [{ weight = 5, hold = \"1m\" }, { weight = 50, hold = \"1m\" }]",
            "weight = 100",
        );
        check_parse_err("[canary]\nsteps = []", "must not be empty");
        check_parse_err(
            "[canary]\nsteps = [{ weight = 0, hold = \"1m\" }, { weight = 100 }]",
            "1..=100",
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        check_parse_err("[canary]\nintervall = \"10s\"", "unknown field `intervall`");
        check_parse_err("[canary]\ninterval = \"10 parsecs\"", "not a duration");
        check_parse_err("[canary]\non-inconclusive = \"ignore\"", "unknown variant");
        check_parse_err(
            "[[canary.metrics]]\nname = \"x\"\nkind = \"counts\"\ncanary = { error = \"q\" }\n",
            "unknown field `error`",
        );
    }

    #[test]
    fn validation_reports_each_problem_at_its_key() {
        let s = CanarySettings {
            max_duration: HumanDuration(Duration::from_secs(60)),
            ..CanarySettings::default()
        };
        check_invalid(&s, "max-duration", "shorter than the steps' holds");

        let s = CanarySettings {
            alpha: 0.0,
            ..CanarySettings::default()
        };
        check_invalid(&s, "alpha", "not in (0, 0.5]");

        let mut s = CanarySettings::default();
        s.metrics[0].threshold = Some(1.5);
        check_invalid(&s, "metrics[0].threshold", "not a rate in (0, 1)");

        let mut s = CanarySettings::default();
        s.metrics[1].name = "error-rate".into();
        check_invalid(&s, "metrics[1].name", "used by another metric");

        let mut s = CanarySettings::default();
        s.metrics[0].canary.errors = None;
        check_invalid(&s, "metrics[0].canary", "needs a `errors` query");

        let mut s = CanarySettings::default();
        s.metrics[0].canary.errors = Some("sum(x{v=\"{{verison}}\"})".into());
        check_invalid(
            &s,
            "metrics[0].canary.errors",
            "unknown placeholder `{{verison}}`",
        );

        let mut s = CanarySettings::default();
        s.metrics[1].baseline = None;
        s.metrics[1].threshold = None;
        check_invalid(
            &s,
            "metrics[1].threshold",
            "give a threshold, a baseline query, or both",
        );

        let mut s = CanarySettings::default();
        s.metrics[1].direction = Direction::Lower;
        check_invalid(&s, "metrics[1].direction", "always higher");

        let mut s = CanarySettings::default();
        s.metrics.clear();
        check_invalid(&s, "metrics", "can never pass");
    }

    /// FULL plus overrides for staging (a faster rollout, one metric, another Prometheus)
    /// and prod (only the alpha).
    fn with_overrides() -> CanarySettings {
        let text = format!(
            "{FULL}{}",
            r#"
[canary.env.staging]
steps = [{ weight = 50, hold = "1m" }, { weight = 100 }]
interval = "5s"

[canary.env.staging.prometheus]
url = "http://prometheus.staging:9090"

[[canary.env.staging.metrics]]
name = "errors-only"
kind = "counts"
canary = { errors = 'sum(e{version="{{version}}"})', requests = 'sum(r{version="{{version}}"})' }
threshold = 0.01

[canary.env.prod]
alpha = 0.001
"#
        );
        parse(&text).expect("parses")
    }

    #[test]
    fn an_override_replaces_its_keys_for_its_environment_only() {
        let base = with_overrides();
        base.validate().expect("valid");

        let staging = base.for_env("staging").expect("valid");
        assert_eq!(staging.steps.as_slice().len(), 2);
        assert_eq!(staging.interval.secs(), 5.0);
        assert_eq!(staging.metrics.len(), 1, "the list is replaced, not merged");
        assert_eq!(staging.metrics[0].name, "errors-only");
        let p = staging.prometheus.as_ref().expect("prometheus");
        assert_eq!(p.url, "http://prometheus.staging:9090");
        assert_eq!(
            (p.retries, p.bearer_token_env.as_deref()),
            (3, None),
            "the table is replaced, not merged"
        );
        assert_eq!(staging.alpha, base.alpha);
        assert_eq!(staging.command, base.command);
        assert_eq!(staging.on_inconclusive, OnInconclusive::Pause);

        let prod = base.for_env("prod").expect("valid");
        assert_eq!(prod.alpha, 0.001);
        assert_eq!(prod.steps, base.steps);
        assert_eq!(prod.metrics, base.metrics);
        assert_eq!(prod.prometheus, base.prometheus);
    }

    #[test]
    fn an_environment_without_an_override_gets_the_base() {
        let base = with_overrides();
        let dev = base.for_env("dev").expect("valid");
        assert_eq!(
            dev,
            CanarySettings {
                env: BTreeMap::new(),
                ..base.clone()
            }
        );
        assert_eq!(
            CanarySettings::default().for_env("prod"),
            Ok(CanarySettings::default())
        );
    }

    #[test]
    fn effective_settings_have_no_overrides_left() {
        let base = with_overrides();
        assert_eq!(base.env.len(), 2);
        for env in ["dev", "staging", "prod"] {
            let s = base.for_env(env).expect("valid");
            assert!(s.env.is_empty(), "{env}");
            let json = serde_json::to_string(&s).expect("serializes");
            assert!(!json.contains("\"env\":{"), "{json}");
        }
    }

    #[test]
    fn an_override_of_the_actuator_replaces_either_form() {
        let text = format!(
            "{FULL}{}",
            "[canary.env.prod.webhook]\nurl = \"https://hooks.example.com/canary\"\n"
        );
        let base = parse(&text).expect("parses");
        base.validate().expect("valid");
        let prod = base.for_env("prod").expect("valid");
        assert_eq!(prod.command, None);
        assert!(prod.webhook.is_some());
        assert!(base.for_env("dev").expect("valid").command.is_some());
    }

    #[test]
    fn an_invalid_override_is_reported_at_its_prefixed_key() {
        let text = format!(
            "{FULL}{}",
            r#"
[canary.env.prod]
alpha = 0.9

[[canary.env.prod.metrics]]
name = "error-rate"
kind = "counts"
canary = { errors = "e", requests = "r" }
threshold = 1.5
"#
        );
        let s = parse(&text).expect("parses");
        check_invalid(&s, "env.prod.alpha", "not in (0, 0.5]");
        check_invalid(&s, "env.prod.metrics[0].threshold", "not a rate in (0, 1)");
        let problems = s.for_env("prod").expect_err("invalid");
        assert_eq!(
            problems.iter().map(|p| p.key.as_str()).collect::<Vec<_>>(),
            ["env.prod.alpha", "env.prod.metrics[0].threshold"]
        );
        assert_eq!(
            problems[0].to_string(),
            "canary.env.prod.alpha: 0.9 is not in (0, 0.5]"
        );
        s.for_env("staging").expect("the base is valid");

        // An override whose steps outgrow the base's max-duration.
        let text = format!(
            "{FULL}{}",
            "[canary.env.prod]\nsteps = [{ weight = 1, hold = \"2h\" }, { weight = 100 }]\n"
        );
        check_invalid(
            &parse(&text).expect("parses"),
            "env.prod.max-duration",
            "shorter than the steps' holds",
        );
    }

    #[test]
    fn a_base_problem_is_reported_once_not_per_environment() {
        let mut s = with_overrides();
        s.consecutive_error_limit = 0;
        let problems = s.validate().expect_err("invalid");
        assert_eq!(
            problems.iter().map(|p| p.key.as_str()).collect::<Vec<_>>(),
            ["consecutive-error-limit"]
        );
        let problems = s.for_env("prod").expect_err("still invalid in prod");
        assert_eq!(problems[0].key, "consecutive-error-limit");
        s.env.get_mut("prod").expect("prod").consecutive_error_limit = Some(2);
        s.for_env("prod").expect("prod fixes it");
    }

    #[test]
    fn an_override_for_an_invalid_environment_name_is_refused() {
        let s = parse("[canary.env.\"prod;id\"]\nalpha = 0.02\n").expect("parses");
        check_invalid(&s, "env.prod;id", "is not a valid environment name");
    }

    #[test]
    fn unknown_keys_and_bad_values_in_an_override_are_refused() {
        check_parse_err(
            "[canary.env.prod]\nstpes = []\n",
            "unknown field `stpes`, expected one of `steps`",
        );
        check_parse_err("[canary.env.prod]\nenv = {}\n", "unknown field `env`");
        check_parse_err(
            "[canary.env.prod]\nsteps = [{ weight = 5 }, { weight = 100 }]\n",
            "needs a non-zero hold",
        );
        check_parse_err(
            "[canary.env.prod.prometheus]\nurl = \"http://p\"\ntimeot = \"1s\"\n",
            "unknown field `timeot`",
        );
    }

    #[test]
    fn overrides_round_trip_and_old_recordings_still_parse() {
        let s = with_overrides();
        let json = serde_json::to_string(&s).expect("serializes");
        let back: CanarySettings = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, s);
        let old = serde_json::to_string(&CanarySettings::default()).expect("serializes");
        assert!(!old.contains("\"env\""), "{old}");
        let back: CanarySettings = serde_json::from_str(&old).expect("deserializes");
        assert_eq!(back, CanarySettings::default());
    }

    #[test]
    fn durations_parse_and_print() {
        for (text, secs) in [
            ("90s", 90.0),
            ("2m", 120.0),
            ("1h30m", 5400.0),
            ("500ms", 0.5),
            ("1m5s", 65.0),
        ] {
            assert_eq!(
                HumanDuration::parse(text).map(|d| d.secs()),
                Ok(secs),
                "{text}"
            );
        }
        for bad in ["", "5", "m", "5x", "1.5m", "-1s"] {
            assert!(HumanDuration::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            HumanDuration(Duration::from_secs(5400)).to_string(),
            "1h30m"
        );
        assert_eq!(
            HumanDuration(Duration::from_millis(1500)).to_string(),
            "1500ms"
        );
    }

    #[test]
    fn templates_render() {
        let q = render(
            "x{v=\"{{version}}\",b=\"{{baseline_version}}\"}[{{interval}}]",
            &[
                ("version", "1.4.0"),
                ("baseline_version", "1.3.2"),
                ("interval", "10s"),
            ],
        );
        assert_eq!(q, "x{v=\"1.4.0\",b=\"1.3.2\"}[10s]");
        assert!(check_template("{{version").is_err());
    }

    #[test]
    fn what_validation_accepts_is_what_is_rendered() {
        let vars = [("version", "1.4.0"), ("env", "prod")];
        for (template, want) in [
            ("{{ version }}", "1.4.0"),
            ("{{version}}", "1.4.0"),
            ("{{\tversion\n}}-{{env }}", "1.4.0-prod"),
            ("a{{version}}{{version}}b", "a1.4.01.4.0b"),
            ("no placeholders", "no placeholders"),
            ("{{interval}} stays", "{{interval}} stays"),
        ] {
            check_template(template).expect("accepted");
            assert_eq!(render(template, &vars), want, "{template}");
        }
        assert_eq!(
            render_with("x={{ version }}", &vars, |v| format!("<{v}>")),
            "x=<1.4.0>"
        );
        let err = check_template("{{ verison }}").expect_err("unknown");
        assert!(err.contains("did you mean `{{version}}`?"), "{err}");
    }
}
