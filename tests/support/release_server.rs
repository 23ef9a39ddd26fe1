//! A loopback HTTP server that serves release files (GET only) from memory and records
//! every request's path: the action's tests and `cargo xtask bench install` download from it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// Serves a map of path → bytes on a free loopback port (404 for any other path), one
/// request per connection, and records every request's path in order.
pub struct Server {
    pub url: String,
    files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    redirects: Arc<Mutex<HashMap<String, String>>>,
    requests: Arc<Mutex<Vec<String>>>,
}

/// The guarded value, even if a thread panicked while holding the lock.
fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Server {
    pub fn start() -> std::io::Result<Server> {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}", listener.local_addr()?);
        let files: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
        let redirects: Arc<Mutex<HashMap<String, String>>> = Arc::default();
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let (served, moved, log) = (files.clone(), redirects.clone(), requests.clone());
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let Ok(read_half) = stream.try_clone() else {
                    continue;
                };
                let mut reader = BufReader::new(read_half);
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() || line.is_empty() {
                    continue;
                }
                let path = line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_string();
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).is_err()
                        || header == "\r\n"
                        || header.is_empty()
                    {
                        break;
                    }
                }
                locked(&log).push(path.clone());
                let location = locked(&moved).get(&path).cloned();
                let body = locked(&served).get(&path).cloned();
                let (status, body, location) = match (location, body) {
                    (Some(to), _) => ("302 Found", Vec::new(), format!("location: {to}\r\n")),
                    (None, Some(b)) => ("200 OK", b, String::new()),
                    (None, None) => ("404 Not Found", b"not found".to_vec(), String::new()),
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\n{location}content-type: application/octet-stream\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(&body);
            }
        });
        Ok(Server {
            url,
            files,
            redirects,
            requests,
        })
    }

    /// Answers GET `path` with `bytes` from now on.
    pub fn serve(&self, path: &str, bytes: Vec<u8>) {
        locked(&self.files).insert(path.to_string(), bytes);
    }

    /// Answers GET `path` with a redirect to `location` from now on.
    pub fn redirect(&self, path: &str, location: &str) {
        locked(&self.redirects).insert(path.to_string(), location.to_string());
    }

    /// Every request's path so far, in order.
    pub fn requests(&self) -> Vec<String> {
        locked(&self.requests).clone()
    }

    /// How many requests asked for a path ending in `suffix`.
    pub fn count(&self, suffix: &str) -> usize {
        locked(&self.requests)
            .iter()
            .filter(|p| p.ends_with(suffix))
            .count()
    }
}
