//! The store side of the LndHub API (BlueWallet, Zeus): credentials (a login naming an account,
//! with the hash of its password), bearer tokens (kept under the sha256 of the token, with an
//! expiry), registration invite codes (under the sha256 of the code), and the list of invoices each
//! account issued through LndHub `addinvoice`. Nothing here holds a secret in the clear. Both
//! backends run the LndHub part of the conformance suite (`tests/support/lndhub_suite.rs`).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{AccountId, StoreError};
use crate::types::PaymentHash;

/// A login and password that open one account's wallet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LndhubCredential {
    /// Random, public (it names the credential in the admin API).
    pub login: String,
    pub account_id: AccountId,
    /// Hex sha256 of the password (the password is 160 random bits made by the gateway, never
    /// chosen by a person, so a fast hash is enough).
    pub password_hash: String,
    pub created_at: u64,
}

/// What a bearer token is good for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// `Authorization: Bearer` on every wallet call.
    Access,
    /// Traded once for a new pair (`POST /auth?type=refresh_token`).
    Refresh,
}

/// A bearer token, kept under the hex sha256 of the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LndhubToken {
    /// The credential it was issued for; revoking the credential ends the token.
    pub login: String,
    pub account_id: AccountId,
    pub kind: TokenKind,
    /// Unix seconds; from then on the token is unknown.
    pub expires_at: u64,
}

/// A registration invite (`registration = "invite"`): one account on one domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invite {
    pub domain: String,
    pub created_at: u64,
    /// Unix seconds; from then on the code is unknown.
    pub expires_at: u64,
}

/// LndHub credentials, tokens, invites and invoice lists.
///
/// Duties of an implementation:
/// - [`LndhubStore::create_lndhub_credential`] refuses a login that exists
///   ([`StoreError::NameTaken`]).
/// - A revoked credential is gone at once for every process: [`LndhubStore::lndhub_credential`]
///   answers `None` right after [`LndhubStore::revoke_lndhub_credential`] returns.
/// - Tokens and invites past their expiry are never answered, and take no space for long.
/// - [`LndhubStore::take_lndhub_token`] and [`LndhubStore::take_invite`] hand each token or code
///   to exactly one of any number of racing callers, then forget it.
#[async_trait]
pub trait LndhubStore: Send + Sync {
    /// Records a new credential.
    async fn create_lndhub_credential(&self, cred: &LndhubCredential) -> Result<(), StoreError>;

    /// The credential with this login.
    async fn lndhub_credential(&self, login: &str) -> Result<Option<LndhubCredential>, StoreError>;

    /// The account's credentials, oldest first.
    async fn lndhub_credentials(
        &self,
        account: &AccountId,
    ) -> Result<Vec<LndhubCredential>, StoreError>;

    /// Removes a credential for good; answers it, or `None` when there was none.
    async fn revoke_lndhub_credential(
        &self,
        login: &str,
    ) -> Result<Option<LndhubCredential>, StoreError>;

    /// Keeps a token under `hash` (hex sha256 of the token) until its expiry.
    async fn put_lndhub_token(&self, hash: &str, token: &LndhubToken) -> Result<(), StoreError>;

    /// The token under `hash`, unless it expired by `now`.
    async fn lndhub_token(&self, hash: &str, now: u64) -> Result<Option<LndhubToken>, StoreError>;

    /// Removes the token under `hash` and answers it (unless it expired by `now`): one caller of
    /// any number gets it.
    async fn take_lndhub_token(
        &self,
        hash: &str,
        now: u64,
    ) -> Result<Option<LndhubToken>, StoreError>;

    /// Keeps an invite under `hash` (hex sha256 of the code) until its expiry.
    async fn create_invite(&self, hash: &str, invite: &Invite) -> Result<(), StoreError>;

    /// Uses up the invite under `hash`: one caller of any number gets it.
    async fn take_invite(&self, hash: &str, now: u64) -> Result<Option<Invite>, StoreError>;

    /// Notes an invoice issued to the account through LndHub `addinvoice`.
    async fn note_lndhub_invoice(
        &self,
        account: &AccountId,
        hash: &PaymentHash,
    ) -> Result<(), StoreError>;

    /// The account's LndHub invoices, newest first, at most `limit`.
    async fn lndhub_invoices(
        &self,
        account: &AccountId,
        limit: usize,
    ) -> Result<Vec<PaymentHash>, StoreError>;
}
