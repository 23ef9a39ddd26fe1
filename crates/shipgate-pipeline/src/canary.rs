//! `canary run`'s workflow around the rollout: with `[promote]`, which versions the
//! ledger says to judge, a dead canary's stale hold cleared first (its traffic back), the
//! environment held while the canary runs (the hold renewed as it goes), and the verdict
//! recorded: a pass, or the failed verification, the rollback and the block through the
//! same code as `shipgate rollback`. Then the events: the rollout's start and steps as they
//! happen, its verdict, and what the ledger recorded. Traffic moves first (the rollout
//! itself, in `shipgate-canary`, rolls back before it returns), the entry is written next,
//! and only then do listeners hear of it. An entry that cannot be written is an error,
//! loudly: traffic and ledger disagree.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use shipgate_canary::runner::ActuatorFailure;
use shipgate_canary::{Judgement, RunError, RunOutcome, RunRequest, RunResult};
use shipgate_git::Oid;
use shipgate_judge::Verdict;
use shipgate_promote::VerifyResult;
use shipgate_promote::entry::{CanarySummary, Kind};
use shipgate_promote::lock::{Hold, LockState, Taken};
use shipgate_promote::ops::{OpError, RollBackTraffic, RollbackRequest, TrafficError};

use crate::context::{EnvFacts, Stamp};
use crate::error::PipelineError;
use crate::event::{Bus, Event};
use crate::promotion::{LISTENER_LIMIT, Told, rolled_back, verified};
use crate::store::Store;

/// Time as a run sees it pass: monotonic, from the run's start.
pub trait Clock {
    /// How long since the run started.
    fn elapsed(&self) -> Duration;
}

/// The machine's monotonic clock.
pub struct Monotonic(Instant);

impl Monotonic {
    /// Starts now.
    pub fn start() -> Self {
        Monotonic(Instant::now())
    }
}

impl Clock for Monotonic {
    fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
}

/// Something to tell the person watching, as it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A line of progress (`ledger: rollback of prod from 1.5.0 to 1.4.0 recorded …`).
    Progress(String),
    /// Something done on the way (a stale canary's traffic sent back).
    Note(String),
    /// Something that needs a person's eye.
    Warning(String),
}

/// A dead canary's traffic back to its baseline, through `[canary]`'s actuator for its
/// environment (the one `Actuator::from_settings` picks): what the next command for an
/// environment does when it finds a stale hold. The hold's names are checked again (it was
/// read from the ledger: outside text) before any command is built from them.
pub fn actuator_rollback(
    canary: &shipgate_canary::CanarySettings,
    hold: &Hold,
    env_var: &dyn Fn(&str) -> Option<String>,
) -> Result<(), TrafficError> {
    use shipgate_canary::runner::Traffic;
    shipgate_stdx::names::check_env(&hold.environment)?;
    for v in [&hold.version, &hold.baseline_version] {
        shipgate_stdx::names::check_version(v)?;
    }
    let settings = canary
        .for_env(&hold.environment)
        .map_err(RunError::Settings)?;
    let vars = shipgate_canary::ActuatorVars {
        version: hold.version.clone(),
        baseline_version: hold.baseline_version.clone(),
        env: hold.environment.clone(),
        step: 0,
    };
    shipgate_canary::Actuator::from_settings(&settings, vars, env_var)?.rollback()?;
    Ok(())
}

/// The canary's and the baseline's versions for a live run with `[promote]`: the
/// environment's latest promotion is the canary, and what it replaced is the baseline, as
/// the ledger recorded them; a version given on the command line must be that promotion's.
/// A canary of anything else would judge and roll back a version the ledger does not say
/// runs there: an error before any traffic moves.
pub fn versions(
    store: &mut dyn Store,
    env: &str,
    canary: Option<&str>,
    baseline: Option<&str>,
) -> Result<(String, String), PipelineError> {
    let latest = store.latest_move(env)?;
    let promoted = match &latest {
        Some(e) if matches!(e.kind, Kind::Promotion) => e.version.clone(),
        _ => None,
    };
    let Some(promoted) = promoted else {
        let runs = latest
            .as_ref()
            .and_then(|e| e.version.as_deref())
            .map_or("nothing promoted".to_string(), |v| {
                format!("{v}, put back by a rollback")
            });
        return Err(PipelineError::NoPromotion {
            env: env.to_string(),
            runs,
        });
    };
    if let Some(c) = canary.filter(|c| *c != promoted) {
        return Err(PipelineError::NotLatest {
            env: env.to_string(),
            given: c.to_string(),
            promoted,
        });
    }
    let baseline = match (baseline, latest.and_then(|e| e.from)) {
        (Some(b), _) => b.to_string(),
        (None, Some(f)) => f,
        (None, None) => {
            return Err(PipelineError::NoBaseline {
                env: env.to_string(),
                version: promoted,
            });
        }
    };
    Ok((promoted, baseline))
}

