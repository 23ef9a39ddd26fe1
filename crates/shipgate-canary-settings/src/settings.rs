//! `[canary]` in shipgate.toml: the gates (the judge's and the rollout's settings, from
//! `shipgate-judge`), and the edges' settings that only `canary run` and `canary capture`
//! need: where the metrics are queried (`[canary.prometheus]`), how traffic moves (one of
//! `[canary.command]`, `[canary.webhook]`, `[canary.argo-rollouts]`, `[canary.alb]`), and
//! per-environment overrides
//! (`[canary.env.<ENV>]`). The file keeps one flat `[canary]` table; the types are split by
//! who reads them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use shipgate_judge::{
    ConfigProblem, Gates, HumanDuration, MetricConfig, MetricKind, OnInconclusive, Steps,
};

use crate::alarms::AlarmsConfig;
use crate::alb::AlbActuator;
use crate::argo_rollouts::ArgoRolloutsActuator;
use crate::cloudwatch::CloudWatchConfig;
use crate::command::{CommandActuator, CommandProblem};
use crate::prometheus::PrometheusConfig;
use crate::webhook::WebhookActuator;

/// `[canary]`: how traffic moves and how the canary is judged.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(from = "CanaryFile", into = "CanaryFile")]
pub struct CanarySettings {
    /// The judge's and the rollout's settings (the pure core's).
    pub gates: Gates,
    /// `[canary.prometheus]`: where the metrics are queried (needed by `canary run`).
    pub prometheus: Option<PrometheusConfig>,
    /// `[canary.cloudwatch]`: CloudWatch, for the metrics or the alarms.
    pub cloudwatch: Option<CloudWatchConfig>,
    /// `provider`: which backend answers `[[canary.metrics]]`' queries; `None`: CloudWatch
    /// when only `[canary.cloudwatch]` is configured, else Prometheus.
    pub provider: Option<MetricsProvider>,
    /// `[canary.alarms]`: alarms and alerts that fail the canary at once.
    pub alarms: Option<AlarmsConfig>,
    /// `[canary.command]`: the command actuator (needed by `canary run`).
    pub command: Option<CommandActuator>,
    /// `[canary.webhook]`: the webhook actuator.
    pub webhook: Option<WebhookActuator>,
    /// `[canary.argo-rollouts]`: an Argo Rollout driven step by step.
    pub argo_rollouts: Option<ArgoRolloutsActuator>,
    /// `[canary.alb]`: an AWS load balancer's weighted target groups.
    pub alb: Option<AlbActuator>,
    /// `[canary.env.<ENV>]`: per-environment overrides, applied by
    /// [`CanarySettings::for_env`]. Empty in effective settings.
    pub env: BTreeMap<String, CanaryOverride>,
}

shipgate_judge::flat_gates! {
    /// `[canary]` as written: one flat table. Unknown keys are refused here, with serde's list
    /// of the known ones (the settings loader turns it into a did-you-mean).
    #[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
    struct CanaryFile {
        #[serde(skip_serializing_if = "Option::is_none")]
        prometheus: Option<PrometheusConfig>,
        #[serde(skip_serializing_if = "Option::is_none")]
        cloudwatch: Option<CloudWatchConfig>,
        /// Which backend answers the metrics' queries.
        #[serde(skip_serializing_if = "Option::is_none")]
        provider: Option<MetricsProvider>,
        #[serde(skip_serializing_if = "Option::is_none")]
        alarms: Option<AlarmsConfig>,
        #[serde(skip_serializing_if = "Option::is_none")]
        command: Option<CommandActuator>,
        #[serde(skip_serializing_if = "Option::is_none")]
        webhook: Option<WebhookActuator>,
        #[serde(skip_serializing_if = "Option::is_none")]
        argo_rollouts: Option<ArgoRolloutsActuator>,
        #[serde(skip_serializing_if = "Option::is_none")]
        alb: Option<AlbActuator>,
        #[serde(skip_serializing_if = "BTreeMap::is_empty")]
        env: BTreeMap<String, CanaryOverride>,
}
}

impl Default for CanaryFile {
    fn default() -> Self {
        CanarySettings::default().into()
    }
}

