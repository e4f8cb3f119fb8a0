//! The webhook part of the store conformance suite (`tests/support/webhook_suite.rs`) against
//! every backend: embedded, one Redis server, a Redis Cluster.

mod support;

use std::sync::Arc;

use lnaddr::store::Store;
use lnaddr::store::embedded::EmbeddedStore;
use lnaddr::store::redis::RedisStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_webhook_outbox_conforms() {
    let dir = tempfile::tempdir().expect("tempdir");
    let counter = std::sync::atomic::AtomicU32::new(0);
    support::webhook_suite::run_all(async || {
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path = dir.path().join(format!("w{n}.redb"));
        Arc::new(EmbeddedStore::open(&path).expect("open")) as Arc<dyn Store>
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_webhook_outbox_conforms() {
    let server = support::redis_server::RedisServer::start();
    let url = server.url();
    support::webhook_suite::run_all(async || {
        server.flush();
        Arc::new(RedisStore::connect(&url).await.expect("connect")) as Arc<dyn Store>
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_cluster_webhook_outbox_conforms() {
    let cluster = support::redis_server::RedisCluster::start();
    let urls = cluster.urls();
    support::webhook_suite::run_all(async || {
        cluster.flush();
        Arc::new(RedisStore::connect_cluster(&urls).await.expect("connect")) as Arc<dyn Store>
    })
    .await;
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
