//! The withdraw part of the store conformance suite (LUD-03 links and withdrawals), run by every
//! backend through `tests/store_conformance.rs`: reservations are atomic under heavy concurrency (exact
//! balance, never negative, exact use counting), and finishing happens once.

use std::sync::Arc;

use lnaddr::store::*;
use lnaddr::types::{Msat, PaymentHash};

use super::store_suite::{created, invoice_for, new_account, settlement};

/// An account holding `balance`.
pub async fn funded(store: &Arc<dyn Store>, address: &str, balance: u64) -> Account {
    let a = store
        .create_account(new_account(address))
        .await
        .expect("create");
    let inv = invoice_for(&a, 1, balance);
    store.add_invoice(inv.clone()).await.expect("add");
    store
        .credit_settlement(&settlement(&inv, 1))
        .await
        .expect("credit");
    store.account(&a.id).await.expect("read").expect("account")
}

pub fn link(account: &Account, uses: u32, max: u64) -> WithdrawLink {
    WithdrawLink {
        k1: hex::encode(rand::random::<[u8; 32]>()),
        account_id: account.id.clone(),
        min_msat: Msat::from_msat(1),
        max_msat: Msat::from_msat(max),
        uses,
        used: 0,
        title: Some("Voucher".into()),
        created_at: 1,
        expires_at: None,
        disabled: false,
    }
}

pub fn reservation(link: &WithdrawLink, amount: u64, reserve: u64) -> Reservation {
    Reservation {
        k1: link.k1.clone(),
        payment_hash: PaymentHash(rand::random()),
        bolt11: "lnbcrt-test".into(),
        amount: Msat::from_msat(amount),
        fee_reserve: Msat::from_msat(reserve),
        internal: false,
        title: link.title.clone(),
        now: 1_000,
    }
}

async fn balance(store: &Arc<dyn Store>, a: &Account) -> u64 {
    store
        .account(&a.id)
        .await
        .expect("read")
        .expect("account")
        .balance_msat
        .msat()
}

/// A link of `account` with `uses` uses up to `max`, stored.
async fn stored_link(
    store: &Arc<dyn Store>,
    account: &Account,
    uses: u32,
    max: u64,
) -> WithdrawLink {
    let l = link(account, uses, max);
    store.create_withdraw_link(&l).await.expect("link");
    l
}

/// The link `k1` as stored now.
async fn link_now(store: &Arc<dyn Store>, k1: &str) -> WithdrawLink {
    store.withdraw_link(k1).await.expect("read").expect("l")
}

async fn reserve(store: &Arc<dyn Store>, r: &Reservation) -> ReserveOutcome {
    store.reserve_withdrawal(r).await.expect("reserve")
}

async fn finish(store: &Arc<dyn Store>, hash: &PaymentHash, f: &Finish, now: u64) -> FinishOutcome {
    store.finish_withdrawal(hash, f, now).await.expect("finish")
}

fn failed(reason: &str) -> Finish {
    Finish::Failed {
        reason: reason.into(),
    }
}

async fn nothing_pending(store: &Arc<dyn Store>) -> bool {
    store
        .pending_withdrawals()
        .await
        .expect("pending")
        .is_empty()
}

pub async fn links_round_trip(store: Arc<dyn Store>) {
    let a = funded(&store, "wl@example.com", 10).await;
    let l = link(&a, 3, 1000);
    store.create_withdraw_link(&l).await.expect("create link");
    assert_eq!(
        store.withdraw_link(&l.k1).await.expect("read"),
        Some(l.clone())
    );
    assert_eq!(store.withdraw_link("nope").await.expect("read"), None);
    let mut orphan = l.clone();
    orphan.k1 = "00".repeat(32);
    orphan.account_id = AccountId("gone".into());
    assert!(matches!(
        store.create_withdraw_link(&orphan).await,
        Err(StoreError::NotFound)
    ));
    let disabled = store
        .disable_withdraw_link(&l.k1)
        .await
        .expect("disable")
        .expect("found");
    assert!(disabled.disabled);
    assert_eq!(store.disable_withdraw_link("nope").await.expect("ok"), None);
}

