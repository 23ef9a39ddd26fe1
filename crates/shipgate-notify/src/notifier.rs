//! A `[[notify]]` channel as a listener of the pipeline's events: its secrets read once
//! from the environment, its filters (`events`, `environments`), the message laid out its
//! way and delivered within its timeout; a Slack bot's canary thread, PagerDuty's alerts
//! and their resolution, Grafana's canary regions; and the outbox, so that an event is
//! sent at most once to a channel and a failed delivery is kept to be sent again.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use handlebars::Handlebars;
use serde_json::{Value, json};
use shipgate_pipeline::{Event, Heard, Listener, Record};
use shipgate_settings::Settings;
use shipgate_settings::notify::{Channel, ChannelKind, Links};

use crate::deliver::{Post, post};
use crate::message::{Message, message};
use crate::outbox::{Outbox, Pending, delivery_id};
use crate::{grafana, pagerduty, slack, teams, webhook};

/// Why the channels cannot be set up. Each names the channel and where it is configured.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("{place}: [[notify]] {channel}: {key} names {var}, which is not set")]
    MissingSecret {
        channel: String,
        key: &'static str,
        var: String,
        place: String,
    },
    #[error("{place}: [[notify]] {channel}: cannot read the template {path}: {message}")]
    Template {
        channel: String,
        path: String,
        place: String,
        message: String,
    },
    #[error("[[notify]] {channel}: {source}")]
    Client {
        channel: String,
        source: shipgate_http::ClientSetupError,
    },
    #[error("no [[notify]] channel is named {name}")]
    UnknownChannel { name: String, known: Vec<String> },
}

impl NotifyError {
    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            NotifyError::MissingSecret { var, .. } => Some(format!(
                "set {var} (in GitHub Actions: `env: {var}: ${{{{ secrets.{var} }}}}`), or remove the channel"
            )),
            NotifyError::Template { .. } => Some(
                "`template` is a handlebars file relative to the repository; `{{title}}`, `{{text}}`, `{{env}}`, `{{version}}` …".into(),
            ),
            NotifyError::Client { .. } => None,
            NotifyError::UnknownChannel { known, .. } => {
                Some(format!("channels: {}", known.join(", ")))
            }
        }
    }
}

/// Posts JSON to a URL with more headers (a channel's way of sending).
type JsonPost<'a> = dyn Fn(&str, &Value, Vec<(&'static str, String)>) -> Result<crate::deliver::Answer, String>
    + 'a;

/// Reads an environment variable.
pub type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// A channel's secrets, as read.
#[derive(Default)]
struct Secrets {
    url: Option<String>,
    token: Option<String>,
    routing_key: Option<String>,
    secret: Option<String>,
}

/// What every channel of a repository shares.
#[derive(Clone)]
pub struct Shared {
    pub links: Links,
    /// The last environment of `[environments] order` (where an inconclusive canary pages).
    pub production: Option<String>,
    pub outbox: Option<Outbox>,
}

/// One channel, ready to send.
pub struct Notifier {
    name: String,
    channel: Channel,
    secrets: Secrets,
    /// The environment variables' values, for the e-mail channel.
    values: HashMap<String, String>,
    /// What must never be printed or kept: the secrets, and the paths of secret URLs.
    hidden: Vec<String>,
    client: reqwest::blocking::Client,
    template: Option<Handlebars<'static>>,
    shared: Shared,
    /// A Slack bot's thread of each canary run (`prod/1.4.0` → `ts`).
    threads: HashMap<String, String>,
    flushed: bool,
}

/// Every channel of `settings` (only `only`'s when given), its secrets read through
/// `lookup` and its template from `repo`. A secret that is not set is an error naming the
/// variable and where the channel is configured.
pub fn notifiers(
    settings: &Settings,
    repo: &Path,
    git_dir: Option<&Path>,
    lookup: Lookup<'_>,
    only: Option<&str>,
) -> Result<Vec<Notifier>, NotifyError> {
    if let Some(only) = only
        && !settings
            .notify
            .iter()
            .enumerate()
            .any(|(i, c)| c.display_name(i) == only)
    {
        return Err(NotifyError::UnknownChannel {
            name: only.into(),
            known: settings
                .notify
                .iter()
                .enumerate()
                .map(|(i, c)| c.display_name(i))
                .collect(),
        });
    }
    each(settings, repo, git_dir, lookup)
        .into_iter()
        .filter(|(name, _)| only.is_none_or(|o| o == name))
        .map(|(_, built)| built)
        .collect()
}

