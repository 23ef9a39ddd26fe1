//! The gates of a promotion: pure functions of the ledger's state, the settings, the time
//! and the facts about the version. Every gate is evaluated and reported, passed or not,
//! with its evidence in words; the promotion happens only when all pass. Missing evidence
//! never passes a gate.

use jiff::Timestamp;

use crate::entry::{Gate, VerifyResult};
use crate::settings::{PromoteSettings, Verification};
use crate::state::{LedgerState, VersionFacts};

/// The gates' names, in the order they are reported; `alarms` follows when the environment
/// has alarms configured.
pub const GATES: [&str; 8] = [
    "previous-environment",
    "soak",
    "version-order",
    "blocked",
    "configuration",
    "freeze",
    "approvals",
    "lock",
];

/// Whether another run holds the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockFact {
    /// No run holds it (or a stale hold was cleared first).
    Free,
    /// A canary or promotion is in flight.
    Held {
        /// In words: what holds it, who, since when, which run.
        holder: String,
    },
}

/// The target environment's alarms, as the caller read them (CloudWatch, Prometheus).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AlarmFact {
    /// `[promote.env.<ENV>]` names no alarms: the gate is not evaluated.
    #[default]
    NotConfigured,
    /// Read: what fires, in words (empty: nothing), and how many were watched.
    Read {
        /// Each alarm in `ALARM` and each firing alert, in words.
        firing: Vec<String>,
        /// In words: the alarms watched and their states.
        watched: String,
    },
    /// The alarms could not be read: never a pass.
    Unreadable(String),
}

/// Everything the gates look at.
#[derive(Debug, Clone)]
pub struct GateInput<'a> {
    /// The target environment.
    pub target: &'a str,
    /// The version to promote.
    pub version: &'a str,
    /// `[environments] order`.
    pub order: &'a [String],
    /// `[promote]`.
    pub settings: &'a PromoteSettings,
    /// The ledger's state.
    pub state: &'a LedgerState,
    /// The version's history.
    pub facts: &'a VersionFacts,
    /// The time the gates are asked about.
    pub now: Timestamp,
    /// Who promotes.
    pub promoter: &'a str,
    /// The target environment's configuration with the new version: `Ok(what was
    /// checked)` or the problems, each in words with its file and line.
    pub configuration: &'a Result<String, Vec<String>>,
    /// `--override-freeze --reason`.
    pub override_freeze: Option<&'a str>,
    /// The environment's hold.
    pub lock: &'a LockFact,
    /// The environment's alarms.
    pub alarms: &'a AlarmFact,
}

fn gate(name: &str, passed: bool, detail: String) -> Gate {
    Gate {
        name: name.to_string(),
        passed,
        detail,
    }
}

fn ago(now: Timestamp, then: Timestamp) -> String {
    let secs = (now.as_second() - then.as_second()).max(0);
    shipgate_stdx::duration::HumanDuration(std::time::Duration::from_secs(secs as u64)).to_string()
}

/// Every gate of promoting `input.version` into `input.target`, in [`GATES`] order.
pub fn evaluate(input: &GateInput<'_>) -> Vec<Gate> {
    let previous = previous_env(input);
    vec![
        previous_environment(input, previous),
        soak(input, previous),
        version_order(input),
        blocked(input),
        configuration(input),
        freeze(input),
        approvals(input),
        lock(input),
    ]
    .into_iter()
    .chain(alarms(input))
    .collect()
}

/// Whether every gate passed.
pub fn all_passed(gates: &[Gate]) -> bool {
    gates.iter().all(|g| g.passed)
}

fn previous_env<'a>(input: &GateInput<'a>) -> Option<&'a str> {
    let i = input.order.iter().position(|e| e == input.target)?;
    i.checked_sub(1).map(|p| input.order[p].as_str())
}

