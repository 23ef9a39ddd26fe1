//! End-to-end tests of the actuators as the docs show them: the real binary replays
//! recorded canaries (tests/fixtures/canary) through
//! - `[canary.argo-rollouts]` and the Argo Rollouts, Istio VirtualService and Gateway API
//!   HTTPRoute `[canary.command]` templates, read from the docs' own blocks, against a
//!   stand-in `kubectl` that knows only the real tools' commands and flags
//!   (tests/support/kubectl.py);
//! - `[canary.alb]` against moto's standalone server (`moto_server` on a free loopback
//!   port), through a recording proxy that reads the listener's or rule's weights back from
//!   moto after every write.

#[path = "support/docs.rs"]
mod docs;
#[path = "support/kubectl.rs"]
mod kubectl;
#[path = "support/moto.rs"]
mod moto;
#[allow(dead_code)] // only its free_port
#[path = "support/prometheus.rs"]
mod prometheus;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kubectl::{FakeKube, rollout};
use serde_json::{Value, json};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/canary")
        .join(name)
}

/// The fenced TOML block of the docs (README.md and the site's pages) that `starts` with
/// this text, or contains it.
fn readme_block(starts: &str, contains: &str) -> String {
    docs::pages()
        .iter()
        .flat_map(|(_, text)| {
            text.split("```toml\n")
                .skip(1)
                .filter_map(|rest| rest.split_once("\n```").map(|(block, _)| block.to_string()))
                .collect::<Vec<_>>()
        })
        .find(|block| block.starts_with(starts) && block.contains(contains))
        .unwrap_or_else(|| panic!("the docs have no toml block starting with {starts:?}"))
}

/// The recordings' gates: 10 % and 50 % for a minute each, judged every 10 s.
const GATES: &str = "steps = [{ weight = 10, hold = \"1m\" }, { weight = 50, hold = \"1m\" }, { weight = 100 }]\ninterval = \"10s\"\nmax-duration = \"10m\"";

/// shipgate.toml with the recordings' gates, `actuator`, and their error-rate metric.
fn write_config(dir: &Path, actuator: &str) {
    let q = |metric: &str, v: &str| {
        format!("sum(increase({metric}{{version=\"{{{{{v}}}}}\"}}[{{{{interval}}}}]))")
    };
    let toml = format!(
        "[canary]\n{GATES}\n\n{actuator}\n\n[[canary.metrics]]\nname = \"error-rate\"\nkind = \"counts\"\nthreshold = 0.02\nmin-requests = 1000\n\
         canary = {{ errors = '{}', requests = '{}' }}\nbaseline = {{ errors = '{}', requests = '{}' }}\n",
        q("http_errors_total", "version"),
        q("http_requests_total", "version"),
        q("http_errors_total", "baseline_version"),
        q("http_requests_total", "baseline_version"),
    );
    std::fs::write(dir.join("shipgate.toml"), toml).expect("write");
}

