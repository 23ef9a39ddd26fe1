//! `shipgate review`: a Markdown draft of a post-incident review of a rollback, from the
//! ledger (`shipgate_pipeline::review`), the version's changelog section and, when given,
//! the canary's recording, rendered with a handlebars template (the built-in
//! `review_cmd.md.hbs`, or `--template FILE`) to stdout or `--out FILE`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use jiff::Timestamp;
use serde::Serialize;
use shipgate_judge::record::Recording;
use shipgate_pipeline::Pipeline;
use shipgate_pipeline::review::{self, Moment, Review, ReviewRequest, Select, Span};
use shipgate_promote::VerifyResult;
use shipgate_promote::entry::Source;
use shipgate_stdx::duration::HumanDuration;

use crate::actions::md;
use crate::cli::{Global, Hinted, env_arg, version_arg};
use crate::pipeline_io::{open, parse_time};

/// The built-in template.
pub const TEMPLATE: &str = include_str!("review_cmd.md.hbs");

#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// The environment the rollout failed in
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Review the newest rollback from this version (default: the newest rollback)
    #[arg(long, value_name = "VERSION", conflicts_with = "at")]
    pub version: Option<String>,
    /// Review the rollback nearest before this time (RFC 3339, or a date)
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// The canary's recording (`canary run --record FILE`): per-metric values and an
    /// impact estimate
    #[arg(long, value_name = "FILE")]
    pub recording: Option<PathBuf>,
    /// A handlebars template instead of the built-in one (its context: README)
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
    /// Write the draft to FILE (atomically) instead of stdout
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

pub fn run(global: &Global, args: &ReviewArgs) -> anyhow::Result<ExitCode> {
    // Names are checked before anything is read.
    let env = env_arg(&args.env)?;
    let select = match (&args.version, &args.at) {
        (Some(v), _) => Select::Version(version_arg(v)?),
        (None, Some(t)) => Select::Before(parse_time("--at", t)?),
        (None, None) => Select::Newest,
    };
    let recording = match &args.recording {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Hinted::new(
                    format!("cannot read the recording {}", path.display()),
                    "give the file `shipgate canary run --record FILE` wrote",
                )
                .because(e)
            })?;
            Some(Recording::from_json(&text).map_err(|e| {
                Hinted::new(
                    format!("the recording {}: {e}", path.display()),
                    "give the file `shipgate canary run --record FILE` wrote",
                )
            })?)
        }
    };
    let template = match &args.template {
        None => TEMPLATE.to_string(),
        Some(path) => std::fs::read_to_string(path).map_err(|e| {
            Hinted::new(
                format!("cannot read the template {}", path.display()),
                "give a handlebars file; README lists its context",
            )
            .because(e)
        })?,
    };
    let mut registry = handlebars::Handlebars::new();
    registry.register_escape_fn(handlebars::no_escape);
    registry.set_strict_mode(false);
    registry
        .register_template_string("review", &template)
        .map_err(|e| {
            Hinted::new(
                format!("the template does not compile: {e}"),
                "fix the handlebars syntax at the line it names",
            )
        })?;
    let pipeline = open(global)?;
    let review = review::review(
        &pipeline,
        &ReviewRequest {
            env,
            select,
            recording,
        },
    )?;
    let context = context(&pipeline, &review);
    // --json: the template's context, for writing a template, its keys sorted.
    let text = if global.json {
        crate::actions::sorted_json(&context)? + "\n"
    } else {
        registry.render("review", &context).map_err(|e| {
            Hinted::new(
                format!("the template does not render: {e}"),
                "README lists the template's context",
            )
        })?
    };
    match &args.out {
        Some(path) => shipgate_stdx::fs::write_atomic(path, text.as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?,
        None if global.json => crate::actions::out(&crate::actions::json(&text)),
        None => crate::actions::out(&text),
    }
    Ok(ExitCode::SUCCESS)
}

