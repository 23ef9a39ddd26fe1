//! The `shipgate` binary: everything it does is the library's [`shipgate::run`], so that
//! `cargo xtask` runs exactly the same front end.

use std::process::ExitCode;

fn main() -> ExitCode {
    shipgate::run_args("shipgate", std::env::args_os().skip(1))
}
