//! `cargo xtask canary --env ENV [--replay FILE] …`: `shipgate canary run` for this
//! repository, through the same library call (`shipgate_canary::run_with_settings`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use shipgate_canary::report::{Artifacts, RunArgs, run_command};

const USAGE: &str = "cargo xtask canary --env ENV [--canary-version V] [--baseline-version V] [--replay FILE] [--record FILE] [--charts DIR] [--config FILE] [--json]";

/// The parsed arguments.
#[derive(Debug, Default, PartialEq)]
struct Args {
    env: String,
    canary_version: Option<String>,
    baseline_version: Option<String>,
    replay: Option<PathBuf>,
    record: Option<PathBuf>,
    charts: Option<PathBuf>,
    config: Option<PathBuf>,
    json: bool,
}

fn parse(args: &[String]) -> anyhow::Result<Args> {
    let mut out = Args::default();
    let mut env = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .with_context(|| format!("{arg} needs a value\nhint: {USAGE}"))
        };
        match arg.as_str() {
            "--env" => env = Some(value()?),
            "--canary-version" => out.canary_version = Some(value()?),
            "--baseline-version" => out.baseline_version = Some(value()?),
            "--replay" => out.replay = Some(value()?.into()),
            "--record" => out.record = Some(value()?.into()),
            "--charts" => out.charts = Some(value()?.into()),
            "--config" => out.config = Some(value()?.into()),
            "--json" => out.json = true,
            other => bail!("unknown argument `{other}`\nhint: {USAGE}"),
        }
    }
    out.env = env.with_context(|| format!("--env is required\nhint: {USAGE}"))?;
    Ok(out)
}

pub fn run(args: &[String]) -> anyhow::Result<ExitCode> {
    Ok(ExitCode::from(canary(&crate::root(), &parse(args)?)?))
}

/// Runs the canary for the repository at `root`; the exit code of the interface contract.
fn canary(root: &std::path::Path, args: &Args) -> anyhow::Result<u8> {
    let settings = shipgate_settings::load(root, args.config.as_deref())?.canary;
    let run = RunArgs {
        env: args.env.clone(),
        canary_version: args.canary_version.clone(),
        baseline_version: args.baseline_version.clone(),
        replay: args.replay.clone(),
        artifacts: Artifacts {
            record: args.record.clone(),
            charts: args.charts.clone(),
            step_summary: None,
        },
    };
    let write = |path: &std::path::Path, bytes: &[u8]| {
        shipgate_release::write_atomic(path, bytes).map_err(std::io::Error::other)
    };
    let ran = run_command(&settings, &run, &write)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&ran.outcome)?);
    } else {
        println!("{}", ran.headline());
    }
    Ok(ran.outcome.result.exit_code())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn arguments_parse_and_env_is_required() {
        let a = parse(&strings(&["--env", "prod", "--replay", "r.json", "--json"])).expect("ok");
        assert_eq!(
            a,
            Args {
                env: "prod".into(),
                replay: Some("r.json".into()),
                json: true,
                ..Args::default()
            }
        );
        let err = parse(&strings(&["--replay", "r.json"])).expect_err("no env");
        assert!(err.to_string().starts_with("--env is required"), "{err}");
        let err = parse(&strings(&["--env"])).expect_err("no value");
        assert!(err.to_string().starts_with("--env needs a value"), "{err}");
        assert!(parse(&strings(&["--env", "x", "--bogus"])).is_err());
    }

    /// A repository with a command actuator logging to `actuator.log`, gates matching the
    /// fixtures, replayed against tests/fixtures/canary.
    fn replay(fixture: &str) -> (u8, Vec<String>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("actuator.log");
        let toml = format!(
            "[canary]\nsteps = [{{ weight = 10, hold = \"1m\" }}, {{ weight = 50, hold = \"1m\" }}, {{ weight = 100 }}]\n\
             interval = \"10s\"\nmax-duration = \"10m\"\n\n\
             [canary.command]\nset-weight = \"echo set-weight {{{{weight}}}} >> {log}\"\n\
             promote = \"echo promote {{{{version}}}} >> {log}\"\n\
             rollback = \"echo rollback {{{{version}}}} >> {log}\"\n\n\
             [[canary.metrics]]\nname = \"error-rate\"\nkind = \"counts\"\nthreshold = 0.02\nmin-requests = 1000\n\
             canary = {{ errors = 'e{{version=\"{{{{version}}}}\"}}', requests = 'r{{version=\"{{{{version}}}}\"}}' }}\n\
             baseline = {{ errors = 'e{{version=\"{{{{baseline_version}}}}\"}}', requests = 'r{{version=\"{{{{baseline_version}}}}\"}}' }}\n",
            log = log.display()
        );
        std::fs::write(dir.path().join("shipgate.toml"), toml).expect("write");
        let record = dir.path().join("replayed.json");
        let args = Args {
            env: "prod".into(),
            replay: Some(crate::root().join("tests/fixtures/canary").join(fixture)),
            record: Some(record.clone()),
            ..Args::default()
        };
        let code = canary(dir.path(), &args).expect("runs");
        assert!(
            shipgate_canary::load_recording(&record).is_ok(),
            "the replay is recorded"
        );
        let lines = std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect();
        (code, lines)
    }

    #[test]
    fn a_replay_runs_through_the_library_like_shipgate_canary_run() {
        assert_eq!(
            replay("healthy.json"),
            (
                0,
                strings(&["set-weight 10", "set-weight 50", "promote 1.4.0"])
            )
        );
        assert_eq!(
            replay("error-regression.json"),
            (1, strings(&["set-weight 10", "rollback 1.4.0"]))
        );
    }

    #[test]
    fn without_an_actuator_it_cannot_run() {
        let dir = tempfile::tempdir().expect("temp dir");
        let args = Args {
            env: "prod".into(),
            replay: Some(crate::root().join("tests/fixtures/canary/healthy.json")),
            ..Args::default()
        };
        let err = canary(dir.path(), &args).expect_err("no actuator");
        assert!(
            err.to_string().contains("no actuator in the configuration"),
            "{err}"
        );
    }
}
