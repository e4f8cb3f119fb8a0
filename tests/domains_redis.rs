//! Two real `lnaddr serve` processes on one Redis: a domain added, changed and removed through one
//! is served (and paid) through the other within 5 s, with no restart.

mod support;

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use support::multi::*;
use support::process::wait_for;
use support::redis_server::RedisServer;

/// The contract: every process serves a change within this.
const PROPAGATION: Duration = Duration::from_secs(5);

async fn lookup(http: &reqwest::Client, public: &str, host: &str, user: &str) -> Option<Value> {
    let resp = http
        .get(format!("{public}/.well-known/lnurlp/{user}"))
        .header("host", host)
        .send()
        .await
        .ok()?;
    if resp.status() != 200 {
        return None;
    }
    resp.json().await.ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_domain_added_through_one_gateway_is_served_and_paid_through_the_other() {
    let redis = RedisServer::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let http = client();
    let a = redis_gateway(&tmp.path().join("a"), &redis.url(), &[]);
    let b = redis_gateway(&tmp.path().join("b"), &redis.url(), &[]);
    wait_healthy(&http, &a.public_url()).await;
    wait_healthy(&http, &b.public_url()).await;

    let joined =
        json!({"name": "joined.example", "public_url": b.public_url(), "description": "Joined"});
    let (status, _) = admin(&http, &a, Method::POST, "/api/v1/domains", Some(joined)).await;
    assert_eq!(status, 201);
    let added = Instant::now();
    // b serves it: its admin API accepts accounts on it, its public side answers lookups.
    let path = "/api/v1/domains/joined.example";
    wait_admin_status(
        &http,
        &b,
        path,
        200,
        "b to serve the new domain",
        PROPAGATION,
    )
    .await;
    let took = added.elapsed();
    assert!(took < PROPAGATION, "took {took:?}");

    create_account(&http, &b, "zoe@joined.example").await;
    let found = lookup(&http, &b.public_url(), "joined.example", "zoe")
        .await
        .expect("lookup on b");
    assert!(
        found["metadata"]
            .as_str()
            .expect("metadata")
            .contains("[\"text/plain\",\"Joined\"]")
    );
    let callback = found["callback"].as_str().expect("callback");
    assert_eq!(
        callback,
        format!("{}/d/joined.example/lnurlp/zoe/callback", b.public_url())
    );
    let (_, answer) = get_json(&http, &format!("{callback}?amount=3000")).await;
    let pr = answer["pr"].as_str().expect("pr");
    fake_pay(&http, &b.admin_url(), pr).await.expect("paid");
    assert_credited_exactly(&http, &a, "zoe@joined.example", 3000, 1).await;

    // Changed through a: b's lookups (and its pay cache) follow within 5 s.
    let changed = Some(json!({"description": "Changed"}));
    let (status, _) = admin(&http, &a, Method::PATCH, path, changed).await;
    assert_eq!(status, 200);
    wait_for("b to serve the new description", PROPAGATION, || async {
        let found = lookup(&http, &b.public_url(), "joined.example", "zoe").await?;
        found["metadata"]
            .as_str()?
            .contains("Changed")
            .then_some(())
    })
    .await;

    // A token made through a works on b; removal through a is refused while zoe is there.
    let tokens = "/api/v1/domains/joined.example/tokens";
    let (_, made) = admin(&http, &a, Method::POST, tokens, None).await;
    let token = made["token"].as_str().expect("token");
    let zoe = "/api/v1/accounts/zoe@joined.example";
    let (status, _) = admin_request(&http, &b, token, Method::GET, zoe, None).await;
    assert_eq!(status, 200);
    let (status, _) = admin(&http, &a, Method::DELETE, path, None).await;
    assert_eq!(status, 409);

    // Another domain, empty, removed through a: b stops serving it within 5 s.
    let brief = json!({"name": "brief.example", "public_url": "https://brief.example"});
    let (status, _) = admin(&http, &a, Method::POST, "/api/v1/domains", Some(brief)).await;
    assert_eq!(status, 201);
    let path = "/api/v1/domains/brief.example";
    wait_admin_status(
        &http,
        &b,
        path,
        200,
        "b to serve brief.example",
        PROPAGATION,
    )
    .await;
    let (status, _) = admin(&http, &a, Method::DELETE, path, None).await;
    assert_eq!(status, 204);
    let what = "b to stop serving brief.example";
    wait_admin_status(&http, &b, path, 404, what, PROPAGATION).await;
}
