//! `shipgate promote|rollback|approve|verify|freeze|unfreeze|unblock|status|history|metrics`:
//! arguments to `shipgate_promote::ops` calls, their answers rendered for people or as
//! `--json`, and the exit codes (0 done, 1 a gate refused, 2 could not run).

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use jiff::Timestamp;
use shipgate_pipeline::alarms::ProviderAlarms;
use shipgate_pipeline::promotion::{self, Promote, Record, Rollback, Scope};
use shipgate_pipeline::store::GitStore;
use shipgate_pipeline::views;
use shipgate_pipeline::{Pipeline, PipelineError};
use shipgate_promote::ops;
use shipgate_promote::{Gate, VerifyResult};

use crate::actions::{self, outln, outp};
use crate::cli::{EXIT_NO, Global, env_arg, reason_arg, version_arg};
use crate::pipeline_io::{Notify, bus, delivered, open, parse_time, stale_traffic};

#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// The released version (a release tag of [release])
    #[arg(value_name = "VERSION")]
    pub version: String,
    /// The target environment
    #[arg(long, value_name = "ENV")]
    pub to: String,
    /// One crate's releases ({crate}-v{version} tags)
    #[arg(long, value_name = "NAME")]
    pub package: Option<String>,
    /// Evaluate every gate and write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run: ask the gates about this time (RFC 3339), e.g. "is prod frozen on
    /// Friday at 17:00?"
    #[arg(long, value_name = "TIME", requires = "dry_run")]
    pub at: Option<String>,
    /// Pass a freeze (recorded with the reason), where the environment allows it
    #[arg(long, requires = "reason")]
    pub override_freeze: bool,
    /// Why the freeze is overridden
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Push the environment's commit and the ledger entry (and any entries pending)
    #[arg(long, conflicts_with = "pr")]
    pub push: bool,
    /// Open a pull request with the environment's change instead of pushing it (the body
    /// lists the gates); after the merge, `promote --push` records it
    #[arg(long)]
    pub pr: bool,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The environment
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// The version to go back to (default: the last version that passed there)
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,
    /// Why (recorded; the version rolled back from is blocked)
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// Push the environment's commit and the ledger entries
    #[arg(long)]
    pub push: bool,
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The released version
    #[arg(value_name = "VERSION")]
    pub version: String,
    /// The environment it is approved for
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Push the entry
    #[arg(long)]
    pub push: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ResultArg {
    Pass,
    Fail,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The released version
    #[arg(value_name = "VERSION")]
    pub version: String,
    /// The environment it was verified in
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// The verification's result
    #[arg(long, value_enum)]
    pub result: ResultArg,
    /// A URL or text: the smoke test run, the load test report, who checked
    #[arg(long, value_name = "URL-OR-TEXT")]
    pub evidence: Option<String>,
    /// Push the entry
    #[arg(long)]
    pub push: bool,
}

#[derive(Debug, Args)]
pub struct FreezeArgs {
    /// The environment
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Why (shown by every refused promotion until `shipgate unfreeze`)
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// Push the entry
    #[arg(long)]
    pub push: bool,
}

#[derive(Debug, Args)]
pub struct UnfreezeArgs {
    /// The environment
    #[arg(long, value_name = "ENV")]
    pub env: String,
    /// Push the entry
    #[arg(long)]
    pub push: bool,
}

#[derive(Debug, Args)]
pub struct UnblockArgs {
    /// The blocked version
    #[arg(value_name = "VERSION")]
    pub version: String,
    /// Why it may be promoted again
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// Push the entry
    #[arg(long)]
    pub push: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// One environment only
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// One environment's entries only
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// At most N entries (0: all)
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,
}

#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// One environment only
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// The window's start: a duration back from now (30d, 12h) or a date (2026-11-01, RFC 3339)
    #[arg(long, value_name = "DURATION|DATE")]
    pub since: Option<String>,
    /// How far back a rollback or a failed verification in the environment makes a
    /// promotion rework (unplanned)
    #[arg(long, value_name = "DURATION", default_value = "7d")]
    pub rework_window: String,
    /// text for people; openmetrics (ends with `# EOF`) or prometheus (text format 0.0.4)
    /// for a scraper, node-exporter's textfile collector or a Pushgateway
    #[arg(long, value_enum, default_value_t = MetricsFormat::Text)]
    pub format: MetricsFormat,
}

/// `metrics --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MetricsFormat {
    Text,
    Openmetrics,
    Prometheus,
}

