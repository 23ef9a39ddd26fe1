//! The e-mail channel against a real SMTP server: aiosmtpd (tests/smtp_server.py) on a
//! loopback port, requiring STARTTLS with a certificate of a private CA made here, and a
//! login. The mail must arrive whole (envelope, headers, both parts, the HTML escaped), a
//! wrong password must fail without being told, a server that offers no TLS must get
//! nothing, and a dead or silent server must fail within the timeout.
//!
//! The private CA is trusted only through `SSL_CERT_FILE`, which the process must have
//! from its start (shipgate-http reads the system's store once). The workspace forbids
//! `unsafe`, so `std::env::set_var` is out: the test makes the certificates, then runs
//! itself again as a child process with `SSL_CERT_FILE` set, which does the rest (and first
//! checks that without the variable the CA is not trusted). The variable never reaches any
//! other test.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use shipgate_notify::email::send;
use shipgate_notify::message::{GateLine, Link, Message, Severity, test_message};
use shipgate_settings::notify::Channel;

#[path = "../../shipgate-http/tests/support/private_ca.rs"]
mod private_ca;
use private_ca::{PrivateCa, private_ca, run_again_trusting};

/// Set in the child: the folder with the CA's and the server's certificates.
const CERTS: &str = "SHIPGATE_EMAIL_TEST_CERTS";
/// The test's name, to run it alone in the child.
const TEST: &str = "mail_goes_through_a_real_smtp_server_over_tls_trusting_a_private_ca";

const USER: &str = "deploy-bot";
const PASSWORD: &str = "s3cret-Pa55word";

#[test]
fn mail_goes_through_a_real_smtp_server_over_tls_trusting_a_private_ca() {
    match std::env::var_os(CERTS) {
        Some(dir) => scenarios(Path::new(&dir)),
        None => run_again_trusting_a_private_ca(),
    }
}

/// Makes a CA and a server certificate for localhost and 127.0.0.1, then runs this test
/// again with `SSL_CERT_FILE` naming the CA.
fn run_again_trusting_a_private_ca() {
    let dir = tempfile::tempdir().expect("tempdir");
    let PrivateCa { ca_pem, cert, key } = private_ca(&["localhost", "127.0.0.1"]);
    let write = |name: &str, text: String| {
        std::fs::write(dir.path().join(name), text).expect("write a certificate");
    };
    write("ca.pem", ca_pem);
    write("server.pem", cert.pem());
    write("server.key", key.serialize_pem());

    // This process was not started with SSL_CERT_FILE naming the CA: it does not trust it.
    let server = Server::start(dir.path(), "starttls");
    let err = send(
        &channel(&format!("smtp://localhost:{}", server.port)),
        &lookup(PASSWORD),
        &refused(),
        None,
        Duration::from_secs(10),
    )
    .expect_err("an unknown CA");
    assert!(err.contains("UnknownIssuer"), "{err}");
    assert!(err.contains("SSL_CERT_FILE"), "the hint: {err}");
    drop(server);

    let started = Instant::now();
    let out = run_again_trusting(TEST, CERTS, dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "the test with SSL_CERT_FILE failed ({}, {:?}):\n{stdout}\n{stderr}",
        out.status,
        started.elapsed()
    );
}

/// The aiosmtpd server: its port, its JSON lines, and stdin held open to keep it running.
struct Server {
    child: Child,
    _stdin: ChildStdin,
    port: u16,
    lines: mpsc::Receiver<String>,
    stderr: PathBuf,
}

