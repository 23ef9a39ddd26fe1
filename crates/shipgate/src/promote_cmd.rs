//! `shipgate promote|rollback|approve|verify|freeze|unfreeze|unblock|status|history|metrics`:
//! arguments to `shipgate_promote::ops` calls, their answers rendered for people or as
//! `--json`, and the exit codes (0 done, 1 a gate refused, 2 could not run).

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use jiff::Timestamp;
use shipgate_promote::ops::{self, Context, PromoteRequest, RollbackRequest};
use shipgate_promote::{Gate, VerifyResult};

use crate::actions::{self, outln, outp};
use crate::cli::{EXIT_NO, Global, env_arg, version_arg};

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
}

/// When: `SHIPGATE_NOW` (RFC 3339) when set, else the clock.
pub fn now() -> anyhow::Result<Timestamp> {
    match std::env::var("SHIPGATE_NOW") {
        Ok(text) if !text.trim().is_empty() => parse_time("SHIPGATE_NOW", text.trim()),
        _ => Ok(Timestamp::now()),
    }
}

fn parse_time(what: &str, text: &str) -> anyhow::Result<Timestamp> {
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

/// Who: `GITHUB_ACTOR`, else the git identity's e-mail.
fn who(repo: &shipgate_git::Repo) -> anyhow::Result<String> {
    if let Ok(actor) = std::env::var("GITHUB_ACTOR")
        && !actor.trim().is_empty()
    {
        return Ok(actor.trim().to_string());
    }
    repo.identity_email().ok_or_else(|| {
        crate::cli::hinted(
            "no one to record as the author: GITHUB_ACTOR is not set and git has no user.email",
            "git config user.email you@example.com",
        )
    })
}

/// `GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID`, when all are set.
fn run_url() -> Option<String> {
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());
    Some(format!(
        "{}/{}/actions/runs/{}",
        var("GITHUB_SERVER_URL")?.trim_end_matches('/'),
        var("GITHUB_REPOSITORY")?,
        var("GITHUB_RUN_ID")?
    ))
}

/// Everything a promotion command needs, owned.
pub struct Setup {
    pub repo: shipgate_git::Repo,
    pub settings: shipgate_settings::Settings,
    pub promote: shipgate_promote::PromoteSettings,
    pub who: String,
    pub now: Timestamp,
    pub run_url: Option<String>,
    pub github: Option<shipgate_promote::github::Github>,
}

impl Setup {
    pub fn new(global: &Global) -> anyhow::Result<Self> {
        let settings = global.settings()?;
        let repo = shipgate_git::open(&global.repo)?;
        let who = who(&repo)?;
        let github =
            shipgate_promote::github::Github::from_env(repo.remote_url(&settings.release.remote));
        Ok(Setup {
            github,
            promote: settings.promote.clone().unwrap_or_default(),
            repo,
            settings,
            who,
            now: now()?,
            run_url: run_url(),
        })
    }