/// What a canary run runs against.
pub struct CanaryRun<'a> {
    /// The ledger, for a live run with `[promote]`; None for a replay or without it.
    pub store: Option<&'a mut dyn Store>,
    /// A dead canary's traffic back to its baseline (the actuator).
    pub traffic: &'a mut RollBackTraffic<'a>,
    pub stamp: &'a Stamp,
    pub facts: EnvFacts<'a>,
    pub clock: &'a dyn Clock,
    /// The machine and process the hold names.
    pub host: String,
    pub pid: u32,
    /// A rehearsal on a recording.
    pub replay: bool,
    /// Notes and warnings as they happen.
    pub notice: &'a mut dyn FnMut(Notice),
}

/// The environment's hold while the canary runs.
struct Held<'s> {
    store: &'s mut dyn Store,
    hold: Hold,
    commit: Oid,
    started_at: Timestamp,
    last_renew: Duration,
    renew_every: Duration,
    lock_timeout: Duration,
}

impl Held<'_> {
    fn now(&self, clock: &dyn Clock) -> Timestamp {
        at(self.started_at, clock)
    }

    /// Renews the hold when it is due (after each judgement).
    fn renew(&mut self, clock: &dyn Clock, notice: &mut dyn FnMut(Notice)) {
        let elapsed = clock.elapsed();
        if elapsed.saturating_sub(self.last_renew) < self.renew_every {
            return;
        }
        self.last_renew = elapsed;
        self.hold.renewed_at = self.now(clock);
        let env = &self.hold.environment;
        match self.store.renew_hold(self.commit, &self.hold) {
            Ok(Taken::Ours(c)) => self.commit = c,
            Ok(Taken::Lost) => notice(Notice::Warning(format!(
                "the hold of {env} was taken over while this canary runs; another run may move traffic"
            ))),
            Err(e) => notice(Notice::Warning(format!(
                "cannot renew the hold of {env}: {e}"
            ))),
        }
    }

    fn release(&mut self, notice: &mut dyn FnMut(Notice)) {
        let env = &self.hold.environment;
        match self.store.release_hold(env, self.commit) {
            Ok(true) => {}
            Ok(false) => notice(Notice::Warning(format!(
                "the hold of {env} was no longer this run's"
            ))),
            Err(e) => notice(Notice::Warning(format!(
                "cannot release the hold of {env}: {e}"
            ))),
        }
    }
}

fn at(start: Timestamp, clock: &dyn Clock) -> Timestamp {
    let elapsed = clock.elapsed().as_secs() as i64;
    Timestamp::from_second(start.as_second() + elapsed).unwrap_or(start)
}

/// Clears a stale hold of the environment, then takes the hold (an error when another run
/// holds it).
fn hold<'s>(
    store: &'s mut dyn Store,
    c: &mut CanaryRun<'_>,
    bus: &mut Bus,
    request: &RunRequest,
) -> Result<Held<'s>, PipelineError> {
    let env = request.env.to_string();
    let cleared = crate::promotion::recovering(c.traffic, bus, c.stamp, |stale| {
        store.clear_stale_hold(&env, stale)
    })?;
    for note in cleared {
        (c.notice)(Notice::Note(note));
    }
    let now = c.stamp.now;
    let hold = Hold {
        environment: env.clone(),
        version: request.version.to_string(),
        baseline_version: request.baseline_version.to_string(),
        by: c.stamp.who.clone(),
        run_url: c.stamp.run_url.clone(),
        started_at: now,
        renewed_at: now,
        host: c.host.clone(),
        pid: c.pid,
    };
    let commit = match store.take_hold(&hold)? {
        Taken::Ours(commit) => commit,
        Taken::Lost => {
            let holder = match store.read_hold(&env)? {
                LockState::Held { hold, .. } | LockState::Stale { hold, .. } => hold.describe(),
                LockState::Free => "another run (it let go meanwhile: re-run)".into(),
            };
            return Err(OpError::Held { env, holder }.into());
        }
    };
    let timeout = c.facts.promote.lock_timeout.0;
    Ok(Held {
        store,
        hold,
        commit,
        started_at: now,
        last_renew: c.clock.elapsed(),
        // Three renewals fit in a timeout: one lost push does not make the hold stale.
        renew_every: (timeout / 3).max(Duration::from_secs(1)),
        lock_timeout: timeout,
    })
}

