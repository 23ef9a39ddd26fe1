//! The rollout runner: checks every query, then moves traffic step by step, samples the
//! metrics every interval, asks the judge, and promotes or rolls back. The I/O (metrics,
//! traffic, time) comes in through three small traits so tests and replays can drive it.

use std::time::Duration;

use serde::Serialize;
use shipgate_judge::{
    Action, Gates, Judge, MetricSample, Observation, RecordedInterval, Recording, Report, Rollout,
    Verdict,
};

use crate::alarms::{AlarmCheck, AlarmReader, AlarmSource};
use crate::cloudwatch::CloudWatch;
use crate::config::{CanarySettings, MetricsProvider};
use crate::provider::Prometheus;
use crate::request::vars;
use crate::sampling::{observe, rendered_queries};
use crate::traffic::{ActuatorError, ActuatorVars};

pub use crate::command::CommandTraffic;
pub use crate::request::{RequestError, RunRequest};
pub use crate::run_error::{ActuatorFailure, RunError};
pub use crate::sampling::Metrics;
pub use crate::traffic::Traffic;

/// Time since the start, and waiting.
pub trait Clock {
    /// Time since the run started.
    fn elapsed(&self) -> Duration;
    /// Waits until `at` after the start (or until interrupted).
    fn sleep_until(&mut self, at: Duration);
    /// Why the run must stop now (a signal), if it must.
    fn interrupted(&self) -> Option<String> {
        None
    }
}

/// Set by a signal handler to the signal's number; 0 while the run may go on.
pub type StopFlag = std::sync::Arc<std::sync::atomic::AtomicUsize>;

/// The wall clock, woken early by a stop flag.
pub struct WallClock {
    start: std::time::Instant,
    stop: Option<StopFlag>,
}

impl WallClock {
    /// Starts now; `stop` (see [`StopFlag`]) interrupts the waits.
    pub fn new(stop: Option<StopFlag>) -> Self {
        Self {
            start: std::time::Instant::now(),
            stop,
        }
    }
}

impl Clock for WallClock {
    fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }
    fn sleep_until(&mut self, at: Duration) {
        // In slices, so that a signal is acted on within 100 ms.
        while let Some(d) = at.checked_sub(self.start.elapsed()) {
            if d.is_zero() || self.interrupted().is_some() {
                return;
            }
            std::thread::sleep(d.min(Duration::from_millis(100)));
        }
    }
    fn interrupted(&self) -> Option<String> {
        let signal = self
            .stop
            .as_ref()?
            .load(std::sync::atomic::Ordering::SeqCst);
        match signal {
            0 => None,
            1 => Some("SIGHUP".into()),
            2 => Some("SIGINT".into()),
            15 => Some("SIGTERM".into()),
            n => Some(format!("signal {n}")),
        }
    }
}

/// Reads a recording file for `canary run --replay` / `canary judge`; the error names the
/// file, line and column.
pub fn load_recording(path: &std::path::Path) -> Result<Recording, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    Recording::from_json(&text).map_err(|error| LoadError::Invalid {
        path: path.to_path_buf(),
        error,
    })
}

/// A recording that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid recording.
    #[error("{}:{}:{}: not a valid canary recording: {}", path.display(), error.line, error.column, error.message)]
    Invalid {
        /// The file.
        path: std::path::PathBuf,
        /// Where and what.
        error: shipgate_judge::RecordingError,
    },
}

impl LoadError {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            LoadError::Read { .. } => None,
            LoadError::Invalid { .. } => {
                Some("recordings are written by `shipgate canary run --record FILE`".into())
            }
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
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

impl RunResult {
    /// The exit code of the interface contract: 0 promoted, 1 rolled back or paused.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunResult::Promoted => 0,
            RunResult::RolledBack { .. } | RunResult::Paused { .. } => 1,
        }
    }

    /// In words: `promoted`, `rolled back: …`, `paused: …`.
    pub fn describe(&self) -> String {
        match self {
            RunResult::Promoted => "promoted".into(),
            RunResult::RolledBack { reason } => format!("rolled back: {reason}"),
            RunResult::Paused { reason } => format!("paused: {reason}"),
        }
    }
}

