//! `canary capture`: a recording of a past window built from Prometheus range queries, so
//! the gates can be tuned on past incidents with `canary judge FILE`. Each query runs once
//! as a range query with `step = interval`; each step's answers are then sampled exactly as
//! a live run samples its instant queries (the runner's own code, through a view of the
//! range results at one time).

use std::collections::HashMap;
use std::time::Duration;

use crate::config::CanarySettings;
use crate::provider::{Prometheus, ProviderError, Sample, Series, histogram_of, one_value};
use crate::request::{RunRequest, vars};
use crate::sampling::{Metrics, observe, rendered_queries};
use shipgate_judge::Histogram;
use shipgate_judge::{ConfigProblem, Gates, HumanDuration};
use shipgate_judge::{RecordedInterval, Recording};

/// Prometheus answers at most this many points per series in a range query.
pub const MAX_POINTS: u64 = 11_000;

/// Where range queries go: Prometheus, or a fake in tests.
pub trait RangeMetrics {
    /// `query` evaluated at `start`, `start + step`, ... up to `end` (Unix seconds).
    fn range(
        &self,
        query: &str,
        start: f64,
        end: f64,
        step: Duration,
    ) -> Result<Vec<Series>, ProviderError>;
}

impl RangeMetrics for Prometheus {
    fn range(
        &self,
        query: &str,
        start: f64,
        end: f64,
        step: Duration,
    ) -> Result<Vec<Series>, ProviderError> {
        Prometheus::range(self, query, start, end, step)
    }
}

/// The past window to capture, in Unix seconds. The intervals end at `from + interval`,
/// `from + 2 interval`, ... up to `to`, as if a run had started at `from`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// Where the window starts (the run's simulated start).
    pub from: f64,
    /// Where it ends (the last interval ends at or before it).
    pub to: f64,
}

/// Why a window could not be captured.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The settings are invalid.
    #[error("invalid [canary] settings: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Settings(Vec<ConfigProblem>),
    /// The window does not start before it ends.
    #[error("the window is empty: it starts at {from} and ends at {to} (Unix seconds)")]
    Empty {
        /// Its start.
        from: f64,
        /// Its end.
        to: f64,
    },
    /// The window holds no whole interval.
    #[error("the window ({window} s) is shorter than one interval ({interval})")]
    Short {
        /// Its length in seconds.
        window: f64,
        /// The interval.
        interval: HumanDuration,
    },
    /// More intervals than Prometheus answers in one range query.
    #[error(
        "the window holds {points} intervals of {interval}; Prometheus answers at most {MAX_POINTS} points per range query"
    )]
    TooLong {
        /// Intervals in the window.
        points: u64,
        /// The interval.
        interval: HumanDuration,
        /// The shortest interval that fits.
        suggested: HumanDuration,
    },
    /// A range query failed: Prometheus refused it or could not be reached.
    #[error("metric `{metric}`: {source}")]
    Query {
        /// The metric whose query it is.
        metric: String,
        /// Prometheus's answer.
        source: ProviderError,
    },
    /// No `[canary.prometheus]` to capture from.
    #[error("no [canary.prometheus] in the configuration")]
    NoPrometheus,
    /// The Prometheus client could not be set up (credentials, TLS).
    #[error(transparent)]
    Provider(ProviderError),
}

impl CaptureError {
    /// What to do about it, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            CaptureError::Settings(_) | CaptureError::Empty { .. } => None,
            CaptureError::Short { .. } => {
                Some("widen the window, or set a shorter interval in [canary]".into())
            }
            CaptureError::TooLong { suggested, .. } => Some(format!(
                "set interval = \"{suggested}\" (or longer) in [canary], or capture a shorter window"
            )),
            CaptureError::Query { source, .. } | CaptureError::Provider(source) => source.hint(),
            CaptureError::NoPrometheus => {
                Some("add [canary.prometheus] with url = \"http://prometheus:9090\"".into())
            }
        }
    }
}

/// How many intervals of a captured metric had data, and how many were errors.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Coverage {
    /// The metric.
    pub metric: String,
    /// Intervals with a measurement for the canary (and the baseline, when it has one).
    pub with_data: usize,
    /// Intervals whose queries gave an error (several series where one is expected…).
    pub errors: usize,
}

