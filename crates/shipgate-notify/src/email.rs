//! The e-mail channel: a [`Message`] as a multipart/alternative mail (plain text and HTML,
//! every piece of the message's text escaped in the HTML), sent by SMTP with STARTTLS
//! required (`smtp://host:587`) or TLS from the start (`smtps://host:465`); never in clear.
//! TLS trusts what shipgate-http trusts: the Mozilla roots, the system's store,
//! `SSL_CERT_FILE` and `SSL_CERT_DIR`.

use std::fmt::Write as _;
use std::sync::mpsc;
use std::time::Duration;

use lettre::Transport as _;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::SmtpTransport;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use shipgate_settings::notify::{Channel, ChannelKind, smtp_server};
use shipgate_stdx::duration::HumanDuration;

use crate::message::{Message, Severity};

/// Sends `message` by SMTP as `channel` (kind = "email") says. `lookup` reads an
/// environment variable (the caller passes `|k| std::env::var(k).ok()`, tests pass a map);
/// `body` replaces the default plain-text body when the channel has a template. Returns a
/// short note for the user (e.g. "mailed 2 recipient(s)"), or an error in words that never
/// contains a password, user name or any secret value.
pub fn send(
    channel: &Channel,
    lookup: &dyn Fn(&str) -> Option<String>,
    message: &Message,
    body: Option<&str>,
    timeout: Duration,
) -> Result<String, String> {
    if channel.kind != ChannelKind::Email {
        return Err(format!(
            "a {} channel is not an e-mail channel",
            channel.kind.as_str()
        ));
    }
    let smtp = channel
        .smtp
        .as_deref()
        .ok_or("an email channel needs `smtp = \"smtp://host:587\"`")?;
    let (host, port, implicit) = smtp_server(smtp).ok_or_else(|| {
        format!(
            "`smtp` = \"{}\" is not an SMTP server: write smtp://host:587 (STARTTLS) or smtps://host:465 (TLS)",
            smtp.escape_debug()
        )
    })?;
    // An IPv6 literal is written in brackets in the URL, and without them in TLS and DNS.
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(&host)
        .to_string();
    let mail = compose(channel, message, body)?;
    let login = credentials(channel, lookup)?;
    let secrets: Vec<String> = login
        .iter()
        .flat_map(|(user, password)| [user.clone(), password.clone()])
        .collect();
    let tls = tls_parameters(&host)?;
    let mut transport = SmtpTransport::builder_dangerous(host.as_str())
        .port(port)
        .tls(if implicit {
            Tls::Wrapper(tls)
        } else {
            Tls::Required(tls)
        })
        .timeout(Some(timeout));
    if let Some((user, password)) = login {
        transport = transport.credentials(Credentials::new(user, password));
    }
    let transport = transport.build();
    let recipients = mail.envelope().to().len();
    let server = format!("{host}:{port}");
    // Each read and write of lettre has the timeout; the whole conversation has it too.
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("shipgate-email".into())
        .spawn(move || {
            let _ = tx.send(transport.send(&mail));
        })
        .map_err(|e| format!("cannot start sending the mail: {e}"))?;
    match rx.recv_timeout(timeout) {
        Ok(Ok(_)) => Ok(format!("mailed {recipients} recipient(s) through {server}")),
        Ok(Err(e)) => Err(redact(
            format!("cannot mail through {server}: {}", describe(&e, channel)),
            &secrets,
        )),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(format!(
            "cannot mail through {server}: timed out after {}",
            HumanDuration(timeout)
        )),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(format!(
            "cannot mail through {server}: the sending thread stopped"
        )),
    }
}

/// The subject: `[shipgate] ` and the title (a test's title already says `[TEST]`).
pub fn subject(message: &Message) -> String {
    let title = message.title.replace(['\r', '\n'], " ");
    if message.test && !title.starts_with("[TEST]") {
        format!("[shipgate] [TEST] {title}")
    } else {
        format!("[shipgate] {title}")
    }
}

