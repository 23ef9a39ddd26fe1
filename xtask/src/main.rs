//! `cargo xtask`: this workspace's own release, validation, canary and promotion, which are the
//! `shipgate` binary's front end itself (`shipgate::run_args`, with `--repo` set to this
//! workspace), plus what is xtask's own: test, ci, docs, dist, bench.

mod bench_canary;
mod bench_config;
mod bench_history;
mod bench_install;
mod bench_ledger;
mod bench_serve;
mod canary;
mod checks;
mod dist;
mod docs;
#[cfg(test)]
mod docs_check;
mod docs_cli;
mod docs_config;
mod docs_json;
mod release;
mod validate;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use shipgate::cli::hinted;

pub const USAGE: &str =
    "usage: cargo xtask <release|validate|canary|promote|rollback|approve|status|test|ci|docs|dist|bench> …
  release …   `shipgate release …` on this workspace (cargo xtask release --help)
  validate …  `shipgate config validate …` on this workspace's environments
  canary …    `shipgate canary run …` with this workspace's shipgate.toml
  promote|rollback|approve|status …   `shipgate promote|rollback|approve|status …` on this workspace
  test      install what the tests need when absent, then run every test
  ci        fmt check, clippy -D warnings, every test, workflow checks
  docs      regenerate the site's reference pages, then build the site (docs/book) with mdBook
  dist [--target TRIPLE] [--binary FILE] [--out DIR]   the release archive and its .sha256
  bench history|changelog [--commits N] [--tail N] [--runs N] [--peer] [--keep]
  bench config [--services N] [--runs N] [--keep] | bench judge [--json] | bench ledger [--entries N] [--runs N] [--json]
  bench install [--runs N] [--peer]   the GitHub Action's install step, cold and warm
  bench serve [--requests N] [--concurrency N] [--max-concurrent N] [--rate N] [--prometheus-ms MS] [--runs N] [--binary FILE] [--json]
              `canary serve` under concurrent load on loopback, against a fake Prometheus";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(err) => {
            shipgate::cli::report_error(&err);
            ExitCode::from(2)
        }
    }
}

/// `shipgate SUB… ARGS…` on this workspace, through the binary's front end.
pub fn shipgate(sub: &[&str], args: &[String]) -> ExitCode {
    let mut all = vec!["--repo".to_string(), root().display().to_string()];
    all.extend(args.iter().cloned());
    shipgate_in(sub, &all)
}

/// `shipgate SUB… ARGS…`, the arguments as given (no `--repo` added).
pub fn shipgate_in(sub: &[&str], args: &[String]) -> ExitCode {
    let argv = sub
        .iter()
        .map(OsString::from)
        .chain(args.iter().map(OsString::from));
    shipgate::run_args("cargo xtask", argv)
}

/// The workspace root (xtask lives one level below it).
pub fn root() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    dir.parent().map(PathBuf::from).unwrap_or(dir)
}

fn run(args: &[String]) -> anyhow::Result<ExitCode> {
    let (cmd, rest) = args.split_first().context(USAGE)?;
    match cmd.as_str() {
        "release" => Ok(release::run(rest)),
        "validate" => Ok(validate::run(rest)),
        "canary" => Ok(canary::run(rest)),
        "promote" | "rollback" | "approve" | "status" => Ok(shipgate(&[cmd.as_str()], rest)),
        "test" => checks::test(),
        "ci" => checks::ci(),
        "docs" => docs::run(rest),
        "dist" => dist::run(rest),
        "bench" => {
            let (what, rest) = rest.split_first().context(USAGE)?;
            match what.as_str() {
                "history" => bench_history::run(rest)?,
                "changelog" => bench_history::changelog(rest)?,
                "config" => bench_config::run(rest)?,
                "judge" => bench_canary::run(rest)?,
                "ledger" => bench_ledger::run(rest)?,
                "install" => bench_install::run(rest)?,
                "serve" => bench_serve::run(rest)?,
                other => {
                    return Err(hinted(
                        format!("unknown benchmark `{other}`"),
                        "history, changelog, config, judge, ledger, install or serve",
                    ));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        other => Err(hinted(format!("unknown xtask `{other}`"), USAGE)),
    }
}
