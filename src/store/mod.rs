//! The `Store` trait and its records: accounts, issued invoices, the ledger, settlement cursors.
//! Backends: [`embedded`] (redb, one file, one process) and [`redis`] (a Redis server or Redis
//! Cluster shared by many processes; its key names are spelled only in [`keys`]). Every backend runs
//! the same conformance suite in `tests/store_conformance.rs`.

pub mod domains;
pub mod embedded;
pub mod keys;
mod leased;
pub mod lndhub;
pub mod nwc;
pub mod outbox;
mod ratelimit;
mod records;
pub mod redis;
pub mod webhooks;
pub mod withdraw;

pub use domains::{DomainRecord, DomainStore, DomainToken};
pub use lndhub::{Invite, LndhubCredential, LndhubStore, LndhubToken, TokenKind};
pub use nwc::{BudgetOutcome, BudgetRenewal, NwcConnection, NwcStore, RequestClaim, WalletSecret};
pub use outbox::{ReceiptStatus, RelayAttempt, ZapJob, ZapOutbox};
pub use ratelimit::RateLimitStore;
pub use records::*;
pub use webhooks::WebhookStore;
pub use withdraw::{
    Finish, FinishOutcome, Payment, PaymentStatus, Reservation, ReserveOutcome, WithdrawLink,
    WithdrawStore,
};

use async_trait::async_trait;

use crate::types::{DomainName, NostrPubkey, PaymentHash, Username};

