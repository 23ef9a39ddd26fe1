//! The one HTTP client of shipgate's edges (the Prometheus provider, the webhook actuator,
//! notifications): reqwest, blocking, rustls on ring, a whole-request timeout, answers of
//! every status returned (the callers decide what a status means).
//!
//! It trusts what curl and git trust: the Mozilla roots built in, the system's certificate
//! store, and `SSL_CERT_FILE` / `SSL_CERT_DIR` when set, so a company's private CA works
//! without a flag.

use std::sync::Arc;
use std::time::Duration;

/// The HTTP client could not be set up (TLS).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot set up the HTTP client: {0}")]
pub struct ClientSetupError(String);

/// A client whose every request must finish within `timeout`.
pub fn client(timeout: Duration) -> Result<reqwest::blocking::Client, ClientSetupError> {
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| ClientSetupError(format!("TLS: {e}")))?
    .with_root_certificates(roots())
    .with_no_client_auth();
    reqwest::blocking::Client::builder()
        .timeout(timeout)
        .tls_backend_preconfigured(tls)
        .build()
        .map_err(|e| ClientSetupError(describe(&e)))
}

/// The roots a server's certificate may chain to: the Mozilla roots, then every
/// certificate of [`system_roots`].
/// Read once a process: the system's store is a directory of files.
pub fn roots() -> rustls::RootCertStore {
    static ROOTS: std::sync::OnceLock<rustls::RootCertStore> = std::sync::OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let mut roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            roots.add_parsable_certificates(system_roots());
            roots
        })
        .clone()
}

/// The certificates of the system's store (`SSL_CERT_FILE` and `SSL_CERT_DIR` replace it
/// when set, as in OpenSSL) that rustls takes as roots, as DER: what [`roots`] adds to the
/// Mozilla roots, for a TLS stack that takes certificates rather than a
/// [`rustls::RootCertStore`] (the e-mail channel's SMTP client). A store that cannot be
/// read, or a certificate in it that rustls refuses, leaves the others.
/// Read once a process.
pub fn system_roots() -> Vec<rustls::pki_types::CertificateDer<'static>> {
    static SYSTEM: std::sync::OnceLock<Vec<rustls::pki_types::CertificateDer<'static>>> =
        std::sync::OnceLock::new();
    SYSTEM
        .get_or_init(|| {
            rustls_native_certs::load_native_certs()
                .certs
                .into_iter()
                .filter(|cert| rustls::RootCertStore::empty().add(cert.clone()).is_ok())
                .collect()
        })
        .clone()
}

/// A transport error in words, with its causes (`connection refused`, `timed out`…) and
/// without the URL (the caller names the endpoint; a URL's query can be long).
pub fn describe(e: &reqwest::Error) -> String {
    let text = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "cannot connect".to_string()
    } else {
        let mut plain = e.to_string();
        if let Some(url) = e.url() {
            plain = plain.replace(&format!(" ({url})"), "");
        }
        plain
    };
    with_causes(text, std::error::Error::source(e))
}

/// `text`, then each cause from `source` down that it does not already say, after `: `.
pub fn with_causes(
    mut text: String,
    mut source: Option<&(dyn std::error::Error + 'static)>,
) -> String {
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_connection_says_so_without_the_url() {
        let client = client(Duration::from_secs(2)).expect("client");
        let err = client
            .get("http://127.0.0.1:9/api/v1/query?query=secret_looking_query")
            .send()
            .expect_err("nothing listens on port 9");
        let text = describe(&err);
        assert!(text.starts_with("cannot connect"), "{text}");
        assert!(text.to_lowercase().contains("refused"), "{text}");
        assert!(!text.contains("secret_looking_query"), "{text}");
    }

    #[test]
    fn a_slow_server_times_out() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let client = client(Duration::from_millis(200)).expect("client");
        let err = client
            .get(format!("http://{addr}/"))
            .send()
            .expect_err("never answered");
        assert!(
            describe(&err).starts_with("timed out"),
            "{}",
            describe(&err)
        );
        drop(listener);
    }
}
