//! Grafana: an annotation per event (`POST /api/annotations`), a region from a canary's
//! start to its verdict, tagged `shipgate`, the environment, the event and the channel's
//! own tags, on one dashboard or organization-wide.

use serde_json::{Value, json};

use crate::message::{Message, clip};

/// The annotation of `m`; `start_ms` makes it a region (a canary's run).
pub fn annotation(
    m: &Message,
    text: Option<&str>,
    tags: &[String],
    dashboard_uid: Option<&str>,
    start_ms: Option<i64>,
) -> Value {
    let text = text.unwrap_or(&m.text);
    let mut all_tags = vec!["shipgate".to_string()];
    all_tags.extend(m.env.clone());
    all_tags.push(m.event.to_string());
    all_tags.extend(tags.iter().cloned());
    let mut lines = vec![m.title.clone(), text.to_string()];
    lines.extend(m.links.iter().map(|l| format!("{}: {}", l.label, l.url)));
    let end = m.at.as_millisecond();
    let mut body = json!({
        "time": start_ms.map_or(end, |s| s.min(end)),
        "tags": all_tags,
        "text": clip(&lines.join("\n"), 4000),
    });
    if start_ms.is_some() {
        body["timeEnd"] = json!(end);
    }
    if let Some(uid) = dashboard_uid {
        body["dashboardUID"] = json!(uid);
    }
    body
}
