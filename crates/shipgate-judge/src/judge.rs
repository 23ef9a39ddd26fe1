//! The judge: folds one interval of measurements at a time into per-metric e-processes and
//! answers pass, fail or continue, per metric and overall, with the evidence. Pure: it
//! knows nothing about providers, clocks or traffic; the runner (or a replay) feeds it.

use serde::Serialize;

use crate::sample::{CheckedHistogram, MetricSample, Observation, PodSplit};
use crate::settings::{ConfigProblem, Direction, JudgeSettings, MetricConfig, MetricKind};
use crate::stats::{
    Dispersion, RateEProcess, RatioEProcess, SignEProcess, binomial_cs, effective_pods, temper,
};

/// A decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Enough evidence and no regression: the step may complete.
    Pass,
    /// A regression (or the fail-safe): roll back.
    Fail,
    /// Not enough evidence yet, or the latest data is inconclusive: keep waiting.
    Continue,
}

impl Verdict {
    /// `pass`, `fail`, `continue`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Continue => "continue",
        }
    }
}

/// An effect estimate with its anytime-valid confidence interval.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Effect {
    /// What is estimated, e.g. `error-rate ratio canary/baseline`.
    pub measure: String,
    /// The point estimate (None: unbounded, e.g. errors on the canary only).
    pub estimate: Option<f64>,
    /// Lower end of the interval.
    pub lower: Option<f64>,
    /// Upper end of the interval (None: unbounded).
    pub upper: Option<f64>,
    /// The interval's coverage, uniformly over time.
    pub confidence: f64,
}

/// One sequential test inside a metric.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TestReport {
    /// What is tested, e.g. `ratio vs baseline <= 1.1`.
    pub name: String,
    /// The current e-value (evidence against "no regression").
    pub e_value: f64,
    /// The bar, 1/alpha.
    pub bar: f64,
    /// This test's share of the false-rollback bound.
    pub alpha: f64,
    /// The e-value has reached the bar.
    pub rejected: bool,
    /// Whether the test has started (latency comparisons start once their bucket
    /// boundaries are chosen).
    pub active: bool,
}

/// One metric's verdict and evidence.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct MetricReport {
    /// The metric's name.
    pub name: String,
    /// Its kind.
    pub kind: MetricKind,
    /// Whether its failure rolls the canary back.
    pub critical: bool,
    /// Its verdict.
    pub verdict: Verdict,
    /// The rule that decided, in words.
    pub rule: String,
    /// The canary's value so far: error rate, latency at `quantile` (s), or last gauge value.
    pub canary: Option<f64>,
    /// The baseline's value, the same way.
    pub baseline: Option<f64>,
    /// The absolute threshold, if any.
    pub threshold: Option<f64>,
    /// The relative tolerance against the baseline.
    pub tolerance: f64,
    /// The effect of the deciding (or strongest) test.
    pub effect: Option<Effect>,
    /// Requests the canary served in intervals with data.
    pub canary_requests: f64,
    /// Requests the baseline served in intervals with data.
    pub baseline_requests: f64,
    /// Intervals with usable data.
    pub intervals: u64,
    /// Intervals without usable data.
    pub inconclusive_intervals: u64,
    /// The sequential tests.
    pub tests: Vec<TestReport>,
}

/// The overall verdict after one interval.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// Intervals judged so far.
    pub intervals: u64,
    /// The overall verdict.
    pub verdict: Verdict,
    /// The rule that decided, in words.
    pub rule: String,
    /// Per metric.
    pub metrics: Vec<MetricReport>,
}

#[derive(Debug, Clone)]
enum Process {
    Ratio(RatioEProcess),
    Rate(RateEProcess),
    Sign(SignEProcess),
}

/// What a test compares, so the runner-independent code can feed it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Target {
    /// Counts: canary errors over requests, absolute or against the baseline.
    Errors,
    /// Latency: requests above bucket bound `le`.
    Above(f64),
    /// Gauge: canary worse than the threshold.
    GaugeThreshold,
    /// Gauge: canary worse than the baseline.
    GaugeBaseline,
}

#[derive(Debug, Clone)]
struct Test {
    name: String,
    alpha: f64,
    target: Target,
    process: Process,
    rejected: bool,
    /// Canary events, canary trials, baseline events, baseline trials fed so far.
    acc: [f64; 4],
    /// Extra-binomial variation of the canary's share, learnt from earlier intervals.
    dispersion: Dispersion,
}

impl Test {
    fn new(name: String, alpha: f64, target: Target, process: Process) -> Self {
        Self {
            name,
            alpha,
            target,
            process,
            rejected: false,
            acc: [0.0; 4],
            dispersion: Dispersion::default(),
        }
    }

    fn log_e(&self) -> f64 {
        match &self.process {
            Process::Ratio(p) => p.log_e(),
            Process::Rate(p) => p.log_e(),
            Process::Sign(p) => p.log_e(),
        }
    }

    fn bar(&self) -> f64 {
        1.0 / self.alpha
    }

    /// Feeds counts (canary x of n, baseline y of m, and per pod when known) and checks
    /// the bar. A comparison with the baseline is tempered by the extra variation learnt
    /// from earlier intervals, then learns from this one.
    fn feed(&mut self, x: f64, n: f64, y: f64, m: f64, pods: Option<&PodSplit>) {
        match &mut self.process {
            Process::Ratio(p) => {
                let (kc, kb) = pods.map_or((None, None), |(c, b)| {
                    (effective_pods(c), effective_pods(b))
                });
                let varsigma = self.dispersion.varsigma(p.null_share(n, m), kc, kb);
                p.update_tempered(x, n, y, m, temper(x + y, varsigma));
                self.dispersion.learn(
                    [x, n, y, m],
                    pods.map(|(c, _)| c.as_slice()),
                    pods.map(|(_, b)| b.as_slice()),
                );
            }
            Process::Rate(p) => p.update(x, n),
            Process::Sign(p) => p.update(x > 0.0),
        }
        for (a, v) in self.acc.iter_mut().zip([x, n, y, m]) {
            *a += v;
        }
        if self.log_e() >= self.bar().ln() {
            self.rejected = true;
        }
    }

