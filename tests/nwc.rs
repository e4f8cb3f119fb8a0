//! Nostr Wallet Connect (NIP-47) end to end, on both stores, over in-process relays: every method
//! through rust-nostr's independent `nwc` client (NIP-04) and through NIP-44 v2 requests, the info
//! event, a zero-amount invoice paid the `amount` asked (refused without), and notifications of a
//! Lightning Address payment and of an outgoing payment. What a connection may not do is in
//! `nwc_refusals.rs`.

mod support;

use lightning_invoice::Currency;
use nostr_sdk::prelude::*;
use nwc::prelude::{
    ListTransactionsRequest, LookupInvoiceRequest, MakeInvoiceRequest, NotificationResult,
    PayInvoiceRequest, TransactionType,
};
use reqwest::Method;
use serde_json::json;
use support::nwc::*;
use support::wallet::{foreign_invoice, foreign_invoice_at};

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

on_both_stores!(
    every_method_through_the_nwc_client,
    nip44_requests_are_answered_in_nip44,
    a_zero_amount_invoice_is_paid_the_amount_asked,
    notifications_for_received_and_sent,
);
