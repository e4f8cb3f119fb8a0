//! LNURL-withdraw (LUD-03) on the LND backend against the LND simulator: payments go out through
//! `Router.SendPaymentV2` with the fee reserve as the fee limit and keep the real fee; a failed
//! payment is refunded; a gateway stopped while a payment is in flight settles it on restart with
//! `TrackPaymentV2`, and so does a gateway process killed with `kill -9`.

mod lnd_sim;
mod support;

use std::time::Duration;

use lightning_invoice::Currency;
use lnd_sim::LndSim;
use lnurl::withdraw::WithdrawalResponse;
use reqwest::Method;
use serde_json::{Value, json};
use support::lnd_gateway::{Client, WAIT, process, started, started_with};
use support::process::wait_for;
use support::wallet::{foreign_invoice, withdraw, withdraw_request};

async fn create_link(c: &Client, body: Value) -> Value {
    let path = "/api/v1/accounts/alice@localhost/withdraw-links";
    let (status, link) = c.admin_send(Method::POST, path, Some(body)).await;
    assert_eq!(status, 201);
    link
}

/// A new link of alice's, opened as a wallet opens it.
async fn open_link(c: &Client, body: Value) -> WithdrawalResponse {
    let link = create_link(c, body).await;
    withdraw_request(link["lnurl"].as_str().expect("lnurl")).await
}

/// The payment hash a verify URL names.
fn hash_of(verify: &str) -> [u8; 32] {
    hex::decode(verify.rsplit('/').next().expect("hash"))
        .expect("hex")
        .try_into()
        .expect("32 bytes")
}

/// Waits until the node has started `n` payments.
async fn wait_started(sim: &LndSim, n: u64) {
    wait_for("the payment to reach LND", WAIT, || async {
        (sim.payments_started() == n).then_some(())
    })
    .await;
}

/// After a restart: the 30,000 msat withdrawal in flight ended paid once, with its real fee.
async fn assert_settled_once(c: &Client, sim: &LndSim) {
    c.wait_balance("alice@localhost", 100_000 - 30_000 - 1_000)
        .await;
    let paid = wait_for("settled debit", WAIT, || debit(c, "settled")).await;
    assert_eq!(paid["fee_msat"], 1_000);
    assert_eq!(sim.payments_started(), 1, "never sent twice");
}

async fn debit(c: &Client, status: &str) -> Option<Value> {
    c.admin("/api/v1/accounts/alice@localhost/transactions")
        .await
        .as_array()
        .expect("array")
        .iter()
        .find(|t| t["kind"] == "debit" && t["status"] == status)
        .cloned()
}

