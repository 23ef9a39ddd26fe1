//! Judging a rollout that another engine moves (Argo Rollouts, Flagger): the metrics since
//! the rollout began, read back with one range query per query, sampled as a live run
//! samples them, and replayed through the judge from the first interval. Every answer is
//! the judge's over the whole rollout, whoever asks and however often: a restarted server
//! or a re-run Job gives the same verdict on the same data, and the e-process keeps its
//! guarantee across calls, because no call starts a test afresh.
//!
//! Canary and baseline are told apart by version (`{{version}}`, `{{baseline_version}}`) or
//! by pod selector (`{{canary_hash}}`, `{{stable_hash}}`: the ReplicaSets'
//! `rollouts-pod-template-hash`, or Flagger's `canary`/`primary` name parts).

use serde::Serialize;
use shipgate_judge::settings::placeholders;
use shipgate_judge::{Gates, Report, Verdict};
use shipgate_stdx::names::{EnvName, PodHash, Version};

use crate::capture::{CaptureError, RangeMetrics, Window, capture_intervals};

/// What is judged: the environment, and how its canary and baseline are told apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Subject {
    pub env: EnvName,
    pub canary_version: Option<Version>,
    pub baseline_version: Option<Version>,
    pub canary_hash: Option<PodHash>,
    pub stable_hash: Option<PodHash>,
}

impl Subject {
    /// The placeholders' values; `interval` is the settings' interval as written.
    pub fn vars<'a>(&'a self, interval: &'a str) -> Vec<(&'static str, &'a str)> {
        let mut vars = vec![("env", self.env.as_str()), ("interval", interval)];
        let optional = [
            ("version", self.canary_version.as_deref()),
            ("baseline_version", self.baseline_version.as_deref()),
            ("canary_hash", self.canary_hash.as_deref()),
            ("stable_hash", self.stable_hash.as_deref()),
        ];
        vars.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        vars
    }

    /// The first query placeholder this subject has no value for, with its metric.
    pub fn missing(&self, gates: &Gates) -> Option<Missing> {
        let known: Vec<&str> = self.vars("").into_iter().map(|(k, _)| k).collect();
        missing(gates, &known)
    }
}

/// The first placeholder a query of `gates` uses that is not among `known`.
pub fn missing(gates: &Gates, known: &[&str]) -> Option<Missing> {
    for m in &gates.judge.metrics {
        let sides = std::iter::once(&m.canary).chain(m.baseline.as_ref());
        for q in sides {
            for t in [&q.errors, &q.requests, &q.buckets, &q.value]
                .into_iter()
                .flatten()
            {
                for p in placeholders(t).unwrap_or_default() {
                    if !known.contains(&p.name) {
                        return Some(Missing {
                            metric: m.name.clone(),
                            placeholder: p.name.to_string(),
                        });
                    }
                }
            }
        }
    }
    None
}

/// A query placeholder without a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub metric: String,
    pub placeholder: String,
}

impl Missing {
    /// The flag (or parameter) that gives it.
    pub fn flag(&self) -> &'static str {
        match self.placeholder.as_str() {
            "version" => "canary-version",
            "baseline_version" => "baseline-version",
            "canary_hash" => "canary-hash",
            "stable_hash" => "stable-hash",
            _ => "",
        }
    }
}

/// Why an analysis could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// A query needs a value that was not given.
    #[error("metric `{}`'s query uses {{{{{}}}}}, which has no value", .0.metric, .0.placeholder)]
    Missing(Missing),
    /// The metrics could not be read (settings, a refused query, an unreachable server).
    #[error(transparent)]
    Capture(#[from] CaptureError),
    /// The environment's settings or its Prometheus client could not be set up.
    #[error("{0}")]
    Setup(String),
}

impl AnalysisError {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            AnalysisError::Missing(m) => Some(format!(
                "give --{} (or the `{}` parameter)",
                m.flag(),
                m.flag()
            )),
            AnalysisError::Capture(e) => e.hint(),
            AnalysisError::Setup(_) => {
                Some("fix [canary] and [canary.prometheus] in shipgate.toml".into())
            }
        }
    }
}

