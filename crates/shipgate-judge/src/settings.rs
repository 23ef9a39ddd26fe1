//! The pure part of `[canary]`: what the judge needs (alpha, the error limit, the metrics)
//! and what the rollout needs (steps, interval, maximum duration, the inconclusive policy),
//! with their validation, and the `{{placeholder}}` templates of the metrics' queries. No
//! provider, actuator or URL is known here: those are the edges' settings
//! (`shipgate-canary`), which embed these.

use std::collections::BTreeSet;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

/// The placeholders a query template may use: the canary's and the baseline's versions, the
/// environment, the interval (the range of every query), and the pod-template hashes of the
/// canary's and the stable ReplicaSet (the `rollouts-pod-template-hash` label Argo Rollouts
/// gives their pods), which tell canary and baseline apart where the version does not.
pub const PLACEHOLDERS: [&str; 6] = [
    "version",
    "baseline_version",
    "env",
    "interval",
    "canary_hash",
    "stable_hash",
];

/// What the judge needs: the false-rollback bound, the fail-safe and the metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct JudgeSettings {
    /// The overall false-rollback bound, split among metrics and their tests.
    pub alpha: f64,
    /// Consecutive inconclusive intervals (no data, NaN, provider error) a metric may have;
    /// one more fails safe.
    pub consecutive_error_limit: u32,
    /// The metrics to judge.
    pub metrics: Vec<MetricConfig>,
}

impl Default for JudgeSettings {
    fn default() -> Self {
        Self {
            alpha: 0.01,
            consecutive_error_limit: 4,
            metrics: MetricConfig::platform_defaults(),
        }
    }
}

/// What the rollout needs: the steps, the judging cadence, the limit and the policy.
#[derive(Debug, Clone, PartialEq)]
pub struct RolloutSettings {
    /// Traffic steps, strictly increasing weights ending at 100.
    pub steps: Steps,
    /// How often the metrics are queried and judged.
    pub interval: HumanDuration,
    /// The whole rollout's limit; still undecided then = inconclusive.
    pub max_duration: HumanDuration,
    /// What an undecided canary at `max-duration` does.
    pub on_inconclusive: OnInconclusive,
}

impl Default for RolloutSettings {
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
            on_inconclusive: OnInconclusive::Rollback,
        }
    }
}

/// The gates of a canary: the judge's and the rollout's settings, as a recording keeps
/// them. Written flat, with the `[canary]` key names (`steps`, `interval`, `max-duration`,
/// `alpha`, `consecutive-error-limit`, `on-inconclusive`, `metrics`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(from = "GatesFile", into = "GatesFile")]
pub struct Gates {
    /// The judge's part.
    pub judge: JudgeSettings,
    /// The rollout's part.
    pub rollout: RolloutSettings,
}

/// Declares a struct whose first fields are the gates' flat keys, the `[canary]` key names
/// (`steps`, `interval`, `max-duration`, `alpha`, `consecutive-error-limit`,
/// `on-inconclusive`, `metrics`), followed by the fields given, and two functions:
/// `with_gates(gates, field, …)` builds it from [`Gates`] and the other fields' values in
/// their order, `take_gates(&mut self)` moves the gates out. A recording ([`Gates`]' own
/// format) and shipgate.toml's `[canary]` (`shipgate-canary-settings`) both write the gates
/// flat; the keys and their conversions are written here once. (Not `#[serde(flatten)]`:
/// serde refuses unknown keys of a flattened struct only without `deny_unknown_fields`.)
#[macro_export]
macro_rules! flat_gates {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            /// Traffic steps, strictly increasing weights ending at 100.
            steps: $crate::Steps,
            /// How often the metrics are queried and judged.
            interval: $crate::HumanDuration,
            /// The whole rollout's limit; still undecided then = inconclusive.
            max_duration: $crate::HumanDuration,
            /// The overall false-rollback bound, split among metrics and their tests.
            alpha: f64,
            /// Consecutive inconclusive intervals a metric may have; one more fails safe.
            consecutive_error_limit: u32,
            /// What an undecided canary at `max-duration` does.
            on_inconclusive: $crate::OnInconclusive,
            /// The metrics to judge.
            metrics: Vec<$crate::MetricConfig>,
            $($(#[$fmeta])* $field: $ty,)*
        }

        impl $name {
            /// The struct of `gates` and the other fields' values, in their order.
            #[allow(clippy::too_many_arguments)]
            fn with_gates(gates: $crate::Gates, $($field: $ty),*) -> Self {
                let $crate::Gates { judge, rollout } = gates;
                $name {
                    steps: rollout.steps,
                    interval: rollout.interval,
                    max_duration: rollout.max_duration,
                    alpha: judge.alpha,
                    consecutive_error_limit: judge.consecutive_error_limit,
                    on_inconclusive: rollout.on_inconclusive,
                    metrics: judge.metrics,
                    $($field,)*
                }
            }

            /// The gates its flat keys say, moved out (the struct keeps defaults).
            fn take_gates(&mut self) -> $crate::Gates {
                $crate::Gates {
                    judge: $crate::JudgeSettings {
                        alpha: self.alpha,
                        consecutive_error_limit: self.consecutive_error_limit,
                        metrics: std::mem::take(&mut self.metrics),
                    },
                    rollout: $crate::RolloutSettings {
                        steps: self.steps.clone(),
                        interval: self.interval,
                        max_duration: self.max_duration,
                        on_inconclusive: self.on_inconclusive,
                    },
                }
            }
        }
    };
}

