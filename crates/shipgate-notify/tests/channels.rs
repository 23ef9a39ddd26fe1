//! Every HTTP channel, built from shipgate.toml text as a command builds it, against the
//! local servers of `shipgate_notify::testing` that answer as Slack, Teams, PagerDuty and
//! Grafana do (or as scripted: failing, rate limiting, hanging). Nothing leaves 127.0.0.1;
//! secrets come from a map, never from the process's environment; each test has its own
//! git directory for the outbox. No fixed sleeps: a test waits on the servers' requests.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use shipgate_notify::outbox::{Outbox, delivery_id};
use shipgate_notify::testing::{FakeServer, Reply, Request};
use shipgate_notify::{Notifier, NotifyError, Sent, notifiers};
use shipgate_pipeline::{Bus, Event, Record};
use shipgate_promote::Gate;
use tempfile::TempDir;

/// How long a test waits for a request that should come.
const WAIT: Duration = Duration::from_secs(5);

const RUN_URL: &str = "https://github.com/acme/shop/actions/runs/42";

/// shipgate.toml before its channels: two environments (`prod` is production) and the links
/// every message carries.
const HEAD: &str = r#"[environments]
order = ["dev", "prod"]

[links]
runbook = "https://wiki.acme.dev/runbooks/failed-deployment?env={{env}}"
dashboard = "https://grafana.acme.dev/d/shop?var-env={{env}}&from={{from}}&to={{to}}"
"#;

/// The runbook and dashboard of `[links]` for `prod`, as a message shows them.
const PROD_RUNBOOK: &str = "https://wiki.acme.dev/runbooks/failed-deployment?env=prod";
const PROD_DASHBOARD: &str = "https://grafana.acme.dev/d/shop?var-env=prod&from=";

const SLACK_BOT_TOKEN: &str = "xoxb-1111-2222-Shipgate0bot0token";
/// A PagerDuty routing key: exactly 32 characters, as the Events API requires.
const PD_ROUTING_KEY: &str = "R0ut1ngKey0f32Characters00000000";
const GRAFANA_TOKEN: &str = "glsa_Shipgate0Service0Account0Token";
const WEBHOOK_SECRET: &str = "whsec-It5-A-S3cret";

// ---------------------------------------------------------------------------------------
// Settings, channels and the outbox

/// The whole shipgate.toml: [`HEAD`], then `channels` (`[[notify]]` entries).
fn settings_text(channels: &str) -> String {
    format!("{HEAD}\n{channels}")
}

/// The channels of `text`, their secrets read from `secrets` only.
fn build(text: &str, secrets: &[(&str, &str)], repo: &Path) -> Result<Vec<Notifier>, NotifyError> {
    let settings = shipgate_settings::parse(text).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    let vars: HashMap<String, String> = secrets
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let lookup = move |name: &str| vars.get(name).cloned();
    notifiers(&settings, repo, Some(&repo.join(".git")), &lookup, None)
}

/// A repository's channels, with the outbox in its own (temporary) git directory.
struct Channels {
    list: Vec<Notifier>,
    repo: TempDir,
}

impl Channels {
    fn new(channels: &str, secrets: &[(&str, &str)]) -> Channels {
        let repo = tempfile::tempdir().expect("a repository");
        std::fs::create_dir(repo.path().join(".git")).expect("its git dir");
        match build(&settings_text(channels), secrets, repo.path()) {
            Ok(list) => Channels { list, repo },
            Err(e) => panic!("the channels: {e}"),
        }
    }

    fn get(&mut self, name: &str) -> &mut Notifier {
        self.list
            .iter_mut()
            .find(|n| n.name() == name)
            .unwrap_or_else(|| panic!("no channel {name}"))
    }

    /// The channel `name`, to hand over (to a [`Bus`]).
    fn take(&mut self, name: &str) -> Notifier {
        let i = self
            .list
            .iter()
            .position(|n| n.name() == name)
            .unwrap_or_else(|| panic!("no channel {name}"));
        self.list.remove(i)
    }

    fn outbox(&self) -> Outbox {
        Outbox::in_git_dir(&self.repo.path().join(".git"))
    }
}

/// A `[[notify]]` Slack incoming webhook, its URL in `var`.
fn slack_webhook(name: &str, var: &str, extra: &str) -> String {
    format!("[[notify]]\nkind = \"slack\"\nname = \"{name}\"\nurl-env = \"{var}\"\n{extra}\n")
}

/// A Slack incoming webhook's (secret) address on `server`.
fn webhook_url(server: &FakeServer) -> String {
    server.url("/services/T0ACME/B0SHOP/s3cretPathXyz")
}

