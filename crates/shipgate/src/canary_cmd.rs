//! `shipgate canary capture …`: see `capture_cmd`.
//!
//! `shipgate canary judge FILE`: reads a recording, replays the judge over it with the
//! recorded (or the configured) `[canary]` settings, prints the verdict with its evidence;
//! exit 0 pass, 1 fail or inconclusive, 2 could not run.
//!
//! `shipgate canary run --env ENV [--replay FILE]`: the rollout through
//! `shipgate_canary::run_with_settings`, live against Prometheus or, with `--replay`, against
//! a recording on a simulated clock with the configured gates and actuator; exit 0
//! promoted, 1 rolled back or paused, 2 could not run.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use shipgate_judge::{MetricReport, Recording, ReplayOutcome, Verdict, replay};
use shipgate_stdx::num::human as num;

use crate::actions::{self, errln, outln, outp};
use crate::cli::{EXIT_NO, Global, hinted};

#[derive(Debug, Args)]
pub struct CanaryArgs {
    #[command(subcommand)]
    pub command: CanaryCommand,
}

#[derive(Debug, Subcommand)]
pub enum CanaryCommand {
    /// Move traffic to the canary step by step, judge live metrics, promote or roll back
    Run(RunArgs),
    /// Judge a recorded canary run offline and print what the judge decides
    Judge(JudgeArgs),
    /// Record a past window from Prometheus range queries, for `canary judge FILE`
    Capture(crate::capture_cmd::CaptureArgs),
    /// Judge live metrics while Argo Rollouts or Flagger moves the traffic (an
    /// AnalysisTemplate's Job): exit 0 pass, 1 fail or not enough evidence, 2 could not run
    Analyze(crate::analyze_cmd::AnalyzeArgs),
    /// Serve the judge's verdict over HTTP, for Argo Rollouts' Web metrics and Flagger's
    /// webhooks
    Serve(crate::analyze_cmd::ServeArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The environment (fills `{{env}}` in queries and commands)
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// The canary's version (fills `{{version}}`; default: the environment's latest
    /// promotion in the ledger when `[promote]` is set, the recording's with --replay)
    #[arg(long, value_name = "VERSION")]
    pub canary_version: Option<String>,
    /// The baseline's version (fills `{{baseline_version}}`; default: the version the
    /// canary's promotion replaced, per the ledger, when `[promote]` is set; the recording's
    /// with --replay)
    #[arg(long, value_name = "VERSION")]
    pub baseline_version: Option<String>,
    /// The canary's pod-template hash (fills `{{canary_hash}}` in queries)
    #[arg(long, value_name = "HASH")]
    pub canary_hash: Option<String>,
    /// The stable pods' pod-template hash (fills `{{stable_hash}}` in queries)
    #[arg(long, value_name = "HASH")]
    pub stable_hash: Option<String>,
    /// Rehearse: run the rollout (steps, judge, actuator) against a recording instead of
    /// Prometheus, on a simulated clock (no waiting)
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,
    /// Write every observed interval to FILE, for `shipgate canary judge`
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Write an SVG chart per metric to DIR: canary against baseline over time, with the
    /// step boundaries and the decision point
    #[arg(long, value_name = "DIR")]
    pub charts: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct JudgeArgs {
    /// A recording, as `canary run --record FILE` writes it
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Judge with [canary] from shipgate.toml (or --config) instead of the recorded settings,
    /// to tune the gates on a past run
    #[arg(long)]
    pub use_config: bool,
    /// Write an SVG chart per metric to DIR, with the judge's decision point
    #[arg(long, value_name = "DIR")]
    pub charts: Option<PathBuf>,
}

pub fn run(global: &Global, args: &CanaryArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        CanaryCommand::Judge(judge) => run_judge(global, judge),
        CanaryCommand::Run(run) => run_canary(global, run),
        CanaryCommand::Capture(capture) => crate::capture_cmd::run(global, capture),
        CanaryCommand::Analyze(a) => crate::analyze_cmd::analyze_run(global, a),
        CanaryCommand::Serve(s) => crate::analyze_cmd::serve_run(global, s),
    }
}

/// `canary judge --json`: the recording judged, and what the judge decides on it.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct Judged<'a> {
    /// The recording, as given.
    pub file: &'a str,
    /// Whose `[canary]` gates judged: `recording` (the ones it was recorded with) or
    /// `config` (`--use-config`: shipgate.toml's).
    pub settings_from: &'static str,
    /// The environment the recording names.
    pub env: Option<&'a str>,
    /// The canary's version it names.
    pub version: Option<&'a str>,
    /// The baseline's version it names.
    pub baseline_version: Option<&'a str>,
    /// The verdict, the rule, where it was decided, the timeline and the last report.
    #[serde(flatten)]
    pub outcome: &'a ReplayOutcome,
}

