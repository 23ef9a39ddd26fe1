//! Against a local server that answers like the GitHub API: batching, rate limits, 5xx
//! retries, release create/update, and how many requests each takes.

use std::time::Duration;

use serde_json::{Value, json};
use shipgate_github::{
    Client, Config, GitHubError, ReleaseOutcome, ReleaseRequest, Repository, RetryPolicy, Token,
    enrich_commits, first_time_contributors, upsert_release,
};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const TOKEN: &str = "ghp_test_token_do_not_print";

fn client(server: &MockServer, token: bool) -> Client {
    let mut config = Config::new(&server.uri(), if token { Token::new(TOKEN) } else { None });
    config.retry = RetryPolicy {
        max_retries: 3,
        backoff: Duration::from_millis(1),
        max_wait: Duration::from_secs(5),
    };
    Client::new(config).expect("client")
}

fn repo() -> Repository {
    Repository::parse("shipgate/shipgate").expect("repo")
}

fn oid(n: u32) -> String {
    format!("{n:08x}{}", "a".repeat(32))
}

/// Answers commit lookups like GitHub's GraphQL API: PR = the oid's first 8 hex digits,
/// login `user-N`; oids starting with `ffff` are unknown (null).
struct CommitLookup;

impl Respond for CommitLookup {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let query = body["query"].as_str().unwrap_or_default();
        let mut repository = serde_json::Map::new();
        for line in query.lines() {
            let Some((alias, rest)) = line.trim().split_once(": object(oid: \"") else {
                continue;
            };
            let id = &rest[..40];
            let node = if id.starts_with("ffff") {
                Value::Null
            } else {
                let n = u64::from_str_radix(&id[..8], 16).unwrap_or_default();
                json!({ "author": { "user": { "login": format!("user-{n}") } },
                        "associatedPullRequests": { "nodes": [ { "number": n + 1000, "merged": false }, { "number": n, "merged": true } ] } })
            };
            repository.insert(alias.to_string(), node);
        }
        assert_eq!(
            body["variables"],
            json!({ "owner": "shipgate", "name": "shipgate" })
        );
        ResponseTemplate::new(200).set_body_json(json!({ "data": { "repository": repository } }))
    }
}

async fn graphql_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(CommitLookup)
        .mount(&server)
        .await;
    server
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

#[tokio::test]
async fn enrichment_batches_one_request_per_hundred_commits() {
    let server = graphql_server().await;
    let client = client(&server, true);
    let mut ids: Vec<String> = (1..=250).map(oid).collect();
    ids.push(oid(1)); // a duplicate
    ids.push("abc1234".into()); // not a full id: ignored
    ids.push(format!("ffff{}", "0".repeat(36))); // unknown to GitHub
    let enrichment = enrich_commits(&client, &repo(), &ids)
        .await
        .expect("enriches");
    assert_eq!(requests(&server).await, 3);
    assert_eq!(client.requests(), 3);
    assert_eq!(enrichment.commits.len(), 250);
    let info = &enrichment.commits[&oid(42)];
    assert_eq!(info.pr, Some(42), "the merged PR wins");
    assert_eq!(info.login.as_deref(), Some("user-42"));

    let mut commits = vec![
        shipgate_changelog::CommitInput {
            id: oid(7),
            ..Default::default()
        },
        shipgate_changelog::CommitInput {
            id: oid(8),
            pr: Some(99),
            ..Default::default()
        },
    ];
    shipgate_github::apply(&enrichment, &mut commits);
    assert_eq!(
        (commits[0].pr, commits[0].author_login.as_deref()),
        (Some(7), Some("user-7"))
    );
    assert_eq!(commits[1].pr, Some(99), "a known PR is kept");
}

#[tokio::test]
async fn without_a_token_nothing_is_asked_and_nothing_fails() {
    let server = graphql_server().await;
    let client = client(&server, false);
    let enrichment = enrich_commits(&client, &repo(), &[oid(1)])
        .await
        .expect("never an error");
    assert!(enrichment.commits.is_empty());
    assert!(
        first_time_contributors(&client, &repo(), &[("ada".into(), 1)])
            .await
            .expect("never an error")
            .is_empty()
    );
    assert_eq!(requests(&server).await, 0);
}

#[tokio::test]
async fn rate_limits_with_retry_after_are_waited_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", "0")
                .set_body_json(json!({ "message": "slow down" })),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .respond_with(CommitLookup)
        .mount(&server)
        .await;
    let client = client(&server, true);
    let enrichment = enrich_commits(&client, &repo(), &[oid(5)])
        .await
        .expect("retried");
    assert_eq!(enrichment.commits[&oid(5)].pr, Some(5));
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn a_rate_limit_longer_than_the_bound_fails_at_once() {
    let server = MockServer::start().await;
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        + 3600;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", reset.to_string().as_str())
                .set_body_json(json!({ "message": "API rate limit exceeded" })),
        )
        .mount(&server)
        .await;
    let client = client(&server, true);
    let started = std::time::Instant::now();
    let err = enrich_commits(&client, &repo(), &[oid(5)])
        .await
        .expect_err("rate limited");
    assert!(
        matches!(err, GitHubError::RateLimited { wait_secs, .. } if wait_secs > 3000),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(requests(&server).await, 1);
    assert!(!err.to_string().contains("hint:"), "{err}");
    assert_eq!(
        err.hint().as_deref(),
        Some("re-run later, or use a token with a higher limit")
    );
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(CommitLookup)
        .mount(&server)
        .await;
    let client = client(&server, true);
    enrich_commits(&client, &repo(), &[oid(1)])
        .await
        .expect("third time lucky");
    assert_eq!(requests(&server).await, 3);
}

