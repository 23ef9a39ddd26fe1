//! Anytime-valid building blocks: mixture e-processes for counts and signs, and
//! beta-binomial confidence sequences. Plain arithmetic on plain numbers.

/// Multipliers of the null rate that the absolute-threshold e-process mixes over, equally
/// weighted.
pub const RATIO_GRID: [f64; 6] = [1.25, 1.5, 2.0, 3.0, 5.0, 10.0];

/// The weights of the mixing distribution of the comparison with the baseline, one per
/// multiplier `c` of the null ratio in [`PRIOR_GRID`], summing to 1.
///
/// A mixture pays `ln(1/w)` nats of evidence for the weight `w` near the true ratio, out of
/// the `ln(1/alpha)` it needs, and what a nat costs depends on the ratio: a 2x regression
/// gathers about 1.7 nats a 10-s interval on 1,000 canary requests at 0.5 %, so each nat
/// lost is most of an interval, and the detection time is then set by whole intervals; a
/// 1.25x regression gathers about 0.15, so its weight costs minutes but a few points of
/// weight more or less change little; 3x and more gather so fast that a small weight costs
/// them nothing. So most of the weight is on 2x, a regression worth rolling back at once,
/// 15 % on 1.25x, and the rest on 1.5x, 3x, 5x and 50x, the last for errors only the
/// canary makes (a dozen errors all on the canary are explained only by a large ratio).
/// Any mixing distribution fixed in advance keeps the e-process valid.
pub const PRIOR_WEIGHTS: [f64; 6] = [0.15, 0.04, 0.73, 0.03, 0.01, 0.04];

/// The multipliers of the null ratio that [`PRIOR_WEIGHTS`] weigh.
pub const PRIOR_GRID: [f64; 6] = [1.25, 1.5, 2.0, 3.0, 5.0, 50.0];

/// Probabilities of "worse" that the sign e-process mixes over, equally weighted.
pub const SIGN_GRID: [f64; 4] = [0.6, 0.7, 0.8, 0.9];

/// Natural log of a weighted sum of exponentials: ln(Σ w_k exp(l_k)), weights summing to 1.
fn log_weighted_sum_exp(logs: &[f64], weights: &[f64]) -> f64 {
    let max = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    let sum: f64 = logs
        .iter()
        .zip(weights)
        .map(|(l, w)| w * (l - max).exp())
        .sum();
    let total: f64 = weights.iter().sum();
    max + (sum / total).ln()
}

/// Natural log of a sum of equally weighted exponentials: ln((1/K) Σ exp(l_k)).
fn log_mean_exp(logs: impl Iterator<Item = f64> + Clone) -> f64 {
    let k = logs.clone().count();
    if k == 0 {
        return 0.0;
    }
    let max = logs.clone().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return max;
    }
    let sum: f64 = logs.map(|l| (l - max).exp()).sum();
    max + (sum / k as f64).ln()
}

/// `x ln(a) ` that is 0 when `x` is 0 (so `0 · ln 0` never makes a NaN).
fn xlog(x: f64, a: f64) -> f64 {
    if x == 0.0 { 0.0 } else { x * a.ln() }
}

/// E-process for "the canary's event rate is at most `rho0` times the baseline's" (or at
/// least, for `lower`), from per-interval counts, conditioning on each interval's total
/// events: `x | x + y ~ Binomial(x + y, ρ n / (ρ n + m))`.
#[derive(Debug, Clone)]
pub struct RatioEProcess {
    rho0: f64,
    alternatives: Vec<f64>,
    weights: Vec<f64>,
    log_lr: Vec<f64>,
}

impl RatioEProcess {
    /// `rho0` is the null's ratio bound (1 + tolerance for `higher`, 1 − tolerance for
    /// `lower`); `higher` says a larger canary rate is the regression.
    pub fn new(rho0: f64, higher: bool) -> Self {
        Self::mixing(rho0, higher, &PRIOR_GRID, &PRIOR_WEIGHTS)
    }

    /// The mixture of shipgate 0.1: [`RATIO_GRID`], equally weighted (for comparisons).
    pub fn equal_grid(rho0: f64, higher: bool) -> Self {
        let equal = [1.0 / RATIO_GRID.len() as f64; RATIO_GRID.len()];
        Self::mixing(rho0, higher, &RATIO_GRID, &equal)
    }

