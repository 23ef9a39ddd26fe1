//! shipgate's one front end: the command line (`Cli`), request structs built from it, the
//! library calls, and their answers turned into output and exit codes. The `shipgate`
//! binary is [`run_args`]; `cargo xtask release|validate|canary` build their arguments for
//! this workspace and call [`run_args`] too, so flags, output and exit codes cannot drift.
//! No pipeline logic lives here.

pub mod actions;
mod actions_listener;
mod analyze_cmd;
mod canary_cmd;
mod capture_cmd;
mod changelog_cmd;
pub mod cli;
pub mod completions_cmd;
mod config_cmd;
mod init;
mod init_cmd;
pub mod json_shapes;
mod notify_cmd;
mod page;
mod page_cmd;
mod pipeline_io;
mod promote_cmd;
mod release_cmd;
mod review_cmd;
mod schema_cmd;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "shipgate",
    version,
    about = "Release, validate, promote and canary: a deployment pipeline in one binary"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: cli::Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compute the next version from Conventional Commits, bump manifests, write the changelog, commit and tag
    Release(crate::release_cmd::ReleaseArgs),
    /// Render release notes: the whole history, the unreleased changes, or a range
    Changelog(crate::changelog_cmd::ChangelogArgs),
    /// Validate and show the environments' configuration
    Config(crate::config_cmd::ConfigArgs),
    /// Run or judge a canary
    Canary(crate::canary_cmd::CanaryArgs),
    /// Move a released version into an environment through its gates, recorded in the ledger
    Promote(crate::promote_cmd::PromoteArgs),
    /// Put an environment back on an earlier version (explicit, recorded, never frozen)
    Rollback(crate::promote_cmd::RollbackArgs),
    /// Approve a version for an environment
    Approve(crate::promote_cmd::ApproveArgs),
    /// Record a verification done by another tool (smoke tests, a load test, a manual check)
    Verify(crate::promote_cmd::VerifyArgs),
    /// Freeze an environment now (an emergency freeze, recorded)
    Freeze(crate::promote_cmd::FreezeArgs),
    /// End an emergency freeze
    Unfreeze(crate::promote_cmd::UnfreezeArgs),
    /// Let a version that was rolled back be promoted again
    Unblock(crate::promote_cmd::UnblockArgs),
    /// What runs where, since when, who put it there, on what evidence
    Status(crate::promote_cmd::StatusArgs),
    /// The ledger's entries, newest first
    History(crate::promote_cmd::HistoryArgs),
    /// Delivery metrics (the four DORA keys) per environment, from the ledger
    Metrics(crate::promote_cmd::MetricsArgs),
    /// Build the status page: a static site of what runs where, each version's journey, the history, canaries and delivery metrics
    Page(crate::page_cmd::PageArgs),
    /// Draft a post-incident review of a rollback: timeline, times against the RTO, evidence, changes
    Review(crate::review_cmd::ReviewArgs),
    /// Test the [[notify]] channels, or send again what could not be delivered
    Notify(crate::notify_cmd::NotifyArgs),
    /// Print the JSON Schema of shipgate.toml
    Schema(crate::schema_cmd::SchemaArgs),
    /// Set up a repository for the pipeline: shipgate.toml, its schema, environments/, workflows
    Init(crate::init_cmd::InitArgs),
    /// Print the completion script for a shell (bash, zsh, fish, powershell, elvish)
    Completions(crate::completions_cmd::CompletionsArgs),
}

/// The binary's own errors that carry a hint ([`cli::Hinted`]), for [`cli::hint_of`].
pub const HINTS_OF_BINARY: &[shipgate_stdx::hint::HintLookup] =
    &[shipgate_stdx::hint::lookup::<cli::Hinted>];