flat_gates! {
    /// [`Gates`] as written in a recording.
    #[derive(Debug, Clone, Deserialize, Serialize)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
    struct GatesFile {
        /// Recordings written before the settings were split (shipgate 0.1) also held the
        /// edges' settings; they are read and ignored, never written.
        #[serde(skip_serializing)]
        prometheus: Option<serde::de::IgnoredAny>,
        #[serde(skip_serializing)]
        command: Option<serde::de::IgnoredAny>,
        #[serde(skip_serializing)]
        webhook: Option<serde::de::IgnoredAny>,
    }
}

impl Default for GatesFile {
    fn default() -> Self {
        Gates::default().into()
    }
}

impl From<GatesFile> for Gates {
    fn from(mut f: GatesFile) -> Self {
        f.take_gates()
    }
}

impl From<Gates> for GatesFile {
    fn from(g: Gates) -> Self {
        GatesFile::with_gates(g, None, None, None)
    }
}

/// One traffic step.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Step {
    /// Percent of traffic on the canary, 1..=100.
    #[schemars(range(min = 1, max = 100))]
    pub weight: u8,
    /// How long to judge at this weight before moving on (required except on 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<HumanDuration>,
}

/// Steps, checked when parsed: not empty, weights in 1..=100, strictly increasing, ending
/// at 100, every step before the last with a `hold`.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct Steps(#[schemars(length(min = 1))] Vec<Step>);

impl Steps {
    /// Checks the steps (see the type's documentation).
    pub fn new(steps: Vec<Step>) -> Result<Self, InvalidSteps> {
        let Some(last) = steps.last() else {
            return Err(InvalidSteps(
                "steps must not be empty; the last one must have weight = 100".into(),
            ));
        };
        for (i, s) in steps.iter().enumerate() {
            if s.weight == 0 || s.weight > 100 {
                return Err(InvalidSteps(format!(
                    "steps[{i}].weight = {} is not a percentage in 1..=100",
                    s.weight
                )));
            }
            if i > 0 && s.weight <= steps[i - 1].weight {
                return Err(InvalidSteps(format!(
                    "steps must increase: steps[{i}].weight = {} follows {}",
                    s.weight,
                    steps[i - 1].weight
                )));
            }
            if i + 1 < steps.len() && s.hold.is_none_or(|h| h.0.is_zero()) {
                return Err(InvalidSteps(format!(
                    "steps[{i}] (weight {}) needs a non-zero hold, e.g. hold = \"5m\"",
                    s.weight
                )));
            }
        }
        if last.weight != 100 {
            return Err(InvalidSteps(format!(
                "the last step must have weight = 100, not {}",
                last.weight
            )));
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

/// Steps that break a rule of [`Steps::new`], in words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidSteps(pub String);

/// A template that does not parse, or names a placeholder it may not use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `{{` without its `}}`.
    #[error("unclosed `{{{{` in `{template}`")]
    Unclosed {
        /// The template.
        template: String,
    },
    /// A placeholder that is not one of the known ones.
    #[error("unknown placeholder `{{{{{name}}}}}`; {}known: {}", suggestion.as_ref().map(|m| format!("did you mean `{{{{{m}}}}}`? ")).unwrap_or_default(), known.iter().map(|k| format!("{{{{{k}}}}}")).collect::<Vec<_>>().join(", "))]
    Unknown {
        /// The name used.
        name: String,
        /// The known name it is closest to, if any is close.
        suggestion: Option<String>,
        /// The known names.
        known: Vec<String>,
    },
    /// A placeholder inside shell quotes (command templates).
    #[error(
        "`{{{{{name}}}}}` is inside quotes; write it bare, e.g. app={{{{{name}}}}}: shipgate quotes every value itself"
    )]
    Quoted {
        /// The placeholder's name.
        name: String,
    },
}

