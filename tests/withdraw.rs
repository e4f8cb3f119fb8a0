//! LNURL-withdraw (LUD-03) end to end on the fake node and the embedded store, with lnurl-rs as
//! the wallet: the full flow with another node's invoice (amount plus the real fee debited), races
//! on single- and multi-use links, refunds on failure, every refusal changing nothing, internal
//! invoices settled inside the ledger, the voucher page and its QR codes.

mod support;

use std::time::Duration;

use futures_util::future::join_all;
use lightning_invoice::Currency;
use lnaddr::types::{Msat, PaymentHash};
use reqwest::Method;
use serde_json::{Value, json};
use support::gateway::TestGateway;
use support::process::wait_for;
use support::wallet::{foreign_invoice, foreign_invoice_at, withdraw, withdraw_request};

const WAIT: Duration = Duration::from_secs(10);

/// A gateway with alice holding `balance` msat (paid through her Lightning Address).
async fn funded(dir: &std::path::Path, balance: u64) -> TestGateway {
    let gw = TestGateway::start(dir).await;
    gw.fund("alice", balance).await;
    gw
}

async fn create_link(gw: &TestGateway, body: Value) -> Value {
    gw.create_link("alice@localhost", body).await
}

async fn link(gw: &TestGateway, k1: &str) -> Value {
    let (status, link) = gw
        .admin(Method::GET, &format!("/api/v1/withdraw-links/{k1}"), None)
        .await;
    assert_eq!(status, 200, "{link}");
    link
}

async fn debits(gw: &TestGateway) -> Vec<Value> {
    gw.transactions("alice@localhost")
        .await
        .into_iter()
        .filter(|t| t["kind"] == "debit")
        .collect()
}

