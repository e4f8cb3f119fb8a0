//! The store conformance suites against every backend, one named test per case per backend
//! (`support/conformance.rs`), and the backend-specific cases.

mod support;

use std::sync::Arc;

use lnaddr::store::embedded::EmbeddedStore;
use lnaddr::store::redis::RedisStore;
use lnaddr::store::{Store, StoreError, ZapOutbox};

conformance! {
    store_suite => [
        accounts_and_names,
        names_are_per_domain,
        credit_is_once,
        credit_unknown_and_gone,
        ledger_newest_first,
        cursor_only_moves_forward,
        cursor_resets_only_from_expected,
        forget_unpaid_keeps_paid,
        delete_refused_with_balance,
        meta_once,
        concurrent_credits_exact,
        snapshot_is_a_consistent_copy,
    ],
    outbox_suite => [
        queued_once_with_the_credit,
        claims_are_exclusive_under_concurrency,
        saves_reschedule_and_finish,
        an_expired_lease_passes_to_another,
        an_unpaid_zap_has_no_job_until_credited,
    ],
    withdraw_suite => [
        links_round_trip,
        reserve_checks_everything,
        finish_is_once,
        concurrent_single_use,
        concurrent_balance_is_exact,
        leases_are_exclusive,
        payments_without_a_link,
        delete_refused_while_money_moves,
    ],
    domain_suite => [
        domains_add_update_remove_and_version,
        domain_removal_refused_with_accounts,
        domain_tokens_by_hash_and_revocation,
        domain_removal_takes_its_tokens,
    ],
    lndhub_suite => [
        credentials_round_trip,
        tokens_expire_and_are_taken_once,
        invites_are_taken_once,
        invoice_list_newest_first,
    ],
    nwc_suite => [
        connections_round_trip,
        revoke_is_for_good,
        budget_is_exact_under_concurrency,
        budget_renews_and_gives_back,
        requests_are_claimed_once,
        requests_left_running_are_found_stale,
        answered_requests_are_never_stale,
    ],
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
        let inv = support::outbox_suite::zap_invoice_for(&a, 1, 4242);
        store.add_invoice(inv.clone()).await.expect("add");
        store
            .credit_settlement(&support::store_suite::settlement(&inv, 1))
            .await
            .expect("credit");
        (a.id, inv.payment_hash)
    };
    let store = EmbeddedStore::open(&path).expect("reopen");
    let a = store.account(&id).await.expect("read").expect("kept");
    assert_eq!(a.balance_msat.msat(), 4242);
    assert!(
        store
            .invoice(&hash)
            .await
            .expect("read")
            .expect("kept")
            .settled
            .is_some()
    );
    // The zap receipt job queued with the credit survives too, and is still due.
    let job = store.zap_job(&hash).await.expect("read").expect("kept");
    assert_eq!(job.status, lnaddr::store::ReceiptStatus::Pending);
    let claimed = store
        .claim_zap_jobs("after-reopen", u64::MAX / 2, 1_000, 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
}

/// A store call while Redis is down fails fast with `Backend`; after a restart the same store
/// object works again without being rebuilt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_fails_fast_and_recovers() {
    let mut server = support::redis_server::RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.expect("connect");
    store.ping().await.expect("ping");
    server.stop();
    let started = std::time::Instant::now();
    let err = store
        .create_account(support::store_suite::new_account("down@example.com"))
        .await
        .expect_err("redis is down");
    assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    server.resume();
    support::process::wait_for(
        "the store to recover",
        std::time::Duration::from_secs(20),
        || {
            let store = store.clone();
            async move { store.ping().await.ok() }
        },
    )
    .await;
    store
        .create_account(support::store_suite::new_account("up@example.com"))
        .await
        .expect("works again");
}

/// The crash-consistency argument of `store::keys`, checked by leaving exactly the partial writes a
/// crash between two slots would leave: a name pointing at a removed account reads as free and is
/// taken over; an invoice index without its record reads as unknown and a retry completes it.
#[tokio::test]
async fn redis_store_tolerates_partial_writes() {
    use lnaddr::store::keys;
    use lnaddr::types::{DomainName, Username};
    use support::redis_server::cli;

    let server = support::redis_server::RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.expect("connect");
    let (domain, user) = (
        DomainName::parse("example.com").expect("domain"),
        Username::parse("olga").expect("user"),
    );
    // delete_account removed the record, then crashed before freeing the name.
    let name = keys::name(&domain, &user);
    assert_eq!(
        cli(server.port, &["SET", &name, "0123deadbeef"]).as_deref(),
        Some("OK")
    );
    assert!(
        store
            .account_by_name(&domain, &user)
            .await
            .expect("read")
            .is_none()
    );
    let olga = store
        .create_account(support::store_suite::new_account("olga@example.com"))
        .await
        .expect("a stale name is free");
    assert_eq!(
        store
            .account_by_name(&domain, &user)
            .await
            .expect("read")
            .map(|a| a.id),
        Some(olga.id.clone())
    );
    assert!(matches!(
        store
            .create_account(support::store_suite::new_account("olga@example.com"))
            .await,
        Err(StoreError::NameTaken)
    ));

    // add_invoice wrote the index, then crashed before the record.
    let inv = support::store_suite::invoice_for(&olga, 1, 7000);
    let index = keys::invoice_owner(&inv.payment_hash);
    assert_eq!(
        cli(server.port, &["SET", &index, &olga.id.0]).as_deref(),
        Some("OK")
    );
    assert!(
        store
            .invoice(&inv.payment_hash)
            .await
            .expect("read")
            .is_none()
    );
    assert_eq!(
        store
            .credit_settlement(&support::store_suite::settlement(&inv, 1))
            .await
            .expect("credit"),
        lnaddr::store::CreditOutcome::UnknownInvoice
    );
    store
        .add_invoice(inv.clone())
        .await
        .expect("retry completes");
    assert!(matches!(
        store.add_invoice(inv.clone()).await,
        Err(StoreError::DuplicateInvoice)
    ));
    assert!(matches!(
        store
            .credit_settlement(&support::store_suite::settlement(&inv, 2))
            .await
            .expect("credit"),
        lnaddr::store::CreditOutcome::Credited { .. }
    ));
}

