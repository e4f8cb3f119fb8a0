//! The webhook part of the store conformance suite (`tests/support/webhook_suite.rs`) against
//! every backend: embedded, one Redis server, a Redis Cluster.

mod support;

use std::sync::Arc;

use lnaddr::store::Store;
use lnaddr::store::embedded::EmbeddedStore;

conformance! {
    webhook_suite => [
        registrations,
        queued_once_with_the_credit,
        claims_are_exclusive_under_concurrency,
        saves_reschedule_and_finish,
        an_expired_lease_passes_to_another,
        no_event_without_a_credit,
        finished_payments_queue_sent_or_failed,
    ],
}

/// A delivery job queued by a credit survives closing and reopening the embedded store.
#[tokio::test]
async fn embedded_webhook_job_survives_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.redb");
    let (id, hash) = {
        let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(&path).expect("open"));
        let a = store
            .create_account(support::store_suite::new_account("kept@example.com"))
            .await
            .expect("create");
        let inv = support::store_suite::invoice_for(&a, 1, 4242);
        store.add_invoice(inv.clone()).await.expect("add");
        store
            .credit_settlement(&support::store_suite::settlement(&inv, 1))
            .await
            .expect("credit");
        (a.id, inv.payment_hash)
    };
    let store = EmbeddedStore::open(&path).expect("reopen");
    let event = lnaddr::store::webhooks::event_id(
        lnaddr::store::webhooks::EventType::PaymentReceived,
        &hash,
    );
    use lnaddr::store::WebhookStore;
    let claimed = store
        .claim_webhook_jobs("after-reopen", 1, 1_000, 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].event.id, event);
    assert_eq!(claimed[0].account_id, id);
}
