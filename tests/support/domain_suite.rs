//! The [`DomainStore`] part of the store conformance suite: domains added at run time, their
//! version counter, removal refused while accounts are named on the domain, and domain tokens
//! kept as hashes. Every backend runs it through `tests/store_conformance.rs`.

use std::sync::Arc;

use lnaddr::config::RawDomain;
use lnaddr::store::*;

pub fn record(name: &str, url: &str) -> DomainRecord {
    DomainRecord {
        domain: RawDomain {
            name: name.into(),
            public_url: Some(url.into()),
            description: Some("Tips".into()),
            ..RawDomain::default()
        },
        created_at: 10,
        updated_at: 10,
    }
}

pub fn token(id: &str, domain: &str, hash: &str) -> DomainToken {
    DomainToken {
        id: id.into(),
        domain: domain.into(),
        token_hash: hash.into(),
        label: Some(format!("label {id}")),
        created_at: 5,
    }
}

pub async fn domains_add_update_remove_and_version(store: Arc<dyn Store>) {
    assert_eq!(store.domains_version().await.expect("version"), 0);
    assert!(store.domains().await.expect("list").is_empty());
    let b = record("b.example", "https://pay.gateway.net");
    let a = record("a.example", "https://a.example");
    store.add_domain(&b).await.expect("add b");
    store.add_domain(&a).await.expect("add a");
    let v2 = store.domains_version().await.expect("version");
    assert!(v2 >= 2, "each add moves the version: {v2}");
    assert_eq!(
        store.domains().await.expect("list"),
        vec![a.clone(), b.clone()]
    );
    assert!(matches!(
        store.add_domain(&a).await,
        Err(StoreError::DomainExists)
    ));
    assert_eq!(
        store.domains_version().await.expect("version"),
        v2,
        "a refused add changes nothing"
    );

    let mut changed = a.clone();
    changed.domain.description = Some("New".into());
    changed.updated_at = 20;
    store.update_domain(&changed).await.expect("update");
    let v3 = store.domains_version().await.expect("version");
    assert!(v3 > v2);
    assert_eq!(store.domains().await.expect("list")[0], changed);
    assert!(matches!(
        store.update_domain(&record("c.example", "https://c")).await,
        Err(StoreError::NotFound)
    ));

    store.remove_domain("a.example").await.expect("remove");
    assert!(store.domains_version().await.expect("version") > v3);
    assert_eq!(store.domains().await.expect("list"), vec![b]);
    assert!(matches!(
        store.remove_domain("a.example").await,
        Err(StoreError::NotFound)
    ));
}

pub async fn domain_removal_refused_with_accounts(store: Arc<dyn Store>) {
    store
        .add_domain(&record("shop.example", "https://shop.example"))
        .await
        .expect("add");
    // A name on a domain whose name starts the same does not count.
    store
        .create_account(super::store_suite::new_account("bob@shop.example.org"))
        .await
        .expect("other domain");
    let alice = store
        .create_account(super::store_suite::new_account("alice@shop.example"))
        .await
        .expect("account");
    let v = store.domains_version().await.expect("version");
    assert!(matches!(
        store.remove_domain("shop.example").await,
        Err(StoreError::DomainHasAccounts)
    ));
    assert_eq!(store.domains().await.expect("list").len(), 1, "still there");
    assert_eq!(store.domains_version().await.expect("version"), v);
    store
        .delete_account(&alice.id)
        .await
        .expect("delete account");
    store
        .remove_domain("shop.example")
        .await
        .expect("now empty");
    assert!(store.domains().await.expect("list").is_empty());
}

pub async fn domain_tokens_by_hash_and_revocation(store: Arc<dyn Store>) {
    let t1 = token("0000000000000001", "a.example", &"11".repeat(32));
    let t2 = token("0000000000000002", "a.example", &"22".repeat(32));
    let t3 = token("0000000000000003", "b.example", &"33".repeat(32));
    for t in [&t1, &t2, &t3] {
        store.add_domain_token(t).await.expect("add token");
    }
    assert_eq!(
        store.domain_token(&"22".repeat(32)).await.expect("read"),
        Some(t2.clone())
    );
    assert_eq!(
        store.domain_token(&"44".repeat(32)).await.expect("read"),
        None
    );
    assert_eq!(
        store.domain_tokens("a.example").await.expect("list"),
        vec![t1.clone(), t2.clone()]
    );
    assert_eq!(
        store.remove_domain_token(&t1.id).await.expect("revoke"),
        Some(t1.clone())
    );
    assert_eq!(
        store.domain_token(&t1.token_hash).await.expect("read"),
        None
    );
    assert_eq!(
        store.remove_domain_token(&t1.id).await.expect("again"),
        None
    );
    assert_eq!(
        store.domain_tokens("a.example").await.expect("list"),
        vec![t2]
    );
    assert_eq!(
        store.domain_tokens("b.example").await.expect("list"),
        vec![t3]
    );
}

pub async fn domain_removal_takes_its_tokens(store: Arc<dyn Store>) {
    store
        .add_domain(&record("gone.example", "https://gone.example"))
        .await
        .expect("add");
    store
        .add_domain(&record("kept.example", "https://kept.example"))
        .await
        .expect("add");
    let gone = token("00000000000000aa", "gone.example", &"aa".repeat(32));
    let kept = token("00000000000000bb", "kept.example", &"bb".repeat(32));
    store.add_domain_token(&gone).await.expect("token");
    store.add_domain_token(&kept).await.expect("token");
    store.remove_domain("gone.example").await.expect("remove");
    assert_eq!(
        store.domain_token(&gone.token_hash).await.expect("read"),
        None
    );
    assert_eq!(
        store.remove_domain_token(&gone.id).await.expect("id gone"),
        None
    );
    assert_eq!(
        store.domain_token(&kept.token_hash).await.expect("read"),
        Some(kept)
    );
}
