//! `cargo xtask`: this workspace's own release, checks and benchmarks, calling the same
//! library entry points as the `shipgate` binary.

mod bench_canary;
mod bench_config;
mod bench_history;
mod canary;
mod checks;
mod release;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};

const USAGE: &str = "usage: cargo xtask <release|validate|canary|test|ci|bench> …
  release [--dry-run] [--json] [--pre LABEL] [--version X.Y.Z] [--push] [--allow-dirty]
  validate [--format human|json|github|sarif|junit]
  canary --env ENV [--canary-version V] [--baseline-version V] [--replay FILE] [--record FILE] [--config FILE] [--json]
  test      install what the tests need when absent, then run every test
  ci        fmt check, clippy -D warnings, every test, workflow checks
  bench history|changelog [--commits N] [--tail N] [--runs N] [--peer]
  bench config | bench judge [--json]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(err) => {
            let text = format!("{err:#}");
            match text.split_once("\nhint: ") {
                Some((e, hint)) => eprintln!("error: {e}\nhint: {hint}"),
                None => eprintln!("error: {text}"),
            }
            ExitCode::from(2)
        }
    }
}

/// The workspace root (xtask lives one level below it).
pub fn root() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    dir.parent().map(PathBuf::from).unwrap_or(dir)
}

fn run(args: &[String]) -> anyhow::Result<ExitCode> {
    let (cmd, rest) = args.split_first().context(USAGE)?;
    match cmd.as_str() {
        "release" => release::run(rest),
        "validate" => validate::run(rest),
        "canary" => canary::run(rest),
        "test" => checks::test(),
        "ci" => checks::ci(),
        "bench" => {
            let (what, rest) = rest.split_first().context(USAGE)?;
            match what.as_str() {
                "history" => bench_history::run(rest)?,
                "changelog" => bench_history::changelog(rest)?,
                "config" => bench_config::run(rest)?,
                "judge" => bench_canary::run(rest)?,
                other => bail!("unknown benchmark `{other}`\nhint: history, config or judge"),
            }
            Ok(ExitCode::SUCCESS)
        }
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        other => bail!("unknown xtask `{other}`\nhint: {USAGE}"),
    }
}