/// Parses `args` (without the program's name) as the `shipgate` command line, naming the
/// program `bin` in usage and errors, then runs it. Bad arguments print clap's error and
/// give exit code 2; `--help` and `--version` print and give 0.
pub fn run_args(bin: &'static str, args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let argv: Vec<OsString> = std::iter::once(OsString::from(bin)).chain(args).collect();
    let parsed = match lean::parse(bin, &argv) {
        Some(cli) => Ok(cli),
        None => Cli::command()
            .name(bin)
            .bin_name(bin)
            .try_get_matches_from(argv)
            .and_then(|m| {
                actions::begin(&actions::subcommand_path(&m));
                Cli::from_arg_matches(&m)
            }),
    };
    match parsed {
        Ok(cli) => run(&cli),
        Err(e) => {
            actions::print_clap_error(&e);
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2))
        }
    }
}

/// The command line parsed with only the subcommand it names built.
///
/// Building every subcommand's arguments was a third of a millisecond of each run (of 12 ms
/// for the next version). When the first argument names a subcommand, a root with the
/// global flags and that one subcommand parses the line; anything it does not accept
/// (help, a version flag, a mistake, a flag before the subcommand) returns `None`, and the
/// whole command line, built in full, parses it again and says what is wrong as always.
mod lean {
    use std::ffi::OsString;

    use clap::{Args, FromArgMatches};

    use crate::{Cli, cli};

    type Augment = fn(clap::Command) -> clap::Command;

    /// Every subcommand, by name, with its arguments (a test checks it against [`Cli`]).
    pub(crate) const SUBCOMMANDS: &[(&str, Augment)] = &[
        ("release", crate::release_cmd::ReleaseArgs::augment_args),
        (
            "changelog",
            crate::changelog_cmd::ChangelogArgs::augment_args,
        ),
        ("config", crate::config_cmd::ConfigArgs::augment_args),
        ("canary", crate::canary_cmd::CanaryArgs::augment_args),
        ("promote", crate::promote_cmd::PromoteArgs::augment_args),
        ("rollback", crate::promote_cmd::RollbackArgs::augment_args),
        ("approve", crate::promote_cmd::ApproveArgs::augment_args),
        ("verify", crate::promote_cmd::VerifyArgs::augment_args),
        ("freeze", crate::promote_cmd::FreezeArgs::augment_args),
        ("unfreeze", crate::promote_cmd::UnfreezeArgs::augment_args),
        ("unblock", crate::promote_cmd::UnblockArgs::augment_args),
        ("status", crate::promote_cmd::StatusArgs::augment_args),
        ("history", crate::promote_cmd::HistoryArgs::augment_args),
        ("metrics", crate::promote_cmd::MetricsArgs::augment_args),
        ("page", crate::page_cmd::PageArgs::augment_args),
        ("review", crate::review_cmd::ReviewArgs::augment_args),
        ("notify", crate::notify_cmd::NotifyArgs::augment_args),
        ("schema", crate::schema_cmd::SchemaArgs::augment_args),
        ("init", crate::init_cmd::InitArgs::augment_args),
        (
            "completions",
            crate::completions_cmd::CompletionsArgs::augment_args,
        ),
    ];

    /// The root command with the global flags and subcommand `name` only.
    pub(crate) fn command(bin: &'static str, name: &str) -> Option<clap::Command> {
        let (name, augment) = SUBCOMMANDS.iter().find(|(n, _)| *n == name)?;
        let root = cli::Global::augment_args(clap::Command::new(bin).bin_name(bin));
        Some(
            root.subcommand_required(true)
                .subcommand(augment(clap::Command::new(*name))),
        )
    }

