//! The DORA keys per environment, from the ledger alone: deployment frequency, lead time
//! for changes (each commit's time to its first promotion into the environment), change
//! failure rate (promotions followed by a rollback or a failed verification, over
//! promotions) and its complement the deployment success rate, time to restore (from the
//! failing verdict or the rollback request to the rollback entry), and the deployment rework
//! rate (promotions that follow a rollback or a failed verification in the environment
//! within the rework window, over promotions). Pure: the per-month records of `state` in,
//! numbers out; [`exposition`] renders them as OpenMetrics or Prometheus text.

use serde::Serialize;

use crate::state::{MonthMetrics, PromotionMetric};

/// One environment's delivery metrics over a window.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct EnvMetrics {
    /// The environment.
    pub name: String,
    /// Promotions in the window.
    pub deployments: u64,
    /// Promotions per day of the window.
    pub deployments_per_day: f64,
    /// Commits whose first promotion into the environment fell in the window.
    pub changes: u64,
    /// Their median lead time, seconds (none without changes).
    pub lead_time_median_s: Option<f64>,
    /// Their 90th percentile lead time, seconds (nearest rank).
    pub lead_time_p90_s: Option<f64>,
    /// Promotions in the window that failed.
    pub failed_deployments: u64,
    /// Failed over all promotions (none without promotions).
    pub change_failure_rate: Option<f64>,
    /// Rollbacks in the window.
    pub restores: u64,
    /// Their median time to restore, seconds (none without rollbacks).
    pub time_to_restore_median_s: Option<f64>,
    /// Promotions in the window that did not fail.
    pub successful_deployments: u64,
    /// Successful over all promotions (none without promotions).
    pub deployment_success_rate: Option<f64>,
    /// Promotions in the window that were rework: see [`is_rework`].
    pub rework_deployments: u64,
    /// Rework over all promotions (none without promotions).
    pub rework_rate: Option<f64>,
    /// Canary verdicts recorded in the window.
    pub canaries: u64,
    /// Those that passed.
    pub canaries_passed: u64,
    /// Those that failed (and were rolled back).
    pub canaries_failed: u64,
    /// Passed over all verdicts (none without verdicts).
    pub canary_pass_rate: Option<f64>,
    /// The median time from a canary's start to its verdict, seconds.
    pub canary_decision_median_s: Option<f64>,
    /// The 90th percentile of it (nearest rank).
    pub canary_decision_p90_s: Option<f64>,
}

/// The rework window's default: 7 days.
pub const REWORK_WINDOW_S: i64 = 7 * 86_400;

/// Whether `promotions[i]` (all of an environment's, in time order) is rework, an unplanned
/// deployment: a rollback in the environment (`restores`: their times) at most `window`
/// seconds before it, or the promotion before it failed (a rollback away from it or a
/// failed verification of its version) at most `window` seconds before it. The month
/// records keep no time for a failed verification, only that the promotion failed: the
/// failed promotion's own time stands for it, so a fix promoted more than `window` after
/// the failed version was promoted is not counted.
pub fn is_rework(promotions: &[&PromotionMetric], i: usize, restores: &[i64], window: i64) -> bool {
    let Some(p) = promotions.get(i) else {
        return false;
    };
    let after_failure = i
        .checked_sub(1)
        .and_then(|j| promotions.get(j))
        .is_some_and(|prev| prev.failed && p.at - prev.at <= window);
    after_failure || restores.iter().any(|r| *r <= p.at && p.at - r <= window)
}

/// The median of `values` (sorted in place): the middle one, or the mean of the two middle.
pub fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    })
}

/// The `q` quantile of `values` (sorted in place) by nearest rank: the smallest value with
/// at least `q` of the values at or below it.
pub fn nearest_rank(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let rank = (q * values.len() as f64).ceil().max(1.0) as usize;
    values.get(rank - 1).copied()
}

