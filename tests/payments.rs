//! The payment engine through the admin API (`POST /api/v1/accounts/{address}/payments`) and the
//! CLI (`lnaddr pay`), on the fake node: an external invoice keeps the real fee and reveals the
//! preimage; an internal one settles inside the ledger; an idempotency key never pays twice;
//! every refusal changes nothing; 30 racing payments on one balance pay at most what it covers
//! (embedded, and Redis with two gateways).

mod support;

use std::time::Duration;

use futures_util::future::join_all;
use lightning_invoice::Currency;
use reqwest::Method;
use serde_json::{Value, json};
use support::gateway::TestGateway;
use support::process::{GatewayProcess, wait_for};
use support::redis_server::RedisServer;
use support::wallet::{foreign_invoice, foreign_invoice_at, forged_invoice};

fn gateway_env(url: &str, store_env: Vec<(String, String)>) -> Vec<(String, String)> {
    store_env
        .into_iter()
        .chain([
            (
                "LNADDR_DOMAINS".to_string(),
                format!(r#"[{{name="localhost", public_url="{url}"}}]"#),
            ),
            (
                "LNADDR_PAYMENTS__MAX_PAYMENT_MSAT".to_string(),
                "500000".to_string(),
            ),
        ])
        .collect()
}

async fn funded(
    dir: &std::path::Path,
    store_env: Vec<(String, String)>,
    balance: u64,
) -> TestGateway {
    let gw = TestGateway::start_with(dir, |url| gateway_env(url, store_env)).await;
    gw.fund("alice", balance).await;
    gw
}

async fn pay(gw: &TestGateway, body: Value) -> (u16, Value) {
    gw.admin(
        Method::POST,
        "/api/v1/accounts/alice@localhost/payments",
        Some(body),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_external_payment_keeps_the_real_fee_and_is_never_sent_twice() {
    let dir = tempfile::tempdir().expect("tmp");
    let gw = funded(dir.path(), Vec::new(), 100_000).await;
    gw.fake()
        .payments
        .set_fee(lnaddr::types::Msat::from_msat(1_234));
    let (pr, hash) = foreign_invoice(Currency::Regtest, 20_000);
    let (status, paid) = pay(&gw, json!({"invoice": pr, "idempotency_key": "order-1"})).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["status"], "succeeded");
    assert_eq!(paid["payment_hash"], hex::encode(hash));
    assert_eq!(paid["amount_msat"], 20_000);
    assert_eq!(paid["fee_msat"], 1_234);
    assert_eq!(paid["preimage"].as_str().expect("preimage").len(), 64);
    assert_eq!(
        gw.balance("alice@localhost").await,
        100_000 - 20_000 - 1_234
    );

    // The same key again: the same payment, nothing sent or debited again.
    let (status, again) = pay(&gw, json!({"invoice": pr, "idempotency_key": "order-1"})).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again, paid);
    assert_eq!(
        gw.balance("alice@localhost").await,
        100_000 - 20_000 - 1_234
    );
    // The key names that payment for good: another invoice under it is refused.
    let (other, _) = foreign_invoice(Currency::Regtest, 1_000);
    let (status, body) = pay(&gw, json!({"invoice": other, "idempotency_key": "order-1"})).await;
    assert_eq!(status, 409, "{body}");
    // Without a key, the same invoice again is one already paid: refused.
    let (status, body) = pay(&gw, json!({"invoice": pr})).await;
    assert_eq!(status, 409, "{body}");
    let (status, shown) = gw
        .admin(
            Method::GET,
            &format!("/api/v1/payments/{}", hex::encode(hash)),
            None,
        )
        .await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown, paid);
    assert_eq!(
        gw.balance("alice@localhost").await,
        100_000 - 20_000 - 1_234
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_invoice_of_this_gateway_is_paid_inside_the_ledger() {
    let dir = tempfile::tempdir().expect("tmp");
    let gw = funded(dir.path(), Vec::new(), 100_000).await;
    gw.create_account("bob@localhost").await;
    let bill = gw.invoice("bob", 30_000).await;
    let (status, paid) = pay(&gw, json!({"invoice": bill["pr"]})).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["status"], "succeeded");
    assert_eq!(paid["internal"], true);
    assert_eq!(paid["fee_msat"], 0);
    assert!(paid["preimage"].is_null(), "{paid}");
    assert_eq!(gw.balance("alice@localhost").await, 70_000);
    gw.wait_balance("bob@localhost", 30_000).await;
}

/// Every refusal answers a clear error and changes nothing.
async fn refusals_change_nothing(gw: &TestGateway) {
    gw.create_account("bob@localhost").await;
    let own = gw.invoice("alice", 1_000).await;
    let bill = gw.invoice("bob", 5_000).await;
    let bill_hash: [u8; 32] = hex::decode(
        bill["verify"]
            .as_str()
            .expect("verify")
            .rsplit('/')
            .next()
            .expect("hash"),
    )
    .expect("hex")
    .try_into()
    .expect("32");
    let now = lnaddr::types::unix_now();
    let (expired, _) = foreign_invoice_at(Currency::Regtest, Some(1_000), now - 7_200, 3_600);
    let (amountless, _) = foreign_invoice_at(Currency::Regtest, None, now, 3_600);
    let (mainnet, _) = foreign_invoice(Currency::Bitcoin, 1_000);
    let (big, _) = foreign_invoice(Currency::Regtest, 600_000);
    let (costly, _) = foreign_invoice(Currency::Regtest, 95_000);
    let (fixed, _) = foreign_invoice(Currency::Regtest, 2_000);
    let cases = [
        (json!({"invoice": own["pr"]}), "own"),
        (json!({"invoice": expired}), "expired"),
        (json!({"invoice": amountless}), "no amount"),
        (
            json!({"invoice": amountless, "amount_msat": 0}),
            "at least 1 msat",
        ),
        (json!({"invoice": fixed, "amount_msat": 3_000}), "differs"),
        (json!({"invoice": mainnet}), "network"),
        (json!({"invoice": "lnbcrt1notaninvoice"}), "not a valid"),
        (
            json!({"invoice": forged_invoice(Currency::Regtest, 1_000, bill_hash)}),
            "payment hash",
        ),
        (json!({"invoice": big}), "largest payment"),
        (json!({"invoice": costly}), "balance"),
        (
            json!({"invoice": fixed, "idempotency_key": ""}),
            "idempotency key",
        ),
    ];
    for (body, reason) in cases {
        let (status, answer) = pay(gw, body.clone()).await;
        assert_eq!(status, 400, "{body} → {answer}");
        assert!(
            answer["reason"].as_str().expect("reason").contains(reason),
            "{body} → {answer}, expected {reason:?}"
        );
    }
    assert_eq!(gw.balance("alice@localhost").await, 100_000);
    assert_eq!(gw.balance("bob@localhost").await, 0);
    assert!(
        gw.transactions("alice@localhost")
            .await
            .iter()
            .all(|t| t["kind"] != "debit")
    );
    // An invoice paid already is refused too.
    let (status, body) = gw.fake_pay(bill["pr"].as_str().expect("pr")).await;
    assert_eq!(status, 200, "{body}");
    gw.wait_balance("bob@localhost", 5_000).await;
    let (status, answer) = pay(gw, json!({"invoice": bill["pr"]})).await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["reason"]
            .as_str()
            .expect("reason")
            .contains("already paid"),
        "{answer}"
    );
    assert_eq!(gw.balance("alice@localhost").await, 100_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refusals_change_nothing_on_embedded() {
    let dir = tempfile::tempdir().expect("tmp");
    let gw = funded(dir.path(), Vec::new(), 100_000).await;
    refusals_change_nothing(&gw).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refusals_change_nothing_on_redis() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().expect("tmp");
    let gw = funded(dir.path(), redis.store_env(), 100_000).await;
    refusals_change_nothing(&gw).await;
}

/// 30 payments of 10,000 msat (each reserving 10,000 more for fees) race on 100,000 msat, spread
/// over `gateways`: at most what the balance covers is paid, and the balance ends exact.
async fn racing_payments(gateways: &[&TestGateway]) {
    let invoices: Vec<String> = (0..30)
        .map(|_| foreign_invoice(Currency::Regtest, 10_000).0)
        .collect();
    let answers = join_all(invoices.iter().enumerate().map(|(i, pr)| {
        let gw = gateways[i % gateways.len()];
        async move { pay(gw, json!({"invoice": pr})).await }
    }))
    .await;
    let ok: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, b)| b)
        .collect();
    for (status, body) in &answers {
        assert!(
            *status == 200
                || (*status == 400
                    && body["reason"]
                        .as_str()
                        .is_some_and(|r| r.contains("balance"))),
            "{status} {body}"
        );
    }
    // Each reserves 20,000 and, paid with no fee, gets 10,000 of it back: at most ten fit.
    assert!(!ok.is_empty() && ok.len() <= 10, "{} paid", ok.len());
    let spent: u64 = ok
        .iter()
        .map(|p| {
            assert_eq!(p["status"], "succeeded", "{p}");
            p["amount_msat"].as_u64().expect("amount") + p["fee_msat"].as_u64().expect("fee")
        })
        .sum();
    assert!(spent <= 100_000);
    gateways[0]
        .wait_balance("alice@localhost", 100_000 - spent)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_payments_pay_at_most_the_balance_on_embedded() {
    let dir = tempfile::tempdir().expect("tmp");
    let gw = funded(dir.path(), Vec::new(), 100_000).await;
    racing_payments(&[&gw]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_payments_pay_at_most_the_balance_on_redis_with_two_gateways() {
    let redis = RedisServer::start();
    let (d1, d2) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let first = funded(d1.path(), redis.store_env(), 100_000).await;
    let env = redis.store_env();
    let second = TestGateway::start_with(d2.path(), |url| gateway_env(url, env)).await;
    racing_payments(&[&first, &second]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cli_pays_an_invoice() {
    let dir = tempfile::tempdir().expect("tmp");
    let g = GatewayProcess::start(dir.path(), &[]);
    let http = reqwest::Client::new();
    g.wait_healthy(&http, Duration::from_secs(20)).await;
    let cli = |args: &[&str]| {
        let out = g.cli(args);
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let alice = format!("alice@localhost:{}", g.public_port);
    assert!(cli(&["account", "add", &alice]).0);
    let callback: Value = http
        .get(format!(
            "{}/lnurlp/alice/callback?amount=50000",
            g.public_url()
        ))
        .send()
        .await
        .expect("callback")
        .json()
        .await
        .expect("json");
    assert!(cli(&["fake", "pay", callback["pr"].as_str().expect("pr")]).0);
    let (pr, hash) = foreign_invoice(Currency::Regtest, 20_000);
    wait_for("alice funded", Duration::from_secs(10), || async {
        let (ok, out, _) = cli(&["account", "show", &alice]);
        (ok && out.contains("50000")).then_some(())
    })
    .await;
    let (ok, out, err) = cli(&["pay", &alice, &pr]);
    assert!(ok, "{err}");
    let paid: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(paid["status"], "succeeded", "{paid}");
    assert_eq!(paid["payment_hash"], hex::encode(hash));
    // A refusal is an error exit with the reason.
    let (ok, _, err) = cli(&["pay", &alice, &pr]);
    assert!(!ok);
    assert!(err.contains("already being paid"), "{err}");
}

fn limits_env(url: &str, store_env: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut env = gateway_env(url, store_env);
    env.extend([
        (
            "LNADDR_PAYMENTS__ACCOUNT_DAILY_LIMIT_MSAT".to_string(),
            "50000".to_string(),
        ),
        (
            "LNADDR_PAYMENTS__DOMAIN_DAILY_LIMIT_MSAT".to_string(),
            "80000".to_string(),
        ),
    ]);
    env
}

async fn pay_from(gw: &TestGateway, address: &str, body: Value) -> (u16, Value) {
    gw.admin(
        Method::POST,
        &format!("/api/v1/accounts/{address}/payments"),
        Some(body),
    )
    .await
}

/// Pays a new invoice of another node for `msat` from `address`.
async fn pay_foreign(gw: &TestGateway, address: &str, msat: u64) -> (u16, Value) {
    let pr = foreign_invoice(Currency::Regtest, msat).0;
    pay_from(gw, address, json!({"invoice": pr})).await
}

/// A refusal (400) whose reason says `why`.
fn assert_refused(status: u16, body: &Value, why: &str) {
    assert_eq!(status, 400, "{body}");
    assert!(
        body["reason"].as_str().expect("reason").contains(why),
        "{body}"
    );
}

/// Daily totals per account and per domain: a payment above what is left is refused with a clear
/// reason and changes nothing; a failed payment does not count.
async fn daily_limits(gw: &TestGateway) {
    gw.fund("alice", 200_000).await;
    gw.fund("carol", 200_000).await;
    let paid = |s: u16, b: &Value| s == 200 && b["status"] == "succeeded";
    let (s, b) = pay_foreign(gw, "alice@localhost", 30_000).await;
    assert!(paid(s, &b), "{s} {b}");
    let before = gw.balance("alice@localhost").await;
    // 30,000 + 30,000 is above alice's 50,000 a day.
    let (s, b) = pay_foreign(gw, "alice@localhost", 30_000).await;
    assert_refused(s, &b, "the account's daily spending limit");
    assert_eq!(gw.balance("alice@localhost").await, before);
    // A payment that fails gives its amount back to the daily totals.
    gw.fail_next_payments(1).await;
    let (s, b) = pay_foreign(gw, "alice@localhost", 20_000).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["status"], "failed", "{b}");
    // The give-back follows the finish: the next 20,000 (30,000 + 20,000 = the limit) goes
    // through once it has happened; each refusal before that changed nothing.
    let last = foreign_invoice(Currency::Regtest, 20_000).0;
    wait_for(
        "the failed payment's give-back",
        Duration::from_secs(10),
        || async {
            let (s, b) = pay_from(gw, "alice@localhost", json!({"invoice": last})).await;
            paid(s, &b).then_some(())
        },
    )
    .await;
    // alice spent 50,000 of the domain's 80,000: carol may spend 30,000 more, not a msat above.
    let (s, b) = pay_foreign(gw, "carol@localhost", 30_001).await;
    assert_refused(s, &b, "the domain's daily spending limit");
    assert_eq!(gw.balance("carol@localhost").await, 200_000);
    let (s, b) = pay_foreign(gw, "carol@localhost", 30_000).await;
    assert!(paid(s, &b), "{s} {b}");
    let (s, b) = pay_foreign(gw, "carol@localhost", 1_000).await;
    assert_refused(s, &b, "daily spending limit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn daily_limits_per_account_and_domain_on_embedded() {
    let dir = tempfile::tempdir().expect("tmp");
    let gw = TestGateway::start_with(dir.path(), |url| limits_env(url, Vec::new())).await;
    daily_limits(&gw).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn daily_limits_per_account_and_domain_on_redis() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().expect("tmp");
    let env = redis.store_env();
    let gw = TestGateway::start_with(dir.path(), |url| limits_env(url, env)).await;
    daily_limits(&gw).await;
}

/// 12 payments of 10,000 race on an account whose balance covers them all but whose daily
/// limit is 50,000, over two gateways on one Redis: at most five are paid.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_payments_stay_within_the_daily_limit_on_redis_with_two_gateways() {
    let redis = RedisServer::start();
    let (d1, d2) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let env = redis.store_env();
    let first = TestGateway::start_with(d1.path(), |url| limits_env(url, env)).await;
    first.fund("alice", 400_000).await;
    let env = redis.store_env();
    let second = TestGateway::start_with(d2.path(), |url| limits_env(url, env)).await;
    let gateways = [&first, &second];
    let answers = join_all((0..12).map(|i| {
        let gw = gateways[i % 2];
        async move {
            let pr = foreign_invoice(Currency::Regtest, 10_000).0;
            pay_from(gw, "alice@localhost", json!({"invoice": pr})).await
        }
    }))
    .await;
    let mut ok = 0;
    for (status, body) in &answers {
        if *status == 200 {
            assert_eq!(body["status"], "succeeded", "{body}");
            ok += 1;
        } else {
            assert_eq!(*status, 400, "{body}");
            assert!(
                body["reason"]
                    .as_str()
                    .is_some_and(|r| r.contains("daily spending limit")),
                "{body}"
            );
        }
    }
    assert_eq!(ok, 5, "{answers:?}");
    assert_eq!(first.balance("alice@localhost").await, 400_000 - 50_000);
}