fn previous_environment(input: &GateInput<'_>, previous: Option<&str>) -> Gate {
    const NAME: &str = "previous-environment";
    let Some(prev) = previous else {
        return gate(
            NAME,
            true,
            format!("{} is the first environment", input.target),
        );
    };
    let facts = input.facts.environments.get(prev);
    let Some(last) = facts.and_then(|f| f.promoted.last()) else {
        return gate(
            NAME,
            false,
            format!("{} never ran in {prev}", input.version),
        );
    };
    if input.settings.for_env(prev).verification == Verification::None {
        return gate(
            NAME,
            true,
            format!(
                "ran in {prev} (promoted {} ago; {prev} needs no verification)",
                ago(input.now, *last)
            ),
        );
    }
    match facts.and_then(|f| f.verification.as_ref()) {
        Some(v) if v.result == VerifyResult::Pass => gate(
            NAME,
            true,
            format!(
                "verified in {prev}: {} passed {} ago (by {})",
                match v.source {
                    crate::entry::Source::Canary => "canary",
                    crate::entry::Source::Verify => "verification",
                },
                ago(input.now, v.at),
                v.by
            ),
        ),
        Some(v) => gate(
            NAME,
            false,
            format!(
                "its latest verification in {prev} failed ({} ago, by {})",
                ago(input.now, v.at),
                v.by
            ),
        ),
        None => gate(
            NAME,
            false,
            format!(
                "ran in {prev} but has no passing verification there (a canary verdict or `shipgate verify`)"
            ),
        ),
    }
}

fn soak(input: &GateInput<'_>, previous: Option<&str>) -> Gate {
    const NAME: &str = "soak";
    let Some(soak) = input.settings.for_env(input.target).soak else {
        return gate(NAME, true, format!("{} needs no soak", input.target));
    };
    let Some(prev) = previous else {
        return gate(
            NAME,
            true,
            format!(
                "{} is the first environment: nothing to soak in",
                input.target
            ),
        );
    };
    let facts = input.facts.environments.get(prev);
    let since = if input.settings.for_env(prev).verification == Verification::None {
        facts.and_then(|f| f.promoted.last().copied())
    } else {
        facts
            .and_then(|f| f.verification.as_ref())
            .filter(|v| v.result == VerifyResult::Pass)
            .map(|v| v.at)
    };
    let Some(since) = since else {
        return gate(
            NAME,
            false,
            format!("needs {soak} in {prev} after a passing verification; it has none"),
        );
    };
    let soaked = input.now.as_second() - since.as_second();
    let needed = soak.0.as_secs() as i64;
    if soaked >= needed {
        gate(
            NAME,
            true,
            format!("soaked {} in {prev} (needs {soak})", ago(input.now, since)),
        )
    } else {
        let ready = Timestamp::from_second(since.as_second() + needed)
            .map(|t| t.to_string())
            .unwrap_or_default();
        gate(
            NAME,
            false,
            format!(
                "soaked {} of {soak} in {prev}; ready at {ready}",
                ago(input.now, since)
            ),
        )
    }
}

fn version_order(input: &GateInput<'_>) -> Gate {
    const NAME: &str = "version-order";
    let current = input
        .state
        .environments
        .get(input.target)
        .and_then(|e| e.version.as_deref());
    let Some(current) = current else {
        return gate(NAME, true, format!("first promotion to {}", input.target));
    };
    if current == input.version {
        return gate(
            NAME,
            false,
            format!("{} already runs in {}", input.version, input.target),
        );
    }
    match (
        semver::Version::parse(input.version),
        semver::Version::parse(current),
    ) {
        (Ok(new), Ok(old)) if new > old => {
            gate(NAME, true, format!("{new} is newer than {old}, which runs"))
        }
        (Ok(new), Ok(old)) => gate(
            NAME,
            false,
            format!(
                "{new} is older than {old}, which runs in {}; going back is `shipgate rollback --env {} --to {new} --reason …`",
                input.target, input.target
            ),
        ),
        _ => gate(
            NAME,
            false,
            format!(
                "`{}` and `{current}` cannot be ordered (not both SemVer)",
                input.version
            ),
        ),
    }
}