// ---------------------------------------------------------------------------------------
// Records and events

/// 2026-12-06 03:00:00 UTC and `minutes` after.
fn record_at(minutes: i64, event: Event) -> Record {
    let start: jiff::Timestamp = "2026-12-06T03:00:00Z".parse().expect("a time");
    Record {
        at: start + jiff::SignedDuration::from_mins(minutes),
        by: "shipgate-bot".into(),
        run_url: Some(RUN_URL.into()),
        event,
    }
}

fn record(event: Event) -> Record {
    record_at(0, event)
}

fn gate(name: &str, passed: bool, detail: &str) -> Gate {
    Gate {
        name: name.into(),
        passed,
        detail: detail.into(),
    }
}

fn promoted(env: &str, version: &str, from: &str) -> Event {
    Event::Promoted {
        env: env.into(),
        version: version.into(),
        from: Some(from.into()),
        gates: vec![
            gate("previous-environment", true, "in dev since 2026-12-04"),
            gate("soak", true, "48h in dev, 24h needed"),
        ],
        commit: Some("4f3c2a1".into()),
        new_commit: true,
        ledger_commit: Some("9a8b7c6".into()),
        pushed: true,
        verifying: false,
        production: env == "prod",
    }
}

fn refused(env: &str, version: &str) -> Event {
    Event::PromotionRefused {
        env: env.into(),
        version: version.into(),
        from: Some("1.3.2".into()),
        gates: vec![
            gate("previous-environment", true, "in dev since 2026-12-05"),
            gate("soak", false, "3h in dev, 24h needed"),
        ],
    }
}

fn canary_started(env: &str, version: &str) -> Event {
    Event::CanaryStarted {
        env: env.into(),
        version: version.into(),
        baseline: "1.3.2".into(),
        steps: 4,
        replay: false,
    }
}

fn canary_stepped(env: &str, version: &str, step: usize, weight: u8) -> Event {
    Event::CanaryStepped {
        env: env.into(),
        version: version.into(),
        step,
        steps: 4,
        weight,
        verdict: "continue".into(),
        rule: "p95-latency within bound".into(),
        t: 60.0 * step as f64,
    }
}

/// A canary's verdict (`rolled-back`, `paused`, `promoted`) decided by p95-latency at 2.41
/// against a baseline of 1.2 and a bound of 2, at step 2 of 4 (25 %).
fn verdict(env: &str, version: &str, result: &str, reason: &str, decided_at_s: f64) -> Event {
    Event::CanaryVerdict {
        env: env.into(),
        version: version.into(),
        baseline: "1.3.2".into(),
        result: result.into(),
        reason: reason.into(),
        metric: Some("p95-latency".into()),
        observed: Some(2.41),
        baseline_observed: Some(1.2),
        bound: Some(2.0),
        decided_at_s,
        step: Some(2),
        steps: 4,
        weight: Some(25),
        replay: false,
    }
}

fn rolled_back(env: &str, from: &str, to: &str) -> Event {
    Event::RolledBack {
        env: env.into(),
        from: from.into(),
        to: to.into(),
        reason: "p95-latency regressed".into(),
        blocked: from.into(),
        commit: Some("1a2b3c4".into()),
        replaced_commit: Some("4f3c2a1".into()),
        pushed: true,
        production: env == "prod",
    }
}

fn rollback_failed(env: &str, version: &str, baseline: &str) -> Event {
    Event::RollbackFailed {
        env: env.into(),
        version: version.into(),
        baseline: baseline.into(),
        error: "the load balancer refused the weights".into(),
    }
}

fn frozen(env: &str) -> Event {
    Event::Frozen {
        env: env.into(),
        reason: "incident INC-1234".into(),
    }
}

// ---------------------------------------------------------------------------------------
// What the servers saw

/// The requests `server` got after the first `seen`, once they stop coming (at least
/// `expected` of them, waited for).
fn new_requests(server: &FakeServer, seen: usize, expected: usize) -> Vec<Request> {
    let all = server.wait_for(seen + expected, WAIT);
    all[seen.min(all.len())..].to_vec()
}

/// Every text of a Slack message's blocks: sections' text and fields, headers, contexts.
fn block_texts(body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for block in body["blocks"].as_array().into_iter().flatten() {
        out.extend(block["text"]["text"].as_str().map(str::to_string));
        for part in ["fields", "elements"] {
            for f in block[part].as_array().into_iter().flatten() {
                out.extend(f["text"].as_str().map(str::to_string));
            }
        }
    }
    out
}

