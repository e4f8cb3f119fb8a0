//! Two real `lnaddr serve` processes on one Redis: a domain added, changed and removed through one
//! is served (and paid) through the other within 5 s, with no restart.

mod support;

use std::time::{Duration, Instant};

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

    let resp = http
        .post(format!("{}/api/v1/domains", a.admin_url()))
        .bearer_auth(TOKEN)
        .json(&json!({"name": "joined.example", "public_url": b.public_url(), "description": "Joined"}))
        .send()
        .await
        .expect("add domain");
    assert_eq!(resp.status(), 201);
    let added = Instant::now();
    // b serves it: its admin API accepts accounts on it, its public side answers lookups.
    wait_for("b to serve the new domain", PROPAGATION, || async {
        let resp = http
            .get(format!("{}/api/v1/domains/joined.example", b.admin_url()))
            .bearer_auth(TOKEN)
            .send()
            .await
            .ok()?;
        (resp.status() == 200).then_some(())
    })
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
    let answer: Value = http
        .get(format!("{callback}?amount=3000"))
        .send()
        .await
        .expect("callback")
        .json()
        .await
        .expect("json");
    let pr = answer["pr"].as_str().expect("pr");
    fake_pay(&http, &b.admin_url(), pr).await.expect("paid");
    assert_credited_exactly(&http, &a, "zoe@joined.example", 3000, 1).await;

    // Changed through a: b's lookups (and its pay cache) follow within 5 s.
    let resp = http
        .patch(format!("{}/api/v1/domains/joined.example", a.admin_url()))
        .bearer_auth(TOKEN)
        .json(&json!({"description": "Changed"}))
        .send()
        .await
        .expect("patch");
    assert_eq!(resp.status(), 200);
    wait_for("b to serve the new description", PROPAGATION, || async {
        let found = lookup(&http, &b.public_url(), "joined.example", "zoe").await?;
        found["metadata"]
            .as_str()?
            .contains("Changed")
            .then_some(())
    })
    .await;

    // A token made through a works on b; removal through a is refused while zoe is there.
    let made: Value = http
        .post(format!(
            "{}/api/v1/domains/joined.example/tokens",
            a.admin_url()
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let token = made["token"].as_str().expect("token");
    let resp = http
        .get(format!(
            "{}/api/v1/accounts/zoe@joined.example",
            b.admin_url()
        ))
        .bearer_auth(token)
        .send()
        .await
        .expect("read");
    assert_eq!(resp.status(), 200);
    let resp = http
        .delete(format!("{}/api/v1/domains/joined.example", a.admin_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("delete");
    assert_eq!(resp.status(), 409);

    // Another domain, empty, removed through a: b stops serving it within 5 s.
    let resp = http
        .post(format!("{}/api/v1/domains", a.admin_url()))
        .bearer_auth(TOKEN)
        .json(&json!({"name": "brief.example", "public_url": "https://brief.example"}))
        .send()
        .await
        .expect("add");
    assert_eq!(resp.status(), 201);
    wait_for("b to serve brief.example", PROPAGATION, || async {
        let resp = http
            .get(format!("{}/api/v1/domains/brief.example", b.admin_url()))
            .bearer_auth(TOKEN)
            .send()
            .await
            .ok()?;
        (resp.status() == 200).then_some(())
    })
    .await;
    let resp = http
        .delete(format!("{}/api/v1/domains/brief.example", a.admin_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("delete");
    assert_eq!(resp.status(), 204);
    wait_for("b to stop serving brief.example", PROPAGATION, || async {
        let resp = http
            .get(format!("{}/api/v1/domains/brief.example", b.admin_url()))
            .bearer_auth(TOKEN)
            .send()
            .await
            .ok()?;
        (resp.status() == 404).then_some(())
    })
    .await;
}