/// Per metric of `settings`, how many of the recording's intervals had data.
pub fn coverage(settings: &Gates, recording: &Recording) -> Vec<Coverage> {
    settings
        .judge
        .metrics
        .iter()
        .map(|m| {
            let samples = recording
                .intervals
                .iter()
                .filter_map(|i| i.metrics.get(&m.name));
            let (mut with_data, mut errors) = (0, 0);
            for s in samples {
                if s.error.is_some() {
                    errors += 1;
                } else if s.canary.is_some() && (m.baseline.is_none() || s.baseline.is_some()) {
                    with_data += 1;
                }
            }
            Coverage {
                metric: m.name.clone(),
                with_data,
                errors,
            }
        })
        .collect()
}

/// `canary capture` as the binary does it: the Prometheus of `[canary.prometheus]`
/// (credentials read through `env`), then [`capture`].
pub fn capture_with_settings(
    settings: &CanarySettings,
    req: &RunRequest,
    window: Window,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Recording, CaptureError> {
    let Some(config) = &settings.prometheus else {
        return Err(CaptureError::NoPrometheus);
    };
    let provider = Prometheus::new(config, env).map_err(CaptureError::Provider)?;
    capture(&settings.gates, req, &provider, window)
}

/// Captures `window`: one range query per rendered query (step = the interval), then one
/// recorded interval per step with the measurements a live run would have taken at that
/// instant. A step without points is an interval without data. `started_at` is left for
/// the caller (RFC 3339 of `window.from`); every `weight` is `None` (no rollout ran).
pub fn capture(
    settings: &Gates,
    req: &RunRequest,
    source: &dyn RangeMetrics,
    window: Window,
) -> Result<Recording, CaptureError> {
    settings.validate().map_err(CaptureError::Settings)?;
    let interval_text = settings.rollout.interval.to_string();
    let vars = vars(req, &interval_text);
    let intervals = capture_intervals(settings, &vars, source, window)?;
    Ok(req.recording(settings, intervals))
}

/// The intervals of `window` (see [`capture`]) with the placeholders' values `vars`.
pub fn capture_intervals(
    settings: &Gates,
    vars: &[(&str, &str)],
    source: &dyn RangeMetrics,
    window: Window,
) -> Result<Vec<RecordedInterval>, CaptureError> {
    let points = points(settings.rollout.interval, window)?;
    let step = settings.rollout.interval.0;
    let step_s = step.as_secs_f64();
    let start = window.from + step_s;

    let mut answers: HashMap<String, Vec<Vec<Sample>>> = HashMap::new();
    for (metric, query) in rendered_queries(settings, vars) {
        if answers.contains_key(&query) {
            continue;
        }
        let series = source
            .range(&query, start, window.to, step)
            .map_err(|source| CaptureError::Query {
                metric: metric.to_string(),
                source,
            })?;
        let by_step = by_step(series, start, step_s, points);
        answers.insert(query, by_step);
    }

    Ok((0..points as usize)
        .map(|k| RecordedInterval {
            t: step_s * (k + 1) as f64,
            weight: None,
            metrics: observe(
                settings,
                &At {
                    answers: &answers,
                    step: k,
                },
                vars,
            ),
        })
        .collect())
}

/// The number of intervals in `window`, checked: at least one, at most [`MAX_POINTS`].
pub(crate) fn points(interval: HumanDuration, window: Window) -> Result<u64, CaptureError> {
    let Window { from, to } = window;
    if from.partial_cmp(&to) != Some(std::cmp::Ordering::Less) {
        return Err(CaptureError::Empty { from, to });
    }
    let step = interval.secs();
    let length = to - from;
    // A millisecond of slack: times travel as milliseconds.
    let whole = ((length + 1e-3) / step).floor();
    if whole < 1.0 {
        return Err(CaptureError::Short {
            window: length,
            interval,
        });
    }
    if whole > MAX_POINTS as f64 {
        let suggested = Duration::from_secs((length / MAX_POINTS as f64).ceil() as u64);
        return Err(CaptureError::TooLong {
            points: whole as u64,
            interval,
            suggested: HumanDuration(suggested),
        });
    }
    Ok(whole as u64)
}

/// Each range series' points filed under the step they belong to (`start + k step`), as
/// the instant vector of that time. Points off the steps' grid by more than half a step do
/// not exist in Prometheus's answers; they are filed under the nearest step.
fn by_step(series: Vec<Series>, start: f64, step: f64, points: u64) -> Vec<Vec<Sample>> {
    let mut out = vec![Vec::new(); points as usize];
    for s in series {
        for (t, value) in s.points {
            let k = ((t - start) / step).round();
            if k >= 0.0 && k < points as f64 {
                out[k as usize].push(Sample {
                    labels: s.labels.clone(),
                    value,
                });
            }
        }
    }
    out
}

/// The range results at one step, answering like instant queries at that time.
struct At<'a> {
    answers: &'a HashMap<String, Vec<Vec<Sample>>>,
    step: usize,
}

