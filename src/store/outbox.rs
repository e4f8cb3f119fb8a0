//! The zap receipt outbox (NIP-57 appendix E): one durable job per paid zap, created by
//! [`Store::credit_settlement`](super::Store::credit_settlement) in the same atomic step that credits
//! the payment, then claimed, retried and finished by the publisher (`crate::nostr::publisher`).
//!
//! Jobs are claimed with a lease so that, with many gateway processes on one store, one process
//! works on a job at a time; a process that dies holding a lease only delays the job until the lease
//! runs out. Times are Unix milliseconds passed in by the caller, so the store keeps no clock of its
//! own and tests control time.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{AccountId, InvoiceRecord, Settlement, StoreError};
use crate::types::PaymentHash;

/// Where a receipt stands, as the admin API shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReceiptStatus {
    /// No relay has accepted the receipt yet; it is being retried.
    Pending,
    /// At least one relay accepted it (answered `OK true`).
    Sent,
    /// Given up: no relay accepted it in time, or none could be used.
    Failed,
}

/// One relay a receipt goes to, and how publishing there went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelayAttempt {
    pub url: String,
    /// The relay answered `OK true`.
    pub ok: bool,
    /// Failed attempts so far.
    pub attempts: u32,
    /// When to try again (Unix ms); `None` once it is settled either way (accepted or refused for
    /// good, e.g. by the relay guard).
    pub next_at_ms: Option<u64>,
    /// What went wrong last (no secrets: a relay's own message or a connection error).
    pub last_error: Option<String>,
}

/// A receipt job: one per paid zap invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZapJob {
    pub payment_hash: PaymentHash,
    pub account_id: AccountId,
    pub status: ReceiptStatus,
    /// Finished: no more attempts, the job has left the due queue.
    pub done: bool,
    /// The receipt's event id, once built (it is deterministic, so rebuilding yields the same id).
    pub event_id: Option<String>,
    /// The target relays; empty until the first attempt computes them.
    pub relays: Vec<RelayAttempt>,
    /// When the job was queued (Unix ms, the settlement time).
    pub queued_at_ms: u64,
    /// When the first relay accepted the receipt.
    pub first_ok_at_ms: Option<u64>,
    /// When the job is next due (Unix ms).
    pub due_at_ms: u64,
    /// The process holding the job's lease, while one does.
    pub lease_owner: Option<String>,
}

impl ZapJob {
    /// A new job for a just-credited zap invoice, due at once.
    pub fn new(payment_hash: PaymentHash, account_id: AccountId, queued_at_ms: u64) -> Self {
        ZapJob {
            payment_hash,
            account_id,
            status: ReceiptStatus::Pending,
            done: false,
            event_id: None,
            relays: Vec::new(),
            queued_at_ms,
            first_ok_at_ms: None,
            due_at_ms: 0,
            lease_owner: None,
        }
    }

    /// The job a credit of `invoice` queues (in the credit's atomic step), queued at the
    /// settlement time; `None` when the invoice is not a zap. Both backends build it here.
    pub fn on_credit(invoice: &InvoiceRecord, settled: &Settlement) -> Option<Self> {
        invoice.zap_request.as_ref()?;
        Some(ZapJob::new(
            invoice.payment_hash,
            invoice.account_id.clone(),
            settled.settled_at.saturating_mul(1000),
        ))
    }

    /// The relays that accepted the receipt.
    pub fn relays_ok(&self) -> Vec<String> {
        self.relays
            .iter()
            .filter(|r| r.ok)
            .map(|r| r.url.clone())
            .collect()
    }
}

/// The outbox part of a store. Its own trait (a supertrait of [`Store`](super::Store)) so backends
/// keep it in their own files.
///
/// Duties of an implementation:
/// - `credit_settlement` creates exactly one [`ZapJob`] for an invoice that has a `zap_request`, in
///   the same atomic step as the credit; a repeated credit creates none.
/// - [`ZapOutbox::claim_zap_jobs`] hands a due job to one caller at a time: a job is due when its
///   `due_at_ms` has passed and no unexpired lease holds it. Claiming is atomic across processes.
/// - [`ZapOutbox::save_zap_job`] writes only for the lease holder, and moves the job in the due
///   queue: out of it when `done`, to `due_at_ms` otherwise. It releases the lease.
#[async_trait]
pub trait ZapOutbox: Send + Sync {
    /// Claims up to `limit` due jobs for `owner` until `now_ms + lease_ms`. The answered jobs carry
    /// `lease_owner = Some(owner)`.
    async fn claim_zap_jobs(
        &self,
        owner: &str,
        now_ms: u64,
        lease_ms: u64,
        limit: usize,
    ) -> Result<Vec<ZapJob>, StoreError>;

    /// Records progress (per-relay results, event id, status), reschedules or finishes the job, and
    /// releases the lease. Answers `false`, writing nothing, when `owner` no longer holds the lease.
    async fn save_zap_job(&self, owner: &str, job: &ZapJob) -> Result<bool, StoreError>;

    /// The receipt job of a paid zap invoice.
    async fn zap_job(&self, hash: &PaymentHash) -> Result<Option<ZapJob>, StoreError>;
}
