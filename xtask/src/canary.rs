//! `cargo xtask canary …`: `shipgate canary run …` for this repository, through the
//! binary's own front end (`shipgate::run_args`): the same flags, output and exit codes.

use std::process::ExitCode;

pub fn run(args: &[String]) -> ExitCode {
    crate::shipgate(&["canary", "run"], args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    /// `cargo xtask canary ARGS` in the repository at `root`: the front end's exit code.
    fn canary(root: &std::path::Path, args: &[&str]) -> ExitCode {
        let mut all = vec!["--repo".to_string(), root.display().to_string()];
        all.extend(strings(args));
        crate::shipgate_in(&["canary", "run"], &all)
    }

    #[test]
    fn bad_arguments_are_refused_as_the_binary_refuses_them() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(
            canary(dir.path(), &["--replay", "r.json"]),
            ExitCode::from(2)
        );
        assert_eq!(canary(dir.path(), &["--env"]), ExitCode::from(2));
        assert_eq!(
            canary(dir.path(), &["--env", "x", "--bogus"]),
            ExitCode::from(2)
        );
    }

    /// A repository with a command actuator logging to `actuator.log`, gates matching the
    /// fixtures, replayed against tests/fixtures/canary.
    fn replay(fixture: &str) -> (ExitCode, Vec<String>) {
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
        let fixture = crate::root().join("tests/fixtures/canary").join(fixture);
        let code = canary(
            dir.path(),
            &[
                "--env",
                "prod",
                "--replay",
                &fixture.display().to_string(),
                "--record",
                &record.display().to_string(),
            ],
        );
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
    fn a_replay_runs_through_the_front_end_like_shipgate_canary_run() {
        assert_eq!(
            replay("healthy.json"),
            (
                ExitCode::SUCCESS,
                strings(&["set-weight 10", "set-weight 50", "promote 1.4.0"])
            )
        );
        assert_eq!(
            replay("error-regression.json"),
            (
                ExitCode::from(1),
                strings(&["set-weight 10", "rollback 1.4.0"])
            )
        );
    }

    #[test]
    fn without_an_actuator_it_cannot_run() {
        let dir = tempfile::tempdir().expect("temp dir");
        let fixture = crate::root().join("tests/fixtures/canary/healthy.json");
        let code = canary(
            dir.path(),
            &["--env", "prod", "--replay", &fixture.display().to_string()],
        );
        assert_eq!(code, ExitCode::from(2), "no actuator: could not run");
    }
}