/// How many times Redis has run `command` since the last `CONFIG RESETSTAT`.
fn calls(port: u16, command: &str) -> u64 {
    let stats = support::redis_server::cli(port, &["INFO", "commandstats"]).expect("info");
    stats
        .lines()
        .find_map(|l| l.strip_prefix(&format!("cmdstat_{command}:calls=")))
        .and_then(|rest| rest.split(',').next())
        .map_or(0, |n| n.parse().expect("a count"))
}

/// A lookup of a name this process has resolved before is one round trip (the account's HMGET),
/// and a name that another process removed and gave to a new account resolves to the new one.
#[tokio::test]
async fn redis_lookups_take_one_round_trip_and_follow_names() {
    use lnaddr::types::{DomainName, Username};
    use support::redis_server::cli;

    let server = support::redis_server::RedisServer::start();
    let here = RedisStore::connect(&server.url()).await.expect("connect");
    let elsewhere = RedisStore::connect(&server.url()).await.expect("connect");
    let (domain, user) = (
        DomainName::parse("example.com").expect("domain"),
        Username::parse("olga").expect("user"),
    );
    let first = here
        .create_account(support::store_suite::new_account("olga@example.com"))
        .await
        .expect("create");
    let resolve = || async {
        here.account_by_name(&domain, &user)
            .await
            .expect("read")
            .map(|a| a.id)
    };
    assert_eq!(resolve().await, Some(first.id.clone()));

    cli(server.port, &["CONFIG", "RESETSTAT"]).expect("resetstat");
    for _ in 0..10 {
        assert_eq!(resolve().await, Some(first.id.clone()));
    }
    assert_eq!(calls(server.port, "get"), 0, "no name reads once known");
    assert_eq!(
        calls(server.port, "hmget"),
        10,
        "one account read per lookup"
    );

    // Another process removes olga and gives the name to a new account.
    elsewhere.delete_account(&first.id).await.expect("delete");
    assert_eq!(resolve().await, None, "a removed account is not served");
    let second = elsewhere
        .create_account(support::store_suite::new_account("olga@example.com"))
        .await
        .expect("the name is free again");
    assert_ne!(second.id, first.id);
    assert_eq!(resolve().await, Some(second.id.clone()));
    // And once more with the new id remembered, without a lookup in between.
    elsewhere.delete_account(&second.id).await.expect("delete");
    let third = elsewhere
        .create_account(support::store_suite::new_account("olga@example.com"))
        .await
        .expect("create");
    assert_eq!(resolve().await, Some(third.id));
}

/// A pending-withdrawal member without its record is a reservation another process is making right
/// now (its claim and member come before its script) as long as its claim stands: a starting
/// payer leaves it alone. Without a claim it was released, and is dropped.
#[tokio::test]
async fn redis_pending_withdrawals_leave_reservations_in_progress_alone() {
    use lnaddr::store::{WithdrawStore, keys};
    use lnaddr::types::PaymentHash;
    use support::redis_server::cli;

    let server = support::redis_server::RedisServer::start();
    let store = RedisStore::connect(&server.url()).await.expect("connect");
    let id = "0123456789abcdef0123456789abcdef";
    let in_progress = PaymentHash([1; 32]);
    let released = PaymentHash([2; 32]);
    let member = |hash: &PaymentHash| format!("{id}:{hash}");
    let claim = keys::withdrawal_owner(&in_progress);
    assert_eq!(
        cli(server.port, &["SET", &claim, id]).as_deref(),
        Some("OK")
    );
    for hash in [&in_progress, &released] {
        cli(
            server.port,
            &["SADD", keys::withdrawals_pending(), &member(hash)],
        )
        .expect("sadd");
    }

    assert!(
        store
            .pending_withdrawals()
            .await
            .expect("pending")
            .is_empty()
    );
    let is_member = |hash: &PaymentHash| {
        cli(
            server.port,
            &["SISMEMBER", keys::withdrawals_pending(), &member(hash)],
        )
    };
    assert_eq!(
        is_member(&in_progress).as_deref(),
        Some("1"),
        "kept while claimed"
    );
    assert_eq!(
        is_member(&released).as_deref(),
        Some("0"),
        "dropped once released"
    );
}
