//! Money in: each settled invoice credits its account exactly once, whatever is paid twice, replayed,
//! restarted or killed; balances and ledgers survive restarts.

mod support;

use std::time::Duration;

use futures_util::StreamExt;
use support::gateway::TestGateway;
use support::process::{GatewayProcess, wait_for};

#[tokio::test]
async fn paid_once_credited_once_through_pay_twice_replay_and_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut gw = TestGateway::start(dir.path()).await;
    gw.create_account("alice@localhost").await;
    let pr = gw.invoice("alice", 21_000).await["pr"]
        .as_str()
        .expect("pr")
        .to_string();

    let (status, body) = gw.fake_pay(&pr).await;
    assert_eq!(status, 200, "{body}");
    gw.wait_balance("alice@localhost", 21_000).await;

    // Paying the same invoice again is refused by the node; nothing more is credited.
    let (status, body) = gw.fake_pay(&pr).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["status"], "ERROR");

    // Replay the node's whole settlement stream into the ledger: nothing is credited twice.
    let running = gw.running.as_ref().expect("running");
    let gateway = running.gateway.clone();
    let mut stream = gateway
        .node()
        .subscribe_settlements(0)
        .await
        .expect("subscribe");
    let replayed = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("replay")
        .expect("item")
        .expect("ok");
    let outcome = lnaddr::ledger::apply_settlement(
        gateway.store().as_ref(),
        &gateway.node().status().await.expect("status").pubkey,
        &replayed,
        gateway.metrics(),
    )
    .await
    .expect("apply");
    assert_eq!(outcome, lnaddr::store::CreditOutcome::AlreadyCredited);
    drop(stream);
    // The store is one file with one owner: let go of it before the restart opens it again.
    drop(gateway);

    gw.restart().await;
    assert_eq!(gw.balance("alice@localhost").await, 21_000);
    let txs = gw.transactions("alice@localhost").await;
    assert_eq!(txs.len(), 1);
    assert_eq!(txs[0]["kind"], "credit");
    assert_eq!(txs[0]["amount_msat"], 21_000);
    assert_eq!(txs[0]["status"], "settled");
    assert_eq!(txs[0]["zap"], false);
    assert_eq!(
        gw.metric("lnaddr_invoices_settled_total").await,
        0.0,
        "a restart credits nothing again"
    );
}

#[tokio::test]
async fn settlements_while_the_follower_is_down_are_credited_after_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut gw = TestGateway::start(dir.path()).await;
    gw.create_account("bob@localhost").await;
    let invoices: Vec<String> =
        futures_util::future::join_all((1..=5).map(|n| gw.invoice("bob", n * 1000)))
            .await
            .iter()
            .map(|b| b["pr"].as_str().expect("pr").to_string())
            .collect();
    // Stop the gateway, settle on the node directly (as the network would while we are down).
    let node_dir = gw.dir.clone();
    gw.running.take().expect("running").shutdown().await;
    {
        let node = lnaddr::lightning::fake::FakeNode::open(&node_dir, bitcoin::Network::Regtest)
            .expect("node");
        for pr in &invoices {
            node.pay(pr).await.expect("pay");
        }
    }
    gw.restart().await;
    gw.wait_balance("bob@localhost", 15_000).await;
    assert_eq!(gw.transactions("bob@localhost").await.len(), 5);
}

#[tokio::test]
async fn kill_dash_nine_loses_no_committed_credit_and_credits_nothing_twice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let token = "kill-test-token-0123456789";
    let port = support::process::free_port();
    let domains = format!(r#"[{{name="localhost", public_url="http://127.0.0.1:{port}"}}]"#);
    let env = vec![
        ("LNADDR_ADMIN_TOKEN".to_string(), token.to_string()),
        ("LNADDR_DOMAINS".to_string(), domains),
    ];
    let mut proc = GatewayProcess::start_with(dir.path(), port, support::process::free_port(), env);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let admin = proc.admin_url();
    let public = proc.public_url();
    proc.wait_healthy(&http, Duration::from_secs(20)).await;
    proc.create_account(&http, token, "carol@localhost").await;

    let mut invoices = Vec::new();
    for n in 1..=40u64 {
        let body: serde_json::Value = http
            .get(format!(
                "{public}/lnurlp/carol/callback?amount={}",
                n * 1000
            ))
            .send()
            .await
            .expect("callback")
            .json()
            .await
            .expect("json");
        invoices.push(body["pr"].as_str().expect("pr").to_string());
    }
    // Pay them all as fast as possible and kill the process while credits are being applied.
    let pay = |pr: &str| {
        http.post(format!("{admin}/api/v1/fake/pay"))
            .bearer_auth(token)
            .json(&serde_json::json!({"invoice": pr}))
            .send()
    };
    for pr in &invoices[..20] {
        assert_eq!(pay(pr).await.expect("pay").status(), 200);
    }
    proc.kill9();
    proc.restart();
    wait_for("gateway to restart", Duration::from_secs(20), || async {
        http.get(format!("{public}/healthz"))
            .send()
            .await
            .ok()
            .filter(|r| r.status() == 200)
    })
    .await;
    for pr in &invoices[20..] {
        assert_eq!(pay(pr).await.expect("pay").status(), 200);
    }
    proc.restart();
    let expected: u64 = (1..=40u64).map(|n| n * 1000).sum();
    let account = wait_for(
        "every payment credited",
        Duration::from_secs(20),
        || async {
            let resp = http
                .get(format!("{admin}/api/v1/accounts/carol@localhost"))
                .bearer_auth(token)
                .send()
                .await
                .ok()?;
            let body: serde_json::Value = resp.json().await.ok()?;
            (body["balance_msat"].as_u64() == Some(expected)).then_some(body)
        },
    )
    .await;
    assert_eq!(account["balance_msat"].as_u64(), Some(expected));
    let txs: Vec<serde_json::Value> = http
        .get(format!(
            "{admin}/api/v1/accounts/carol@localhost/transactions?limit=1000"
        ))
        .bearer_auth(token)
        .send()
        .await
        .expect("ledger")
        .json()
        .await
        .expect("json");
    assert_eq!(txs.len(), 40, "one ledger entry per payment");
    assert!(
        !proc.log_text().contains(token),
        "the admin token reached the log"
    );
}
