//! Domains as tenants, test set-up: a gateway serving `shop.example` besides `localhost`, domains
//! and domain tokens made through the admin API, invoices at a named domain, and what the tests
//! read off them (description hash, metadata entries).

use base64::Engine;
use bitcoin::hashes::Hash;
use lightning_invoice::{Bolt11Invoice, Bolt11InvoiceDescriptionRef};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::gateway::TestGateway;

pub const PUBKEY: &str = "3bf0c63fcb93463407af97a5e5ee64fa883d107ef9e558472c4eb9aaaefa459d";

pub fn description_hash(pr: &str) -> [u8; 32] {
    let invoice: Bolt11Invoice = pr.parse().expect("valid BOLT 11");
    invoice.check_signature().expect("signature");
    match invoice.description() {
        Bolt11InvoiceDescriptionRef::Hash(h) => h.0.to_byte_array(),
        Bolt11InvoiceDescriptionRef::Direct(_) => panic!("expected a description hash"),
    }
}

pub fn sha(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

/// A tiny PNG-signed image: the gateway reads its kind from the first bytes.
pub fn png_base64() -> String {
    base64::engine::general_purpose::STANDARD.encode(b"\x89PNG\r\n\x1a\n-a-tiny-test-image-")
}

pub async fn add_domain(gw: &TestGateway, body: Value) -> Value {
    let (status, answer) = gw.admin(Method::POST, "/api/v1/domains", Some(body)).await;
    assert_eq!(status, 201, "{answer}");
    answer
}

/// A gateway serving `shop.example` besides `localhost`, with alice@shop.example and
/// carol@localhost.
pub async fn shop_gateway(dir: &std::path::Path) -> TestGateway {
    let gw = TestGateway::start(dir).await;
    add_domain(
        &gw,
        json!({"name": "shop.example", "public_url": gw.public}),
    )
    .await;
    gw.create_account("alice@shop.example").await;
    gw.create_account("carol@localhost").await;
    gw
}

/// A new token for `shop.example`: the answer of its creation.
pub async fn shop_token(gw: &TestGateway, body: Value) -> Value {
    let (status, made) = gw
        .admin(
            Method::POST,
            "/api/v1/domains/shop.example/tokens",
            Some(body),
        )
        .await;
    assert_eq!(status, 201, "{made}");
    made
}

pub fn metadata_entries(lookup: &Value) -> Vec<Vec<String>> {
    serde_json::from_str(lookup["metadata"].as_str().expect("metadata")).expect("metadata array")
}

/// A callback invoice of `user` at `host` (`localhost` or a named domain).
pub async fn invoice_at(gw: &TestGateway, host: &str, user: &str, msat: u64) -> String {
    let (status, lookup) = gw
        .get_host(host, &format!("/.well-known/lnurlp/{user}"))
        .await;
    assert_eq!(status, 200, "{lookup}");
    let callback = lookup["callback"].as_str().expect("callback");
    let got = gw.get_url(&format!("{callback}?amount={msat}")).await;
    got["pr"].as_str().expect("pr").to_string()
}

/// The same, paid with the fake node.
pub async fn fund_at(gw: &TestGateway, host: &str, user: &str, msat: u64) {
    let (status, paid) = gw.fake_pay(&invoice_at(gw, host, user, msat).await).await;
    assert_eq!(status, 200, "{paid}");
    gw.wait_balance(&format!("{user}@{host}"), msat).await;
}