fn delivered(result: Result<Sent, String>) -> String {
    match result {
        Ok(Sent::Delivered(note)) => note,
        other => panic!("not delivered: {other:?}"),
    }
}

/// `sha256=<hex>` of `body` under `key`, computed by Python's hmac module, not this crate.
fn python_hmac_sha256(key: &str, body: &[u8]) -> String {
    let script = "import hmac,hashlib,sys; sys.stdout.write('sha256=' + hmac.new(sys.argv[1].encode(), sys.stdin.buffer.read(), hashlib.sha256).hexdigest())";
    let mut child = Command::new("python3")
        .args(["-c", script, key])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(body)
        .expect("the body to python3");
    let out = child.wait_with_output().expect("python3 ends");
    assert!(out.status.success(), "python3 failed");
    String::from_utf8(out.stdout).expect("hex")
}

// ---------------------------------------------------------------------------------------
// 1. Slack, incoming webhook

#[test]
fn slack_webhook_shows_a_failed_canary_with_its_evidence_and_links_and_escapes_its_reason() {
    let server = FakeServer::slack();
    let hook = webhook_url(&server);
    let mut channels = Channels::new(
        &slack_webhook("ops", "SLACK_OPS_WEBHOOK", ""),
        &[("SLACK_OPS_WEBHOOK", &hook)],
    );
    let hostile = "<!channel> <https://evil|x>";
    let failed = record(verdict("prod", "1.4.0", "rolled-back", hostile, 240.0));

    let note = delivered(channels.get("ops").deliver(&failed));
    assert_eq!(note, "posted");

    let requests = server.wait_for(1, WAIT);
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(
        (r.method.as_str(), r.path.as_str()),
        ("POST", "/services/T0ACME/B0SHOP/s3cretPathXyz")
    );
    let body = r.json();
    let blocks = body["blocks"].as_array().expect("blocks");
    assert!(
        !blocks.is_empty() && blocks.len() <= 50,
        "{} blocks",
        blocks.len()
    );

    assert_eq!(blocks[0]["type"], "header");
    let header = blocks[0]["text"]["text"].as_str().expect("a header");
    assert!(
        header.contains("1.4.0") && header.contains("prod"),
        "{header}"
    );

    let texts = block_texts(&body);
    assert!(
        texts.iter().any(|t| t.contains("p95-latency")
            && t.contains("2.41")
            && t.contains("1.2")
            && t.contains("bound 2")),
        "no block says the metric, its values and its bound: {texts:#?}"
    );
    let links = texts.join("\n");
    assert!(
        links.contains(&format!("<{PROD_RUNBOOK}|Runbook>")),
        "{links}"
    );
    assert!(links.contains(PROD_DASHBOARD), "{links}");
    assert!(links.contains(&format!("<{RUN_URL}|CI run>")), "{links}");

    // The reason is shown, but it can neither notify the channel nor make a link.
    assert!(
        texts
            .iter()
            .any(|t| t.contains("&lt;!channel&gt; &lt;https://evil|x&gt;")),
        "{texts:#?}"
    );
    assert!(!r.body.contains("<!channel>"), "{}", r.body);
    assert!(!r.body.contains("<https://evil"), "{}", r.body);
    assert!(
        body["text"]
            .as_str()
            .is_some_and(|t| t.contains("&lt;!channel&gt;")),
        "the notification text: {}",
        body["text"]
    );
}

// ---------------------------------------------------------------------------------------
// 2. Slack, bot

