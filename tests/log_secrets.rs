//! The log of full runs of the real binary (JSON, debug level): one access line per request with a
//! request id, the route template, status and latency, and never a secret: not the admin token,
//! not a domain's nostr secret key, not the LND macaroon, not the raw query a wallet sent.

mod lnd_sim;
mod support;

use std::process::Command;
use std::time::Duration;

use lnd_sim::LndSim;
use serde_json::{Value, json};
use support::process::{GatewayProcess, free_port, wait_for};

const TOKEN: &str = "log-secret-admin-token-7f3a9c1e5b";
const NOSTR_SECRET: &str = "5ee1c8000ab28edd64d74a7d951ac2dd559814887b1b9e1ac7c5f89e96125c12";
const COMMENT: &str = "private-comment-4d2c";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

fn start(dir: &std::path::Path, extra: &[(&str, String)]) -> GatewayProcess {
    let port = free_port();
    let mut env = vec![
        ("LNADDR_ADMIN_TOKEN".to_string(), TOKEN.to_string()),
        ("LNADDR_LOG_FORMAT".to_string(), "json".to_string()),
        ("RUST_LOG".to_string(), "debug".to_string()),
        (
            "LNADDR_DOMAINS".to_string(),
            format!(
                r#"[{{name="localhost", public_url="http://127.0.0.1:{port}", nostr_secret_key="{NOSTR_SECRET}"}}]"#
            ),
        ),
    ];
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    GatewayProcess::start_with(dir, port, free_port(), env)
}

async fn wait_healthy(http: &reqwest::Client, gw: &GatewayProcess) {
    let health = format!("{}/healthz", gw.public_url());
    wait_for("the gateway to start", Duration::from_secs(30), || {
        let req = http.get(&health).send();
        async move { req.await.ok().filter(|r| r.status().is_success()) }
    })
    .await;
}

/// Creates alice, looks her up, asks for an invoice with a comment, and answers the invoice.
async fn pay_flow(http: &reqwest::Client, gw: &GatewayProcess) -> String {
    gw.create_account(http, TOKEN, "alice@localhost").await;
    let lookup = format!("{}/.well-known/lnurlp/alice", gw.public_url());
    assert_eq!(http.get(lookup).send().await.expect("lookup").status(), 200);
    let callback = format!(
        "{}/lnurlp/alice/callback?amount=21000&comment={COMMENT}",
        gw.public_url()
    );
    let answer: Value = http
        .get(callback)
        .send()
        .await
        .expect("callback")
        .json()
        .await
        .expect("JSON");
    answer["pr"].as_str().expect("pr").to_string()
}

/// SIGTERM and wait: the log is complete once the process is gone.
async fn stop(gw: &mut GatewayProcess) -> String {
    let sent = Command::new("kill")
        .arg("-TERM")
        .arg(gw.child.id().to_string())
        .status()
        .expect("kill");
    assert!(sent.success());
    wait_for("the gateway to exit", Duration::from_secs(20), || {
        let exited = gw.child.try_wait().expect("try_wait");
        async move { exited }
    })
    .await;
    gw.log_text()
}

fn assert_no_secret(log: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !log.contains(secret),
            "the log contains a secret ({} chars)",
            secret.len()
        );
    }
}

/// The access lines of a JSON log.
fn access_lines(log: &str) -> Vec<Value> {
    log.lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .filter(|v| v["target"] == "lnaddr::access")
        .collect()
}

#[tokio::test]
async fn a_full_run_logs_requests_and_no_secret() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut gw = start(dir.path(), &[]);
    let http = client();
    wait_healthy(&http, &gw).await;
    let pr = pay_flow(&http, &gw).await;
    let resp = http
        .post(format!("{}/api/v1/fake/pay", gw.admin_url()))
        .bearer_auth(TOKEN)
        .json(&json!({ "invoice": pr }))
        .send()
        .await
        .expect("pay");
    assert_eq!(resp.status().as_u16(), 200);
    gw.wait_balance(&http, TOKEN, "alice@localhost", 21_000)
        .await;
    for path in ["/api/v1/accounts/alice@localhost/transactions", "/metrics"] {
        let url = format!("{}{path}", gw.admin_url());
        let resp = http
            .get(url)
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("admin");
        assert_eq!(resp.status(), 200);
    }
    let wrong = http
        .get(format!("{}/api/v1/accounts", gw.admin_url()))
        .bearer_auth("wrong-token-aaaaaaaaaaaa")
        .send()
        .await
        .expect("admin");
    assert_eq!(wrong.status(), 401);
    let _ = http
        .get(format!(
            "{}/lnurlp/nobody/callback?amount=x",
            gw.public_url()
        ))
        .header("x-request-id", "given-id-1")
        .send()
        .await
        .expect("garbage");

    let log = stop(&mut gw).await;
    assert_no_secret(&log, &[TOKEN, NOSTR_SECRET, COMMENT]);
    let lines = access_lines(&log);
    let callback = lines
        .iter()
        .find(|l| l["fields"]["route"] == "/lnurlp/{username}/callback")
        .unwrap_or_else(|| panic!("no callback line in {lines:?}"));
    let f = &callback["fields"];
    assert_eq!(f["status"], 200);
    assert!(f["request_id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(f["latency_ms"].is_number());
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["request_id"] == "given-id-1" && l["fields"]["status"] == 404),
        "{lines:?}"
    );
    assert!(lines.iter().any(|l| l["fields"]["status"] == 401));
}

#[tokio::test]
async fn a_run_on_lnd_does_not_log_the_macaroon() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    let macaroon = hex::encode(std::fs::read(sim.macaroon_path()).expect("macaroon"));
    let mut gw = start(
        &dir.path().join("gw"),
        &[
            ("LNADDR_LIGHTNING__KIND", "lnd".to_string()),
            ("LNADDR_LIGHTNING__LND__ENDPOINT", sim.endpoint()),
            (
                "LNADDR_LIGHTNING__LND__TLS_CERT",
                sim.cert_path().display().to_string(),
            ),
            (
                "LNADDR_LIGHTNING__LND__MACAROON",
                sim.macaroon_path().display().to_string(),
            ),
        ],
    );
    let http = client();
    wait_healthy(&http, &gw).await;
    let pr = pay_flow(&http, &gw).await;
    sim.settle(&pr).expect("settle");
    gw.wait_balance(&http, TOKEN, "alice@localhost", 21_000)
        .await;
    let log = stop(&mut gw).await;
    assert_no_secret(&log, &[TOKEN, NOSTR_SECRET, &macaroon, COMMENT]);
    assert!(!access_lines(&log).is_empty());
}