    fn report(&self) -> TestReport {
        TestReport {
            name: self.name.clone(),
            e_value: self.log_e().exp().min(f64::MAX),
            bar: self.bar(),
            alpha: self.alpha,
            rejected: self.rejected,
            active: true,
        }
    }

    fn effect(&self, confidence_alpha: f64) -> Effect {
        let [x, n, y, m] = self.acc;
        let confidence = 1.0 - confidence_alpha;
        match &self.process {
            Process::Ratio(_) => {
                let measure = match self.target {
                    Target::Above(le) => {
                        format!("share of requests slower than {le} s, canary/baseline")
                    }
                    _ => "error-rate ratio canary/baseline".into(),
                };
                let ratio = |theta: f64| {
                    if theta >= 1.0 || n <= 0.0 {
                        None
                    } else {
                        Some(theta / (1.0 - theta) * m / n)
                    }
                };
                let (lo, hi) = binomial_cs(x, x + y, confidence_alpha);
                let estimate = if n > 0.0 && m > 0.0 && y > 0.0 {
                    Some((x / n) / (y / m))
                } else {
                    None
                };
                let estimate = if x == 0.0 && n > 0.0 {
                    Some(0.0)
                } else {
                    estimate
                };
                Effect {
                    measure,
                    estimate,
                    lower: ratio(lo),
                    upper: ratio(hi),
                    confidence,
                }
            }
            Process::Rate(_) => {
                let measure = match self.target {
                    Target::Above(le) => format!("share of canary requests slower than {le} s"),
                    _ => "canary error rate".into(),
                };
                let (lo, hi) = binomial_cs(x, n, confidence_alpha);
                let estimate = if n > 0.0 { Some(x / n) } else { None };
                Effect {
                    measure,
                    estimate,
                    lower: Some(lo),
                    upper: Some(hi),
                    confidence,
                }
            }
            Process::Sign(_) => {
                let (lo, hi) = binomial_cs(x, n, confidence_alpha);
                let estimate = if n > 0.0 { Some(x / n) } else { None };
                let measure = match self.target {
                    Target::GaugeThreshold => "share of intervals worse than the threshold",
                    _ => "share of intervals worse than the baseline",
                };
                Effect {
                    measure: measure.into(),
                    estimate,
                    lower: Some(lo),
                    upper: Some(hi),
                    confidence,
                }
            }
        }
    }
}

/// Accumulated histograms of one metric (latency only).
#[derive(Debug, Clone, Default)]
struct Histograms {
    les: Vec<f64>,
    canary: Vec<f64>,
    baseline: Vec<f64>,
}

impl Histograms {
    /// Adds one interval; refuses a bucket layout different from the first one.
    fn check_layout(&self, h: &CheckedHistogram) -> Result<(), String> {
        if self.les.is_empty() || self.les == h.les {
            Ok(())
        } else {
            Err("the histogram's bucket bounds changed between intervals".into())
        }
    }

    fn add(acc: &mut Vec<f64>, les: &mut Vec<f64>, h: &CheckedHistogram) {
        if les.is_empty() {
            les.clone_from(&h.les);
        }
        if acc.is_empty() {
            acc.resize(h.cum.len(), 0.0);
        }
        for (a, c) in acc.iter_mut().zip(&h.cum) {
            *a += c;
        }
    }
}

/// The `q` quantile of a cumulative histogram, interpolated inside its bucket the way
/// Prometheus's `histogram_quantile` does.
pub fn histogram_quantile(les: &[f64], cum: &[f64], q: f64) -> Option<f64> {
    let total = *cum.last()?;
    if total <= 0.0 || les.len() != cum.len() {
        return None;
    }
    let rank = q * total;
    let i = cum.iter().position(|c| *c >= rank)?;
    if les[i].is_infinite() {
        return les.iter().rev().find(|l| l.is_finite()).copied();
    }
    let (lo_le, lo_c) = if i == 0 {
        (0.0_f64.min(les[0]), 0.0)
    } else {
        (les[i - 1], cum[i - 1])
    };
    let width = cum[i] - lo_c;
    if width <= 0.0 {
        return Some(les[i]);
    }
    Some(lo_le + (les[i] - lo_le) * (rank - lo_c) / width)
}

/// Count at or below `le` in a cumulative histogram with bounds `les`.
fn at_or_below(les: &[f64], cum: &[f64], le: f64) -> f64 {
    les.iter().position(|l| *l == le).map_or(0.0, |i| cum[i])
}

#[derive(Debug, Clone)]
struct MetricState {
    cfg: MetricConfig,
    alpha: f64,
    tests: Vec<Test>,
    /// Latency comparisons not started yet: their quantiles and their alpha share.
    pending_quantiles: Vec<f64>,
    comparison_alpha: f64,
    hist: Histograms,
    canary_n: f64,
    canary_x: f64,
    baseline_n: f64,
    baseline_x: f64,
    last_gauge: Option<(f64, Option<f64>)>,
    intervals: u64,
    inconclusive: u64,
    streak: u32,
    failed: Option<String>,
}

/// A judge for one canary: feed it each interval with [`Judge::observe`].
#[derive(Debug, Clone)]
pub struct Judge {
    limit: u32,
    metrics: Vec<MetricState>,
    intervals: u64,
}

impl Judge {
    /// A judge for these settings, which must validate.
    pub fn new(settings: &JudgeSettings) -> Result<Self, Vec<ConfigProblem>> {
        settings.validate()?;
        let per_metric = settings.alpha / settings.metrics.len() as f64;
        let metrics = settings
            .metrics
            .iter()
            .map(|m| MetricState::new(m.clone(), per_metric))
            .collect();
        Ok(Self {
            limit: settings.consecutive_error_limit,
            metrics,
            intervals: 0,
        })
    }

    /// Folds in one interval and returns the verdict with its evidence.
    pub fn observe(&mut self, observation: &Observation) -> Report {
        self.intervals += 1;
        let missing = MetricSample::default();
        let reports: Vec<MetricReport> = self
            .metrics
            .iter_mut()
            .map(|m| {
                let sample = observation.get(&m.cfg.name).unwrap_or(&missing);
                m.observe(sample, observation.contains_key(&m.cfg.name), self.limit)
            })
            .collect();
        let (verdict, rule) = overall(&reports);
        Report {
            intervals: self.intervals,
            verdict,
            rule,
            metrics: reports,
        }
    }
}

