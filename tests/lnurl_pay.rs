//! LNURL-pay as a wallet sees it, over real sockets: the lookup (LUD-06/16), the callback's invoice
//! decoded with an independent BOLT 11 decoder, LUD-18 payerdata, LUD-12 comments, the verify URL,
//! and every bad input answered with the error JSON and nothing written.

mod support;

use bitcoin::hashes::Hash;
use lightning_invoice::{Bolt11Invoice, Bolt11InvoiceDescriptionRef};
use lnurl::LnUrlResponse;
use sha2::{Digest, Sha256};
use support::gateway::TestGateway;

fn decode(pr: &str) -> Bolt11Invoice {
    let invoice: Bolt11Invoice = pr.parse().expect("valid BOLT 11");
    invoice.check_signature().expect("signature valid");
    invoice
}

fn description_hash(invoice: &Bolt11Invoice) -> [u8; 32] {
    match invoice.description() {
        Bolt11InvoiceDescriptionRef::Hash(h) => h.0.to_byte_array(),
        Bolt11InvoiceDescriptionRef::Direct(_) => panic!("expected a description hash"),
    }
}

#[tokio::test]
async fn lookup_answers_lud06_and_lud16_field_by_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = TestGateway::start(dir.path()).await;
    gw.create_account("alice@localhost").await;

    let resp = gw
        .http
        .get(format!("{}/.well-known/lnurlp/alice", gw.public))
        .send()
        .await
        .expect("lookup");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["tag"], "payRequest");
    assert_eq!(
        body["callback"],
        format!("{}/lnurlp/alice/callback", gw.lnurl_base())
    );
    assert_eq!(body["minSendable"], 1000);
    assert_eq!(body["maxSendable"], 100_000_000_000u64);
    assert_eq!(body["commentAllowed"], 255);
    assert!(body["payerData"]["name"]["mandatory"] == false, "{body}");
    // No nostr pubkey on the account: no zap fields.
    assert!(
        body.get("allowsNostr").is_none() && body.get("nostrPubkey").is_none(),
        "{body}"
    );
    let metadata: Vec<Vec<String>> =
        serde_json::from_str(body["metadata"].as_str().expect("string")).expect("array");
    assert!(metadata.contains(&vec![
        "text/identifier".to_string(),
        "alice@localhost".to_string()
    ]));
    assert!(metadata.iter().any(|e| e[0] == "text/plain"));
}

#[tokio::test]
async fn a_wallet_library_gets_an_invoice_bound_to_the_metadata() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = TestGateway::start(dir.path()).await;
    gw.create_account("alice@localhost").await;

    // The wallet side: lnurl-rs, a library nobody here wrote.
    let wallet = lnurl::AsyncClient::from_client(reqwest::Client::new());
    let LnUrlResponse::LnUrlPayResponse(pay) = wallet
        .make_request(&format!("{}/.well-known/lnurlp/alice", gw.public))
        .await
        .expect("lookup")
    else {
        panic!("not a payRequest")
    };
    let got = wallet
        .get_invoice(&pay, 21_000, None, Some("thanks"))
        .await
        .expect("invoice");
    let invoice = decode(got.invoice());
    assert_eq!(invoice.amount_milli_satoshis(), Some(21_000));
    assert_eq!(description_hash(&invoice), pay.metadata_hash());
    assert!(!invoice.is_expired());
    assert!(invoice.payment_secret().0 != [0u8; 32]);
}

