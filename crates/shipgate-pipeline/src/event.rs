//! Outcomes as events. Every decision a workflow makes (a promotion done or refused with its
//! gates, an approval, a verification, a canary's start, steps and verdict, a rollback done or
//! failed, a stale hold recovered, a freeze, a block) is one [`Event`], carrying its
//! evidence, emitted once, after the fact it reports: traffic has moved back and the ledger
//! entry is written before any listener hears of it. Listeners subscribe: the Actions step
//! summary, GitHub Deployments, notifications. A listener can never change what happened
//! or the exit code: its failures and its slowness are warnings.
//!
//! Two kinds of listener. An *inline* one (local output: the step summary, annotations) is
//! called in order, on the workflow's thread, and must not block. A *remote* one (anything
//! over a network) gets every event on a thread of its own and has until
//! [`Bus::finish`]'s time limit to deal with them; one that is not done by then is left
//! behind with a warning, so a hung webhook never holds a rollback's exit.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use shipgate_promote::Gate;

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Event {
    /// A release was made (and published, when `published`).
    Released {
        version: String,
        tag: String,
        previous: Option<String>,
        commits: usize,
        pushed: bool,
        /// The GitHub release's address, when one was created.
        url: Option<String>,
    },
    /// A version became an environment's.
    Promoted {
        env: String,
        version: String,
        from: Option<String>,
        gates: Vec<Gate>,
        /// The branch commit the environment runs at, and whether this promotion made it.
        commit: Option<String>,
        new_commit: bool,
        ledger_commit: Option<String>,
        pushed: bool,
        /// Whether the environment verifies versions by canary (the deployment is then in
        /// progress until the verdict).
        verifying: bool,
        /// Whether it is the last environment of the order.
        production: bool,
    },
    /// A promotion was refused: its gates, with those that did not pass.
    PromotionRefused {
        env: String,
        version: String,
        from: Option<String>,
        gates: Vec<Gate>,
    },
    /// A dry run asked the gates (`promote --dry-run`): what a promotion would get.
    PromotionRehearsed {
        env: String,
        version: String,
        from: Option<String>,
        gates: Vec<Gate>,
        /// When the gates were asked about (`--at`).
        at: Timestamp,
        passed: bool,
    },
    /// `promote --pr` opened a pull request with the change instead of pushing it.
    PromotionProposed {
        env: String,
        version: String,
        from: Option<String>,
        gates: Vec<Gate>,
        url: String,
    },
    /// A promotion waits for approvals: who may approve, and the command to run.
    ApprovalNeeded {
        env: String,
        version: String,
        detail: String,
        command: String,
    },
    /// Someone approved a version for an environment.
    Approved { env: String, version: String },
    /// A verification's result was recorded (by `shipgate verify` or a canary's pass).
    Verified {
        env: String,
        version: String,
        passed: bool,
        /// The evidence: a URL or text, or the canary's rule.
        evidence: Option<String>,
        /// Whether a canary decided it.
        canary: bool,
        /// The branch commit the environment runs at (a deployment to mark).
        commit: Option<String>,
        pushed: bool,
    },
    /// A canary started moving traffic (or, `replay`, rehearses on a recording).
    CanaryStarted {
        env: String,
        version: String,
        baseline: String,
        steps: usize,
        replay: bool,
    },
    /// A canary reached a step of its rollout (progress; a chat thread's updates).
    CanaryStepped {
        env: String,
        version: String,
        step: usize,
        steps: usize,
        weight: u8,
        verdict: String,
        rule: String,
        t: f64,
    },
    /// A canary's verdict, with the metric that decided and its observed value and bound.
    CanaryVerdict {
        env: String,
        version: String,
        baseline: String,
        /// `promoted`, `rolled-back` or `paused`.
        result: String,
        reason: String,
        metric: Option<String>,
        /// The deciding metric's value on the canary.
        observed: Option<f64>,
        /// The deciding metric's value on the baseline.
        baseline_observed: Option<f64>,
        bound: Option<f64>,
        decided_at_s: f64,
        /// The step the canary was at (1-based), of `steps`, with its weight.
        step: Option<usize>,
        steps: usize,
        weight: Option<u8>,
        replay: bool,
    },
    /// An environment went back to an earlier version; traffic and the ledger say so.
    RolledBack {
        env: String,
        from: String,
        to: String,
        reason: String,
        blocked: String,
        commit: Option<String>,
        /// The commit of the version rolled back from (its deployment failed).
        replaced_commit: Option<String>,
        pushed: bool,
        production: bool,
    },
    /// A rollback could not be done: traffic may be stuck on the canary.
    RollbackFailed {
        env: String,
        version: String,
        baseline: String,
        error: String,
    },
    /// A dead canary's hold was found and its traffic sent back to its baseline.
    StaleHoldRecovered {
        env: String,
        holder: String,
        version: String,
        baseline: String,
    },
    /// An environment was frozen by hand.
    Frozen { env: String, reason: String },
    /// An emergency freeze ended.
    Unfrozen { env: String },
    /// A blocked version may be promoted again.
    Unblocked { version: String, reason: String },
}