    fn mixing(rho0: f64, higher: bool, multipliers: &[f64], weights: &[f64]) -> Self {
        let alternatives: Vec<f64> = multipliers
            .iter()
            .map(|c| if higher { rho0 * c } else { rho0 / c })
            .collect();
        let log_lr = vec![0.0; alternatives.len()];
        Self {
            rho0,
            alternatives,
            weights: weights.to_vec(),
            log_lr,
        }
    }

    /// Adds one interval: canary `x` events in `n` trials, baseline `y` events in `m`.
    /// An interval without trials on either side or without events carries no information
    /// and leaves the process unchanged.
    pub fn update(&mut self, x: f64, n: f64, y: f64, m: f64) {
        self.update_tempered(x, n, y, m, 1.0);
    }

    /// [`RatioEProcess::update`] with each likelihood ratio raised to the power `w` in
    /// (0, 1] (a tempered, or quasi-, likelihood ratio; see [`temper`]). `w` may depend on
    /// the past and on the interval's totals, never on how its events split.
    pub fn update_tempered(&mut self, x: f64, n: f64, y: f64, m: f64, w: f64) {
        let total = x + y;
        if n <= 0.0 || m <= 0.0 || total <= 0.0 || w.is_nan() || w <= 0.0 {
            return;
        }
        let w = w.min(1.0);
        let pi0 = self.rho0 * n / (self.rho0 * n + m);
        for (rho, log_lr) in self.alternatives.iter().zip(self.log_lr.iter_mut()) {
            let theta = rho * n / (rho * n + m);
            *log_lr += w * (xlog(x, theta / pi0) + xlog(total - x, (1.0 - theta) / (1.0 - pi0)));
        }
    }

    /// The null's share of events that are the canary's, for traffic `n` against `m`.
    pub fn null_share(&self, n: f64, m: f64) -> f64 {
        self.rho0 * n / (self.rho0 * n + m)
    }

    /// ln of the current e-value.
    pub fn log_e(&self) -> f64 {
        log_weighted_sum_exp(&self.log_lr, &self.weights)
    }
}

/// The tempering exponent for an interval with `total` events when the canary's share of
/// them varies from interval to interval with intra-class correlation `varsigma` (variance
/// of the share `varsigma · π(1 − π)`): `1 / (1 + (total − 1) varsigma)`, the inverse of the
/// beta-binomial variance inflation. With `varsigma = 0` it is 1 (the plain likelihood ratio).
pub fn temper(total: f64, varsigma: f64) -> f64 {
    if varsigma.is_nan() || varsigma <= 0.0 || total <= 1.0 {
        return 1.0;
    }
    1.0 / (1.0 + (total - 1.0) * varsigma)
}

/// Pseudo-observations that shrink the dispersion estimates towards no extra variation
/// while they rest on little data: the interval estimate counts as if it had seen this many
/// extra intervals without extra variation, the pod estimate this many pod degrees of
/// freedom.
const PRIOR_INTERVALS: f64 = 6.0;
const PRIOR_POD_DF: f64 = 2.0;

/// What the pods' estimate is shrunk towards while it rests on little data: a pod's error
/// rate varies from interval to interval with a coefficient of variation of 25 %
/// (`cv² = 0.0625`). With a `pod-label` the first interval is weighed with it: one interval
/// with a canary pod's rate tripled by chance is otherwise indistinguishable from a 3x
/// regression. Without one there is no such default (see [`Dispersion::varsigma`]).
const DEFAULT_CV2: f64 = 0.0625;

/// The estimate of `varsigma` is used times this margin: the tempering argument is
/// second order, the estimate noisy, and under-tempering costs validity while
/// over-tempering only costs a little time.
const MARGIN: f64 = 1.5;