/// `canary run --env prod --replay FIXTURE` in `dir` with `envs`.
fn replay(dir: &Path, file: &str, envs: &[(&str, String)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shipgate"));
    c.env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_OUTPUT")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("NO_COLOR", "1")
        .args(["--repo", &dir.display().to_string(), "canary", "run"])
        .args(["--env", "prod", "--replay"])
        .arg(fixture(file));
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().expect("runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// shop-prod's Rollout `storefront` with `steps`, paused at `paused_at`.
fn storefront(steps: Value, paused_at: usize, weight: u8) -> Value {
    json!({
        "rollouts.argoproj.io/shop-prod/storefront": rollout("shop-prod", "storefront", steps, paused_at, weight)
    })
}

/// The Rollout the docs show, for the recordings' 10 % and 50 %: a first pause, then
/// each setWeight with an indefinite pause after it.
fn steps_with_first_pause() -> Value {
    json!([{"pause": {}}, {"setWeight": 10}, {"pause": {}}, {"setWeight": 50}, {"pause": {}}])
}

const PROMOTE: &str = "argo rollouts promote storefront --namespace=shop-prod";

/// The docs' `[canary.argo-rollouts]` block.
fn argo_table() -> String {
    readme_block("[canary.argo-rollouts]\n", "rollout = \"storefront\"")
}

/// Replays `fixture` through `actuator` against a stand-in kubectl holding `objects`; the
/// directory (kept while the result lives), the stand-in and the run's output.
fn through_kube(
    objects: Value,
    lag: bool,
    actuator: &str,
    fixture: &str,
) -> (tempfile::TempDir, FakeKube, Output) {
    let dir = tempfile::tempdir().expect("temp dir");
    let kube = FakeKube::install(dir.path(), objects, lag);
    write_config(dir.path(), actuator);
    let out = replay(dir.path(), fixture, &kube.envs());
    (dir, kube, out)
}

#[test]
fn argo_rollouts_a_healthy_canary_is_promoted_one_pause_at_a_time() {
    // The controller acts one invocation after a promotion: shipgate must wait for it.
    let rollout = storefront(steps_with_first_pause(), 0, 0);
    let (_dir, kube, out) = through_kube(rollout, true, &argo_table(), "healthy.json");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        kube.traffic(),
        [
            "rollout storefront weight 10",
            "rollout storefront weight 50",
            "rollout storefront weight 100"
        ],
        "{}",
        stderr(&out)
    );
    let commands = kube.commands();
    let promotes: Vec<&String> = commands
        .iter()
        .filter(|c| c.contains(" promote "))
        .collect();
    assert_eq!(
        promotes,
        [
            PROMOTE,
            PROMOTE,
            "argo rollouts promote storefront --full --namespace=shop-prod"
        ],
        "{commands:#?}"
    );
    // Each promotion only once the Rollout stood paused where shipgate expected it, and the
    // next step only once the Rollout had reached its next pause (the lag took a second get).
    let get = "get rollouts.argoproj.io storefront --namespace=shop-prod --output=json";
    let first_promote = commands
        .iter()
        .position(|c| c == PROMOTE)
        .expect("promoted");
    assert!(
        commands[..first_promote].iter().all(|c| c == get),
        "{commands:#?}"
    );
    let second = commands
        .iter()
        .rposition(|c| c == PROMOTE)
        .expect("promoted twice");
    assert_eq!(
        commands[first_promote + 1..second]
            .iter()
            .filter(|c| *c == get)
            .count(),
        3,
        "moving, paused (after the first promote), paused (before the second): {commands:#?}"
    );
}

#[test]
fn argo_rollouts_a_regression_is_aborted() {
    let rollout = storefront(steps_with_first_pause(), 0, 0);
    let (_dir, kube, out) = through_kube(rollout, false, &argo_table(), "error-regression.json");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        kube.traffic(),
        [
            "rollout storefront weight 10",
            "rollout storefront weight 0"
        ]
    );
    assert_eq!(
        kube.commands().last().map(String::as_str),
        Some("argo rollouts abort storefront --namespace=shop-prod")
    );
}

#[test]
fn argo_rollouts_without_a_first_pause_the_rollout_sets_the_first_weight_itself() {
    let steps = json!([{"setWeight": 10}, {"pause": {}}, {"setWeight": 50}, {"pause": {}}]);
    // The new version was deployed: the Rollout went to 10 % by itself and paused.
    let rollout = storefront(steps, 1, 10);
    let (_dir, kube, out) = through_kube(rollout, false, &argo_table(), "healthy.json");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        kube.traffic(),
        [
            "rollout storefront weight 50",
            "rollout storefront weight 100"
        ]
    );
    assert_eq!(
        kube.commands().iter().filter(|c| *c == PROMOTE).count(),
        1,
        "no promotion for the first step: {:#?}",
        kube.commands()
    );
}

#[test]
fn argo_rollouts_steps_that_are_not_shipgate_s_stop_the_run_before_traffic_moves() {
    for (steps, needle) in [
        (
            json!([{"pause": {}}, {"setWeight": 10}, {"pause": {}}, {"setWeight": 30}, {"pause": {}}]),
            "the Rollout's setWeights are [10, 30], shipgate's steps before 100 are [10, 50]",
        ),
        (
            json!([{"pause": {}}, {"setWeight": 10}, {"pause": {"duration": "1m"}}, {"setWeight": 50}, {"pause": {}}]),
            "a pause with a duration (\"1m\") moves on by itself",
        ),
    ] {
        let (_dir, kube, out) = through_kube(
            storefront(steps, 0, 0),
            false,
            &argo_table(),
            "healthy.json",
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(needle), "{err}");
        assert!(err.contains("the rollback after it succeeded"), "{err}");
        assert!(
            !kube.commands().iter().any(|c| c.contains(" promote ")),
            "{:#?}",
            kube.commands()
        );
        assert_eq!(kube.traffic(), ["rollout storefront weight 0"]);
    }
}