impl From<CanaryFile> for CanarySettings {
    fn from(mut f: CanaryFile) -> Self {
        CanarySettings {
            gates: f.take_gates(),
            prometheus: f.prometheus,
            cloudwatch: f.cloudwatch,
            provider: f.provider,
            alarms: f.alarms,
            command: f.command,
            webhook: f.webhook,
            argo_rollouts: f.argo_rollouts,
            alb: f.alb,
            env: f.env,
        }
    }
}

impl From<CanarySettings> for CanaryFile {
    fn from(s: CanarySettings) -> Self {
        CanaryFile::with_gates(
            s.gates,
            s.prometheus,
            s.cloudwatch,
            s.provider,
            s.alarms,
            s.command,
            s.webhook,
            s.argo_rollouts,
            s.alb,
            s.env,
        )
    }
}

/// `[canary.env.<ENV>]`: the `[canary]` keys one environment sets differently.
///
/// Every key set here replaces the base key wholesale: `steps` or `[[…metrics]]` replace
/// the whole list, `[….prometheus]` the whole table; nothing is merged. `command`,
/// `webhook`, `argo-rollouts` and `alb` are the forms of the one actuator: an override that
/// sets any of them replaces the base actuator, whichever form it had.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, schemars::JsonSchema)]
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
    pub prometheus: Option<PrometheusConfig>,
    /// `[canary.env.<ENV>.cloudwatch]`: replaces the whole `[canary.cloudwatch]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloudwatch: Option<CloudWatchConfig>,
    /// Replaces `provider`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<MetricsProvider>,
    /// `[canary.env.<ENV>.alarms]`: replaces the whole `[canary.alarms]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarms: Option<AlarmsConfig>,
    /// `[canary.env.<ENV>.command]`: replaces the actuator, whichever form it had.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandActuator>,
    /// `[canary.env.<ENV>.webhook]`: replaces the actuator, whichever form it had.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookActuator>,
    /// `[canary.env.<ENV>.argo-rollouts]`: replaces the actuator, whichever form it had.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub argo_rollouts: Option<ArgoRolloutsActuator>,
    /// `[canary.env.<ENV>.alb]`: replaces the actuator, whichever form it had.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alb: Option<AlbActuator>,
}

impl CanarySettings {
    /// The settings `env` runs with: these with `[canary.env.<env>]` applied (each key it
    /// sets replaces the base key wholesale), `env` emptied, validated. An environment
    /// without an override gets the base. Problems the override causes are keyed
    /// `env.<env>.…`; problems the base already has keep their plain key.
    pub fn for_env(&self, env: &str) -> Result<CanarySettings, Vec<ConfigProblem>> {
        let problems = self.env_keyed(env, CanarySettings::problems);
        if problems.is_empty() {
            Ok(self.with_override(self.env.get(env)))
        } else {
            Err(problems)
        }
    }

    /// What `env`'s settings do not stop but should be told: [`CanarySettings::warnings`] of
    /// its effective settings, keyed as [`CanarySettings::for_env`] keys its problems.
    /// `canary run` prints them before it starts.
    pub fn warnings_for_env(&self, env: &str) -> Vec<ConfigProblem> {
        self.env_keyed(env, CanarySettings::own_warnings)
    }

    /// What these settings do not stop but should be told, each with a hint: every counts or
    /// latency metric without a `pod-label` when Prometheus answers the queries
    /// ([`JudgeSettings::warnings`]; CloudWatch does not split by pod), for the base and for
    /// each environment overridden (keyed `env.<ENV>.…`, each reported once).
    pub fn warnings(&self) -> Vec<ConfigProblem> {
        self.across_envs(CanarySettings::own_warnings)
    }

    /// The warnings of these settings alone, overrides not looked at.
    fn own_warnings(&self) -> Vec<ConfigProblem> {
        match self.metrics_provider() {
            MetricsProvider::Prometheus => self.gates.judge.warnings(),
            MetricsProvider::Cloudwatch => Vec::new(),
        }
    }

    /// `check` of `env`'s effective settings; what the base does not already report is
    /// keyed `env.<env>.…`.
    fn env_keyed(
        &self,
        env: &str,
        check: fn(&CanarySettings) -> Vec<ConfigProblem>,
    ) -> Vec<ConfigProblem> {
        let mut found = check(&self.with_override(self.env.get(env)));
        if self.env.contains_key(env) {
            let base = check(self);
            for p in found.iter_mut().filter(|p| !base.contains(p)) {
                p.key = format!("env.{env}.{}", p.key);
            }
        }
        found
    }

