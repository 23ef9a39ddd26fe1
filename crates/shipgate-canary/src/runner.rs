//! The rollout runner: checks every query, then moves traffic step by step, samples the
//! metrics every interval, asks the judge, and promotes or rolls back. The I/O (metrics,
//! traffic, time) comes in through three small traits so tests and replays can drive it.

use std::time::Duration;

use serde::Serialize;

use crate::actuator::{ActuatorError, ActuatorVars, CommandActuator};
use crate::config::{CanarySettings, ConfigProblem, MetricConfig, MetricKind, Queries, render};
use crate::judge::{Judge, Report, Verdict};
use crate::provider::{Prometheus, ProviderError};
use crate::record::{FORMAT, RecordedInterval, Recording};
use crate::rollout::{Action, Rollout};
use crate::sample::{Counts, MetricSample, Num, Observation, Side};

/// Where measurements come from.
pub trait Metrics {
    /// Checks a query before traffic moves.
    fn check(&self, query: &str) -> Result<(), ProviderError>;
    /// One value (None: no series).
    fn value(&self, query: &str) -> Result<Option<f64>, ProviderError>;
    /// A histogram by `le` (None: no series).
    fn histogram(&self, query: &str) -> Result<Option<crate::sample::Histogram>, ProviderError>;
}

impl Metrics for Prometheus {
    fn check(&self, query: &str) -> Result<(), ProviderError> {
        Prometheus::check(self, query)
    }
    fn value(&self, query: &str) -> Result<Option<f64>, ProviderError> {
        Prometheus::value(self, query)
    }
    fn histogram(&self, query: &str) -> Result<Option<crate::sample::Histogram>, ProviderError> {
        Prometheus::histogram(self, query)
    }
}

/// How traffic moves.
pub trait Traffic {
    /// Sets the canary's share.
    fn set_weight(&mut self, weight: u8) -> Result<(), ActuatorError>;
    /// Completes the rollout.
    fn promote(&mut self) -> Result<(), ActuatorError>;
    /// Sends everything back to the baseline.
    fn rollback(&mut self) -> Result<(), ActuatorError>;
}

/// The command actuator with its template values.
pub struct CommandTraffic<'a> {
    /// The commands.
    pub actuator: &'a CommandActuator,
    /// The values for their placeholders.
    pub vars: ActuatorVars,
}

impl Traffic for CommandTraffic<'_> {
    fn set_weight(&mut self, weight: u8) -> Result<(), ActuatorError> {
        self.actuator.set_weight(&self.vars, weight)
    }
    fn promote(&mut self) -> Result<(), ActuatorError> {
        self.actuator.promote(&self.vars)
    }
    fn rollback(&mut self) -> Result<(), ActuatorError> {
        self.actuator.rollback(&self.vars)
    }
}

/// Time since the start, and waiting.
pub trait Clock {
    /// Time since the run started.
    fn elapsed(&self) -> Duration;
    /// Waits until `at` after the start.
    fn sleep_until(&mut self, at: Duration);
}

/// The wall clock.
pub struct WallClock(pub std::time::Instant);

impl Clock for WallClock {
    fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
    fn sleep_until(&mut self, at: Duration) {
        if let Some(d) = at.checked_sub(self.0.elapsed()) {
            std::thread::sleep(d);
        }
    }
}

/// What a run is about.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// The environment.
    pub env: String,
    /// The canary's version.
    pub version: String,
    /// The baseline's version.
    pub baseline_version: String,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "result")]
pub enum RunResult {
    /// Every step passed; the canary was promoted.
    Promoted,
    /// The judge failed the canary (or the fail-safe did); traffic went back.
    RolledBack {
        /// Why.
        reason: String,
    },
    /// Inconclusive with `on-inconclusive = "pause"`.
    Paused {
        /// Why.
        reason: String,
    },
}

/// A finished run: its result, the judge's last report, the recording.
#[derive(Debug, Clone, Serialize)]
pub struct RunOutcome {
    /// How it ended.
    #[serde(flatten)]
    pub result: RunResult,
    /// Seconds since the start when it was decided.
    pub decided_at_s: f64,
    /// The judge's last report.
    pub report: Option<Report>,
    /// Everything observed.
    #[serde(skip)]
    pub recording: Recording,
}

/// Why a run could not complete normally.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The settings are invalid.
    #[error("invalid [canary] settings: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Settings(Vec<ConfigProblem>),
    /// A query failed its check; no traffic was moved.
    #[error(
        "metric `{metric}`: {source}\nhint: no traffic was moved; fix the query in [canary.metrics]"
    )]
    Query {
        /// The metric.
        metric: String,
        /// Prometheus's answer.
        source: ProviderError,
    },
    /// Moving traffic failed; a rollback was attempted.
    #[error("{0}")]
    Actuator(Box<ActuatorFailure>),
}

