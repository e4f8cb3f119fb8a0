//! Payments to invoices of this gateway (settled inside the ledger), as an attacker and as an
//! auditor would try them, on the embedded store and on Redis (fake node):
//! - rule 1: a wallet's own invoice that reuses the payment hash of a merchant's invoice is
//!   refused, and the merchant's invoice stays unpaid and payable;
//! - rule 2: an internal payment settles through the one credit path, so a zap invoice paid
//!   internally gets its receipt, with no made-up preimage.

mod support;

use std::time::Duration;

use lightning_invoice::Currency;
use nostr_sdk::prelude::*;
use reqwest::Method;
use serde_json::{Value, json};
use support::gateway::TestGateway;
use support::redis_server::RedisServer;
use support::wallet::{forged_invoice, withdraw, withdraw_request};
use support::zaps::{account_with_key, relay, tag, wait_receipts, zap_callback, zap_gateway_with};

const WAIT: Duration = Duration::from_secs(30);

fn hash_of(callback: &Value) -> String {
    callback["verify"]
        .as_str()
        .expect("verify")
        .rsplit('/')
        .next()
        .expect("hash")
        .to_string()
}

/// Funds `address` with `amount` msat through its Lightning Address.
async fn fund(gw: &TestGateway, user: &str, amount: u64) {
    gw.pay_to(user, amount).await;
    gw.wait_balance(&format!("{user}@localhost"), amount).await;
}

async fn link_of(
    gw: &TestGateway,
    address: &str,
    max_msat: u64,
) -> lnurl::withdraw::WithdrawalResponse {
    let (status, link) = gw
        .admin(
            Method::POST,
            &format!("/api/v1/accounts/{address}/withdraw-links"),
            Some(json!({"max_msat": max_msat})),
        )
        .await;
    assert_eq!(status, 201, "{link}");
    withdraw_request(link["lnurl"].as_str().expect("lnurl")).await
}

/// Mallory holds a small voucher; bob (a merchant) issued a 1,000,000 msat invoice. Mallory
/// signs her own 1 sat invoice with bob's payment hash and hands it to her voucher.
async fn forged_invoice_is_refused(gw: &TestGateway) {
    gw.create_account("mallory@localhost").await;
    gw.create_account("bob@localhost").await;
    fund(gw, "mallory", 50_000).await;
    let bill = gw.invoice("bob", 1_000_000).await;
    let hash = hash_of(&bill);
    let hash_bytes: [u8; 32] = hex::decode(&hash).expect("hex").try_into().expect("32");
    let w = link_of(gw, "mallory@localhost", 1_000_000).await;

    let forged = forged_invoice(Currency::Regtest, 1_000, hash_bytes);
    let answer = withdraw(&w, &forged).await;
    assert_eq!(answer["status"], "ERROR", "{answer}");
    assert!(
        answer["reason"]
            .as_str()
            .expect("reason")
            .contains("payment hash"),
        "{answer}"
    );

    // Nothing changed: no debit, no credit, the merchant's invoice unpaid (LUD-21 verify).
    assert_eq!(gw.balance("mallory@localhost").await, 50_000);
    assert!(
        gw.transactions("mallory@localhost")
            .await
            .iter()
            .all(|t| t["kind"] != "debit")
    );
    assert_eq!(gw.balance("bob@localhost").await, 0);
    let (_, verify) = gw.get(&format!("/lnurlp/bob/verify/{hash}")).await;
    assert_eq!(verify["settled"], false, "{verify}");
    let (_, shown) = gw
        .admin(
            Method::GET,
            &format!("/api/v1/withdraw-links/{}", w.k1),
            None,
        )
        .await;
    assert_eq!(shown["uses_left"], 1, "{shown}");

    // The merchant's invoice is still payable, for its full amount.
    let (status, body) = gw.fake_pay(bill["pr"].as_str().expect("pr")).await;
    assert_eq!(status, 200, "{body}");
    gw.wait_balance("bob@localhost", 1_000_000).await;
    let (_, verify) = gw.get(&format!("/lnurlp/bob/verify/{hash}")).await;
    assert_eq!(verify["settled"], true, "{verify}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_forged_internal_invoice_is_refused_on_embedded() {
    let dir = tempfile::tempdir().expect("tmp");
    let gw = TestGateway::start(dir.path()).await;
    forged_invoice_is_refused(&gw).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_forged_internal_invoice_is_refused_on_redis() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().expect("tmp");
    let env = redis.store_env();
    let gw = TestGateway::start_with(dir.path(), |url| {
        env.into_iter()
            .chain([(
                "LNADDR_DOMAINS".to_string(),
                format!(r#"[{{name="localhost", public_url="{url}"}}]"#),
            )])
            .collect()
    })
    .await;
    forged_invoice_is_refused(&gw).await;
}

/// Alice's voucher pays a zap invoice of bob's: bob is credited, and the zap receipt reaches the
/// relay, without a `preimage` tag (none was revealed; never a made-up one).
async fn internal_zap_gets_its_receipt(extra: Vec<(String, String)>) {
    let (_relay, url) = relay(0).await;
    let dir = tempfile::tempdir().expect("tmp");
    let gw = zap_gateway_with(dir.path(), std::slice::from_ref(&url), extra).await;
    gw.create_account("alice@localhost").await;
    fund(&gw, "alice", 100_000).await;
    let bob = Keys::generate();
    account_with_key(&gw, "bob@localhost", &bob.public_key()).await;
    let request = support::zaps::zap_request(
        &Keys::generate(),
        vec![
            tag(&["relays", &url]),
            tag(&["amount", "21000"]),
            tag(&["p", &bob.public_key().to_hex()]),
        ],
        "internal zap",
    );
    let (status, zap) = zap_callback(&gw, "bob", 21_000, &request.as_json()).await;
    assert_eq!(status, 200, "{zap}");
    let pr = zap["pr"].as_str().expect("pr");

    let w = link_of(&gw, "alice@localhost", 50_000).await;
    assert_eq!(withdraw(&w, pr).await["status"], "OK");
    gw.wait_balance("bob@localhost", 21_000).await;

    let receipts = wait_receipts(&url, &bob.public_key(), WAIT).await;
    assert_eq!(receipts.len(), 1);
    let receipt = &receipts[0];
    let tags: Vec<&[String]> = receipt.tags.iter().map(|t| t.as_slice()).collect();
    assert!(
        tags.iter().any(|t| t[0] == "bolt11" && t[1] == pr),
        "{receipt:?}"
    );
    assert!(
        tags.iter().all(|t| t[0] != "preimage"),
        "no preimage was revealed, so none is claimed: {receipt:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_internal_zap_gets_its_receipt_on_embedded() {
    internal_zap_gets_its_receipt(Vec::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_internal_zap_gets_its_receipt_on_redis() {
    let redis = RedisServer::start();
    internal_zap_gets_its_receipt(redis.store_env()).await;
}
