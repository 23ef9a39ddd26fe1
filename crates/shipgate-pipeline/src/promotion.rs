//! The promotion workflows: `promote`, `rollback`, `approve`, `verify`, `freeze`,
//! `unfreeze`, `unblock`. Each takes a request whose names are already typed (checked once,
//! where the caller built it), asks the gates and the ledger through the [`Store`] port,
//! then tells the listeners: a stale canary recovered first, then what the command did.
//! Listeners hear of a rollback only once its traffic and its entry are done, and what they
//! say (or fail to) never changes the outcome.

use std::time::Duration;

use jiff::Timestamp;
use shipgate_promote::lock::Hold;
use shipgate_promote::ops::{
    PromoteOutcome, PromoteRequest, Recorded, RollBackTraffic, RollbackOutcome, RollbackRequest,
};
use shipgate_promote::{Gate, VerifyResult};
use shipgate_stdx::names::{EnvName, Reason, Version};

use crate::alarms::Alarms;
use crate::context::{EnvFacts, Stamp};
use crate::error::PipelineError;
use crate::event::{Bus, Delivered, Event};
use crate::store::Store;

/// How long listeners may take after a command is done, before they are left behind
/// with a warning.
pub const LISTENER_LIMIT: Duration = Duration::from_secs(20);

/// `shipgate promote VERSION --to ENV`.
#[derive(Debug, Clone)]
pub struct Promote {
    pub version: Version,
    pub to: EnvName,
    /// One crate's releases (`{crate}-v{version}` tags).
    pub package: Option<String>,
    pub dry_run: bool,
    /// With `dry_run`: the time to ask the gates about.
    pub at: Option<Timestamp>,
    /// `--override-freeze --reason`.
    pub override_freeze: Option<Reason>,
    pub push: bool,
    pub pr: bool,
}

/// `shipgate rollback --env ENV [--to VERSION] --reason TEXT`.
#[derive(Debug, Clone)]
pub struct Rollback {
    pub env: EnvName,
    pub to: Option<Version>,
    pub reason: Reason,
    pub push: bool,
}

/// A command that only writes entries.
#[derive(Debug, Clone)]
pub enum Record {
    Approve {
        version: Version,
        env: EnvName,
        push: bool,
    },
    Verify {
        version: Version,
        env: EnvName,
        result: VerifyResult,
        evidence: Option<String>,
        push: bool,
    },
    Freeze {
        env: EnvName,
        reason: Reason,
        push: bool,
    },
    Unfreeze {
        env: EnvName,
        push: bool,
    },
    Unblock {
        version: Version,
        reason: Reason,
        push: bool,
    },
}

/// What a workflow runs against: the ledger, the stale canaries' traffic, the alarms, who
/// and when, and the environments' facts.
pub struct Scope<'a> {
    pub store: &'a mut dyn Store,
    /// A dead canary's traffic back to its baseline (its actuator).
    pub traffic: &'a mut RollBackTraffic<'a>,
    pub alarms: &'a dyn Alarms,
    pub stamp: &'a Stamp,
    pub facts: EnvFacts<'a>,
}

/// A workflow's outcome and what its listeners said.
#[derive(Debug)]
pub struct Told<T> {
    pub outcome: T,
    pub delivered: Delivered,
}

