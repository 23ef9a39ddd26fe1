//! Test data shared by this crate's tests and `shipgate-canary`'s (feature `testing`):
//! recordings of error counts and their parts.

use crate::record::{FORMAT, RecordedInterval, Recording};
use crate::sample::{Counts, MetricSample, Num, Observation, Side};
use crate::settings::{Gates, JudgeSettings, MetricConfig, MetricKind, Queries};

pub fn counts(n: f64, x: f64) -> Option<Side> {
    Some(Side::Counts(Counts {
        requests: Num(n),
        errors: Num(x),
    }))
}

pub fn metric(name: &str, kind: MetricKind, threshold: Option<f64>) -> MetricConfig {
    let q = |what: &str| Some(format!("{what}_{name}{{version=\"{{{{version}}}}\"}}"));
    let queries = match kind {
        MetricKind::Counts => Queries {
            errors: q("errors"),
            requests: q("requests"),
            ..Queries::default()
        },
        MetricKind::Latency => Queries {
            buckets: q("buckets"),
            ..Queries::default()
        },
        MetricKind::Gauge => Queries {
            value: q("value"),
            ..Queries::default()
        },
    };
    let mut m = MetricConfig::new(name, kind, queries.clone(), Some(queries));
    m.threshold = threshold;
    m
}

/// A recording of `metrics`, one interval per entry of `samples` (10 s apart), with
/// `weights` per interval.
pub fn recording(
    metrics: Vec<MetricConfig>,
    samples: Vec<Observation>,
    weights: &[u8],
) -> Recording {
    let settings = Gates {
        judge: JudgeSettings {
            metrics,
            ..JudgeSettings::default()
        },
        ..Gates::default()
    };
    let intervals = samples
        .into_iter()
        .enumerate()
        .map(|(i, metrics)| RecordedInterval {
            t: 10.0 * (i + 1) as f64,
            weight: weights.get(i).copied(),
            metrics,
        })
        .collect();
    Recording {
        format: FORMAT.into(),
        env: Some("prod".into()),
        version: Some("1.4.0".into()),
        baseline_version: Some("1.3.2".into()),
        started_at: None,
        settings,
        intervals,
    }
}

/// An error-rate recording with the canary's errors per 1000 requests (NaN: a gap).
pub fn error_rate(canary_errors: &[f64], threshold: Option<f64>, weights: &[u8]) -> Recording {
    let samples = canary_errors
        .iter()
        .map(|x| {
            let sample = MetricSample {
                canary: counts(1000.0, *x),
                baseline: counts(9000.0, 45.0),
                error: None,
                by_pod: None,
            };
            Observation::from([("error-rate".to_string(), sample)])
        })
        .collect();
    recording(
        vec![metric("error-rate", MetricKind::Counts, threshold)],
        samples,
        weights,
    )
}

/// The `errors` counts metric of the runner's and capture's tests: queries
/// `errors{v="<version>"}[<interval>]` and `requests{…}` for each side.
pub fn counts_metric() -> MetricConfig {
    let q = |side: &str| Queries {
        errors: Some(format!("errors{{v=\"{{{{{side}}}}}\"}}[{{{{interval}}}}]")),
        requests: Some(format!(
            "requests{{v=\"{{{{{side}}}}}\"}}[{{{{interval}}}}]"
        )),
        ..Queries::default()
    };
    MetricConfig::new(
        "errors",
        MetricKind::Counts,
        q("version"),
        Some(q("baseline_version")),
    )
}
