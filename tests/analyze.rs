//! `canary analyze` and `canary serve` against a real Prometheus scraping pods labelled as
//! Argo Rollouts labels them (`rollouts_pod_template_hash`): a clean canary passes, ten
//! times the errors fail, no data never passes, and a restarted server gives the same
//! verdict on the same window.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

#[path = "support/prometheus.rs"]
mod prometheus;

const CANARY: &str = "c4n4ry";
const STABLE: &str = "st4bl3";

/// Requests per second and error share per pod-template hash.
type Rates = Arc<Mutex<Vec<(String, f64, f64)>>>;

/// A /metrics endpoint with two pods per hash, counters growing at their rates.
struct Pods {
    port: u16,
    rates: Rates,
}

impl Pods {
    fn start(rates: &[(&str, f64, f64)]) -> Pods {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let rates: Rates = Arc::new(Mutex::new(
            rates
                .iter()
                .map(|(h, r, e)| (h.to_string(), *r, *e))
                .collect(),
        ));
        let shared = rates.clone();
        let start = Instant::now();
        // Counters integrate the rates over time, so a change of rate bends the curve.
        let totals: Arc<Mutex<Vec<(f64, f64)>>> = Arc::new(Mutex::new(vec![(0.0, 0.0); 8]));
        let last = Arc::new(Mutex::new(0.0f64));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut buf = [0u8; 2048];
                let _ = stream.read(&mut buf);
                let t = start.elapsed().as_secs_f64();
                let rates = shared.lock().expect("lock").clone();
                let mut totals = totals.lock().expect("lock");
                let mut last = last.lock().expect("lock");
                let dt = t - *last;
                *last = t;
                let mut body = String::new();
                for (i, (hash, rps, share)) in rates.iter().enumerate() {
                    let total = &mut totals[i];
                    total.0 += rps * dt;
                    total.1 += rps * share * dt;
                    for pod in 0..2 {
                        let labels = format!(
                            "rollouts_pod_template_hash=\"{hash}\",pod=\"storefront-{hash}-{pod}\""
                        );
                        body.push_str(&format!(
                            "http_requests_total{{{labels}}} {}\nhttp_errors_total{{{labels}}} {}\n",
                            (total.0 / 2.0).floor(),
                            (total.1 / 2.0).floor()
                        ));
                    }
                }
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Pods { port, rates }
    }

    fn set(&self, hash: &str, rps: f64, share: f64) {
        for r in self.rates.lock().expect("lock").iter_mut() {
            if r.0 == hash {
                (r.1, r.2) = (rps, share);
            }
        }
    }
}

/// A GET on loopback: the status and the body.
fn get(port: u16, path: &str, headers: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Connection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let status = text.get(9..12)?.parse().ok()?;
    Some((status, text.split_once("\r\n\r\n")?.1.to_string()))
}

/// A Prometheus scraping `pods` every second; killed on drop.
struct Prom {
    port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Prom {
    fn start(pods: &Pods) -> Prom {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: storefront\n    static_configs:\n      - targets: ['127.0.0.1:{}']\n",
                pods.port
            ),
        )
        .expect("config");
        let (port, child) = prometheus::spawn(&config, &dir.path().join("data"));
        let deadline = Instant::now() + Duration::from_secs(30);
        while get(port, "/api/v1/query?query=up", "").is_none_or(|(_, b)| !b.contains("\"1\"]")) {
            assert!(Instant::now() < deadline, "Prometheus did not start");
            std::thread::sleep(Duration::from_millis(200));
        }
        Prom {
            port,
            child,
            _dir: dir,
        }
    }
}

impl Drop for Prom {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A repository with [canary] judging errors by pod-template hash, split by pod.
fn repo(prom: &Prom) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let q = |metric: &str, hash: &str| {
        format!(
            "sum by (pod) (increase({metric}{{rollouts_pod_template_hash=\"{{{{{hash}}}}}\"}}[{{{{interval}}}}]))"
        )
    };
    std::fs::write(
        dir.path().join("shipgate.toml"),
        format!(
            "[canary]\nsteps = [{{ weight = 50, hold = \"4s\" }}, {{ weight = 100 }}]\ninterval = \"2s\"\nmax-duration = \"60s\"\nconsecutive-error-limit = 3\n\n\
             [canary.prometheus]\nurl = \"http://127.0.0.1:{}\"\ntimeout = \"5s\"\nretries = 0\n\n\
             [[canary.metrics]]\nname = \"error-rate\"\nkind = \"counts\"\nmin-requests = 100\nmin-intervals = 2\npod-label = \"pod\"\n\
             canary = {{ errors = '{}', requests = '{}' }}\nbaseline = {{ errors = '{}', requests = '{}' }}\n",
            prom.port,
            q("http_errors_total", "canary_hash"),
            q("http_requests_total", "canary_hash"),
            q("http_errors_total", "stable_hash"),
            q("http_requests_total", "stable_hash"),
        ),
    )
    .expect("shipgate.toml");
    dir
}

fn shipgate(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shipgate"));
    c.arg("--repo")
        .arg(dir)
        .args(args)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_OUTPUT")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("NO_COLOR", "1");
    c
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64()
}