/// `name`'s metrics over `[since, now]` (Unix seconds) from its month records (all of
/// them: rework looks back `rework_window` seconds before `since`).
pub fn compute<'a>(
    name: &str,
    months: impl IntoIterator<Item = &'a MonthMetrics>,
    since: i64,
    now: i64,
    rework_window: i64,
) -> EnvMetrics {
    let (mut deployments, mut failed, mut rework) = (0u64, 0u64, 0u64);
    let mut leads: Vec<f64> = Vec::new();
    let mut restores: Vec<f64> = Vec::new();
    let mut all: Vec<&PromotionMetric> = Vec::new();
    let mut restored_at: Vec<i64> = Vec::new();
    let (mut passed, mut canaries_failed) = (0u64, 0u64);
    let mut decisions: Vec<f64> = Vec::new();
    for m in months {
        for c in m.canaries.iter().filter(|c| c.at >= since && c.at <= now) {
            if c.passed {
                passed += 1;
            } else {
                canaries_failed += 1;
            }
            if c.decided_s.is_finite() {
                decisions.push(c.decided_s.max(0.0));
            }
        }
        all.extend(&m.promotions);
        restored_at.extend(m.restores.iter().map(|r| r.at));
        restores.extend(
            m.restores
                .iter()
                .filter(|r| r.at >= since && r.at <= now)
                .map(|r| r.seconds as f64),
        );
    }
    // In time order (stable: a month's promotions are in order already).
    all.sort_by_key(|p| p.at);
    for (i, p) in all.iter().enumerate() {
        if p.at < since || p.at > now {
            continue;
        }
        deployments += 1;
        failed += u64::from(p.failed);
        rework += u64::from(is_rework(&all, i, &restored_at, rework_window));
        leads.extend(p.lead_s.iter().map(|s| *s as f64));
    }
    let rate = |n: u64| (deployments > 0).then(|| n as f64 / deployments as f64);
    let days = ((now - since) as f64 / 86_400.0).max(1.0 / 24.0);
    EnvMetrics {
        name: name.to_string(),
        deployments,
        deployments_per_day: deployments as f64 / days,
        changes: leads.len() as u64,
        lead_time_median_s: median(&mut leads),
        lead_time_p90_s: nearest_rank(&mut leads, 0.9),
        failed_deployments: failed,
        change_failure_rate: rate(failed),
        restores: restores.len() as u64,
        time_to_restore_median_s: median(&mut restores),
        successful_deployments: deployments - failed,
        deployment_success_rate: rate(deployments - failed),
        rework_deployments: rework,
        rework_rate: rate(rework),
        canaries: passed + canaries_failed,
        canaries_passed: passed,
        canaries_failed,
        canary_pass_rate: (passed + canaries_failed > 0)
            .then(|| passed as f64 / (passed + canaries_failed) as f64),
        canary_decision_median_s: median(&mut decisions),
        canary_decision_p90_s: nearest_rank(&mut decisions, 0.9),
    }
}

/// The text format of [`exposition`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OpenMetrics 1.0: a counter family is named without `_total` (its sample has it),
    /// `# UNIT` lines, `# EOF` at the end.
    OpenMetrics,
    /// The Prometheus text format 0.0.4 (node-exporter's textfile collector, the
    /// Pushgateway, `promtool check metrics`): a counter family is named as its sample,
    /// with `_total`; no `# EOF`. `# UNIT` lines are comments to it.
    Prometheus,
}

/// A label value escaped as OpenMetrics and Prometheus text say: `\` as `\\`, `"` as
/// `\"`, a line feed as `\n`.
pub fn label_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A sample's value: integers without a fraction, `NaN` and `±Inf` as the formats spell
/// them.
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v}")
    }
}