/// The plain-text body: the title, the text, the fields as `Key: value`, the gates as
/// `✓ name: detail` or `✗ name: detail`, the links as `Label: url`.
pub fn plain_text(message: &Message) -> String {
    let mut out = format!("{}\n\n{}\n", message.title, message.text);
    if !message.fields.is_empty() {
        out.push('\n');
        for (key, value) in &message.fields {
            let _ = writeln!(out, "{key}: {value}");
        }
    }
    if !message.gates.is_empty() {
        out.push_str("\nGates:\n");
        for gate in &message.gates {
            let mark = if gate.passed { '✓' } else { '✗' };
            let _ = writeln!(out, "{mark} {}: {}", gate.name, gate.detail);
        }
    }
    if !message.links.is_empty() {
        out.push('\n');
        for link in &message.links {
            let _ = writeln!(out, "{}: {}", link.label, link.url);
        }
    }
    let _ = write!(out, "\n-- \nshipgate, event {}\n", message.event);
    out
}

/// The HTML body: the same content as [`plain_text`], every piece of the message's text
/// escaped; a link is a link only when it is http(s).
pub fn html(message: &Message) -> String {
    let mut content = format!(
        "<p style=\"margin: 0 0 12px 0\">{}</p>\n",
        lines(&message.text)
    );
    if !message.fields.is_empty() {
        content.push_str("<table style=\"border-collapse: collapse; margin: 0 0 12px 0\">\n");
        for (key, value) in &message.fields {
            let _ = writeln!(
                content,
                "<tr><th style=\"text-align: left; padding: 2px 12px 2px 0; color: #59636e\">{}</th><td style=\"padding: 2px 0\">{}</td></tr>",
                escape(key),
                lines(value)
            );
        }
        content.push_str("</table>\n");
    }
    if !message.gates.is_empty() {
        content.push_str("<p style=\"margin: 0 0 4px 0\"><strong>Gates</strong></p>\n<ul style=\"list-style: none; padding: 0; margin: 0 0 12px 0\">\n");
        for gate in &message.gates {
            let (mark, colour) = if gate.passed {
                ("✓", "#1a7f37")
            } else {
                ("✗", "#cf222e")
            };
            let _ = writeln!(
                content,
                "<li><span style=\"color: {colour}\">{mark}</span> <strong>{}</strong>: {}</li>",
                escape(&gate.name),
                lines(&gate.detail)
            );
        }
        content.push_str("</ul>\n");
    }
    if !message.links.is_empty() {
        let links: Vec<String> = message.links.iter().map(link).collect();
        let _ = writeln!(
            content,
            "<p style=\"margin: 0 0 12px 0\">{}</p>",
            links.join(" · ")
        );
    }
    page(message, &content)
}

/// The HTML body of a template's output: that text, escaped, its lines kept.
pub fn html_of_text(message: &Message, text: &str) -> String {
    page(
        message,
        &format!(
            "<div style=\"white-space: pre-wrap; margin: 0 0 12px 0\">{}</div>\n",
            escape(text)
        ),
    )
}

fn page(message: &Message, content: &str) -> String {
    let colour = match message.severity {
        Severity::Info => "#0969da",
        Severity::Success => "#1a7f37",
        Severity::Warning => "#9a6700",
        Severity::Critical => "#cf222e",
    };
    let title = escape(&message.title);
    format!(
        "<!DOCTYPE html>\n<html>\n<head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
         <body style=\"font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; font-size: 14px; color: #1f2328\">\n\
         <div style=\"border-left: 4px solid {colour}; padding-left: 12px\">\n\
         <h2 style=\"margin: 0 0 8px 0; font-size: 18px\">{title}</h2>\n\
         {content}</div>\n\
         <p style=\"color: #59636e; font-size: 12px\">shipgate, event {}</p>\n\
         </body>\n</html>\n",
        escape(message.event)
    )
}

fn link(link: &crate::message::Link) -> String {
    let url = link.url.to_ascii_lowercase();
    if url.starts_with("https://") || url.starts_with("http://") {
        format!(
            "<a href=\"{}\">{}</a>",
            escape(&link.url),
            escape(&link.label)
        )
    } else {
        format!("{}: {}", escape(&link.label), escape(&link.url))
    }
}