fn overall(reports: &[MetricReport]) -> (Verdict, String) {
    if let Some(m) = reports
        .iter()
        .find(|m| m.critical && m.verdict == Verdict::Fail)
    {
        return (
            Verdict::Fail,
            format!("critical metric `{}` failed: {}", m.name, m.rule),
        );
    }
    if let Some(m) = reports.iter().find(|m| m.verdict == Verdict::Continue) {
        return (
            Verdict::Continue,
            format!("waiting on `{}`: {}", m.name, m.rule),
        );
    }
    let ignored: Vec<&str> = reports
        .iter()
        .filter(|m| m.verdict == Verdict::Fail)
        .map(|m| m.name.as_str())
        .collect();
    if ignored.is_empty() {
        (Verdict::Pass, "every metric passed".into())
    } else {
        (
            Verdict::Pass,
            format!(
                "every critical metric passed (non-critical failed: {})",
                ignored.join(", ")
            ),
        )
    }
}

fn fmt_num(v: f64) -> String {
    if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e6) {
        format!("{v:.3e}")
    } else {
        format!("{}", (v * 1e4).round() / 1e4)
    }
}

impl MetricState {
    fn new(cfg: MetricConfig, alpha: f64) -> Self {
        let higher = cfg.direction == Direction::Higher;
        let rho0 = if higher {
            1.0 + cfg.tolerance
        } else {
            1.0 - cfg.tolerance
        };
        let cmp = if higher { "<=" } else { ">=" };
        let n_tests = usize::from(cfg.threshold.is_some())
            + match (cfg.judged_as(), cfg.baseline.is_some()) {
                (_, false) => 0,
                (MetricKind::Latency, true) => cfg.compare_quantiles.len(),
                (_, true) => 1,
            };
        let share = alpha / n_tests.max(1) as f64;
        let mut tests = Vec::new();
        let mut pending_quantiles = Vec::new();
        // A latency percentile's sign tests name the percentile (`p95 <= 2`).
        let what = match cfg.kind {
            MetricKind::Latency => format!("p{}", fmt_num(cfg.quantile * 100.0)),
            _ => "value".to_string(),
        };
        match cfg.judged_as() {
            MetricKind::Counts => {
                if let Some(t) = cfg.threshold {
                    let name = format!("error rate {cmp} {}", fmt_num(t));
                    tests.push(Test::new(
                        name,
                        share,
                        Target::Errors,
                        Process::Rate(RateEProcess::new(t, higher)),
                    ));
                }
                if cfg.baseline.is_some() {
                    let name = format!("error-rate ratio to baseline {cmp} {}", fmt_num(rho0));
                    let p = Process::Ratio(RatioEProcess::new(rho0, higher));
                    tests.push(Test::new(name, share, Target::Errors, p));
                }
            }
            MetricKind::Latency => {
                // The threshold's test is created with the first histogram (it needs the bounds).
                if cfg.baseline.is_some() {
                    pending_quantiles = cfg.compare_quantiles.clone();
                }
            }
            MetricKind::Gauge => {
                if let Some(t) = cfg.threshold {
                    let name = format!("{what} {cmp} {} (sign test)", fmt_num(t));
                    tests.push(Test::new(
                        name,
                        share,
                        Target::GaugeThreshold,
                        Process::Sign(SignEProcess::default()),
                    ));
                }
                if cfg.baseline.is_some() {
                    let name = format!("{what} {cmp} baseline x {} (sign test)", fmt_num(rho0));
                    tests.push(Test::new(
                        name,
                        share,
                        Target::GaugeBaseline,
                        Process::Sign(SignEProcess::default()),
                    ));
                }
            }
        }
        Self {
            cfg,
            alpha,
            tests,
            pending_quantiles,
            comparison_alpha: share,
            hist: Histograms::default(),
            canary_n: 0.0,
            canary_x: 0.0,
            baseline_n: 0.0,
            baseline_x: 0.0,
            last_gauge: None,
            intervals: 0,
            inconclusive: 0,
            streak: 0,
            failed: None,
        }
    }

    fn higher(&self) -> bool {
        self.cfg.direction == Direction::Higher
    }

    fn observe(&mut self, sample: &MetricSample, present: bool, limit: u32) -> MetricReport {
        if self.failed.is_some() {
            return self.report(Verdict::Fail, String::new());
        }
        let fed = if let Some(e) = &sample.error {
            Err(format!("provider error: {e}"))
        } else if !present {
            Err("no data for this interval".into())
        } else {
            self.feed(sample)
        };
        if let Err(problem) = fed {
            self.inconclusive += 1;
            self.streak += 1;
            if self.streak > limit {
                self.failed = Some(format!(
                    "fail-safe: {} consecutive inconclusive intervals exceed consecutive-error-limit {limit} (last: {problem})",
                    self.streak
                ));
                return self.report(Verdict::Fail, String::new());
            }
            let rule = format!(
                "inconclusive ({} of {limit} allowed in a row): {problem}",
                self.streak
            );
            return self.report(Verdict::Continue, rule);
        }
        self.streak = 0;
        self.intervals += 1;
        if let Some(t) = self.tests.iter().find(|t| t.rejected) {
            self.failed = Some(format!(
                "{}: e-value {} reached the bar {} (alpha {})",
                t.name,
                fmt_num(t.log_e().exp()),
                fmt_num(t.bar()),
                fmt_num(t.alpha)
            ));
            return self.report(Verdict::Fail, String::new());
        }
        let mut waiting = Vec::new();
        if self.cfg.judged_as() != MetricKind::Gauge {
            let min = self.cfg.min_requests as f64;
            if self.canary_n < min {
                waiting.push(format!("canary has {} of {} requests", self.canary_n, min));
            }
            if self.cfg.baseline.is_some() && self.baseline_n < min {
                waiting.push(format!(
                    "baseline has {} of {} requests",
                    self.baseline_n, min
                ));
            }
        }
        if self.intervals < u64::from(self.cfg.min_intervals) {
            waiting.push(format!(
                "{} of {} intervals with data",
                self.intervals, self.cfg.min_intervals
            ));
        }
        if !self.pending_quantiles.is_empty() {
            waiting.push("latency comparison starts once the baseline has min-requests".into());
        }
        if self.tests.is_empty() {
            waiting.push("no test could start yet".into());
        }
        if waiting.is_empty() {
            let rule = format!(
                "no regression: every e-value below its bar after {} canary requests in {} intervals",
                self.canary_n, self.intervals
            );
            self.report(Verdict::Pass, rule)
        } else {
            self.report(
                Verdict::Continue,
                format!("low traffic: {}", waiting.join("; ")),
            )
        }
    }