/// Runs `work` with a stale-hold rollback that remembers the holds it cleared; then emits
/// one `stale-hold-recovered` event per hold, before anything `work` itself emits.
pub(crate) fn recovering<T>(
    traffic: &mut RollBackTraffic<'_>,
    bus: &mut Bus,
    stamp: &Stamp,
    work: impl FnOnce(&mut RollBackTraffic<'_>) -> T,
) -> T {
    let mut recovered: Vec<Hold> = Vec::new();
    let out = {
        let mut watching = |hold: &Hold| {
            let done = traffic(hold);
            if done.is_ok() {
                recovered.push(hold.clone());
            }
            done
        };
        work(&mut watching)
    };
    for hold in recovered {
        bus.emit(stamp.record(Event::StaleHoldRecovered {
            env: hold.environment.clone(),
            holder: hold.describe(),
            version: hold.version.clone(),
            baseline: hold.baseline_version.clone(),
        }));
    }
    out
}

fn approvals_failed(gates: &[Gate]) -> Option<&Gate> {
    gates.iter().find(|g| g.name == "approvals" && !g.passed)
}

/// `shipgate promote`: the alarms read (with checked names only), the gates and the entry,
/// then the events: a recovered stale canary, then promoted, refused, proposed (`--pr`) or
/// rehearsed (`--dry-run`), and an approval needed when that gate said no.
pub fn promote(
    scope: Scope<'_>,
    req: &Promote,
    mut bus: Bus,
) -> Result<Told<PromoteOutcome>, PipelineError> {
    let alarms = scope.alarms.fact(&req.to, &req.version);
    let request = PromoteRequest {
        version: req.version.to_string(),
        to: req.to.to_string(),
        package: req.package.clone(),
        dry_run: req.dry_run,
        at: req.at,
        override_freeze: req.override_freeze.as_ref().map(ToString::to_string),
        push: req.push,
        pr: req.pr,
        alarms,
    };
    let store = scope.store;
    let done = recovering(scope.traffic, &mut bus, scope.stamp, |stale| {
        store.promote(&request, stale)
    });
    let mut out = match done {
        Ok(out) => out,
        Err(e) => {
            bus.finish(LISTENER_LIMIT);
            return Err(e.into());
        }
    };
    let (env, version) = (out.environment.clone(), out.version.clone());
    let passed = out.gates.iter().all(|g| g.passed);
    let event = if out.dry_run {
        Event::PromotionRehearsed {
            env: env.clone(),
            version: version.clone(),
            from: out.from.clone(),
            gates: out.gates.clone(),
            at: out.at,
            passed,
        }
    } else if out.promoted {
        Event::Promoted {
            env: env.clone(),
            version: version.clone(),
            from: out.from.clone(),
            gates: out.gates.clone(),
            commit: out.commit.clone(),
            new_commit: out.new_commit,
            ledger_commit: out.ledger_commit.clone(),
            pushed: out.pushed,
            verifying: scope.facts.verifying(&env),
            production: scope.facts.production(&env),
        }
    } else if let Some(url) = &out.pull_request {
        Event::PromotionProposed {
            env: env.clone(),
            version: version.clone(),
            from: out.from.clone(),
            gates: out.gates.clone(),
            url: url.clone(),
        }
    } else {
        Event::PromotionRefused {
            env: env.clone(),
            version: version.clone(),
            from: out.from.clone(),
            gates: out.gates.clone(),
        }
    };
    bus.emit(scope.stamp.record(event));
    if let Some(gate) = approvals_failed(&out.gates) {
        bus.emit(scope.stamp.record(Event::ApprovalNeeded {
            env: env.clone(),
            version: version.clone(),
            detail: gate.detail.clone(),
            command: format!("shipgate approve {version} --env {env}"),
        }));
    }
    let delivered = bus.finish(LISTENER_LIMIT);
    out.deployment = delivered.fact("deployment").and_then(|d| d.parse().ok());
    Ok(Told {
        outcome: out,
        delivered,
    })
}

/// The event of a rollback that is done (traffic and entries).
pub fn rolled_back(out: &RollbackOutcome, facts: EnvFacts<'_>) -> Event {
    Event::RolledBack {
        env: out.environment.clone(),
        from: out.from.clone(),
        to: out.to.clone(),
        reason: out.reason.clone(),
        blocked: out.blocked.clone(),
        commit: out.commit.clone(),
        replaced_commit: out.replaced_commit.clone(),
        pushed: out.pushed,
        production: facts.production(&out.environment),
    }
}

/// `shipgate rollback`: never frozen, never held by approvals or soak; the version rolled
/// back from is blocked. The events follow the entries.
pub fn rollback(
    scope: Scope<'_>,
    req: &Rollback,
    mut bus: Bus,
) -> Result<Told<RollbackOutcome>, PipelineError> {
    let request = RollbackRequest {
        env: req.env.to_string(),
        to: req.to.as_ref().map(ToString::to_string),
        reason: req.reason.to_string(),
        push: req.push,
        ..RollbackRequest::default()
    };
    let store = scope.store;
    let done = recovering(scope.traffic, &mut bus, scope.stamp, |stale| {
        store.rollback(&request, stale)
    });
    let out = match done {
        Ok(out) => out,
        Err(e) => {
            bus.finish(LISTENER_LIMIT);
            return Err(e.into());
        }
    };
    bus.emit(scope.stamp.record(rolled_back(&out, scope.facts)));
    Ok(Told {
        delivered: bus.finish(LISTENER_LIMIT),
        outcome: out,
    })
}

/// The event of a verification entry.
pub fn verified(env: &str, version: &str, done: &Recorded, canary: bool) -> Option<Event> {
    let entry = done.entries.first()?;
    Some(Event::Verified {
        env: env.to_string(),
        version: version.to_string(),
        passed: entry.result == Some(VerifyResult::Pass),
        evidence: entry.evidence.clone(),
        canary,
        commit: done.commit.clone(),
        pushed: done.pushed,
    })
}

/// `approve`, `verify`, `freeze`, `unfreeze`, `unblock`: the entry, then its event.
pub fn record(
    store: &mut dyn Store,
    stamp: &Stamp,
    req: &Record,
    mut bus: Bus,
) -> Result<Told<Recorded>, PipelineError> {
    let (done, event) = match req {
        Record::Approve { version, env, push } => {
            let done = store.approve(version, env, *push)?;
            let event = Event::Approved {
                env: env.to_string(),
                version: version.to_string(),
            };
            (done, Some(event))
        }
        Record::Verify {
            version,
            env,
            result,
            evidence,
            push,
        } => {
            let done = store.verify(version, env, *result, evidence.as_deref(), *push)?;
            let event = verified(env, version, &done, false);
            (done, event)
        }
        Record::Freeze { env, reason, push } => {
            let done = store.freeze(env, reason, *push)?;
            let event = Event::Frozen {
                env: env.to_string(),
                reason: reason.to_string(),
            };
            (done, Some(event))
        }
        Record::Unfreeze { env, push } => {
            let done = store.unfreeze(env, *push)?;
            (
                done,
                Some(Event::Unfrozen {
                    env: env.to_string(),
                }),
            )
        }
        Record::Unblock {
            version,
            reason,
            push,
        } => {
            let done = store.unblock(version, reason, *push)?;
            let event = Event::Unblocked {
                version: version.to_string(),
                reason: reason.to_string(),
            };
            (done, Some(event))
        }
    };
    if let Some(event) = event {
        bus.emit(stamp.record(event));
    }
    Ok(Told {
        outcome: done,
        delivered: bus.finish(LISTENER_LIMIT),
    })
}