/// A failed traffic move and what the rollback after it did.
#[derive(Debug, thiserror::Error)]
#[error("{source}{}", match (.source.action, .rollback) {
    ("rollback", _) => String::new(),
    (_, None) => "; the rollback after it succeeded".to_string(),
    (_, Some(e)) => format!("; the rollback after it ALSO FAILED: {e}"),
})]
pub struct ActuatorFailure {
    /// The failed action.
    pub source: ActuatorError,
    /// The rollback's error, if it failed too (or was the failed action).
    pub rollback: Option<ActuatorError>,
    /// What was observed so far.
    pub recording: Recording,
}

/// One judgement, for progress output.
#[derive(Debug, Clone)]
pub struct Judgement<'a> {
    /// Seconds since the start.
    pub t: f64,
    /// Current step (0-based), its weight and the number of steps.
    pub step: (usize, u8, usize),
    /// The judge's report.
    pub report: &'a Report,
}

fn queries_for(metric: &MetricConfig) -> Vec<(&'static str, &Queries)> {
    let mut out = vec![("canary", &metric.canary)];
    if let Some(b) = &metric.baseline {
        out.push(("baseline", b));
    }
    out
}

fn vars<'a>(req: &'a RunRequest, interval: &'a str) -> [(&'static str, &'a str); 4] {
    [
        ("version", req.version.as_str()),
        ("baseline_version", req.baseline_version.as_str()),
        ("env", req.env.as_str()),
        ("interval", interval),
    ]
}

/// Queries one side of one metric. An empty `errors` answer while `requests` has data means
/// no errors (Prometheus has no series for a status that never happened); an empty
/// `requests` answer is no data.
fn side(
    metrics: &dyn Metrics,
    kind: MetricKind,
    q: &Queries,
    vars: &[(&str, &str)],
) -> Result<Option<Side>, ProviderError> {
    let get = |t: &Option<String>| t.as_ref().map(|t| render(t, vars));
    match kind {
        MetricKind::Counts => {
            let (Some(rq), Some(eq)) = (get(&q.requests), get(&q.errors)) else {
                return Ok(None);
            };
            let Some(requests) = metrics.value(&rq)? else {
                return Ok(None);
            };
            let errors = metrics.value(&eq)?.unwrap_or(0.0);
            Ok(Some(Side::Counts(Counts {
                requests: Num(requests),
                errors: Num(errors),
            })))
        }
        MetricKind::Latency => {
            let Some(bq) = get(&q.buckets) else {
                return Ok(None);
            };
            Ok(metrics.histogram(&bq)?.map(Side::Histogram))
        }
        MetricKind::Gauge => {
            let Some(vq) = get(&q.value) else {
                return Ok(None);
            };
            Ok(metrics.value(&vq)?.map(|v| Side::Gauge(Num(v))))
        }
    }
}

fn sample(metrics: &dyn Metrics, m: &MetricConfig, vars: &[(&str, &str)]) -> MetricSample {
    let canary = side(metrics, m.kind, &m.canary, vars);
    let baseline = m
        .baseline
        .as_ref()
        .map(|b| side(metrics, m.kind, b, vars))
        .transpose();
    match (canary, baseline) {
        (Ok(canary), Ok(baseline)) => MetricSample {
            canary,
            baseline: baseline.flatten(),
            error: None,
        },
        (Err(e), _) | (_, Err(e)) => MetricSample {
            error: Some(e.to_string()),
            ..MetricSample::default()
        },
    }
}

