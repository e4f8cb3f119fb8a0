//! The payment engine on the LND backend (against the LND simulator): an external invoice paid
//! from an account through `SendPaymentV2` keeps the real routing fee and reveals the preimage;
//! a gateway `kill -9`ed while the payment is in flight ends it paid once, never twice and never
//! both paid and refunded; the same for an LndHub `payinvoice` in flight, and for an NWC
//! `pay_invoice` in flight, which the restarted gateway also answers.

mod lnd_sim;
mod support;

use std::time::Duration;

use lightning_invoice::Currency;
use lnd_sim::LndSim;
use serde_json::{Value, json};
use support::lnd_gateway::{Client, TOKEN, WAIT, process, process_with, started};
use support::lndhub::Wallet;
use support::nwc::RawClient;
use support::process::{GatewayProcess, wait_for};
use support::wallet::foreign_invoice;
use support::zaps::relay;

async fn fund(c: &Client, sim: &LndSim, amount: u64) {
    c.create_account("alice@localhost").await;
    c.fund("alice", amount, |pr| sim.settle(pr).expect("settle"))
        .await;
}

/// `kill -9`, then the same gateway again; answers once it is ready.
async fn kill_and_restart(g: &mut GatewayProcess, c: &Client) {
    g.restart();
    c.wait_ready().await;
}

/// Kills the gateway `g` while the payment `call` of a 30 sat invoice (`hash`) from Alice's
/// 100 sat waits in LND, restarts it, and checks that the payment ended paid once: the call died
/// with the process, the amount and LND's `fee` msat are gone, the rest of the reserve came back,
/// and LND was asked once.
async fn kill_while_in_flight<T>(
    g: &mut GatewayProcess,
    c: &Client,
    sim: &LndSim,
    call: tokio::task::JoinHandle<Result<T, reqwest::Error>>,
    hash: [u8; 32],
    fee: u64,
) {
    wait_for("the payment to reach LND", WAIT, || async {
        (sim.payments_started() == 1).then_some(())
    })
    .await;
    // 30 sat and the 10 sat minimum fee reserve are held.
    assert_eq!(
        c.balance("alice@localhost").await,
        100_000 - 30_000 - 10_000
    );
    kill_and_restart(g, c).await;
    assert!(
        call.await.expect("task").is_err(),
        "the call died with the process"
    );
    // Paid once: the amount and the real fee gone, the rest of the reserve back, and it stays so.
    c.wait_balance("alice@localhost", 100_000 - 30_000 - fee)
        .await;
    let shown = c
        .admin(&format!("/api/v1/payments/{}", hex::encode(hash)))
        .await;
    assert_eq!(shown["status"], "succeeded", "{shown}");
    assert_eq!(shown["fee_msat"], fee);
    assert_eq!(sim.payments_started(), 1, "never sent twice");
}

async fn pay(c: &Client, invoice: &str) -> Result<(u16, Value), reqwest::Error> {
    let resp = c
        .http
        .post(format!(
            "{}/api/v1/accounts/alice@localhost/payments",
            c.admin
        ))
        .bearer_auth(TOKEN)
        .json(&json!({"invoice": invoice}))
        .send()
        .await?;
    let status = resp.status().as_u16();
    Ok((status, resp.json().await.unwrap_or(Value::Null)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_external_payment_over_lnd_keeps_the_real_fee() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    sim.set_payment_fee_msat(1_500);
    let (gw, c) = started(&dir.path().join("gw"), &sim.lnd()).await;
    fund(&c, &sim, 200_000).await;
    let (pr, hash) = foreign_invoice(Currency::Regtest, 40_000);
    let (status, paid) = pay(&c, &pr).await.expect("pay");
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["status"], "succeeded", "{paid}");
    assert_eq!(paid["payment_hash"], hex::encode(hash));
    assert_eq!(paid["fee_msat"], 1_500);
    assert_eq!(paid["preimage"].as_str().expect("preimage").len(), 64);
    assert_eq!(c.balance("alice@localhost").await, 200_000 - 40_000 - 1_500);
    assert_eq!(sim.payments_started(), 1);
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_gateway_killed_mid_payment_ends_it_paid_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    let (mut g, c) = process(&dir.path().join("gw"), &sim.lnd()).await;
    fund(&c, &sim, 100_000).await;

    sim.delay_next_payments(1, Duration::from_secs(5));
    let (pr, hash) = foreign_invoice(Currency::Regtest, 30_000);
    let call = {
        let c = Client {
            http: c.http.clone(),
            public: c.public.clone(),
            admin: c.admin.clone(),
        };
        tokio::spawn(async move { pay(&c, &pr).await })
    };
    kill_while_in_flight(&mut g, &c, &sim, call, hash, 1_000).await;
}

/// The same through LndHub: BlueWallet's `payinvoice` in flight when the gateway is `kill -9`ed.
/// After the restart the payment ends paid once (the real fee kept, the rest of the reserve given
/// back once), the wallet shows it once, and the node was asked once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_lndhub_payinvoice_killed_mid_payment_ends_it_paid_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    sim.set_payment_fee_msat(2_000);
    let (mut g, c) = process(&dir.path().join("gw"), &sim.lnd()).await;
    let http = c.http.clone();
    fund(&c, &sim, 100_000).await;
    let made = c
        .http
        .post(format!(
            "{}/api/v1/accounts/alice@localhost/lndhub",
            c.admin
        ))
        .bearer_auth(TOKEN)
        .json(&json!({}))
        .send()
        .await
        .expect("lndhub credential");
    assert_eq!(made.status().as_u16(), 201);
    let made: Value = made.json().await.expect("json");
    let base = format!("{}/lndhub", c.public);
    let mut alice = Wallet::import(&http, made["url"].as_str().expect("url"), Some(&base));
    assert_eq!(alice.authorize().await.0, 200);
    assert_eq!(alice.balance().await, 100);

    sim.delay_next_payments(1, Duration::from_secs(5));
    let (pr, hash) = foreign_invoice(Currency::Regtest, 30_000);
    let call = {
        let (http, url, token, pr) = (
            http.clone(),
            format!("{base}/payinvoice"),
            alice.access_token.clone(),
            pr.clone(),
        );
        tokio::spawn(async move {
            http.post(url)
                .bearer_auth(token)
                .json(&json!({"invoice": pr, "amount": 0}))
                .send()
                .await
        })
    };
    kill_while_in_flight(&mut g, &c, &sim, call, hash, 2_000).await;
    // The access token outlived the process; the wallet shows the payment once, fee included.
    assert_eq!(alice.balance().await, 68);
    let txs = alice.list("/gettxs?limit=100").await;
    assert_eq!(txs.len(), 1, "{txs:?}");
    assert_eq!(txs[0]["value"], 32, "{txs:?}");
    assert_eq!(txs[0]["type"], "paid_invoice", "{txs:?}");
    assert_eq!(txs[0]["fee"], 2, "{txs:?}");
    // Paying it again takes nothing more (refused, or answered the one payment).
    let (_, again) = alice.pay(&pr).await;
    assert_ne!(again["fee_msat"], 4_000, "{again}");
    assert_eq!(c.balance("alice@localhost").await, 100_000 - 30_000 - 2_000);
    assert_eq!(sim.payments_started(), 1);
}

