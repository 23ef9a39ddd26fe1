//! Slack: a message as Block Kit, within Slack's limits (50 blocks, a header of 150
//! characters, a section's text of 3,000, 10 fields of 2,000). Outside text is escaped for
//! mrkdwn (`&`, `<`, `>`), so a version or a reason cannot mention `@channel` or make a link.

use serde_json::{Value, json};

use crate::message::{Message, clip};

/// Text as mrkdwn shows it literally.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A URL inside `<url|label>`: the characters that would end it are encoded.
fn link(url: &str, label: &str) -> String {
    let url = url
        .replace('|', "%7C")
        .replace('>', "%3E")
        .replace('<', "%3C");
    format!("<{url}|{}>", escape(label))
}

/// The blocks and the notification text of `m`; `text` replaces the message's own text
/// (a channel's template).
pub fn payload(m: &Message, text: Option<&str>) -> Value {
    let text = text.unwrap_or(&m.text);
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": clip(&format!("{} {}", m.severity.emoji(), m.title), 150), "emoji": true}
    })];
    if !text.trim().is_empty() {
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": clip(&escape(text), 3000)}
        }));
    }
    let fields: Vec<Value> = m
        .fields
        .iter()
        .take(10)
        .map(|(k, v)| json!({"type": "mrkdwn", "text": clip(&format!("*{}*\n{}", escape(k), escape(v)), 2000)}))
        .collect();
    if !fields.is_empty() {
        blocks.push(json!({"type": "section", "fields": fields}));
    }
    if !m.gates.is_empty() {
        let lines: Vec<String> = m
            .gates
            .iter()
            .map(|g| {
                let mark = if g.passed { "✅" } else { "❌" };
                format!("{mark} *{}*: {}", escape(&g.name), escape(&g.detail))
            })
            .collect();
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": clip(&lines.join("\n"), 3000)}
        }));
    }
    if !m.links.is_empty() {
        let links: Vec<String> = m.links.iter().map(|l| link(&l.url, &l.label)).collect();
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": clip(&links.join("  ·  "), 3000)}
        }));
    }
    blocks.push(json!({
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": clip(&format!("shipgate · {} · {}", escape(&m.by), m.at.strftime("%Y-%m-%d %H:%M:%S UTC")), 3000)}]
    }));
    json!({
        "text": clip(&escape(&format!("{} {}: {}", m.severity.emoji(), m.title, text)), 3000),
        "blocks": blocks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{GateLine, Link, Severity};

    fn message() -> Message {
        Message {
            event: "canary-failed",
            severity: Severity::Critical,
            title: "Canary 1.4.0 failed in prod".into(),
            text: "<!channel> p95 & more".into(),
            fields: (0..14)
                .map(|i| (format!("k{i}"), "v".repeat(3000)))
                .collect(),
            gates: vec![GateLine {
                name: "soak".into(),
                passed: false,
                detail: "<b>".into(),
            }],
            links: vec![Link {
                label: "CI run".into(),
                url: "https://ci/x?a=1|b>".into(),
            }],
            env: Some("prod".into()),
            version: Some("1.4.0".into()),
            by: "bot".into(),
            at: jiff::Timestamp::UNIX_EPOCH,
            thread: None,
            test: false,
        }
    }

    #[test]
    fn blocks_stay_within_slacks_limits_and_text_is_escaped() {
        let p = payload(&message(), None);
        let blocks = p["blocks"].as_array().expect("blocks");
        assert!(blocks.len() <= 50);
        let fields = blocks[2]["fields"].as_array().expect("fields");
        assert_eq!(fields.len(), 10);
        assert!(
            fields
                .iter()
                .all(|f| f["text"].as_str().unwrap().chars().count() <= 2000)
        );
        assert_eq!(blocks[1]["text"]["text"], "&lt;!channel&gt; p95 &amp; more");
        assert_eq!(blocks[3]["text"]["text"], "❌ *soak*: &lt;b&gt;");
        assert_eq!(
            blocks[4]["text"]["text"],
            "<https://ci/x?a=1%7Cb%3E|CI run>"
        );
        assert!(
            p["text"]
                .as_str()
                .unwrap()
                .starts_with("🚨 Canary 1.4.0 failed in prod: &lt;!channel&gt;")
        );
    }

    #[test]
    fn a_template_replaces_the_text() {
        let p = payload(&message(), Some("custom"));
        assert_eq!(p["blocks"][1]["text"]["text"], "custom");
    }
}
