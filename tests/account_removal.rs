//! Rule 8 through the admin API, on the embedded store and on Redis (fake node): removing an
//! account while money may still move to or from it is refused with 409 and the reason, and a
//! payment that finds no account is parked where the operator sees it, never dropped silently.

mod support;

use lightning_invoice::Currency;
use lnaddr::lightning::InvoiceRequest;
use lnaddr::store::{InvoiceRecord, Reservation, ReserveOutcome};
use lnaddr::types::{Msat, PaymentHash, unix_now};
use reqwest::Method;
use serde_json::json;
use support::gateway::TestGateway;
use support::process::wait_for;
use support::redis_server::RedisServer;
use support::wallet::foreign_invoice;

const WAIT: std::time::Duration = std::time::Duration::from_secs(10);

async fn gateway(dir: &std::path::Path, store_env: Vec<(String, String)>) -> TestGateway {
    TestGateway::start_with(dir, |url| {
        store_env
            .into_iter()
            .chain([(
                "LNADDR_DOMAINS".to_string(),
                format!(r#"[{{name="localhost", public_url="{url}"}}]"#),
            )])
            .collect()
    })
    .await
}

async fn delete(gw: &TestGateway, address: &str) -> (u16, serde_json::Value) {
    gw.admin(Method::DELETE, &format!("/api/v1/accounts/{address}"), None)
        .await
}

async fn refused_while_money_moves(gw: &TestGateway) {
    // An unpaid invoice may still be paid: refused.
    gw.create_account("carol@localhost").await;
    gw.invoice("carol", 5_000).await;
    let (status, body) = delete(gw, "carol@localhost").await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["reason"]
            .as_str()
            .expect("reason")
            .contains("invoices"),
        "{body}"
    );
    gw.account("carol@localhost").await;

    // A payment in flight that took the whole balance: refused, the reason says why.
    gw.fund("dave", 20_000).await;
    let link = gw
        .create_link("dave@localhost", json!({"max_msat": 20_000}))
        .await;
    let (pr, hash) = foreign_invoice(Currency::Regtest, 10_000);
    let store = &gw.running.as_ref().expect("running").gateway.store();
    let reserved = store
        .reserve_withdrawal(&Reservation {
            k1: link["k1"].as_str().expect("k1").to_string(),
            payment_hash: PaymentHash(hash),
            bolt11: pr,
            amount: Msat::from_msat(10_000),
            fee_reserve: Msat::from_msat(10_000),
            internal: false,
            title: None,
            now: unix_now(),
        })
        .await
        .expect("reserve");
    assert!(matches!(reserved, ReserveOutcome::Reserved(_)));
    assert_eq!(gw.balance("dave@localhost").await, 0);
    let (status, body) = delete(gw, "dave@localhost").await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["reason"]
            .as_str()
            .expect("reason")
            .contains("payments in flight"),
        "{body}"
    );
    gw.account("dave@localhost").await;

    // No invoice, nothing moving: removed.
    gw.create_account("erin@localhost").await;
    assert_eq!(delete(gw, "erin@localhost").await.0, 204);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn removal_is_refused_while_money_moves_on_embedded() {
    let dir = tempfile::tempdir().expect("tmp");
    let gw = gateway(dir.path(), Vec::new()).await;
    refused_while_money_moves(&gw).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn removal_is_refused_while_money_moves_on_redis() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().expect("tmp");
    let gw = gateway(dir.path(), redis.store_env()).await;
    refused_while_money_moves(&gw).await;
}

/// The store believed an invoice expired (its record says so) while the node still took the
/// payment: the account was removable, and the payment then finds no account. It is parked in
/// `lnaddr_orphaned_msat_total` (and an error-level log line), not dropped silently.
async fn a_payment_for_a_removed_account_is_parked(gw: &TestGateway) {
    gw.create_account("frank@localhost").await;
    let account = gw.account("frank@localhost").await;
    let running = &gw.running.as_ref().expect("running").gateway;
    let created = running
        .node()
        .create_invoice(InvoiceRequest {
            amount: Msat::from_msat(7_000),
            description_hash: [7; 32],
            expiry_secs: 3_600,
        })
        .await
        .expect("invoice");
    running
        .store()
        .add_invoice(InvoiceRecord {
            payment_hash: created.payment_hash,
            account_id: lnaddr::store::AccountId(account["id"].as_str().expect("id").into()),
            amount_msat: Msat::from_msat(7_000),
            bolt11: created.bolt11.clone(),
            comment: None,
            tag: None,
            payer_data: None,
            zap_request: None,
            created_at: unix_now() - 7_200,
            expires_at: unix_now() - 3_600,
            settled: None,
            node_id: None,
        })
        .await
        .expect("record");
    assert_eq!(delete(gw, "frank@localhost").await.0, 204);
    let (status, body) = gw.fake_pay(&created.bolt11).await;
    assert_eq!(status, 200, "{body}");
    wait_for("the orphaned payment counted", WAIT, || async {
        (gw.metric("lnaddr_orphaned_msat_total").await == 7_000.0).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_payment_for_a_removed_account_is_parked_on_embedded() {
    let dir = tempfile::tempdir().expect("tmp");
    let gw = gateway(dir.path(), Vec::new()).await;
    a_payment_for_a_removed_account_is_parked(&gw).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_payment_for_a_removed_account_is_parked_on_redis() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().expect("tmp");
    let gw = gateway(dir.path(), redis.store_env()).await;
    a_payment_for_a_removed_account_is_parked(&gw).await;
}