pub async fn reserve_checks_everything(store: Arc<dyn Store>) {
    let a = funded(&store, "wr@example.com", 10_000).await;
    let l = stored_link(&store, &a, 2, 10_000).await;
    let mut unknown = reservation(&l, 1, 0);
    unknown.k1 = "ff".repeat(32);
    assert_eq!(reserve(&store, &unknown).await, ReserveOutcome::UnknownLink);
    // Short by one msat: nothing moves.
    let short = reservation(&l, 9_000, 1_001);
    assert_eq!(
        reserve(&store, &short).await,
        ReserveOutcome::InsufficientBalance
    );
    assert_eq!(balance(&store, &a).await, 10_000);
    let ok = reservation(&l, 4_000, 1_000);
    let ReserveOutcome::Reserved(p) = reserve(&store, &ok).await else {
        panic!("expected a reservation")
    };
    assert_eq!(p.status, PaymentStatus::Pending);
    assert_eq!(balance(&store, &a).await, 5_000);
    assert_eq!(reserve(&store, &ok).await, ReserveOutcome::DuplicatePayment);
    let txs = store.transactions(&a.id, 10).await.expect("txs");
    assert_eq!(txs[0].kind, TxKind::Debit);
    assert_eq!(txs[0].status, TxStatus::Pending);
    assert_eq!(txs[0].amount_msat, Msat::from_msat(4_000));
    assert_eq!(txs[0].fee_msat, Msat::from_msat(1_000));
    let pending = store.pending_withdrawals().await.expect("pending");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].payment_hash, ok.payment_hash);
    assert_eq!(
        store
            .withdrawal(&ok.payment_hash)
            .await
            .expect("read")
            .expect("found")
            .amount_msat,
        Msat::from_msat(4_000)
    );
    // Second use, then the link is used up.
    assert!(matches!(
        reserve(&store, &reservation(&l, 1, 0)).await,
        ReserveOutcome::Reserved(_)
    ));
    assert_eq!(
        reserve(&store, &reservation(&l, 1, 0)).await,
        ReserveOutcome::UsedUp
    );
    // Expired and disabled links pay nothing.
    let mut expiring = link(&a, 5, 10_000);
    expiring.expires_at = Some(1_000);
    store.create_withdraw_link(&expiring).await.expect("link");
    assert_eq!(
        reserve(&store, &reservation(&expiring, 1, 0)).await,
        ReserveOutcome::Expired
    );
    let off = stored_link(&store, &a, 5, 10_000).await;
    store.disable_withdraw_link(&off.k1).await.expect("disable");
    assert_eq!(
        reserve(&store, &reservation(&off, 1, 0)).await,
        ReserveOutcome::Disabled
    );
    assert_eq!(balance(&store, &a).await, 4_999);
}

pub async fn finish_is_once(store: Arc<dyn Store>) {
    let a = funded(&store, "wf@example.com", 10_000).await;
    let l = stored_link(&store, &a, 1, 10_000).await;
    let paid = reservation(&l, 3_000, 500);
    assert!(matches!(
        reserve(&store, &paid).await,
        ReserveOutcome::Reserved(_)
    ));
    assert_eq!(balance(&store, &a).await, 6_500);
    let ok = Finish::Succeeded {
        fee: Msat::from_msat(120),
        preimage: Some([7; 32]),
    };
    let FinishOutcome::Finished(done) = finish(&store, &paid.payment_hash, &ok, 2_000).await else {
        panic!("expected finished")
    };
    assert_eq!(done.fee_msat, Msat::from_msat(120));
    assert_eq!(
        done.preimage,
        Some(hex::encode([7; 32])),
        "the proof of payment is kept"
    );
    assert_eq!(balance(&store, &a).await, 10_000 - 3_120);
    // Once: neither a replay nor the other outcome moves money.
    for again in [ok.clone(), failed("late")] {
        assert!(matches!(
            finish(&store, &paid.payment_hash, &again, 2_001).await,
            FinishOutcome::AlreadyFinished(_)
        ));
    }
    assert_eq!(balance(&store, &a).await, 6_880);
    let txs = store.transactions(&a.id, 10).await.expect("txs");
    assert_eq!(txs.len(), 2, "the pending entry is rewritten, not added");
    assert_eq!(txs[0].status, TxStatus::Settled);
    assert_eq!(txs[0].fee_msat, Msat::from_msat(120));
    assert_eq!(link_now(&store, &l.k1).await.uses_left(), 0);
    assert!(nothing_pending(&store).await);
    assert_eq!(
        finish(&store, &PaymentHash([9; 32]), &ok, 1).await,
        FinishOutcome::Unknown
    );

    // A failure refunds everything and gives the use back.
    let l2 = stored_link(&store, &a, 1, 10_000).await;
    let failing = reservation(&l2, 1_000, 100);
    assert!(matches!(
        reserve(&store, &failing).await,
        ReserveOutcome::Reserved(_)
    ));
    assert_eq!(balance(&store, &a).await, 5_780);
    let fail = failed("no route");
    assert!(matches!(
        finish(&store, &failing.payment_hash, &fail, 3).await,
        FinishOutcome::Finished(_)
    ));
    assert!(matches!(
        finish(&store, &failing.payment_hash, &fail, 3).await,
        FinishOutcome::AlreadyFinished(_)
    ));
    assert_eq!(balance(&store, &a).await, 6_880);
    assert_eq!(link_now(&store, &l2.k1).await.uses_left(), 1);
    let txs = store.transactions(&a.id, 10).await.expect("txs");
    assert_eq!(txs[0].status, TxStatus::Failed);
    assert_eq!(txs[0].fee_msat, Msat::ZERO);
}