#[test]
fn slack_bot_threads_a_canary_run_under_its_first_message_and_broadcasts_the_verdict() {
    let server = FakeServer::slack();
    let api = server.url("/api");
    let bot = |name: &str, var: &str| {
        format!(
            "[[notify]]\nkind = \"slack\"\nname = \"{name}\"\ntoken-env = \"{var}\"\nchannel = \"#ops-alerts\"\nurl = \"{api}\"\n"
        )
    };
    let mut channels = Channels::new(
        &format!(
            "{}\n{}",
            bot("ops-bot", "SLACK_BOT_TOKEN"),
            bot("user-token", "SLACK_USER_TOKEN")
        ),
        &[
            ("SLACK_BOT_TOKEN", SLACK_BOT_TOKEN),
            ("SLACK_USER_TOKEN", "xoxp-3333-4444-not-a-bot"),
        ],
    );

    let run = [
        record_at(0, canary_started("prod", "1.4.0")),
        record_at(1, canary_stepped("prod", "1.4.0", 1, 10)),
        record_at(
            4,
            verdict(
                "prod",
                "1.4.0",
                "rolled-back",
                "p95-latency regressed",
                240.0,
            ),
        ),
    ];
    let notes: Vec<String> = run
        .iter()
        .map(|r| delivered(channels.get("ops-bot").deliver(r)))
        .collect();
    assert_eq!(
        notes,
        [
            "posted",
            "posted in the canary's thread",
            "posted in the canary's thread"
        ]
    );

    let requests = server.wait_for(3, WAIT);
    assert_eq!(requests.len(), 3);
    for r in &requests {
        assert_eq!(r.path, "/api/chat.postMessage");
        assert_eq!(
            r.headers.get("authorization").map(String::as_str),
            Some(format!("Bearer {SLACK_BOT_TOKEN}").as_str())
        );
        assert_eq!(r.json()["channel"], "#ops-alerts");
    }
    let (started, step, last) = (requests[0].json(), requests[1].json(), requests[2].json());
    assert!(started.get("thread_ts").is_none(), "{started}");
    // The fake answers its first chat.postMessage with this `ts`.
    let first_ts = "1700000000.000001";
    assert_eq!(step["thread_ts"], first_ts, "{step}");
    assert_eq!(last["thread_ts"], first_ts, "{last}");
    assert!(
        step.get("reply_broadcast").is_none(),
        "a step stays in the thread: {step}"
    );
    assert_eq!(last["reply_broadcast"], true, "{last}");

    // A token Slack does not take (not a bot's) is an error with Slack's own code.
    let err = channels
        .get("user-token")
        .deliver(&record(canary_started("prod", "1.5.0")))
        .expect_err("refused");
    assert!(err.contains("not_authed"), "{err}");
    assert!(!err.contains("xoxp-3333"), "{err}");
}

// ---------------------------------------------------------------------------------------
// 3. Teams

#[test]
fn teams_gets_an_adaptive_card_naming_the_gate_that_refused_a_promotion() {
    let server = FakeServer::teams();
    let url = server.url("/workflows/a1b2c3/triggers/manual/paths/invoke?sig=s3cret");
    let mut channels = Channels::new(
        "[[notify]]\nkind = \"teams\"\nname = \"teams\"\nurl-env = \"TEAMS_WEBHOOK\"\n",
        &[("TEAMS_WEBHOOK", &url)],
    );

    // The fake answers 202 only to a message with one well-formed Adaptive Card.
    let note = delivered(
        channels
            .get("teams")
            .deliver(&record(refused("prod", "1.4.0"))),
    );
    assert_eq!(note, "posted");

    let requests = server.wait_for(1, WAIT);
    assert_eq!(requests.len(), 1);
    let body = requests[0].json();
    let card = &body["attachments"][0];
    assert_eq!(
        card["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(card["content"]["type"], "AdaptiveCard");
    let card_body = card["content"]["body"].to_string();
    assert!(
        card_body.contains("Promotion of 1.4.0 to prod refused"),
        "{card_body}"
    );
    assert!(
        card_body.contains("1 of 2 gates did not pass: soak"),
        "{card_body}"
    );
    assert!(card_body.contains("❌ soak"), "{card_body}");
    assert!(card_body.contains("3h in dev, 24h needed"), "{card_body}");
    let actions = card["content"]["actions"].to_string();
    assert!(actions.contains(PROD_RUNBOOK), "{actions}");
}

// ---------------------------------------------------------------------------------------
// 4. PagerDuty

#[test]
fn pagerduty_records_changes_pages_a_failed_rollback_resolves_it_and_pages_a_pause_only_in_production()
 {
    assert_eq!(PD_ROUTING_KEY.len(), 32);
    let server = FakeServer::pagerduty();
    let mut channels = Channels::new(
        &format!(
            "[[notify]]\nkind = \"pagerduty\"\nname = \"pd\"\nrouting-key-env = \"PD_ROUTING_KEY\"\nurl = \"{}\"\n",
            server.url("")
        ),
        &[("PD_ROUTING_KEY", PD_ROUTING_KEY)],
    );
    let pd = channels.get("pd");
    let mut seen = 0;

    // A promotion: a change event, nothing paged.
    delivered(pd.deliver(&record_at(0, promoted("prod", "1.5.0", "1.4.0"))));
    let got = new_requests(&server, seen, 1);
    seen += got.len();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/v2/change/enqueue");
    let change = got[0].json();
    assert_eq!(change["routing_key"], PD_ROUTING_KEY);
    assert_eq!(change["payload"]["summary"], "1.5.0 promoted to prod");

    // A failed rollback pages, keyed by environment and version.
    delivered(pd.deliver(&record_at(10, rollback_failed("prod", "1.5.0", "1.4.0"))));
    let got = new_requests(&server, seen, 1);
    seen += got.len();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/v2/enqueue");
    let alert = got[0].json();
    assert_eq!(alert["event_action"], "trigger");
    assert_eq!(alert["payload"]["severity"], "critical");
    assert_eq!(alert["dedup_key"], "shipgate/prod/1.5.0");

    // The rollback done later: the alert resolved, then a change event (last: the one
    // request PagerDuty would not deduplicate on a retry).
    let note = delivered(pd.deliver(&record_at(20, rolled_back("prod", "1.5.0", "1.4.0"))));
    assert_eq!(note, "sent resolution, change event");
    let got = new_requests(&server, seen, 2);
    seen += got.len();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].path, "/v2/enqueue");
    assert_eq!(got[0].json()["event_action"], "resolve");
    assert_eq!(got[0].json()["dedup_key"], "shipgate/prod/1.5.0");
    assert_eq!(got[1].path, "/v2/change/enqueue");

    // A paused canary pages in production only (the last of [environments] order).
    let reason = "not enough traffic to judge";
    delivered(pd.deliver(&record_at(
        30,
        verdict("dev", "1.6.0", "paused", reason, 600.0),
    )));
    let got = new_requests(&server, seen, 0);
    assert!(got.is_empty(), "a pause in dev paged: {got:?}");

    delivered(pd.deliver(&record_at(
        40,
        verdict("prod", "1.6.0", "paused", reason, 600.0),
    )));
    let got = new_requests(&server, seen, 1);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/v2/enqueue");
    let alert = got[0].json();
    assert_eq!(alert["event_action"], "trigger");
    assert_eq!(alert["dedup_key"], "shipgate/prod/1.6.0");
}

