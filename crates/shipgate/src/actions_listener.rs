//! In GitHub Actions, a listener of the pipeline's events: the step summary, the step's
//! outputs and the annotations of a promotion, a rollback and a canary's verdict. It writes
//! local files only (the summary and output files Actions gives), so it runs inline.

use std::fmt::Write as _;

use shipgate_pipeline::{Event, Heard, Listener, Record};
use shipgate_promote::Gate;

use crate::actions;

/// The Actions outputs, summary and annotations of the events named in `kinds`.
pub struct ActionsListener {
    kinds: &'static [&'static str],
}

impl ActionsListener {
    pub fn new(kinds: &'static [&'static str]) -> Self {
        ActionsListener { kinds }
    }
}

/// A promotion as the summary shows it.
struct Promotion<'a> {
    env: &'a str,
    version: &'a str,
    from: Option<&'a str>,
    gates: &'a [Gate],
    promoted: bool,
    dry_run: bool,
}

impl Listener for ActionsListener {
    fn name(&self) -> String {
        "actions-summary".into()
    }

    fn on(&mut self, r: &Record) -> Result<Heard, String> {
        if !self.kinds.contains(&r.event.name()) {
            return Ok(Heard::nothing());
        }
        match &r.event {
            Event::Promoted {
                env,
                version,
                from,
                gates,
                ..
            } => promote(&promotion(env, version, from, gates, true, false)),
            Event::PromotionRefused {
                env,
                version,
                from,
                gates,
            }
            | Event::PromotionProposed {
                env,
                version,
                from,
                gates,
                ..
            } => promote(&promotion(env, version, from, gates, false, false)),
            Event::PromotionRehearsed {
                env,
                version,
                from,
                gates,
                ..
            } => promote(&promotion(env, version, from, gates, false, true)),
            Event::RolledBack {
                env,
                from,
                to,
                reason,
                blocked,
                ..
            } => {
                actions::set_outputs(&[
                    ("environment", env.clone()),
                    ("version", to.clone()),
                    ("from", from.clone()),
                ]);
                actions::summary(&rollback_summary(env, from, to, &r.by, reason, blocked));
            }
            Event::CanaryVerdict {
                env,
                version,
                result,
                reason,
                ..
            } => {
                if result != "promoted" {
                    let what = match result.as_str() {
                        "paused" => "paused",
                        _ => "rolled back",
                    };
                    actions::annotate(
                        actions::Level::Error,
                        &format!("canary {version} in {env}: {what}: {reason}"),
                        None,
                    );
                }
                actions::set_outputs(&[
                    ("verdict", result.clone()),
                    ("version", version.clone()),
                    ("environment", env.clone()),
                ]);
            }
            _ => {}
        }
        Ok(Heard::nothing())
    }
}

fn promotion<'a>(
    env: &'a str,
    version: &'a str,
    from: &'a Option<String>,
    gates: &'a [Gate],
    promoted: bool,
    dry_run: bool,
) -> Promotion<'a> {
    Promotion {
        env,
        version,
        from: from.as_deref(),
        gates,
        promoted,
        dry_run,
    }
}

/// A promotion's `::error` when refused, its outputs and its step summary.
fn promote(p: &Promotion<'_>) {
    let refused = !p.gates.iter().all(|g| g.passed);
    if refused {
        let failed: Vec<&str> = p
            .gates
            .iter()
            .filter(|g| !g.passed)
            .map(|g| g.name.as_str())
            .collect();
        let dry = if p.dry_run { " (dry run)" } else { "" };
        actions::annotate(
            actions::Level::Error,
            &format!(
                "promotion of {} to {} refused{dry}: {} did not pass",
                p.version,
                p.env,
                failed.join(", ")
            ),
            p.gates
                .iter()
                .find(|g| !g.passed)
                .map(|g| g.detail.as_str()),
        );
    }
    actions::set_outputs(&[
        ("version", p.version.to_string()),
        ("environment", p.env.to_string()),
        ("from", p.from.unwrap_or_default().to_string()),
        ("promoted", actions::flag(p.promoted)),
        ("dry-run", actions::flag(p.dry_run)),
    ]);
    actions::summary(&promote_summary(p));
}

/// The step summary of a promotion: what, where, from, the answer, and every gate.
fn promote_summary(p: &Promotion<'_>) -> String {
    let md = actions::md;
    let passed = p.gates.iter().all(|g| g.passed);
    let answer = match (p.dry_run, passed, p.promoted) {
        (true, true, _) => "would be promoted (dry run)",
        (true, false, _) => "would be **refused** (dry run)",
        (false, _, true) => "promoted",
        (false, _, false) => "**refused**",
    };
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
    let mut s = format!(
        "### shipgate promote {} to {}: {answer}\n\n",
        md(p.version),
        md(p.env)
    );
    s.push_str(&actions::md_table(
        &["version", "environment", "from", "promoted", "dry run"],
        &[vec![
            md(p.version),
            md(p.env),
            p.from.map_or("nothing".to_string(), md),
            yes_no(p.promoted),
            yes_no(p.dry_run),
        ]],
    ));
    let gates: Vec<Vec<String>> = p
        .gates
        .iter()
        .map(|g| {
            vec![
                md(&g.name),
                if g.passed { "yes" } else { "**no**" }.to_string(),
                md(&g.detail),
            ]
        })
        .collect();
    s.push_str(&actions::md_table(&["gate", "passed", "detail"], &gates));
    s
}

/// The step summary of a rollback: from, to, why.
fn rollback_summary(
    env: &str,
    from: &str,
    to: &str,
    by: &str,
    reason: &str,
    blocked: &str,
) -> String {
    let md = actions::md;
    let mut s = format!(
        "### shipgate rollback of {}: {} → {}\n\n",
        md(env),
        md(from),
        md(to)
    );
    s.push_str(&actions::md_table(
        &["environment", "from", "to", "by", "reason"],
        &[vec![md(env), md(from), md(to), md(by), md(reason)]],
    ));
    let _ = writeln!(
        s,
        "{} stays blocked until `shipgate unblock` lifts it.\n",
        md(blocked)
    );
    s
}