/// What `shipgate metrics --format openmetrics|prometheus` prints: one family per key, one
/// sample per environment (label `environment`; a key an environment has no value for, such
/// as a median without changes, has no sample), every name prefixed `shipgate_`, and the
/// rework window the rework counts used.
pub fn exposition(envs: &[EnvMetrics], rework_window_s: i64, format: Format) -> String {
    use std::fmt::Write as _;
    enum Kind {
        Counter,
        Gauge(Option<&'static str>),
    }
    type Value = fn(&EnvMetrics) -> Option<f64>;
    let families: [(&str, Kind, &str, Value); 17] = [
        (
            "shipgate_deployments",
            Kind::Counter,
            "Promotions into the environment in the window.",
            |m| Some(m.deployments as f64),
        ),
        (
            "shipgate_changes",
            Kind::Counter,
            "Commits whose first promotion into the environment fell in the window.",
            |m| Some(m.changes as f64),
        ),
        (
            "shipgate_failed_deployments",
            Kind::Counter,
            "Promotions followed by a rollback or a failed verification of their version.",
            |m| Some(m.failed_deployments as f64),
        ),
        (
            "shipgate_rework_deployments",
            Kind::Counter,
            "Promotions that followed a rollback or a failed verification in the environment within the rework window.",
            |m| Some(m.rework_deployments as f64),
        ),
        (
            "shipgate_restores",
            Kind::Counter,
            "Rollbacks in the environment in the window.",
            |m| Some(m.restores as f64),
        ),
        (
            "shipgate_deployments_per_day",
            Kind::Gauge(None),
            "Deployment frequency: promotions per day of the window.",
            |m| Some(m.deployments_per_day),
        ),
        (
            "shipgate_lead_time_median_seconds",
            Kind::Gauge(Some("seconds")),
            "Lead time for changes: the median time from a commit to its first promotion into the environment.",
            |m| m.lead_time_median_s,
        ),
        (
            "shipgate_lead_time_p90_seconds",
            Kind::Gauge(Some("seconds")),
            "Lead time for changes: the 90th percentile (nearest rank).",
            |m| m.lead_time_p90_s,
        ),
        (
            "shipgate_change_failure_ratio",
            Kind::Gauge(Some("ratio")),
            "Change failure rate: failed promotions over promotions.",
            |m| m.change_failure_rate,
        ),
        (
            "shipgate_deployment_success_ratio",
            Kind::Gauge(Some("ratio")),
            "Deployment success rate: promotions not followed by a rollback or a failed verification of their version, over promotions.",
            |m| m.deployment_success_rate,
        ),
        (
            "shipgate_deployment_rework_ratio",
            Kind::Gauge(Some("ratio")),
            "Deployment rework rate: unplanned promotions (after a rollback or a failed verification within the rework window) over promotions.",
            |m| m.rework_rate,
        ),
        (
            "shipgate_time_to_restore_median_seconds",
            Kind::Gauge(Some("seconds")),
            "Time to restore: the median time from the failure to the rollback.",
            |m| m.time_to_restore_median_s,
        ),
        (
            "shipgate_canary_passes",
            Kind::Counter,
            "Canary verdicts that passed (the version was promoted to full traffic).",
            |m| Some(m.canaries_passed as f64),
        ),
        (
            "shipgate_canary_failures",
            Kind::Counter,
            "Canary verdicts that failed (traffic went back to the baseline).",
            |m| Some(m.canaries_failed as f64),
        ),
        (
            "shipgate_canary_pass_ratio",
            Kind::Gauge(Some("ratio")),
            "Canary verdicts that passed over all canary verdicts.",
            |m| m.canary_pass_rate,
        ),
        (
            "shipgate_canary_decision_median_seconds",
            Kind::Gauge(Some("seconds")),
            "Canary time to decision: the median time from a canary's start to its verdict.",
            |m| m.canary_decision_median_s,
        ),
        (
            "shipgate_canary_decision_p90_seconds",
            Kind::Gauge(Some("seconds")),
            "Canary time to decision: the 90th percentile (nearest rank).",
            |m| m.canary_decision_p90_s,
        ),
    ];
    let mut out = String::new();
    let header = |out: &mut String, family: &str, kind: &Kind, help: &str| {
        let (name, type_) = match (kind, format) {
            (Kind::Counter, Format::Prometheus) => (format!("{family}_total"), "counter"),
            (Kind::Counter, Format::OpenMetrics) => (family.to_string(), "counter"),
            (Kind::Gauge(_), _) => (family.to_string(), "gauge"),
        };
        let _ = writeln!(out, "# TYPE {name} {type_}");
        if let (Kind::Gauge(Some(unit)), Format::OpenMetrics) = (kind, format) {
            let _ = writeln!(out, "# UNIT {name} {unit}");
        }
        let _ = writeln!(out, "# HELP {name} {help}");
    };
    for (family, kind, help, value) in &families {
        header(&mut out, family, kind, help);
        let sample = match kind {
            Kind::Counter => format!("{family}_total"),
            Kind::Gauge(_) => family.to_string(),
        };
        for m in envs {
            if let Some(v) = value(m) {
                let _ = writeln!(
                    out,
                    "{sample}{{environment=\"{}\"}} {}",
                    label_value(&m.name),
                    number(v)
                );
            }
        }
    }
    header(
        &mut out,
        "shipgate_rework_window_seconds",
        &Kind::Gauge(Some("seconds")),
        "How far back a rollback or a failed verification makes a promotion rework.",
    );
    let _ = writeln!(out, "shipgate_rework_window_seconds {rework_window_s}");
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{CanaryMetric, PromotionMetric, RestoreMetric};

    const DAY: i64 = 86_400;

    fn canary(at: i64, passed: bool, decided_s: f64) -> CanaryMetric {
        CanaryMetric {
            at,
            passed,
            decided_s,
        }
    }

    fn promotion(at: i64, lead_s: &[i64], failed: bool) -> PromotionMetric {
        PromotionMetric {
            at,
            version: "x".into(),
            lead_s: lead_s.to_vec(),
            failed,
        }
    }

    #[test]
    fn known_answers_on_a_constructed_month() {
        let m = MonthMetrics {
            promotions: vec![
                promotion(DAY, &[60, 120], false),
                promotion(2 * DAY, &[30], true),
                promotion(3 * DAY, &[600, 3600, 7200], false),
                promotion(9 * DAY, &[10], false),
            ],
            restores: vec![
                RestoreMetric {
                    at: 2 * DAY + 100,
                    seconds: 40,
                },
                RestoreMetric {
                    at: 8 * DAY,
                    seconds: 100,
                },
            ],
            canaries: vec![
                canary(DAY, true, 300.0),
                canary(2 * DAY, false, 70.0),
                canary(3 * DAY, true, 600.0),
                canary(11 * DAY, false, 5.0),
            ],
        };
        let all = compute("prod", [&m], 0, 10 * DAY, REWORK_WINDOW_S);
        // The fourth verdict is after the window.
        assert_eq!(
            (all.canaries, all.canaries_passed, all.canaries_failed),
            (3, 2, 1)
        );
        assert_eq!(all.canary_pass_rate, Some(2.0 / 3.0));
        assert_eq!(all.canary_decision_median_s, Some(300.0));
        assert_eq!(all.canary_decision_p90_s, Some(600.0));
        assert_eq!(all.deployments, 4);
        assert!((all.deployments_per_day - 0.4).abs() < 1e-9);
        assert_eq!(all.changes, 7);
        // 10, 30, 60, 120, 600, 3600, 7200
        assert_eq!(all.lead_time_median_s, Some(120.0));
        assert_eq!(all.lead_time_p90_s, Some(7200.0));
        assert_eq!(all.change_failure_rate, Some(0.25));
        assert_eq!(all.time_to_restore_median_s, Some(70.0));
        // The window from day 2 leaves the first promotion out.
        let window = compute("prod", [&m], 2 * DAY, 10 * DAY, REWORK_WINDOW_S);
        assert_eq!(window.deployments, 3);
        assert_eq!(window.change_failure_rate, Some(1.0 / 3.0));
        assert_eq!(window.lead_time_median_s, Some(600.0));
        let empty = compute("dev", [], 0, DAY, REWORK_WINDOW_S);
        assert_eq!(
            (
                empty.deployments,
                empty.lead_time_median_s,
                empty.change_failure_rate
            ),
            (0, None, None)
        );
    }

    #[test]
    fn quantiles() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(nearest_rank(&mut [1.0; 10], 0.9), Some(1.0));
        let mut v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(nearest_rank(&mut v, 0.9), Some(9.0));
        assert_eq!(nearest_rank(&mut [], 0.9), None);
    }

    #[test]
    fn rework_follows_a_rollback_or_a_failed_promotion_within_the_window() {
        const H: i64 = 3600;
        // Day 1: ok. Day 2: fails, rolled back 1h later. 3h later a fix (rework: the
        // rollback and the failed promotion). Day 3: rework (23h after the rollback), fails
        // by a verification; a fix-forward 2h later (rework). Day 20: a planned promotion,
        // long after any failure. A month later, a rollback with no promotion after it.
        let jan = MonthMetrics {
            promotions: vec![
                promotion(DAY, &[], false),
                promotion(2 * DAY, &[], true),
                promotion(2 * DAY + 4 * H, &[], false),
                promotion(3 * DAY, &[], true),
                promotion(3 * DAY + 2 * H, &[], false),
                promotion(20 * DAY, &[], false),
            ],
            restores: vec![RestoreMetric {
                at: 2 * DAY + H,
                seconds: 60,
            }],
            canaries: vec![],
        };
        let feb = MonthMetrics {
            promotions: vec![],
            restores: vec![RestoreMetric {
                at: 40 * DAY,
                seconds: 60,
            }],
            canaries: vec![],
        };
        let m = compute("prod", [&feb, &jan], 0, 41 * DAY, REWORK_WINDOW_S);
        assert_eq!((m.deployments, m.failed_deployments), (6, 2));
        assert_eq!(m.successful_deployments, 4);
        assert_eq!(m.deployment_success_rate, Some(4.0 / 6.0));
        assert_eq!(m.rework_deployments, 3);
        assert_eq!(m.rework_rate, Some(0.5));
        // A 2-hour window: only the fix-forward 2h after its failed promotion is rework;
        // the fix 3h after the rollback (4h after its failed promotion) is planned now.
        let short = compute("prod", [&jan], 0, 41 * DAY, 2 * H);
        assert_eq!(
            (short.rework_deployments, short.rework_rate),
            (1, Some(1.0 / 6.0))
        );
        // A window from day 2 + 2h: three of its four promotions are rework, judged by what
        // came before the window too.
        let late = compute("prod", [&jan], 2 * DAY + 2 * H, 41 * DAY, REWORK_WINDOW_S);
        assert_eq!((late.deployments, late.rework_deployments), (4, 3));
        assert_eq!(late.deployment_success_rate, Some(0.75));
        let empty = compute("dev", [], 0, DAY, REWORK_WINDOW_S);
        assert_eq!(
            (empty.deployment_success_rate, empty.rework_rate),
            (None, None)
        );
    }

    #[test]
    fn a_rollback_after_the_promotion_does_not_make_it_rework() {
        let all = [promotion(DAY, &[], true)];
        let refs: Vec<&PromotionMetric> = all.iter().collect();
        assert!(!is_rework(&refs, 0, &[DAY + 60], REWORK_WINDOW_S));
        assert!(is_rework(&refs, 0, &[DAY - 60], REWORK_WINDOW_S));
        assert!(!is_rework(&refs, 0, &[DAY - 120], 60));
        assert!(!is_rework(&refs, 1, &[], REWORK_WINDOW_S));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label_value("prod"), "prod");
        assert_eq!(label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    }

    fn two_envs() -> Vec<EnvMetrics> {
        let m = MonthMetrics {
            promotions: vec![
                promotion(DAY, &[60], false),
                promotion(2 * DAY, &[30], true),
            ],
            restores: vec![RestoreMetric {
                at: 2 * DAY + 100,
                seconds: 40,
            }],
            canaries: vec![canary(DAY, true, 120.0), canary(2 * DAY, false, 30.0)],
        };
        vec![
            compute("prod", [&m], 0, 10 * DAY, REWORK_WINDOW_S),
            compute("odd\"env", [], 0, 10 * DAY, REWORK_WINDOW_S),
        ]
    }

    #[test]
    fn openmetrics_has_typed_families_units_and_eof() {
        let text = exposition(&two_envs(), REWORK_WINDOW_S, Format::OpenMetrics);
        for line in [
            "# TYPE shipgate_deployments counter",
            "shipgate_deployments_total{environment=\"prod\"} 2",
            "shipgate_deployments_total{environment=\"odd\\\"env\"} 0",
            "shipgate_failed_deployments_total{environment=\"prod\"} 1",
            "shipgate_rework_deployments_total{environment=\"prod\"} 0",
            "# UNIT shipgate_lead_time_median_seconds seconds",
            "shipgate_lead_time_median_seconds{environment=\"prod\"} 45",
            "shipgate_deployments_per_day{environment=\"prod\"} 0.2",
            "# UNIT shipgate_deployment_success_ratio ratio",
            "shipgate_deployment_success_ratio{environment=\"prod\"} 0.5",
            "shipgate_deployment_rework_ratio{environment=\"prod\"} 0",
            "shipgate_time_to_restore_median_seconds{environment=\"prod\"} 40",
            "shipgate_rework_window_seconds 604800",
            "shipgate_canary_passes_total{environment=\"prod\"} 1",
            "shipgate_canary_failures_total{environment=\"prod\"} 1",
            "shipgate_canary_pass_ratio{environment=\"prod\"} 0.5",
            "# UNIT shipgate_canary_decision_median_seconds seconds",
            "shipgate_canary_decision_median_seconds{environment=\"prod\"} 75",
            "shipgate_canary_decision_p90_seconds{environment=\"prod\"} 120",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
        }
        // No value, no sample: the environment without promotions has no ratios.
        assert!(!text.contains("shipgate_change_failure_ratio{environment=\"odd"));
        assert!(text.ends_with("\n# EOF\n"), "{text}");
        assert_eq!(text.matches("# EOF").count(), 1);
    }

    #[test]
    fn prometheus_text_names_counter_families_with_total_and_has_no_eof() {
        let envs = two_envs();
        let prom = exposition(&envs, 3600, Format::Prometheus);
        let open = exposition(&envs, 3600, Format::OpenMetrics);
        assert!(prom.contains("# TYPE shipgate_deployments_total counter\n"));
        assert!(!prom.contains("# UNIT") && !prom.contains("# EOF"));
        // The same samples in the same order.
        let samples = |t: &str| -> Vec<String> {
            t.lines()
                .filter(|l| !l.starts_with('#'))
                .map(String::from)
                .collect()
        };
        assert_eq!(samples(&prom), samples(&open));
        assert!(prom.ends_with("shipgate_rework_window_seconds 3600\n"));
    }
}