// ---------------------------------------------------------------------------------------
// 5. Grafana

#[test]
fn grafana_annotates_a_promotion_with_its_tags_and_a_canary_as_a_region_from_start_to_verdict() {
    let server = FakeServer::grafana();
    let mut channels = Channels::new(
        &format!(
            "[[notify]]\nkind = \"grafana\"\nname = \"grafana\"\nurl = \"{}\"\ntoken-env = \"GRAFANA_TOKEN\"\ntags = [\"shop\", \"team-payments\"]\ndashboard-uid = \"shop-overview\"\n",
            server.url("")
        ),
        &[("GRAFANA_TOKEN", GRAFANA_TOKEN)],
    );
    let grafana = channels.get("grafana");

    let promotion = record_at(0, promoted("prod", "1.5.0", "1.4.0"));
    assert_eq!(delivered(grafana.deliver(&promotion)), "annotated");
    let got = new_requests(&server, 0, 1);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/api/annotations");
    assert_eq!(
        got[0].headers.get("authorization").map(String::as_str),
        Some(format!("Bearer {GRAFANA_TOKEN}").as_str())
    );
    let a = got[0].json();
    let tags: Vec<&str> = a["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for tag in ["shipgate", "prod", "promotion", "shop", "team-payments"] {
        assert!(tags.contains(&tag), "{tag} is not in {tags:?}");
    }
    assert_eq!(a["dashboardUID"], "shop-overview");
    assert_eq!(a["time"], promotion.at.as_millisecond());
    assert!(a.get("timeEnd").is_none(), "a promotion is a point: {a}");
    assert!(
        a["text"]
            .as_str()
            .is_some_and(|t| t.contains("1.5.0 promoted to prod"))
    );

    // A canary's start is left to its verdict's region.
    let started = record_at(10, canary_started("prod", "1.6.0"));
    delivered(grafana.deliver(&started));
    assert_eq!(
        new_requests(&server, 1, 0).len(),
        0,
        "the start was annotated"
    );

    let failed = record_at(
        15,
        verdict("prod", "1.6.0", "rolled-back", "p95-latency", 300.0),
    );
    assert_eq!(delivered(grafana.deliver(&failed)), "annotated");
    let got = new_requests(&server, 1, 1);
    assert_eq!(got.len(), 1);
    let region = got[0].json();
    let (time, end) = (
        region["time"].as_i64().expect("time"),
        region["timeEnd"].as_i64().expect("timeEnd"),
    );
    assert_eq!(end - time, 300_000, "{region}");
    assert_eq!(end, failed.at.as_millisecond());
    assert!(
        region["tags"].to_string().contains("canary-failed"),
        "{region}"
    );
}

// ---------------------------------------------------------------------------------------
// 6. Webhook