/// Runs a promotion workflow with the git ledger, `[canary]`'s actuator for stale holds and
/// the providers' alarms.
fn scoped<T>(
    pipeline: &Pipeline,
    work: impl FnOnce(Scope<'_>) -> Result<T, PipelineError>,
) -> anyhow::Result<T> {
    let mut store = GitStore::new(pipeline.context());
    let mut traffic = stale_traffic(&pipeline.settings.canary);
    let alarms = ProviderAlarms {
        canary: &pipeline.settings.canary,
        promote: &pipeline.promote,
    };
    Ok(work(Scope {
        store: &mut store,
        traffic: &mut traffic,
        alarms: &alarms,
        stamp: &pipeline.stamp,
        facts: pipeline.facts(),
    })?)
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    use std::io::Write as _;
    let text = serde_json::to_string_pretty(value)?;
    let text = actions::json(&text);
    // A closed pipe (`| head`) is the reader's choice, not an error.
    match writeln!(std::io::stdout().lock(), "{text}") {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn gates_table(gates: &[Gate]) -> String {
    let width = gates.iter().map(|g| g.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for g in gates {
        let _ = writeln!(
            out,
            "  {}  {:width$}  {}",
            if g.passed { "pass" } else { "FAIL" },
            g.name,
            g.detail
        );
    }
    out
}

fn notes(notes: &[String]) {
    for n in notes {
        actions::note(n);
    }
}

/// The command's warnings (a clock behind the ledger); and, when it pushed an entry dated
/// by `SHIPGATE_NOW` ahead of the clock, until when that refuses everyone's writes.
pub fn warnings(pipeline: &Pipeline, warnings: &[String], pushed: bool) {
    for w in warnings {
        actions::warning(
            w,
            Some("set the clock right (or SHIPGATE_NOW when rehearsing)"),
        );
    }
    let clock = Timestamp::now();
    let now = pipeline.stamp.now;
    let until = ops::skew_refused_until(&pipeline.promote, now, clock);
    if let (true, Some(until)) = (pushed, until) {
        actions::warning(
            &format!(
                "SHIPGATE_NOW ({}) is more than max-clock-skew ({}) ahead of this clock ({clock}), and this entry was pushed: until {until}, writes at the real time are refused on clock skew (freeze, rollback and --dry-run excepted)",
                now, pipeline.promote.max_clock_skew
            ),
            Some("rehearse without --push, or on a ledger of its own (a clone without the remote)"),
        );
    }
}

/// `ledger     <id> (pushed | not pushed: …)`.
fn ledger_line(commit: &str, pushed: bool) {
    outln!(
        "ledger     {} ({})",
        short(commit),
        if pushed {
            "pushed"
        } else {
            "not pushed: run with --push"
        }
    );
}

fn short(id: &str) -> &str {
    &id[..id.len().min(10)]
}

pub fn promote(global: &Global, args: &PromoteArgs) -> anyhow::Result<ExitCode> {
    // Names are checked first: the alarms gate renders them into queries.
    let req = Promote {
        version: version_arg(&args.version)?,
        to: env_arg(&args.to)?,
        package: args.package.clone(),
        dry_run: args.dry_run,
        at: args
            .at
            .as_deref()
            .map(|t| parse_time("--at", t))
            .transpose()?,
        override_freeze: match (&args.reason, args.override_freeze) {
            (Some(reason), true) => Some(reason_arg(reason)?),
            _ => None,
        },
        push: args.push,
        pr: args.pr,
    };
    let pipeline = open(global)?;
    let notify = if args.dry_run {
        Notify::DryRun
    } else {
        Notify::Strict
    };
    let bus = bus(&pipeline, global, PROMOTE_EVENTS, notify)?;
    let told = scoped(&pipeline, |scope| promotion::promote(scope, &req, bus))?;
    let out = told.outcome;
    notes(&out.notes);
    delivered(&told.delivered);
    warnings(&pipeline, &out.warnings, out.pushed);
    if global.json {
        print_json(&out)?;
    } else {
        let verdict = match (out.dry_run, out.gates.iter().all(|g| g.passed)) {
            (true, true) => "would be promoted (dry run)",
            (true, false) => "would be REFUSED (dry run)",
            (false, _) if out.promoted => "promoted",
            (false, _) => "REFUSED",
        };
        outln!(
            "promote {} to {} (from {}) at {}: {verdict}",
            out.version,
            out.environment,
            out.from.as_deref().unwrap_or("nothing"),
            out.at
        );
        outp!("{}", gates_table(&out.gates));
        if let (Some(commit), Some(ledger)) = (&out.commit, &out.ledger_commit) {
            for w in &out.files {
                outln!("file       {} {} = {}", w.file, w.key, w.value);
            }
            if out.new_commit {
                outln!("commit     {}", short(commit));
            } else {
                outln!(
                    "commit     none: the files already said {} at {}",
                    out.version,
                    short(commit)
                );
            }
            ledger_line(ledger, out.pushed);
        }
        if let Some(url) = &out.pull_request {
            outln!(
                "pull request {url} (merge it, then `shipgate promote {} --to {} --push` records it)",
                out.version,
                out.environment
            );
        }
        if let Some(id) = out.deployment {
            outln!("deployment {id} on GitHub");
        }
        if out.attempts > 1 {
            outln!(
                "raced      {} attempts: the gates were evaluated again on the newer ledger",
                out.attempts
            );
        }
    }
    let refused = !out.gates.iter().all(|g| g.passed);
    Ok(if refused {
        ExitCode::from(EXIT_NO)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn rollback(global: &Global, args: &RollbackArgs) -> anyhow::Result<ExitCode> {
    let req = Rollback {
        env: env_arg(&args.env)?,
        to: args.to.as_deref().map(version_arg).transpose()?,
        reason: reason_arg(&args.reason)?,
        push: args.push,
    };
    let pipeline = open(global)?;
    let bus = bus(&pipeline, global, ROLLBACK_EVENTS, Notify::Lenient)?;
    let told = scoped(&pipeline, |scope| promotion::rollback(scope, &req, bus))?;
    let out = told.outcome;
    notes(&out.notes);
    delivered(&told.delivered);
    warnings(&pipeline, &out.warnings, out.pushed);
    if global.json {
        print_json(&out)?;
    } else {
        outln!(
            "rollback of {} from {} to {} by {}: {}",
            out.environment,
            out.from,
            out.to,
            out.by,
            out.reason
        );
        outln!(
            "blocked    {} (shipgate unblock {} --reason … lifts it)",
            out.blocked,
            out.blocked
        );
        if let Some(c) = &out.commit {
            outln!("commit     {}", short(c));
        }
        ledger_line(&out.ledger_commit, out.pushed);
    }
    Ok(ExitCode::SUCCESS)
}

/// The events whose Actions summary and outputs are `promote`'s.
const PROMOTE_EVENTS: &[&str] = &[
    "promoted",
    "promotion-refused",
    "promotion-rehearsed",
    "promotion-proposed",
];

/// The events whose Actions summary and outputs are `rollback`'s.
const ROLLBACK_EVENTS: &[&str] = &["rolled-back"];

/// Runs a command that only writes entries, then prints what it wrote.
fn recorded(global: &Global, req: &Record) -> anyhow::Result<ExitCode> {
    let pipeline = open(global)?;
    // an emergency freeze and its end are never held up by a notification channel
    let notify = match req {
        Record::Freeze { .. } | Record::Unfreeze { .. } => Notify::Lenient,
        _ => Notify::Strict,
    };
    let bus = bus(&pipeline, global, &[], notify)?;
    let mut store = GitStore::new(pipeline.context());
    let told = promotion::record(&mut store, &pipeline.stamp, req, bus)?;
    let out = told.outcome;
    notes(&out.notes);
    delivered(&told.delivered);
    warnings(&pipeline, &out.warnings, out.pushed);
    if global.json {
        print_json(&out)?;
    } else {
        for e in &out.entries {
            outln!("{}", e.summary());
        }
        ledger_line(&out.ledger_commit, out.pushed);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn approve(global: &Global, args: &ApproveArgs) -> anyhow::Result<ExitCode> {
    let req = Record::Approve {
        version: version_arg(&args.version)?,
        env: env_arg(&args.env)?,
        push: args.push,
    };
    recorded(global, &req)
}

pub fn verify(global: &Global, args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let req = Record::Verify {
        version: version_arg(&args.version)?,
        env: env_arg(&args.env)?,
        result: match args.result {
            ResultArg::Pass => VerifyResult::Pass,
            ResultArg::Fail => VerifyResult::Fail,
        },
        evidence: args.evidence.clone(),
        push: args.push,
    };
    recorded(global, &req)
}

pub fn freeze(global: &Global, args: &FreezeArgs) -> anyhow::Result<ExitCode> {
    let req = Record::Freeze {
        env: env_arg(&args.env)?,
        reason: reason_arg(&args.reason)?,
        push: args.push,
    };
    recorded(global, &req)
}

pub fn unfreeze(global: &Global, args: &UnfreezeArgs) -> anyhow::Result<ExitCode> {
    let req = Record::Unfreeze {
        env: env_arg(&args.env)?,
        push: args.push,
    };
    recorded(global, &req)
}

pub fn unblock(global: &Global, args: &UnblockArgs) -> anyhow::Result<ExitCode> {
    let req = Record::Unblock {
        version: version_arg(&args.version)?,
        reason: reason_arg(&args.reason)?,
        push: args.push,
    };
    recorded(global, &req)
}

fn or_dash(v: Option<&str>) -> &str {
    v.unwrap_or("-")
}

pub fn status(global: &Global, args: &StatusArgs) -> anyhow::Result<ExitCode> {
    let env = args.env.as_deref().map(env_arg).transpose()?;
    let pipeline = open(global)?;
    let out = views::status(&pipeline, env.as_ref())?;
    notes(&out.notes);
    if let (Some(env), true) = (args.env.as_deref(), actions::active()) {
        let version = out
            .environments
            .iter()
            .find(|e| e.name == env)
            .and_then(|e| e.version.clone());
        actions::set_outputs(&[("version", version.unwrap_or_default())]);
    }
    if global.json {
        print_json(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    outp!("{}", render_status(&out));
    Ok(ExitCode::SUCCESS)
}

/// `status` for people: a table, then what needs attention.
pub fn render_status(out: &ops::Status) -> String {
    let mut s = String::new();
    let rows: Vec<[String; 6]> = out
        .environments
        .iter()
        .map(|e| {
            [
                e.name.clone(),
                or_dash(e.version.as_deref()).to_string(),
                e.since.map(|t| t.to_string()).unwrap_or_else(|| "-".into()),
                or_dash(e.by.as_deref()).to_string(),
                match &e.verification {
                    Some(v) if v.result == VerifyResult::Pass => "pass".into(),
                    Some(_) => "FAIL".into(),
                    None => "-".into(),
                },
                or_dash(e.desired.as_deref()).to_string(),
            ]
        })
        .collect();
    let header = ["ENV", "VERSION", "SINCE", "BY", "VERIFIED", "DESIRED"];
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let line = |cells: &[&str]| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            let _ = write!(l, "{:w$}  ", c, w = widths[i]);
        }
        l.trim_end().to_string()
    };
    let _ = writeln!(s, "{}", line(&header));
    for r in &rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        let _ = writeln!(s, "{}", line(&cells));
    }
    for e in &out.environments {
        if let Some(r) = &e.last_rollback {
            let _ = writeln!(
                s,
                "{}: last rollback {} → {} at {} by {}: {}",
                e.name, r.from, r.to, r.at, r.by, r.reason
            );
        }
        for f in &e.frozen {
            let _ = writeln!(s, "{}: frozen: {f}", e.name);
        }
        match (e.lock, &e.holder) {
            ("held", Some(h)) => {
                let _ = writeln!(s, "{}: held by {h}", e.name);
            }
            ("stale", Some(h)) => {
                let _ = writeln!(
                    s,
                    "{}: STALE HOLD: {h}; its run died and may have left traffic on the canary: the next canary run, promote or rollback for {} rolls it back",
                    e.name, e.name
                );
            }
            _ => {}
        }
        if let (Some(v), Some(d)) = (&e.version, &e.desired)
            && v != d
        {
            let _ = writeln!(
                s,
                "{}: its file says {d} but the ledger says {v} runs (changed outside shipgate?)",
                e.name
            );
        }
    }
    if !out.blocked.is_empty() {
        let _ = writeln!(s, "blocked: {}", out.blocked.join(", "));
    }
    if out.pending > 0 {
        let _ = writeln!(
            s,
            "pending: {} ledger entr{} not pushed (any write with --push pushes them)",
            out.pending,
            if out.pending == 1 { "y" } else { "ies" }
        );
    }
    s
}

pub fn history(global: &Global, args: &HistoryArgs) -> anyhow::Result<ExitCode> {
    let env = args.env.as_deref().map(env_arg).transpose()?;
    let pipeline = open(global)?;
    let limit = (args.limit > 0).then_some(args.limit);
    let out = views::history(&pipeline, env.as_ref(), limit)?;
    if global.json {
        print_json(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    let _group = actions::Group::stdout(&format!(
        "history: {} entr{}",
        out.entries.len(),
        if out.entries.len() == 1 { "y" } else { "ies" }
    ));
    outp!("{}", render_history(&out));
    Ok(ExitCode::SUCCESS)
}

/// `history` for people: one line per entry, newest first.
pub fn render_history(out: &ops::History) -> String {
    let mut s = String::new();
    for h in &out.entries {
        let e = &h.entry;
        let mut line = format!("{}  {}  {}", e.at, short(&h.ledger_commit), e.summary());
        if let Some(r) = &e.reason {
            let _ = write!(line, ": {}", r.replace(['\n', '\r'], " "));
        }
        if !h.pushed {
            line.push_str("  [not pushed]");
        }
        let _ = writeln!(s, "{line}");
    }
    if out.entries.is_empty() {
        s.push_str("the ledger has no entries yet\n");
    }
    s
}

pub fn metrics(global: &Global, args: &MetricsArgs) -> anyhow::Result<ExitCode> {
    let env = args.env.as_deref().map(env_arg).transpose()?;
    let pipeline = open(global)?;
    let since = match args.since.as_deref() {
        None => None,
        Some(text) => Some(match shipgate_stdx::duration::HumanDuration::parse(text) {
            Ok(d) => Timestamp::from_second(pipeline.stamp.now.as_second() - d.0.as_secs() as i64)
                .context("--since reaches before the year -9999")?,
            Err(_) => parse_time("--since", text)?,
        }),
    };
    let rework_window = shipgate_stdx::duration::HumanDuration::parse(&args.rework_window)
        .with_context(|| format!("--rework-window {}", args.rework_window))?
        .0;
    let exposition = match args.format {
        MetricsFormat::Text => None,
        MetricsFormat::Openmetrics => Some(shipgate_promote::metrics::Format::OpenMetrics),
        MetricsFormat::Prometheus => Some(shipgate_promote::metrics::Format::Prometheus),
    };
    if global.json && exposition.is_some() {
        let name = args
            .format
            .to_possible_value()
            .map(|v| v.get_name().to_string());
        anyhow::bail!(
            "--json and --format {} are two outputs: pick one",
            name.unwrap_or_default()
        );
    }
    let out = views::metrics(&pipeline, env.as_ref(), since, rework_window)?;
    if global.json {
        print_json(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(format) = exposition {
        let text =
            shipgate_promote::metrics::exposition(&out.environments, out.rework_window_s, format);
        outp!("{text}");
        return Ok(ExitCode::SUCCESS);
    }
    outln!("delivery metrics from {} to {}", out.since, out.until);
    outln!(
        "{:10} {:>11} {:>8} {:>8} {:>12} {:>12} {:>14} {:>16} {:>14} {:>13}",
        "ENV",
        "DEPLOYMENTS",
        "PER DAY",
        "CHANGES",
        "LEAD MEDIAN",
        "LEAD P90",
        "FAILURE RATE",
        "RESTORE MEDIAN",
        "SUCCESS RATE",
        "REWORK RATE"
    );
    let percent = |v: Option<f64>| {
        v.map(|r| format!("{:.1} %", r * 100.0))
            .unwrap_or_else(|| "-".into())
    };
    let secs = |v: Option<f64>| {
        v.map(|s| {
            shipgate_stdx::duration::HumanDuration(std::time::Duration::from_secs(s as u64))
                .to_string()
        })
        .unwrap_or_else(|| "-".into())
    };
    for m in &out.environments {
        outln!(
            "{:10} {:>11} {:>8.2} {:>8} {:>12} {:>12} {:>14} {:>16} {:>14} {:>13}",
            m.name,
            m.deployments,
            m.deployments_per_day,
            m.changes,
            secs(m.lead_time_median_s),
            secs(m.lead_time_p90_s),
            percent(m.change_failure_rate),
            secs(m.time_to_restore_median_s),
            percent(m.deployment_success_rate),
            percent(m.rework_rate)
        );
    }
    outln!(
        "{:10} {:>8} {:>8} {:>8} {:>10} {:>16} {:>13}",
        "ENV",
        "CANARIES",
        "PASSED",
        "FAILED",
        "PASS RATE",
        "DECISION MEDIAN",
        "DECISION P90"
    );
    for m in &out.environments {
        outln!(
            "{:10} {:>8} {:>8} {:>8} {:>10} {:>16} {:>13}",
            m.name,
            m.canaries,
            m.canaries_passed,
            m.canaries_failed,
            percent(m.canary_pass_rate),
            secs(m.canary_decision_median_s),
            secs(m.canary_decision_p90_s)
        );
    }
    if let Some(since) = out.canaries_since.filter(|c| *c > out.since) {
        outln!(
            "canary verdicts are counted from {since}: the ledger's indexes hold none before (it was begun by an older shipgate)"
        );
    }
    Ok(ExitCode::SUCCESS)
}
