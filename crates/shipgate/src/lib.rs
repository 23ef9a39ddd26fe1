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
mod promote_cmd;
mod release_cmd;
mod schema_cmd;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

pub use cli::Cli;

/// The binary's own errors that carry a hint ([`cli::Hinted`]), for [`cli::hint_of`].
pub const HINTS_OF_BINARY: &[shipgate_stdx::hint::HintLookup] =
    &[shipgate_stdx::hint::lookup::<cli::Hinted>];

/// Parses `args` (without the program's name) as the `shipgate` command line, naming the
/// program `bin` in usage and errors, then runs it. Bad arguments print clap's error and
/// give exit code 2; `--help` and `--version` print and give 0.
pub fn run_args(bin: &'static str, args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let argv = std::iter::once(OsString::from(bin)).chain(args);
    let parsed = Cli::command()
        .name(bin)
        .bin_name(bin)
        .try_get_matches_from(argv)
        .and_then(|m| {
            actions::begin(&actions::subcommand_path(&m));
            Cli::from_arg_matches(&m)
        });
    match parsed {
        Ok(cli) => run(&cli),
        Err(e) => {
            actions::print_clap_error(&e);
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2))
        }
    }
}

/// Runs a parsed command line: the exit code of the interface contract (0 yes, 1 no, 2
/// could not run), errors printed as one line and a hint.
pub fn run(cli: &Cli) -> ExitCode {
    let result = match &cli.command {
        cli::Command::Release(args) => release_cmd::run(&cli.global, args),
        cli::Command::Changelog(args) => changelog_cmd::run(&cli.global, args),
        cli::Command::Config(args) => config_cmd::run(&cli.global, args),
        cli::Command::Canary(args) => canary_cmd::run(&cli.global, args),
        cli::Command::Promote(args) => promote_cmd::promote(&cli.global, args),
        cli::Command::Rollback(args) => promote_cmd::rollback(&cli.global, args),
        cli::Command::Approve(args) => promote_cmd::approve(&cli.global, args),
        cli::Command::Verify(args) => promote_cmd::verify(&cli.global, args),
        cli::Command::Freeze(args) => promote_cmd::freeze(&cli.global, args),
        cli::Command::Unfreeze(args) => promote_cmd::unfreeze(&cli.global, args),
        cli::Command::Unblock(args) => promote_cmd::unblock(&cli.global, args),
        cli::Command::Status(args) => promote_cmd::status(&cli.global, args),
        cli::Command::History(args) => promote_cmd::history(&cli.global, args),
        cli::Command::Metrics(args) => promote_cmd::metrics(&cli.global, args),
        cli::Command::Schema(args) => schema_cmd::run(&cli.global, args),
        cli::Command::Init(args) => init_cmd::run(&cli.global, args),
        cli::Command::Completions(args) => completions_cmd::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            cli::report_error(&err);
            ExitCode::from(2)
        }
    }
}
