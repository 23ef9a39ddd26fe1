//! What a live `canary run` does with the ledger when `[promote]` is configured: clears a
//! dead canary's stale hold first, holds the environment while it runs (renewing the hold),
//! and records the verdict for (version, environment): a pass, or the failed verification,
//! the rollback and the block through the same code as `shipgate rollback`. Traffic moves
//! first; an entry that cannot be written is exit 2, loudly.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use jiff::Timestamp;
use shipgate_canary::{RunOutcome, RunRequest, RunResult};
use shipgate_git::Oid;
use shipgate_judge::Verdict;
use shipgate_promote::VerifyResult;
use shipgate_promote::entry::CanarySummary;
use shipgate_promote::lock::{self, Hold, LockState, Taken};
use shipgate_promote::ops::{self, RollbackRequest};

use crate::promote_cmd::Setup;

/// The run's hold and what it needs to record the verdict.
pub struct CanaryLedger {
    setup: Setup,
    request: RunRequest,
    hold: Hold,
    commit: Oid,
    started_at: Timestamp,
    started: Instant,
    last_renew: Instant,
    renew_every: Duration,
    released: bool,
}

impl CanaryLedger {
    /// Clears a stale hold of the environment, then takes the hold (exit 2 when another run
    /// holds it). [`versions`] has just fetched the remote's ledger and holds with the same
    /// `setup`, so what is cleared and taken is the remote's state of a moment ago.
    pub fn start(setup: Setup, request: &RunRequest) -> anyhow::Result<Self> {
        let env = request.env.to_string();
        let remote = setup.context().remote().map(String::from);
        {
            let ctx = setup.context();
            let mut roll_back = setup.roll_back_stale();
            for note in ops::clear_stale_hold(&ctx, &env, remote.is_some(), &mut roll_back)? {
                crate::actions::note(&note);
            }
        }
        let hold = Hold {
            environment: env.clone(),
            version: request.version.to_string(),
            baseline_version: request.baseline_version.to_string(),
            by: setup.who.clone(),
            run_url: setup.run_url.clone(),
            started_at: setup.now,
            renewed_at: setup.now,
            host: std::fs::read_to_string("/etc/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_else(|_| "unknown".into()),
            pid: std::process::id(),
        };
        let commit = match lock::take(&setup.repo, remote.as_deref(), &hold)? {
            Taken::Ours(c) => c,
            Taken::Lost => {
                let holder = match lock::read(
                    &setup.repo,
                    remote.as_deref(),
                    &env,
                    setup.now,
                    setup.promote.lock_timeout.0,
                )? {
                    LockState::Held { hold, .. } | LockState::Stale { hold, .. } => hold.describe(),
                    LockState::Free => "another run (it let go meanwhile: re-run)".into(),
                };
                return Err(ops::OpError::Held { env, holder }.into());
            }
        };
        let timeout = setup.promote.lock_timeout.0;
        let started_at = setup.now;
        Ok(CanaryLedger {
            setup,
            request: request.clone(),
            hold,
            commit,
            started_at,
            started: Instant::now(),
            last_renew: Instant::now(),
            // Three renewals fit in a timeout: one lost push does not make the hold stale.
            renew_every: (timeout / 3).max(Duration::from_secs(1)),
            released: false,
        })
    }

    fn now(&self) -> Timestamp {
        let elapsed = self.started.elapsed().as_secs() as i64;
        Timestamp::from_second(self.started_at.as_second() + elapsed).unwrap_or(self.started_at)
    }

    /// Renews the hold when it is due (called after every judgement).
    pub fn renew(&mut self, _t: f64) {
        if self.last_renew.elapsed() < self.renew_every {
            return;
        }
        self.last_renew = Instant::now();
        self.hold.renewed_at = self.now();
        let remote = self.setup.context().remote().map(String::from);
        match lock::renew(&self.setup.repo, remote.as_deref(), self.commit, &self.hold) {
            Ok(Taken::Ours(c)) => self.commit = c,
            Ok(Taken::Lost) => crate::actions::warning(
                &format!(
                    "the hold of {} was taken over while this canary runs; another run may move traffic",
                    self.hold.environment
                ),
                None,
            ),
            Err(e) => crate::actions::warning(
                &format!("cannot renew the hold of {}: {e}", self.hold.environment),
                None,
            ),
        }
    }

    /// A run that ended in an error keeps its hold: traffic may be anywhere, and the next
    /// command for the environment rolls it back once the hold is stale.
    pub fn leave_held(&mut self) {
        crate::actions::warning(
            &format!(
                "{} stays held by this run; once it is stale (after {}), the next canary run, promote or rollback for {} rolls the canary back",
                self.hold.environment, self.setup.promote.lock_timeout, self.hold.environment
            ),
            None,
        );
    }

    fn summary(&self, outcome: &RunOutcome, verdict: VerifyResult) -> CanarySummary {
        let report = outcome.report.as_ref();
        CanarySummary {
            verdict,
            decided_at_s: outcome.decided_at_s,
            metric: report.and_then(|r| {
                r.metrics
                    .iter()
                    .find(|m| m.critical && m.verdict == Verdict::Fail)
                    .map(|m| m.name.clone())
            }),
            rule: match &outcome.result {
                RunResult::RolledBack { reason } | RunResult::Paused { reason } => reason.clone(),
                RunResult::Promoted => report.map(|r| r.rule.clone()).unwrap_or_default(),
            },
            baseline_version: self.request.baseline_version.to_string(),
        }
    }

    /// Records the verdict and lets go of the hold (a paused canary keeps it).
    pub fn finish(&mut self, outcome: &RunOutcome) -> anyhow::Result<()> {
        self.setup.now = self.now();
        let env = self.request.env.to_string();
        let version = self.request.version.to_string();
        let push = self.setup.context().remote().is_some();
        match &outcome.result {
            RunResult::Promoted => {
                let summary = self.summary(outcome, VerifyResult::Pass);
                let done = ops::record_canary_pass(&self.setup.context(), &version, &env, summary)?;
                crate::promote_cmd::warnings(&self.setup, &done.warnings, done.pushed);
                crate::actions::errln!(
                    "ledger: verification of {version} in {env}: pass ({})",
                    if done.pushed {
                        "pushed"
                    } else {
                        "recorded here"
                    }
                );
            }
            RunResult::RolledBack { reason } => {
                // The judge decided (a verdict time exists) or the run was interrupted.
                let judged = outcome.rollback_started_ms.is_some();
                let requested = Timestamp::from_second(
                    self.started_at.as_second() + outcome.decided_at_s as i64,
                )
                .unwrap_or(self.setup.now);
                let req = RollbackRequest {
                    env: env.clone(),
                    to: Some(self.request.baseline_version.to_string()),
                    reason: if judged {
                        format!("canary failed: {reason}")
                    } else {
                        format!("canary stopped: {reason}")
                    },
                    push,
                    requested_at: Some(requested),
                    canary: judged.then(|| self.summary(outcome, VerifyResult::Fail)),
                    holds_lock: true,
                };
                let mut nothing = |_: &Hold| Ok(());
                let done = ops::rollback(&self.setup.context(), &req, &mut nothing)
                    .context("traffic went back to the baseline")?;
                crate::promote_cmd::warnings(&self.setup, &done.warnings, done.pushed);
                crate::actions::errln!(
                    "ledger: rollback of {env} from {} to {} recorded, {} blocked ({})",
                    done.from,
                    done.to,
                    done.blocked,
                    if done.pushed {
                        "pushed"
                    } else {
                        "recorded here"
                    }
                );
            }
            RunResult::Paused { .. } => {
                crate::actions::warning(
                    &format!(
                        "the canary is paused: {env} stays held by this run until someone decides; once stale (after {}), the next command for {env} rolls it back",
                        self.setup.promote.lock_timeout
                    ),
                    None,
                );
                return Ok(());
            }
        }
        self.release();
        Ok(())
    }

    fn release(&mut self) {
        if self.released {
            return;
        }
        let remote = self.setup.context().remote().map(String::from);
        match lock::release(
            &self.setup.repo,
            remote.as_deref(),
            &self.hold.environment,
            self.commit,
        ) {
            Ok(true) => self.released = true,
            Ok(false) => crate::actions::warning(
                &format!(
                    "the hold of {} was no longer this run's",
                    self.hold.environment
                ),
                None,
            ),
            Err(e) => crate::actions::warning(
                &format!("cannot release the hold of {}: {e}", self.hold.environment),
                None,
            ),
        }
    }
}

/// The canary's and the baseline's versions for a live run with `[promote]`: the
/// environment's latest promotion is the canary (its version), and what it replaced is the
/// baseline (its `from`), as the ledger recorded them; a version given on the command line
/// must be that promotion's. A canary of anything else would judge and roll back a version
/// the ledger does not say runs there: exit 2 before any traffic moves.
pub fn versions(
    setup: &Setup,
    env: &str,
    canary: Option<&str>,
    baseline: Option<&str>,
) -> anyhow::Result<(Option<String>, Option<String>)> {
    let remote = setup.context().remote().is_some();
    let latest = ops::latest_move(&setup.context(), env, remote)?;
    let promoted = match &latest {
        Some(e) if matches!(e.kind, shipgate_promote::entry::Kind::Promotion) => e.version.clone(),
        _ => None,
    };
    let Some(promoted) = promoted else {
        let runs = latest
            .as_ref()
            .and_then(|e| e.version.as_deref())
            .map_or("nothing promoted".to_string(), |v| {
                format!("{v}, put back by a rollback")
            });
        return Err(crate::cli::hinted(
            format!(
                "no promotion into {env} to run a canary of (the ledger says {env} runs {runs})"
            ),
            format!("promote the version first: shipgate promote VERSION --to {env}"),
        ));
    };
    if let Some(c) = canary.filter(|c| *c != promoted) {
        return Err(crate::cli::hinted(
            format!(
                "the canary's version {c} is not {env}'s latest promotion ({promoted}, per the ledger)"
            ),
            format!(
                "promote it first (shipgate promote {c} --to {env}), or run the canary of {promoted}"
            ),
        ));
    }
    let from = latest.and_then(|e| e.from);
    let baseline = match (baseline, from) {
        (Some(b), _) => b.to_string(),
        (None, Some(f)) => f,
        (None, None) => {
            return Err(crate::cli::hinted(
                format!(
                    "{promoted} is the first version promoted into {env}: there is no baseline to judge it against"
                ),
                "give the version serving the rest of the traffic with --baseline-version",
            ));
        }
    };
    Ok((Some(promoted), Some(baseline)))
}