/// The ledger's summary of a verdict.
fn summary(request: &RunRequest, outcome: &RunOutcome, verdict: VerifyResult) -> CanarySummary {
    let report = outcome.report.as_ref();
    CanarySummary {
        verdict,
        decided_at_s: outcome.decided_at_s,
        metric: deciding(outcome).map(|m| m.name.clone()),
        rule: match &outcome.result {
            RunResult::RolledBack { reason } | RunResult::Paused { reason } => reason.clone(),
            RunResult::Promoted => report.map(|r| r.rule.clone()).unwrap_or_default(),
        },
        baseline_version: request.baseline_version.to_string(),
    }
}

/// The metric that failed the canary, if one did.
fn deciding(outcome: &RunOutcome) -> Option<&shipgate_judge::MetricReport> {
    outcome
        .report
        .as_ref()?
        .metrics
        .iter()
        .find(|m| m.critical && m.verdict == Verdict::Fail)
}

fn verdict_event(
    request: &RunRequest,
    outcome: &RunOutcome,
    reached: Option<(usize, usize, u8)>,
    steps: usize,
    replay: bool,
) -> Event {
    let (result, reason) = match &outcome.result {
        RunResult::Promoted => (
            "promoted",
            outcome
                .report
                .as_ref()
                .map(|r| r.rule.clone())
                .unwrap_or_default(),
        ),
        RunResult::RolledBack { reason } => ("rolled-back", reason.clone()),
        RunResult::Paused { reason } => ("paused", reason.clone()),
    };
    let metric = deciding(outcome);
    Event::CanaryVerdict {
        env: request.env.to_string(),
        version: request.version.to_string(),
        baseline: request.baseline_version.to_string(),
        result: result.into(),
        reason,
        metric: metric.map(|m| m.name.clone()),
        observed: metric.and_then(|m| m.canary),
        baseline_observed: metric.and_then(|m| m.baseline),
        bound: metric.and_then(|m| m.threshold),
        decided_at_s: outcome.decided_at_s,
        step: reached.map(|(step, _, _)| step),
        steps: reached.map_or(steps, |(_, steps, _)| steps),
        weight: reached.map(|(_, _, weight)| weight),
        replay,
    }
}

/// Records the verdict (a pass, or the rollback and the block) and lets go of the hold (a
/// paused canary keeps it). Returns the event of what was recorded.
fn record_verdict(
    held: &mut Held<'_>,
    c: &mut CanaryRun<'_>,
    request: &RunRequest,
    outcome: &RunOutcome,
) -> Result<Option<Event>, PipelineError> {
    let env = request.env.to_string();
    let version = request.version.to_string();
    let event = match &outcome.result {
        RunResult::Promoted => {
            let s = summary(request, outcome, VerifyResult::Pass);
            let done = held.store.record_canary_pass(&version, &env, s)?;
            for w in &done.warnings {
                (c.notice)(Notice::Warning(w.clone()));
            }
            (c.notice)(Notice::Progress(format!(
                "ledger: verification of {version} in {env}: pass ({})",
                if done.pushed {
                    "pushed"
                } else {
                    "recorded here"
                }
            )));
            verified(&env, &version, &done, true)
        }
        RunResult::RolledBack { reason } => {
            // The judge decided (a verdict time exists) or the run was interrupted.
            let judged = outcome.rollback_started_ms.is_some();
            let requested =
                Timestamp::from_second(held.started_at.as_second() + outcome.decided_at_s as i64)
                    .unwrap_or(c.stamp.now);
            let req = RollbackRequest {
                env: env.clone(),
                to: Some(request.baseline_version.to_string()),
                reason: if judged {
                    format!("canary failed: {reason}")
                } else {
                    format!("canary stopped: {reason}")
                },
                push: held.store.shared(),
                requested_at: Some(requested),
                canary: judged.then(|| summary(request, outcome, VerifyResult::Fail)),
                holds_lock: true,
            };
            let mut nothing = |_: &Hold| Ok(());
            let done = held.store.rollback(&req, &mut nothing)?;
            for w in &done.warnings {
                (c.notice)(Notice::Warning(w.clone()));
            }
            (c.notice)(Notice::Progress(format!(
                "ledger: rollback of {env} from {} to {} recorded, {} blocked ({})",
                done.from,
                done.to,
                done.blocked,
                if done.pushed {
                    "pushed"
                } else {
                    "recorded here"
                }
            )));
            Some(rolled_back(&done, c.facts))
        }
        RunResult::Paused { .. } => {
            (c.notice)(Notice::Warning(format!(
                "the canary is paused: {env} stays held by this run until someone decides; once stale (after {}), the next command for {env} rolls it back",
                shipgate_stdx::duration::HumanDuration(held.lock_timeout)
            )));
            return Ok(None);
        }
    };
    held.release(&mut *c.notice);
    Ok(event)
}

