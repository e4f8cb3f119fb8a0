//! LNURL-withdraw (LUD-03) on the Redis store: racing wallets on a multi-use link, a refunded
//! failure, and an invoice of this gateway settled inside the ledger through the payer's
//! idempotent steps (the two accounts live in different hash slots).

mod support;

use std::time::Duration;

use futures_util::future::join_all;
use lightning_invoice::Currency;
use reqwest::Method;
use serde_json::{Value, json};
use support::gateway::TestGateway;
use support::process::wait_for;
use support::redis_server::RedisServer;
use support::wallet::{foreign_invoice, withdraw, withdraw_request};

const WAIT: Duration = Duration::from_secs(10);

async fn create_link(gw: &TestGateway, body: Value) -> Value {
    gw.create_link("alice@localhost", body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn withdrawals_on_redis() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().expect("tmp");
    let url = redis.url();
    let gw = TestGateway::start_with(dir.path(), |public| {
        vec![
            ("LNADDR_STORE__KIND".into(), "redis".into()),
            ("LNADDR_STORE__URL".into(), url.clone()),
            (
                "LNADDR_DOMAINS".into(),
                format!(r#"[{{name="localhost", public_url="{public}"}}]"#),
            ),
        ]
    })
    .await;
    gw.create_account("alice@localhost").await;
    gw.create_account("bob@localhost").await;
    gw.pay_to("alice", 200_000).await;
    gw.wait_balance("alice@localhost", 200_000).await;

    // 50 wallets race on a 3-use link: three are paid.
    let link = create_link(&gw, json!({"max_msat": 10_000, "uses": 3})).await;
    let w = withdraw_request(link["lnurl"].as_str().expect("lnurl")).await;
    let answers = join_all((0..50).map(|_| {
        let (pr, _) = foreign_invoice(Currency::Regtest, 10_000);
        let w = &w;
        async move { withdraw(w, &pr).await }
    }))
    .await;
    assert_eq!(answers.iter().filter(|a| a["status"] == "OK").count(), 3);
    gw.wait_balance("alice@localhost", 170_000).await;

    // A failure is refunded and the use given back.
    gw.admin(
        Method::POST,
        "/api/v1/fake/fail-next-payments",
        Some(json!({"count": 1})),
    )
    .await;
    let one = create_link(&gw, json!({"max_msat": 10_000})).await;
    let w1 = withdraw_request(one["lnurl"].as_str().expect("lnurl")).await;
    let (pr, _) = foreign_invoice(Currency::Regtest, 10_000);
    assert_eq!(withdraw(&w1, &pr).await["status"], "OK");
    wait_for("the refund", WAIT, || async {
        let (_, l) = gw
            .admin(
                Method::GET,
                &format!("/api/v1/withdraw-links/{}", w1.k1),
                None,
            )
            .await;
        (l["uses_left"] == 1).then_some(())
    })
    .await;
    gw.wait_balance("alice@localhost", 170_000).await;

    // Bob's invoice, paid from alice's link: inside the ledger, no fee.
    let bob = gw.invoice("bob", 10_000).await;
    let pr = bob["pr"].as_str().expect("pr");
    let answer = withdraw(&w1, pr).await;
    assert_eq!(answer["status"], "OK", "{answer}");
    gw.wait_balance("bob@localhost", 10_000).await;
    gw.wait_balance("alice@localhost", 160_000).await;
    // Cancelled on the node before the credit: the network can no longer pay it.
    assert!(matches!(
        gw.fake().pay(pr).await,
        Err(lnaddr::lightning::fake::FakePayError::Canceled)
    ));
    let txs = gw.transactions("alice@localhost").await;
    let settled: Vec<_> = txs
        .iter()
        .filter(|t| t["kind"] == "debit" && t["status"] == "settled")
        .collect();
    assert_eq!(settled.len(), 4, "{txs:?}");
}