pub use shipgate_stdx::duration::{HumanDuration, InvalidDuration};

/// What an undecided canary does at `max-duration`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum OnInconclusive {
    /// Roll back (fail safe).
    #[default]
    Rollback,
    /// Keep the current weight and stop, for a human to decide.
    Pause,
}

/// What a metric measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MetricKind {
    /// Events over trials per interval, e.g. errors over requests.
    Counts,
    /// Latency: a Prometheus histogram (cumulative bucket counts per interval, `buckets`),
    /// or one percentile per interval (`value`, e.g. CloudWatch's p95), judged by sign tests.
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
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// A larger value is a regression (error rates, latency).
    #[default]
    Higher,
    /// A smaller value is a regression (success or conversion rates, throughput).
    Lower,
}

/// Query templates for one side (canary or baseline); which ones a kind needs is checked
/// by [`JudgeSettings::validate`].
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, schemars::JsonSchema)]
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
    /// `gauge`: the value; `latency`: the percentile (instead of `buckets`), e.g. a
    /// CloudWatch p95.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl Queries {
    /// The templates that are set, with their keys.
    pub fn all(&self) -> impl Iterator<Item = (&'static str, &String)> {
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
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
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
    /// `counts` and `latency`: the label that splits the queries' answers by pod (or
    /// instance), e.g. `pod` for `sum by (pod) (increase(...))` (latency: `sum by (pod, le)`).
    /// The judge then learns from the baseline's pods how much the error rate wanders
    /// between pods and intervals, and widens its evidence to match; without it, it learns
    /// the same from the intervals alone, more slowly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_label: Option<String>,
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
    /// The kind whose tests judge this metric: a `latency` metric given as one percentile
    /// per interval (a `value` query, as CloudWatch's `p95` answers) is judged like a gauge
    /// (sign tests against the threshold and the baseline); every other metric by its kind.
    pub fn judged_as(&self) -> MetricKind {
        match self.kind {
            MetricKind::Latency if self.canary.value.is_some() => MetricKind::Gauge,
            kind => kind,
        }
    }

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
            pod_label: None,
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
    /// What to do about it, when there is something to say (shown on its own line).
    pub hint: Option<String>,
}

impl RolloutSettings {
    /// Every problem of these settings ([`RolloutSettings::problems`]), or none.
    pub fn validate(&self) -> Result<(), Vec<ConfigProblem>> {
        none_or(self.problems())
    }

    /// What the types cannot check: an interval of at least 1 s, a maximum duration that
    /// fits the holds.
    pub fn problems(&self) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        if self.interval.0 < Duration::from_secs(1) {
            problems.push(ConfigProblem::new(
                "interval",
                format!("{} is shorter than 1s", self.interval),
            ));
        }
        let holds = self.steps.total_hold();
        if self.max_duration.0 < holds {
            problems.push(ConfigProblem::new(
                "max-duration",
                format!(
                    "{} is shorter than the steps' holds ({})",
                    self.max_duration,
                    HumanDuration(holds)
                ),
            ));
        }
        problems
    }
}

impl JudgeSettings {
    /// Every problem of these settings ([`JudgeSettings::problems`]), or none.
    pub fn validate(&self) -> Result<(), Vec<ConfigProblem>> {
        none_or(self.problems())
    }

