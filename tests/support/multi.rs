//! Helpers for tests that run several real `lnaddr serve` processes on one shared store: HTTP
//! with bounded requests, the pay flow as a wallet drives it, and the exactly-once check.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::lnd_gateway::Lnd;
use super::process::{GatewayProcess, wait_for};

pub const TOKEN: &str = "redis-gateway-test-token-0123456789";
/// Every HTTP request of these tests is bounded by this.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEADLINE: Duration = Duration::from_secs(90);

/// Starts a gateway process on the Redis at `url`, with its own data dir, the test token, no
/// rate limits, and `extra` settings on top (e.g. an LND backend).
pub fn redis_gateway(dir: &std::path::Path, url: &str, extra: &[(&str, &str)]) -> GatewayProcess {
    let mut env = vec![
        ("LNADDR_STORE__KIND", "redis"),
        ("LNADDR_STORE__URL", url),
        (
            "LNADDR_DOMAINS",
            r#"[{name="localhost", public_url="http://localhost"}]"#,
        ),
        ("LNADDR_ADMIN_TOKEN", TOKEN),
        ("LNADDR_LIMITS__ENABLED", "false"),
    ];
    env.extend_from_slice(extra);
    GatewayProcess::start(dir, &env)
}

/// [`redis_gateway`] on the LND at `lnd` instead of its own fake node.
pub fn redis_lnd_gateway(dir: &std::path::Path, url: &str, lnd: &Lnd) -> GatewayProcess {
    let cert = lnd.cert.display().to_string();
    let macaroon = lnd.macaroon.display().to_string();
    redis_gateway(
        dir,
        url,
        &[
            ("LNADDR_LIGHTNING__KIND", "lnd"),
            ("LNADDR_LIGHTNING__LND__ENDPOINT", &lnd.endpoint),
            ("LNADDR_LIGHTNING__LND__TLS_CERT", &cert),
            ("LNADDR_LIGHTNING__LND__MACAROON", &macaroon),
        ],
    )
}

/// Gateways `a` and `b` (data in `dir/a`, `dir/b`) started by `start(data dir)`, once both
/// answer `/healthz`.
pub async fn two_healthy(
    http: &reqwest::Client,
    dir: &std::path::Path,
    start: impl Fn(&std::path::Path) -> GatewayProcess,
) -> (GatewayProcess, GatewayProcess) {
    let a = start(&dir.join("a"));
    let b = start(&dir.join("b"));
    wait_healthy(http, &a.public_url()).await;
    wait_healthy(http, &b.public_url()).await;
    (a, b)
}