    pub fn context(&self) -> Context<'_> {
        Context {
            repo: &self.repo,
            settings: &self.promote,
            environments: &self.settings.environments,
            release: &self.settings.release,
            who: self.who.clone(),
            now: self.now,
            run_url: self.run_url.clone(),
            github: self.github.as_ref(),
        }
    }

    /// Traffic of a canary that died, back to its baseline through `[canary]`'s actuator.
    pub fn roll_back_stale(
        &self,
    ) -> impl FnMut(&shipgate_promote::lock::Hold) -> Result<(), String> + '_ {
        move |hold| crate::canary_cmd::roll_back_traffic(&self.settings.canary, hold)
    }
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
pub fn warnings(setup: &Setup, warnings: &[String], pushed: bool) {
    for w in warnings {
        actions::warning(
            w,
            Some("set the clock right (or SHIPGATE_NOW when rehearsing)"),
        );
    }
    let clock = Timestamp::now();
    let until = ops::skew_refused_until(&setup.promote, setup.now, clock);
    if let (true, Some(until)) = (pushed, until) {
        actions::warning(
            &format!(
                "SHIPGATE_NOW ({}) is more than max-clock-skew ({}) ahead of this clock ({clock}), and this entry was pushed: until {until}, writes at the real time are refused on clock skew (freeze, rollback and --dry-run excepted)",
                setup.now, setup.promote.max_clock_skew
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
    let (version, to) = (version_arg(&args.version)?, env_arg(&args.to)?);
    let setup = Setup::new(global)?;
    let req = PromoteRequest {
        version: version.to_string(),
        to: to.to_string(),
        package: args.package.clone(),
        dry_run: args.dry_run,
        at: args
            .at
            .as_deref()
            .map(|t| parse_time("--at", t))
            .transpose()?,
        override_freeze: if args.override_freeze {
            args.reason.clone()
        } else {
            None
        },
        push: args.push,
        pr: args.pr,
        alarms: crate::alarm_gate::fact(&setup.settings.canary, &setup.promote, &to, &version),
    };
    let mut stale = setup.roll_back_stale();
    let out = ops::promote(&setup.context(), &req, &mut stale)?;
    notes(&out.notes);
    warnings(&setup, &out.warnings, out.pushed);
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
    promote_to_actions(&out, refused);
    Ok(if refused {
        ExitCode::from(EXIT_NO)
    } else {
        ExitCode::SUCCESS
    })
}

pub fn rollback(global: &Global, args: &RollbackArgs) -> anyhow::Result<ExitCode> {
    env_arg(&args.env)?;
    args.to.as_deref().map(version_arg).transpose()?;
    let setup = Setup::new(global)?;
    let req = RollbackRequest {
        env: args.env.clone(),
        to: args.to.clone(),
        reason: args.reason.clone(),
        push: args.push,
        ..RollbackRequest::default()
    };
    let mut stale = setup.roll_back_stale();
    let out = ops::rollback(&setup.context(), &req, &mut stale)?;
    notes(&out.notes);
    warnings(&setup, &out.warnings, out.pushed);
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
    if actions::active() {
        actions::set_outputs(&[
            ("environment", out.environment.clone()),
            ("version", out.to.clone()),
            ("from", out.from.clone()),
        ]);
        actions::summary(&rollback_summary(&out));
    }
    Ok(ExitCode::SUCCESS)
}

/// In GitHub Actions: a refused promotion's `::error`, the outputs and the step summary.
fn promote_to_actions(out: &ops::PromoteOutcome, refused: bool) {
    if !actions::active() {
        return;
    }
    if refused {
        let failed: Vec<&str> = out
            .gates
            .iter()
            .filter(|g| !g.passed)
            .map(|g| g.name.as_str())
            .collect();
        let dry = if out.dry_run { " (dry run)" } else { "" };
        actions::annotate(
            actions::Level::Error,
            &format!(
                "promotion of {} to {} refused{dry}: {} did not pass",
                out.version,
                out.environment,
                failed.join(", ")
            ),
            out.gates
                .iter()
                .find(|g| !g.passed)
                .map(|g| g.detail.as_str()),
        );
    }
    actions::set_outputs(&[
        ("version", out.version.clone()),
        ("environment", out.environment.clone()),
        ("from", out.from.clone().unwrap_or_default()),
        ("promoted", actions::flag(out.promoted)),
        ("dry-run", actions::flag(out.dry_run)),
    ]);
    actions::summary(&promote_summary(out));
}

/// The step summary of a promotion: what, where, from, the answer, and every gate.
fn promote_summary(out: &ops::PromoteOutcome) -> String {
    let md = actions::md;
    let passed = out.gates.iter().all(|g| g.passed);
    let answer = match (out.dry_run, passed, out.promoted) {
        (true, true, _) => "would be promoted (dry run)",
        (true, false, _) => "would be **refused** (dry run)",
        (false, _, true) => "promoted",
        (false, _, false) => "**refused**",
    };
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
    let mut s = format!(
        "### shipgate promote {} to {}: {answer}\n\n",
        md(&out.version),
        md(&out.environment)
    );
    s.push_str(&actions::md_table(
        &["version", "environment", "from", "promoted", "dry run"],
        &[vec![
            md(&out.version),
            md(&out.environment),
            out.from.as_deref().map_or("nothing".to_string(), md),
            yes_no(out.promoted),
            yes_no(out.dry_run),
        ]],
    ));
    let gates: Vec<Vec<String>> = out
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
fn rollback_summary(out: &ops::RollbackOutcome) -> String {
    let md = actions::md;
    let mut s = format!(
        "### shipgate rollback of {}: {} → {}\n\n",
        md(&out.environment),
        md(&out.from),
        md(&out.to)
    );
    s.push_str(&actions::md_table(
        &["environment", "from", "to", "by", "reason"],
        &[vec![
            md(&out.environment),
            md(&out.from),
            md(&out.to),
            md(&out.by),
            md(&out.reason),
        ]],
    ));
    let _ = writeln!(
        s,
        "{} stays blocked until `shipgate unblock` lifts it.\n",
        md(&out.blocked)
    );
    s
}

fn recorded(global: &Global, setup: &Setup, out: &ops::Recorded) -> anyhow::Result<ExitCode> {
    notes(&out.notes);
    warnings(setup, &out.warnings, out.pushed);
    if global.json {
        print_json(out)?;
    } else {
        for e in &out.entries {
            outln!("{}", e.summary());
        }
        ledger_line(&out.ledger_commit, out.pushed);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn approve(global: &Global, args: &ApproveArgs) -> anyhow::Result<ExitCode> {
    let (_, _) = (version_arg(&args.version)?, env_arg(&args.env)?);
    let setup = Setup::new(global)?;
    let out = ops::approve(&setup.context(), &args.version, &args.env, args.push)?;
    recorded(global, &setup, &out)
}

pub fn verify(global: &Global, args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let (_, _) = (version_arg(&args.version)?, env_arg(&args.env)?);
    let setup = Setup::new(global)?;
    let result = match args.result {
        ResultArg::Pass => VerifyResult::Pass,
        ResultArg::Fail => VerifyResult::Fail,
    };
    let out = ops::verify(
        &setup.context(),
        &args.version,
        &args.env,
        result,
        args.evidence.as_deref(),
        args.push,
    )?;
    recorded(global, &setup, &out)
}

pub fn freeze(global: &Global, args: &FreezeArgs) -> anyhow::Result<ExitCode> {
    env_arg(&args.env)?;
    let setup = Setup::new(global)?;
    let out = ops::freeze(&setup.context(), &args.env, &args.reason, args.push)?;
    recorded(global, &setup, &out)
}

pub fn unfreeze(global: &Global, args: &UnfreezeArgs) -> anyhow::Result<ExitCode> {
    env_arg(&args.env)?;
    let setup = Setup::new(global)?;
    let out = ops::unfreeze(&setup.context(), &args.env, args.push)?;
    recorded(global, &setup, &out)
}

pub fn unblock(global: &Global, args: &UnblockArgs) -> anyhow::Result<ExitCode> {
    version_arg(&args.version)?;
    let setup = Setup::new(global)?;
    let out = ops::unblock(&setup.context(), &args.version, &args.reason, args.push)?;
    recorded(global, &setup, &out)
}

fn or_dash(v: Option<&str>) -> &str {
    v.unwrap_or("-")
}

pub fn status(global: &Global, args: &StatusArgs) -> anyhow::Result<ExitCode> {
    args.env.as_deref().map(env_arg).transpose()?;
    let setup = Setup::new(global)?;
    let out = ops::status(&setup.context(), args.env.as_deref(), true)?;
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
    args.env.as_deref().map(env_arg).transpose()?;
    let setup = Setup::new(global)?;
    let limit = (args.limit > 0).then_some(args.limit);
    let out = ops::history(&setup.context(), args.env.as_deref(), limit, true)?;
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
    args.env.as_deref().map(env_arg).transpose()?;
    let setup = Setup::new(global)?;
    let since = match args.since.as_deref() {
        None => None,
        Some(text) => Some(match shipgate_stdx::duration::HumanDuration::parse(text) {
            Ok(d) => Timestamp::from_second(setup.now.as_second() - d.0.as_secs() as i64)
                .context("--since reaches before the year -9999")?,
            Err(_) => parse_time("--since", text)?,
        }),
    };
    let out = ops::metrics(&setup.context(), args.env.as_deref(), since, true)?;
    if global.json {
        print_json(&out)?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!("delivery metrics from {} to {}", out.since, out.until);
    outln!(
        "{:10} {:>11} {:>8} {:>8} {:>12} {:>12} {:>14} {:>16}",
        "ENV",
        "DEPLOYMENTS",
        "PER DAY",
        "CHANGES",
        "LEAD MEDIAN",
        "LEAD P90",
        "FAILURE RATE",
        "RESTORE MEDIAN"
    );
    let secs = |v: Option<f64>| {
        v.map(|s| {
            shipgate_stdx::duration::HumanDuration(std::time::Duration::from_secs(s as u64))
                .to_string()
        })
        .unwrap_or_else(|| "-".into())
    };
    for m in &out.environments {
        outln!(
            "{:10} {:>11} {:>8.2} {:>8} {:>12} {:>12} {:>14} {:>16}",
            m.name,
            m.deployments,
            m.deployments_per_day,
            m.changes,
            secs(m.lead_time_median_s),
            secs(m.lead_time_p90_s),
            m.change_failure_rate
                .map(|r| format!("{:.1} %", r * 100.0))
                .unwrap_or_else(|| "-".into()),
            secs(m.time_to_restore_median_s)
        );
    }
    Ok(ExitCode::SUCCESS)
}