    /// Checks one interval and feeds the tests; an error leaves every test untouched.
    fn feed(&mut self, sample: &MetricSample) -> Result<(), String> {
        let canary = sample
            .canary
            .as_ref()
            .ok_or("no canary data for this interval")?;
        let baseline = match (&sample.baseline, self.cfg.baseline.is_some()) {
            (Some(b), true) => Some(b),
            (None, true) => return Err("no baseline data for this interval".into()),
            (_, false) => None,
        };
        match self.cfg.judged_as() {
            MetricKind::Counts => {
                let c = canary.counts("canary")?;
                let b = baseline.map(|b| b.counts("baseline")).transpose()?;
                let (y, m) = b.map_or((0.0, 0.0), |b| (b.x, b.n));
                self.canary_n += c.n;
                self.canary_x += c.x;
                self.baseline_n += m;
                self.baseline_x += y;
                let pods = sample.by_pod.as_ref().and_then(|p| p.counts());
                for t in &mut self.tests {
                    t.feed(c.x, c.n, y, m, pods.as_ref());
                }
            }
            MetricKind::Latency => {
                let c = canary.histogram("canary")?;
                let b = baseline.map(|b| b.histogram("baseline")).transpose()?;
                self.hist.check_layout(&c)?;
                if let Some(b) = &b {
                    self.hist.check_layout(b)?;
                    if b.les != c.les {
                        return Err(
                            "canary and baseline histograms have different bucket bounds".into(),
                        );
                    }
                }
                let Histograms {
                    les,
                    canary: cacc,
                    baseline: bacc,
                } = &mut self.hist;
                Histograms::add(cacc, les, &c);
                if let Some(b) = &b {
                    Histograms::add(bacc, les, b);
                }
                let total = |h: &CheckedHistogram| h.cum.last().copied().unwrap_or(0.0);
                self.canary_n += total(&c);
                self.baseline_n += b.as_ref().map_or(0.0, total);
                self.start_latency_tests();
                // The compared bounds are chosen from the pooled histogram (canary and
                // baseline together) up to and including this interval, which they are
                // then tested on: with no change, which of the pooled requests are the
                // canary's is a random draw whatever the choice (see the crate docs).
                self.choose_boundaries();
                for t in &mut self.tests {
                    let Target::Above(le) = t.target else {
                        continue;
                    };
                    let x = total(&c) - at_or_below(&c.les, &c.cum, le);
                    let (y, m) = b.as_ref().map_or((0.0, 0.0), |b| {
                        (total(b) - at_or_below(&b.les, &b.cum, le), total(b))
                    });
                    let pods = sample.by_pod.as_ref().and_then(|p| p.above(le));
                    t.feed(x, total(&c), y, m, pods.as_ref());
                }
            }
            MetricKind::Gauge => {
                let c = canary.gauge("canary")?;
                let b = baseline.map(|b| b.gauge("baseline")).transpose()?;
                self.last_gauge = Some((c, b));
                let higher = self.higher();
                let worse = |v: f64, bound: f64| if higher { v > bound } else { v < bound };
                let tol = self.cfg.tolerance;
                for t in &mut self.tests {
                    let w = match (t.target, b) {
                        (Target::GaugeThreshold, _) => {
                            self.cfg.threshold.is_some_and(|th| worse(c, th))
                        }
                        (Target::GaugeBaseline, Some(b)) => worse(
                            c,
                            if higher {
                                b + tol * b.abs()
                            } else {
                                b - tol * b.abs()
                            },
                        ),
                        _ => continue,
                    };
                    t.feed(if w { 1.0 } else { 0.0 }, 1.0, 0.0, 0.0, None);
                }
            }
        }
        Ok(())
    }

    /// Creates the absolute latency test once the bucket bounds are known.
    fn start_latency_tests(&mut self) {
        let Some(threshold) = self.cfg.threshold else {
            return;
        };
        if self
            .tests
            .iter()
            .any(|t| matches!(t.process, Process::Rate(_)))
        {
            return;
        }
        // The smallest bound at or above the threshold: "slower than it" is then a subset
        // of "slower than the threshold", so the test stays valid (conservative).
        let Some(le) = self
            .hist
            .les
            .iter()
            .copied()
            .find(|l| *l >= threshold && l.is_finite())
        else {
            return;
        };
        let q = self.cfg.quantile;
        let share = self.comparison_alpha;
        let name = format!(
            "p{} <= {} s: share slower than {le} s <= {}",
            fmt_num(q * 100.0),
            fmt_num(threshold),
            fmt_num(1.0 - q)
        );
        self.tests.insert(
            0,
            Test::new(
                name,
                share,
                Target::Above(le),
                Process::Rate(RateEProcess::new(1.0 - q, true)),
            ),
        );
    }

    /// Freezes the bounds nearest the pooled (canary and baseline) quantiles once the
    /// baseline has min-requests, and starts one tail test per distinct bound.
    fn choose_boundaries(&mut self) {
        if self.pending_quantiles.is_empty() || self.baseline_n < self.cfg.min_requests as f64 {
            return;
        }
        let les = &self.hist.les;
        let pooled: Vec<f64> = if self.hist.canary.len() == self.hist.baseline.len() {
            (self.hist.canary.iter().zip(&self.hist.baseline))
                .map(|(c, b)| c + b)
                .collect()
        } else {
            self.hist.baseline.clone()
        };
        let mut chosen: Vec<f64> = Vec::new();
        for q in std::mem::take(&mut self.pending_quantiles) {
            let Some(v) = histogram_quantile(les, &pooled, q) else {
                continue;
            };
            let nearest = les
                .iter()
                .copied()
                .filter(|l| l.is_finite() && *l > 0.0)
                .min_by(|a, b| (a / v).ln().abs().total_cmp(&(b / v).ln().abs()));
            let Some(le) = nearest else { continue };
            if chosen.contains(&le) {
                continue;
            }
            chosen.push(le);
            let rho0 = 1.0 + self.cfg.tolerance;
            let name = format!(
                "share slower than {le} s (near p{}), ratio to baseline <= {}",
                fmt_num(q * 100.0),
                fmt_num(rho0)
            );
            let p = Process::Ratio(RatioEProcess::new(rho0, true));
            self.tests
                .push(Test::new(name, self.comparison_alpha, Target::Above(le), p));
        }
    }