    pub(crate) fn parse(bin: &'static str, argv: &[OsString]) -> Option<Cli> {
        let name = argv.get(1)?.to_str()?;
        let m = command(bin, name)?.try_get_matches_from(argv).ok()?;
        let cli = Cli::from_arg_matches(&m).ok()?;
        crate::actions::begin(&crate::actions::subcommand_path(&m));
        Some(cli)
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use clap::CommandFactory;

        /// The full command line's subcommand `name`, as built (without its about text,
        /// which only help shows, and help goes through the full command line).
        fn full(name: &str) -> clap::Command {
            let mut full = Cli::command();
            full.build();
            full.find_subcommand(name)
                .expect("subcommand")
                .clone()
                .about(None::<&str>)
                .long_about(None::<&str>)
        }

        #[test]
        fn the_table_has_every_subcommand_as_the_full_command_line_defines_it() {
            let names: Vec<String> = Cli::command()
                .get_subcommands()
                .map(|c| c.get_name().to_string())
                .collect();
            let ours: Vec<String> = SUBCOMMANDS.iter().map(|(n, _)| n.to_string()).collect();
            assert_eq!(ours, names);
            for name in names {
                let mut lean = command("shipgate", &name).expect("known");
                lean.build();
                let lean = lean.find_subcommand(&name).expect("subcommand").clone();
                // display order shows only in help, which the full command line prints
                let unordered = |c: &clap::Command| {
                    let text = format!("{c:?}");
                    let mut parts = text.split("disp_ord: Some(");
                    let mut out = parts.next().unwrap_or_default().to_string();
                    for part in parts {
                        out.push_str("disp_ord: _");
                        out.push_str(part.trim_start_matches(|c: char| c.is_ascii_digit()));
                    }
                    out
                };
                assert_eq!(unordered(&lean), unordered(&full(&name)), "{name}");
            }
        }

        #[test]
        fn lean_and_full_parse_a_line_alike_and_the_rest_goes_to_the_full_one() {
            let argv = |line: &str| -> Vec<OsString> {
                std::iter::once("shipgate")
                    .chain(line.split_whitespace())
                    .map(OsString::from)
                    .collect()
            };
            for line in [
                "release --dry-run --json",
                "release --repo /tmp/x --dry-run",
                "config validate --json",
                "promote 1.2.3 --to staging --dry-run",
                "status --repo . --json",
                "canary judge --help-not-a-flag",
            ] {
                let full = Cli::command().try_get_matches_from(argv(line));
                let lean = parse("shipgate", &argv(line));
                match full {
                    Ok(m) => {
                        let full = Cli::from_arg_matches(&m).expect("full");
                        assert_eq!(
                            format!("{:?}", lean.expect("lean parses what full parses")),
                            format!("{full:?}"),
                            "{line}"
                        );
                    }
                    Err(_) => assert!(lean.is_none(), "{line}: lean accepts what full refuses"),
                }
            }
            for line in [
                "",
                "--json release",
                "release --help",
                "--version",
                "release --nope",
                "nope",
            ] {
                assert!(parse("shipgate", &argv(line)).is_none(), "{line:?}");
            }
        }
    }
}

/// Runs a parsed command line: the exit code of the interface contract (0 yes, 1 no, 2
/// could not run), errors printed as one line and a hint.
pub fn run(cli: &Cli) -> ExitCode {
    let result = match &cli.command {
        Command::Release(args) => release_cmd::run(&cli.global, args),
        Command::Changelog(args) => changelog_cmd::run(&cli.global, args),
        Command::Config(args) => config_cmd::run(&cli.global, args),
        Command::Canary(args) => canary_cmd::run(&cli.global, args),
        Command::Promote(args) => promote_cmd::promote(&cli.global, args),
        Command::Rollback(args) => promote_cmd::rollback(&cli.global, args),
        Command::Approve(args) => promote_cmd::approve(&cli.global, args),
        Command::Verify(args) => promote_cmd::verify(&cli.global, args),
        Command::Freeze(args) => promote_cmd::freeze(&cli.global, args),
        Command::Unfreeze(args) => promote_cmd::unfreeze(&cli.global, args),
        Command::Unblock(args) => promote_cmd::unblock(&cli.global, args),
        Command::Status(args) => promote_cmd::status(&cli.global, args),
        Command::History(args) => promote_cmd::history(&cli.global, args),
        Command::Metrics(args) => promote_cmd::metrics(&cli.global, args),
        Command::Review(args) => review_cmd::run(&cli.global, args),
        Command::Page(args) => page_cmd::run(&cli.global, args),
        Command::Notify(args) => notify_cmd::run(&cli.global, args),
        Command::Schema(args) => schema_cmd::run(&cli.global, args),
        Command::Init(args) => init_cmd::run(&cli.global, args),
        Command::Completions(args) => completions_cmd::run(args, Cli::command()),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            cli::report_error(&err);
            ExitCode::from(2)
        }
    }
}