impl Server {
    fn start(certs: &Path, tls: &str) -> Server {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_server.py");
        let stderr = certs.join(format!("smtp-{tls}.stderr"));
        let mut child = Command::new("python3")
            .arg(&script)
            .args(["--tls", tls, "--user", USER, "--password", PASSWORD])
            .arg("--cert")
            .arg(certs.join("server.pem"))
            .arg("--key")
            .arg(certs.join("server.key"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).expect("stderr file"))
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run python3 ({e}): the e-mail tests need Python 3 and aiosmtpd: pip install aiosmtpd")
            });
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            child,
            _stdin: stdin,
            port: 0,
            lines,
            stderr,
        };
        let first = server.line(Duration::from_secs(20));
        server.port = match first.as_deref().map(str::parse) {
            Some(Ok(port)) => port,
            _ => {
                let status = server.child.try_wait().ok().flatten();
                panic!(
                    "the SMTP server did not start (first line {first:?}, exit {status:?}); it needs aiosmtpd: pip install aiosmtpd\n{}",
                    server.log()
                )
            }
        };
        server
    }

    /// The next line of its stdout, waiting until `within` has passed.
    fn line(&self, within: Duration) -> Option<String> {
        self.lines.recv_timeout(within).ok()
    }

    /// The next JSON record, which must come within 10 s.
    fn record(&self) -> Value {
        let line = self
            .line(Duration::from_secs(10))
            .unwrap_or_else(|| panic!("the SMTP server recorded nothing\n{}", self.log()));
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn channel(smtp: &str) -> Channel {
    toml::from_str(&format!(
        "kind = \"email\"\nsmtp = \"{smtp}\"\nfrom = \"shipgate <deploy@example.com>\"\nto = [\"ops@example.com\", \"Dev Team <dev@example.com>\"]\nusername-env = \"SMTP_USER\"\npassword-env = \"SMTP_PASSWORD\""
    ))
    .expect("channel")
}

fn lookup(password: &'static str) -> impl Fn(&str) -> Option<String> {
    move |k| match k {
        "SMTP_USER" => Some(USER.to_string()),
        "SMTP_PASSWORD" => Some(password.to_string()),
        _ => None,
    }
}

fn refused() -> Message {
    Message {
        event: "promotion-refused",
        severity: Severity::Warning,
        title: "Promotion of 1.4.0<script>alert(1)</script> to prod refused".into(),
        text: "1 of 2 gates did not pass: soak.".into(),
        fields: vec![
            ("Environment".into(), "prod".into()),
            (
                "Versions".into(),
                "1.3.2 → 1.4.0<script>alert(1)</script>".into(),
            ),
        ],
        gates: vec![
            GateLine {
                name: "soak".into(),
                passed: false,
                detail: "needs 24h, had 2h".into(),
            },
            GateLine {
                name: "freeze".into(),
                passed: true,
                detail: "no freeze".into(),
            },
        ],
        links: vec![Link {
            label: "CI run".into(),
            url: "https://ci.example.com/runs/42".into(),
        }],
        env: Some("prod".into()),
        version: Some("1.4.0<script>alert(1)</script>".into()),
        by: "alice".into(),
        at: "2026-12-06T03:00:00Z".parse().expect("time"),
        thread: None,
        test: false,
    }
}

/// A string of `record`, its line breaks as `\n` (SMTP carries `\r\n`).
fn text(record: &Value, key: &str) -> String {
    record[key]
        .as_str()
        .unwrap_or_else(|| panic!("no {key} in {record}"))
        .replace("\r\n", "\n")
}

fn scenarios(certs: &Path) {
    let started = Instant::now();
    let timeout = Duration::from_secs(10);
    let server = Server::start(certs, "starttls");
    let port = server.port;

    // STARTTLS, a login, the whole mail.
    let note = send(
        &channel(&format!("smtp://localhost:{port}")),
        &lookup(PASSWORD),
        &refused(),
        None,
        timeout,
    )
    .expect("mailed");
    assert_eq!(
        note,
        format!("mailed 2 recipient(s) through localhost:{port}")
    );
    let mail = server.record();
    assert_eq!(mail["mail_from"], "deploy@example.com");
    assert_eq!(
        mail["rcpt_tos"],
        serde_json::json!(["ops@example.com", "dev@example.com"])
    );
    assert_eq!(mail["login"], USER, "{mail}");
    assert_eq!(mail["tls"], true, "{mail}");
    assert_eq!(text(&mail, "content_type"), "multipart/alternative");
    assert_eq!(
        text(&mail, "subject"),
        "[shipgate] Promotion of 1.4.0<script>alert(1)</script> to prod refused"
    );
    assert_eq!(text(&mail, "from"), "shipgate <deploy@example.com>");
    assert_eq!(
        text(&mail, "to"),
        "ops@example.com, Dev Team <dev@example.com>"
    );
    assert_eq!(text(&mail, "event"), "promotion-refused");
    assert!(
        text(&mail, "raw").contains("\nX-Shipgate-Event: promotion-refused\n"),
        "{mail}"
    );
    let plain = text(&mail, "text");
    for line in [
        "Versions: 1.3.2 → 1.4.0<script>alert(1)</script>\n",
        "✗ soak: needs 24h, had 2h\n",
        "✓ freeze: no freeze\n",
        "CI run: https://ci.example.com/runs/42\n",
    ] {
        assert!(plain.contains(line), "{line:?} not in\n{plain}");
    }
    let html = text(&mail, "html");
    assert!(!html.contains("<script>"), "{html}");
    assert!(
        html.contains("1.3.2 → 1.4.0&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(
        html.contains("<a href=\"https://ci.example.com/runs/42\">CI run</a>"),
        "{html}"
    );

    // `shipgate notify test` with a template, to 127.0.0.1 (the certificate's IP name).
    let at = "2026-12-06T03:00:00Z".parse().expect("time");
    send(
        &channel(&format!("smtp://127.0.0.1:{port}")),
        &lookup(PASSWORD),
        &test_message("email-1", "alice", at),
        Some("From the template: <b>hello</b>\n"),
        timeout,
    )
    .expect("mailed the test");
    let mail = server.record();
    assert_eq!(
        text(&mail, "subject"),
        "[shipgate] [TEST] shipgate can reach email-1"
    );
    assert_eq!(text(&mail, "event"), "test");
    assert_eq!(text(&mail, "text"), "From the template: <b>hello</b>\n");
    assert!(
        text(&mail, "html").contains("From the template: &lt;b&gt;hello&lt;/b&gt;"),
        "{mail}"
    );

    // A wrong password: refused, over TLS, and not repeated in the error.
    let err = send(
        &channel(&format!("smtp://localhost:{port}")),
        &lookup("wrong-Pa55word"),
        &refused(),
        None,
        timeout,
    )
    .expect_err("a wrong password");
    assert!(err.contains("535"), "{err}");
    assert!(err.contains("SMTP_PASSWORD"), "{err}");
    for secret in ["wrong-Pa55word", PASSWORD, USER] {
        assert!(!err.contains(secret), "{secret} in {err}");
    }
    let failed = server.record();
    assert_eq!(failed["tls"], true, "the login went over TLS: {failed}");
    assert!(failed["auth_failed"].is_string(), "{failed}");
    drop(server);

    // TLS from the start (smtps).
    let server = Server::start(certs, "implicit");
    send(
        &channel(&format!("smtps://localhost:{}", server.port)),
        &lookup(PASSWORD),
        &refused(),
        None,
        timeout,
    )
    .expect("mailed over smtps");
    let mail = server.record();
    assert_eq!(mail["tls"], true, "{mail}");
    assert_eq!(mail["login"], USER, "{mail}");
    drop(server);

    // A server that offers no STARTTLS gets neither the login nor the mail.
    let server = Server::start(certs, "none");
    let err = send(
        &channel(&format!("smtp://localhost:{}", server.port)),
        &lookup(PASSWORD),
        &refused(),
        None,
        timeout,
    )
    .expect_err("no TLS, no mail");
    assert!(err.contains("STARTTLS"), "{err}");
    assert!(!err.contains(PASSWORD), "{err}");
    drop(server);

    // Nothing listening: refused at once.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let t = Instant::now();
    let err = send(
        &channel(&format!("smtp://127.0.0.1:{port}")),
        &lookup(PASSWORD),
        &refused(),
        None,
        Duration::from_secs(3),
    )
    .expect_err("nothing listens");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert!(err.to_lowercase().contains("refused"), "{err}");

    // A server that never says a word: the whole send gives up at its timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let t = Instant::now();
    let err = send(
        &channel(&format!("smtp://127.0.0.1:{port}")),
        &lookup(PASSWORD),
        &refused(),
        None,
        Duration::from_millis(500),
    )
    .expect_err("a silent server");
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(450) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert!(err.contains("timed out"), "{err}");
    drop(silent);

    let _ = writeln!(
        std::io::stderr(),
        "e-mail scenarios took {:?}",
        started.elapsed()
    );
}
