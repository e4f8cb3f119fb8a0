//! The in-process ledger events (`lnaddr::events`): a Lightning Address payment is announced once
//! as `Received` with its comment and payer data; a withdrawal as `Sent` with its fee and
//! preimage, or as `Failed`; an internal withdrawal also as the payee's `Received`.

mod support;

use std::time::Duration;

use lightning_invoice::Currency;
use lnaddr::events::LedgerEvent;
use serde_json::json;
use support::gateway::TestGateway;
use support::wallet::{foreign_invoice, withdraw, withdraw_request};
use tokio::sync::broadcast::Receiver;

const WAIT: Duration = Duration::from_secs(10);

fn events(gw: &TestGateway) -> Receiver<LedgerEvent> {
    gw.running
        .as_ref()
        .expect("running")
        .gateway
        .events()
        .subscribe()
}

async fn next(rx: &mut Receiver<LedgerEvent>) -> LedgerEvent {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("an event in time")
        .expect("event")
}

async fn fund(gw: &TestGateway, rx: &mut Receiver<LedgerEvent>, amount: u64) {
    gw.pay_to("alice", amount).await;
    assert!(matches!(next(rx).await, LedgerEvent::Received(_)));
}

async fn link(gw: &TestGateway, max_msat: u64) -> String {
    let link = gw
        .create_link("alice@localhost", json!({"max_msat": max_msat}))
        .await;
    link["lnurl"].as_str().expect("lnurl").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lightning_address_payment_is_received_once_with_its_comment_and_payer_data() {
    let dir = tempfile::tempdir().expect("tmp");
    let gw = TestGateway::start(dir.path()).await;
    let alice = gw.create_account("alice@localhost").await;
    let mut rx = events(&gw);
    let payer_data = r#"{"name":"Bob"}"#;
    let (status, body) = gw
        .get(&format!(
            "/lnurlp/alice/callback?amount=21000&comment=coffee&payerdata={}",
            percent_encode(payer_data)
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    let pr = body["pr"].as_str().expect("pr");
    gw.fake_pay(pr).await;
    match next(&mut rx).await {
        LedgerEvent::Received(r) => {
            assert_eq!(r.account_id.0, alice["id"].as_str().expect("id"));
            assert_eq!(r.amount_msat.msat(), 21_000);
            assert_eq!(r.bolt11, pr);
            assert_eq!(r.comment.as_deref(), Some("coffee"));
            assert_eq!(r.payer_data.as_deref(), Some(payer_data));
            assert_eq!(r.zap_request, None);
            assert_ne!(r.preimage, hex::encode([0u8; 32]));
        }
        other => panic!("expected Received, got {other:?}"),
    }
    // Paying the same invoice again credits nothing and announces nothing.
    gw.fake_pay(pr).await;
    gw.wait_balance("alice@localhost", 21_000).await;
    assert!(rx.try_recv().is_err(), "a second event for one credit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withdrawal_is_announced_as_sent_or_failed() {
    let dir = tempfile::tempdir().expect("tmp");
    let gw = TestGateway::start(dir.path()).await;
    gw.create_account("alice@localhost").await;
    let mut rx = events(&gw);
    fund(&gw, &mut rx, 500_000).await;

    let (invoice, hash) = foreign_invoice(Currency::Regtest, 100_000);
    let w = withdraw_request(&link(&gw, 100_000).await).await;
    assert_eq!(withdraw(&w, &invoice).await["status"], "OK");
    match next(&mut rx).await {
        LedgerEvent::Sent(s) => {
            assert_eq!(s.payment_hash.0, hash);
            assert_eq!(s.amount_msat.msat(), 100_000);
            assert_eq!(s.bolt11, invoice);
            assert!(s.preimage.is_some());
        }
        other => panic!("expected Sent, got {other:?}"),
    }

    gw.fail_next_payments(1).await;
    let (invoice, hash) = foreign_invoice(Currency::Regtest, 50_000);
    let w = withdraw_request(&link(&gw, 50_000).await).await;
    assert_eq!(withdraw(&w, &invoice).await["status"], "OK");
    match next(&mut rx).await {
        LedgerEvent::Failed(f) => {
            assert_eq!(f.payment_hash.0, hash);
            assert_eq!(f.amount_msat.msat(), 50_000);
            assert!(!f.reason.is_empty());
        }
        other => panic!("expected Failed, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_internal_withdrawal_is_received_by_the_payee_and_sent_by_the_payer() {
    let dir = tempfile::tempdir().expect("tmp");
    let gw = TestGateway::start(dir.path()).await;
    gw.create_account("alice@localhost").await;
    let bob = gw.create_account("bob@localhost").await;
    let mut rx = events(&gw);
    fund(&gw, &mut rx, 500_000).await;
    let inv = gw.invoice("bob", 30_000).await;
    let pr = inv["pr"].as_str().expect("pr");
    let w = withdraw_request(&link(&gw, 30_000).await).await;
    assert_eq!(withdraw(&w, pr).await["status"], "OK");
    let (mut received, mut sent) = (false, false);
    while !(received && sent) {
        match next(&mut rx).await {
            LedgerEvent::Received(r) => {
                assert!(!received, "received twice");
                assert_eq!(r.account_id.0, bob["id"].as_str().expect("id"));
                assert_eq!(r.amount_msat.msat(), 30_000);
                received = true;
            }
            LedgerEvent::Sent(s) => {
                assert!(!sent, "sent twice");
                assert_eq!(s.amount_msat.msat(), 30_000);
                assert_eq!(s.fee_msat.msat(), 0);
                sent = true;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}
