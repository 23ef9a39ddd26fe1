//! A local HTTP server that answers like GitHub's REST and GraphQL APIs, for the
//! end-to-end tests; it records every request.

/// Releases by tag (GET), release creation (POST), GraphQL commit lookups answered with
/// login `dev-N` and merged PR `100 + N` for the N-th commit of a query, deployments (create,
/// list by environment and sha, add statuses) and pull requests (create).
pub struct FakeGithub {
    pub url: String,
    requests: std::sync::Arc<std::sync::Mutex<Vec<(String, String, String)>>>,
}

impl FakeGithub {
    pub fn start() -> FakeGithub {
        use std::io::{BufRead, BufReader, Read, Write};
        use std::sync::{Arc, Mutex};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let requests: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
        let releases: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
        let deployments: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
        let (log, base) = (requests.clone(), url.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() || line.is_empty() {
                    continue;
                }
                let mut parts = line.split_whitespace();
                let (method, path) = (
                    parts.next().unwrap_or_default().to_string(),
                    parts.next().unwrap_or_default().to_string(),
                );
                let mut length = 0;
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':')
                        && k.eq_ignore_ascii_case("content-length")
                    {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let body = String::from_utf8_lossy(&body).into_owned();
                log.lock()
                    .expect("lock")
                    .push((method.clone(), path.clone(), body.clone()));
                let mut all = releases.lock().expect("lock");
                let (status, answer) = if path == "/graphql" {
                    // each `cN: object(oid: "ID")` is answered: login dev-N, merged PR 100+N
                    let query = serde_json::from_str::<serde_json::Value>(&body)
                        .ok()
                        .and_then(|v| v["query"].as_str().map(str::to_string))
                        .unwrap_or_default();
                    let mut repository = serde_json::Map::new();
                    for (n, _) in query.split("object(oid: ").skip(1).enumerate() {
                        repository.insert(format!("c{n}"), serde_json::json!({"author": {"user": {"login": format!("dev-{n}")}}, "associatedPullRequests": {"nodes": [{"number": 100 + n, "merged": true}]}}));
                    }
                    (200, serde_json::json!({"data": {"repository": repository}}))
                } else if let (Some(tag), "GET") = (
                    path.strip_prefix("/repos/acme/shop/releases/tags/"),
                    method.as_str(),
                ) {
                    match all.iter().find(|r| r["tag_name"] == tag) {
                        Some(r) => (200, r.clone()),
                        None => (404, serde_json::json!({"message": "Not Found"})),
                    }
                } else if path == "/repos/acme/shop/deployments" && method == "POST" {
                    let mut all = deployments.lock().expect("lock");
                    let mut d: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                    d["id"] = (all.len() + 1).into();
                    d["sha"] = d["ref"].clone();
                    all.push(d.clone());
                    (201, d)
                } else if let (Some(query), "GET") = (
                    path.strip_prefix("/repos/acme/shop/deployments?"),
                    method.as_str(),
                ) {
                    let param = |name: &str| {
                        query
                            .split('&')
                            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
                            .unwrap_or_default()
                            .to_string()
                    };
                    let (env, sha) = (param("environment"), param("sha"));
                    let all = deployments.lock().expect("lock");
                    let found: Vec<&serde_json::Value> = all
                        .iter()
                        .rev()
                        .filter(|d| d["environment"] == env.as_str() && d["sha"] == sha.as_str())
                        .take(1)
                        .collect();
                    (200, serde_json::json!(found))
                } else if path.starts_with("/repos/acme/shop/deployments/")
                    && path.ends_with("/statuses")
                    && method == "POST"
                {
                    (201, serde_json::json!({"id": 1}))
                } else if path == "/repos/acme/shop/pulls" && method == "POST" {
                    (
                        201,
                        serde_json::json!({"number": 7, "html_url": format!("{base}/acme/shop/pull/7")}),
                    )
                } else if path == "/repos/acme/shop/releases" && method == "POST" {
                    let mut r: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
                    r["id"] = (all.len() + 1).into();
                    r["html_url"] = format!("{base}/acme/shop/releases/{}", all.len() + 1).into();
                    all.push(r.clone());
                    (201, r)
                } else {
                    (404, serde_json::json!({"message": "Not Found"}))
                };
                let text = answer.to_string();
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                    text.len()
                );
            }
        });
        FakeGithub { url, requests }
    }

    pub fn requests(&self) -> Vec<(String, String, String)> {
        self.requests.lock().expect("lock").clone()
    }
}
