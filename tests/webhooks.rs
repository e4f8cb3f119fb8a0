//! Signed webhooks end to end on the embedded store: a gateway in-process on real sockets, a
//! receiver (`support::webhook_receiver`) that checks every signature with its own HMAC, the admin
//! API to register webhooks, the fake node to pay. The ledger exports: `exports.rs`.

mod support;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use support::gateway::TestGateway;
use support::process::wait_for;
use support::webhook_receiver::Receiver;

const WAIT: Duration = Duration::from_secs(30);

async fn gateway(dir: &std::path::Path, allow_private: bool) -> TestGateway {
    TestGateway::start_with(dir, |url| {
        vec![
            (
                "LNADDR_DOMAINS".into(),
                format!(
                    r#"[{{name="localhost", public_url="{url}"}}, {{name="other.test", public_url="http://other.test"}}]"#
                ),
            ),
            (
                "LNADDR_WEBHOOKS__ALLOW_PRIVATE_ADDRESSES".into(),
                allow_private.to_string(),
            ),
        ]
    })
    .await
}

/// Registers `url`; answers the creation answer (with the secret).
async fn register(gw: &TestGateway, body: Value) -> Value {
    let (status, created) = gw.admin(Method::POST, "/api/v1/webhooks", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    created
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_signed_and_carry_the_payment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = gateway(dir.path(), true).await;
    let receiver = Receiver::start().await;
    let scoped = Receiver::start().await;
    let all = register(
        &gw,
        json!({"url": receiver.url(), "events": ["payment.received"]}),
    )
    .await;
    let secret = all["secret"].as_str().expect("secret shown once");
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    receiver.trust(secret);
    // A webhook for another domain only: alice@localhost's payments are not its business.
    let other = register(&gw, json!({"url": scoped.url(), "domain": "other.test"})).await;
    scoped.trust(other["secret"].as_str().expect("secret"));
    assert_eq!(
        other["events"],
        json!(["payment.received", "payment.sent", "payment.failed"])
    );

    let (status, listed) = gw.admin(Method::GET, "/api/v1/webhooks", None).await;
    assert_eq!(status, 200);
    let listed = listed.as_array().expect("array");
    assert_eq!(listed.len(), 2);
    assert!(
        listed.iter().all(|w| w.get("secret").is_none()),
        "the secret is shown only once: {listed:?}"
    );

    gw.create_account("alice@localhost").await;
    let payer = r#"{"name":"Bob"}"#;
    let encoded: String = url::form_urlencoded::byte_serialize(payer.as_bytes()).collect();
    let h1 = gw
        .pay_with("alice", 21_000, "&comment=thanks%2C%20alice")
        .await;
    let h2 = gw
        .pay_with("alice", 5_000, &format!("&payerdata={encoded}"))
        .await;

    let events = receiver.wait_events(2, WAIT).await;
    assert_eq!(receiver.bad_signatures(), 0, "every delivery verifies");
    let by_hash: HashMap<String, Value> = events
        .iter()
        .map(|d| {
            (
                d.body["data"]["payment_hash"]
                    .as_str()
                    .expect("hash")
                    .to_string(),
                d.body.clone(),
            )
        })
        .collect();
    let e1 = &by_hash[&h1];
    assert_eq!(e1["type"], "payment.received");
    assert!(e1["id"].as_str().expect("id").starts_with("evt_"));
    assert!(e1["created_at"].as_u64().expect("time") > 1_700_000_000);
    assert_eq!(e1["data"]["address"], "alice@localhost");
    assert_eq!(e1["data"]["amount_msat"], 21_000);
    assert_eq!(e1["data"]["fee_msat"], 0);
    assert_eq!(e1["data"]["comment"], "thanks, alice");
    let e2 = &by_hash[&h2];
    assert_eq!(e2["data"]["amount_msat"], 5_000);
    assert_eq!(e2["data"]["payer_data"], payer);
    assert!(events.iter().all(|d| d.signature.starts_with("t=")));

    // Both deliveries done: the queue is empty and the metrics say so.
    wait_for("the webhook queue to drain", WAIT, || async {
        (gw.metric("lnaddr_webhook_queue_depth").await == 0.0).then_some(())
    })
    .await;
    assert!(gw.metric("lnaddr_webhook_deliveries_total").await >= 2.0);
    assert_eq!(
        scoped.attempts(),
        0,
        "the other domain's webhook got nothing"
    );

    // Removing: 204, then 404; the list no longer has it.
    let id = all["id"].as_str().expect("id");
    let (status, _) = gw
        .admin(Method::DELETE, &format!("/api/v1/webhooks/{id}"), None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = gw
        .admin(Method::DELETE, &format!("/api/v1/webhooks/{id}"), None)
        .await;
    assert_eq!(status, 404);
    let (_, listed) = gw.admin(Method::GET, "/api/v1/webhooks", None).await;
    assert_eq!(listed.as_array().expect("array").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_down_for_a_while_gets_every_event_once_per_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = gateway(dir.path(), true).await;
    let receiver = Receiver::start().await;
    receiver.set_down(true);
    let created = register(&gw, json!({"url": receiver.url()})).await;
    receiver.trust(created["secret"].as_str().expect("secret"));
    gw.create_account("shop@localhost").await;
    let mut hashes = HashSet::new();
    for amount in [1_000, 2_000, 3_000] {
        hashes.insert(gw.pay_with("shop", amount, "").await);
    }
    // Every event tried at least twice while the receiver is down, and none accepted. The
    // receiver counts a try before the gateway has read its answer: wait for both counts.
    wait_for("two failed tries per event", WAIT, || async {
        (receiver.attempts() >= 6
            && gw.metric("lnaddr_webhook_delivery_failures_total").await >= 6.0)
            .then_some(())
    })
    .await;
    assert!(receiver.delivered().is_empty());
    assert_eq!(gw.metric("lnaddr_webhook_queue_depth").await, 3.0);
    receiver.set_down(false);

    let events = receiver.wait_events(3, WAIT).await;
    let got: HashSet<String> = events
        .iter()
        .map(|d| {
            d.body["data"]["payment_hash"]
                .as_str()
                .expect("hash")
                .into()
        })
        .collect();
    assert_eq!(got, hashes, "one event per payment");
    // Every try of an event carried the same id and the same data.
    let mut seen: HashMap<String, Value> = HashMap::new();
    for d in receiver.delivered() {
        if let Some(first) = seen.insert(d.id.clone(), d.body.clone()) {
            assert_eq!(first, d.body, "a duplicate is the same event");
        }
    }
    assert_eq!(seen.len(), 3);
    assert_eq!(receiver.bad_signatures(), 0);
    wait_for("the queue to drain", WAIT, || async {
        (gw.metric("lnaddr_webhook_queue_depth").await == 0.0).then_some(())
    })
    .await;
    assert_eq!(
        gw.metric("lnaddr_webhook_oldest_pending_seconds").await,
        0.0
    );
}

#[tokio::test]
async fn webhook_urls_on_private_addresses_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = gateway(dir.path(), false).await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost:9/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://100.64.0.1/hook",
    ] {
        let (status, body) = gw
            .admin(Method::POST, "/api/v1/webhooks", Some(json!({"url": url})))
            .await;
        assert_eq!(status, 400, "{url}: {body}");
        assert!(
            body["reason"]
                .as_str()
                .expect("reason")
                .contains("non-public"),
            "{url}: {body}"
        );
    }
    for (body, why) in [
        (json!({"url": "ftp://example.com/x"}), "http"),
        (json!({"url": "http://user:pw@example.com/x"}), "password"),
        (
            json!({"url": "https://1.1.1.1/x", "events": ["payment.stolen"]}),
            "unknown event",
        ),
        (
            json!({"url": "https://1.1.1.1/x", "secret": "mine"}),
            "unknown field",
        ),
    ] {
        let (status, answer) = gw
            .admin(Method::POST, "/api/v1/webhooks", Some(body.clone()))
            .await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(
            answer["reason"].as_str().expect("reason").contains(why),
            "{body}: {answer}"
        );
    }
    let (status, body) = gw
        .admin(
            Method::POST,
            "/api/v1/webhooks",
            Some(json!({"url": "https://1.1.1.1/x", "domain": "nowhere.test"})),
        )
        .await;
    assert_eq!(status, 400, "unknown domain: {body}");
    assert!(
        body["reason"]
            .as_str()
            .expect("reason")
            .contains("not served")
    );
    let (_, listed) = gw.admin(Method::GET, "/api/v1/webhooks", None).await;
    assert_eq!(listed, json!([]), "refusals change nothing");
    // A public address is taken (nothing is sent at registration).
    register(&gw, json!({"url": "https://1.1.1.1/hook"})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn payments_out_send_sent_and_failed_events() {
    use lightning_invoice::Currency;
    use support::wallet::{foreign_invoice, withdraw, withdraw_request};
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = TestGateway::start_with(dir.path(), |url| {
        vec![
            (
                "LNADDR_DOMAINS".into(),
                format!(r#"[{{name="localhost", public_url="{url}"}}]"#),
            ),
            (
                "LNADDR_WEBHOOKS__ALLOW_PRIVATE_ADDRESSES".into(),
                "true".into(),
            ),
        ]
    })
    .await;
    let receiver = Receiver::start().await;
    let created = register(
        &gw,
        json!({"url": receiver.url(), "events": ["payment.sent", "payment.failed"]}),
    )
    .await;
    receiver.trust(created["secret"].as_str().expect("secret"));
    gw.create_account("alice@localhost").await;
    gw.pay_with("alice", 100_000, "").await;
    gw.wait_balance("alice@localhost", 100_000).await;
    gw.fake()
        .payments
        .set_fee(lnaddr::types::Msat::from_msat(1_234));
    let body = json!({"min_msat": 1_000, "max_msat": 50_000, "uses": 2});
    let link = gw.create_link("alice@localhost", body).await;
    let w = withdraw_request(link["lnurl"].as_str().expect("lnurl")).await;

    let (pr, hash) = foreign_invoice(Currency::Regtest, 20_000);
    assert_eq!(withdraw(&w, &pr).await["status"], "OK");
    let events = receiver.wait_events(1, WAIT).await;
    let sent = &events[0].body;
    assert_eq!(sent["type"], "payment.sent");
    assert_eq!(sent["data"]["address"], "alice@localhost");
    assert_eq!(sent["data"]["amount_msat"], 20_000);
    assert_eq!(sent["data"]["fee_msat"], 1_234);
    assert_eq!(sent["data"]["payment_hash"], hex::encode(hash));

    gw.fail_next_payments(1).await;
    let (pr2, hash2) = foreign_invoice(Currency::Regtest, 5_000);
    assert_eq!(withdraw(&w, &pr2).await["status"], "OK");
    let events = receiver.wait_events(2, WAIT).await;
    let failed = events
        .iter()
        .find(|d| d.body["type"] == "payment.failed")
        .expect("a payment.failed event");
    assert_eq!(failed.body["data"]["payment_hash"], hex::encode(hash2));
    assert_eq!(failed.body["data"]["amount_msat"], 5_000);
    assert_eq!(failed.body["data"]["fee_msat"], 0);
    gw.wait_balance("alice@localhost", 100_000 - 20_000 - 1_234)
        .await;
    assert!(
        receiver
            .delivered()
            .iter()
            .all(|d| d.body["type"] != "payment.received"),
        "not subscribed to payment.received"
    );
    assert_eq!(receiver.bad_signatures(), 0);
}

/// SPEC.md: a domain token manages its own domain's webhooks, and only those: it registers for its
/// domain (never gateway-wide), sees only its domain's, and cannot remove another's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_token_manages_only_its_domains_webhooks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = gateway(dir.path(), true).await;
    let (status, made) = gw
        .admin(
            Method::POST,
            "/api/v1/domains/other.test/tokens",
            Some(json!({"label": "other's owner"})),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    let token = made["token"].as_str().expect("token").to_string();
    let as_owner = |method: Method, path: &str, body: Option<Value>| {
        let mut req = gw
            .http
            .request(method, format!("{}{path}", gw.admin))
            .bearer_auth(&token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        async move {
            let resp = req.send().await.expect("request");
            let status = resp.status().as_u16();
            (status, resp.json::<Value>().await.unwrap_or(Value::Null))
        }
    };

    let everywhere = register(&gw, json!({"url": "http://127.0.0.1:9/all"})).await;
    let local = register(
        &gw,
        json!({"url": "http://127.0.0.1:9/local", "domain": "localhost"}),
    )
    .await;
    let (status, own) = as_owner(
        Method::POST,
        "/api/v1/webhooks",
        Some(json!({"url": "http://127.0.0.1:9/other"})),
    )
    .await;
    assert_eq!(status, 201, "{own}");
    assert_eq!(
        own["domain"], "other.test",
        "a domain token's webhook is its domain's"
    );
    assert!(
        own["secret"]
            .as_str()
            .is_some_and(|s| s.starts_with("whsec_"))
    );
    let (status, answer) = as_owner(
        Method::POST,
        "/api/v1/webhooks",
        Some(json!({"url": "http://127.0.0.1:9/steal", "domain": "localhost"})),
    )
    .await;
    assert_eq!(status, 403, "{answer}");

    let (status, listed) = as_owner(Method::GET, "/api/v1/webhooks", None).await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = listed
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|w| w["id"].as_str())
        .collect();
    assert_eq!(ids, [own["id"].as_str().expect("id")]);

    for other in [&everywhere, &local] {
        let path = format!("/api/v1/webhooks/{}", other["id"].as_str().expect("id"));
        let (status, answer) = as_owner(Method::DELETE, &path, None).await;
        assert_eq!(status, 404, "{answer}");
    }
    let (_, all) = gw.admin(Method::GET, "/api/v1/webhooks", None).await;
    assert_eq!(all.as_array().expect("list").len(), 3, "nothing removed");
    let path = format!("/api/v1/webhooks/{}", own["id"].as_str().expect("id"));
    let (status, _) = as_owner(Method::DELETE, &path, None).await;
    assert_eq!(status, 204);
    let (_, all) = gw.admin(Method::GET, "/api/v1/webhooks", None).await;
    assert_eq!(all.as_array().expect("list").len(), 2);
}
