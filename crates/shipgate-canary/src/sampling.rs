//! One interval's measurements: the [`Metrics`] port a backend answers through, every
//! query rendered with the placeholders' values, and the samples the judge gets from the
//! answers (a metric split by pod included). Live runs ([`crate::runner`]) and `canary
//! capture` ([`capture`](mod@crate::capture), a view of range results at one time) sample
//! alike.

use shipgate_judge::settings::render;
use shipgate_judge::{
    ByPod, Counts, Gates, MetricConfig, MetricKind, MetricSample, Num, Observation, Queries, Side,
};

use crate::provider::{Prometheus, ProviderError, Sample, histogram_of};

/// Where measurements come from.
pub trait Metrics {
    /// Checks a query before traffic moves.
    fn check(&self, query: &str) -> Result<(), ProviderError>;
    /// One value (None: no series).
    fn value(&self, query: &str) -> Result<Option<f64>, ProviderError>;
    /// A histogram by `le` (None: no series).
    fn histogram(&self, query: &str) -> Result<Option<shipgate_judge::Histogram>, ProviderError>;
    /// Every series of the answer, for metrics split by pod (`pod-label`).
    fn vector(&self, query: &str) -> Result<Vec<Sample>, ProviderError> {
        Err(ProviderError::Shape {
            query: query.into(),
            message: "this source cannot split a metric by pod".into(),
        })
    }
}

impl Metrics for Prometheus {
    fn check(&self, query: &str) -> Result<(), ProviderError> {
        Prometheus::check(self, query)
    }
    fn value(&self, query: &str) -> Result<Option<f64>, ProviderError> {
        Prometheus::value(self, query)
    }
    fn histogram(&self, query: &str) -> Result<Option<shipgate_judge::Histogram>, ProviderError> {
        Prometheus::histogram(self, query)
    }
    fn vector(&self, query: &str) -> Result<Vec<Sample>, ProviderError> {
        self.instant(query, None)
    }
}

fn queries_for(metric: &MetricConfig) -> Vec<(&'static str, &Queries)> {
    let mut out = vec![("canary", &metric.canary)];
    if let Some(b) = &metric.baseline {
        out.push(("baseline", b));
    }
    out
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
            if let Some(vq) = get(&q.value) {
                // One percentile per interval (CloudWatch's p95), judged like a gauge.
                return Ok(metrics.value(&vq)?.map(|v| Side::Gauge(Num(v))));
            }
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

/// Every query of every metric (both sides, every template it has) rendered with `vars`,
/// with its metric's name, in the order of the settings.
pub(crate) fn rendered_queries<'a>(
    settings: &'a Gates,
    vars: &[(&str, &str)],
) -> Vec<(&'a str, String)> {
    let mut out = Vec::new();
    for m in &settings.judge.metrics {
        for (_, q) in queries_for(m) {
            for t in [&q.errors, &q.requests, &q.buckets, &q.value]
                .into_iter()
                .flatten()
            {
                out.push((m.name.as_str(), render(t, vars)));
            }
        }
    }
    out
}

/// One interval's measurements of every metric, as `metrics` answers now. Live runs and
/// `canary capture` (a view of range results at one time) share it.
pub(crate) fn observe(
    settings: &Gates,
    metrics: &dyn Metrics,
    vars: &[(&str, &str)],
) -> Observation {
    settings
        .judge
        .metrics
        .iter()
        .map(|m| (m.name.clone(), sample(metrics, m, vars)))
        .collect()
}

/// The series of `query`'s answer by the value of `label` (a series without it is an
/// error: the query must keep the label, e.g. `sum by (pod) (...)`).
fn by_label<'a>(
    query: &str,
    label: &str,
    samples: &'a [Sample],
) -> Result<std::collections::BTreeMap<String, Vec<&'a Sample>>, ProviderError> {
    let mut out: std::collections::BTreeMap<String, Vec<&Sample>> = Default::default();
    for s in samples {
        let pod = s.labels.get(label).ok_or_else(|| ProviderError::Shape {
            query: query.into(),
            message: format!(
                "a series without the pod label `{label}`; use sum by ({label}) (...)"
            ),
        })?;
        out.entry(pod.clone()).or_default().push(s);
    }
    Ok(out)
}

/// Each pod's measurement, by pod name.
type Pods = std::collections::BTreeMap<String, Side>;

