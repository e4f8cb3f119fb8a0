//! The webhook part of the store conformance suite: registrations, and the delivery outbox that
//! every backend fills in the same atomic step as a credit and hands to one claimer at a time.
//! Run for each backend by `tests/webhook_store.rs`.

use std::collections::HashSet;
use std::sync::Arc;

use lnaddr::store::webhooks::{EventType, Webhook, event_id};
use lnaddr::store::*;

use super::store_suite::{created, invoice_for, new_account, settlement};

const NOW: u64 = 1_700_000_000_000;
const LEASE: u64 = 60_000;
/// Far enough ahead that every entry, even one pre-entered with a real clock, is due.
const LATER: u64 = u64::MAX / 4;

pub fn webhook(id: &str, created_at: u64, domain: Option<&str>) -> Webhook {
    Webhook {
        id: id.into(),
        url: format!("https://shop.example/{id}"),
        events: vec![EventType::PaymentReceived],
        domain: domain.map(str::to_string),
        secret: format!("whsec_{id}"),
        created_at,
    }
}

pub async fn registrations(store: Arc<dyn Store>) {
    assert!(store.webhooks().await.expect("list").is_empty());
    let b = webhook("wh_b", 2, Some("example.com"));
    let a = webhook("wh_a", 1, None);
    store.create_webhook(&b).await.expect("create");
    store.create_webhook(&a).await.expect("create");
    // Oldest first, secret kept (deliveries are signed with it).
    assert_eq!(store.webhooks().await.expect("list"), vec![a.clone(), b]);
    assert!(store.delete_webhook("wh_b").await.expect("delete"));
    assert!(!store.delete_webhook("wh_b").await.expect("delete again"));
    assert!(
        !store
            .delete_webhook("wh_none")
            .await
            .expect("delete unknown")
    );
    assert_eq!(store.webhooks().await.expect("list"), vec![a]);
}

async fn credited(store: &Arc<dyn Store>, address: &str, n: u64) -> (Account, Vec<InvoiceRecord>) {
    let a = store
        .create_account(new_account(address))
        .await
        .expect("create");
    let mut invoices = Vec::new();
    for i in 1..=n {
        let inv = invoice_for(&a, i, 1_000 * i);
        store.add_invoice(inv.clone()).await.expect("add");
        store
            .credit_settlement(&settlement(&inv, i))
            .await
            .expect("credit");
        invoices.push(inv);
    }
    (a, invoices)
}

pub async fn queued_once_with_the_credit(store: Arc<dyn Store>) {
    let a = created(store.as_ref(), "shop@example.com").await;
    let mut inv = invoice_for(&a, 1, 21_000);
    inv.payer_data = Some(r#"{"name":"Bob"}"#.into());
    inv.zap_request = Some(format!(
        r#"{{"kind":9734,"pubkey":"{}","content":""}}"#,
        "ab".repeat(32)
    ));
    store.add_invoice(inv.clone()).await.expect("add");
    let id = event_id(EventType::PaymentReceived, &inv.payment_hash);
    assert!(store.webhook_job(&a.id, &id).await.expect("read").is_none());
    // The same settlement credited many times, concurrently: one credit, one event.
    let credits = (0..8).map(|_| {
        let store = store.clone();
        let s = settlement(&inv, 1);
        tokio::spawn(async move { store.credit_settlement(&s).await.expect("credit") })
    });
    let credited = futures_util::future::join_all(credits)
        .await
        .into_iter()
        .filter(|o| matches!(o.as_ref().expect("join"), CreditOutcome::Credited { .. }))
        .count();
    assert_eq!(credited, 1);
    let job = store
        .webhook_job(&a.id, &id)
        .await
        .expect("read")
        .expect("queued with the credit");
    assert_eq!(job.event.id, id);
    assert_eq!(job.event.kind, EventType::PaymentReceived);
    assert_eq!(job.event.created_at, 1_700_000_001);
    let data = &job.event.data;
    assert_eq!(data.address, "shop@example.com");
    assert_eq!(data.amount_msat, 21_000);
    assert_eq!(data.fee_msat, 0);
    assert_eq!(data.payment_hash, inv.payment_hash.to_hex());
    assert_eq!(data.comment.as_deref(), Some("comment 1"));
    assert_eq!(data.payer_data.as_deref(), Some(r#"{"name":"Bob"}"#));
    assert_eq!(data.zap_sender, Some("ab".repeat(32)));
    assert_eq!(job.domain, "example.com");
    assert!(!job.done && !job.targets_chosen);
    let stats = store.webhook_queue_stats().await.expect("stats");
    assert_eq!(stats.pending, 1);
    assert!(stats.oldest_queued_at_ms.is_some());
    let claimed = store
        .claim_webhook_jobs("w1", NOW, LEASE, 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1, "due at once");
    assert_eq!(claimed[0].lease_owner.as_deref(), Some("w1"));
}

pub async fn claims_are_exclusive_under_concurrency(store: Arc<dyn Store>) {
    let (a, invoices) = credited(&store, "many@example.com", 10).await;
    let claims = (0..4).map(|w| {
        let store = store.clone();
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = store
                    .claim_webhook_jobs(&format!("w{w}"), NOW, LEASE, 3)
                    .await
                    .expect("claim");
                if got.is_empty() {
                    return mine;
                }
                mine.extend(got.into_iter().map(|j| j.event.id));
            }
        })
    });
    let all: Vec<String> = futures_util::future::join_all(claims)
        .await
        .into_iter()
        .flat_map(|r| r.expect("join"))
        .collect();
    let unique: HashSet<&String> = all.iter().collect();
    assert_eq!(all.len(), 10, "each job claimed by exactly one: {all:?}");
    let expected: HashSet<String> = invoices
        .iter()
        .map(|i| event_id(EventType::PaymentReceived, &i.payment_hash))
        .collect();
    assert_eq!(
        unique.into_iter().cloned().collect::<HashSet<_>>(),
        expected
    );
    for id in &expected {
        let job = store
            .webhook_job(&a.id, id)
            .await
            .expect("read")
            .expect("job");
        assert_eq!(job.account_id, a.id);
    }
}

