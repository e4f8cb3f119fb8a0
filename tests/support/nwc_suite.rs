//! The NWC part of the store conformance suite (NIP-47 connections), run by every backend through
//! `tests/store_conformance.rs`: connections round-trip (secret included) and list per account, revoke
//! is for good, budget reservations are exact under concurrency and start again in a new period,
//! a request id is claimed by one caller at a time, then answered the same to everyone, and only
//! requests claimed and never answered are found stale.

use std::sync::Arc;

use futures_util::future::join_all;
use lnaddr::store::*;
use lnaddr::types::Msat;

use super::store_suite::created;

pub fn connection(account: &Account, budget: Option<u64>, created_at: u64) -> NwcConnection {
    NwcConnection {
        id: hex::encode(rand::random::<[u8; 32]>()),
        account_id: account.id.clone(),
        name: Some("Damus".into()),
        wallet_secret: WalletSecret::new(hex::encode(rand::random::<[u8; 32]>())),
        client_pubkey: hex::encode(rand::random::<[u8; 32]>()),
        methods: vec!["get_balance".into(), "pay_invoice".into()],
        max_amount_msat: Some(Msat::from_msat(5_000)),
        budget_msat: budget.map(Msat::from_msat),
        budget_renewal: BudgetRenewal::Daily,
        created_at,
        expires_at: None,
        revoked: false,
        budget_used_msat: Msat::ZERO,
        budget_period: 0,
    }
}

