//! What a message says, whatever carries it: from an event [`Record`] to a [`Message`] of
//! a title, one paragraph of what happened and why, the facts as fields, the gates, and the
//! links (the CI run, the runbook, the dashboard, the release or pull request). Pure: each
//! channel lays the same message out in its own format.

use jiff::Timestamp;
use serde::Serialize;
use shipgate_pipeline::{Event, Record};
use shipgate_settings::notify::{Links, render_link};

/// How much it matters, which each channel shows its own way (a colour, an emoji, a
/// PagerDuty severity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// News: a canary started, an approval.
    Info,
    /// Something went as hoped: a promotion, a canary passed.
    Success,
    /// Someone may have to act: a refusal, a rollback done, an approval needed.
    Warning,
    /// Someone must act now: a rollback failed, a canary failed.
    Critical,
}

impl Severity {
    /// An emoji for chat.
    pub fn emoji(self) -> &'static str {
        match self {
            Severity::Info => "ℹ️",
            Severity::Success => "✅",
            Severity::Warning => "⚠️",
            Severity::Critical => "🚨",
        }
    }
}

/// One gate of a promotion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GateLine {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

/// A link with what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    pub label: String,
    pub url: String,
}

/// What is said, laid out by each channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    /// The event's name as `events = [...]` names it (`canary-failed`, `rollback` …).
    pub event: &'static str,
    pub severity: Severity,
    /// One line: `Canary 1.4.0 failed in prod at step 2 of 4 (25 % traffic)`.
    pub title: String,
    /// What happened and why, in a few sentences.
    pub text: String,
    /// The facts: environment, versions, the deciding metric's values, who, when.
    pub fields: Vec<(String, String)>,
    /// A promotion's gates, each with its evidence.
    pub gates: Vec<GateLine>,
    pub links: Vec<Link>,
    pub env: Option<String>,
    pub version: Option<String>,
    pub by: String,
    pub at: Timestamp,
    /// The canary run a message belongs to (`prod/1.4.0`), for a chat thread.
    pub thread: Option<String>,
    /// A `shipgate notify test` message: nothing happened.
    pub test: bool,
}

/// The name a channel's `events` knows an event by; None for what is never sent (a
/// dry run's rehearsal is sent only as what it rehearses).
pub fn event_name(event: &Event) -> &'static str {
    match event {
        Event::Released { .. } => "release",
        Event::Promoted { .. } => "promotion",
        Event::PromotionRefused { .. } => "promotion-refused",
        Event::PromotionRehearsed { passed: true, .. } => "promotion",
        Event::PromotionRehearsed { passed: false, .. } => "promotion-refused",
        Event::PromotionProposed { .. } => "promotion-proposed",
        Event::ApprovalNeeded { .. } => "approval-needed",
        Event::Approved { .. } => "approval",
        Event::Verified { .. } => "verification",
        Event::CanaryStarted { .. } => "canary-started",
        Event::CanaryStepped { .. } => "canary-step",
        Event::CanaryVerdict { result, .. } => match result.as_str() {
            "promoted" => "canary-passed",
            "paused" => "canary-inconclusive",
            _ => "canary-failed",
        },
        Event::RolledBack { .. } => "rollback",
        Event::RollbackFailed { .. } => "rollback-failed",
        Event::StaleHoldRecovered { .. } => "stale-hold",
        Event::Frozen { .. } => "freeze",
        Event::Unfrozen { .. } => "unfreeze",
        Event::Unblocked { .. } => "unblock",
    }
}

/// The environment an event is about (None: a release, an unblock).
pub fn event_env(event: &Event) -> Option<&str> {
    match event {
        Event::Released { .. } | Event::Unblocked { .. } => None,
        Event::Promoted { env, .. }
        | Event::PromotionRefused { env, .. }
        | Event::PromotionRehearsed { env, .. }
        | Event::PromotionProposed { env, .. }
        | Event::ApprovalNeeded { env, .. }
        | Event::Approved { env, .. }
        | Event::Verified { env, .. }
        | Event::CanaryStarted { env, .. }
        | Event::CanaryStepped { env, .. }
        | Event::CanaryVerdict { env, .. }
        | Event::RolledBack { env, .. }
        | Event::RollbackFailed { env, .. }
        | Event::StaleHoldRecovered { env, .. }
        | Event::Frozen { env, .. }
        | Event::Unfrozen { env } => Some(env),
    }
}

