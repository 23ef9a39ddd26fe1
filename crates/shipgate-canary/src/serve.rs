//! `canary serve`: the judge over HTTP for the engines that move traffic. Argo Rollouts' Web
//! metric provider asks `GET /v1/verdict?env=…&canary-hash=…&stable-hash=…&since=…` and
//! reads `verdict`; Flagger's webhooks `POST` the same parameters as JSON (top-level or in
//! `metadata`) and take a non-2xx answer as a failed check. Stateless: each answer is
//! [`analyze`](crate::analysis::analyze) over the rollout since `since`, so a restarted
//! server answers the same; answers for the same rollout and the same whole intervals are
//! computed once and shared (the verdict only changes when an interval ends).
//!
//! Bounded: a bearer token when one is configured, a request rate (429 above it), a number
//! of verdicts computed at once, a response time (504 after it), a 64 KiB body; bad
//! parameters are a 400 naming the parameter. `/healthz` answers `ok`. A stop flag (SIGTERM)
//! stops accepting and lets the answers in flight finish.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};
use shipgate_judge::{Gates, Verdict};
use shipgate_stdx::names::{EnvName, PodHash, Version};

use crate::analysis::{Analysis, AnalysisError, Subject};
use crate::capture::Window;
use crate::runner::StopFlag;

/// The largest request body read.
const MAX_BODY: usize = 64 * 1024;

/// What the server judges with: each environment's gates, and an analysis.
pub trait Backend: Send + Sync + 'static {
    /// The gates of `env` (`[canary]` with its `[canary.env.<ENV>]` override).
    fn gates(&self, env: &EnvName) -> Result<Gates, String>;
    /// The judge's verdict on `subject`'s rollout over `window`.
    fn analyze(&self, subject: &Subject, window: Window) -> Result<Analysis, AnalysisError>;
}

/// How the server is bounded.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The bearer token every `/v1` request must carry, when set.
    pub token: Option<String>,
    /// Verdicts computed at once; more wait (within `timeout`).
    pub max_concurrent: usize,
    /// Requests per second (a burst of as many is allowed); more get 429.
    pub rate: u32,
    /// The longest a request may take; longer gets 504 (the verdict is still computed,
    /// and the next request for it gets it).
    pub timeout: Duration,
}

/// A request's failure: its status and what to say.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
    /// The parameter at fault (400s).
    pub parameter: Option<String>,
    pub hint: Option<String>,
}

impl ApiError {
    fn new(status: u16, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            parameter: None,
            hint: None,
        }
    }

    fn bad(parameter: &str, message: impl Into<String>) -> Self {
        ApiError {
            parameter: Some(parameter.to_string()),
            ..ApiError::new(400, message)
        }
    }

    fn body(&self) -> Value {
        let mut v = json!({ "error": self.message });
        if let Some(p) = &self.parameter {
            v["parameter"] = json!(p);
        }
        if let Some(h) = &self.hint {
            v["hint"] = json!(h);
        }
        v
    }
}

/// What a verdict request asks.
#[derive(Debug, Clone, PartialEq)]
pub struct Ask {
    pub subject: Subject,
    /// Unix seconds; `None`: the rollout's `max-duration` back from now.
    pub since: Option<f64>,
    /// Unix seconds; `None`: now.
    pub until: Option<f64>,
    /// Anything but a pass is a non-2xx answer (Flagger's `confirm-promotion`).
    pub require_pass: bool,
    /// A POST (Flagger): a failing verdict is a non-2xx answer.
    pub post: bool,
}

const PARAMETERS: [&str; 8] = [
    "env",
    "canary-hash",
    "stable-hash",
    "canary-version",
    "baseline-version",
    "since",
    "until",
    "require",
];

/// Flagger's own fields beside `metadata` in its webhook body.
const FLAGGER_FIELDS: [&str; 5] = ["name", "namespace", "phase", "checksum", "metadata"];

/// A time parameter: RFC 3339 or Unix seconds.
fn time(name: &str, text: &str) -> Result<f64, ApiError> {
    if let Ok(s) = text.parse::<f64>()
        && s.is_finite()
        && s >= 0.0
    {
        return Ok(s);
    }
    text.parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond() as f64 / 1000.0)
        .map_err(|_| {
            ApiError::bad(
                name,
                format!("`{text}` is not a time: RFC 3339 or Unix seconds"),
            )
        })
}

