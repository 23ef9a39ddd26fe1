//! The `shipgate` binary: parses arguments into request structs, calls the libraries, and
//! turns their answers into output and exit codes. No pipeline logic lives here.

mod canary_cmd;
mod capture_cmd;
mod changelog_cmd;
mod cli;
mod config_cmd;
mod release_cmd;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match &cli.command {
        cli::Command::Release(args) => release_cmd::run(&cli.global, args),
        cli::Command::Changelog(args) => changelog_cmd::run(&cli.global, args),
        cli::Command::Config(args) => config_cmd::run(&cli.global, args),
        cli::Command::Canary(args) => canary_cmd::run(&cli.global, args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            cli::report_error(&err);
            ExitCode::from(2)
        }
    }
}
