//! `cargo xtask bench serve [--requests N] [--concurrency N] [--max-concurrent N] [--rate N]
//! [--prometheus-ms MS] [--runs N] [--binary FILE] [--json]`: `shipgate canary serve` under
//! load on loopback. A fake Prometheus answers the judge's range queries with per-pod counts
//! for canary and baseline (each answer after MS milliseconds, standing for Prometheus's own
//! time); the server is the built binary, as a cluster runs it. N requests (default 200)
//! from as many client threads (default N), released at once, in three scenarios: (a) the
//! same rollout asked N times (its verdict is computed once and shared), (b) N different
//! rollouts (each computed, at most `--max-concurrent` at a time), (c) (b) again on a server
//! at `canary serve`'s default rate (100/s: the burst above it gets 429). Each scenario runs
//! `--runs` times (default 5) on rollouts not asked before, and reports the medians of p50,
//! p99 and max latency and of throughput, the p99's range, the answers by status and the
//! range queries made.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use shipgate::cli::hinted;

const USAGE: &str = "bench serve [--requests N] [--concurrency N] [--max-concurrent N] [--rate N] [--prometheus-ms MS] [--runs N] [--binary FILE] [--json]";

/// `canary serve`'s own default `--rate`.
const DEFAULT_RATE: u32 = 100;
/// The judging interval of the bench's settings, and the window every request asks about.
const INTERVAL: f64 = 30.0;
const WINDOW: f64 = 600.0;
const STABLE: &str = "st4bl3";

struct Options {
    requests: usize,
    concurrency: usize,
    max_concurrent: usize,
    rate: u32,
    prometheus_ms: u64,
    runs: usize,
    binary: Option<PathBuf>,
    json: bool,
}

fn parse(args: &[String]) -> anyhow::Result<Options> {
    let mut o = Options {
        requests: 200,
        concurrency: 0,
        max_concurrent: 8,
        rate: 100_000,
        prometheus_ms: 10,
        runs: 5,
        binary: None,
        json: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| -> anyhow::Result<String> {
            it.next()
                .cloned()
                .ok_or_else(|| hinted(format!("{name} needs a value"), USAGE))
        };
        let number = |name: &str, v: String| -> anyhow::Result<u64> {
            v.parse()
                .map_err(|_| hinted(format!("{name} needs a number, not `{v}`"), USAGE))
        };
        match a.as_str() {
            "--requests" => o.requests = number(a, value(a)?)?.max(1) as usize,
            "--concurrency" => o.concurrency = number(a, value(a)?)?.max(1) as usize,
            "--max-concurrent" => o.max_concurrent = number(a, value(a)?)?.max(1) as usize,
            "--rate" => o.rate = number(a, value(a)?)?.clamp(1, u64::from(u32::MAX)) as u32,
            "--prometheus-ms" => o.prometheus_ms = number(a, value(a)?)?,
            "--runs" => o.runs = number(a, value(a)?)?.max(1) as usize,
            "--binary" => o.binary = Some(PathBuf::from(value(a)?)),
            "--json" => o.json = true,
            other => return Err(hinted(format!("unknown argument `{other}`"), USAGE)),
        }
    }
    if o.concurrency == 0 {
        o.concurrency = o.requests;
    }
    Ok(o)
}

/// A Prometheus on loopback that answers `/api/v1/query_range` with two pods' counts at
/// every step: 200 requests and 1 error per pod and interval, whichever side is asked.
struct FakePrometheus {
    addr: SocketAddr,
    queries: Arc<AtomicUsize>,
}

impl FakePrometheus {
    fn start(delay: Duration) -> anyhow::Result<FakePrometheus> {
        let listener = TcpListener::bind("127.0.0.1:0").context("cannot bind loopback")?;
        let addr = listener.local_addr()?;
        let queries = Arc::new(AtomicUsize::new(0));
        let counter = queries.clone();
        // Lives as long as the bench: one thread per connection, as many as the server opens.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let counter = counter.clone();
                std::thread::spawn(move || answer(stream, delay, &counter));
            }
        });
        Ok(FakePrometheus { addr, queries })
    }

    fn queries(&self) -> usize {
        self.queries.load(Ordering::SeqCst)
    }
}