#[test]
fn argo_rollouts_the_command_templates_of_the_readme_promote_one_step_each() {
    let rollout = storefront(steps_with_first_pause(), 0, 0);
    let template = readme_block(
        "[canary.command]\n",
        "kubectl argo rollouts promote storefront -n",
    );
    let (_dir, kube, out) = through_kube(rollout, false, &template, "healthy.json");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        kube.traffic(),
        [
            "rollout storefront weight 10",
            "rollout storefront weight 50",
            "rollout storefront weight 100"
        ]
    );
    assert_eq!(
        kube.commands(),
        [
            "argo rollouts promote storefront -n shop-prod",
            "argo rollouts promote storefront -n shop-prod",
            "argo rollouts promote storefront --full -n shop-prod",
        ]
    );
}

fn virtual_service() -> Value {
    json!({"virtualservices.networking.istio.io/shop-prod/storefront": {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": "storefront", "namespace": "shop-prod"},
        "spec": {"hosts": ["storefront"], "http": [{"route": [
            {"destination": {"host": "storefront", "subset": "stable"}, "weight": 100},
            {"destination": {"host": "storefront", "subset": "canary"}, "weight": 0},
        ]}]},
    }})
}

fn http_route() -> Value {
    json!({"httproutes.gateway.networking.k8s.io/shop-prod/storefront": {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "storefront", "namespace": "shop-prod"},
        "spec": {"parentRefs": [{"name": "shop"}], "rules": [{"backendRefs": [
            {"name": "storefront", "port": 8080, "weight": 100},
            {"name": "storefront-canary", "port": 8080, "weight": 0},
        ]}]},
    }})
}

#[test]
fn istio_and_gateway_api_weights_follow_the_steps_promotion_and_rollback() {
    for (objects, marker, kind) in [
        (
            virtual_service(),
            "virtualservices.networking.istio.io",
            "virtualservices",
        ),
        (
            http_route(),
            "httproutes.gateway.networking.k8s.io",
            "httproutes",
        ),
    ] {
        let template = readme_block("[canary.command]", marker);
        let line = |w: &str| format!("{kind} storefront weights {w}");

        let (_dir, kube, out) = through_kube(objects.clone(), false, &template, "healthy.json");
        assert_eq!(out.status.code(), Some(0), "{marker}: {}", stderr(&out));
        assert_eq!(
            kube.traffic(),
            [line("90 10"), line("50 50"), line("0 100")],
            "{marker}"
        );

        let (_dir, kube, out) =
            through_kube(objects.clone(), false, &template, "error-regression.json");
        assert_eq!(out.status.code(), Some(1), "{marker}: {}", stderr(&out));
        assert_eq!(kube.traffic(), [line("90 10"), line("100 0")], "{marker}");
    }
}

#[test]
fn a_patch_whose_test_fails_moves_nothing_and_rolls_back_loudly() {
    // Someone put the canary first: the `test` operation refuses every patch.
    let mut objects = virtual_service();
    let route = &mut objects["virtualservices.networking.istio.io/shop-prod/storefront"]["spec"]["http"]
        [0]["route"];
    route[1]["destination"]["subset"] = json!("stable");
    let (_dir, kube, out) = through_kube(
        objects,
        false,
        &readme_block("[canary.command]", "virtualservices.networking.istio.io"),
        "healthy.json",
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("test failed"), "{err}");
    assert!(err.contains("the rollback after it ALSO FAILED"), "{err}");
    assert_eq!(kube.traffic(), Vec::<String>::new());
}