    /// `check` of the base, then of each environment overridden ([`Self::env_keyed`]), each
    /// finding once.
    fn across_envs(&self, check: fn(&CanarySettings) -> Vec<ConfigProblem>) -> Vec<ConfigProblem> {
        let mut found = check(self);
        for env in self.env.keys() {
            for p in self.env_keyed(env, check) {
                if !found.contains(&p) {
                    found.push(p);
                }
            }
        }
        found
    }

    /// `env`'s settings with its override applied, unvalidated: for reading its alarms
    /// with its clients (`[canary.cloudwatch]`, `[canary.prometheus]`), which needs no
    /// valid metrics or actuator.
    pub fn clients_for_env(&self, env: &str) -> CanarySettings {
        self.with_override(self.env.get(env))
    }

    /// These settings with `over` applied and no overrides left.
    fn with_override(&self, over: Option<&CanaryOverride>) -> CanarySettings {
        let mut s = CanarySettings {
            env: BTreeMap::new(),
            ..self.clone()
        };
        let Some(o) = over else { return s };
        let o = o.clone();
        let (judge, rollout) = (&mut s.gates.judge, &mut s.gates.rollout);
        if let Some(v) = o.steps {
            rollout.steps = v;
        }
        if let Some(v) = o.interval {
            rollout.interval = v;
        }
        if let Some(v) = o.max_duration {
            rollout.max_duration = v;
        }
        if let Some(v) = o.on_inconclusive {
            rollout.on_inconclusive = v;
        }
        if let Some(v) = o.alpha {
            judge.alpha = v;
        }
        if let Some(v) = o.consecutive_error_limit {
            judge.consecutive_error_limit = v;
        }
        if let Some(v) = o.metrics {
            judge.metrics = v;
        }
        if o.prometheus.is_some() {
            s.prometheus = o.prometheus;
        }
        if o.cloudwatch.is_some() {
            s.cloudwatch = o.cloudwatch;
        }
        if o.provider.is_some() {
            s.provider = o.provider;
        }
        if o.alarms.is_some() {
            s.alarms = o.alarms;
        }
        if o.command.is_some()
            || o.webhook.is_some()
            || o.argo_rollouts.is_some()
            || o.alb.is_some()
        {
            s.command = o.command;
            s.webhook = o.webhook;
            s.argo_rollouts = o.argo_rollouts;
            s.alb = o.alb;
        }
        s
    }

