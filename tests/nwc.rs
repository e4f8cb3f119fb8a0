//! Nostr Wallet Connect (NIP-47) end to end, on both stores, over in-process relays: every method
//! through rust-nostr's independent `nwc` client (NIP-04) and through NIP-44 v2 requests, the info
//! event, limits (methods, largest payment, budget, requests per connection: `RATE_LIMITED`), a
//! zero-amount invoice paid the `amount` asked (refused without), a revoked connection and a
//! stranger refused, an expired request refused, one request delivered twice (two relays, a
//! replay, two processes on one Redis) paid once with the same answer, and notifications of a
//! Lightning Address payment and of an outgoing payment.

mod support;

use std::time::Duration;

use lightning_invoice::Currency;
use nostr_sdk::prelude::*;
use nwc::prelude::{
    ListTransactionsRequest, LookupInvoiceRequest, MakeInvoiceRequest, NotificationResult,
    PayInvoiceRequest, TransactionType,
};
use reqwest::Method;
use serde_json::{Value, json};
use support::nwc::*;
use support::wallet::{foreign_invoice, foreign_invoice_at};

const ALICE: &str = "alice@localhost";

async fn alice(b: Backing, balance: u64) -> NwcGateway {
    let env = nwc_gateway(b, 1).await;
    env.gw.create_account(ALICE).await;
    fund(&env.gw, ALICE, balance).await;
    env
}

