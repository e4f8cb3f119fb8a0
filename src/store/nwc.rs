//! The store side of Nostr Wallet Connect (NIP-47): connections (one wallet service key per
//! connection, the client's public key, limits), their spending budgets, and the requests already
//! answered (so that an event delivered twice, by two relays or to two processes, runs once).
//! Both backends run the NWC part of the conformance suite (`tests/support/nwc_suite.rs`).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{AccountId, StoreError};
use crate::types::Msat;

/// When a connection's budget starts again from zero (calendar periods in UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BudgetRenewal {
    Daily,
    Weekly,
    Monthly,
    Yearly,
    Never,
}

/// A wallet service secret key (hex) as the store keeps it; `Debug` redacts it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WalletSecret(String);

impl WalletSecret {
    pub fn new(hex: String) -> Self {
        WalletSecret(hex)
    }

    /// The key itself: only to sign and decrypt, never to log or show.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for WalletSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WalletSecret(<redacted>)")
    }
}

/// One NWC connection of an account. `id` is the wallet service's public key (hex), unique per
/// connection, so a request's `p` tag names its connection.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NwcConnection {
    pub id: String,
    pub account_id: AccountId,
    pub name: Option<String>,
    /// The wallet service's secret key for this connection (hex). Never shown, never logged.
    pub wallet_secret: WalletSecret,
    /// The public key of the client's secret, the only author whose requests are served (hex).
    pub client_pubkey: String,
    /// NIP-47 methods this connection may call.
    pub methods: Vec<String>,
    /// The largest single payment, when limited.
    pub max_amount_msat: Option<Msat>,
    /// How much may be spent per renewal period (amounts and fees), when limited.
    pub budget_msat: Option<Msat>,
    pub budget_renewal: BudgetRenewal,
    pub created_at: u64,
    /// Unix seconds from which the connection is refused; `None`: never expires.
    pub expires_at: Option<u64>,
    pub revoked: bool,
    /// Spent in the current budget period (filled in by the store on reads).
    #[serde(default)]
    pub budget_used_msat: Msat,
    /// Start of the period `budget_used_msat` counts (filled in by the store on reads).
    #[serde(default)]
    pub budget_period: u64,
}

impl std::fmt::Debug for NwcConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NwcConnection")
            .field("id", &self.id)
            .field("account_id", &self.account_id)
            .field("client_pubkey", &self.client_pubkey)
            .field("methods", &self.methods)
            .field("revoked", &self.revoked)
            .finish_non_exhaustive()
    }
}

impl NwcConnection {
    pub fn is_expired(&self, now: u64) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }

    /// What the budget has used in the period that contains `now` (0 once a new one began).
    pub fn used_in(&self, period: u64) -> Msat {
        if self.budget_period == period {
            self.budget_used_msat
        } else {
            Msat::ZERO
        }
    }
}

/// The answer of [`NwcStore::reserve_nwc_budget`]. Every outcome but `Reserved` changed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetOutcome {
    /// Held for the request in the budget of the period starting at `period` (taken now, or by an
    /// earlier run of the same request).
    Reserved { period: u64 },
    /// The budget of this period does not cover the amount.
    QuotaExceeded,
    /// No such connection, or it is revoked.
    Refused,
}

/// Whether a request claimed at `claimed_at` is free to be claimed again at `now`: its claim is
/// `lease_secs` old or older (its runner died, or is about to be taken over). Both backends'
/// claims and stale sweeps ask this; the Redis claim script states the same rule in Lua.
pub fn claim_ran_out(claimed_at: u64, lease_secs: u64, now: u64) -> bool {
    now >= claimed_at.saturating_add(lease_secs)
}

/// The answer of [`NwcStore::claim_nwc_request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestClaim {
    /// The caller runs the request (first delivery, or the previous runner's lease ran out).
    Claimed,
    /// Another caller is running it.
    Running,
    /// Answered before: the response JSON to send again.
    Answered(String),
}

/// NWC connections, budgets and answered requests.
///
/// Duties of an implementation:
/// - [`NwcStore::reserve_nwc_budget`] is one atomic step, however many callers and processes race:
///   a new period (a different `period` than stored) starts from zero; the amount is taken only
///   when `used + amount <= budget` (no budget: always) and held for the request; a request
///   that holds budget already takes nothing more and is answered `Reserved`, even on a
///   connection revoked since (a request run again after a restart is counted once, and its
///   payment may be in flight); a revoked or unknown connection takes nothing.
/// - [`NwcStore::settle_nwc_budget`] ends a request's hold: the part not `spent` goes back to the
///   period it was taken from (after that period, nothing: the new one started from zero); never
///   below zero; a request without a hold changes nothing, so settling twice gives back once.
/// - [`NwcStore::claim_nwc_request`] hands a request id to exactly one caller at a time: the first
///   gets `Claimed`; later callers get `Running` until the claim is older than `lease_secs`
///   (then one of them gets `Claimed`), or `Answered` once [`NwcStore::answer_nwc_request`] ran.
///   The claim keeps the request event, so that a request whose runner died (a restart) is found
///   by [`NwcStore::stale_nwc_requests`] and run again; [`NwcStore::renew_nwc_request`] keeps a
///   running claim fresh.
#[async_trait]
pub trait NwcStore: Send + Sync {
    /// Records a new connection; [`StoreError::NotFound`] when its account does not exist.
    async fn create_nwc_connection(&self, conn: &NwcConnection) -> Result<(), StoreError>;

    /// The connection whose wallet service key is `id`, with its budget state.
    async fn nwc_connection(&self, id: &str) -> Result<Option<NwcConnection>, StoreError>;

    /// The account's connections (revoked ones included), or every connection of every account
    /// when `account` is `None`; ordered by creation time.
    async fn nwc_connections(
        &self,
        account: Option<&AccountId>,
    ) -> Result<Vec<NwcConnection>, StoreError>;

    /// Revokes a connection for good; answers it, or `None` when there is no such connection.
    async fn revoke_nwc_connection(&self, id: &str) -> Result<Option<NwcConnection>, StoreError>;

    /// Holds `amount` of the budget of the period starting at `period` for `request` (see the
    /// duties).
    async fn reserve_nwc_budget(
        &self,
        id: &str,
        request: &str,
        amount: Msat,
        budget: Option<Msat>,
        period: u64,
    ) -> Result<BudgetOutcome, StoreError>;

    /// Ends `request`'s hold, `spent` of it kept (see the duties).
    async fn settle_nwc_budget(
        &self,
        id: &str,
        request: &str,
        spent: Msat,
    ) -> Result<(), StoreError>;

    /// Claims the request `event_id` for running at `now`, keeping its event JSON `event` (see
    /// the duties).
    async fn claim_nwc_request(
        &self,
        event_id: &str,
        now: u64,
        lease_secs: u64,
        event: &str,
    ) -> Result<RequestClaim, StoreError>;

    /// Marks a claimed, unanswered request as still running at `now`.
    async fn renew_nwc_request(&self, event_id: &str, now: u64) -> Result<(), StoreError>;

    /// The events (JSON) of requests claimed and not answered whose claim is older than
    /// `lease_secs` at `now`: their runner died. At most `limit`.
    async fn stale_nwc_requests(
        &self,
        now: u64,
        lease_secs: u64,
        limit: usize,
    ) -> Result<Vec<String>, StoreError>;

    /// Records the response to `event_id`, answered to every later delivery.
    async fn answer_nwc_request(&self, event_id: &str, response: &str) -> Result<(), StoreError>;
}