/// An invoice of `user` through `public`, retried (while that gateway is down) until
/// `deadline`; a lost answer only orphans an unpaid invoice.
pub async fn invoice_retrying(
    http: &reqwest::Client,
    public: &str,
    user: &str,
    amount: u64,
    deadline: Instant,
) -> String {
    loop {
        match request_invoice(http, public, user, amount).await {
            Ok(pr) => break pr,
            Err(e) => assert!(Instant::now() < deadline, "invoice of {amount}: {e:?}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Mid-run: once `paid` reaches `at_least`, `kill -9` gateway `g` while payments are in flight,
/// start it again and wait until it answers.
pub async fn kill9_and_restart_when(
    http: &reqwest::Client,
    g: &mut GatewayProcess,
    paid: &AtomicUsize,
    at_least: usize,
) {
    wait_for("a third of the payments", DEADLINE, || {
        let n = paid.load(Ordering::SeqCst);
        async move { (n >= at_least).then_some(()) }
    })
    .await;
    g.kill9();
    g.restart();
    wait_healthy(http, &g.public_url()).await;
}

/// The sum of the amounts every job answered.
pub async fn total(mut jobs: tokio::task::JoinSet<u64>) -> u64 {
    let mut sum = 0;
    while let Some(amount) = jobs.join_next().await {
        sum += amount.expect("job");
    }
    sum
}

/// No panic in the log of gateway `g` (named `name`).
pub fn assert_no_panic(g: &GatewayProcess, name: &str) {
    assert!(
        !g.log_text().contains("panicked"),
        "gateway {name} panicked"
    );
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .pool_max_idle_per_host(16)
        .build()
        .expect("client")
}

pub async fn wait_healthy(http: &reqwest::Client, base: &str) {
    let url = format!("{base}/healthz");
    wait_for("the gateway to answer /healthz", DEADLINE, || {
        let req = http.get(&url).send();
        async move { req.await.ok().filter(|r| r.status().is_success()) }
    })
    .await;
}

pub async fn create_account(http: &reqwest::Client, g: &GatewayProcess, address: &str) -> Value {
    g.create_account(http, TOKEN, address).await
}

/// An admin request to `g` with `token`: the status and the JSON body (null when none).
pub async fn admin_request(
    http: &reqwest::Client,
    g: &GatewayProcess,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = format!("{}{path}", g.admin_url());
    super::http::request(http, method, &url, Some(token), body).await
}

/// [`admin_request`] with the test token.
pub async fn admin(
    http: &reqwest::Client,
    g: &GatewayProcess,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    admin_request(http, g, TOKEN, method, path, body).await
}

/// A GET of a full URL (e.g. a callback): the status and the JSON body (null when none).
pub async fn get_json(http: &reqwest::Client, url: &str) -> (u16, Value) {
    super::http::request(http, reqwest::Method::GET, url, None, None).await
}

/// Waits until an admin GET of `path` on `g` answers `status`.
pub async fn wait_admin_status(
    http: &reqwest::Client,
    g: &GatewayProcess,
    path: &str,
    status: u16,
    what: &str,
    timeout: Duration,
) {
    let url = format!("{}{path}", g.admin_url());
    wait_for(what, timeout, || async {
        let resp = http.get(&url).bearer_auth(TOKEN).send().await.ok()?;
        (resp.status() == status).then_some(())
    })
    .await;
}

/// The account as the admin API of `g` shows it.
pub async fn account(http: &reqwest::Client, g: &GatewayProcess, address: &str) -> Option<Value> {
    let resp = http
        .get(format!("{}/api/v1/accounts/{address}", g.admin_url()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .ok()?;
    if !resp.status().is_success() {
        return None;
    }
    resp.json().await.ok()
}

pub async fn ledger(http: &reqwest::Client, g: &GatewayProcess, address: &str) -> Vec<Value> {
    let resp = http
        .get(format!(
            "{}/api/v1/accounts/{address}/transactions?limit=1000",
            g.admin_url()
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("ledger");
    assert!(resp.status().is_success(), "ledger: {}", resp.status());
    resp.json().await.expect("ledger json")
}

/// LUD-16 lookup then LUD-06 callback, as a wallet does: the BOLT 11 invoice, or the HTTP status
/// and body of the failing step.
pub async fn request_invoice(
    http: &reqwest::Client,
    base: &str,
    user: &str,
    amount: u64,
) -> Result<String, (u16, Value)> {
    let fail = |status: u16| move |_| (status, Value::Null);
    let lookup = http
        .get(format!("{base}/.well-known/lnurlp/{user}"))
        .send()
        .await
        .map_err(fail(0))?;
    let status = lookup.status().as_u16();
    let body: Value = lookup.json().await.map_err(fail(status))?;
    if status != 200 || body["tag"] != "payRequest" {
        return Err((status, body));
    }
    let callback = body["callback"].as_str().unwrap_or_default();
    assert!(
        callback.ends_with(&format!("/lnurlp/{user}/callback")),
        "{callback}"
    );
    let resp = http
        .get(format!("{base}/lnurlp/{user}/callback?amount={amount}"))
        .send()
        .await
        .map_err(fail(0))?;
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.map_err(fail(status))?;
    match body["pr"].as_str() {
        Some(pr) if status == 200 => Ok(pr.to_string()),
        _ => Err((status, body)),
    }
}

/// Pays `bolt11` with the fake node of the gateway at `admin`: Ok when paid now or before (a retry
/// whose first answer was lost).
pub async fn fake_pay(http: &reqwest::Client, admin: &str, bolt11: &str) -> Result<(), String> {
    let resp = http
        .post(format!("{admin}/api/v1/fake/pay"))
        .bearer_auth(TOKEN)
        .json(&json!({ "invoice": bolt11 }))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    match resp.status().as_u16() {
        200 | 409 => Ok(()),
        s => Err(format!("fake pay answered {s}")),
    }
}

/// Waits until the balance of `address` (read through `g`) reaches `expected`, then checks that it
/// is exactly that and that the ledger holds exactly `entries` distinct payments.
pub async fn assert_credited_exactly(
    http: &reqwest::Client,
    g: &GatewayProcess,
    address: &str,
    expected: u64,
    entries: usize,
) {
    let balance = wait_for("every payment to be credited", DEADLINE, || async {
        let a = account(http, g, address).await?;
        let b = a["balance_msat"].as_u64()?;
        (b >= expected).then_some(b)
    })
    .await;
    assert_eq!(
        balance, expected,
        "balance must be exact: nothing credited twice"
    );
    let txs = ledger(http, g, address).await;
    assert_eq!(txs.len(), entries, "one ledger entry per payment");
    let mut hashes: Vec<&str> = txs
        .iter()
        .filter_map(|t| t["payment_hash"].as_str())
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    assert_eq!(hashes.len(), entries, "no payment hash credited twice");
}