fn read_recording(path: &std::path::Path) -> anyhow::Result<Recording> {
    Ok(shipgate_canary::load_recording(path)?)
}

fn run_judge(global: &Global, args: &JudgeArgs) -> anyhow::Result<ExitCode> {
    let file = args.file.display().to_string();
    let recording = read_recording(&args.file)?;
    let (settings, source) = if args.use_config {
        let settings = global.settings()?;
        let source = settings
            .source
            .as_ref()
            .map_or("defaults".to_string(), |p| p.display().to_string());
        let canary = match &recording.env {
            Some(env) => settings
                .canary
                .for_env(env)
                .map_err(shipgate_canary::RunError::Settings)?,
            None => settings.canary,
        };
        (canary.gates, source)
    } else {
        (recording.settings.clone(), "the recording".to_string())
    };
    let outcome = replay(&settings, &recording.intervals).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
        hinted(
            format!(
                "the [canary] settings from {source} are invalid: {}",
                list.join("; ")
            ),
            "fix them, or judge with the other settings (--use-config toggles)",
        )
    })?;
    if let Some(dir) = &args.charts {
        write_judge_charts(dir, &recording, &settings, &outcome)?;
    }
    if actions::active() {
        if outcome.verdict != Verdict::Pass {
            actions::annotate(
                actions::Level::Error,
                &format!(
                    "{file}: the judge says {}: {}",
                    outcome.verdict.as_str(),
                    outcome.rule
                ),
                None,
            );
        }
        actions::set_outputs(&[
            ("verdict", outcome.verdict.as_str().to_string()),
            ("version", recording.version.clone().unwrap_or_default()),
            ("environment", recording.env.clone().unwrap_or_default()),
        ]);
    }
    if global.json {
        let out = Judged {
            file: &file,
            settings_from: if args.use_config {
                "config"
            } else {
                "recording"
            },
            env: recording.env.as_deref(),
            version: recording.version.as_deref(),
            baseline_version: recording.baseline_version.as_deref(),
            outcome: &outcome,
        };
        outln!("{}", actions::json(&actions::sorted_json(&out)?));
    } else {
        outp!("{}", human(&file, &recording, &source, &outcome));
    }
    Ok(match outcome.verdict {
        Verdict::Pass => ExitCode::SUCCESS,
        Verdict::Fail | Verdict::Continue => ExitCode::from(EXIT_NO),
    })
}

/// `canary judge --charts DIR`: the recording's charts, drawn with the settings judged, the
/// decision marked where the judge failed the canary (else at the last interval).
fn write_judge_charts(
    dir: &std::path::Path,
    recording: &Recording,
    settings: &shipgate_judge::Gates,
    outcome: &ReplayOutcome,
) -> anyhow::Result<()> {
    use shipgate_canary::chart::Marker;
    let judged = Recording {
        settings: settings.clone(),
        ..recording.clone()
    };
    let marker = match (outcome.decided_at, recording.intervals.last()) {
        (Some(at), _) => Some(Marker {
            t: at.t,
            label: "fail".into(),
        }),
        (None, Some(last)) => Some(Marker {
            t: last.t,
            label: match outcome.verdict {
                Verdict::Pass => "pass",
                _ => "inconclusive",
            }
            .into(),
        }),
        (None, None) => None,
    };
    shipgate_canary::report::write_charts(dir, &judged, marker.as_ref(), &write_atomically)?;
    Ok(())
}