#[test]
fn webhook_is_signed_over_its_exact_body_and_keeps_its_delivery_id_on_a_retry() {
    let server = FakeServer::scripted(vec![Reply::new(500, "try again")]);
    let mut channels = Channels::new(
        &format!(
            "[[notify]]\nkind = \"webhook\"\nname = \"audit\"\nurl = \"{}\"\nsecret-env = \"WEBHOOK_SECRET\"\n",
            server.url("/hooks/shipgate")
        ),
        &[("WEBHOOK_SECRET", WEBHOOK_SECRET)],
    );
    let rollback = record(rolled_back("prod", "1.5.0", "1.4.0"));

    assert_eq!(
        delivered(channels.get("audit").deliver(&rollback)),
        "delivered"
    );

    let requests = server.wait_for(2, WAIT);
    assert_eq!(requests.len(), 2, "a 500, then the retry that got 200");
    let id = requests[0]
        .headers
        .get("x-shipgate-delivery")
        .expect("a delivery id")
        .clone();
    assert_eq!(id.len(), 24, "{id}");
    assert_eq!(id, delivery_id("audit", &rollback));
    for r in &requests {
        assert_eq!(r.path, "/hooks/shipgate");
        assert_eq!(r.headers.get("x-shipgate-delivery"), Some(&id));
        assert_eq!(
            r.headers.get("x-shipgate-event").map(String::as_str),
            Some("rollback")
        );
        let signature = r
            .headers
            .get("x-shipgate-signature-256")
            .expect("a signature");
        assert_eq!(
            signature,
            &python_hmac_sha256(WEBHOOK_SECRET, r.body.as_bytes()),
            "the signature is not the body's HMAC-SHA256"
        );
        let body = r.json();
        assert_eq!(body["id"], id.as_str());
        assert_eq!(body["event"], "rollback");
        assert_eq!(body["record"]["kind"], "rolled-back");
        assert_eq!(body["record"]["from"], "1.5.0");
    }
    assert_eq!(
        requests[0].body, requests[1].body,
        "a retry sends the same body"
    );
}

// ---------------------------------------------------------------------------------------
// 7. Delivery guarantees

#[test]
fn a_failed_delivery_waits_in_the_outbox_and_is_sent_exactly_once_after_the_server_recovers() {
    let up = Arc::new(AtomicBool::new(false));
    // The delivery ids the receiver accepted (answered 2xx).
    let accepted: Arc<Mutex<Vec<String>>> = Arc::default();
    let server = {
        let (up, accepted) = (up.clone(), accepted.clone());
        FakeServer::start(move |r| {
            if up.load(Ordering::SeqCst) {
                let id = r.headers.get("x-shipgate-delivery").cloned();
                accepted.lock().expect("lock").push(id.unwrap_or_default());
                Reply::new(200, "ok")
            } else {
                Reply::new(500, "the receiver is down")
            }
        })
    };
    let mut channels = Channels::new(
        &format!(
            "[[notify]]\nkind = \"webhook\"\nname = \"audit\"\nurl = \"{}\"\ntimeout = \"1s\"\n",
            server.url("/hooks/shipgate")
        ),
        &[],
    );
    let rollback = record_at(0, rolled_back("prod", "1.5.0", "1.4.0"));
    let id = delivery_id("audit", &rollback);
    let freeze = record_at(1, frozen("prod"));
    let freeze_id = delivery_id("audit", &freeze);

    let err = channels
        .get("audit")
        .deliver(&rollback)
        .expect_err("the server is down");
    assert!(err.contains("answered 500: the receiver is down"), "{err}");
    let pending = channels.outbox().pending(None);
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(
        (
            pending[0].id.as_str(),
            pending[0].channel.as_str(),
            pending[0].attempts
        ),
        (id.as_str(), "audit", 1)
    );
    assert_eq!(pending[0].record, rollback);
    assert!(!channels.outbox().was_sent(&id));
    let while_down = server.requests().len();
    assert!(while_down >= 2, "a 500 is retried: {while_down} request(s)");
    // A second event fails too: two deliveries wait.
    channels
        .get("audit")
        .deliver(&freeze)
        .expect_err("the server is down");
    assert_eq!(channels.outbox().pending(Some("audit")).len(), 2);
    let while_down = server.requests().len();

    up.store(true, Ordering::SeqCst);
    // The same event again: sent once, and no longer pending.
    assert_eq!(
        delivered(channels.get("audit").deliver(&rollback)),
        "delivered"
    );
    assert_eq!(server.requests().len(), while_down + 1, "sent once");
    assert!(channels.outbox().was_sent(&id));
    let pending = channels.outbox().pending(None);
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].id, freeze_id);

    // What is left is sent by a retry, once; then there is nothing more to send.
    let retried = channels.get("audit").retry_pending();
    assert_eq!(retried.len(), 1, "{retried:?}");
    assert_eq!(retried[0].0.id, freeze_id);
    assert!(
        matches!(retried[0].1, Ok(Sent::Delivered(_))),
        "{retried:?}"
    );
    assert_eq!(server.requests().len(), while_down + 2);
    assert!(channels.outbox().pending(None).is_empty());
    let retried = channels.get("audit").retry_pending();
    assert!(retried.is_empty(), "{retried:?}");

    // Sent before: skipped, nothing sent.
    for r in [&rollback, &freeze] {
        assert_eq!(channels.get("audit").deliver(r), Ok(Sent::Skipped));
    }
    assert_eq!(
        server.requests().len(),
        while_down + 2,
        "nothing more was sent"
    );
    // The receiver accepted each delivery exactly once.
    assert_eq!(*accepted.lock().expect("lock"), [id, freeze_id]);
}

