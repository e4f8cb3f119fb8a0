//! The operator console, in a real browser (headless Chromium over the DevTools protocol) against
//! a gateway on real sockets: it signs in, lists and searches accounts, shows a ledger whose HTML
//! comment stays text, creates a printable voucher. Without a browser: the console is a
//! token-guarded client of the admin API, and the zap outbox route lists receipts and why.

mod support;

use nostr_sdk::JsonUtil;
use reqwest::Method;
use serde_json::{Value, json};
use support::browser;
use support::gateway::{TOKEN, TestGateway, comment_query};
use support::zaps::{account_with_key, free_port, tag, zap_callback, zap_gateway, zap_request};

const EVIL: &str = "<script>window.pwned=1</script><b>bold</b> & \"quotes\"";

#[tokio::test]
async fn console_signs_in_lists_accounts_shows_html_as_text_and_creates_a_voucher() {
    let dir = tempfile::tempdir().expect("dir");
    let gw = TestGateway::start(dir.path()).await;
    gw.create_account("alice@localhost").await;
    gw.create_account("bob@localhost").await;
    gw.pay_with("alice", 50_000, &comment_query(EVIL)).await;
    gw.wait_balance("alice@localhost", 50_000).await;
    let Some(b) = browser::launch(1280, 900).await else {
        return;
    };
    b.goto(&format!("{}/", gw.admin)).await;
    b.wait_for(
        "!document.getElementById('signin').hidden",
        "the sign-in form shows",
    )
    .await;

    // A wrong token is refused in words.
    b.act(
        "document.getElementById('token').value = 'wrong'; document.getElementById('signin').requestSubmit()",
        "document.getElementById('signin-error').textContent.includes('Wrong token')",
        "the wrong token is refused",
    )
    .await;

    b.act(
        &format!(
            "document.getElementById('token').value = {}; document.getElementById('signin').requestSubmit()",
            json!(TOKEN)
        ),
        "document.querySelectorAll('#accounts tr').length === 2",
        "both accounts are listed",
    )
    .await;
    assert!(b.text("#accounts").await.contains("50 sat"));
    b.act(
        "const s = document.getElementById('search'); s.value = 'bob'; s.dispatchEvent(new Event('input'))",
        "document.querySelectorAll('#accounts tr').length === 1",
        "the search keeps bob only",
    )
    .await;
    assert!(b.text("#accounts").await.contains("bob@localhost"));

    // alice's ledger: the comment is text, its markup never runs or renders.
    b.act(
        "location.hash = '#account/alice%40localhost'",
        "document.querySelector('td.comment') !== null",
        "the ledger shows",
    )
    .await;
    assert_eq!(b.text("td.comment").await, EVIL);
    assert_eq!(b.eval("typeof window.pwned").await, json!("undefined"));
    assert_eq!(
        b.eval("document.querySelectorAll('#view b, #view script').length")
            .await,
        json!(0)
    );
    assert_eq!(b.text("#balance").await, "50 sat");

    // A voucher, created through the console, is a real link of the admin API.
    b.act(
        "document.querySelector('#voucher [name=max_sat]').value = '5';\
         document.querySelector('#voucher [name=title]').value = 'Tip <i>jar</i>';\
         document.getElementById('voucher').requestSubmit()",
        "document.getElementById('voucher-page') !== null",
        "the voucher is created",
    )
    .await;
    b.wait_for(
        "document.querySelector('#voucher-result img.qr').naturalWidth > 0",
        "the voucher QR code loads",
    )
    .await;
    b.screenshot(&browser::screenshot_dir().join("console-account-1280.png"))
        .await;
    let page = b
        .eval("document.getElementById('voucher-page').href")
        .await
        .as_str()
        .expect("href")
        .to_string();
    let k1 = page.rsplit('/').next().expect("k1").to_string();
    let (status, link) = gw
        .admin(Method::GET, &format!("/api/v1/withdraw-links/{k1}"), None)
        .await;
    assert_eq!(status, 200, "{link}");
    assert_eq!(link["max_msat"], 5000, "{link}");
    b.assert_clean();

    // The printable voucher: amount in big type, the title as text, no sideways scroll on a phone.
    b.viewport(360, 740).await;
    b.goto(&page).await;
    assert_eq!(b.text(".amt").await, "5 sat");
    assert_eq!(b.text("h1").await, "Tip <i>jar</i>");
    let big = b
        .eval("parseFloat(getComputedStyle(document.querySelector('.amt')).fontSize)")
        .await;
    assert!(
        big.as_f64().expect("px") >= 40.0,
        "amount in big type: {big}"
    );
    assert!(
        b.scroll_width().await <= 360,
        "the voucher scrolls sideways"
    );
    b.screenshot(&browser::screenshot_dir().join("voucher-360.png"))
        .await;
    // Printed: the Print button is not on paper.
    b.call("Emulation.setEmulatedMedia", json!({"media": "print"}))
        .await;
    assert_eq!(
        b.eval("getComputedStyle(document.querySelector('[data-print]')).display")
            .await,
        json!("none")
    );
    b.assert_clean();
}

