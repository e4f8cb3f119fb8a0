//! Runs the store conformance suite against every backend.

mod support;

use std::sync::Arc;

use lnaddr::store::Store;
use lnaddr::store::embedded::EmbeddedStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_store_conforms() {
    let dir = tempfile::tempdir().expect("tempdir");
    let counter = std::sync::atomic::AtomicU32::new(0);
    support::store_suite::run_all(|| {
        let path = dir.path().join(format!(
            "s{}.redb",
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        async move { Arc::new(EmbeddedStore::open(&path).expect("open")) as Arc<dyn Store> }
    })
    .await;
}

#[tokio::test]
async fn embedded_store_survives_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.redb");
    let (id, hash) = {
        let store: Arc<dyn Store> = Arc::new(EmbeddedStore::open(&path).expect("open"));
        let a = store
            .create_account(support::store_suite::new_account("zed@example.com"))
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
    let a = store.account(&id).await.expect("read").expect("kept");
    assert_eq!(a.balance_msat.0, 4242);
    assert!(
        store
            .invoice(&hash)
            .await
            .expect("read")
            .expect("kept")
            .settled
            .is_some()
    );
}