/// A predictable estimate of the extra-binomial variation of the canary's share of events,
/// for [`temper`]: from every earlier interval, never the one it is used on.
///
/// - From pods: within each interval, pods of the same side (canary or baseline) share an
///   error rate under any hypothesis; Pearson's statistic across them, beyond its degrees
///   of freedom, estimates the squared coefficient of variation `cv2` of a pod's rate
///   (method of moments, as DerSimonian & Laird). The canary's share then varies with
///   `varsigma = π(1 − π) · cv2 · (1/k_c + 1/k_b)`, `k` the pods' effective number
///   (traffic-weighted) on each side.
/// - From intervals alone: the canary's share of each interval's events against the
///   share the earlier intervals' pooled ratio predicts: Pearson's residual beyond 1 per
///   extra event estimates `varsigma` itself (Williams 1982). Used only once Pearson's
///   statistic over those intervals passes its 99th percentile, and shrunk towards 0 while there
///   are few intervals (`PRIOR_INTERVALS`).
#[derive(Debug, Clone, Default)]
pub struct Dispersion {
    pod_excess: f64,
    pod_scale: f64,
    pod_df: f64,
    interval_excess: f64,
    interval_scale: f64,
    intervals: f64,
    /// Pearson's statistic over the intervals, each residual scaled by its expectation.
    pearson: f64,
    /// Canary events, trials; baseline events, trials, of the intervals seen.
    acc: [f64; 4],
}

/// Pearson's statistic across pods of one side, beyond its degrees of freedom, and what
/// `cv2` multiplies in its expectation: `(excess, scale, df)`; None without events or with
/// fewer than two pods with traffic.
fn pod_moments(pods: &[(f64, f64)]) -> Option<(f64, f64, f64)> {
    let pods: Vec<(f64, f64)> = pods.iter().copied().filter(|(n, _)| *n > 0.0).collect();
    if pods.len() < 2 {
        return None;
    }
    let n: f64 = pods.iter().map(|p| p.0).sum();
    let x: f64 = pods.iter().map(|p| p.1).sum();
    let p = x / n;
    if p <= 0.0 || p >= 1.0 {
        return None;
    }
    let pearson: f64 = pods
        .iter()
        .map(|(nj, xj)| (xj - nj * p).powi(2) / (nj * p * (1.0 - p)))
        .sum();
    let df = (pods.len() - 1) as f64;
    let sum_sq: f64 = pods.iter().map(|p| p.0 * p.0).sum();
    let scale = p * (n - sum_sq / n) / (1.0 - p);
    (scale > 0.0).then_some((pearson - df, scale, df))
}

/// The 99th percentile of the chi-square distribution with `df` degrees of freedom
/// (Wilson-Hilferty: within 1 % from 3 degrees of freedom, conservative below).
fn chi_square_quantile_99(df: f64) -> f64 {
    const Z99: f64 = 2.326_347_874;
    let a = 2.0 / (9.0 * df);
    (df * (1.0 - a + Z99 * a.sqrt()).powi(3)).max(6.634_896_601 * df.min(1.0))
}

/// The traffic-weighted effective number of pods: `(Σ n)² / Σ n²`.
pub fn effective_pods(pods: &[(f64, f64)]) -> Option<f64> {
    let n: f64 = pods.iter().map(|p| p.0).sum();
    let sum_sq: f64 = pods.iter().map(|p| p.0 * p.0).sum();
    (n > 0.0 && sum_sq > 0.0).then(|| n * n / sum_sq)
}

impl Dispersion {
    /// Whether pods have been seen (the pod estimate is in use).
    pub fn by_pod(&self) -> bool {
        self.pod_df > 0.0
    }

    /// The squared coefficient of variation of a pod's rate from interval to interval
    /// (pods seen), shrunk towards 0 while the estimate rests on little data.
    pub fn pod_cv2(&self) -> f64 {
        if self.pod_df <= 0.0 {
            return DEFAULT_CV2;
        }
        // Shrunk towards the default with PRIOR_POD_DF pseudo degrees of freedom.
        let per_df = self.pod_scale / self.pod_df;
        let prior = PRIOR_POD_DF * per_df;
        ((self.pod_excess + prior * DEFAULT_CV2) / (self.pod_scale + prior)).max(0.0)
    }