/// Runs a canary to its end. Queries are checked first; nothing moves if one fails.
pub fn run(
    settings: &CanarySettings,
    req: &RunRequest,
    metrics: &dyn Metrics,
    traffic: &mut dyn Traffic,
    clock: &mut dyn Clock,
    progress: &mut dyn FnMut(&Judgement),
) -> Result<RunOutcome, RunError> {
    let mut judge = Judge::new(settings).map_err(RunError::Settings)?;
    let interval_text = settings.interval.to_string();
    let vars = vars(req, &interval_text);
    for m in &settings.metrics {
        for (_, q) in queries_for(m) {
            for t in [&q.errors, &q.requests, &q.buckets, &q.value]
                .into_iter()
                .flatten()
            {
                metrics
                    .check(&render(t, &vars))
                    .map_err(|source| RunError::Query {
                        metric: m.name.clone(),
                        source,
                    })?;
            }
        }
    }
    let mut recording = Recording {
        format: FORMAT.into(),
        env: Some(req.env.clone()),
        version: Some(req.version.clone()),
        baseline_version: Some(req.baseline_version.clone()),
        started_at: None,
        settings: settings.clone(),
        intervals: Vec::new(),
    };
    let mut rollout = Rollout::new(settings);
    let steps = settings.steps.as_slice().len();
    let fail = |source: ActuatorError, traffic: &mut dyn Traffic, recording: &Recording| {
        RunError::Actuator(Box::new(ActuatorFailure {
            source,
            rollback: traffic.rollback().err(),
            recording: recording.clone(),
        }))
    };
    if let Err(e) = traffic.set_weight(rollout.first_weight()) {
        return Err(fail(e, traffic, &recording));
    }
    let mut next = settings.interval.0;
    loop {
        clock.sleep_until(next);
        let t = clock.elapsed();
        next += settings.interval.0;
        let observation: Observation = settings
            .metrics
            .iter()
            .map(|m| (m.name.clone(), sample(metrics, m, &vars)))
            .collect();
        let (step, weight) = rollout.step();
        recording.intervals.push(RecordedInterval {
            t: t.as_secs_f64(),
            weight: Some(weight),
            metrics: observation.clone(),
        });
        let report = judge.observe(&observation);
        progress(&Judgement {
            t: t.as_secs_f64(),
            step: (step, weight, steps),
            report: &report,
        });
        let done = |result: RunResult, recording: Recording, report: Report| RunOutcome {
            result,
            decided_at_s: t.as_secs_f64(),
            report: Some(report),
            recording,
        };
        match rollout.next(t, &report) {
            Action::Wait => {}
            Action::SetWeight { weight } => {
                if let Err(e) = traffic.set_weight(weight) {
                    return Err(fail(e, traffic, &recording));
                }
            }
            Action::Promote => {
                if let Err(e) = traffic.promote() {
                    return Err(fail(e, traffic, &recording));
                }
                return Ok(done(RunResult::Promoted, recording, report));
            }
            Action::Rollback { reason } => {
                if let Err(e) = traffic.rollback() {
                    return Err(RunError::Actuator(Box::new(ActuatorFailure {
                        source: e,
                        rollback: None,
                        recording,
                    })));
                }
                return Ok(done(RunResult::RolledBack { reason }, recording, report));
            }
            Action::Pause { reason } => {
                return Ok(done(RunResult::Paused { reason }, recording, report));
            }
        }
        debug_assert!(
            report.verdict != Verdict::Fail,
            "a failing verdict always rolls back"
        );
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    use super::*;
    use crate::config::{HumanDuration, Step, Steps};

    /// Metrics from a function of the rendered query and the call count.
    struct Fake {
        answers: BTreeMap<String, f64>,
        broken: Option<String>,
        calls: RefCell<u32>,
        fail_after: Option<u32>,
    }

    impl Metrics for Fake {
        fn check(&self, query: &str) -> Result<(), ProviderError> {
            match &self.broken {
                Some(b) if query.contains(b.as_str()) => Err(ProviderError::Query {
                    query: query.into(),
                    message: "bad_data: parse error".into(),
                }),
                _ => Ok(()),
            }
        }
        fn value(&self, query: &str) -> Result<Option<f64>, ProviderError> {
            *self.calls.borrow_mut() += 1;
            if self.fail_after.is_some_and(|n| *self.calls.borrow() > n) {
                return Err(ProviderError::Unreachable {
                    url: "x".into(),
                    attempts: 1,
                    message: "refused".into(),
                });
            }
            Ok(self.answers.get(query).copied())
        }
        fn histogram(
            &self,
            _query: &str,
        ) -> Result<Option<crate::sample::Histogram>, ProviderError> {
            Ok(None)
        }
    }

    #[derive(Default)]
    struct Log(Vec<String>, bool);

    impl Traffic for Log {
        fn set_weight(&mut self, weight: u8) -> Result<(), ActuatorError> {
            self.0.push(format!("set-weight {weight}"));
            Ok(())
        }
        fn promote(&mut self) -> Result<(), ActuatorError> {
            self.0.push("promote".into());
            Ok(())
        }
        fn rollback(&mut self) -> Result<(), ActuatorError> {
            self.0.push("rollback".into());
            if self.1 {
                return Err(ActuatorError {
                    action: "rollback",
                    command: "x".into(),
                    attempts: 3,
                    message: "exit 1".into(),
                });
            }
            Ok(())
        }
    }

    struct FakeClock(Duration);

    impl Clock for FakeClock {
        fn elapsed(&self) -> Duration {
            self.0
        }
        fn sleep_until(&mut self, at: Duration) {
            self.0 = self.0.max(at);
        }
    }

    fn settings() -> CanarySettings {
        let q = |side: &str| Queries {
            errors: Some(format!("errors{{v=\"{{{{{side}}}}}\"}}[{{{{interval}}}}]")),
            requests: Some(format!(
                "requests{{v=\"{{{{{side}}}}}\"}}[{{{{interval}}}}]"
            )),
            ..Queries::default()
        };
        let metric = MetricConfig::new(
            "errors",
            MetricKind::Counts,
            q("version"),
            Some(q("baseline_version")),
        );
        let step = |weight, hold: Option<u64>| Step {
            weight,
            hold: hold.map(|s| HumanDuration(Duration::from_secs(s))),
        };
        CanarySettings {
            steps: Steps::new(vec![
                step(10, Some(60)),
                step(50, Some(60)),
                step(100, None),
            ])
            .expect("steps"),
            interval: HumanDuration(Duration::from_secs(10)),
            max_duration: HumanDuration(Duration::from_secs(600)),
            metrics: vec![metric],
            ..CanarySettings::default()
        }
    }

    fn fake(canary_errors: f64) -> Fake {
        let answers = BTreeMap::from([
            ("requests{v=\"1.4.0\"}[10s]".to_string(), 1000.0),
            ("errors{v=\"1.4.0\"}[10s]".to_string(), canary_errors),
            ("requests{v=\"1.3.2\"}[10s]".to_string(), 9000.0),
            ("errors{v=\"1.3.2\"}[10s]".to_string(), 45.0),
        ]);
        Fake {
            answers,
            broken: None,
            calls: RefCell::new(0),
            fail_after: None,
        }
    }

    fn request() -> RunRequest {
        RunRequest {
            env: "prod".into(),
            version: "1.4.0".into(),
            baseline_version: "1.3.2".into(),
        }
    }

    fn go(metrics: &Fake, traffic: &mut Log) -> (Result<RunOutcome, RunError>, usize) {
        let mut judgements = 0;
        let out = run(
            &settings(),
            &request(),
            metrics,
            traffic,
            &mut FakeClock(Duration::ZERO),
            &mut |_| judgements += 1,
        );
        (out, judgements)
    }

    #[test]
    fn a_healthy_canary_walks_every_step_and_is_promoted() {
        let mut log = Log::default();
        let (out, judgements) = go(&fake(5.0), &mut log);
        let out = out.expect("runs");
        assert_eq!(out.result, RunResult::Promoted);
        assert_eq!(log.0, ["set-weight 10", "set-weight 50", "promote"]);
        assert_eq!(judgements, 12);
        assert_eq!(out.decided_at_s, 120.0);
        assert_eq!(out.recording.intervals.len(), 12);
        assert_eq!(out.recording.intervals[6].weight, Some(50));
    }

    #[test]
    fn a_regression_is_rolled_back() {
        let mut log = Log::default();
        let out = go(&fake(20.0), &mut log).0.expect("runs");
        assert!(
            matches!(&out.result, RunResult::RolledBack { reason } if reason.contains("error-rate ratio"))
        );
        assert_eq!(log.0, ["set-weight 10", "rollback"]);
    }

    #[test]
    fn no_errors_series_means_no_errors_but_no_requests_means_no_data() {
        let mut m = fake(0.0);
        m.answers.remove("errors{v=\"1.4.0\"}[10s]");
        let mut log = Log::default();
        assert_eq!(
            go(&m, &mut log).0.expect("runs").result,
            RunResult::Promoted
        );
        m.answers.remove("requests{v=\"1.4.0\"}[10s]");
        let mut log = Log::default();
        let out = go(&m, &mut log).0.expect("runs");
        assert!(
            matches!(&out.result, RunResult::RolledBack { reason } if reason.contains("fail-safe")),
            "{out:?}"
        );
    }

    #[test]
    fn a_backend_that_goes_away_ends_in_the_fail_safe() {
        let mut m = fake(5.0);
        m.fail_after = Some(4 * 3);
        let mut log = Log::default();
        let out = go(&m, &mut log).0.expect("runs");
        assert!(
            matches!(&out.result, RunResult::RolledBack { reason } if reason.contains("fail-safe") && reason.contains("unreachable")),
            "{out:?}"
        );
        assert_eq!(log.0.last().map(String::as_str), Some("rollback"));
    }

    #[test]
    fn a_bad_query_stops_before_any_traffic_moves() {
        let mut m = fake(5.0);
        m.broken = Some("errors{v=\"1.3.2\"}".into());
        let mut log = Log::default();
        let err = go(&m, &mut log).0.expect_err("bad query");
        assert!(err.to_string().starts_with("metric `errors`: Prometheus rejected the query `errors{v=\"1.3.2\"}[10s]`: bad_data"), "{err}");
        assert!(log.0.is_empty());
    }

    #[test]
    fn a_failing_rollback_is_an_error() {
        let mut log = Log(Vec::new(), true);
        let err = go(&fake(20.0), &mut log).0.expect_err("rollback fails");
        assert!(matches!(err, RunError::Actuator(_)));
        assert!(
            err.to_string()
                .contains("rollback failed after 3 attempt(s)"),
            "{err}"
        );
    }
}
