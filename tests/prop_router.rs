//! The public router end to end over a real socket, fed arbitrary paths and queries (valid HTTP
//! request targets full of client garbage: bad percent escapes, odd names, junk amounts, long
//! comments): every answer is JSON and none is a 5xx. The admin fake-pay endpoint gets arbitrary
//! "invoices" the same way.

mod support;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;
use support::gateway::{TOKEN, TestGateway};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Characters allowed raw in a request target (RFC 3986 pchar, `/`, `?`), `%` included so escapes
/// can be broken.
const TARGET_CHARS: &str = "[A-Za-z0-9._~!$&'()*+,;=:@%/?-]";

fn target() -> impl Strategy<Value = String> {
    let prefix = prop::sample::select(vec![
        "/",
        "/.well-known/lnurlp/",
        "/.well-known/lnurlp/alice",
        "/.well-known/nostr.json",
        "/lnurlp/alice/callback",
        "/lnurlp/",
        "/lnurlp/alice/verify/",
        "/lnurlw/",
        "/withdraw/",
        "/healthz",
    ]);
    let regex = |r: String| proptest::string::string_regex(&r).expect("regex");
    let rest = regex(format!("{TARGET_CHARS}{{0,40}}"));
    let query = prop_oneof![
        Just(String::new()),
        regex(format!("\\?{TARGET_CHARS}{{0,60}}")),
        "\\?amount=[0-9]{0,22}",
        "\\?amount=[0-9]{4,6}&comment=[a-zA-Z0-9%+]{0,300}",
        "\\?amount=1000&nostr=%7B%22[a-zA-Z0-9%:,]{0,80}",
        "\\?name=[a-zA-Z0-9%_.-]{0,20}",
    ];
    (prefix, rest, query).prop_map(|(p, r, q)| format!("{p}{r}{q}"))
}

/// Sends one raw request and answers (status, content type, body).
async fn raw(addr: &str, head: String, body: &[u8]) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(head.as_bytes()).await.expect("write");
    s.write_all(body).await.expect("write");
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.expect("read");
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a whole answer");
    let head = String::from_utf8_lossy(&out[..split]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let content_type = head
        .lines()
        .find_map(|l| l.strip_prefix("content-type:"))
        .unwrap_or("")
        .trim()
        .to_string();
    (status, content_type, out[split + 4..].to_vec())
}

fn check_json(
    what: &str,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> Result<(), TestCaseError> {
    prop_assert!(status < 500, "{what}: status {status}");
    prop_assert_eq!(content_type, "application/json", "{}", what);
    let parsed: Result<Value, _> = serde_json::from_slice(body);
    prop_assert!(
        parsed.is_ok(),
        "{what}: not JSON: {}",
        String::from_utf8_lossy(body)
    );
    Ok(())
}

#[test]
fn the_public_router_answers_json_to_any_garbage() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tmp");
    let gw = rt.block_on(async {
        let gw = TestGateway::start(dir.path()).await;
        gw.create_account("alice@localhost").await;
        gw
    });
    let addr = gw.public.trim_start_matches("http://").to_string();
    let mut runner = TestRunner::new(Config {
        cases: 96,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&target(), |t| {
            let head = format!("GET {t} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            let (status, ct, body) = rt.block_on(raw(&addr, head, b""));
            check_json(&t, status, &ct, &body)
        })
        .expect("every answer is JSON and not a 5xx");
}

#[test]
fn fake_pay_answers_json_to_any_invoice() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tmp");
    let gw = rt.block_on(TestGateway::start(dir.path()));
    let addr = gw.admin.trim_start_matches("http://").to_string();
    let mut runner = TestRunner::new(Config {
        cases: 48,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&"(lnbcrt|lnbc|lntb)?[a-z0-9]{0,300}", |invoice| {
            let body = serde_json::json!({ "invoice": invoice }).to_string();
            let head = format!(
                "POST /api/v1/fake/pay HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let (status, ct, resp) = rt.block_on(raw(&addr, head, body.as_bytes()));
            check_json(&invoice, status, &ct, &resp)
        })
        .expect("every answer is JSON and not a 5xx");
}
