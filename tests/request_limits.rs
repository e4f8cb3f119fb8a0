//! Request and connection limits over real sockets: oversized head (431), URL (414) and admin body
//! (413); slow and silent clients cut off within the header timeout while the server goes on;
//! the connection cap; request ids.

mod support;

use std::time::{Duration, Instant};

use serde_json::Value;
use support::gateway::{TOKEN, TestGateway};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn gateway(dir: &std::path::Path, extra: &[(&str, &str)]) -> TestGateway {
    let extra: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    TestGateway::start_with(dir, move |url| {
        let mut e = extra;
        e.push((
            "LNADDR_DOMAINS".into(),
            format!(r#"[{{name="localhost", public_url="{url}"}}]"#),
        ));
        e
    })
    .await
}

fn addr(base: &str) -> String {
    base.trim_start_matches("http://").to_string()
}

#[tokio::test]
async fn oversized_head_url_and_admin_body_are_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let gw = gateway(dir.path(), &[]).await;

    let resp = gw
        .http
        .get(format!("{}/healthz", gw.public))
        .header("x-padding", "a".repeat(32 * 1024))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 431);

    let resp = gw
        .http
        .get(format!(
            "{}/.well-known/lnurlp/{}",
            gw.public,
            "a".repeat(10_000)
        ))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 414);
    assert_eq!(
        resp.headers()["access-control-allow-origin"],
        "*",
        "CORS on limit answers too"
    );
    let body: Value = resp.json().await.expect("JSON");
    assert_eq!(body["status"], "ERROR");

    let resp = gw
        .http
        .post(format!("{}/api/v1/accounts", gw.admin))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"address":"{}@localhost"}}"#,
            "a".repeat(100_000)
        ))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 413);
    let body: Value = resp.json().await.expect("JSON");
    assert_eq!(body["status"], "ERROR");

    // Still serving.
    let (status, _) = gw.get("/healthz").await;
    assert_eq!(status, 200);
}

/// Reads until the server closes the connection; answers what it sent.
async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn slow_and_silent_clients_are_cut_off_and_the_server_goes_on() {
    let dir = tempfile::tempdir().expect("tmp");
    let gw = gateway(
        dir.path(),
        &[("LNADDR_LIMITS__HEADER_READ_TIMEOUT_SECS", "2")],
    )
    .await;
    let cutoff = Duration::from_secs(2);
    let margin = Duration::from_secs(3);

    // Sends one byte of a request head a second, never finishing within the timeout.
    let mut slow = TcpStream::connect(addr(&gw.public)).await.expect("connect");
    let started = Instant::now();
    let head = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let mut cut_after = None;
    for byte in head {
        if slow.write_all(&[*byte]).await.is_err() {
            cut_after = Some(started.elapsed());
            break;
        }
        let mut probe = [0u8; 512];
        // The pause between bytes doubles as the check for a close from the server.
        match tokio::time::timeout(Duration::from_secs(1), slow.read(&mut probe)).await {
            Ok(Ok(_)) | Ok(Err(_)) => {
                cut_after = Some(started.elapsed());
                break;
            }
            Err(_) => {}
        }
    }
    let cut_after = cut_after.expect("the slow client was cut off before finishing its head");
    assert!(
        cut_after >= cutoff - Duration::from_millis(200) && cut_after <= cutoff + margin,
        "cut after {cut_after:?}"
    );

    // A client that sends nothing at all is closed too.
    let mut silent = TcpStream::connect(addr(&gw.public)).await.expect("connect");
    let started = Instant::now();
    tokio::time::timeout(cutoff + margin, read_to_close(&mut silent))
        .await
        .expect("the silent connection is closed");
    assert!(started.elapsed() >= cutoff - Duration::from_millis(200));

    // A keep-alive connection is closed once idle for the timeout after its last answer.
    let mut idle = TcpStream::connect(addr(&gw.public)).await.expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .expect("write");
    let started = Instant::now();
    let answer = tokio::time::timeout(cutoff + margin, read_to_close(&mut idle))
        .await
        .expect("the idle keep-alive connection is closed");
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
    assert!(started.elapsed() >= cutoff - Duration::from_millis(200));

    let (status, _) = gw.get("/healthz").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn the_connection_cap_makes_clients_wait_not_fail() {
    let dir = tempfile::tempdir().expect("tmp");
    let gw = gateway(
        dir.path(),
        &[
            ("LNADDR_LIMITS__MAX_CONNECTIONS", "2"),
            ("LNADDR_LIMITS__HEADER_READ_TIMEOUT_SECS", "1"),
        ],
    )
    .await;
    // Two idle connections take both slots...
    let _a = TcpStream::connect(addr(&gw.public)).await.expect("connect");
    let _b = TcpStream::connect(addr(&gw.public)).await.expect("connect");
    // ...so a real request waits until the idle ones are cut off, then is served.
    let started = Instant::now();
    let (status, _) = gw.get("/healthz").await;
    assert_eq!(status, 200);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn request_ids_are_echoed_only_when_safe() {
    let dir = tempfile::tempdir().expect("tmp");
    let gw = gateway(dir.path(), &[]).await;
    let id = |resp: &reqwest::Response| {
        resp.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .expect("X-Request-Id")
            .to_string()
    };
    let resp = gw
        .http
        .get(format!("{}/healthz", gw.public))
        .header("x-request-id", "trace-42.a_b")
        .send()
        .await
        .expect("request");
    assert_eq!(id(&resp), "trace-42.a_b");
    let long = "x".repeat(200);
    let resp = gw
        .http
        .get(format!("{}/nope", gw.public))
        .header("x-request-id", long.as_str())
        .send()
        .await
        .expect("request");
    let generated = id(&resp);
    assert_ne!(generated, long);
    assert!(!generated.is_empty() && generated.len() <= 64);
    let resp = gw
        .http
        .get(format!("{}/metrics", gw.admin))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 401);
    assert!(!id(&resp).is_empty());
}