pub async fn connections_round_trip(store: Arc<dyn Store>) {
    let alice = created(store.as_ref(), "alice@example.com").await;
    let bob = created(store.as_ref(), "bob@example.com").await;
    let a1 = connection(&alice, Some(10_000), 1);
    let a2 = connection(&alice, None, 2);
    let b1 = connection(&bob, None, 3);
    for c in [&a2, &a1, &b1] {
        store.create_nwc_connection(c).await.expect("create");
    }
    assert_eq!(
        store.nwc_connection(&a1.id).await.expect("read"),
        Some(a1.clone())
    );
    assert_eq!(store.nwc_connection("00").await.expect("read"), None);
    let mine = store.nwc_connections(Some(&alice.id)).await.expect("list");
    assert_eq!(mine, vec![a1.clone(), a2.clone()]);
    let all = store.nwc_connections(None).await.expect("list");
    assert_eq!(all, vec![a1.clone(), a2, b1]);
    // The secret survives the store, and Debug never shows it.
    let read = store
        .nwc_connection(&a1.id)
        .await
        .expect("read")
        .expect("conn");
    assert_eq!(read.wallet_secret.expose(), a1.wallet_secret.expose());
    assert!(!format!("{read:?}").contains(a1.wallet_secret.expose()));
    // No account, no connection.
    let mut ghost = connection(&alice, None, 4);
    ghost.account_id = AccountId("ff".repeat(16));
    assert!(matches!(
        store.create_nwc_connection(&ghost).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn revoke_is_for_good(store: Arc<dyn Store>) {
    let alice = created(store.as_ref(), "alice@example.com").await;
    let c = connection(&alice, None, 1);
    store.create_nwc_connection(&c).await.expect("create");
    let revoked = store
        .revoke_nwc_connection(&c.id)
        .await
        .expect("revoke")
        .expect("found");
    assert!(revoked.revoked);
    assert!(
        store
            .nwc_connection(&c.id)
            .await
            .expect("read")
            .expect("conn")
            .revoked
    );
    assert_eq!(
        store
            .reserve_nwc_budget(&c.id, "r", Msat::from_msat(1), None, 0)
            .await
            .expect("reserve"),
        BudgetOutcome::Refused
    );
    assert_eq!(
        store.revoke_nwc_connection("00").await.expect("revoke"),
        None
    );
    assert_eq!(
        store
            .reserve_nwc_budget("00", "r", Msat::from_msat(1), None, 0)
            .await
            .expect("reserve"),
        BudgetOutcome::Refused
    );
}

pub async fn budget_is_exact_under_concurrency(store: Arc<dyn Store>) {
    let alice = created(store.as_ref(), "alice@example.com").await;
    let c = connection(&alice, Some(10_000), 1);
    store.create_nwc_connection(&c).await.expect("create");
    let period = 86_400;
    let tries = join_all((0..40).map(|i| {
        let (store, id) = (store.clone(), c.id.clone());
        async move {
            store
                .reserve_nwc_budget(
                    &id,
                    &format!("r{i}"),
                    Msat::from_msat(700),
                    Some(Msat::from_msat(10_000)),
                    period,
                )
                .await
                .expect("reserve")
        }
    }))
    .await;
    let taken = tries
        .iter()
        .filter(|o| matches!(o, BudgetOutcome::Reserved { .. }))
        .count();
    // 14 * 700 = 9800 fits, a 15th would be 10500.
    assert_eq!(taken, 14);
    assert!(tries.iter().all(|o| matches!(
        o,
        BudgetOutcome::Reserved { .. } | BudgetOutcome::QuotaExceeded
    )));
    let read = store
        .nwc_connection(&c.id)
        .await
        .expect("read")
        .expect("conn");
    assert_eq!(read.used_in(period), Msat::from_msat(9_800));
    assert_eq!(read.used_in(period + 86_400), Msat::ZERO);
}

pub async fn budget_renews_and_gives_back(store: Arc<dyn Store>) {
    let alice = created(store.as_ref(), "alice@example.com").await;
    let c = connection(&alice, Some(1_000), 1);
    store.create_nwc_connection(&c).await.expect("create");
    let budget = Some(Msat::from_msat(1_000));
    let (day1, day2) = (86_400, 2 * 86_400);
    let reserve = |request: &'static str, amount: u64, period: u64| {
        let (store, id) = (store.clone(), c.id.clone());
        async move {
            store
                .reserve_nwc_budget(&id, request, Msat::from_msat(amount), budget, period)
                .await
                .expect("reserve")
        }
    };
    let settle = |request: &'static str, spent: u64| {
        let (store, id) = (store.clone(), c.id.clone());
        async move {
            store
                .settle_nwc_budget(&id, request, Msat::from_msat(spent))
                .await
                .expect("settle")
        }
    };
    let used = |period: u64| {
        let (store, id) = (store.clone(), c.id.clone());
        async move {
            store
                .nwc_connection(&id)
                .await
                .expect("read")
                .expect("conn")
                .used_in(period)
        }
    };
    assert_eq!(
        reserve("r1", 1_000, day1).await,
        BudgetOutcome::Reserved { period: day1 }
    );
    assert_eq!(reserve("r2", 1, day1).await, BudgetOutcome::QuotaExceeded);
    // What was not spent goes back in its period: room again.
    settle("r1", 600).await;
    assert_eq!(used(day1).await, Msat::from_msat(600));
    assert_eq!(
        reserve("r3", 400, day1).await,
        BudgetOutcome::Reserved { period: day1 }
    );
    assert_eq!(reserve("r4", 1, day1).await, BudgetOutcome::QuotaExceeded);
    // A new period starts from zero.
    assert_eq!(
        reserve("r5", 600, day2).await,
        BudgetOutcome::Reserved { period: day2 }
    );
    // A hold of the old period given back changes nothing now.
    settle("r3", 0).await;
    assert_eq!(used(day2).await, Msat::from_msat(600));
    // A request run again finds its hold: nothing more is taken, in whatever period it runs.
    assert_eq!(
        reserve("r5", 600, day2).await,
        BudgetOutcome::Reserved { period: day2 }
    );
    assert_eq!(
        reserve("r3", 400, day2).await,
        BudgetOutcome::Reserved { period: day2 },
        "r3's hold is gone, so it is a new one"
    );
    assert_eq!(used(day2).await, Msat::from_msat(1_000));
    // Settled twice, given back once.
    settle("r5", 0).await;
    settle("r5", 0).await;
    assert_eq!(used(day2).await, Msat::from_msat(400));
    settle("r3", 0).await;
    assert_eq!(used(day2).await, Msat::ZERO);
    // A request without a hold gives nothing back, and nothing goes below zero.
    settle("r9", 0).await;
    assert_eq!(used(day2).await, Msat::ZERO);
    // No budget: anything goes, and is counted.
    assert_eq!(
        store
            .reserve_nwc_budget(&c.id, "r6", Msat::from_msat(u64::MAX / 4), None, day2)
            .await
            .expect("reserve"),
        BudgetOutcome::Reserved { period: day2 }
    );
    // A request holding budget is still answered after a revocation; a new one is refused.
    store.revoke_nwc_connection(&c.id).await.expect("revoke");
    assert_eq!(
        reserve("r6", 1, day2).await,
        BudgetOutcome::Reserved { period: day2 }
    );
    assert_eq!(reserve("r8", 1, day2).await, BudgetOutcome::Refused);
}

pub async fn requests_are_claimed_once(store: Arc<dyn Store>) {
    let id = hex::encode(rand::random::<[u8; 32]>());
    let claims = join_all((0..16).map(|_| {
        let (store, id) = (store.clone(), id.clone());
        async move {
            store
                .claim_nwc_request(&id, 1_000, 60, "{}")
                .await
                .expect("claim")
        }
    }))
    .await;
    assert_eq!(
        claims
            .iter()
            .filter(|c| **c == RequestClaim::Claimed)
            .count(),
        1
    );
    assert!(
        claims
            .iter()
            .all(|c| matches!(c, RequestClaim::Claimed | RequestClaim::Running))
    );
    // The lease runs out: one later caller takes it over.
    assert_eq!(
        store
            .claim_nwc_request(&id, 1_059, 60, "{}")
            .await
            .expect("claim"),
        RequestClaim::Running
    );
    assert_eq!(
        store
            .claim_nwc_request(&id, 1_060, 60, "{}")
            .await
            .expect("claim"),
        RequestClaim::Claimed
    );
    let answer = r#"{"result_type":"pay_invoice","error":null,"result":{"preimage":"00"}}"#;
    store.answer_nwc_request(&id, answer).await.expect("answer");
    for now in [1_061, 10_000] {
        assert_eq!(
            store
                .claim_nwc_request(&id, now, 60, "{}")
                .await
                .expect("claim"),
            RequestClaim::Answered(answer.into())
        );
    }
}

/// A claim keeps its request event; once the claim is older than the lease (its runner died) the
/// event is found stale, until the request is renewed or answered.
pub async fn requests_left_running_are_found_stale(store: Arc<dyn Store>) {
    let id = hex::encode(rand::random::<[u8; 32]>());
    let event = format!(r#"{{"id":"{id}","kind":23194,"content":"a:b:c"}}"#);
    let stale = |now: u64| {
        let store = store.clone();
        async move { store.stale_nwc_requests(now, 20, 100).await.expect("stale") }
    };
    assert_eq!(
        store
            .claim_nwc_request(&id, 1_000, 20, &event)
            .await
            .expect("claim"),
        RequestClaim::Claimed
    );
    assert!(stale(1_019).await.is_empty(), "fresh");
    assert_eq!(stale(1_020).await, vec![event.clone()]);
    store.renew_nwc_request(&id, 1_030).await.expect("renew");
    assert!(stale(1_049).await.is_empty(), "renewed");
    assert_eq!(stale(1_050).await, vec![event.clone()]);
    // A renewal does not go back in time.
    store.renew_nwc_request(&id, 1_010).await.expect("renew");
    assert_eq!(stale(1_050).await, vec![event.clone()]);
    // Taken over: the event is kept, and the claim is fresh again.
    assert_eq!(
        store
            .claim_nwc_request(&id, 1_050, 20, &event)
            .await
            .expect("claim"),
        RequestClaim::Claimed
    );
    assert!(stale(1_060).await.is_empty());
    store.answer_nwc_request(&id, "{}").await.expect("answer");
    assert!(stale(10_000).await.is_empty(), "answered");
    store.renew_nwc_request(&id, 10_000).await.expect("renew");
    assert_eq!(
        store
            .claim_nwc_request(&id, 20_000, 20, &event)
            .await
            .expect("claim"),
        RequestClaim::Answered("{}".into()),
        "a renewal does not undo an answer"
    );
}

/// Of many requests (in many cluster slots), the stale ones are exactly those claimed and never
/// answered, at most `limit` at a time; an answered request, delivered again afterwards, is
/// never listed stale.
pub async fn answered_requests_are_never_stale(store: Arc<dyn Store>) {
    let requests: Vec<(String, String)> = (0..12)
        .map(|_| {
            let id = hex::encode(rand::random::<[u8; 32]>());
            let event = format!(r#"{{"id":"{id}","kind":23194}}"#);
            (id, event)
        })
        .collect();
    for (id, event) in &requests {
        assert_eq!(
            store
                .claim_nwc_request(id, 1_000, 20, event)
                .await
                .expect("claim"),
            RequestClaim::Claimed
        );
    }
    let (answered, running) = requests.split_at(5);
    for (id, _) in answered {
        store.answer_nwc_request(id, "{}").await.expect("answer");
        // Delivered again (another relay, another process), once answered.
        assert_eq!(
            store
                .claim_nwc_request(id, 5_000, 20, "{}")
                .await
                .expect("claim"),
            RequestClaim::Answered("{}".into())
        );
    }
    let sorted = |mut events: Vec<String>| {
        events.sort();
        events
    };
    let expected = sorted(running.iter().map(|(_, e)| e.clone()).collect());
    let stale = store
        .stale_nwc_requests(10_000, 20, 100)
        .await
        .expect("stale");
    assert_eq!(sorted(stale), expected);
    let some = store
        .stale_nwc_requests(10_000, 20, 3)
        .await
        .expect("stale");
    assert_eq!(some.len(), 3);
    assert!(some.iter().all(|e| expected.contains(e)));
    for (id, _) in running {
        store.answer_nwc_request(id, "{}").await.expect("answer");
    }
    assert!(
        store
            .stale_nwc_requests(10_000, 20, 100)
            .await
            .expect("stale")
            .is_empty()
    );
}
