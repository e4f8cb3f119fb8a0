//! The LndHub API on Redis with two real `lnaddr serve` processes and one (simulated) LND: a token
//! made by one process works on the other, a payment made through one credits an invoice made
//! through the other, revocation on one holds at once on the other, and 30 racing `payinvoice`
//! calls spread over both processes pay at most what the balance covers.

mod lnd_sim;
mod support;

use std::sync::Arc;

use lightning_invoice::Currency;
use lnd_sim::LndSim;
use serde_json::json;
use support::lndhub::{Wallet, assert_bad_auth, count_paid};
use support::multi::*;
use support::process::{GatewayProcess, wait_for};
use support::redis_server::RedisServer;
use support::wallet::foreign_invoice;

/// Gateways `a` and `b` on the Redis at `url` and the simulator `sim`, both answering.
async fn two_gateways(
    http: &reqwest::Client,
    dir: &std::path::Path,
    url: &str,
    sim: &LndSim,
) -> (GatewayProcess, GatewayProcess) {
    let lnd = sim.lnd();
    two_healthy(http, dir, |d| redis_lnd_gateway(d, url, &lnd)).await
}

async fn credential(http: &reqwest::Client, g: &GatewayProcess, address: &str) -> String {
    let path = format!("/api/v1/accounts/{address}/lndhub");
    let (status, body) = admin(http, g, reqwest::Method::POST, &path, None).await;
    assert_eq!(status, 201);
    body["url"].as_str().expect("url").to_string()
}

async fn balance(http: &reqwest::Client, g: &GatewayProcess, address: &str) -> u64 {
    account(http, g, address).await.expect("account")["balance_msat"]
        .as_u64()
        .expect("balance")
}

async fn wait_balance(http: &reqwest::Client, g: &GatewayProcess, address: &str, want: u64) {
    wait_for(&format!("{address} to hold {want}"), DEADLINE, || async {
        (balance(http, g, address).await == want).then_some(())
    })
    .await;
}

async fn fund(http: &reqwest::Client, g: &GatewayProcess, sim: &LndSim, name: &str, msat: u64) {
    let pr = request_invoice(http, &g.public_url(), name, msat)
        .await
        .expect("invoice");
    sim.settle(&pr).expect("settle");
    wait_balance(http, g, &format!("{name}@localhost"), msat).await;
}

