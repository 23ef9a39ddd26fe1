//! `shipgate config validate|show`: arguments to a load request, the report rendered in the
//! chosen format, and the exit code (0 clean, 1 problems found, 2 could not run). `validate`
//! also reports what `canary run` would refuse in shipgate.toml, at its line.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use shipgate_config::{EnvironmentsSettings, Format, LoadRequest, render};

use crate::actions::{self, errln, errp};
use crate::cli::{EXIT_NO, Global, hinted};

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Check every environment's merged configuration: schema, ordering, parity, secrets, SLOs
    Validate(ValidateArgs),
    /// Print one environment's merged configuration, secrets redacted
    Show(ShowArgs),
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Configuration directories (base.toml + overlays), or trees of them, one per service
    /// (default: [environments] directory of shipgate.toml, `environments`)
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Output format (`--json` means `--format json`)
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The environment, from [environments] order
    #[arg(value_name = "ENV")]
    pub env: String,
    /// The configuration directory (default: [environments] directory)
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// Show the file:line each value came from
    #[arg(long)]
    pub provenance: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Human,
    Json,
    Github,
    Sarif,
    Junit,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Human => Format::Human,
            FormatArg::Json => Format::Json,
            FormatArg::Github => Format::Github,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Junit => Format::Junit,
        }
    }
}

pub fn run(global: &Global, args: &ConfigArgs) -> anyhow::Result<ExitCode> {
    let all = global.settings()?;
    let settings = &all.environments;
    settings.check().context("invalid shipgate.toml")?;
    match &args.command {
        ConfigCommand::Validate(v) => validate(global, &all, v),
        ConfigCommand::Show(s) => show(global, settings, s),
    }
}

fn default_paths(
    global: &Global,
    settings: &EnvironmentsSettings,
    given: &[PathBuf],
) -> Vec<PathBuf> {
    if given.is_empty() {
        vec![global.repo.join(&settings.directory)]
    } else {
        given.to_vec()
    }
}

