//! `[[notify]]`: the channels that hear what shipgate decided (Slack, Teams, PagerDuty,
//! e-mail, Grafana annotations, a signed webhook), and `[links]`: the runbook and dashboard
//! each message links to. Plain data and its checks; sending is `shipgate-notify`'s.
//!
//! Secrets are never written here: a channel names the environment variables that hold
//! them (`url-env`, `token-env`, `routing-key-env`, `password-env`, `secret-env`), read
//! when a command is about to send.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use shipgate_stdx::duration::HumanDuration;

/// What a channel may be told of, as `events = [...]` names it: each kind of outcome, with
/// a canary's verdict split by its result.
pub const EVENTS: &[(&str, &str)] = &[
    ("release", "a release was made"),
    ("promotion", "a version became an environment's"),
    ("promotion-refused", "a promotion was refused by its gates"),
    ("promotion-proposed", "`promote --pr` opened a pull request"),
    ("approval-needed", "a promotion waits for approvals"),
    ("approval", "someone approved a version"),
    ("verification", "a version's verification was recorded"),
    ("canary-started", "a canary started moving traffic"),
    ("canary-step", "a canary reached a step of its rollout"),
    ("canary-passed", "a canary's verdict: promoted"),
    ("canary-failed", "a canary's verdict: rolled back"),
    (
        "canary-inconclusive",
        "a canary's verdict: paused, traffic left where it is",
    ),
    ("rollback", "an environment went back to an earlier version"),
    (
        "rollback-failed",
        "a rollback could not be done: traffic may be stuck",
    ),
    (
        "stale-hold",
        "a dead canary's hold was found and its traffic sent back",
    ),
    ("freeze", "an environment was frozen"),
    ("unfreeze", "an emergency freeze ended"),
    ("unblock", "a blocked version may be promoted again"),
];

/// What PagerDuty pages for unless `page-on` says otherwise.
pub const DEFAULT_PAGE_ON: &[&str] = &["rollback-failed", "stale-hold", "canary-inconclusive"];

/// A channel's kind.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum ChannelKind {
    /// An incoming webhook (`url-env`), or a bot token (`token-env`, `channel`) whose
    /// canary messages go in one thread.
    Slack,
    /// A Teams Workflows webhook (`url-env`), with an Adaptive Card.
    Teams,
    /// PagerDuty Events API v2 (`routing-key-env`): change events, and alerts for `page-on`.
    Pagerduty,
    /// SMTP (`smtp`, `from`, `to`), plain text and HTML.
    Email,
    /// Grafana annotations (`url`, `token-env`).
    Grafana,
    /// A JSON POST of the event (`url` or `url-env`), signed with `secret-env`.
    Webhook,
}

impl ChannelKind {
    /// As the file writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Slack => "slack",
            ChannelKind::Teams => "teams",
            ChannelKind::Pagerduty => "pagerduty",
            ChannelKind::Email => "email",
            ChannelKind::Grafana => "grafana",
            ChannelKind::Webhook => "webhook",
        }
    }
}