/// The stand-in refuses what the real tools do not have, so a template naming a command that
/// does not exist fails.
#[test]
fn the_stand_in_kubectl_refuses_commands_and_flags_the_real_tools_lack() {
    let dir = tempfile::tempdir().expect("temp dir");
    let kube = FakeKube::install(
        dir.path(),
        storefront(steps_with_first_pause(), 0, 0),
        false,
    );
    let kubectl = |args: &[&str]| {
        let mut c = Command::new("kubectl");
        for (k, v) in kube.envs() {
            c.env(k, v);
        }
        c.args(args).output().expect("runs")
    };
    for (args, needle) in [
        (
            &["argo", "rollouts", "set", "weight", "storefront", "10"][..],
            "unknown command \"weight\"",
        ),
        (
            &["argo", "rollouts", "promote", "storefront", "--weight=10"],
            "unknown flag: --weight",
        ),
        (
            &["argo", "rollouts", "setweight", "storefront"],
            "unknown command \"setweight\"",
        ),
        (
            &["patch", "vs", "storefront", "--type=jsonpatch", "-p", "[]"],
            "--type must be one of",
        ),
        (
            &["weight", "storefront"],
            "unknown command \"weight\" for \"kubectl\"",
        ),
    ] {
        let out = kubectl(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(stderr(&out).contains(needle), "{args:?}: {}", stderr(&out));
    }
    let ok = kubectl(&[
        "argo",
        "rollouts",
        "promote",
        "storefront",
        "-n",
        "shop-prod",
    ]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    assert_eq!(kube.traffic(), ["rollout storefront weight 10"]);

    // The template shipgate's README once suggested fails its canary at the first step.
    write_config(
        dir.path(),
        "[canary.command]\nset-weight = \"kubectl argo rollouts set weight storefront {{weight}} -n shop-{{env}}\"\n\
         promote = \"kubectl argo rollouts promote storefront --full -n shop-{{env}}\"\n\
         rollback = \"kubectl argo rollouts abort storefront -n shop-{{env}}\"\n",
    );
    let out = replay(dir.path(), "healthy.json", &kube.envs());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("unknown command \\\"weight\\\"")
            || err.contains("unknown command \"weight\""),
        "{err}"
    );
}

#[test]
fn bad_actuator_settings_are_refused_at_their_line_and_column() {
    for (table, needle) in [
        (
            "[canary.argo-rollouts]\nrollout = \"storefront;id\"\n",
            "shipgate.toml:7:11: `storefront;id` is not a valid name",
        ),
        (
            "[canary.argo-rollouts]\nrollout = \"storefront\"\nnamespace = \"$(id)\"\n",
            "shipgate.toml:8:13: `$(id)` is not a valid name",
        ),
        (
            "[canary.argo-rollouts]\nrollout = \"storefront\"\nset-weight = \"promote\"\n",
            "shipgate.toml:8:1: unknown field `set-weight`",
        ),
        (
            "[canary.alb]\nlistener-arn = \"arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/x;y/1/2\"\n",
            "is not an Elastic Load Balancing ARN",
        ),
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        write_config(dir.path(), table);
        let out = replay(dir.path(), "healthy.json", &[]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(needle), "{needle}: {err}");
    }
}

/// A namespace that is valid as written but not once `{{env}}` is filled in stops the run
/// before anything is run.
#[test]
fn a_rendered_name_that_is_not_a_kubernetes_name_is_refused_before_kubectl_runs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let kube = FakeKube::install(
        dir.path(),
        storefront(steps_with_first_pause(), 0, 0),
        false,
    );
    write_config(
        dir.path(),
        "[canary.argo-rollouts]\nrollout = \"storefront\"\nnamespace = \"shop-{{env}}\"\n",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_shipgate"))
        .envs(kube.envs())
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .args(["--repo", &dir.path().display().to_string(), "canary", "run"])
        .args(["--env", "Prod_EU", "--replay"])
        .arg(fixture("healthy.json"))
        .output()
        .expect("runs");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(
            "`shop-Prod_EU` (from `shop-{{env}}` in Prod_EU) is not a Kubernetes namespace"
        ),
        "{err}"
    );
    assert!(err.contains("hint: write the Kubernetes name"), "{err}");
    assert_eq!(kube.commands(), Vec::<String>::new());
}

// --- the ALB actuator against moto -------------------------------------------------------

