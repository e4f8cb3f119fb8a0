//! NIP-57 zaps on the Redis store, with two gateways sharing it: both announce the same generated
//! zapper key, and a paid zap's receipt goes out once (one event id), whichever gateway's publisher
//! claims the job. The job is found through the global due queue the credit script cannot write.

mod support;

use std::collections::HashSet;
use std::time::Duration;

use nostr_sdk::prelude::*;
use support::redis_server::RedisServer;
use support::zaps::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_gateways_on_one_redis_publish_one_receipt() {
    let redis = RedisServer::start();
    let store = || redis.store_env();
    let (_relay, relay_url) = relay(0).await;
    let dir1 = tempfile::tempdir().expect("dir");
    let dir2 = tempfile::tempdir().expect("dir");
    let gw1 = zap_gateway_with(dir1.path(), &[], store()).await;
    let gw2 = zap_gateway_with(dir2.path(), &[], store()).await;
    let recipient = Keys::generate();
    account_with_key(&gw1, "frank@localhost", &recipient.public_key()).await;

    let (_, l1) = gw1.get("/.well-known/lnurlp/frank").await;
    let (_, l2) = gw2.get("/.well-known/lnurlp/frank").await;
    assert!(l1["nostrPubkey"].is_string(), "{l1}");
    assert_eq!(
        l1["nostrPubkey"], l2["nostrPubkey"],
        "one zapper key per domain, shared"
    );

    let request = zap_request(
        &Keys::generate(),
        vec![
            tag(&["relays", &relay_url]),
            tag(&["amount", "3000"]),
            tag(&["p", &recipient.public_key().to_hex()]),
        ],
        "from redis",
    );
    let (status, body) = zap_callback(&gw1, "frank", 3000, &request.as_json()).await;
    assert_eq!(status, 200, "{body}");
    let pr = body["pr"].as_str().expect("invoice").to_string();
    assert_eq!(gw1.fake_pay(&pr).await.0, 200);

    let receipts =
        wait_receipts(&relay_url, &recipient.public_key(), Duration::from_secs(30)).await;
    let tx = wait_receipt_status(&gw2, "frank@localhost", "the receipt sent", |r| {
        r["status"] == "sent"
    })
    .await;
    let ids: HashSet<String> = receipts.iter().map(|e| e.id.to_hex()).collect();
    assert_eq!(ids.len(), 1);
    assert!(ids.contains(tx["zap_receipt"]["event_id"].as_str().expect("id")));
    let zapper = PublicKey::from_hex(l1["nostrPubkey"].as_str().expect("key")).expect("key");
    assert_eq!(receipts[0].pubkey, zapper);
    assert_eq!(
        gw1.metric("lnaddr_zap_receipts_sent_total").await
            + gw2.metric("lnaddr_zap_receipts_sent_total").await,
        1.0,
        "one gateway sent it"
    );
}