impl At<'_> {
    fn samples(&self, query: &str) -> Result<&[Sample], ProviderError> {
        self.answers
            .get(query)
            .and_then(|steps| steps.get(self.step))
            .map(Vec::as_slice)
            .ok_or_else(|| ProviderError::Shape {
                query: query.into(),
                message: "not captured".into(),
            })
    }
}

impl Metrics for At<'_> {
    fn check(&self, query: &str) -> Result<(), ProviderError> {
        self.samples(query).map(|_| ())
    }
    fn value(&self, query: &str) -> Result<Option<f64>, ProviderError> {
        one_value(query, self.samples(query)?)
    }
    fn histogram(&self, query: &str) -> Result<Option<Histogram>, ProviderError> {
        histogram_of(query, self.samples(query)?)
    }
    fn vector(&self, query: &str) -> Result<Vec<Sample>, ProviderError> {
        self.samples(query).map(<[Sample]>::to_vec)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    use super::*;
    use shipgate_judge::{Counts, MetricSample, Num, Side};
    use shipgate_judge::{MetricConfig, MetricKind, Queries};

    const FROM: f64 = 1_795_000_000.0;

    /// Range answers by rendered query; records the calls.
    #[derive(Default)]
    struct Fake {
        answers: BTreeMap<String, Vec<Series>>,
        broken: Option<ProviderError>,
        calls: RefCell<Vec<(String, f64, f64, Duration)>>,
    }

    impl Fake {
        /// One unlabelled series for `query` with `values` at steps 0, 1, ... (None: no
        /// point), each time off the grid by `jitter` seconds.
        fn series(mut self, query: &str, values: &[Option<f64>], jitter: f64) -> Self {
            let points = values
                .iter()
                .enumerate()
                .filter_map(|(k, v)| v.map(|v| (FROM + 10.0 * (k + 1) as f64 + jitter, v)))
                .collect();
            self.answers
                .entry(query.to_string())
                .or_default()
                .push(Series {
                    labels: BTreeMap::new(),
                    points,
                });
            self
        }
    }

    impl RangeMetrics for Fake {
        fn range(
            &self,
            query: &str,
            start: f64,
            end: f64,
            step: Duration,
        ) -> Result<Vec<Series>, ProviderError> {
            self.calls
                .borrow_mut()
                .push((query.to_string(), start, end, step));
            if let Some(e) = &self.broken {
                return Err(e.clone());
            }
            Ok(self.answers.get(query).cloned().unwrap_or_default())
        }
    }

    use shipgate_judge::testing::counts_metric;

    fn settings(metrics: Vec<MetricConfig>) -> Gates {
        let mut gates = Gates::default();
        gates.rollout.interval = HumanDuration(Duration::from_secs(10));
        gates.judge.metrics = metrics;
        gates
    }

    fn request() -> RunRequest {
        RunRequest::new("prod", "1.4.0", "1.3.2").expect("valid")
    }

    fn window(seconds: f64) -> Window {
        Window {
            from: FROM,
            to: FROM + seconds,
        }
    }

    fn counts(requests: f64, errors: f64) -> Option<Side> {
        Some(Side::Counts(Counts {
            requests: Num(requests),
            errors: Num(errors),
        }))
    }

    /// The captured samples of metric `errors`, interval by interval.
    fn captured(fake: &Fake, seconds: f64) -> Vec<(f64, MetricSample)> {
        let recording = capture(
            &settings(vec![counts_metric()]),
            &request(),
            fake,
            window(seconds),
        )
        .expect("captures");
        recording
            .intervals
            .into_iter()
            .map(|i| (i.t, i.metrics["errors"].clone()))
            .collect()
    }

    fn healthy() -> Fake {
        Fake::default()
            .series("requests{v=\"1.4.0\"}[10s]", &[Some(1000.0); 3], 0.0)
            .series("errors{v=\"1.4.0\"}[10s]", &[Some(5.0); 3], 0.0)
            .series("requests{v=\"1.3.2\"}[10s]", &[Some(9000.0); 3], 0.0)
            .series("errors{v=\"1.3.2\"}[10s]", &[Some(45.0); 3], 0.0)
    }

    #[test]
    fn each_query_runs_once_over_the_window_with_the_interval_as_step() {
        let fake = healthy();
        let recording = capture(
            &settings(vec![counts_metric()]),
            &request(),
            &fake,
            window(35.0),
        )
        .expect("captures");
        let calls = fake.calls.borrow();
        let queries: Vec<&str> = calls.iter().map(|c| c.0.as_str()).collect();
        assert_eq!(
            queries,
            [
                "errors{v=\"1.4.0\"}[10s]",
                "requests{v=\"1.4.0\"}[10s]",
                "errors{v=\"1.3.2\"}[10s]",
                "requests{v=\"1.3.2\"}[10s]"
            ]
        );
        assert!(
            calls
                .iter()
                .all(|c| (c.1, c.2, c.3) == (FROM + 10.0, FROM + 35.0, Duration::from_secs(10)))
        );
        assert_eq!(
            (
                recording.format.as_str(),
                recording.env.as_deref(),
                recording.version.as_deref(),
                recording.baseline_version.as_deref()
            ),
            (
                shipgate_judge::FORMAT,
                Some("prod"),
                Some("1.4.0"),
                Some("1.3.2")
            )
        );
        let times: Vec<(f64, Option<u8>)> = recording
            .intervals
            .iter()
            .map(|i| (i.t, i.weight))
            .collect();
        assert_eq!(times, [(10.0, None), (20.0, None), (30.0, None)]);
        // The recording reads back as one.
        assert_eq!(Recording::from_json(&recording.to_json()), Ok(recording));
    }

    #[test]
    fn points_are_filed_under_their_interval_and_missing_points_are_no_data() {
        let fake = Fake::default()
            // Prometheus's times are milliseconds; a little off the grid still aligns.
            .series(
                "requests{v=\"1.4.0\"}[10s]",
                &[Some(1000.0), None, Some(1200.0)],
                0.0004,
            )
            .series(
                "errors{v=\"1.4.0\"}[10s]",
                &[Some(5.0), Some(7.0), None],
                -0.0004,
            )
            .series("requests{v=\"1.3.2\"}[10s]", &[Some(9000.0); 3], 0.0)
            .series("errors{v=\"1.3.2\"}[10s]", &[Some(45.0); 3], 0.0);
        let got = captured(&fake, 30.0);
        let want = [
            (
                10.0,
                MetricSample {
                    canary: counts(1000.0, 5.0),
                    baseline: counts(9000.0, 45.0),
                    error: None,
                    by_pod: None,
                },
            ),
            // No `requests` point: no data for the canary, even with an `errors` point.
            (
                20.0,
                MetricSample {
                    canary: None,
                    baseline: counts(9000.0, 45.0),
                    error: None,
                    by_pod: None,
                },
            ),
            // No `errors` point while `requests` has one: zero errors.
            (
                30.0,
                MetricSample {
                    canary: counts(1200.0, 0.0),
                    baseline: counts(9000.0, 45.0),
                    error: None,
                    by_pod: None,
                },
            ),
        ];
        assert_eq!(got, want);
        // Points past the window are not intervals; an empty answer is no data throughout.
        let got = captured(&Fake::default(), 20.0);
        assert_eq!(got.len(), 2);
        assert!(got.iter().all(|(_, s)| *s == MetricSample::default()));
    }

    #[test]
    fn several_series_where_one_is_expected_make_that_interval_an_error() {
        let fake = healthy().series("errors{v=\"1.3.2\"}[10s]", &[None, Some(1.0), None], 0.0);
        let got = captured(&fake, 30.0);
        assert_eq!(got[0].1.error, None);
        assert_eq!(got[2].1.error, None);
        let error = got[1].1.error.as_deref().expect("an error");
        assert_eq!(
            error,
            "unexpected answer to `errors{v=\"1.3.2\"}[10s]`: 2 series where one is expected; aggregate it, e.g. sum(...)"
        );
        assert_eq!(
            (got[1].1.canary.clone(), got[1].1.baseline.clone()),
            (None, None)
        );
        assert_eq!(
            coverage(
                &settings(vec![counts_metric()]),
                &capture(
                    &settings(vec![counts_metric()]),
                    &request(),
                    &fake,
                    window(30.0)
                )
                .expect("captures")
            ),
            [Coverage {
                metric: "errors".into(),
                with_data: 2,
                errors: 1
            }]
        );
    }

    #[test]
    fn histograms_come_from_le_labelled_series() {
        let buckets = |side: &str| Queries {
            buckets: Some(format!(
                "sum by (le) (increase(d{{v=\"{{{{{side}}}}}\"}}[{{{{interval}}}}]))"
            )),
            ..Queries::default()
        };
        let settings = settings(vec![MetricConfig::new(
            "latency",
            MetricKind::Latency,
            buckets("version"),
            Some(buckets("baseline_version")),
        )]);
        let query = "sum by (le) (increase(d{v=\"1.4.0\"}[10s]))";
        let le = |le: &str, counts: [f64; 2]| Series {
            labels: BTreeMap::from([("le".to_string(), le.to_string())]),
            points: vec![(FROM + 10.0, counts[0]), (FROM + 20.0, counts[1])],
        };
        let mut fake = Fake::default();
        fake.answers.insert(
            query.into(),
            vec![le("+Inf", [100.0, 90.0]), le("0.5", [80.0, 70.0])],
        );
        let recording = capture(&settings, &request(), &fake, window(20.0)).expect("captures");
        let hist = |a: f64, b: f64| {
            Some(Side::Histogram(Histogram {
                buckets: vec![(Num(0.5), Num(a)), (Num(f64::INFINITY), Num(b))],
            }))
        };
        let got: Vec<(Option<Side>, Option<Side>)> = recording
            .intervals
            .iter()
            .map(|i| {
                let s = &i.metrics["latency"];
                (s.canary.clone(), s.baseline.clone())
            })
            .collect();
        // The baseline's query answered nothing: no data.
        assert_eq!(got, [(hist(80.0, 100.0), None), (hist(70.0, 90.0), None)]);

        // A series without `le` is that interval's error, as in a live run.
        fake.answers.get_mut(query).expect("query").push(Series {
            labels: BTreeMap::new(),
            points: vec![(FROM + 20.0, 1.0)],
        });
        let recording = capture(&settings, &request(), &fake, window(20.0)).expect("captures");
        assert_eq!(recording.intervals[0].metrics["latency"].error, None);
        let error = recording.intervals[1].metrics["latency"].error.as_deref();
        assert!(
            error.is_some_and(|e| e.contains("without an `le` label")),
            "{error:?}"
        );
    }

    /// An error as the binary shows it: the message, then its hint on a line of its own.
    fn shown(e: &CaptureError) -> String {
        match e.hint() {
            Some(hint) => format!("{e}\nhint: {hint}"),
            None => e.to_string(),
        }
    }

    /// The error of capturing `seconds` after FROM with a 10 s interval.
    fn window_error(from: f64, seconds: f64) -> String {
        let err = capture(
            &settings(vec![counts_metric()]),
            &request(),
            &healthy(),
            Window {
                from,
                to: FROM + seconds,
            },
        )
        .expect_err("refused");
        shown(&err)
    }

    #[test]
    fn windows_that_hold_no_interval_or_too_many_are_refused() {
        assert!(window_error(FROM, 0.0).starts_with("the window is empty"));
        assert!(window_error(FROM + 5.0, 0.0).starts_with("the window is empty"));
        assert_eq!(
            window_error(FROM, 9.0),
            "the window (9 s) is shorter than one interval (10s)\nhint: widen the window, or set a shorter interval in [canary]"
        );
        assert!(
            capture(
                &settings(vec![counts_metric()]),
                &request(),
                &healthy(),
                window(110_000.0)
            )
            .is_ok()
        );
        assert_eq!(
            window_error(FROM, 110_010.0),
            "the window holds 11001 intervals of 10s; Prometheus answers at most 11000 points per range query\nhint: set interval = \"11s\" (or longer) in [canary], or capture a shorter window"
        );
    }

    #[test]
    fn a_refused_query_names_the_metric_and_prometheus_s_message() {
        let mut fake = healthy();
        fake.broken = Some(ProviderError::Query {
            query: "errors{v=\"1.4.0\"}[10s]".into(),
            message: "bad_data: parse error".into(),
        });
        let err = capture(
            &settings(vec![counts_metric()]),
            &request(),
            &fake,
            window(30.0),
        )
        .expect_err("refused");
        assert_eq!(
            shown(&err),
            "metric `errors`: Prometheus rejected the query `errors{v=\"1.4.0\"}[10s]`: bad_data: parse error\nhint: fix the query in [canary.metrics]"
        );
        assert_eq!(fake.calls.borrow().len(), 1, "stops at the first error");
    }

    #[test]
    fn invalid_settings_are_refused_before_any_query() {
        let fake = healthy();
        let err =
            capture(&settings(vec![]), &request(), &fake, window(30.0)).expect_err("no metrics");
        assert!(matches!(err, CaptureError::Settings(_)), "{err}");
        assert!(fake.calls.borrow().is_empty());
        let err = capture_with_settings(
            &CanarySettings {
                gates: settings(vec![counts_metric()]),
                ..CanarySettings::default()
            },
            &request(),
            window(30.0),
            &|_| None,
        )
        .expect_err("no prometheus");
        assert!(
            err.to_string()
                .starts_with("no [canary.prometheus] in the configuration"),
            "{err}"
        );
    }
}