    fn values(&self) -> (Option<f64>, Option<f64>) {
        match self.cfg.judged_as() {
            MetricKind::Counts => {
                let rate = |x: f64, n: f64| if n > 0.0 { Some(x / n) } else { None };
                let b = if self.cfg.baseline.is_some() {
                    rate(self.baseline_x, self.baseline_n)
                } else {
                    None
                };
                (rate(self.canary_x, self.canary_n), b)
            }
            MetricKind::Latency => {
                let q = |acc: &[f64]| histogram_quantile(&self.hist.les, acc, self.cfg.quantile);
                (q(&self.hist.canary), q(&self.hist.baseline))
            }
            MetricKind::Gauge => self.last_gauge.map_or((None, None), |(c, b)| (Some(c), b)),
        }
    }

    fn report(&self, verdict: Verdict, rule: String) -> MetricReport {
        let rule = match (&self.failed, verdict) {
            (Some(f), Verdict::Fail) => f.clone(),
            _ => rule,
        };
        let deciding = self.tests.iter().find(|t| t.rejected).or_else(|| {
            self.tests
                .iter()
                .max_by(|a, b| (a.log_e() - a.bar().ln()).total_cmp(&(b.log_e() - b.bar().ln())))
        });
        let mut tests: Vec<TestReport> = self.tests.iter().map(Test::report).collect();
        for q in &self.pending_quantiles {
            tests.push(TestReport {
                name: format!(
                    "tail near p{} (starts once the baseline has min-requests)",
                    fmt_num(q * 100.0)
                ),
                e_value: 1.0,
                bar: 1.0 / self.comparison_alpha,
                alpha: self.comparison_alpha,
                rejected: false,
                active: false,
            });
        }
        let (canary, baseline) = self.values();
        MetricReport {
            name: self.cfg.name.clone(),
            kind: self.cfg.kind,
            critical: self.cfg.critical,
            verdict,
            rule,
            canary,
            baseline,
            threshold: self.cfg.threshold,
            tolerance: self.cfg.tolerance,
            effect: deciding.map(|t| t.effect(self.alpha)),
            canary_requests: self.canary_n,
            baseline_requests: self.baseline_n,
            intervals: self.intervals,
            inconclusive_intervals: self.inconclusive,
            tests,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{Counts, Histogram, Num, Side};
    use crate::settings::Queries;

    fn q(field: &str) -> Queries {
        let mut q = Queries::default();
        let s = Some("up".to_string());
        match field {
            "counts" => (q.errors, q.requests) = (s.clone(), s),
            "latency" => q.buckets = s,
            _ => q.value = s,
        }
        q
    }

    fn metric(
        name: &str,
        kind: MetricKind,
        baseline: bool,
        threshold: Option<f64>,
    ) -> MetricConfig {
        let field = kind.as_str();
        let mut m = MetricConfig::new(name, kind, q(field), baseline.then(|| q(field)));
        m.threshold = threshold;
        m
    }

    fn settings(metrics: Vec<MetricConfig>) -> JudgeSettings {
        JudgeSettings {
            metrics,
            ..JudgeSettings::default()
        }
    }

    fn counts(n: f64, x: f64) -> Side {
        Side::Counts(Counts {
            requests: Num(n),
            errors: Num(x),
        })
    }

    fn pair(canary: Side, baseline: Side) -> MetricSample {
        MetricSample {
            canary: Some(canary),
            baseline: Some(baseline),
            error: None,
            by_pod: None,
        }
    }

    fn obs(name: &str, sample: MetricSample) -> Observation {
        Observation::from([(name.to_string(), sample)])
    }

    /// Feeds the same sample `times` times and returns every report.
    fn run(judge: &mut Judge, name: &str, sample: &MetricSample, times: usize) -> Vec<Report> {
        (0..times)
            .map(|_| judge.observe(&obs(name, sample.clone())))
            .collect()
    }

    fn first(reports: &[Report], verdict: Verdict) -> Option<usize> {
        reports
            .iter()
            .position(|r| r.verdict == verdict)
            .map(|i| i + 1)
    }

    const BOUNDS: [f64; 12] = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.75, 1.0, 1.5, 2.0, 2.5];

    /// A histogram of `n` requests whose share at or below each bound is `cdf(le)`.
    fn hist(n: f64, cdf: impl Fn(f64) -> f64) -> Side {
        let mut buckets: Vec<(Num, Num)> = BOUNDS
            .iter()
            .map(|le| (Num(*le), Num((n * cdf(*le)).round())))
            .collect();
        buckets.push((Num(f64::INFINITY), Num(n)));
        Side::Histogram(Histogram { buckets })
    }

    /// A latency shape: 50 % under 0.2 s, 95 % under 0.5 s, 99 % under 0.75 s.
    fn base_cdf(le: f64) -> f64 {
        match le {
            l if l <= 0.05 => 0.05,
            l if l <= 0.1 => 0.2,
            l if l <= 0.2 => 0.5,
            l if l <= 0.3 => 0.7,
            l if l <= 0.4 => 0.85,
            l if l <= 0.5 => 0.95,
            l if l <= 0.6 => 0.975,
            l if l <= 0.75 => 0.99,
            l if l <= 1.0 => 0.997,
            l if l <= 1.5 => 0.999,
            _ => 1.0,
        }
    }

    #[test]
    fn an_error_rate_regression_fails_with_its_evidence() {
        let mut judge = Judge::new(&settings(vec![metric(
            "errors",
            MetricKind::Counts,
            true,
            None,
        )]))
        .expect("valid");
        // 1 % on a 10 % canary against 0.5 % on the baseline, 1,000 rps for 10 s.
        let reports = run(
            &mut judge,
            "errors",
            &pair(counts(1000.0, 10.0), counts(9000.0, 45.0)),
            30,
        );
        let at = first(&reports, Verdict::Fail).expect("detected");
        assert!((3..=8).contains(&at), "failed at interval {at}");
        let last = &reports[at - 1];
        assert!(
            last.rule.contains("critical metric `errors` failed"),
            "{}",
            last.rule
        );
        let m = &last.metrics[0];
        assert!(
            m.rule.contains("error-rate ratio to baseline <= 1")
                && m.rule.contains("reached the bar 100"),
            "{}",
            m.rule
        );
        assert_eq!((m.canary, m.baseline), (Some(0.01), Some(0.005)));
        assert_eq!(m.canary_requests, 1000.0 * at as f64);
        let effect = m.effect.as_ref().expect("effect");
        assert!((effect.estimate.expect("finite") - 2.0).abs() < 1e-9);
        let (lo, hi) = (effect.lower.expect("lower"), effect.upper.expect("upper"));
        assert!(lo < 2.0 && 2.0 < hi, "[{lo}, {hi}]");
        assert!(m.tests[0].rejected && m.tests[0].e_value >= 100.0);
        // Sticky: later good data does not undo a failure.
        let after = run(
            &mut judge,
            "errors",
            &pair(counts(1000.0, 5.0), counts(9000.0, 45.0)),
            3,
        );
        assert!(after.iter().all(|r| r.verdict == Verdict::Fail));
    }

    #[test]
    fn a_healthy_canary_waits_for_evidence_then_passes() {
        let mut judge = Judge::new(&settings(vec![metric(
            "errors",
            MetricKind::Counts,
            true,
            None,
        )]))
        .expect("valid");
        let reports = run(
            &mut judge,
            "errors",
            &pair(counts(400.0, 2.0), counts(3600.0, 18.0)),
            200,
        );
        assert_eq!(
            first(&reports, Verdict::Pass),
            Some(3),
            "min-requests 1000 and min-intervals 3"
        );
        assert!(
            reports[0]
                .rule
                .contains("low traffic: canary has 400 of 1000 requests"),
            "{}",
            reports[0].rule
        );
        assert!(reports[2..].iter().all(|r| r.verdict == Verdict::Pass));
        assert_eq!(
            reports[5].metrics[0]
                .effect
                .as_ref()
                .and_then(|e| e.estimate),
            Some(1.0)
        );
    }

    #[test]
    fn low_traffic_never_fails_and_never_passes() {
        let mut judge = Judge::new(&settings(vec![metric(
            "errors",
            MetricKind::Counts,
            true,
            Some(0.001),
        )]))
        .expect("valid");
        let reports = run(
            &mut judge,
            "errors",
            &pair(counts(2.0, 0.0), counts(2.0, 0.0)),
            400,
        );
        assert!(reports.iter().all(|r| r.verdict == Verdict::Continue));
        assert!(
            reports[399].rule.contains("low traffic"),
            "{}",
            reports[399].rule
        );
    }

    #[test]
    fn missing_data_nan_and_provider_errors_are_inconclusive_then_fail_safe() {
        let nan = pair(counts(f64::NAN, 0.0), counts(9000.0, 45.0));
        let errored = MetricSample {
            error: Some("timeout after 3 retries".into()),
            ..MetricSample::default()
        };
        let inf = pair(counts(1000.0, 5.0), counts(f64::INFINITY, 45.0));
        for (label, bad) in [
            ("nan", Some(nan)),
            ("error", Some(errored)),
            ("inf", Some(inf)),
            ("absent", None),
        ] {
            let mut judge = Judge::new(&settings(vec![metric(
                "errors",
                MetricKind::Counts,
                true,
                None,
            )]))
            .expect("valid");
            let good = pair(counts(1000.0, 5.0), counts(9000.0, 45.0));
            let passed = run(&mut judge, "errors", &good, 5);
            assert_eq!(passed[4].verdict, Verdict::Pass);
            let feed = |judge: &mut Judge| match &bad {
                Some(s) => judge.observe(&obs("errors", s.clone())),
                None => judge.observe(&Observation::new()),
            };
            for i in 1..=4 {
                let r = feed(&mut judge);
                assert_eq!(
                    r.verdict,
                    Verdict::Continue,
                    "{label}: a pass needs the latest data"
                );
                assert!(
                    r.metrics[0]
                        .rule
                        .contains(&format!("inconclusive ({i} of 4")),
                    "{label}: {}",
                    r.metrics[0].rule
                );
            }
            let r = feed(&mut judge);
            assert_eq!(r.verdict, Verdict::Fail, "{label}");
            assert!(
                r.rule.contains("fail-safe: 5 consecutive"),
                "{label}: {}",
                r.rule
            );
            assert_eq!(r.metrics[0].inconclusive_intervals, 5);
        }
    }

    #[test]
    fn good_data_resets_the_inconclusive_streak() {
        let mut judge = Judge::new(&settings(vec![metric(
            "errors",
            MetricKind::Counts,
            true,
            None,
        )]))
        .expect("valid");
        let good = pair(counts(1000.0, 5.0), counts(9000.0, 45.0));
        for _ in 0..10 {
            for _ in 0..4 {
                assert_eq!(
                    judge.observe(&Observation::new()).verdict,
                    Verdict::Continue
                );
            }
            judge.observe(&obs("errors", good.clone()));
        }
        assert_eq!(judge.observe(&obs("errors", good)).verdict, Verdict::Pass);
    }

    #[test]
    fn an_slo_breach_fails_without_a_baseline() {
        let mut judge = Judge::new(&settings(vec![metric(
            "errors",
            MetricKind::Counts,
            false,
            Some(0.001),
        )]))
        .expect("valid");
        let reports = run(
            &mut judge,
            "errors",
            &MetricSample {
                canary: Some(counts(1000.0, 5.0)),
                ..Default::default()
            },
            20,
        );
        let at = first(&reports, Verdict::Fail).expect("detected");
        assert!(at <= 5, "{at}");
        let m = &reports[at - 1].metrics[0];
        assert!(m.rule.starts_with("error rate <= 0.001"), "{}", m.rule);
        assert_eq!(
            m.effect.as_ref().map(|e| e.measure.as_str()),
            Some("canary error rate")
        );
        let mut ok = Judge::new(&settings(vec![metric(
            "errors",
            MetricKind::Counts,
            false,
            Some(0.001),
        )]))
        .expect("valid");
        let reports = run(
            &mut ok,
            "errors",
            &MetricSample {
                canary: Some(counts(1000.0, 0.0)),
                ..Default::default()
            },
            50,
        );
        assert!(reports[2..].iter().all(|r| r.verdict == Verdict::Pass));
    }

    #[test]
    fn the_issue_sparse_cases() {
        let check = |errors: &[f64], fails: bool| {
            let mut judge = Judge::new(&settings(vec![metric(
                "errors",
                MetricKind::Counts,
                true,
                None,
            )]))
            .expect("valid");
            let reports: Vec<Report> = errors
                .iter()
                .map(|x| {
                    judge.observe(&obs(
                        "errors",
                        pair(counts(1000.0, *x), counts(1000.0, 0.0)),
                    ))
                })
                .collect();
            assert_eq!(
                reports.iter().any(|r| r.verdict == Verdict::Fail),
                fails,
                "{errors:?}"
            );
        };
        check(
            &[0.0, 1.0, 2.0, 1.0, 0.0, 0.0, 3.0, 2.0, 0.0, 1.0, 2.0, 0.0],
            true,
        );
        check(&[0.0, 1.0, 0.0, 0.0, 0.0, 0.0], false);
    }

    #[test]
    fn a_success_rate_drop_fails_when_lower_is_worse() {
        let mut m = metric("checkouts", MetricKind::Counts, true, None);
        m.direction = Direction::Lower;
        let mut judge = Judge::new(&settings(vec![m])).expect("valid");
        let reports = run(
            &mut judge,
            "checkouts",
            &pair(counts(1000.0, 20.0), counts(9000.0, 360.0)),
            20,
        );
        assert!(first(&reports, Verdict::Fail).is_some());
    }

    #[test]
    fn a_tail_regression_fails_on_the_p99_bound() {
        let mut judge = Judge::new(&settings(vec![metric(
            "latency",
            MetricKind::Latency,
            true,
            None,
        )]))
        .expect("valid");
        // Same median, three times as many requests above the baseline's p99 (0.75 s).
        let slow = |le: f64| match le {
            0.6 | 0.75 => 0.97,
            1.0 => 0.991,
            1.5 => 0.997,
            2.0 => 0.999,
            _ => base_cdf(le),
        };
        let reports = run(
            &mut judge,
            "latency",
            &pair(hist(1000.0, slow), hist(9000.0, base_cdf)),
            60,
        );
        let at = first(&reports, Verdict::Fail).expect("detected");
        let m = &reports[at - 1].metrics[0];
        assert!(
            m.rule.contains("slower than 0.75 s (near p99)"),
            "{}",
            m.rule
        );
        assert_eq!(m.tests.len(), 3, "{:?}", m.tests);
        assert!(
            m.effect
                .as_ref()
                .and_then(|e| e.estimate)
                .is_some_and(|r| (r - 3.0).abs() < 0.2)
        );
        // The p50 and p95 bounds are unchanged and show no evidence.
        assert!(
            m.tests
                .iter()
                .filter(|t| !t.name.contains("p99"))
                .all(|t| t.e_value < 1.0)
        );
    }

    #[test]
    fn an_unchanged_latency_passes_and_reports_quantiles() {
        let mut judge = Judge::new(&settings(vec![metric(
            "latency",
            MetricKind::Latency,
            true,
            Some(2.0),
        )]))
        .expect("valid");
        let reports = run(
            &mut judge,
            "latency",
            &pair(hist(1000.0, base_cdf), hist(9000.0, base_cdf)),
            20,
        );
        assert_eq!(
            reports[0].verdict,
            Verdict::Continue,
            "a pass needs min-intervals intervals"
        );
        let mut waiting = Judge::new(&settings(vec![metric(
            "latency",
            MetricKind::Latency,
            true,
            None,
        )]))
        .expect("valid");
        let r = waiting.observe(&obs(
            "latency",
            pair(hist(100.0, base_cdf), hist(500.0, base_cdf)),
        ));
        assert!(
            r.metrics[0].tests.iter().all(|t| !t.active),
            "bounds wait for the baseline's min-requests"
        );
        assert!(
            r.rule
                .contains("latency comparison starts once the baseline has min-requests"),
            "{}",
            r.rule
        );
        assert!(
            reports[3..].iter().all(|r| r.verdict == Verdict::Pass),
            "{:?}",
            reports[3].rule
        );
        let m = &reports[19].metrics[0];
        assert_eq!(m.tests.len(), 4);
        assert!(m.tests.iter().all(|t| t.active && !t.rejected));
        let p95 = m.canary.expect("p95");
        assert!((p95 - 0.5).abs() < 1e-9, "{p95}");
    }

    #[test]
    fn a_latency_slo_breach_fails_on_the_threshold_bound() {
        let mut judge = Judge::new(&settings(vec![metric(
            "latency",
            MetricKind::Latency,
            false,
            Some(1.8),
        )]))
        .expect("valid");
        // 10 % of the canary's requests take more than 2 s: p95 is above 1.8 s.
        let slow = |le: f64| if le < 2.5 { base_cdf(le) * 0.9 } else { 1.0 };
        let reports = run(
            &mut judge,
            "latency",
            &MetricSample {
                canary: Some(hist(1000.0, slow)),
                ..Default::default()
            },
            10,
        );
        let at = first(&reports, Verdict::Fail).expect("detected");
        assert!(
            reports[at - 1].metrics[0]
                .rule
                .starts_with("p95 <= 1.8 s: share slower than 2 s <= 0.05"),
            "{}",
            reports[at - 1].metrics[0].rule
        );
    }

    #[test]
    fn a_changed_bucket_layout_is_inconclusive() {
        let mut judge = Judge::new(&settings(vec![metric(
            "latency",
            MetricKind::Latency,
            true,
            None,
        )]))
        .expect("valid");
        judge.observe(&obs(
            "latency",
            pair(hist(1000.0, base_cdf), hist(9000.0, base_cdf)),
        ));
        let other = Side::Histogram(Histogram {
            buckets: vec![(Num(1.0), Num(5.0)), (Num(f64::INFINITY), Num(10.0))],
        });
        let r = judge.observe(&obs("latency", pair(other.clone(), other)));
        assert_eq!(r.verdict, Verdict::Continue);
        assert!(
            r.metrics[0].rule.contains("bucket bounds changed"),
            "{}",
            r.metrics[0].rule
        );
    }

    #[test]
    fn gauges_use_a_sign_test() {
        let mut m = metric("memory", MetricKind::Gauge, true, None);
        m.tolerance = 0.1;
        let mut judge = Judge::new(&settings(vec![m.clone()])).expect("valid");
        let worse = pair(Side::Gauge(Num(130.0)), Side::Gauge(Num(100.0)));
        let reports = run(&mut judge, "memory", &worse, 20);
        let at = first(&reports, Verdict::Fail).expect("detected");
        assert!((7..=10).contains(&at), "{at}");
        // Within tolerance: never worse.
        let mut judge = Judge::new(&settings(vec![m])).expect("valid");
        let fine = pair(Side::Gauge(Num(105.0)), Side::Gauge(Num(100.0)));
        let reports = run(&mut judge, "memory", &fine, 20);
        assert_eq!(first(&reports, Verdict::Pass), Some(3));
        assert_eq!(reports[19].metrics[0].canary, Some(105.0));
    }

    #[test]
    fn a_latency_percentile_is_judged_by_sign_tests_against_threshold_and_baseline() {
        // CloudWatch answers p95 per period, not a histogram: `value` instead of `buckets`.
        let mut m = metric("latency", MetricKind::Latency, true, Some(2.0));
        m.canary = q("value");
        m.baseline = Some(q("value"));
        m.tolerance = 0.2;
        assert_eq!(m.judged_as(), MetricKind::Gauge);
        assert!(m.problems().is_empty(), "{:?}", m.problems());
        let slow = pair(Side::Gauge(Num(2.6)), Side::Gauge(Num(0.4)));
        let mut judge = Judge::new(&settings(vec![m.clone()])).expect("valid");
        let reports = run(&mut judge, "latency", &slow, 30);
        let at = first(&reports, Verdict::Fail).expect("fails");
        assert!(at < 15, "{at}");
        let rule = &reports[at].metrics[0].rule;
        assert!(rule.starts_with("p95 <= 2 (sign test)"), "{rule}");
        let fine = pair(Side::Gauge(Num(0.41)), Side::Gauge(Num(0.4)));
        let mut judge = Judge::new(&settings(vec![m.clone()])).expect("valid");
        let reports = run(&mut judge, "latency", &fine, 30);
        assert_eq!(first(&reports, Verdict::Fail), None);
        assert_eq!(reports[29].verdict, Verdict::Pass);
        assert_eq!(reports[29].metrics[0].canary, Some(0.41));
        // A histogram sent for a percentile metric is inconclusive, never judged as one.
        let wrong = pair(hist(100.0, base_cdf), hist(100.0, base_cdf));
        let mut judge = Judge::new(&settings(vec![m.clone()])).expect("valid");
        let reports = run(&mut judge, "latency", &wrong, 1);
        assert_eq!(reports[0].verdict, Verdict::Continue);
        // Both forms at once is a configuration problem.
        m.canary.buckets = Some("b".into());
        assert!(
            m.problems()
                .iter()
                .any(|p| p.key == "canary.buckets" && p.message.contains("not used")),
            "{:?}",
            m.problems()
        );
    }

    #[test]
    fn a_non_critical_failure_does_not_roll_back() {
        let mut advisory = metric("memory", MetricKind::Gauge, true, None);
        advisory.critical = false;
        let errors = metric("errors", MetricKind::Counts, true, None);
        let mut judge = Judge::new(&settings(vec![errors, advisory])).expect("valid");
        let mut last = None;
        for _ in 0..20 {
            let o = Observation::from([
                (
                    "errors".to_string(),
                    pair(counts(1000.0, 5.0), counts(9000.0, 45.0)),
                ),
                (
                    "memory".to_string(),
                    pair(Side::Gauge(Num(200.0)), Side::Gauge(Num(100.0))),
                ),
            ]);
            last = Some(judge.observe(&o));
        }
        let last = last.expect("reports");
        assert_eq!(last.metrics[1].verdict, Verdict::Fail);
        assert_eq!(last.verdict, Verdict::Pass);
        assert!(
            last.rule.contains("non-critical failed: memory"),
            "{}",
            last.rule
        );
    }

    #[test]
    fn a_wrong_kind_of_measurement_is_inconclusive() {
        let mut judge = Judge::new(&settings(vec![metric(
            "errors",
            MetricKind::Counts,
            true,
            None,
        )]))
        .expect("valid");
        let r = judge.observe(&obs(
            "errors",
            pair(Side::Gauge(Num(1.0)), counts(10.0, 1.0)),
        ));
        assert!(
            r.metrics[0]
                .rule
                .contains("canary: expected counts, got a gauge value"),
            "{}",
            r.metrics[0].rule
        );
    }

    #[test]
    fn invalid_settings_are_refused() {
        let err = Judge::new(&settings(vec![])).expect_err("no metrics");
        assert_eq!(err[0].key, "metrics");
    }

    #[test]
    fn histogram_quantile_interpolates_like_prometheus() {
        let les = [0.1, 0.5, 1.0, f64::INFINITY];
        let cum = [50.0, 90.0, 100.0, 100.0];
        assert_eq!(histogram_quantile(&les, &cum, 0.5), Some(0.1));
        assert!((histogram_quantile(&les, &cum, 0.7).expect("q") - 0.3).abs() < 1e-12);
        assert_eq!(
            histogram_quantile(&les, &[0.0, 0.0, 0.0, 10.0], 0.5),
            Some(1.0)
        );
        assert_eq!(histogram_quantile(&les, &[0.0; 4], 0.5), None);
    }
}