/// The parameters of a request: a GET's query, or a POST's JSON body (top-level, or
/// Flagger's `metadata`).
pub fn ask(method: &Method, query: Option<&str>, body: &[u8]) -> Result<Ask, ApiError> {
    let mut params: Vec<(String, String)> = Vec::new();
    let post = method == Method::POST;
    if post {
        let v: Value = serde_json::from_slice(body)
            .map_err(|e| ApiError::bad("body", format!("the body is not JSON: {e}")))?;
        let Value::Object(top) = v else {
            return Err(ApiError::bad("body", "the body is not a JSON object"));
        };
        let mut add = |k: &str, v: &Value| -> Result<(), ApiError> {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return Err(ApiError::bad(k, format!("`{k}` must be a string"))),
            };
            params.push((k.to_string(), text));
            Ok(())
        };
        for (k, v) in &top {
            if k == "metadata" {
                let Value::Object(meta) = v else {
                    return Err(ApiError::bad("metadata", "`metadata` must be an object"));
                };
                for (k, v) in meta {
                    add(k, v)?;
                }
            } else if !FLAGGER_FIELDS.contains(&k.as_str()) {
                add(k, v)?;
            }
        }
    } else {
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8()
                    .map(|c| c.into_owned())
                    .map_err(|_| ApiError::bad(k, "not UTF-8 once decoded"))
            };
            params.push((decode(k)?, decode(v)?));
        }
    }
    let mut seen: Vec<&str> = Vec::new();
    for (k, _) in &params {
        if !PARAMETERS.contains(&k.as_str()) {
            let hint = shipgate_stdx::text::closest(k, PARAMETERS.iter().copied());
            return Err(ApiError {
                hint: Some(match hint {
                    Some(h) => format!("did you mean `{h}`?"),
                    None => format!("the parameters are {}", PARAMETERS.join(", ")),
                }),
                ..ApiError::bad(k, format!("unknown parameter `{k}`"))
            });
        }
        if seen.contains(&k.as_str()) {
            return Err(ApiError::bad(k, format!("`{k}` is given twice")));
        }
        seen.push(k);
    }
    let get = |k: &str| params.iter().find(|(p, _)| p == k).map(|(_, v)| v.as_str());
    let env = get("env").ok_or_else(|| ApiError::bad("env", "`env` is required"))?;
    let env = EnvName::parse(env).map_err(|e| ApiError::bad("env", e.to_string()))?;
    let hash = |k: &str| {
        get(k)
            .map(|v| PodHash::parse(v).map_err(|e| ApiError::bad(k, e.to_string())))
            .transpose()
    };
    let version = |k: &str| {
        get(k)
            .map(|v| Version::parse(v).map_err(|e| ApiError::bad(k, e.to_string())))
            .transpose()
    };
    let since = get("since").map(|t| time("since", t)).transpose()?;
    let until = get("until").map(|t| time("until", t)).transpose()?;
    if let (Some(s), Some(u)) = (since, until)
        && u <= s
    {
        return Err(ApiError::bad("until", "`until` must be after `since`"));
    }
    let require_pass = match get("require") {
        None => false,
        Some("pass") => true,
        Some(other) => {
            return Err(ApiError::bad(
                "require",
                format!("`{other}`: the only requirement is `pass`"),
            ));
        }
    };
    Ok(Ask {
        subject: Subject {
            env,
            canary_version: version("canary-version")?,
            baseline_version: version("baseline-version")?,
            canary_hash: hash("canary-hash")?,
            stable_hash: hash("stable-hash")?,
        },
        since,
        until,
        require_pass,
        post,
    })
}

/// The status of a verdict's answer: 200, but a failing verdict is 409 to a POST
/// (Flagger counts a non-2xx as a failed check), and anything but a pass is 412 when a
/// pass is required.
pub fn status(ask: &Ask, verdict: Verdict) -> u16 {
    match verdict {
        Verdict::Pass => 200,
        _ if ask.require_pass => 412,
        Verdict::Fail if ask.post => 409,
        _ => 200,
    }
}

/// The window a request asks about, ending at the last whole interval before `until`
/// (or now): the same rollout asked again within an interval gets the same answer.
pub fn window(ask: &Ask, gates: &Gates, now: f64) -> Result<Window, ApiError> {
    let interval = gates.rollout.interval.secs();
    let until = ask.until.unwrap_or(now).min(now);
    let since = ask
        .since
        .unwrap_or(until - gates.rollout.max_duration.secs());
    if since >= until {
        return Err(ApiError::bad("since", "`since` is in the future"));
    }
    let whole = ((until - since) / interval).floor();
    Ok(Window {
        from: since,
        to: since + whole * interval,
    })
}

