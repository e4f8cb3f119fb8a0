//! Production shape: two real `lnaddr serve` processes on one Redis and one shared (simulated) LND.
//! 200 invoices issued through both and paid on the node are each credited exactly once, while one
//! process is `kill -9`ed and restarted mid-run: both follow the same node's settlements, and the
//! store's idempotent credit and per-node cursor make the second follower's work a no-op.

mod lnd_sim;
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use lnd_sim::LndSim;
use support::multi::*;
use support::redis_server::RedisServer;

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
    let (lnd, url) = (sim.lnd(), redis.url());
    let (mut a, b) = two_healthy(&http, tmp.path(), |dir| redis_lnd_gateway(dir, &url, &lnd)).await;
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
            let bolt11 = invoice_retrying(&http, &public, "alice", amount, deadline).await;
            // The network pays the shared node.
            sim.settle(&bolt11).expect("settle");
            paid.fetch_add(1, Ordering::SeqCst);
            amount
        });
    }
    kill9_and_restart_when(&http, &mut a, &paid, (N / 3) as usize).await;
    let expected = total(jobs).await;
    assert_credited_exactly(&http, &b, "alice@localhost", expected, N as usize).await;
    // Both processes see the same, exact balance.
    assert_credited_exactly(&http, &a, "alice@localhost", expected, N as usize).await;
    assert_no_panic(&a, "a");
    assert_no_panic(&b, "b");
}
