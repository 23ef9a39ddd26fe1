//! The `shipgate` binary: everything it does is the library's [`shipgate::run`], so that
//! `cargo xtask` runs exactly the same front end.

use std::process::ExitCode;

/// mimalloc rather than the C library's allocator: the commands build and drop millions of
/// small nodes and strings (a tree of configuration files, a whole history, a status page),
/// where glibc's `malloc` and `free` were over a quarter of the time, and musl's are slower.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    shipgate::run_args("shipgate", std::env::args_os().skip(1))
}