/// Where a verdict is being computed, or has been.
type Slot = Arc<tokio::sync::OnceCell<Result<Value, ApiError>>>;

/// The shared state of a running server.
struct State {
    backend: Arc<dyn Backend>,
    options: ServeOptions,
    running: tokio::sync::Semaphore,
    /// Verdicts by (subject, window in milliseconds): computed once, shared.
    cache: Mutex<HashMap<(Subject, i64, i64), Slot>>,
    bucket: Mutex<(f64, Instant)>,
}

impl State {
    /// Whether one more request may go now (token bucket).
    fn admit(&self) -> bool {
        let rate = f64::from(self.options.rate.max(1));
        let mut b = self.bucket.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        b.0 = (b.0 + now.duration_since(b.1).as_secs_f64() * rate).min(rate);
        b.1 = now;
        if b.0 >= 1.0 {
            b.0 -= 1.0;
            true
        } else {
            false
        }
    }

    fn authorized(&self, req: &Request<Incoming>) -> bool {
        let Some(token) = &self.options.token else {
            return true;
        };
        let given = req
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        constant_time_eq(given.as_bytes(), token.as_bytes())
    }

    fn slot(&self, key: (Subject, i64, i64)) -> Slot {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() > 4096 {
            cache.retain(|_, s| !s.initialized());
        }
        cache.entry(key).or_default().clone()
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn reply(status: u16, body: &Value) -> Response<Full<Bytes>> {
    let mut text = serde_json::to_string_pretty(body).unwrap_or_default();
    text.push('\n');
    let mut r = Response::new(Full::new(Bytes::from(text)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    r
}

fn error(e: &ApiError) -> Response<Full<Bytes>> {
    let mut r = reply(e.status, &e.body());
    if e.status == 429 {
        r.headers_mut().insert(
            hyper::header::RETRY_AFTER,
            hyper::header::HeaderValue::from_static("1"),
        );
    }
    r
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    if path == "/healthz" {
        let mut r = Response::new(Full::new(Bytes::from_static(b"ok\n")));
        r.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("text/plain"),
        );
        return Ok(r);
    }
    if path != "/v1/verdict" {
        return Ok(error(&ApiError::new(
            404,
            format!("no such path `{path}`: GET or POST /v1/verdict"),
        )));
    }
    let method = req.method().clone();
    if method != Method::GET && method != Method::POST {
        return Ok(error(&ApiError::new(405, "GET or POST /v1/verdict")));
    }
    if !state.authorized(&req) {
        return Ok(error(&ApiError::new(
            401,
            "a bearer token is required (Authorization: Bearer …)",
        )));
    }
    if !state.admit() {
        return Ok(error(&ApiError::new(429, "too many requests: slow down")));
    }
    let query = req.uri().query().map(String::from);
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(error(&ApiError::new(413, "the body is larger than 64 KiB"))),
    };
    let deadline = state.options.timeout;
    let answer = tokio::time::timeout(deadline, verdict(state.clone(), method, query, body)).await;
    Ok(match answer {
        Ok(Ok((ask, analysis))) => {
            let verdict = match analysis["verdict"].as_str() {
                Some("pass") => Verdict::Pass,
                Some("fail") => Verdict::Fail,
                _ => Verdict::Continue,
            };
            reply(status(&ask, verdict), &analysis)
        }
        Ok(Err(e)) => error(&e),
        Err(_) => error(&ApiError::new(
            504,
            format!(
                "the verdict took longer than {}s; ask again",
                deadline.as_secs()
            ),
        )),
    })
}

async fn verdict(
    state: Arc<State>,
    method: Method,
    query: Option<String>,
    body: Bytes,
) -> Result<(Ask, Value), ApiError> {
    let ask = ask(&method, query.as_deref(), &body)?;
    let gates = state
        .backend
        .gates(&ask.subject.env)
        .map_err(|e| ApiError::new(500, e))?;
    let window = window(&ask, &gates, unix_now())?;
    let key = (
        ask.subject.clone(),
        (window.from * 1000.0) as i64,
        (window.to * 1000.0) as i64,
    );
    let slot = state.slot(key);
    let value = slot
        .get_or_init(|| async {
            let Ok(_permit) = state.running.acquire().await else {
                return Err(ApiError::new(503, "the server is stopping"));
            };
            let backend = state.backend.clone();
            let subject = ask.subject.clone();
            let computed = tokio::task::spawn_blocking(move || backend.analyze(&subject, window))
                .await
                .map_err(|e| ApiError::new(500, format!("the analysis stopped: {e}")))?;
            match computed {
                Ok(a) => Ok(serde_json::to_value(&a).unwrap_or_default()),
                Err(AnalysisError::Missing(m)) => Err(ApiError {
                    hint: Some(format!("give the `{}` parameter", m.flag())),
                    ..ApiError::bad(m.flag(), AnalysisError::Missing(m.clone()).to_string())
                }),
                Err(e) => Err(ApiError {
                    hint: e.hint(),
                    ..ApiError::new(502, e.to_string())
                }),
            }
        })
        .await
        .clone();
    // An error is not kept: the next request tries again.
    if value.is_err() {
        let mut cache = state.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.retain(|_, s| !matches!(s.get(), Some(Err(_))));
    }
    value.map(|v| (ask, v))
}

/// Reads an environment variable (a credential named in `[canary.prometheus]`).
pub type EnvReader = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The backend of a live server: each environment's effective `[canary]` settings and its
/// Prometheus (range queries), made once per environment and kept.
pub struct PrometheusBackend {
    settings: crate::config::CanarySettings,
    env: EnvReader,
    clients: Mutex<HashMap<EnvName, (Gates, Arc<crate::provider::Prometheus>)>>,
}

impl PrometheusBackend {
    /// From `[canary]`; `env` reads environment variables (Prometheus credentials).
    pub fn new(settings: crate::config::CanarySettings, env: EnvReader) -> Self {
        PrometheusBackend {
            settings,
            env,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// `env`'s effective settings (pure: no client is made here, as this runs on the
    /// server's event loop).
    fn settings(&self, env: &EnvName) -> Result<crate::config::CanarySettings, String> {
        self.settings.for_env(env).map_err(|p| {
            p.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// `env`'s Prometheus client, made once (blocking: called off the event loop).
    fn client(&self, env: &EnvName) -> Result<Arc<crate::provider::Prometheus>, String> {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, c)) = clients.get(env) {
            return Ok(c.clone());
        }
        let settings = self.settings(env)?;
        let config = settings
            .prometheus
            .as_ref()
            .ok_or("no [canary.prometheus] for this environment: the verdict reads Prometheus")?;
        let client = Arc::new(
            crate::provider::Prometheus::new(config, &*self.env).map_err(|e| e.to_string())?,
        );
        clients.insert(env.clone(), (settings.gates.clone(), client.clone()));
        Ok(client)
    }
}

impl Backend for PrometheusBackend {
    fn gates(&self, env: &EnvName) -> Result<Gates, String> {
        self.settings(env).map(|s| s.gates)
    }

    fn analyze(&self, subject: &Subject, window: Window) -> Result<Analysis, AnalysisError> {
        let gates = self
            .settings(&subject.env)
            .map_err(AnalysisError::Setup)?
            .gates;
        let client = self.client(&subject.env).map_err(AnalysisError::Setup)?;
        crate::analysis::analyze(&gates, subject, client.as_ref(), window)
    }
}

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot start the server: {0}")]
    Runtime(std::io::Error),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
}

/// Serves on `listener` until `stop` is set, then lets the requests in flight finish (for
/// at most `options.timeout` more). `ready` is called with the address once it accepts.
pub fn serve(
    listener: std::net::TcpListener,
    backend: Arc<dyn Backend>,
    options: ServeOptions,
    stop: StopFlag,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let addr = listener.local_addr().map_err(ServeError::Runtime)?;
    listener
        .set_nonblocking(true)
        .map_err(ServeError::Runtime)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).map_err(|source| {
            ServeError::Listen {
                addr: addr.to_string(),
                source,
            }
        })?;
        let state = Arc::new(State {
            backend,
            running: tokio::sync::Semaphore::new(options.max_concurrent.max(1)),
            bucket: Mutex::new((f64::from(options.rate.max(1)), Instant::now())),
            cache: Mutex::new(HashMap::new()),
            options,
        });
        let mut connections = tokio::task::JoinSet::new();
        ready(addr);
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let state = state.clone();
                    connections.spawn(async move {
                        let io = hyper_util::rt::TokioIo::new(stream);
                        let service = hyper::service::service_fn(move |req| handle(state.clone(), req));
                        let _ = hyper::server::conn::http1::Builder::new()
                            .keep_alive(false)
                            .serve_connection(io, service)
                            .await;
                    });
                }
                _ = tick.tick() => {
                    while connections.try_join_next().is_some() {}
                    if stop.load(std::sync::atomic::Ordering::SeqCst) != 0 {
                        break;
                    }
                }
            }
        }
        drop(listener);
        let grace = state.options.timeout + Duration::from_secs(1);
        let _ = tokio::time::timeout(grace, async {
            while connections.join_next().await.is_some() {}
        })
        .await;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(query: &str) -> Result<Ask, ApiError> {
        ask(&Method::GET, Some(query), b"")
    }

