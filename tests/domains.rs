//! Domains as tenants, over real sockets: domains added, changed and removed while the gateway
//! runs (branding in the metadata, description hash exact, the pay cache following changes), an
//! identity domain whose lookups go through its owner's reverse proxy, the static `.well-known`
//! export paid through a plain static file server, with lnurl-rs as the wallet, and a named
//! domain's callbacks under the account's rate limit. Domain tokens: `domain_tokens.rs`.

mod support;

use lnurl::LnUrlResponse;
use reqwest::Method;
use serde_json::{Value, json};
use support::domains::*;
use support::gateway::{TOKEN, TestGateway};
use support::process::cli_ok;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domains_join_change_and_leave_a_running_gateway() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = TestGateway::start(dir.path()).await;

    // Refused, and nothing kept: bad URL, bad image, a file path as the nostr key, unknown key.
    for bad in [
        json!({"name": "shop.example", "public_url": "ftp://x"}),
        json!({"name": "shop.example", "public_url": gw.public, "image": "not an image"}),
        json!({"name": "shop.example", "public_url": gw.public, "nostr_secret_key": "/etc/passwd"}),
        json!({"name": "shop.example", "public_url": gw.public, "colour": "red"}),
        json!({"name": "not a domain", "public_url": gw.public}),
        json!({"name": "shop.example"}),
    ] {
        let (status, body) = gw
            .admin(Method::POST, "/api/v1/domains", Some(bad.clone()))
            .await;
        assert_eq!(status, 400, "{bad} -> {body}");
    }
    let (_, listed) = gw.admin(Method::GET, "/api/v1/domains", None).await;
    assert_eq!(listed.as_array().expect("list").len(), 1, "{listed}");
    assert_eq!(listed[0]["name"], "localhost");
    assert_eq!(listed[0]["source"], "config");

    let shop = add_domain(
        &gw,
        json!({"name": "Shop.Example", "public_url": gw.public, "description": "Coffee at Shop",
               "image": png_base64(), "registration": "open", "comment_allowed": 10}),
    )
    .await;
    assert_eq!(shop["name"], "shop.example");
    assert_eq!(shop["source"], "store");
    assert_eq!(shop["registration"], "open");
    assert_eq!(shop["lnurl_base"], format!("{}/d/shop.example", gw.public));
    assert_eq!(
        shop["image"],
        format!("data:image/png;base64,{}", png_base64())
    );
    assert!(
        shop["nostr_pubkey"].as_str().is_some_and(|k| k.len() == 64),
        "{shop}"
    );
    assert!(shop.get("nostr_secret_key").is_none());

    // Served at once: accounts, lookups by Host, branded metadata, callbacks on the gateway.
    gw.create_account("alice@shop.example").await;
    let (status, lookup) = gw
        .get_host("shop.example", "/.well-known/lnurlp/alice")
        .await;
    assert_eq!(status, 200, "{lookup}");
    assert_eq!(
        metadata_entries(&lookup),
        vec![
            vec!["text/plain".to_string(), "Coffee at Shop".into()],
            vec!["text/identifier".into(), "alice@shop.example".into()],
            vec!["image/png;base64".into(), png_base64()],
        ]
    );
    assert_eq!(lookup["commentAllowed"], 10);
    let callback = lookup["callback"].as_str().expect("callback");
    assert_eq!(
        callback,
        format!("{}/d/shop.example/lnurlp/alice/callback", gw.public)
    );
    let first = gw.get_url(&format!("{callback}?amount=5000")).await;
    let pr = first["pr"].as_str().expect("pr").to_string();
    assert_eq!(
        description_hash(&pr),
        sha(lookup["metadata"].as_str().expect("m"))
    );

    // Changed while running: the next lookup and invoice use the new branding (no stale cache).
    let (status, changed) = gw
        .admin(
            Method::PATCH,
            "/api/v1/domains/shop.example",
            Some(json!({"description": "Tea at Shop", "image": null})),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["image"], Value::Null);
    let (_, lookup2) = gw
        .get_host("shop.example", "/.well-known/lnurlp/alice")
        .await;
    let metadata2 = lookup2["metadata"].as_str().expect("metadata");
    assert_eq!(
        metadata_entries(&lookup2),
        vec![
            vec!["text/plain".to_string(), "Tea at Shop".into()],
            vec!["text/identifier".into(), "alice@shop.example".into()],
        ]
    );
    let second = gw.get_url(&format!("{callback}?amount=5000")).await;
    let pr2 = second["pr"].as_str().expect("pr");
    assert_eq!(description_hash(pr2), sha(metadata2));
    assert_ne!(description_hash(pr2), description_hash(&pr));
    let (status, bad) = gw
        .admin(
            Method::PATCH,
            "/api/v1/domains/shop.example",
            Some(json!({"min_sendable_msat": 0})),
        )
        .await;
    assert_eq!(status, 400, "{bad}");
    let (status, bad) = gw
        .admin(
            Method::PATCH,
            "/api/v1/domains/shop.example",
            Some(json!({"name": "other.example"})),
        )
        .await;
    assert_eq!(status, 400, "{bad}");

    // Paid and credited like any address.
    let (status, paid) = gw.fake_pay(&pr).await;
    assert_eq!(status, 200, "{paid}");
    gw.wait_balance("alice@shop.example", 5000).await;

    // The config file wins: its domains cannot be added, changed or removed through the API.
    for (method, path, body) in [
        (
            Method::POST,
            "/api/v1/domains",
            Some(json!({"name": "localhost", "public_url": gw.public})),
        ),
        (
            Method::PATCH,
            "/api/v1/domains/localhost",
            Some(json!({"description": "x"})),
        ),
        (Method::DELETE, "/api/v1/domains/localhost", None),
        (
            Method::POST,
            "/api/v1/domains",
            Some(json!({"name": "shop.example", "public_url": gw.public})),
        ),
    ] {
        let (status, body) = gw.admin(method, path, body).await;
        assert_eq!(status, 409, "{path} -> {body}");
    }

    // Leaving: refused while a name is on it; then gone, lookups and all.
    add_domain(
        &gw,
        json!({"name": "tmp.example", "public_url": "https://tmp.example"}),
    )
    .await;
    gw.create_account("bob@tmp.example").await;
    let (status, body) = gw
        .admin(Method::DELETE, "/api/v1/domains/tmp.example", None)
        .await;
    assert_eq!(status, 409, "{body}");
    let (status, _) = gw.get_host("tmp.example", "/.well-known/lnurlp/bob").await;
    assert_eq!(status, 200);
    let (status, _) = gw
        .admin(Method::DELETE, "/api/v1/accounts/bob@tmp.example", None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = gw
        .admin(Method::DELETE, "/api/v1/domains/tmp.example", None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = gw.get_host("tmp.example", "/.well-known/lnurlp/bob").await;
    assert_eq!(status, 404);
    assert_eq!(gw.admin_status("/api/v1/domains/tmp.example").await, 404);
    let (status, body) = gw
        .admin(
            Method::POST,
            "/api/v1/accounts",
            Some(json!({"address": "bob@tmp.example"})),
        )
        .await;
    assert_eq!(status, 400, "no accounts on a removed domain: {body}");

    // Kept in the store: a restart serves the same domains.
    let mut gw = gw;
    gw.restart().await;
    let (status, lookup3) = gw
        .get_host("shop.example", "/.well-known/lnurlp/alice")
        .await;
    assert_eq!(status, 200, "{lookup3}");
    assert_eq!(lookup3["metadata"], lookup2["metadata"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identity_domain_behind_its_owners_proxy_pays_end_to_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = TestGateway::start(dir.path()).await;
    // The gateway (its public URL stands for https://pay.gateway.net) serves example.org's names;
    // it serves localhost too, so nothing falls back to "the only domain".
    add_domain(
        &gw,
        json!({"name": "example.org", "public_url": gw.public, "description": "Alice's tips"}),
    )
    .await;
    let (status, _) = gw
        .admin(
            Method::POST,
            "/api/v1/accounts",
            Some(json!({"address": "alice@example.org", "nostr_pubkey": PUBKEY})),
        )
        .await;
    assert_eq!(status, 201);
    let proxy = support::web::well_known_proxy(gw.public.clone(), "example.org".into()).await;

    let wallet = lnurl::AsyncClient::from_client(reqwest::Client::new());
    let LnUrlResponse::LnUrlPayResponse(pay) = wallet
        .make_request(&format!("{}/.well-known/lnurlp/alice", proxy.url))
        .await
        .expect("lookup through the owner's proxy")
    else {
        panic!("not a payRequest")
    };
    assert!(
        pay.callback
            .starts_with(&format!("{}/d/example.org/", gw.public)),
        "callbacks go to the gateway: {}",
        pay.callback
    );
    let entries: Vec<Vec<String>> = serde_json::from_str(&pay.metadata).expect("metadata");
    assert_eq!(entries[0], ["text/plain", "Alice's tips"]);
    assert_eq!(entries[1], ["text/identifier", "alice@example.org"]);
    let got = wallet
        .get_invoice(&pay, 21_000, None, Some("for coffee"))
        .await
        .expect("invoice from the gateway");
    assert_eq!(description_hash(got.invoice()), pay.metadata_hash());
    let (status, paid) = gw.fake_pay(got.invoice()).await;
    assert_eq!(status, 200, "{paid}");
    gw.wait_balance("alice@example.org", 21_000).await;
    let txs = gw.transactions("alice@example.org").await;
    assert_eq!(txs[0]["comment"], "for coffee");

    // NIP-05 through the proxy names the same key.
    let nip05: Value = reqwest::get(format!("{}/.well-known/nostr.json?name=alice", proxy.url))
        .await
        .expect("nip05")
        .json()
        .await
        .expect("json");
    assert_eq!(nip05["names"]["alice"], PUBKEY);
    // The proxy delegates only its own domain's names: the gateway's other domain is not reachable.
    let resp = reqwest::get(format!("{}/.well-known/lnurlp/carol", proxy.url))
        .await
        .expect("lookup");
    assert_eq!(resp.status(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_static_export_pays_end_to_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = TestGateway::start(dir.path()).await;
    let token_file = dir.path().join("cli.token");
    std::fs::write(&token_file, TOKEN).expect("token");
    let cli = |args: &[&str]| cli_ok(&gw.admin, &token_file, args).into_bytes();
    let image = dir.path().join("logo.png");
    std::fs::write(&image, b"\x89PNG\r\n\x1a\n-logo-").expect("image");
    let added: Value = serde_json::from_slice(&cli(&[
        "domain",
        "add",
        "static.example",
        "--public-url",
        &gw.public,
        "--description",
        "Static tips",
        "--image",
        image.to_str().expect("utf8"),
    ]))
    .expect("json");
    assert_eq!(added["name"], "static.example");
    let listed: Value = serde_json::from_slice(&cli(&["domain", "list"])).expect("json");
    assert_eq!(listed.as_array().expect("list").len(), 2);
    // `domain set` changes only the keys it is given.
    cli(&["domain", "set", "static.example", "--comment-allowed", "42"]);
    let shown: Value =
        serde_json::from_slice(&cli(&["domain", "show", "static.example"])).expect("json");
    assert_eq!(shown["comment_allowed"], 42, "{shown}");
    assert_eq!(shown["description"], "Static tips", "{shown}");
    cli(&[
        "account",
        "add",
        "alice@static.example",
        "--nostr-pubkey",
        PUBKEY,
    ]);
    cli(&["account", "add", "bob@static.example"]);

    let site = dir.path().join("site");
    cli(&[
        "wellknown",
        "export",
        "--domain",
        "static.example",
        "--out",
        site.to_str().expect("utf8"),
    ]);
    assert!(site.join(".well-known/lnurlp/alice").is_file());
    assert!(site.join(".well-known/lnurlp/bob").is_file());
    let server = support::web::static_files(site).await;

    let wallet = lnurl::AsyncClient::from_client(reqwest::Client::new());
    let LnUrlResponse::LnUrlPayResponse(pay) = wallet
        .make_request(&format!("{}/.well-known/lnurlp/alice", server.url))
        .await
        .expect("lookup from the static host")
    else {
        panic!("not a payRequest")
    };
    assert!(pay.callback.starts_with(&gw.public), "{}", pay.callback);
    assert!(pay.metadata.contains("alice@static.example"));
    assert!(pay.metadata.contains("image/png;base64"));
    assert!(
        pay.nostr_pubkey.is_some(),
        "zaps announced for an account with a key"
    );
    let got = wallet
        .get_invoice(&pay, 7_000, None, None)
        .await
        .expect("invoice");
    assert_eq!(description_hash(got.invoice()), pay.metadata_hash());
    let (status, paid) = gw.fake_pay(got.invoice()).await;
    assert_eq!(status, 200, "{paid}");
    gw.wait_balance("alice@static.example", 7_000).await;

    let nip05: Value = reqwest::get(format!("{}/.well-known/nostr.json", server.url))
        .await
        .expect("nostr.json")
        .json()
        .await
        .expect("json");
    assert_eq!(nip05["names"], json!({"alice": PUBKEY}));

    // A domain token exports its own domain.
    let made: Value =
        serde_json::from_slice(&cli(&["domain", "token", "static.example"])).expect("json");
    let own_token = dir.path().join("own.token");
    std::fs::write(&own_token, made["token"].as_str().expect("token")).expect("write");
    let out = support::process::cli(
        &gw.admin,
        &own_token,
        &[
            "wellknown",
            "export",
            "--domain",
            "localhost",
            "--out",
            dir.path().join("x").to_str().expect("utf8"),
        ],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("403"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The `/d/{domain}/` form of a callback draws on the same per-account bucket as the plain one,
/// so it is no way around the account's rate limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_under_a_named_domain_share_the_account_rate_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = TestGateway::start_with(dir.path(), |url| {
        vec![
            (
                "LNADDR_DOMAINS".into(),
                format!(r#"[{{name="localhost", public_url="{url}"}}]"#),
            ),
            ("LNADDR_LIMITS__ENABLED".into(), "true".into()),
            ("LNADDR_LIMITS__CALLBACK_PER_MINUTE".into(), "6000".into()),
            ("LNADDR_LIMITS__CALLBACK_BURST".into(), "1000".into()),
            (
                "LNADDR_LIMITS__ACCOUNT_CALLBACK_PER_MINUTE".into(),
                "1".into(),
            ),
            ("LNADDR_LIMITS__ACCOUNT_CALLBACK_BURST".into(), "3".into()),
        ]
    })
    .await;
    gw.create_account("alice@localhost").await;
    let mut statuses = Vec::new();
    for path in [
        "/lnurlp/alice/callback?amount=1000",
        "/d/localhost/lnurlp/alice/callback?amount=1000",
        "/d/LOCALHOST/lnurlp/Alice+x/callback?amount=1000",
        "/d/localhost/lnurlp/alice/callback?amount=1000",
        "/lnurlp/alice/callback?amount=1000",
    ] {
        statuses.push(gw.get(path).await.0);
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
}
