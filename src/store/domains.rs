//! [`DomainStore`]: domains added at run time (the admin API's `POST /api/v1/domains`) and the
//! bearer tokens that manage one domain each. Kept apart from the `Store` trait's accounts so the
//! domain registry ([`crate::domains`]) can watch one small version counter.
//!
//! Duties of an implementation:
//! - Every method is atomic, also across processes sharing the backend.
//! - [`DomainStore::domains_version`] grows with every successful add, update and removal, so a
//!   process that polls it sees every change; it never goes backwards.
//! - [`DomainStore::remove_domain`] refuses with [`StoreError::DomainHasAccounts`] while an account
//!   is named on the domain, and takes the domain's tokens with it.
//! - Tokens are kept only as the sha256 of the bearer token; the token itself is never stored.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::config::RawDomain;

/// A domain kept in the store: its keys exactly as the admin API accepted them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainRecord {
    /// The domain's keys; `domain.name` is the lower-case domain name, the record's key.
    pub domain: RawDomain,
    pub created_at: u64,
    pub updated_at: u64,
}

/// A bearer token that manages one domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainToken {
    /// Public id (16 hex digits), used to revoke it.
    pub id: String,
    pub domain: String,
    /// sha256 of the token, hex.
    pub token_hash: String,
    pub label: Option<String>,
    pub created_at: u64,
}

#[async_trait]
pub trait DomainStore {
    /// Adds a domain; [`StoreError::DomainExists`] when the name is kept already.
    async fn add_domain(&self, record: &DomainRecord) -> Result<(), StoreError>;

    /// Replaces a kept domain's record; [`StoreError::NotFound`] when there is none.
    async fn update_domain(&self, record: &DomainRecord) -> Result<(), StoreError>;

    /// Removes a domain and its tokens; [`StoreError::NotFound`] when there is none,
    /// [`StoreError::DomainHasAccounts`] while accounts are named on it.
    async fn remove_domain(&self, name: &str) -> Result<(), StoreError>;

    /// Every kept domain, ordered by name.
    async fn domains(&self) -> Result<Vec<DomainRecord>, StoreError>;

    /// A counter that grows with every change of the kept domains (0 before the first).
    async fn domains_version(&self) -> Result<u64, StoreError>;

    /// Keeps a new token; the id and the hash are fresh random values, never reused.
    async fn add_domain_token(&self, token: &DomainToken) -> Result<(), StoreError>;

    /// The token whose sha256 is `token_hash` (hex).
    async fn domain_token(&self, token_hash: &str) -> Result<Option<DomainToken>, StoreError>;

    /// The tokens of one domain, oldest first.
    async fn domain_tokens(&self, domain: &str) -> Result<Vec<DomainToken>, StoreError>;

    /// Revokes a token by id; answers the revoked token, `None` when there was none.
    async fn remove_domain_token(&self, id: &str) -> Result<Option<DomainToken>, StoreError>;
}
