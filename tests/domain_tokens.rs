//! Domain tokens, over real sockets: a token manages its one domain (accounts, ledger, vouchers,
//! the domain itself and its export) and gets 403 on every other domain and on domain and token
//! management; it is stored as a hash and opens nothing once revoked; it pays from its own
//! domain's accounts and reads only their payments.

mod support;

use lightning_invoice::Bolt11Invoice;
use reqwest::Method;
use serde_json::{Value, json};
use std::str::FromStr;
use support::domains::*;
use support::gateway::TOKEN;

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
    let (status, accounts) = gw.admin_as(t, Method::GET, "/api/v1/accounts", None).await;
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
        let (status, answer) = gw.admin_as(t, method.clone(), &path, body).await;
        assert_eq!(status, want, "{method} {path} -> {answer}");
    }
    let (status, own_link) = gw
        .admin_as(
            t,
            Method::POST,
            "/api/v1/accounts/alice@shop.example/withdraw-links",
            Some(json!({"max_msat": 1000})),
        )
        .await;
    assert_eq!(status, 201, "{own_link}");
    let own_k1 = own_link["k1"].as_str().expect("k1");
    let own_path = format!("/api/v1/withdraw-links/{own_k1}");
    let (status, _) = gw.admin_as(t, Method::GET, &own_path, None).await;
    assert_eq!(status, 200);
    let (status, _) = gw.admin_as(t, Method::DELETE, &own_path, None).await;
    assert_eq!(status, 200);
    let (status, domains) = gw.admin_as(t, Method::GET, "/api/v1/domains", None).await;
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
        let (status, answer) = gw.admin_as(t, method.clone(), path, body.clone()).await;
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
    let (status, _) = gw.admin_as(t, Method::GET, alice, None).await;
    assert_eq!(status, 401);
    let (status, _) = gw
        .admin_as(&format!("{t}0"), Method::GET, "/api/v1/accounts", None)
        .await;
    assert_eq!(status, 401);
    let (status, _) = gw
        .admin_as(TOKEN, Method::GET, "/api/v1/accounts", None)
        .await;
    assert_eq!(status, 200);
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
    let (status, paid) = gw
        .admin_as(
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
    let (status, shown) = gw.admin_as(t, Method::GET, &own_path, None).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["status"], "succeeded");
    gw.wait_balance("dave@localhost", 10_000).await;
    gw.wait_balance("alice@shop.example", 40_000).await;

    // Another domain's account: it neither pays from it nor reads its payments.
    let dave_pr2 = invoice_at(&gw, "localhost", "dave", 7_000).await;
    for carol in ["carol@localhost", "CAROL@LOCALHOST"] {
        let path = format!("/api/v1/accounts/{carol}/payments");
        let body = json!({"invoice": dave_pr2});
        let (status, refused) = gw.admin_as(t, Method::POST, &path, Some(body)).await;
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
    let (status, hidden) = gw.admin_as(t, Method::GET, &hash2_path, None).await;
    assert_eq!(status, 403, "{hidden}");
    assert!(hidden["payment_hash"].is_null(), "nothing shown: {hidden}");
    assert_eq!(gw.balance("carol@localhost").await, 43_000);
    assert_eq!(gw.balance("alice@shop.example").await, 40_000);
    assert_eq!(gw.balance("dave@localhost").await, 17_000);
}