#[tokio::test]
async fn server_errors_give_up_after_the_retries() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({ "message": "boom" })))
        .mount(&server)
        .await;
    let client = client(&server, true);
    let err = enrich_commits(&client, &repo(), &[oid(1)])
        .await
        .expect_err("gives up");
    assert!(
        matches!(err, GitHubError::Status { status: 500, .. }),
        "{err:?}"
    );
    assert_eq!(requests(&server).await, 4, "one try and three retries");
}

#[tokio::test]
async fn first_time_contributors_are_found_in_one_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .and(wiremock::matchers::body_string_contains(
            "author:alice sort:created-asc",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "data": {
            "u0": { "nodes": [ { "number": 41 } ] },
            "u1": { "nodes": [ { "number": 3 } ] },
        } })))
        .mount(&server)
        .await;
    let client = client(&server, true);
    let authors = vec![
        ("alice".to_string(), 41),
        ("bob".to_string(), 45),
        ("alice".to_string(), 44),
        ("dependabot[bot]".to_string(), 50),
    ];
    let new = first_time_contributors(&client, &repo(), &authors)
        .await
        .expect("asks");
    assert_eq!(
        new,
        vec![shipgate_changelog::Contributor {
            login: "alice".into(),
            first_pr: Some(41)
        }]
    );
    assert_eq!(requests(&server).await, 1);
}

fn release_request(body: &str, prerelease: bool) -> ReleaseRequest {
    ReleaseRequest {
        repo: repo(),
        tag: "v1.4.0-rc.1".into(),
        name: "v1.4.0-rc.1".into(),
        body: body.into(),
        prerelease,
    }
}

const BY_TAG: &str = "/repos/shipgate/shipgate/releases/tags/v1.4.0-rc.1";

#[tokio::test]
async fn a_missing_release_is_created_as_a_prerelease() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(BY_TAG))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({ "message": "Not Found" })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/shipgate/shipgate/releases"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .and(body_partial_json(json!({ "tag_name": "v1.4.0-rc.1", "prerelease": true, "body": "notes", "draft": false })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "id": 7, "html_url": "https://github.com/shipgate/shipgate/releases/tag/v1.4.0-rc.1" })))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server, true);
    let outcome = upsert_release(&client, &release_request("notes", true))
        .await
        .expect("creates");
    assert_eq!(
        outcome,
        ReleaseOutcome::Created {
            id: 7,
            url: "https://github.com/shipgate/shipgate/releases/tag/v1.4.0-rc.1".into()
        }
    );
    assert_eq!(requests(&server).await, 2);
}

fn existing(body: &str) -> Value {
    json!({ "id": 7, "name": "v1.4.0-rc.1", "body": body, "prerelease": true, "html_url": "https://github.com/r/7" })
}

#[tokio::test]
async fn an_identical_release_is_left_alone() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(BY_TAG))
        .respond_with(ResponseTemplate::new(200).set_body_json(existing("notes")))
        .mount(&server)
        .await;
    let client = client(&server, true);
    let outcome = upsert_release(&client, &release_request("notes", true))
        .await
        .expect("checks");
    assert_eq!(
        outcome,
        ReleaseOutcome::Unchanged {
            id: 7,
            url: "https://github.com/r/7".into()
        }
    );
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn a_different_release_is_updated() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(BY_TAG))
        .respond_with(ResponseTemplate::new(200).set_body_json(existing("old notes")))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/repos/shipgate/shipgate/releases/7"))
        .and(body_partial_json(
            json!({ "body": "new notes", "prerelease": false }),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(existing("new notes")))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server, true);
    let outcome = upsert_release(&client, &release_request("new notes", false))
        .await
        .expect("updates");
    assert!(
        matches!(outcome, ReleaseOutcome::Updated { id: 7, .. }),
        "{outcome:?}"
    );
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn releases_need_a_token_and_errors_never_show_it() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({ "message": "Bad credentials" })),
        )
        .mount(&server)
        .await;
    let err = upsert_release(&client(&server, false), &release_request("x", false))
        .await
        .expect_err("no token");
    assert!(matches!(err, GitHubError::NoToken));
    assert_eq!(err.to_string(), "no GitHub token");
    assert_eq!(
        err.hint().as_deref(),
        Some("set GITHUB_TOKEN (in Actions: `env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}`)")
    );
    assert_eq!(requests(&server).await, 0);
    let client = client(&server, true);
    let err = upsert_release(&client, &release_request("x", false))
        .await
        .expect_err("401");
    let shown = format!("{err} {err:?} {client:?}");
    assert!(shown.contains("Bad credentials"), "{shown}");
    assert!(!shown.contains(TOKEN), "{shown}");
}

#[test]
fn blocking_callers_get_a_runtime() {
    let config = Config::new("http://127.0.0.1:9", None);
    let enrichment = shipgate_github::block_on(async {
        let client = Client::new(config).expect("client");
        enrich_commits(&client, &repo(), &[oid(1)]).await
    })
    .expect("runtime")
    .expect("no token: nothing to do");
    assert!(enrichment.commits.is_empty());
}
