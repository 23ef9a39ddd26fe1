//! `cargo xtask bench judge [--json]`: the canary judge (`shipgate`; `shipgate-by-pod`, the
//! same metric with a `pod-label`, fed each pod's counts; `shipgate-0.1`, the judge before
//! it allowed for extra variation, with six equally weighted ratios) against reference judges
//! (fixed-horizon, Argo-style, Kayenta-style on 10-s and on 1-min values, and an oracle SPRT
//! told the true regression, the floor for detection time) on simulated request streams, judged every
//! 10 s: false-rollback rate on no-change runs, detection rate and time on regressions, and
//! the judge's cost per metric per judgement. Cases: `aa`, `error-2x`, `tail`, `sparse`, an
//! effect-size sweep (`effect-1.25x` to `effect-5x`), `drift` (a shared error rate drifting
//! 0.3x to 3x with bursts) and `pods` (ten pods, the canary on 1 to 5 of them, each pod's
//! error rate wandering per interval with a coefficient of variation of 0 to 40 %).

use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::json;
use shipgate::cli::hinted;
use shipgate_judge::stats::RatioEProcess;
use shipgate_judge::{
    ByPod, Counts, Histogram, Judge, JudgeSettings, MetricConfig, MetricKind, MetricSample, Num,
    Observation, Queries, Side, Verdict, histogram_quantile,
};

const INTERVAL_S: f64 = 10.0;
/// Intervals per replicate: one hour.
const HORIZON: usize = 360;
/// Intervals per reference-judge look (one minute).
const LOOK: usize = 6;
const ALPHA: f64 = 0.01;
const SEED: u64 = 0x5eed_ca9a;

/// One interval's data for both sides.
#[derive(Clone)]
enum Data {
    /// Canary n requests with x errors, baseline m with y; per pod `(requests, errors)`
    /// when the stream models pods (empty otherwise).
    Counts {
        n: f64,
        x: f64,
        m: f64,
        y: f64,
        cpods: Vec<(f64, f64)>,
        bpods: Vec<(f64, f64)>,
    },
    /// Cumulative bucket counts over `les` (last = +Inf), canary and baseline.
    Hist { c: Vec<f64>, b: Vec<f64> },
}

/// A stream generator: a case's traffic and error or latency model.
#[derive(Clone)]
enum Model {
    Counts {
        n: f64,
        m: f64,
        pc: f64,
        pb: f64,
    },
    Latency {
        n: f64,
        m: f64,
        pc: Vec<f64>,
        pb: Vec<f64>,
    },
    /// `pods` pods serving `per_pod` requests an interval each, the canary on `canary_pods`
    /// of them. Each pod's error rate in each interval is `p` (times `ratio` on the canary)
    /// times an independent log-normal factor with mean 1 and coefficient of variation `cv`,
    /// times the shared drift of the replicate (1 without `drift`).
    Pods {
        pods: usize,
        canary_pods: usize,
        per_pod: f64,
        p: f64,
        ratio: f64,
        cv: f64,
        drift: bool,
    },
}

/// A replicate's shared error-rate multiplier per interval: a slow log-sinusoid between
/// 0.3x and 3x with a random phase and period (20 min to 2 h), times bursts (2 % of
/// intervals start one: 3x to 8x for 1 to 3 intervals).
fn drift_path(rng: &mut fastrand::Rng) -> Vec<f64> {
    let phase = rng.f64() * std::f64::consts::TAU;
    let period = 120.0 + rng.f64() * 600.0;
    let (lo, hi) = (0.3_f64.ln(), 3.0_f64.ln());
    let mut burst = (0, 1.0);
    (0..HORIZON)
        .map(|i| {
            let s = (std::f64::consts::TAU * i as f64 / period + phase).sin();
            let level = (lo + (hi - lo) * (s + 1.0) / 2.0).exp();
            if burst.0 == 0 && rng.f64() < 0.02 {
                burst = (1 + rng.usize(0..3), 3.0 + 5.0 * rng.f64());
            }
            let b = if burst.0 > 0 {
                burst.0 -= 1;
                burst.1
            } else {
                1.0
            };
            level * b
        })
        .collect()
}

/// A mean-1 log-normal factor with coefficient of variation `cv`.
fn noise(rng: &mut fastrand::Rng, cv: f64) -> f64 {
    if cv <= 0.0 {
        return 1.0;
    }
    let s2 = (1.0 + cv * cv).ln();
    (s2.sqrt() * normal(rng) - s2 / 2.0).exp()
}

/// Bucket bounds: geometric from 5 ms by 1.25 up to about 40 s, then +Inf.
fn bounds() -> Vec<f64> {
    let mut les: Vec<f64> = (0..41)
        .map(|k| 0.005 * 1.25_f64.powi(k))
        .map(|v| (v * 1e6).round() / 1e6)
        .collect();
    les.push(f64::INFINITY);
    les
}