/// `text` escaped, its line breaks as `<br>`.
fn lines(text: &str) -> String {
    escape(text).replace('\n', "<br>\n")
}

/// `text` safe in HTML content and in a quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The mail: `from`, each of `to`, the subject, `X-Shipgate-Event`, and both bodies.
fn compose(
    channel: &Channel,
    message: &Message,
    body: Option<&str>,
) -> Result<lettre::Message, String> {
    let from = channel
        .from
        .as_deref()
        .ok_or("an email channel needs `from`, the sender's address")?;
    let from = address("from", from)?;
    if channel.to.is_empty() {
        return Err("an email channel needs `to`, at least one recipient".into());
    }
    let mut mail = lettre::Message::builder()
        .from(from)
        .subject(subject(message))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("X-Shipgate-Event"),
            message.event.to_string(),
        ));
    for to in &channel.to {
        mail = mail.to(address("to", to)?);
    }
    let (text, html) = bodies(message, body);
    mail.multipart(MultiPart::alternative_plain_html(text, html))
        .map_err(|e| format!("cannot write the mail: {e}"))
}

/// The plain text and HTML bodies: a template's output in both, else the message laid out.
fn bodies(message: &Message, body: Option<&str>) -> (String, String) {
    match body {
        Some(body) => (body.to_string(), html_of_text(message, body)),
        None => (plain_text(message), html(message)),
    }
}

fn address(key: &str, text: &str) -> Result<Mailbox, String> {
    text.parse().map_err(|e| {
        format!(
            "`{key}` = \"{}\" is not an e-mail address ({e}): write deploy@example.com or `shipgate <deploy@example.com>`",
            text.escape_debug()
        )
    })
}

/// The user name and password, from the variables `username-env` and `password-env` name;
/// both or neither.
fn credentials(
    channel: &Channel,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<(String, String)>, String> {
    let read = |key: &str, var: &str| {
        lookup(var)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("`{key}` names {var}, which is not set"))
    };
    match (&channel.username_env, &channel.password_env) {
        (None, None) => Ok(None),
        (Some(user), Some(password)) => Ok(Some((
            read("username-env", user)?,
            read("password-env", password)?,
        ))),
        (Some(_), None) => {
            Err("`username-env` is set without `password-env`: SMTP login takes both".into())
        }
        (None, Some(_)) => {
            Err("`password-env` is set without `username-env`: SMTP login takes both".into())
        }
    }
}

/// TLS that trusts shipgate-http's roots: the Mozilla roots, then the system's store.
fn tls_parameters(host: &str) -> Result<TlsParameters, String> {
    let mut tls =
        TlsParameters::builder(host.to_string()).certificate_store(CertificateStore::WebpkiRoots);
    for cert in shipgate_http::system_roots() {
        let cert =
            Certificate::from_der(cert.to_vec()).map_err(|e| format!("cannot set up TLS: {e}"))?;
        tls = tls.add_root_certificate(cert);
    }
    tls.build_rustls()
        .map_err(|e| format!("cannot set up TLS for {host}: {e}"))
}

/// An SMTP error in words, with what to check.
fn describe(e: &lettre::transport::smtp::Error, channel: &Channel) -> String {
    let text = if e.is_timeout() {
        "timed out".to_string()
    } else {
        shipgate_http::with_causes(e.to_string(), std::error::Error::source(e))
    };
    let hint = if e.status().is_some_and(|c| c.to_string() == "535") {
        match (&channel.username_env, &channel.password_env) {
            (Some(u), Some(p)) => {
                format!(" (check the user name in {u} and the password in {p})")
            }
            _ => " (the server wants a login: set `username-env` and `password-env`)".into(),
        }
    } else if e.status().is_some_and(|c| c.to_string() == "530") {
        " (the server wants a login: set `username-env` and `password-env`)".into()
    } else if text.contains("STARTTLS is not supported") {
        " (shipgate never sends mail in clear; write smtps:// if the server takes TLS from the start)"
            .into()
    } else if e.is_tls() || text.contains("certificate") {
        " (is the server's certificate issued for this host name, by a CA in the system's store or SSL_CERT_FILE?)"
            .into()
    } else {
        String::new()
    };
    format!("{text}{hint}")
}