    /// What the types cannot check: ranges, unique names, per-kind queries, template
    /// placeholders, thresholds, latency quantiles, tolerances.
    pub fn problems(&self) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        if !(self.alpha > 0.0 && self.alpha <= 0.5) {
            problems.push(ConfigProblem::new(
                "alpha",
                format!("{} is not in (0, 0.5]", self.alpha),
            ));
        }
        if self.consecutive_error_limit == 0 {
            problems.push(ConfigProblem::new(
                "consecutive-error-limit",
                "must be at least 1",
            ));
        }
        if self.metrics.is_empty() {
            problems.push(ConfigProblem::new(
                "metrics",
                "no metrics: a canary judged on nothing can never pass",
            ));
        }
        let mut names = BTreeSet::new();
        for (i, m) in self.metrics.iter().enumerate() {
            let key = |k: &str| format!("metrics[{i}].{k}");
            if m.name.trim().is_empty() {
                problems.push(ConfigProblem::new(key("name"), "must not be empty"));
            } else if !names.insert(m.name.as_str()) {
                problems.push(ConfigProblem::new(
                    key("name"),
                    format!("`{}` is used by another metric", m.name),
                ));
            }
            problems.extend(m.problems().into_iter().map(|p| ConfigProblem {
                key: key(&p.key),
                ..p
            }));
        }
        problems
    }
}

impl JudgeSettings {
    /// Advice that does not stop a run: each metric that could be split by pod and is not
    /// ([`MetricConfig::pod_label_warning`]), keyed `metrics[i].pod-label`. `canary run`
    /// prints them as warnings, `config validate` reports them as warning diagnostics.
    pub fn warnings(&self) -> Vec<ConfigProblem> {
        self.metrics
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                m.pod_label_warning().map(|p| ConfigProblem {
                    key: format!("metrics[{i}].{}", p.key),
                    ..p
                })
            })
            .collect()
    }
}

impl Gates {
    /// Every problem of the rollout's and the judge's settings, or none.
    pub fn validate(&self) -> Result<(), Vec<ConfigProblem>> {
        none_or(self.problems())
    }

    /// The rollout's problems, then the judge's.
    pub fn problems(&self) -> Vec<ConfigProblem> {
        let mut problems = self.rollout.problems();
        problems.extend(self.judge.problems());
        problems
    }
}

impl MetricConfig {
    /// A `counts` or histogram `latency` metric without a `pod-label`: judged on totals
    /// alone, the pods' own variation on a canary with few pods looks like evidence, and
    /// healthy canaries are rolled back more often than `alpha` says (2.2 % instead of 1 %
    /// at `alpha` = 1 % on one pod whose error rate varies by 32 %). Keyed `pod-label`.
    pub fn pod_label_warning(&self) -> Option<ConfigProblem> {
        let grouping = match self.judged_as() {
            _ if self.pod_label.is_some() => return None,
            MetricKind::Counts => "sum by (pod) (…)",
            MetricKind::Latency => "sum by (pod, le) (…)",
            MetricKind::Gauge => return None,
        };
        Some(
            ConfigProblem::new(
                "pod-label",
                format!(
                    "metric `{}` has no pod-label: on a canary with few pods, the pods' own variation counts as evidence, and healthy canaries are rolled back more often than alpha",
                    self.name
                ),
            )
            .with_hint(format!(
                "set pod-label = \"pod\" (the label Kubernetes service discovery gives Prometheus) and keep it in every query: {grouping}"
            )),
        )
    }

    /// The problems of this metric alone, keyed below it (`threshold`, `canary.errors`…).
    pub fn problems(&self) -> Vec<ConfigProblem> {
        let mut problems = self.query_problems();
        problems.extend(self.threshold_problems());
        if self.kind == MetricKind::Latency {
            problems.extend(self.latency_problems());
        }
        let tol_ok = self.tolerance.is_finite()
            && self.tolerance >= 0.0
            && (self.direction == Direction::Higher || self.tolerance < 1.0);
        if !tol_ok {
            problems.push(ConfigProblem::new(
                "tolerance",
                format!(
                    "{} is not a relative tolerance in [0, 1) or ≥ 0 for higher",
                    self.tolerance
                ),
            ));
        }
        if self.min_intervals == 0 {
            problems.push(ConfigProblem::new("min-intervals", "must be at least 1"));
        }
        if let Some(label) = &self.pod_label {
            let mut chars = label.chars();
            let name_ok = chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !name_ok || label == "le" {
                problems.push(ConfigProblem::new(
                    "pod-label",
                    format!("`{label}` is not a label name like `pod` or `instance`"),
                ));
            } else if self.kind == MetricKind::Gauge {
                problems.push(ConfigProblem::new(
                    "pod-label",
                    "only counts and latency metrics are split by pod",
                ));
            }
        }
        problems
    }