/// A finished run: its result, the judge's last report, the recording.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RunOutcome {
    /// How it ended.
    #[serde(flatten)]
    pub result: RunResult,
    /// Seconds since the start when it was decided.
    pub decided_at_s: f64,
    /// The judge's last report.
    pub report: Option<Report>,
    /// On a rollback by the judge: milliseconds from the failing verdict to the start of the
    /// rollback action (wall time, also in replays).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollback_started_ms: Option<f64>,
    /// The alarm gate's last reading, when `[canary.alarms]` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alarms: Option<AlarmCheck>,
    /// Everything observed.
    #[serde(skip)]
    pub recording: Recording,
}

/// Where `run_with_settings` takes its measurements from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// Live, from `[canary.prometheus]` or `[canary.cloudwatch]`, on the wall clock.
    Prometheus,
    /// From a recording, on a simulated clock.
    Replay(&'a Recording),
}

/// `canary run` as the binary and `cargo xtask canary` do it: picks the actuator from
/// `settings`, the metrics from `source` (Prometheus on the wall clock, or a recording on a
/// simulated clock), and runs the rollout to its end. `env` reads environment variables
/// (credentials).
pub fn run_with_settings(
    settings: &CanarySettings,
    req: &RunRequest,
    source: Source<'_>,
    env: &dyn Fn(&str) -> Option<String>,
    progress: &mut dyn FnMut(&Judgement),
    stop: Option<StopFlag>,
) -> Result<RunOutcome, RunError> {
    let known: Vec<&str> = vars(req, "").into_iter().map(|(k, _)| k).collect();
    if let Some(m) = crate::analysis::missing(&settings.gates, &known) {
        return Err(RunError::MissingValue(m));
    }
    let vars = ActuatorVars {
        version: req.version.to_string(),
        baseline_version: req.baseline_version.to_string(),
        env: req.env.to_string(),
        step: 0,
    };
    let mut actuator = crate::actuator::Actuator::from_settings(settings, vars, env)?;
    let traffic: &mut dyn Traffic = &mut actuator;
    match source {
        Source::Replay(recording) => replay_run(&settings.gates, req, recording, traffic, progress),
        Source::Prometheus => {
            let interval = settings.gates.rollout.interval;
            let interval_text = interval.to_string();
            let vars = self::vars(req, &interval_text);
            let prometheus = settings
                .prometheus
                .as_ref()
                .map(|p| Prometheus::new(p, env))
                .transpose()
                .map_err(RunError::Provider)?;
            let cloudwatch = settings
                .cloudwatch
                .as_ref()
                .map(|c| CloudWatch::new(c, &vars, interval.0))
                .transpose()
                .map_err(RunError::Provider)?;
            let metrics: &dyn Metrics = match settings.metrics_provider() {
                MetricsProvider::Prometheus => match &prometheus {
                    Some(p) => p,
                    None => return Err(RunError::NoPrometheus),
                },
                MetricsProvider::Cloudwatch => match &cloudwatch {
                    Some(c) => c,
                    None => return Err(RunError::NoPrometheus),
                },
            };
            let reader = settings.alarms.as_ref().map(|config| AlarmReader {
                config: config.clone(),
                cloudwatch: cloudwatch.as_ref(),
                prometheus: prometheus.as_ref(),
                vars: crate::cloudwatch::owned(&vars),
            });
            run_gated(
                &settings.gates,
                req,
                metrics,
                reader.as_ref().map(|r| r as &dyn AlarmSource),
                traffic,
                &mut WallClock::new(stop),
                progress,
            )
        }
    }
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

/// The progress line of one judgement (stderr, one per judgement in CI).
impl std::fmt::Display for Judgement<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (step, weight, steps) = self.step;
        write!(
            f,
            "canary: t={:.0}s step {}/{steps} weight {weight}%: {}: {}",
            self.t,
            step + 1,
            self.report.verdict.as_str(),
            self.report.rule
        )
    }
}

/// Runs a canary to its end. Queries are checked first; nothing moves if one fails.
pub fn run(
    settings: &Gates,
    req: &RunRequest,
    metrics: &dyn Metrics,
    traffic: &mut dyn Traffic,
    clock: &mut dyn Clock,
    progress: &mut dyn FnMut(&Judgement),
) -> Result<RunOutcome, RunError> {
    run_gated(settings, req, metrics, None, traffic, clock, progress)
}