/// Each channel of `settings` by its name, set up or with why it cannot be: for a command
/// that goes on without the channels it cannot tell (an emergency).
pub fn each(
    settings: &Settings,
    repo: &Path,
    git_dir: Option<&Path>,
    lookup: Lookup<'_>,
) -> Vec<(String, Result<Notifier, NotifyError>)> {
    let shared = Shared {
        links: settings.links.clone(),
        production: settings.environments.order.last().cloned(),
        outbox: git_dir.map(Outbox::in_git_dir),
    };
    (0..settings.notify.len())
        .map(|i| {
            let name = settings.notify[i].display_name(i);
            let built = build(settings, i, name.clone(), repo, &shared, lookup);
            (name, built)
        })
        .collect()
}

/// The `i`-th channel, named `name`.
fn build(
    settings: &Settings,
    i: usize,
    name: String,
    repo: &Path,
    shared: &Shared,
    lookup: Lookup<'_>,
) -> Result<Notifier, NotifyError> {
    let channel = &settings.notify[i];
    let mut values = HashMap::new();
    for (key, var) in channel.secret_vars() {
        let Some(value) = lookup(var).filter(|v| !v.is_empty()) else {
            return Err(NotifyError::MissingSecret {
                channel: name,
                key,
                var: var.into(),
                place: settings.notify_place(i, key),
            });
        };
        values.insert(var.to_string(), value);
    }
    let get = |v: &Option<String>| v.as_ref().and_then(|v| values.get(v).cloned());
    let secrets = Secrets {
        url: get(&channel.url_env),
        token: get(&channel.token_env),
        routing_key: get(&channel.routing_key_env),
        secret: get(&channel.secret_env),
    };
    let template = match &channel.template {
        None => None,
        Some(path) => Some(
            load_template(repo, path).map_err(|message| NotifyError::Template {
                channel: name.clone(),
                path: path.clone(),
                place: settings.notify_place(i, "template"),
                message,
            })?,
        ),
    };
    let client =
        shipgate_http::client(channel.timeout.0).map_err(|source| NotifyError::Client {
            channel: name.clone(),
            source,
        })?;
    let hidden = secret_texts(&values);
    Ok(Notifier {
        name,
        channel: channel.clone(),
        secrets,
        values,
        hidden,
        client,
        template,
        shared: shared.clone(),
        threads: HashMap::new(),
        flushed: false,
    })
}

/// Every secret value, and of a secret URL its path and query too (an answer may echo
/// only those), longest first, so a URL is hidden whole before its path is.
fn secret_texts(values: &HashMap<String, String>) -> Vec<String> {
    let mut out: Vec<String> = values.values().cloned().collect();
    for v in values.values() {
        if let Some(rest) = v
            .strip_prefix("https://")
            .or_else(|| v.strip_prefix("http://"))
            && let Some(i) = rest.find('/')
            && rest.len() - i >= 8
        {
            out.push(rest[i..].to_string());
        }
    }
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out
}

fn load_template(repo: &Path, path: &str) -> Result<Handlebars<'static>, String> {
    let inside = !path.is_empty()
        && !Path::new(path).is_absolute()
        && !path.split(['/', '\\']).any(|p| p == "..");
    if !inside {
        return Err("not a path inside the repository".into());
    }
    let text = std::fs::read_to_string(repo.join(path)).map_err(|e| e.to_string())?;
    let mut h = Handlebars::new();
    h.register_escape_fn(handlebars::no_escape);
    h.register_template_string("message", text)
        .map_err(|e| e.to_string())?;
    Ok(h)
}

/// What a channel did with an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// Delivered; a note for the user.
    Delivered(String),
    /// Not for this channel (its filters), or sent before.
    Skipped,
}

impl Notifier {
    /// The channel's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the channel hears `record`.
    pub fn wants(&self, record: &Record) -> bool {
        let m = crate::message::event_name(&record.event);
        if matches!(record.event, Event::PromotionRehearsed { .. }) {
            return false;
        }
        self.channel
            .wants(m, crate::message::event_env(&record.event))
    }