pub async fn saves_reschedule_and_finish(store: Arc<dyn Store>) {
    credited(&store, "resched@example.com", 1).await;
    let mut job = store
        .claim_webhook_jobs("w1", NOW, LEASE, 10)
        .await
        .expect("claim")
        .pop()
        .expect("one job");
    assert!(
        !store.save_webhook_job("w2", &job).await.expect("save"),
        "not the holder"
    );
    job.due_at_ms = NOW + 5_000;
    job.targets_chosen = true;
    assert!(store.save_webhook_job("w1", &job).await.expect("save"));
    assert!(
        store
            .claim_webhook_jobs("w1", NOW + 1_000, LEASE, 10)
            .await
            .expect("claim")
            .is_empty(),
        "not due yet"
    );
    let mut again = store
        .claim_webhook_jobs("w2", NOW + 5_000, LEASE, 10)
        .await
        .expect("claim")
        .pop()
        .expect("due again");
    assert!(again.targets_chosen, "progress was saved");
    again.done = true;
    assert!(store.save_webhook_job("w2", &again).await.expect("save"));
    assert!(
        store
            .claim_webhook_jobs("w3", LATER, LEASE, 10)
            .await
            .expect("claim")
            .is_empty(),
        "finished jobs leave the queue"
    );
    assert_eq!(
        store.webhook_queue_stats().await.expect("stats"),
        webhooks::QueueStats::default()
    );
    let kept = store
        .webhook_job(&again.account_id, &again.event.id)
        .await
        .expect("read")
        .expect("kept");
    assert!(kept.done && kept.lease_owner.is_none());
}

pub async fn an_expired_lease_passes_to_another(store: Arc<dyn Store>) {
    credited(&store, "lease@example.com", 1).await;
    let job = store
        .claim_webhook_jobs("w1", NOW, LEASE, 10)
        .await
        .expect("claim")
        .pop()
        .expect("job");
    assert!(
        store
            .claim_webhook_jobs("w2", NOW + LEASE - 1, LEASE, 10)
            .await
            .expect("claim")
            .is_empty(),
        "leased"
    );
    let taken = store
        .claim_webhook_jobs("w2", NOW + LEASE, LEASE, 10)
        .await
        .expect("claim")
        .pop()
        .expect("the lease ran out");
    assert_eq!(taken.event.id, job.event.id);
    assert!(
        !store.save_webhook_job("w1", &job).await.expect("save"),
        "w1 lost it"
    );
    let mut done = taken;
    done.done = true;
    assert!(store.save_webhook_job("w2", &done).await.expect("save"));
}

