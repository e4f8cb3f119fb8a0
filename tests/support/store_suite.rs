//! The store conformance suite: the same behaviour tests for every `Store` backend (CDK's shared db
//! tests, LDK's `do_test_store`). Each case takes a fresh, empty store;
//! `tests/store_conformance.rs` runs every case on every backend (`support/conformance.rs`).

#![allow(dead_code)]

use std::sync::Arc;

use lnaddr::store::*;
use lnaddr::types::{DomainName, LightningAddress, Msat, NostrPubkey, PaymentHash, Username};

pub fn addr(s: &str) -> LightningAddress {
    s.parse().expect("valid address")
}

pub fn new_account(s: &str) -> NewAccount {
    NewAccount {
        address: addr(s),
        nostr_pubkey: None,
    }
}

pub fn invoice_for(account: &Account, n: u64, amount: u64) -> InvoiceRecord {
    let mut hash = [0u8; 32];
    hash[..8].copy_from_slice(&n.to_be_bytes());
    hash[8..16].copy_from_slice(&rand::random::<[u8; 8]>());
    InvoiceRecord {
        payment_hash: PaymentHash(hash),
        account_id: account.id.clone(),
        amount_msat: Msat::from_msat(amount),
        bolt11: format!("lnbcrt-test-{n}"),
        comment: Some(format!("comment {n}")),
        tag: None,
        payer_data: None,
        zap_request: None,
        created_at: 1,
        expires_at: u64::MAX,
        settled: None,
        node_id: None,
    }
}

/// A new account at `address`.
pub async fn created<S: Store + ?Sized>(store: &S, address: &str) -> Account {
    store
        .create_account(new_account(address))
        .await
        .expect("create")
}

/// The invoice `hash` as the store holds it now.
pub async fn stored<S: Store + ?Sized>(store: &S, hash: &PaymentHash) -> Option<InvoiceRecord> {
    store.invoice(hash).await.expect("read")
}

/// The balance of account `id` now.
pub async fn balance_of<S: Store + ?Sized>(store: &S, id: &AccountId) -> Msat {
    store
        .account(id)
        .await
        .expect("read")
        .expect("account")
        .balance_msat
}

pub fn settlement(invoice: &InvoiceRecord, index: u64) -> Settlement {
    Settlement {
        payment_hash: invoice.payment_hash,
        preimage: [7u8; 32],
        amount_paid_msat: invoice.amount_msat,
        settle_index: index,
        settled_at: 1_700_000_000 + index,
    }
}

pub async fn accounts_and_names(store: Arc<dyn Store>) {
    let pk = NostrPubkey::parse("3bf0c63fcb93463407af97a5e5ee64fa883d107ef9e558472c4eb9aaaefa459d")
        .expect("key");
    let a = store
        .create_account(NewAccount {
            address: addr("alice@example.com"),
            nostr_pubkey: Some(pk.clone()),
        })
        .await
        .expect("create");
    assert_eq!(a.balance_msat, Msat::ZERO);
    assert_eq!(a.address(), "alice@example.com");
    assert!(matches!(
        store.create_account(new_account("alice@example.com")).await,
        Err(StoreError::NameTaken)
    ));
    let by_name = store
        .account_by_name(
            &DomainName::parse("example.com").expect("d"),
            &Username::parse("ALICE").expect("u"),
        )
        .await
        .expect("read")
        .expect("found");
    assert_eq!(by_name, a);
    assert_eq!(store.account(&a.id).await.expect("read"), Some(a.clone()));
    let cleared = store.set_nostr_pubkey(&a.id, None).await.expect("patch");
    assert_eq!(cleared.nostr_pubkey, None);
    assert!(matches!(
        store
            .set_nostr_pubkey(&AccountId("nope".into()), None)
            .await,
        Err(StoreError::NotFound)
    ));
}

