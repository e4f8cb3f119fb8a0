//! The LndHub API driven the way BlueWallet drives it (create credentials, auth, balance,
//! addinvoice, pay it from another account, gettxs, getuserinvoices, payinvoice to an external
//! invoice, refresh, revoke), on the embedded store with the LND simulator; racing payments on one
//! balance; tokens that are bad, expired or revoked; one account's token against another's data;
//! login rate limits; `/create` by the domain's registration. The CLI's
//! `lnaddr lndhub create`: `cli_qr.rs`.

mod lnd_sim;
mod support;

use lightning_invoice::Currency;
use lnd_sim::LndSim;
use serde_json::{Value, json};
use support::lnd_gateway::{Client, started, started_with};
use support::lndhub::{Wallet, assert_bad_auth, count_paid, parse_secret};
use support::process::wait_for;
use support::wallet::foreign_invoice;

async fn admin_post(c: &Client, path: &str, body: Value) -> (u16, Value) {
    c.admin_send(reqwest::Method::POST, path, Some(body)).await
}

/// `lnaddr lndhub create ADDRESS` through the admin API: the lndhub:// string.
async fn credential(c: &Client, address: &str) -> String {
    let (status, body) =
        admin_post(c, &format!("/api/v1/accounts/{address}/lndhub"), json!({})).await;
    assert_eq!(status, 201, "{body}");
    body["url"].as_str().expect("url").to_string()
}

