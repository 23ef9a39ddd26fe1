//! Teams: a message as an Adaptive Card (1.4) posted to a Workflows webhook (the Office 365
//! connectors are retired).

use serde_json::{Value, json};

use crate::message::{Message, Severity, clip};

/// The card of `m`; `text` replaces the message's own text.
pub fn payload(m: &Message, text: Option<&str>) -> Value {
    let text = text.unwrap_or(&m.text);
    let color = match m.severity {
        Severity::Info => "Default",
        Severity::Success => "Good",
        Severity::Warning => "Warning",
        Severity::Critical => "Attention",
    };
    let mut body = vec![
        json!({"type": "TextBlock", "text": clip(&m.title, 300), "weight": "Bolder", "size": "Medium", "color": color, "wrap": true}),
        json!({"type": "TextBlock", "text": clip(text, 4000), "wrap": true}),
    ];
    if !m.fields.is_empty() {
        let facts: Vec<Value> = m
            .fields
            .iter()
            .map(|(k, v)| json!({"title": k, "value": clip(v, 1000)}))
            .collect();
        body.push(json!({"type": "FactSet", "facts": facts}));
    }
    if !m.gates.is_empty() {
        let facts: Vec<Value> = m
            .gates
            .iter()
            .map(|g| {
                let mark = if g.passed { "✅" } else { "❌" };
                json!({"title": format!("{mark} {}", g.name), "value": clip(&g.detail, 1000)})
            })
            .collect();
        body.push(json!({"type": "FactSet", "facts": facts}));
    }
    let actions: Vec<Value> = m
        .links
        .iter()
        .map(|l| json!({"type": "Action.OpenUrl", "title": l.label, "url": l.url}))
        .collect();
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "msteams": {"width": "Full"},
                "body": body,
                "actions": actions,
            }
        }]
    })
}
