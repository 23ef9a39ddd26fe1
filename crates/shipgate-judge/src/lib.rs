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
//! `(theta/pi0)^x ((1-theta)/(1-pi0))^(N-x)`; the e-process is the mixture of the running
//! products over `rho = rho0 * c` with `rho0 = 1 + tolerance`. The likelihood ratio
//! increases with `x`, so every ratio at or below `rho0` is covered by the null (a composite
//! null). For `direction = "lower"` (success rates) the mixture is mirrored: `rho = rho0 / c`,
//! `rho0 = 1 - tolerance`. This is the conditional-binomial mixture sequential probability
//! ratio test of Lindon et al. (KDD 2022).
//!
//! The mixing distribution ([`stats::PRIOR_WEIGHTS`]) puts weight 0.73 on `c = 2`, 0.15 on
//! 1.25, and 0.04, 0.03, 0.01 and 0.04 on 1.5, 3, 5 and 50. A mixture pays `ln(1/w)` nats
//! of evidence for the weight `w` near the true ratio, out of the `ln(1/alpha)` it needs,
//! and what a nat costs depends on the ratio. A 2x regression on 1,000 canary requests at
//! 0.5 % gathers about 1.7 nats a 10-s interval, so a nat is most of an interval and the
//! time to a decision moves in whole intervals; a 1.25x regression gathers about 0.15 nats
//! an interval and needs minutes whatever the weights, so a few points of weight more or
//! less change it by seconds; 3x and more gather so fast that a small weight costs them
//! nothing; and 50x is for errors only the canary makes (a dozen errors all on the canary
//! are explained only by a large ratio). The weights were chosen by simulation: the most
//! weight on 2x that keeps the mean detection time of every effect size in the benchmark's
//! sweep (1.25x to 5x) within about 3 % of the six equally weighted points used until 0.1
//! (1.25x to 10x), and 12 errors all on the canary a failure. Any mixing distribution fixed
//! in advance keeps the e-process valid.
//!
//! Sparse errors need no special case: 12 canary errors against none at equal traffic give
//! an e-value well above 100 (fail at alpha = 1 %); a single error at most 2.
//!
//! ## Untidy traffic: extra-binomial variation
//!
//! The conditional binomial assumes the canary's share of an interval's errors is fixed by
//! the traffic split. On real traffic each pod's error rate wanders from interval to
//! interval (noisy neighbours, garbage-collection pauses, cold caches), and with the canary
//! on one or two pods the share wanders with it: the counts are *overdispersed*, the plain
//! likelihood ratio overstates the evidence, and no-change canaries were rolled back about
//! four times as often as `alpha` said (10 pods, per-pod per-interval variation of 30 %).
//! Shared drift and bursts do not matter: they cancel in the share.
//!
//! If the share `π̃_t` varies around `π_t` with variance `ς π(1 − π)` (intra-class correlation
//! `ς`, the beta-binomial model of Williams 1982), the errors' variance is inflated by
//! `φ_t = 1 + (N_t − 1) ς`. The judge raises each interval's likelihood ratio to the power
//! `w_t = 1/φ_t` ([`stats::temper`]): a tempered, quasi-likelihood ratio (Wedderburn 1974;
//! the learning rate of Grünwald's safe Bayes). `w_t ≤ 1` keeps it an e-value under the
//! plain binomial (Jensen); under the overdispersed null a second-order expansion of
//! `E[L^w]` gives `ln E ≈ (N π(1 − π) δ²/2) · w (w φ − 1)`, `δ` the log-odds step, which
//! is at most 0 exactly when `w ≤ 1/φ`. The product of tempered ratios, mixed over `rho`,
//! is therefore an e-process whenever `ς` is not underestimated.
//!
//! `ς` is estimated *predictably*, from earlier intervals only, so the weight of an
//! interval never depends on how its own errors split ([`stats::Dispersion`]):
//!
//! - With `pod-label` (e.g. `sum by (pod) (...)`), from the pods: within an interval, pods
//!   of one side share an error rate whatever the hypothesis, so Pearson's statistic across
//!   them beyond its degrees of freedom estimates the squared coefficient of variation
//!   `cv²` of a pod's rate (method of moments, DerSimonian & Laird 1986); then
//!   `ς = π(1 − π) cv² (1/k_c + 1/k_b)` with `k` each side's traffic-weighted number of pods.
//!   Eight or more degrees of freedom an interval with ten pods.
//! - Without it, from the intervals alone: Pearson's residual of the canary's share against
//!   the share the earlier intervals' pooled ratio predicts, beyond its expectation, per
//!   extra error, estimates `ς` itself. One degree of freedom an interval, so it learns
//!   slowly, and its noise would temper clean traffic that needs none (a 1.25x regression
//!   took 18 % longer in simulation). So it is used only once Pearson's statistic over the
//!   intervals so far passes its 99th percentile, and it is shrunk towards 0 while it rests
//!   on few intervals. Clean traffic keeps its full weight; variation that shows is
//!   allowed for from then on.
//! - With pods, before anything is learnt (the first interval), a pod's rate is assumed to
//!   vary by 25 %: one interval with a canary pod's rate tripled by chance is otherwise the
//!   same as a 3x regression, and that is where most false rollbacks on overdispersed
//!   traffic come from. The pod estimate is shrunk towards this default while it rests on
//!   little data; the default fades within two or three intervals of ten pods. Without pods
//!   there is no default: it would slow every clean canary.
//!
//! Latency uses the same construction per compared bucket bound (the pods' counts above
//! the bound).
//!
//! What breaks it: a `ς` that grows during the run faster than the estimate follows (the
//! early intervals are weighed with what was known then); a null share that is not
//! centred on the traffic split (a canary pod that is slower or more error-prone because
//! it is *new*, e.g. cold caches, is a real difference to this test, not noise); pods whose
//! rates are correlated within a side (a shared dependency failing) look like drift, which
//! cancels, but correlation *across* sides beyond drift is not modelled; and the
//! second-order argument is approximate for very large steps (`rho ≥ 5`) when `ς` is large.
//! Measured (`cargo xtask bench judge`, 1,000 one-hour runs at alpha = 1 %, ten pods, the
//! canary on one): with per-pod, per-interval variation of 30 % and 40 %, no-change
//! canaries were rolled back in 2.0 % and 5.2 % of runs before, 0.4 % and 0.8 % with
//! `pod-label` (at most 1.2 % in any pods case, canary on 1 to 5 pods, within the
//! sampling error of 1 %), and 2.1 % and 4.2 % from intervals alone: the test at 99 %
//! shows the variation late, and the early intervals, which decide most false rollbacks,
//! are weighed in full. The price of the pods' default is time on clean traffic: a 2x
//! regression on one pod is caught in a median 40 s with `pod-label`, 30 s without.
//!
//! The absolute-threshold (SLO) tests are not tempered: a wandering rate against a fixed
//! `p0` is a different question (the canary's mean rate), left as is.
//!
//! ## Absolute thresholds (SLOs)
//!
//! "Error rate at most `p0`" (e.g. 0.1 %): `x ~ Binomial(n, p)`, `p <= p0`, mixed over
//! `p = c p0`, `c` in {1.25, 1.5, 2, 3, 5, 10} equally weighted ([`stats::RATIO_GRID`]; `p`
//! kept below 1). A latency SLO "p95 below 2 s" is the same test on
//! the share of requests above the first histogram bound at or above 2 s, with `p0 = 0.05`;
//! a bound above the threshold only makes the test conservative.
//!
//! ## Latency against the baseline (tail regressions)
//!
//! A Prometheus histogram gives, per interval, request counts per bucket. Once the baseline
//! has served `min-requests`, the bounds nearest the p50, p95 and p99 (`compare-quantiles`)
//! of the pooled histogram (canary and baseline together, up to and including that
//! interval) are frozen, and from that interval on the counts above each bound, canary
//! against baseline, are tested like error counts. Testing the interval the bounds were
//! chosen on stays valid: with no change, canary and baseline requests are exchangeable, so
//! given the pooled histogram (and so the bound) which of the requests above the bound are
//! the canary's is a draw without replacement, and sampling without replacement only
//! lowers the expectation of the binomial likelihood ratio, a convex function of the
//! canary's count (Hoeffding 1963). With a `tolerance` above 0 the null also allows a
//! slightly worse canary, which then pulls the pooled quantile by its share of the
//! traffic; that choice is no longer exactly independent, a second-order effect. Choosing
//! on the pooled histogram instead of earlier intervals saves the first interval: a
//! 2.4x tail regression is caught 10 s sooner. A shift of the whole distribution moves the
//! p50 bound's counts; a tail regression (p99 +20 %, median unchanged) the p99 bound's.
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
//! exact for Poisson counts; extra variation of the rates between pods and intervals is
//! estimated and allowed for as above. Counts from `increase()` are rounded to whole
//! numbers. Canary and baseline see the same kind of traffic (the router splits at random).
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
//! - Hoeffding. Probability inequalities for sums of bounded random variables. JASA, 1963
//!   (sampling without replacement is dominated by sampling with replacement in convex order).
//! - Williams. Extra-binomial variation in logistic linear models. Applied Statistics, 1982.
//! - Wedderburn. Quasi-likelihood functions, generalized linear models, and the
//!   Gauss-Newton method. Biometrika, 1974.
//! - DerSimonian, Laird. Meta-analysis in clinical trials. Controlled Clinical Trials, 1986.
//! - Grünwald, van Ommen. Inconsistency of Bayesian inference for misspecified linear
//!   models, and a proposal for repairing it. Bayesian Analysis, 2017.
//! - Waudby-Smith, Ramdas. Estimating means of bounded random variables by betting. JRSS B,
//!   2024 (predictable plug-ins keep a process an e-process).

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
pub use sample::{ByPod, Counts, Histogram, MetricSample, Num, Observation, Side};
pub use settings::{
    ConfigProblem, Direction, Gates, HumanDuration, JudgeSettings, MetricConfig, MetricKind,
    OnInconclusive, Queries, RolloutSettings, Step, Steps,
};
