//! The admin API: bearer token, never on the public listener, account lifecycle, and the CLI
//! against a running gateway.

mod support;

use reqwest::Method;
use support::gateway::{TOKEN, TestGateway};

#[tokio::test]
async fn admin_refuses_missing_or_wrong_tokens_and_is_not_public() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = TestGateway::start(dir.path()).await;
    let url = format!("{}/api/v1/accounts", gw.admin);
    let none = gw.http.get(&url).send().await.expect("request");
    assert_eq!(none.status(), 401);
    let body: serde_json::Value = none.json().await.expect("json");
    assert_eq!(body["status"], "ERROR");
    let wrong = gw
        .http
        .get(&url)
        .bearer_auth("wrong-token-0123456789")
        .send()
        .await
        .expect("request");
    assert_eq!(wrong.status(), 401);
    let basic = gw
        .http
        .get(&url)
        .basic_auth("admin", Some(TOKEN))
        .send()
        .await
        .expect("request");
    assert_eq!(basic.status(), 401);
    let metrics = gw
        .http
        .get(format!("{}/metrics", gw.admin))
        .send()
        .await
        .expect("request");
    assert_eq!(metrics.status(), 401);

    // The public listener does not route the admin API at all, token or not.
    for path in ["/api/v1/accounts", "/metrics", "/api/v1/fake/pay"] {
        let resp = gw
            .http
            .get(format!("{}{path}", gw.public))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), 404, "{path}");
        let resp = gw
            .http
            .post(format!("{}{path}", gw.public))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("request");
        assert_ne!(resp.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn account_lifecycle() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = TestGateway::start(dir.path()).await;
    let created = gw.create_account("dora@localhost").await;
    assert_eq!(created["balance_msat"], 0);
    let lnurl = created["lnurl"].as_str().expect("lnurl");
    assert_eq!(
        lnaddr::lnurl::decode(lnurl).expect("decodes"),
        format!("{}/.well-known/lnurlp/dora", gw.lnurl_base())
    );
    assert!(created["id"].as_str().is_some_and(|id| id.len() == 32));

    let (status, list) = gw
        .admin(Method::GET, "/api/v1/accounts?domain=localhost", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().expect("array").len(), 1);

    for (body, want) in [
        (serde_json::json!({"address": "no-at-sign"}), 400),
        (serde_json::json!({"address": "bad name@localhost"}), 400),
        (
            serde_json::json!({"address": "x@localhost", "nostr_pubkey": "nothex"}),
            400,
        ),
        (
            serde_json::json!({"address": "x@localhost", "extra": 1}),
            400,
        ),
        (serde_json::json!({"nope": 1}), 400),
    ] {
        let (status, resp) = gw
            .admin(Method::POST, "/api/v1/accounts", Some(body.clone()))
            .await;
        assert_eq!(status, want, "{body} → {resp}");
        assert_eq!(resp["status"], "ERROR");
    }
    assert_eq!(
        gw.admin(Method::GET, "/api/v1/accounts/ghost@localhost", None)
            .await
            .0,
        404
    );

    // Money on the account: removal refused; the account stays.
    let pr = gw.invoice("dora", 1000).await["pr"]
        .as_str()
        .expect("pr")
        .to_string();
    gw.fake_pay(&pr).await;
    gw.wait_balance("dora@localhost", 1000).await;
    let (status, body) = gw
        .admin(Method::DELETE, "/api/v1/accounts/dora@localhost", None)
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(gw.balance("dora@localhost").await, 1000);

    gw.create_account("eve@localhost").await;
    assert_eq!(
        gw.admin(Method::DELETE, "/api/v1/accounts/eve@localhost", None)
            .await
            .0,
        204
    );
    assert_eq!(
        gw.admin(Method::GET, "/api/v1/accounts/eve@localhost", None)
            .await
            .0,
        404
    );
    assert_eq!(gw.get("/.well-known/lnurlp/eve").await.0, 404);

    // Fake pay of garbage and of a foreign invoice.
    assert_eq!(gw.fake_pay("lnbc1garbage").await.0, 400);

    let metrics = gw
        .http
        .get(format!("{}/metrics", gw.admin))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("m")
        .text()
        .await
        .expect("t");
    assert!(
        metrics.contains("lnaddr_invoices_created_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("lnaddr_invoices_settled_total 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "lnaddr_http_requests_total{route=\"/lnurlp/{username}/callback\",status=\"200\"} 1"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("lnaddr_http_request_duration_seconds_bucket"),
        "{metrics}"
    );
}

// Multi-threaded: the CLI runs as a blocking child process while the gateway serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_drives_a_running_gateway() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = TestGateway::start(dir.path()).await;
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, TOKEN).expect("token");
    let cli = |args: &[&str]| support::process::cli(&gw.admin, &token_file, args);
    let out = cli(&["account", "add", "fred@localhost"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(shown["address"], "fred@localhost");

    let out = cli(&["account", "add", "fred@localhost"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already taken"));

    let pr = gw.invoice("fred", 4000).await["pr"]
        .as_str()
        .expect("pr")
        .to_string();
    let out = cli(&["fake", "pay", &pr]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    gw.wait_balance("fred@localhost", 4000).await;
    let out = cli(&["account", "show", "fred@localhost"]);
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(shown["balance_msat"], 4000);
    let out = cli(&["account", "list"]);
    assert!(out.status.success());
    let out = cli(&["account", "show", "ghost@localhost"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown user"));

    let out = support::process::cli("http://127.0.0.1:1", &token_file, &["account", "list"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("lnaddr serve"));
}

/// `lnaddr account list | head -1`: the reader goes away before the answer is written; the CLI
/// drops the rest quietly (exit 0, no panic) instead of dying with a backtrace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_writing_to_a_closed_pipe_exits_quietly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = TestGateway::start(dir.path()).await;
    gw.create_account("fred@localhost").await;
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, TOKEN).expect("token");
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lnaddr"))
        .arg("--admin-url")
        .arg(&gw.admin)
        .arg("--token-file")
        .arg(&token_file)
        .args(["account", "list"])
        .env_clear()
        .stdout(writer)
        .output()
        .expect("run cli");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