const REGION: &str = "eu-west-1";

/// The text of the first `<tag>…</tag>` in `xml`.
fn tag<'a>(xml: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("<{tag}> in {xml}"))
        + open.len();
    let end = xml[start..].find(&format!("</{tag}>")).expect("closed") + start;
    &xml[start..end]
}

/// moto's standalone server on a free loopback port; killed on drop.
struct Moto {
    port: u16,
    child: Child,
}

impl Moto {
    fn start() -> Moto {
        let port = prometheus::free_port();
        Moto {
            port,
            child: moto::spawn(port),
        }
    }

    /// One query-API call to `service` (moto checks no signature; the scope names the
    /// service).
    fn call(&self, service: &str, version: &str, params: &[(&str, String)]) -> String {
        call(self.port, service, version, params)
    }
}

fn call(port: u16, service: &str, version: &str, params: &[(&str, String)]) -> String {
    moto::query(port, REGION, service, version, params)
}

fn elb(port: u16, params: &[(&str, String)]) -> String {
    call(port, "elasticloadbalancing", "2015-12-01", params)
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A load balancer with a listener and a rule, both forwarding to the baseline's target
/// group only, and the canary's target group.
struct Alb {
    listener: String,
    rule: String,
    canary: String,
    baseline: String,
    other: String,
}

fn alb(moto: &Moto) -> Alb {
    let ec2 = |params: &[(&str, String)]| moto.call("ec2", "2016-11-15", params);
    let vpc = ec2(&[
        ("Action", "CreateVpc".into()),
        ("CidrBlock", "10.0.0.0/16".into()),
    ]);
    let vpc = tag(&vpc, "vpcId").to_string();
    let subnets: Vec<String> = [("10.0.1.0/24", "a"), ("10.0.2.0/24", "b")]
        .iter()
        .map(|(cidr, az)| {
            let out = ec2(&[
                ("Action", "CreateSubnet".into()),
                ("VpcId", vpc.clone()),
                ("CidrBlock", cidr.to_string()),
                ("AvailabilityZone", format!("{REGION}{az}")),
            ]);
            tag(&out, "subnetId").to_string()
        })
        .collect();
    let lb = elb(
        moto.port,
        &[
            ("Action", "CreateLoadBalancer".into()),
            ("Name", "storefront-prod".into()),
            ("Subnets.member.1", subnets[0].clone()),
            ("Subnets.member.2", subnets[1].clone()),
        ],
    );
    let lb = tag(&lb, "LoadBalancerArn").to_string();
    let group = |name: &str| {
        let out = elb(
            moto.port,
            &[
                ("Action", "CreateTargetGroup".into()),
                ("Name", name.into()),
                ("Protocol", "HTTP".into()),
                ("Port", "8080".into()),
                ("VpcId", vpc.clone()),
            ],
        );
        tag(&out, "TargetGroupArn").to_string()
    };
    let (canary, baseline, other) = (
        group("storefront-canary"),
        group("storefront-baseline"),
        group("checkout"),
    );
    let listener = elb(
        moto.port,
        &[
            ("Action", "CreateListener".into()),
            ("LoadBalancerArn", lb),
            ("Protocol", "HTTP".into()),
            ("Port", "80".into()),
            ("DefaultActions.member.1.Type", "forward".into()),
            ("DefaultActions.member.1.TargetGroupArn", baseline.clone()),
        ],
    );
    let listener = tag(&listener, "ListenerArn").to_string();
    let rule = elb(
        moto.port,
        &[
            ("Action", "CreateRule".into()),
            ("ListenerArn", listener.clone()),
            ("Priority", "10".into()),
            ("Conditions.member.1.Field", "path-pattern".into()),
            ("Conditions.member.1.Values.member.1", "/shop/*".into()),
            ("Actions.member.1.Type", "forward".into()),
            ("Actions.member.1.TargetGroupArn", baseline.clone()),
        ],
    );
    let rule = tag(&rule, "RuleArn").to_string();
    Alb {
        listener,
        rule,
        canary,
        baseline,
        other,
    }
}

/// The (baseline, canary) weights of the forward in `xml` (a DescribeListeners or
/// DescribeRules answer), or None when it forwards to one target group without weights.
fn weights(xml: &str, alb: &Alb) -> Option<(i64, i64)> {
    let groups = xml
        .split_once("<TargetGroups>")?
        .1
        .split_once("</TargetGroups>")?
        .0;
    let mut found = (None, None);
    for member in groups.split("<member>").skip(1) {
        let arn = tag(member, "TargetGroupArn");
        let weight: i64 = tag(member, "Weight").parse().expect("a weight");
        if arn == alb.baseline {
            found.0 = Some(weight);
        } else if arn == alb.canary {
            found.1 = Some(weight);
        } else {
            panic!("forward to {arn}");
        }
    }
    Some((found.0?, found.1?))
}

fn describe(port: u16, alb: &Alb, rule: bool) -> String {
    if rule {
        elb(
            port,
            &[
                ("Action", "DescribeRules".into()),
                ("RuleArns.member.1", alb.rule.clone()),
            ],
        )
    } else {
        elb(
            port,
            &[
                ("Action", "DescribeListeners".into()),
                ("ListenerArns.member.1", alb.listener.clone()),
            ],
        )
    }
}

/// A loopback proxy in front of moto: it passes every request on and, after each
/// ModifyListener or ModifyRule, reads the weights back from moto before it answers.
struct Proxy {
    port: u16,
    read_back: Arc<Mutex<Vec<(i64, i64)>>>,
}

impl Proxy {
    fn start(moto_port: u16, alb: &Alb, rule: bool) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let read_back = Arc::new(Mutex::new(Vec::new()));
        let seen = read_back.clone();
        let alb = Alb {
            listener: alb.listener.clone(),
            rule: alb.rule.clone(),
            canary: alb.canary.clone(),
            baseline: alb.baseline.clone(),
            other: alb.other.clone(),
        };
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut client) = stream else { continue };
                let Some(request) = read_request(&mut client) else {
                    continue;
                };
                let Ok(mut upstream) = TcpStream::connect(("127.0.0.1", moto_port)) else {
                    continue;
                };
                let _ = upstream.write_all(&request);
                let mut answer = Vec::new();
                let _ = upstream.read_to_end(&mut answer);
                // Read back before answering: the run goes on only once it is recorded.
                let text = String::from_utf8_lossy(&request);
                if text.contains("Action=ModifyListener") || text.contains("Action=ModifyRule") {
                    let xml = describe(moto_port, &alb, rule);
                    if let Some(w) = weights(&xml, &alb) {
                        seen.lock().expect("lock").push(w);
                    }
                }
                let _ = client.write_all(&closing(&answer));
            }
        });
        Proxy { port, read_back }
    }

    fn read_back(&self) -> Vec<(i64, i64)> {
        self.read_back.lock().expect("lock").clone()
    }
}