pub async fn no_event_without_a_credit(store: Arc<dyn Store>) {
    let a = created(store.as_ref(), "gone@example.com").await;
    // Expired a moment ago: the account is removable, the records not yet forgotten.
    let expired = lnaddr::types::unix_now() - 1;
    let unpaid = InvoiceRecord {
        expires_at: expired,
        ..invoice_for(&a, 1, 1_000)
    };
    let orphan = InvoiceRecord {
        expires_at: expired,
        ..invoice_for(&a, 2, 1_000)
    };
    store.add_invoice(unpaid.clone()).await.expect("add");
    store.add_invoice(orphan.clone()).await.expect("add");
    store.delete_account(&a.id).await.expect("delete");
    assert_eq!(
        store
            .credit_settlement(&settlement(&orphan, 1))
            .await
            .expect("credit"),
        CreditOutcome::AccountGone
    );
    assert!(
        store
            .claim_webhook_jobs("w1", LATER, LEASE, 10)
            .await
            .expect("claim")
            .is_empty(),
        "nothing credited, nothing to deliver"
    );
    assert_eq!(store.webhook_queue_stats().await.expect("stats").pending, 0);
    for inv in [&unpaid, &orphan] {
        let id = event_id(EventType::PaymentReceived, &inv.payment_hash);
        assert!(store.webhook_job(&a.id, &id).await.expect("read").is_none());
    }
}

pub async fn finished_payments_queue_sent_or_failed(store: Arc<dyn Store>) {
    use super::withdraw_suite::{funded, link, reservation};
    use lnaddr::types::Msat;
    let a = funded(&store, "payer@example.com", 100_000).await;
    let l = link(&a, 2, 50_000);
    store.create_withdraw_link(&l).await.expect("link");
    let sent = reservation(&l, 10_000, 1_000);
    let failed = reservation(&l, 5_000, 500);
    for r in [&sent, &failed] {
        assert!(matches!(
            store.reserve_withdrawal(r).await.expect("reserve"),
            ReserveOutcome::Reserved(_)
        ));
        let id = event_id(EventType::PaymentSent, &r.payment_hash);
        assert!(
            store.webhook_job(&a.id, &id).await.expect("read").is_none(),
            "nothing to tell while pending"
        );
    }
    let ok = Finish::Succeeded {
        fee: Msat::from_msat(120),
        preimage: None,
    };
    let bad = Finish::Failed {
        reason: "no route".into(),
    };
    // Finished twice each (a replay): one event each.
    for _ in 0..2 {
        store
            .finish_withdrawal(&sent.payment_hash, &ok, 2_000)
            .await
            .expect("finish");
        store
            .finish_withdrawal(&failed.payment_hash, &bad, 2_001)
            .await
            .expect("finish");
    }
    let job = store
        .webhook_job(&a.id, &event_id(EventType::PaymentSent, &sent.payment_hash))
        .await
        .expect("read")
        .expect("payment.sent queued with the finish");
    assert_eq!(job.event.kind, EventType::PaymentSent);
    assert_eq!(job.event.created_at, 2_000);
    assert_eq!(job.event.data.address, "payer@example.com");
    assert_eq!(job.event.data.amount_msat, 10_000);
    assert_eq!(job.event.data.fee_msat, 120);
    assert_eq!(job.event.data.payment_hash, sent.payment_hash.to_hex());
    let job = store
        .webhook_job(
            &a.id,
            &event_id(EventType::PaymentFailed, &failed.payment_hash),
        )
        .await
        .expect("read")
        .expect("payment.failed queued with the finish");
    assert_eq!(job.event.kind, EventType::PaymentFailed);
    assert_eq!(job.event.data.amount_msat, 5_000);
    assert_eq!(job.event.data.fee_msat, 0);
    assert!(
        store
            .webhook_job(
                &a.id,
                &event_id(EventType::PaymentFailed, &sent.payment_hash)
            )
            .await
            .expect("read")
            .is_none()
    );
    // The funding credit, the sent and the failed payment: three events, each claimed once.
    let claimed = store
        .claim_webhook_jobs("w1", NOW, LEASE, 10)
        .await
        .expect("claim");
    let kinds: HashSet<EventType> = claimed.iter().map(|j| j.event.kind).collect();
    assert_eq!(claimed.len(), 3, "{claimed:?}");
    assert_eq!(kinds.len(), 3);
}
