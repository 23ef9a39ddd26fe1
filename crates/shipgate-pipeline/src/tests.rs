//! The workflows against an in-memory ledger, fake alarms, a fake actuator and a fake
//! clock: no git, no network, no sleeps. Every fake writes to one journal, so a test reads
//! the order in which traffic moved, entries were written and listeners heard.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use shipgate_canary::{Judgement, RunError, RunOutcome, RunRequest, RunResult};
use shipgate_git::Oid;
use shipgate_judge::{MetricKind, MetricReport, Recording, Report, Verdict};
use shipgate_promote::entry::{CanarySummary, Entry, Kind};
use shipgate_promote::lock::{Hold, LockState, Taken};
use shipgate_promote::ops::{
    OpError, PromoteOutcome, PromoteRequest, Recorded, RollBackTraffic, RollbackOutcome,
    RollbackRequest, TrafficError,
};
use shipgate_promote::{AlarmFact, Gate, PromoteSettings, VerifyResult};
use shipgate_stdx::names::{EnvName, Reason, Version};

use crate::alarms::Alarms;
use crate::canary::{self, CanaryRun, Clock, Notice};
use crate::context::{EnvFacts, Stamp};
use crate::error::PipelineError;
use crate::event::{Bus, Heard, Listener, Record};
use crate::promotion::{self, Promote, Rollback, Scope};
use crate::store::Store;

type Journal = Arc<Mutex<Vec<String>>>;

fn write(journal: &Journal, line: String) {
    journal.lock().expect("journal").push(line);
}

fn lines(journal: &Journal) -> Vec<String> {
    journal.lock().expect("journal").clone()
}

fn t0() -> Timestamp {
    Timestamp::from_second(1_800_000_000).expect("a time")
}

fn oid(n: u8) -> Oid {
    Oid::from_str(&format!("{n:040x}")).expect("an id")
}

/// The ledger in memory: what runs where, what is blocked, the holds; `approvals` makes
/// promotions into those environments wait for an approval; `broken` makes every write
/// fail (a ledger that cannot be pushed).
struct MemStore {
    journal: Journal,
    now: Timestamp,
    timeout: Duration,
    runs: BTreeMap<String, (String, Option<String>)>,
    blocked: BTreeSet<String>,
    holds: BTreeMap<String, (Hold, Oid)>,
    approvals: BTreeSet<String>,
    broken: bool,
    next: u8,
}

impl MemStore {
    fn new(journal: &Journal) -> Self {
        MemStore {
            journal: journal.clone(),
            now: t0(),
            timeout: Duration::from_secs(600),
            runs: BTreeMap::new(),
            blocked: BTreeSet::new(),
            holds: BTreeMap::new(),
            approvals: BTreeSet::new(),
            broken: false,
            next: 1,
        }
    }

    /// 1.5.0 runs in prod, promoted over 1.4.0.
    fn running(journal: &Journal) -> Self {
        let mut store = MemStore::new(journal);
        store
            .runs
            .insert("prod".into(), ("1.5.0".into(), Some("1.4.0".into())));
        store
    }

    /// A canary of 1.5.0 in prod whose run died an hour ago, holding prod.
    fn dead_canary(&mut self) {
        self.holds
            .insert("prod".into(), (dead_hold("prod"), oid(7)));
    }

    fn log(&self, line: String) {
        write(&self.journal, line);
    }

    fn id(&mut self) -> Oid {
        self.next += 1;
        oid(self.next)
    }

    fn written(&self) -> Result<(), OpError> {
        if self.broken {
            Err(OpError::NotFrozen("(the ledger cannot be written)".into()))
        } else {
            Ok(())
        }
    }