/// [`run`] with an alarm gate: the alarms are read before traffic moves (unreadable or
/// firing: nothing moves) and after every judgement; one that fires rolls the canary back at
/// once, and more than `consecutive-error-limit` unreadable readings in a row fail safe.
pub fn run_gated(
    settings: &Gates,
    req: &RunRequest,
    metrics: &dyn Metrics,
    alarms: Option<&dyn AlarmSource>,
    traffic: &mut dyn Traffic,
    clock: &mut dyn Clock,
    progress: &mut dyn FnMut(&Judgement),
) -> Result<RunOutcome, RunError> {
    let judge = Judge::new(&settings.judge).map_err(RunError::Settings)?;
    let interval_text = settings.rollout.interval.to_string();
    let vars = vars(req, &interval_text);
    for (metric, query) in rendered_queries(settings, &vars) {
        metrics.check(&query).map_err(|source| RunError::Query {
            metric: metric.to_string(),
            source,
        })?;
    }
    if let Some(source) = alarms {
        let check = source.read().map_err(RunError::Alarms)?;
        if !check.firing.is_empty() {
            return Err(RunError::AlarmFiring(check.describe()));
        }
    }
    let mut observe = |_t: Duration| -> Observation { observe(settings, metrics, &vars) };
    drive(
        settings,
        req,
        judge,
        &mut observe,
        alarms,
        traffic,
        clock,
        progress,
    )
}

/// A simulated clock: waiting only moves its hands.
#[derive(Debug, Default, Clone, Copy)]
pub struct SimulatedClock(pub Duration);

impl Clock for SimulatedClock {
    fn elapsed(&self) -> Duration {
        self.0
    }
    fn sleep_until(&mut self, at: Duration) {
        self.0 = self.0.max(at);
    }
}

/// The recorded measurements for the judgement at `t`: the recorded interval whose end lies
/// within half an interval of `t`. Metrics missing from it (or no such interval) come back
/// as inconclusive samples, never as data.
pub fn recorded_observation(settings: &Gates, recording: &Recording, t: Duration) -> Observation {
    let t = t.as_secs_f64();
    let half = settings.rollout.interval.0.as_secs_f64() / 2.0;
    let found = recording
        .intervals
        .iter()
        .find(|i| i.t > t - half && i.t <= t + half);
    settings
        .judge
        .metrics
        .iter()
        .map(|m| {
            let sample = match found.and_then(|i| i.metrics.get(&m.name)) {
                Some(s) => s.clone(),
                None => MetricSample {
                    error: Some(match found {
                        None => format!("the recording has no interval ending at t = {t} s"),
                        Some(_) => format!(
                            "the recording has no data for metric `{}` at t = {t} s",
                            m.name
                        ),
                    }),
                    ..MetricSample::default()
                },
            };
            (m.name.clone(), sample)
        })
        .collect()
}

/// Runs the rollout (steps, holds, judge, actuator calls) against a recording instead of a
/// metrics backend, on a simulated clock: no waiting. An interval the recording has no data
/// for is inconclusive (never a pass); past the recording's end the fail-safe decides.
pub fn replay_run(
    settings: &Gates,
    req: &RunRequest,
    recording: &Recording,
    traffic: &mut dyn Traffic,
    progress: &mut dyn FnMut(&Judgement),
) -> Result<RunOutcome, RunError> {
    let judge = Judge::new(&settings.judge).map_err(RunError::Settings)?;
    let mut observe = |t: Duration| recorded_observation(settings, recording, t);
    drive(
        settings,
        req,
        judge,
        &mut observe,
        None,
        traffic,
        &mut SimulatedClock::default(),
        progress,
    )
}

/// Runs the rollback action; its failure is the run's error (exit 2), with what was observed.
fn roll_back(traffic: &mut dyn Traffic, recording: Recording) -> Result<Recording, RunError> {
    match traffic.rollback() {
        Ok(()) => Ok(recording),
        Err(source) => Err(RunError::Actuator(Box::new(ActuatorFailure {
            source,
            rollback: None,
            recording,
        }))),
    }
}