fn validate(
    global: &Global,
    all: &shipgate_settings::Settings,
    args: &ValidateArgs,
) -> anyhow::Result<ExitCode> {
    let settings = &all.environments;
    let format = match (args.format, global.json) {
        (Some(f), _) => f.into(),
        (None, true) => Format::Json,
        (None, false) => Format::Human,
    };
    let request = LoadRequest {
        repo: &global.repo,
        paths: default_paths(global, settings, &args.paths),
        settings,
    };
    let mut report = shipgate_config::validate(&request)?;
    if let (Some(source), Some(findings)) = (&all.source, all.findings()) {
        let file = shipgate_config::load::display(&global.repo, source);
        report
            .diagnostics
            .extend(findings.into_iter().map(|f| diagnostic(&file, f)));
        shipgate_config::diagnostic::sort(&mut report.diagnostics);
        report.files.push(file);
    }
    let color = format == Format::Human
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let text = render::render(format, &report.diagnostics, &report.files, color);
    let text = match format {
        // Its lines are the diagnostics' own workflow commands, their data escaped.
        Format::Github => text,
        Format::Json | Format::Sarif => actions::json(&text).into_owned(),
        Format::Junit => actions::xml(&text).into_owned(),
        Format::Human if actions::stdout_is_log() => grouped(&report.diagnostics),
        Format::Human => text,
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .context("cannot write the report")?;
    stdout.flush().ok();
    drop(stdout);
    if format != Format::Github {
        annotate_diagnostics(&report.diagnostics);
    }
    if let Some(first) = report.without_schema.first() {
        actions::message(
            actions::Level::Note,
            &format!(
                "no schema.json for {first}{}: schema checks skipped there",
                match report.without_schema.len() {
                    1 => String::new(),
                    n => format!(" and {} other configuration(s)", n - 1),
                }
            ),
            Some(
                "add schema.json beside the base file, or set [environments] schema in shipgate.toml",
            ),
            None,
        );
    }
    let (errors, warnings) = shipgate_config::diagnostic::counts(&report.diagnostics);
    let sets = if report.sets == 1 {
        "1 configuration".to_string()
    } else {
        format!("{} configurations", report.sets)
    };
    if errors + warnings == 0 {
        errln!("ok: {sets} valid ({} files checked)", report.files.len());
    } else {
        errln!(
            "{errors} error(s), {warnings} warning(s) in {sets} ({} files checked)",
            report.files.len()
        );
    }
    actions::set_outputs(&[
        ("errors", errors.to_string()),
        ("warnings", warnings.to_string()),
    ]);
    Ok(if report.has_errors() {
        ExitCode::from(EXIT_NO)
    } else {
        ExitCode::SUCCESS
    })
}

/// A problem of shipgate.toml as a diagnostic of the `canary-settings` rule.
fn diagnostic(file: &str, f: shipgate_settings::Finding) -> shipgate_config::Diagnostic {
    let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
    shipgate_config::Diagnostic {
        file: file.to_string(),
        line: n(f.line),
        column: n(f.column),
        end_line: n(f.end_line),
        end_column: n(f.end_column),
        rule: shipgate_config::Rule::CanarySettings,
        severity: match f.severity {
            shipgate_settings::Severity::Error => shipgate_config::Severity::Error,
            shipgate_settings::Severity::Warning => shipgate_config::Severity::Warning,
        },
        message: f.message,
        hint: f.hint,
        source_line: Some(f.source_line),
        environments: Vec::new(),
    }
}

/// `canary run`'s warnings about its settings (`problems`, keyed below `[canary]`), each
/// printed as `warning: shipgate.toml:L:C: …` with its hint, and in Actions an annotation
/// at that line. `canary analyze` can print its own through here too.
pub fn warn_canary(
    global: &Global,
    all: &shipgate_settings::Settings,
    problems: Vec<shipgate_judge::ConfigProblem>,
) {
    for p in problems {
        let f = all.canary_finding_at(shipgate_settings::Severity::Warning, p);
        let location = all.source.as_ref().map(|source| actions::Location {
            file: shipgate_config::load::display(&global.repo, source),
            line: Some(f.line),
            col: Some(f.column),
        });
        let text = match &location {
            Some(at) => format!("{}:{}:{}: {}", at.file, f.line, f.column, f.message),
            None => f.message,
        };
        actions::message(
            actions::Level::Warning,
            &text,
            f.hint.as_deref(),
            location.as_ref(),
        );
    }
}

/// The human report for the Actions log: one folded group per file, its lines inert.
fn grouped(diagnostics: &[shipgate_config::Diagnostic]) -> String {
    let mut out = String::new();
    for chunk in diagnostics.chunk_by(|a, b| a.file == b.file) {
        let (errors, warnings) = shipgate_config::diagnostic::counts(chunk);
        out.push_str(&actions::group_start(&format!(
            "{}: {errors} error(s), {warnings} warning(s)",
            chunk[0].file
        )));
        out.push_str(&actions::inert(&render::human(chunk, false)));
        out.push_str(actions::GROUP_END);
    }
    out
}

/// In GitHub Actions, each diagnostic is also an annotation at its file, line and column
/// (`--format github` prints exactly those, so it needs none).
fn annotate_diagnostics(diagnostics: &[shipgate_config::Diagnostic]) {
    if !actions::active() {
        return;
    }
    for d in diagnostics {
        let level = match d.severity {
            shipgate_config::Severity::Error => actions::Level::Error,
            shipgate_config::Severity::Warning => actions::Level::Warning,
        };
        let location = actions::Location {
            file: d.file.clone(),
            line: Some(d.line as usize),
            col: Some(d.column as usize),
        };
        actions::annotate_at(
            level,
            &format!("{} [{}]", d.message, d.rule.id()),
            d.hint.as_deref(),
            Some(&location),
        );
    }
}

fn show(
    global: &Global,
    settings: &EnvironmentsSettings,
    args: &ShowArgs,
) -> anyhow::Result<ExitCode> {
    if !settings.order.contains(&args.env) {
        return Err(hinted(
            format!("`{}` is not an environment of this repository", args.env),
            format!("[environments] order is {}", settings.order.join(", ")),
        ));
    }
    let paths = default_paths(global, settings, args.path.as_slice());
    let workspace = shipgate_config::load::load(&LoadRequest {
        repo: &global.repo,
        paths,
        settings,
    })?;
    let set = match workspace.sets.as_slice() {
        [(set, _)] => set,
        many => {
            return Err(hinted(
                format!("{} configurations found", many.len()),
                format!(
                    "pass one of them: {}",
                    many.iter()
                        .take(5)
                        .map(|(s, _)| s.dir.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    };
    let layered = shipgate_config::check::layer(set, settings);
    let Some(merged) = layered.merged.iter().find(|m| m.env == args.env) else {
        // Why it could not be merged: the file problems of a full check.
        let report = shipgate_config::check::check(set, None, settings);
        let blocking: Vec<_> = report
            .diagnostics
            .into_iter()
            .filter(|d| {
                use shipgate_config::Rule::*;
                matches!(
                    d.rule,
                    ReadError
                        | FileTooLarge
                        | Encoding
                        | TomlSyntax
                        | YamlSyntax
                        | JsonSyntax
                        | MissingOverlay
                )
            })
            .collect();
        errp!("{}", render::human(&blocking, false));
        annotate_diagnostics(&blocking);
        actions::error(
            &format!("cannot merge `{}`: fix the problems above", args.env),
            None,
            None,
        );
        return Ok(ExitCode::from(EXIT_NO));
    };
    let text = if global.json {
        let mut t = serde_json::to_string_pretty(&shipgate_config::show::json(
            set,
            merged,
            args.provenance,
        ))?;
        t.push('\n');
        actions::json(&t).into_owned()
    } else {
        actions::log_text(&shipgate_config::show::toml(set, merged, args.provenance)).into_owned()
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .context("cannot write the configuration")?;
    Ok(ExitCode::SUCCESS)
}