    /// Checks what the types cannot: the gates ([`Gates::problems`]: ranges, per-kind
    /// queries, template placeholders, unique names, a maximum duration that fits the
    /// holds), the provider and the actuator, the names of the environments overridden, and
    /// each environment's effective settings, keyed `env.<ENV>.…`. Returns every problem.
    /// `canary run` ([`CanarySettings::for_env`]) and `config validate` both check through
    /// here, so what one refuses the other reports.
    pub fn validate(&self) -> Result<(), Vec<ConfigProblem>> {
        let mut problems = self.across_envs(CanarySettings::problems);
        for env in self.env.keys() {
            if let Err(e) = shipgate_stdx::names::check_env(env) {
                problems.push(ConfigProblem::new(format!("env.{env}"), e.to_string()));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// The problems of these settings alone, overrides not looked at: the gates', the
    /// queries' shapes, then the edges'.
    fn problems(&self) -> Vec<ConfigProblem> {
        let mut problems = self.gates.problems();
        problems.extend(self.query_shape_problems());
        problems.extend(self.edge_problems());
        problems
    }

    /// Prometheus queries whose outermost `sum` drops a label the answer must keep: the pod
    /// label of a metric split by pod (`pod-label`), `le` of a histogram. Every answer to
    /// such a query would be refused, so the canary could only fail safe; it is refused
    /// before any traffic moves instead. Only a query that starts with `sum` is read
    /// ([`sum_keeps`]); any other shape is left to the check of Prometheus's answers.
    fn query_shape_problems(&self) -> Vec<ConfigProblem> {
        if self.metrics_provider() != MetricsProvider::Prometheus {
            return Vec::new();
        }
        let mut problems = Vec::new();
        for (i, m) in self.gates.judge.metrics.iter().enumerate() {
            let pod = m.pod_label.as_deref();
            let (keys, le): (&[&str], bool) = match m.judged_as() {
                MetricKind::Counts => (&["errors", "requests"], false),
                MetricKind::Latency => (&["buckets"], true),
                MetricKind::Gauge => continue,
            };
            let needed: Vec<&str> = pod.into_iter().chain(le.then_some("le")).collect();
            let sides = [
                ("canary", Some(&m.canary)),
                ("baseline", m.baseline.as_ref()),
            ];
            for (side, q) in sides {
                for (k, query) in q.into_iter().flat_map(|q| q.all()) {
                    let Some(kept) = keys.contains(&k).then(|| sum_keeps(query)).flatten() else {
                        continue;
                    };
                    let Some(missing) = needed.iter().find(|l| !kept.contains(l)) else {
                        continue;
                    };
                    let (message, hint) = if Some(*missing) == pod {
                        (
                            format!(
                                "its `sum` drops the label `{missing}` this metric is split by (pod-label): every answer would be refused"
                            ),
                            format!("sum by ({}) (…)", needed.join(", ")),
                        )
                    } else {
                        (
                            "its `sum` drops `le`, the histogram's bucket bounds: every answer would be refused".to_string(),
                            format!("sum by ({}) (…)", needed.join(", ")),
                        )
                    };
                    problems.push(
                        ConfigProblem::new(format!("metrics[{i}].{side}.{k}"), message)
                            .with_hint(format!("keep it: {hint}")),
                    );
                }
            }
        }
        problems
    }

    /// The provider's and the actuator's problems.
    fn edge_problems(&self) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        if let Some(Err(e)) = self.command.as_ref().map(CommandActuator::validate) {
            // Keyed by the template, so a problem is reported at its own line.
            let (key, message) = match e {
                CommandProblem::Empty { key } => (key, "must not be empty".to_string()),
                CommandProblem::Template { key, error } => (key, error.to_string()),
            };
            problems.push(ConfigProblem::new(format!("command.{key}"), message));
        }
        if let Some(Err(e)) = self.webhook.as_ref().map(WebhookActuator::validate) {
            problems.push(ConfigProblem::new("webhook", e.to_string()));
        }
        if let Some(alb) = &self.alb {
            for (key, message) in alb.problems() {
                problems.push(ConfigProblem::new(key, message));
            }
        }
        if self
            .argo_rollouts
            .as_ref()
            .is_some_and(|a| a.rollback_attempts == 0)
        {
            problems.push(ConfigProblem::new(
                "argo-rollouts.rollback-attempts",
                "must be at least 1",
            ));
        }
        let actuators = self.actuators();
        if let [_, later @ ..] = actuators.as_slice()
            && let Some(key) = later.last()
        {
            problems.push(ConfigProblem::new(
                *key,
                format!(
                    "several actuators are set ({}); exactly one must move traffic",
                    actuators
                        .iter()
                        .map(|a| format!("[canary.{a}]"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        problems.extend(self.cloudwatch_problems());
        let url = self.prometheus.as_ref().map(|p| p.url.as_str());
        if let Some(url) = url.filter(|u| !(u.starts_with("http://") || u.starts_with("https://")))
        {
            problems.push(ConfigProblem::new(
                "prometheus.url",
                format!("`{url}` is not an http:// or https:// URL"),
            ));
        }
        problems
    }
}

impl CanarySettings {
    /// The actuators configured, by their table's name (`command`, `webhook`,
    /// `argo-rollouts`, `alb`); exactly one is valid.
    pub fn actuators(&self) -> Vec<&'static str> {
        [
            ("command", self.command.is_some()),
            ("webhook", self.webhook.is_some()),
            ("argo-rollouts", self.argo_rollouts.is_some()),
            ("alb", self.alb.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, set)| set.then_some(name))
        .collect()
    }

    /// The backend that answers `[[canary.metrics]]`' queries: `provider` when set, else
    /// CloudWatch when only `[canary.cloudwatch]` is configured, else Prometheus.
    pub fn metrics_provider(&self) -> MetricsProvider {
        match (self.provider, &self.prometheus, &self.cloudwatch) {
            (Some(p), _, _) => p,
            (None, None, Some(_)) => MetricsProvider::Cloudwatch,
            _ => MetricsProvider::Prometheus,
        }
    }

    /// `[canary.cloudwatch]`, `provider` and `[canary.alarms]`: each table valid, every
    /// metric query naming a CloudWatch query when CloudWatch answers them, a backend for
    /// every alarm, and a fail-safe limit that outlasts CloudWatch's delay.
    fn cloudwatch_problems(&self) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        let interval = self.gates.rollout.interval.0;
        let provider = self.metrics_provider();
        if let Some(cw) = &self.cloudwatch {
            for (k, m) in cw.problems(interval) {
                problems.push(ConfigProblem::new(k, m));
            }
        }
        match (provider, &self.cloudwatch) {
            (MetricsProvider::Cloudwatch, None) => problems.push(ConfigProblem::new(
                "provider",
                "provider = \"cloudwatch\" needs [canary.cloudwatch]",
            )),
            (MetricsProvider::Cloudwatch, Some(cw)) => {
                for (i, m) in self.gates.judge.metrics.iter().enumerate() {
                    let sides = [
                        ("canary", Some(&m.canary)),
                        ("baseline", m.baseline.as_ref()),
                    ];
                    for (side, q) in sides {
                        for (k, id) in q.into_iter().flat_map(|q| q.all()) {
                            if !cw.queries.contains_key(id) {
                                problems.push(ConfigProblem::new(
                                    format!("metrics[{i}].{side}.{k}"),
                                    format!(
                                        "`{id}` is not a query of [canary.cloudwatch.queries]; with CloudWatch a metric names a query by its ID"
                                    ),
                                ));
                            }
                        }
                    }
                }
                // The first windows judged ended `delay` before the run: no data yet.
                let blind = cw.delay.0.as_secs_f64() / interval.as_secs_f64().max(1.0);
                let limit = self.gates.judge.consecutive_error_limit;
                if f64::from(limit) < blind.ceil() {
                    problems.push(ConfigProblem::new(
                        "consecutive-error-limit",
                        format!(
                            "{limit} is less than CloudWatch's delay ({}) in intervals ({}): a healthy canary would fail safe before its first data",
                            cw.delay,
                            blind.ceil()
                        ),
                    ));
                }
            }
            (MetricsProvider::Prometheus, _) => {}
        }
        if let Some(a) = &self.alarms {
            for (k, m) in crate::alarms::problems(a, "alarms") {
                problems.push(ConfigProblem::new(k, m));
            }
            let names_cloudwatch = !a.cloudwatch.is_empty() || a.cloudwatch_prefix.is_some();
            if names_cloudwatch && self.cloudwatch.is_none() {
                problems.push(ConfigProblem::new(
                    "alarms",
                    "CloudWatch alarms need [canary.cloudwatch] (region = \"…\" is enough)",
                ));
            }
            if a.prometheus.is_some() && self.prometheus.is_none() {
                problems.push(ConfigProblem::new(
                    "alarms.prometheus",
                    "a Prometheus alert query needs [canary.prometheus]",
                ));
            }
        }
        problems
    }
}

/// The labels the outermost `sum` of a PromQL `query` keeps: none for `sum(…)`, the list
/// of `sum by (a, b) (…)` or `sum (…) by (a, b)`; `None` when the query does not start with
/// `sum`, or keeps what `without (…)` leaves (unknown here). Parentheses inside strings are
/// skipped.
fn sum_keeps(query: &str) -> Option<Vec<&str>> {
    /// `s` after the word `word` (any case) and the spaces after it.
    fn word<'a>(s: &'a str, word: &str) -> Option<&'a str> {
        let head = s.get(..word.len())?;
        let rest = &s[word.len()..];
        let whole = !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
        (head.eq_ignore_ascii_case(word) && whole).then(|| rest.trim_start())
    }
    /// The labels of `(a, "b", c)` at the start of `s`.
    fn labels(s: &str) -> Option<Vec<&str>> {
        let inner = s.strip_prefix('(')?;
        let end = inner.find(')')?;
        Some(
            inner[..end]
                .split(',')
                .map(|l| l.trim().trim_matches('"'))
                .filter(|l| !l.is_empty())
                .collect(),
        )
    }
    /// The byte index of the `)` closing the `(` that `s` starts with.
    fn closing(s: &str) -> Option<usize> {
        let (mut depth, mut quote, mut escaped) = (0usize, None, false);
        for (i, c) in s.char_indices() {
            match (quote, c) {
                (Some(_), _) if escaped => escaped = false,
                (Some(q), '\\') if q != '`' => escaped = true,
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'' | '`') => quote = Some(c),
                (None, '(') => depth += 1,
                (None, ')') => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                (None, _) => {}
            }
        }
        None
    }
    let rest = word(query.trim_start(), "sum")?;
    if let Some(by) = word(rest, "by") {
        return labels(by);
    }
    if word(rest, "without").is_some() || !rest.starts_with('(') {
        return None;
    }
    let after = rest[closing(rest)? + 1..].trim_start();
    match (word(after, "by"), word(after, "without")) {
        (Some(by), _) => labels(by),
        (None, Some(_)) => None,
        (None, None) => Some(Vec::new()),
    }
}

/// Which backend answers `[[canary.metrics]]`' queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MetricsProvider {
    /// `[canary.prometheus]`: each query is PromQL.
    Prometheus,
    /// `[canary.cloudwatch]`: each query is the ID of a `[canary.cloudwatch.queries.<ID>]`.
    Cloudwatch,
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use shipgate_judge::Direction;

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
set-weight = "kubectl argo rollouts promote shop -n shop-{{env}}"
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
        assert_eq!(s.gates.rollout.steps.as_slice().len(), 4);
        assert_eq!(
            s.gates.rollout.steps.as_slice()[1].hold,
            Some(HumanDuration(Duration::from_secs(300)))
        );
        assert_eq!(s.gates.rollout.interval.secs(), 10.0);
        assert_eq!(s.gates.rollout.on_inconclusive, OnInconclusive::Pause);
        assert_eq!(s.gates.judge.metrics[0].min_requests, 500);
        assert_eq!(s.gates.judge.metrics[1].baseline, None);
        assert!(!s.gates.judge.metrics[2].critical);
        assert_eq!(s.gates.judge.metrics[2].direction, Direction::Higher);
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
        check_invalid(&s, "command.promote", "unknown placeholder `{{versoin}}`");
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
        check_invalid(&s, "webhook", "exactly one must move traffic");
        check_parse_err(
            "[canary.webhook]\nurl = \"http://x\"\nheaders = 1\n",
            "unknown field `headers`",
        );
    }

    #[test]
    fn the_argo_rollouts_and_alb_actuators_parse_and_exclude_the_others() {
        let s = parse(
            "[canary.argo-rollouts]\nrollout = \"storefront\"\nnamespace = \"shop-{{env}}\"\n",
        )
        .expect("parses");
        s.validate().expect("valid");
        let a = s.argo_rollouts.as_ref().expect("argo");
        assert_eq!(
            (
                a.rollout.as_str(),
                a.step_timeout.secs(),
                a.rollback_attempts
            ),
            ("storefront", 300.0, 3)
        );
        assert_eq!(s.actuators(), ["argo-rollouts"]);
        check_parse_err(
            "[canary.argo-rollouts]\nrollout = \"storefront;id\"\n",
            "`storefront;id` is not a valid name",
        );
        check_parse_err(
            "[canary.argo-rollouts]\nrollout = \"shop\"\nnamespace = \"shop-{{version}}\"\n",
            "unknown placeholder `{{version}}`",
        );
        check_parse_err(
            "[canary.argo-rollouts]\nrollout = \"shop\"\nweight = 5\n",
            "unknown field `weight`, expected one of `rollout`",
        );

        let alb = "[canary.alb]\nlistener-arn = \"arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/shop/1/2\"\n\
            canary-target-group = \"arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/canary/1\"\n\
            baseline-target-group = \"arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/stable/2\"\n";
        let s = parse(alb).expect("parses");
        s.validate().expect("valid");
        assert_eq!(s.actuators(), ["alb"]);
        let both = parse(&format!(
            "{alb}\n[canary.argo-rollouts]\nrollout = \"shop\"\n"
        ))
        .expect("parses");
        check_invalid(
            &both,
            "alb",
            "several actuators are set ([canary.argo-rollouts], [canary.alb])",
        );
        let rule = alb.replace(
            "listener-arn = \"arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/",
            "rule-arn = \"arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/",
        );
        check_invalid(
            &parse(&rule).expect("parses"),
            "alb.rule-arn",
            "is not a listener-rule ARN",
        );
        check_parse_err(
            &alb.replace("targetgroup/canary/1", "targetgroup/canary 1"),
            "is not an Elastic Load Balancing ARN",
        );
        // An override of any form replaces the base actuator.
        let text = format!("{FULL}\n[canary.env.prod.argo-rollouts]\nrollout = \"shop\"\n");
        let base = parse(&text).expect("parses");
        let prod = base.for_env("prod").expect("valid");
        assert_eq!(prod.actuators(), ["argo-rollouts"]);
        assert_eq!(base.for_env("dev").expect("valid").actuators(), ["command"]);
    }

    #[test]
    fn defaults_are_valid_and_encode_the_slos() {
        let s = CanarySettings::default();
        s.validate().expect("valid");
        assert_eq!(s.gates.judge.consecutive_error_limit, 4);
        assert_eq!(s.gates.rollout.on_inconclusive, OnInconclusive::Rollback);
        assert_eq!(s.gates.judge.metrics[0].threshold, Some(0.001));
        assert_eq!(s.gates.judge.metrics[1].threshold, Some(2.0));
        assert_eq!(s.gates.judge.metrics[1].quantile, 0.95);
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
        assert_eq!(staging.gates.rollout.steps.as_slice().len(), 2);
        assert_eq!(staging.gates.rollout.interval.secs(), 5.0);
        assert_eq!(
            staging.gates.judge.metrics.len(),
            1,
            "the list is replaced, not merged"
        );
        assert_eq!(staging.gates.judge.metrics[0].name, "errors-only");
        let p = staging.prometheus.as_ref().expect("prometheus");
        assert_eq!(p.url, "http://prometheus.staging:9090");
        assert_eq!(
            (p.retries, p.bearer_token_env.as_deref()),
            (3, None),
            "the table is replaced, not merged"
        );
        assert_eq!(staging.gates.judge.alpha, base.gates.judge.alpha);
        assert_eq!(staging.command, base.command);
        assert_eq!(staging.gates.rollout.on_inconclusive, OnInconclusive::Pause);

        let prod = base.for_env("prod").expect("valid");
        assert_eq!(prod.gates.judge.alpha, 0.001);
        assert_eq!(prod.gates.rollout.steps, base.gates.rollout.steps);
        assert_eq!(prod.gates.judge.metrics, base.gates.judge.metrics);
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
        s.gates.judge.consecutive_error_limit = 0;
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
    fn the_labels_an_outermost_sum_keeps_are_read() {
        for (query, want) in [
            ("sum(x)", Some(vec![])),
            ("  sum (increase(x[1m]))", Some(vec![])),
            ("sum by (pod, le) (x)", Some(vec!["pod", "le"])),
            ("SUM BY(pod)(x)", Some(vec!["pod"])),
            ("sum(x{a=\")(\"}) by (pod)", Some(vec!["pod"])),
            ("sum(x{a='\\')'}) by (instance)", Some(vec!["instance"])),
            ("sum by (\"pod\") (x)", Some(vec!["pod"])),
            ("sum(x) / sum(y)", Some(vec![])),
            ("sum without (instance) (x)", None),
            ("sum(x) without (instance)", None),
            ("sum_over_time(x[1m])", None),
            ("increase(x[1m])", None),
            ("(sum(x))", None),
            ("sum(x", None),
        ] {
            assert_eq!(sum_keeps(query), want, "{query}");
        }
    }

    /// FULL with `text` replacing the error-rate metric's canary errors query and
    /// `pod-label = "pod"` on it when `pod` is set.
    fn with_error_query(query: &str, pod: bool) -> CanarySettings {
        let old = r#"errors = 'sum(increase(http_requests_total{version="{{version}}",code=~"5.."}[{{interval}}]))'"#;
        assert!(FULL.contains(old));
        let mut text = FULL.replacen(old, &format!("errors = '{query}'"), 1);
        if pod {
            text = text.replacen(
                "min-requests = 500",
                "min-requests = 500\npod-label = \"pod\"",
                1,
            );
        }
        parse(&text).expect("parses")
    }

    #[test]
    fn a_query_whose_sum_drops_the_pod_label_or_le_is_refused() {
        let s = with_error_query("sum(increase(e[{{interval}}]))", true);
        let problems = s.validate().expect_err("the sum drops pod");
        let p = problems
            .iter()
            .find(|p| p.key == "metrics[0].canary.errors")
            .expect("at the query");
        assert!(p.message.contains("drops the label `pod`"), "{p:?}");
        assert_eq!(p.hint.as_deref(), Some("keep it: sum by (pod) (…)"));
        // The other three queries of the metric have no `by (pod)` either.
        assert_eq!(
            problems
                .iter()
                .filter(|p| p.message.contains("drops the label `pod`"))
                .count(),
            4,
            "{problems:?}"
        );
        // Without pod-label the same query is fine.
        with_error_query("sum(increase(e[{{interval}}]))", false)
            .validate()
            .expect("valid");

        let by_pod = |q: &str| q.replace("sum(", "sum by (pod) (");
        let mut s = parse(&FULL.replacen(
            "min-requests = 500",
            "min-requests = 500\npod-label = \"pod\"",
            1,
        ))
        .expect("parses");
        let m = &mut s.gates.judge.metrics[0];
        for q in [&mut m.canary, m.baseline.as_mut().expect("baseline")] {
            q.errors = q.errors.as_deref().map(by_pod);
            q.requests = q.requests.as_deref().map(by_pod);
        }
        s.validate().expect("every query keeps pod");

        let mut s = parse(FULL).expect("parses");
        s.gates.judge.metrics[1].canary.buckets =
            Some("sum(increase(b[{{interval}}])) by (le)".into());
        s.validate().expect("a postfix by keeps le");
        s.gates.judge.metrics[1].pod_label = Some("pod".into());
        check_invalid(&s, "metrics[1].canary.buckets", "drops the label `pod`");
        s.gates.judge.metrics[1].canary.buckets =
            Some("sum by (pod) (increase(b[{{interval}}]))".into());
        let problems = s.validate().expect_err("drops le");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].message.contains("drops `le`"), "{problems:?}");
        assert_eq!(
            problems[0].hint.as_deref(),
            Some("keep it: sum by (pod, le) (…)")
        );
        // Queries that do not start with `sum` are left to Prometheus's answers.
        s.gates.judge.metrics[1].canary.buckets = Some(
            "label_replace(sum by (instance, le) (b), \"pod\", \"$1\", \"instance\", \"(.*)\")"
                .into(),
        );
        s.validate().expect("not read");
    }

