//! Webhooks with real `lnaddr serve` processes: a `kill -9` between the credit and the delivery
//! loses no event (embedded store and Redis), and two processes on one Redis never deliver the
//! same event at the same moment.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};
use support::multi::{
    self, DEADLINE, TOKEN, client, create_account, fake_pay, request_invoice, wait_healthy,
};
use support::process::{GatewayProcess, free_port};
use support::redis_server::RedisServer;
use support::webhook_receiver::Receiver;

const ALLOW_PRIVATE: (&str, &str) = ("LNADDR_WEBHOOKS__ALLOW_PRIVATE_ADDRESSES", "true");

async fn register(http: &reqwest::Client, g: &GatewayProcess, url: &str) -> String {
    let resp = http
        .post(format!("{}/api/v1/webhooks", g.admin_url()))
        .bearer_auth(TOKEN)
        .json(&json!({"url": url, "events": ["payment.received"]}))
        .send()
        .await
        .expect("register");
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.expect("json");
    body["secret"].as_str().expect("secret").to_string()
}

/// Pays `amount` to `user` through gateway `g` (its own fake node); answers the payment hash.
async fn pay(http: &reqwest::Client, g: &GatewayProcess, user: &str, amount: u64) -> String {
    let pr = request_invoice(http, &g.public_url(), user, amount)
        .await
        .expect("invoice");
    fake_pay(http, &g.admin_url(), &pr).await.expect("paid");
    let invoice: lightning_invoice::Bolt11Invoice = pr.parse().expect("bolt11");
    let hash: &[u8] = invoice.payment_hash().as_ref();
    hex::encode(hash)
}

/// Credits a payment while the receiver refuses connections, kills the gateway with -9, then
/// brings the receiver up and restarts the gateway: the event arrives.
async fn survives_kill9(start: impl Fn(&std::path::Path) -> GatewayProcess) {
    let dir = tempfile::tempdir().expect("tempdir");
    let http = client();
    let port = free_port();
    let mut g = start(dir.path());
    wait_healthy(&http, &g.public_url()).await;
    let url = format!("http://127.0.0.1:{port}/hook");
    let secret = register(&http, &g, &url).await;
    create_account(&http, &g, "crash@localhost").await;
    let hash = pay(&http, &g, "crash", 7_000).await;
    g.wait_balance(&http, TOKEN, "crash@localhost", 7_000).await;
    g.kill9();

    let receiver = Receiver::start_on(port).await;
    receiver.trust(&secret);
    g.restart();
    wait_healthy(&http, &g.public_url()).await;
    let events = receiver.wait_events(1, DEADLINE).await;
    assert_eq!(events[0].body["data"]["payment_hash"], hash.as_str());
    assert_eq!(events[0].body["data"]["amount_msat"], 7_000);
    assert_eq!(receiver.bad_signatures(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_between_credit_and_delivery_still_delivers_embedded() {
    survives_kill9(|dir| {
        GatewayProcess::start(
            dir,
            &[
                ("LNADDR_ADMIN_TOKEN", TOKEN),
                (
                    "LNADDR_DOMAINS",
                    r#"[{name="localhost", public_url="http://localhost"}]"#,
                ),
                ALLOW_PRIVATE,
            ],
        )
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_between_credit_and_delivery_still_delivers_redis() {
    let server = RedisServer::start();
    let url = server.url();
    survives_kill9(|dir| multi::redis_gateway(dir, &url, &[ALLOW_PRIVATE])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_redis_never_deliver_an_event_at_once() {
    let server = RedisServer::start();
    let url = server.url();
    let dirs = [
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    ];
    let http = client();
    let gateways: Vec<GatewayProcess> = dirs
        .iter()
        .map(|d| multi::redis_gateway(d.path(), &url, &[ALLOW_PRIVATE]))
        .collect();
    for g in &gateways {
        wait_healthy(&http, &g.public_url()).await;
    }
    // A slow receiver that refuses each event's first try: every event is claimed at least
    // twice, by whichever process gets there, while the other keeps polling.
    let receiver = Receiver::start().await;
    receiver.set_delay(Duration::from_millis(300));
    receiver.fail_first_try(true);
    let secret = register(&http, &gateways[0], &receiver.url()).await;
    receiver.trust(&secret);
    create_account(&http, &gateways[0], "busy@localhost").await;
    let mut hashes = Vec::new();
    for i in 0..8u64 {
        let g = &gateways[usize::try_from(i % 2).expect("index")];
        hashes.push(pay(&http, g, "busy", 1_000 + i).await);
    }
    receiver.wait_events(8, DEADLINE).await;
    assert_eq!(receiver.overlaps(), 0, "one process at a time per event");
    let mut per_id: HashMap<String, u32> = HashMap::new();
    for d in receiver.delivered() {
        *per_id.entry(d.id).or_default() += 1;
    }
    assert!(
        per_id.values().all(|&n| n == 1),
        "each event accepted once: {per_id:?}"
    );
    let mut got: Vec<String> = receiver
        .delivered()
        .iter()
        .map(|d| {
            d.body["data"]["payment_hash"]
                .as_str()
                .expect("hash")
                .to_string()
        })
        .collect();
    got.sort();
    hashes.sort();
    assert_eq!(got, hashes);
    assert_eq!(receiver.bad_signatures(), 0);
}