fn human(file: &str, recording: &Recording, source: &str, outcome: &ReplayOutcome) -> String {
    let mut out = String::new();
    let what = match (&recording.version, &recording.baseline_version) {
        (Some(v), Some(b)) => format!("{v} against {b}"),
        (Some(v), None) => v.clone(),
        _ => "canary".into(),
    };
    let env = recording
        .env
        .as_deref()
        .map(|e| format!(" in {e}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{file}: {what}{env}, {} intervals judged, settings from {source}",
        outcome.intervals_judged
    );
    let verdict = match (outcome.verdict, outcome.decided_at) {
        (Verdict::Fail, Some(at)) => format!(
            "FAIL at interval {} (t = {} s): roll back",
            at.interval, at.t
        ),
        (Verdict::Fail, None) => "FAIL: roll back".into(),
        (Verdict::Pass, _) => "PASS".into(),
        (Verdict::Continue, _) => "INCONCLUSIVE (never a pass)".into(),
    };
    let _ = writeln!(out, "verdict: {verdict}");
    let _ = writeln!(out, "rule: {}", outcome.rule);
    if let Some(report) = &outcome.report {
        for m in &report.metrics {
            out.push('\n');
            metric(&mut out, m);
        }
    }
    out
}

fn metric(out: &mut String, m: &MetricReport) {
    let critical = if m.critical {
        "critical"
    } else {
        "not critical"
    };
    let _ = writeln!(
        out,
        "{} ({}, {critical}): {}",
        m.name,
        m.kind.as_str(),
        m.verdict.as_str()
    );
    let _ = writeln!(out, "  rule:      {}", m.rule);
    let _ = writeln!(
        out,
        "  values:    canary {}, baseline {}, threshold {}, tolerance {}",
        num(m.canary),
        num(m.baseline),
        num(m.threshold),
        num(Some(m.tolerance))
    );
    if let Some(e) = &m.effect {
        let upper = e.upper.map_or("unbounded".to_string(), |u| num(Some(u)));
        let _ = writeln!(
            out,
            "  effect:    {} = {}, {}% confidence interval [{}, {upper}]",
            e.measure,
            e.estimate.map_or("unbounded".to_string(), |v| num(Some(v))),
            num(Some(e.confidence * 100.0)),
            num(e.lower),
        );
    }
    let _ = writeln!(
        out,
        "  samples:   {} canary / {} baseline requests, {} intervals with data, {} inconclusive",
        m.canary_requests, m.baseline_requests, m.intervals, m.inconclusive_intervals
    );
    for t in &m.tests {
        let state = match (t.active, t.rejected) {
            (false, _) => "not started",
            (true, true) => "REJECTED",
            (true, false) => "holds",
        };
        let _ = writeln!(
            out,
            "  test:      {}: e = {}, bar {} ({state})",
            t.name,
            num(Some(t.e_value)),
            num(Some(t.bar))
        );
    }
}

fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    shipgate_stdx::fs::write_atomic(path, bytes)
}