/// What a store operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The name is already taken on that domain.
    #[error("the name is already taken")]
    NameTaken,
    /// No such account.
    #[error("no such account")]
    NotFound,
    /// An account with money on it cannot be removed.
    #[error("the account's balance is not zero")]
    BalanceNotZero,
    /// Money is moving on the account: a payment from it is still pending.
    #[error("the account has payments in flight")]
    PaymentsPending,
    /// The account has invoices the network may still pay, until this Unix time.
    #[error("the account has invoices that may still be paid until {until} (unix time)")]
    InvoicesOutstanding { until: u64 },
    /// An invoice with this payment hash was already recorded.
    #[error("an invoice with this payment hash is already recorded")]
    DuplicateInvoice,
    /// A record in the store could not be decoded: data written by something else, or corrupted.
    #[error("corrupt record in the store")]
    Corrupt(#[source] serde_json::Error),
    /// A domain with that name is kept already.
    #[error("the domain exists already")]
    DomainExists,
    /// A domain cannot be removed while accounts are named on it.
    #[error("the domain still has accounts")]
    DomainHasAccounts,
    /// The backend failed or is unreachable; the operation did not happen (or, for a write whose
    /// answer was lost, may have; every write is idempotent or checked so a retry is safe).
    #[error("store backend unavailable")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// This backend does not do that; the message says what to use instead.
    #[error("{0}")]
    Unsupported(&'static str),
}

impl StoreError {
    pub fn backend(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Backend(Box::new(e))
    }
}

/// Where accounts, invoices and the ledger live.
///
/// Duties of an implementation:
/// - Every method is atomic: it happens whole or not at all, including across processes that share
///   the backend.
/// - [`Store::credit_settlement`] credits each payment hash at most once, whatever the number of
///   calls, callers or processes; the balance never goes below zero.
/// - A credit of an invoice with a zap request queues its receipt job in the same atomic step (see
///   [`ZapOutbox`]).
/// - A credit queues its `payment.received` webhook event in the same atomic step (see
///   [`WebhookStore`]).
/// - Withdrawals: see [`WithdrawStore`], a supertrait kept in its own file.
/// - Domains added at run time and domain tokens: see [`DomainStore`].
/// - Withdrawals: see [`WithdrawStore`], a supertrait kept in its own file; NWC connections,
///   budgets and answered requests: [`NwcStore`].
/// - Names are unique per domain; [`Store::create_account`] fails with [`StoreError::NameTaken`]
///   rather than overwrite.
/// - Rate-limit buckets shared across processes: [`RateLimitStore`].
/// - LndHub credentials, tokens, invites and invoice lists: [`LndhubStore`].
#[async_trait]
pub trait Store:
    ZapOutbox
    + RateLimitStore
    + WithdrawStore
    + LndhubStore
    + WebhookStore
    + DomainStore
    + NwcStore
    + Send
    + Sync
    + 'static
{
    /// Creates an account with a zero balance.
    async fn create_account(&self, new: NewAccount) -> Result<Account, StoreError>;

    /// The account with this id.
    async fn account(&self, id: &AccountId) -> Result<Option<Account>, StoreError>;

    /// The account that `username` names on `domain`.
    async fn account_by_name(
        &self,
        domain: &DomainName,
        username: &Username,
    ) -> Result<Option<Account>, StoreError>;

    /// All accounts, or those of one domain, ordered by address.
    async fn list_accounts(&self, domain: Option<&DomainName>) -> Result<Vec<Account>, StoreError>;

    /// Sets or clears the account's nostr public key.
    async fn set_nostr_pubkey(
        &self,
        id: &AccountId,
        pubkey: Option<NostrPubkey>,
    ) -> Result<Account, StoreError>;

    /// Removes the account and frees its name; refused with [`StoreError::BalanceNotZero`] while it
    /// holds money, [`StoreError::PaymentsPending`] while a payment from it is pending, and
    /// [`StoreError::InvoicesOutstanding`] until the last invoice issued to it has expired (a
    /// payment arriving after the account is gone would have nowhere to go). The check and the
    /// removal are one atomic step.
    /// holds money.
    async fn delete_account(&self, id: &AccountId) -> Result<(), StoreError>;

    /// Records an invoice issued for an account.
    async fn add_invoice(&self, invoice: InvoiceRecord) -> Result<(), StoreError>;

    /// An invoice this gateway issued.
    async fn invoice(&self, hash: &PaymentHash) -> Result<Option<InvoiceRecord>, StoreError>;

    /// Invoices that expired before `expired_before` (unix seconds) and may still be unpaid, at
    /// most `limit`, oldest first: what the sweep ([`crate::ledger::forget`]) looks at. A store
    /// whose unpaid invoices expire by themselves (Redis, with a key expiry set when the invoice
    /// is recorded) answers none.
    async fn expired_unpaid_invoices(
        &self,
        expired_before: u64,
        limit: usize,
    ) -> Result<Vec<PaymentHash>, StoreError>;

    /// Forgets the invoice `hash` if it is still unpaid, in one atomic step with that check; a
    /// paid (credited) invoice is kept. Answers whether it was removed.
    async fn forget_unpaid_invoice(&self, hash: &PaymentHash) -> Result<bool, StoreError>;

    /// Credits a settled invoice to its account, once: marks the invoice settled, adds the amount to
    /// the balance and appends a ledger entry in one atomic step. A second call for the same hash
    /// changes nothing and answers [`CreditOutcome::AlreadyCredited`]. When the invoice carries a
    /// zap request, the same step queues its receipt job ([`ZapOutbox`]).
    async fn credit_settlement(&self, settled: &Settlement) -> Result<CreditOutcome, StoreError>;

    /// The last settle index fully processed for the node `node_id` (0 when none).
    async fn settle_cursor(&self, node_id: &str) -> Result<u64, StoreError>;

    /// Moves the cursor forward to `index`; never backwards.
    async fn advance_settle_cursor(&self, node_id: &str, index: u64) -> Result<(), StoreError>;

    /// Sets the cursor to `to` (forward or back), only while it still holds `expected`; answers
    /// whether it changed. For a node whose settle count went backwards (restored from an older
    /// database), and to carry an old cursor over to a new key.
    async fn reset_settle_cursor(
        &self,
        node_id: &str,
        expected: u64,
        to: u64,
    ) -> Result<bool, StoreError>;

    /// The account's ledger, newest first, at most `limit` entries.
    async fn transactions(
        &self,
        id: &AccountId,
        limit: usize,
    ) -> Result<Vec<Transaction>, StoreError>;

    /// Stores `value` under `key` unless a value is there already; answers the value that is kept.
    /// For state made once and shared by every process (generated keys).
    async fn put_meta_once(&self, key: &str, value: &[u8]) -> Result<Vec<u8>, StoreError>;

    /// Checks that the backend answers.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Writes a consistent snapshot of the whole store to the new file `out` (created 0600, never
    /// overwritten): everything committed before the call began, nothing half-done. A backend
    /// with backups of its own answers [`StoreError::Unsupported`] (Redis: its persistence).
    async fn snapshot(&self, out: &std::path::Path) -> Result<(), StoreError>;
}

/// The account at `address` (tags are not part of an account's address): `None` when it names no
/// account.
pub async fn account_at(
    store: &dyn Store,
    address: &crate::types::LightningAddress,
) -> Result<Option<Account>, StoreError> {
    store
        .account_by_name(&address.domain, &address.username)
        .await
}