fn analyze(dir: &Path, canary: &str, since: f64, extra: &[&str]) -> Output {
    let since = format!("{since:.3}");
    let mut args = vec![
        "--json",
        "canary",
        "analyze",
        "--env",
        "prod",
        "--canary-hash",
        canary,
        "--stable-hash",
        STABLE,
        "--since",
        &since,
    ];
    args.extend_from_slice(extra);
    shipgate(dir, &args).output().expect("runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn analyze_passes_a_clean_canary_fails_ten_times_the_errors_and_never_passes_on_no_data() {
    let pods = Pods::start(&[(CANARY, 200.0, 0.005), (STABLE, 200.0, 0.005)]);
    let prom = Prom::start(&pods);
    let dir = repo(&prom);
    let since = now();
    let out = analyze(dir.path(), CANARY, since, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let a: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(a["verdict"], "pass", "{a:#}");
    assert!(
        a["evidence"]["metrics"][0]["canary_requests"].as_f64() > Some(100.0),
        "{a:#}"
    );
    assert!(text(&out).contains("verdict: PASS"), "{}", text(&out));

    // Ten times the baseline's errors from now on.
    pods.set(CANARY, 200.0, 0.05);
    let since = now();
    let out = analyze(dir.path(), CANARY, since, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let a: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        (a["verdict"].as_str(), a["metric"].as_str()),
        (Some("fail"), Some("error-rate")),
        "{a:#}"
    );

    // No series for the canary: never a pass, whatever the wait.
    let out = analyze(dir.path(), "n0data", now(), &["--duration", "7s"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("not enough evidence"), "{}", text(&out));
}

/// `canary serve` on a free port, until dropped.
struct Server(Child, u16);

impl Server {
    fn start(dir: &Path, extra: &[&str]) -> Server {
        let port = prometheus::free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut args = vec!["canary", "serve", "--listen", &listen];
        args.extend_from_slice(extra);
        let child = shipgate(dir, &args)
            .env("SHIPGATE_TEST_TOKEN", "s3cret")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while get(port, "/healthz", "").is_none() {
            assert!(Instant::now() < deadline, "serve did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Server(child, port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_answers_argo_and_flagger_and_a_restart_gives_the_same_verdict() {
    let pods = Pods::start(&[(CANARY, 200.0, 0.005), (STABLE, 200.0, 0.005)]);
    let prom = Prom::start(&pods);
    let dir = repo(&prom);
    let since = now();
    let server = Server::start(dir.path(), &["--token-env", "SHIPGATE_TEST_TOKEN"]);
    let auth = "Authorization: Bearer s3cret\r\n";
    let path = |until: f64| {
        format!(
            "/v1/verdict?env=prod&canary-hash={CANARY}&stable-hash={STABLE}&since={since:.3}&until={until:.3}"
        )
    };
    // Without the token: 401; a bad parameter: 400 naming it.
    assert_eq!(
        get(server.1, &path(since + 4.0), "").map(|r| r.0),
        Some(401)
    );
    let (status, body) =
        get(server.1, "/v1/verdict?env=prod&canary-hash=a%22%7D", auth).expect("answer");
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).expect("json")["parameter"],
        "canary-hash"
    );
    // Asked every second until the judge passes.
    let deadline = Instant::now() + Duration::from_secs(60);
    let (until, first) = loop {
        std::thread::sleep(Duration::from_secs(1));
        let until = now() - 1.0;
        if until <= since {
            continue;
        }
        let (status, body) = get(server.1, &path(until), auth).expect("answer");
        assert_eq!(status, 200, "{body}");
        let v: Value = serde_json::from_str(&body).expect("json");
        if v["verdict"] == "pass" {
            break (until, v);
        }
        assert_ne!(v["verdict"], "fail", "{v:#}");
        assert!(Instant::now() < deadline, "no pass within a minute: {v:#}");
    };
    // Flagger's webhook: the same parameters in `metadata`; a pass is 200 even when one is
    // required (confirm-promotion).
    let body = format!(
        "{{\"name\":\"storefront\",\"namespace\":\"shop\",\"phase\":\"Progressing\",\"metadata\":{{\"env\":\"prod\",\"canary-hash\":\"{CANARY}\",\"stable-hash\":\"{STABLE}\",\"since\":\"{since:.3}\",\"until\":\"{until:.3}\",\"require\":\"pass\"}}}}"
    );
    let mut s = TcpStream::connect(("127.0.0.1", server.1)).expect("connect");
    write!(
        s,
        "POST /v1/verdict HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("read");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(server);
    // A new server (no state carried over) gives the same answer on the same window.
    let server = Server::start(dir.path(), &["--token-env", "SHIPGATE_TEST_TOKEN"]);
    let (_, body) = get(server.1, &path(until), auth).expect("answer");
    let again: Value = serde_json::from_str(&body).expect("json");
    for k in ["verdict", "reason", "intervals", "since", "until"] {
        assert_eq!(again[k], first[k], "{k}: {again:#} vs {first:#}");
    }
}
