//! `cargo xtask release …`: `shipgate release …` on this workspace, through the binary's own
//! front end (`shipgate::run_args`): the same flags, output and exit codes.

use std::process::ExitCode;

pub fn run(args: &[String]) -> ExitCode {
    crate::shipgate(&["release"], args)
}
