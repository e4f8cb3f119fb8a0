//! Production shape: two real `lnaddr serve` processes on one Redis and one shared (simulated) LND.
//! 200 invoices issued through both and paid on the node are each credited exactly once, while one
//! process is `kill -9`ed and restarted mid-run: both follow the same node's settlements, and the
//! store's idempotent credit and per-node cursor make the second follower's work a no-op.

mod lnd_sim;
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use lnd_sim::LndSim;
use support::multi::*;
use support::process::{GatewayProcess, wait_for};
use support::redis_server::RedisServer;

/// A gateway on the Redis at `url` and the simulator `sim`.
fn gateway(dir: &std::path::Path, url: &str, sim: &LndSim) -> GatewayProcess {
    let endpoint = sim.endpoint();
    let cert = sim.cert_path().display().to_string();
    let macaroon = sim.macaroon_path().display().to_string();
    redis_gateway(
        dir,
        url,
        &[
            ("LNADDR_LIGHTNING__KIND", "lnd"),
            ("LNADDR_LIGHTNING__LND__ENDPOINT", &endpoint),
            ("LNADDR_LIGHTNING__LND__TLS_CERT", &cert),
            ("LNADDR_LIGHTNING__LND__MACAROON", &macaroon),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_gateways_one_redis_one_lnd_credit_once_across_kill9() {
    let redis = RedisServer::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let sim = Arc::new(
        LndSim::start(&tmp.path().join("lnd"))
            .await
            .expect("simulator"),
    );
    let http = client();
    let a = gateway(&tmp.path().join("a"), &redis.url(), &sim);
    let b = gateway(&tmp.path().join("b"), &redis.url(), &sim);
    wait_healthy(&http, &a.public_url()).await;
    wait_healthy(&http, &b.public_url()).await;
    create_account(&http, &a, "alice@localhost").await;

    const N: u64 = 200;
    let publics = [a.public_url(), b.public_url()];
    let paid = Arc::new(AtomicUsize::new(0));
    let limit = Arc::new(tokio::sync::Semaphore::new(8));
    let mut jobs = tokio::task::JoinSet::new();
    for i in 0..N {
        let public = publics[(i % 2) as usize].clone();
        let (http, paid, limit, sim) = (http.clone(), paid.clone(), limit.clone(), sim.clone());
        jobs.spawn(async move {
            let _permit = limit.acquire_owned().await.expect("semaphore");
            let amount = 1000 * (i + 1);
            let deadline = Instant::now() + DEADLINE;
            // Retried while that gateway is down; a lost answer only orphans an unpaid invoice.
            let bolt11 = loop {
                match request_invoice(&http, &public, "alice", amount).await {
                    Ok(pr) => break pr,
                    Err(e) => assert!(Instant::now() < deadline, "invoice {i}: {e:?}"),
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            };
            // The network pays the shared node.
            sim.settle(&bolt11).expect("settle");
            paid.fetch_add(1, Ordering::SeqCst);
            amount
        });
    }
    wait_for("a third of the payments", DEADLINE, || {
        let n = paid.load(Ordering::SeqCst);
        async move { (n >= (N / 3) as usize).then_some(()) }
    })
    .await;
    let mut a = a;
    a.kill9();
    a.restart();
    wait_healthy(&http, &publics[0]).await;
    let mut expected = 0;
    while let Some(amount) = jobs.join_next().await {
        expected += amount.expect("job");
    }
    assert_credited_exactly(&http, &b, "alice@localhost", expected, N as usize).await;
    // Both processes see the same, exact balance.
    assert_credited_exactly(&http, &a, "alice@localhost", expected, N as usize).await;
    assert!(!a.log_text().contains("panicked"), "gateway a panicked");
    assert!(!b.log_text().contains("panicked"), "gateway b panicked");
}