/// `2026-12-01 11:00:00 UTC`.
fn utc(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// `7m`, `1h2m`, `-30s`.
fn human(seconds: i64) -> String {
    let d = HumanDuration(Duration::from_secs(seconds.unsigned_abs()));
    if seconds < 0 {
        format!("-{d}")
    } else {
        d.to_string()
    }
}

fn span(s: &Option<Span>) -> Option<SpanText> {
    s.as_ref().map(|s| SpanText {
        text: human(s.seconds),
        seconds: s.seconds,
        from: utc(s.from),
        to: utc(s.to),
    })
}

/// One timeline line, outside text escaped.
fn line(m: &Moment, env: &str) -> String {
    let v = md(m.version.as_deref().unwrap_or("-"));
    let by = md(&m.by);
    let env = md(env);
    let mut s = match m.kind {
        "promotion" => format!(
            "promotion of {v} into {env} by {by} (from {})",
            md(m.from.as_deref().unwrap_or("nothing"))
        ),
        "verification" => {
            let result = match m.result {
                Some(VerifyResult::Fail) => "FAIL",
                Some(VerifyResult::Pass) => "pass",
                None => "-",
            };
            match m.source {
                Some(Source::Canary) => {
                    format!("canary verdict on {v}: {result}, recorded by {by}")
                }
                _ => format!("verification of {v}: {result}, by {by}"),
            }
        }
        "rollback" => format!(
            "rollback of {env} from {} to {v} by {by}",
            md(m.from.as_deref().unwrap_or("-"))
        ),
        "block" => format!("{v} blocked by {by}"),
        "unblock" => format!("{v} unblocked by {by}"),
        "approval" => format!("approval of {v} for {env} by {by}"),
        other => format!("{other} of {v} by {by}"),
    };
    if let Some(c) = &m.canary {
        s.push_str(&format!(
            " (canary: {} at {:.1}s into the run",
            match c.verdict {
                VerifyResult::Fail => "fail",
                VerifyResult::Pass => "pass",
            },
            c.decided_at_s
        ));
        if let Some(metric) = &c.metric {
            s.push_str(&format!(", metric {}", md(metric)));
        }
        s.push_str(&format!(
            ", rule: {}, baseline {})",
            md(&c.rule),
            md(&c.baseline_version)
        ));
    }
    // A canary's verification has its rule as its evidence: said once.
    if let Some(e) = m
        .evidence
        .as_ref()
        .filter(|e| m.canary.as_ref().is_none_or(|c| c.rule != **e))
    {
        s.push_str(&format!(", evidence: {}", md(e)));
    }
    if let Some(r) = &m.reason {
        s.push_str(&format!(": {}", md(r)));
    }
    s
}

/// A metric's value as its kind reads: an error rate in percent, a latency in seconds.
fn value(kind: &str, v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if kind == "counts" => format!("{:.2} %", v * 100.0),
        Some(v) if kind == "latency" => format!("{v:.3} s"),
        Some(v) => format!("{v}"),
    }
}

/// `review --json`: the template's context, every outside text escaped for Markdown and
/// the review's facts raw under `review`. Printed with its keys sorted at every level (as
/// it was when it was a `json!` object).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ReviewContext<'a> {
    /// `Post-incident review: VERSION rolled back in ENV`.
    pub title: String,
    /// The environment.
    pub environment: String,
    /// The version rolled back.
    pub version: String,
    /// The version the rollback restored.
    pub restored: String,
    /// When the rollback was recorded: `2026-12-01 11:00:00 UTC`.
    pub rolled_back_at: String,
    /// The ledger's entries for the version in the environment, oldest first.
    pub timeline: Vec<TimelineLine>,
    /// Promotion → failing verdict (`null`: unknown).
    pub time_to_detect: Option<SpanText>,
    /// Failing verdict → rollback (`null`: unknown).
    pub time_to_restore: Option<SpanText>,
    /// The environment's recovery time objective, in words: `10m`.
    pub rto: String,
    /// `within RTO (10m)` or `over RTO (10m) by 2m` (`null`: the time to restore is unknown).
    pub rto_verdict: Option<String>,
    /// What the canary's recording says (`null`: no recording given).
    pub evidence: Option<EvidenceText>,
    /// What could not be known, in words.
    pub unknowns: Vec<String>,
    /// The version's changelog section (`null`: not known, see `changes_unknown`).
    pub changes: Option<Changes>,
    /// Why the version's changes are not known (`null` when they are).
    pub changes_unknown: Option<String>,
    /// `[links] runbook` with its placeholders filled (`null`: none configured).
    pub runbook: Option<String>,
    /// `[links] dashboard` with its placeholders filled (`null`: none configured).
    pub dashboard: Option<String>,
    /// The review's facts, raw (not escaped).
    pub review: &'a Review,
}