/// A live or replayed canary run: the hold (with `[promote]`), the rollout (`rollout`,
/// which gets a callback for every judgement and returns once traffic is where the verdict
/// sends it), the verdict's entry, then the events.
pub fn run<F>(
    mut c: CanaryRun<'_>,
    request: &RunRequest,
    steps: usize,
    rollout: F,
    mut bus: Bus,
) -> Result<Told<RunOutcome>, PipelineError>
where
    F: FnOnce(&mut dyn FnMut(&Judgement<'_>)) -> Result<RunOutcome, RunError>,
{
    let store = c.store.take();
    let mut held = match store {
        Some(store) => match hold(store, &mut c, &mut bus, request) {
            Ok(h) => Some(h),
            Err(e) => {
                bus.finish(LISTENER_LIMIT);
                return Err(e);
            }
        },
        None => None,
    };
    let (env, version, baseline) = (
        request.env.to_string(),
        request.version.to_string(),
        request.baseline_version.to_string(),
    );
    bus.emit(c.stamp.record(Event::CanaryStarted {
        env: env.clone(),
        version: version.clone(),
        baseline: baseline.clone(),
        steps,
        replay: c.replay,
    }));
    let started_at = c.stamp.now;
    let mut reached: Option<(usize, usize, u8)> = None;
    let result = {
        let mut last_step: Option<usize> = None;
        let reached = &mut reached;
        let (clock, notice, stamp) = (c.clock, &mut *c.notice, c.stamp);
        let mut judged = |j: &Judgement<'_>| {
            if let Some(h) = held.as_mut() {
                h.renew(clock, notice);
            }
            let (step, weight, steps) = j.step;
            *reached = Some((step + 1, steps, weight));
            if last_step != Some(step) {
                last_step = Some(step);
                let mut r = stamp.record(Event::CanaryStepped {
                    env: env.clone(),
                    version: version.clone(),
                    step: step + 1,
                    steps,
                    weight,
                    verdict: j.report.verdict.as_str().to_string(),
                    rule: j.report.rule.clone(),
                    t: j.t,
                });
                r.at = at(started_at, clock);
                bus.emit(r);
            }
        };
        rollout(&mut judged)
    };
    let now = at(started_at, c.clock);
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(e) => {
            if let Some(h) = held.as_ref() {
                (c.notice)(Notice::Warning(format!(
                    "{env} stays held by this run; once it is stale (after {}), the next canary run, promote or rollback for {env} rolls the canary back",
                    shipgate_stdx::duration::HumanDuration(h.lock_timeout)
                )));
            }
            if let RunError::Actuator(failure) = &e
                && let ActuatorFailure {
                    rollback: Some(rollback),
                    ..
                } = failure.as_ref()
            {
                let mut r = c.stamp.record(Event::RollbackFailed {
                    env: env.clone(),
                    version: version.clone(),
                    baseline: baseline.clone(),
                    error: rollback.to_string(),
                });
                r.at = now;
                bus.emit(r);
            }
            bus.finish(LISTENER_LIMIT);
            return Err(e.into());
        }
    };
    let recorded = match held.as_mut() {
        Some(h) => {
            h.store.advance_clock(now);
            record_verdict(h, &mut c, request, &outcome)
        }
        None => Ok(None),
    };
    let mut verdict = c
        .stamp
        .record(verdict_event(request, &outcome, reached, steps, c.replay));
    verdict.at = now;
    bus.emit(verdict);
    match recorded {
        Ok(Some(event)) => {
            let mut r = c.stamp.record(event);
            r.at = now;
            bus.emit(r);
        }
        Ok(None) => {}
        Err(source) => {
            bus.finish(LISTENER_LIMIT);
            return Err(PipelineError::VerdictNotRecorded {
                version,
                result: outcome.result.describe(),
                source: Box::new(source),
            });
        }
    }
    Ok(Told {
        outcome,
        delivered: bus.finish(LISTENER_LIMIT),
    })
}