pub async fn names_are_per_domain(store: Arc<dyn Store>) {
    let a = created(store.as_ref(), "bob@one.example").await;
    let b = created(store.as_ref(), "bob@two.example").await;
    created(store.as_ref(), "carol@one.example").await;
    assert_ne!(a.id, b.id);
    let one = DomainName::parse("one.example").expect("d");
    let listed = store.list_accounts(Some(&one)).await.expect("list");
    let names: Vec<String> = listed.iter().map(|a| a.address()).collect();
    assert_eq!(names, ["bob@one.example", "carol@one.example"]);
    assert_eq!(store.list_accounts(None).await.expect("list").len(), 3);
}

pub async fn credit_is_once(store: Arc<dyn Store>) {
    let a = created(store.as_ref(), "dave@example.com").await;
    let inv = invoice_for(&a, 1, 21_000);
    store.add_invoice(inv.clone()).await.expect("add");
    assert!(matches!(
        store.add_invoice(inv.clone()).await,
        Err(StoreError::DuplicateInvoice)
    ));
    let s = settlement(&inv, 1);
    let first = store.credit_settlement(&s).await.expect("credit");
    assert_eq!(
        first,
        CreditOutcome::Credited {
            account_id: a.id.clone(),
            balance: Msat::from_msat(21_000)
        }
    );
    for _ in 0..3 {
        assert_eq!(
            store.credit_settlement(&s).await.expect("credit"),
            CreditOutcome::AlreadyCredited
        );
    }
    let after = store.account(&a.id).await.expect("read").expect("found");
    assert_eq!(after.balance_msat, Msat::from_msat(21_000));
    let recorded = store
        .invoice(&inv.payment_hash)
        .await
        .expect("read")
        .expect("found");
    let settled = recorded.settled.expect("marked settled");
    assert_eq!(settled.preimage, hex::encode([7u8; 32]));
    assert_eq!(
        store.transactions(&a.id, 10).await.expect("ledger").len(),
        1
    );
}

pub async fn credit_unknown_and_gone(store: Arc<dyn Store>) {
    let a = created(store.as_ref(), "erin@example.com").await;
    let inv = invoice_for(&a, 2, 5_000);
    assert_eq!(
        store
            .credit_settlement(&settlement(&inv, 1))
            .await
            .expect("credit"),
        CreditOutcome::UnknownInvoice
    );
    // Expired as far as the store knows (so the account is removable), paid on the node anyway;
    // expired a moment ago, so the record is not yet forgotten (`forget_unpaid_after_secs`).
    let inv = InvoiceRecord {
        expires_at: lnaddr::types::unix_now() - 1,
        ..inv
    };
    store.add_invoice(inv.clone()).await.expect("add");
    store
        .delete_account(&a.id)
        .await
        .expect("zero balance, no open invoice: removable");
    assert_eq!(
        store
            .credit_settlement(&settlement(&inv, 2))
            .await
            .expect("credit"),
        CreditOutcome::AccountGone
    );
    assert_eq!(
        store
            .credit_settlement(&settlement(&inv, 2))
            .await
            .expect("credit"),
        CreditOutcome::AlreadyCredited
    );
}

pub async fn ledger_newest_first(store: Arc<dyn Store>) {
    let a = created(store.as_ref(), "frank@example.com").await;
    for n in 1..=5u64 {
        let inv = invoice_for(&a, n, n * 1000);
        store.add_invoice(inv.clone()).await.expect("add");
        store
            .credit_settlement(&settlement(&inv, n))
            .await
            .expect("credit");
    }
    let ledger = store.transactions(&a.id, 3).await.expect("ledger");
    let amounts: Vec<u64> = ledger.iter().map(|t| t.amount_msat.msat()).collect();
    assert_eq!(amounts, [5000, 4000, 3000]);
    assert!(
        ledger
            .iter()
            .all(|t| t.kind == TxKind::Credit && t.status == TxStatus::Settled && !t.zap)
    );
    assert_eq!(ledger[0].comment.as_deref(), Some("comment 5"));
}

pub async fn cursor_only_moves_forward(store: Arc<dyn Store>) {
    assert_eq!(store.settle_cursor("node-a").await.expect("read"), 0);
    store
        .advance_settle_cursor("node-a", 10)
        .await
        .expect("advance");
    store
        .advance_settle_cursor("node-a", 4)
        .await
        .expect("advance");
    assert_eq!(store.settle_cursor("node-a").await.expect("read"), 10);
    assert_eq!(store.settle_cursor("node-b").await.expect("read"), 0);
}