/// One HTTP request from `client`, its `Connection` header set to `close`.
fn read_request(client: &mut TcpStream) -> Option<Vec<u8>> {
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        let n = client.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse().ok())?
        })
        .unwrap_or(0);
    while data.len() < head_end + length {
        let n = client.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    }
    Some(closing(&data))
}

/// `message` (a request or an answer) with its `Connection` header set to `close`: one
/// exchange per connection, so that the proxy can read each to its end and the client
/// never reuses a connection the proxy closes.
fn closing(message: &[u8]) -> Vec<u8> {
    let Some(end) = message.windows(4).position(|w| w == b"\r\n\r\n") else {
        return message.to_vec();
    };
    let head: String = String::from_utf8_lossy(&message[..end])
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    let mut out = format!("{head}Connection: close\r\n\r\n").into_bytes();
    out.extend_from_slice(&message[end + 4..]);
    out
}

/// `[canary.alb]` at `endpoint` for the listener (or the rule) of `alb`.
fn alb_table(alb: &Alb, endpoint: u16, rule: bool, canary: &str) -> String {
    let (key, arn) = if rule {
        ("rule-arn", &alb.rule)
    } else {
        ("listener-arn", &alb.listener)
    };
    format!(
        "[canary.alb]\n{key} = \"{arn}\"\ncanary-target-group = \"{canary}\"\nbaseline-target-group = \"{}\"\n\
         endpoint-url = \"http://127.0.0.1:{endpoint}\"\ntimeout = \"5s\"\nretries = 0\nrollback-attempts = 2\n",
        alb.baseline
    )
}