    #[test]
    fn a_get_names_the_rollout_by_hashes_or_versions() {
        let a =
            get("env=prod&canary-hash=5d8c9f7b6&stable-hash=7f9c8d6e5&since=2026-12-01T09:00:00Z")
                .expect("valid");
        assert_eq!(a.subject.env.as_str(), "prod");
        assert_eq!(a.subject.canary_hash.as_deref(), Some("5d8c9f7b6"));
        assert_eq!(a.since, Some(1_796_115_600.0));
        assert!(!a.post && !a.require_pass);
        let v = get("env=prod&canary-version=1.4.0&baseline-version=1.3.2&require=pass")
            .expect("valid");
        assert_eq!(v.subject.canary_version.as_deref(), Some("1.4.0"));
        assert!(v.require_pass);
    }

    #[test]
    fn bad_parameters_are_a_400_naming_the_parameter() {
        for (query, parameter) in [
            ("canary-hash=x", "env"),
            ("env=pr%22od", "env"),
            (
                "env=prod&canary-hash=a%22%7D%20or%20vector(1)",
                "canary-hash",
            ),
            ("env=prod&since=yesterday", "since"),
            ("env=prod&canary_hash=x", "canary_hash"),
            ("env=prod&env=dev", "env"),
            ("env=prod&require=fail", "require"),
            ("env=prod&since=200&until=100", "until"),
        ] {
            let e = get(query).expect_err(query);
            assert_eq!(
                (e.status, e.parameter.as_deref()),
                (400, Some(parameter)),
                "{query}: {e:?}"
            );
        }
        let e = get("env=prod&canary_hash=x").expect_err("typo");
        assert_eq!(e.hint.as_deref(), Some("did you mean `canary-hash`?"));
    }