/// Funds alice with `amount` msat paid to her Lightning Address on the simulator.
async fn fund(c: &Client, sim: &LndSim, amount: u64) {
    c.create_account("alice@localhost").await;
    c.fund("alice", amount, |pr| sim.settle(pr).expect("settle"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn withdrawal_over_lnd_keeps_the_real_fee_and_refunds_failures() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    sim.set_payment_fee_msat(1_500);
    let (gw, c) = started(&dir.path().join("gw"), &sim.lnd()).await;
    fund(&c, &sim, 200_000).await;

    let w = open_link(&c, json!({"max_msat": 50_000, "uses": 2})).await;
    let (pr, _) = foreign_invoice(Currency::Regtest, 40_000);
    assert_eq!(withdraw(&w, &pr).await["status"], "OK");
    c.wait_balance("alice@localhost", 200_000 - 40_000 - 1_500)
        .await;
    let paid = wait_for("settled debit", WAIT, || debit(&c, "settled")).await;
    assert_eq!(paid["fee_msat"], 1_500);

    // The node cannot route the next one: everything comes back, and so does the use.
    sim.fail_next_payments(1);
    let (pr, _) = foreign_invoice(Currency::Regtest, 40_000);
    assert_eq!(withdraw(&w, &pr).await["status"], "OK");
    wait_for("failed debit", WAIT, || debit(&c, "failed")).await;
    c.wait_balance("alice@localhost", 158_500).await;
    let shown = c.admin(&format!("/api/v1/withdraw-links/{}", w.k1)).await;
    assert_eq!(shown["uses_left"], 1);

    // An invoice for another network is refused before anything moves.
    let (mainnet, _) = foreign_invoice(Currency::Bitcoin, 10_000);
    assert_eq!(withdraw(&w, &mainnet).await["status"], "ERROR");
    assert_eq!(c.balance("alice@localhost").await, 158_500);
    gw.shutdown().await;
}

/// Funds alice with 100,000 msat, then pays bob's 30,000 msat invoice (an invoice of this
/// gateway) from her withdraw link; answers the invoice and its hash once both balances show it.
async fn withdraw_to_bob(c: &Client, sim: &LndSim) -> (String, [u8; 32]) {
    fund(c, sim, 100_000).await;
    c.create_account("bob@localhost").await;
    let (pr, verify, _) = c.invoice("bob", 30_000).await;
    let hash = hash_of(&verify);
    let w = open_link(c, json!({"max_msat": 50_000})).await;
    assert_eq!(withdraw(&w, &pr).await["status"], "OK");
    c.wait_balance("bob@localhost", 30_000).await;
    c.wait_balance("alice@localhost", 70_000).await;
    (pr, hash)
}

/// A withdrawal to an invoice of this gateway moves money inside the ledger and cancels the
/// invoice on LND (`invoicesrpc.CancelInvoice`), so the network can no longer pay it as well.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_internal_withdrawal_cancels_the_invoice_on_lnd() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    let (gw, c) = started(&dir.path().join("gw"), &sim.lnd()).await;
    let (pr, hash) = withdraw_to_bob(&c, &sim).await;
    wait_for("the invoice cancelled on LND", WAIT, || async {
        let state = sim.invoice(&hash).expect("known to LND").state;
        (state == lnaddr::lightning::lnd::proto::lnrpc::invoice::InvoiceState::Canceled as i32)
            .then_some(())
    })
    .await;
    assert!(sim.settle(&pr).is_err(), "the network cannot pay it now");
    assert_eq!(sim.payments_started(), 0, "LND was never asked to pay");
    assert_eq!(c.balance("bob@localhost").await, 30_000);
    gw.shutdown().await;
}

/// Rule 3: the cancel on the node comes before the credit. While LND cannot confirm it, the
/// internal payment waits (nothing credited); when the network pays the invoice meanwhile, that
/// payment is what is credited and the withdrawal is refunded. Redis and embedded.
async fn an_internal_withdrawal_waits_for_the_cancel(store_env: Vec<(String, String)>) {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    let (gw, c) = started_with(&dir.path().join("gw"), &sim.lnd(), store_env).await;
    fund(&c, &sim, 100_000).await;
    c.create_account("bob@localhost").await;
    sim.set_cancels_unavailable(true);

    // First payment: it waits while the node cannot cancel, and completes once it can.
    let (pr, verify, _) = c.invoice("bob", 30_000).await;
    let hash = hash_of(&verify);
    let w = open_link(&c, json!({"max_msat": 50_000, "uses": 2})).await;
    assert_eq!(withdraw(&w, &pr).await["status"], "OK");
    let calls = sim.cancel_calls();
    wait_for("the payer to retry the cancel", WAIT, || async {
        (sim.cancel_calls() > calls + 1).then_some(())
    })
    .await;
    assert_eq!(
        c.balance("bob@localhost").await,
        0,
        "no credit before the cancel"
    );
    assert!(debit(&c, "pending").await.is_some());
    sim.set_cancels_unavailable(false);
    c.wait_balance("bob@localhost", 30_000).await;
    c.wait_balance("alice@localhost", 70_000).await;
    let canceled = lnaddr::lightning::lnd::proto::lnrpc::invoice::InvoiceState::Canceled as i32;
    assert_eq!(sim.invoice(&hash).expect("known").state, canceled);

    // Second: the network pays the invoice while the cancel cannot be confirmed.
    sim.set_cancels_unavailable(true);
    let (pr, _, _) = c.invoice("bob", 20_000).await;
    assert_eq!(withdraw(&w, &pr).await["status"], "OK");
    c.wait_balance("alice@localhost", 50_000).await;
    sim.settle(&pr).expect("the network pays it");
    c.wait_balance("bob@localhost", 50_000).await;
    sim.set_cancels_unavailable(false);
    wait_for("the withdrawal refunded", WAIT, || debit(&c, "failed")).await;
    c.wait_balance("alice@localhost", 70_000).await;
    assert_eq!(
        c.balance("bob@localhost").await,
        50_000,
        "credited once, by the network"
    );
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_internal_withdrawal_waits_for_the_cancel_on_redis() {
    let redis = support::redis_server::RedisServer::start();
    an_internal_withdrawal_waits_for_the_cancel(redis.store_env()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_internal_withdrawal_waits_for_the_cancel_on_embedded() {
    an_internal_withdrawal_waits_for_the_cancel(Vec::new()).await;
}

/// With Redis, a process that starts resumes every pending withdrawal, also one that another
/// process has just reserved and not sent yet. The node has not heard of it, but that is no reason
/// to refund it: a moment later the other process sends it, and the resumed one must end as paid,
/// not refunded and paid.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_starting_process_does_not_refund_a_withdrawal_another_is_sending() {
    use lnaddr::lightning::lnd::{LndConfig, LndNode};
    use lnaddr::lightning::{LightningNode, PaymentRequest};
    use lnaddr::store::redis::RedisStore;
    use lnaddr::store::{Reservation, ReserveOutcome, WithdrawStore};
    use lnaddr::types::{Msat, PaymentHash, unix_now};

    let redis = support::redis_server::RedisServer::start();
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    let (first, c) = started_with(&dir.path().join("gw1"), &sim.lnd(), redis.store_env()).await;
    fund(&c, &sim, 100_000).await;
    let link = create_link(&c, json!({"max_msat": 50_000})).await;
    first.shutdown().await;

    // "Another process" reserves a withdrawal; it has not called SendPaymentV2 yet.
    let store = RedisStore::connect(&redis.url()).await.expect("connect");
    let (pr, hash) = foreign_invoice(Currency::Regtest, 40_000);
    let reservation = Reservation {
        k1: link["k1"].as_str().expect("k1").to_string(),
        payment_hash: PaymentHash(hash),
        bolt11: pr.clone(),
        amount: Msat::from_msat(40_000),
        fee_reserve: Msat::from_msat(10_000),
        internal: false,
        title: None,
        now: unix_now(),
    };
    assert!(matches!(
        store
            .reserve_withdrawal(&reservation)
            .await
            .expect("reserve"),
        ReserveOutcome::Reserved(_)
    ));

    // A gateway starts, resumes it, and asks the node, which has never heard of it.
    let tracks_before = sim.track_calls();
    let (second, c) = started_with(&dir.path().join("gw2"), &sim.lnd(), redis.store_env()).await;
    wait_for("the resumed withdrawal tracked", WAIT, || async {
        (sim.track_calls() > tracks_before).then_some(())
    })
    .await;

    // Now the other process sends it.
    let sender = LndNode::connect(&LndConfig {
        endpoint: sim.endpoint(),
        tls_cert: sim.cert_path(),
        macaroon: sim.macaroon_path(),
        private_route_hints: false,
    })
    .await
    .expect("connect to LND");
    sender
        .pay_invoice(PaymentRequest {
            bolt11: pr,
            amount: None,
            fee_limit: Msat::from_msat(10_000),
            timeout_secs: 30,
        })
        .await
        .expect("paid");

    let paid = wait_for("the withdrawal finished", WAIT, || async {
        debit(&c, "settled").await.or(debit(&c, "failed").await)
    })
    .await;
    assert_eq!(paid["status"], "settled", "{paid}");
    assert_eq!(paid["fee_msat"], 1_000);
    c.wait_balance("alice@localhost", 100_000 - 40_000 - 1_000)
        .await;
    assert_eq!(sim.payments_started(), 1, "sent once, by the other process");
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_payment_in_flight_at_shutdown_settles_on_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    let (gw, c) = started(&dir.path().join("gw"), &sim.lnd()).await;
    fund(&c, &sim, 100_000).await;
    let w = open_link(&c, json!({"max_msat": 50_000})).await;

    sim.delay_next_payments(1, Duration::from_secs(4));
    let (pr, _) = foreign_invoice(Currency::Regtest, 30_000);
    assert_eq!(withdraw(&w, &pr).await["status"], "OK");
    wait_started(&sim, 1).await;
    // Reserved: amount + the 10 sat minimum fee reserve.
    assert_eq!(
        c.balance("alice@localhost").await,
        100_000 - 30_000 - 10_000
    );
    assert!(debit(&c, "pending").await.is_some());
    gw.shutdown().await;

    let (gw, c) = started(&dir.path().join("gw"), &sim.lnd()).await;
    assert_settled_once(&c, &sim).await;
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_gateway_killed_mid_payment_settles_it_on_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    let (mut g, c) = process(&dir.path().join("gw"), &sim.lnd()).await;
    fund(&c, &sim, 100_000).await;
    let w = open_link(&c, json!({"max_msat": 50_000})).await;

    sim.delay_next_payments(1, Duration::from_secs(5));
    let (pr, _) = foreign_invoice(Currency::Regtest, 30_000);
    assert_eq!(withdraw(&w, &pr).await["status"], "OK");
    wait_started(&sim, 1).await;
    assert_eq!(c.balance("alice@localhost").await, 60_000);
    g.restart(); // kill -9, then the same gateway again
    c.wait_ready().await;
    assert_settled_once(&c, &sim).await;
}
