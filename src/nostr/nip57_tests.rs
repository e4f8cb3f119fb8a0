//! Unit tests of NIP-57 appendix D checks (the HTTP-level table lives in `tests/zaps.rs`).

use nostr_sdk::{EventBuilder, JsonUtil, Keys, Kind, Tag};

use super::*;

fn signed(kind: u16, tags: Vec<Vec<String>>, content: &str) -> String {
    let tags: Vec<Tag> = tags
        .into_iter()
        .map(|t| Tag::parse(t).expect("tag"))
        .collect();
    EventBuilder::new(Kind::from(kind), content)
        .tags(tags)
        .sign_with_keys(&Keys::generate())
        .expect("sign")
        .as_json()
}

fn t(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

#[test]
fn accepts_a_good_request_and_keeps_its_bytes() {
    let recipient = Keys::generate().public_key().to_hex();
    let json = signed(
        ZAP_REQUEST_KIND,
        vec![
            t(&["relays", "wss://a.example", "ws://b.example:7777"]),
            t(&["amount", "21000"]),
            t(&["p", &recipient]),
        ],
        "hi + there",
    );
    let zap = check(&json, 21000, &recipient).expect("valid");
    assert_eq!(zap.raw, json);
    assert_eq!(zap.relays(), ["wss://a.example", "ws://b.example:7777"]);
    assert_eq!(zap.comment(), "hi + there");
    // Both URL encodings wallets use reach the same bytes.
    let component: String = url::form_urlencoded::byte_serialize(json.as_bytes()).collect();
    let strict = percent_encoding::utf8_percent_encode(&json, percent_encoding::NON_ALPHANUMERIC)
        .to_string();
    for encoded in [component, strict] {
        assert_eq!(
            check_param(&encoded, 21000, &recipient).expect("valid").raw,
            json
        );
    }
    assert_eq!(
        check(&json, 21001, &recipient).map(|_| ()),
        Err(ZapRequestError::AmountMismatch)
    );
}

#[test]
fn coordinates() {
    let pk = Keys::generate().public_key().to_hex();
    assert!(is_coordinate(&format!("30023:{pk}:my-post")));
    assert!(is_coordinate(&format!("30023:{pk}:")));
    assert!(is_coordinate(&format!("30023:{pk}:with:colons")));
    assert!(!is_coordinate(&format!("x:{pk}:d")));
    assert!(!is_coordinate(&format!("30023:{pk}")));
    assert!(!is_coordinate("30023:abcd:d"));
    assert!(!is_coordinate(&format!("99999999:{pk}:d")));
}

#[test]
fn refuses_oversize_before_parsing() {
    let big = format!("{{\"content\":\"{}\"}}", "x".repeat(MAX_ZAP_REQUEST_BYTES));
    assert_eq!(
        check(&big, 1, "00").map(|_| ()),
        Err(ZapRequestError::TooLarge)
    );
}