    #[test]
    fn flagger_posts_its_parameters_in_metadata() {
        let body = br#"{"name":"storefront","namespace":"shop","phase":"Progressing","checksum":"abc",
            "metadata":{"env":"prod","canary-hash":"canary","stable-hash":"primary","require":"pass"}}"#;
        let a = ask(&Method::POST, None, body).expect("valid");
        assert_eq!(a.subject.stable_hash.as_deref(), Some("primary"));
        assert!(a.post && a.require_pass);
        assert_eq!(status(&a, Verdict::Continue), 412);
        let plain = ask(&Method::POST, None, br#"{"env":"prod"}"#).expect("valid");
        assert_eq!(status(&plain, Verdict::Fail), 409);
        assert_eq!(status(&plain, Verdict::Continue), 200);
        let e = ask(&Method::POST, None, b"[1]").expect_err("not an object");
        assert_eq!(e.parameter.as_deref(), Some("body"));
    }

    #[test]
    fn a_get_always_answers_200_with_the_verdict() {
        let a = get("env=prod").expect("valid");
        for v in [Verdict::Pass, Verdict::Fail, Verdict::Continue] {
            assert_eq!(status(&a, v), 200);
        }
    }

    #[test]
    fn the_window_ends_at_the_last_whole_interval() {
        let gates = Gates::default();
        let interval = gates.rollout.interval.secs();
        let a = Ask {
            since: Some(1000.0),
            ..get("env=prod").expect("valid")
        };
        let w = window(&a, &gates, 1000.0 + 2.5 * interval).expect("window");
        assert_eq!((w.from, w.to), (1000.0, 1000.0 + 2.0 * interval));
        let future = Ask {
            since: Some(5000.0),
            ..a
        };
        assert_eq!(
            window(&future, &gates, 1000.0)
                .expect_err("future")
                .parameter
                .as_deref(),
            Some("since")
        );
    }
}
