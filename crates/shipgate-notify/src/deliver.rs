//! One HTTP delivery: a POST, retried on a transport error, 429 and 5xx with backoff,
//! `Retry-After` honoured, all within a deadline; any other answer is final. What it says
//! of a failure names the status and the answer's body, never the URL (a webhook URL is a
//! secret) and never any of the secrets it is given.

use std::time::{Duration, Instant};

/// A request to send.
pub struct Post<'a> {
    pub url: &'a str,
    pub body: Vec<u8>,
    pub headers: Vec<(&'static str, String)>,
}

/// The final answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    /// How many requests it took.
    pub attempts: u32,
}

/// The first wait between attempts; each next one doubles, up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// The longest wait between attempts that no `Retry-After` asked for.
pub const MAX_BACKOFF: Duration = Duration::from_secs(4);

/// Whether an answer with this status is worth another try.
pub fn retryable(status: u16) -> bool {
    status == 429 || (500..=599).contains(&status)
}

/// Posts until an answer that is not retryable, or the deadline. `Ok` is the last answer
/// (any status: the caller decides what it means); `Err` is why there is none in time.
pub fn post(
    client: &reqwest::blocking::Client,
    post: &Post<'_>,
    deadline: Instant,
    secrets: &[String],
) -> Result<Answer, String> {
    let mut attempts = 0;
    let mut backoff = FIRST_BACKOFF;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!(
                "no answer within the timeout after {attempts} attempt(s)"
            ));
        }
        attempts += 1;
        let mut request = client.post(post.url).timeout(left).body(post.body.clone());
        for (k, v) in &post.headers {
            request = request.header(*k, v);
        }
        let (wait, last) = match request.send() {
            Ok(response) => {
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(retry_after);
                let body = redact(&response.text().unwrap_or_default(), secrets);
                if !retryable(status) {
                    return Ok(Answer {
                        status,
                        body,
                        attempts,
                    });
                }
                (
                    retry_after.unwrap_or(backoff),
                    format!(
                        "answered {status}: {}",
                        crate::message::clip(body.trim(), 300)
                    ),
                )
            }
            Err(e) => (backoff, redact(&shipgate_http::describe(&e), secrets)),
        };
        backoff = (backoff * 2).min(MAX_BACKOFF);
        let left = deadline.saturating_duration_since(Instant::now());
        if wait >= left {
            return Err(if attempts == 1 {
                last
            } else {
                format!("{last} (after {attempts} attempts)")
            });
        }
        std::thread::sleep(wait);
    }
}

/// `Retry-After`: seconds, or an HTTP date.
pub fn retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let now = jiff::Timestamp::now();
    Some(Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO))
}

/// `text` with every secret (of 4 characters or more) replaced by `***`.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(s.as_str(), "***");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeServer, Reply};

    fn client() -> reqwest::blocking::Client {
        shipgate_http::client(Duration::from_secs(10)).expect("client")
    }

    fn hello<'a>(url: &'a str) -> Post<'a> {
        Post {
            url,
            body: b"{}".to_vec(),
            headers: vec![("content-type", "application/json".into())],
        }
    }

    #[test]
    fn a_429_then_200_is_delivered_after_the_wait_it_asked_for() {
        let server = FakeServer::scripted(vec![
            Reply::new(429, "slow down").header("retry-after", "1"),
            Reply::new(200, "ok"),
        ]);
        let url = server.url("/hook");
        let started = Instant::now();
        let answer = post(
            &client(),
            &hello(&url),
            Instant::now() + Duration::from_secs(5),
            &[],
        )
        .expect("delivered");
        assert_eq!((answer.status, answer.attempts), (200, 2));
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "Retry-After was not honoured"
        );
        assert_eq!(server.requests().len(), 2);
    }

    #[test]
    fn a_4xx_is_final_and_a_5xx_is_retried_until_the_deadline() {
        let refused = FakeServer::scripted(vec![Reply::new(400, "invalid_payload")]);
        let url = refused.url("/");
        let answer = post(
            &client(),
            &hello(&url),
            Instant::now() + Duration::from_secs(5),
            &[],
        )
        .expect("an answer");
        assert_eq!(
            (answer.status, answer.body.as_str(), answer.attempts),
            (400, "invalid_payload", 1)
        );

        let failing = FakeServer::scripted(vec![Reply::new(503, "down"); 50]);
        let url = failing.url("/");
        let started = Instant::now();
        let err = post(
            &client(),
            &hello(&url),
            Instant::now() + Duration::from_millis(1500),
            &[],
        )
        .expect_err("never delivered");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "the deadline was not kept"
        );
        assert!(err.starts_with("answered 503: down (after "), "{err}");
        assert!(
            failing.requests().len() >= 3,
            "{}",
            failing.requests().len()
        );
    }

    #[test]
    fn a_hanging_server_costs_at_most_the_deadline() {
        let hanging = FakeServer::hanging();
        let url = hanging.url("/");
        let started = Instant::now();
        let err = post(
            &client(),
            &hello(&url),
            Instant::now() + Duration::from_millis(800),
            &[],
        )
        .expect_err("no answer");
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert!(
            err.contains("timed out") || err.contains("no answer"),
            "{err}"
        );
    }

    #[test]
    fn secrets_never_reach_an_error() {
        let server = FakeServer::scripted(vec![Reply::new(500, "bad token xoxb-secret-123"); 10]);
        let url = server.url("/services/T000/B000/secretpath");
        let err = post(
            &client(),
            &hello(&url),
            Instant::now() + Duration::from_millis(300),
            &["xoxb-secret-123".into(), url.clone()],
        )
        .expect_err("fails");
        assert!(!err.contains("xoxb-secret-123"), "{err}");
        assert!(!err.contains("secretpath"), "{err}");
        assert!(err.contains("***"), "{err}");
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon"), None);
    }
}
