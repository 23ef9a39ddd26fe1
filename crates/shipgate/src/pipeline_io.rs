//! The pipeline's edge with the process: who and when, as the environment says
//! (`GITHUB_ACTOR`, `SHIPGATE_NOW`, the run's address, the host), the pipeline opened on
//! `--repo` and `--config`, a command's listeners, a dead canary's traffic through the
//! configured actuator, and what listeners said, printed.

use jiff::Timestamp;
use shipgate_pipeline::canary::actuator_rollback;
use shipgate_pipeline::github::GithubDeployments;
use shipgate_pipeline::{Bus, Caller, Delivered, Pipeline};
use shipgate_promote::lock::Hold;
use shipgate_promote::ops::TrafficError;

use crate::actions;
use crate::actions_listener::ActionsListener;
use crate::cli::Global;

/// When: `SHIPGATE_NOW` (RFC 3339) when set, else the clock.
pub fn now() -> anyhow::Result<Timestamp> {
    match std::env::var("SHIPGATE_NOW") {
        Ok(text) if !text.trim().is_empty() => parse_time("SHIPGATE_NOW", text.trim()),
        _ => Ok(Timestamp::now()),
    }
}

pub fn parse_time(what: &str, text: &str) -> anyhow::Result<Timestamp> {
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    if let Ok(d) = text.parse::<jiff::civil::Date>()
        && let Ok(t) = d.to_zoned_datetime(jiff::tz::TimeZone::UTC)
    {
        return Ok(t.timestamp());
    }
    Err(crate::cli::hinted(
        format!("{what} `{text}` is not a time"),
        "write RFC 3339 like 2026-12-04T17:00:00+01:00, or a date like 2026-12-04",
    ))
}

/// `GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID`, when all are set.
pub fn run_url() -> Option<String> {
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());
    Some(format!(
        "{}/{}/actions/runs/{}",
        var("GITHUB_SERVER_URL")?.trim_end_matches('/'),
        var("GITHUB_REPOSITORY")?,
        var("GITHUB_RUN_ID")?
    ))
}

/// Who and where this process runs, as its environment says: `GITHUB_ACTOR`,
/// `SHIPGATE_NOW` (else the clock), the CI run, the host name and the process.
pub fn caller() -> anyhow::Result<Caller> {
    Ok(Caller {
        actor: std::env::var("GITHUB_ACTOR").ok(),
        now: now()?,
        run_url: run_url(),
        host: std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "unknown".into()),
        pid: std::process::id(),
    })
}

/// The pipeline of the repository and settings `global` names.
pub fn open(global: &Global) -> anyhow::Result<Pipeline> {
    let settings = global.settings()?;
    Ok(Pipeline::open(&global.repo, settings, caller()?)?)
}

/// The listeners of a command's events: the Actions step summary, outputs and annotations
/// (in Actions, for the events of `kinds`), and GitHub deployments (with a token).
pub fn bus(pipeline: &Pipeline, kinds: &'static [&'static str]) -> Bus {
    let mut bus = Bus::new();
    if actions::active() {
        bus.inline(Box::new(ActionsListener::new(kinds)));
    }
    if let Some(gh) = &pipeline.github {
        bus.remote(Box::new(GithubDeployments::new(gh.clone())));
    }
    bus
}

/// A dead canary's traffic back to its baseline, through `[canary]`'s actuator.
pub fn stale_traffic(
    canary: &shipgate_canary::CanarySettings,
) -> impl FnMut(&Hold) -> Result<(), TrafficError> + '_ {
    move |hold| actuator_rollback(canary, hold, &|name| std::env::var(name).ok())
}

/// What listeners said: notes, and warnings for the ones that failed or were late.
pub fn delivered(d: &Delivered) {
    for n in &d.notes {
        actions::note(n);
    }
    for w in &d.warnings {
        actions::warning(w, None);
    }
}
