//! PagerDuty Events API v2: change events (`/v2/change/enqueue`) for promotions, rollbacks
//! and releases, and alerts (`/v2/enqueue`) triggered for what must page, resolved when a
//! later rollback or recovery succeeds. An alert's `dedup_key` is per environment and
//! version, so a second failure of the same rollout updates the open incident.

use serde_json::{Value, json};

use crate::message::{Message, clip};

/// The default endpoint.
pub const EVENTS_API: &str = "https://events.pagerduty.com";

/// The key of the alert about `version` in `env`.
pub fn dedup_key(env: &str, version: &str) -> String {
    clip(&format!("shipgate/{env}/{version}"), 255)
}

fn details(m: &Message, text: &str) -> Value {
    let mut details = serde_json::Map::new();
    details.insert("text".into(), json!(text));
    for (k, v) in &m.fields {
        details.insert(k.clone(), json!(v));
    }
    for g in &m.gates {
        let mark = if g.passed { "passed" } else { "did not pass" };
        details.insert(
            format!("gate {}", g.name),
            json!(format!("{mark}: {}", g.detail)),
        );
    }
    Value::Object(details)
}

fn links(m: &Message) -> Value {
    m.links
        .iter()
        .map(|l| json!({"href": l.url, "text": l.label}))
        .collect()
}

/// A change event.
pub fn change(routing_key: &str, m: &Message, text: Option<&str>) -> Value {
    let text = text.unwrap_or(&m.text);
    json!({
        "routing_key": routing_key,
        "payload": {
            "summary": clip(&m.title, 1024),
            "timestamp": m.at.to_string(),
            "source": "shipgate",
            "custom_details": details(m, text),
        },
        "links": links(m),
    })
}

/// An alert: triggered, with `severity = "critical"`, for `dedup_key`.
pub fn trigger(routing_key: &str, key: &str, m: &Message, text: Option<&str>) -> Value {
    let text = text.unwrap_or(&m.text);
    json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": key,
        "payload": {
            "summary": clip(&format!("{}: {}", m.title, text), 1024),
            "timestamp": m.at.to_string(),
            "source": m.env.as_deref().map_or("shipgate".to_string(), |e| format!("shipgate/{e}")),
            "severity": "critical",
            "component": m.env,
            "group": "shipgate",
            "class": m.event,
            "custom_details": details(m, text),
        },
        "links": links(m),
        "client": "shipgate",
    })
}

/// The alert of `dedup_key` resolved.
pub fn resolve(routing_key: &str, key: &str) -> Value {
    json!({"routing_key": routing_key, "event_action": "resolve", "dedup_key": key})
}