impl Event {
    /// The kebab-case name of the event's kind (`promoted`, `rolled-back` …), as
    /// configuration names it.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Released { .. } => "released",
            Event::Promoted { .. } => "promoted",
            Event::PromotionRefused { .. } => "promotion-refused",
            Event::PromotionRehearsed { .. } => "promotion-rehearsed",
            Event::PromotionProposed { .. } => "promotion-proposed",
            Event::ApprovalNeeded { .. } => "approval-needed",
            Event::Approved { .. } => "approved",
            Event::Verified { .. } => "verified",
            Event::CanaryStarted { .. } => "canary-started",
            Event::CanaryStepped { .. } => "canary-stepped",
            Event::CanaryVerdict { .. } => "canary-verdict",
            Event::RolledBack { .. } => "rolled-back",
            Event::RollbackFailed { .. } => "rollback-failed",
            Event::StaleHoldRecovered { .. } => "stale-hold-recovered",
            Event::Frozen { .. } => "frozen",
            Event::Unfrozen { .. } => "unfrozen",
            Event::Unblocked { .. } => "unblocked",
        }
    }
}

/// An event with who and when, and the run it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub at: Timestamp,
    pub by: String,
    pub run_url: Option<String>,
    #[serde(flatten)]
    pub event: Event,
}

/// What a listener says back about an event: notes for the user, and facts for the
/// outcome (`deployment` = `3`: the GitHub deployment it created).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Heard {
    pub notes: Vec<String>,
    pub facts: Vec<(String, String)>,
}

impl Heard {
    /// Nothing to say.
    pub fn nothing() -> Heard {
        Heard::default()
    }

    /// One note.
    pub fn note(text: impl Into<String>) -> Heard {
        Heard {
            notes: vec![text.into()],
            facts: Vec::new(),
        }
    }
}

/// Hears events. `on` answers what it did, or an error, which becomes a warning.
pub trait Listener: Send {
    /// A short name for warnings (`github-deployments`, `slack #ops-alerts`).
    fn name(&self) -> String;
    /// One event.
    fn on(&mut self, record: &Record) -> Result<Heard, String>;
}

/// What delivery said: notes and facts from listeners, and warnings (a failing or late
/// listener).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivered {
    pub notes: Vec<String>,
    pub facts: Vec<(String, String)>,
    pub warnings: Vec<String>,
}