/// A number as people read it: at most 4 significant digits, no exponent for the usual
/// ranges (`0.0123`, `1.204`, `2410`).
pub fn number(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    if x == 0.0 {
        return "0".into();
    }
    let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 8) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

fn gates_of(gates: &[shipgate_promote::Gate]) -> Vec<GateLine> {
    gates
        .iter()
        .map(|g| GateLine {
            name: g.name.clone(),
            passed: g.passed,
            detail: g.detail.clone(),
        })
        .collect()
}

fn gate_count(gates: &[shipgate_promote::Gate]) -> String {
    let failed: Vec<&str> = gates
        .iter()
        .filter(|g| !g.passed)
        .map(|g| g.name.as_str())
        .collect();
    if failed.is_empty() {
        format!("All {} gates passed.", gates.len())
    } else {
        format!(
            "{} of {} gates did not pass: {}.",
            failed.len(),
            gates.len(),
            failed.join(", ")
        )
    }
}

fn from_to(from: &Option<String>, to: &str) -> String {
    match from {
        Some(from) => format!("{from} → {to}"),
        None => format!("(none) → {to}"),
    }
}

/// The message of `record`, with the runbook and dashboard of `links` filled in.
pub fn message(record: &Record, links: &Links) -> Message {
    // A dry run's rehearsal says what the promotion would say.
    if let Event::PromotionRehearsed {
        env,
        version,
        from,
        gates,
        passed,
        ..
    } = &record.event
    {
        let event = if *passed {
            Event::Promoted {
                env: env.clone(),
                version: version.clone(),
                from: from.clone(),
                gates: gates.clone(),
                commit: None,
                new_commit: false,
                ledger_commit: None,
                pushed: true,
                verifying: false,
                production: false,
            }
        } else {
            Event::PromotionRefused {
                env: env.clone(),
                version: version.clone(),
                from: from.clone(),
                gates: gates.clone(),
            }
        };
        let mut m = message(
            &Record {
                event,
                ..record.clone()
            },
            links,
        );
        m.title = format!("(dry run) {}", m.title);
        return m;
    }
    let event = &record.event;
    let name = event_name(event);
    let env = event_env(event).map(str::to_string);
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut gates = Vec::new();
    let mut extra_links: Vec<Link> = Vec::new();
    let mut version: Option<String> = None;
    let mut metric: Option<String> = None;
    let mut thread = None;
    // The window a dashboard shows: from before the event (a canary's start) to after it.
    let mut window_start = record.at.as_millisecond() - 30 * 60 * 1000;
    let field = |fields: &mut Vec<(String, String)>, k: &str, v: String| {
        fields.push((k.to_string(), v));
    };
    let (severity, title, text) = match event {
        Event::Released {
            version: v,
            tag,
            previous,
            commits,
            pushed,
            url,
        } => {
            version = Some(v.clone());
            field(&mut fields, "Version", v.clone());
            if let Some(p) = previous {
                field(&mut fields, "Previous", p.clone());
            }
            field(&mut fields, "Commits", commits.to_string());
            if let Some(url) = url {
                extra_links.push(Link {
                    label: "Release notes".into(),
                    url: url.clone(),
                });
            }
            let pushed = if *pushed { "" } else { " (not pushed)" };
            (
                Severity::Success,
                format!("Released {v}"),
                format!("Tagged {tag} with {commits} commit(s){pushed}."),
            )
        }
        Event::Promoted {
            version: v,
            from,
            gates: g,
            pushed,
            verifying,
            ..
        } => {
            version = Some(v.clone());
            gates = gates_of(g);
            field(&mut fields, "Versions", from_to(from, v));
            let then = if *verifying {
                " A canary verifies it next."
            } else {
                ""
            };
            let pushed = if *pushed { "" } else { " Not pushed." };
            (
                Severity::Success,
                format!("{v} promoted to {}", event_env(event).unwrap_or_default()),
                format!("{}{then}{pushed}", gate_count(g)),
            )
        }
        Event::PromotionRefused {
            version: v,
            from,
            gates: g,
            ..
        }
        | Event::PromotionRehearsed {
            version: v,
            from,
            gates: g,
            ..
        } => {
            version = Some(v.clone());
            gates = gates_of(g);
            field(&mut fields, "Versions", from_to(from, v));
            (
                Severity::Warning,
                format!(
                    "Promotion of {v} to {} refused",
                    event_env(event).unwrap_or_default()
                ),
                gate_count(g),
            )
        }
        Event::PromotionProposed {
            version: v,
            from,
            gates: g,
            url,
            ..
        } => {
            version = Some(v.clone());
            gates = gates_of(g);
            field(&mut fields, "Versions", from_to(from, v));
            extra_links.push(Link {
                label: "Pull request".into(),
                url: url.clone(),
            });
            (
                Severity::Info,
                format!(
                    "Promotion of {v} to {} proposed",
                    event_env(event).unwrap_or_default()
                ),
                format!("{} The pull request merges it.", gate_count(g)),
            )
        }
        Event::ApprovalNeeded {
            env,
            version: v,
            detail,
            command,
        } => {
            version = Some(v.clone());
            (
                Severity::Warning,
                format!("{v} waits for approval to go to {env}"),
                format!("{detail}\nApprove with: {command}"),
            )
        }
        Event::Approved { env, version: v } => {
            version = Some(v.clone());
            (
                Severity::Info,
                format!("{v} approved for {env}"),
                format!("{} approved {v} for {env}.", record.by),
            )
        }
        Event::Verified {
            env,
            version: v,
            passed,
            evidence,
            canary,
            ..
        } => {
            version = Some(v.clone());
            let by = if *canary { "its canary" } else { "a check" };
            let evidence = evidence
                .as_deref()
                .map(|e| format!(" Evidence: {e}"))
                .unwrap_or_default();
            if *passed {
                (
                    Severity::Success,
                    format!("{v} verified in {env}"),
                    format!("{v} passed {by} in {env}.{evidence}"),
                )
            } else {
                (
                    Severity::Critical,
                    format!("{v} failed verification in {env}"),
                    format!("{v} failed {by} in {env}.{evidence}"),
                )
            }
        }
        Event::CanaryStarted {
            env,
            version: v,
            baseline,
            steps,
            replay,
        } => {
            version = Some(v.clone());
            thread = Some(format!("{env}/{v}"));
            field(&mut fields, "Baseline", baseline.clone());
            let replay = if *replay { " (a replay)" } else { "" };
            (
                Severity::Info,
                format!("Canary {v} started in {env}{replay}"),
                format!("{v} against {baseline}, in {steps} step(s)."),
            )
        }
        Event::CanaryStepped {
            env,
            version: v,
            step,
            steps,
            weight,
            verdict,
            rule,
            t,
        } => {
            version = Some(v.clone());
            thread = Some(format!("{env}/{v}"));
            (
                Severity::Info,
                format!("Canary {v} in {env}: step {step} of {steps} ({weight} % traffic)"),
                format!("At {}s the judge says {verdict}: {rule}", number(*t)),
            )
        }
        Event::CanaryVerdict {
            env,
            version: v,
            baseline,
            result,
            reason,
            metric: m,
            observed,
            baseline_observed,
            bound,
            decided_at_s,
            step,
            steps,
            weight,
            replay,
        } => {
            version = Some(v.clone());
            metric = m.clone();
            thread = Some(format!("{env}/{v}"));
            window_start =
                record.at.as_millisecond() - (*decided_at_s * 1000.0) as i64 - 5 * 60 * 1000;
            field(&mut fields, "Baseline", baseline.clone());
            if let Some(m) = m {
                field(&mut fields, "Metric", m.clone());
            }
            if let Some(o) = observed {
                field(&mut fields, "Canary", number(*o));
            }
            if let Some(o) = baseline_observed {
                field(&mut fields, "Baseline value", number(*o));
            }
            if let Some(b) = bound {
                field(&mut fields, "Bound", number(*b));
            }
            field(
                &mut fields,
                "Decided after",
                format!("{}s", number(*decided_at_s)),
            );
            let at_step = match (step, weight) {
                (Some(s), Some(w)) => format!(" at step {s} of {steps} ({w} % traffic)"),
                _ => String::new(),
            };
            let replay = if *replay { " (a replay)" } else { "" };
            let evidence = match (m, observed, bound) {
                (Some(m), Some(o), Some(b)) => {
                    let base = baseline_observed
                        .map(|x| format!(", baseline {}", number(x)))
                        .unwrap_or_default();
                    format!(" {m}: canary {}{base}, bound {}.", number(*o), number(*b))
                }
                (Some(m), Some(o), None) => {
                    let base = baseline_observed
                        .map(|x| format!(", baseline {}", number(x)))
                        .unwrap_or_default();
                    format!(" {m}: canary {}{base}.", number(*o))
                }
                _ => String::new(),
            };
            match result.as_str() {
                "promoted" => (
                    Severity::Success,
                    format!("Canary {v} passed in {env}{replay}"),
                    reason.to_string(),
                ),
                "paused" => (
                    Severity::Warning,
                    format!("Canary {v} inconclusive in {env}{at_step}{replay}"),
                    format!("Paused, traffic left where it is: {reason}.{evidence}"),
                ),
                _ => (
                    Severity::Critical,
                    format!("Canary {v} failed in {env}{at_step}{replay}"),
                    format!("Rolled back to {baseline}: {reason}.{evidence}"),
                ),
            }
        }
        Event::RolledBack {
            env,
            from,
            to,
            reason,
            blocked,
            ..
        } => {
            version = Some(from.clone());
            field(&mut fields, "Versions", format!("{from} → {to}"));
            (
                Severity::Warning,
                format!("{env} rolled back from {from} to {to}"),
                format!("Reason: {reason}. {blocked} is blocked from promotion until unblocked."),
            )
        }
        Event::RollbackFailed {
            env,
            version: v,
            baseline,
            error,
        } => {
            version = Some(v.clone());
            thread = Some(format!("{env}/{v}"));
            field(&mut fields, "Baseline", baseline.clone());
            (
                Severity::Critical,
                format!("Rollback of {env} FAILED: traffic may be stuck on {v}"),
                format!(
                    "Sending {env}'s traffic back to {baseline} failed: {error}. Move it by hand, then run `shipgate rollback --env {env}`."
                ),
            )
        }
        Event::StaleHoldRecovered {
            env,
            holder,
            version: v,
            baseline,
        } => {
            version = Some(v.clone());
            (
                Severity::Critical,
                format!("A dead canary of {v} in {env} was found and rolled back"),
                format!(
                    "{holder} stopped renewing its hold on {env}; its traffic went back to {baseline}."
                ),
            )
        }
        Event::Frozen { env, reason } => (
            Severity::Warning,
            format!("{env} frozen"),
            format!(
                "Promotions into {env} are refused until `shipgate unfreeze --env {env}`. Reason: {reason}"
            ),
        ),
        Event::Unfrozen { env } => (
            Severity::Info,
            format!("{env} unfrozen"),
            format!("Promotions into {env} are allowed again."),
        ),
        Event::Unblocked { version: v, reason } => {
            version = Some(v.clone());
            (
                Severity::Info,
                format!("{v} unblocked"),
                format!("{v} may be promoted again. Reason: {reason}"),
            )
        }
    };
    field(&mut fields, "By", record.by.clone());
    field(
        &mut fields,
        "At",
        record.at.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
    );
    if let Some(env) = &env {
        fields.insert(0, ("Environment".into(), env.clone()));
    }
    let mut all_links = Vec::new();
    if let Some(url) = &record.run_url {
        all_links.push(Link {
            label: "CI run".into(),
            url: url.clone(),
        });
    }
    all_links.extend(extra_links);
    let picked = links.pick(env.as_deref(), metric.as_deref());
    let window_end = record.at.as_millisecond() + 5 * 60 * 1000;
    let (from, to) = (window_start.to_string(), window_end.to_string());
    let vars = [
        ("env", env.as_deref().unwrap_or_default()),
        ("version", version.as_deref().unwrap_or_default()),
        ("from", from.as_str()),
        ("to", to.as_str()),
    ];
    if let Some(d) = &picked.dashboard {
        all_links.push(Link {
            label: "Dashboard".into(),
            url: render_link(d, &vars),
        });
    }
    if let Some(r) = &picked.runbook
        && matches!(severity, Severity::Warning | Severity::Critical)
    {
        all_links.push(Link {
            label: "Runbook".into(),
            url: render_link(r, &vars),
        });
    }
    Message {
        event: name,
        severity,
        title,
        text,
        fields,
        gates,
        links: all_links,
        env,
        version,
        by: record.by.clone(),
        at: record.at,
        thread,
        test: false,
    }
}

