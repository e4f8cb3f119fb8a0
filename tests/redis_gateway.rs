//! Real `lnaddr serve` processes sharing one private Redis: accounts are shared, every payment is
//! credited exactly once through `kill -9` and restarts, and an unreachable Redis turns into fast
//! 503 answers instead of hangs, with payments made meanwhile credited after recovery.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use support::multi::*;
use support::process::{GatewayProcess, wait_for};
use support::redis_server::RedisServer;

/// Starts a gateway on the Redis at `url`, with its own data dir (its own fake node).
fn gateway(dir: &std::path::Path, url: &str) -> GatewayProcess {
    redis_gateway(dir, url, &[])
}

/// Two gateways on one Redis: an account made through one is served by the other, and 200
/// invoices issued and paid through both are each credited once while one gateway is `kill -9`ed
/// and restarted mid-run.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_gateways_share_accounts_and_credit_once_across_kill9() {
    let redis = RedisServer::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let http = client();
    let (mut a, b) = two_healthy(&http, tmp.path(), |dir| gateway(dir, &redis.url())).await;

    create_account(&http, &a, "alice@localhost").await;
    let seen = account(&http, &b, "alice@localhost")
        .await
        .expect("served by b");
    assert_eq!(seen["balance_msat"], 0);
    request_invoice(&http, &b.public_url(), "alice", 1000)
        .await
        .expect("b issues for an account made through a");

    const N: u64 = 200;
    let urls = [
        (a.public_url(), a.admin_url()),
        (b.public_url(), b.admin_url()),
    ];
    let paid = Arc::new(AtomicUsize::new(0));
    let sem = Arc::new(tokio::sync::Semaphore::new(8));
    let mut jobs = tokio::task::JoinSet::new();
    for i in 0..N {
        let (public, admin) = urls[(i % 2) as usize].clone();
        let (http, paid, sem) = (http.clone(), paid.clone(), sem.clone());
        jobs.spawn(async move {
            let _permit = sem.acquire_owned().await.expect("semaphore");
            let amount = 1000 * (i + 1);
            let deadline = Instant::now() + DEADLINE;
            let bolt11 = invoice_retrying(&http, &public, "alice", amount, deadline).await;
            while let Err(e) = fake_pay(&http, &admin, &bolt11).await {
                assert!(Instant::now() < deadline, "pay {i}: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            paid.fetch_add(1, Ordering::SeqCst);
            amount
        });
    }
    // Mid-run: kill -9 gateway a while payments are in flight, and start it again.
    kill9_and_restart_when(&http, &mut a, &paid, (N / 3) as usize).await;
    let expected = total(jobs).await;
    assert_credited_exactly(&http, &b, "alice@localhost", expected, N as usize).await;
    assert_no_panic(&a, "a");
    assert_no_panic(&b, "b");
}

/// Redis stopped under load: public answers are fast 503s with the LNURL error body, the process
/// stays up, fake payments still go through; after Redis is back, requests succeed and the
/// payments made meanwhile are credited once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_outage_answers_503_and_recovers() {
    let mut redis = RedisServer::start();
    let tmp = tempfile::tempdir().expect("tempdir");
    let http = client();
    let mut g = gateway(&tmp.path().join("g"), &redis.url());
    wait_healthy(&http, &g.public_url()).await;
    create_account(&http, &g, "bob@localhost").await;

    // Invoices issued before the outage, paid during it.
    let mut pending = Vec::new();
    for i in 1..=10u64 {
        let pr = request_invoice(&http, &g.public_url(), "bob", i * 1000)
            .await
            .expect("invoice");
        pending.push((pr, i * 1000));
    }

    redis.stop();
    let mut load = tokio::task::JoinSet::new();
    for i in 0..32u64 {
        let (http, base) = (http.clone(), g.public_url());
        load.spawn(async move {
            let started = Instant::now();
            let answer = request_invoice(&http, &base, "bob", 1000 + i).await;
            (answer, started.elapsed())
        });
    }
    while let Some(done) = load.join_next().await {
        let (answer, took) = done.expect("task");
        let (status, body) = answer.expect_err("redis is down");
        assert_eq!(status, 503, "{body}");
        assert_eq!(body["status"], "ERROR");
        assert!(body["reason"].is_string(), "{body}");
        assert!(took < Duration::from_secs(8), "answered after {took:?}");
    }
    let ready = http
        .get(format!("{}/readyz", g.public_url()))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 503);
    for (pr, _) in &pending {
        fake_pay(&http, &g.admin_url(), pr)
            .await
            .expect("the fake node pays without redis");
    }
    assert!(
        g.child.try_wait().expect("status").is_none(),
        "the gateway must stay alive"
    );

    redis.resume();
    wait_for("public requests to succeed again", DEADLINE, || {
        let (http, base) = (http.clone(), g.public_url());
        async move { request_invoice(&http, &base, "bob", 1000).await.ok() }
    })
    .await;
    let expected: u64 = pending.iter().map(|(_, amount)| amount).sum();
    assert_credited_exactly(&http, &g, "bob@localhost", expected, pending.len()).await;
    assert!(!g.log_text().contains("panicked"), "the gateway panicked");
    g.terminate();
}