/// `[[notify]]`: one channel.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(extend("examples" = [
    { "kind": "slack", "name": "ops", "token-env": "SLACK_BOT_TOKEN", "channel": "#deploys",
      "events": ["promotion", "rollback", "canary-failed"], "environments": ["prod"], "timeout": "10s" },
    { "kind": "pagerduty", "routing-key-env": "PAGERDUTY_ROUTING_KEY",
      "page-on": ["rollback-failed", "stale-hold"] },
    { "kind": "email", "smtp": "smtp://smtp.example.com:587", "username-env": "SMTP_USER",
      "password-env": "SMTP_PASSWORD", "from": "shipgate <deploy@example.com>",
      "to": ["oncall@example.com"], "template": "notify/email.hbs" },
    { "kind": "grafana", "url": "https://grafana.example.com", "token-env": "GRAFANA_TOKEN",
      "dashboard-uid": "storefront", "tags": ["storefront"] },
    { "kind": "webhook", "url-env": "DEPLOY_WEBHOOK_URL", "secret-env": "DEPLOY_WEBHOOK_SECRET" },
]))]
pub struct Channel {
    /// What the channel is.
    pub kind: ChannelKind,
    /// Its name in warnings and for `shipgate notify test --channel NAME` (default: the
    /// kind and its position among the channels, e.g. `slack-1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9_-]{1,63}$"))]
    pub name: Option<String>,
    /// Where requests go: Slack's API or webhook, PagerDuty's Events API, Grafana, a
    /// webhook, or a proxy or test server in their place. Not a secret (use `url-env` for
    /// a webhook URL that is one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The variable that holds the (secret) webhook URL: Slack's incoming webhook, Teams'
    /// Workflows webhook, a webhook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_env: Option<String>,
    /// The variable that holds a token: a Slack bot token (`xoxb-…`), a Grafana service
    /// account token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
    /// Slack with a bot token: the channel to post in (`#ops-alerts` or an ID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// PagerDuty: the variable that holds the integration's routing key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_key_env: Option<String>,
    /// PagerDuty: the events that trigger an alert (default: `rollback-failed`,
    /// `stale-hold`, `canary-inconclusive`, the last in the last environment only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_on: Option<Vec<String>>,
    /// E-mail: the server, `smtp://host:587` (STARTTLS, required) or `smtps://host:465`
    /// (TLS from the start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<String>,
    /// E-mail: the variable that holds the SMTP user name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username_env: Option<String>,
    /// E-mail: the variable that holds the SMTP password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// E-mail: the sender, `shipgate <deploy@example.com>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// E-mail: the recipients.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    /// Grafana: the annotations' tags (`shipgate`, the environment and the event's kind are
    /// always added).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Grafana: the dashboard the annotations belong to (default: an organization-wide
    /// annotation that any dashboard can show by its tags).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dashboard_uid: Option<String>,
    /// Webhook: the variable that holds the key of `X-Shipgate-Signature-256`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_env: Option<String>,
    /// The events sent (default: every one but `canary-step`, which only a Slack bot's
    /// thread gets by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<String>>,
    /// The environments whose events are sent (default: every one; a release has none and
    /// is always sent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub environments: Vec<String>,
    /// How long a delivery may take, retries included.
    #[serde(default = "default_timeout")]
    pub timeout: HumanDuration,
    /// A handlebars file (relative to the repository) whose output replaces the default
    /// text: Slack's `text`, Teams' card text, the e-mail's body, the annotation's text,
    /// PagerDuty's summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

fn default_timeout() -> HumanDuration {
    HumanDuration(Duration::from_secs(5))
}

impl Channel {
    /// Its name: `name`, else the kind and its 1-based position among all channels.
    pub fn display_name(&self, index: usize) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None => format!("{}-{}", self.kind.as_str(), index + 1),
        }
    }

    /// The environment variables this channel reads, with the key that names each.
    pub fn secret_vars(&self) -> Vec<(&'static str, &str)> {
        [
            ("url-env", &self.url_env),
            ("token-env", &self.token_env),
            ("routing-key-env", &self.routing_key_env),
            ("username-env", &self.username_env),
            ("password-env", &self.password_env),
            ("secret-env", &self.secret_env),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v.as_deref()?)))
        .collect()
    }

    /// Whether it hears `event` (an [`EVENTS`] name) of `env` (None: a release).
    pub fn wants(&self, event: &str, env: Option<&str>) -> bool {
        let by_event = match &self.events {
            Some(events) => events.iter().any(|e| e == event),
            // Steps are for a thread; anything else would be a message a step.
            None => event != "canary-step" || self.is_slack_bot(),
        };
        let by_env = match env {
            Some(env) => self.environments.is_empty() || self.environments.iter().any(|e| e == env),
            None => true,
        };
        by_event && by_env
    }

    /// Slack through `chat.postMessage` (a bot token and a channel), which can thread.
    pub fn is_slack_bot(&self) -> bool {
        self.kind == ChannelKind::Slack && self.token_env.is_some()
    }

    /// The events PagerDuty pages for.
    pub fn page_on(&self) -> Vec<String> {
        match &self.page_on {
            Some(p) => p.clone(),
            None => DEFAULT_PAGE_ON.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// What is wrong with the channel, as (key, message, hint): what its kind needs and
    /// does not take, unknown event and environment names, placeholders.
    pub fn problems(&self, order: &[String]) -> Vec<(String, String, Option<String>)> {
        let mut out = Vec::new();
        let kind = self.kind.as_str();
        let mut need = |ok: bool, key: &str, what: &str| {
            if !ok {
                out.push((
                    key.to_string(),
                    format!("a {kind} channel needs {what}"),
                    None,
                ));
            }
        };
        match self.kind {
            ChannelKind::Slack => {
                need(
                    self.url_env.is_some()
                        || self.url.is_some()
                        || (self.token_env.is_some() && self.channel.is_some()),
                    "url-env",
                    "`url-env` (an incoming webhook) or `token-env` and `channel` (a bot)",
                );
            }
            ChannelKind::Teams => need(
                self.url_env.is_some() || self.url.is_some(),
                "url-env",
                "`url-env`, the variable holding its Workflows webhook URL",
            ),
            ChannelKind::Pagerduty => need(
                self.routing_key_env.is_some(),
                "routing-key-env",
                "`routing-key-env`, the variable holding the integration's routing key",
            ),
            ChannelKind::Email => {
                need(self.smtp.is_some(), "smtp", "`smtp = \"smtp://host:587\"`");
                need(self.from.is_some(), "from", "`from`, the sender's address");
                need(!self.to.is_empty(), "to", "`to`, at least one recipient");
            }
            ChannelKind::Grafana => need(self.url.is_some(), "url", "`url`, Grafana's address"),
            ChannelKind::Webhook => need(
                self.url.is_some() || self.url_env.is_some(),
                "url",
                "`url` or `url-env`",
            ),
        }
        let allowed: &[&str] = match self.kind {
            ChannelKind::Slack => &["url", "url-env", "token-env", "channel"],
            ChannelKind::Teams => &["url", "url-env"],
            ChannelKind::Pagerduty => &["url", "routing-key-env", "page-on"],
            ChannelKind::Email => &["smtp", "username-env", "password-env", "from", "to"],
            ChannelKind::Grafana => &["url", "token-env", "tags", "dashboard-uid"],
            ChannelKind::Webhook => &["url", "url-env", "secret-env"],
        };
        let given: [(&str, bool); 13] = [
            ("url", self.url.is_some()),
            ("url-env", self.url_env.is_some()),
            ("token-env", self.token_env.is_some()),
            ("channel", self.channel.is_some()),
            ("routing-key-env", self.routing_key_env.is_some()),
            ("page-on", self.page_on.is_some()),
            ("smtp", self.smtp.is_some()),
            ("username-env", self.username_env.is_some()),
            ("password-env", self.password_env.is_some()),
            ("from", self.from.is_some()),
            ("to", !self.to.is_empty()),
            ("tags", !self.tags.is_empty()),
            ("dashboard-uid", self.dashboard_uid.is_some()),
        ];
        for (key, set) in given {
            if set && !allowed.contains(&key) {
                out.push((
                    key.to_string(),
                    format!("a {kind} channel does not take `{key}`"),
                    Some(format!("its keys: {}", allowed.join(", "))),
                ));
            }
        }
        if self.kind == ChannelKind::Slack && self.token_env.is_some() != self.channel.is_some() {
            out.push((
                if self.channel.is_some() {
                    "channel"
                } else {
                    "token-env"
                }
                .to_string(),
                "a Slack bot needs both `token-env` and `channel`".to_string(),
                None,
            ));
        }
        for (key, var) in self.secret_vars() {
            if !is_var_name(var) {
                out.push((
                    key.to_string(),
                    format!("`{}` is not an environment variable's name", var.escape_debug()),
                    Some(format!(
                        "{key} names the variable that holds the secret (e.g. SLACK_WEBHOOK_URL), never the secret itself"
                    )),
                ));
            }
        }
        if let Some(url) = &self.url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            out.push(("url".into(), format!("`{url}` is not an http(s) URL"), None));
        }
        if let Some(smtp) = &self.smtp
            && smtp_server(smtp).is_none()
        {
            out.push((
                "smtp".into(),
                format!("`{smtp}` is not an SMTP server"),
                Some("write smtp://host:587 (STARTTLS) or smtps://host:465 (TLS)".into()),
            ));
        }
        let names: Vec<&str> = EVENTS.iter().map(|(n, _)| *n).collect();
        let lists = [
            ("events", self.events.as_deref()),
            ("page-on", self.page_on.as_deref()),
        ];
        for (key, list) in lists {
            for name in list.unwrap_or_default() {
                if !names.contains(&name.as_str()) {
                    let hint = shipgate_stdx::text::did_you_mean(name, &names)
                        .map(|n| format!("did you mean `{n}`?"))
                        .unwrap_or_else(|| format!("events: {}", names.join(", ")));
                    out.push((key.into(), format!("`{name}` is not an event"), Some(hint)));
                }
            }
        }
        if !order.is_empty() {
            for env in &self.environments {
                if !order.contains(env) {
                    out.push((
                        "environments".into(),
                        format!("`{env}` is not in [environments] order"),
                        Some(format!("environments: {}", order.join(", "))),
                    ));
                }
            }
        }
        if let Some(name) = &self.name
            && shipgate_stdx::names::check_env(name).is_err()
        {
            out.push((
                "name".into(),
                format!("`{}` is not a channel name", name.escape_debug()),
                Some("letters, digits, `-` and `_`".into()),
            ));
        }
        if self.timeout.0.is_zero() {
            out.push((
                "timeout".into(),
                "a timeout of 0 sends nothing".into(),
                None,
            ));
        }
        out
    }
}

