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

/// How a command treats `[[notify]]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notify {
    /// Sends; a channel whose secret is not set is an error before anything runs.
    Strict,
    /// Sends through every channel that can: one whose secret is not set is a warning, so
    /// an emergency (`rollback`, `freeze`) is never held up by a chat webhook.
    Lenient,
    /// Prints what it would send, on stdout with the other dry-run lines (stderr with
    /// `--json`), and sends nothing.
    DryRun,
}

/// The listeners of a command's events: the Actions step summary, outputs and annotations
/// (in Actions, for the events of `kinds`), GitHub deployments (with a token), and the
/// `[[notify]]` channels.
pub fn bus(
    pipeline: &Pipeline,
    global: &Global,
    kinds: &'static [&'static str],
    notify: Notify,
) -> anyhow::Result<Bus> {
    let mut bus = Bus::new();
    if actions::active() {
        bus.inline(Box::new(ActionsListener::new(kinds)));
    }
    if let Some(gh) = &pipeline.github {
        bus.remote(Box::new(GithubDeployments::new(gh.clone())));
    }
    notifiers(
        &mut bus,
        &pipeline.settings,
        global,
        Some(pipeline.repo.git_dir()),
        notify,
    )?;
    Ok(bus)
}

/// Adds the `[[notify]]` channels of `settings` to `bus`, each on a thread of its own.
pub fn notifiers(
    bus: &mut Bus,
    settings: &shipgate_settings::Settings,
    global: &Global,
    git_dir: Option<&std::path::Path>,
    notify: Notify,
) -> anyhow::Result<()> {
    if settings.notify.is_empty() {
        return Ok(());
    }
    if notify == Notify::DryRun {
        let json = global.json;
        bus.inline(Box::new(shipgate_notify::DryRun::new(
            settings,
            Box::new(move |line| {
                if json {
                    crate::actions::errln!("{line}");
                } else {
                    crate::actions::outln!("{line}");
                }
            }),
        )));
        return Ok(());
    }
    let lookup = |name: &str| std::env::var(name).ok();
    for (_, built) in shipgate_notify::notifier::each(settings, &global.repo, git_dir, &lookup) {
        match built {
            Ok(n) => bus.remote(Box::new(n)),
            Err(e) if notify == Notify::Lenient => {
                let hint = e.hint();
                actions::warning(
                    &format!("{e}: it is not told of this command"),
                    hint.as_deref(),
                );
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
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
