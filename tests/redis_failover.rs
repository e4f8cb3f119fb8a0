//! Redis failover (issue #12, item 6), on a real master and replica: a credit the master
//! acknowledged but never replicated is lost when the replica is promoted. The settlement follower
//! replays `ledger.replay_window` settle indices behind its cursor on every subscription, so the
//! lost credit is made again, once. With `store.redis.wait_replicas`, a write that no replica
//! acknowledged is not reported as done.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use lnaddr::config::StoreOptions;
use lnaddr::store::redis::RedisStore;
use lnaddr::store::{CreditOutcome, Store, StoreError};
use support::gateway::TestGateway;
use support::process::wait_for;
use support::redis_server::{RedisServer, cli};
use support::store_suite::{created, invoice_for, settlement};
use support::tcp_proxy::TcpProxy;

fn addr(server: &RedisServer) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], server.port))
}

/// Issues an invoice of `amount` to alice.
async fn issue(gw: &TestGateway, amount: u64) -> String {
    let invoice = gw.invoice("alice", amount).await;
    invoice["pr"].as_str().expect("pr").to_string()
}

/// Pays `pr` (of `amount`) with the fake node and waits for the credit.
async fn pay_issued(gw: &TestGateway, pr: &str, amount: u64) {
    let before = gw.balance("alice@localhost").await;
    assert_eq!(gw.fake_pay(pr).await.0, 200);
    gw.wait_balance("alice@localhost", before + amount).await;
}

async fn pay(gw: &TestGateway, amount: u64) {
    let pr = issue(gw, amount).await;
    pay_issued(gw, &pr, amount).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_credit_lost_in_a_failover_is_credited_again_once() {
    let mut master = RedisServer::start();
    let replica = RedisServer::start_replica_of(&master);
    let proxy = TcpProxy::start(addr(&master)).await;
    let dir = tempfile::tempdir().expect("dir");
    let url = proxy.redis_url();
    let mut gw = TestGateway::start_with(dir.path(), |public| {
        vec![
            ("LNADDR_STORE__KIND".into(), "redis".into()),
            ("LNADDR_STORE__URL".into(), url),
            (
                "LNADDR_DOMAINS".into(),
                format!(r#"[{{name="localhost", public_url="{public}"}}]"#),
            ),
        ]
    })
    .await;
    gw.create_account("alice@localhost").await;
    pay(&gw, 1_000).await;
    let second = issue(&gw, 2_000).await;
    replica.wait_caught_up(&master);

    // Replication stops (the replica is promoted while the master still takes writes): the
    // credit of the second invoice and its cursor reach the master only.
    replica.promote();
    pay_issued(&gw, &second, 2_000).await;
    let node_key = {
        let running = gw.running.as_ref().expect("running");
        running
            .gateway
            .node()
            .status()
            .await
            .expect("status")
            .pubkey
    };
    let cursor_key = format!("cursor:{node_key}");
    assert_eq!(
        cli(master.port, &["GET", &cursor_key]).as_deref(),
        Some("2")
    );
    assert_eq!(
        cli(replica.port, &["GET", &cursor_key]).as_deref(),
        Some("1")
    );

    // The master dies; clients move to the promoted replica. In a cluster the cursor lives on
    // another master than the account and can survive while the credit is lost: as there.
    master.kill();
    proxy.switch(addr(&replica));
    assert_eq!(
        cli(replica.port, &["SET", &cursor_key, "2"]).as_deref(),
        Some("OK")
    );
    let balance = wait_for(
        "the gateway on the promoted replica",
        Duration::from_secs(20),
        || async {
            let (status, account) = gw
                .admin(
                    reqwest::Method::GET,
                    "/api/v1/accounts/alice@localhost",
                    None,
                )
                .await;
            (status == 200).then(|| account["balance_msat"].as_u64())
        },
    )
    .await;
    assert_eq!(balance, Some(1_000), "the credit was lost");

    // The follower's next subscription (here: a restart) replays behind the cursor.
    gw.restart().await;
    gw.wait_balance("alice@localhost", 3_000).await;
    let credits = gw
        .transactions("alice@localhost")
        .await
        .iter()
        .filter(|t| t["kind"] == "credit")
        .count();
    assert_eq!(credits, 2, "each payment credited once");
    // Another subscription replays the same window and changes nothing.
    gw.restart().await;
    pay(&gw, 4_000).await;
    assert_eq!(gw.balance("alice@localhost").await, 7_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn wait_replicas_refuses_to_confirm_an_unreplicated_credit() {
    let master = RedisServer::start();
    let replica = RedisServer::start_replica_of(&master);
    let options = StoreOptions {
        wait_replicas: 1,
        wait_timeout: Duration::from_millis(300),
        ..StoreOptions::default()
    };
    let store = RedisStore::connect(&master.url())
        .await
        .expect("connect")
        .with_options(&options);
    let alice = created(&store, "alice@example.com").await;
    let first = invoice_for(&alice, 1, 1_000);
    store.add_invoice(first.clone()).await.expect("add");
    assert!(matches!(
        store
            .credit_settlement(&settlement(&first, 1))
            .await
            .expect("replicated credit"),
        CreditOutcome::Credited { .. }
    ));

    // No replica follows any more: WAIT sees none, and the credit is not confirmed.
    replica.promote();
    let second = invoice_for(&alice, 2, 2_000);
    let err = match store.add_invoice(second.clone()).await {
        Err(e) => e,
        Ok(()) => store
            .credit_settlement(&settlement(&second, 2))
            .await
            .expect_err("not replicated"),
    };
    assert!(matches!(err, StoreError::Backend(_)), "{err}");
    let text = format!(
        "{err}: {}",
        std::error::Error::source(&err).map_or(String::new(), |s| s.to_string())
    );
    assert!(text.contains("replicas"), "{text}");
}