#[tokio::test]
async fn the_console_is_a_token_guarded_client_of_the_api() {
    let dir = tempfile::tempdir().expect("dir");
    let gw = TestGateway::start(dir.path()).await;
    // The page and its assets need no token; the API and the QR helper do.
    let page = gw
        .http
        .get(format!("{}/", gw.admin))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 200);
    for (method, path) in [
        (Method::GET, "/api/v1/accounts"),
        (Method::POST, "/console/qr"),
        (Method::GET, "/api/v1/zap-receipts"),
        (Method::POST, "/"),
    ] {
        let resp = gw
            .http
            .request(method.clone(), format!("{}{path}", gw.admin))
            .body("x")
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), 401, "{method} {path} without a token");
    }
    let qr = gw
        .http
        .post(format!("{}/console/qr", gw.admin))
        .bearer_auth(TOKEN)
        .body("lndhub://login:password@http://127.0.0.1/lndhub")
        .send()
        .await
        .expect("qr");
    assert_eq!(qr.status(), 200);
    assert!(qr.text().await.expect("svg").starts_with("<svg"));
    // The console is not on the public listener.
    let public = gw
        .http
        .get(format!("{}/", gw.public))
        .send()
        .await
        .expect("public");
    assert_eq!(public.status(), 404);
}

#[tokio::test]
async fn the_zap_outbox_lists_receipts_with_their_state_and_why() {
    let dir = tempfile::tempdir().expect("dir");
    let gw = zap_gateway(dir.path(), &[]).await;
    let (sender, recipient) = (nostr_sdk::Keys::generate(), nostr_sdk::Keys::generate());
    account_with_key(&gw, "zed@localhost", &recipient.public_key()).await;
    gw.create_account("plain@localhost").await;
    gw.pay_with("plain", 1_000, &comment_query("not a zap"))
        .await;
    let dead = format!("ws://127.0.0.1:{}", free_port());
    let request = zap_request(
        &sender,
        vec![
            tag(&["p", &recipient.public_key().to_hex()]),
            tag(&["relays", &dead]),
        ],
        "",
    );
    let (_, body) = zap_callback(&gw, "zed", 3_000, &request.as_json()).await;
    let pr = body["pr"].as_str().expect("an invoice").to_string();
    gw.fake_pay(&pr).await;
    let entry: Value = support::process::wait_for(
        "the receipt's first failed attempt",
        std::time::Duration::from_secs(20),
        || async {
            let (status, list) = gw.admin(Method::GET, "/api/v1/zap-receipts", None).await;
            assert_eq!(status, 200, "{list}");
            list.as_array()
                .and_then(|l| l.first().cloned())
                .filter(|e| e["receipt"]["relays_pending"][0]["last_error"].is_string())
        },
    )
    .await;
    assert_eq!(entry["address"], "zed@localhost");
    assert_eq!(entry["amount_msat"], 3000);
    assert_eq!(entry["receipt"]["status"], "pending");
    assert_eq!(entry["receipt"]["relays_pending"][0]["url"], dead);
    let (_, pending) = gw
        .admin(Method::GET, "/api/v1/zap-receipts?status=pending", None)
        .await;
    assert_eq!(
        pending.as_array().expect("list").len(),
        1,
        "only the zap: {pending}"
    );
    let (_, sent) = gw
        .admin(Method::GET, "/api/v1/zap-receipts?status=sent", None)
        .await;
    assert_eq!(sent, json!([]));
    let (status, _) = gw
        .admin(Method::GET, "/api/v1/zap-receipts?status=bogus", None)
        .await;
    assert_eq!(status, 400);
    let (status, _) = gw
        .admin(
            Method::GET,
            "/api/v1/zap-receipts?domain=elsewhere.example",
            None,
        )
        .await;
    assert_eq!(status, 400);
}