// ---------------------------------------------------------------------------------------
// 8. Rate limits, hanging servers, the bus's time limit

#[test]
fn a_429_with_retry_after_is_waited_out_and_then_delivered() {
    let server = FakeServer::scripted(vec![
        Reply::new(429, "rate_limited").header("retry-after", "1"),
    ]);
    let hook = webhook_url(&server);
    let mut channels = Channels::new(
        &slack_webhook("ops", "SLACK_OPS_WEBHOOK", "timeout = \"5s\""),
        &[("SLACK_OPS_WEBHOOK", &hook)],
    );

    let started = Instant::now();
    let note = delivered(
        channels
            .get("ops")
            .deliver(&record(rolled_back("prod", "1.5.0", "1.4.0"))),
    );
    assert_eq!(note, "posted");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured: {:?}",
        started.elapsed()
    );
    let requests = server.wait_for(2, WAIT);
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].body, requests[1].body);
}

#[test]
fn a_hanging_channel_costs_its_timeout_and_never_holds_the_bus_or_the_other_channels() {
    let hanging = FakeServer::hanging();
    let slack = FakeServer::slack();
    let (hang_url, slack_url) = (webhook_url(&hanging), webhook_url(&slack));
    let text = [
        slack_webhook("hang", "HANG_WEBHOOK", "timeout = \"1s\""),
        slack_webhook("ops", "SLACK_OPS_WEBHOOK", ""),
        // Slower than the bus waits: left behind.
        slack_webhook("hang-long", "HANG_WEBHOOK", "timeout = \"30s\""),
    ]
    .join("\n");
    let secrets = [
        ("HANG_WEBHOOK", hang_url.as_str()),
        ("SLACK_OPS_WEBHOOK", slack_url.as_str()),
    ];

    // Alone: an error within the timeout, which does not show the (secret) URL.
    let mut channels = Channels::new(&text, &secrets);
    let started = Instant::now();
    let err = channels
        .get("hang")
        .deliver(&record(rolled_back("dev", "1.5.0", "1.4.0")))
        .expect_err("no answer");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(
        err.contains("timed out") || err.contains("no answer"),
        "{err}"
    );
    assert!(!err.contains(&hang_url), "{err}");
    assert_eq!(hanging.wait_for(1, WAIT).len(), 1);

    // On a bus, beside a working channel (a repository of its own: an empty outbox).
    let mut channels = Channels::new(&text, &secrets);
    let mut bus = Bus::new();
    for name in ["hang", "ops", "hang-long"] {
        bus.remote(Box::new(channels.take(name)));
    }
    bus.emit(record(rolled_back("prod", "1.5.0", "1.4.0")));
    let started = Instant::now();
    let done = bus.finish(Duration::from_secs(2));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the bus waited {:?}",
        started.elapsed()
    );

    let posted = slack.wait_for(1, WAIT);
    assert_eq!(posted.len(), 1);
    assert!(
        block_texts(&posted[0].json())
            .iter()
            .any(|t| t.contains("prod rolled back from 1.5.0 to 1.4.0")),
        "{}",
        posted[0].body
    );
    assert!(done.notes.contains(&"ops: posted".to_string()), "{done:?}");
    let warned = |prefix: &str| done.warnings.iter().any(|w| w.starts_with(prefix));
    assert!(
        warned("notify hang did not deliver `rolled-back`: "),
        "{done:?}"
    );
    assert!(
        warned("notify hang-long did not finish within 2s"),
        "{done:?}"
    );
    assert!(!warned("notify ops"), "{done:?}");
}

// ---------------------------------------------------------------------------------------
// 9. Secrets