async fn every_method_through_the_nwc_client(b: Backing) {
    let env = alice(b, 1_000_000).await;
    let gw = &env.gw;
    // A Lightning Address payment with a comment and payer data, to list later.
    let payer_data = r#"{"name":"Bob"}"#;
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let (_, cb) = gw
        .get(&format!(
            "/lnurlp/alice/callback?amount=21000&comment=coffee&payerdata={}",
            enc(payer_data)
        ))
        .await;
    gw.fake_pay(cb["pr"].as_str().expect("pr")).await;
    gw.wait_balance(ALICE, 1_021_000).await;

    let (view, uri) = connect(gw, ALICE, json!({"name": "Damus"})).await;
    assert_eq!(uri.lud16.as_deref(), Some(ALICE));
    assert_eq!(view["wallet_pubkey"], uri.public_key.to_hex());
    assert_eq!(
        view["client_pubkey"],
        Keys::new(uri.secret.clone()).public_key().to_hex()
    );
    let client = nwc_client(&uri);

    let info = client.get_info().await.expect("get_info");
    assert_eq!(info.network.as_deref(), Some("regtest"));
    assert!(
        info.methods
            .contains(&nwc::nostr::nips::nip47::Method::PayInvoice),
        "{info:?}"
    );
    assert_eq!(client.get_balance().await.expect("balance"), 1_021_000);

    let made = client
        .make_invoice(MakeInvoiceRequest {
            amount: 5_000,
            description: Some("from nwc".into()),
            description_hash: None,
            expiry: Some(600),
        })
        .await
        .expect("make_invoice");
    assert_eq!(gw.fake_pay(&made.invoice).await.0, 200);
    gw.wait_balance(ALICE, 1_026_000).await;
    let looked = client
        .lookup_invoice(LookupInvoiceRequest {
            payment_hash: made.payment_hash.clone(),
            invoice: None,
        })
        .await
        .expect("lookup");
    assert_eq!(looked.amount, 5_000);
    assert!(looked.settled_at.is_some(), "{looked:?}");

    let (invoice, hash) = foreign_invoice(Currency::Regtest, 100_000);
    let paid = client
        .pay_invoice(PayInvoiceRequest::new(invoice.clone()))
        .await
        .expect("pay_invoice");
    assert_eq!(paid.preimage.len(), 64);
    assert_eq!(
        gw.balance(ALICE).await,
        926_000,
        "the amount and the real fee (0)"
    );
    let out = client
        .lookup_invoice(LookupInvoiceRequest {
            payment_hash: None,
            invoice: Some(invoice),
        })
        .await
        .expect("lookup outgoing");
    assert_eq!(out.transaction_type, Some(TransactionType::Outgoing));
    assert_eq!(out.payment_hash, hex::encode(hash));

    let all = client
        .list_transactions(ListTransactionsRequest::default())
        .await
        .expect("list");
    assert_eq!(all.len(), 4, "{all:?}");
    assert_eq!(all[0].transaction_type, Some(TransactionType::Outgoing));
    let coffee = all
        .iter()
        .find(|t| t.amount == 21_000)
        .expect("the address payment");
    let meta = coffee.metadata.as_ref().expect("metadata");
    assert_eq!(meta["comment"], "coffee");
    assert_eq!(meta["payer_data"]["name"], "Bob");
    let page = client
        .list_transactions(ListTransactionsRequest {
            limit: Some(2),
            offset: Some(1),
            transaction_type: Some(TransactionType::Incoming),
            ..Default::default()
        })
        .await
        .expect("page");
    assert_eq!(
        page.iter().map(|t| t.amount).collect::<Vec<_>>(),
        vec![21_000, 1_000_000]
    );

    // Unknown invoice: NOT_FOUND.
    let err = client
        .lookup_invoice(LookupInvoiceRequest {
            payment_hash: Some("11".repeat(32)),
            invoice: None,
        })
        .await
        .expect_err("unknown");
    assert!(err.to_string().contains("NotFound"), "{err}");
    client.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_method_through_the_nwc_client_embedded() {
    every_method_through_the_nwc_client(Backing::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_method_through_the_nwc_client_redis() {
    every_method_through_the_nwc_client(Backing::Redis).await;
}

async fn nip44_requests_are_answered_in_nip44(b: Backing) {
    let env = alice(b, 500_000).await;
    let (_, uri) = connect(&env.gw, ALICE, json!({})).await;
    let raw = RawClient::new(&uri).await;
    // The info event names both encryptions and the notifications.
    let info = wait_info(&raw).await;
    let tag = |name: &str| {
        info.tags
            .iter()
            .find(|t| t.kind() == TagKind::custom(name))
            .and_then(|t| t.content())
            .map(str::to_string)
    };
    assert_eq!(tag("encryption").as_deref(), Some("nip44_v2 nip04"));
    assert_eq!(
        tag("notifications").as_deref(),
        Some("payment_received payment_sent")
    );
    assert!(info.content.contains("pay_invoice"), "{}", info.content);

    for method in ["get_balance", "get_info", "list_transactions"] {
        let ev = raw.request(
            &json!({"method": method, "params": {}}).to_string(),
            true,
            vec![],
        );
        let (answer, resp) = raw.send(&ev, 1).await.remove(0);
        assert!(!resp.content.contains("?iv="), "answered in NIP-44");
        assert_eq!(answer["result_type"], method);
        assert!(answer["error"].is_null(), "{answer}");
        // The response names the request and its author.
        assert!(resp.tags.event_ids().any(|id| *id == ev.id));
        assert!(
            resp.tags
                .public_keys()
                .any(|pk| *pk == raw.keys.public_key())
        );
    }
    let made = raw
        .call(
            &json!({"method": "make_invoice", "params": {"amount": 2000}}).to_string(),
            true,
        )
        .await;
    assert_eq!(made["result"]["amount"], 2000, "{made}");
    let (invoice, _) = foreign_invoice(Currency::Regtest, 50_000);
    let paid = raw
        .call(
            &json!({"method": "pay_invoice", "params": {"invoice": invoice}}).to_string(),
            true,
        )
        .await;
    assert!(paid["error"].is_null(), "{paid}");
    assert_eq!(paid["result"]["fees_paid"], 0);
    assert_eq!(env.gw.balance(ALICE).await, 450_000);
    // And NIP-04 on the same connection, answered in NIP-04.
    let ev = raw.request(r#"{"method":"get_balance","params":{}}"#, false, vec![]);
    let (answer, resp) = raw.send(&ev, 1).await.remove(0);
    assert!(resp.content.contains("?iv="), "answered in NIP-04");
    assert_eq!(answer["result"]["balance"], 450_000);
}

async fn wait_info(raw: &RawClient) -> Event {
    support::process::wait_for("the info event", WAIT, || async {
        let filter = Filter::new()
            .author(raw.uri.public_key)
            .kind(Kind::from(13194));
        raw.client
            .fetch_events(filter, Duration::from_secs(2))
            .await
            .ok()
            .and_then(|events| events.first().cloned())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nip44_requests_are_answered_in_nip44_embedded() {
    nip44_requests_are_answered_in_nip44(Backing::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nip44_requests_are_answered_in_nip44_redis() {
    nip44_requests_are_answered_in_nip44(Backing::Redis).await;
}

fn error_code(answer: &Value) -> &str {
    answer["error"]["code"].as_str().unwrap_or("none")
}

async fn pay(raw: &RawClient, amount: u64) -> Value {
    let (invoice, _) = foreign_invoice(Currency::Regtest, amount);
    raw.call(
        &json!({"method": "pay_invoice", "params": {"invoice": invoice}}).to_string(),
        true,
    )
    .await
}

async fn limits_are_enforced(b: Backing) {
    let env = alice(b, 2_000_000).await;
    let gw = &env.gw;
    // Budget 250 sat a day: two payments of 100 sat (each holding 10 sat of fee reserve while in
    // flight, the real fee 0 kept), then the third is over.
    let (view, uri) = connect(
        gw,
        ALICE,
        json!({"budget_msat": 250_000, "budget_renewal": "daily", "max_amount_msat": 150_000}),
    )
    .await;
    let raw = RawClient::new(&uri).await;
    for _ in 0..2 {
        let ok = pay(&raw, 100_000).await;
        assert!(ok["error"].is_null(), "{ok}");
    }
    let over = pay(&raw, 100_000).await;
    assert_eq!(error_code(&over), "QUOTA_EXCEEDED", "{over}");
    let too_big = pay(&raw, 160_000).await;
    assert_eq!(error_code(&too_big), "QUOTA_EXCEEDED", "{too_big}");
    assert_eq!(gw.balance(ALICE).await, 1_800_000, "only two payments left");
    let (_, list) = gw
        .admin(Method::GET, &format!("/api/v1/accounts/{ALICE}/nwc"), None)
        .await;
    assert_eq!(list[0]["id"], view["id"]);
    assert_eq!(list[0]["budget_used_msat"], 200_000);
    assert!(
        list[0].get("uri").is_none(),
        "the secret is shown only once: {list}"
    );

    // A failed payment gives its budget back.
    gw.fail_next_payments(1).await;
    let failed = pay(&raw, 40_000).await;
    assert_eq!(error_code(&failed), "PAYMENT_FAILED", "{failed}");
    let ok = pay(&raw, 40_000).await;
    assert!(ok["error"].is_null(), "{ok}");

    // More than the balance: INSUFFICIENT_BALANCE, nothing taken.
    let (_, rich) = connect(gw, ALICE, json!({})).await;
    let rich = RawClient::new(&rich).await;
    let broke = pay(&rich, 5_000_000).await;
    assert_eq!(error_code(&broke), "INSUFFICIENT_BALANCE", "{broke}");
    assert_eq!(gw.balance(ALICE).await, 1_760_000);

    // Methods the connection was not given: RESTRICTED; unknown ones: NOT_IMPLEMENTED.
    let (_, ro) = connect(gw, ALICE, json!({"methods": ["get_balance"]})).await;
    let ro = RawClient::new(&ro).await;
    assert_eq!(error_code(&pay(&ro, 1_000).await), "RESTRICTED");
    let unknown = ro
        .call(r#"{"method":"pay_keysend","params":{}}"#, false)
        .await;
    assert_eq!(error_code(&unknown), "NOT_IMPLEMENTED");
    assert_eq!(gw.balance(ALICE).await, 1_760_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn limits_are_enforced_embedded() {
    limits_are_enforced(Backing::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn limits_are_enforced_redis() {
    limits_are_enforced(Backing::Redis).await;
}

async fn refusals_change_nothing(b: Backing) {
    let env = alice(b, 300_000).await;
    let gw = &env.gw;
    let (view, uri) = connect(gw, ALICE, json!({})).await;
    let raw = RawClient::new(&uri).await;
    let (invoice, _) = foreign_invoice(Currency::Regtest, 10_000);
    let pay_json = json!({"method": "pay_invoice", "params": {"invoice": invoice}}).to_string();

    // A stranger who knows the wallet's public key: UNAUTHORIZED, nothing paid.
    let stranger = Keys::generate();
    let ev = raw.request_as(&stranger, &pay_json, true, vec![]);
    let (answer, _) = raw.send_as(&stranger, &ev, 1).await.remove(0);
    assert_eq!(error_code(&answer), "UNAUTHORIZED", "{answer}");

    // An `expiration` in the past: refused (by the relay, NIP-40, or by the service), nothing
    // paid. The service reads one relay connection in order: once a later request is answered,
    // the expired one was seen.
    let past = Timestamp::from(Timestamp::now().as_secs() - 10);
    let ev = raw.request(&pay_json, true, vec![Tag::expiration(past)]);
    let _ = raw.client.send_event(&ev).await;
    let answer = raw.call(r#"{"method":"get_balance"}"#, true).await;
    assert_eq!(answer["result"]["balance"], 300_000, "{answer}");
    assert_eq!(gw.balance(ALICE).await, 300_000);

    // Revoked: UNAUTHORIZED from then on.
    let id = view["id"].as_str().expect("id");
    let (status, revoked) = gw
        .admin(Method::DELETE, &format!("/api/v1/nwc/{id}"), None)
        .await;
    assert_eq!(status, 200, "{revoked}");
    assert_eq!(revoked["revoked"], true);
    let answer = raw.call(&pay_json, true).await;
    assert_eq!(error_code(&answer), "UNAUTHORIZED", "{answer}");
    let answer = raw.call(r#"{"method":"get_balance"}"#, false).await;
    assert_eq!(error_code(&answer), "UNAUTHORIZED", "{answer}");
    assert_eq!(gw.balance(ALICE).await, 300_000);
    let (status, _) = gw
        .admin(
            Method::DELETE,
            &format!("/api/v1/nwc/{}", "ab".repeat(32)),
            None,
        )
        .await;
    assert_eq!(status, 404);

    // Bad admin input changes nothing.
    for bad in [
        json!({"methods": ["steal_everything"]}),
        json!({"budget_renewal": "hourly"}),
        json!({"budget_msat": 0}),
        json!({"expires_in_secs": 0}),
        json!({"surprise": 1}),
    ] {
        let (status, body) = gw
            .admin(
                Method::POST,
                &format!("/api/v1/accounts/{ALICE}/nwc"),
                Some(bad.clone()),
            )
            .await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    let (status, _) = gw
        .admin(
            Method::POST,
            "/api/v1/accounts/nobody@localhost/nwc",
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 404);
    let (_, list) = gw
        .admin(Method::GET, &format!("/api/v1/accounts/{ALICE}/nwc"), None)
        .await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refusals_change_nothing_embedded() {
    refusals_change_nothing(Backing::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refusals_change_nothing_redis() {
    refusals_change_nothing(Backing::Redis).await;
}

async fn a_zero_amount_invoice_is_paid_the_amount_asked(b: Backing) {
    let env = alice(b, 300_000).await;
    let gw = &env.gw;
    let (view, uri) = connect(gw, ALICE, json!({"budget_msat": 200_000})).await;
    let raw = RawClient::new(&uri).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let (invoice, hash) = foreign_invoice_at(Currency::Regtest, None, now, 3600);

    // Without `amount`: refused, nothing paid, nothing taken from the budget.
    let refused = raw
        .call(
            &json!({"method": "pay_invoice", "params": {"invoice": invoice}}).to_string(),
            true,
        )
        .await;
    assert_eq!(error_code(&refused), "OTHER", "{refused}");
    assert_eq!(gw.balance(ALICE).await, 300_000);
    let (status, _) = gw
        .admin(
            Method::GET,
            &format!("/api/v1/payments/{}", hex::encode(hash)),
            None,
        )
        .await;
    assert_eq!(status, 404, "no payment was started");

    // With `amount` (msat): paid exactly that.
    let paid = raw
        .call(
            &json!({"method": "pay_invoice", "params": {"invoice": invoice, "amount": 25_000}})
                .to_string(),
            true,
        )
        .await;
    assert!(paid["error"].is_null(), "{paid}");
    assert_eq!(paid["result"]["fees_paid"], 0, "{paid}");
    assert_eq!(gw.balance(ALICE).await, 275_000);
    let (status, shown) = gw
        .admin(
            Method::GET,
            &format!("/api/v1/payments/{}", hex::encode(hash)),
            None,
        )
        .await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["amount_msat"], 25_000, "{shown}");
    assert_eq!(shown["status"], "succeeded", "{shown}");
    let (_, list) = gw
        .admin(Method::GET, &format!("/api/v1/accounts/{ALICE}/nwc"), None)
        .await;
    assert_eq!(list[0]["id"], view["id"]);
    assert_eq!(list[0]["budget_used_msat"], 25_000, "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_zero_amount_invoice_is_paid_the_amount_asked_embedded() {
    a_zero_amount_invoice_is_paid_the_amount_asked(Backing::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_zero_amount_invoice_is_paid_the_amount_asked_redis() {
    a_zero_amount_invoice_is_paid_the_amount_asked(Backing::Redis).await;
}

/// `[nwc] requests_per_minute` and `requests_burst` per connection: past them every request is
/// answered `RATE_LIMITED` and runs nothing; another connection of the same account has its own
/// allowance.
async fn a_connection_sending_too_many_requests_is_rate_limited(b: Backing) {
    let env = nwc_gateway_with(
        b,
        1,
        vec![
            ("LNADDR_LIMITS__ENABLED".into(), "true".into()),
            ("LNADDR_NWC__REQUESTS_PER_MINUTE".into(), "1".into()),
            ("LNADDR_NWC__REQUESTS_BURST".into(), "3".into()),
        ],
    )
    .await;
    let gw = &env.gw;
    gw.create_account(ALICE).await;
    fund(gw, ALICE, 300_000).await;
    let (_, busy) = connect(gw, ALICE, json!({})).await;
    let busy = RawClient::new(&busy).await;
    for _ in 0..3 {
        let answer = busy.call(r#"{"method":"get_balance"}"#, true).await;
        assert_eq!(answer["result"]["balance"], 300_000, "{answer}");
    }
    let limited = busy.call(r#"{"method":"get_balance"}"#, true).await;
    assert_eq!(error_code(&limited), "RATE_LIMITED", "{limited}");
    assert!(limited["result"].is_null(), "{limited}");
    let limited = pay(&busy, 10_000).await;
    assert_eq!(error_code(&limited), "RATE_LIMITED", "{limited}");
    assert_eq!(gw.balance(ALICE).await, 300_000, "nothing paid");

    let (_, calm) = connect(gw, ALICE, json!({})).await;
    let calm = RawClient::new(&calm).await;
    let ok = pay(&calm, 10_000).await;
    assert!(ok["error"].is_null(), "{ok}");
    assert_eq!(gw.balance(ALICE).await, 290_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_connection_sending_too_many_requests_is_rate_limited_embedded() {
    a_connection_sending_too_many_requests_is_rate_limited(Backing::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_connection_sending_too_many_requests_is_rate_limited_redis() {
    a_connection_sending_too_many_requests_is_rate_limited(Backing::Redis).await;
}

async fn a_duplicate_request_pays_once(b: Backing) {
    let env = nwc_gateway(b, 2).await;
    let gw = &env.gw;
    gw.create_account(ALICE).await;
    fund(gw, ALICE, 500_000).await;
    let (_, uri) = connect(gw, ALICE, json!({})).await;
    assert_eq!(uri.relays.len(), 2);
    let raw = RawClient::new(&uri).await;
    let (invoice, _) = foreign_invoice(Currency::Regtest, 100_000);
    let ev = raw.request(
        &json!({"method": "pay_invoice", "params": {"invoice": invoice}}).to_string(),
        true,
        vec![],
    );
    // Delivered by both relays: each delivery is answered, with the same result.
    let answers = raw.send(&ev, 2).await;
    assert_ne!(answers[0].1.id, answers[1].1.id);
    assert!(answers[0].0["error"].is_null(), "{}", answers[0].0);
    assert_eq!(answers[0].0, answers[1].0, "the same answer");
    assert_eq!(gw.balance(ALICE).await, 400_000, "paid once");
    let debits = gw
        .transactions(ALICE)
        .await
        .into_iter()
        .filter(|t| t["kind"] == "debit")
        .count();
    assert_eq!(debits, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_duplicate_request_pays_once_embedded() {
    a_duplicate_request_pays_once(Backing::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_duplicate_request_pays_once_redis() {
    a_duplicate_request_pays_once(Backing::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_on_one_redis_pay_once_and_both_answer() {
    let env = nwc_gateway(Backing::Redis, 1).await;
    let urls: Vec<String> = env.relays.iter().map(|(_, u)| u.clone()).collect();
    let dir2 = tempfile::tempdir().expect("tmp");
    let gw2 = gateway_on(dir2.path(), &urls, env.redis.as_ref()).await;
    env.gw.create_account(ALICE).await;
    fund(&env.gw, ALICE, 500_000).await;
    let (_, uri) = connect(&env.gw, ALICE, json!({})).await;
    let raw = RawClient::new(&uri).await;
    // The second process learns of the connection from the store.
    wait_both_listen(&raw).await;
    let (invoice, _) = foreign_invoice(Currency::Regtest, 100_000);
    let ev = raw.request(
        &json!({"method": "pay_invoice", "params": {"invoice": invoice}}).to_string(),
        false,
        vec![],
    );
    let answers = raw.send(&ev, 2).await;
    assert_ne!(answers[0].1.id, answers[1].1.id, "one answer per process");
    assert_eq!(answers[0].0, answers[1].0, "the same result");
    assert!(answers[0].0["error"].is_null(), "{}", answers[0].0);
    assert_eq!(gw2.balance(ALICE).await, 400_000, "paid once");
}

/// Waits until both processes listen: a request is then answered twice. A request sent before a
/// process subscribed never reaches it (relays keep no requests), so each try sends a new one.
async fn wait_both_listen(raw: &RawClient) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let ev = raw.request(r#"{"method":"get_balance"}"#, false, vec![]);
        if raw
            .collect(&raw.keys, &ev, 2, Duration::from_secs(2))
            .await
            .len()
            == 2
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the second process never listened"
        );
    }
}

async fn notifications_for_received_and_sent(b: Backing) {
    let env = alice(b, 500_000).await;
    let gw = &env.gw;
    let (_, uri) = connect(gw, ALICE, json!({})).await;
    let client = nwc_client(&uri);
    let raw = RawClient::new(&uri).await;
    wait_info(&raw).await;
    client
        .subscribe_to_notifications()
        .await
        .expect("subscribe");
    let mut nip44_notes = raw.client.notifications();
    let filter = Filter::new()
        .author(uri.public_key)
        .kind(Kind::from(23197))
        .since(Timestamp::now());
    let sub = raw.client.subscribe(filter, None).await.expect("subscribe");
    // The relay has the subscription once it says EOSE for it.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let n = tokio::time::timeout_at(deadline, nip44_notes.recv())
            .await
            .expect("EOSE in time")
            .expect("notification");
        if let RelayPoolNotification::Message {
            message: RelayMessage::EndOfStoredEvents(id),
            ..
        } = n
            && *id == sub.val
        {
            break;
        }
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let listener = client.clone();
    let handle = tokio::spawn(async move {
        listener
            .handle_notifications(|n| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(n);
                    Ok(false)
                }
            })
            .await
    });

    // A Lightning Address payment with a comment.
    let (_, cb) = gw
        .get("/lnurlp/alice/callback?amount=33000&comment=thanks")
        .await;
    let pr = cb["pr"].as_str().expect("pr").to_string();
    gw.fake_pay(&pr).await;
    let n = tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("in time")
        .expect("note");
    match n.notification {
        NotificationResult::PaymentReceived(p) => {
            assert_eq!(p.amount, 33_000);
            assert_eq!(p.invoice, pr);
            assert_eq!(p.metadata.expect("metadata")["comment"], "thanks");
        }
        other => panic!("expected payment_received, got {other:?}"),
    }
    // The NIP-44 twin (kind 23197).
    let twin = next_event(&mut nip44_notes, 23197).await;
    let body = raw.open(&raw.keys, &twin);
    assert_eq!(body["notification_type"], "payment_received");
    assert_eq!(body["notification"]["amount"], 33_000);

    // An outgoing payment through the connection.
    let (invoice, hash) = foreign_invoice(Currency::Regtest, 70_000);
    client
        .pay_invoice(PayInvoiceRequest::new(invoice))
        .await
        .expect("pay");
    let n = tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("in time")
        .expect("note");
    match n.notification {
        NotificationResult::PaymentSent(p) => {
            assert_eq!(p.amount, 70_000);
            assert_eq!(p.payment_hash, hex::encode(hash));
        }
        other => panic!("expected payment_sent, got {other:?}"),
    }
    handle.abort();
    client.shutdown().await;
}

async fn next_event(
    notes: &mut tokio::sync::broadcast::Receiver<RelayPoolNotification>,
    kind: u16,
) -> Event {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let n = tokio::time::timeout_at(deadline, notes.recv())
            .await
            .expect("in time")
            .expect("notification");
        if let RelayPoolNotification::Event { event, .. } = n
            && event.kind == Kind::from(kind)
        {
            return *event;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn notifications_for_received_and_sent_embedded() {
    notifications_for_received_and_sent(Backing::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn notifications_for_received_and_sent_redis() {
    notifications_for_received_and_sent(Backing::Redis).await;
}

/// A connection reads only its own account: another account's invoice on the same gateway (paid,
/// so it exists on the node and in the store) is not found by `lookup_invoice`, and nothing of it
/// shows in `list_transactions` or the balance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_cannot_read_another_accounts_invoices() {
    let env = alice(Backing::Embedded, 10_000).await;
    let gw = &env.gw;
    gw.create_account("bob@localhost").await;
    let (_, cb) = gw.get("/lnurlp/bob/callback?amount=42000").await;
    let pr = cb["pr"].as_str().expect("pr").to_string();
    assert_eq!(gw.fake_pay(&pr).await.0, 200);
    gw.wait_balance("bob@localhost", 42_000).await;
    let bob_hash = pr
        .parse::<lightning_invoice::Bolt11Invoice>()
        .expect("bolt11")
        .payment_hash()
        .to_string();

    let (_, uri) = connect(gw, ALICE, json!({"name": "Damus"})).await;
    let client = nwc_client(&uri);
    for request in [
        LookupInvoiceRequest {
            payment_hash: Some(bob_hash.clone()),
            invoice: None,
        },
        LookupInvoiceRequest {
            payment_hash: None,
            invoice: Some(pr.clone()),
        },
    ] {
        let answer = client.lookup_invoice(request).await;
        assert!(answer.is_err(), "bob's invoice read by alice: {answer:?}");
    }
    let listed = client
        .list_transactions(ListTransactionsRequest::default())
        .await
        .expect("list");
    assert!(
        listed.iter().all(|t| t.payment_hash != bob_hash),
        "{listed:?}"
    );
    assert_eq!(client.get_balance().await.expect("balance"), 10_000);
}