impl Delivered {
    /// The last value a listener gave for `key`.
    pub fn fact(&self, key: &str) -> Option<&str> {
        self.facts
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn take(&mut self, name: &str, event: &str, reply: Result<Heard, String>) {
        match reply {
            Ok(heard) => {
                self.notes.extend(heard.notes);
                self.facts.extend(heard.facts);
            }
            Err(e) => self
                .warnings
                .push(format!("{name} did not deliver `{event}`: {e}")),
        }
    }
}

type Reply = (String, &'static str, Result<Heard, String>);

/// A remote listener's thread and the way to it.
struct Remote {
    name: String,
    events: mpsc::Sender<Record>,
}

/// Delivers events to listeners: inline ones at once, remote ones on their threads.
pub struct Bus {
    inline: Vec<Box<dyn Listener>>,
    remote: Vec<Remote>,
    replies: mpsc::Receiver<Reply>,
    reply_to: mpsc::Sender<Reply>,
    delivered: Delivered,
    /// Events emitted, in order (what a test or a summary reads back).
    log: Vec<Record>,
}

impl Default for Bus {
    fn default() -> Self {
        Bus::new()
    }
}

impl Bus {
    pub fn new() -> Bus {
        let (reply_to, replies) = mpsc::channel();
        Bus {
            inline: Vec::new(),
            remote: Vec::new(),
            replies,
            reply_to,
            delivered: Delivered::default(),
            log: Vec::new(),
        }
    }

    /// A listener called on the emitting thread (local output only).
    pub fn inline(&mut self, listener: Box<dyn Listener>) {
        self.inline.push(listener);
    }

    /// A listener called on a thread of its own (network).
    pub fn remote(&mut self, mut listener: Box<dyn Listener>) {
        let (events, inbox) = mpsc::channel::<Record>();
        let reply_to = self.reply_to.clone();
        let name = listener.name();
        let thread_name = name.clone();
        std::thread::spawn(move || {
            for record in inbox {
                let reply = listener.on(&record);
                let event = record.event.name();
                if reply_to.send((thread_name.clone(), event, reply)).is_err() {
                    break;
                }
            }
        });
        self.remote.push(Remote { name, events });
    }

    /// Emits an event: the inline listeners hear it now, the remote ones on their threads.
    pub fn emit(&mut self, record: Record) {
        for l in &mut self.inline {
            let reply = l.on(&record);
            self.delivered.take(&l.name(), record.event.name(), reply);
        }
        for r in &self.remote {
            // A listener whose thread is gone has failed already: its warning is below.
            let _ = r.events.send(record.clone());
        }
        self.log.push(record);
    }

    /// Every event emitted so far, in order.
    pub fn log(&self) -> &[Record] {
        &self.log
    }

    /// Waits at most `limit` for the remote listeners to deal with every event, then says
    /// what they said. A listener still busy is named in a warning and left behind.
    pub fn finish(mut self, limit: Duration) -> Delivered {
        let expected = self.remote.len() * self.log.len();
        let names: Vec<String> = self.remote.iter().map(|r| r.name.clone()).collect();
        // Closing the channels lets each thread end after its last event.
        self.remote.clear();
        drop(self.reply_to);
        let deadline = Instant::now() + limit;
        let mut answered: Vec<String> = Vec::new();
        while answered.len() < expected {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.replies.recv_timeout(left) {
                Ok((name, event, reply)) => {
                    self.delivered.take(&name, event, reply);
                    answered.push(name);
                }
                Err(e) => {
                    let why = match e {
                        mpsc::RecvTimeoutError::Timeout => format!(
                            "did not finish within {}",
                            shipgate_stdx::duration::HumanDuration(limit)
                        ),
                        mpsc::RecvTimeoutError::Disconnected => "stopped".to_string(),
                    };
                    for name in &names {
                        let done = answered.iter().filter(|a| *a == name).count();
                        if done < self.log.len() {
                            self.delivered.warnings.push(format!(
                                "{name} {why}: {} event(s) not delivered",
                                self.log.len() - done
                            ));
                        }
                    }
                    break;
                }
            }
        }
        self.delivered
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    fn record(event: Event) -> Record {
        Record {
            at: Timestamp::UNIX_EPOCH,
            by: "alice".into(),
            run_url: None,
            event,
        }
    }

    fn frozen(env: &str) -> Event {
        Event::Frozen {
            env: env.into(),
            reason: "incident".into(),
        }
    }

    /// Writes what it hears to a shared log; fails on `fail`, sleeps on `slow`.
    struct Probe {
        name: &'static str,
        heard: Arc<Mutex<Vec<String>>>,
        fail: bool,
        slow: Option<Duration>,
    }

    impl Listener for Probe {
        fn name(&self) -> String {
            self.name.into()
        }
        fn on(&mut self, r: &Record) -> Result<Heard, String> {
            if let Some(d) = self.slow {
                std::thread::sleep(d);
            }
            self.heard
                .lock()
                .expect("lock")
                .push(format!("{} {}", self.name, r.event.name()));
            if self.fail {
                Err("the webhook answered 500".into())
            } else {
                Ok(Heard {
                    notes: vec![format!("{} told", self.name)],
                    facts: vec![("last".into(), r.event.name().into())],
                })
            }
        }
    }

    fn probe(name: &'static str, heard: &Arc<Mutex<Vec<String>>>) -> Probe {
        Probe {
            name,
            heard: heard.clone(),
            fail: false,
            slow: None,
        }
    }

    #[test]
    fn every_listener_hears_every_event_in_order() {
        let heard = Arc::new(Mutex::new(Vec::new()));
        let mut bus = Bus::new();
        bus.inline(Box::new(probe("summary", &heard)));
        bus.remote(Box::new(probe("slack", &heard)));
        bus.emit(record(frozen("prod")));
        bus.emit(record(Event::Unfrozen { env: "prod".into() }));
        let done = bus.finish(Duration::from_secs(5));
        let heard = heard.lock().expect("lock").clone();
        let of = |n: &str| {
            heard
                .iter()
                .filter(|h| h.starts_with(n))
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(of("summary"), ["summary frozen", "summary unfrozen"]);
        assert_eq!(of("slack"), ["slack frozen", "slack unfrozen"]);
        assert_eq!(done.warnings, Vec::<String>::new());
        assert_eq!(done.notes.len(), 4);
        assert_eq!(done.fact("last"), Some("unfrozen"));
    }

    #[test]
    fn a_failing_or_hung_listener_is_a_warning_and_never_holds_the_caller() {
        let heard = Arc::new(Mutex::new(Vec::new()));
        let mut bus = Bus::new();
        bus.remote(Box::new(Probe {
            fail: true,
            ..probe("pagerduty", &heard)
        }));
        bus.remote(Box::new(Probe {
            slow: Some(Duration::from_secs(30)),
            ..probe("teams", &heard)
        }));
        bus.emit(record(frozen("prod")));
        let started = Instant::now();
        let done = bus.finish(Duration::from_millis(300));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the hung listener was waited for"
        );
        assert!(
            done.warnings.contains(
                &"pagerduty did not deliver `frozen`: the webhook answered 500".to_string()
            ),
            "{done:?}"
        );
        assert!(
            done.warnings
                .iter()
                .any(|w| w.starts_with("teams did not finish within 300ms")),
            "{done:?}"
        );
    }

    #[test]
    fn events_serialize_with_their_kind() {
        let r = record(Event::RolledBack {
            env: "prod".into(),
            from: "1.5.0".into(),
            to: "1.4.0".into(),
            reason: "p95".into(),
            blocked: "1.5.0".into(),
            commit: None,
            replaced_commit: None,
            pushed: true,
            production: true,
        });
        let v = serde_json::to_value(&r).expect("json");
        assert_eq!(v["kind"], "rolled-back");
        assert_eq!(v["by"], "alice");
        assert_eq!(v["to"], "1.4.0");
    }
}
