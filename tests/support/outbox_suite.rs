//! The zap receipt outbox part of the store conformance suite (NIP-57 receipts): every backend
//! queues one job per credited zap, atomically with the credit, and hands each due job to one
//! claimer at a time. Called from `tests/store_conformance.rs`.

use std::collections::HashSet;
use std::sync::Arc;

use lnaddr::store::*;

use super::store_suite::{created, invoice_for, settlement};

const NOW: u64 = 1_700_000_000_000;
const LEASE: u64 = 60_000;

/// A zap invoice (its zap request text does not matter to the store).
pub fn zap_invoice_for(account: &Account, n: u64, amount: u64) -> InvoiceRecord {
    let mut inv = invoice_for(account, n, amount);
    inv.zap_request = Some(format!("{{\"kind\":9734,\"n\":{n}}}"));
    inv
}

pub async fn queued_once_with_the_credit(store: Arc<dyn Store>) {
    let a = created(store.as_ref(), "zappee@example.com").await;
    let zap = zap_invoice_for(&a, 1, 21_000);
    let plain = invoice_for(&a, 2, 1_000);
    store.add_invoice(zap.clone()).await.expect("add");
    store.add_invoice(plain.clone()).await.expect("add");
    assert!(
        store
            .zap_job(&zap.payment_hash)
            .await
            .expect("read")
            .is_none()
    );
    // The same settlement credited many times, concurrently: one credit, one job.
    let credits = (0..8).map(|_| {
        let store = store.clone();
        let s = settlement(&zap, 1);
        tokio::spawn(async move { store.credit_settlement(&s).await.expect("credit") })
    });
    let outcomes = futures_util::future::join_all(credits).await;
    let credited = outcomes
        .into_iter()
        .filter(|o| matches!(o.as_ref().expect("join"), CreditOutcome::Credited { .. }))
        .count();
    assert_eq!(credited, 1);
    store
        .credit_settlement(&settlement(&plain, 2))
        .await
        .expect("credit");
    assert!(
        store
            .zap_job(&plain.payment_hash)
            .await
            .expect("read")
            .is_none()
    );
    let job = store
        .zap_job(&zap.payment_hash)
        .await
        .expect("read")
        .expect("queued with the credit");
    assert_eq!(job.status, ReceiptStatus::Pending);
    assert_eq!(job.account_id, a.id);
    assert!(!job.done);
    let claimed = store
        .claim_zap_jobs("w1", NOW, LEASE, 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1, "exactly one job, for the zap only");
    assert_eq!(claimed[0].payment_hash, zap.payment_hash);
    assert_eq!(claimed[0].lease_owner.as_deref(), Some("w1"));
}

async fn credited_zaps(store: &Arc<dyn Store>, n: u64) -> Vec<InvoiceRecord> {
    let a = created(store.as_ref(), "many@example.com").await;
    let mut out = Vec::new();
    for i in 0..n {
        let inv = zap_invoice_for(&a, 100 + i, 1_000);
        store.add_invoice(inv.clone()).await.expect("add");
        store
            .credit_settlement(&settlement(&inv, 100 + i))
            .await
            .expect("credit");
        out.push(inv);
    }
    out
}

pub async fn claims_are_exclusive_under_concurrency(store: Arc<dyn Store>) {
    let invoices = credited_zaps(&store, 12).await;
    let claimers = (0..6).map(|w| {
        let store = store.clone();
        tokio::spawn(async move {
            let owner = format!("w{w}");
            let mut mine = Vec::new();
            loop {
                let got = store
                    .claim_zap_jobs(&owner, NOW, LEASE, 2)
                    .await
                    .expect("claim");
                if got.is_empty() {
                    break;
                }
                mine.extend(got.into_iter().map(|j| j.payment_hash));
            }
            mine
        })
    });
    let mut seen = HashSet::new();
    for mine in futures_util::future::join_all(claimers).await {
        for hash in mine.expect("join") {
            assert!(seen.insert(hash), "a job was claimed twice");
        }
    }
    let all: HashSet<_> = invoices.iter().map(|i| i.payment_hash).collect();
    assert_eq!(seen, all);
    // Leased: nothing is due until the leases run out, then all of it is.
    assert!(
        store
            .claim_zap_jobs("late", NOW + 1, LEASE, 100)
            .await
            .expect("claim")
            .is_empty()
    );
    let again = store
        .claim_zap_jobs("late", NOW + LEASE + 1, LEASE, 100)
        .await
        .expect("claim");
    assert_eq!(again.len(), all.len());
}