    /// Delivers `record` unless the channel does not want it or has it already; a failure
    /// is kept in the outbox and returned.
    pub fn deliver(&mut self, record: &Record) -> Result<Sent, String> {
        if !self.wants(record) {
            return Ok(Sent::Skipped);
        }
        let id = delivery_id(&self.name, record);
        if self.shared.outbox.as_ref().is_some_and(|o| o.was_sent(&id)) {
            return Ok(Sent::Skipped);
        }
        let result = self.send_record(&id, record);
        if let Some(outbox) = &self.shared.outbox {
            let stored = match &result {
                Ok(_) => outbox.mark_sent(&id),
                Err(error) => outbox.keep(&Pending {
                    id: id.clone(),
                    channel: self.name.clone(),
                    record: record.clone(),
                    error: error.clone(),
                    attempts: outbox.get(&id).map_or(1, |p| p.attempts + 1),
                }),
            };
            if let Err(e) = stored {
                return Err(format!(
                    "{}; the outbox could not record it: {e}",
                    result.err().unwrap_or_else(|| "delivered".into())
                ));
            }
        }
        result.map(Sent::Delivered)
    }

    /// Sends what the outbox holds for this channel; what is delivered leaves it.
    pub fn retry_pending(&mut self) -> Vec<(Pending, Result<Sent, String>)> {
        let Some(outbox) = self.shared.outbox.clone() else {
            return Vec::new();
        };
        outbox
            .pending(Some(&self.name))
            .into_iter()
            .map(|p| {
                let result = self.deliver(&p.record);
                (p, result)
            })
            .collect()
    }

    /// The text a template makes of `m` and `record`, when the channel has one.
    fn templated(&self, m: &Message, record: Option<&Record>) -> Result<Option<String>, String> {
        let Some(h) = &self.template else {
            return Ok(None);
        };
        let mut data = serde_json::to_value(m).map_err(|e| e.to_string())?;
        data["record"] =
            record.map_or(Value::Null, |r| serde_json::to_value(r).unwrap_or_default());
        let fields: serde_json::Map<String, Value> = m
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect();
        data["facts"] = Value::Object(fields);
        h.render("message", &data)
            .map(Some)
            .map_err(|e| format!("the template failed: {e}"))
    }

    fn send_record(&mut self, id: &str, record: &Record) -> Result<String, String> {
        let m = message(record, &self.shared.links);
        self.send(id, &m, Some(record))
    }

    /// Where a webhook-like channel (Slack's incoming webhook, Teams, a webhook) posts: the
    /// secret `url-env`, else `url` (validation makes sure there is one).
    fn webhook_url(&self) -> String {
        self.secrets
            .url
            .clone()
            .or_else(|| self.channel.url.clone())
            .unwrap_or_default()
    }