/// `text` without any of `secrets` (a server may echo what it was sent).
fn redact(mut text: String, secrets: &[String]) -> String {
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        text = text.replace(secret.as_str(), "***");
    }
    text
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::message::{GateLine, Link};

    fn message() -> Message {
        Message {
            event: "promotion-refused",
            severity: Severity::Warning,
            title: "Promotion of 1.4.0<script>alert(1)</script> to prod refused".into(),
            text: "1 of 2 gates did not pass: soak.\nSee <b>why</b> & fix it.".into(),
            fields: vec![
                ("Environment".into(), "prod".into()),
                ("Versions".into(), "1.3.2 → 1.4.0<script>".into()),
            ],
            gates: vec![
                GateLine {
                    name: "soak".into(),
                    passed: false,
                    detail: "needs 24h, had <1h".into(),
                },
                GateLine {
                    name: "freeze".into(),
                    passed: true,
                    detail: "\"no freeze\"".into(),
                },
            ],
            links: vec![
                Link {
                    label: "CI run".into(),
                    url: "https://ci.example.com/runs/42?a=1&b=2".into(),
                },
                Link {
                    label: "Sneaky".into(),
                    url: "javascript:alert('x')".into(),
                },
            ],
            env: Some("prod".into()),
            version: Some("1.4.0<script>alert(1)</script>".into()),
            by: "alice".into(),
            at: "2026-12-06T03:00:00Z".parse().expect("time"),
            thread: None,
            test: false,
        }
    }

    fn channel(toml: &str) -> Channel {
        toml::from_str(&format!("kind = \"email\"\n{toml}")).expect("channel")
    }

    fn good() -> Channel {
        channel(
            "smtp = \"smtp://127.0.0.1:9\"\nfrom = \"shipgate <deploy@example.com>\"\nto = [\"ops@example.com\", \"Dev Team <dev@example.com>\"]\nusername-env = \"SMTP_USER\"\npassword-env = \"SMTP_PASSWORD\"",
        )
    }

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| vars.get(k).cloned()
    }

    #[test]
    fn the_plain_text_has_every_field_gate_and_link() {
        let text = plain_text(&message());
        assert!(
            text.starts_with("Promotion of 1.4.0<script>alert(1)</script> to prod refused\n\n1 of 2 gates did not pass: soak.\nSee <b>why</b> & fix it.\n"),
            "{text}"
        );
        for line in [
            "Environment: prod\n",
            "Versions: 1.3.2 → 1.4.0<script>\n",
            "Gates:\n✗ soak: needs 24h, had <1h\n✓ freeze: \"no freeze\"\n",
            "CI run: https://ci.example.com/runs/42?a=1&b=2\n",
            "shipgate, event promotion-refused\n",
        ] {
            assert!(text.contains(line), "{line:?} not in\n{text}");
        }
    }

    #[test]
    fn the_html_escapes_every_piece_of_text() {
        let html = html(&message());
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<b>why"), "{html}");
        assert!(!html.contains("<1h"), "{html}");
        for escaped in [
            "<title>Promotion of 1.4.0&lt;script&gt;alert(1)&lt;/script&gt; to prod refused</title>",
            "<h2 style=\"margin: 0 0 8px 0; font-size: 18px\">Promotion of 1.4.0&lt;script&gt;",
            "See &lt;b&gt;why&lt;/b&gt; &amp; fix it.",
            "soak.<br>\nSee",
            "<td style=\"padding: 2px 0\">1.3.2 → 1.4.0&lt;script&gt;</td>",
            "<strong>soak</strong>: needs 24h, had &lt;1h",
            "<strong>freeze</strong>: &quot;no freeze&quot;",
            "<a href=\"https://ci.example.com/runs/42?a=1&amp;b=2\">CI run</a>",
            "Sneaky: javascript:alert(&#39;x&#39;)",
        ] {
            assert!(html.contains(escaped), "{escaped:?} not in\n{html}");
        }
        assert!(!html.contains("href=\"javascript"), "{html}");
    }

    #[test]
    fn a_template_replaces_the_text_and_is_escaped_in_the_html() {
        let (text, html) = bodies(&message(), Some("Custom <i>body</i>\nline 2"));
        assert_eq!(text, "Custom <i>body</i>\nline 2");
        assert!(
            html.contains(">Custom &lt;i&gt;body&lt;/i&gt;\nline 2</div>"),
            "{html}"
        );
        assert!(!html.contains("<i>"), "{html}");
        assert!(!html.contains("Gates"), "{html}");
    }

    #[test]
    fn the_mail_has_its_headers_and_both_parts() {
        let mail = compose(&good(), &message(), None).expect("mail");
        let raw = String::from_utf8(mail.formatted()).expect("utf-8");
        assert!(
            raw.contains("X-Shipgate-Event: promotion-refused\r\n"),
            "{raw}"
        );
        assert!(
            raw.contains("From: shipgate <deploy@example.com>\r\n"),
            "{raw}"
        );
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(
            raw.contains("Content-Type: text/plain; charset=utf-8"),
            "{raw}"
        );
        assert!(
            raw.contains("Content-Type: text/html; charset=utf-8"),
            "{raw}"
        );
        assert_eq!(mail.envelope().to().len(), 2);
    }

    #[test]
    fn a_test_message_says_test_once() {
        let mut m = crate::message::test_message("email-1", "alice", message().at);
        assert_eq!(subject(&m), "[shipgate] [TEST] shipgate can reach email-1");
        m.title = "shipgate can reach email-1".into();
        assert_eq!(subject(&m), "[shipgate] [TEST] shipgate can reach email-1");
        m.test = false;
        m.title = "line one\nline two".into();
        assert_eq!(subject(&m), "[shipgate] line one line two");
    }

    #[test]
    fn a_bad_address_names_its_key() {
        let mut c = good();
        c.from = Some("not an address".into());
        let err = compose(&c, &message(), None).expect_err("bad from");
        assert!(
            err.starts_with("`from` = \"not an address\" is not an e-mail address"),
            "{err}"
        );
        let mut c = good();
        c.to.push("ops@".into());
        let err = compose(&c, &message(), None).expect_err("bad to");
        assert!(err.starts_with("`to` = \"ops@\""), "{err}");
        let mut c = good();
        c.from = None;
        let err = compose(&c, &message(), None).expect_err("no from");
        assert!(err.contains("`from`"), "{err}");
    }

    #[test]
    fn settings_are_checked_before_connecting() {
        let t = Duration::from_secs(1);
        let lookup = env(&[("SMTP_USER", "bob"), ("SMTP_PASSWORD", "hunter2-secret")]);
        let mut c = good();
        c.smtp = Some("http://mail.example.com".into());
        let err = send(&c, &lookup, &message(), None, t).expect_err("not smtp");
        assert!(
            err.starts_with("`smtp` = \"http://mail.example.com\""),
            "{err}"
        );
        let mut c = good();
        c.password_env = None;
        let err = send(&c, &lookup, &message(), None, t).expect_err("half a login");
        assert!(
            err.contains("`username-env` is set without `password-env`"),
            "{err}"
        );
        let err = send(&good(), &env(&[("SMTP_USER", "bob")]), &message(), None, t)
            .expect_err("no password");
        assert_eq!(err, "`password-env` names SMTP_PASSWORD, which is not set");
        let mut c = good();
        c.kind = ChannelKind::Slack;
        let err = send(&c, &lookup, &message(), None, t).expect_err("not email");
        assert_eq!(err, "a slack channel is not an e-mail channel");
    }

    #[test]
    fn secrets_are_redacted() {
        assert_eq!(
            redact(
                "535 bad login bob:hunter2".into(),
                &["bob".into(), "hunter2".into(), String::new()]
            ),
            "535 bad login ***:***"
        );
    }
}