fn run_canary(global: &Global, args: &RunArgs) -> anyhow::Result<ExitCode> {
    use shipgate_canary::report::{ArtifactError, Artifacts, Reporter, run_reported};
    use shipgate_canary::{RunError, RunRequest, Source};
    use shipgate_pipeline::canary::{CanaryRun, Notice};
    use shipgate_pipeline::store::GitStore;
    use shipgate_pipeline::{Bus, Pipeline};

    // Names are checked before any query, command, path or ledger read is built from them.
    shipgate_stdx::names::EnvName::parse(&args.env)
        .map_err(|source| shipgate_canary::RequestError::InvalidEnv { source })?;
    for (from, v) in [
        ("--canary-version", &args.canary_version),
        ("--baseline-version", &args.baseline_version),
    ] {
        if let Some(v) = v {
            shipgate_stdx::names::Version::parse(v).map_err(|source| {
                shipgate_canary::RequestError::InvalidVersion {
                    from: from.into(),
                    source,
                }
            })?;
        }
    }
    let all = global.settings()?;
    let settings = all.canary.for_env(&args.env).map_err(RunError::Settings)?;
    crate::config_cmd::warn_canary(global, &all, all.canary.warnings_for_env(&args.env));
    let replay = args
        .replay
        .as_deref()
        .map(shipgate_canary::load_recording)
        .transpose()?;
    // A live run with [promote] judges the environment's latest promotion against what it
    // replaced, as the ledger says, and holds the environment while it runs; a replay is a
    // rehearsal of the recording's versions and records nothing. One pipeline (settings,
    // repository, who and when) and one fetch serve both the versions and the hold.
    let pipeline = match (&all.promote, &replay) {
        (Some(_), None) => Some(Pipeline::open(
            &global.repo,
            global.settings()?,
            crate::pipeline_io::caller()?,
        )?),
        _ => None,
    };
    let mut store = pipeline.as_ref().map(|p| GitStore::new(p.context()));
    let (canary_version, baseline_version) = match store.as_mut() {
        Some(store) => {
            let (c, b) = shipgate_pipeline::canary::versions(
                store,
                &args.env,
                args.canary_version.as_deref(),
                args.baseline_version.as_deref(),
            )?;
            (Some(c), Some(b))
        }
        None => (args.canary_version.clone(), args.baseline_version.clone()),
    };
    let mut request = RunRequest::resolve(
        &args.env,
        canary_version.as_deref(),
        baseline_version.as_deref(),
        replay.as_ref(),
    )?;
    let hash = |flag: &str, v: &Option<String>| {
        v.as_deref()
            .map(|v| {
                shipgate_stdx::names::PodHash::parse(v).map_err(|e| {
                    crate::cli::hinted(
                        format!("{flag}: {e}; no traffic was moved"),
                        "use 1 to 63 letters, digits, `-` and `_`",
                    )
                })
            })
            .transpose()
    };
    request.canary_hash = hash("--canary-hash", &args.canary_hash)?;
    request.stable_hash = hash("--stable-hash", &args.stable_hash)?;
    let source = replay.as_ref().map_or(Source::Prometheus, Source::Replay);
    let artifacts = Artifacts {
        record: args.record.clone(),
        charts: args.charts.clone(),
        step_summary: actions::summary_path(),
    };
    let report = Reporter {
        line: &|line: &str| errln!("{line}"),
        artifact_failed: &|e: &ArtifactError| {
            actions::warning(&e.to_string(), e.hint().as_deref());
        },
    };
    let stamp = match &pipeline {
        Some(p) => p.stamp.clone(),
        None => {
            let caller = crate::pipeline_io::caller()?;
            shipgate_pipeline::Stamp {
                who: caller.actor.unwrap_or_default(),
                now: caller.now,
                run_url: caller.run_url,
            }
        }
    };
    let default_promote = shipgate_promote::PromoteSettings::default();
    let facts = shipgate_pipeline::context::EnvFacts {
        order: &all.environments.order,
        promote: pipeline.as_ref().map_or(&default_promote, |p| &p.promote),
    };
    let mut traffic = crate::pipeline_io::stale_traffic(&all.canary);
    let mut notice = |n: Notice| match n {
        Notice::Progress(line) => errln!("{line}"),
        Notice::Note(text) => actions::note(&text),
        Notice::Warning(text) => actions::warning(&text, None),
    };
    let clock = shipgate_pipeline::canary::Monotonic::start();
    let (host, pid) = pipeline
        .as_ref()
        .map_or((String::new(), 0), |p| (p.host.clone(), p.pid));
    let mut bus = Bus::new();
    if actions::active() {
        bus.inline(Box::new(crate::actions_listener::ActionsListener::new(&[
            "canary-verdict",
        ])));
    }
    if let Some(gh) = pipeline.as_ref().and_then(|p| p.github.clone()) {
        bus.remote(Box::new(shipgate_pipeline::github::GithubDeployments::new(
            gh,
        )));
    }
    // A replay rehearses: it says what it would send and sends nothing.
    let notify = if replay.is_some() {
        crate::pipeline_io::Notify::DryRun
    } else {
        crate::pipeline_io::Notify::Strict
    };
    crate::pipeline_io::notifiers(
        &mut bus,
        &all,
        global,
        pipeline.as_ref().map(|p| p.repo.git_dir()),
        notify,
    )?;
    let run = CanaryRun {
        store: store
            .as_mut()
            .map(|s| s as &mut dyn shipgate_pipeline::store::Store),
        traffic: &mut traffic,
        stamp: &stamp,
        facts,
        clock: &clock,
        host,
        pid,
        replay: replay.is_some(),
        notice: &mut notice,
    };
    let steps = settings.gates.rollout.steps.as_slice().len();
    let told = shipgate_pipeline::canary::run(
        run,
        &request,
        steps,
        |judged| {
            // The judgements' lines are one group; the verdict's annotation follows it.
            let _group = actions::Group::stderr(&format!(
                "canary {} in {}: judgements",
                request.version, request.env
            ));
            run_reported(
                &settings,
                &request,
                source,
                &artifacts,
                &write_atomically,
                judged,
                report,
            )
        },
        bus,
    )?;
    crate::pipeline_io::delivered(&told.delivered);
    let outcome = told.outcome;
    if global.json {
        outln!(
            "{}",
            actions::json(&serde_json::to_string_pretty(&outcome)?)
        );
    } else {
        outln!("{}", headline(&request, replay.is_some(), &outcome));
        if let Some(alarms) = &outcome.alarms {
            outln!("  alarms: {}", alarms.describe());
        }
        if let Some(report) = &outcome.report {
            for m in &report.metrics {
                metric_into_stdout(m);
            }
        }
    }
    Ok(ExitCode::from(outcome.result.exit_code()))
}

/// The one-line result of a run, for stdout: `canary 1.4.0 in prod: rolled back: … (after
/// 50 s; rollback started 0.1 ms after the verdict)`.
fn headline(
    request: &shipgate_canary::RunRequest,
    replay: bool,
    outcome: &shipgate_canary::RunOutcome,
) -> String {
    let rollback = outcome
        .rollback_started_ms
        .map(|ms| format!("; rollback started {ms:.1} ms after the verdict"))
        .unwrap_or_default();
    format!(
        "canary {} in {}{}: {} (after {:.0} s{rollback})",
        request.version,
        request.env,
        if replay { " (replay)" } else { "" },
        outcome.result.describe(),
        outcome.decided_at_s
    )
}

fn metric_into_stdout(m: &MetricReport) {
    let mut out = String::new();
    metric(&mut out, m);
    outp!("{out}");
}
