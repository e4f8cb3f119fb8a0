//! NIP-57 appendix D over HTTP: every malformed zap request is refused with HTTP 200, an ERROR body
//! naming the broken rule, and no invoice (the invoice counter stays at zero).

mod support;

use nostr_sdk::prelude::*;
use serde_json::Value;
use support::zaps::*;

/// Re-serializes an event's JSON after `change`, without re-signing.
fn tampered(event: &Event, change: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(&event.as_json()).expect("json");
    change(&mut v);
    v.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_zap_requests_are_refused_and_create_no_invoice() {
    let dir = tempfile::tempdir().expect("dir");
    let gw = zap_gateway(dir.path(), &[]).await;
    let recipient = Keys::generate();
    let p = recipient.public_key().to_hex();
    account_with_key(&gw, "erin@localhost", &recipient.public_key()).await;
    gw.create_account("nokey@localhost").await;
    let sender = Keys::generate();
    let relays = tag(&["relays", "wss://relay.example.com"]);
    let good = |extra: Vec<Vec<String>>| {
        let mut tags = vec![relays.clone(), tag(&["p", &p])];
        tags.extend(extra);
        zap_request(&sender, tags, "hello")
    };
    let e1 = "9ae37aa68f48645127299e9453eb5d908a0cbb6058ff340d528ed4d37c8994fb";
    let e2 = "30efed56a035b2549fcaeec0bf2c1595f9a9b3bb4b1a38abaf8ee9041c4b7d93";
    let other = Keys::generate().public_key().to_hex();
    let kind1 = EventBuilder::new(Kind::TextNote, "hello")
        .tags([
            Tag::parse(relays.clone()).expect("tag"),
            Tag::parse(["p", p.as_str()]).expect("tag"),
        ])
        .sign_with_keys(&sender)
        .expect("sign")
        .as_json();
    let bad_sig = tampered(&good(vec![]), |v| {
        let sig = v["sig"].as_str().expect("sig").to_string();
        let flipped = if sig.starts_with('0') { "1" } else { "0" };
        v["sig"] = Value::String(format!("{flipped}{}", &sig[1..]));
    });
    let bad_id = tampered(&good(vec![]), |v| v["content"] = "changed".into());
    let oversize = good(vec![tag(&["note", &"x".repeat(5000)])]).as_json();

    let cases: Vec<(&str, String, &str)> = vec![
        ("bad signature", bad_sig, "signature"),
        ("bad id", bad_id, "id is not the hash"),
        ("wrong kind", kind1, "kind 9734"),
        (
            "no p tag",
            zap_request(&sender, vec![relays.clone()], "").as_json(),
            "exactly one p tag",
        ),
        (
            "two p tags",
            good(vec![tag(&["p", &other])]).as_json(),
            "exactly one p tag",
        ),
        (
            "p is not the account",
            zap_request(&sender, vec![relays.clone(), tag(&["p", &other])], "").as_json(),
            "not this account",
        ),
        (
            "two e tags",
            good(vec![tag(&["e", e1]), tag(&["e", e2])]).as_json(),
            "at most one e tag",
        ),
        (
            "amount mismatch",
            good(vec![tag(&["amount", "999"])]).as_json(),
            "amount tag",
        ),
        (
            "missing relays",
            zap_request(&sender, vec![tag(&["p", &p])], "").as_json(),
            "relays tag",
        ),
        (
            "bad a coordinate",
            good(vec![tag(&["a", "30023:nothex:d"])]).as_json(),
            "coordinate",
        ),
        ("oversize", oversize, "too large"),
        (
            "two P tags",
            good(vec![tag(&["P", &other]), tag(&["P", &p])]).as_json(),
            "at most one P tag",
        ),
        ("not JSON", "{not json".to_string(), "not a JSON"),
    ];
    for (name, json, reason) in &cases {
        let (status, body) = zap_callback(&gw, "erin", 21000, json).await;
        assert_eq!(status, 200, "{name}: {body}");
        assert_eq!(body["status"], "ERROR", "{name}: {body}");
        let got = body["reason"].as_str().unwrap_or_default();
        assert!(
            got.contains(reason),
            "{name}: reason {got:?} should mention {reason:?}"
        );
        assert!(body.get("pr").is_none(), "{name}");
    }
    // A good request to an account without a nostr key is refused too.
    let to_nokey = good(vec![]).as_json();
    let (status, body) = zap_callback(&gw, "nokey", 21000, &to_nokey).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("ERROR")),
        "{body}"
    );
    assert!(
        body["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("does not accept zaps")
    );

    assert_eq!(gw.metric("lnaddr_invoices_created_total").await, 0.0);
    assert!(gw.transactions("erin@localhost").await.is_empty());
    // The same request, valid, does get an invoice: the table failed for its reasons only.
    let (status, body) = zap_callback(
        &gw,
        "erin",
        21000,
        &good(vec![tag(&["amount", "21000"])]).as_json(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(body["pr"].is_string(), "{body}");
    assert_eq!(gw.metric("lnaddr_invoices_created_total").await, 1.0);
}