/// Standard normal CDF (erfc, Numerical Recipes' Chebyshev fit: |error| < 1.2e-7).
fn phi(z: f64) -> f64 {
    let x = -z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * x.abs());
    let y = t
        * (-x * x - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    let erfc = if x >= 0.0 { y } else { 2.0 - y };
    0.5 * erfc
}

/// Inverse standard normal CDF by bisection (only used for planning).
fn phi_inv(p: f64) -> f64 {
    let (mut lo, mut hi) = (-10.0, 10.0);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if phi(mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// Bucket probabilities of a log-normal latency with `median` and log-sd `sigma`.
fn lognormal_buckets(les: &[f64], median: f64, sigma: f64) -> Vec<f64> {
    let mut prev = 0.0;
    les.iter()
        .map(|le| {
            let cdf = if le.is_infinite() {
                1.0
            } else {
                phi((le / median).ln() / sigma)
            };
            let p = (cdf - prev).max(0.0);
            prev = cdf;
            p
        })
        .collect()
}

fn normal(rng: &mut fastrand::Rng) -> f64 {
    let u1 = rng.f64().max(f64::MIN_POSITIVE);
    let u2 = rng.f64();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// Binomial(n, p): exact inversion when the smaller mean is below 100, else a rounded
/// normal approximation (only bulk histogram buckets, far from the tails tested).
fn binomial(rng: &mut fastrand::Rng, n: f64, p: f64) -> f64 {
    if n <= 0.0 || p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return n;
    }
    if p > 0.5 {
        return n - binomial(rng, n, 1.0 - p);
    }
    if n * p >= 100.0 {
        let v = (n * p + (n * p * (1.0 - p)).sqrt() * normal(rng)).round();
        return v.clamp(0.0, n);
    }
    let u = rng.f64();
    let ratio = p / (1.0 - p);
    let mut prob = (n * (1.0 - p).ln()).exp();
    let mut cum = prob;
    let mut k = 0.0;
    while u > cum && k < n {
        prob *= (n - k) / (k + 1.0) * ratio;
        k += 1.0;
        cum += prob;
        if prob < 1e-300 && k > n * p {
            break;
        }
    }
    k
}

/// Cumulative counts of `n` requests drawn over bucket probabilities `probs`.
fn multinomial_cum(rng: &mut fastrand::Rng, n: f64, probs: &[f64]) -> Vec<f64> {
    let mut left = n;
    let mut mass = 1.0;
    let mut acc = 0.0;
    let mut cum = Vec::with_capacity(probs.len());
    for (i, p) in probs.iter().enumerate() {
        let k = if i + 1 == probs.len() || mass <= 0.0 {
            left
        } else {
            binomial(rng, left, (p / mass).min(1.0))
        };
        left -= k;
        mass -= p;
        acc += k;
        cum.push(acc);
    }
    cum
}

impl Model {
    /// What a replicate shares across its intervals (the drift path).
    fn start(&self, rng: &mut fastrand::Rng) -> Vec<f64> {
        match self {
            Model::Pods { drift: true, .. } => drift_path(rng),
            _ => Vec::new(),
        }
    }

    /// Interval `i`'s data; `path` is the replicate's [`Model::start`].
    fn draw(&self, rng: &mut fastrand::Rng, i: usize, path: &[f64]) -> Data {
        match self {
            Model::Counts { n, m, pc, pb } => Data::Counts {
                n: *n,
                x: binomial(rng, *n, *pc),
                m: *m,
                y: binomial(rng, *m, *pb),
                cpods: Vec::new(),
                bpods: Vec::new(),
            },
            Model::Pods {
                pods,
                canary_pods,
                per_pod,
                p,
                ratio,
                cv,
                ..
            } => {
                let shared = path.get(i).copied().unwrap_or(1.0);
                let mut pod = |r: f64| {
                    let q = (p * r * shared * noise(rng, *cv)).min(1.0);
                    (*per_pod, binomial(rng, *per_pod, q))
                };
                let cpods: Vec<(f64, f64)> = (0..*canary_pods).map(|_| pod(*ratio)).collect();
                let bpods: Vec<(f64, f64)> = (*canary_pods..*pods).map(|_| pod(1.0)).collect();
                let sum =
                    |v: &[(f64, f64)]| v.iter().fold((0.0, 0.0), |(a, b), (n, x)| (a + n, b + x));
                let ((n, x), (m, y)) = (sum(&cpods), sum(&bpods));
                Data::Counts {
                    n,
                    x,
                    m,
                    y,
                    cpods,
                    bpods,
                }
            }
            Model::Latency { n, m, pc, pb } => Data::Hist {
                c: multinomial_cum(rng, *n, pc),
                b: multinomial_cum(rng, *m, pb),
            },
        }
    }
}

/// A judge under test: sees each interval, answers whether it rolls back now.
trait Judging {
    fn observe(&mut self, i: usize, d: &Data, les: &[f64]) -> bool;
}

/// shipgate's judge through its public API, timed; `by_pod` feeds it the pods too (the
/// metric has a `pod-label`).
struct Shipgate {
    judge: Judge,
    by_pod: bool,
    spent: Duration,
    calls: u64,
}

fn queries(kind: MetricKind) -> Queries {
    let q = Some("q".to_string());
    match kind {
        MetricKind::Counts => Queries {
            errors: q.clone(),
            requests: q,
            ..Queries::default()
        },
        MetricKind::Latency => Queries {
            buckets: q,
            ..Queries::default()
        },
        MetricKind::Gauge => Queries {
            value: q,
            ..Queries::default()
        },
    }
}

fn shipgate_settings(kind: MetricKind, by_pod: bool) -> JudgeSettings {
    let mut metric = MetricConfig::new("m", kind, queries(kind), Some(queries(kind)));
    if by_pod {
        metric.pod_label = Some("pod".into());
    }
    JudgeSettings {
        alpha: ALPHA,
        metrics: vec![metric],
        ..JudgeSettings::default()
    }
}

impl Shipgate {
    fn new(kind: MetricKind, by_pod: bool) -> anyhow::Result<Self> {
        let judge = match Judge::new(&shipgate_settings(kind, by_pod)) {
            Ok(j) => j,
            Err(problems) => bail!("benchmark settings are invalid: {problems:?}"),
        };
        Ok(Self {
            judge,
            by_pod,
            spent: Duration::ZERO,
            calls: 0,
        })
    }
}

fn side_counts(n: f64, x: f64) -> Side {
    Side::Counts(Counts {
        requests: Num(n),
        errors: Num(x),
    })
}

fn side_hist(les: &[f64], cum: &[f64]) -> Side {
    Side::Histogram(Histogram {
        buckets: les
            .iter()
            .zip(cum)
            .map(|(l, c)| (Num(*l), Num(*c)))
            .collect(),
    })
}

impl Judging for Shipgate {
    fn observe(&mut self, _i: usize, d: &Data, les: &[f64]) -> bool {
        let sample = match d {
            Data::Counts {
                n,
                x,
                m,
                y,
                cpods,
                bpods,
            } => MetricSample {
                canary: Some(side_counts(*n, *x)),
                baseline: Some(side_counts(*m, *y)),
                error: None,
                by_pod: (self.by_pod && !cpods.is_empty()).then(|| {
                    let named = |side: &str, pods: &[(f64, f64)]| {
                        pods.iter()
                            .enumerate()
                            .map(|(i, (n, x))| (format!("{side}-{i}"), side_counts(*n, *x)))
                            .collect()
                    };
                    ByPod {
                        canary: named("canary", cpods),
                        baseline: named("baseline", bpods),
                    }
                }),
            },
            Data::Hist { c, b } => MetricSample {
                canary: Some(side_hist(les, c)),
                baseline: Some(side_hist(les, b)),
                error: None,
                by_pod: None,
            },
        };
        let obs = Observation::from([("m".to_string(), sample)]);
        let start = Instant::now();
        let report = self.judge.observe(&obs);
        self.spent += start.elapsed();
        self.calls += 1;
        report.verdict == Verdict::Fail
    }
}

/// The measured value a threshold or rank test looks at: error rate, or p99 (s).
fn value(d: &Data, les: &[f64], canary: bool) -> f64 {
    match d {
        Data::Counts { n, x, m, y, .. } => {
            if canary {
                x / n.max(1.0)
            } else {
                y / m.max(1.0)
            }
        }
        Data::Hist { c, b } => {
            histogram_quantile(les, if canary { c } else { b }, 0.99).unwrap_or(0.0)
        }
    }
}

/// Canary events above the tested line and trials, and the same for the baseline.
fn tail_counts(d: &Data, les: &[f64], bound: f64) -> [f64; 4] {
    match d {
        Data::Counts { n, x, m, y, .. } => [*x, *n, *y, *m],
        Data::Hist { c, b } => {
            let i = les.iter().position(|l| *l == bound).unwrap_or(0);
            let (ct, bt) = (c[c.len() - 1], b[b.len() - 1]);
            [ct - c[i], ct, bt - b[i], bt]
        }
    }
}

/// shipgate 0.1's comparison with the baseline: the equally weighted six-point mixture,
/// no allowance for extra variation, at the bar 1/alpha (for latency: the p99 bound's test
/// alone at alpha/3, from the second interval, as 0.1 chose its bounds after one interval).
struct Legacy {
    bound: f64,
    latency: bool,
    e: RatioEProcess,
    seen: usize,
}

impl Judging for Legacy {
    fn observe(&mut self, _i: usize, d: &Data, les: &[f64]) -> bool {
        self.seen += 1;
        if self.latency && self.seen == 1 {
            return false;
        }
        let [x, n, y, m] = tail_counts(d, les, self.bound);
        self.e.update(x, n, y, m);
        let alpha = if self.latency { ALPHA / 3.0 } else { ALPHA };
        self.e.log_e() >= (1.0 / alpha).ln()
    }
}

/// One two-proportion z-test (one-sided, pooled) at the planned canary sample size.
struct FixedHorizon {
    planned_n: f64,
    bound: f64,
    acc: [f64; 4],
    done: bool,
}

/// Canary sample size for a one-sided two-proportion test at `alpha` with power `power`,
/// baseline `k` times the canary's size.
fn planned_n(p_base: f64, p_canary: f64, k: f64, alpha: f64, power: f64) -> f64 {
    let (za, zb) = (phi_inv(1.0 - alpha), phi_inv(power));
    let pbar = (p_canary + k * p_base) / (1.0 + k);
    let a = za * (pbar * (1.0 - pbar) * (1.0 + 1.0 / k)).sqrt();
    let b = zb * (p_canary * (1.0 - p_canary) + p_base * (1.0 - p_base) / k).sqrt();
    ((a + b) / (p_canary - p_base)).powi(2).ceil()
}

impl Judging for FixedHorizon {
    fn observe(&mut self, _i: usize, d: &Data, les: &[f64]) -> bool {
        if self.done {
            return false;
        }
        for (a, v) in self.acc.iter_mut().zip(tail_counts(d, les, self.bound)) {
            *a += v;
        }
        let [x, n, y, m] = self.acc;
        if n < self.planned_n {
            return false;
        }
        self.done = true;
        let pooled = (x + y) / (n + m);
        let se = (pooled * (1.0 - pooled) * (1.0 / n + 1.0 / m)).sqrt();
        se > 0.0 && (x / n - y / m) / se > phi_inv(1.0 - ALPHA)
    }
}

/// The yardstick no real judge can beat on average: Wald's sequential probability ratio
/// test told the true regression (rate ratio `rho` on the tested line), failing when its
/// likelihood ratio reaches 1/alpha (anytime-valid like shipgate's, but it knows the answer).
/// Its detection time is the floor for any test at this alpha on this traffic.
struct Oracle {
    rho: f64,
    bound: f64,
    log_lr: f64,
}

impl Judging for Oracle {
    fn observe(&mut self, _i: usize, d: &Data, les: &[f64]) -> bool {
        let [x, n, y, m] = tail_counts(d, les, self.bound);
        if n + m <= 0.0 || x + y <= 0.0 {
            return false;
        }
        let pi = n / (n + m);
        let theta = self.rho * n / (self.rho * n + m);
        self.log_lr += x * (theta / pi).ln() + y * ((1.0 - theta) / (1.0 - pi)).ln();
        self.log_lr >= (1.0 / ALPHA).ln()
    }
}

/// Argo Rollouts' documented pattern: the canary's value measured every minute against a
/// fixed threshold; the analysis fails once failures exceed failureLimit (3).
struct Argo {
    threshold: f64,
    failures: u32,
    minute: Vec<Data>,
}

fn sum_data(ds: &[Data]) -> Data {
    let mut out = ds[0].clone();
    for d in &ds[1..] {
        match (&mut out, d) {
            (
                Data::Counts {
                    n,
                    x,
                    m,
                    y,
                    cpods,
                    bpods,
                },
                Data::Counts {
                    n: n2,
                    x: x2,
                    m: m2,
                    y: y2,
                    cpods: c2,
                    bpods: b2,
                },
            ) => {
                (*n, *x, *m, *y) = (*n + n2, *x + x2, *m + m2, *y + y2);
                for (a, b) in cpods.iter_mut().zip(c2).chain(bpods.iter_mut().zip(b2)) {
                    (a.0, a.1) = (a.0 + b.0, a.1 + b.1);
                }
            }
            (Data::Hist { c, b }, Data::Hist { c: c2, b: b2 }) => {
                c.iter_mut().zip(c2).for_each(|(a, v)| *a += v);
                b.iter_mut().zip(b2).for_each(|(a, v)| *a += v);
            }
            _ => {}
        }
    }
    out
}

impl Judging for Argo {
    fn observe(&mut self, _i: usize, d: &Data, les: &[f64]) -> bool {
        self.minute.push(d.clone());
        if self.minute.len() < LOOK {
            return false;
        }
        let total = sum_data(&self.minute);
        self.minute.clear();
        if value(&total, les, true) > self.threshold {
            self.failures += 1;
        }
        self.failures > 3
    }
}

/// Kayenta's judge: Mann-Whitney at 98 % confidence on the per-interval values so far,
/// canary against baseline, re-run every minute; fails when the canary is higher. `per`
/// intervals make one value: 1 (10-s values, `kayenta`) or 6 (one value a minute, the
/// metric resolution Kayenta analyses often run at, `kayenta-1m`).
struct Kayenta {
    per: usize,
    pending: Vec<Data>,
    canary: Vec<f64>,
    baseline: Vec<f64>,
}

/// Two-sided Mann-Whitney p-value (normal approximation with tie and continuity
/// corrections, as Apache Commons Math, which Kayenta uses) and whether `a` ranks higher.
fn mann_whitney(a: &[f64], b: &[f64]) -> (f64, bool) {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let mut all: Vec<(f64, bool)> = a
        .iter()
        .map(|v| (*v, true))
        .chain(b.iter().map(|v| (*v, false)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let (mut rank_a, mut ties) = (0.0, 0.0);
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j + 1 < all.len() && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        let t = (j - i + 1) as f64;
        let avg = (i + j) as f64 / 2.0 + 1.0;
        rank_a += avg * all[i..=j].iter().filter(|x| x.1).count() as f64;
        ties += t * t * t - t;
        i = j + 1;
    }
    let u1 = rank_a - n1 * (n1 + 1.0) / 2.0;
    let mean = n1 * n2 / 2.0;
    let n = n1 + n2;
    let var = n1 * n2 / 12.0 * ((n + 1.0) - ties / (n * (n - 1.0)));
    if var <= 0.0 {
        return (1.0, false);
    }
    let z = ((u1 - mean).abs() - 0.5).max(0.0) / var.sqrt();
    (2.0 * (1.0 - phi(z)), u1 > mean)
}

impl Judging for Kayenta {
    fn observe(&mut self, i: usize, d: &Data, les: &[f64]) -> bool {
        self.pending.push(d.clone());
        if self.pending.len() == self.per {
            let sum = sum_data(&self.pending);
            self.pending.clear();
            self.canary.push(value(&sum, les, true));
            self.baseline.push(value(&sum, les, false));
        }
        if !(i + 1).is_multiple_of(LOOK) {
            return false;
        }
        let (p, higher) = mann_whitney(&self.canary, &self.baseline);
        higher && p < 0.02
    }
}

/// A case: how the streams are made and what each reference judge is told.
struct Case {
    kind: MetricKind,
    null: Model,
    alt: Option<Model>,
    /// Argo's threshold on the canary's per-minute value.
    argo_threshold: f64,
    /// Fixed-horizon plan: tested line (histogram bound; 0 for counts), base and canary
    /// probabilities under the planned regression, baseline/canary traffic ratio.
    plan: (f64, f64, f64, f64),
}

const JUDGES: [&str; 8] = [
    "shipgate",
    "shipgate-by-pod",
    "shipgate-0.1",
    "fixed-horizon",
    "argo",
    "kayenta",
    "kayenta-1m",
    "oracle-sprt",
];

struct Outcomes {
    /// Per judge: detection interval (1-based) per replicate, None = never within the horizon.
    detections: Vec<Vec<Option<usize>>>,
    spent: Duration,
    calls: u64,
}

fn make_judges(case: &Case) -> anyhow::Result<(Shipgate, Vec<Box<dyn Judging>>)> {
    let (bound, p_base, p_canary, k) = case.plan;
    let refs: Vec<Box<dyn Judging>> = vec![
        Box::new(Shipgate::new(case.kind, true)?),
        Box::new(Legacy {
            bound,
            latency: case.kind == MetricKind::Latency,
            e: RatioEProcess::equal_grid(1.0, true),
            seen: 0,
        }),
        Box::new(FixedHorizon {
            planned_n: planned_n(p_base, p_canary, k, ALPHA, 0.8),
            bound,
            acc: [0.0; 4],
            done: false,
        }),
        Box::new(Argo {
            threshold: case.argo_threshold,
            failures: 0,
            minute: Vec::new(),
        }),
        Box::new(Kayenta {
            per: 1,
            pending: Vec::new(),
            canary: Vec::new(),
            baseline: Vec::new(),
        }),
        Box::new(Kayenta {
            per: LOOK,
            pending: Vec::new(),
            canary: Vec::new(),
            baseline: Vec::new(),
        }),
        Box::new(Oracle {
            rho: p_canary / p_base,
            bound,
            log_lr: 0.0,
        }),
    ];
    Ok((Shipgate::new(case.kind, false)?, refs))
}

/// Runs every judge on the same `replicates` streams of `model` (or the given fixed streams).
fn simulate(
    case: &Case,
    model: &Model,
    replicates: usize,
    seed: u64,
    les: &[f64],
) -> anyhow::Result<Outcomes> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut out = Outcomes {
        detections: vec![Vec::with_capacity(replicates); JUDGES.len()],
        spent: Duration::ZERO,
        calls: 0,
    };
    for _ in 0..replicates {
        let (mut sg, mut refs) = make_judges(case)?;
        let mut found: Vec<Option<usize>> = vec![None; JUDGES.len()];
        let path = model.start(&mut rng);
        for i in 0..HORIZON {
            if found.iter().all(Option::is_some) {
                break;
            }
            let d = model.draw(&mut rng, i, &path);
            if found[0].is_none() && sg.observe(i, &d, les) {
                found[0] = Some(i + 1);
            }
            for (j, r) in refs.iter_mut().enumerate() {
                if found[j + 1].is_none() && r.observe(i, &d, les) {
                    found[j + 1] = Some(i + 1);
                }
            }
        }
        for (j, f) in found.into_iter().enumerate() {
            out.detections[j].push(f);
        }
        out.spent += sg.spent;
        out.calls += sg.calls;
    }
    Ok(out)
}

/// Runs every judge on one fixed stream; the interval each rolled back at.
fn fixed_stream(case: &Case, stream: &[Data], les: &[f64]) -> anyhow::Result<Vec<Option<usize>>> {
    let (mut sg, mut refs) = make_judges(case)?;
    let mut found = vec![None; JUDGES.len()];
    for (i, d) in stream.iter().enumerate() {
        if found[0].is_none() && sg.observe(i, d, les) {
            found[0] = Some(i + 1);
        }
        for (j, r) in refs.iter_mut().enumerate() {
            if found[j + 1].is_none() && r.observe(i, d, les) {
                found[j + 1] = Some(i + 1);
            }
        }
    }
    Ok(found)
}

/// Effect sizes of the sweep (canary error rate over the baseline's).
const EFFECTS: [f64; 5] = [1.25, 1.5, 2.0, 3.0, 5.0];
/// Per-pod, per-interval coefficients of variation of the `pods` cases.
const POD_CVS: [f64; 5] = [0.0, 0.1, 0.2, 0.3, 0.4];

/// A case's no-change and regression runs, on the next two seeds.
fn null_and_alt(
    case: &Case,
    replicates: usize,
    seed: &mut u64,
    les: &[f64],
) -> anyhow::Result<(Outcomes, Outcomes)> {
    let null = simulate(case, &case.null, replicates, *seed, les)?;
    let alt = simulate(
        case,
        case.alt.as_ref().unwrap_or(&case.null),
        replicates,
        *seed + 1,
        les,
    )?;
    *seed += 2;
    Ok((null, alt))
}

/// The `q` quantile of detection times in seconds, counting misses as never (None when
/// more than `1 - q` of the runs missed).
fn quantile_s(detections: &[Option<usize>], q: f64) -> Option<f64> {
    let mut times: Vec<f64> = detections
        .iter()
        .map(|d| d.map_or(f64::INFINITY, |i| i as f64 * INTERVAL_S))
        .collect();
    times.sort_by(f64::total_cmp);
    let idx = ((q * times.len() as f64).ceil() as usize).clamp(1, times.len()) - 1;
    times.get(idx).copied().filter(|t| t.is_finite())
}

fn rate(detections: &[Option<usize>]) -> f64 {
    detections.iter().filter(|d| d.is_some()).count() as f64 / detections.len().max(1) as f64
}

struct Row {
    case: String,
    judge: &'static str,
    false_rollback_rate: f64,
    detect_rate: Option<f64>,
    median_detect_s: Option<f64>,
    p95_detect_s: Option<f64>,
    /// Mean over the runs that detected: finer than the 10-s grid of the quantiles.
    mean_detect_s: Option<f64>,
}

/// Mean detection time in seconds over the runs that detected.
fn mean_s(detections: &[Option<usize>]) -> Option<f64> {
    let hits: Vec<f64> = detections
        .iter()
        .flatten()
        .map(|i| *i as f64 * INTERVAL_S)
        .collect();
    (!hits.is_empty()).then(|| hits.iter().sum::<f64>() / hits.len() as f64)
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let mut json_out = false;
    let mut replicates = 1000;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" => json_out = true,
            "--replicates" => {
                replicates = match it.next().map(|v| v.parse::<usize>()) {
                    Some(Ok(n)) if n > 0 => n,
                    _ => bail!("--replicates needs a positive number"),
                }
            }
            other => {
                return Err(hinted(
                    format!("unknown argument `{other}`"),
                    "cargo xtask bench judge [--json] [--replicates N]",
                ));
            }
        }
    }
    let started = Instant::now();
    let les = bounds();
    // One canary pod of ten, 1,000 requests a pod per 10 s, no extra variation: the same
    // binomial streams as 1,000 canary against 9,000 baseline requests, with pods.
    let counts = |pc: f64| Model::Pods {
        pods: 10,
        canary_pods: 1,
        per_pod: 1000.0,
        p: 0.005,
        ratio: pc / 0.005,
        cv: 0.0,
        drift: false,
    };
    // Latency: log-normal, median 200 ms, log-sd 0.5 (p99 ≈ 0.64 s). The regression widens
    // the log-sd so that p99 is 20 % higher and the median unchanged.
    let sigma = 0.5;
    let z99 = phi_inv(0.99);
    let sigma_tail = sigma + 1.2_f64.ln() / z99;
    let base_probs = lognormal_buckets(&les, 0.2, sigma);
    let tail_probs = lognormal_buckets(&les, 0.2, sigma_tail);
    let base_p99 = 0.2 * (z99 * sigma).exp();
    let p99_bound = les
        .iter()
        .copied()
        .filter(|l| l.is_finite())
        .min_by(|a, b| {
            (a / base_p99)
                .ln()
                .abs()
                .total_cmp(&(b / base_p99).ln().abs())
        })
        .unwrap_or(1.0);
    let above = |s: f64| 1.0 - phi((p99_bound / 0.2).ln() / s);
    let latency = |pc: &[f64]| Model::Latency {
        n: 1000.0,
        m: 9000.0,
        pc: pc.to_vec(),
        pb: base_probs.clone(),
    };

    let error_case = Case {
        kind: MetricKind::Counts,
        null: counts(0.005),
        alt: Some(counts(0.01)),
        argo_threshold: 0.0075,
        plan: (0.0, 0.005, 0.01, 9.0),
    };
    let tail_case = Case {
        kind: MetricKind::Latency,
        null: latency(&base_probs),
        alt: Some(latency(&tail_probs)),
        argo_threshold: base_p99 * 1.1,
        plan: (p99_bound, above(sigma), above(sigma_tail), 9.0),
    };
    let sparse_case = Case {
        kind: MetricKind::Counts,
        null: Model::Counts {
            n: 1000.0,
            m: 1000.0,
            pc: 0.0,
            pb: 0.0,
        },
        alt: None,
        argo_threshold: 0.001,
        plan: (0.0, 0.0005, 0.001, 1.0),
    };

    let mut rows = Vec::new();
    let mut spent = Duration::ZERO;
    let mut calls = 0;
    let mut overhead = Vec::new();
    let push_rows = |case: &str, null: &Outcomes, alt: Option<&Outcomes>, rows: &mut Vec<Row>| {
        for (j, judge) in JUDGES.iter().enumerate() {
            rows.push(Row {
                case: case.to_string(),
                judge,
                false_rollback_rate: rate(&null.detections[j]),
                detect_rate: alt.map(|a| rate(&a.detections[j])),
                median_detect_s: alt.and_then(|a| quantile_s(&a.detections[j], 0.5)),
                p95_detect_s: alt.and_then(|a| quantile_s(&a.detections[j], 0.95)),
                mean_detect_s: alt.and_then(|a| mean_s(&a.detections[j])),
            });
        }
    };

    eprintln!(
        "bench judge: {replicates} replicates per stream, judged every {INTERVAL_S} s for up to 1 h"
    );
    let aa = simulate(&error_case, &error_case.null, replicates, SEED, &les)?;
    push_rows("aa", &aa, None, &mut rows);
    let err = simulate(
        &error_case,
        error_case.alt.as_ref().unwrap_or(&error_case.null),
        replicates,
        SEED + 1,
        &les,
    )?;
    push_rows("error-2x", &aa, Some(&err), &mut rows);
    let tail_null = simulate(&tail_case, &tail_case.null, replicates, SEED + 2, &les)?;
    let tail = simulate(
        &tail_case,
        tail_case.alt.as_ref().unwrap_or(&tail_case.null),
        replicates,
        SEED + 3,
        &les,
    )?;
    push_rows("tail", &tail_null, Some(&tail), &mut rows);
    for (name, o) in [("counts", [&aa, &err]), ("latency", [&tail_null, &tail])] {
        let (s, c) = o
            .iter()
            .fold((Duration::ZERO, 0), |(s, c), x| (s + x.spent, c + x.calls));
        overhead.push((name, s.as_secs_f64() * 1e6 / c.max(1) as f64));
        spent += s;
        calls += c;
    }

    // Sparse: the fixed sequences at equal traffic (1,000 requests a side per 10 s).
    let stream = |errors: &[f64]| -> Vec<Data> {
        errors
            .iter()
            .map(|x| Data::Counts {
                n: 1000.0,
                x: *x,
                m: 1000.0,
                y: 0.0,
                cpods: Vec::new(),
                bpods: Vec::new(),
            })
            .collect()
    };
    let regression = fixed_stream(
        &sparse_case,
        &stream(&[0., 1., 2., 1., 0., 0., 3., 2., 0., 1., 2., 0.]),
        &les,
    )?;
    let chance = fixed_stream(&sparse_case, &stream(&[0., 1., 0., 0., 0., 0.]), &les)?;
    for (j, judge) in JUDGES.iter().enumerate() {
        let t = regression[j].map(|i| i as f64 * INTERVAL_S);
        rows.push(Row {
            case: "sparse".into(),
            judge,
            false_rollback_rate: if chance[j].is_some() { 1.0 } else { 0.0 },
            detect_rate: Some(if t.is_some() { 1.0 } else { 0.0 }),
            median_detect_s: t,
            p95_detect_s: t,
            mean_detect_s: t,
        });
    }
    // Effect sizes: the error case at 1.25x to 5x, each against its own oracle.
    let mut seed = SEED + 10;
    for r in EFFECTS {
        let case = Case {
            kind: MetricKind::Counts,
            null: counts(0.005),
            alt: Some(counts(0.005 * r)),
            argo_threshold: 0.0075,
            plan: (0.0, 0.005, 0.005 * r, 9.0),
        };
        let (null, alt) = null_and_alt(&case, replicates, &mut seed, &les)?;
        push_rows(&format!("effect-{r}x"), &null, Some(&alt), &mut rows);
    }
    // Drift: one canary pod of ten, the shared error rate drifting 0.3x to 3x with bursts.
    let pods = |canary_pods: usize, cv: f64, ratio: f64, drift: bool| Model::Pods {
        pods: 10,
        canary_pods,
        per_pod: 1000.0,
        p: 0.005,
        ratio,
        cv,
        drift,
    };
    let drift_case = Case {
        kind: MetricKind::Counts,
        null: pods(1, 0.0, 1.0, true),
        alt: Some(pods(1, 0.0, 2.0, true)),
        argo_threshold: 0.0075,
        plan: (0.0, 0.005, 0.01, 9.0),
    };
    let (null, alt) = null_and_alt(&drift_case, replicates, &mut seed, &les)?;
    push_rows("drift", &null, Some(&alt), &mut rows);
    // Pods: ten pods, the canary on 1 to 5, every pod's rate wandering per interval.
    for k in 1..=5 {
        for cv in POD_CVS {
            let case = Case {
                kind: MetricKind::Counts,
                null: pods(k, cv, 1.0, false),
                alt: Some(pods(k, cv, 2.0, false)),
                argo_threshold: 0.0075,
                plan: (0.0, 0.005, 0.01, (10 - k) as f64 / k as f64),
            };
            let (null, alt) = null_and_alt(&case, replicates, &mut seed, &les)?;
            let name = format!("pods-{k}of10-cv{:02}", (cv * 100.0).round());
            push_rows(&name, &null, Some(&alt), &mut rows);
        }
    }
    let per_judgement_us = spent.as_secs_f64() * 1e6 / calls.max(1) as f64;

    if json_out {
        let cases: Vec<_> = rows
            .iter()
            .map(|r| {
                json!({
                    "case": r.case,
                    "judge": r.judge,
                    "false_rollback_rate": r.false_rollback_rate,
                    "detect_rate": r.detect_rate,
                    "median_detect_s": r.median_detect_s,
                    "p95_detect_s": r.p95_detect_s,
                    "mean_detect_s": r.mean_detect_s,
                })
            })
            .collect();
        let out = json!({
            "cases": cases,
            "replicates": replicates,
            "interval_s": INTERVAL_S,
            "alpha": ALPHA,
            "judge_overhead_us_per_metric": per_judgement_us,
            "judge_overhead_us_by_kind": overhead.iter().map(|(k, v)| json!({"kind": k, "us": v})).collect::<Vec<_>>(),
            "elapsed_s": started.elapsed().as_secs_f64(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    let fmt_s = |v: Option<f64>| v.map_or("never".to_string(), |s| format!("{s:.0} s"));
    println!(
        "{:<18} {:<16} {:>15} {:>11} {:>14} {:>11} {:>12}",
        "case",
        "judge",
        "false rollback",
        "detect rate",
        "median detect",
        "p95 detect",
        "mean detect"
    );
    for r in &rows {
        let detect = r
            .detect_rate
            .map_or("-".to_string(), |d| format!("{:.1} %", d * 100.0));
        let (med, p95, mean) = if r.detect_rate.is_some() {
            (
                fmt_s(r.median_detect_s),
                fmt_s(r.p95_detect_s),
                r.mean_detect_s
                    .map_or("never".to_string(), |s| format!("{s:.1} s")),
            )
        } else {
            ("-".into(), "-".into(), "-".into())
        };
        println!(
            "{:<18} {:<16} {:>13.1} % {:>11} {:>14} {:>11} {:>12}",
            r.case,
            r.judge,
            r.false_rollback_rate * 100.0,
            detect,
            med,
            p95,
            mean
        );
    }
    println!();
    for (kind, us) in &overhead {
        println!("judge overhead ({kind}): {us:.1} µs per metric per judgement");
    }
    println!(
        "({replicates} replicates per stream; false rollback = rolled back within 1 h of a no-change run, \
         detect = rolled back within 1 h of a regression; {:.1} s)",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planned_sample_size_matches_the_textbook_formula() {
        // 0.5 % -> 1 %, one-sided 1 %, 80 % power, baseline nine times the canary: ~2,860.
        let n = planned_n(0.005, 0.01, 9.0, 0.01, 0.8);
        assert!((2800.0..2920.0).contains(&n), "{n}");
    }

    #[test]
    fn binomial_draws_have_the_right_mean() {
        let mut rng = fastrand::Rng::with_seed(1);
        for (n, p) in [(1000.0, 0.005), (9000.0, 0.005), (9000.0, 0.3), (10.0, 0.9)] {
            let mean = (0..20_000).map(|_| binomial(&mut rng, n, p)).sum::<f64>() / 20_000.0;
            assert!((mean - n * p).abs() < 0.05 * n * p + 0.1, "{n} {p}: {mean}");
        }
    }

    #[test]
    fn mann_whitney_separates_and_ties() {
        let (p, higher) = mann_whitney(
            &[10.0, 11.0, 12.0, 13.0, 14.0, 15.0],
            &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        );
        assert!(p < 0.01 && higher);
        let (p, _) = mann_whitney(&[0.0; 6], &[0.0; 6]);
        assert_eq!(p, 1.0);
    }

    #[test]
    fn normal_cdf_is_accurate() {
        assert!((phi(0.0) - 0.5).abs() < 1e-7);
        assert!((phi(2.326_347_874) - 0.99).abs() < 1e-6);
        assert!((phi_inv(0.975) - 1.959_963_985).abs() < 1e-6);
    }
}
