//! SIGTERM to the real binary in the middle of a burst of callbacks and payments: requests already
//! being answered complete, the process exits within `shutdown_timeout_secs`, and after a restart
//! every payment the node settled is credited exactly once.

mod support;

use std::collections::HashSet;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::process::{GatewayProcess, free_port, wait_for};
use tokio::sync::Mutex;

const TOKEN: &str = "shutdown-test-token-0123456789";
const WORKERS: usize = 8;
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// One connection per request, so no request is ever sent on a keep-alive connection that the
/// server is closing.
fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(0)
        .build()
        .expect("client")
}

/// What the workers saw.
#[derive(Default)]
struct Seen {
    /// Every invoice handed out: (bolt11, verify URL, amount).
    invoices: Vec<(String, String, u64)>,
    /// Invoices whose payment the gateway confirmed.
    paid: HashSet<String>,
    /// Answers that are not what a finished request must look like.
    broken: Vec<String>,
}

/// A request that got an answer must have a whole, valid one; a request that could not be sent
/// (the listener is closed) is fine. Answers `None` when the request was not served.
async fn call(req: reqwest::RequestBuilder, seen: &Mutex<Seen>) -> Option<Value> {
    let resp = req.send().await.ok()?;
    let status = resp.status().as_u16();
    match resp.json::<Value>().await {
        Ok(body) if status == 200 => Some(body),
        Ok(body) => {
            seen.lock().await.broken.push(format!("{status}: {body}"));
            None
        }
        Err(e) => {
            seen.lock()
                .await
                .broken
                .push(format!("{status}: truncated answer: {e}"));
            None
        }
    }
}

async fn worker(id: usize, g: (String, String), seen: Arc<Mutex<Seen>>, stop: Arc<AtomicBool>) {
    let http = client();
    let (public, admin) = g;
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let amount = 1_000 * (1 + id as u64) + n;
        let url = format!("{public}/lnurlp/alice/callback?amount={amount}");
        let Some(inv) = call(http.get(url), &seen).await else {
            return;
        };
        let pr = inv["pr"].as_str().expect("pr").to_string();
        let verify = inv["verify"].as_str().expect("verify").to_string();
        seen.lock()
            .await
            .invoices
            .push((pr.clone(), verify, amount));
        let pay = http
            .post(format!("{admin}/api/v1/fake/pay"))
            .bearer_auth(TOKEN)
            .json(&json!({ "invoice": pr }));
        if call(pay, &seen).await.is_none() {
            return;
        }
        seen.lock().await.paid.insert(pr);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_during_a_burst_finishes_in_flight_work_and_loses_no_payment() {
    let dir = tempfile::tempdir().expect("tmp");
    let (port, admin_port) = (free_port(), free_port());
    let env = vec![
        ("LNADDR_ADMIN_TOKEN".to_string(), TOKEN.to_string()),
        (
            "LNADDR_DOMAINS".to_string(),
            format!(r#"[{{name="localhost", public_url="http://127.0.0.1:{port}"}}]"#),
        ),
        (
            "LNADDR_SHUTDOWN_TIMEOUT_SECS".to_string(),
            SHUTDOWN_TIMEOUT.as_secs().to_string(),
        ),
    ];
    let mut gw = GatewayProcess::start_with(dir.path(), port, admin_port, env);
    let http = client();
    let health = format!("{}/healthz", gw.public_url());
    wait_for("the gateway to start", Duration::from_secs(30), || {
        let req = http.get(&health).send();
        async move { req.await.ok().filter(|r| r.status().is_success()) }
    })
    .await;
    gw.create_account(&http, TOKEN, "alice@localhost").await;

    let seen = Arc::new(Mutex::new(Seen::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let running = Arc::new(AtomicUsize::new(WORKERS));
    let mut tasks = Vec::new();
    for id in 0..WORKERS {
        let (seen, stop, running) = (seen.clone(), stop.clone(), running.clone());
        let urls = (gw.public_url(), gw.admin_url());
        tasks.push(tokio::spawn(async move {
            worker(id, urls, seen, stop).await;
            running.fetch_sub(1, Ordering::Relaxed);
        }));
    }
    wait_for("a few payments", Duration::from_secs(30), || async {
        (seen.lock().await.paid.len() >= 30).then_some(())
    })
    .await;

    let signalled = Instant::now();
    let killed = Command::new("kill")
        .arg("-TERM")
        .arg(gw.child.id().to_string())
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = wait_for("the gateway to exit", SHUTDOWN_TIMEOUT * 3, || {
        let exited = gw.child.try_wait().expect("try_wait");
        async move { exited }
    })
    .await;
    let took = signalled.elapsed();
    assert!(
        status.success(),
        "exit status {status:?}\n{}",
        gw.log_text()
    );
    assert!(
        took <= SHUTDOWN_TIMEOUT + Duration::from_secs(1),
        "took {took:?}"
    );
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.expect("worker");
    }
    assert_eq!(running.load(Ordering::Relaxed), 0);
    let log = gw.log_text();
    assert!(
        log.contains("shutting down") && log.contains("stopped"),
        "{log}"
    );

    // Restart on the same data: the follower replays from its cursor.
    gw.restart();
    wait_for("the gateway to restart", Duration::from_secs(30), || {
        let req = http.get(&health).send();
        async move { req.await.ok().filter(|r| r.status().is_success()) }
    })
    .await;
    let seen = seen.lock().await;
    assert!(seen.broken.is_empty(), "broken answers: {:?}", seen.broken);
    let mut settled_sum = 0;
    let mut settled = 0usize;
    for (pr, verify, amount) in &seen.invoices {
        let v: Value = http
            .get(verify)
            .send()
            .await
            .expect("verify")
            .json()
            .await
            .expect("JSON");
        let is_settled = v["settled"].as_bool().expect("settled");
        assert!(
            is_settled || !seen.paid.contains(pr),
            "a confirmed payment is not settled"
        );
        if is_settled {
            settled += 1;
            settled_sum += amount;
        }
    }
    gw.wait_balance(&http, TOKEN, "alice@localhost", settled_sum)
        .await;
    let account = format!("{}/api/v1/accounts/alice@localhost", gw.admin_url());
    let txs: Vec<Value> = http
        .get(format!("{account}/transactions?limit=1000"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("transactions")
        .json()
        .await
        .expect("JSON");
    let hashes: HashSet<&str> = txs
        .iter()
        .map(|t| t["payment_hash"].as_str().expect("hash"))
        .collect();
    assert_eq!(txs.len(), settled, "one ledger entry per settled payment");
    assert_eq!(hashes.len(), settled, "no payment credited twice");
}