    fn recorded(&mut self, entries: Vec<Entry>) -> Recorded {
        for e in &entries {
            self.log(format!("entry {}", e.summary()));
        }
        Recorded {
            entries,
            ledger_commit: self.id().to_string(),
            pushed: true,
            commit: Some(oid(99).to_string()),
            attempts: 1,
            notes: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn entry(&self, kind: Kind, env: Option<&str>, version: Option<&str>) -> Entry {
        let mut e = Entry::new(kind, "alice", self.now);
        e.environment = env.map(String::from);
        e.version = version.map(String::from);
        e
    }

    fn hold_state(&self, env: &str) -> LockState {
        match self.holds.get(env) {
            None => LockState::Free,
            Some((hold, commit)) => {
                let age = self.now.as_second() - hold.renewed_at.as_second();
                if age > self.timeout.as_secs() as i64 {
                    LockState::Stale {
                        hold: hold.clone(),
                        commit: *commit,
                    }
                } else {
                    LockState::Held {
                        hold: hold.clone(),
                        commit: *commit,
                    }
                }
            }
        }
    }

    fn rollback_entries(&mut self, req: &RollbackRequest) -> Result<RollbackOutcome, OpError> {
        self.written()?;
        let (from, _) = self
            .runs
            .get(&req.env)
            .cloned()
            .ok_or_else(|| OpError::NotFrozen(format!("nothing runs in {}", req.env)))?;
        let to = req.to.clone().unwrap_or_else(|| "0.0.0".into());
        if let Some(c) = &req.canary {
            let mut v = self.entry(Kind::Verification, Some(&req.env), Some(&from));
            v.result = Some(c.verdict);
            self.log(format!("entry {}", v.summary()));
        }
        let mut r = self.entry(Kind::Rollback, Some(&req.env), Some(&to));
        r.from = Some(from.clone());
        self.log(format!("entry {}", r.summary()));
        self.log(format!("entry block of {from}"));
        self.blocked.insert(from.clone());
        self.runs
            .insert(req.env.clone(), (to.clone(), Some(from.clone())));
        Ok(RollbackOutcome {
            environment: req.env.clone(),
            from: from.clone(),
            to,
            at: self.now,
            by: "alice".into(),
            reason: req.reason.clone(),
            commit: Some(oid(50).to_string()),
            ledger_commit: self.id().to_string(),
            pushed: true,
            blocked: from,
            replaced_commit: Some(oid(40).to_string()),
            attempts: 1,
            notes: Vec::new(),
            warnings: Vec::new(),
        })
    }
}

impl Store for MemStore {
    fn shared(&self) -> bool {
        true
    }

    fn advance_clock(&mut self, now: Timestamp) {
        self.now = self.now.max(now);
    }

    fn promote(
        &mut self,
        req: &PromoteRequest,
        stale: &mut RollBackTraffic<'_>,
    ) -> Result<PromoteOutcome, OpError> {
        let notes = self.clear_stale_hold(&req.to, stale)?;
        let from = self.runs.get(&req.to).map(|(v, _)| v.clone());
        let alarms_ok =
            !matches!(&req.alarms, AlarmFact::Read { firing, .. } if !firing.is_empty());
        let gates = vec![
            Gate {
                name: "blocked".into(),
                passed: !self.blocked.contains(&req.version),
                detail: "-".into(),
            },
            Gate {
                name: "alarms".into(),
                passed: alarms_ok,
                detail: format!("{:?}", req.alarms),
            },
            Gate {
                name: "approvals".into(),
                passed: !self.approvals.contains(&req.to),
                detail: "1 approval needed, 0 given".into(),
            },
        ];
        let passed = gates.iter().all(|g| g.passed);
        let promoted = passed && !req.dry_run;
        if promoted {
            self.written()?;
            let mut e = self.entry(Kind::Promotion, Some(&req.to), Some(&req.version));
            e.from = from.clone();
            self.log(format!("entry {}", e.summary()));
            self.runs
                .insert(req.to.clone(), (req.version.clone(), from.clone()));
        }
        Ok(PromoteOutcome {
            version: req.version.clone(),
            environment: req.to.clone(),
            from,
            promoted,
            dry_run: req.dry_run,
            gates,
            at: self.now,
            commit: promoted.then(|| oid(30).to_string()),
            new_commit: promoted,
            ledger_commit: promoted.then(|| oid(31).to_string()),
            pushed: promoted,
            attempts: 1,
            file: format!("environments/{}.toml", req.to),
            files: Vec::new(),
            deployment: None,
            pull_request: None,
            notes,
            warnings: Vec::new(),
        })
    }

    fn rollback(
        &mut self,
        req: &RollbackRequest,
        stale: &mut RollBackTraffic<'_>,
    ) -> Result<RollbackOutcome, OpError> {
        if !req.holds_lock {
            self.clear_stale_hold(&req.env, stale)?;
        }
        self.rollback_entries(req)
    }

    fn approve(&mut self, version: &str, env: &str, _push: bool) -> Result<Recorded, OpError> {
        self.written()?;
        let e = self.entry(Kind::Approval, Some(env), Some(version));
        Ok(self.recorded(vec![e]))
    }

    fn verify(
        &mut self,
        version: &str,
        env: &str,
        result: VerifyResult,
        evidence: Option<&str>,
        _push: bool,
    ) -> Result<Recorded, OpError> {
        self.written()?;
        let mut e = self.entry(Kind::Verification, Some(env), Some(version));
        e.result = Some(result);
        e.evidence = evidence.map(String::from);
        Ok(self.recorded(vec![e]))
    }

    fn freeze(&mut self, env: &str, reason: &str, _push: bool) -> Result<Recorded, OpError> {
        self.written()?;
        let mut e = self.entry(Kind::Freeze, Some(env), None);
        e.reason = Some(reason.into());
        Ok(self.recorded(vec![e]))
    }

    fn unfreeze(&mut self, env: &str, _push: bool) -> Result<Recorded, OpError> {
        self.written()?;
        let e = self.entry(Kind::Unfreeze, Some(env), None);
        Ok(self.recorded(vec![e]))
    }

    fn unblock(&mut self, version: &str, reason: &str, _push: bool) -> Result<Recorded, OpError> {
        self.written()?;
        if !self.blocked.remove(version) {
            return Err(OpError::NotBlocked(version.into()));
        }
        let mut e = self.entry(Kind::Unblock, None, Some(version));
        e.reason = Some(reason.into());
        Ok(self.recorded(vec![e]))
    }

    fn record_canary_pass(
        &mut self,
        version: &str,
        env: &str,
        summary: CanarySummary,
    ) -> Result<Recorded, OpError> {
        self.written()?;
        let mut e = self.entry(Kind::Verification, Some(env), Some(version));
        e.result = Some(VerifyResult::Pass);
        e.evidence = Some(summary.rule.clone());
        e.canary = Some(summary);
        Ok(self.recorded(vec![e]))
    }

    fn latest_move(&mut self, env: &str) -> Result<Option<Entry>, OpError> {
        Ok(self.runs.get(env).map(|(v, from)| {
            let mut e = self.entry(Kind::Promotion, Some(env), Some(v));
            e.from = from.clone();
            e
        }))
    }

    fn clear_stale_hold(
        &mut self,
        env: &str,
        stale: &mut RollBackTraffic<'_>,
    ) -> Result<Vec<String>, OpError> {
        let LockState::Stale { hold, commit } = self.hold_state(env) else {
            return Ok(Vec::new());
        };
        stale(&hold).map_err(|source| OpError::StaleRollback {
            env: env.into(),
            holder: hold.describe(),
            source,
        })?;
        self.rollback_entries(&RollbackRequest {
            env: env.into(),
            to: Some(hold.baseline_version.clone()),
            reason: "stale canary".into(),
            holds_lock: true,
            ..RollbackRequest::default()
        })?;
        self.release_hold(env, commit)?;
        Ok(vec![format!("{env}: stale hold cleared")])
    }

    fn read_hold(&mut self, env: &str) -> Result<LockState, OpError> {
        Ok(self.hold_state(env))
    }

    fn take_hold(&mut self, hold: &Hold) -> Result<Taken, OpError> {
        if self.holds.contains_key(&hold.environment) {
            return Ok(Taken::Lost);
        }
        let id = self.id();
        self.log(format!("hold {} by {}", hold.environment, hold.by));
        self.holds
            .insert(hold.environment.clone(), (hold.clone(), id));
        Ok(Taken::Ours(id))
    }

    fn renew_hold(&mut self, ours: Oid, hold: &Hold) -> Result<Taken, OpError> {
        match self.holds.get(&hold.environment) {
            Some((_, c)) if *c == ours => {
                let id = self.id();
                self.log(format!("renew {} at {}", hold.environment, hold.renewed_at));
                self.holds
                    .insert(hold.environment.clone(), (hold.clone(), id));
                Ok(Taken::Ours(id))
            }
            _ => Ok(Taken::Lost),
        }
    }

    fn release_hold(&mut self, env: &str, ours: Oid) -> Result<bool, OpError> {
        match self.holds.get(env) {
            Some((_, c)) if *c == ours => {
                self.log(format!("release {env}"));
                self.holds.remove(env);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

/// Alarms that write what they were asked and answer `firing`.
struct FakeAlarms {
    journal: Journal,
    firing: bool,
}

impl Alarms for FakeAlarms {
    fn fact(&self, env: &EnvName, version: &Version) -> AlarmFact {
        write(
            &self.journal,
            format!("alarms asked: env={env} version={version}"),
        );
        AlarmFact::Read {
            watched: "ALERTS".into(),
            firing: if self.firing {
                vec!["HighErrorRate".into()]
            } else {
                Vec::new()
            },
        }
    }
}

/// A listener that writes what it hears to the journal.
struct Probe(Journal);

impl Listener for Probe {
    fn name(&self) -> String {
        "probe".into()
    }
    fn on(&mut self, r: &Record) -> Result<Heard, String> {
        write(&self.0, format!("heard {}", r.event.name()));
        Ok(Heard::nothing())
    }
}

fn bus(journal: &Journal) -> Bus {
    let mut bus = Bus::new();
    bus.inline(Box::new(Probe(journal.clone())));
    bus
}

fn stamp() -> Stamp {
    Stamp {
        who: "alice".into(),
        now: t0(),
        run_url: None,
    }
}

const ORDER: &[&str] = &["dev", "staging", "prod"];

fn order() -> Vec<String> {
    ORDER.iter().map(|s| s.to_string()).collect()
}

/// The actuator: writes the rollback it was asked for, or fails.
fn traffic(journal: &Journal, works: bool) -> impl FnMut(&Hold) -> Result<(), TrafficError> + '_ {
    move |hold: &Hold| {
        if works {
            write(
                journal,
                format!(
                    "traffic of {} back from {} to {}",
                    hold.environment, hold.version, hold.baseline_version
                ),
            );
            Ok(())
        } else {
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionRefused,
                "kubectl: connection refused",
            )
            .into())
        }
    }
}

fn promote_req(version: &str, to: &str) -> Promote {
    Promote {
        version: Version::parse(version).expect("valid"),
        to: EnvName::parse(to).expect("valid"),
        package: None,
        dry_run: false,
        at: None,
        override_freeze: None,
        push: true,
        pr: false,
    }
}

fn dead_hold(env: &str) -> Hold {
    Hold {
        environment: env.into(),
        version: "1.5.0".into(),
        baseline_version: "1.4.0".into(),
        by: "bob".into(),
        run_url: None,
        started_at: Timestamp::from_second(t0().as_second() - 3600).expect("a time"),
        renewed_at: Timestamp::from_second(t0().as_second() - 3600).expect("a time"),
        host: "runner-7".into(),
        pid: 42,
    }
}

/// Runs `promotion::promote` against `store` with working traffic.
fn run_promote(
    store: &mut MemStore,
    journal: &Journal,
    req: &Promote,
    firing: bool,
) -> Result<promotion::Told<PromoteOutcome>, PipelineError> {
    let settings = PromoteSettings::default();
    let order = order();
    let mut traffic = traffic(journal, true);
    let alarms = FakeAlarms {
        journal: journal.clone(),
        firing,
    };
    let stamp = stamp();
    promotion::promote(
        Scope {
            store,
            traffic: &mut traffic,
            alarms: &alarms,
            stamp: &stamp,
            facts: EnvFacts {
                order: &order,
                promote: &settings,
            },
        },
        req,
        bus(journal),
    )
}

/// Runs `promotion::rollback` of prod against `store`; `works` says whether the actuator
/// can move a stale canary's traffic.
fn run_rollback(
    store: &mut MemStore,
    journal: &Journal,
    to: Option<&str>,
    works: bool,
) -> Result<promotion::Told<RollbackOutcome>, PipelineError> {
    let settings = PromoteSettings::default();
    let order = order();
    let mut traffic = traffic(journal, works);
    let stamp = stamp();
    promotion::rollback(
        Scope {
            store,
            traffic: &mut traffic,
            alarms: &FakeAlarms {
                journal: journal.clone(),
                firing: false,
            },
            stamp: &stamp,
            facts: EnvFacts {
                order: &order,
                promote: &settings,
            },
        },
        &Rollback {
            env: EnvName::parse("prod").expect("valid"),
            to: to.map(|v| Version::parse(v).expect("valid")),
            reason: Reason::parse("p95 over 2 s").expect("valid"),
            push: true,
        },
        bus(journal),
    )
}

#[test]
fn a_promotion_asks_the_alarms_by_checked_names_records_then_tells() {
    let journal = Journal::default();
    let mut store = MemStore::new(&journal);
    let told =
        run_promote(&mut store, &journal, &promote_req("1.5.0", "prod"), false).expect("runs");
    assert!(told.outcome.promoted);
    assert_eq!(
        lines(&journal),
        [
            "alarms asked: env=prod version=1.5.0",
            "entry promotion 1.5.0 to prod by alice",
            "heard promoted",
        ]
    );
    assert_eq!(told.delivered.warnings, Vec::<String>::new());
}

#[test]
fn a_firing_alarm_refuses_the_promotion_as_an_event_with_its_gates() {
    let journal = Journal::default();
    let mut store = MemStore::new(&journal);
    store.approvals.insert("prod".into());
    let told =
        run_promote(&mut store, &journal, &promote_req("1.5.0", "prod"), true).expect("runs");
    assert!(!told.outcome.promoted);
    assert_eq!(
        lines(&journal),
        [
            "alarms asked: env=prod version=1.5.0",
            "heard promotion-refused",
            "heard approval-needed",
        ]
    );
    assert!(store.runs.is_empty(), "nothing was recorded");
}

#[test]
fn a_dry_run_is_rehearsed_and_writes_nothing() {
    let journal = Journal::default();
    let mut store = MemStore::new(&journal);
    let mut req = promote_req("1.5.0", "staging");
    req.dry_run = true;
    let told = run_promote(&mut store, &journal, &req, false).expect("runs");
    assert!(!told.outcome.promoted);
    assert_eq!(
        lines(&journal),
        [
            "alarms asked: env=staging version=1.5.0",
            "heard promotion-rehearsed"
        ]
    );
}

#[test]
fn a_stale_canary_goes_back_before_the_promotion_and_is_told_first() {
    let journal = Journal::default();
    let mut store = MemStore::running(&journal);
    store.dead_canary();
    let told =
        run_promote(&mut store, &journal, &promote_req("1.6.0", "prod"), false).expect("runs");
    assert!(told.outcome.promoted);
    assert_eq!(
        lines(&journal),
        [
            "alarms asked: env=prod version=1.6.0",
            "traffic of prod back from 1.5.0 to 1.4.0",
            "entry rollback of prod from 1.5.0 to 1.4.0 by alice",
            "entry block of 1.5.0",
            "release prod",
            "entry promotion 1.6.0 to prod by alice",
            "heard stale-hold-recovered",
            "heard promoted",
        ]
    );
}

#[test]
fn a_stale_canary_whose_traffic_cannot_go_back_stops_the_command_before_any_entry() {
    let journal = Journal::default();
    let mut store = MemStore::running(&journal);
    store.dead_canary();
    let err = run_rollback(&mut store, &journal, None, false).expect_err("refused");
    assert!(
        err.to_string().contains("kubectl: connection refused"),
        "{err}"
    );
    assert_eq!(
        lines(&journal),
        Vec::<String>::new(),
        "nothing written, nothing told"
    );
    assert!(
        store.holds.contains_key("prod"),
        "the hold stays for the next try"
    );
}

#[test]
fn a_rollback_is_recorded_before_any_listener_hears_of_it() {
    let journal = Journal::default();
    let mut store = MemStore::running(&journal);
    let told = run_rollback(&mut store, &journal, Some("1.4.0"), true).expect("runs");
    assert_eq!(told.outcome.blocked, "1.5.0");
    assert_eq!(
        lines(&journal),
        [
            "entry rollback of prod from 1.5.0 to 1.4.0 by alice",
            "entry block of 1.5.0",
            "heard rolled-back",
        ]
    );
}

#[test]
fn recording_commands_write_their_entry_then_tell() {
    let journal = Journal::default();
    let mut store = MemStore::new(&journal);
    store.blocked.insert("1.5.0".into());
    let env = || EnvName::parse("prod").expect("valid");
    let reqs = [
        promotion::Record::Freeze {
            env: env(),
            reason: Reason::parse("incident 42").expect("valid"),
            push: true,
        },
        promotion::Record::Unfreeze {
            env: env(),
            push: true,
        },
        promotion::Record::Approve {
            version: Version::parse("1.6.0").expect("valid"),
            env: env(),
            push: true,
        },
        promotion::Record::Verify {
            version: Version::parse("1.6.0").expect("valid"),
            env: env(),
            result: VerifyResult::Fail,
            evidence: Some("smoke test 17 failed".into()),
            push: true,
        },
        promotion::Record::Unblock {
            version: Version::parse("1.5.0").expect("valid"),
            reason: Reason::parse("fixed by 1.5.1's config").expect("valid"),
            push: true,
        },
    ];
    for req in &reqs {
        promotion::record(&mut store, &stamp(), req, bus(&journal)).expect("runs");
    }
    assert_eq!(
        lines(&journal),
        [
            "entry freeze of prod by alice",
            "heard frozen",
            "entry unfreeze of prod by alice",
            "heard unfrozen",
            "entry approval of 1.6.0 for prod by alice",
            "heard approved",
            "entry verification of 1.6.0 in prod: fail by alice",
            "heard verified",
            "entry unblock of 1.5.0 by alice",
            "heard unblocked",
        ]
    );
    store.broken = true;
    let err = promotion::record(&mut store, &stamp(), &reqs[0], bus(&journal))
        .expect_err("the ledger cannot be written");
    assert!(matches!(err, PipelineError::Op(_)), "{err:?}");
    assert_eq!(lines(&journal).len(), 10, "a failed entry is never told");
}

/// A clock the test moves.
struct FakeClock(Cell<Duration>);

impl Clock for FakeClock {
    fn elapsed(&self) -> Duration {
        self.0.get()
    }
}

fn report(verdict: Verdict) -> Report {
    Report {
        intervals: 1,
        verdict,
        rule: match verdict {
            Verdict::Fail => "critical metric `error-rate` failed".into(),
            _ => "every step passed".into(),
        },
        metrics: vec![MetricReport {
            name: "error-rate".into(),
            kind: MetricKind::Counts,
            critical: true,
            verdict,
            rule: "error-rate ratio to baseline <= 1".into(),
            canary: Some(0.04),
            baseline: Some(0.001),
            threshold: Some(0.02),
            tolerance: 0.0,
            effect: None,
            canary_requests: 4000.0,
            baseline_requests: 36000.0,
            intervals: 4,
            inconclusive_intervals: 0,
            tests: Vec::new(),
        }],
    }
}

fn outcome(result: RunResult, verdict: Verdict) -> RunOutcome {
    RunOutcome {
        result,
        decided_at_s: 40.0,
        report: Some(report(verdict)),
        rollback_started_ms: matches!(verdict, Verdict::Fail).then_some(0.1),
        alarms: None,
        recording: Recording {
            format: "shipgate-canary-recording/2".into(),
            env: None,
            version: None,
            baseline_version: None,
            started_at: None,
            settings: Default::default(),
            intervals: Vec::new(),
        },
    }
}

fn canary_request() -> RunRequest {
    RunRequest::new("prod", "1.5.0", "1.4.0").expect("valid")
}

/// Runs a canary of 1.5.0 against 1.4.0 in prod: the rollout judges three intervals a
/// minute apart (the hold renews every 200 s of a 600 s timeout), then writes that traffic
/// went where `result` sends it and returns.
fn run_canary(
    store: Option<&mut MemStore>,
    journal: &Journal,
    result: Result<RunOutcome, RunError>,
) -> (
    Result<promotion::Told<RunOutcome>, PipelineError>,
    Vec<Notice>,
) {
    let settings = PromoteSettings {
        lock_timeout: shipgate_stdx::duration::HumanDuration(Duration::from_secs(600)),
        ..PromoteSettings::default()
    };
    let order = order();
    let mut works = traffic(journal, true);
    let stamp = stamp();
    let clock = FakeClock(Cell::new(Duration::ZERO));
    let mut notices = Vec::new();
    let mut notice = |n: Notice| notices.push(n);
    let run = CanaryRun {
        store: store.map(|s| s as &mut dyn Store),
        traffic: &mut works,
        stamp: &stamp,
        facts: EnvFacts {
            order: &order,
            promote: &settings,
        },
        clock: &clock,
        host: "runner-1".into(),
        pid: 7,
        replay: false,
        notice: &mut notice,
    };
    let told = canary::run(
        run,
        &canary_request(),
        3,
        |judged| {
            let r = report(Verdict::Continue);
            for (i, step) in [0usize, 0, 1].into_iter().enumerate() {
                clock.0.set(Duration::from_secs(120 * (i as u64 + 1)));
                judged(&Judgement {
                    t: 120.0 * (i as f64 + 1.0),
                    step: (step, [10, 50, 100][step], 3),
                    report: &r,
                });
            }
            match &result {
                Ok(o) => write(journal, format!("rollout: {}", o.result.describe())),
                Err(e) => write(journal, format!("rollout: {e}")),
            }
            result
        },
        bus(journal),
    );
    (told, notices)
}

#[test]
fn a_failed_canary_rolls_back_then_records_then_tells() {
    let journal = Journal::default();
    let mut store = MemStore::running(&journal);
    let failed = RunResult::RolledBack {
        reason: "critical metric `error-rate` failed".into(),
    };
    let (told, notices) = run_canary(
        Some(&mut store),
        &journal,
        Ok(outcome(failed, Verdict::Fail)),
    );
    let told = told.expect("runs");
    assert_eq!(told.outcome.result.exit_code(), 1);
    assert_eq!(
        lines(&journal),
        [
            "hold prod by alice",
            "heard canary-started",
            "heard canary-stepped",
            // 240 s: the first renewal due (every 200 s).
            "renew prod at 2027-01-15T08:04:00Z",
            "heard canary-stepped",
            "rollout: rolled back: critical metric `error-rate` failed",
            "entry verification of 1.5.0 in prod: fail by alice",
            "entry rollback of prod from 1.5.0 to 1.4.0 by alice",
            "entry block of 1.5.0",
            "release prod",
            "heard canary-verdict",
            "heard rolled-back",
        ]
    );
    assert!(
        notices.contains(&Notice::Progress(
            "ledger: rollback of prod from 1.5.0 to 1.4.0 recorded, 1.5.0 blocked (pushed)".into()
        )),
        "{notices:?}"
    );
    assert!(store.holds.is_empty());
}

#[test]
fn a_passing_canary_is_a_verification_and_lets_go_of_the_hold() {
    let journal = Journal::default();
    let mut store = MemStore::running(&journal);
    let (told, _) = run_canary(
        Some(&mut store),
        &journal,
        Ok(outcome(RunResult::Promoted, Verdict::Pass)),
    );
    told.expect("runs");
    let journal = lines(&journal);
    let tail: Vec<&str> = journal
        .iter()
        .rev()
        .take(4)
        .rev()
        .map(String::as_str)
        .collect();
    assert_eq!(
        tail,
        [
            "entry verification of 1.5.0 in prod: pass by alice",
            "release prod",
            "heard canary-verdict",
            "heard verified",
        ]
    );
}

#[test]
fn a_dead_canarys_stale_hold_is_rolled_back_before_the_next_canary_holds() {
    let journal = Journal::default();
    let mut store = MemStore::running(&journal);
    store.dead_canary();
    // The dead run's canary was rolled back; 1.4.0 runs again and is promoted anew.
    let (told, notices) = run_canary(
        Some(&mut store),
        &journal,
        Ok(outcome(RunResult::Promoted, Verdict::Pass)),
    );
    told.expect("runs");
    let journal = lines(&journal);
    assert_eq!(
        journal[..6],
        [
            "traffic of prod back from 1.5.0 to 1.4.0",
            "entry rollback of prod from 1.5.0 to 1.4.0 by alice",
            "entry block of 1.5.0",
            "release prod",
            "heard stale-hold-recovered",
            "hold prod by alice",
        ]
    );
    assert_eq!(journal[6], "heard canary-started");
    assert!(
        notices.contains(&Notice::Note("prod: stale hold cleared".into())),
        "{notices:?}"
    );
}

#[test]
fn another_runs_hold_refuses_the_canary_before_any_traffic_moves() {
    let journal = Journal::default();
    let mut store = MemStore::new(&journal);
    let mut live = dead_hold("prod");
    live.renewed_at = t0();
    store.holds.insert("prod".into(), (live, oid(7)));
    let (told, _) = run_canary(
        Some(&mut store),
        &journal,
        Ok(outcome(RunResult::Promoted, Verdict::Pass)),
    );
    let err = told.expect_err("held");
    assert!(err.to_string().contains("bob"), "{err}");
    assert_eq!(
        lines(&journal),
        Vec::<String>::new(),
        "no rollout, no event"
    );
}

#[test]
fn a_verdict_whose_entry_cannot_be_written_is_an_error_after_traffic_moved() {
    let journal = Journal::default();
    let mut store = MemStore::running(&journal);
    store.broken = true;
    let failed = RunResult::RolledBack {
        reason: "critical metric `error-rate` failed".into(),
    };
    let (told, _) = run_canary(
        Some(&mut store),
        &journal,
        Ok(outcome(failed, Verdict::Fail)),
    );
    let err = told.expect_err("the entry is missing");
    assert!(
        matches!(err, PipelineError::VerdictNotRecorded { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("the canary 1.5.0 (rolled back: critical metric"),
        "{err}"
    );
    let journal = lines(&journal);
    let rollout = journal
        .iter()
        .position(|l| l.starts_with("rollout: rolled back"))
        .expect("the rollout ran");
    assert_eq!(journal[rollout + 1..], ["heard canary-verdict"]);
    assert!(
        store.holds.contains_key("prod"),
        "the hold stays: traffic and ledger disagree"
    );
}

#[test]
fn a_canary_without_promote_tells_its_verdict_only() {
    let journal = Journal::default();
    let failed = RunResult::RolledBack {
        reason: "critical metric `error-rate` failed".into(),
    };
    let (told, _) = run_canary(None, &journal, Ok(outcome(failed, Verdict::Fail)));
    told.expect("runs");
    assert_eq!(
        lines(&journal),
        [
            "heard canary-started",
            "heard canary-stepped",
            "heard canary-stepped",
            "rollout: rolled back: critical metric `error-rate` failed",
            "heard canary-verdict",
        ]
    );
}

#[test]
fn the_ledger_names_the_canary_and_its_baseline() {
    let journal = Journal::default();
    let mut store = MemStore::new(&journal);
    assert!(matches!(
        canary::versions(&mut store, "prod", None, None),
        Err(PipelineError::NoPromotion { .. })
    ));
    store.runs.insert("prod".into(), ("1.5.0".into(), None));
    assert!(matches!(
        canary::versions(&mut store, "prod", None, None),
        Err(PipelineError::NoBaseline { .. })
    ));
    assert_eq!(
        canary::versions(&mut store, "prod", None, Some("1.3.0")).expect("given"),
        ("1.5.0".to_string(), "1.3.0".to_string())
    );
    store
        .runs
        .insert("prod".into(), ("1.5.0".into(), Some("1.4.0".into())));
    assert_eq!(
        canary::versions(&mut store, "prod", Some("1.5.0"), None).expect("from the ledger"),
        ("1.5.0".to_string(), "1.4.0".to_string())
    );
    let err = canary::versions(&mut store, "prod", Some("1.6.0"), None).expect_err("not latest");
    assert_eq!(
        err.hint().as_deref(),
        Some("promote it first (shipgate promote 1.6.0 --to prod), or run the canary of 1.5.0")
    );
}

#[test]
fn a_stale_hold_with_hostile_names_never_reaches_an_actuator() {
    // A hold is read from the ledger: outside text. Its names are checked before the
    // actuator is even chosen (the settings here have none, which would be the next error).
    let canary = shipgate_canary::CanarySettings::default();
    for (env, version) in [
        ("prod;id", "1.5.0"),
        ("prod", "1.5.0$(id)"),
        ("..", "1.5.0"),
    ] {
        let mut hold = dead_hold(env);
        hold.version = version.into();
        let err = canary::actuator_rollback(&canary, &hold, &|_| None).expect_err("refused");
        assert!(
            err.to_string().contains("is not a valid"),
            "{env} {version}: {err}"
        );
    }
    let err =
        canary::actuator_rollback(&canary, &dead_hold("prod"), &|_| None).expect_err("no actuator");
    assert!(err.to_string().contains("no actuator"), "{err}");
}