    /// `varsigma` for an interval with null share `pi` and `k_c`, `k_b` effective pods
    /// (None: unknown, taken as one).
    pub fn varsigma(&self, pi: f64, k_c: Option<f64>, k_b: Option<f64>) -> f64 {
        if self.by_pod() || k_c.is_some() {
            let (kc, kb) = (k_c.unwrap_or(1.0).max(1.0), k_b.unwrap_or(1.0).max(1.0));
            return MARGIN * pi * (1.0 - pi) * self.pod_cv2() * (1.0 / kc + 1.0 / kb);
        }
        // From intervals alone, only once the residuals show extra variation: Pearson's
        // statistic over the intervals so far beyond its 99th percentile. Clean traffic
        // then keeps its full weight (a regression must not be slowed by an estimate's
        // noise), and overdispersed traffic is tempered once it shows.
        if self.intervals < 1.0 || self.pearson <= chi_square_quantile_99(self.intervals) {
            return 0.0;
        }
        let mean_scale = self.interval_scale / self.intervals.max(1.0);
        MARGIN
            * (self.interval_excess / (self.interval_scale + PRIOR_INTERVALS * mean_scale)).max(0.0)
    }

    /// Learns from one interval after it was used: its totals (canary `x` of `n`, baseline
    /// `y` of `m`) and, when known, each side's pods as `(trials, events)`.
    pub fn learn(
        &mut self,
        [x, n, y, m]: [f64; 4],
        canary_pods: Option<&[(f64, f64)]>,
        baseline_pods: Option<&[(f64, f64)]>,
    ) {
        for pods in [canary_pods, baseline_pods].into_iter().flatten() {
            if let Some((excess, scale, df)) = pod_moments(pods) {
                self.pod_excess += excess;
                self.pod_scale += scale;
                self.pod_df += df;
            }
        }
        let total = x + y;
        let [ax, an, ay, am] = self.acc;
        if n > 0.0 && m > 0.0 && total > 1.0 && an > 0.0 && am > 0.0 && ax + ay > 0.0 {
            // The earlier intervals' ratio (half an event added to each side so that it is
            // finite), and the share it predicts for this interval.
            let rho = ((ax + 0.5) / an) / ((ay + 0.5) / am);
            let theta = rho * n / (rho * n + m);
            let r = (x - total * theta).powi(2) / (total * theta * (1.0 - theta));
            // What the prediction's own error adds to Pearson's residual (delta method on
            // the log ratio), so that a clean canary's estimate is centred on 0.
            let predicted = total * theta * (1.0 - theta) * (1.0 / (ax + 0.5) + 1.0 / (ay + 0.5));
            self.interval_excess += r - 1.0 - predicted;
            self.pearson += r / (1.0 + predicted);
            self.interval_scale += total - 1.0;
            self.intervals += 1.0;
        }
        for (a, v) in self.acc.iter_mut().zip([x, n, y, m]) {
            *a += v;
        }
    }
}

/// E-process for "the canary's event probability is at most `p0`" (or at least, for
/// `lower`): `x ~ Binomial(n, p)` per interval.
#[derive(Debug, Clone)]
pub struct RateEProcess {
    p0: f64,
    alternatives: Vec<f64>,
    log_lr: Vec<f64>,
}

impl RateEProcess {
    /// `p0` must lie in (0, 1).
    pub fn new(p0: f64, higher: bool) -> Self {
        let mut alternatives: Vec<f64> = RATIO_GRID
            .iter()
            .map(|c| if higher { p0 * c } else { p0 / c })
            .filter(|p| *p > 0.0 && *p < 1.0)
            .collect();
        if alternatives.is_empty() {
            alternatives.push(if higher { (1.0 + p0) / 2.0 } else { p0 / 2.0 });
        }
        let log_lr = vec![0.0; alternatives.len()];
        Self {
            p0,
            alternatives,
            log_lr,
        }
    }

    /// Adds one interval: `x` events in `n` trials.
    pub fn update(&mut self, x: f64, n: f64) {
        if n <= 0.0 {
            return;
        }
        for (p, log_lr) in self.alternatives.iter().zip(self.log_lr.iter_mut()) {
            *log_lr += xlog(x, p / self.p0) + xlog(n - x, (1.0 - p) / (1.0 - self.p0));
        }
    }

    /// ln of the current e-value.
    pub fn log_e(&self) -> f64 {
        log_mean_exp(self.log_lr.iter().copied())
    }
}

/// E-process for "each interval is worse with probability at most 1/2" (a sign test).
#[derive(Debug, Clone)]
pub struct SignEProcess {
    log_lr: [f64; SIGN_GRID.len()],
}

impl Default for SignEProcess {
    fn default() -> Self {
        Self {
            log_lr: [0.0; SIGN_GRID.len()],
        }
    }
}