/// NIP-47 on a gateway `kill -9`ed while a `pay_invoice` is in flight: relays keep no requests, so
/// the restarted gateway finds the request in the store, finishes the same payment (LND asked
/// once), counts it once against the connection's budget and answers the client, which is still
/// listening, with the preimage.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_nwc_pay_invoice_killed_mid_payment_is_finished_and_answered() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    sim.set_payment_fee_msat(2_000);
    let (_relay, relay_url) = relay(0).await;
    let extra = vec![("LNADDR_NWC__RELAYS".to_string(), format!("[{relay_url:?}]"))];
    let (mut g, c) = process_with(&dir.path().join("gw"), &sim.lnd(), extra).await;
    fund(&c, &sim, 100_000).await;
    let made = c
        .http
        .post(format!("{}/api/v1/accounts/alice@localhost/nwc", c.admin))
        .bearer_auth(TOKEN)
        .json(&json!({"budget_msat": 60_000, "budget_renewal": "never"}))
        .send()
        .await
        .expect("nwc connection");
    assert_eq!(made.status().as_u16(), 201);
    let made: Value = made.json().await.expect("json");
    let uri = nwc::prelude::NostrWalletConnectURI::parse(made["uri"].as_str().expect("uri"))
        .expect("uri");
    let raw = std::sync::Arc::new(RawClient::new(&uri).await);
    // The wallet service listens.
    assert_eq!(
        raw.call(r#"{"method":"get_balance"}"#, true).await["result"]["balance"],
        100_000
    );

    sim.delay_next_payments(1, Duration::from_secs(5));
    let (pr, hash) = foreign_invoice(Currency::Regtest, 30_000);
    let request = raw.request(
        &json!({"method": "pay_invoice", "params": {"invoice": pr}}).to_string(),
        true,
        vec![],
    );
    let answers = {
        let (raw, request) = (raw.clone(), request.clone());
        tokio::spawn(async move {
            raw.collect(&raw.keys, &request, 1, Duration::from_secs(120))
                .await
        })
    };
    wait_for("the payment to reach LND", WAIT, || async {
        (sim.payments_started() == 1).then_some(())
    })
    .await;
    kill_and_restart(&mut g, &c).await;

    let answers = answers.await.expect("task");
    assert_eq!(answers.len(), 1, "answered after the restart");
    let answer = &answers[0].0;
    assert!(answer["error"].is_null(), "{answer}");
    assert_eq!(answer["result_type"], "pay_invoice");
    assert_eq!(answer["result"]["fees_paid"], 2_000, "{answer}");
    // The preimage LND reported for the payment.
    let shown = c
        .admin(&format!("/api/v1/payments/{}", hex::encode(hash)))
        .await;
    assert_eq!(shown["status"], "succeeded", "{shown}");
    assert_eq!(answer["result"]["preimage"], shown["preimage"], "{shown}");
    assert_eq!(shown["preimage"].as_str().map(str::len), Some(64));
    assert_eq!(sim.payments_started(), 1, "never sent twice");
    c.wait_balance("alice@localhost", 100_000 - 30_000 - 2_000)
        .await;
    // The budget counts the payment and its fee once.
    let listed = c.admin("/api/v1/accounts/alice@localhost/nwc").await;
    let conn = &listed[0];
    assert_eq!(conn["budget_used_msat"], 32_000, "{conn}");
    // Sent again, the request is answered the same and pays nothing more.
    let again = raw.send(&request, 1).await;
    assert_eq!(&again[0].0, answer);
    assert_eq!(sim.payments_started(), 1);
    assert_eq!(c.balance("alice@localhost").await, 100_000 - 30_000 - 2_000);
}