/// One side of a metric split by `label`: the totals and each pod's measurement. Empty
/// `requests` (or buckets) is no data; a pod without an `errors` series has no errors.
fn side_by_pod(
    metrics: &dyn Metrics,
    kind: MetricKind,
    q: &Queries,
    label: &str,
    vars: &[(&str, &str)],
) -> Result<Option<(Side, Pods)>, ProviderError> {
    let get = |t: &Option<String>| t.as_ref().map(|t| render(t, vars));
    match kind {
        MetricKind::Counts => {
            let (Some(rq), Some(eq)) = (get(&q.requests), get(&q.errors)) else {
                return Ok(None);
            };
            let requests = metrics.vector(&rq)?;
            if requests.is_empty() {
                return Ok(None);
            }
            let errors = metrics.vector(&eq)?;
            let one = |query: &str, v: &[&Sample]| {
                crate::provider::one_value(
                    query,
                    &v.iter().map(|s| (*s).clone()).collect::<Vec<_>>(),
                )
            };
            let errors_by = by_label(&eq, label, &errors)?;
            let mut pods = std::collections::BTreeMap::new();
            let (mut n, mut x) = (0.0, 0.0);
            for (pod, rs) in by_label(&rq, label, &requests)? {
                let r = one(&rq, &rs)?.unwrap_or(0.0);
                let e = match errors_by.get(&pod) {
                    Some(es) => one(&eq, es)?.unwrap_or(0.0),
                    None => 0.0,
                };
                n += r;
                x += e;
                pods.insert(
                    pod,
                    Side::Counts(Counts {
                        requests: Num(r),
                        errors: Num(e),
                    }),
                );
            }
            // Errors of a pod that served no requests still count in the totals (the judge
            // then finds them inconsistent, as it should).
            x += errors_by
                .iter()
                .filter(|(pod, _)| !pods.contains_key(*pod))
                .flat_map(|(_, es)| es.iter().map(|s| s.value))
                .sum::<f64>();
            let total = Side::Counts(Counts {
                requests: Num(n),
                errors: Num(x),
            });
            Ok(Some((total, pods)))
        }
        MetricKind::Latency => {
            let Some(bq) = get(&q.buckets) else {
                return Ok(None);
            };
            let samples = metrics.vector(&bq)?;
            if samples.is_empty() {
                return Ok(None);
            }
            let mut pods = std::collections::BTreeMap::new();
            let mut total: Option<shipgate_judge::Histogram> = None;
            for (pod, ss) in by_label(&bq, label, &samples)? {
                let owned: Vec<Sample> = ss.into_iter().cloned().collect();
                let Some(h) = histogram_of(&bq, &owned)? else {
                    continue;
                };
                total = Some(match total {
                    None => h.clone(),
                    Some(mut t) => {
                        let same = t.buckets.len() == h.buckets.len()
                            && t.buckets.iter().zip(&h.buckets).all(|(a, b)| a.0 == b.0);
                        if !same {
                            return Err(ProviderError::Shape {
                                query: bq.clone(),
                                message: format!("pods have different bucket bounds ({pod})"),
                            });
                        }
                        for (a, b) in t.buckets.iter_mut().zip(&h.buckets) {
                            a.1 = Num(a.1.0 + b.1.0);
                        }
                        t
                    }
                });
                pods.insert(pod, Side::Histogram(h));
            }
            Ok(total.map(|t| (Side::Histogram(t), pods)))
        }
        MetricKind::Gauge => Ok(None),
    }
}

/// A metric split by pod: the totals as usual, and the pods beside them.
fn sample_by_pod(
    metrics: &dyn Metrics,
    m: &MetricConfig,
    label: &str,
    vars: &[(&str, &str)],
) -> MetricSample {
    let canary = side_by_pod(metrics, m.kind, &m.canary, label, vars);
    let baseline = m
        .baseline
        .as_ref()
        .map(|b| side_by_pod(metrics, m.kind, b, label, vars))
        .transpose();
    match (canary, baseline) {
        (Ok(canary), Ok(baseline)) => {
            let baseline = baseline.flatten();
            let by_pod = ByPod {
                canary: canary.as_ref().map(|c| c.1.clone()).unwrap_or_default(),
                baseline: baseline.as_ref().map(|b| b.1.clone()).unwrap_or_default(),
            };
            MetricSample {
                canary: canary.map(|c| c.0),
                baseline: baseline.map(|b| b.0),
                error: None,
                by_pod: Some(by_pod),
            }
        }
        (Err(e), _) | (_, Err(e)) => MetricSample {
            error: Some(e.to_string()),
            ..MetricSample::default()
        },
    }
}

pub(crate) fn sample(
    metrics: &dyn Metrics,
    m: &MetricConfig,
    vars: &[(&str, &str)],
) -> MetricSample {
    if let (Some(label), MetricKind::Counts | MetricKind::Latency) = (&m.pod_label, m.kind) {
        return sample_by_pod(metrics, m, label, vars);
    }
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
            by_pod: None,
        },
        (Err(e), _) | (_, Err(e)) => MetricSample {
            error: Some(e.to_string()),
            ..MetricSample::default()
        },
    }
}