/// The host, port and whether TLS starts at once (`smtps`) of an `smtp` setting.
pub fn smtp_server(smtp: &str) -> Option<(String, u16, bool)> {
    let (implicit, rest) = if let Some(r) = smtp.strip_prefix("smtps://") {
        (true, r)
    } else {
        (false, smtp.strip_prefix("smtp://")?)
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().ok()?),
        None => (rest, if implicit { 465 } else { 587 }),
    };
    let ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
    ok.then(|| (host.to_string(), port, implicit))
}

fn is_var_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `[links]`: the runbook and dashboard a message links to, with `{{env}}`, `{{version}}`,
/// `{{from}}` and `{{to}}` (the window around the event, Unix milliseconds, as Grafana's
/// `from`/`to` take them). An environment's and a deciding metric's own win over the
/// defaults.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Links {
    /// What to do when a deployment fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "https://wiki.example.com/runbooks/deploy")]
    pub runbook: Option<String>,
    /// Where to watch it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "https://grafana.example.com/d/deploys")]
    pub dashboard: Option<String>,
    /// `[links.env.<ENV>]`: one environment's.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, LinkPair>,
    /// `[links.metric.<NAME>]`: when a canary's verdict is decided by this metric.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metric: BTreeMap<String, LinkPair>,
}