    /// Sends a message (a test message has no record) the channel's way.
    pub fn send(
        &mut self,
        id: &str,
        m: &Message,
        record: Option<&Record>,
    ) -> Result<String, String> {
        let text = self.templated(m, record)?;
        let text = text.as_deref();
        let deadline = Instant::now() + self.channel.timeout.0;
        let secrets = &self.hidden;
        let json_post = |url: &str, body: &Value, headers: Vec<(&'static str, String)>| {
            let mut headers = headers;
            headers.push(("content-type", "application/json".into()));
            headers.push((
                "user-agent",
                format!("shipgate/{}", env!("CARGO_PKG_VERSION")),
            ));
            post(
                &self.client,
                &Post {
                    url,
                    body: serde_json::to_vec(body).unwrap_or_default(),
                    headers,
                },
                deadline,
                secrets,
            )
        };
        let answered = |status: u16, body: &str| {
            format!(
                "answered {status}: {}",
                crate::message::clip(body.trim(), 300)
            )
        };
        match self.channel.kind {
            ChannelKind::Slack if self.channel.is_slack_bot() => {
                let base = self
                    .channel
                    .url
                    .as_deref()
                    .unwrap_or("https://slack.com/api");
                let mut body = slack::payload(m, text);
                body["channel"] = json!(self.channel.channel);
                let thread = m.thread.as_ref().and_then(|t| self.threads.get(t)).cloned();
                if let Some(ts) = &thread {
                    body["thread_ts"] = json!(ts);
                    // a verdict and a failed rollback show in the channel too
                    if matches!(m.severity, crate::message::Severity::Critical)
                        || m.event.starts_with("canary-") && m.event != "canary-step"
                    {
                        body["reply_broadcast"] = json!(true);
                    }
                }
                let token = self.secrets.token.clone().unwrap_or_default();
                let a = json_post(
                    &format!("{}/chat.postMessage", base.trim_end_matches('/')),
                    &body,
                    vec![("authorization", format!("Bearer {token}"))],
                )?;
                let reply: Value = serde_json::from_str(&a.body).unwrap_or(Value::Null);
                if a.status != 200 || reply["ok"] != true {
                    let error = reply["error"].as_str().unwrap_or(&a.body);
                    return Err(answered(a.status, error));
                }
                if let (Some(key), None, Some(ts)) = (&m.thread, &thread, reply["ts"].as_str()) {
                    self.threads.insert(key.clone(), ts.to_string());
                }
                Ok(match thread {
                    Some(_) => "posted in the canary's thread".into(),
                    None => "posted".into(),
                })
            }
            ChannelKind::Slack | ChannelKind::Teams => {
                let url = self.webhook_url();
                let body = match self.channel.kind {
                    ChannelKind::Slack => slack::payload(m, text),
                    _ => teams::payload(m, text),
                };
                let a = json_post(&url, &body, Vec::new())?;
                if (200..300).contains(&a.status) {
                    Ok("posted".into())
                } else {
                    Err(answered(a.status, &a.body))
                }
            }
            ChannelKind::Pagerduty => self.pagerduty(m, text, record, &json_post),
            ChannelKind::Grafana => {
                let base = self.channel.url.clone().unwrap_or_default();
                let start = match record.map(|r| &r.event) {
                    Some(Event::CanaryVerdict { decided_at_s, .. }) => {
                        Some(m.at.as_millisecond() - (decided_at_s * 1000.0) as i64)
                    }
                    _ => None,
                };
                if matches!(m.event, "canary-started" | "canary-step") {
                    // the verdict's region covers them
                    return Ok("left to the verdict's region".into());
                }
                let body = grafana::annotation(
                    m,
                    text,
                    &self.channel.tags,
                    self.channel.dashboard_uid.as_deref(),
                    start,
                );
                let headers = match &self.secrets.token {
                    Some(t) => vec![("authorization", format!("Bearer {t}"))],
                    None => Vec::new(),
                };
                let a = json_post(
                    &format!("{}/api/annotations", base.trim_end_matches('/')),
                    &body,
                    headers,
                )?;
                if a.status == 200 {
                    Ok("annotated".into())
                } else {
                    Err(answered(a.status, &a.body))
                }
            }
            ChannelKind::Webhook => {
                let url = self.webhook_url();
                let body = match record {
                    Some(r) => webhook::body(id, r, m),
                    None => {
                        json!({"id": id, "event": "test", "message": {"title": m.title, "text": m.text}})
                    }
                };
                let bytes = serde_json::to_vec(&body).unwrap_or_default();
                let mut headers = vec![
                    ("x-shipgate-delivery", id.to_string()),
                    ("x-shipgate-event", m.event.to_string()),
                    ("content-type", "application/json".to_string()),
                    (
                        "user-agent",
                        format!("shipgate/{}", env!("CARGO_PKG_VERSION")),
                    ),
                ];
                if let Some(secret) = &self.secrets.secret {
                    headers.push((
                        "x-shipgate-signature-256",
                        webhook::signature(secret.as_bytes(), &bytes),
                    ));
                }
                let a = post(
                    &self.client,
                    &Post {
                        url: &url,
                        body: bytes,
                        headers,
                    },
                    deadline,
                    secrets,
                )?;
                if (200..300).contains(&a.status) {
                    Ok("delivered".into())
                } else {
                    Err(answered(a.status, &a.body))
                }
            }
            ChannelKind::Email => {
                let values = self.values.clone();
                let lookup = move |k: &str| values.get(k).cloned();
                crate::email::send(&self.channel, &lookup, m, text, self.channel.timeout.0)
            }
        }
    }