/// AWS's test credentials and nothing of the host's AWS setup.
fn aws_env(dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_SESSION_TOKEN", String::new()),
        ("AWS_PROFILE", String::new()),
        ("AWS_ENDPOINT_URL", String::new()),
        (
            "AWS_CONFIG_FILE",
            dir.join("no-aws-config").display().to_string(),
        ),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.join("no-aws-credentials").display().to_string(),
        ),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
    ]
}

#[test]
fn alb_listener_and_rule_weights_are_read_back_after_each_step_promotion_and_rollback() {
    let moto = Moto::start();
    let alb = alb(&moto);
    for (rule, fixture, code, expected) in [
        (false, "healthy.json", 0, vec![(90, 10), (50, 50), (0, 100)]),
        (false, "error-regression.json", 1, vec![(90, 10), (100, 0)]),
        (true, "healthy.json", 0, vec![(90, 10), (50, 50), (0, 100)]),
        (true, "error-regression.json", 1, vec![(90, 10), (100, 0)]),
    ] {
        let proxy = Proxy::start(moto.port, &alb, rule);
        let dir = tempfile::tempdir().expect("temp dir");
        write_config(dir.path(), &alb_table(&alb, proxy.port, rule, &alb.canary));
        let out = replay(dir.path(), fixture, &aws_env(dir.path()));
        assert_eq!(
            out.status.code(),
            Some(code),
            "{fixture} (rule: {rule}): {}",
            stderr(&out)
        );
        assert_eq!(proxy.read_back(), expected, "{fixture} (rule: {rule})");
        let now = weights(&describe(moto.port, &alb, rule), &alb);
        assert_eq!(now, expected.last().copied(), "{fixture} (rule: {rule})");
    }
    // The listener's other settings came through: its port and protocol, and its rule.
    let listener = describe(moto.port, &alb, false);
    assert_eq!(
        (tag(&listener, "Port"), tag(&listener, "Protocol")),
        ("80", "HTTP")
    );
    assert!(describe(moto.port, &alb, true).contains("/shop/*"));
}

#[test]
fn alb_a_forward_to_another_target_group_is_refused_before_anything_is_written() {
    let moto = Moto::start();
    let alb = alb(&moto);
    // The listener forwards to a third target group: not the canary's, not the baseline's.
    elb(
        moto.port,
        &[
            ("Action", "ModifyListener".into()),
            ("ListenerArn", alb.listener.clone()),
            ("DefaultActions.member.1.Type", "forward".into()),
            ("DefaultActions.member.1.TargetGroupArn", alb.other.clone()),
        ],
    );
    let dir = tempfile::tempdir().expect("temp dir");
    write_config(dir.path(), &alb_table(&alb, moto.port, false, &alb.canary));
    let out = replay(dir.path(), "healthy.json", &aws_env(dir.path()));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("which is neither the canary's nor the baseline's target group"),
        "{err}"
    );
    assert!(err.contains("the rollback after it ALSO FAILED"), "{err}");
    let listener = describe(moto.port, &alb, false);
    assert_eq!(tag(&listener, "TargetGroupArn"), alb.other, "{listener}");
    assert!(!listener.contains(&alb.canary), "{listener}");
}

#[test]
fn alb_an_unreachable_endpoint_fails_the_rollback_loudly_after_its_attempts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = prometheus::free_port();
    let arn = |r: &str| format!("arn:aws:elasticloadbalancing:{REGION}:123456789012:{r}");
    let fake = Alb {
        listener: arn("listener/app/shop/1/2"),
        rule: arn("listener-rule/app/shop/1/2/3"),
        canary: arn("targetgroup/canary/1"),
        baseline: arn("targetgroup/baseline/2"),
        other: String::new(),
    };
    write_config(dir.path(), &alb_table(&fake, port, false, &fake.canary));
    let out = replay(dir.path(), "healthy.json", &aws_env(dir.path()));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("rollback failed after 2 attempt(s)"), "{err}");
    assert!(
        err.contains(&format!("ModifyListener {}", fake.listener)),
        "{err}"
    );
}
