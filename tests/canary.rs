//! End-to-end tests of `shipgate canary judge FILE`: the binary on recorded runs in
//! tests/fixtures/canary, its output (human and `--json`) and its exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "support/git_repo.rs"]
mod git_repo;
#[path = "support/prometheus.rs"]
mod prometheus;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/canary")
        .join(name)
}

/// Runs shipgate in an empty directory (no shipgate.toml) with `args`.
fn shipgate(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shipgate"))
        .env_remove("GITHUB_ACTIONS") // not a step of its own: no annotations
        .env_remove("GITHUB_OUTPUT")
        .args(["--repo", &dir.display().to_string()])
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the shipgate binary runs")
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn judge(file: &str, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    judge_in(dir.path(), &fixture(file), extra)
}

fn judge_in(dir: &Path, file: &Path, extra: &[&str]) -> Run {
    let path = file.display().to_string();
    let mut args = vec!["canary", "judge", path.as_str()];
    args.extend_from_slice(extra);
    let out = shipgate(dir, &args);
    Run {
        code: out.status.code().expect("exit code"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn json(file: &str) -> (i32, serde_json::Value) {
    let run = judge(file, &["--json"]);
    let value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    (run.code, value)
}

/// Exit code and verdict of each fixture.
fn check(file: &str, code: i32, verdict: &str) {
    let (got, out) = json(file);
    assert_eq!(
        (got, out["verdict"].as_str()),
        (code, Some(verdict)),
        "{file}: {out:#}"
    );
}

#[test]
fn each_recording_gets_its_verdict_and_exit_code() {
    check("healthy.json", 0, "pass");
    check("error-regression.json", 1, "fail");
    check("latency-regression.json", 1, "fail");
    check("nan.json", 1, "fail");
    check("sparse.json", 1, "fail");
    check("sparse-chance.json", 0, "pass");
    check("short.json", 1, "continue");
}

/// A recording written by shipgate 0.1's `canary run --record` (its settings still held
/// `[canary.prometheus]` and `[canary.command]`) is judged and replayed as before.
#[test]
fn recordings_of_shipgate_0_1_with_provider_and_actuator_are_still_read() {
    let (code, out) = json("recorded-by-0.1.json");
    assert_eq!(
        (code, out["verdict"].as_str()),
        (1, Some("fail")),
        "{out:#}"
    );
    // 0.1 decided at 50 s; a later judge may be quicker, never slower.
    let t = out["decided_at"]["t"].as_f64().expect("t");
    assert!(t <= 50.0, "{out:#}");
    let (dir, log) = replay::repo(replay::GATES);
    let (run, _) = replay::run(dir.path(), "recorded-by-0.1.json", &[]);
    assert_eq!(
        run.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        live::log(&log),
        ["set-weight 10 prod", "rollback 1.4.0 to 1.3.2"]
    );
}

#[test]
fn a_regression_is_reported_with_its_evidence() {
    let (_, out) = json("error-regression.json");
    assert_eq!(out["settings_from"], "recording");
    let at = &out["decided_at"];
    let interval = at["interval"].as_u64().expect("interval");
    assert!((3..=8).contains(&interval), "{at}");
    assert_eq!(at["t"].as_f64(), Some(10.0 * interval as f64));
    let m = &out["report"]["metrics"][0];
    assert_eq!(m["name"], "error-rate");
    assert_eq!(m["verdict"], "fail");
    assert!(
        m["rule"]
            .as_str()
            .expect("rule")
            .contains("error-rate ratio to baseline <= 1"),
        "{m}"
    );
    assert_eq!(m["canary"].as_f64(), Some(0.01));
    assert_eq!(m["baseline"].as_f64(), Some(0.005));
    assert_eq!(
        m["canary_requests"].as_f64(),
        Some(1000.0 * interval as f64)
    );
    assert_eq!(m["effect"]["estimate"].as_f64(), Some(2.0));
    assert!(m["effect"]["lower"].as_f64().expect("lower") < 2.0);
    assert!(m["effect"]["upper"].as_f64().expect("upper") > 2.0);
    let rejected: Vec<&serde_json::Value> = m["tests"]
        .as_array()
        .expect("tests")
        .iter()
        .filter(|t| t["rejected"] == true)
        .collect();
    assert_eq!(rejected.len(), 1);
    assert!(
        rejected[0]["e_value"].as_f64().expect("e") >= rejected[0]["bar"].as_f64().expect("bar")
    );
}

#[test]
fn the_human_report_names_the_rule_and_the_numbers() {
    let (_, out) = json("error-regression.json");
    let at = out["decided_at"]["interval"].as_u64().expect("interval");
    assert!(at <= 5, "0.1 decided at interval 5; never later: {out:#}");
    let run = judge("error-regression.json", &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let first = run.stdout.lines().next().expect("a line");
    assert!(first.ends_with(&format!("error-regression.json: 1.4.0 against 1.3.2 in prod, {at} intervals judged, settings from the recording")), "{first}");
    assert!(
        run.stdout.contains(&format!(
            "verdict: FAIL at interval {at} (t = {} s): roll back",
            at * 10
        )),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("rule: critical metric `error-rate` failed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("  values:    canary 0.01, baseline 0.005, threshold 0.02, tolerance 0"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "  effect:    error-rate ratio canary/baseline = 2, 99% confidence interval ["
        ),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("(REJECTED)"), "{}", run.stdout);
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}

#[test]
fn a_tail_regression_is_caught_on_the_p99_bound() {
    let (_, out) = json("latency-regression.json");
    let latency = &out["report"]["metrics"][1];
    assert_eq!(latency["verdict"], "fail");
    assert!(
        latency["rule"]
            .as_str()
            .expect("rule")
            .contains("near p99)"),
        "{latency}"
    );
    assert_ne!(
        out["report"]["metrics"][0]["verdict"], "fail",
        "the error rate is unchanged"
    );
}

#[test]
fn nan_is_inconclusive_until_the_fail_safe() {
    let (_, out) = json("nan.json");
    assert_eq!(
        out["decided_at"]["interval"], 8,
        "3 good intervals, then NaN 5 times against a limit of 4"
    );
    let rule = out["rule"].as_str().expect("rule");
    assert!(
        rule.contains("fail-safe: 5 consecutive inconclusive intervals")
            && rule.contains("canary requests is NaN"),
        "{rule}"
    );
    let timeline = out["timeline"].as_array().expect("timeline");
    let verdicts: Vec<&str> = timeline
        .iter()
        .map(|p| p[1].as_str().expect("verdict"))
        .collect();
    assert_eq!(
        verdicts,
        [
            "continue", "continue", "pass", "continue", "continue", "continue", "continue", "fail"
        ]
    );
}

#[test]
fn an_unfinished_recording_is_never_a_pass() {
    let run = judge("short.json", &[]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("verdict: INCONCLUSIVE (never a pass)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("on-inconclusive = rollback"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_truncated_file_is_named_with_its_position() {
    let run = judge("truncated.json", &[]);
    assert_eq!(run.code, 2);
    assert!(run.stdout.is_empty());
    let first = run.stderr.lines().next().expect("an error line");
    assert!(
        first.starts_with("error: ") && first.contains("truncated.json:249:1:"),
        "{first}"
    );
    assert!(first.contains("the file ends too early"), "{first}");
    assert!(
        run.stderr
            .contains("\nhint: recordings are written by `shipgate canary run --record FILE`"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unreadable_or_invalid_file_cannot_run() {
    let run = judge("does-not-exist.json", &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("cannot read") && run.stderr.contains("does-not-exist.json"),
        "{}",
        run.stderr
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\n  \"format\": \"shipgate-canary-recording/1\",\n  \"settings\": {\"steps\": [{\"weight\": 50, \"hold\": \"1m\"}, {\"weight\": 20, \"hold\": \"1m\"}, {\"weight\": 100}]},\n  \"intervals\": []\n}\n").expect("write");
    let run = judge_in(dir.path(), &bad, &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("bad.json:3:") && run.stderr.contains("steps must increase"),
        "{}",
        run.stderr
    );
}

#[test]
fn use_config_rejudges_with_the_settings_of_shipgate_toml() {
    let dir = tempfile::tempdir().expect("temp dir");
    let recording: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("error-regression.json")).expect("read"),
    )
    .expect("json");
    let metric =
        serde_json::to_string(&recording["settings"]["metrics"][0]["canary"]).expect("json");
    // The same metric with a tolerance that allows up to 3x the baseline's error rate.
    let toml = format!(
        "[canary]\ninterval = \"10s\"\n\n[[canary.metrics]]\nname = \"error-rate\"\nkind = \"counts\"\ntolerance = 2.0\ncanary = {m}\nbaseline = {m}\n",
        m = metric.replace("\":", "\" =")
    );
    std::fs::write(dir.path().join("shipgate.toml"), toml).expect("write");
    let run = judge_in(
        dir.path(),
        &fixture("error-regression.json"),
        &["--use-config"],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("settings from") && run.stdout.contains("shipgate.toml"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("verdict: PASS"), "{}", run.stdout);

    std::fs::write(dir.path().join("shipgate.toml"), "[canary]\nmetrics = []\n").expect("write");
    let run = judge_in(
        dir.path(),
        &fixture("error-regression.json"),
        &["--use-config"],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("canary.metrics: no metrics"),
        "{}",
        run.stderr
    );
}

/// `shipgate canary run` against a real Prometheus (the Debian package `prometheus`),
/// scraping a small HTTP server in the test whose counters follow a scenario.
mod live {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    /// Per-second rates for one version: requests, errors, and the share of requests at or
    /// below each latency bucket bound.
    #[derive(Clone, Copy)]
    pub struct Rates {
        pub rps: f64,
        pub error_share: f64,
        pub slow: bool,
    }

    const BOUNDS: [f64; 5] = [0.1, 0.25, 0.5, 1.0, 2.5];

    fn cdf(slow: bool) -> [f64; 5] {
        if slow {
            [0.2, 0.4, 0.6, 0.8, 1.0]
        } else {
            [0.5, 0.8, 0.95, 0.99, 1.0]
        }
    }

    /// Serves /metrics with counters for the canary (1.4.0) and the baseline (1.3.2).
    pub struct Target {
        pub port: u16,
    }

    impl Target {
        pub fn start(canary: Rates, baseline: Rates) -> Target {
            Target::versions(vec![("1.4.0", canary), ("1.3.2", baseline)])
        }

        /// Serves counters for each version at its rates.
        pub fn versions(versions: Vec<(&'static str, Rates)>) -> Target {
            Target::pods(versions.into_iter().map(|(v, r)| (v, r, 0)).collect())
        }

        /// Serves counters for each version at its rates, split over that many pods
        /// (label `pod`, `VERSION-i`; 0: no pod label), evenly.
        pub fn pods(versions: Vec<(&'static str, Rates, usize)>) -> Target {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            let port = listener.local_addr().expect("addr").port();
            let start = Instant::now();
            let rates = Arc::new(Mutex::new(versions));
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(mut stream) = stream else { continue };
                    let mut buf = [0u8; 4096];
                    let _ = stream.read(&mut buf);
                    let t = start.elapsed().as_secs_f64();
                    let versions = rates.lock().expect("lock").clone();
                    let mut body = String::new();
                    for (version, r, pods) in versions {
                        let requests = (r.rps * t).floor();
                        let errors = (r.rps * r.error_share * t).floor();
                        if pods > 0 {
                            let per_pod = (r.rps / pods as f64 * t).floor();
                            for i in 0..pods {
                                let e = (r.rps * r.error_share / pods as f64 * t).floor();
                                body.push_str(&format!(
                                    "http_requests_total{{version=\"{version}\",pod=\"{version}-{i}\"}} {per_pod}\nhttp_errors_total{{version=\"{version}\",pod=\"{version}-{i}\"}} {e}\n"
                                ));
                            }
                            continue;
                        }
                        body.push_str(&format!(
                            "http_requests_total{{version=\"{version}\"}} {requests}\n"
                        ));
                        body.push_str(&format!(
                            "http_errors_total{{version=\"{version}\"}} {errors}\n"
                        ));
                        for (le, share) in BOUNDS.iter().zip(cdf(r.slow)) {
                            let n = (requests * share).floor();
                            body.push_str(&format!("http_duration_seconds_bucket{{version=\"{version}\",le=\"{le}\"}} {n}\n"));
                        }
                        body.push_str(&format!("http_duration_seconds_bucket{{version=\"{version}\",le=\"+Inf\"}} {requests}\n"));
                    }
                    let _ = write!(
                        stream,
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                }
            });
            Target { port }
        }
    }

    pub use crate::prometheus::free_port;

    /// A GET on loopback; the body, or None when nothing answers.
    pub fn get(port: u16, path: &str) -> Option<String> {
        let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut text = String::new();
        s.read_to_string(&mut text).ok()?;
        text.split_once("\r\n\r\n").map(|(_, b)| b.to_string())
    }

    /// A Prometheus scraping `target` every second; killed on drop.
    pub struct Prometheus {
        pub port: u16,
        child: Child,
        _dir: tempfile::TempDir,
    }

    impl Prometheus {
        pub fn start(target: &Target) -> Prometheus {
            let dir = tempfile::tempdir().expect("temp dir");
            let config = dir.path().join("prometheus.yml");
            std::fs::write(
                &config,
                format!(
                    "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['127.0.0.1:{}']\n",
                    target.port
                ),
            )
            .expect("write config");
            let (port, child) = crate::prometheus::spawn(&config, &dir.path().join("data"));
            let p = Prometheus {
                port,
                child,
                _dir: dir,
            };
            // Ready once the target has been scraped a few times.
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let body = get(port, "/api/v1/query?query=count_over_time(up%5B10s%5D)")
                    .unwrap_or_default();
                if body.contains("\"value\":[")
                    && !body.contains("\"1\"]")
                    && !body.contains("\"2\"]")
                {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "Prometheus did not scrape the target within 30 s: {body}"
                );
                std::thread::sleep(Duration::from_millis(300));
            }
            p
        }

        pub fn stop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    impl Drop for Prometheus {
        fn drop(&mut self) {
            self.stop();
        }
    }

    pub fn counts_queries(extra: &str) -> String {
        let q = |metric: &str, v: &str| {
            format!("sum(increase({metric}{{version=\"{{{{{v}}}}}\"}}[{{{{interval}}}}])){extra}")
        };
        format!(
            "canary = {{ errors = '{}', requests = '{}' }}\nbaseline = {{ errors = '{}', requests = '{}' }}\n",
            q("http_errors_total", "version"),
            q("http_requests_total", "version"),
            q("http_errors_total", "baseline_version"),
            q("http_requests_total", "baseline_version"),
        )
    }

    /// A repository directory with shipgate.toml for a canary against `prometheus`.
    pub fn repo(prometheus: u16, head: &str, metrics: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("actuator.log");
        let toml = format!(
            "[canary]\n{head}\n\n[canary.prometheus]\nurl = \"http://127.0.0.1:{prometheus}\"\ntimeout = \"5s\"\nretries = 0\n\n\
             [canary.command]\nset-weight = \"echo set-weight {{{{weight}}}} >> {log}\"\npromote = \"echo promote {{{{version}}}} >> {log}\"\n\
             rollback = \"echo rollback {{{{version}}}} >> {log}\"\n\n{metrics}",
            log = log.display()
        );
        std::fs::write(dir.path().join("shipgate.toml"), toml).expect("write");
        (dir, log)
    }

    /// Runs the canary in `dir`, checks that it was rolled back after its first step (exit
    /// 1, the actuator's log in `log_file`), and returns its output.
    pub fn rolled_back(dir: &Path, log_file: &Path, extra: &[&str]) -> std::process::Output {
        let out = run(dir, extra).output().expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert_eq!(
            log(log_file),
            ["set-weight 50", "rollback 1.4.0"],
            "{stderr}"
        );
        out
    }

    pub fn run(dir: &Path, extra: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_shipgate"));
        c.env_remove("GITHUB_ACTIONS") // not a step of its own: no annotations
            .env_remove("GITHUB_OUTPUT");
        c.args([
            "--repo",
            &dir.display().to_string(),
            "canary",
            "run",
            "--env",
            "prod",
        ])
        .args(["--canary-version", "1.4.0", "--baseline-version", "1.3.2"])
        .args(extra)
        .env_remove("GITHUB_STEP_SUMMARY");
        c
    }

    pub fn log(path: &Path) -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }
}

use live::{Prometheus, Rates, Target};

const FAST: &str = "steps = [{ weight = 50, hold = \"4s\" }, { weight = 100 }]\ninterval = \"3s\"\nmax-duration = \"40s\"\nconsecutive-error-limit = 2";

fn error_metric(extra: &str) -> String {
    format!(
        "[[canary.metrics]]\nname = \"error-rate\"\nkind = \"counts\"\nmin-requests = 100\nmin-intervals = 2\n{}",
        live::counts_queries(extra)
    )
}

fn rates(rps: f64, error_share: f64, slow: bool) -> Rates {
    Rates {
        rps,
        error_share,
        slow,
    }
}

/// Runs a canary that must be promoted, recording it; checks the recording replays to the
/// same verdict. Returns the run's stdout and stderr and the recording's path.
fn promoted_and_recorded(dir: &Path, log: &Path) -> (String, String, PathBuf) {
    let record = dir.join("run.json");
    let out = live::run(dir, &["--record", &record.display().to_string()])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        live::log(log),
        ["set-weight 50", "promote 1.4.0"],
        "{stderr}"
    );
    let replay = judge_in(dir, &record, &["--json"]);
    assert_eq!(replay.code, 0, "{}{}", replay.stdout, replay.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    (stdout, stderr, record)
}

#[test]
fn live_a_healthy_canary_completes_every_step() {
    let target = Target::start(rates(100.0, 0.01, false), rates(100.0, 0.01, false));
    let prom = Prometheus::start(&target);
    let (dir, log) = live::repo(prom.port, FAST, &error_metric(""));
    let (stdout, stderr, _) = promoted_and_recorded(dir.path(), &log);
    assert!(stdout.starts_with("canary 1.4.0 in prod: promoted"));
    assert!(
        progress_only(&stderr).all(|l| l.starts_with("canary: t=")),
        "{stderr}"
    );
}

/// The lines of `canary run`'s stderr but its advice about metrics judged without a
/// `pod-label` (a `warning:` line and its `hint:`): these fixtures judge totals on purpose.
fn progress_only(stderr: &str) -> impl Iterator<Item = &str> {
    stderr.lines().filter(|l| {
        !(l.starts_with("warning: ") && l.contains(".pod-label: metric `")
            || l.starts_with("hint: set pod-label = "))
    })
}

#[test]
fn live_an_error_rate_regression_is_rolled_back() {
    let target = Target::start(rates(100.0, 0.2, false), rates(100.0, 0.01, false));
    let prom = Prometheus::start(&target);
    let (dir, log) = live::repo(prom.port, FAST, &error_metric(""));
    let out = live::rolled_back(dir.path(), &log, &["--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["result"], "rolled-back");
    assert!(
        report["reason"]
            .as_str()
            .expect("reason")
            .contains("error-rate ratio to baseline"),
        "{report}"
    );
}

#[test]
fn live_a_latency_regression_is_rolled_back() {
    let target = Target::start(rates(100.0, 0.0, true), rates(100.0, 0.0, false));
    let prom = Prometheus::start(&target);
    let q = |v: &str| {
        format!(
            "sum by (le) (increase(http_duration_seconds_bucket{{version=\"{{{{{v}}}}}\"}}[{{{{interval}}}}]))"
        )
    };
    let metric = format!(
        "[[canary.metrics]]\nname = \"latency\"\nkind = \"latency\"\nmin-requests = 100\nmin-intervals = 2\ncanary = {{ buckets = '{}' }}\nbaseline = {{ buckets = '{}' }}\n",
        q("version"),
        q("baseline_version")
    );
    let (dir, log) = live::repo(prom.port, FAST, &metric);
    let out = live::rolled_back(dir.path(), &log, &[]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("latency (latency, critical): fail"));
}

#[test]
fn live_prometheus_stopped_mid_run_fails_safe() {
    let target = Target::start(rates(100.0, 0.01, false), rates(100.0, 0.01, false));
    let mut prom = Prometheus::start(&target);
    let slow_steps = "steps = [{ weight = 50, hold = \"60s\" }, { weight = 100 }]\ninterval = \"3s\"\nmax-duration = \"90s\"\nconsecutive-error-limit = 2";
    let (dir, log) = live::repo(prom.port, slow_steps, &error_metric(""));
    let child = live::run(dir.path(), &[])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    std::thread::sleep(std::time::Duration::from_secs(5));
    prom.stop();
    let out = child.wait_with_output().expect("ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        live::log(&log),
        ["set-weight 50", "rollback 1.4.0"],
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("rolled back")
            && stdout.contains("fail-safe")
            && stdout.contains("unreachable"),
        "{stdout}"
    );
}

#[test]
fn live_low_traffic_waits_and_never_promotes() {
    let target = Target::start(rates(1.0, 0.0, false), rates(1.0, 0.0, false));
    let prom = Prometheus::start(&target);
    let head = "steps = [{ weight = 50, hold = \"3s\" }, { weight = 100 }]\ninterval = \"3s\"\nmax-duration = \"9s\"\non-inconclusive = \"pause\"";
    let (dir, log) = live::repo(prom.port, head, &error_metric(""));
    let out = live::run(dir.path(), &[]).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        live::log(&log),
        ["set-weight 50"],
        "paused: no promotion, no rollback\n{stderr}"
    );
    assert!(
        stderr.contains("continue: waiting on `error-rate`: low traffic"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("paused: inconclusive after 9 s"));
}

#[test]
fn live_a_cancelled_run_rolls_back_before_exiting() {
    // A cancelled CI job (SIGTERM) or Ctrl-C (SIGINT) must not leave traffic on the canary.
    let target = Target::start(rates(100.0, 0.01, false), rates(100.0, 0.01, false));
    let prom = Prometheus::start(&target);
    let head = "steps = [{ weight = 50, hold = \"1m\" }, { weight = 100 }]\ninterval = \"3s\"\nmax-duration = \"5m\"";
    let (dir, log) = live::repo(prom.port, head, &error_metric(""));
    for (signal, name) in [("-TERM", "SIGTERM"), ("-INT", "SIGINT")] {
        let _ = std::fs::remove_file(&log);
        let child = live::run(dir.path(), &[])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("starts");
        let waited = std::time::Instant::now();
        while live::log(&log).is_empty() {
            assert!(
                waited.elapsed() < std::time::Duration::from_secs(20),
                "no set-weight"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        // The shell's own `kill` (no procps needed).
        let killed = Command::new("sh")
            .arg("-c")
            .arg(format!("kill {signal} {}", child.id()))
            .status()
            .expect("kill");
        assert!(killed.success());
        let out = child.wait_with_output().expect("exits");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            live::log(&log),
            ["set-weight 50", "rollback 1.4.0"],
            "{stdout}"
        );
        assert!(
            stdout.contains(&format!(
                "rolled back: interrupted by {name}: traffic went back to the baseline"
            )),
            "{stdout}"
        );
    }
}

#[test]
fn live_a_promql_error_stops_before_traffic_moves() {
    let target = Target::start(rates(100.0, 0.01, false), rates(100.0, 0.01, false));
    let prom = Prometheus::start(&target);
    let (dir, log) = live::repo(prom.port, FAST, &error_metric(")"));
    let out = live::run(dir.path(), &[]).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("Prometheus rejected the query `sum(increase(http_errors_total{version=\"1.4.0\"}[3s])))`: bad_data: "), "{stderr}");
    assert!(stderr.contains("hint: no traffic was moved"), "{stderr}");
    assert!(live::log(&log).is_empty());
}

/// `canary capture`: a past window from Prometheus range queries, judged offline.
mod capture {
    use super::*;

    /// `shipgate canary capture` in `dir` for canary `version` against 1.3.2 in prod.
    pub fn run(dir: &Path, version: &str, from: &str, to: &str, out: &Path, extra: &[&str]) -> Run {
        let file = out.display().to_string();
        let mut args = vec![
            "canary",
            "capture",
            "--env",
            "prod",
            "--canary-version",
            version,
        ];
        args.extend(["--baseline-version", "1.3.2", "--from", from, "--to", to]);
        args.extend(["--out", file.as_str()]);
        args.extend_from_slice(extra);
        let out = shipgate(dir, &args);
        Run {
            code: out.status.code().expect("exit code"),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub fn now() -> f64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs_f64()
    }

    pub fn rfc3339(seconds: f64) -> String {
        time::OffsetDateTime::from_unix_timestamp(seconds as i64)
            .expect("a time")
            .format(&time::format_description::well_known::Rfc3339)
            .expect("formats")
    }

    pub fn read(path: &Path) -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(path).expect("the recording")).expect("json")
    }
}

#[test]
fn capture_a_past_window_and_judge_it_offline() {
    // One Prometheus for both windows: 1.4.0 regressed, 1.4.1 healthy, against 1.3.2.
    let target = Target::versions(vec![
        ("1.4.0", rates(100.0, 0.2, false)),
        ("1.4.1", rates(100.0, 0.01, false)),
        ("1.3.2", rates(100.0, 0.01, false)),
    ]);
    let prom = Prometheus::start(&target);
    let from = capture::now().floor();
    std::thread::sleep(std::time::Duration::from_secs(12));
    let (dir, log) = live::repo(prom.port, FAST, &error_metric(""));

    // The regressed window, from an RFC 3339 time to now.
    let file = dir.path().join("regressed.json");
    let started = std::time::Instant::now();
    let run = capture::run(
        dir.path(),
        "1.4.0",
        &capture::rfc3339(from),
        "now",
        &file,
        &[],
    );
    let took = started.elapsed();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(took < std::time::Duration::from_secs(2), "{took:?}");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let recording = capture::read(&file);
    assert_eq!(
        (
            &recording["env"],
            &recording["version"],
            &recording["baseline_version"],
            &recording["started_at"]
        ),
        (
            &serde_json::json!("prod"),
            &serde_json::json!("1.4.0"),
            &serde_json::json!("1.3.2"),
            &serde_json::json!(capture::rfc3339(from))
        )
    );
    let intervals = recording["intervals"].as_array().expect("intervals");
    let n = intervals.len();
    assert!((4..=5).contains(&n), "12 s of 3 s intervals: {n}");
    for (k, i) in intervals.iter().enumerate() {
        assert_eq!(i["t"].as_f64(), Some(3.0 * (k + 1) as f64), "{i}");
        assert!(i.get("weight").is_none(), "{i}");
        let m = &i["metrics"]["error-rate"];
        let canary = &m["canary"];
        let requests = canary["requests"].as_f64().expect("canary requests");
        let errors = canary["errors"].as_f64().expect("canary errors");
        assert!(requests > 200.0 && errors > 0.1 * requests, "{i}");
        assert!(
            m["baseline"]["requests"].as_f64().expect("baseline") > 200.0,
            "{i}"
        );
    }
    assert_eq!(
        run.stderr,
        format!(
            "captured {n} intervals of 3s ({} to {}) into {}: error-rate {n}/{n} with data\n",
            capture::rfc3339(from),
            capture::rfc3339(from + 3.0 * n as f64),
            file.display()
        )
    );
    let judged = judge_in(dir.path(), &file, &["--json"]);
    assert_eq!(judged.code, 1, "{}{}", judged.stdout, judged.stderr);
    let report: serde_json::Value = serde_json::from_str(&judged.stdout).expect("json");
    assert_eq!(report["verdict"], "fail", "{report:#}");
    assert!(
        report["rule"]
            .as_str()
            .expect("rule")
            .contains("error-rate"),
        "{report:#}"
    );

    // The healthy window, from Unix seconds, with --json: not a failure.
    let file = dir.path().join("healthy.json");
    let run = capture::run(
        dir.path(),
        "1.4.1",
        &format!("{from}"),
        "now",
        &file,
        &["--json"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(summary["metrics"][0]["metric"], "error-rate", "{summary:#}");
    assert_eq!(
        summary["metrics"][0]["with_data"], summary["intervals"],
        "{summary:#}"
    );
    let judged = judge_in(dir.path(), &file, &["--json"]);
    let report: serde_json::Value = serde_json::from_str(&judged.stdout).expect("json");
    assert!(
        ["pass", "continue"].contains(&report["verdict"].as_str().expect("verdict")),
        "{report:#}"
    );

    // A window before the data: every interval without data, and a hint.
    let file = dir.path().join("empty.json");
    let (a, b) = (format!("{}", from - 120.0), format!("{}", from - 60.0));
    let run = capture::run(dir.path(), "1.4.0", &a, &b, &file, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("error-rate 0/20 with data")
            && run
                .stderr
                .contains("\nhint: no metric has data in this window"),
        "{}",
        run.stderr
    );
    let recording = capture::read(&file);
    let intervals = recording["intervals"].as_array().expect("intervals");
    assert_eq!(intervals.len(), 20);
    assert!(
        intervals
            .iter()
            .all(|i| i["metrics"]["error-rate"].get("canary").is_none())
    );

    // A PromQL error: Prometheus's message and the query, no file.
    let (dir, _) = live::repo(prom.port, FAST, &error_metric(")"));
    let file = dir.path().join("broken.json");
    let run = capture::run(dir.path(), "1.4.0", &format!("{from}"), "now", &file, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("error: metric `error-rate`: Prometheus rejected the query `sum(increase(http_errors_total{version=\"1.4.0\"}[3s])))`: bad_data: "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("\nhint: fix the query in [canary.metrics]"),
        "{}",
        run.stderr
    );
    assert!(!file.exists());
    assert!(live::log(&log).is_empty(), "capture never moves traffic");
}

#[test]
fn capture_refuses_bad_times_long_windows_and_an_unreachable_prometheus() {
    // Nothing listens on the configured port.
    let (dir, _) = live::repo(live::free_port(), FAST, &error_metric(""));
    let file = dir.path().join("out.json");
    let check = |from: &str, to: &str, wanted: &[&str]| {
        let run = capture::run(dir.path(), "1.4.0", from, to, &file, &[]);
        assert_eq!(run.code, 2, "{from} {to}: {}", run.stderr);
        for w in wanted {
            assert!(
                run.stderr.contains(w),
                "{from} {to}: wanted {w:?} in\n{}",
                run.stderr
            );
        }
        assert!(!file.exists());
    };
    check(
        "yesterday",
        "now",
        &[
            "error: --from `yesterday` is not a time\nhint: write RFC 3339 like 2026-11-27T03:00:00Z, or Unix seconds\n",
        ],
    );
    check(
        "1000000000",
        "2001-13-01T00:00:00Z",
        &[
            "error: --to `2001-13-01T00:00:00Z` is not a time",
            "or Unix seconds, or `now`",
        ],
    );
    check(
        "2001-09-09T01:46:40Z",
        "1000000000",
        &["error: --from 2001-09-09T01:46:40Z is not before --to 1000000000"],
    );
    let future = format!("{}", capture::now() + 3600.0);
    check(
        "1000000000",
        &future,
        &["is in the future", "hint: use --to now"],
    );
    // 40,000 s of 3 s intervals: more points than Prometheus answers.
    check(
        "1000000000",
        "1000040000",
        &[
            "error: the window holds 13333 intervals of 3s; Prometheus answers at most 11000 points per range query",
            "hint: set interval = \"4s\" (or longer) in [canary]",
        ],
    );
    check(
        "1000000000",
        "1000000030",
        &[
            "error: metric `error-rate`: Prometheus at http://127.0.0.1:",
            "is unreachable after 1 attempt(s)",
            "hint: check the url in [canary.prometheus]",
        ],
    );
}

/// `canary run --replay`: the real rollout against a recording, on a simulated clock.
mod replay {
    use super::*;

    /// A repository whose shipgate.toml has the fixtures' gates and a command actuator that
    /// appends to `actuator.log`; no [canary.prometheus] (a replay needs none).
    pub fn repo(head: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("actuator.log");
        let command = format!(
            "[canary.command]\nset-weight = \"echo set-weight {{{{weight}}}} {{{{env}}}} >> {log}\"\n\
             promote = \"echo promote {{{{version}}}} >> {log}\"\n\
             rollback = \"echo rollback {{{{version}}}} to {{{{baseline_version}}}} >> {log}\"\n",
            log = log.display()
        );
        write_config(dir.path(), head, &command);
        (dir, log)
    }

    /// shipgate.toml with `head` in [canary], the `actuator` section(s) and the fixtures'
    /// error-rate metric.
    pub fn write_config(dir: &Path, head: &str, actuator: &str) {
        let toml = format!(
            "[canary]\n{head}\n\n{actuator}\n\
             [[canary.metrics]]\nname = \"error-rate\"\nkind = \"counts\"\nthreshold = 0.02\nmin-requests = 1000\n{}",
            live::counts_queries(""),
        );
        std::fs::write(dir.join("shipgate.toml"), toml).expect("write");
    }

    pub const GATES: &str = "steps = [{ weight = 10, hold = \"1m\" }, { weight = 50, hold = \"1m\" }, { weight = 100 }]\ninterval = \"10s\"\nmax-duration = \"10m\"";

    pub fn run(dir: &Path, file: &str, extra: &[&str]) -> (Output, std::time::Duration) {
        let started = std::time::Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_shipgate"))
            .env_remove("GITHUB_ACTIONS") // not a step of its own: no annotations
            .env_remove("GITHUB_OUTPUT")
            .args(["--repo", &dir.display().to_string(), "canary", "run"])
            .args(["--env", "prod", "--replay"])
            .arg(fixture(file))
            .args(extra)
            .env("NO_COLOR", "1")
            .env_remove("GITHUB_STEP_SUMMARY")
            .output()
            .expect("runs");
        (out, started.elapsed())
    }
}

#[test]
fn replay_a_healthy_recording_promotes_without_waiting() {
    let (dir, log) = replay::repo(replay::GATES);
    let (out, took) = replay::run(dir.path(), "healthy.json", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // Two minutes of recording, replayed with every step and hold, in well under a second.
    assert!(took < std::time::Duration::from_secs(1), "{took:?}");
    assert_eq!(
        live::log(&log),
        ["set-weight 10 prod", "set-weight 50 prod", "promote 1.4.0"],
        "{stderr}"
    );
    // Versions come from the recording.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("canary 1.4.0 in prod (replay): promoted (after 120 s)"),
        "{stdout}"
    );
    assert_eq!(progress_only(&stderr).count(), 12, "{stderr}");
    assert!(stderr.contains("t=70s step 2/3 weight 50%"), "{stderr}");
    assert!(
        stderr.starts_with("warning: shipgate.toml:")
            && stderr.contains("metric `error-rate` has no pod-label"),
        "a replay warns of the settings as a live run does: {stderr}"
    );
}

#[test]
fn replay_a_regression_rolls_back_with_the_actuator() {
    let (dir, log) = replay::repo(replay::GATES);
    let (out, took) = replay::run(dir.path(), "error-regression.json", &["--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(took < std::time::Duration::from_secs(1), "{took:?}");
    assert_eq!(
        live::log(&log),
        ["set-weight 10 prod", "rollback 1.4.0 to 1.3.2"],
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["result"], "rolled-back", "{report:#}");
    // How long after the failing verdict the rollback started is part of the evidence.
    assert!(
        report["rollback_started_ms"]
            .as_f64()
            .is_some_and(|ms| ms >= 0.0),
        "{report:#}"
    );
    // The same interval `canary judge` decides at.
    let (_, judged) = json("error-regression.json");
    assert_eq!(
        report["decided_at_s"], judged["decided_at"]["t"],
        "{report:#}"
    );
}

#[test]
fn replay_leaves_charts_a_recording_and_a_step_summary() {
    let (dir, _log) = replay::repo(replay::GATES);
    let summary = dir.path().join("summary.md");
    let charts = dir.path().join("charts");
    let record = dir.path().join("run.json");
    let out = Command::new(env!("CARGO_BIN_EXE_shipgate"))
        .env_remove("GITHUB_ACTIONS") // not a step of its own: no annotations
        .env_remove("GITHUB_OUTPUT")
        .args([
            "--repo",
            &dir.path().display().to_string(),
            "canary",
            "run",
            "--env",
            "prod",
        ])
        .arg("--replay")
        .arg(fixture("error-regression.json"))
        .arg("--charts")
        .arg(&charts)
        .arg("--record")
        .arg(&record)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env_remove("GITHUB_OUTPUT")
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let svg = std::fs::read_to_string(charts.join("error-rate.svg")).expect("a chart per metric");
    assert!(svg.trim_start().starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("rolled back"), "the decision is marked");
    assert!(svg.contains("canary 1.4.0") && svg.contains("baseline 1.3.2"));
    let text = std::fs::read_to_string(&summary).expect("summary appended");
    assert!(
        text.starts_with("### Canary `1.4.0` in prod (replay): ROLLED BACK"),
        "{text}"
    );
    assert!(
        text.contains("| error-rate (counts) | **fail** |"),
        "{text}"
    );
    assert!(text.contains("ms after the failing verdict."), "{text}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("ms after the verdict)"), "{stdout}");
    assert!(text.contains("| 10 % | 10 s |"), "{text}");
    assert!(text.contains("error-rate.svg"), "{text}");
    // The recording replays to the same decision.
    let (code, judged) = {
        let run = judge_in(dir.path(), &record, &["--json"]);
        (
            run.code,
            serde_json::from_str::<serde_json::Value>(&run.stdout).expect("json"),
        )
    };
    assert_eq!(code, 1);
    assert_eq!(judged["verdict"], "fail", "{judged:#}");
}

#[test]
fn judge_draws_charts_with_the_decision_point() {
    let dir = tempfile::tempdir().expect("temp dir");
    let charts = dir.path().join("charts");
    let run = judge_in(
        dir.path(),
        &fixture("latency-regression.json"),
        &["--charts", &charts.display().to_string()],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let names: Vec<String> = std::fs::read_dir(&charts)
        .expect("charts written")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.is_empty(), "one chart per metric");
    let all: String = names
        .iter()
        .map(|n| std::fs::read_to_string(charts.join(n)).expect("read"))
        .collect();
    assert!(all.contains("fail"), "the failing interval is marked");
}

#[test]
fn an_environment_override_changes_the_gates_for_that_environment_only() {
    // prod: the fixture's gates; staging: a single 100 % step, promoted at once on a healthy
    // recording (with the fixture's evidence needs); the actuator log tells them apart.
    let (dir, log) = replay::repo(&format!(
        "{}\n\n[canary.env.staging]\nsteps = [{{ weight = 100 }}]",
        replay::GATES
    ));
    let out = Command::new(env!("CARGO_BIN_EXE_shipgate"))
        .env_remove("GITHUB_ACTIONS") // not a step of its own: no annotations
        .env_remove("GITHUB_OUTPUT")
        .args([
            "--repo",
            &dir.path().display().to_string(),
            "canary",
            "run",
            "--env",
            "staging",
        ])
        .arg("--replay")
        .arg(fixture("healthy.json"))
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        live::log(&log),
        ["set-weight 100 staging", "promote 1.4.0"],
        "{stderr}"
    );
    let (out, _) = replay::run(dir.path(), "healthy.json", &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        live::log(&log)[2..],
        ["set-weight 10 prod", "set-weight 50 prod", "promote 1.4.0"]
    );
}

#[test]
fn replay_past_the_end_of_a_recording_is_inconclusive_never_a_pass() {
    // The recording has one interval; the gates need two minutes: the missing intervals are
    // inconclusive, the fail-safe rolls back.
    let (dir, log) = replay::repo(replay::GATES);
    let (out, _) = replay::run(dir.path(), "short.json", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        live::log(&log),
        ["set-weight 10 prod", "rollback 1.4.0 to 1.3.2"],
        "{stderr}"
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("fail-safe"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // With on-inconclusive = "pause" and a short max-duration, it pauses: exit 1, no promote.
    let (dir, log) = replay::repo(
        "steps = [{ weight = 10, hold = \"20s\" }, { weight = 100 }]\ninterval = \"10s\"\nmax-duration = \"30s\"\nconsecutive-error-limit = 10\non-inconclusive = \"pause\"",
    );
    let (out, _) = replay::run(dir.path(), "short.json", &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("paused"), "{stdout}");
    assert_eq!(live::log(&log), ["set-weight 10 prod"]);
}

#[test]
fn replay_flags_override_the_recorded_versions_and_bad_files_cannot_run() {
    let (dir, log) = replay::repo(replay::GATES);
    let (out, _) = replay::run(
        dir.path(),
        "healthy.json",
        &["--canary-version", "9.9.9", "--baseline-version", "9.9.8"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        live::log(&log).last().map(String::as_str),
        Some("promote 9.9.9")
    );

    let (dir, log) = replay::repo(replay::GATES);
    let (out, _) = replay::run(dir.path(), "truncated.json", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("truncated.json:"), "{stderr}");
    assert!(live::log(&log).is_empty());
}

/// Outside text never becomes shell syntax: hostile versions and environment names, through
/// flags and through a recording, are refused (exit 2, naming the value) before anything
/// runs; valid values arrive intact, as quoted words and as `SHIPGATE_*` variables.
#[test]
fn hostile_placeholder_values_are_refused_before_anything_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("actuator.log");
    let pwned = dir.path().join("pwned");
    let command = format!(
        "[canary.command]\nset-weight = \"echo set-weight {{{{weight}}}} {{{{ env }}}} {{{{step}}}} >> {log}\"\n\
         promote = \"echo promote {{{{version}}}} $SHIPGATE_VERSION $SHIPGATE_ENV >> {log}\"\n\
         rollback = \"echo rollback {{{{version}}}} to {{{{baseline_version}}}} >> {log}\"\n",
        log = log.display()
    );
    replay::write_config(dir.path(), replay::GATES, &command);
    let run = |env: &str, extra: &[&str], file: &Path| {
        Command::new(env!("CARGO_BIN_EXE_shipgate"))
            .env_remove("GITHUB_ACTIONS") // not a step of its own: no annotations
            .env_remove("GITHUB_OUTPUT")
            .args(["--repo", &dir.path().display().to_string(), "canary", "run"])
            .args(["--env", env, "--replay"])
            .arg(file)
            .args(extra)
            .env("NO_COLOR", "1")
            .env_remove("GITHUB_STEP_SUMMARY")
            .output()
            .expect("runs")
    };
    let touch = format!("touch {}", pwned.display());
    let hostile = [
        format!("1.4.0;{touch}"),
        format!("$({touch})"),
        format!("`{touch}`"),
        format!("1.4.0' ; {touch} ; echo '"),
        format!("1.4.0\" ; {touch} ; echo \""),
        format!("1.4.0 {touch}"),
        format!("1.4.0\n{touch}"),
    ];
    let healthy = fixture("healthy.json");
    for value in &hostile {
        for (env, extra) in [
            ("prod", vec!["--canary-version", value.as_str()]),
            ("prod", vec!["--baseline-version", value.as_str()]),
            (value.as_str(), vec![]),
        ] {
            let out = run(env, &extra, &healthy);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{value:?} {extra:?}: {stderr}");
            assert!(stderr.contains("is not a valid"), "{stderr}");
            assert!(stderr.contains("no traffic was moved"), "{stderr}");
            assert!(!log.exists(), "{value:?}: the actuator ran");
            assert!(!pwned.exists(), "{value:?}: something was executed");
        }
        // Through a recording: refused at the value's line.
        let text = std::fs::read_to_string(&healthy).expect("fixture");
        let json = serde_json::to_string(value).expect("json string");
        let bad = text.replacen("\"1.4.0\"", &json, 1);
        assert_ne!(bad, text, "the fixture names version 1.4.0");
        let file = dir.path().join("hostile.json");
        std::fs::write(&file, &bad).expect("write");
        let out = run("prod", &[], &file);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{value:?}: {stderr}");
        assert!(stderr.contains("hostile.json:"), "{stderr}");
        assert!(stderr.contains("version: `"), "{stderr}");
        assert!(!log.exists() && !pwned.exists(), "{value:?}");
    }
    // A valid but unusual version arrives intact, quoted and in the environment.
    let out = run(
        "prod",
        &["--canary-version", "1.4.0-rc.1+build.5"],
        &healthy,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        live::log(&log),
        [
            "set-weight 10 prod 1",
            "set-weight 50 prod 2",
            "promote 1.4.0-rc.1+build.5 1.4.0-rc.1+build.5 prod"
        ]
    );
}

/// The webhook actuator against a small HTTP server that records the events it is sent.
mod hook {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    /// The events received, as `event weight` strings, and the raw JSON.
    #[derive(Clone, Default)]
    pub struct Events(
        Arc<Mutex<Vec<serde_json::Value>>>,
        Arc<Mutex<Vec<Option<String>>>>,
    );

    impl Events {
        pub fn lines(&self) -> Vec<String> {
            self.0
                .lock()
                .expect("lock")
                .iter()
                .map(|e| format!("{} {}", e["event"].as_str().unwrap_or("?"), e["weight"]))
                .collect()
        }
        pub fn all(&self) -> Vec<serde_json::Value> {
            self.0.lock().expect("lock").clone()
        }
        /// Each event's `Authorization` header.
        pub fn authorizations(&self) -> Vec<Option<String>> {
            self.1.lock().expect("lock").clone()
        }
    }

    /// Starts a server on a free loopback port; `answer` gives each event's HTTP status.
    pub fn start(answer: impl Fn(&serde_json::Value) -> u16 + Send + 'static) -> (String, Events) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!(
            "http://{}/hooks/canary",
            listener.local_addr().expect("addr")
        );
        let events = Events::default();
        let seen = events.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut length = 0;
                let mut line = String::new();
                let mut first = true;
                let mut post = false;
                let mut authorization = None;
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    if first {
                        post = line.starts_with("POST /hooks/canary ");
                        first = false;
                    }
                    let l = line.trim_end();
                    if l.is_empty() {
                        break;
                    }
                    if let Some((k, v)) = l.split_once(':') {
                        if k.eq_ignore_ascii_case("content-length") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                        if k.eq_ignore_ascii_case("authorization") {
                            authorization = Some(v.trim().to_string());
                        }
                    }
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    continue;
                }
                let event: serde_json::Value =
                    serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
                let status = if post { answer(&event) } else { 405 };
                seen.0.lock().expect("lock").push(event);
                seen.1.lock().expect("lock").push(authorization);
                let reply = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope"
                );
                let _ = stream.write_all(reply.as_bytes());
            }
        });
        (url, events)
    }

    pub fn config(url: &str) -> String {
        format!("[canary.webhook]\nurl = \"{url}\"\ntimeout = \"2s\"\n")
    }
}

#[test]
fn webhook_a_healthy_replay_confirms_every_step_then_promotes() {
    let (url, events) = hook::start(|_| 200);
    let dir = tempfile::tempdir().expect("temp dir");
    replay::write_config(dir.path(), replay::GATES, &hook::config(&url));
    let (out, _) = replay::run(dir.path(), "healthy.json", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        events.lines(),
        [
            "confirm 10",
            "set-weight 10",
            "confirm 50",
            "set-weight 50",
            "confirm 100",
            "promote 100"
        ]
    );
    assert_eq!(
        events.all()[1],
        serde_json::json!({"event": "set-weight", "env": "prod", "version": "1.4.0",
            "baseline_version": "1.3.2", "weight": 10, "step": 1, "steps": 3})
    );
}

#[test]
fn webhook_events_carry_the_bearer_token_and_recordings_do_not() {
    let (url, events) = hook::start(|_| 200);
    let dir = tempfile::tempdir().expect("temp dir");
    let config = format!(
        "{}bearer-token-env = \"SHIPGATE_TEST_HOOK_TOKEN\"\n",
        hook::config(&url)
    );
    replay::write_config(dir.path(), replay::GATES, &config);
    let record = dir.path().join("run.json");
    let run = |token: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_shipgate"));
        cmd.env_remove("GITHUB_ACTIONS") // not a step of its own: no annotations
            .env_remove("GITHUB_OUTPUT");
        cmd.args(["--repo", &dir.path().display().to_string(), "canary", "run"])
            .args(["--env", "prod", "--replay"])
            .arg(fixture("healthy.json"))
            .arg("--record")
            .arg(&record)
            .env_remove("GITHUB_STEP_SUMMARY")
            .env_remove("SHIPGATE_TEST_HOOK_TOKEN");
        if let Some(token) = token {
            cmd.env("SHIPGATE_TEST_HOOK_TOKEN", token);
        }
        cmd.output().expect("runs")
    };
    // Unset: refused before any event (no traffic moves).
    let out = run(None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`SHIPGATE_TEST_HOOK_TOKEN`, which is not set"),
        "{stderr}"
    );
    assert!(events.all().is_empty());
    // Set: every event carries it; the recording holds the gates only (no actuator
    // settings), so neither the token nor its variable is in it.
    let out = run(Some("t0ken-abc"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let auth = events.authorizations();
    assert_eq!(auth.len(), 6);
    assert!(
        auth.iter()
            .all(|a| a.as_deref() == Some("Bearer t0ken-abc")),
        "{auth:?}"
    );
    let recorded = std::fs::read_to_string(&record).expect("recording");
    assert!(recorded.contains("\"steps\""), "{recorded}");
    assert!(!recorded.contains("SHIPGATE_TEST_HOOK_TOKEN"), "{recorded}");
    assert!(!recorded.contains("t0ken-abc"));
}

#[test]
fn webhook_a_regression_is_rolled_back() {
    let (url, events) = hook::start(|_| 204);
    let dir = tempfile::tempdir().expect("temp dir");
    replay::write_config(dir.path(), replay::GATES, &hook::config(&url));
    let (out, _) = replay::run(dir.path(), "error-regression.json", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        events.lines(),
        ["confirm 10", "set-weight 10", "rollback 0"]
    );
    assert_eq!(events.all()[2]["step"], serde_json::Value::Null);
}

#[test]
fn webhook_a_refused_confirmation_halts_the_rollout() {
    let (url, events) = hook::start(|e| {
        if e["event"] == "confirm" && e["weight"] == 50 {
            409
        } else {
            200
        }
    });
    let dir = tempfile::tempdir().expect("temp dir");
    replay::write_config(dir.path(), replay::GATES, &hook::config(&url));
    let (out, _) = replay::run(dir.path(), "healthy.json", &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("paused: the webhook did not confirm step 2 (weight 50%): HTTP 409"),
        "{stdout}"
    );
    assert_eq!(
        events.lines(),
        ["confirm 10", "set-weight 10", "confirm 50"]
    );
}

#[test]
fn webhook_a_failing_rollback_is_retried_and_reported_loudly() {
    let (url, events) = hook::start(|e| if e["event"] == "rollback" { 503 } else { 200 });
    let dir = tempfile::tempdir().expect("temp dir");
    replay::write_config(dir.path(), replay::GATES, &hook::config(&url));
    let (out, _) = replay::run(dir.path(), "error-regression.json", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("rollback failed after 3 attempt(s): `POST http://127.0.0.1:"),
        "{stderr}"
    );
    assert!(stderr.contains("HTTP 503: nope"), "{stderr}");
    assert_eq!(
        events.lines(),
        [
            "confirm 10",
            "set-weight 10",
            "rollback 0",
            "rollback 0",
            "rollback 0"
        ]
    );
}

#[test]
fn exactly_one_actuator_must_be_configured() {
    let dir = tempfile::tempdir().expect("temp dir");
    replay::write_config(dir.path(), replay::GATES, "");
    let (out, _) = replay::run(dir.path(), "healthy.json", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no actuator in the configuration"),
        "{stderr}"
    );

    let both = format!(
        "{}\n[canary.command]\nset-weight = \"true\"\npromote = \"true\"\nrollback = \"true\"\n",
        hook::config("http://127.0.0.1:9/")
    );
    replay::write_config(dir.path(), replay::GATES, &both);
    let (out, _) = replay::run(dir.path(), "healthy.json", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("several actuators are set ([canary.command], [canary.webhook])"),
        "{stderr}"
    );
}

/// `canary run` with `[promote]`: the environment is held while the canary runs, and the
/// verdict is recorded in the ledger; a failed canary's rollback is recorded (and the version
/// blocked) through the same code as `shipgate rollback`; a run killed with SIGKILL leaves a
/// stale hold that the next command rolls back first.
mod ledger {
    use super::*;

    pub use super::git_repo::Repo;

    /// A repository whose prod runs 1.3.2 (promoted and pushed), with 1.4.0 released and
    /// promoted too: the canary of 1.4.0 is what the deploy job runs next. `head` goes in
    /// `[canary]`; the actuator logs to the returned file.
    pub fn platform(prometheus: u16, head: &str) -> (Repo, tempfile::TempDir, PathBuf) {
        let (repo, origin, log) = released(prometheus, head);
        let out = shipgate(&repo, &["promote", "1.4.0", "--to", "prod", "--push"], NOW);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (repo, origin, log)
    }

    /// The same platform with 1.4.0 released but not promoted yet: prod runs 1.3.2.
    pub fn released(prometheus: u16, head: &str) -> (Repo, tempfile::TempDir, PathBuf) {
        let repo = Repo::new();
        let envs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../environments");
        for name in ["base.toml", "prod.toml", "schema.json"] {
            let text = std::fs::read_to_string(envs.join(name)).expect("environments/");
            repo.write(&format!("environments/{name}"), &text);
        }
        let log = repo.path("../actuator.log");
        let toml = format!(
            "[environments]\norder = [\"prod\"]\n\n[promote]\nversion-key = \"service.image.tag\"\nlock-timeout = \"1m\"\n\n\
             [canary]\n{head}\n\n[canary.prometheus]\nurl = \"http://127.0.0.1:{prometheus}\"\ntimeout = \"5s\"\nretries = 0\n\n\
             [canary.command]\nset-weight = \"echo set-weight {{{{weight}}}} >> {log}\"\npromote = \"echo promote {{{{version}}}} >> {log}\"\n\
             rollback = \"echo rollback {{{{version}}}} to {{{{baseline_version}}}} >> {log}\"\n\n{}",
            error_metric(""),
            log = log.display()
        );
        repo.write("shipgate.toml", &toml);
        repo.commit("feat: the storefront");
        repo.tag("v1.3.2");
        repo.commit("feat(cart): save for later");
        repo.tag("v1.4.0");
        let origin = tempfile::tempdir().expect("tempdir");
        let bare = origin.path().join("origin.git").display().to_string();
        repo.git(&["clone", "-q", "--bare", ".", &bare]);
        repo.git(&["remote", "add", "origin", &bare]);
        repo.git(&["fetch", "-q", "origin"]);
        let out = shipgate(&repo, &["promote", "1.3.2", "--to", "prod", "--push"], NOW);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (repo, origin, log)
    }

    pub const NOW: &str = "2026-12-01T10:00:00Z";

    pub fn command(repo: &Repo, args: &[&str], now: &str) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_shipgate"));
        c.env_remove("GITHUB_ACTIONS") // not a step of its own: no annotations
            .env_remove("GITHUB_OUTPUT");
        c.args(["--repo", &repo.dir.display().to_string()])
            .args(args)
            .env("SHIPGATE_NOW", now)
            .env("GITHUB_ACTOR", "deploy-bot")
            .env("NO_COLOR", "1")
            .env_remove("GITHUB_STEP_SUMMARY")
            .env_remove("GITHUB_TOKEN");
        c
    }

    pub fn shipgate(repo: &Repo, args: &[&str], now: &str) -> Output {
        command(repo, args, now).output().expect("runs")
    }

    pub fn canary(repo: &Repo, now: &str) -> Command {
        command(
            repo,
            &[
                "canary",
                "run",
                "--env",
                "prod",
                "--canary-version",
                "1.4.0",
                "--baseline-version",
                "1.3.2",
            ],
            now,
        )
    }

    /// `history --json` entries as (kind, version, from).
    pub fn history(repo: &Repo) -> Vec<(String, String, String)> {
        let out = shipgate(repo, &["--json", "history", "--limit", "0"], NOW);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        v["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| {
                let s = |k: &str| e[k].as_str().unwrap_or("").to_string();
                (s("kind"), s("version"), s("from"))
            })
            .collect()
    }

    pub fn origin(repo: &Repo, origin: &tempfile::TempDir, args: &[&str]) -> std::process::Output {
        let bare = origin.path().join("origin.git").display().to_string();
        let mut all = vec!["-C", bare.as_str()];
        all.extend_from_slice(args);
        repo.git_output(&all)
    }
}

fn entry(kind: &str, version: &str, from: &str) -> (String, String, String) {
    (kind.into(), version.into(), from.into())
}

#[test]
fn live_a_failed_canary_is_recorded_rolled_back_and_blocked_in_the_ledger() {
    let target = Target::start(rates(100.0, 0.2, false), rates(100.0, 0.01, false));
    let prom = Prometheus::start(&target);
    let (repo, origin, log) = ledger::platform(prom.port, FAST);
    let out = ledger::canary(&repo, ledger::NOW).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        live::log(&log),
        ["set-weight 50", "rollback 1.4.0 to 1.3.2"],
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "ledger: rollback of prod from 1.4.0 to 1.3.2 recorded, 1.4.0 blocked (pushed)"
        ),
        "{stderr}"
    );
    assert_eq!(
        ledger::history(&repo)[..3],
        [
            entry("block", "1.4.0", ""),
            entry("rollback", "1.3.2", "1.4.0"),
            entry("verification", "1.4.0", ""),
        ]
    );
    // The failed verdict is the evidence, in the ledger on origin.
    let message = ledger::origin(
        &repo,
        &origin,
        &["log", "-3", "--format=%B", "refs/shipgate/ledger"],
    );
    let message = String::from_utf8_lossy(&message.stdout);
    assert!(message.contains("\"source\":\"canary\""), "{message}");
    assert!(message.contains("\"metric\":\"error-rate\""), "{message}");
    // The desired state is back on 1.3.2; the hold is released.
    let file = ledger::origin(&repo, &origin, &["show", "main:environments/prod.toml"]);
    assert!(String::from_utf8_lossy(&file.stdout).contains("tag = \"1.3.2\""));
    let hold = ledger::origin(
        &repo,
        &origin,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "refs/shipgate/locks/prod",
        ],
    );
    assert_ne!(hold.status.code(), Some(0), "the hold is released");
    // And 1.4.0 may not come back until unblocked.
    let again = ledger::shipgate(
        &repo,
        &["--json", "promote", "1.4.0", "--to", "prod", "--dry-run"],
        ledger::NOW,
    );
    let v: serde_json::Value = serde_json::from_slice(&again.stdout).expect("json");
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(v["gates"][3]["name"], "blocked");
    assert_eq!(v["gates"][3]["passed"], false);
}

#[test]
fn live_a_healthy_canary_records_its_passing_verdict() {
    let target = Target::start(rates(100.0, 0.01, false), rates(100.0, 0.01, false));
    let prom = Prometheus::start(&target);
    let (repo, _origin, log) = ledger::platform(prom.port, FAST);
    let out = ledger::canary(&repo, ledger::NOW).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(live::log(&log), ["set-weight 50", "promote 1.4.0"]);
    assert_eq!(
        ledger::history(&repo)[0],
        entry("verification", "1.4.0", "")
    );
    let status = ledger::shipgate(&repo, &["--json", "status"], ledger::NOW);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).expect("json");
    assert_eq!(v["environments"][0]["verified"], true, "{v:#}");
    assert_eq!(v["environments"][0]["lock"], "free");
}

#[test]
fn live_a_killed_canary_s_stale_hold_is_rolled_back_by_the_next_run() {
    let target = Target::start(rates(100.0, 0.01, false), rates(100.0, 0.01, false));
    let prom = Prometheus::start(&target);
    let slow = "steps = [{ weight = 50, hold = \"5m\" }, { weight = 100 }]\ninterval = \"3s\"\nmax-duration = \"10m\"";
    let (repo, origin, log) = ledger::platform(prom.port, slow);
    let mut child = ledger::canary(&repo, ledger::NOW)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("starts");
    let waited = std::time::Instant::now();
    while live::log(&log).is_empty() {
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(20),
            "no set-weight"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // SIGKILL: no handler runs, traffic stays on the canary, the hold stays on origin.
    child.kill().expect("kill");
    child.wait().expect("reaped");
    assert_eq!(live::log(&log), ["set-weight 50"]);
    let held = ledger::origin(
        &repo,
        &origin,
        &["rev-parse", "--verify", "refs/shipgate/locks/prod"],
    );
    assert_eq!(held.status.code(), Some(0), "the dead run's hold is there");

    // While it is fresh, another canary is refused; once stale, status says so loudly.
    let busy = ledger::canary(&repo, ledger::NOW).output().expect("runs");
    assert_eq!(busy.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&busy.stderr).contains("prod is held: a canary of 1.4.0"));
    let later = "2026-12-01T10:05:00Z";
    let status = ledger::shipgate(&repo, &["status"], later);
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        text.contains("prod: STALE HOLD: a canary of 1.4.0"),
        "{text}"
    );

    // The next command for prod rolls the dead canary back through the actuator first and
    // records it (the rollback blocks 1.4.0, so this promotion is then refused).
    let _ = std::fs::remove_file(&log);
    let out = ledger::shipgate(
        &repo,
        &["promote", "1.4.0", "--to", "prod", "--push"],
        later,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("prod was held by a canary of 1.4.0"),
        "{stderr}"
    );
    assert_eq!(live::log(&log), ["rollback 1.4.0 to 1.3.2"], "{stderr}");
    assert_eq!(
        out.status.code(),
        Some(1),
        "refused: blocked by the recorded rollback"
    );
    assert_eq!(
        ledger::history(&repo)[..2],
        [
            entry("block", "1.4.0", ""),
            entry("rollback", "1.3.2", "1.4.0")
        ],
        "the stale canary's rollback is recorded"
    );
    let hold = ledger::origin(
        &repo,
        &origin,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "refs/shipgate/locks/prod",
        ],
    );
    assert_ne!(hold.status.code(), Some(0), "the stale hold is released");
}

#[test]
fn a_canary_of_a_version_that_is_not_the_latest_promotion_is_refused_before_traffic_moves() {
    // Nothing listens on the port: the refusal comes before any query.
    let (repo, _origin, log) = ledger::released(live::free_port(), FAST);
    let out = ledger::shipgate(
        &repo,
        &[
            "canary",
            "run",
            "--env",
            "prod",
            "--canary-version",
            "1.4.0",
        ],
        ledger::NOW,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the canary's version 1.4.0 is not prod's latest promotion (1.3.2"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: promote it first (shipgate promote 1.4.0 --to prod)"),
        "{stderr}"
    );
    // 1.3.2 is the first promotion into prod: nothing to judge it against unless given.
    let out = ledger::shipgate(&repo, &["canary", "run", "--env", "prod"], ledger::NOW);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("1.3.2 is the first version promoted into prod"),
        "{stderr}"
    );
    assert!(live::log(&log).is_empty(), "no traffic moved");
    assert!(
        ledger::history(&repo)
            .iter()
            .all(|(kind, _, _)| kind == "promotion"),
        "nothing recorded"
    );
}

/// The deploy job's steps, exactly as `.github/scripts/deploy.sh` runs them in
/// deploy-environment.yml: validate → promote --push → the deploy hook → canary run, against
/// a repository with a bare origin and a real Prometheus.
mod deploy {
    use super::*;

    pub struct Job {
        pub out: Output,
        pub hook_log: PathBuf,
        pub summary: String,
    }

    /// `deploy.sh` for prod and `version`, in the repository, as the workflow runs it.
    pub fn command(repo: &ledger::Repo, version: &str, hook: &str) -> Command {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.github/scripts/deploy.sh");
        let mut c = Command::new("bash");
        c.arg(&script)
            .current_dir(&repo.dir)
            .env("SHIPGATE", env!("CARGO_BIN_EXE_shipgate"))
            .env("DEPLOY_ENVIRONMENT", "prod")
            .env("DEPLOY_VERSION", version)
            .env("DEPLOY_HOOK", hook)
            .env("EVIDENCE_DIR", repo.path("../evidence"))
            .env("SHIPGATE_NOW", ledger::NOW)
            .env("GITHUB_ACTOR", "deploy-bot")
            .env("NO_COLOR", "1")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("GITHUB_STEP_SUMMARY")
            .env_remove("GITHUB_OUTPUT")
            .env_remove("GITHUB_TOKEN");
        c
    }

    /// The job for 1.4.0 in Actions: its step summary is read back.
    pub fn run(repo: &ledger::Repo, hook: &str) -> Job {
        let hook_log = repo.path("../hook.log");
        let summary = repo.path("../summary.md");
        let out = command(repo, "1.4.0", hook)
            .env("HOOK_LOG", &hook_log)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_STEP_SUMMARY", &summary)
            .output()
            .expect("bash runs deploy.sh");
        Job {
            out,
            hook_log,
            summary: std::fs::read_to_string(&summary).unwrap_or_default(),
        }
    }

    /// The hook applies the desired state: it logs what it was given.
    pub const HOOK: &str =
        r#"printf 'apply %s %s\n' "$DEPLOY_ENVIRONMENT" "$DEPLOY_VERSION" >> "$HOOK_LOG""#;

    pub fn on_origin(repo: &ledger::Repo, origin: &tempfile::TempDir, what: &[&str]) -> String {
        String::from_utf8_lossy(&ledger::origin(repo, origin, what).stdout).into_owned()
    }
}

#[test]
fn deploy_job_a_bad_canary_is_rolled_back_recorded_and_the_job_fails() {
    let target = Target::start(rates(100.0, 0.2, false), rates(100.0, 0.01, false));
    let prom = Prometheus::start(&target);
    let (repo, origin, log) = ledger::released(prom.port, FAST);
    let job = deploy::run(&repo, deploy::HOOK);
    let stderr = String::from_utf8_lossy(&job.out.stderr);
    assert_eq!(job.out.status.code(), Some(1), "{stderr}");
    assert_eq!(live::log(&job.hook_log), ["apply prod 1.4.0"], "{stderr}");
    // The baseline is the version the promotion replaced, as the ledger recorded it.
    assert_eq!(
        live::log(&log),
        ["set-weight 50", "rollback 1.4.0 to 1.3.2"],
        "{stderr}"
    );
    assert_eq!(
        ledger::history(&repo)[..4],
        [
            entry("block", "1.4.0", ""),
            entry("rollback", "1.3.2", "1.4.0"),
            entry("verification", "1.4.0", ""),
            entry("promotion", "1.4.0", "1.3.2"),
        ]
    );
    // All of it is on origin: the ledger and the desired state back on 1.3.2.
    let kinds = deploy::on_origin(
        &repo,
        &origin,
        &["log", "-4", "--format=%s", "refs/shipgate/ledger"],
    );
    assert_eq!(kinds.lines().count(), 4, "{kinds}");
    let file = deploy::on_origin(&repo, &origin, &["show", "main:environments/prod.toml"]);
    assert!(file.contains("tag = \"1.3.2\""), "{file}");
    assert!(
        job.summary.contains("ROLLED BACK"),
        "the report is in the step summary: {}",
        job.summary
    );
    assert!(repo.path("../evidence/recording.json").exists());
}

#[test]
fn deploy_job_a_good_canary_completes_and_its_verdict_is_on_origin() {
    let target = Target::start(rates(100.0, 0.01, false), rates(100.0, 0.01, false));
    let prom = Prometheus::start(&target);
    let (repo, origin, log) = ledger::released(prom.port, FAST);
    let job = deploy::run(&repo, deploy::HOOK);
    let stderr = String::from_utf8_lossy(&job.out.stderr);
    assert_eq!(job.out.status.code(), Some(0), "{stderr}");
    assert_eq!(live::log(&log), ["set-weight 50", "promote 1.4.0"]);
    assert_eq!(
        ledger::history(&repo)[..2],
        [
            entry("verification", "1.4.0", ""),
            entry("promotion", "1.4.0", "1.3.2"),
        ]
    );
    let tip = deploy::on_origin(
        &repo,
        &origin,
        &["log", "-1", "--format=%B", "refs/shipgate/ledger"],
    );
    assert!(tip.contains("\"result\":\"pass\""), "{tip}");
    let file = deploy::on_origin(&repo, &origin, &["show", "main:environments/prod.toml"]);
    assert!(file.contains("tag = \"1.4.0\""), "{file}");
}

#[test]
fn deploy_job_re_run_after_a_failed_hook_promotes_once() {
    let target = Target::start(rates(100.0, 0.01, false), rates(100.0, 0.01, false));
    let prom = Prometheus::start(&target);
    let (repo, _origin, log) = ledger::released(prom.port, FAST);
    // The hook fails (the cluster was unreachable): the promotion landed, no traffic moved.
    let job = deploy::run(&repo, "exit 7");
    assert_eq!(job.out.status.code(), Some(7));
    assert!(live::log(&log).is_empty());
    // "Re-run failed jobs": the ledger says 1.4.0 runs in prod; the job goes on from there.
    let job = deploy::run(&repo, deploy::HOOK);
    let stderr = String::from_utf8_lossy(&job.out.stderr);
    assert_eq!(job.out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("1.4.0 already runs in prod"), "{stderr}");
    let promotions = ledger::history(&repo)
        .into_iter()
        .filter(|(kind, version, _)| kind == "promotion" && version == "1.4.0")
        .count();
    assert_eq!(promotions, 1);
}

#[test]
fn deploy_job_with_a_hostile_version_stops_before_anything_moves() {
    let (repo, _origin, log) = ledger::released(live::free_port(), FAST);
    for hostile in ["1.4.0;touch pwned", "$(touch pwned)", "`touch pwned`"] {
        let job = deploy::command(&repo, hostile, "touch hook-ran")
            .output()
            .expect("bash runs deploy.sh");
        assert_ne!(job.status.code(), Some(0), "{hostile}");
        assert!(!repo.path("pwned").exists(), "{hostile} was executed");
        assert!(!repo.path("hook-ran").exists(), "{hostile}: the hook ran");
    }
    assert!(live::log(&log).is_empty());
}

fn pod_metric() -> String {
    let q = |metric: &str, v: &str| {
        format!("sum by (pod) (increase({metric}{{version=\"{{{{{v}}}}}\"}}[{{{{interval}}}}]))")
    };
    format!(
        "[[canary.metrics]]\nname = \"error-rate\"\nkind = \"counts\"\nmin-requests = 100\nmin-intervals = 2\npod-label = \"pod\"\n\
         canary = {{ errors = '{}', requests = '{}' }}\nbaseline = {{ errors = '{}', requests = '{}' }}\n",
        q("http_errors_total", "version"),
        q("http_requests_total", "version"),
        q("http_errors_total", "baseline_version"),
        q("http_requests_total", "baseline_version"),
    )
}

#[test]
fn live_per_pod_series_are_judged_recorded_and_replayed() {
    // The canary on two pods, the baseline on three, each pod its own series.
    let target = Target::pods(vec![
        ("1.4.0", rates(100.0, 0.01, false), 2),
        ("1.3.2", rates(150.0, 0.01, false), 3),
    ]);
    let prom = Prometheus::start(&target);
    let (dir, log) = live::repo(prom.port, FAST, &pod_metric());
    let (_, _, record) = promoted_and_recorded(dir.path(), &log);
    let text = std::fs::read_to_string(&record).expect("recording");
    let recording: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(recording["format"], "shipgate-canary-recording/2");
    let pods = recording["intervals"]
        .as_array()
        .expect("intervals")
        .iter()
        .find_map(|i| i["metrics"]["error-rate"]["by_pod"].as_object().cloned())
        .expect("a per-pod interval");
    let names = |side: &str| -> Vec<String> {
        pods[side]
            .as_object()
            .map_or(Vec::new(), |m| m.keys().cloned().collect())
    };
    assert_eq!(names("canary"), ["1.4.0-0", "1.4.0-1"], "{text}");
    assert_eq!(
        names("baseline"),
        ["1.3.2-0", "1.3.2-1", "1.3.2-2"],
        "{text}"
    );

    // A regression on the canary's pods is rolled back.
    let target = Target::pods(vec![
        ("1.4.0", rates(100.0, 0.2, false), 2),
        ("1.3.2", rates(150.0, 0.01, false), 3),
    ]);
    let prom = Prometheus::start(&target);
    let (dir, log) = live::repo(prom.port, FAST, &pod_metric());
    live::rolled_back(dir.path(), &log, &[]);
}

#[test]
fn live_a_failed_canary_reaches_slack_with_its_metric_values_and_bound() {
    let slack = shipgate_notify::testing::FakeServer::slack();
    let target = Target::start(rates(100.0, 0.2, false), rates(100.0, 0.01, false));
    let prom = Prometheus::start(&target);
    let notify = format!(
        "\n[[notify]]\nkind = \"slack\"\nurl = \"{}\"\ntoken-env = \"SHIPGATE_TEST_SLACK_TOKEN\"\nchannel = \"#ops-alerts\"\n",
        slack.url("/api")
    );
    let metric = error_metric("") + "threshold = 0.05\n" + &notify;
    let (dir, log) = live::repo(prom.port, FAST, &metric);
    let out = live::run(dir.path(), &[])
        .env("SHIPGATE_TEST_SLACK_TOKEN", "xoxb-test-token")
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(
        live::log(&log),
        ["set-weight 50", "rollback 1.4.0"],
        "{stderr}"
    );
    let posts: Vec<serde_json::Value> = slack.requests().iter().map(|r| r.json()).collect();
    assert!(posts.len() >= 2, "{posts:#?}");
    assert_eq!(
        posts[0]["blocks"][0]["text"]["text"],
        "ℹ️ Canary 1.4.0 started in prod"
    );
    assert!(posts[0]["thread_ts"].is_null());
    let verdict = posts.last().expect("the verdict");
    let text = verdict.to_string();
    assert!(
        verdict["blocks"][0]["text"]["text"].as_str().is_some_and(
            |t| t.starts_with("🚨 Canary 1.4.0 failed in prod at step 1 of 2 (50 % traffic)")
        ),
        "{verdict:#}"
    );
    // In the run's thread, and shown in the channel too.
    assert_eq!(verdict["thread_ts"], "1700000000.000001");
    assert_eq!(verdict["reply_broadcast"], true);
    // What decided: the metric, the canary's and the baseline's values, the bound.
    assert!(text.contains("*Metric*\\nerror-rate"), "{text}");
    assert!(
        text.contains("error-rate: canary 0.1") || text.contains("error-rate: canary 0.2"),
        "{text}"
    );
    assert!(text.contains(", baseline 0.0"), "{text}");
    assert!(text.contains("*Bound*\\n0.05"), "{text}");
}

#[test]
fn live_a_failed_canary_s_recording_makes_a_review_with_its_evidence() {
    let target = Target::start(rates(100.0, 0.2, false), rates(100.0, 0.01, false));
    let prom = Prometheus::start(&target);
    let (repo, _origin, _log) = ledger::platform(prom.port, FAST);
    let file = repo.path("../canary-1.4.0.json");
    let record = file.display().to_string();
    let out = ledger::canary(&repo, ledger::NOW)
        .args(["--record", &record])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let review = ledger::shipgate(
        &repo,
        &["review", "--env", "prod", "--recording", &record],
        ledger::NOW,
    );
    let draft = String::from_utf8_lossy(&review.stdout);
    assert_eq!(
        review.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&review.stderr)
    );
    for needle in [
        "# Post-incident review: 1.4.0 rolled back in prod\n",
        "- Version restored: 1.3.2\n",
        ": canary verdict on 1.4.0: FAIL, recorded by deploy-bot (canary: fail at ",
        ", metric error-rate, rule: ",
        "## Canary evidence\n",
        "| error-rate | counts | ",
        "## Impact (estimate)\n",
        "Requests served by the canary while it ran (estimate): ",
        // The verdict and the rollback are recorded when they happen: a few seconds apart.
        "- Time to restore (failing verdict → rollback): ",
        "- Recovery time objective: 5m: within RTO (5m)",
    ] {
        assert!(draft.contains(needle), "`{needle}` not in\n{draft}");
    }
    assert!(!draft.contains("no recording given"), "{draft}");
    assert!(!draft.contains("rollback): unknown"), "{draft}");
    let row = draft
        .lines()
        .find(|l| l.starts_with("| error-rate | ") && !l.contains("counts"))
        .unwrap_or_else(|| panic!("the impact row in\n{draft}"));
    // canary requests, canary errors, baseline share, excess errors: all numbers
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    assert!(cells[2].parse::<f64>().is_ok_and(|n| n > 0.0), "{row}");
    assert!(cells[3].parse::<f64>().is_ok(), "{row}");
    assert!(cells[4].ends_with(" %"), "{row}");
    assert!(cells[5].parse::<f64>().is_ok_and(|n| n > 0.0), "{row}");

    // The verdict counts in the delivery metrics, for a scraper, with its time to decision.
    // An hour later: the verdict is stamped when it happened, after the run's start.
    let metrics = ledger::shipgate(
        &repo,
        &["metrics", "--format", "prometheus"],
        "2026-12-01T11:00:00Z",
    );
    let text = String::from_utf8_lossy(&metrics.stdout).into_owned();
    assert!(
        text.lines()
            .any(|l| l == "shipgate_canary_failures_total{environment=\"prod\"} 1"),
        "{text}"
    );
    let decision = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("shipgate_canary_decision_median_seconds{environment=\"prod\"} ")
        })
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("the time to decision in\n{text}"));
    assert!(decision > 0.0, "{text}");
    let mut promtool = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool runs (Debian's prometheus package)");
    std::io::Write::write_all(&mut promtool.stdin.take().expect("stdin"), text.as_bytes())
        .expect("write");
    let checked = promtool.wait_with_output().expect("promtool");
    assert!(
        checked.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );

    // The status page's canary report, from the same recording.
    let recordings = repo.path("../recordings");
    std::fs::create_dir(&recordings).expect("mkdir");
    std::fs::copy(&file, recordings.join("canary-1.4.0.json")).expect("copy");
    let site = repo.path("../site");
    let page = ledger::shipgate(
        &repo,
        &[
            "page",
            "--out",
            &site.display().to_string(),
            "--recordings",
            &recordings.display().to_string(),
        ],
        ledger::NOW,
    );
    assert_eq!(
        page.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&page.stderr)
    );
    let report = std::fs::read_to_string(site.join("canaries/report-1.html")).expect("report");
    assert!(
        report.contains("<h1>Canary of 1.4.0 in prod</h1>"),
        "{report}"
    );
    assert!(site.join("canaries/report-1/error-rate.svg").is_file());
    let list = std::fs::read_to_string(site.join("canaries/index.html")).expect("list");
    assert!(list.contains("failed, rolled back"), "{list}");
    assert!(
        list.contains("<a href=\"report-1.html\">report</a>"),
        "{list}"
    );
}
