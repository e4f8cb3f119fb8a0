//! Rule 5: a reservation is paid or refunded within a bounded time whatever happened to the
//! request (or the process) that made it. A reservation is written straight into the store, as a
//! process that crashed right after reserving would leave it; a running gateway, never
//! restarted, finishes it with its periodic sweep (`payments.stale_after_secs`). Embedded and
//! Redis (there "the crashed process" is another store client).

mod support;

use std::time::Duration;

use lightning_invoice::Currency;
use lnaddr::store::{Reservation, ReserveOutcome, Store};
use lnaddr::types::{Msat, PaymentHash, unix_now};
use reqwest::Method;
use serde_json::json;
use support::gateway::TestGateway;
use support::process::wait_for;
use support::redis_server::RedisServer;
use support::wallet::foreign_invoice;

const WAIT: Duration = Duration::from_secs(15);

async fn gateway(dir: &std::path::Path, store_env: Vec<(String, String)>) -> TestGateway {
    TestGateway::start_with(dir, |url| {
        store_env
            .into_iter()
            .chain([
                (
                    "LNADDR_DOMAINS".to_string(),
                    format!(r#"[{{name="localhost", public_url="{url}"}}]"#),
                ),
                (
                    "LNADDR_PAYMENTS__STALE_AFTER_SECS".to_string(),
                    "2".to_string(),
                ),
                (
                    "LNADDR_PAYMENTS__SWEEP_INTERVAL_SECS".to_string(),
                    "1".to_string(),
                ),
            ])
            .collect()
    })
    .await
}

/// Alice holds 100,000 msat and a one-use link; `crashed` reserves 30,000 + 10,000 on it and
/// never sends. The gateway sweeps it: the node never heard of it, so it is refunded, once.
async fn an_abandoned_reservation_is_finished(gw: &TestGateway, crashed: &dyn Store) {
    gw.fund("alice", 100_000).await;
    let link = gw
        .create_link("alice@localhost", json!({"max_msat": 50_000}))
        .await;
    let k1 = link["k1"].as_str().expect("k1").to_string();
    let (pr, hash) = foreign_invoice(Currency::Regtest, 30_000);
    let reserved = crashed
        .reserve_withdrawal(&Reservation {
            k1: k1.clone(),
            payment_hash: PaymentHash(hash),
            bolt11: pr,
            amount: Msat::from_msat(30_000),
            fee_reserve: Msat::from_msat(10_000),
            internal: false,
            title: None,
            now: unix_now(),
        })
        .await
        .expect("reserve");
    assert!(matches!(reserved, ReserveOutcome::Reserved(_)));
    assert_eq!(gw.balance("alice@localhost").await, 60_000);

    let failed = wait_for("the abandoned reservation finished", WAIT, || async {
        gw.transactions("alice@localhost")
            .await
            .into_iter()
            .find(|t| t["kind"] == "debit" && t["status"] != "pending")
    })
    .await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert_eq!(gw.balance("alice@localhost").await, 100_000);
    let (_, shown) = gw
        .admin(Method::GET, &format!("/api/v1/withdraw-links/{k1}"), None)
        .await;
    assert_eq!(shown["uses_left"], 1, "{shown}");
    let node = &gw.running.as_ref().expect("running").gateway.node();
    assert_eq!(
        node.track_payment(&PaymentHash(hash), Duration::ZERO)
            .await
            .expect("track"),
        None,
        "never sent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_abandoned_reservation_is_finished_on_embedded() {
    let dir = tempfile::tempdir().expect("tmp");
    let gw = gateway(dir.path(), Vec::new()).await;
    let store = gw
        .running
        .as_ref()
        .expect("running")
        .gateway
        .store()
        .clone();
    an_abandoned_reservation_is_finished(&gw, store.as_ref()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_abandoned_reservation_is_finished_on_redis() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().expect("tmp");
    let gw = gateway(dir.path(), redis.store_env()).await;
    let other = lnaddr::store::redis::RedisStore::connect(&redis.url())
        .await
        .expect("connect");
    an_abandoned_reservation_is_finished(&gw, &other).await;
}