    /// The queries its kind needs, none it does not use, and known placeholders.
    fn query_problems(&self) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        let needed: &[&str] = match (self.kind, self.judged_as()) {
            (MetricKind::Counts, _) => &["errors", "requests"],
            (MetricKind::Latency, MetricKind::Latency) => &["buckets"],
            (MetricKind::Latency, _) => &["value"],
            (MetricKind::Gauge, _) => &["value"],
        };
        for (side, queries) in [
            ("canary", Some(&self.canary)),
            ("baseline", self.baseline.as_ref()),
        ] {
            let Some(q) = queries else { continue };
            for need in needed {
                if !q.all().any(|(k, _)| k == *need) {
                    problems.push(ConfigProblem::new(
                        side,
                        format!("a {} metric needs a `{need}` query", self.kind.as_str()),
                    ));
                }
            }
            for (k, template) in q.all() {
                let used = needed.contains(&k)
                    || k == "requests" && self.judged_as() == MetricKind::Latency;
                if !used {
                    problems.push(ConfigProblem::new(
                        format!("{side}.{k}"),
                        format!("not used by a {} metric", self.kind.as_str()),
                    ));
                }
                if let Err(e) = check_template(template) {
                    problems.push(ConfigProblem::new(format!("{side}.{k}"), e.to_string()));
                }
            }
        }
        problems
    }

    /// A threshold or a baseline (or both), and a threshold in its kind's range.
    fn threshold_problems(&self) -> Vec<ConfigProblem> {
        if self.threshold.is_none() && self.baseline.is_none() {
            return vec![ConfigProblem::new(
                "threshold",
                "give a threshold, a baseline query, or both",
            )];
        }
        let Some(t) = self.threshold else {
            return Vec::new();
        };
        let ok = match self.kind {
            MetricKind::Counts => t > 0.0 && t < 1.0,
            MetricKind::Latency => t > 0.0 && t.is_finite(),
            MetricKind::Gauge => t.is_finite(),
        };
        if ok {
            return Vec::new();
        }
        let want = match self.kind {
            MetricKind::Counts => "a rate in (0, 1), e.g. 0.001 for 0.1 %",
            MetricKind::Latency => "a positive number of seconds",
            MetricKind::Gauge => "a finite number",
        };
        vec![ConfigProblem::new(
            "threshold",
            format!("{t} is not {want}"),
        )]
    }

    /// A latency metric: direction higher, quantiles in (0, 1), something to compare.
    fn latency_problems(&self) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        if self.direction == Direction::Lower {
            problems.push(ConfigProblem::new(
                "direction",
                "latency regressions are always higher",
            ));
        }
        if !(self.quantile > 0.0 && self.quantile < 1.0) {
            problems.push(ConfigProblem::new(
                "quantile",
                format!("{} is not in (0, 1)", self.quantile),
            ));
        }
        if self.baseline.is_some() && self.compare_quantiles.is_empty() {
            problems.push(ConfigProblem::new(
                "compare-quantiles",
                "must not be empty when a baseline is compared",
            ));
        }
        if let Some(q) = self
            .compare_quantiles
            .iter()
            .find(|q| !(**q > 0.0 && **q < 1.0))
        {
            problems.push(ConfigProblem::new(
                "compare-quantiles",
                format!("{q} is not in (0, 1)"),
            ));
        }
        problems
    }
}

impl ConfigProblem {
    /// A problem at `key` (dotted, below `[canary]`).
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
            hint: None,
        }
    }

    /// This problem with `hint`.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