fn answer(mut stream: TcpStream, delay: Duration, queries: &AtomicUsize) {
    let mut head = Vec::new();
    let mut buf = [0u8; 8192];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
        if head.len() > 1 << 20 {
            return;
        }
    }
    let text = String::from_utf8_lossy(&head);
    let target = text.split_whitespace().nth(1).unwrap_or_default();
    let (status, body) = match target.split_once('?') {
        Some(("/api/v1/query_range", params)) => {
            queries.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(delay);
            matrix(params)
        }
        _ => (
            404,
            json!({"status": "error", "errorType": "not_found", "error": target}),
        ),
    };
    let body = body.to_string();
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// A range query's answer: a matrix of two pods' series from `start` to `end` by `step`.
fn matrix(params: &str) -> (u16, Value) {
    let number = |name: &str| {
        params
            .split('&')
            .find_map(|p| p.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.parse::<f64>().ok())
    };
    let (Some(start), Some(end), Some(step)) = (number("start"), number("end"), number("step"))
    else {
        return (
            400,
            json!({"status": "error", "errorType": "bad_data", "error": "start, end, step"}),
        );
    };
    // The query is still percent-encoded; metric names are plain letters in it.
    let per_pod = if params.contains("errors") { 1 } else { 200 };
    let series: Vec<Value> = ["pod-0", "pod-1"]
        .iter()
        .map(|pod| {
            let mut values = Vec::new();
            let mut t = start;
            while t <= end + 1e-6 && step > 0.0 {
                values.push(json!([t, per_pod.to_string()]));
                t += step;
            }
            json!({"metric": {"pod": pod}, "values": values})
        })
        .collect();
    (
        200,
        json!({"status": "success", "data": {"resultType": "matrix", "result": series}}),
    )
}

/// A repository whose [canary] judges errors by pod-template hash, split by pod, from the
/// fake Prometheus.
fn repository(dir: &Path, prometheus: SocketAddr) -> anyhow::Result<()> {
    let q = |metric: &str, hash: &str| {
        format!(
            "sum by (pod) (increase({metric}{{rollouts_pod_template_hash=\"{{{{{hash}}}}}\"}}[{{{{interval}}}}]))"
        )
    };
    let toml = format!(
        "[canary]\nsteps = [{{ weight = 20, hold = \"5m\" }}, {{ weight = 100 }}]\ninterval = \"{INTERVAL}s\"\nmax-duration = \"1h\"\n\n\
         [canary.prometheus]\nurl = \"http://{prometheus}\"\ntimeout = \"5s\"\nretries = 0\n\n\
         [[canary.metrics]]\nname = \"error-rate\"\nkind = \"counts\"\nmin-requests = 100\nmin-intervals = 2\npod-label = \"pod\"\n\
         canary = {{ errors = '{}', requests = '{}' }}\nbaseline = {{ errors = '{}', requests = '{}' }}\n",
        q("http_errors_total", "canary_hash"),
        q("http_requests_total", "canary_hash"),
        q("http_errors_total", "stable_hash"),
        q("http_requests_total", "stable_hash"),
    );
    std::fs::write(dir.join("shipgate.toml"), toml).context("cannot write shipgate.toml")
}