/// Sends `n` reservations of `amount` + `reserve` on link `l` at once; answers every outcome.
async fn race_reservations(
    store: &Arc<dyn Store>,
    l: &WithdrawLink,
    n: usize,
    amount: u64,
    reserve: u64,
) -> Vec<ReserveOutcome> {
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let store = store.clone();
            let r = reservation(l, amount, reserve);
            tokio::spawn(async move { store.reserve_withdrawal(&r).await.expect("reserve") })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(n);
    for t in tasks {
        outcomes.push(t.await.expect("join"));
    }
    outcomes
}

/// Hundreds of reservations race on a single-use link: exactly one wins.
pub async fn concurrent_single_use(store: Arc<dyn Store>) {
    let a = funded(&store, "wc@example.com", 1_000_000).await;
    let l = stored_link(&store, &a, 1, 1_000_000).await;
    let mut reserved = 0;
    for outcome in race_reservations(&store, &l, 200, 1_000, 10).await {
        match outcome {
            ReserveOutcome::Reserved(_) => reserved += 1,
            ReserveOutcome::UsedUp => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(reserved, 1);
    assert_eq!(balance(&store, &a).await, 1_000_000 - 1_010);
}

/// Hundreds of reservations on a many-use link against a balance that covers only some: the
/// balance ends exact and never below zero, and the uses taken equal the reservations made.
pub async fn concurrent_balance_is_exact(store: Arc<dyn Store>) {
    let a = funded(&store, "wb@example.com", 37_000).await;
    let l = stored_link(&store, &a, 300, 1_000_000).await;
    let mut reserved = Vec::new();
    for outcome in race_reservations(&store, &l, 300, 900, 100).await {
        match outcome {
            ReserveOutcome::Reserved(p) => reserved.push(*p),
            ReserveOutcome::InsufficientBalance => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(reserved.len(), 37);
    assert_eq!(balance(&store, &a).await, 0);
    assert_eq!(link_now(&store, &l.k1).await.used, 37);
    // Finish them all concurrently, each twice: half fail, half succeed with a fee of 40.
    let tasks: Vec<_> = reserved
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            let finish = if i % 2 == 0 {
                failed("no route")
            } else {
                Finish::Succeeded {
                    fee: Msat::from_msat(40),
                    preimage: None,
                }
            };
            [finish.clone(), finish].map(|f| {
                let store = store.clone();
                let hash = p.payment_hash;
                tokio::spawn(async move { store.finish_withdrawal(&hash, &f, 5).await })
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("join").expect("finish");
    }
    let failed = 19u64;
    let succeeded = 18u64;
    assert_eq!(
        balance(&store, &a).await,
        failed * 1_000 + succeeded * (100 - 40)
    );
    assert_eq!(u64::from(link_now(&store, &l.k1).await.used), succeeded);
    assert!(nothing_pending(&store).await);
}

/// Leases (`lease_payment`): one holder at a time, renewed by its holder, released only by it,
/// and passed on once it runs out.
pub async fn leases_are_exclusive(store: Arc<dyn Store>) {
    let h = PaymentHash(rand::random());
    let long = std::time::Duration::from_secs(30);
    assert!(store.lease_payment(&h, "a", long).await.expect("lease"));
    assert!(!store.lease_payment(&h, "b", long).await.expect("lease"));
    assert!(store.lease_payment(&h, "a", long).await.expect("renew"));
    store.release_payment(&h, "b").await.expect("release");
    assert!(
        !store.lease_payment(&h, "b", long).await.expect("lease"),
        "only the holder releases"
    );
    store.release_payment(&h, "a").await.expect("release");
    assert!(store.lease_payment(&h, "b", long).await.expect("lease"));

    let short = PaymentHash(rand::random());
    let ms = std::time::Duration::from_millis(50);
    assert!(store.lease_payment(&short, "a", ms).await.expect("lease"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !store.lease_payment(&short, "b", long).await.expect("lease") {
        assert!(
            std::time::Instant::now() < deadline,
            "the lease never ran out"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(!store.lease_payment(&short, "a", long).await.expect("lease"));
}

/// Rule 8: an account is not removed while a payment from it is pending or an invoice issued to
/// it may still be paid; once both are over (and the balance is zero), it is.
pub async fn delete_refused_while_money_moves(store: Arc<dyn Store>) {
    let billed = created(store.as_ref(), "billed@example.com").await;
    let mut open = invoice_for(&billed, 7, 1_000);
    open.expires_at = lnaddr::types::unix_now() + 3_600;
    store.add_invoice(open).await.expect("add");
    assert!(matches!(
        store.delete_account(&billed.id).await,
        Err(StoreError::InvoicesOutstanding { .. })
    ));
    assert!(store.account(&billed.id).await.expect("read").is_some());

    // Funded by an invoice that has expired since, then everything reserved for a payment.
    let payer = created(store.as_ref(), "spender@example.com").await;
    let mut inv = invoice_for(&payer, 8, 10_000);
    inv.expires_at = lnaddr::types::unix_now() - 1;
    store.add_invoice(inv.clone()).await.expect("add");
    store
        .credit_settlement(&settlement(&inv, 1))
        .await
        .expect("credit");
    let l = stored_link(&store, &payer, 1, 10_000).await;
    let r = reservation(&l, 9_000, 1_000);
    assert!(matches!(
        reserve(&store, &r).await,
        ReserveOutcome::Reserved(_)
    ));
    assert_eq!(balance(&store, &payer).await, 0);
    assert!(matches!(
        store.delete_account(&payer.id).await,
        Err(StoreError::PaymentsPending)
    ));
    assert!(store.account(&payer.id).await.expect("read").is_some());
    let all_fee = Finish::Succeeded {
        fee: Msat::from_msat(1_000),
        preimage: None,
    };
    finish(&store, &r.payment_hash, &all_fee, 2_000).await;
    store
        .delete_account(&payer.id)
        .await
        .expect("nothing moving: removable");
}

/// The payment engine's reservation (`reserve_payment`): no link, the same atomic step (balance,
/// pending entry, one payment per hash), finished like any withdrawal.
pub async fn payments_without_a_link(store: Arc<dyn Store>) {
    let a = funded(&store, "payer@example.com", 10_000).await;
    let mut r = Reservation {
        k1: String::new(),
        ..reservation(&link(&a, 1, 10_000), 6_000, 1_000)
    };
    let ReserveOutcome::Reserved(p) = store.reserve_payment(&a.id, &r).await.expect("reserve")
    else {
        panic!("expected reserved")
    };
    assert_eq!(p.account_id, a.id);
    assert_eq!(p.status, PaymentStatus::Pending);
    assert_eq!(balance(&store, &a).await, 3_000);
    assert_eq!(
        store.reserve_payment(&a.id, &r).await.expect("reserve"),
        ReserveOutcome::DuplicatePayment
    );
    r.payment_hash = PaymentHash(rand::random());
    assert_eq!(
        store.reserve_payment(&a.id, &r).await.expect("reserve"),
        ReserveOutcome::InsufficientBalance
    );
    let ghost = AccountId("00".repeat(16));
    assert_eq!(
        store.reserve_payment(&ghost, &r).await.expect("reserve"),
        ReserveOutcome::UnknownLink
    );
    assert_eq!(balance(&store, &a).await, 3_000, "refusals moved nothing");
    assert!(matches!(
        finish(&store, &p.payment_hash, &failed("no route"), 2_000).await,
        FinishOutcome::Finished(_)
    ));
    assert_eq!(balance(&store, &a).await, 10_000);
}
