//! Domains as tenants, over real sockets: domains added, changed and removed while the gateway
//! runs (branding in the metadata, description hash exact, the pay cache following changes),
//! domain tokens that manage one domain and get 403 on everything else, an identity domain whose
//! lookups go through its owner's reverse proxy, and the static `.well-known` export paid through
//! a plain static file server, with lnurl-rs as the wallet.

mod support;

use base64::Engine;
use bitcoin::hashes::Hash;
use lightning_invoice::{Bolt11Invoice, Bolt11InvoiceDescriptionRef};
use lnurl::LnUrlResponse;
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::str::FromStr;
use support::gateway::{TOKEN, TestGateway};
use support::process::cli_ok;

const PUBKEY: &str = "3bf0c63fcb93463407af97a5e5ee64fa883d107ef9e558472c4eb9aaaefa459d";

fn description_hash(pr: &str) -> [u8; 32] {
    let invoice: Bolt11Invoice = pr.parse().expect("valid BOLT 11");
    invoice.check_signature().expect("signature");
    match invoice.description() {
        Bolt11InvoiceDescriptionRef::Hash(h) => h.0.to_byte_array(),
        Bolt11InvoiceDescriptionRef::Direct(_) => panic!("expected a description hash"),
    }
}

fn sha(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

/// A tiny PNG-signed image: the gateway reads its kind from the first bytes.
fn png_base64() -> String {
    base64::engine::general_purpose::STANDARD.encode(b"\x89PNG\r\n\x1a\n-a-tiny-test-image-")
}

async fn add_domain(gw: &TestGateway, body: Value) -> Value {
    let (status, answer) = gw.admin(Method::POST, "/api/v1/domains", Some(body)).await;
    assert_eq!(status, 201, "{answer}");
    answer
}

async fn call(
    gw: &TestGateway,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    gw.admin_as(token, method, path, body).await
}

/// A gateway serving `shop.example` besides `localhost`, with alice@shop.example and
/// carol@localhost.
async fn shop_gateway(dir: &std::path::Path) -> TestGateway {
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
async fn shop_token(gw: &TestGateway, body: Value) -> Value {
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

fn metadata_entries(lookup: &Value) -> Vec<Vec<String>> {
    serde_json::from_str(lookup["metadata"].as_str().expect("metadata")).expect("metadata array")
}

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
async fn a_domain_token_manages_its_domain_and_nothing_else() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = shop_gateway(dir.path()).await;
    let (status, link) = gw
        .admin(
            Method::POST,
            "/api/v1/accounts/carol@localhost/withdraw-links",
            Some(json!({"max_msat": 1000})),
        )
        .await;
    assert_eq!(status, 201, "{link}");
    let carol_k1 = link["k1"].as_str().expect("k1").to_string();

    let made = shop_token(&gw, json!({"label": "shop owner"})).await;
    let token = made["token"].as_str().expect("token").to_string();
    let token_id = made["id"].as_str().expect("id").to_string();
    let (_, listed) = gw
        .admin(Method::GET, "/api/v1/domains/shop.example/tokens", None)
        .await;
    assert_eq!(listed[0]["id"], token_id.as_str());
    assert_eq!(listed[0]["label"], "shop owner");
    assert!(!listed.to_string().contains(&token), "never shown again");

    // Its own domain: accounts, ledger, vouchers, the domain itself and its export.
    let t = token.as_str();
    let (status, accounts) = call(&gw, t, Method::GET, "/api/v1/accounts", None).await;
    assert_eq!(status, 200);
    let addresses: Vec<&str> = accounts
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|a| a["address"].as_str())
        .collect();
    assert_eq!(addresses, ["alice@shop.example"]);
    for (method, path, body, want) in [
        (
            Method::POST,
            "/api/v1/accounts".to_string(),
            Some(json!({"address": "dave@shop.example"})),
            201,
        ),
        (
            Method::GET,
            "/api/v1/accounts?domain=shop.example".into(),
            None,
            200,
        ),
        (
            Method::GET,
            "/api/v1/accounts/alice@shop.example".into(),
            None,
            200,
        ),
        (
            Method::PATCH,
            "/api/v1/accounts/alice@shop.example".into(),
            Some(json!({"nostr_pubkey": PUBKEY})),
            200,
        ),
        (
            Method::GET,
            "/api/v1/accounts/alice@shop.example/transactions".into(),
            None,
            200,
        ),
        (
            Method::DELETE,
            "/api/v1/accounts/dave@shop.example".into(),
            None,
            204,
        ),
        (
            Method::GET,
            "/api/v1/domains/shop.example".into(),
            None,
            200,
        ),
        (
            Method::GET,
            "/api/v1/domains/shop.example/wellknown".into(),
            None,
            200,
        ),
    ] {
        let (status, answer) = call(&gw, t, method.clone(), &path, body).await;
        assert_eq!(status, want, "{method} {path} -> {answer}");
    }
    let (status, own_link) = call(
        &gw,
        t,
        Method::POST,
        "/api/v1/accounts/alice@shop.example/withdraw-links",
        Some(json!({"max_msat": 1000})),
    )
    .await;
    assert_eq!(status, 201, "{own_link}");
    let own_k1 = own_link["k1"].as_str().expect("k1");
    let own_path = format!("/api/v1/withdraw-links/{own_k1}");
    let (status, _) = call(&gw, t, Method::GET, &own_path, None).await;
    assert_eq!(status, 200);
    let (status, _) = call(&gw, t, Method::DELETE, &own_path, None).await;
    assert_eq!(status, 200);
    let (status, domains) = call(&gw, t, Method::GET, "/api/v1/domains", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        domains.as_array().expect("list").len(),
        1,
        "only its own: {domains}"
    );

    // Every admin route on another domain, and all domain and token management: 403.
    let foreign: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::GET,
            "/api/v1/accounts?domain=localhost".into(),
            None,
        ),
        (
            Method::POST,
            "/api/v1/accounts".into(),
            Some(json!({"address": "eve@localhost"})),
        ),
        (Method::GET, "/api/v1/accounts/carol@localhost".into(), None),
        (Method::GET, "/api/v1/accounts/CAROL@LOCALHOST".into(), None),
        (
            Method::PATCH,
            "/api/v1/accounts/carol@localhost".into(),
            Some(json!({"nostr_pubkey": PUBKEY})),
        ),
        (
            Method::DELETE,
            "/api/v1/accounts/carol@localhost".into(),
            None,
        ),
        (
            Method::GET,
            "/api/v1/accounts/carol@localhost/transactions".into(),
            None,
        ),
        (
            Method::POST,
            "/api/v1/accounts/carol@localhost/withdraw-links".into(),
            Some(json!({"max_msat": 1000})),
        ),
        (
            Method::GET,
            format!("/api/v1/withdraw-links/{carol_k1}"),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/v1/withdraw-links/{carol_k1}"),
            None,
        ),
        (
            Method::POST,
            "/api/v1/fake/pay".into(),
            Some(json!({"invoice": "lnbcrt1"})),
        ),
        (
            Method::POST,
            "/api/v1/fake/fail-next-payments".into(),
            Some(json!({"count": 1})),
        ),
        (Method::GET, "/metrics".into(), None),
        (
            Method::POST,
            "/api/v1/domains".into(),
            Some(json!({"name": "evil.example", "public_url": "https://evil.example"})),
        ),
        (Method::GET, "/api/v1/domains/localhost".into(), None),
        (
            Method::PATCH,
            "/api/v1/domains/shop.example".into(),
            Some(json!({"description": "mine"})),
        ),
        (Method::DELETE, "/api/v1/domains/shop.example".into(), None),
        (
            Method::PATCH,
            "/api/v1/domains/localhost".into(),
            Some(json!({"description": "mine"})),
        ),
        (Method::DELETE, "/api/v1/domains/localhost".into(), None),
        (
            Method::POST,
            "/api/v1/domains/shop.example/tokens".into(),
            Some(json!({})),
        ),
        (
            Method::POST,
            "/api/v1/domains/localhost/tokens".into(),
            Some(json!({})),
        ),
        (
            Method::GET,
            "/api/v1/domains/shop.example/tokens".into(),
            None,
        ),
        (Method::DELETE, format!("/api/v1/tokens/{token_id}"), None),
        (
            Method::GET,
            "/api/v1/domains/localhost/wellknown".into(),
            None,
        ),
    ];
    for (method, path, body) in &foreign {
        let (status, answer) = call(&gw, t, method.clone(), path, body.clone()).await;
        assert_eq!(status, 403, "{method} {path} -> {answer}");
    }
    // Nothing changed.
    let carol = gw.account("carol@localhost").await;
    assert_eq!(carol["nostr_pubkey"], Value::Null);
    assert_eq!(gw.admin_status("/api/v1/accounts/eve@localhost").await, 404);
    let (_, link) = gw
        .admin(
            Method::GET,
            &format!("/api/v1/withdraw-links/{carol_k1}"),
            None,
        )
        .await;
    assert_eq!(link["disabled"], false);
    let (_, domains) = gw.admin(Method::GET, "/api/v1/domains", None).await;
    assert_eq!(domains.as_array().expect("list").len(), 2);
    assert_eq!(domains[1]["description"], Value::Null);

    // Stored as a hash only; revoked, it opens nothing.
    let stored = std::fs::read(dir.path().join("lnaddr.redb")).expect("store file");
    assert!(!stored.windows(token.len()).any(|w| w == token.as_bytes()));
    let (status, _) = gw
        .admin(Method::DELETE, &format!("/api/v1/tokens/{token_id}"), None)
        .await;
    assert_eq!(status, 204);
    let alice = "/api/v1/accounts/alice@shop.example";
    let (status, _) = call(&gw, t, Method::GET, alice, None).await;
    assert_eq!(status, 401);
    let (status, _) = call(&gw, &format!("{t}0"), Method::GET, "/api/v1/accounts", None).await;
    assert_eq!(status, 401);
    let (status, _) = call(&gw, TOKEN, Method::GET, "/api/v1/accounts", None).await;
    assert_eq!(status, 200);
}

