//! Zap test support: in-process nostr relays (nostr-relay-builder's `LocalRelay` on 127.0.0.1), zap
//! requests signed with fresh keys, and a gateway whose domain takes zaps (NIP-57).

use std::time::Duration;

use lnaddr::types::unix_now;
use nostr_relay_builder::prelude::{LocalRelay, RelayBuilder};
use nostr_sdk::prelude::*;
use serde_json::Value;

use super::gateway::TestGateway;

/// A relay listening on `port` (0: any free port).
pub async fn relay(port: u16) -> (LocalRelay, String) {
    let mut builder = RelayBuilder::default().addr("127.0.0.1".parse().expect("ip"));
    if port != 0 {
        builder = builder.port(port);
    }
    let relay = LocalRelay::new(builder);
    relay.run().await.expect("relay runs");
    let url = relay.url().await.to_string();
    (relay, url)
}

/// A free local port with nothing listening on it (yet).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A gateway whose one domain sends receipts also to `domain_relays`; private relays allowed.
pub async fn zap_gateway(dir: &std::path::Path, domain_relays: &[String]) -> TestGateway {
    zap_gateway_with(dir, domain_relays, Vec::new()).await
}

/// [`zap_gateway`] with more `LNADDR_*` settings (e.g. a Redis store).
pub async fn zap_gateway_with(
    dir: &std::path::Path,
    domain_relays: &[String],
    extra: Vec<(String, String)>,
) -> TestGateway {
    let relays = domain_relays
        .iter()
        .map(|r| format!("{r:?}"))
        .collect::<Vec<_>>()
        .join(",");
    TestGateway::start_with(dir, |url| {
        vec![
            (
                "LNADDR_DOMAINS".into(),
                format!(r#"[{{name="localhost", public_url="{url}", relays=[{relays}]}}]"#),
            ),
            ("LNADDR_ZAPS__ALLOW_PRIVATE_RELAYS".into(), "true".into()),
        ]
        .into_iter()
        .chain(extra)
        .collect()
    })
    .await
}

/// Creates `address` with `pubkey` as its nostr key.
pub async fn account_with_key(gw: &TestGateway, address: &str, pubkey: &PublicKey) {
    let (status, body) = gw
        .admin(
            reqwest::Method::POST,
            "/api/v1/accounts",
            Some(serde_json::json!({"address": address, "nostr_pubkey": pubkey.to_hex()})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

/// A zap request signed by `sender` with the given tags.
pub fn zap_request(sender: &Keys, tags: Vec<Vec<String>>, content: &str) -> Event {
    let tags: Vec<Tag> = tags
        .into_iter()
        .map(|t| Tag::parse(t).expect("tag"))
        .collect();
    EventBuilder::new(Kind::ZapRequest, content)
        .tags(tags)
        .sign_with_keys(sender)
        .expect("sign")
}

pub fn tag(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

/// Calls the callback with `nostr` = `json` (URI-component encoded) and `amount`.
pub async fn zap_callback(gw: &TestGateway, user: &str, amount: u64, json: &str) -> (u16, Value) {
    let nostr: String = url::form_urlencoded::byte_serialize(json.as_bytes()).collect();
    gw.get(&format!(
        "/lnurlp/{user}/callback?amount={amount}&nostr={nostr}"
    ))
    .await
}

/// Every zap receipt for `recipient` that `relay_url` holds.
pub async fn receipts_on(relay_url: &str, recipient: &PublicKey) -> Vec<Event> {
    let client = Client::default();
    client.add_relay(relay_url).await.expect("add relay");
    let fetched = match client
        .try_connect_relay(relay_url, Duration::from_secs(2))
        .await
    {
        Ok(()) => client
            .fetch_events_from(
                [relay_url],
                Filter::new().kind(Kind::ZapReceipt).pubkey(*recipient),
                Duration::from_secs(2),
            )
            .await
            .map(|events| events.into_iter().collect())
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    client.shutdown().await;
    fetched
}

/// Waits until `relay_url` holds at least one receipt for `recipient`; answers them all.
pub async fn wait_receipts(
    relay_url: &str,
    recipient: &PublicKey,
    timeout: Duration,
) -> Vec<Event> {
    super::process::wait_for(
        &format!("a zap receipt on {relay_url}"),
        timeout,
        || async {
            let got = receipts_on(relay_url, recipient).await;
            (!got.is_empty()).then_some(got)
        },
    )
    .await
}

/// The zap's ledger entry once its receipt status satisfies `done`.
pub async fn wait_receipt_status(
    gw: &TestGateway,
    address: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    super::process::wait_for(what, Duration::from_secs(30), || async {
        gw.transactions(address)
            .await
            .into_iter()
            .find(|t| t["zap"] == true && done(&t["zap_receipt"]))
    })
    .await
}

/// Seconds since the epoch now (for sanity bounds on `created_at`).
pub fn now() -> u64 {
    unix_now()
}
