//! Names: case-insensitive, `name+tag`, several domains on one gateway kept apart by Host, and
//! NIP-05 identities.

mod support;

use support::gateway::TestGateway;

#[tokio::test]
async fn names_are_case_insensitive_and_tags_reach_the_ledger() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = TestGateway::start(dir.path()).await;
    let created = gw.create_account("Alice@LOCALHOST").await;
    assert_eq!(created["address"], "alice@localhost");
    let (status, lookup) = gw.get("/.well-known/lnurlp/ALICE").await;
    assert_eq!(status, 200, "{lookup}");

    let (status, tagged) = gw.get("/.well-known/lnurlp/alice+Coffee").await;
    assert_eq!(status, 200, "{tagged}");
    assert_eq!(
        tagged["callback"],
        format!("{}/lnurlp/alice+coffee/callback", gw.lnurl_base())
    );
    assert!(
        tagged["metadata"]
            .as_str()
            .expect("metadata")
            .contains("alice+coffee@localhost")
    );
    let (status, cb) = gw.get("/lnurlp/alice+coffee/callback?amount=3000").await;
    assert_eq!(status, 200, "{cb}");
    gw.fake_pay(cb["pr"].as_str().expect("pr")).await;
    gw.wait_balance("alice@localhost", 3000).await;
    let txs = gw.transactions("alice@localhost").await;
    assert_eq!(txs[0]["tag"], "coffee");

    // The same account again under another case: taken.
    let (status, body) = gw
        .admin(
            reqwest::Method::POST,
            "/api/v1/accounts",
            Some(serde_json::json!({"address": "ALICE@localhost"})),
        )
        .await;
    assert_eq!(status, 409, "{body}");
}

#[tokio::test]
async fn two_domains_keep_the_same_username_apart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = TestGateway::start_with(dir.path(), |_| {
        vec![(
            "LNADDR_DOMAINS".into(),
            r#"[{name="one.example", public_url="https://one.example"},
                {name="two.example", public_url="https://two.example", min_sendable_msat=5000}]"#
                .into(),
        )]
    })
    .await;
    gw.create_account("sam@one.example").await;
    gw.create_account("sam@two.example").await;
    let (s1, one) = gw.get_host("one.example", "/.well-known/lnurlp/sam").await;
    let (s2, two) = gw
        .get_host("TWO.example:443", "/.well-known/lnurlp/sam")
        .await;
    assert_eq!((s1, s2), (200, 200));
    assert_eq!(one["callback"], "https://one.example/lnurlp/sam/callback");
    assert_eq!(two["callback"], "https://two.example/lnurlp/sam/callback");
    assert_eq!(two["minSendable"], 5000);
    assert!(
        one["metadata"]
            .as_str()
            .expect("m")
            .contains("sam@one.example")
    );

    let (_, cb) = gw
        .get_host("two.example", "/lnurlp/sam/callback?amount=7000")
        .await;
    gw.fake_pay(cb["pr"].as_str().expect("pr")).await;
    gw.wait_balance("sam@two.example", 7000).await;
    assert_eq!(gw.balance("sam@one.example").await, 0);

    let (status, body) = gw
        .get_host("three.example", "/.well-known/lnurlp/sam")
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["status"], "ERROR");
    // An address on a domain we do not serve cannot be created.
    let (status, _) = gw
        .admin(
            reqwest::Method::POST,
            "/api/v1/accounts",
            Some(serde_json::json!({"address": "sam@three.example"})),
        )
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn nip05_names_map_to_hex_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = TestGateway::start_with(dir.path(), |url| {
        vec![(
            "LNADDR_DOMAINS".into(),
            format!(
                r#"[{{name="localhost", public_url="{url}", relays=["wss://relay.example"]}}]"#
            ),
        )]
    })
    .await;
    let hex = "3bf0c63fcb93463407af97a5e5ee64fa883d107ef9e558472c4eb9aaaefa459d";
    let npub = "npub180cvv07tjdrrgpa0j7j7tmnyl2yr6yr7l8j4s3evf6u64th6gkwsyjh6w6";
    let (status, body) = gw
        .admin(
            reqwest::Method::POST,
            "/api/v1/accounts",
            Some(serde_json::json!({"address": "_@localhost", "nostr_pubkey": npub})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["nostr_pubkey"], hex);
    gw.create_account("nokey@localhost").await;

    let (status, body) = gw.get("/.well-known/nostr.json?name=_").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["names"]["_"], hex);
    assert_eq!(
        body["relays"][hex],
        serde_json::json!(["wss://relay.example"])
    );
    assert_eq!(gw.get("/.well-known/nostr.json?name=nokey").await.0, 404);
    assert_eq!(gw.get("/.well-known/nostr.json?name=nobody").await.0, 404);
    assert_eq!(gw.get("/.well-known/nostr.json").await.0, 400);

    // Clearing the key removes the identity.
    let (status, body) = gw
        .admin(
            reqwest::Method::PATCH,
            "/api/v1/accounts/_@localhost",
            Some(serde_json::json!({"nostr_pubkey": null})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(gw.get("/.well-known/nostr.json?name=_").await.0, 404);
}
