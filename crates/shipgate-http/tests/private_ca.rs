//! A company's private CA works without a flag: with `SSL_CERT_FILE` naming it, the client
//! trusts an HTTPS server whose certificate that CA issued; without it, it does not.
//!
//! [`shipgate_http::roots`] reads the system's store once a process, so the variable must be
//! there from the start; the workspace forbids `unsafe`, so `std::env::set_var` is out: the
//! test makes the certificates, checks that this process does not trust them, then runs
//! itself again as a child process with `SSL_CERT_FILE` set. The variable never reaches any
//! other test.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

mod support;
use support::private_ca::{PrivateCa, private_ca, run_again_trusting};

/// Set in the child: the folder with the CA's and the server's certificates.
const CERTS: &str = "SHIPGATE_HTTP_TEST_CERTS";
/// The test's name, to run it alone in the child.
const TEST: &str = "a_private_ca_in_ssl_cert_file_is_trusted";

#[test]
fn a_private_ca_in_ssl_cert_file_is_trusted() {
    match std::env::var_os(CERTS) {
        Some(dir) => {
            let port = serve(Path::new(&dir));
            let client = shipgate_http::client(Duration::from_secs(5)).expect("client");
            let answer = client
                .get(format!("https://127.0.0.1:{port}/"))
                .send()
                .unwrap_or_else(|e| panic!("{}", shipgate_http::describe(&e)));
            assert_eq!(answer.status(), 200);
            assert_eq!(answer.text().expect("body"), "hello from a private CA");
        }
        None => run_again_trusting_a_private_ca(),
    }
}

/// Makes a CA and a server certificate for 127.0.0.1, checks that this process does not
/// trust it, then runs this test again with `SSL_CERT_FILE` naming the CA.
fn run_again_trusting_a_private_ca() {
    let dir = tempfile::tempdir().expect("tempdir");
    let PrivateCa { ca_pem, cert, key } = private_ca(&["127.0.0.1"]);
    std::fs::write(dir.path().join("ca.pem"), ca_pem).expect("write");
    std::fs::write(dir.path().join("server.der"), cert.der()).expect("write");
    std::fs::write(dir.path().join("server.key.der"), key.serialize_der()).expect("write");

    // Without SSL_CERT_FILE naming it, the CA is unknown.
    let port = serve(dir.path());
    let client = shipgate_http::client(Duration::from_secs(5)).expect("client");
    let err = client
        .get(format!("https://127.0.0.1:{port}/"))
        .send()
        .expect_err("a CA this process does not trust");
    let text = shipgate_http::describe(&err);
    assert!(text.contains("UnknownIssuer"), "{text}");

    let out = run_again_trusting(TEST, CERTS, dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "the test with SSL_CERT_FILE failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An HTTPS server on a loopback port with the certificate in `certs`, answering every
/// request `200 OK`, on a thread of its own for the rest of the process.
fn serve(certs: &Path) -> u16 {
    let cert = CertificateDer::from(std::fs::read(certs.join("server.der")).expect("cert"));
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        std::fs::read(certs.join("server.key.der")).expect("key"),
    ));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .expect("server config");
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { continue };
            let config = Arc::clone(&config);
            std::thread::spawn(move || {
                let Ok(conn) = rustls::ServerConnection::new(config) else {
                    return;
                };
                // A client that refuses the certificate ends the handshake: nothing to answer.
                let _ = answer(rustls::StreamOwned::new(conn, tcp));
            });
        }
    });
    port
}

fn answer(
    mut tls: rustls::StreamOwned<rustls::ServerConnection, std::net::TcpStream>,
) -> std::io::Result<()> {
    let body = "hello from a private CA";
    {
        let mut reader = BufReader::new(&mut tls);
        let mut line = String::new();
        // The request's head ends with an empty line.
        while reader.read_line(&mut line)? > 0 && line != "\r\n" {
            line.clear();
        }
    }
    write!(
        tls,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    tls.flush()?;
    tls.conn.send_close_notify();
    tls.flush()
}