/// Funds `name@localhost` with `msat` paid to its Lightning Address on the simulator.
async fn fund(c: &Client, sim: &LndSim, name: &str, msat: u64) {
    c.fund(name, msat, |pr| sim.settle(pr).expect("settle"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bluewallet_flow_on_the_embedded_store_and_lnd() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    sim.set_payment_fee_msat(1_500);
    let (_gw, c) = started(&dir.path().join("gw"), &sim.lnd()).await;
    c.create_account("alice@localhost").await;
    c.create_account("bob@localhost").await;
    fund(&c, &sim, "alice", 21_000).await;
    fund(&c, &sim, "bob", 5_000_000).await;

    // The string the CLI prints, imported as BlueWallet does.
    let secret = credential(&c, "alice@localhost").await;
    let (login, password, url) = parse_secret(&secret);
    assert_eq!(url, format!("{}/lndhub", c.public));
    assert!(login.bytes().all(|b| b.is_ascii_hexdigit()) && password.len() >= 32);
    let http = reqwest::Client::new();
    let mut alice = Wallet::import(&http, &secret, None);
    let mut bob = Wallet::import(&http, &credential(&c, "bob@localhost").await, None);
    assert_eq!(alice.authorize().await.0, 200);
    assert_eq!(bob.authorize().await.0, 200);

    // getinfo carries the node's identity; getbtc and getpending are empty lists.
    let (status, info) = alice.get("/getinfo").await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["identity_pubkey"], sim.pubkey());
    assert_eq!(alice.list("/getbtc").await, Vec::<Value>::new());
    assert_eq!(alice.list("/getpending").await, Vec::<Value>::new());
    assert_eq!(alice.balance().await, 21);

    // addinvoice with amt as a string; decodeinvoice in LND's names.
    let pay_req = alice.add_invoice(1_000, "coffee").await;
    let (status, decoded) = alice
        .get(&format!("/decodeinvoice?invoice={pay_req}"))
        .await;
    assert_eq!(status, 200, "{decoded}");
    assert_eq!(decoded["num_satoshis"], "1000");
    assert_eq!(decoded["destination"], sim.pubkey());
    let hash = decoded["payment_hash"].as_str().expect("hash").to_string();
    assert_eq!(
        alice.get(&format!("/checkpayment/{hash}")).await.1["paid"],
        false
    );
    // Bob cannot look at alice's invoice.
    assert_eq!(bob.get(&format!("/checkpayment/{hash}")).await.0, 404);

    // Bob pays it: inside the ledger, no fee.
    let (status, paid) = bob.pay(&pay_req).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["payment_error"], "");
    assert_eq!(paid["payment_hash"], hash);
    assert_eq!(paid["fee_msat"], 0);
    assert_eq!(paid["decoded"]["num_satoshis"], "1000");
    c.wait_balance("alice@localhost", 1_021_000).await;
    assert_eq!(bob.balance().await, 4_000);
    // Paying it again is refused and changes nothing.
    let again = bob.pay(&pay_req).await;
    assert_eq!(again.1["error"], true, "{again:?}");
    assert_eq!(bob.balance().await, 4_000);
    assert_eq!(
        alice.get(&format!("/checkpayment/{hash}")).await.1["paid"],
        true
    );

    let txs = bob.list("/gettxs?limit=10&offset=0").await;
    assert_eq!(txs.len(), 1, "{txs:?}");
    assert_eq!(txs[0]["type"], "paid_invoice");
    assert_eq!(txs[0]["value"], 1_000);
    assert_eq!(txs[0]["fee"], 0);
    assert_eq!(txs[0]["payment_hash"], hash);
    assert_eq!(
        bob.list("/getuserinvoices").await.len(),
        1,
        "bob's own funding only"
    );

    // Alice sees the LndHub invoice and the Lightning Address payment.
    let invoices = alice.list("/getuserinvoices?limit=50").await;
    assert_eq!(invoices.len(), 2, "{invoices:?}");
    let mine = invoices
        .iter()
        .find(|i| i["payment_hash"] == hash)
        .expect("the addinvoice invoice");
    assert_eq!(mine["type"], "user_invoice");
    assert_eq!(mine["ispaid"], true);
    assert_eq!(mine["amt"], 1_000);
    assert_eq!(mine["description"], "coffee");
    assert_eq!(mine["pay_req"], pay_req);
    let address_payment = invoices
        .iter()
        .find(|i| i["payment_hash"] != hash)
        .expect("the Lightning Address payment");
    assert_eq!(address_payment["amt"], 21);
    assert_eq!(address_payment["ispaid"], true);

    // An external invoice, paid by the node: value includes the fee.
    let (external, _) = foreign_invoice(Currency::Regtest, 500_000);
    let (status, paid) = alice.pay(&external).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["fee_msat"], 1_500);
    assert_eq!(paid["payment_preimage"].as_str().map(str::len), Some(64));
    assert_eq!(c.balance("alice@localhost").await, 1_021_000 - 501_500);
    assert_eq!(alice.balance().await, 519);
    let txs = alice.list("/gettxs").await;
    assert_eq!(txs.len(), 1);
    assert_eq!(
        txs[0]["value"], 502,
        "501.5 sat shown rounded up, fee included"
    );
    assert_eq!(txs[0]["fee"], 2);
    assert_eq!(sim.payments_started(), 1);

    // Refresh rotates: the old refresh token is spent, the new access token works.
    let old_refresh = alice.refresh_token.clone();
    assert_eq!(alice.refresh().await.0, 200);
    assert_eq!(alice.balance().await, 519);
    let reuse = alice
        .send(
            reqwest::Method::POST,
            "/auth?type=refresh_token",
            Some(json!({"refresh_token": old_refresh})),
            None,
        )
        .await;
    assert_bad_auth(&reuse);

    // Revoke: the tokens stop at once, and so does the password.
    let revoke = format!("/api/v1/lndhub/{}", alice.login);
    let (status, _) = c.admin_send(reqwest::Method::DELETE, &revoke, None).await;
    assert_eq!(status, 200);
    assert_bad_auth(&alice.get("/balance").await);
    assert_bad_auth(&alice.authorize().await);
    assert_bad_auth(&alice.refresh().await);
    // Bob's wallet is untouched.
    assert_eq!(bob.balance().await, 4_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_racing_payments_pay_at_most_the_balance() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    sim.set_payment_fee_msat(0);
    let (_gw, c) = started(&dir.path().join("gw"), &sim.lnd()).await;
    c.create_account("alice@localhost").await;
    fund(&c, &sim, "alice", 100_000).await;
    let http = reqwest::Client::new();
    let mut alice = Wallet::import(&http, &credential(&c, "alice@localhost").await, None);
    assert_eq!(alice.authorize().await.0, 200);
    let alice = std::sync::Arc::new(alice);

    // Each reserves 10 sat plus the 10 sat minimum fee reserve (5 fit at once) and, paid with no
    // fee, keeps 10 sat: at most 9 can ever be paid from 100 sat.
    let mut jobs = tokio::task::JoinSet::new();
    for _ in 0..30 {
        let (pr, _) = foreign_invoice(Currency::Regtest, 10_000);
        let w = alice.clone();
        jobs.spawn(async move { w.pay(&pr).await });
    }
    let ok = count_paid(jobs).await;
    assert!((5..=9).contains(&ok), "{ok} paid");
    assert_eq!(
        sim.payments_started(),
        ok,
        "the node paid exactly the accepted ones"
    );
    c.wait_balance("alice@localhost", 100_000 - ok * 10_000)
        .await;
    assert_eq!(alice.list("/gettxs?limit=100").await.len() as u64, ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_expired_and_foreign_tokens_answer_code_1() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    let (_gw, c) = started(&dir.path().join("gw"), &sim.lnd()).await;
    c.create_account("alice@localhost").await;
    let http = reqwest::Client::new();
    let secret = credential(&c, "alice@localhost").await;
    let mut alice = Wallet::import(&http, &secret, None);

    // No token, a made-up token, a wrong password, an unknown login.
    assert_bad_auth(&alice.get("/balance").await);
    assert_bad_auth(
        &alice
            .send(reqwest::Method::GET, "/getinfo", None, None)
            .await,
    );
    alice.access_token = "00".repeat(32);
    assert_bad_auth(&alice.get("/gettxs").await);
    let mut wrong = Wallet::import(&http, &secret, None);
    wrong.password = "0".repeat(40);
    assert_bad_auth(&wrong.authorize().await);
    wrong.login = "ffffffffffffffffffff".into();
    assert_bad_auth(&wrong.authorize().await);
    // A refresh token is not an access token, nor the other way round.
    assert_eq!(alice.authorize().await.0, 200);
    let refresh = alice.refresh_token.clone();
    let access = alice.access_token.clone();
    alice.access_token = refresh;
    assert_bad_auth(&alice.get("/balance").await);
    alice.refresh_token = access.clone();
    assert_bad_auth(&alice.refresh().await);
    alice.access_token = access;
    assert_eq!(alice.balance().await, 0);

    // Garbage never panics and changes nothing.
    for body in [
        json!({"amt": "-5"}),
        json!({"amt": 1.5}),
        json!({"amt": "1e3"}),
        json!({"amt": []}),
    ] {
        let (status, answer) = alice.post("/addinvoice", body).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["code"], 8);
    }
    let (status, answer) = alice
        .post("/payinvoice", json!({"invoice": "lnbc1nonsense"}))
        .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(alice.list("/getuserinvoices").await.len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn expired_access_tokens_answer_code_1() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    let (gw, c) = started(&dir.path().join("gw"), &sim.lnd()).await;
    c.create_account("alice@localhost").await;
    let http = reqwest::Client::new();
    let mut alice = Wallet::import(&http, &credential(&c, "alice@localhost").await, None);
    assert_eq!(alice.authorize().await.0, 200);
    assert_eq!(alice.balance().await, 0);
    // Expire the token in the store itself (the same record the gateway reads).
    let store = gw.gateway.store().clone();
    let hash = lnaddr::lndhub::digest(&alice.access_token);
    let mut record = store
        .lndhub_token(&hash, 0)
        .await
        .expect("read")
        .expect("the token is kept under its hash");
    assert!(
        record.expires_at >= lnaddr::types::unix_now() + 2 * 3600,
        "lasts at least 2 h"
    );
    record.expires_at = lnaddr::types::unix_now();
    store.put_lndhub_token(&hash, &record).await.expect("put");
    assert_bad_auth(&alice.get("/balance").await);
    // BlueWallet logs in again on code 1.
    assert_eq!(alice.authorize().await.0, 200);
    assert_eq!(alice.balance().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logins_are_rate_limited_per_ip_and_per_login() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    let (_gw, c) = started_with(
        &dir.path().join("gw"),
        &sim.lnd(),
        vec![
            ("LNADDR_LIMITS__ENABLED".into(), "true".into()),
            ("LNADDR_LNDHUB__AUTH_PER_MINUTE".into(), "1".into()),
            ("LNADDR_LNDHUB__AUTH_BURST".into(), "3".into()),
        ],
    )
    .await;
    c.create_account("alice@localhost").await;
    let http = reqwest::Client::new();
    let secret = credential(&c, "alice@localhost").await;
    let mut guesser = Wallet::import(&http, &secret, None);
    guesser.password = "0".repeat(40);
    for _ in 0..3 {
        assert_bad_auth(&guesser.authorize().await);
    }
    let limited = guesser.authorize().await;
    assert_eq!(limited.0, 429, "{limited:?}");
    // The right password is limited too now: guessing cannot go on by alternating.
    let mut alice = Wallet::import(&http, &secret, None);
    assert_eq!(alice.authorize().await.0, 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn create_follows_the_domain_registration() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    let http = reqwest::Client::new();
    let create = |base: String, body: Value| {
        let http = http.clone();
        async move {
            let resp = http
                .post(format!("{base}/create"))
                .json(&body)
                .send()
                .await
                .expect("create");
            let status = resp.status().as_u16();
            (status, resp.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let bluewallet = json!({"partnerid": "bluewallet", "accounttype": "common"});

    // Closed by default.
    let (closed, c) = started(&dir.path().join("closed"), &sim.lnd()).await;
    let (status, body) = create(format!("{}/lndhub", c.public), bluewallet.clone()).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], true);
    assert!(
        c.admin("/api/v1/accounts")
            .await
            .as_array()
            .expect("list")
            .is_empty()
    );
    closed.shutdown().await;

    // Invite: one code, one account.
    let public = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let admin = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = public.local_addr().expect("addr").port();
    let mut env = support::lnd_gateway::lnd_env(&dir.path().join("inv"), port, &sim.lnd());
    env.push((
        "LNADDR_DOMAINS".into(),
        format!(
            r#"[{{name="localhost", public_url="http://127.0.0.1:{port}", registration="invite"}}]"#
        ),
    ));
    let settings = lnaddr::config::Settings::load(None, env).expect("settings");
    let gw = lnaddr::app::start_with_listeners(settings, public, admin)
        .await
        .expect("start");
    let c = Client::of(&gw);
    let base = format!("{}/lndhub", c.public);
    let (status, _) = create(base.clone(), bluewallet.clone()).await;
    assert_eq!(status, 403, "an invite is needed");
    let (status, invite) =
        admin_post(&c, "/api/v1/lndhub/invites", json!({"domain": "localhost"})).await;
    assert_eq!(status, 201, "{invite}");
    let invite_url = invite["url"].as_str().expect("url").to_string();
    assert_eq!(
        invite_url,
        format!("{base}/i/{}", invite["code"].as_str().expect("code"))
    );
    // BlueWallet's "create" flow with the invite URL as its LndHub URL.
    let (status, made) = create(invite_url.clone(), bluewallet.clone()).await;
    assert_eq!(status, 200, "{made}");
    let (again, _) = create(invite_url.clone(), bluewallet.clone()).await;
    assert_eq!(again, 403, "an invite opens one account");
    let secret = format!(
        "lndhub://{}:{}@{invite_url}",
        made["login"].as_str().expect("login"),
        made["password"].as_str().expect("password")
    );
    let mut w = Wallet::import(&http, &secret, None);
    assert_eq!(w.authorize().await.0, 200);
    assert_eq!(w.balance().await, 0);
    let address = made["address"].as_str().expect("address");
    assert!(address.ends_with("@localhost"), "{address}");
    assert_eq!(
        c.admin("/api/v1/accounts")
            .await
            .as_array()
            .expect("list")
            .len(),
        1
    );
    let pr = w.add_invoice(5, "first").await;
    sim.settle(&pr).expect("settle");
    wait_for(
        "the invoice to be credited",
        std::time::Duration::from_secs(20),
        || async { (w.balance().await == 5).then_some(()) },
    )
    .await;
}
