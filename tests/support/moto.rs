//! moto's standalone server (`moto_server`, pip `moto[server]`, which `cargo xtask test`
//! installs) for the tests of shipgate's AWS calls: started on a free loopback port, waited
//! on by polling; and the raw HTTP the tests speak to it (AWS's query API).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One HTTP exchange on loopback: the status and the body, or None when nothing answers.
pub fn http(
    port: u16,
    method: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut head = format!(
        "{method} / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    write!(s, "{head}\r\n{body}").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let status = text.split(' ').nth(1)?.parse().ok()?;
    Some((status, text.split_once("\r\n\r\n")?.1.to_string()))
}

/// `v` percent-encoded for a form body.
pub fn encode(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Starts moto's server on `port` and waits until it answers; the process (the caller
/// kills it).
pub fn spawn(port: u16) -> Child {
    let spawn = |program: &str, pre: &[&str]| {
        Command::new(program)
            .args(pre)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
    };
    let child = spawn("moto_server", &[])
        .or_else(|_| spawn("python3", &["-m", "moto.server"]))
        .expect("moto's server runs (pip install 'moto[server]'; `cargo xtask test` installs it)");
    let deadline = Instant::now() + Duration::from_secs(60);
    while http(port, "GET", &[], "").is_none() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not answer within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    child
}

/// One call of AWS's query API (form-encoded `params` and `Version=version`) to `service`
/// in `region` (moto checks no signature; the credential scope names the service), which
/// must answer 200; its body.
pub fn query(
    port: u16,
    region: &str,
    service: &str,
    version: &str,
    params: &[(&str, String)],
) -> String {
    let body = params
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .chain([format!("Version={version}")])
        .collect::<Vec<_>>()
        .join("&");
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential=testing/20260101/{region}/{service}/aws4_request, SignedHeaders=host, Signature=0"
    );
    let (status, text) = http(
        port,
        "POST",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        &body,
    )
    .expect("moto answers");
    assert_eq!(status, 200, "{body}: {text}");
    text
}
