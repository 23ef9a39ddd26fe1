//! Local HTTP servers that answer as Slack, Teams, PagerDuty and Grafana do (for this
//! crate's tests and the binary's): each checks what the real API requires of a request,
//! its fields and its limits, answers as the API does, and records every request.
//! Not for production use.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Request {
    /// The body as JSON (Null when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// An answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn new(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn json(status: u16, body: &Value) -> Reply {
        Reply::new(status, body.to_string()).header("content-type", "application/json")
    }

    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.into(), v.into()));
        self
    }
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A server on 127.0.0.1 and a free port, until dropped (its thread then idles).
pub struct FakeServer {
    base: String,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl FakeServer {
    /// Answers each request with `handler`.
    pub fn start(handler: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> FakeServer {
        FakeServer::serve(Some(Arc::new(handler)))
    }

    /// Answers with `replies` in order, then `200 ok`.
    pub fn scripted(replies: Vec<Reply>) -> FakeServer {
        let queue = Mutex::new(std::collections::VecDeque::from(replies));
        FakeServer::start(move |_| {
            queue
                .lock()
                .expect("lock")
                .pop_front()
                .unwrap_or_else(|| Reply::new(200, "ok"))
        })
    }

    /// Reads each request and never answers.
    pub fn hanging() -> FakeServer {
        FakeServer::serve(None)
    }

    fn serve(handler: Option<Arc<Handler>>) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let requests: Arc<Mutex<Vec<Request>>> = Arc::default();
        let log = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (log, handler) = (log.clone(), handler.clone());
                std::thread::spawn(move || {
                    let mut writer = stream.try_clone().expect("clone");
                    let mut reader = BufReader::new(stream);
                    // keep-alive: several requests a connection
                    while let Some(request) = read(&mut reader) {
                        log.lock().expect("lock").push(request.clone());
                        let Some(handler) = &handler else {
                            std::thread::sleep(std::time::Duration::from_secs(600));
                            return;
                        };
                        let reply = handler(&request);
                        let mut head = format!(
                            "HTTP/1.1 {} X\r\ncontent-length: {}\r\n",
                            reply.status,
                            reply.body.len()
                        );
                        for (k, v) in &reply.headers {
                            head.push_str(&format!("{k}: {v}\r\n"));
                        }
                        head.push_str("\r\n");
                        if writer.write_all(head.as_bytes()).is_err()
                            || writer.write_all(reply.body.as_bytes()).is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        FakeServer { base, requests }
    }

    /// The server's address with `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("lock").clone()
    }

    /// Waits (polling, at most `limit`) until `n` requests arrived; returns them.
    pub fn wait_for(&self, n: usize, limit: std::time::Duration) -> Vec<Request> {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let got = self.requests();
            if got.len() >= n || std::time::Instant::now() >= deadline {
                return got;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Slack: `POST /services/…` as an incoming webhook (`ok`, or `400 invalid_payload`)
    /// and `POST /api/chat.postMessage` with a bot token (`{"ok":true,"ts":…}`, or
    /// `{"ok":false,"error":…}` with status 200, as Slack answers), both checking Block
    /// Kit's limits: at most 50 blocks, a section's text at most 3,000 characters, a header's
    /// 150, at most 10 fields of 2,000 each.
    pub fn slack() -> FakeServer {
        let ts = Mutex::new(0u32);
        FakeServer::start(move |r| {
            let body = r.json();
            let problem = slack_problem(&body);
            if r.path == "/api/chat.postMessage" {
                let error = if !r
                    .headers
                    .get("authorization")
                    .is_some_and(|a| a.starts_with("Bearer xoxb-"))
                {
                    Some("not_authed")
                } else if body["channel"].as_str().is_none_or(str::is_empty) {
                    Some("channel_not_found")
                } else {
                    problem
                };
                return match error {
                    Some(e) => Reply::json(200, &json!({"ok": false, "error": e})),
                    None => {
                        let mut n = ts.lock().expect("lock");
                        *n += 1;
                        Reply::json(
                            200,
                            &json!({"ok": true, "channel": "C0OPS", "ts": format!("1700000000.{:06}", *n)}),
                        )
                    }
                };
            }
            match problem {
                Some(_) => Reply::new(400, "invalid_payload"),
                None => Reply::new(200, "ok"),
            }
        })
    }

    /// Teams Workflows: `202` for a message with one Adaptive Card attachment, else `400`.
    pub fn teams() -> FakeServer {
        FakeServer::start(|r| {
            let body = r.json();
            let card = &body["attachments"][0];
            let ok = body["type"] == "message"
                && card["contentType"] == "application/vnd.microsoft.card.adaptive"
                && card["content"]["type"] == "AdaptiveCard"
                && card["content"]["body"]
                    .as_array()
                    .is_some_and(|b| !b.is_empty());
            if ok {
                Reply::new(202, "")
            } else {
                Reply::new(400, "{\"error\":\"Invalid request\"}")
            }
        })
    }

    /// PagerDuty Events API v2: `/v2/enqueue` (alerts: `routing_key` of 32 characters,
    /// `event_action`, `dedup_key` at most 255, and for a trigger `payload.summary` at most
    /// 1,024, `payload.source`, `payload.severity` one of critical, error, warning, info) and
    /// `/v2/change/enqueue` (change events: `routing_key`, `payload.summary`); `202` with
    /// `{"status":"success"}`, else `400` with the errors.
    pub fn pagerduty() -> FakeServer {
        FakeServer::start(|r| {
            let body = r.json();
            let mut errors: Vec<&str> = Vec::new();
            if body["routing_key"].as_str().is_none_or(|k| k.len() != 32) {
                errors.push("'routing_key' is invalid");
            }
            let payload = &body["payload"];
            let summary_ok = payload["summary"]
                .as_str()
                .is_some_and(|s| !s.is_empty() && s.chars().count() <= 1024);
            match r.path.as_str() {
                "/v2/enqueue" => {
                    let action = body["event_action"].as_str().unwrap_or_default();
                    if !["trigger", "acknowledge", "resolve"].contains(&action) {
                        errors.push("'event_action' is invalid");
                    }
                    if body["dedup_key"].as_str().is_some_and(|k| k.len() > 255) {
                        errors.push("'dedup_key' is too long");
                    }
                    if action == "trigger" {
                        if !summary_ok {
                            errors.push("'payload.summary' is missing or too long");
                        }
                        if payload["source"].as_str().is_none_or(str::is_empty) {
                            errors.push("'payload.source' is missing");
                        }
                        let severity = payload["severity"].as_str().unwrap_or_default();
                        if !["critical", "error", "warning", "info"].contains(&severity) {
                            errors.push("'payload.severity' is invalid");
                        }
                    } else if body["dedup_key"].as_str().is_none() {
                        errors.push("'dedup_key' is missing");
                    }
                }
                "/v2/change/enqueue" => {
                    if !summary_ok {
                        errors.push("'payload.summary' is missing or too long");
                    }
                }
                _ => return Reply::new(404, "not found"),
            }
            if errors.is_empty() {
                Reply::json(
                    202,
                    &json!({"status": "success", "message": "Event processed", "dedup_key": body["dedup_key"]}),
                )
            } else {
                Reply::json(
                    400,
                    &json!({"status": "invalid event", "message": "Event object is invalid", "errors": errors}),
                )
            }
        })
    }

    /// Grafana: `POST /api/annotations` with a bearer token, `time` (and `timeEnd` not
    /// before it) in milliseconds, `text`, `tags`; `200 {"message":"Annotation added","id":N}`,
    /// `401` without a token, `400` without `text`.
    pub fn grafana() -> FakeServer {
        let id = Mutex::new(0u32);
        FakeServer::start(move |r| {
            if r.path != "/api/annotations" {
                return Reply::json(404, &json!({"message": "Not found"}));
            }
            if !r
                .headers
                .get("authorization")
                .is_some_and(|a| a.starts_with("Bearer "))
            {
                return Reply::json(401, &json!({"message": "Unauthorized"}));
            }
            let body = r.json();
            let time = body["time"].as_i64();
            let ok = body["text"].as_str().is_some_and(|t| !t.is_empty())
                && time.is_some()
                && body["timeEnd"].as_i64().is_none_or(|end| Some(end) >= time)
                && body["tags"].is_array();
            if !ok {
                return Reply::json(400, &json!({"message": "bad request data"}));
            }
            let mut n = id.lock().expect("lock");
            *n += 1;
            Reply::json(200, &json!({"message": "Annotation added", "id": *n}))
        })
    }
}

/// What Slack refuses in a message's blocks, as its error code.
fn slack_problem(body: &Value) -> Option<&'static str> {
    if body["text"].as_str().is_none_or(str::is_empty) && body["blocks"].is_null() {
        return Some("no_text");
    }
    let blocks = body["blocks"].as_array()?;
    if blocks.len() > 50 {
        return Some("invalid_blocks");
    }
    let chars = |v: &Value| v["text"].as_str().map_or(0, |t| t.chars().count());
    for b in blocks {
        let ok = match b["type"].as_str() {
            Some("header") => chars(&b["text"]) <= 150 && b["text"]["type"] == "plain_text",
            Some("section") => {
                let fields = b["fields"].as_array();
                chars(&b["text"]) <= 3000
                    && fields.is_none_or(|f| f.len() <= 10 && f.iter().all(|f| chars(f) <= 2000))
                    && (b["text"].is_object() || fields.is_some())
            }
            Some("context") => b["elements"].as_array().is_some_and(|e| e.len() <= 10),
            Some("divider") => true,
            Some("actions") => b["elements"].as_array().is_some_and(|e| e.len() <= 25),
            _ => false,
        };
        if !ok {
            return Some("invalid_blocks");
        }
    }
    None
}

/// Reads one HTTP/1.1 request; None at the end of the connection.
fn read(reader: &mut BufReader<std::net::TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        if h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}