/// One line of the timeline.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct TimelineLine {
    /// When the entry was written: `2026-12-01 11:00:00 UTC`.
    pub at: String,
    /// `promotion`, `verification`, `rollback`, `block`, `unblock`, `approval`.
    pub kind: &'static str,
    /// Who wrote it.
    pub by: String,
    /// The entry in words.
    pub line: String,
}

/// A span between two moments, in words and in seconds.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct SpanText {
    /// Its length in words: `7m`, `-30s`.
    pub text: String,
    /// Its length in seconds.
    pub seconds: i64,
    /// Its start: `2026-12-01 11:00:00 UTC`.
    pub from: String,
    /// Its end, the same way.
    pub to: String,
}

/// What the canary's recording says, in words.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct EvidenceText {
    /// The judge's verdict on the recording (`fail`, `pass`, `continue`: inconclusive).
    pub verdict: &'static str,
    /// Its rule, in words.
    pub rule: String,
    /// When a `fail` was decided: `40.0s into the run` (`null`: no `fail`).
    pub decided_at: Option<String>,
    /// Intervals recorded.
    pub intervals: usize,
    /// From the run's start to its last interval, in words.
    pub duration: String,
    /// When the run started, as the recording says.
    pub started_at: Option<String>,
    /// Per metric.
    pub metrics: Vec<MetricText>,
    /// Requests the canary served while it ran, rounded (`null`: no `counts` metric).
    pub canary_requests: Option<String>,
    /// Per `counts` metric: the errors the canary served beyond the baseline's share.
    pub excess_errors: Vec<ExcessText>,
}

/// One metric of the recording.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct MetricText {
    /// The metric's name.
    pub name: String,
    /// `counts`, `latency` or `gauge`.
    pub kind: &'static str,
    /// The canary's value over the run as its kind reads (`1.20 %`, `0.250 s`), or `-`.
    pub canary: String,
    /// The baseline's value, the same way.
    pub baseline: String,
    /// The judge's verdict on it.
    pub verdict: &'static str,
    /// The rule that decided, in words.
    pub rule: String,
}

/// A `counts` metric's errors beyond the baseline's error share: an estimate, in words.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ExcessText {
    /// The metric.
    pub metric: String,
    /// Requests the canary served, rounded.
    pub canary_requests: String,
    /// Errors among them, rounded.
    pub canary_errors: String,
    /// The baseline's error share in percent, or `unknown (no baseline requests)`.
    pub baseline_error_share: String,
    /// Errors beyond that share, rounded, or `unknown`.
    pub excess_errors: String,
}

/// The version's changelog section, as `shipgate changelog` gathers its release.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Changes {
    /// The version's release tag.
    pub tag: String,
    /// The release tag its commits are counted from (`null`: the first release).
    pub previous_tag: Option<String>,
    /// Its commits, newest first.
    pub commits: Vec<ChangeCommit>,
    /// The section rendered as Keep a Changelog Markdown.
    pub section: String,
}

/// One commit of the version.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ChangeCommit {
    /// Its id, the first 10 characters.
    pub id: String,
    /// Its subject line.
    pub subject: String,
}

