//! The wallet side of LNURL-withdraw (LUD-03) in tests: BOLT 11 invoices of another node, signed
//! here with a fresh key, and the lnurl-rs client.

use std::time::Duration;

use bitcoin::hashes::{Hash, sha256};
use bitcoin::secp256k1::{Secp256k1, SecretKey};
use lightning_invoice::{Currency, InvoiceBuilder, PaymentSecret};

/// A BOLT 11 invoice from a node that is not the gateway's.
pub fn foreign_invoice(currency: Currency, amount_msat: u64) -> (String, [u8; 32]) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time");
    foreign_invoice_at(currency, Some(amount_msat), now.as_secs(), 3600)
}

/// The same with a chosen timestamp and expiry (an expired invoice), or no amount.
pub fn foreign_invoice_at(
    currency: Currency,
    amount_msat: Option<u64>,
    timestamp: u64,
    expiry_secs: u64,
) -> (String, [u8; 32]) {
    signed_invoice(
        currency,
        amount_msat,
        timestamp,
        expiry_secs,
        rand::random(),
    )
}

/// An attacker's invoice: signed with a fresh key for `amount_msat`, but with the payment hash
/// `hash` taken from someone else's invoice.
pub fn forged_invoice(currency: Currency, amount_msat: u64, hash: [u8; 32]) -> String {
    signed_invoice(
        currency,
        Some(amount_msat),
        lnaddr::types::unix_now(),
        3600,
        hash,
    )
    .0
}

fn signed_invoice(
    currency: Currency,
    amount_msat: Option<u64>,
    timestamp: u64,
    expiry_secs: u64,
    hash: [u8; 32],
) -> (String, [u8; 32]) {
    let key = SecretKey::from_slice(&rand::random::<[u8; 32]>()).expect("key");
    let mut b = InvoiceBuilder::new(currency)
        .description("withdrawal".into())
        .payment_hash(sha256::Hash::from_byte_array(hash))
        .payment_secret(PaymentSecret(rand::random()))
        .duration_since_epoch(Duration::from_secs(timestamp))
        .min_final_cltv_expiry_delta(18)
        .expiry_time(Duration::from_secs(expiry_secs));
    if let Some(a) = amount_msat {
        b = b.amount_milli_satoshis(a);
    }
    let secp = Secp256k1::signing_only();
    let invoice = b
        .build_signed(|m| secp.sign_ecdsa_recoverable(m, &key))
        .expect("signed");
    (invoice.to_string(), hash)
}

/// Reads a withdraw link through its LNURL with lnurl-rs, as a wallet would.
pub async fn withdraw_request(lnurl: &str) -> lnurl::withdraw::WithdrawalResponse {
    let url = lnaddr::lnurl::decode(lnurl).expect("lnurl");
    let client = lnurl::AsyncClient::from_client(reqwest::Client::new());
    match client.make_request(&url).await.expect("request") {
        lnurl::LnUrlResponse::LnUrlWithdrawResponse(w) => w,
        other => panic!("expected a withdrawRequest, got {other:?}"),
    }
}

/// Hands `invoice` to the link's callback with lnurl-rs; answers the callback's JSON.
pub async fn withdraw(w: &lnurl::withdraw::WithdrawalResponse, invoice: &str) -> serde_json::Value {
    let url = format!("{}?k1={}&pr={invoice}", w.callback, w.k1);
    reqwest::get(url)
        .await
        .expect("callback")
        .json()
        .await
        .expect("json")
}
