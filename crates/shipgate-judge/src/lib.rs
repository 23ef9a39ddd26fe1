//! The pure core of shipgate's canary: samples, statistics, the judge, the rollout state
//! machine, recordings and their offline replay, and the settings they need. No network,
//! process, clock, signal, filesystem or plotting dependency (`cargo tree -e normal -p
//! shipgate-judge` shows only serde, serde_json, thiserror and shipgate-stdx): everything
//! here is a function of its inputs, tested with plain data. The edges (the Prometheus
//! provider, the actuators, the runner that drives this with a clock) are in
//! `shipgate-canary`, which depends on this crate, never the other way.
//!
//! | module | job |
//! |---|---|
//! | [`settings`] | the judge's and the rollout's settings ([`JudgeSettings`], [`RolloutSettings`], [`Gates`]), validation, query templates |
//! | [`sample`] | one interval's measurements (NaN/Inf kept) |
//! | [`stats`] | e-processes and confidence sequences |
//! | [`judge`] | per-metric and overall verdicts with evidence |
//! | [`rollout`] | the steps as a state machine: wait, set weight, promote, roll back, pause |
//! | [`record`] | recordings and offline replay |
//!
//! # The judge is anytime-valid
//!
//! The runner shows the judge every interval's measurements, as often as it likes; the
//! probability that a canary with no regression is ever rolled back stays at most `alpha`
//! (default 1 %), however many intervals are looked at. Thresholds checked each interval
//! (Argo Rollouts, Flagger) and Mann-Whitney re-run each interval (Kayenta) do not have this
//! property: every look is another chance of a false alarm.
//!
//! Each test is an **e-process**: a nonnegative process, started at 1, whose expectation
//! stays at most 1 at every stopping time while the canary is fine. Ville's inequality gives
//! `P(sup_t E_t >= 1/alpha) <= alpha`, so the judge fails a metric the first time `E_t`
//! reaches `1/alpha`. A mixture (average) of e-processes is an e-process, which is how each
//! test below hedges over the size of the regression.
//!
//! ## Counts against the baseline (error rates)
//!
//! Per interval the canary serves `n` requests with `x` errors, the baseline `m` with `y`.
//! Given the interval's `N = x + y` errors, under "the canary's error rate is `rho0` times the
//! baseline's", each error is the canary's with probability `pi0 = rho0 n / (rho0 n + m)`:
//! `x | N ~ Binomial(N, pi0)`. This needs no assumption about the baseline's own rate, its
//! drift over the day or the traffic split, which may change at every step. Against the
//! alternative ratio `rho` (`theta = rho n / (rho n + m)`), the interval's likelihood ratio is
//! `(theta/pi0)^x ((1-theta)/(1-pi0))^(N-x)`; the e-process is the equally weighted mixture
//! of the running products over `rho = rho0 * c`, `c` in {1.25, 1.5, 2, 3, 5, 10}
//! ([`stats::RATIO_GRID`]), with `rho0 = 1 + tolerance`. The likelihood ratio increases with
//! `x`, so every ratio at or below `rho0` is covered by the null (a composite null). For
//! `direction = "lower"` (success rates) the grid is mirrored: `rho = rho0 / c`,
//! `rho0 = 1 - tolerance`. This is the conditional-binomial mixture sequential probability
//! ratio test of Lindon et al. (KDD 2022), with a discrete mixing distribution.
//!
//! Sparse errors need no special case: 12 canary errors against none at equal traffic give
//! an e-value of about 324 (fail at alpha = 1 %); a single error at most 2.
//!
//! ## Absolute thresholds (SLOs)
//!
//! "Error rate at most `p0`" (e.g. 0.1 %): `x ~ Binomial(n, p)`, `p <= p0`, mixed over
//! `p = c p0` (`c` as above, kept below 1). A latency SLO "p95 below 2 s" is the same test on
//! the share of requests above the first histogram bound at or above 2 s, with `p0 = 0.05`;
//! a bound above the threshold only makes the test conservative.
//!
//! ## Latency against the baseline (tail regressions)
//!
//! A Prometheus histogram gives, per interval, request counts per bucket. Once the baseline
//! has served `min-requests`, the bounds nearest the baseline's p50, p95 and p99
//! (`compare-quantiles`) are frozen, and from the next interval on the counts above each
//! bound, canary against baseline, are tested like error counts. Choosing the bounds on
//! earlier intervals keeps each test valid (its data is independent of the choice). A shift
//! of the whole distribution moves the p50 bound's counts; a tail regression (p99 +20 %,
//! median unchanged) the p99 bound's.
//!
//! Why not a test of the whole distribution (the multinomial test of Lindon & Malek,
//! NeurIPS 2022)? It rejects on any change of shape, a faster canary included, so it would
//! roll back improvements; the bound tests are one-sided (more requests above a bound is
//! worse) and each bound is a distribution-free statement about one quantile.
//!
//! ## Gauges
//!
//! One value per interval (memory, CPU). Under "no regression" the canary's value is worse
//! than the baseline's (times `1 ± tolerance`), or than the threshold, with probability at
//! most 1/2 in each interval, independently: a sign test, as a mixture over
//! `q` in {0.6, 0.7, 0.8, 0.9} of Bernoulli likelihood ratios. It needs about seven worse
//! intervals in a row to fail at alpha = 1 %, and assumes interval values are independent
//! and canary and baseline exchangeable when nothing changed.
//!
//! ## Several metrics and tests
//!
//! `alpha` is split equally among metrics (Bonferroni), then among each metric's tests
//! (the threshold test and each compared bound), so the overall false-rollback bound is
//! `alpha` whatever the number of looks and metrics.
//!
//! ## Verdicts
//!
//! - `fail`: a test's e-value reached its bar (sticky), or more than
//!   `consecutive-error-limit` intervals in a row were inconclusive (the fail-safe).
//! - `pass`: the canary (and baseline) served `min-requests`, the metric has `min-intervals`
//!   intervals with data, every test has started, no e-value reached its bar, and the latest
//!   interval was conclusive.
//! - `continue`: anything else. Low traffic waits; it never fails by itself.
//! - Missing data, NaN, ±Inf, counts that contradict each other or a provider error make
//!   the interval inconclusive: it feeds no test (it cannot make a bad canary look good) and
//!   the metric answers `continue` until the limit. Never `pass`.
//!
//! Overall: `fail` when a critical metric fails; `pass` when every metric passed (a
//! non-critical failure is reported, not acted on); otherwise `continue`.
//!
//! Evidence: each metric reports its values, threshold, tolerance, sample sizes, every
//! test's e-value against its bar, the rule that decided, and the effect of the deciding (or
//! strongest) test with a confidence interval that holds uniformly over time: a
//! beta-binomial mixture confidence sequence (Robbins; Howard et al. 2021) on the share of
//! errors that are the canary's, mapped to a rate ratio with the pooled traffic split (exact
//! when the split is constant, approximate across steps; the tests themselves are exact).
//!
//! ## What the judge is fed
//!
//! One measurement per metric per interval, from non-overlapping windows (the runner in
//! `shipgate-canary` renders every query with the interval as its range). An empty errors
//! answer beside a requests answer is zero errors; no requests is no data.
//!
//! ## Assumptions
//!
//! Requests are independent given the rates (Poisson arrivals): the conditional binomial is
//! exact for Poisson counts. Counts from `increase()` are rounded to whole numbers.
//! Canary and baseline see the same kind of traffic (the router splits at random).
//!
//! ## References
//!
//! - Lindon, Sanden, Shirikian. Rapid Regression Detection in Software Deployments through
//!   Sequential Testing. KDD 2022.
//! - Lindon, Malek. Anytime-Valid Inference for Multinomial Count Data. NeurIPS 2022.
//! - Ramdas, Grünwald, Vovk, Shafer. Game-Theoretic Statistics and Safe Anytime-Valid
//!   Inference. Statistical Science, 2023.
//! - Howard, Ramdas, McAuliffe, Sekhon. Time-uniform, nonparametric, nonasymptotic
//!   confidence sequences. Annals of Statistics, 2021.
//! - Ville. Étude critique de la notion de collectif. 1939.

pub mod judge;
pub mod record;
pub mod rollout;
pub mod sample;
pub mod settings;
pub mod stats;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use judge::{Effect, Judge, MetricReport, Report, TestReport, Verdict, histogram_quantile};
pub use record::{
    DecisionPoint, FORMAT, RecordedInterval, Recording, RecordingError, ReplayOutcome, replay,
};
pub use rollout::{Action, Rollout};
pub use sample::{Counts, Histogram, MetricSample, Num, Observation, Side};
pub use settings::{
    ConfigProblem, Direction, Gates, HumanDuration, JudgeSettings, MetricConfig, MetricKind,
    OnInconclusive, Queries, RolloutSettings, Step, Steps,
};
