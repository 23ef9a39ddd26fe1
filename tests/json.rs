//! Every command that prints JSON, run with `--json` on a real repository (`shipgate init`,
//! a bare origin, two releases, promotions, a rollback and its review, unreleased changes, a
//! real Prometheus for `canary capture` and `canary analyze`, a loopback webhook for `notify
//! test`), and what it printed
//! validated against the JSON Schema of its type (`shipgate::json_shapes`, which
//! docs/src/reference/json.md is generated from). Every object is closed: a field the type
//! does not have fails, and so does a shape no command here was checked against.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

#[path = "support/git_repo.rs"]
mod git_repo;
#[path = "support/prometheus.rs"]
mod prometheus;
use git_repo::{Repo, git_in};

/// The schema as the test holds output to it: every object closed
/// (`unevaluatedProperties: false`), except the variants of an object's flattened enum,
/// which the object closes.
fn closed(schema: &mut Value, inside_object: bool) {
    match schema {
        Value::Object(map) => {
            let has_props = map.contains_key("properties");
            if has_props && !inside_object && !map.contains_key("additionalProperties") {
                map.insert("unevaluatedProperties".into(), Value::Bool(false));
            }
            for (key, value) in map.iter_mut() {
                let variants = matches!(key.as_str(), "oneOf" | "anyOf" | "allOf");
                match value {
                    Value::Array(items) if variants => {
                        for item in items {
                            closed(item, has_props);
                        }
                    }
                    other => closed(other, false),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                closed(item, false);
            }
        }
        _ => {}
    }
}

struct Checker {
    shapes: Vec<shipgate::json_shapes::Shape>,
    checked: BTreeSet<&'static str>,
}

impl Checker {
    fn new() -> Checker {
        Checker {
            shapes: shipgate::json_shapes::shapes(),
            checked: BTreeSet::new(),
        }
    }

    /// Holds `out` (a run that must end with one of `codes`) to the shape named `command`.
    fn check(&mut self, command: &str, out: &Output, codes: &[i32]) -> Value {
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.code().is_some_and(|c| codes.contains(&c)),
            "{command}: exit {:?}\n{stdout}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        let shape = self
            .shapes
            .iter()
            .find(|s| s.command == command)
            .unwrap_or_else(|| panic!("json_shapes::shapes() has no `{command}`"));
        let value: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{command}: not JSON ({e}):\n{stdout}"));
        let mut schema = shape.schema.clone();
        closed(&mut schema, false);
        let validator = jsonschema::options()
            .build(&schema)
            .unwrap_or_else(|e| panic!("{command}: the schema does not compile: {e}"));
        let problems: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(
            problems.is_empty(),
            "{command}: the output is not its type's:\n{}\n{stdout}",
            problems.join("\n")
        );
        self.checked.insert(shape.command);
        value
    }

    /// Every shape was checked against a real output.
    fn done(self) {
        let unchecked: Vec<&str> = self
            .shapes
            .iter()
            .map(|s| s.command)
            .filter(|c| !self.checked.contains(c))
            .collect();
        assert!(
            unchecked.is_empty(),
            "no command here was checked against {unchecked:?}: run them in this test"
        );
    }
}

/// The shipgate.toml lines the test adds to what `init` wrote.
fn extra_config(prometheus: u16) -> String {
    format!(
        "\n[canary.prometheus]\nurl = \"http://127.0.0.1:{prometheus}\"\n\n\
         [canary.command]\nset-weight = \"true\"\npromote = \"true\"\nrollback = \"true\"\n"
    )
}

/// A loopback HTTP server that answers every request 200, for a webhook channel.
fn webhook() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            answer(stream);
        }
    });
    port
}

fn answer(mut stream: TcpStream) {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let Ok(n) = stream.read(&mut buf) else { return };
        if n == 0 {
            return;
        }
        request.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&request);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if request.len() >= end + 4 + length {
                break;
            }
        }
    }
    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}