fn none_or(problems: Vec<ConfigProblem>) -> Result<(), Vec<ConfigProblem>> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Checks that a query template only uses known `{{placeholders}}` and closes its braces.
pub fn check_template(template: &str) -> Result<(), TemplateError> {
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
pub fn placeholders(template: &str) -> Result<Vec<Placeholder<'_>>, TemplateError> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(found) = template[at..].find("{{") {
        let start = at + found;
        let inner = start + 2;
        let end = template[inner..]
            .find("}}")
            .map(|e| inner + e)
            .ok_or_else(|| TemplateError::Unclosed {
                template: template.to_string(),
            })?;
        out.push(Placeholder {
            span: start..end + 2,
            name: template[inner..end].trim(),
        });
        at = end + 2;
    }
    Ok(out)
}

/// Checks that `template` only uses the placeholders in `known` and closes its braces.
pub fn check_placeholders(template: &str, known: &[&str]) -> Result<(), TemplateError> {
    for p in placeholders(template)? {
        if !known.contains(&p.name) {
            return Err(TemplateError::Unknown {
                name: p.name.to_string(),
                suggestion: shipgate_stdx::text::did_you_mean(p.name, known).map(String::from),
                known: known.iter().map(|k| k.to_string()).collect(),
            });
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

    fn check_invalid(settings: &Gates, key: &str, needle: &str) {
        let problems = settings.validate().expect_err("must be invalid");
        assert!(
            problems
                .iter()
                .any(|p| p.key == key && p.message.contains(needle)),
            "{problems:?}"
        );
    }

    #[test]
    fn defaults_are_valid() {
        Gates::default().validate().expect("valid");
        assert_eq!(Gates::default().judge.metrics[0].threshold, Some(0.001));
    }

    #[test]
    fn gates_are_written_flat_with_the_canary_key_names() {
        let json = serde_json::to_value(Gates::default()).expect("serializes");
        let keys: Vec<&str> = json
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "alpha",
                "consecutive-error-limit",
                "interval",
                "max-duration",
                "metrics",
                "on-inconclusive",
                "steps"
            ]
        );
        let back: Gates = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back, Gates::default());
    }

    #[test]
    fn settings_of_old_recordings_with_a_provider_and_an_actuator_are_read() {
        let old = r#"{"steps": [{"weight": 50, "hold": "1m"}, {"weight": 100}], "interval": "10s",
            "alpha": 0.05, "prometheus": {"url": "http://p:9090", "timeout": "5s", "retries": 1},
            "command": {"set-weight": "x", "promote": "y", "rollback": "z"}}"#;
        let gates: Gates = serde_json::from_str(old).expect("reads");
        assert_eq!(gates.judge.alpha, 0.05);
        assert_eq!(gates.rollout.interval.secs(), 10.0);
        assert_eq!(gates.rollout.steps.as_slice().len(), 2);
        let written = serde_json::to_string(&gates).expect("serializes");
        assert!(
            !written.contains("prometheus") && !written.contains("command"),
            "{written}"
        );
        let typo: Result<Gates, _> = serde_json::from_str(r#"{"alpah": 0.05}"#);
        assert!(
            typo.expect_err("refused")
                .to_string()
                .contains("unknown field `alpah`")
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
        assert!(
            err.to_string().contains("did you mean `{{version}}`?"),
            "{err}"
        );
    }

    #[test]
    fn a_pod_label_must_be_a_label_name_of_a_counts_or_latency_metric() {
        for bad in ["le", "po d", "1pod", "", "pod\"}"] {
            let mut s = Gates::default();
            s.judge.metrics[0].pod_label = Some(bad.into());
            check_invalid(&s, "metrics[0].pod-label", "is not a label name");
        }
        let mut s = Gates::default();
        s.judge.metrics[0].pod_label = Some("pod".into());
        assert!(s.validate().is_ok());
        let mut s = Gates::default();
        s.judge.metrics[0].kind = MetricKind::Gauge;
        s.judge.metrics[0].pod_label = Some("instance".into());
        check_invalid(&s, "metrics[0].pod-label", "only counts and latency");
    }

    #[test]
    fn validation_reports_each_problem_at_its_key() {
        let mut s = Gates::default();
        s.rollout.max_duration = HumanDuration(Duration::from_secs(60));
        check_invalid(&s, "max-duration", "shorter than the steps' holds");

        let mut s = Gates::default();
        s.rollout.interval = HumanDuration(Duration::from_millis(500));
        check_invalid(&s, "interval", "shorter than 1s");

        let mut s = Gates::default();
        s.judge.alpha = 0.0;
        check_invalid(&s, "alpha", "not in (0, 0.5]");

        let mut s = Gates::default();
        s.judge.metrics[0].threshold = Some(1.5);
        check_invalid(&s, "metrics[0].threshold", "not a rate in (0, 1)");

        let mut s = Gates::default();
        s.judge.metrics[1].name = "error-rate".into();
        check_invalid(&s, "metrics[1].name", "used by another metric");

        let mut s = Gates::default();
        s.judge.metrics[0].canary.errors = None;
        check_invalid(&s, "metrics[0].canary", "needs a `errors` query");

        let mut s = Gates::default();
        s.judge.metrics[0].canary.errors = Some("sum(x{v=\"{{verison}}\"})".into());
        check_invalid(
            &s,
            "metrics[0].canary.errors",
            "unknown placeholder `{{verison}}`",
        );

        let mut s = Gates::default();
        s.judge.metrics[1].baseline = None;
        s.judge.metrics[1].threshold = None;
        check_invalid(
            &s,
            "metrics[1].threshold",
            "give a threshold, a baseline query, or both",
        );

        let mut s = Gates::default();
        s.judge.metrics[1].direction = Direction::Lower;
        check_invalid(&s, "metrics[1].direction", "always higher");

        let mut s = Gates::default();
        s.judge.metrics.clear();
        check_invalid(&s, "metrics", "can never pass");
    }

    #[test]
    fn query_templates_may_name_the_pod_template_hashes() {
        let q = "sum by (pod) (increase(x{rollouts_pod_template_hash=\"{{canary_hash}}\"}[{{interval}}])) / {{ stable_hash }}";
        check_template(q).expect("known");
        assert_eq!(
            render(
                q,
                &[("canary_hash", "7bf84f9696"), ("stable_hash", "789746c88d")]
            ),
            "sum by (pod) (increase(x{rollouts_pod_template_hash=\"7bf84f9696\"}[{{interval}}])) / 789746c88d"
        );
        let err = check_template("x{h=\"{{canary_hsah}}\"}").expect_err("a typo");
        assert!(
            err.to_string().contains("did you mean `{{canary_hash}}`?"),
            "{err}"
        );
        let err = check_template("{{versoin}}").expect_err("a typo");
        assert!(
            err.to_string().contains("did you mean `{{version}}`?"),
            "{err}"
        );
    }

    #[test]
    fn counts_and_histogram_metrics_without_a_pod_label_are_warned_of() {
        let s = JudgeSettings::default();
        let warnings = s.warnings();
        assert_eq!(
            warnings.iter().map(|w| w.key.as_str()).collect::<Vec<_>>(),
            ["metrics[0].pod-label", "metrics[1].pod-label"]
        );
        assert_eq!(
            warnings[0].to_string(),
            "canary.metrics[0].pod-label: metric `error-rate` has no pod-label: on a canary with few pods, the pods' own variation counts as evidence, and healthy canaries are rolled back more often than alpha"
        );
        assert!(
            warnings[0]
                .hint
                .as_deref()
                .is_some_and(|h| h.ends_with("sum by (pod) (…)")),
            "{warnings:?}"
        );
        assert!(
            warnings[1]
                .hint
                .as_deref()
                .is_some_and(|h| h.ends_with("sum by (pod, le) (…)")),
            "{warnings:?}"
        );

        let mut s = JudgeSettings::default();
        s.metrics[0].pod_label = Some("pod".into());
        // A latency given as one percentile per interval is judged like a gauge.
        s.metrics[1].canary = Queries {
            value: Some("p95".into()),
            ..Queries::default()
        };
        s.metrics.push(MetricConfig::new(
            "memory",
            MetricKind::Gauge,
            Queries {
                value: Some("m".into()),
                ..Queries::default()
            },
            None,
        ));
        assert_eq!(s.warnings(), []);
    }
}
