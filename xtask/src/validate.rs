//! `cargo xtask validate …`: `shipgate config validate …` on this repository's environments,
//! through the binary's own front end (`shipgate::run_args`).

use std::process::ExitCode;

pub fn run(args: &[String]) -> ExitCode {
    crate::shipgate(&["config", "validate"], args)
}