/// What `shipgate notify test` sends: marked as a test in its title and text.
pub fn test_message(channel: &str, by: &str, at: Timestamp) -> Message {
    Message {
        event: "test",
        severity: Severity::Info,
        title: format!("[TEST] shipgate can reach {channel}"),
        text: "This is a test message from `shipgate notify test`. Nothing was deployed, promoted or rolled back.".into(),
        fields: vec![("Channel".into(), channel.into()), ("By".into(), by.into())],
        gates: Vec::new(),
        links: Vec::new(),
        env: None,
        version: None,
        by: by.into(),
        at,
        thread: None,
        test: true,
    }
}

/// `text` cut to at most `max` characters, with `…` where it was cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use shipgate_promote::Gate;

    fn record(event: Event) -> Record {
        Record {
            at: "2026-12-06T03:00:00Z".parse().expect("time"),
            by: "shipgate-bot".into(),
            run_url: Some("https://github.com/acme/shop/actions/runs/42".into()),
            event,
        }
    }

    fn failed_canary() -> Event {
        Event::CanaryVerdict {
            env: "prod".into(),
            version: "1.4.0".into(),
            baseline: "1.3.2".into(),
            result: "rolled-back".into(),
            reason: "p95-latency regressed".into(),
            metric: Some("p95-latency".into()),
            observed: Some(2.4117),
            baseline_observed: Some(1.2),
            bound: Some(2.0),
            decided_at_s: 240.0,
            step: Some(2),
            steps: 4,
            weight: Some(25),
            replay: false,
        }
    }

    fn links() -> Links {
        toml::from_str(
            "runbook = \"https://wiki.acme.dev/runbooks/failed-deployment?env={{env}}\"\ndashboard = \"https://grafana.acme.dev/d/shop?var-env={{env}}&from={{from}}&to={{to}}\"",
        )
        .expect("links")
    }

    #[test]
    fn a_failed_canary_says_where_why_and_with_which_values() {
        let m = message(&record(failed_canary()), &links());
        assert_eq!(m.event, "canary-failed");
        assert_eq!(m.severity, Severity::Critical);
        assert_eq!(
            m.title,
            "Canary 1.4.0 failed in prod at step 2 of 4 (25 % traffic)"
        );
        assert_eq!(
            m.text,
            "Rolled back to 1.3.2: p95-latency regressed. p95-latency: canary 2.412, baseline 1.2, bound 2."
        );
        let field = |k: &str| {
            m.fields
                .iter()
                .find(|(f, _)| f == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(field("Environment"), Some("prod"));
        assert_eq!(field("Metric"), Some("p95-latency"));
        assert_eq!(field("Bound"), Some("2"));
        assert_eq!(field("At"), Some("2026-12-06 03:00:00 UTC"));
        let labels: Vec<&str> = m.links.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(labels, ["CI run", "Dashboard", "Runbook"]);
        // The dashboard's window opens before the canary started (240 s + 5 min earlier).
        let at = 1_796_526_000_000_i64;
        assert_eq!(
            m.links[1].url,
            format!(
                "https://grafana.acme.dev/d/shop?var-env=prod&from={}&to={}",
                at - 240_000 - 300_000,
                at + 300_000
            )
        );
        assert_eq!(m.thread.as_deref(), Some("prod/1.4.0"));
    }

    #[test]
    fn a_refused_promotion_names_the_gates_that_did_not_pass() {
        let gate = |name: &str, passed: bool| Gate {
            name: name.into(),
            passed,
            detail: format!("{name} detail"),
        };
        let m = message(
            &record(Event::PromotionRefused {
                env: "prod".into(),
                version: "1.4.0".into(),
                from: Some("1.3.2".into()),
                gates: vec![
                    gate("soak", false),
                    gate("freeze", true),
                    gate("approvals", false),
                ],
            }),
            &Links::default(),
        );
        assert_eq!(m.title, "Promotion of 1.4.0 to prod refused");
        assert_eq!(m.text, "2 of 3 gates did not pass: soak, approvals.");
        assert_eq!(m.gates.len(), 3);
        assert_eq!(m.links.len(), 1, "no runbook without [links]");
    }

    #[test]
    fn an_approval_says_the_exact_command() {
        let m = message(
            &record(Event::ApprovalNeeded {
                env: "prod".into(),
                version: "1.4.0".into(),
                detail: "1 of 2 approvals; may approve: anyone but alice".into(),
                command: "shipgate approve 1.4.0 --env prod".into(),
            }),
            &Links::default(),
        );
        assert!(
            m.text
                .ends_with("Approve with: shipgate approve 1.4.0 --env prod"),
            "{}",
            m.text
        );
        assert_eq!(m.event, "approval-needed");
    }

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(number(0.0123456), "0.01235");
        assert_eq!(number(2.4117), "2.412");
        assert_eq!(number(2410.0), "2410");
        assert_eq!(number(2.0), "2");
        assert_eq!(number(0.001), "0.001");
    }

    #[test]
    fn clip_keeps_within_the_limit() {
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
        assert_eq!(clip("ééééé", 3).chars().count(), 3);
    }
}