/// `shipgate canary serve` on a free loopback port, killed on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start(bin: &Path, repo: &Path, max_concurrent: usize, rate: u32) -> anyhow::Result<Server> {
        let mut child = Command::new(bin)
            .arg("--repo")
            .arg(repo)
            .args([
                "canary",
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--timeout",
                "10s",
            ])
            .args(["--max-concurrent", &max_concurrent.to_string()])
            .args(["--rate", &rate.to_string()])
            .env("NO_COLOR", "1")
            .env_remove("GITHUB_ACTIONS")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot run {}", bin.display()))?;
        let stderr = child.stderr.take().context("no stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let mut said = Vec::new();
        let addr = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                let _ = child.wait();
                bail!("canary serve did not start:\n{}", said.join("\n"));
            };
            let listening = line
                .split_once("listening on http://")
                .and_then(|(_, rest)| rest.split_whitespace().next()?.parse().ok());
            if let Some(addr) = listening {
                break addr;
            }
            said.push(line);
        };
        // What it says later is read and dropped, so that it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Server { child, addr })
    }

    /// The server's peak resident memory so far (Linux), in MB.
    fn peak_rss_mb(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        Some(kb / 1000.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One GET on a new connection (the server closes each): the status (0 when the transport
/// failed) and the body.
fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let attempt = || -> std::io::Result<(u16, String)> {
        let mut s = TcpStream::connect(addr)?;
        s.set_read_timeout(Some(Duration::from_secs(60)))?;
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )?;
        let mut text = String::new();
        s.read_to_string(&mut text)?;
        let status = text.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
        let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string());
        Ok((status, body.unwrap_or_default()))
    };
    attempt().unwrap_or_else(|e| (0, e.to_string()))
}

/// What one run of a scenario measured.
struct Outcome {
    latencies: Vec<Duration>,
    wall: Duration,
    statuses: BTreeMap<u16, usize>,
    /// One body per status, for the report and the checks.
    bodies: BTreeMap<u16, String>,
    queries: usize,
    peak_rss_mb: Option<f64>,
}

impl Outcome {
    /// The nearest-rank percentile `p` (0 < p ≤ 1) of the latencies.
    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
        sorted.get(rank - 1).copied().unwrap_or_default()
    }

    fn throughput(&self) -> f64 {
        self.latencies.len() as f64 / self.wall.as_secs_f64().max(1e-9)
    }
}

/// A scenario's runs: the median of each run's statistic, and the p99's range.
struct Summary {
    name: &'static str,
    runs: Vec<Outcome>,
}

impl Summary {
    fn median(&self, f: impl Fn(&Outcome) -> f64) -> f64 {
        let mut v: Vec<f64> = self.runs.iter().map(f).collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    }

    fn range(&self, f: impl Fn(&Outcome) -> f64) -> (f64, f64) {
        let v: Vec<f64> = self.runs.iter().map(f).collect();
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = v.iter().copied().fold(0.0, f64::max);
        (min, max)
    }

    /// Answers of `status` over all runs.
    fn count(&self, status: u16) -> usize {
        self.runs
            .iter()
            .filter_map(|r| r.statuses.get(&status))
            .sum()
    }

    fn others(&self) -> usize {
        let all: usize = self.runs.iter().map(|r| r.latencies.len()).sum();
        all - self.count(200) - self.count(429) - self.count(504)
    }

    fn p(&self, p: f64) -> f64 {
        self.median(|r| ms(r.percentile(p)))
    }

    fn json(&self) -> Value {
        let (p99_min, p99_max) = self.range(|r| ms(r.percentile(0.99)));
        let mut statuses = serde_json::Map::new();
        for r in &self.runs {
            for (s, n) in &r.statuses {
                let total = statuses.entry(s.to_string()).or_insert(json!(0));
                *total = json!(total.as_u64().unwrap_or(0) + *n as u64);
            }
        }
        json!({
            "scenario": self.name,
            "runs": self.runs.len(),
            "p50_ms": self.p(0.50),
            "p99_ms": self.p(0.99),
            "p99_ms_range": [p99_min, p99_max],
            "max_ms": self.p(1.0),
            "throughput_per_s": self.median(Outcome::throughput),
            "statuses": statuses,
            "prometheus_queries": self.median(|r| r.queries as f64),
            "server_peak_rss_mb": self.range(|r| r.peak_rss_mb.unwrap_or(0.0)).1,
        })
    }
}

