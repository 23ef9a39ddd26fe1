//! A real Prometheus (Debian package `prometheus`, which `cargo xtask test` installs) for the
//! integration tests, on a free loopback port.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Starts `prometheus` with `config`, its data in `data`, on a free loopback port; the port
/// and the process (the caller waits for it to be ready and kills it).
pub fn spawn(config: &Path, data: &Path) -> (u16, Child) {
    let port = free_port();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--log.level=error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the `prometheus` binary runs (Debian package prometheus; `cargo xtask test` installs it)");
    (port, child)
}