/// A runbook and a dashboard.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct LinkPair {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "https://wiki.example.com/runbooks/storefront-prod")]
    pub runbook: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(example = "https://grafana.example.com/d/storefront-prod")]
    pub dashboard: Option<String>,
}

/// The placeholders a link may hold.
pub const LINK_PLACEHOLDERS: &[&str] = &["env", "version", "from", "to"];

impl Links {
    /// The runbook and the dashboard for an event of `env` decided by `metric`.
    pub fn pick(&self, env: Option<&str>, metric: Option<&str>) -> LinkPair {
        let by_metric = metric.and_then(|m| self.metric.get(m));
        let by_env = env.and_then(|e| self.env.get(e));
        let pick = |f: fn(&LinkPair) -> &Option<String>, default: &Option<String>| {
            by_metric
                .and_then(|p| f(p).clone())
                .or_else(|| by_env.and_then(|p| f(p).clone()))
                .or_else(|| default.clone())
        };
        LinkPair {
            runbook: pick(|p| &p.runbook, &self.runbook),
            dashboard: pick(|p| &p.dashboard, &self.dashboard),
        }
    }

    /// What is wrong, as (key, message, hint): a link that is no http(s) URL, a
    /// placeholder that is not one of [`LINK_PLACEHOLDERS`], an unknown environment.
    pub fn problems(&self, order: &[String]) -> Vec<(String, String, Option<String>)> {
        let mut out = Vec::new();
        let mut check = |key: String, link: &Option<String>| {
            let Some(link) = link else { return };
            if !(link.starts_with("https://") || link.starts_with("http://")) {
                out.push((key.clone(), format!("`{link}` is not an http(s) URL"), None));
            }
            // Read as every template is read, so what is checked is what is rendered.
            let Ok(found) = shipgate_judge::settings::placeholders(link) else {
                out.push((key.clone(), "a `{{` without `}}`".into(), None));
                return;
            };
            for p in found
                .iter()
                .filter(|p| !LINK_PLACEHOLDERS.contains(&p.name))
            {
                out.push((
                    key.clone(),
                    format!("`{{{{{}}}}}` is not a placeholder of a link", p.name),
                    Some(format!(
                        "placeholders: {{{{{}}}}}",
                        LINK_PLACEHOLDERS.join("}}, {{")
                    )),
                ));
            }
        };
        check("runbook".into(), &self.runbook);
        check("dashboard".into(), &self.dashboard);
        for (scope, map) in [("env", &self.env), ("metric", &self.metric)] {
            for (name, pair) in map {
                check(format!("{scope}.{name}.runbook"), &pair.runbook);
                check(format!("{scope}.{name}.dashboard"), &pair.dashboard);
            }
        }
        if !order.is_empty() {
            for env in self.env.keys().filter(|e| !order.contains(e)) {
                out.push((
                    format!("env.{env}"),
                    format!("[links.env.{env}] names an unknown environment"),
                    Some(format!("environments: {}", order.join(", "))),
                ));
            }
        }
        out
    }
}