#[test]
fn a_missing_secret_names_its_variable_and_where_shipgate_toml_asks_for_it() {
    let channels = "[[notify]]\nkind = \"webhook\"\nname = \"audit\"\nurl = \"https://hooks.acme.dev/shipgate\"\n\n[[notify]]\nkind = \"slack\"\nname = \"ops\"\nurl-env = \"SLACK_OPS_WEBHOOK\"\n";
    let text = settings_text(channels);
    let line = 1 + text
        .lines()
        .position(|l| l == "url-env = \"SLACK_OPS_WEBHOOK\"")
        .expect("the key");
    let repo = tempfile::tempdir().expect("a repository");

    // Not set, or set but empty.
    for secrets in [&[][..], &[("SLACK_OPS_WEBHOOK", "")][..]] {
        let err = match build(&text, secrets, repo.path()) {
            Ok(_) => panic!("built without SLACK_OPS_WEBHOOK"),
            Err(e) => e,
        };
        let shown = err.to_string();
        assert!(
            matches!(&err, NotifyError::MissingSecret { var, key: "url-env", channel, .. }
                if var == "SLACK_OPS_WEBHOOK" && channel == "ops"),
            "{err:?}"
        );
        assert!(
            shown.starts_with(&format!("shipgate.toml:{line}:1: ")),
            "not at line {line}: {shown}"
        );
        assert!(shown.contains("SLACK_OPS_WEBHOOK"), "{shown}");
        assert!(
            err.hint().is_some_and(|h| h.contains("SLACK_OPS_WEBHOOK")),
            "{:?}",
            err.hint()
        );
    }
}

#[test]
fn no_secret_reaches_the_error_of_a_failed_delivery_or_the_outbox() {
    // Answers 500, telling back the token it was given.
    let server = FakeServer::start(|r| {
        let auth = r.headers.get("authorization").cloned().unwrap_or_default();
        Reply::new(500, format!("internal error handling {auth}"))
    });
    let mut channels = Channels::new(
        &format!(
            "[[notify]]\nkind = \"slack\"\nname = \"ops-bot\"\ntoken-env = \"SLACK_BOT_TOKEN\"\nchannel = \"#ops-alerts\"\nurl = \"{}\"\ntimeout = \"1s\"\n",
            server.url("/api")
        ),
        &[("SLACK_BOT_TOKEN", SLACK_BOT_TOKEN)],
    );

    let err = channels
        .get("ops-bot")
        .deliver(&record(rollback_failed("prod", "1.5.0", "1.4.0")))
        .expect_err("a 500");
    let requests = server.wait_for(1, WAIT);
    assert!(
        requests[0]
            .headers
            .get("authorization")
            .is_some_and(|a| a.contains(SLACK_BOT_TOKEN)),
        "the token was sent"
    );
    assert!(err.contains("answered 500"), "{err}");
    assert!(err.contains("Bearer ***"), "{err}");
    assert!(!err.contains(SLACK_BOT_TOKEN), "{err}");
    let pending = channels.outbox().pending(None);
    assert_eq!(pending.len(), 1);
    assert!(!pending[0].error.contains(SLACK_BOT_TOKEN), "{pending:?}");
}

// ---------------------------------------------------------------------------------------
// 10. Filters

#[test]
fn a_channel_hears_only_its_events_in_its_environments() {
    let server = FakeServer::slack();
    let hook = webhook_url(&server);
    let mut channels = Channels::new(
        &slack_webhook(
            "prod-rollbacks",
            "SLACK_OPS_WEBHOOK",
            "events = [\"rollback\"]\nenvironments = [\"prod\"]",
        ),
        &[("SLACK_OPS_WEBHOOK", &hook)],
    );
    let channel = channels.get("prod-rollbacks");

    let promotion = record_at(0, promoted("prod", "1.5.0", "1.4.0"));
    assert_eq!(channel.deliver(&promotion), Ok(Sent::Skipped));
    let dev_rollback = record_at(1, rolled_back("dev", "1.5.0", "1.4.0"));
    assert_eq!(channel.deliver(&dev_rollback), Ok(Sent::Skipped));
    assert!(server.requests().is_empty(), "{:?}", server.requests());

    let prod_rollback = record_at(2, rolled_back("prod", "1.5.0", "1.4.0"));
    assert_eq!(delivered(channel.deliver(&prod_rollback)), "posted");
    let requests = server.wait_for(1, WAIT);
    assert_eq!(requests.len(), 1);
    assert!(
        block_texts(&requests[0].json())
            .iter()
            .any(|t| t.contains("prod rolled back from 1.5.0 to 1.4.0")),
        "{}",
        requests[0].body
    );
    assert!(channels.outbox().pending(None).is_empty());
}
