//! Nostr Wallet Connect (NIP-47): what a connection may not do, on both stores. Limits (methods,
//! largest payment, budget, requests per connection: `RATE_LIMITED`), a revoked connection and a
//! stranger refused, an expired request refused, one request delivered twice (two relays, a replay,
//! two processes on one Redis) paid once with the same answer, a connection reading only its own
//! account, and a request taken up again from the store after its connection was revoked.

mod support;

use std::time::Duration;

use lightning_invoice::Currency;
use lnaddr::store::redis::RedisStore;
use lnaddr::store::{NwcStore, RequestClaim};
use lnaddr::types::unix_now;
use nostr_sdk::prelude::*;
use nwc::prelude::{ListTransactionsRequest, LookupInvoiceRequest};
use reqwest::Method;
use serde_json::json;
use support::nwc::*;
use support::wallet::foreign_invoice;

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

/// A request taken up again from the store after its connection was revoked, and before it held
/// any budget, pays nothing. A resumed request skips the revocation check (it was accepted when it
/// first ran and its payment may be in flight), so what refuses it is the budget hold: only a
/// hold the request already has may be used on a revoked connection. The test leaves the request
/// as a process that claimed it and died at once would have: claimed a minute ago, never renewed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_request_resumed_after_its_connection_was_revoked_pays_nothing() {
    let env = alice(Backing::Redis, 300_000).await;
    let gw = &env.gw;
    let (view, uri) = connect(gw, ALICE, json!({})).await;
    let raw = RawClient::new(&uri).await;
    wait_info(&raw).await;
    let (invoice, hash) = foreign_invoice(Currency::Regtest, 100_000);
    let ev = raw.request(
        &json!({"method": "pay_invoice", "params": {"invoice": invoice}}).to_string(),
        true,
        vec![],
    );
    let id = view["id"].as_str().expect("id");
    let (status, revoked) = gw
        .admin(Method::DELETE, &format!("/api/v1/nwc/{id}"), None)
        .await;
    assert_eq!(status, 200, "{revoked}");

    let answers = raw.answers_to(&ev).await;
    let redis = env.redis.as_ref().expect("redis");
    let store = RedisStore::connect(&redis.url()).await.expect("connect");
    let (key, json) = (ev.id.to_hex(), ev.as_json());
    let claimed = store
        .claim_nwc_request(&key, unix_now() - 60, 20, &json)
        .await
        .expect("claim");
    assert_eq!(claimed, RequestClaim::Claimed);

    // The gateway's sweep finds the stale claim, runs the request again and answers it.
    let got = raw
        .receive(&raw.keys, answers, 1, Duration::from_secs(60))
        .await;
    assert_eq!(got.len(), 1, "the resumed request was answered");
    assert_eq!(error_code(&got[0].0), "UNAUTHORIZED", "{}", got[0].0);
    assert_eq!(gw.balance(ALICE).await, 300_000, "nothing was taken");
    let (status, payment) = gw
        .admin(
            Method::GET,
            &format!("/api/v1/payments/{}", hex::encode(hash)),
            None,
        )
        .await;
    assert_eq!(status, 404, "no payment was made: {payment}");
    // Answered for good: a later claim gets the same refusal, not another run.
    match store
        .claim_nwc_request(&key, unix_now(), 20, &json)
        .await
        .expect("claim")
    {
        RequestClaim::Answered(answer) => assert!(answer.contains("UNAUTHORIZED"), "{answer}"),
        other => panic!("expected the stored answer, got {other:?}"),
    }
}

on_both_stores!(
    limits_are_enforced,
    refusals_change_nothing,
    a_connection_sending_too_many_requests_is_rate_limited,
    a_duplicate_request_pays_once,
);
