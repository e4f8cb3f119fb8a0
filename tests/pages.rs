//! Pages for people, in a real browser (headless Chromium over the DevTools protocol) against a
//! gateway on real sockets: the pay page fetches an invoice, shows its QR code and turns to "paid"
//! once the (fake) node settles it; no page scrolls sideways at 360 px. Plus the headers and
//! refusals that need no browser: the CSP, asset caching, the QR endpoint's allowlist. The
//! operator console: `console.rs`.

mod support;

use nostr_sdk::JsonUtil;
use reqwest::Method;
use serde_json::json;
use support::browser;
use support::gateway::{TOKEN, TestGateway, comment_query};
use support::zaps::{account_with_key, free_port, tag, zap_callback, zap_gateway, zap_request};

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
    b.assert_clean();

    // An unknown name is a page that says so, not JSON.
    b.goto(&format!("{}/pay/nobody", gw.public)).await;
    assert!(
        b.text(".error").await.contains("no Lightning Address"),
        "{}",
        b.text("main").await
    );
}

#[tokio::test]
async fn no_page_scrolls_sideways_at_360_px() {
    let dir = tempfile::tempdir().expect("dir");
    let gw = zap_gateway(dir.path(), &[]).await;
    let (sender, recipient) = (nostr_sdk::Keys::generate(), nostr_sdk::Keys::generate());
    let long = format!("a{}", "b".repeat(60));
    account_with_key(&gw, &format!("{long}@localhost"), &recipient.public_key()).await;
    gw.pay_with(&long, 1_000, &comment_query(&"x".repeat(200)))
        .await;
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