    /// PagerDuty: a change event for a promotion, a rollback or a release; an alert for
    /// what pages; a resolution when a later rollback or verdict ends what paged.
    fn pagerduty(
        &self,
        m: &Message,
        text: Option<&str>,
        record: Option<&Record>,
        json_post: &JsonPost<'_>,
    ) -> Result<String, String> {
        let base = self
            .channel
            .url
            .clone()
            .unwrap_or_else(|| pagerduty::EVENTS_API.into());
        let base = base.trim_end_matches('/');
        let key = self.secrets.routing_key.clone().unwrap_or_default();
        // Alerts and resolutions first: PagerDuty deduplicates them by key, so a delivery
        // retried after a later step failed repeats nothing. The change event, which it
        // would record twice, goes last.
        let mut bodies: Vec<(String, Value, &str)> = Vec::new();
        let in_production = m.env.is_some() && m.env == self.shared.production;
        let pages = self.channel.page_on().iter().any(|p| p == m.event)
            && (m.event != "canary-inconclusive" || in_production);
        if let (true, Some(env), Some(version)) = (pages, &m.env, &m.version) {
            let dedup = pagerduty::dedup_key(env, version);
            bodies.push((
                format!("{base}/v2/enqueue"),
                pagerduty::trigger(&key, &dedup, m, text),
                "alert",
            ));
        }
        // What ends an alert: the environment rolled back from that version, or a later
        // verdict of the same canary.
        let resolves = match record.map(|r| &r.event) {
            Some(Event::RolledBack { env, from, .. }) => Some((env, from)),
            Some(Event::CanaryVerdict {
                env,
                version,
                result,
                ..
            }) if result != "paused" => Some((env, version)),
            _ => None,
        };
        if let Some((env, version)) = resolves {
            bodies.push((
                format!("{base}/v2/enqueue"),
                pagerduty::resolve(&key, &pagerduty::dedup_key(env, version)),
                "resolution",
            ));
        }
        if m.test || matches!(m.event, "promotion" | "rollback" | "release") {
            bodies.push((
                format!("{base}/v2/change/enqueue"),
                pagerduty::change(&key, m, text),
                "change event",
            ));
        }
        if bodies.is_empty() {
            return Ok("nothing to page or record".into());
        }
        let mut done = Vec::new();
        for (url, body, what) in bodies {
            let a = json_post(&url, &body, Vec::new())?;
            if a.status != 202 {
                return Err(format!(
                    "{what}: answered {}: {}",
                    a.status,
                    crate::message::clip(a.body.trim(), 300)
                ));
            }
            done.push(what);
        }
        Ok(format!("sent {}", done.join(", ")))
    }
}

impl Listener for Notifier {
    fn name(&self) -> String {
        format!("notify {}", self.name)
    }

    fn on(&mut self, record: &Record) -> Result<Heard, String> {
        let mut notes = Vec::new();
        // What an earlier command could not deliver goes first, once a run.
        if !self.flushed {
            self.flushed = true;
            for (p, result) in self.retry_pending() {
                if let Ok(Sent::Delivered(_)) = result {
                    notes.push(format!(
                        "{}: delivered `{}` of {} that had failed before",
                        self.name,
                        crate::message::event_name(&p.record.event),
                        p.record.at
                    ));
                }
            }
        }
        match self.deliver(record)? {
            Sent::Delivered(note) => notes.push(format!("{}: {note}", self.name)),
            Sent::Skipped => {}
        }
        Ok(Heard {
            notes,
            facts: Vec::new(),
        })
    }
}

/// What a dry run would send: for each channel that would hear `record`, a line naming the
/// channel and the message's title. Secrets are not needed (nor read).
pub struct DryRun {
    channels: Vec<(String, Channel)>,
    links: Links,
    print: Box<dyn FnMut(String) + Send>,
}

impl DryRun {
    pub fn new(settings: &Settings, print: Box<dyn FnMut(String) + Send>) -> DryRun {
        DryRun {
            channels: settings
                .notify
                .iter()
                .enumerate()
                .map(|(i, c)| (c.display_name(i), c.clone()))
                .collect(),
            links: settings.links.clone(),
            print,
        }
    }
}

impl Listener for DryRun {
    fn name(&self) -> String {
        "notify (dry run)".into()
    }

    fn on(&mut self, record: &Record) -> Result<Heard, String> {
        let name = crate::message::event_name(&record.event);
        let env = crate::message::event_env(&record.event);
        let m = message(record, &self.links);
        for (channel_name, channel) in &self.channels {
            if channel.wants(name, env) {
                (self.print)(format!(
                    "would notify {channel_name} ({}): {} — {}",
                    channel.kind.as_str(),
                    m.title,
                    m.text.lines().next().unwrap_or_default()
                ));
            }
        }
        Ok(Heard::nothing())
    }
}