/// A callback invoice of `user` at `host` (`localhost` or a named domain).
async fn invoice_at(gw: &TestGateway, host: &str, user: &str, msat: u64) -> String {
    let (status, lookup) = gw
        .get_host(host, &format!("/.well-known/lnurlp/{user}"))
        .await;
    assert_eq!(status, 200, "{lookup}");
    let callback = lookup["callback"].as_str().expect("callback");
    let got = gw.get_url(&format!("{callback}?amount={msat}")).await;
    got["pr"].as_str().expect("pr").to_string()
}

/// The same, paid with the fake node.
async fn fund_at(gw: &TestGateway, host: &str, user: &str, msat: u64) {
    let (status, paid) = gw.fake_pay(&invoice_at(gw, host, user, msat).await).await;
    assert_eq!(status, 200, "{paid}");
    gw.wait_balance(&format!("{user}@{host}"), msat).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_token_pays_and_reads_only_its_own_domains_payments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = shop_gateway(dir.path()).await;
    gw.create_account("dave@localhost").await;
    fund_at(&gw, "shop.example", "alice", 50_000).await;
    fund_at(&gw, "localhost", "carol", 50_000).await;
    let made = shop_token(&gw, json!({})).await;
    let t = made["token"].as_str().expect("token").to_string();
    let t = t.as_str();

    // Its own account pays (an invoice of dave's, settled inside the ledger) and reads the payment.
    let dave_pr = invoice_at(&gw, "localhost", "dave", 10_000).await;
    let (status, paid) = call(
        &gw,
        t,
        Method::POST,
        "/api/v1/accounts/alice@shop.example/payments",
        Some(json!({"invoice": dave_pr})),
    )
    .await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["status"], "succeeded", "{paid}");
    let own_hash = paid["payment_hash"].as_str().expect("hash").to_string();
    let own_path = format!("/api/v1/payments/{own_hash}");
    let (status, shown) = call(&gw, t, Method::GET, &own_path, None).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["status"], "succeeded");
    gw.wait_balance("dave@localhost", 10_000).await;
    gw.wait_balance("alice@shop.example", 40_000).await;

    // Another domain's account: it neither pays from it nor reads its payments.
    let dave_pr2 = invoice_at(&gw, "localhost", "dave", 7_000).await;
    for carol in ["carol@localhost", "CAROL@LOCALHOST"] {
        let path = format!("/api/v1/accounts/{carol}/payments");
        let body = json!({"invoice": dave_pr2});
        let (status, refused) = call(&gw, t, Method::POST, &path, Some(body)).await;
        assert_eq!(status, 403, "{refused}");
    }
    let hash2 = Bolt11Invoice::from_str(&dave_pr2)
        .expect("bolt11")
        .payment_hash()
        .to_string();
    let hash2_path = format!("/api/v1/payments/{hash2}");
    let (status, none) = gw.admin(Method::GET, &hash2_path, None).await;
    assert_eq!(status, 404, "nothing was paid from carol: {none}");
    // Carol pays with the operator's token; the domain token cannot read that payment.
    let (status, carols) = gw
        .admin(
            Method::POST,
            "/api/v1/accounts/carol@localhost/payments",
            Some(json!({"invoice": dave_pr2})),
        )
        .await;
    assert_eq!(status, 200, "{carols}");
    let (status, hidden) = call(&gw, t, Method::GET, &hash2_path, None).await;
    assert_eq!(status, 403, "{hidden}");
    assert!(hidden["payment_hash"].is_null(), "nothing shown: {hidden}");
    assert_eq!(gw.balance("carol@localhost").await, 43_000);
    assert_eq!(gw.balance("alice@shop.example").await, 40_000);
    assert_eq!(gw.balance("dave@localhost").await, 17_000);
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