/// The judge's answer on a rollout so far.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Analysis {
    /// `pass`: enough evidence and no regression; `fail`: a regression (or the fail-safe);
    /// `continue`: not enough evidence yet, never a pass.
    pub verdict: Verdict,
    /// The metric that decided: the failing one, or the first still waiting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    /// The rule that decided, in words.
    pub reason: String,
    /// Intervals judged (from the first with the canary's data).
    pub intervals: u64,
    /// The window read: its start, Unix seconds.
    pub since: f64,
    /// Its end, Unix seconds.
    pub until: f64,
    /// The judge's report: every metric with its values, bounds and effect.
    #[serde(rename = "evidence", skip_serializing_if = "Option::is_none")]
    pub report: Option<Report>,
}

/// The judge's verdict on `window` of `subject`'s rollout, its metrics read from `source`.
pub fn analyze(
    gates: &Gates,
    subject: &Subject,
    source: &dyn RangeMetrics,
    window: Window,
) -> Result<Analysis, AnalysisError> {
    gates
        .validate()
        .map_err(|e| AnalysisError::Capture(CaptureError::Settings(e)))?;
    if let Some(missing) = subject.missing(gates) {
        return Err(AnalysisError::Missing(missing));
    }
    let interval = gates.rollout.interval;
    let waiting = |reason: String| Analysis {
        verdict: Verdict::Continue,
        metric: None,
        reason,
        intervals: 0,
        since: window.from,
        until: window.to,
        report: None,
    };
    if window.to - window.from < interval.secs() {
        return Ok(waiting(format!(
            "waiting for the first interval ({interval}) to end"
        )));
    }
    let interval_text = interval.to_string();
    let vars = subject.vars(&interval_text);
    let mut intervals = capture_intervals(gates, &vars, source, window)?;
    // Before the canary's first data the rollout had not begun: those intervals are no
    // evidence either way, and must not count towards the fail-safe.
    let first = intervals
        .iter()
        .position(|i| i.metrics.values().any(|m| m.canary.is_some()))
        .unwrap_or(intervals.len());
    intervals.drain(..first);
    if intervals.is_empty() {
        return Ok(waiting(
            "no data for the canary yet (check --canary-hash / --canary-version and the queries)"
                .into(),
        ));
    }
    let outcome = shipgate_judge::replay(gates, &intervals)
        .map_err(|e| AnalysisError::Capture(CaptureError::Settings(e)))?;
    let metric = outcome.report.as_ref().and_then(|r| {
        let wanted = match outcome.verdict {
            Verdict::Pass => return None,
            v => v,
        };
        r.metrics
            .iter()
            .find(|m| m.verdict == wanted)
            .map(|m| m.name.clone())
    });
    Ok(Analysis {
        verdict: outcome.verdict,
        metric,
        reason: outcome.rule,
        intervals: outcome.intervals_judged,
        since: window.from,
        until: window.to,
        report: outcome.report,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::provider::{ProviderError, Series};
    use shipgate_judge::settings::{MetricConfig, MetricKind, Queries};

    /// Range answers: errors and requests per interval for canary and baseline, by the
    /// rendered query's text; `None` is no point.
    struct Fake {
        canary: Vec<Option<(f64, f64)>>,
        baseline: Vec<Option<(f64, f64)>>,
    }

    impl RangeMetrics for Fake {
        fn range(
            &self,
            query: &str,
            start: f64,
            _end: f64,
            step: Duration,
        ) -> Result<Vec<Series>, ProviderError> {
            let (side, errors) = (
                if query.contains("canary-abc") {
                    &self.canary
                } else {
                    &self.baseline
                },
                query.starts_with("errors"),
            );
            let points = side
                .iter()
                .enumerate()
                .filter_map(|(k, p)| {
                    p.map(|(e, r)| {
                        (
                            start + step.as_secs_f64() * k as f64,
                            if errors { e } else { r },
                        )
                    })
                })
                .collect();
            Ok(vec![Series {
                labels: Default::default(),
                points,
            }])
        }
    }

    fn gates() -> Gates {
        let mut g = Gates::default();
        let q = |hash: &str| Queries {
            errors: Some(format!("errors{{pod=~\"{hash}\"}}")),
            requests: Some(format!("requests{{pod=~\"{hash}\"}}")),
            ..Queries::default()
        };
        g.judge.metrics = vec![MetricConfig {
            name: "errors".into(),
            kind: MetricKind::Counts,
            canary: q("{{canary_hash}}"),
            baseline: Some(q("{{stable_hash}}")),
            ..MetricConfig::platform_defaults().remove(0)
        }];
        g
    }

    fn subject() -> Subject {
        Subject {
            env: EnvName::parse("prod").expect("env"),
            canary_version: None,
            baseline_version: None,
            canary_hash: Some(PodHash::parse("canary-abc").expect("hash")),
            stable_hash: Some(PodHash::parse("stable-def").expect("hash")),
        }
    }

    fn window(intervals: usize, g: &Gates) -> Window {
        let from = 1_800_000_000.0;
        Window {
            from,
            to: from + g.rollout.interval.secs() * intervals as f64,
        }
    }

    #[test]
    fn a_clean_canary_passes_and_a_bad_one_fails_with_its_metric() {
        let g = gates();
        let clean = Fake {
            canary: vec![Some((1.0, 1000.0)); 30],
            baseline: vec![Some((1.0, 1000.0)); 30],
        };
        let a = analyze(&g, &subject(), &clean, window(30, &g)).expect("analysis");
        assert_eq!(a.verdict, Verdict::Pass, "{a:?}");
        assert_eq!(a.metric, None);
        let bad = Fake {
            canary: vec![Some((10.0, 1000.0)); 30],
            baseline: vec![Some((1.0, 1000.0)); 30],
        };
        let a = analyze(&g, &subject(), &bad, window(30, &g)).expect("analysis");
        assert_eq!(a.verdict, Verdict::Fail, "{a:?}");
        assert_eq!(a.metric.as_deref(), Some("errors"));
    }

    #[test]
    fn no_data_never_passes_and_leading_gaps_are_not_evidence() {
        let g = gates();
        let none = Fake {
            canary: vec![None; 30],
            baseline: vec![Some((1.0, 1000.0)); 30],
        };
        let a = analyze(&g, &subject(), &none, window(30, &g)).expect("analysis");
        assert_eq!(a.verdict, Verdict::Continue, "{a:?}");
        // The canary started late: the intervals before it count for nothing.
        let mut late = vec![None; 10];
        late.extend(vec![Some((1.0, 1000.0)); 20]);
        let late = Fake {
            canary: late,
            baseline: vec![Some((1.0, 1000.0)); 30],
        };
        let a = analyze(&g, &subject(), &late, window(30, &g)).expect("analysis");
        assert_eq!((a.verdict, a.intervals), (Verdict::Pass, 20), "{a:?}");
        let short = analyze(&g, &subject(), &late, window(0, &g)).expect("analysis");
        assert_eq!(short.verdict, Verdict::Continue);
    }

    #[test]
    fn a_placeholder_without_a_value_says_which_flag_gives_it() {
        let g = gates();
        let mut s = subject();
        s.stable_hash = None;
        let err = analyze(
            &g,
            &s,
            &Fake {
                canary: vec![],
                baseline: vec![],
            },
            window(3, &g),
        )
        .expect_err("missing");
        assert_eq!(
            err.to_string(),
            "metric `errors`'s query uses {{stable_hash}}, which has no value"
        );
        assert_eq!(
            err.hint().as_deref(),
            Some("give --stable-hash (or the `stable-hash` parameter)")
        );
    }
}