/// Alice's first debit with `status`, once there is one.
async fn wait_debit(gw: &TestGateway, status: &str) -> Value {
    wait_for(&format!("a {status} debit"), WAIT, || async {
        debits(gw).await.into_iter().find(|t| t["status"] == status)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn full_flow_pays_another_nodes_invoice_with_the_real_fee() {
    let dir = tempfile::tempdir().expect("tmp");
    let gw = funded(dir.path(), 100_000).await;
    gw.fake().payments.set_fee(Msat::from_msat(1_234));
    let created = create_link(
        &gw,
        json!({"min_msat": 1_000, "max_msat": 50_000, "uses": 1, "title": "Coffee"}),
    )
    .await;
    let lnurl = created["lnurl"].as_str().expect("lnurl");
    assert!(lnurl.starts_with("LNURL1"), "{created}");
    assert_eq!(created["uses_left"], 1);
    assert!(
        created["lnurlw"]
            .as_str()
            .expect("lnurlw")
            .starts_with("lnurlw://")
    );

    let w = withdraw_request(lnurl).await;
    assert_eq!(w.k1, created["k1"].as_str().expect("k1"));
    assert_eq!(w.max_withdrawable, 50_000);
    assert_eq!(w.min_withdrawable, Some(1_000));
    assert_eq!(w.default_description, "Coffee");
    assert!(w.callback.ends_with("/callback"));

    let (pr, hash) = foreign_invoice(Currency::Regtest, 20_000);
    let client = lnurl::AsyncClient::from_client(reqwest::Client::new());
    let answer = client.do_withdrawal(&w, &pr).await;
    assert!(
        matches!(answer, Ok(lnurl::api::Response::Ok(()))),
        "{answer:?}"
    );
    gw.wait_balance("alice@localhost", 100_000 - 20_000 - 1_234)
        .await;
    let debit = wait_debit(&gw, "settled").await;
    assert_eq!(debit["amount_msat"], 20_000);
    assert_eq!(debit["fee_msat"], 1_234);
    assert_eq!(debit["payment_hash"], hex::encode(hash));
    assert_eq!(debit["comment"], "Coffee");
    assert_eq!(link(&gw, &w.k1).await["uses_left"], 0);

    // Used up: a second invoice changes nothing.
    let (pr2, _) = foreign_invoice(Currency::Regtest, 1_000);
    let answer = withdraw(&w, &pr2).await;
    assert_eq!(answer["status"], "ERROR", "{answer}");
    assert_eq!(gw.balance("alice@localhost").await, 78_766);
}

/// 50 wallets race on one link with 50 different invoices.
async fn race(gw: &TestGateway, w: &lnurl::withdraw::WithdrawalResponse, amount: u64) -> usize {
    let answers = join_all((0..50).map(|_| {
        let (pr, _) = foreign_invoice(Currency::Regtest, amount);
        async move { withdraw(w, &pr).await }
    }))
    .await;
    for a in &answers {
        assert!(a["status"] == "OK" || a["status"] == "ERROR", "{a}");
    }
    let _ = gw;
    answers.iter().filter(|a| a["status"] == "OK").count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_callbacks_pay_at_most_uses_times() {
    let dir = tempfile::tempdir().expect("tmp");
    let gw = funded(dir.path(), 1_000_000).await;

    let single = create_link(&gw, json!({"max_msat": 10_000, "uses": 1})).await;
    let w = withdraw_request(single["lnurl"].as_str().expect("lnurl")).await;
    assert_eq!(race(&gw, &w, 10_000).await, 1);
    gw.wait_balance("alice@localhost", 1_000_000 - 10_000).await;

    let three = create_link(&gw, json!({"max_msat": 10_000, "uses": 3})).await;
    let w = withdraw_request(three["lnurl"].as_str().expect("lnurl")).await;
    assert_eq!(race(&gw, &w, 10_000).await, 3);
    gw.wait_balance("alice@localhost", 1_000_000 - 40_000).await;
    assert_eq!(link(&gw, &w.k1).await["uses_left"], 0);
    let settled = debits(&gw)
        .await
        .iter()
        .filter(|t| t["status"] == "settled")
        .count();
    assert_eq!(settled, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn balance_never_goes_below_zero_when_it_covers_fewer_than_the_uses() {
    let dir = tempfile::tempdir().expect("tmp");
    // Each withdrawal of 10 sat reserves 10 sat + the 10 sat minimum fee reserve, and the fee
    // takes all of the reserve (nothing is refunded while others race): two fit.
    let gw = funded(dir.path(), 45_000).await;
    gw.fake().payments.set_fee(Msat::from_msat(10_000));
    let many = create_link(&gw, json!({"max_msat": 10_000, "uses": 10})).await;
    let w = withdraw_request(many["lnurl"].as_str().expect("lnurl")).await;
    assert_eq!(w.max_withdrawable, 10_000);
    assert_eq!(race(&gw, &w, 10_000).await, 2);
    gw.wait_balance("alice@localhost", 5_000).await;
    assert_eq!(link(&gw, &w.k1).await["uses_left"], 8);
    // What is left pays nothing after the reserve: LUD-03 "Zero balance", 0 and 0, not an error.
    let w = withdraw_request(many["lnurl"].as_str().expect("lnurl")).await;
    assert_eq!(w.max_withdrawable, 0);
    assert_eq!(w.min_withdrawable, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn failed_payment_refunds_and_gives_the_use_back() {
    let dir = tempfile::tempdir().expect("tmp");
    let gw = funded(dir.path(), 100_000).await;
    gw.fail_next_payments(1).await;
    let created = create_link(&gw, json!({"max_msat": 30_000, "uses": 1})).await;
    let w = withdraw_request(created["lnurl"].as_str().expect("lnurl")).await;
    let (pr, _) = foreign_invoice(Currency::Regtest, 30_000);
    assert_eq!(withdraw(&w, &pr).await["status"], "OK");
    let failed = wait_debit(&gw, "failed").await;
    assert_eq!(failed["fee_msat"], 0);
    gw.wait_balance("alice@localhost", 100_000).await;
    assert_eq!(link(&gw, &w.k1).await["uses_left"], 1);
    // The use is back: the next invoice is paid.
    let (pr, _) = foreign_invoice(Currency::Regtest, 30_000);
    assert_eq!(withdraw(&w, &pr).await["status"], "OK");
    gw.wait_balance("alice@localhost", 70_000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refusals_answer_errors_and_debit_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let gw = funded(dir.path(), 100_000).await;
    let created = create_link(
        &gw,
        json!({"min_msat": 5_000, "max_msat": 20_000, "uses": 5}),
    )
    .await;
    let w = withdraw_request(created["lnurl"].as_str().expect("lnurl")).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs();
    let cases = [
        ("above max", foreign_invoice(Currency::Regtest, 20_001).0),
        ("below min", foreign_invoice(Currency::Regtest, 4_999).0),
        (
            "no amount",
            foreign_invoice_at(Currency::Regtest, None, now, 600).0,
        ),
        (
            "expired",
            foreign_invoice_at(Currency::Regtest, Some(10_000), now - 7_200, 3_600).0,
        ),
        ("mainnet", foreign_invoice(Currency::Bitcoin, 10_000).0),
        ("garbage", "lnbcrt1garbage".to_string()),
    ];
    for (what, pr) in &cases {
        let (status, body) = gw
            .get(&format!("/lnurlw/{}/callback?k1={}&pr={pr}", w.k1, w.k1))
            .await;
        assert_eq!(
            (status, &body["status"]),
            (200, &json!("ERROR")),
            "{what}: {body}"
        );
    }
    let (good, _) = foreign_invoice(Currency::Regtest, 10_000);
    let (status, body) = gw
        .get(&format!(
            "/lnurlw/{}/callback?k1={}&pr={good}",
            w.k1,
            "00".repeat(32)
        ))
        .await;
    assert_eq!(
        (status, &body["status"]),
        (200, &json!("ERROR")),
        "wrong k1: {body}"
    );
    let (status, body) = gw
        .get(&format!("/lnurlw/{}/callback?k1={}", w.k1, w.k1))
        .await;
    assert_eq!(
        (status, &body["status"]),
        (200, &json!("ERROR")),
        "no pr: {body}"
    );
    let unknown = "ab".repeat(32);
    for path in [
        format!("/lnurlw/{unknown}"),
        format!("/lnurlw/{unknown}/callback?k1={unknown}&pr={good}"),
        format!("/withdraw/{unknown}"),
        "/lnurlw/not-hex".to_string(),
    ] {
        let (status, body) = gw.get(&path).await;
        assert_eq!(
            (status, &body["status"]),
            (404, &json!("ERROR")),
            "{path}: {body}"
        );
    }

    // Disabled and expired links refuse too.
    let (status, disabled) = gw
        .admin(
            Method::DELETE,
            &format!("/api/v1/withdraw-links/{}", w.k1),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(disabled["disabled"], true);
    let (status, body) = gw.get(&format!("/lnurlw/{}", w.k1)).await;
    assert_eq!((status, &body["status"]), (200, &json!("ERROR")), "{body}");
    let (status, body) = gw
        .get(&format!("/lnurlw/{}/callback?k1={}&pr={good}", w.k1, w.k1))
        .await;
    assert_eq!((status, &body["status"]), (200, &json!("ERROR")), "{body}");

    let expiring = create_link(&gw, json!({"max_msat": 20_000, "expires_in_secs": 1})).await;
    let k1 = expiring["k1"].as_str().expect("k1").to_string();
    wait_for("the link to expire", WAIT, || async {
        let (_, body) = gw.get(&format!("/lnurlw/{k1}")).await;
        (body["status"] == "ERROR").then_some(())
    })
    .await;
    let (status, body) = gw
        .get(&format!("/lnurlw/{k1}/callback?k1={k1}&pr={good}"))
        .await;
    assert_eq!(
        (status, &body["reason"]),
        (200, &json!("this withdraw link has expired"))
    );

    assert_eq!(gw.balance("alice@localhost").await, 100_000);
    assert!(debits(&gw).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_invoice_of_this_gateway_settles_inside_the_ledger() {
    let dir = tempfile::tempdir().expect("tmp");
    let gw = funded(dir.path(), 100_000).await;
    gw.create_account("bob@localhost").await;
    let bob = gw.invoice("bob", 25_000).await;
    let pr = bob["pr"].as_str().expect("pr");
    let created = create_link(&gw, json!({"max_msat": 50_000})).await;
    let w = withdraw_request(created["lnurl"].as_str().expect("lnurl")).await;
    assert_eq!(withdraw(&w, pr).await["status"], "OK");
    gw.wait_balance("bob@localhost", 25_000).await;
    gw.wait_balance("alice@localhost", 75_000).await;
    let hash: PaymentHash = bob["verify"]
        .as_str()
        .expect("verify")
        .rsplit('/')
        .next()
        .expect("hash")
        .parse()
        .expect("hash");
    // The node was never asked to pay.
    let node = &gw.running.as_ref().expect("running").gateway.node();
    assert_eq!(
        node.track_payment(&hash, Duration::ZERO)
            .await
            .expect("track"),
        None
    );
    let debit = wait_debit(&gw, "settled").await;
    assert_eq!(debit["fee_msat"], 0);
    let (_, verify) = gw.get(&format!("/lnurlp/bob/verify/{hash}")).await;
    assert_eq!(verify["settled"], true, "{verify}");
    // The network can no longer pay it: the node cancelled it.
    wait_for("the invoice cancelled on the node", WAIT, || async {
        let seen = node.lookup_invoice(&hash).await.expect("lookup");
        (seen.expect("known").state == lnaddr::lightning::InvoiceState::Canceled).then_some(())
    })
    .await;
    assert!(matches!(
        gw.fake().pay(pr).await,
        Err(lnaddr::lightning::fake::FakePayError::Canceled)
    ));
    // Paying it again is refused.
    let again = create_link(&gw, json!({"max_msat": 50_000})).await;
    let w = withdraw_request(again["lnurl"].as_str().expect("lnurl")).await;
    assert_eq!(withdraw(&w, pr).await["status"], "ERROR");
    assert_eq!(gw.balance("alice@localhost").await, 75_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn voucher_page_and_qr_codes() {
    let dir = tempfile::tempdir().expect("tmp");
    let gw = funded(dir.path(), 100_000).await;
    let created = create_link(
        &gw,
        json!({"max_msat": 21_000, "uses": 2, "title": "<b>Tips & \"thanks\"</b>", "expires_in_secs": 86400}),
    )
    .await;
    let lnurl = created["lnurl"].as_str().expect("lnurl");
    let page = created["page"].as_str().expect("page");
    let resp = reqwest::get(page).await.expect("page");
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/html")
    );
    let html = resp.text().await.expect("html");
    assert!(html.contains("&lt;b&gt;Tips &amp; &quot;thanks&quot;&lt;/b&gt;"));
    assert!(!html.contains("<b>Tips"));
    assert!(html.contains(&format!("lightning:{lnurl}")));
    assert!(html.contains("lnurlw://"));
    assert!(html.contains("<svg"));
    // Print styles live in the shared stylesheet; scripts only as files (the CSP forbids inline).
    let css = html
        .split("rel=\"stylesheet\" href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a stylesheet");
    let origin = page.split("/withdraw/").next().expect("origin");
    let css = reqwest::get(format!("{origin}{css}"))
        .await
        .expect("css")
        .text()
        .await
        .expect("css text");
    assert!(css.contains("@media print"));
    assert!(html.contains("21 sat"));
    assert!(html.contains("Uses left: 2 of 2"));
    assert!(!html.contains("<script>") && !html.contains("<style"));

    let svg = reqwest::get(format!("{page}/qr.svg"))
        .await
        .expect("svg")
        .text()
        .await
        .expect("text");
    assert!(svg.starts_with("<svg"));

    let png = reqwest::get(format!("{page}/qr.png"))
        .await
        .expect("png")
        .bytes()
        .await
        .expect("bytes");
    let decoder = png::Decoder::new(std::io::Cursor::new(png.to_vec()));
    let mut reader = decoder.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("png frame");
    let (w, h) = (info.width as usize, info.height as usize);
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| buf[y * w + x]);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1);
    let (_, content) = grids[0].decode().expect("decode");
    assert_eq!(content, lnurl);
}