impl SignEProcess {
    /// Adds one interval's outcome.
    pub fn update(&mut self, worse: bool) {
        for (q, log_lr) in SIGN_GRID.iter().zip(self.log_lr.iter_mut()) {
            *log_lr += if worse {
                (q / 0.5).ln()
            } else {
                ((1.0 - q) / 0.5).ln()
            };
        }
    }

    /// ln of the current e-value.
    pub fn log_e(&self) -> f64 {
        log_mean_exp(self.log_lr.iter().copied())
    }
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; relative error below 1e-13).
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEF: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 − x) = π / sin(π x).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).abs().ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = COEF[0];
    let t = x + G + 0.5;
    for (i, c) in COEF.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

fn ln_beta(a: f64, b: f64) -> f64 {
    ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b)
}

/// A time-uniform confidence sequence for a binomial probability after `x` successes in
/// `n` trials: the set of `p` whose Beta(½, ½)-mixture martingale stays below `1/alpha`
/// (Robbins 1970; Howard et al. 2021). Returns `(lower, upper)`.
pub fn binomial_cs(x: f64, n: f64, alpha: f64) -> (f64, f64) {
    if n <= 0.0 {
        return (0.0, 1.0);
    }
    let x = x.clamp(0.0, n);
    let (a, b) = (0.5, 0.5);
    let bar = (1.0 / alpha).ln();
    let mixture = ln_beta(a + x, b + n - x) - ln_beta(a, b);
    // ln M(p) = mixture − ln L(p); convex in p with its minimum at the MLE.
    let log_m = |p: f64| mixture - xlog(x, p) - xlog(n - x, 1.0 - p);
    let mle = x / n;
    let bisect = |mut inside: f64, mut outside: f64| {
        for _ in 0..60 {
            let mid = 0.5 * (inside + outside);
            if log_m(mid) < bar {
                inside = mid;
            } else {
                outside = mid;
            }
        }
        inside
    };
    let lower = if x == 0.0 || log_m(0.0) < bar {
        0.0
    } else {
        bisect(mle, 0.0)
    };
    let upper = if x == n || log_m(1.0) < bar {
        1.0
    } else {
        bisect(mle, 1.0)
    };
    (lower, upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Binomial(n, p) by inversion (small means only).
    fn binomial(rng: &mut fastrand::Rng, n: f64, p: f64) -> f64 {
        let u = rng.f64();
        let mut prob = (n * (1.0 - p).ln()).exp();
        let (mut cum, mut k) = (prob, 0.0);
        while u > cum && k < n {
            prob *= (n - k) / (k + 1.0) * p / (1.0 - p);
            k += 1.0;
            cum += prob;
        }
        k
    }

    /// Anytime validity, checked by simulation: with equal error rates, the share of
    /// one-hour runs (360 looks) whose e-process ever reaches 1/alpha stays below alpha; a
    /// fixed seed keeps the check deterministic.
    #[test]
    fn no_change_runs_rarely_reach_the_bar_however_often_they_look() {
        let mut rng = fastrand::Rng::with_seed(7);
        let bar = (1.0_f64 / 0.01).ln();
        let runs = 1000;
        let mut rejected = 0;
        let mut rejected_lower = 0;
        for _ in 0..runs {
            let mut e = RatioEProcess::new(1.0, true);
            let mut lower = RatioEProcess::new(1.0, false);
            let (mut hit, mut hit_lower) = (false, false);
            for _ in 0..360 {
                let (x, y) = (
                    binomial(&mut rng, 1000.0, 0.005),
                    binomial(&mut rng, 9000.0, 0.005),
                );
                e.update(x, 1000.0, y, 9000.0);
                lower.update(x, 1000.0, y, 9000.0);
                hit |= e.log_e() >= bar;
                hit_lower |= lower.log_e() >= bar;
            }
            rejected += usize::from(hit);
            rejected_lower += usize::from(hit_lower);
        }
        assert!(
            rejected <= runs / 100,
            "{rejected} of {runs} no-change runs rejected"
        );
        assert!(
            rejected_lower <= runs / 100,
            "{rejected_lower} of {runs} no-change runs rejected (lower)"
        );
        // The same looks at a regression: power.
        let mut detected = 0;
        for _ in 0..100 {
            let mut e = RatioEProcess::new(1.0, true);
            for _ in 0..30 {
                e.update(
                    binomial(&mut rng, 1000.0, 0.01),
                    1000.0,
                    binomial(&mut rng, 9000.0, 0.005),
                    9000.0,
                );
            }
            detected += usize::from(e.log_e() >= bar);
        }
        assert!(
            detected >= 95,
            "{detected} of 100 regressions detected in 5 minutes"
        );
    }

    /// Ten pods of 1,000 requests at 0.5 %, the canary on one, each pod's rate times a
    /// mean-1 factor with coefficient of variation `cv` per interval; the estimate after
    /// `intervals` intervals, with and without the pods.
    fn estimate(cv: f64, intervals: usize, seed: u64) -> (f64, f64) {
        let mut rng = fastrand::Rng::with_seed(seed);
        let (mut by_pod, mut alone) = (Dispersion::default(), Dispersion::default());
        for _ in 0..intervals {
            let mut pod = |_| {
                let f = 1.0 + cv * (2.0 * rng.f64() - 1.0) * 3.0_f64.sqrt();
                (1000.0, binomial(&mut rng, 1000.0, 0.005 * f))
            };
            let canary: Vec<(f64, f64)> = (0..1).map(&mut pod).collect();
            let baseline: Vec<(f64, f64)> = (1..10).map(&mut pod).collect();
            let x = canary[0].1;
            let y: f64 = baseline.iter().map(|p| p.1).sum();
            by_pod.learn([x, 1000.0, y, 9000.0], Some(&canary), Some(&baseline));
            alone.learn([x, 1000.0, y, 9000.0], None, None);
        }
        let k = (Some(1.0), effective_pods(&[(1000.0, 0.0); 9]));
        (
            by_pod.varsigma(0.1, k.0, k.1),
            alone.varsigma(0.1, None, None),
        )
    }

    #[test]
    fn dispersion_is_learnt_from_pods_and_from_intervals() {
        // The truth: varsigma = π(1 − π) cv² (1/1 + 1/9) for the canary's share.
        let truth = |cv: f64| 0.09 * cv * cv * (1.0 + 1.0 / 9.0);
        let (pods, alone) = estimate(0.4, 200, 7);
        for (what, v) in [("pods", pods), ("intervals", alone)] {
            assert!(
                v > 0.7 * truth(0.4) && v < 2.5 * truth(0.4),
                "{what}: {v} against {}",
                truth(0.4)
            );
        }
        // Clean traffic: next to nothing, so a clean canary keeps (almost) its full weight.
        let (pods, alone) = estimate(0.0, 200, 8);
        for (what, v) in [("pods", pods), ("intervals", alone)] {
            assert!(temper(55.0, v) > 0.85, "{what}: {v}");
        }
        // Clean traffic from intervals alone: the pre-test keeps the full weight.
        assert_eq!(alone, 0.0);
        // Before any data: from intervals alone, no tempering (nothing shows yet); with
        // pods, the pods' default is assumed: some tempering, never none.
        assert_eq!(Dispersion::default().varsigma(0.1, None, None), 0.0);
        let first = Dispersion::default().varsigma(0.1, Some(1.0), Some(9.0));
        assert!(first > 0.0 && temper(55.0, first) > 0.5, "{first}");
    }

    #[test]
    fn tempering_shrinks_evidence_but_never_grows_it() {
        let mut plain = RatioEProcess::new(1.0, true);
        let mut tempered = RatioEProcess::new(1.0, true);
        for _ in 0..5 {
            plain.update(10.0, 1000.0, 45.0, 9000.0);
            tempered.update_tempered(10.0, 1000.0, 45.0, 9000.0, temper(55.0, 0.01));
        }
        assert!(tempered.log_e() > 0.0 && tempered.log_e() < plain.log_e());
        assert_eq!(temper(55.0, 0.0), 1.0);
        assert_eq!(temper(1.0, 0.5), 1.0);
        assert!((temper(11.0, 0.1) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn ln_gamma_matches_factorials() {
        for (x, f) in [(1.0, 1.0_f64), (2.0, 1.0), (5.0, 24.0), (11.0, 3_628_800.0)] {
            assert!((ln_gamma(x) - f.ln()).abs() < 1e-10, "{x}");
        }
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-10);
    }

    #[test]
    fn sparse_split_of_twelve_errors_is_a_regression() {
        // 12 canary errors, none on the baseline, equal traffic: all 12 land on the canary.
        let mut e = RatioEProcess::new(1.0, true);
        for x in [0.0, 1.0, 2.0, 1.0, 0.0, 0.0, 3.0, 2.0, 0.0, 1.0, 2.0, 0.0] {
            e.update(x, 1000.0, 0.0, 1000.0);
        }
        let value = e.log_e().exp();
        // Σ w (2ρ/(ρ+1))^12 over the mixing distribution.
        let expected: f64 = PRIOR_GRID
            .iter()
            .zip(&PRIOR_WEIGHTS)
            .map(|(r, w)| w * (2.0 * r / (r + 1.0)).powi(12))
            .sum::<f64>();
        assert!(
            (value - expected).abs() / expected < 1e-9,
            "{value} vs {expected}"
        );
        assert!(value > 100.0);
    }

    #[test]
    fn one_error_is_not_enough() {
        let mut e = RatioEProcess::new(1.0, true);
        for x in [0.0, 1.0, 0.0, 0.0, 0.0, 0.0] {
            e.update(x, 1000.0, 0.0, 1000.0);
        }
        assert!(e.log_e().exp() < 2.0);
    }

    #[test]
    fn evidence_against_the_null_grows_for_a_real_ratio_and_shrinks_for_none() {
        let mut bad = RatioEProcess::new(1.0, true);
        let mut good = RatioEProcess::new(1.0, true);
        for _ in 0..20 {
            bad.update(10.0, 1000.0, 45.0, 9000.0); // 1 % against 0.5 %
            good.update(5.0, 1000.0, 45.0, 9000.0); // equal rates
        }
        assert!(bad.log_e() > (100.0f64).ln());
        assert!(good.log_e() < 0.0);
    }

    #[test]
    fn lower_direction_tests_drops() {
        let mut e = RatioEProcess::new(1.0, false);
        for _ in 0..20 {
            e.update(2.0, 1000.0, 45.0, 9000.0);
        }
        assert!(e.log_e() > (100.0f64).ln());
    }

    #[test]
    fn empty_intervals_change_nothing() {
        let mut e = RatioEProcess::new(1.0, true);
        e.update(0.0, 0.0, 5.0, 100.0);
        e.update(0.0, 100.0, 0.0, 100.0);
        assert_eq!(e.log_e(), 0.0);
        let mut r = RateEProcess::new(0.001, true);
        r.update(0.0, 0.0);
        assert_eq!(r.log_e(), 0.0);
    }

    #[test]
    fn rate_e_process_detects_a_breached_slo() {
        let mut r = RateEProcess::new(0.001, true);
        for _ in 0..10 {
            r.update(5.0, 1000.0); // 0.5 % against an SLO of 0.1 %
        }
        assert!(r.log_e() > (100.0f64).ln());
        let mut ok = RateEProcess::new(0.001, true);
        for _ in 0..100 {
            ok.update(0.0, 1000.0);
        }
        assert!(ok.log_e() < 0.0);
    }

    #[test]
    fn rate_grid_stays_inside_the_unit_interval() {
        let mut r = RateEProcess::new(0.6, true);
        r.update(10.0, 10.0);
        assert!(r.log_e().is_finite());
    }

    #[test]
    fn sign_process_needs_a_run_of_worse_intervals() {
        let mut s = SignEProcess::default();
        for _ in 0..6 {
            s.update(true);
        }
        assert!(s.log_e() < (100.0f64).ln());
        for _ in 0..6 {
            s.update(true);
        }
        assert!(s.log_e() > (100.0f64).ln());
    }

    #[test]
    fn confidence_sequence_contains_the_estimate_and_narrows() {
        let (l1, u1) = binomial_cs(10.0, 100.0, 0.01);
        let (l2, u2) = binomial_cs(1000.0, 10_000.0, 0.01);
        assert!(l1 < 0.1 && 0.1 < u1);
        assert!(l2 < 0.1 && 0.1 < u2);
        assert!(u2 - l2 < u1 - l1);
        assert_eq!(binomial_cs(0.0, 100.0, 0.01).0, 0.0);
        assert_eq!(binomial_cs(0.0, 0.0, 0.01), (0.0, 1.0));
        assert_eq!(binomial_cs(5.0, 5.0, 0.01).1, 1.0);
    }
}
