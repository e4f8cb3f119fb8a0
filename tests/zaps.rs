//! NIP-57 zaps end to end, against real nostr relays running in-process: the lookup announces the
//! zapper key, the callback commits the invoice to the zap request's exact bytes, and after a
//! (fake) payment a signed zap receipt reaches every relay, even one that was down, and even across
//! a gateway restart, exactly once.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use bitcoin::hashes::Hash;
use lightning_invoice::{Bolt11Invoice, Bolt11InvoiceDescriptionRef};
use nostr_sdk::prelude::*;
use sha2::{Digest, Sha256};
use support::zaps::*;

const WAIT: Duration = Duration::from_secs(30);

fn description_hash(pr: &str) -> [u8; 32] {
    let invoice: Bolt11Invoice = pr.parse().expect("valid BOLT 11");
    match invoice.description() {
        Bolt11InvoiceDescriptionRef::Hash(h) => h.0.to_byte_array(),
        Bolt11InvoiceDescriptionRef::Direct(_) => panic!("expected a description hash"),
    }
}

fn tag_values<'a>(event: &'a Event, name: &str) -> Vec<&'a [String]> {
    event
        .tags
        .iter()
        .map(|t| t.as_slice())
        .filter(|t| t[0] == name)
        .collect()
}

fn one_value<'a>(event: &'a Event, name: &str) -> &'a str {
    let tags = tag_values(event, name);
    assert_eq!(tags.len(), 1, "exactly one {name} tag in {event:?}");
    &tags[0][1]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_paid_zap_publishes_a_valid_receipt_to_every_relay() {
    let (_r1, url1) = relay(0).await;
    let (_r2, url2) = relay(0).await;
    let (_r3, own) = relay(0).await;
    let dir = tempfile::tempdir().expect("dir");
    let gw = zap_gateway(dir.path(), std::slice::from_ref(&own)).await;
    let recipient = Keys::generate();
    account_with_key(&gw, "alice@localhost", &recipient.public_key()).await;
    gw.create_account("bob@localhost").await;

    let (_, lookup) = gw.get("/.well-known/lnurlp/alice").await;
    assert_eq!(lookup["allowsNostr"], true, "{lookup}");
    let zapper_hex = lookup["nostrPubkey"]
        .as_str()
        .expect("nostrPubkey")
        .to_string();
    let zapper = PublicKey::from_hex(&zapper_hex).expect("x-only hex key");
    let (_, bob) = gw.get("/.well-known/lnurlp/bob").await;
    assert!(
        bob.get("allowsNostr").is_none() && bob.get("nostrPubkey").is_none(),
        "{bob}"
    );

    let sender = Keys::generate();
    let zapped_note = "9ae37aa68f48645127299e9453eb5d908a0cbb6058ff340d528ed4d37c8994fb";
    let request = zap_request(
        &sender,
        vec![
            tag(&["relays", &url1, &url2]),
            tag(&["amount", "21000"]),
            tag(&["p", &recipient.public_key().to_hex()]),
            tag(&["e", zapped_note]),
        ],
        "Zap! 1 + 1 = 2 & more",
    );
    let json = request.as_json();
    let (status, body) = zap_callback(&gw, "alice", 21000, &json).await;
    assert_eq!(status, 200, "{body}");
    let pr = body["pr"].as_str().expect("invoice").to_string();
    let expected_hash: [u8; 32] = Sha256::digest(json.as_bytes()).into();
    assert_eq!(description_hash(&pr), expected_hash);

    let (status, paid) = gw.fake_pay(&pr).await;
    assert_eq!(status, 200, "{paid}");
    let payment_hash = paid["payment_hash"].as_str().expect("hash").to_string();

    let mut ids = HashSet::new();
    for url in [&url1, &url2, &own] {
        let receipts = wait_receipts(url, &recipient.public_key(), WAIT).await;
        assert_eq!(receipts.len(), 1, "one receipt on {url}");
        ids.insert(receipts[0].id);
        let receipt = &receipts[0];
        receipt.verify().expect("id and signature valid");
        assert_eq!(
            receipt.pubkey, zapper,
            "signed by the announced nostrPubkey"
        );
        assert_eq!(receipt.kind, Kind::ZapReceipt);
        assert!(receipt.content.is_empty());
        assert_eq!(one_value(receipt, "p"), recipient.public_key().to_hex());
        assert_eq!(one_value(receipt, "e"), zapped_note);
        assert_eq!(one_value(receipt, "P"), sender.public_key().to_hex());
        assert_eq!(one_value(receipt, "bolt11"), pr);
        let description = one_value(receipt, "description");
        assert_eq!(description, json, "the zap request exactly as sent");
        let described: [u8; 32] = Sha256::digest(description.as_bytes()).into();
        assert_eq!(described, description_hash(&pr));
        let preimage = hex::decode(one_value(receipt, "preimage")).expect("hex");
        assert_eq!(hex::encode(Sha256::digest(&preimage)), payment_hash);
        assert!(tag_values(receipt, "a").is_empty());
    }
    assert_eq!(ids.len(), 1, "the same event everywhere");

    let tx = wait_receipt_status(&gw, "alice@localhost", "receipt sent to all relays", |r| {
        r["status"] == "sent" && r["relays_ok"].as_array().is_some_and(|a| a.len() == 3)
    })
    .await;
    assert_eq!(
        tx["comment"], "Zap! 1 + 1 = 2 & more",
        "the request's content is the comment"
    );
    let receipt = wait_receipts(&url1, &recipient.public_key(), WAIT)
        .await
        .remove(0);
    assert_eq!(
        receipt.created_at.as_secs(),
        tx["created_at"].as_u64().expect("paid time")
    );
    assert_eq!(tx["zap_receipt"]["event_id"], receipt.id.to_hex());
    assert!(receipt.created_at.as_secs() <= now());
    assert_eq!(gw.metric("lnaddr_zap_receipts_queued_total").await, 1.0);
    assert_eq!(gw.metric("lnaddr_zap_receipts_sent_total").await, 1.0);
    assert_eq!(gw.metric("lnaddr_zap_receipts_failed_total").await, 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_relay_that_was_down_gets_the_receipt_when_it_comes_up() {
    let (_up, up_url) = relay(0).await;
    let down_port = free_port();
    let down_url = format!("ws://127.0.0.1:{down_port}");
    let dir = tempfile::tempdir().expect("dir");
    let gw = zap_gateway(dir.path(), &[]).await;
    let recipient = Keys::generate();
    account_with_key(&gw, "carol@localhost", &recipient.public_key()).await;
    let request = zap_request(
        &Keys::generate(),
        vec![
            tag(&["relays", &up_url, &down_url]),
            tag(&["p", &recipient.public_key().to_hex()]),
        ],
        "",
    );
    let (_, body) = zap_callback(&gw, "carol", 5000, &request.as_json()).await;
    let pr = body["pr"].as_str().expect("invoice").to_string();
    assert_eq!(gw.fake_pay(&pr).await.0, 200);

    wait_receipts(&up_url, &recipient.public_key(), WAIT).await;
    wait_receipt_status(
        &gw,
        "carol@localhost",
        "a failed attempt on the down relay",
        |r| {
            r["status"] == "sent"
                && r["relays_pending"]
                    .as_array()
                    .is_some_and(|p| p.iter().any(|x| x["attempts"].as_u64() >= Some(1)))
        },
    )
    .await;

    let (_late, late_url) = relay(down_port).await;
    let receipts = wait_receipts(&late_url, &recipient.public_key(), WAIT).await;
    assert_eq!(receipts.len(), 1);
    wait_receipt_status(&gw, "carol@localhost", "both relays accepted", |r| {
        r["relays_ok"].as_array().is_some_and(|a| a.len() == 2)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_restart_between_payment_and_publication_publishes_once() {
    let port = free_port();
    let relay_url = format!("ws://127.0.0.1:{port}");
    let dir = tempfile::tempdir().expect("dir");
    let mut gw = zap_gateway(dir.path(), &[]).await;
    let recipient = Keys::generate();
    account_with_key(&gw, "dave@localhost", &recipient.public_key()).await;
    let request = zap_request(
        &Keys::generate(),
        vec![
            tag(&["relays", &relay_url]),
            tag(&["p", &recipient.public_key().to_hex()]),
        ],
        "",
    );
    let (_, body) = zap_callback(&gw, "dave", 7000, &request.as_json()).await;
    let pr = body["pr"].as_str().expect("invoice").to_string();
    assert_eq!(gw.fake_pay(&pr).await.0, 200);
    let before = wait_receipt_status(&gw, "dave@localhost", "a failed attempt", |r| {
        r["status"] == "pending"
            && r["relays_pending"]
                .as_array()
                .is_some_and(|p| p.iter().any(|x| x["attempts"].as_u64() >= Some(1)))
    })
    .await;

    gw.running.take().expect("running").shutdown().await;
    let (_relay, _) = relay(port).await;
    gw.restart().await;

    let receipts = wait_receipts(&relay_url, &recipient.public_key(), WAIT).await;
    let after = wait_receipt_status(&gw, "dave@localhost", "the receipt sent", |r| {
        r["status"] == "sent"
    })
    .await;
    assert_eq!(
        after["zap_receipt"]["event_id"],
        before["zap_receipt"]["event_id"]
    );
    let ids: HashSet<EventId> = receipts.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), 1, "exactly one receipt");
    let again: HashSet<EventId> = receipts_on(&relay_url, &recipient.public_key())
        .await
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(again, ids);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_relay_guard_refuses_loopback_relays_unless_allowed() {
    let (_relay, relay_url) = relay(0).await;
    let dir = tempfile::tempdir().expect("dir");
    let gw = zap_gateway_with(
        dir.path(),
        &[],
        vec![("LNADDR_ZAPS__ALLOW_PRIVATE_RELAYS".into(), "false".into())],
    )
    .await;
    let recipient = Keys::generate();
    account_with_key(&gw, "gina@localhost", &recipient.public_key()).await;
    let request = zap_request(
        &Keys::generate(),
        vec![
            tag(&["relays", &relay_url]),
            tag(&["p", &recipient.public_key().to_hex()]),
        ],
        "",
    );
    let (_, body) = zap_callback(&gw, "gina", 4000, &request.as_json()).await;
    let pr = body["pr"]
        .as_str()
        .expect("a valid zap still gets its invoice");
    assert_eq!(gw.fake_pay(pr).await.0, 200);
    let tx = wait_receipt_status(&gw, "gina@localhost", "the receipt failed", |r| {
        r["status"] == "failed"
    })
    .await;
    let pending = &tx["zap_receipt"]["relays_pending"][0];
    assert!(
        pending["last_error"]
            .as_str()
            .unwrap_or_default()
            .contains("non-public"),
        "{tx}"
    );
    assert!(
        receipts_on(&relay_url, &recipient.public_key())
            .await
            .is_empty()
    );
    assert_eq!(gw.metric("lnaddr_zap_receipts_failed_total").await, 1.0);
}

/// The lookup answer is made once per address, but whether it offers zaps follows the account's
/// nostr key as it is now: set after the first lookup, then cleared.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lookup_follows_the_accounts_nostr_key() {
    let (_relay, own) = relay(0).await;
    let dir = tempfile::tempdir().expect("dir");
    let gw = zap_gateway(dir.path(), std::slice::from_ref(&own)).await;
    gw.create_account("carol@localhost").await;
    let offers_zaps = || async {
        let (status, body) = gw.get("/.well-known/lnurlp/carol").await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            body["allowsNostr"].is_null(),
            body["nostrPubkey"].is_null(),
            "{body}"
        );
        body["allowsNostr"] == true
    };
    assert!(!offers_zaps().await);

    let key = Keys::generate().public_key().to_hex();
    let patch = |value: serde_json::Value| {
        gw.admin(
            reqwest::Method::PATCH,
            "/api/v1/accounts/carol@localhost",
            Some(serde_json::json!({ "nostr_pubkey": value })),
        )
    };
    assert_eq!(patch(key.into()).await.0, 200);
    assert!(offers_zaps().await);
    assert_eq!(patch(serde_json::Value::Null).await.0, 200);
    assert!(!offers_zaps().await);
}