fn blocked(input: &GateInput<'_>) -> Gate {
    const NAME: &str = "blocked";
    match input.state.blocked.get(input.version) {
        None => gate(NAME, true, format!("{} is not blocked", input.version)),
        Some(b) => gate(
            NAME,
            false,
            format!(
                "{} is blocked since {}{} by {}: {}; `shipgate unblock {} --reason …` lifts it",
                input.version,
                b.at,
                b.environment
                    .as_ref()
                    .map(|e| format!(" (rolled back in {e})"))
                    .unwrap_or_default(),
                b.by,
                b.reason,
                input.version
            ),
        ),
    }
}

fn configuration(input: &GateInput<'_>) -> Gate {
    const NAME: &str = "configuration";
    match input.configuration {
        Ok(what) => gate(NAME, true, what.clone()),
        Err(problems) => gate(
            NAME,
            false,
            format!(
                "{} does not validate with {}: {}",
                input.target,
                input.version,
                problems.join("; ")
            ),
        ),
    }
}

fn freeze(input: &GateInput<'_>) -> Gate {
    const NAME: &str = "freeze";
    let gates = input.settings.for_env(input.target);
    let mut frozen: Vec<String> = gates
        .freeze
        .iter()
        .filter(|w| w.contains(input.now))
        .map(|w| format!("freeze window {w}"))
        .collect();
    if let Some(f) = input
        .state
        .environments
        .get(input.target)
        .and_then(|e| e.freeze.as_ref())
    {
        frozen.push(format!(
            "emergency freeze by {} since {}: {}",
            f.by, f.at, f.reason
        ));
    }
    if frozen.is_empty() {
        return gate(
            NAME,
            true,
            format!("{} is not frozen at {}", input.target, input.now),
        );
    }
    let what = frozen.join("; ");
    match input.override_freeze {
        Some(reason) if gates.allow_freeze_override => gate(
            NAME,
            true,
            format!(
                "frozen ({what}), overridden by {}: {reason}",
                input.promoter
            ),
        ),
        Some(_) => gate(
            NAME,
            false,
            format!(
                "frozen ({what}); {} sets allow-freeze-override = false",
                input.target
            ),
        ),
        None => gate(NAME, false, format!("frozen at {}: {what}", input.now)),
    }
}

fn approvals(input: &GateInput<'_>) -> Gate {
    const NAME: &str = "approvals";
    let needed = input.settings.for_env(input.target).approvals as usize;
    let given = input
        .facts
        .environments
        .get(input.target)
        .map(|f| f.approvals.as_slice())
        .unwrap_or_default();
    let mut approvers: Vec<&str> = Vec::new();
    let mut own = false;
    for a in given {
        if a.by == input.promoter {
            own = true;
        } else if !approvers.contains(&a.by.as_str()) {
            approvers.push(&a.by);
        }
    }
    let own_note = if own {
        format!(" ({}'s own approval does not count)", input.promoter)
    } else {
        String::new()
    };
    if needed == 0 {
        return gate(NAME, true, format!("{} needs no approval", input.target));
    }
    let names = if approvers.is_empty() {
        "none".to_string()
    } else {
        approvers.join(", ")
    };
    gate(
        NAME,
        approvers.len() >= needed,
        format!(
            "{} of {needed} distinct approvers: {names}{own_note}",
            approvers.len()
        ),
    )
}

fn lock(input: &GateInput<'_>) -> Gate {
    const NAME: &str = "lock";
    match input.lock {
        LockFact::Free => gate(
            NAME,
            true,
            format!("no canary or promotion in flight in {}", input.target),
        ),
        LockFact::Held { holder } => {
            gate(NAME, false, format!("{} is held: {holder}", input.target))
        }
    }
}