#[tokio::test]
async fn payerdata_is_committed_as_received() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = TestGateway::start(dir.path()).await;
    gw.create_account("alice@localhost").await;
    let (_, lookup) = gw.get("/.well-known/lnurlp/alice").await;
    let metadata = lookup["metadata"].as_str().expect("metadata");
    // Key order and spacing as a wallet might send them: hashed byte for byte, not re-serialized.
    let payer = r#"{"name": "bob","identifier":"bob@bob.com"}"#;
    let encoded: String = url::form_urlencoded::byte_serialize(payer.as_bytes()).collect();
    let (status, body) = gw
        .get(&format!(
            "/lnurlp/alice/callback?amount=5000&payerdata={encoded}"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    let invoice = decode(body["pr"].as_str().expect("pr"));
    let expected: [u8; 32] = Sha256::digest(format!("{metadata}{payer}").as_bytes()).into();
    assert_eq!(description_hash(&invoice), expected);
    assert_eq!(invoice.amount_milli_satoshis(), Some(5000));
}

#[tokio::test]
async fn callback_carries_success_action_and_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = TestGateway::start(dir.path()).await;
    gw.create_account("alice@localhost").await;
    gw.create_account("mallory@localhost").await;
    let body = gw.invoice("alice", 10_000).await;
    assert_eq!(body["routes"], serde_json::json!([]));
    assert_eq!(body["disposable"], false);
    assert_eq!(body["successAction"]["tag"], "message");
    assert!(
        body["successAction"]["message"]
            .as_str()
            .expect("message")
            .chars()
            .count()
            <= 144
    );
    let pr = body["pr"].as_str().expect("pr");
    let hash = decode(pr).payment_hash().to_string();
    let verify = body["verify"].as_str().expect("verify");
    assert_eq!(
        verify,
        format!("{}/lnurlp/alice/verify/{hash}", gw.lnurl_base())
    );

    let wallet = lnurl::AsyncClient::from_client(reqwest::Client::new());
    let before = wallet.verify(verify).await.expect("verify");
    assert!(!before.settled);
    assert_eq!(before.preimage, None);
    assert_eq!(before.pr, pr);

    let (status, paid) = gw.fake_pay(pr).await;
    assert_eq!(status, 200, "{paid}");
    let after = wallet.verify(verify).await.expect("verify");
    assert!(after.settled);
    let preimage = hex::decode(after.preimage.expect("preimage")).expect("hex");
    assert_eq!(hex::encode(Sha256::digest(&preimage)), hash);

    // Another user's view of the same hash: never revealed.
    let (status, body) = gw.get(&format!("/lnurlp/mallory/verify/{hash}")).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["status"], "ERROR");
    let (status, _) = gw.get("/lnurlp/alice/verify/nothex").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn bad_input_is_refused_with_the_error_json_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = TestGateway::start(dir.path()).await;
    gw.create_account("alice@localhost").await;
    let cases: &[(&str, u16)] = &[
        ("/lnurlp/alice/callback", 200),
        ("/lnurlp/alice/callback?amount=", 200),
        ("/lnurlp/alice/callback?amount=abc", 200),
        ("/lnurlp/alice/callback?amount=1000.5", 200),
        ("/lnurlp/alice/callback?amount=-1000", 200),
        ("/lnurlp/alice/callback?amount=999", 200),
        ("/lnurlp/alice/callback?amount=100000000001", 200),
        (
            "/lnurlp/alice/callback?amount=99999999999999999999999999",
            200,
        ),
        ("/lnurlp/alice/callback?amount=1000&payerdata=notjson", 200),
        ("/lnurlp/alice/callback?amount=1000&payerdata=%5B1%5D", 200),
        ("/lnurlp/nobody/callback?amount=1000", 404),
        ("/lnurlp/bad%20name/callback?amount=1000", 404),
        ("/.well-known/lnurlp/nobody", 404),
        ("/.well-known/lnurlp/%FF", 404),
        ("/no/such/path", 404),
    ];
    for (path, want) in cases {
        let (status, body) = gw.get(path).await;
        assert_eq!(status, *want, "{path}: {body}");
        assert_eq!(body["status"], "ERROR", "{path}: {body}");
        assert!(
            body["reason"].as_str().is_some_and(|r| !r.is_empty()),
            "{path}: {body}"
        );
    }
    assert_eq!(gw.metric("lnaddr_invoices_created_total").await, 0.0);
    assert_eq!(gw.balance("alice@localhost").await, 0);
    assert!(gw.transactions("alice@localhost").await.is_empty());
    // A wrong method is refused too, as JSON.
    let resp = gw
        .http
        .post(format!("{}/.well-known/lnurlp/alice", gw.public))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 405);
}

#[tokio::test]
async fn an_over_long_comment_is_cut_not_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = TestGateway::start(dir.path()).await;
    gw.create_account("alice@localhost").await;
    let long = "é".repeat(300);
    let encoded: String = url::form_urlencoded::byte_serialize(long.as_bytes()).collect();
    let (status, body) = gw
        .get(&format!(
            "/lnurlp/alice/callback?amount=2000&comment={encoded}"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    gw.fake_pay(body["pr"].as_str().expect("pr")).await;
    gw.wait_balance("alice@localhost", 2000).await;
    let txs = gw.transactions("alice@localhost").await;
    assert_eq!(
        txs[0]["comment"].as_str().expect("comment").chars().count(),
        255
    );
}

#[tokio::test]
async fn preflight_and_health() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = TestGateway::start(dir.path()).await;
    let resp = gw
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/lnurlp/alice/callback", gw.public),
        )
        .header("origin", "https://wallet.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .expect("preflight");
    assert!(resp.status().is_success());
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    assert!(
        resp.headers()["access-control-allow-methods"]
            .to_str()
            .expect("str")
            .contains("GET")
    );
    assert_eq!(gw.get("/healthz").await.0, 200);
    assert_eq!(gw.get("/readyz").await.0, 200);
}
