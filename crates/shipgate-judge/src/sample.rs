//! What the judge is fed: one interval's measurements per metric, for the canary and the
//! baseline, as a provider returned them (NaN and Inf included) and as recordings store them.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A number that keeps NaN and ±Inf through JSON: finite values are JSON numbers, the others
/// the strings `"NaN"`, `"+Inf"`, `"-Inf"` (Prometheus's spelling). Numeric strings are
/// accepted too, as the Prometheus HTTP API returns them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Num(pub f64);

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.is_finite() {
            s.serialize_f64(self.0)
        } else if self.0.is_nan() {
            s.serialize_str("NaN")
        } else if self.0 > 0.0 {
            s.serialize_str("+Inf")
        } else {
            s.serialize_str("-Inf")
        }
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number, or \"NaN\", \"+Inf\", \"-Inf\"")
            }
            fn visit_f64<E>(self, v: f64) -> Result<Num, E> {
                Ok(Num(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Num, E> {
                Ok(Num(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Num, E> {
                Ok(Num(v as f64))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Num, E> {
                match v {
                    "NaN" => Ok(Num(f64::NAN)),
                    "+Inf" | "Inf" => Ok(Num(f64::INFINITY)),
                    "-Inf" => Ok(Num(f64::NEG_INFINITY)),
                    other => other
                        .parse()
                        .map(Num)
                        .map_err(|_| E::custom(format!("`{other}` is not a number"))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// Events over trials in one interval (errors over requests).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    /// Trials (requests) in the interval.
    pub requests: Num,
    /// Events (errors) in the interval.
    pub errors: Num,
}

/// A histogram's increase over one interval: cumulative counts by upper bound `le`,
/// ascending, the last bound `+Inf` (its count is the number of requests).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Histogram {
    /// `[le, cumulative count]` pairs.
    pub buckets: Vec<(Num, Num)>,
}

/// One side's measurement; which variant is expected follows the metric's kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Side {
    /// For `counts` metrics.
    Counts(Counts),
    /// For `latency` metrics.
    Histogram(Histogram),
    /// For `gauge` metrics.
    Gauge(Num),
}

/// One metric in one interval. A missing side, or an `error`, makes the interval
/// inconclusive for that metric.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricSample {
    /// The canary's measurement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub canary: Option<Side>,
    /// The baseline's measurement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Side>,
    /// Why the measurement is missing (a provider error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The same measurements split by pod (or instance), when the metric has a
    /// `pod-label`: the judge estimates from them how much the error rate wanders from pod
    /// to pod and interval to interval. The totals stay in `canary` and `baseline`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_pod: Option<ByPod>,
}

/// Each side's pods as `(trials, events)` in one interval: canary, then baseline.
pub type PodSplit = (Vec<(f64, f64)>, Vec<(f64, f64)>);

/// Per-pod measurements of one metric in one interval, by pod name.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ByPod {
    /// The canary's pods.
    #[serde(default)]
    pub canary: BTreeMap<String, Side>,
    /// The baseline's pods.
    #[serde(default)]
    pub baseline: BTreeMap<String, Side>,
}

impl ByPod {
    /// Each side's pods as `(trials, events)` counts, checked; None when a side has no pod
    /// or a pod's counts are not usable (then the pods are ignored for the interval, the
    /// totals still count).
    pub fn counts(&self) -> Option<PodSplit> {
        let side = |pods: &BTreeMap<String, Side>| -> Option<Vec<(f64, f64)>> {
            pods.iter()
                .map(|(name, s)| s.counts(name).ok().map(|c| (c.n, c.x)))
                .collect::<Option<Vec<_>>>()
                .filter(|v| !v.is_empty())
        };
        Some((side(&self.canary)?, side(&self.baseline)?))
    }

    /// Each side's pods as `(requests, requests above le)` for bucket bound `le`; None as
    /// for [`ByPod::counts`] (also when `le` is not one of a pod's bounds).
    pub fn above(&self, le: f64) -> Option<PodSplit> {
        let side = |pods: &BTreeMap<String, Side>| -> Option<Vec<(f64, f64)>> {
            pods.iter()
                .map(|(name, s)| {
                    let h = s.histogram(name).ok()?;
                    let total = *h.cum.last()?;
                    let i = h.les.iter().position(|l| *l == le)?;
                    Some((total, total - h.cum[i]))
                })
                .collect::<Option<Vec<_>>>()
                .filter(|v| !v.is_empty())
        };
        Some((side(&self.canary)?, side(&self.baseline)?))
    }
}

/// Every metric's measurement in one interval, by metric name. A configured metric that is
/// absent here has no data for the interval.
pub type Observation = BTreeMap<String, MetricSample>;

/// Counts checked to be finite, non-negative and consistent, rounded to whole numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CheckedCounts {
    /// Trials (requests).
    pub n: f64,
    /// Events (errors).
    pub x: f64,
}

/// A histogram checked to be well formed: finite ascending bounds then `+Inf`, finite
/// non-decreasing counts.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedHistogram {
    /// Finite bounds followed by `+Inf`.
    pub les: Vec<f64>,
    /// Cumulative counts, rounded; the last one is the total.
    pub cum: Vec<f64>,
}

fn finite(what: &str, v: Num) -> Result<f64, String> {
    if v.0.is_nan() {
        Err(format!("{what} is NaN"))
    } else if v.0.is_infinite() {
        Err(format!("{what} is infinite"))
    } else if v.0 < 0.0 {
        Err(format!("{what} is negative ({})", v.0))
    } else {
        Ok(v.0)
    }
}

impl Side {
    fn variant(&self) -> &'static str {
        match self {
            Side::Counts(_) => "counts",
            Side::Histogram(_) => "a histogram",
            Side::Gauge(_) => "a gauge value",
        }
    }

    /// The counts, checked (finite, non-negative, errors at most requests); `who` names
    /// the side in the error.
    pub fn counts(&self, who: &str) -> Result<CheckedCounts, String> {
        let Side::Counts(c) = self else {
            return Err(format!("{who}: expected counts, got {}", self.variant()));
        };
        let n = finite(&format!("{who} requests"), c.requests)?.round();
        let x = finite(&format!("{who} errors"), c.errors)?.round();
        if x > n {
            return Err(format!("{who}: {x} errors exceed {n} requests"));
        }
        Ok(CheckedCounts { n, x })
    }

    /// The histogram, checked (ascending bounds ending at `+Inf`, non-decreasing counts).
    pub fn histogram(&self, who: &str) -> Result<CheckedHistogram, String> {
        let Side::Histogram(h) = self else {
            return Err(format!(
                "{who}: expected a histogram, got {}",
                self.variant()
            ));
        };
        let mut les = Vec::with_capacity(h.buckets.len());
        let mut cum = Vec::with_capacity(h.buckets.len());
        for (i, (le, count)) in h.buckets.iter().enumerate() {
            if le.0.is_nan() {
                return Err(format!("{who}: bucket {i} has le = NaN"));
            }
            if les.last().is_some_and(|prev: &f64| le.0 <= *prev) {
                return Err(format!(
                    "{who}: bucket bounds are not ascending at le = {}",
                    le.0
                ));
            }
            let c = finite(&format!("{who} bucket le={}", le.0), *count)?.round();
            if cum.last().is_some_and(|prev: &f64| c < *prev) {
                return Err(format!("{who}: cumulative count drops at le = {}", le.0));
            }
            les.push(le.0);
            cum.push(c);
        }
        if les.last() != Some(&f64::INFINITY) {
            return Err(format!("{who}: the histogram has no +Inf bucket"));
        }
        Ok(CheckedHistogram { les, cum })
    }

    /// The gauge value, checked to be finite.
    pub fn gauge(&self, who: &str) -> Result<f64, String> {
        let Side::Gauge(v) = self else {
            return Err(format!(
                "{who}: expected a gauge value, got {}",
                self.variant()
            ));
        };
        if v.0.is_finite() {
            Ok(v.0)
        } else {
            Err(format!(
                "{who} value is {}",
                if v.0.is_nan() { "NaN" } else { "infinite" }
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_nan_and_inf_through_json() {
        let sample: MetricSample = serde_json::from_str(
            r#"{"canary": "NaN", "baseline": {"buckets": [[0.5, 3], ["+Inf", "10"]]}}"#,
        )
        .expect("parses");
        assert!(matches!(sample.canary, Some(Side::Gauge(Num(v))) if v.is_nan()));
        let h = sample
            .baseline
            .as_ref()
            .expect("baseline")
            .histogram("baseline")
            .expect("valid");
        assert_eq!(h.les, vec![0.5, f64::INFINITY]);
        assert_eq!(h.cum, vec![3.0, 10.0]);
        let back = serde_json::to_string(&sample).expect("serializes");
        assert_eq!(
            back,
            r#"{"canary":"NaN","baseline":{"buckets":[[0.5,3.0],["+Inf",10.0]]}}"#
        );
    }

    #[test]
    fn bad_measurements_say_what_is_wrong() {
        let counts = |r: f64, e: f64| {
            Side::Counts(Counts {
                requests: Num(r),
                errors: Num(e),
            })
        };
        assert_eq!(
            counts(10.0, 11.0).counts("canary"),
            Err("canary: 11 errors exceed 10 requests".into())
        );
        assert_eq!(
            counts(f64::NAN, 1.0).counts("canary"),
            Err("canary requests is NaN".into())
        );
        assert_eq!(
            counts(f64::INFINITY, 1.0).counts("canary"),
            Err("canary requests is infinite".into())
        );
        assert_eq!(
            counts(100.4, 0.6).counts("canary"),
            Ok(CheckedCounts { n: 100.0, x: 1.0 })
        );
        assert!(
            Side::Gauge(Num(1.0))
                .counts("canary")
                .unwrap_err()
                .contains("expected counts")
        );
        let hist = |b: Vec<(f64, f64)>| {
            Side::Histogram(Histogram {
                buckets: b.into_iter().map(|(l, c)| (Num(l), Num(c))).collect(),
            })
        };
        assert!(
            hist(vec![(0.5, 3.0)])
                .histogram("c")
                .unwrap_err()
                .contains("no +Inf")
        );
        assert!(
            hist(vec![(0.5, 3.0), (f64::INFINITY, 2.0)])
                .histogram("c")
                .unwrap_err()
                .contains("drops")
        );
        assert!(
            hist(vec![(1.0, 3.0), (0.5, 4.0)])
                .histogram("c")
                .unwrap_err()
                .contains("not ascending")
        );
        assert!(
            Side::Gauge(Num(f64::NEG_INFINITY))
                .gauge("canary")
                .unwrap_err()
                .contains("infinite")
        );
    }
}
