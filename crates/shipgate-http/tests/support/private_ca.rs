//! A private CA and a server certificate it signed, for the tests that check that a CA
//! named by `SSL_CERT_FILE` is trusted: shipgate-http's HTTPS (`tests/private_ca.rs`) and
//! shipgate-notify's SMTP (`tests/email.rs`, which includes this file by its path).

/// The CA's certificate (PEM), and the server's certificate and key.
pub struct PrivateCa {
    pub ca_pem: String,
    pub cert: rcgen::Certificate,
    pub key: rcgen::KeyPair,
}

/// A CA, and a certificate for a server answering as `names` (host names or IP addresses;
/// the first is also its common name), signed by it.
pub fn private_ca(names: &[&str]) -> PrivateCa {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "shipgate test CA");
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let ca =
        rcgen::CertifiedIssuer::self_signed(ca_params, rcgen::KeyPair::generate().expect("key"))
            .expect("CA");
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = rcgen::CertificateParams::new(names.clone()).expect("server params");
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, names[0].as_str());
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = params.signed_by(&key, &ca).expect("server certificate");
    PrivateCa {
        ca_pem: ca.pem(),
        cert,
        key,
    }
}

/// Runs the test `test` of this test binary again, alone, with `SSL_CERT_FILE` naming
/// `dir/ca.pem` and `certs_var` naming `dir` (how the child knows it is the child). The
/// system's store is read once a process, and the workspace forbids `unsafe`, so the
/// variable is given to a new process rather than set in this one.
pub fn run_again_trusting(
    test: &str,
    certs_var: &str,
    dir: &std::path::Path,
) -> std::process::Output {
    std::process::Command::new(std::env::current_exe().expect("this test's binary"))
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(certs_var, dir)
        .env("SSL_CERT_FILE", dir.join("ca.pem"))
        .env_remove("SSL_CERT_DIR")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run this test again")
}