pub async fn saves_reschedule_and_finish(store: Arc<dyn Store>) {
    let inv = credited_zaps(&store, 1).await.remove(0);
    let mut job = store
        .claim_zap_jobs("w", NOW, LEASE, 10)
        .await
        .expect("claim")
        .remove(0);
    job.event_id = Some("ab".repeat(32));
    job.relays = vec![RelayAttempt {
        url: "wss://relay.example.com".into(),
        ok: false,
        attempts: 1,
        next_at_ms: Some(NOW + 5_000),
        last_error: Some("connection refused".into()),
    }];
    job.due_at_ms = NOW + 5_000;
    assert!(
        !store.save_zap_job("intruder", &job).await.expect("save"),
        "not the holder"
    );
    assert!(store.save_zap_job("w", &job).await.expect("save"));
    assert!(
        store
            .claim_zap_jobs("w", NOW + 1_000, LEASE, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    let mut again = store
        .claim_zap_jobs("w2", NOW + 5_000, LEASE, 10)
        .await
        .expect("claim");
    assert_eq!(again.len(), 1);
    let mut job = again.remove(0);
    assert_eq!(job.relays[0].attempts, 1, "progress is kept");
    assert_eq!(job.event_id.as_deref(), Some("ab".repeat(32).as_str()));
    job.relays[0].ok = true;
    job.relays[0].next_at_ms = None;
    job.status = ReceiptStatus::Sent;
    job.done = true;
    assert!(store.save_zap_job("w2", &job).await.expect("save"));
    let far = NOW + 10 * LEASE;
    assert!(
        store
            .claim_zap_jobs("w", far, LEASE, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    let kept = store
        .zap_job(&inv.payment_hash)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(kept.status, ReceiptStatus::Sent);
    assert!(kept.done);
    assert_eq!(kept.relays_ok(), ["wss://relay.example.com"]);
    assert_eq!(kept.lease_owner, None);
}

pub async fn an_expired_lease_passes_to_another(store: Arc<dyn Store>) {
    credited_zaps(&store, 1).await;
    let old = store
        .claim_zap_jobs("a", NOW, 1_000, 10)
        .await
        .expect("claim")
        .remove(0);
    let new = store
        .claim_zap_jobs("b", NOW + 2_000, LEASE, 10)
        .await
        .expect("claim")
        .remove(0);
    assert_eq!(old.payment_hash, new.payment_hash);
    assert!(
        !store.save_zap_job("a", &old).await.expect("save"),
        "a lost its lease"
    );
    assert!(store.save_zap_job("b", &new).await.expect("save"));
}

/// An unpaid zap invoice, even long expired, never yields a job; a late credit still does.
pub async fn an_unpaid_zap_has_no_job_until_credited(store: Arc<dyn Store>) {
    let a = created(store.as_ref(), "late@example.com").await;
    let mut inv = zap_invoice_for(&a, 7, 2_000);
    // Expired an hour ago (its queue entry is due), yet not so long that it is forgotten.
    inv.expires_at = lnaddr::types::unix_now() - 3_600;
    store.add_invoice(inv.clone()).await.expect("add");
    let now = lnaddr::types::unix_now() * 1000;
    for _ in 0..2 {
        assert!(
            store
                .claim_zap_jobs("w", now, LEASE, 10)
                .await
                .expect("claim")
                .is_empty()
        );
    }
    store
        .credit_settlement(&settlement(&inv, 7))
        .await
        .expect("credit");
    let got = store
        .claim_zap_jobs("w", now, LEASE, 10)
        .await
        .expect("claim");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].payment_hash, inv.payment_hash);
}
