//! Unpaid invoices are forgotten some time after expiry; paid ones are kept (issue #12, item 10).
//! Embedded: the sweep asks the node before forgetting. Redis: the invoice keys expire by
//! themselves, the credit removes the expiry, and the zap queue copes with a forgotten zap.

mod support;

use std::sync::Arc;
use std::time::Duration;

use lnaddr::config::StoreOptions;
use lnaddr::ledger::forget::{SweepReport, sweep_once};
use lnaddr::lightning::fake::FakeNode;
use lnaddr::lightning::{InvoiceRequest, LightningNode};
use lnaddr::store::embedded::EmbeddedStore;
use lnaddr::store::redis::RedisStore;
use lnaddr::store::{CreditOutcome, InvoiceRecord, Store, ZapOutbox};
use lnaddr::types::{Msat, unix_now};
use support::process::wait_for;
use support::redis_server::{RedisServer, cli};
use support::store_suite::{balance_of, created, invoice_for, settlement, stored};

/// An invoice of the fake node that expires in `expiry_secs`, recorded for `account`.
async fn issue(
    node: &FakeNode,
    store: &dyn Store,
    account: &lnaddr::store::Account,
    amount: u64,
    expiry_secs: u64,
) -> InvoiceRecord {
    let created = node
        .create_invoice(InvoiceRequest {
            amount: Msat::from_msat(amount),
            description_hash: [9; 32],
            expiry_secs,
        })
        .await
        .expect("create");
    let mut record = invoice_for(account, amount, amount);
    record.payment_hash = created.payment_hash;
    record.bolt11 = created.bolt11;
    record.expires_at = created.expires_at;
    store.add_invoice(record.clone()).await.expect("add");
    record
}

#[tokio::test]
async fn the_embedded_sweep_forgets_unpaid_invoices_and_keeps_what_may_still_be_credited() {
    let dir = tempfile::tempdir().expect("tmp");
    let store: Arc<dyn Store> =
        Arc::new(EmbeddedStore::open(&dir.path().join("s.redb")).expect("open"));
    let node = FakeNode::open(&dir.path().join("node"), bitcoin::Network::Regtest).expect("node");
    let alice = created(&*store, "alice@example.com").await;

    let unpaid = issue(&node, store.as_ref(), &alice, 1_000, 600).await;
    let paid = issue(&node, store.as_ref(), &alice, 2_000, 600).await;
    let late = issue(&node, store.as_ref(), &alice, 3_000, 600).await;
    let open = issue(&node, store.as_ref(), &alice, 4_000, 600).await;
    // The node will never settle this one (LND CancelInvoice; an expired invoice is the same).
    node.cancel_invoice(&unpaid.payment_hash)
        .await
        .expect("cancel");
    let settled = node.pay(&paid.bolt11).await.expect("pay");
    store.credit_settlement(&settled).await.expect("credit");
    // Paid on the node, not credited yet (the follower is behind).
    let late_settlement = node.pay(&late.bolt11).await.expect("pay");

    // With a day's grace, nothing expired long enough yet.
    let grace = sweep_once(store.as_ref(), &node, 86_400, unix_now())
        .await
        .expect("sweep");
    assert_eq!(grace, SweepReport::default());

    // Two hours on: all four expired long enough; only the one the node will never settle goes.
    let later = unix_now() + 7_200;
    let report = sweep_once(store.as_ref(), &node, 0, later)
        .await
        .expect("sweep");
    assert_eq!(
        report,
        SweepReport {
            forgotten: 1,
            kept: 2
        }
    );
    assert!(stored(&*store, &unpaid.payment_hash).await.is_none());
    let kept = stored(&*store, &paid.payment_hash)
        .await
        .expect("a paid invoice is kept");
    assert!(kept.settled.is_some());
    // Still open on the node (its clock says not expired): kept.
    assert!(stored(&*store, &open.payment_hash).await.is_some());
    // The late payment is still credited, after the sweep.
    assert!(matches!(
        store
            .credit_settlement(&late_settlement)
            .await
            .expect("credit"),
        CreditOutcome::Credited { .. }
    ));
    assert_eq!(balance_of(&*store, &alice.id).await, Msat::from_msat(5_000));
    // A second round finds nothing more to forget.
    let again = sweep_once(store.as_ref(), &node, 0, unix_now())
        .await
        .expect("sweep");
    assert_eq!(again.forgotten, 0, "{again:?}");
    // Not yet: with a day's grace nothing expired long enough.
    let unpaid2 = issue(&node, store.as_ref(), &alice, 5_000, 1).await;
    let grace = sweep_once(store.as_ref(), &node, 86_400, unix_now() + 5)
        .await
        .expect("sweep");
    assert_eq!(grace.forgotten, 0);
    assert!(stored(&*store, &unpaid2.payment_hash).await.is_some());
}