pub async fn cursor_resets_only_from_expected(store: Arc<dyn Store>) {
    // A missing cursor holds 0: a reset from 0 carries an old cursor over to a new key.
    assert!(
        store
            .reset_settle_cursor("node-a", 0, 7)
            .await
            .expect("reset")
    );
    assert_eq!(store.settle_cursor("node-a").await.expect("read"), 7);
    store
        .advance_settle_cursor("node-a", 12)
        .await
        .expect("advance");
    // Someone moved it meanwhile: a reset from the stale value changes nothing.
    assert!(
        !store
            .reset_settle_cursor("node-a", 7, 0)
            .await
            .expect("reset")
    );
    assert_eq!(store.settle_cursor("node-a").await.expect("read"), 12);
    // Backwards from the value it holds.
    assert!(
        store
            .reset_settle_cursor("node-a", 12, 0)
            .await
            .expect("reset")
    );
    assert_eq!(store.settle_cursor("node-a").await.expect("read"), 0);
    store
        .advance_settle_cursor("node-a", 3)
        .await
        .expect("advance");
    assert_eq!(store.settle_cursor("node-a").await.expect("read"), 3);
    assert_eq!(store.settle_cursor("node-b").await.expect("read"), 0);
}

pub async fn forget_unpaid_keeps_paid(store: Arc<dyn Store>) {
    let a = created(&*store, "fay@example.com").await;
    let now = lnaddr::types::unix_now();
    let mut unpaid = invoice_for(&a, 1, 1_000);
    unpaid.expires_at = now - 10;
    let mut paid = invoice_for(&a, 2, 2_000);
    paid.expires_at = now - 10;
    let mut fresh = invoice_for(&a, 3, 3_000);
    fresh.expires_at = now + 3_600;
    for inv in [&unpaid, &paid, &fresh] {
        store.add_invoice(inv.clone()).await.expect("add");
    }
    store
        .credit_settlement(&settlement(&paid, 1))
        .await
        .expect("credit");
    // What a store lists for the sweep is only ever expired and unpaid.
    let listed = store.expired_unpaid_invoices(now, 100).await.expect("list");
    assert!(!listed.contains(&fresh.payment_hash), "{listed:?}");
    // A paid invoice is never forgotten.
    assert!(
        !store
            .forget_unpaid_invoice(&paid.payment_hash)
            .await
            .expect("forget")
    );
    let kept = stored(&*store, &paid.payment_hash).await.expect("kept");
    assert!(kept.settled.is_some());
    // An unpaid one is, once.
    assert!(
        store
            .forget_unpaid_invoice(&unpaid.payment_hash)
            .await
            .expect("forget")
    );
    assert!(stored(&*store, &unpaid.payment_hash).await.is_none());
    assert!(
        !store
            .forget_unpaid_invoice(&unpaid.payment_hash)
            .await
            .expect("again")
    );
    assert_eq!(
        store
            .credit_settlement(&settlement(&unpaid, 2))
            .await
            .expect("credit"),
        CreditOutcome::UnknownInvoice
    );
    let listed = store.expired_unpaid_invoices(now, 100).await.expect("list");
    assert!(listed.is_empty(), "{listed:?}");
    assert_eq!(balance_of(&*store, &a.id).await, Msat::from_msat(2_000));
}

pub async fn delete_refused_with_balance(store: Arc<dyn Store>) {
    let a = created(store.as_ref(), "gina@example.com").await;
    let inv = invoice_for(&a, 1, 1000);
    store.add_invoice(inv.clone()).await.expect("add");
    store
        .credit_settlement(&settlement(&inv, 1))
        .await
        .expect("credit");
    assert!(matches!(
        store.delete_account(&a.id).await,
        Err(StoreError::BalanceNotZero)
    ));
    assert!(store.account(&a.id).await.expect("read").is_some());
    let b = created(store.as_ref(), "hank@example.com").await;
    store.delete_account(&b.id).await.expect("delete");
    assert!(store.account(&b.id).await.expect("read").is_none());
    // The name is free again, for a new account with a new id.
    let c = store
        .create_account(new_account("hank@example.com"))
        .await
        .expect("re-create");
    assert_ne!(c.id, b.id);
}