/// `paths` asked by `concurrency` threads released at once, each taking the next path.
fn scenario(
    server: &Server,
    prometheus: &FakePrometheus,
    paths: Vec<String>,
    concurrency: usize,
) -> Outcome {
    let before = prometheus.queries();
    let addr = server.addr;
    let paths = Arc::new(paths);
    let next = Arc::new(AtomicUsize::new(0));
    let threads = concurrency.clamp(1, paths.len().max(1));
    let barrier = Arc::new(Barrier::new(threads + 1));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (paths, next, barrier) = (paths.clone(), next.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut answers = Vec::new();
                barrier.wait();
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(path) = paths.get(i) else { break };
                    let start = Instant::now();
                    let (status, body) = get(addr, path);
                    answers.push((start.elapsed(), status, body));
                }
                answers
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let mut outcome = Outcome {
        latencies: Vec::new(),
        wall: Duration::ZERO,
        statuses: BTreeMap::new(),
        bodies: BTreeMap::new(),
        queries: 0,
        peak_rss_mb: None,
    };
    for worker in workers {
        for (took, status, body) in worker.join().unwrap_or_default() {
            outcome.latencies.push(took);
            *outcome.statuses.entry(status).or_default() += 1;
            outcome.bodies.entry(status).or_insert(body);
        }
    }
    outcome.wall = start.elapsed();
    outcome.queries = prometheus.queries() - before;
    outcome.peak_rss_mb = server.peak_rss_mb();
    outcome
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The verdict path for the rollout of canary `hash` over the bench's window.
fn verdict_path(hash: &str, since: f64) -> String {
    format!(
        "/v1/verdict?env=prod&canary-hash={hash}&stable-hash={STABLE}&since={since:.0}&until={:.0}",
        since + WINDOW
    )
}

/// One request on a fresh server, checked: a 200 with the judge's verdict on judged
/// intervals (the fake Prometheus's data reached the judge); the time and the verdict.
fn warm_up(server: &Server, since: f64) -> anyhow::Result<(Duration, String)> {
    let start = Instant::now();
    let (status, body) = get(server.addr, &verdict_path("warm-up", since));
    let took = start.elapsed();
    let v: Value = serde_json::from_str(&body).unwrap_or_default();
    if status != 200 || v["intervals"].as_u64().unwrap_or(0) == 0 {
        bail!("the first verdict judged no interval: HTTP {status}: {body}");
    }
    let verdict = format!(
        "{} after {} intervals",
        v["verdict"].as_str().unwrap_or_default(),
        v["intervals"]
    );
    Ok((took, verdict))
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let o = parse(args)?;
    let (bin, profile) = match &o.binary {
        Some(b) => (b.clone(), "given"),
        None => {
            let target_dir = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| crate::root().join("target"));
            crate::bench_install::binary(&target_dir)?
        }
    };
    let prometheus = FakePrometheus::start(Duration::from_millis(o.prometheus_ms))?;
    let tmp = tempfile::tempdir()?;
    repository(tmp.path(), prometheus.addr)?;
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .context("clock")?
        .as_secs_f64();
    // Whole intervals, ending in the past: every request for a rollout asks the same window.
    let since = (now / INTERVAL).floor() * INTERVAL - WINDOW - INTERVAL;
    let n = o.requests;

    let server = Server::start(&bin, tmp.path(), o.max_concurrent, o.rate)?;
    let (first, verdict) = warm_up(&server, since)?;
    let mut same = Summary {
        name: "(a) one rollout asked by every request",
        runs: Vec::new(),
    };
    let mut different = Summary {
        name: "(b) a different rollout per request",
        runs: Vec::new(),
    };
    let mut limited = Summary {
        name: "(c) as (b), at the default --rate 100",
        runs: Vec::new(),
    };
    // Each run asks about rollouts not asked before: nothing is answered from the cache of
    // an earlier run.
    let rollouts = |prefix: &str, run: usize| -> Vec<String> {
        (0..n)
            .map(|i| verdict_path(&format!("{prefix}-{run}-{i}"), since))
            .collect()
    };
    for run in 0..o.runs {
        let path = verdict_path(&format!("same-{run}"), since);
        same.runs
            .push(scenario(&server, &prometheus, vec![path; n], o.concurrency));
        different.runs.push(scenario(
            &server,
            &prometheus,
            rollouts("rollout", run),
            o.concurrency,
        ));
    }
    drop(server);
    // A new server per run: each run meets a full token bucket.
    for run in 0..o.runs {
        let server = Server::start(&bin, tmp.path(), o.max_concurrent, DEFAULT_RATE)?;
        warm_up(&server, since)?;
        limited.runs.push(scenario(
            &server,
            &prometheus,
            rollouts("limited", run),
            o.concurrency,
        ));
    }
    let summaries = [same, different, limited];
    for s in &summaries {
        let odd = s
            .runs
            .iter()
            .flat_map(|r| &r.bodies)
            .find(|(status, _)| ![200, 429].contains(*status));
        if let Some((status, body)) = odd {
            eprintln!("bench serve: {}: an answer HTTP {status}: {body}", s.name);
        }
    }

    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    if o.json {
        let report = json!({
            "binary": bin.display().to_string(),
            "profile": profile,
            "cores": cores,
            "requests": n,
            "concurrency": o.concurrency,
            "runs": o.runs,
            "max_concurrent": o.max_concurrent,
            "rate": o.rate,
            "prometheus_ms": o.prometheus_ms,
            "first_request_ms": ms(first),
            "verdict": verdict,
            "scenarios": summaries.iter().map(Summary::json).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "canary serve: {} ({profile}), {cores} cores; {n} requests from {} threads at once, \
         medians of {} runs; --max-concurrent {}, --rate {} (c: {DEFAULT_RATE}), --timeout 10s; \
         Prometheus answers each range query in {} ms; a {}-interval window; first request \
         {:.0} ms, verdict {verdict}",
        bin.display(),
        o.concurrency,
        o.runs,
        o.max_concurrent,
        o.rate,
        o.prometheus_ms,
        (WINDOW / INTERVAL) as u64,
        ms(first),
    );
    println!(
        "| scenario | p50 | p99 (range over runs) | max | throughput | 200 / 429 / 504 / other (all runs) | range queries per run | peak RSS |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for s in &summaries {
        let (p99_min, p99_max) = s.range(|r| ms(r.percentile(0.99)));
        println!(
            "| {} | {:.0} ms | {:.0} ms ({p99_min:.0}–{p99_max:.0}) | {:.0} ms | {:.0}/s | {} / {} / {} / {} | {:.0} | {:.0} MB |",
            s.name,
            s.p(0.50),
            s.p(0.99),
            s.p(1.0),
            s.median(Outcome::throughput),
            s.count(200),
            s.count(429),
            s.count(504),
            s.others(),
            s.median(|r| r.queries as f64),
            s.range(|r| r.peak_rss_mb.unwrap_or(0.0)).1,
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fake_prometheus_answers_every_step_for_two_pods() {
        let (status, v) =
            matrix("query=sum%28http_errors_total%29&start=100.000&end=190.000&step=30");
        assert_eq!(status, 200);
        let result = v["data"]["result"].as_array().expect("matrix");
        assert_eq!(result.len(), 2);
        let values = result[0]["values"].as_array().expect("values");
        assert_eq!(values.len(), 4, "100, 130, 160, 190");
        assert_eq!(values[3], json!([190.0, "1"]));
        let (_, v) = matrix("query=sum%28http_requests_total%29&start=100&end=100&step=30");
        assert_eq!(v["data"]["result"][1]["values"], json!([[100.0, "200"]]));
        assert_eq!(matrix("query=x&start=1").0, 400);
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let out = Outcome {
            latencies: (1..=200).map(Duration::from_millis).collect(),
            wall: Duration::from_secs(1),
            statuses: BTreeMap::new(),
            bodies: BTreeMap::new(),
            queries: 0,
            peak_rss_mb: None,
        };
        assert_eq!(out.percentile(0.5), Duration::from_millis(100));
        assert_eq!(out.percentile(0.99), Duration::from_millis(198));
        assert_eq!(out.percentile(1.0), Duration::from_millis(200));
    }
}