/// The template's context: every outside text escaped for Markdown, the review itself
/// raw under `review`.
fn context<'a>(pipeline: &Pipeline, r: &'a Review) -> ReviewContext<'a> {
    let env = r.environment.as_str();
    let links = pipeline
        .settings
        .links
        .pick(Some(env), r.deciding_metric.as_deref());
    let from = r
        .promoted_at
        .unwrap_or(r.rolled_back_at)
        .as_millisecond()
        .to_string();
    let to = (r.rolled_back_at.as_millisecond() + 5 * 60 * 1000).to_string();
    let vars = [
        ("env", env),
        ("version", r.version.as_str()),
        ("from", from.as_str()),
        ("to", to.as_str()),
    ];
    let link = |l: &Option<String>| {
        l.as_deref()
            .map(|t| shipgate_settings::notify::render_link(t, &vars))
    };
    let rto = human(i64::try_from(r.rto_s).unwrap_or(i64::MAX));
    let rto_verdict = match (&r.time_to_restore, r.within_rto) {
        (Some(_), Some(true)) => Some(format!("within RTO ({rto})")),
        (Some(s), Some(false)) => Some(format!(
            "over RTO ({rto}) by {}",
            human(s.seconds - i64::try_from(r.rto_s).unwrap_or(i64::MAX))
        )),
        _ => None,
    };
    let (changes, changes_unknown) = match changes(pipeline, &r.version) {
        Ok(c) => (Some(c), None),
        Err(e) => (None, Some(md(&format!("{e:#}")))),
    };
    let evidence = r.evidence.as_ref().map(|e| EvidenceText {
        verdict: e.verdict,
        rule: md(&e.rule),
        decided_at: e.decided_at_s.map(|s| format!("{s:.1}s into the run")),
        intervals: e.intervals,
        duration: human(e.duration_s as i64),
        started_at: e.started_at.as_deref().map(md),
        metrics: e
            .metrics
            .iter()
            .map(|m| MetricText {
                name: md(&m.name),
                kind: m.kind,
                canary: value(m.kind, m.canary),
                baseline: value(m.kind, m.baseline),
                verdict: m.verdict,
                rule: md(&m.rule),
            })
            .collect(),
        canary_requests: e.canary_requests.map(|n| format!("{n:.0}")),
        excess_errors: e
            .excess_errors
            .iter()
            .map(|x| ExcessText {
                metric: md(&x.metric),
                canary_requests: format!("{:.0}", x.canary_requests),
                canary_errors: format!("{:.0}", x.canary_errors),
                baseline_error_share: x
                    .baseline_error_share
                    .map_or("unknown (no baseline requests)".into(), |s| {
                        format!("{:.2} %", s * 100.0)
                    }),
                excess_errors: x
                    .excess_errors
                    .map_or("unknown".into(), |n| format!("{n:.0}")),
            })
            .collect(),
    });
    ReviewContext {
        title: format!(
            "Post-incident review: {} rolled back in {}",
            md(&r.version),
            md(env)
        ),
        environment: md(env),
        version: md(&r.version),
        restored: md(&r.restored),
        rolled_back_at: utc(r.rolled_back_at),
        timeline: r
            .timeline
            .iter()
            .map(|m| TimelineLine {
                at: utc(m.at),
                kind: m.kind,
                by: md(&m.by),
                line: line(m, env),
            })
            .collect(),
        time_to_detect: span(&r.time_to_detect),
        time_to_restore: span(&r.time_to_restore),
        rto,
        rto_verdict,
        evidence,
        unknowns: r.unknowns.iter().map(|u| md(u)).collect(),
        changes,
        changes_unknown,
        runbook: link(&links.runbook),
        dashboard: link(&links.dashboard),
        review: r,
    }
}

/// The version's changelog section, as `shipgate changelog` gathers a release: its
/// commits from its tag down to the previous release.
fn changes(pipeline: &Pipeline, version: &str) -> anyhow::Result<Changes> {
    let release = &pipeline.settings.release;
    let released = shipgate_release::released(&pipeline.repo, release, None)?;
    let Some((_, tag, _)) = released.iter().find(|(v, _, _)| v.to_string() == version) else {
        anyhow::bail!("{version} has no release tag here, so its commits are not known");
    };
    let mut input = shipgate_release::collect_changelog(&shipgate_release::ChangelogRequest {
        repo: pipeline.repo.workdir().to_path_buf(),
        settings: release.clone(),
        span: shipgate_release::Span::Release { tag: tag.clone() },
        package: None,
    })?;
    let Some(section) = input.releases.pop() else {
        anyhow::bail!("the release {tag} has no changelog section");
    };
    let rendered = shipgate_changelog::render_release(&section, &pipeline.settings.changelog);
    Ok(Changes {
        tag: md(tag),
        previous_tag: section.previous_tag.as_deref().map(md),
        commits: section
            .commits
            .iter()
            .map(|c| ChangeCommit {
                id: c.id[..c.id.len().min(10)].to_string(),
                subject: md(c.message.lines().next().unwrap_or_default()),
            })
            .collect(),
        section: rendered,
    })
}