pub async fn meta_once(store: Arc<dyn Store>) {
    assert_eq!(
        store
            .put_meta_once("zapper/example.com", b"first")
            .await
            .expect("put"),
        b"first"
    );
    assert_eq!(
        store
            .put_meta_once("zapper/example.com", b"second")
            .await
            .expect("put"),
        b"first"
    );
}

/// Hundreds of concurrent credits on one account: every one lands once, the balance is exact.
pub async fn concurrent_credits_exact(store: Arc<dyn Store>) {
    let a = created(store.as_ref(), "ivy@example.com").await;
    let invoices: Vec<InvoiceRecord> = (1..=200u64).map(|n| invoice_for(&a, n, 1000 + n)).collect();
    for inv in &invoices {
        store.add_invoice(inv.clone()).await.expect("add");
    }
    let mut tasks = tokio::task::JoinSet::new();
    // Every settlement twice, concurrently: exactly one of each pair credits.
    for (i, inv) in invoices.iter().chain(invoices.iter()).enumerate() {
        let store = store.clone();
        let s = settlement(inv, i as u64 + 1);
        tasks.spawn(async move { store.credit_settlement(&s).await.expect("credit") });
    }
    let mut credited = 0;
    while let Some(outcome) = tasks.join_next().await {
        if matches!(outcome.expect("task"), CreditOutcome::Credited { .. }) {
            credited += 1;
        }
    }
    assert_eq!(credited, 200);
    let expected: u64 = invoices.iter().map(|i| i.amount_msat.msat()).sum();
    assert_eq!(
        store
            .account(&a.id)
            .await
            .expect("read")
            .expect("found")
            .balance_msat,
        Msat::from_msat(expected)
    );
    assert_eq!(
        store.transactions(&a.id, 1000).await.expect("ledger").len(),
        200
    );
}

/// `snapshot` writes a store that answers like the original as of the call, or says the backend
/// has backups of its own; it never overwrites a file.
pub async fn snapshot_is_a_consistent_copy(store: Arc<dyn Store>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("snap.redb");
    let a = created(store.as_ref(), "snap@example.com").await;
    let paid = invoice_for(&a, 1, 5_000);
    let open = invoice_for(&a, 2, 6_000);
    store.add_invoice(paid.clone()).await.expect("add");
    store.add_invoice(open.clone()).await.expect("add");
    store
        .credit_settlement(&settlement(&paid, 3))
        .await
        .expect("credit");
    store
        .advance_settle_cursor("node-a", 3)
        .await
        .expect("cursor");
    match store.snapshot(&out).await {
        Err(StoreError::Unsupported(_)) => {
            assert!(!out.exists(), "an unsupported snapshot writes nothing");
            return;
        }
        other => other.expect("snapshot"),
    }
    // Written after the snapshot: not in it.
    store
        .credit_settlement(&settlement(&open, 4))
        .await
        .expect("credit");
    assert!(
        store.snapshot(&out).await.is_err(),
        "an existing file is never overwritten"
    );
    let copy = lnaddr::store::embedded::EmbeddedStore::open(&out).expect("open snapshot");
    let b = copy.account(&a.id).await.expect("read").expect("account");
    assert_eq!(b.balance_msat, Msat::from_msat(5_000));
    assert_eq!(copy.transactions(&a.id, 10).await.expect("ledger").len(), 1);
    assert_eq!(copy.settle_cursor("node-a").await.expect("cursor"), 3);
    assert!(
        copy.invoice(&open.payment_hash)
            .await
            .expect("read")
            .expect("kept")
            .settled
            .is_none()
    );
    let user = Username::parse("snap").expect("name");
    let domain = DomainName::parse("example.com").expect("domain");
    assert_eq!(
        copy.account_by_name(&domain, &user)
            .await
            .expect("read")
            .map(|x| x.id),
        Some(a.id)
    );
}