    #[test]
    fn metrics_without_a_pod_label_are_warned_of_where_prometheus_answers() {
        let s = parse(FULL).expect("parses");
        let warnings = s.warnings();
        assert_eq!(
            warnings.iter().map(|w| w.key.as_str()).collect::<Vec<_>>(),
            ["metrics[0].pod-label", "metrics[1].pod-label"],
            "the gauge is not split by pod"
        );
        assert!(
            warnings[0]
                .message
                .contains("metric `error-rate` has no pod-label"),
            "{warnings:?}"
        );
        assert_eq!(
            warnings[1].hint.as_deref(),
            Some(
                "set pod-label = \"pod\" (the label Kubernetes service discovery gives Prometheus) and keep it in every query: sum by (pod, le) (…)"
            )
        );

        // Each environment's own metrics, once; an environment on CloudWatch has none.
        let mut s = with_overrides();
        s.env.get_mut("prod").expect("prod").provider = Some(MetricsProvider::Cloudwatch);
        let keys = |w: Vec<ConfigProblem>| w.into_iter().map(|w| w.key).collect::<Vec<_>>();
        assert_eq!(
            keys(s.warnings()),
            [
                "metrics[0].pod-label",
                "metrics[1].pod-label",
                "env.staging.metrics[0].pod-label"
            ]
        );
        assert_eq!(
            keys(s.warnings_for_env("staging")),
            ["env.staging.metrics[0].pod-label"]
        );
        assert_eq!(
            keys(s.warnings_for_env("dev")),
            ["metrics[0].pod-label", "metrics[1].pod-label"]
        );
        assert!(s.warnings_for_env("prod").is_empty());

        let mut s = parse(FULL).expect("parses");
        for m in &mut s.gates.judge.metrics {
            m.pod_label = Some("pod".into());
        }
        s.gates.judge.metrics[2].pod_label = None;
        assert!(s.warnings().is_empty());
    }

    #[test]
    fn a_command_problem_is_keyed_by_its_template() {
        let mut s = parse(FULL).expect("parses");
        if let Some(c) = s.command.as_mut() {
            c.set_weight = "kubectl argo rollouts set weight shop \"{{weight}}\"".into();
        }
        check_invalid(&s, "command.set-weight", "`{{weight}}` is inside quotes");
        let mut s = parse(FULL).expect("parses");
        if let Some(c) = s.command.as_mut() {
            c.rollback = " ".into();
        }
        check_invalid(&s, "command.rollback", "must not be empty");
    }
}