/// A real Prometheus with nothing to scrape, ready; killed on drop.
struct Prometheus {
    port: u16,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    fn start() -> Prometheus {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("prometheus.yml");
        std::fs::write(&config, "scrape_configs: []\n").expect("write");
        let (port, child) = prometheus::spawn(&config, &dir.path().join("data"));
        let prom = Prometheus {
            port,
            child,
            _dir: dir,
        };
        for _ in 0..300 {
            if ready(port) {
                return prom;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("prometheus did not get ready on {port}");
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ready(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.write_all(b"GET /-/ready HTTP/1.0\r\n\r\n");
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200")
}

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/canary")
        .join(name)
        .display()
        .to_string()
}

/// Runs shipgate in `repo` with `--json`, as `who` at `minute` minutes after Tuesday 1
/// December 2026 09:00 UTC.
fn json(repo: &Repo, minute: i64, args: &[&str]) -> Output {
    let now = jiff::Timestamp::from_second(1_796_115_600 + minute * 60)
        .expect("in range")
        .to_string();
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    repo.shipgate_env(&all, &[("SHIPGATE_NOW", &now), ("GITHUB_ACTOR", "octocat")])
}

fn origin(dir: &Path) -> String {
    let path = dir.join("origin.git");
    std::fs::create_dir_all(&path).expect("mkdir");
    git_in(&path, &["init", "-q", "--bare", "-b", "main"]);
    path.display().to_string()
}

#[test]
fn every_json_output_is_its_types() {
    let prometheus = Prometheus::start();
    let hook = webhook();
    let mut c = Checker::new();
    let repo = Repo::new();
    let remotes = tempfile::tempdir().expect("tempdir");
    repo.git(&["remote", "add", "origin", &origin(remotes.path())]);
    repo.commit("feat: the shop");

    let out = c.check("shipgate init --json", &json(&repo, 0, &["init"]), &[0]);
    assert_eq!(out["environments"]["from"], "skeleton", "{out:#}");
    // A short interval: `canary analyze` waits for the current one to end.
    let mut toml = repo
        .read("shipgate.toml")
        .replace("interval = \"30s\"", "interval = \"2s\"");
    toml.push_str(&extra_config(prometheus.port));
    repo.write("shipgate.toml", &toml);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "-m", "chore: set up shipgate"]);
    repo.git(&["push", "-q", "origin", "main"]);

    c.check(
        "shipgate config validate --json",
        &json(&repo, 0, &["config", "validate"]),
        &[0],
    );
    c.check(
        "shipgate release --dry-run --json",
        &json(&repo, 0, &["release", "--dry-run"]),
        &[0],
    );
    let first = c.check(
        "shipgate release --json",
        &json(&repo, 0, &["release", "--push"]),
        &[0],
    );
    let v1 = first["next"].as_str().expect("a version").to_string();
    let promote = "shipgate promote VERSION --to ENV --json";
    c.check(
        promote,
        &json(&repo, 1, &["promote", &v1, "--to", "dev"]),
        &[0],
    );
    let recorded = "shipgate approve|verify|freeze|unfreeze|unblock … --json";
    let verify = ["verify", &v1, "--env", "dev", "--result", "pass"];
    c.check(recorded, &json(&repo, 2, &verify), &[0]);
    let staging = ["promote", &v1, "--to", "staging", "--push"];
    c.check(promote, &json(&repo, 3, &staging), &[0]);
    c.check(
        recorded,
        &json(&repo, 4, &["approve", &v1, "--env", "prod"]),
        &[0],
    );
    let freeze = ["freeze", "--env", "prod", "--reason", "incident 42"];
    c.check(recorded, &json(&repo, 5, &freeze), &[0]);
    // refused: frozen, and not soaked yet
    c.check(
        promote,
        &json(&repo, 6, &["promote", &v1, "--to", "prod"]),
        &[1],
    );
    c.check(
        recorded,
        &json(&repo, 7, &["unfreeze", "--env", "prod"]),
        &[0],
    );

    repo.commit("fix: the cart");
    let second = json(&repo, 8, &["release"]);
    let second = c.check("shipgate release --json", &second, &[0]);
    let v2 = second["next"].as_str().expect("a version").to_string();
    c.check(
        promote,
        &json(&repo, 9, &["promote", &v2, "--to", "dev"]),
        &[0],
    );
    let rollback = ["rollback", "--env", "dev", "--reason", "the cart is empty"];
    c.check(
        "shipgate rollback --env ENV --reason TEXT --json",
        &json(&repo, 10, &rollback),
        &[0],
    );
    let unblock = ["unblock", &v2, "--reason", "fixed forward"];
    c.check(recorded, &json(&repo, 11, &unblock), &[0]);

    // The review of that rollback: its changes (v2 has a release tag), and the evidence of
    // a recording of the rollout, the fixture's metrics renamed to this one.
    let review = "shipgate review --env ENV --json";
    let drafted = c.check(review, &json(&repo, 12, &["review", "--env", "dev"]), &[0]);
    assert_eq!(drafted["review"]["version"], v2.as_str(), "{drafted:#}");
    assert!(drafted["changes"]["commits"].is_array(), "{drafted:#}");
    let recording = std::fs::read_to_string(fixture("error-regression.json")).expect("read");
    let mut recording: Value = serde_json::from_str(&recording).expect("JSON");
    recording["env"] = "dev".into();
    recording["version"] = v2.as_str().into();
    recording["baseline_version"] = v1.as_str().into();
    let rollout = repo.path("rollout.json");
    std::fs::write(&rollout, recording.to_string()).expect("write");
    let rollout = rollout.display().to_string();
    let with_evidence = ["review", "--env", "dev", "--recording", &rollout];
    let drafted = c.check(review, &json(&repo, 12, &with_evidence), &[0]);
    assert!(
        drafted["evidence"]["excess_errors"][0]["metric"].is_string(),
        "{drafted:#}"
    );

    let status = c.check(
        "shipgate status --json",
        &json(&repo, 12, &["status"]),
        &[0],
    );
    assert_eq!(
        status["environments"][0]["version"],
        v1.as_str(),
        "{status:#}"
    );
    c.check(
        "shipgate history --json",
        &json(&repo, 12, &["history"]),
        &[0],
    );
    c.check(
        "shipgate metrics --json",
        &json(&repo, 12, &["metrics"]),
        &[0],
    );

    let judge = "shipgate canary judge FILE --json";
    for (file, code) in [("healthy.json", 0), ("error-regression.json", 1)] {
        c.check(
            judge,
            &json(&repo, 12, &["canary", "judge", &fixture(file)]),
            &[code],
        );
    }
    let replay = fixture("healthy.json");
    let run = [
        "canary",
        "run",
        "--env",
        "staging",
        "--canary-version",
        &v2,
        "--baseline-version",
        &v1,
        "--replay",
        &replay,
    ];
    c.check(
        "shipgate canary run --json",
        &json(&repo, 13, &run),
        &[0, 1],
    );
    let subject = [
        "--env",
        "prod",
        "--canary-version",
        &v2,
        "--baseline-version",
        &v1,
    ];
    let recording = repo.path("incident.json").display().to_string();
    let mut capture = vec!["canary", "capture"];
    capture.extend(subject);
    capture.extend([
        "--from",
        "2026-12-01T08:00:00Z",
        "--to",
        "2026-12-01T08:05:00Z",
    ]);
    capture.extend(["--out", &recording]);
    c.check(
        "shipgate canary capture --json",
        &json(&repo, 14, &capture),
        &[0],
    );
    // Past [canary] max-duration (30m) on the wall clock: judged when the current interval
    // ends, not waited on for the rest.
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
        - 31 * 60;
    let since = since.to_string();
    let mut analyze = vec!["canary", "analyze"];
    analyze.extend(subject);
    analyze.extend(["--since", &since]);
    c.check(
        "shipgate canary analyze --json",
        &json(&repo, 14, &analyze),
        &[0, 1],
    );

    let site = repo.path("site").display().to_string();
    c.check(
        "shipgate page --json",
        &json(&repo, 15, &["page", "--out", &site]),
        &[0],
    );

    let notify = repo.path("notify.toml");
    std::fs::write(
        &notify,
        format!("[[notify]]\nkind = \"webhook\"\nurl = \"http://127.0.0.1:{hook}/hook\"\n"),
    )
    .expect("write");
    let notify = notify.display().to_string();
    let test = ["--config", &notify, "notify", "test"];
    let sent = c.check(
        "shipgate notify test|retry --json",
        &json(&repo, 16, &test),
        &[0],
    );
    assert_eq!(sent[0]["delivered"], true, "{sent:#}");

    // Unreleased changes with a scope, a breaking change, a pull request and an issue.
    repo.git(&[
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "feat(api)!: the new cart (#7)\n\nCloses #8\nBREAKING CHANGE: carts are per user",
    ]);
    let context = c.check(
        "shipgate changelog --context",
        &json(&repo, 17, &["changelog", "--context"]),
        &[0],
    );
    let entry = &context["releases"][0]["sections"][0]["entries"][0];
    assert_eq!(entry["scope"], "api", "{context:#}");
    assert_eq!(entry["breaking"], true, "{context:#}");
    c.done();
}

/// The check itself: a field the type does not have fails, at the top and inside a
/// flattened enum's variant, and a field the type has passes.
#[test]
fn a_field_the_type_does_not_have_fails() {
    let shapes = shipgate::json_shapes::shapes();
    let problems = |command: &str, value: Value| -> usize {
        let shape = shapes.iter().find(|s| s.command == command).expect("shape");
        let mut schema = shape.schema.clone();
        closed(&mut schema, false);
        let validator = jsonschema::options().build(&schema).expect("compiles");
        validator.iter_errors(&value).count()
    };
    let page =
        serde_json::json!({"out": "site", "files": 3, "bytes": 10, "entries": 2, "reports": 0});
    assert_eq!(problems("shipgate page --json", page.clone()), 0);
    let mut more = page;
    more["surprise"] = Value::Bool(true);
    assert_eq!(problems("shipgate page --json", more), 1);
    let run = serde_json::json!({
        "result": "rolled-back", "reason": "error-rate", "decided_at_s": 40.0, "report": null
    });
    let run_command = "shipgate canary run --json";
    assert_eq!(problems(run_command, run.clone()), 0);
    let mut more = run;
    more["surprise"] = Value::Bool(true);
    assert_eq!(problems(run_command, more), 1);
    let wrong = serde_json::json!({"result": "promoted", "decided_at_s": "soon", "report": null});
    assert!(problems(run_command, wrong) > 0);
}
