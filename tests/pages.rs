//! Pages for people, in a real browser (headless Chromium over the DevTools protocol) against a
//! gateway on real sockets: the pay page fetches an invoice, shows its QR code and turns to "paid"
//! once the (fake) node settles it; the operator console signs in, lists and searches accounts,
//! shows a ledger whose HTML comment stays text, creates a printable voucher; no page scrolls
//! sideways at 360 px. Plus the headers and refusals that need no browser: the CSP, asset caching,
//! the QR endpoint's allowlist, the console being a token-guarded API client, the zap outbox route.

mod support;

use nostr_sdk::JsonUtil;
use reqwest::Method;
use serde_json::{Value, json};
use support::browser::{self, Browser};
use support::gateway::{TOKEN, TestGateway};
use support::zaps::{account_with_key, free_port, tag, zap_callback, zap_gateway, zap_request};

const EVIL: &str = "<script>window.pwned=1</script><b>bold</b> & \"quotes\"";

/// Pays `user` `amount` msat with `comment` through the callback and the fake node.
async fn pay(gw: &TestGateway, user: &str, amount: u64, comment: &str) {
    let comment: String = url::form_urlencoded::byte_serialize(comment.as_bytes()).collect();
    let (status, body) = gw
        .get(&format!(
            "/lnurlp/{user}/callback?amount={amount}&comment={comment}"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = gw.fake_pay(body["pr"].as_str().expect("pr")).await;
    assert_eq!(status, 200, "{body}");
}

/// No script error, no CSP violation, no failed load on the pages seen so far.
fn assert_clean(b: &Browser) {
    assert!(
        b.problems().is_empty(),
        "browser problems: {:?}",
        b.problems()
    );
}

#[tokio::test]
async fn pay_page_fetches_an_invoice_shows_its_qr_code_and_turns_paid() {
    let dir = tempfile::tempdir().expect("dir");
    let gw = TestGateway::start(dir.path()).await;
    gw.create_account("alice@localhost").await;
    let Some(b) = browser::launch(360, 740).await else {
        return;
    };
    b.goto(&format!("{}/pay/alice", gw.public)).await;
    assert!(b.text("h1").await.contains("alice@localhost"));
    b.wait_for(
        "document.querySelector('.qr svg') !== null",
        "the LNURL QR code is drawn",
    )
    .await;
    assert!(
        b.scroll_width().await <= 360,
        "the pay page scrolls sideways"
    );

    // Out of range: said in words, and no invoice asked for.
    b.act(
        "document.getElementById('amount').value = '0'; document.getElementById('pay').requestSubmit()",
        "!document.getElementById('error').hidden",
        "the range error shows",
    )
    .await;
    assert!(
        b.text("#error").await.contains("between 1 sat and"),
        "{}",
        b.text("#error").await
    );
    assert!(gw.transactions("alice@localhost").await.is_empty());

    b.act(
        "document.getElementById('amount').value = '21';\
         document.getElementById('comment').value = 'for the coffee';\
         document.getElementById('pay').requestSubmit()",
        "!document.getElementById('invoice').hidden && document.getElementById('pr').value.startsWith('lnbcrt')",
        "the invoice shows",
    )
    .await;
    b.wait_for(
        "document.getElementById('invoice-qr').complete && document.getElementById('invoice-qr').naturalWidth > 0",
        "the invoice QR code loads",
    )
    .await;
    let pr = b.eval("document.getElementById('pr').value").await;
    let pr = pr.as_str().expect("pr").to_string();
    assert_eq!(
        b.eval("document.getElementById('open-link').getAttribute('href')")
            .await,
        json!(format!("lightning:{pr}"))
    );
    assert!(b.text("#status").await.contains("Waiting"));
    assert!(
        b.scroll_width().await <= 360,
        "the invoice scrolls sideways"
    );

    let (status, body) = gw.fake_pay(&pr).await;
    assert_eq!(status, 200, "{body}");
    b.wait_for(
        "document.getElementById('status').textContent.includes('Paid')",
        "the page says paid",
    )
    .await;
    b.screenshot(&browser::screenshot_dir().join("pay-360.png"))
        .await;
    gw.wait_balance("alice@localhost", 21_000).await;
    let txs = gw.transactions("alice@localhost").await;
    assert_eq!(txs[0]["comment"], "for the coffee");
    assert_clean(&b);

    // An unknown name is a page that says so, not JSON.
    b.goto(&format!("{}/pay/nobody", gw.public)).await;
    assert!(
        b.text(".error").await.contains("no Lightning Address"),
        "{}",
        b.text("main").await
    );
}

#[tokio::test]
async fn console_signs_in_lists_accounts_shows_html_as_text_and_creates_a_voucher() {
    let dir = tempfile::tempdir().expect("dir");
    let gw = TestGateway::start(dir.path()).await;
    gw.create_account("alice@localhost").await;
    gw.create_account("bob@localhost").await;
    pay(&gw, "alice", 50_000, EVIL).await;
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
    assert_clean(&b);

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
    assert_clean(&b);
}

#[tokio::test]
async fn no_page_scrolls_sideways_at_360_px() {
    let dir = tempfile::tempdir().expect("dir");
    let gw = zap_gateway(dir.path(), &[]).await;
    let (sender, recipient) = (nostr_sdk::Keys::generate(), nostr_sdk::Keys::generate());
    let long = format!("a{}", "b".repeat(60));
    account_with_key(&gw, &format!("{long}@localhost"), &recipient.public_key()).await;
    pay(&gw, &long, 1_000, &"x".repeat(200)).await;
    // A zap whose receipt cannot go out: the outbox view has a relay and a reason to show.
    let dead = format!("ws://127.0.0.1:{}", free_port());
    let request = zap_request(
        &sender,
        vec![
            tag(&["p", &recipient.public_key().to_hex()]),
            tag(&["relays", &dead]),
        ],
        "zap",
    );
    let (_, body) = zap_callback(&gw, &long, 2_000, &request.as_json()).await;
    gw.fake_pay(body["pr"].as_str().expect("pr")).await;
    let (_, link) = gw
        .admin(
            Method::POST,
            &format!("/api/v1/accounts/{long}@localhost/withdraw-links"),
            Some(json!({"max_msat": 1000, "title": "t".repeat(80)})),
        )
        .await;
    let Some(b) = browser::launch(360, 740).await else {
        return;
    };
    for url in [
        format!("{}/pay/{long}", gw.public),
        link["page"].as_str().expect("page").to_string(),
        format!("{}/", gw.admin),
    ] {
        b.goto(&url).await;
        assert!(b.scroll_width().await <= 360, "{url} scrolls sideways");
    }
    b.act(
        &format!(
            "document.getElementById('token').value = {}; document.getElementById('signin').requestSubmit()",
            json!(TOKEN)
        ),
        "document.querySelectorAll('#accounts tr').length === 1",
        "accounts list",
    )
    .await;
    assert!(
        b.scroll_width().await <= 360,
        "the account list scrolls sideways"
    );
    for (hash, ready) in [
        (
            format!("#account/{long}%40localhost"),
            "document.querySelector('td.comment') !== null",
        ),
        (
            "#zaps".to_string(),
            "document.querySelector('.badge') !== null",
        ),
        (
            "#webhooks".to_string(),
            "document.querySelector('h2') !== null",
        ),
        (
            "#domains".to_string(),
            "document.querySelector('h2') !== null",
        ),
    ] {
        b.eval(&format!("location.hash = {}", json!(hash))).await;
        b.wait_for(ready, &hash).await;
        assert!(b.scroll_width().await <= 360, "{hash} scrolls sideways");
        if hash == "#zaps" {
            b.wait_for(
                &format!(
                    "document.getElementById('view').textContent.includes({})",
                    json!(dead)
                ),
                "the outbox names the relay that fails",
            )
            .await;
            b.screenshot(&browser::screenshot_dir().join("console-zaps-360.png"))
                .await;
        }
    }
}

#[tokio::test]
async fn pages_carry_a_strict_csp_and_assets_are_cached() {
    let dir = tempfile::tempdir().expect("dir");
    let gw = TestGateway::start(dir.path()).await;
    gw.create_account("alice@localhost").await;
    for url in [format!("{}/pay/alice", gw.public), format!("{}/", gw.admin)] {
        let resp = gw.http.get(&url).send().await.expect("page");
        assert_eq!(resp.status(), 200, "{url}");
        let csp = resp.headers()["content-security-policy"]
            .to_str()
            .expect("csp");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        let html = resp.text().await.expect("html");
        assert!(
            !html.contains("<script>") && !html.contains("<style"),
            "{url}"
        );
        let js = html
            .split("src=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("a script tag");
        let base = url
            .trim_end_matches('/')
            .rsplit_once("/pay")
            .map_or(url.trim_end_matches('/'), |(b, _)| b);
        let asset = gw
            .http
            .get(format!("{base}{js}"))
            .send()
            .await
            .expect("asset");
        assert_eq!(asset.status(), 200, "{js}");
        assert_eq!(asset.headers()["cache-control"], "public, max-age=86400");
        assert!(
            asset.headers()["content-type"]
                .to_str()
                .expect("ct")
                .starts_with("text/javascript")
        );
    }
    // An unknown name is a 404 page in words; the name is escaped.
    let resp = gw
        .http
        .get(format!("{}/pay/%3Cb%3Ex", gw.public))
        .send()
        .await
        .expect("page");
    assert_eq!(resp.status(), 404);
    let html = resp.text().await.expect("html");
    assert!(
        html.contains("&lt;b&gt;x") && !html.contains("<b>x"),
        "{html}"
    );
}

#[tokio::test]
async fn the_qr_endpoint_draws_only_invoices_and_lnurls() {
    let dir = tempfile::tempdir().expect("dir");
    let gw = TestGateway::start(dir.path()).await;
    let account = gw.create_account("alice@localhost").await;
    let pr = gw.invoice("alice", 1000).await["pr"]
        .as_str()
        .expect("pr")
        .to_string();
    let lnurl = account["lnurl"].as_str().expect("lnurl").to_string();
    for data in [pr.as_str(), lnurl.as_str()] {
        let resp = gw
            .http
            .get(format!("{}/qr.svg", gw.public))
            .query(&[("data", data)])
            .send()
            .await
            .expect("qr");
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "image/svg+xml");
        assert!(resp.text().await.expect("svg").starts_with("<svg"));
    }
    for data in ["https://evil.example/", "<svg onload=alert(1)>", ""] {
        let resp = gw
            .http
            .get(format!("{}/qr.svg", gw.public))
            .query(&[("data", data)])
            .send()
            .await
            .expect("qr");
        assert_eq!(resp.status(), 400, "{data}");
    }
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
    pay(&gw, "plain", 1_000, "not a zap").await;
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