/// The loop shared by live runs and replays: set the first weight, then every interval
/// observe, judge, read the alarms and act.
#[allow(clippy::too_many_arguments)]
fn drive(
    settings: &Gates,
    req: &RunRequest,
    mut judge: Judge,
    observe: &mut dyn FnMut(Duration) -> Observation,
    alarms: Option<&dyn AlarmSource>,
    traffic: &mut dyn Traffic,
    clock: &mut dyn Clock,
    progress: &mut dyn FnMut(&Judgement),
) -> Result<RunOutcome, RunError> {
    let mut recording = req.recording(settings, Vec::new());
    let mut rollout = Rollout::new(&settings.rollout);
    let steps = settings.rollout.steps.as_slice().len();
    let fail = |source: ActuatorError, traffic: &mut dyn Traffic, recording: &Recording| {
        RunError::Actuator(Box::new(ActuatorFailure {
            source,
            rollback: traffic.rollback().err(),
            recording: recording.clone(),
        }))
    };
    let halted = |reason: String, t: Duration, recording: Recording| RunOutcome {
        result: RunResult::Paused { reason },
        decided_at_s: t.as_secs_f64(),
        report: None,
        rollback_started_ms: None,
        alarms: None,
        recording,
    };
    let limit = settings.judge.consecutive_error_limit;
    let mut alarm_streak = 0u32;
    let mut last_alarms: Option<AlarmCheck> = None;
    if let Err(reason) = traffic.confirm(0, rollout.first_weight()) {
        return Ok(halted(reason, clock.elapsed(), recording));
    }
    if let Err(e) = traffic.set_weight(rollout.first_weight()) {
        return Err(fail(e, traffic, &recording));
    }
    let mut next = settings.rollout.interval.0;
    let mut last_report = None;
    loop {
        clock.sleep_until(next);
        let t = clock.elapsed();
        if let Some(signal) = clock.interrupted() {
            // Stopped from outside (a cancelled job): never leave traffic on the canary.
            let recording = roll_back(traffic, recording)?;
            return Ok(RunOutcome {
                result: RunResult::RolledBack {
                    reason: format!("interrupted by {signal}: traffic went back to the baseline"),
                },
                decided_at_s: t.as_secs_f64(),
                report: last_report,
                rollback_started_ms: None,
                alarms: last_alarms,
                recording,
            });
        }
        next += settings.rollout.interval.0;
        let observation = observe(t);
        let (step, weight) = rollout.step();
        recording.intervals.push(RecordedInterval {
            t: t.as_secs_f64(),
            weight: Some(weight),
            metrics: observation.clone(),
        });
        let report = judge.observe(&observation);
        let verdict_at = std::time::Instant::now();
        last_report = Some(report.clone());
        progress(&Judgement {
            t: t.as_secs_f64(),
            step: (step, weight, steps),
            report: &report,
        });
        // The alarm gate: one that fires fails the canary now, whatever the judge says; an
        // unreadable reading counts against the fail-safe limit, never as a pass.
        let mut alarm_failure = None;
        if let Some(source) = alarms {
            match source.read() {
                Ok(check) => {
                    alarm_streak = 0;
                    if !check.firing.is_empty() {
                        alarm_failure = Some(format!("alarm gate: {}", check.describe()));
                    }
                    last_alarms = Some(check);
                }
                Err(e) => {
                    alarm_streak += 1;
                    if alarm_streak > limit {
                        alarm_failure = Some(format!(
                            "fail-safe: the alarms could not be read in {alarm_streak} consecutive intervals, more than consecutive-error-limit {limit} (last: {e})"
                        ));
                    }
                }
            }
        }
        let evidence = last_alarms.clone();
        let done = |result: RunResult, recording: Recording, report: Report| RunOutcome {
            result,
            decided_at_s: t.as_secs_f64(),
            report: Some(report),
            rollback_started_ms: None,
            alarms: evidence,
            recording,
        };
        let action = match alarm_failure {
            Some(reason) => Action::Rollback { reason },
            None => rollout.next(t, &report),
        };
        match action {
            Action::Wait => {}
            Action::SetWeight { weight } => {
                if let Err(reason) = traffic.confirm(step + 1, weight) {
                    return Ok(RunOutcome {
                        report: Some(report),
                        ..halted(reason, t, recording)
                    });
                }
                if let Err(e) = traffic.set_weight(weight) {
                    return Err(fail(e, traffic, &recording));
                }
            }
            Action::Promote => {
                if let Err(reason) = traffic.confirm(steps - 1, 100) {
                    return Ok(RunOutcome {
                        report: Some(report),
                        ..halted(reason, t, recording)
                    });
                }
                if let Err(e) = traffic.promote() {
                    return Err(fail(e, traffic, &recording));
                }
                return Ok(done(RunResult::Promoted, recording, report));
            }
            Action::Rollback { reason } => {
                let started = verdict_at.elapsed().as_secs_f64() * 1e3;
                let recording = roll_back(traffic, recording)?;
                return Ok(RunOutcome {
                    rollback_started_ms: Some(started),
                    ..done(RunResult::RolledBack { reason }, recording, report)
                });
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
    use crate::provider::{ProviderError, Sample};
    use crate::sampling::sample;
    use shipgate_judge::{HumanDuration, MetricConfig, MetricKind, Queries, Side, Step, Steps};

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
        ) -> Result<Option<shipgate_judge::Histogram>, ProviderError> {
            Ok(None)
        }
    }

    /// Answers vectors by query: `(pod, value)` series.
    struct Pods(BTreeMap<&'static str, Vec<(&'static str, f64)>>);

    impl Metrics for Pods {
        fn check(&self, _query: &str) -> Result<(), ProviderError> {
            Ok(())
        }
        fn value(&self, _query: &str) -> Result<Option<f64>, ProviderError> {
            Ok(None)
        }
        fn histogram(
            &self,
            _query: &str,
        ) -> Result<Option<shipgate_judge::Histogram>, ProviderError> {
            Ok(None)
        }
        fn vector(&self, query: &str) -> Result<Vec<Sample>, ProviderError> {
            Ok(self
                .0
                .get(query)
                .into_iter()
                .flatten()
                .map(|(pod, v)| Sample {
                    labels: BTreeMap::from([("pod".to_string(), pod.to_string())]),
                    value: *v,
                })
                .collect())
        }
    }

    #[test]
    fn a_metric_split_by_pod_keeps_each_pod_and_sums_the_totals() {
        let q = |what: &str| Queries {
            errors: Some(format!("errors_{what}")),
            requests: Some(format!("requests_{what}")),
            ..Queries::default()
        };
        let mut m = MetricConfig::new("e", MetricKind::Counts, q("c"), Some(q("b")));
        m.pod_label = Some("pod".into());
        let metrics = Pods(BTreeMap::from([
            ("requests_c", vec![("c-0", 100.0), ("c-1", 50.0)]),
            ("errors_c", vec![("c-0", 2.0)]),
            ("requests_b", vec![("b-0", 300.0)]),
            ("errors_b", vec![("b-0", 3.0)]),
        ]));
        let s = sample(&metrics, &m, &[]);
        let counts = |side: &Option<Side>| side.as_ref().map(|s| s.counts("x").map(|c| (c.n, c.x)));
        assert_eq!(counts(&s.canary), Some(Ok((150.0, 2.0))));
        assert_eq!(counts(&s.baseline), Some(Ok((300.0, 3.0))));
        let pods = s.by_pod.expect("pods").counts().expect("usable");
        assert_eq!(
            pods.0,
            vec![(100.0, 2.0), (50.0, 0.0)],
            "a pod without errors has none"
        );
        assert_eq!(pods.1, vec![(300.0, 3.0)]);
        // A series without the label is a shape error, not a silent total.
        let unlabelled = Pods(BTreeMap::from([("requests_c", vec![("c-0", 1.0)])]));
        let mut other = m.clone();
        other.pod_label = Some("instance".into());
        let s = sample(&unlabelled, &other, &[]);
        assert!(
            s.error
                .as_deref()
                .is_some_and(|e| e.contains("sum by (instance)")),
            "{s:?}"
        );
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

    fn settings() -> Gates {
        let metric = shipgate_judge::testing::counts_metric();
        let step = |weight, hold: Option<u64>| Step {
            weight,
            hold: hold.map(|s| HumanDuration(Duration::from_secs(s))),
        };
        let mut gates = Gates::default();
        gates.rollout.steps = Steps::new(vec![
            step(10, Some(60)),
            step(50, Some(60)),
            step(100, None),
        ])
        .expect("steps");
        gates.rollout.interval = HumanDuration(Duration::from_secs(10));
        gates.rollout.max_duration = HumanDuration(Duration::from_secs(600));
        gates.judge.metrics = vec![metric];
        gates
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
        RunRequest::new("prod", "1.4.0", "1.3.2").expect("valid")
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
    fn a_stop_signal_rolls_back_at_the_next_wake_up() {
        /// The fake clock, with SIGTERM arriving at 35 s.
        struct Cancelled(Duration);
        impl Clock for Cancelled {
            fn elapsed(&self) -> Duration {
                self.0
            }
            fn sleep_until(&mut self, at: Duration) {
                self.0 = self.0.max(at);
            }
            fn interrupted(&self) -> Option<String> {
                (self.0 > Duration::from_secs(35)).then(|| "SIGTERM".to_string())
            }
        }
        let mut log = Log::default();
        let out = run(
            &settings(),
            &request(),
            &fake(5.0),
            &mut log,
            &mut Cancelled(Duration::ZERO),
            &mut |_| {},
        )
        .expect("runs");
        assert_eq!(
            out.result,
            RunResult::RolledBack {
                reason: "interrupted by SIGTERM: traffic went back to the baseline".into()
            }
        );
        assert_eq!(out.decided_at_s, 40.0);
        assert_eq!(out.recording.intervals.len(), 3, "judged at 10, 20, 30 s");
        assert!(out.report.is_some(), "the last report is kept as evidence");
        assert_eq!(log.0, ["set-weight 10", "rollback"]);
    }

    #[test]
    fn a_wall_clock_wakes_early_when_stopped() {
        let stop = StopFlag::default();
        let mut clock = WallClock::new(Some(stop.clone()));
        assert_eq!(clock.interrupted(), None);
        stop.store(15, std::sync::atomic::Ordering::SeqCst);
        let started = std::time::Instant::now();
        clock.sleep_until(Duration::from_secs(3600));
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(clock.interrupted().as_deref(), Some("SIGTERM"));
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

    fn replayed(recording: &Recording, log: &mut Log) -> RunOutcome {
        let mut judgements = 0;
        let out = replay_run(&settings(), &request(), recording, log, &mut |_| {
            judgements += 1
        })
        .expect("replays");
        assert_eq!(judgements, out.recording.intervals.len());
        out
    }

    #[test]
    fn versions_come_from_the_flags_then_the_recording() {
        let recorded = go(&fake(5.0), &mut Log::default())
            .0
            .expect("runs")
            .recording;
        let r = RunRequest::resolve("dev", None, Some("1.0.0"), Some(&recorded)).expect("ok");
        assert_eq!(
            (
                r.env.as_str(),
                r.version.as_str(),
                r.baseline_version.as_str()
            ),
            ("dev", "1.4.0", "1.0.0")
        );
        let err = RunRequest::resolve("dev", Some("2.0.0"), None, None).expect_err("live");
        assert!(
            err.to_string()
                .starts_with("--baseline-version is required for a live run")
        );
        let mut anonymous = recorded;
        anonymous.version = None;
        let err = RunRequest::resolve("dev", None, None, Some(&anonymous)).expect_err("none");
        assert!(
            err.to_string()
                .starts_with("the recording names no canary version")
        );
    }

    #[test]
    fn a_replay_walks_the_same_steps_as_the_recorded_run() {
        let mut live = Log::default();
        let recorded = go(&fake(5.0), &mut live).0.expect("runs").recording;
        let mut log = Log::default();
        let started = std::time::Instant::now();
        let out = replayed(&recorded, &mut log);
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(out.result, RunResult::Promoted);
        assert_eq!(log.0, live.0);
        assert_eq!(out.decided_at_s, 120.0);
        assert_eq!(out.recording.intervals, recorded.intervals);

        let recorded = go(&fake(20.0), &mut Log::default())
            .0
            .expect("runs")
            .recording;
        let mut log = Log::default();
        let out = replayed(&recorded, &mut log);
        assert!(
            matches!(out.result, RunResult::RolledBack { .. }),
            "{out:?}"
        );
        assert_eq!(log.0, ["set-weight 10", "rollback"]);
    }

    #[test]
    fn a_thirty_minute_recording_replays_in_well_under_a_second() {
        let mut long = settings();
        let step = |weight, hold: Option<u64>| Step {
            weight,
            hold: hold.map(|s| HumanDuration(Duration::from_secs(s))),
        };
        long.rollout.steps = Steps::new(vec![
            step(10, Some(600)),
            step(50, Some(1200)),
            step(100, None),
        ])
        .expect("steps");
        long.rollout.max_duration = HumanDuration(Duration::from_secs(2400));
        let mut live = Log::default();
        let recorded = run(
            &long,
            &request(),
            &fake(5.0),
            &mut live,
            &mut FakeClock(Duration::ZERO),
            &mut |_| {},
        )
        .expect("runs")
        .recording;
        assert_eq!(recorded.intervals.len(), 180);
        let started = std::time::Instant::now();
        let mut log = Log::default();
        let out = replay_run(&long, &request(), &recorded, &mut log, &mut |_| {}).expect("replays");
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(
            (out.result, out.decided_at_s),
            (RunResult::Promoted, 1800.0)
        );
        assert_eq!(log.0, live.0);
    }

    #[test]
    fn intervals_missing_from_a_replay_are_inconclusive_never_a_pass() {
        let mut recorded = go(&fake(5.0), &mut Log::default())
            .0
            .expect("runs")
            .recording;
        // A gap of five intervals in the middle: the fail-safe rolls back.
        recorded.intervals.retain(|i| !(30.0..=70.0).contains(&i.t));
        let mut log = Log::default();
        let out = replayed(&recorded, &mut log);
        assert!(
            matches!(&out.result, RunResult::RolledBack { reason } if reason.contains("fail-safe")),
            "{out:?}"
        );
        assert_eq!(log.0.last().map(String::as_str), Some("rollback"));
        let gap = &out.recording.intervals[2].metrics["errors"];
        assert!(
            gap.error
                .as_deref()
                .is_some_and(|e| e.contains("no interval ending at t = 30 s")),
            "{gap:?}"
        );

        // A recording that stops early never promotes.
        let mut recorded = go(&fake(5.0), &mut Log::default())
            .0
            .expect("runs")
            .recording;
        recorded.intervals.truncate(3);
        let mut log = Log::default();
        let out = replayed(&recorded, &mut log);
        assert!(
            matches!(out.result, RunResult::RolledBack { .. }),
            "{out:?}"
        );
        assert!(!log.0.contains(&"promote".to_string()));

        // A metric the recording does not have is inconclusive too.
        let mut recorded = go(&fake(5.0), &mut Log::default())
            .0
            .expect("runs")
            .recording;
        for i in &mut recorded.intervals {
            let s = i.metrics.remove("errors").expect("recorded");
            i.metrics.insert("other".into(), s);
        }
        let out = replayed(&recorded, &mut Log::default());
        assert!(
            matches!(out.result, RunResult::RolledBack { .. }),
            "{out:?}"
        );
        assert!(
            out.recording.intervals[0].metrics["errors"]
                .error
                .as_deref()
                .is_some_and(|e| e.contains("no data for metric `errors`"))
        );
    }

    /// Confirms steps below `refuse_from`, refuses the rest.
    struct Confirming(Log, usize);

    impl Traffic for Confirming {
        fn confirm(&mut self, step: usize, weight: u8) -> Result<(), String> {
            self.0.0.push(format!("confirm {step} {weight}"));
            if step >= self.1 {
                return Err(format!("step {step} refused"));
            }
            Ok(())
        }
        fn set_weight(&mut self, weight: u8) -> Result<(), ActuatorError> {
            self.0.set_weight(weight)
        }
        fn promote(&mut self) -> Result<(), ActuatorError> {
            self.0.promote()
        }
        fn rollback(&mut self) -> Result<(), ActuatorError> {
            self.0.rollback()
        }
    }

    fn confirmed(refuse_from: usize) -> (RunOutcome, Vec<String>) {
        let mut traffic = Confirming(Log::default(), refuse_from);
        let out = run(
            &settings(),
            &request(),
            &fake(5.0),
            &mut traffic,
            &mut FakeClock(Duration::ZERO),
            &mut |_| {},
        )
        .expect("runs");
        (out, traffic.0.0)
    }

    #[test]
    fn every_step_and_the_promotion_are_confirmed_first() {
        let (out, log) = confirmed(usize::MAX);
        assert_eq!(out.result, RunResult::Promoted);
        assert_eq!(
            log,
            [
                "confirm 0 10",
                "set-weight 10",
                "confirm 1 50",
                "set-weight 50",
                "confirm 2 100",
                "promote"
            ]
        );
    }

    #[test]
    fn a_refused_confirmation_pauses_where_traffic_stands() {
        let (out, log) = confirmed(1);
        assert_eq!(
            out.result,
            RunResult::Paused {
                reason: "step 1 refused".into()
            }
        );
        assert_eq!(out.decided_at_s, 60.0);
        assert_eq!(log, ["confirm 0 10", "set-weight 10", "confirm 1 50"]);
        let (out, log) = confirmed(0);
        assert!(matches!(out.result, RunResult::Paused { .. }));
        assert_eq!(log, ["confirm 0 10"]);
    }

    /// Alarms read by a script: one answer per reading, the last one repeated.
    struct ScriptedAlarms(RefCell<Vec<Result<AlarmCheck, ProviderError>>>);

    impl AlarmSource for ScriptedAlarms {
        fn read(&self) -> Result<AlarmCheck, ProviderError> {
            let mut script = self.0.borrow_mut();
            if script.len() > 1 {
                script.remove(0)
            } else {
                script[0].clone()
            }
        }
    }

    fn quiet() -> Result<AlarmCheck, ProviderError> {
        Ok(AlarmCheck {
            ok: vec!["cpu".into()],
            insufficient_data: vec!["memory".into()],
            ..AlarmCheck::default()
        })
    }

    fn gated(
        script: Vec<Result<AlarmCheck, ProviderError>>,
    ) -> (Result<RunOutcome, RunError>, Log) {
        let alarms = ScriptedAlarms(RefCell::new(script));
        let mut log = Log::default();
        let out = run_gated(
            &settings(),
            &request(),
            &fake(5.0),
            Some(&alarms),
            &mut log,
            &mut FakeClock(Duration::ZERO),
            &mut |_| {},
        );
        (out, log)
    }

    #[test]
    fn an_alarm_that_fires_rolls_back_at_the_next_reading() {
        let firing = Ok(AlarmCheck {
            firing: vec!["CloudWatch alarm `cpu` is in ALARM".into()],
            ..AlarmCheck::default()
        });
        // Read before traffic moves, then after judgements at 10, 20, 30 s.
        let (out, log) = gated(vec![quiet(), quiet(), quiet(), quiet(), firing]);
        let out = out.expect("runs");
        assert_eq!(
            out.result,
            RunResult::RolledBack {
                reason: "alarm gate: CloudWatch alarm `cpu` is in ALARM".into()
            }
        );
        assert_eq!(out.decided_at_s, 40.0);
        assert_eq!(log.0, ["set-weight 10", "rollback"]);
        assert!(out.alarms.is_some_and(|a| a.firing.len() == 1));
        // A healthy run shows the last reading as evidence.
        let (out, _) = gated(vec![quiet()]);
        let out = out.expect("runs");
        assert_eq!(out.result, RunResult::Promoted);
        assert_eq!(
            out.alarms.map(|a| a.describe()).as_deref(),
            Some("1 alarm(s) OK, INSUFFICIENT_DATA (not an alarm): memory")
        );
    }

    #[test]
    fn unreadable_alarms_count_against_the_limit_and_never_pass() {
        let gone = || {
            Err(ProviderError::Throttled {
                what: "alarms cpu".into(),
                attempts: 4,
                message: "Throttling: Rate exceeded".into(),
            })
        };
        // Four unreadable readings in a row are allowed (the limit), a good one resets.
        let (out, _) = gated(vec![quiet(), gone(), gone(), gone(), gone(), quiet()]);
        assert_eq!(out.expect("runs").result, RunResult::Promoted);
        // A fifth one in a row fails safe.
        let (out, log) = gated(vec![quiet(), gone()]);
        let out = out.expect("runs");
        assert!(
            matches!(&out.result, RunResult::RolledBack { reason } if reason.starts_with("fail-safe: the alarms could not be read in 5 consecutive intervals") && reason.contains("Throttling")),
            "{out:?}"
        );
        assert_eq!(log.0, ["set-weight 10", "rollback"]);
    }

    #[test]
    fn alarms_firing_or_unreadable_before_the_start_move_nothing() {
        let (err, log) = gated(vec![Ok(AlarmCheck {
            firing: vec!["Prometheus alert `HighErrorRate` is firing".into()],
            ..AlarmCheck::default()
        })]);
        let err = err.expect_err("refused");
        assert_eq!(
            err.to_string(),
            "alarm gate: Prometheus alert `HighErrorRate` is firing; no traffic was moved"
        );
        assert!(log.0.is_empty());
        let (err, log) = gated(vec![Err(ProviderError::NoSuchAlarm {
            what: "`nope`".into(),
        })]);
        let err = err.expect_err("refused");
        assert!(matches!(err, RunError::Alarms(_)), "{err}");
        assert!(
            err.hint()
                .is_some_and(|h| h.starts_with("no traffic was moved; check the names"))
        );
        assert!(log.0.is_empty());
    }
}
