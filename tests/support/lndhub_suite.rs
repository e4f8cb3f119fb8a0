//! The LndHub part of the store conformance suite, run by every backend through
//! `tests/store_conformance.rs`: credentials (unique logins, listing, revocation at once), tokens and
//! invites (expiry, taken by exactly one of many racing callers), and the `addinvoice` list.

use std::sync::Arc;

use lnaddr::store::*;
use lnaddr::types::PaymentHash;

use super::store_suite::created;

pub fn cred(account: &Account, login: &str, at: u64) -> LndhubCredential {
    LndhubCredential {
        login: login.into(),
        account_id: account.id.clone(),
        password_hash: "ab".repeat(32),
        created_at: at,
    }
}

pub fn token(account: &Account, login: &str, kind: TokenKind, expires_at: u64) -> LndhubToken {
    LndhubToken {
        login: login.into(),
        account_id: account.id.clone(),
        kind,
        expires_at,
    }
}

fn now() -> u64 {
    lnaddr::types::unix_now()
}

pub async fn credentials_round_trip(store: Arc<dyn Store>) {
    let alice = created(store.as_ref(), "alice@example.com").await;
    let bob = created(store.as_ref(), "bob@example.com").await;
    store
        .create_lndhub_credential(&cred(&alice, "aa01", 2))
        .await
        .expect("first");
    store
        .create_lndhub_credential(&cred(&alice, "aa00", 1))
        .await
        .expect("second");
    store
        .create_lndhub_credential(&cred(&bob, "bb00", 1))
        .await
        .expect("bob's");
    assert!(matches!(
        store.create_lndhub_credential(&cred(&bob, "aa00", 3)).await,
        Err(StoreError::NameTaken)
    ));
    let c = store
        .lndhub_credential("aa00")
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(
        c,
        cred(&alice, "aa00", 1),
        "a taken login is never overwritten"
    );
    let list: Vec<String> = store
        .lndhub_credentials(&alice.id)
        .await
        .expect("list")
        .into_iter()
        .map(|c| c.login)
        .collect();
    assert_eq!(list, ["aa00", "aa01"], "the account's own, oldest first");

    let revoked = store
        .revoke_lndhub_credential("aa00")
        .await
        .expect("revoke");
    assert_eq!(revoked.map(|c| c.login).as_deref(), Some("aa00"));
    assert_eq!(store.lndhub_credential("aa00").await.expect("read"), None);
    assert_eq!(
        store.revoke_lndhub_credential("aa00").await.expect("again"),
        None
    );
    assert_eq!(
        store
            .lndhub_credentials(&alice.id)
            .await
            .expect("list")
            .len(),
        1
    );
    assert_eq!(
        store.lndhub_credentials(&bob.id).await.expect("list").len(),
        1
    );
}

pub async fn tokens_expire_and_are_taken_once(store: Arc<dyn Store>) {
    let alice = created(store.as_ref(), "alice@example.com").await;
    let t = now();
    let live = token(&alice, "aa", TokenKind::Access, t + 3600);
    store.put_lndhub_token("h-live", &live).await.expect("put");
    store
        .put_lndhub_token("h-dead", &token(&alice, "aa", TokenKind::Access, t + 5))
        .await
        .expect("put");
    assert_eq!(
        store.lndhub_token("h-live", t).await.expect("read"),
        Some(live.clone())
    );
    assert_eq!(
        store.lndhub_token("h-dead", t + 5).await.expect("read"),
        None,
        "expired at its expiry"
    );
    assert_eq!(store.lndhub_token("nope", t).await.expect("read"), None);

    let refresh = token(&alice, "aa", TokenKind::Refresh, t + 3600);
    store
        .put_lndhub_token("h-refresh", &refresh)
        .await
        .expect("put");
    let won = race_to_take(&store, |s| async move {
        s.take_lndhub_token("h-refresh", t).await.expect("take")
    })
    .await;
    assert_eq!(won, [refresh], "one caller takes a refresh token");
    assert_eq!(
        store.lndhub_token("h-refresh", t).await.expect("read"),
        None
    );
}

/// 20 callers race `take` on one store: what each winner took.
async fn race_to_take<T, F, Fut>(store: &Arc<dyn Store>, take: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(Arc<dyn Store>) -> Fut,
    Fut: std::future::Future<Output = Option<T>> + Send + 'static,
{
    let racers: Vec<_> = (0..20).map(|_| tokio::spawn(take(store.clone()))).collect();
    let mut won = Vec::new();
    for r in racers {
        won.extend(r.await.expect("join"));
    }
    won
}

pub async fn invites_are_taken_once(store: Arc<dyn Store>) {
    let t = now();
    let invite = Invite {
        domain: "example.com".into(),
        created_at: t,
        expires_at: t + 600,
    };
    store
        .create_invite("code-hash", &invite)
        .await
        .expect("put");
    store
        .create_invite(
            "old-hash",
            &Invite {
                expires_at: t + 1,
                ..invite.clone()
            },
        )
        .await
        .expect("put");
    assert_eq!(
        store.take_invite("old-hash", t + 1).await.expect("take"),
        None
    );
    let won = race_to_take(&store, |s| async move {
        s.take_invite("code-hash", t).await.expect("take")
    })
    .await;
    assert_eq!(won, [invite], "an invite opens one account");
}

pub async fn invoice_list_newest_first(store: Arc<dyn Store>) {
    let alice = created(store.as_ref(), "alice@example.com").await;
    let bob = created(store.as_ref(), "bob@example.com").await;
    for i in 1..=5u8 {
        store
            .note_lndhub_invoice(&alice.id, &PaymentHash([i; 32]))
            .await
            .expect("note");
    }
    store
        .note_lndhub_invoice(&bob.id, &PaymentHash([9; 32]))
        .await
        .expect("note");
    let got = store.lndhub_invoices(&alice.id, 3).await.expect("list");
    assert_eq!(
        got,
        [
            PaymentHash([5; 32]),
            PaymentHash([4; 32]),
            PaymentHash([3; 32])
        ]
    );
    assert_eq!(
        store.lndhub_invoices(&bob.id, 10).await.expect("list"),
        [PaymentHash([9; 32])]
    );
}