/// A link with its placeholders filled: each value percent-encoded, so that a version or an
/// environment cannot add a parameter or a path.
pub fn render_link(template: &str, vars: &[(&str, &str)]) -> String {
    shipgate_judge::settings::render_with(template, vars, shipgate_stdx::text::percent_encode)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn channel(text: &str) -> Channel {
        toml::from_str(text).expect("parses")
    }

    #[test]
    fn each_kind_says_what_it_needs_and_what_it_does_not_take() {
        let slack = channel("kind = \"slack\"\nfrom = \"a@b\"");
        let problems: Vec<String> = slack.problems(&[]).into_iter().map(|p| p.1).collect();
        assert!(
            problems.iter().any(|p| p.contains("needs `url-env`")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("does not take `from`")),
            "{problems:?}"
        );
        let ok = channel("kind = \"pagerduty\"\nrouting-key-env = \"PD_KEY\"");
        assert_eq!(ok.problems(&[]), vec![]);
        let secret_inline = channel("kind = \"slack\"\nurl-env = \"https://hooks.slack.com/x\"");
        let p = secret_inline.problems(&[]);
        assert_eq!(p[0].0, "url-env");
        assert!(
            p[0].2.as_deref().unwrap().contains("never the secret"),
            "{p:?}"
        );
    }

    #[test]
    fn unknown_events_and_environments_are_named_with_a_suggestion() {
        let c = channel(
            "kind = \"webhook\"\nurl = \"https://x\"\nevents = [\"rolback\"]\nenvironments = [\"prd\"]",
        );
        let p = c.problems(&["dev".into(), "prod".into()]);
        assert_eq!(p[0].1, "`rolback` is not an event");
        assert_eq!(p[0].2.as_deref(), Some("did you mean `rollback`?"));
        assert_eq!(p[1].0, "environments");
    }

    #[test]
    fn the_default_events_leave_steps_to_a_bots_thread() {
        let hook = channel("kind = \"slack\"\nurl-env = \"S\"");
        assert!(hook.wants("rollback", Some("prod")));
        assert!(!hook.wants("canary-step", Some("prod")));
        let bot = channel("kind = \"slack\"\ntoken-env = \"T\"\nchannel = \"#ops-alerts\"");
        assert!(bot.wants("canary-step", Some("prod")));
        let prod_only = channel(
            "kind = \"slack\"\nurl-env = \"S\"\nenvironments = [\"prod\"]\nevents = [\"rollback\"]",
        );
        assert!(prod_only.wants("rollback", Some("prod")));
        assert!(!prod_only.wants("rollback", Some("dev")));
        assert!(!prod_only.wants("promotion", Some("prod")));
        assert!(prod_only.wants("rollback", None));
    }

    #[test]
    fn smtp_servers_and_their_tls() {
        assert_eq!(
            smtp_server("smtp://mail.example.com:587"),
            Some(("mail.example.com".into(), 587, false))
        );
        assert_eq!(
            smtp_server("smtps://mail.example.com"),
            Some(("mail.example.com".into(), 465, true))
        );
        assert_eq!(smtp_server("mail.example.com"), None);
        assert_eq!(smtp_server("smtp://a b:25"), None);
    }

    #[test]
    fn links_pick_the_metric_then_the_environment_then_the_default() {
        let links: Links = toml::from_str(
            "runbook = \"https://wiki/rb\"\ndashboard = \"https://g/d\"\n[env.prod]\ndashboard = \"https://g/prod\"\n[metric.p95-latency]\nrunbook = \"https://wiki/latency\"",
        )
        .expect("parses");
        let p = links.pick(Some("prod"), Some("p95-latency"));
        assert_eq!(p.runbook.as_deref(), Some("https://wiki/latency"));
        assert_eq!(p.dashboard.as_deref(), Some("https://g/prod"));
        let d = links.pick(Some("dev"), None);
        assert_eq!(d.runbook.as_deref(), Some("https://wiki/rb"));
        assert_eq!(d.dashboard.as_deref(), Some("https://g/d"));
    }

    #[test]
    fn a_link_gets_its_values_encoded_and_unknown_placeholders_are_refused() {
        let url = render_link(
            "https://g/d/shop?var-env={{env}}&from={{from}}&v={{ version }}",
            &[
                ("env", "prod"),
                ("from", "1700000000000"),
                ("version", "1.0.0&x=1#"),
            ],
        );
        assert_eq!(
            url,
            "https://g/d/shop?var-env=prod&from=1700000000000&v=1.0.0%26x%3D1%23"
        );
        let links: Links =
            toml::from_str("runbook = \"https://wiki/{{service}}\"").expect("parses");
        let p = links.problems(&[]);
        assert_eq!(p[0].1, "`{{service}}` is not a placeholder of a link");
    }
}