/// No promotion into an environment whose alarms fire; alarms that cannot be read refuse
/// too. Only promotions ask it: a rollback is never held by it.
fn alarms(input: &GateInput<'_>) -> Option<Gate> {
    const NAME: &str = "alarms";
    Some(match input.alarms {
        AlarmFact::NotConfigured => return None,
        AlarmFact::Read { firing, watched } if firing.is_empty() => gate(
            NAME,
            true,
            format!("none firing in {}: {watched}", input.target),
        ),
        AlarmFact::Read { firing, .. } => gate(
            NAME,
            false,
            format!("{} is alarming: {}", input.target, firing.join("; ")),
        ),
        AlarmFact::Unreadable(why) => gate(
            NAME,
            false,
            format!(
                "the alarms of {} could not be read, so they are not known to be quiet: {why}",
                input.target
            ),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{Entry, Kind, Source};
    use crate::settings::EnvPromote;
    use crate::state::Indexes;

    fn at(t: &str) -> Timestamp {
        t.parse().expect("timestamp")
    }

    fn order() -> Vec<String> {
        ["dev", "staging", "prod"].map(String::from).into()
    }

    fn settings() -> PromoteSettings {
        let mut s = PromoteSettings::default();
        s.env.insert(
            "dev".into(),
            EnvPromote {
                verification: Verification::None,
                allow_freeze_override: true,
                ..EnvPromote::default()
            },
        );
        s.env.insert(
            "prod".into(),
            EnvPromote {
                soak: Some(shipgate_stdx::duration::HumanDuration::parse("2h").expect("d")),
                approvals: 2,
                allow_freeze_override: true,
                freeze: vec![],
                ..EnvPromote::default()
            },
        );
        s
    }

    fn e(kind: Kind, env: &str, v: &str, t: &str, by: &str) -> Entry {
        Entry {
            environment: Some(env.into()),
            version: Some(v.into()),
            ..Entry::new(kind, by, at(t))
        }
    }

    fn pass(env: &str, v: &str, t: &str) -> Entry {
        Entry {
            result: Some(VerifyResult::Pass),
            source: Some(Source::Canary),
            ..e(Kind::Verification, env, v, t, "ci")
        }
    }

    /// 1.3.0 runs in prod; 1.4.0 went through dev and staging and passed there at 08:00.
    fn history() -> Vec<Entry> {
        vec![
            e(
                Kind::Promotion,
                "prod",
                "1.3.0",
                "2026-11-01T10:00:00Z",
                "alice",
            ),
            e(
                Kind::Promotion,
                "dev",
                "1.4.0",
                "2026-12-01T07:00:00Z",
                "ci",
            ),
            e(
                Kind::Promotion,
                "staging",
                "1.4.0",
                "2026-12-01T07:30:00Z",
                "ci",
            ),
            pass("staging", "1.4.0", "2026-12-01T08:00:00Z"),
            e(
                Kind::Approval,
                "prod",
                "1.4.0",
                "2026-12-01T08:10:00Z",
                "bob",
            ),
            e(
                Kind::Approval,
                "prod",
                "1.4.0",
                "2026-12-01T08:11:00Z",
                "alice",
            ),
            e(
                Kind::Approval,
                "prod",
                "1.4.0",
                "2026-12-01T08:12:00Z",
                "bob",
            ),
        ]
    }

    fn run(entries: &[Entry], target: &str, version: &str, now: &str, promoter: &str) -> Vec<Gate> {
        run_alarmed(
            entries,
            target,
            version,
            now,
            promoter,
            &AlarmFact::NotConfigured,
        )
    }

    fn run_alarmed(
        entries: &[Entry],
        target: &str,
        version: &str,
        now: &str,
        promoter: &str,
        alarms: &AlarmFact,
    ) -> Vec<Gate> {
        let ix = Indexes::rebuild(entries);
        let facts = ix.versions.get(version).cloned().unwrap_or_default();
        let order = order();
        let settings = settings();
        let config = Ok("configuration validates".to_string());
        evaluate(&GateInput {
            target,
            version,
            order: &order,
            settings: &settings,
            state: &ix.state,
            facts: &facts,
            now: at(now),
            promoter,
            configuration: &config,
            override_freeze: None,
            lock: &LockFact::Free,
            alarms,
        })
    }

    fn verdicts(gates: &[Gate]) -> Vec<(&str, bool)> {
        gates.iter().map(|g| (g.name.as_str(), g.passed)).collect()
    }

    fn detail<'a>(gates: &'a [Gate], name: &str) -> &'a str {
        gates
            .iter()
            .find(|g| g.name == name)
            .map(|g| g.detail.as_str())
            .unwrap_or_default()
    }

    #[test]
    fn every_gate_is_reported_in_order() {
        let gates = run(&history(), "prod", "1.4.0", "2026-12-01T11:00:00Z", "carol");
        assert_eq!(
            gates.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(),
            GATES
        );
    }

    #[test]
    fn soak_counts_from_the_passing_verification_not_from_now() {
        let early = run(&history(), "prod", "1.4.0", "2026-12-01T09:30:00Z", "carol");
        assert_eq!(verdicts(&early)[1], ("soak", false));
        assert_eq!(
            detail(&early, "soak"),
            "soaked 1h30m of 2h in staging; ready at 2026-12-01T10:00:00Z"
        );
        let later = run(&history(), "prod", "1.4.0", "2026-12-01T10:00:00Z", "carol");
        assert_eq!(verdicts(&later)[1], ("soak", true));
    }

    #[test]
    fn approvals_are_distinct_and_never_the_promoter_s() {
        let gates = run(&history(), "prod", "1.4.0", "2026-12-01T11:00:00Z", "carol");
        assert_eq!(verdicts(&gates)[6], ("approvals", true), "{gates:?}");
        assert_eq!(
            detail(&gates, "approvals"),
            "2 of 2 distinct approvers: bob, alice"
        );
        let own = run(&history(), "prod", "1.4.0", "2026-12-01T11:00:00Z", "alice");
        assert_eq!(verdicts(&own)[6], ("approvals", false));
        assert_eq!(
            detail(&own, "approvals"),
            "1 of 2 distinct approvers: bob (alice's own approval does not count)"
        );
    }

    #[test]
    fn the_previous_environment_needs_a_pass_unless_it_verifies_nothing() {
        let mut h = history();
        h.truncate(3); // no verification in staging
        let gates = run(&h, "prod", "1.4.0", "2026-12-01T11:00:00Z", "carol");
        assert_eq!(verdicts(&gates)[0], ("previous-environment", false));
        assert!(detail(&gates, "previous-environment").contains("no passing verification"));
        // dev verifies nothing: being promoted there is enough for staging.
        let gates = run(&h, "staging", "1.5.0", "2026-12-01T11:00:00Z", "ci");
        assert_eq!(
            verdicts(&gates)[0],
            ("previous-environment", false),
            "never in dev"
        );
        h.push(e(
            Kind::Promotion,
            "dev",
            "1.5.0",
            "2026-12-01T10:00:00Z",
            "ci",
        ));
        let gates = run(&h, "staging", "1.5.0", "2026-12-01T11:00:00Z", "ci");
        assert_eq!(verdicts(&gates)[0], ("previous-environment", true));
        let fail = Entry {
            result: Some(VerifyResult::Fail),
            ..e(
                Kind::Verification,
                "staging",
                "1.4.0",
                "2026-12-01T09:00:00Z",
                "qa",
            )
        };
        let mut h = history();
        h.push(fail);
        let gates = run(&h, "prod", "1.4.0", "2026-12-01T11:00:00Z", "carol");
        assert!(
            detail(&gates, "previous-environment")
                .contains("latest verification in staging failed")
        );
        let gates = run(&h, "dev", "1.6.0", "2026-12-01T11:00:00Z", "ci");
        assert_eq!(
            detail(&gates, "previous-environment"),
            "dev is the first environment"
        );
    }

    #[test]
    fn version_order_and_blocks() {
        let gates = run(&history(), "prod", "1.3.0", "2026-12-01T11:00:00Z", "carol");
        assert_eq!(
            detail(&gates, "version-order"),
            "1.3.0 already runs in prod"
        );
        let gates = run(&history(), "prod", "1.2.9", "2026-12-01T11:00:00Z", "carol");
        assert!(detail(&gates, "version-order").contains("is older than 1.3.0"));
        let mut h = history();
        h.push(Entry {
            reason: Some("canary failed in staging".into()),
            ..e(
                Kind::Block,
                "staging",
                "1.4.0",
                "2026-12-01T09:00:00Z",
                "ci",
            )
        });
        let gates = run(&h, "prod", "1.4.0", "2026-12-01T11:00:00Z", "carol");
        assert_eq!(verdicts(&gates)[3], ("blocked", false));
        h.push(Entry {
            reason: Some("flaky metric".into()),
            environment: None,
            ..e(
                Kind::Unblock,
                "staging",
                "1.4.0",
                "2026-12-01T09:30:00Z",
                "alice",
            )
        });
        let gates = run(&h, "prod", "1.4.0", "2026-12-01T11:00:00Z", "carol");
        assert_eq!(verdicts(&gates)[3], ("blocked", true));
        assert!(all_passed(&gates), "{gates:?}");
    }

    #[test]
    fn a_freeze_refuses_unless_overridden_where_allowed() {
        let mut h = history();
        h.push(Entry {
            reason: Some("incident 42".into()),
            ..e(Kind::Freeze, "prod", "-", "2026-12-01T10:30:00Z", "oncall")
        });
        let ix = Indexes::rebuild(&h);
        let facts = ix.versions["1.4.0"].clone();
        let order = order();
        let settings = settings();
        let mut strict = settings.clone();
        if let Some(p) = strict.env.get_mut("prod") {
            p.allow_freeze_override = false;
        }
        let config = Ok(String::new());
        let input = GateInput {
            target: "prod",
            version: "1.4.0",
            order: &order,
            settings: &settings,
            state: &ix.state,
            facts: &facts,
            now: at("2026-12-01T11:00:00Z"),
            promoter: "carol",
            configuration: &config,
            override_freeze: None,
            lock: &LockFact::Free,
            alarms: &AlarmFact::NotConfigured,
        };
        let g = evaluate(&input);
        assert_eq!(verdicts(&g)[5], ("freeze", false));
        assert!(
            detail(&g, "freeze").contains("emergency freeze by oncall"),
            "{g:?}"
        );
        let g = evaluate(&GateInput {
            override_freeze: Some("hotfix for incident 42"),
            ..input.clone()
        });
        assert_eq!(verdicts(&g)[5], ("freeze", true));
        assert!(detail(&g, "freeze").ends_with("overridden by carol: hotfix for incident 42"));
        let g = evaluate(&GateInput {
            settings: &strict,
            override_freeze: Some("hotfix"),
            ..input.clone()
        });
        assert_eq!(verdicts(&g)[5], ("freeze", false));
        let held = LockFact::Held {
            holder: "a canary of 1.3.1 by ci since 10:50".into(),
        };
        let g = evaluate(&GateInput {
            lock: &held,
            ..input
        });
        assert_eq!(verdicts(&g)[7], ("lock", false));
    }

    #[test]
    fn alarms_firing_or_unreadable_refuse_and_unconfigured_alarms_are_not_a_gate() {
        let entries = history();
        let with = |alarms: &AlarmFact| {
            run_alarmed(
                &entries,
                "prod",
                "1.4.0",
                "2026-12-01T11:00:00Z",
                "carol",
                alarms,
            )
        };
        assert_eq!(with(&AlarmFact::NotConfigured).len(), GATES.len());
        let quiet = with(&AlarmFact::Read {
            firing: Vec::new(),
            watched: "4 alarm(s) OK".into(),
        });
        assert_eq!(verdicts(&quiet).last(), Some(&("alarms", true)));
        assert_eq!(
            detail(&quiet, "alarms"),
            "none firing in prod: 4 alarm(s) OK"
        );
        let fire = with(&AlarmFact::Read {
            firing: vec!["CloudWatch alarm `shop-prod-high-cpu` is in ALARM".into()],
            watched: String::new(),
        });
        assert_eq!(verdicts(&fire).last(), Some(&("alarms", false)));
        assert_eq!(
            detail(&fire, "alarms"),
            "prod is alarming: CloudWatch alarm `shop-prod-high-cpu` is in ALARM"
        );
        assert!(!all_passed(&fire));
        let unknown = with(&AlarmFact::Unreadable(
            "no such CloudWatch alarm: `x`".into(),
        ));
        assert_eq!(verdicts(&unknown).last(), Some(&("alarms", false)));
        assert!(detail(&unknown, "alarms").contains("not known to be quiet"));
    }
}