/// The same wallet pointed at another process.
fn on(w: &Wallet, g: &GatewayProcess) -> Wallet {
    Wallet {
        http: w.http.clone(),
        base: format!("{}/lndhub", g.public_url()),
        login: w.login.clone(),
        password: w.password.clone(),
        access_token: w.access_token.clone(),
        refresh_token: w.refresh_token.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bluewallet_flow_across_two_processes_on_redis() {
    let redis = RedisServer::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let sim = LndSim::start(&tmp.path().join("lnd")).await.expect("sim");
    sim.set_payment_fee_msat(1_000);
    let http = client();
    let (a, b) = two_gateways(&http, tmp.path(), &redis.url(), &sim).await;
    create_account(&http, &a, "alice@localhost").await;
    create_account(&http, &b, "bob@localhost").await;
    fund(&http, &a, &sim, "bob", 3_000_000).await;

    let alice_secret = credential(&http, &a, "alice@localhost").await;
    assert!(
        alice_secret.ends_with("@http://localhost/lndhub"),
        "{alice_secret}"
    );
    let a_base = format!("{}/lndhub", a.public_url());
    let mut alice = Wallet::import(&http, &alice_secret, Some(&a_base));
    let mut bob = Wallet::import(
        &http,
        &credential(&http, &b, "bob@localhost").await,
        Some(&format!("{}/lndhub", b.public_url())),
    );
    assert_eq!(alice.authorize().await.0, 200);
    assert_eq!(bob.authorize().await.0, 200);
    // A token made by one process opens the wallet on the other.
    let alice_b = on(&alice, &b);
    assert_eq!(alice_b.balance().await, 0);
    assert_eq!(on(&bob, &a).balance().await, 3_000);

    // addinvoice through a, paid by bob through b: inside the ledger.
    let pay_req = alice.add_invoice(2_000, "rent").await;
    let (status, paid) = bob.pay(&pay_req).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["fee_msat"], 0);
    wait_balance(&http, &a, "alice@localhost", 2_000_000).await;
    assert_eq!(bob.balance().await, 1_000);
    assert_eq!(sim.payments_started(), 0, "the node was not asked");
    let txs = on(&bob, &a).list("/gettxs?limit=10&offset=0").await;
    assert_eq!(txs.len(), 1);
    assert_eq!(txs[0]["value"], 2_000);
    let invoices = alice_b.list("/getuserinvoices").await;
    assert_eq!(invoices.len(), 1, "{invoices:?}");
    assert_eq!(invoices[0]["ispaid"], true);
    assert_eq!(invoices[0]["pay_req"], pay_req);

    // An external invoice through b: value with the fee.
    let (external, _) = foreign_invoice(Currency::Regtest, 300_000);
    let (status, paid) = alice_b.pay(&external).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["fee_msat"], 1_000);
    assert_eq!(
        balance(&http, &a, "alice@localhost").await,
        2_000_000 - 301_000
    );
    let txs = alice.list("/gettxs").await;
    assert_eq!(txs.len(), 1);
    assert_eq!(txs[0]["value"], 301);

    // Refresh on b spends the refresh token for a too.
    let old_refresh = alice.refresh_token.clone();
    let mut alice_b = on(&alice, &b);
    assert_eq!(alice_b.refresh().await.0, 200);
    let reuse = alice
        .send(
            reqwest::Method::POST,
            "/auth?type=refresh_token",
            Some(json!({"refresh_token": old_refresh})),
            None,
        )
        .await;
    assert_bad_auth(&reuse);
    assert_eq!(on(&alice_b, &a).balance().await, 1_699);

    // Revoked through a: b refuses the tokens at once.
    let revoke = format!("/api/v1/lndhub/{}", alice.login);
    let (status, _) = admin(&http, &a, reqwest::Method::DELETE, &revoke, None).await;
    assert_eq!(status, 200);
    assert_bad_auth(&alice_b.get("/balance").await);
    assert_bad_auth(&on(&alice_b, &a).get("/gettxs").await);
    assert_bad_auth(&alice_b.authorize().await);
    assert_eq!(bob.balance().await, 1_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_racing_payments_over_two_processes_pay_at_most_the_balance() {
    let redis = RedisServer::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let sim = LndSim::start(&tmp.path().join("lnd")).await.expect("sim");
    sim.set_payment_fee_msat(0);
    let http = client();
    let (a, b) = two_gateways(&http, tmp.path(), &redis.url(), &sim).await;
    create_account(&http, &a, "alice@localhost").await;
    fund(&http, &b, &sim, "alice", 100_000).await;
    let secret = credential(&http, &a, "alice@localhost").await;
    let mut alice = Wallet::import(&http, &secret, Some(&format!("{}/lndhub", a.public_url())));
    assert_eq!(alice.authorize().await.0, 200);
    let wallets = Arc::new([on(&alice, &a), on(&alice, &b)]);

    let mut jobs = tokio::task::JoinSet::new();
    for i in 0..30usize {
        let (pr, _) = foreign_invoice(Currency::Regtest, 10_000);
        let wallets = wallets.clone();
        jobs.spawn(async move { wallets[i % 2].pay(&pr).await });
    }
    let ok = count_paid(jobs).await;
    // 10 sat + 10 sat reserve each: 5 fit at once, at most 9 ever from 100 sat.
    assert!((5..=9).contains(&ok), "{ok} paid");
    assert_eq!(sim.payments_started(), ok);
    wait_balance(&http, &b, "alice@localhost", 100_000 - ok * 10_000).await;
}
