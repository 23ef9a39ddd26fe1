//! Anytime-valid building blocks: mixture e-processes for counts and signs, and
//! beta-binomial confidence sequences. Plain arithmetic on plain numbers.

/// Multipliers of the null ratio that the count e-processes mix over, equally weighted.
pub const RATIO_GRID: [f64; 6] = [1.25, 1.5, 2.0, 3.0, 5.0, 10.0];

/// Probabilities of "worse" that the sign e-process mixes over, equally weighted.
pub const SIGN_GRID: [f64; 4] = [0.6, 0.7, 0.8, 0.9];

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
    log_lr: Vec<f64>,
}

impl RatioEProcess {
    /// `rho0` is the null's ratio bound (1 + tolerance for `higher`, 1 − tolerance for
    /// `lower`); `higher` says a larger canary rate is the regression.
    pub fn new(rho0: f64, higher: bool) -> Self {
        let alternatives: Vec<f64> = RATIO_GRID
            .iter()
            .map(|c| if higher { rho0 * c } else { rho0 / c })
            .collect();
        let log_lr = vec![0.0; alternatives.len()];
        Self {
            rho0,
            alternatives,
            log_lr,
        }
    }

    /// Adds one interval: canary `x` events in `n` trials, baseline `y` events in `m`.
    /// An interval without trials on either side or without events carries no information
    /// and leaves the process unchanged.
    pub fn update(&mut self, x: f64, n: f64, y: f64, m: f64) {
        let total = x + y;
        if n <= 0.0 || m <= 0.0 || total <= 0.0 {
            return;
        }
        let pi0 = self.rho0 * n / (self.rho0 * n + m);
        for (rho, log_lr) in self.alternatives.iter().zip(self.log_lr.iter_mut()) {
            let theta = rho * n / (rho * n + m);
            *log_lr += xlog(x, theta / pi0) + xlog(total - x, (1.0 - theta) / (1.0 - pi0));
        }
    }

    /// ln of the current e-value.
    pub fn log_e(&self) -> f64 {
        log_mean_exp(self.log_lr.iter().copied())
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
        // (1/6) Σ (2ρ/(ρ+1))^12 over the grid.
        let expected: f64 = RATIO_GRID
            .iter()
            .map(|r| (2.0 * r / (r + 1.0)).powi(12))
            .sum::<f64>()
            / 6.0;
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
