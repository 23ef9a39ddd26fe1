//! End-to-end tests of the CloudWatch provider, the alarm gates and the AWS credential
//! chain: the real binary against moto's standalone server (`moto_server`, started on a free
//! loopback port, waited on by polling, killed on drop), with data and alarms put there
//! through CloudWatch's query API as a test's own client; and against a small local server
//! answering like CloudWatch does when it throttles or denies.

#[path = "support/git_repo.rs"]
mod git_repo;
#[path = "support/moto.rs"]
mod moto;
#[path = "support/prometheus.rs"]
mod prometheus;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime};

const REGION: &str = "eu-west-1";

use moto::http;
use prometheus::free_port;

/// RFC 3339 UTC with milliseconds.
fn rfc3339(t: SystemTime) -> String {
    let d = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970");
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(d.as_nanos() as i128).expect("time");
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        at.millisecond()
    )
}

/// moto's standalone server; killed on drop.
struct Moto {
    api: Api,
    child: Child,
}

impl std::ops::Deref for Moto {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

/// CloudWatch's query API at a port (moto checks no signature; the scope names the service
/// and the region).
#[derive(Clone, Copy)]
struct Api {
    port: u16,
}

impl Moto {
    fn start() -> Moto {
        let port = free_port();
        Moto {
            api: Api { port },
            child: moto::spawn(port),
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Api {
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// One call.
    fn call(&self, params: &[(&str, String)]) -> String {
        moto::query(self.port, REGION, "monitoring", "2010-08-01", params)
    }

    fn put_alarm(&self, name: &str) {
        self.call(&[
            ("Action", "PutMetricAlarm".into()),
            ("AlarmName", name.into()),
            ("MetricName", "CPUUtilization".into()),
            ("Namespace", "AWS/ECS".into()),
            ("Statistic", "Average".into()),
            ("Period", "60".into()),
            ("EvaluationPeriods", "1".into()),
            ("Threshold", "80".into()),
            ("ComparisonOperator", "GreaterThanThreshold".into()),
        ]);
    }

    fn set_alarm(&self, name: &str, state: &str) {
        self.call(&[
            ("Action", "SetAlarmState".into()),
            ("AlarmName", name.into()),
            ("StateValue", state.into()),
            ("StateReason", format!("test set {state}")),
        ]);
    }

    /// Puts one datapoint per metric of `points` now.
    fn put(&self, points: &[(&str, &str, f64)]) {
        let now = rfc3339(SystemTime::now());
        let mut params = vec![
            ("Action", "PutMetricData".to_string()),
            ("Namespace", "AWS/ApplicationELB".to_string()),
        ];
        let mut keys = Vec::new();
        for (i, (metric, tg, value)) in points.iter().enumerate() {
            let m = format!("MetricData.member.{}", i + 1);
            keys.push((format!("{m}.MetricName"), metric.to_string()));
            keys.push((format!("{m}.Value"), value.to_string()));
            keys.push((format!("{m}.Timestamp"), now.clone()));
            keys.push((
                format!("{m}.Dimensions.member.1.Name"),
                "TargetGroup".into(),
            ));
            keys.push((format!("{m}.Dimensions.member.1.Value"), tg.to_string()));
        }
        let owned: Vec<(String, String)> = keys;
        let all: Vec<(&str, String)> = params
            .drain(..)
            .chain(owned.iter().map(|(k, v)| (k.as_str(), v.clone())))
            .collect();
        self.call(&all);
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Per-second traffic of one target group.
#[derive(Clone, Copy)]
struct Traffic {
    rps: f64,
    error_share: f64,
    latency: f64,
}

const HEALTHY: Traffic = Traffic {
    rps: 200.0,
    error_share: 0.0,
    latency: 0.3,
};

/// Puts ALB metrics for the canary and the baseline target groups into moto five times a
/// second until dropped.
struct Feeder {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Feeder {
    fn start(moto: &Moto, canary: Traffic, baseline: Traffic) -> Feeder {
        let stop = Arc::new(AtomicBool::new(false));
        let api = moto.api;
        let flag = stop.clone();
        let feed = move |api: &Api| {
            let mut points = Vec::new();
            for (tg, t) in [("tg-canary", canary), ("tg-baseline", baseline)] {
                let requests = t.rps / 5.0;
                points.push(("RequestCount", tg, requests));
                points.push(("HTTPCode_Target_5XX_Count", tg, requests * t.error_share));
                points.push(("TargetResponseTime", tg, t.latency));
            }
            api.put(&points);
        };
        // One batch now, so that the first windows have data.
        feed(&api);
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::SeqCst) {
                if http(api.port, "GET", &[], "").is_none() {
                    return;
                }
                feed(&api);
                std::thread::sleep(Duration::from_millis(200));
            }
        });
        Feeder {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Feeder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The queries of the platform's ALB metrics for both target groups, and the error-rate and
/// latency metrics over them.
fn queries_and_metrics(latency_stat: &str) -> String {
    let mut out = String::new();
    for side in ["canary", "baseline"] {
        for (id, metric, stat) in [
            ("requests", "RequestCount", "Sum"),
            ("errors", "HTTPCode_Target_5XX_Count", "Sum"),
            ("latency", "TargetResponseTime", latency_stat),
        ] {
            out.push_str(&format!(
                "[canary.cloudwatch.queries.{side}_{id}]\nnamespace = \"AWS/ApplicationELB\"\nmetric-name = \"{metric}\"\ndimensions = {{ TargetGroup = \"tg-{side}\" }}\nstat = \"{stat}\"\n\n"
            ));
        }
    }
    out.push_str(
        "[[canary.metrics]]\nname = \"error-rate\"\nkind = \"counts\"\nthreshold = 0.001\nmin-requests = 100\nmin-intervals = 2\n\
         canary = { errors = \"canary_errors\", requests = \"canary_requests\" }\n\
         baseline = { errors = \"baseline_errors\", requests = \"baseline_requests\" }\n\n\
         [[canary.metrics]]\nname = \"latency\"\nkind = \"latency\"\nthreshold = 2.0\ntolerance = 0.2\nmin-intervals = 2\n\
         canary = { value = \"canary_latency\" }\nbaseline = { value = \"baseline_latency\" }\n",
    );
    out
}

const FAST: &str = "steps = [{ weight = 50, hold = \"3s\" }, { weight = 100 }]\ninterval = \"1s\"\nmax-duration = \"40s\"\nconsecutive-error-limit = 3";
const SLOW: &str = "steps = [{ weight = 50, hold = \"60s\" }, { weight = 100 }]\ninterval = \"1s\"\nmax-duration = \"90s\"\nconsecutive-error-limit = 3";

/// A directory with shipgate.toml: `head` in [canary], [canary.cloudwatch] at `endpoint`
/// (1 s resolution, 1 s delay, no retries), `extra` tables, a command actuator writing to
/// the returned log.
fn repo(endpoint: &str, head: &str, extra: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("actuator.log");
    let toml = format!(
        "[canary]\n{head}\n\n[canary.cloudwatch]\nregion = \"{REGION}\"\nendpoint-url = \"{endpoint}\"\nresolution = \"1s\"\ndelay = \"1s\"\ntimeout = \"5s\"\nretries = 0\n\n\
         [canary.command]\nset-weight = \"echo set-weight {{{{weight}}}} >> {log}\"\npromote = \"echo promote {{{{version}}}} >> {log}\"\n\
         rollback = \"echo rollback {{{{version}}}} >> {log}\"\n\n{extra}",
        log = log.display()
    );
    std::fs::write(dir.path().join("shipgate.toml"), toml).expect("write");
    (dir, log)
}

/// `canary run` in `dir` with static test credentials and nothing of the host's AWS setup.
fn run(dir: &Path) -> Command {
    let mut c = bare(dir);
    c.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing");
    c
}

/// `canary run` in `dir` with no AWS setting at all: no variables, no profile files, no
/// instance metadata.
fn bare(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shipgate"));
    c.args([
        "--repo",
        &dir.display().to_string(),
        "canary",
        "run",
        "--env",
        "prod",
    ])
    .args(["--canary-version", "1.4.0", "--baseline-version", "1.3.2"])
    .env_remove("GITHUB_STEP_SUMMARY");
    isolate(&mut c, dir);
    c
}

/// No AWS setting of the host reaches the child: no variables, no profile files, no
/// instance metadata.
fn isolate(c: &mut Command, dir: &Path) {
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            c.env_remove(k);
        }
    }
    c.env("AWS_CONFIG_FILE", dir.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true");
}

fn log(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts that the run ended rolled back (exit 1) after its first step; returns stdout.
fn rolled_back_by(out: &Output, log_path: &Path) -> String {
    let (stdout, stderr) = text(out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert_eq!(
        log(log_path),
        ["set-weight 50", "rollback 1.4.0"],
        "{stderr}"
    );
    stdout
}

/// Waits until `path` holds `line` (the actuator moved traffic), up to `secs`.
fn wait_for_line(path: &Path, line: &str, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !log(path).iter().any(|l| l == line) {
        assert!(
            Instant::now() < deadline,
            "no `{line}` in {}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn cloudwatch_a_healthy_canary_completes_every_step() {
    let moto = Moto::start();
    let _feed = Feeder::start(&moto, HEALTHY, HEALTHY);
    // The canary's requests through a metric-math expression over the metric-stat query
    // (sent with it, its own data not returned); moto evaluates an expression that names
    // one query.
    let metrics = queries_and_metrics("Average").replace(
        "requests = \"canary_requests\"",
        "requests = \"canary_requests_math\"",
    ) + "\n[canary.cloudwatch.queries.canary_requests_math]\nexpression = \"canary_requests\"\n";
    let (dir, log_path) = repo(&moto.url(), FAST, &metrics);
    let out = run(dir.path()).arg("--json").output().expect("runs");
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert_eq!(
        log(&log_path),
        ["set-weight 50", "promote 1.4.0"],
        "{stderr}"
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let metrics = report["report"]["metrics"].as_array().expect("metrics");
    assert_eq!(
        metrics[0]["canary_requests"].as_f64().map(|n| n >= 100.0),
        Some(true),
        "{report}"
    );
    assert_eq!(metrics[1]["canary"].as_f64(), Some(0.3), "{report}");
}

/// A canary whose target group serves `canary` traffic (latency by `latency_stat`) is
/// rolled back after its first step; returns stdout.
fn rolled_back(canary: Traffic, latency_stat: &str) -> String {
    let moto = Moto::start();
    let _feed = Feeder::start(&moto, canary, HEALTHY);
    // Long enough a first step for the latency's sign test to gather its run of worse periods.
    let head = FAST.replace("hold = \"3s\"", "hold = \"20s\"");
    let (dir, log_path) = repo(&moto.url(), &head, &queries_and_metrics(latency_stat));
    let out = run(dir.path()).output().expect("runs");
    rolled_back_by(&out, &log_path)
}

#[test]
fn cloudwatch_an_error_rate_regression_is_rolled_back() {
    let stdout = rolled_back(
        Traffic {
            error_share: 0.2,
            ..HEALTHY
        },
        "Average",
    );
    assert!(
        stdout.contains("rolled back") && stdout.contains("error rate"),
        "{stdout}"
    );
}

#[test]
fn cloudwatch_a_latency_regression_against_the_slo_is_rolled_back() {
    // moto computes no percentiles; Maximum stands for the p95 a real CloudWatch answers.
    let stdout = rolled_back(
        Traffic {
            latency: 2.5,
            ..HEALTHY
        },
        "Maximum",
    );
    assert!(stdout.contains("p95 <= 2 (sign test)"), "{stdout}");
}

const ALARMS: &str =
    "[canary.alarms]\ncloudwatch = [\"shop-{{env}}-high-cpu\", \"shop-prod-db-connections\"]\n";

/// A canary with a long first step and the alarm gate of [`ALARMS`], started; returns once
/// traffic moved.
fn started_with_alarms(moto: &Moto) -> (tempfile::TempDir, PathBuf, Child) {
    let (dir, log_path) = repo(
        &moto.url(),
        SLOW,
        &format!("{}{ALARMS}", queries_and_metrics("Average")),
    );
    let child = run(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    wait_for_line(&log_path, "set-weight 50", 30);
    (dir, log_path, child)
}

#[test]
fn cloudwatch_an_alarm_going_off_mid_run_rolls_back_at_once() {
    let moto = Moto::start();
    moto.put_alarm("shop-prod-high-cpu");
    moto.put_alarm("shop-prod-db-connections");
    moto.set_alarm("shop-prod-high-cpu", "OK");
    moto.set_alarm("shop-prod-db-connections", "INSUFFICIENT_DATA");
    let _feed = Feeder::start(&moto, HEALTHY, HEALTHY);
    let (_dir, log_path, child) = started_with_alarms(&moto);
    let fired = Instant::now();
    moto.set_alarm("shop-prod-high-cpu", "ALARM");
    let out = child.wait_with_output().expect("ends");
    let took = fired.elapsed();
    let stdout = rolled_back_by(&out, &log_path);
    assert!(
        stdout.contains(
            "alarm gate: CloudWatch alarm `shop-prod-high-cpu` is in ALARM (test set ALARM)"
        ),
        "{stdout}"
    );
    // INSUFFICIENT_DATA (a new alarm's state) is not an alarm by default, and is shown.
    assert!(
        stdout.contains("INSUFFICIENT_DATA (not an alarm): shop-prod-db-connections"),
        "{stdout}"
    );
    assert!(
        took < Duration::from_secs(10),
        "rolled back {took:?} after the alarm"
    );
}

#[test]
fn cloudwatch_insufficient_data_counts_when_configured_and_unknown_alarms_never_pass() {
    let moto = Moto::start();
    moto.put_alarm("shop-prod-high-cpu");
    moto.set_alarm("shop-prod-high-cpu", "INSUFFICIENT_DATA");
    let _feed = Feeder::start(&moto, HEALTHY, HEALTHY);
    // An alarm without data: with insufficient-data = "alarm" nothing moves.
    let strict =
        "[canary.alarms]\ncloudwatch = [\"shop-prod-high-cpu\"]\ninsufficient-data = \"alarm\"\n";
    let (dir, log_path) = repo(
        &moto.url(),
        FAST,
        &format!("{}{strict}", queries_and_metrics("Average")),
    );
    let out = run(dir.path()).output().expect("runs");
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains("`shop-prod-high-cpu` is in INSUFFICIENT_DATA (test set INSUFFICIENT_DATA); no traffic was moved"),
        "{stderr}"
    );
    assert!(log(&log_path).is_empty());
    // An alarm that does not exist is an error, never a pass.
    let missing = "[canary.alarms]\ncloudwatch = [\"shop-prod-high-cpu\", \"shop-prod-nope\"]\n";
    let (dir, log_path) = repo(
        &moto.url(),
        FAST,
        &format!("{}{missing}", queries_and_metrics("Average")),
    );
    let out = run(dir.path()).output().expect("runs");
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains("no such CloudWatch alarm: `shop-prod-nope`"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: no traffic was moved"), "{stderr}");
    assert!(log(&log_path).is_empty());
    // Nor a prefix no alarm has.
    let prefix = "[canary.alarms]\ncloudwatch-prefix = \"checkout-\"\n";
    let (dir, _) = repo(
        &moto.url(),
        FAST,
        &format!("{}{prefix}", queries_and_metrics("Average")),
    );
    let (_, stderr) = text(&run(dir.path()).output().expect("runs"));
    assert!(
        stderr.contains("no such CloudWatch alarm: any starting with `checkout-`"),
        "{stderr}"
    );
}

#[test]
fn cloudwatch_stopped_mid_run_fails_safe() {
    let mut moto = Moto::start();
    moto.put_alarm("shop-prod-high-cpu");
    moto.put_alarm("shop-prod-db-connections");
    let feed = Feeder::start(&moto, HEALTHY, HEALTHY);
    let (_dir, log_path, child) = started_with_alarms(&moto);
    moto.stop();
    drop(feed);
    let out = child.wait_with_output().expect("ends");
    let stdout = rolled_back_by(&out, &log_path);
    assert!(
        stdout.contains("fail-safe") && stdout.contains("unreachable"),
        "{stdout}"
    );
}

#[test]
fn cloudwatch_a_metric_without_data_is_no_data_never_zero() {
    let moto = Moto::start();
    let _feed = Feeder::start(&moto, HEALTHY, HEALTHY);
    let requests = "[canary.cloudwatch.queries.canary_requests]\nnamespace = \"AWS/ApplicationELB\"\nmetric-name = \"RequestCount\"\ndimensions = { TargetGroup = \"tg-canary\" }";
    // A metric that was never published; dimensions that match nothing.
    for broken in [
        requests.replace("\"RequestCount\"", "\"RequestCnt\""),
        requests.replace(
            "TargetGroup = \"tg-canary\"",
            "TargetGroup = \"tg-canary\", LoadBalancer = \"app/other\"",
        ),
    ] {
        let metrics = queries_and_metrics("Average").replace(requests, &broken);
        let head = "steps = [{ weight = 50, hold = \"3s\" }, { weight = 100 }]\ninterval = \"1s\"\nmax-duration = \"40s\"\nconsecutive-error-limit = 2";
        let (dir, log_path) = repo(&moto.url(), head, &metrics);
        let out = run(dir.path()).output().expect("runs");
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{broken}: {stdout}{stderr}");
        assert_eq!(
            log(&log_path),
            ["set-weight 50", "rollback 1.4.0"],
            "{stderr}"
        );
        assert!(
            stdout.contains("fail-safe") && stdout.contains("no canary data"),
            "{broken}: {stdout}"
        );
    }
}

#[test]
fn cloudwatch_credentials_by_web_identity() {
    let moto = Moto::start();
    let _feed = Feeder::start(&moto, HEALTHY, HEALTHY);
    let (dir, log_path) = repo(&moto.url(), FAST, &queries_and_metrics("Average"));
    let token = dir.path().join("token");
    std::fs::write(
        &token,
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOnNob3AifQ.c2ln",
    )
    .expect("token");
    let mut c = bare(dir.path());
    // As GitHub Actions' OIDC gives them: a token file and a role; STS is moto's.
    c.env("AWS_WEB_IDENTITY_TOKEN_FILE", &token)
        .env(
            "AWS_ROLE_ARN",
            "arn:aws:iam::123456789012:role/shipgate-deploy",
        )
        .env("AWS_ROLE_SESSION_NAME", "shipgate-test")
        .env("AWS_ENDPOINT_URL", moto.url());
    let out = c.output().expect("runs");
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert_eq!(
        log(&log_path),
        ["set-weight 50", "promote 1.4.0"],
        "{stderr}"
    );
}

#[test]
fn cloudwatch_missing_credentials_and_bad_regions_stop_before_traffic_moves() {
    let moto = Moto::start();
    let (dir, log_path) = repo(&moto.url(), FAST, &queries_and_metrics("Average"));
    let mut c = bare(dir.path());
    let out = c.output().expect("runs");
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(stderr.contains("no usable AWS credentials"), "{stderr}");
    assert!(
        stderr.contains("AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN"),
        "{stderr}"
    );
    assert!(log(&log_path).is_empty());

    // A region in the configuration that is not one: refused with its key.
    let toml = std::fs::read_to_string(dir.path().join("shipgate.toml")).expect("read");
    std::fs::write(
        dir.path().join("shipgate.toml"),
        toml.replace("region = \"eu-west-1\"", "region = \"eu west 1\""),
    )
    .expect("write");
    let out = run(dir.path()).output().expect("runs");
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains("canary.cloudwatch.region: `eu west 1` is not an AWS region"),
        "{stderr}"
    );

    // No region anywhere, then one from the environment that is not a region.
    std::fs::write(
        dir.path().join("shipgate.toml"),
        toml.replace("region = \"eu-west-1\"\n", ""),
    )
    .expect("write");
    let out = run(dir.path()).output().expect("runs");
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no AWS region"), "{stderr}");
    let out = run(dir.path())
        .env("AWS_REGION", "mars north")
        .output()
        .expect("runs");
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`mars north` is not an AWS region"),
        "{stderr}"
    );
    assert!(log(&log_path).is_empty());
}

/// A server answering every request with CloudWatch's error `code`; returns its URL and
/// the number of requests it got.
fn failing_cloudwatch(code: &'static str, message: &'static str) -> (String, Arc<AtomicU32>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let count = Arc::new(AtomicU32::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            // The request: headers, then Content-Length bytes.
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            let mut want = None;
            while let Ok(n) = stream.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.extend(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    want = Some(end + 4 + len);
                }
                if want.is_some_and(|w| buf.len() >= w) {
                    break;
                }
            }
            seen.fetch_add(1, Ordering::SeqCst);
            let body = format!(
                "<ErrorResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"
            );
            let status = if code.starts_with("Access") { 403 } else { 400 };
            let _ = write!(
                stream,
                "HTTP/1.1 {status} Error\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, count)
}

#[test]
fn cloudwatch_throttling_is_retried_then_named_and_access_denied_names_the_iam_actions() {
    let (url, requests) = failing_cloudwatch("Throttling", "Rate exceeded");
    let (dir, log_path) = repo(&url, FAST, &queries_and_metrics("Average"));
    let toml = std::fs::read_to_string(dir.path().join("shipgate.toml")).expect("read");
    std::fs::write(
        dir.path().join("shipgate.toml"),
        toml.replace("retries = 0", "retries = 2"),
    )
    .expect("write");
    let out = run(dir.path()).output().expect("runs");
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains("CloudWatch throttled query `canary_errors` after 3 attempt(s): Throttling: Rate exceeded"),
        "{stderr}"
    );
    assert_eq!(
        requests.load(Ordering::SeqCst),
        3,
        "one call, retried twice with backoff"
    );
    assert!(log(&log_path).is_empty());

    let (url, _) = failing_cloudwatch(
        "AccessDenied",
        "User: arn:aws:sts::123456789012:assumed-role/ci/x is not authorized to perform: cloudwatch:GetMetricData",
    );
    let (dir, log_path) = repo(&url, FAST, &queries_and_metrics("Average"));
    let out = run(dir.path()).output().expect("runs");
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains("CloudWatch denied cloudwatch:GetMetricData for query `canary_errors`: AccessDenied: User: arn:aws:sts::123456789012:assumed-role/ci/x is not authorized"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: no traffic was moved; grant the role or user these IAM actions: cloudwatch:GetMetricData, cloudwatch:DescribeAlarms"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("testing"),
        "no credential in the output: {stderr}"
    );
    assert!(log(&log_path).is_empty());
}

/// A repository whose prod runs 1.3.2 and where 1.4.0 is released; promotions into prod
/// are gated on the alarms `alarms` names, read from CloudWatch at `endpoint`.
fn promotion_repo(endpoint: &str, alarms: &str) -> git_repo::Repo {
    let repo = git_repo::Repo::new();
    let envs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../environments");
    for name in ["base.toml", "prod.toml", "schema.json"] {
        let text = std::fs::read_to_string(envs.join(name)).expect("environments/");
        repo.write(&format!("environments/{name}"), &text);
    }
    let toml = format!(
        "[environments]\norder = [\"prod\"]\n\n[promote]\nversion-key = \"service.image.tag\"\n\n\
         [promote.env.prod]\nalarms = {alarms}\n\n\
         [canary.cloudwatch]\nregion = \"{REGION}\"\nendpoint-url = \"{endpoint}\"\nretries = 0\n"
    );
    repo.write("shipgate.toml", &toml);
    repo.commit("feat: the storefront");
    repo.tag("v1.3.2");
    repo.commit("feat(cart): save for later");
    repo.tag("v1.4.0");
    repo
}

fn promote(repo: &git_repo::Repo, version: &str) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shipgate"));
    c.args([
        "--repo",
        &repo.dir.display().to_string(),
        "--json",
        "promote",
        version,
        "--to",
        "prod",
    ])
    .env("SHIPGATE_NOW", "2026-12-01T10:00:00Z")
    .env("GITHUB_ACTOR", "deploy-bot")
    .env_remove("GITHUB_TOKEN");
    isolate(&mut c, &repo.dir);
    c.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing");
    c.output().expect("runs")
}

fn gate<'a>(out: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    out["gates"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["name"] == name))
        .unwrap_or(&serde_json::Value::Null)
}

#[test]
fn cloudwatch_the_promotion_gate_refuses_while_an_alarm_is_in_alarm() {
    let moto = Moto::start();
    for name in ["storefront-prod-high-cpu", "storefront-prod-high-memory"] {
        moto.put_alarm(name);
        moto.set_alarm(name, "OK");
    }
    let repo = promotion_repo(&moto.url(), "{ cloudwatch-prefix = \"storefront-prod-\" }");
    let out = promote(&repo, "1.3.2");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{json} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(gate(&json, "alarms")["passed"], true, "{json}");
    assert_eq!(
        gate(&json, "alarms")["detail"],
        "none firing in prod: 2 alarm(s) OK"
    );

    moto.set_alarm("storefront-prod-high-memory", "ALARM");
    let out = promote(&repo, "1.4.0");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(out.status.code(), Some(1), "{json}");
    assert_eq!(json["promoted"], false);
    assert_eq!(
        gate(&json, "alarms")["detail"],
        "prod is alarming: CloudWatch alarm `storefront-prod-high-memory` is in ALARM (test set ALARM)"
    );

    // Quiet again: 1.4.0 goes in. Then on fire: a rollback is never held by the alarms.
    moto.set_alarm("storefront-prod-high-memory", "OK");
    let out = promote(&repo, "1.4.0");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    moto.set_alarm("storefront-prod-high-memory", "ALARM");
    let mut c = Command::new(env!("CARGO_BIN_EXE_shipgate"));
    c.args([
        "--repo",
        &repo.dir.display().to_string(),
        "rollback",
        "--env",
        "prod",
        "--to",
        "1.3.2",
        "--reason",
        "memory",
    ])
    .env("SHIPGATE_NOW", "2026-12-01T10:05:00Z")
    .env("GITHUB_ACTOR", "deploy-bot");
    isolate(&mut c, &repo.dir);
    let out = c.output().expect("runs");
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        !stdout.contains("alarm") && !stderr.contains("alarm"),
        "{stdout}{stderr}"
    );

    // Alarms that cannot be read refuse: a name CloudWatch does not have.
    moto.set_alarm("storefront-prod-high-memory", "OK");
    let repo = promotion_repo(&moto.url(), "{ cloudwatch = [\"storefront-prod-nope\"] }");
    let out = promote(&repo, "1.3.2");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(out.status.code(), Some(1), "{json}");
    let detail = gate(&json, "alarms")["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        detail.contains("could not be read")
            && detail.contains("no such CloudWatch alarm: `storefront-prod-nope`"),
        "{detail}"
    );
}

/// A Prometheus (Debian package) on a free loopback port evaluating one alerting rule that
/// always fires; killed on drop.
struct FiringPrometheus {
    port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl FiringPrometheus {
    fn start() -> FiringPrometheus {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            dir.path().join("rules.yml"),
            "groups:\n  - name: shop\n    rules:\n      - alert: StorefrontDown\n        expr: vector(1)\n        labels:\n          severity: critical\n",
        )
        .expect("rules");
        std::fs::write(
            dir.path().join("prometheus.yml"),
            "global:\n  evaluation_interval: 1s\nrule_files:\n  - rules.yml\n",
        )
        .expect("config");
        let (port, child) =
            prometheus::spawn(&dir.path().join("prometheus.yml"), &dir.path().join("data"));
        let p = FiringPrometheus {
            port,
            child,
            _dir: dir,
        };
        // Ready once ALERTS has the firing alert, as the gate asks.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let body = http(port, "GET", &[], "").map(|_| ()).and_then(|_| {
                let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
                write!(
                    s,
                    "GET /api/v1/query?query=ALERTS HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                )
                .ok()?;
                let mut text = String::new();
                s.read_to_string(&mut text).ok()?;
                Some(text)
            });
            if body.is_some_and(|b| b.contains("StorefrontDown") && b.contains("firing")) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the alert did not fire within 30 s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        p
    }
}

impl Drop for FiringPrometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn cloudwatch_metrics_with_a_firing_prometheus_alert_move_no_traffic() {
    let moto = Moto::start();
    let _feed = Feeder::start(&moto, HEALTHY, HEALTHY);
    let prometheus = FiringPrometheus::start();
    let extra = format!(
        "{}\n[canary.prometheus]\nurl = \"http://127.0.0.1:{}\"\nretries = 0\n\n[canary.alarms]\nprometheus = 'ALERTS{{alertstate=\"firing\",severity=\"critical\"}}'\n",
        queries_and_metrics("Average"),
        prometheus.port
    );
    let (dir, log_path) = repo(
        &moto.url(),
        &format!("{FAST}\nprovider = \"cloudwatch\""),
        &extra,
    );
    let out = run(dir.path()).output().expect("runs");
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert!(
        stderr.contains("error: alarm gate: Prometheus alert `StorefrontDown` {severity=\"critical\"} is firing; no traffic was moved"),
        "{stderr}"
    );
    assert!(log(&log_path).is_empty());
}