/// A Redis store on `server` with `options`.
async fn redis_store(server: &RedisServer, options: &StoreOptions) -> RedisStore {
    RedisStore::connect(&server.url())
        .await
        .expect("connect")
        .with_options(options)
}

/// The Redis keys of invoice `inv` of `account`: by hash, and in the account's slot.
fn invoice_keys(account: &lnaddr::store::Account, inv: &InvoiceRecord) -> [String; 2] {
    let hash = hex::encode(inv.payment_hash.0);
    [
        format!("inv:{hash}"),
        format!("{{a:{}}}:inv:{hash}", account.id.0),
    ]
}

/// `TTL key` in seconds (-1: no expiry, -2: no key).
fn ttl(server: &RedisServer, key: &str) -> i64 {
    cli(server.port, &["TTL", key])
        .and_then(|v| v.parse().ok())
        .expect("TTL")
}

#[tokio::test]
async fn redis_invoice_keys_expire_unless_paid() {
    let server = RedisServer::start();
    let options = StoreOptions {
        forget_unpaid_after_secs: 3_600,
        ..StoreOptions::default()
    };
    let store = redis_store(&server, &options).await;
    let alice = created(&store, "alice@example.com").await;
    let mut unpaid = invoice_for(&alice, 1, 1_000);
    unpaid.expires_at = unix_now() + 60;
    let mut paid = invoice_for(&alice, 2, 2_000);
    paid.expires_at = unix_now() + 60;
    store.add_invoice(unpaid.clone()).await.expect("add");
    store.add_invoice(paid.clone()).await.expect("add");
    let keys_of = |inv: &InvoiceRecord| invoice_keys(&alice, inv);
    for key in keys_of(&unpaid).iter().chain(keys_of(&paid).iter()) {
        let left = ttl(&server, key);
        assert!((3_600..=3_660).contains(&left), "{key}: {left}");
    }
    store
        .credit_settlement(&settlement(&paid, 1))
        .await
        .expect("credit");
    for key in keys_of(&paid) {
        assert_eq!(ttl(&server, &key), -1, "{key} of a paid invoice is kept");
    }
    for key in keys_of(&unpaid) {
        assert!(ttl(&server, &key) > 0, "{key}");
    }
}

#[tokio::test]
async fn redis_forgets_for_real_and_the_zap_queue_copes() {
    let server = RedisServer::start();
    // A short setting (the configuration refuses less than an hour; the store takes any).
    let options = StoreOptions {
        forget_unpaid_after_secs: 0,
        ..StoreOptions::default()
    };
    let store = redis_store(&server, &options).await;
    let alice = created(&store, "alice@example.com").await;
    let mut zap = support::outbox_suite::zap_invoice_for(&alice, 1, 1_000);
    zap.expires_at = unix_now() + 1;
    store.add_invoice(zap.clone()).await.expect("add");
    wait_for(
        "the unpaid invoice to be forgotten",
        Duration::from_secs(10),
        || async {
            stored(&store, &zap.payment_hash)
                .await
                .is_none()
                .then_some(())
        },
    )
    .await;
    // Its queue entry comes due (expiry + 10 min) and is dropped without a job or an error.
    let claimed = store
        .claim_zap_jobs("sweeper", (unix_now() + 3_600) * 1000, 60_000, 10)
        .await
        .expect("claim");
    assert!(claimed.is_empty());
    assert_eq!(cli(server.port, &["ZCARD", "{zapq}"]).as_deref(), Some("0"));
    for key in invoice_keys(&alice, &zap) {
        assert_eq!(
            cli(server.port, &["EXISTS", &key]).as_deref(),
            Some("0"),
            "{key}"
        );
    }
}
