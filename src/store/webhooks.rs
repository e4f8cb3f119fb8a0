//! Webhooks in the store: the registrations (`POST /api/v1/webhooks`) and the durable delivery
//! outbox. A ledger change that causes an event queues its [`DeliveryJob`] in the same atomic step
//! (`credit_settlement` for `payment.received`), the pattern of the zap receipt outbox
//! ([`super::outbox`]): jobs are claimed under a lease so one process delivers an event at a time,
//! rescheduled with backoff, and kept across restarts. Times are Unix milliseconds passed in by
//! the caller.

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Account, AccountId, InvoiceRecord, Settlement, StoreError};
use crate::types::PaymentHash;

/// What a webhook can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    /// An invoice of an account was paid and credited.
    #[serde(rename = "payment.received")]
    PaymentReceived,
    /// A payment from an account succeeded.
    #[serde(rename = "payment.sent")]
    PaymentSent,
    /// A payment from an account failed; its reservation went back.
    #[serde(rename = "payment.failed")]
    PaymentFailed,
}

impl EventType {
    pub const ALL: [EventType; 3] = [
        EventType::PaymentReceived,
        EventType::PaymentSent,
        EventType::PaymentFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::PaymentReceived => "payment.received",
            EventType::PaymentSent => "payment.sent",
            EventType::PaymentFailed => "payment.failed",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// A registered webhook. The secret is kept as is (not hashed): every delivery is signed with it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: String,
    pub url: String,
    pub events: Vec<EventType>,
    /// Only events of this domain's accounts; `None`: every domain.
    pub domain: Option<String>,
    /// The HMAC-SHA256 key of the `lnaddr-signature` header. Never logged.
    pub secret: String,
    pub created_at: u64,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("events", &self.events)
            .field("domain", &self.domain)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl Webhook {
    /// Whether an event of `kind` for an account of `domain` goes to this webhook.
    pub fn wants(&self, kind: EventType, domain: &str) -> bool {
        self.events.contains(&kind) && self.domain.as_deref().is_none_or(|d| d == domain)
    }
}

/// What an event says. Amounts in millisatoshis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventData {
    pub address: String,
    pub amount_msat: u64,
    pub fee_msat: u64,
    pub payment_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// LUD-18 payer data exactly as the payer sent it (a JSON object in a string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_data: Option<String>,
    /// NIP-57: the hex public key that signed the zap request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zap_sender: Option<String>,
}

/// The body POSTed to a webhook: `{"id","type","created_at","data"}`. The same `id` on every try.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    /// Unix seconds of the ledger change.
    pub created_at: u64,
    pub data: EventData,
}

/// The deterministic id of the event `kind` for payment `hash`: a retried or replayed ledger
/// change yields the same id, so a store keeps one job and a receiver can drop duplicates.
pub fn event_id(kind: EventType, hash: &PaymentHash) -> String {
    let digest = Sha256::new()
        .chain_update(b"lnaddr-webhook-event\0")
        .chain_update(kind.as_str().as_bytes())
        .chain_update(b"\0")
        .chain_update(hash.0)
        .finalize();
    format!("evt_{}", hex::encode(&digest[..16]))
}

/// NIP-57: the author of a zap request (its `pubkey`), when the invoice is a zap.
pub fn zap_sender(invoice: &InvoiceRecord) -> Option<String> {
    let request: serde_json::Value = serde_json::from_str(invoice.zap_request.as_deref()?).ok()?;
    request.get("pubkey")?.as_str().map(str::to_string)
}

impl WebhookEvent {
    /// `payment.received` for crediting `invoice` to `account` with `settled`.
    pub fn received(invoice: &InvoiceRecord, settled: &Settlement, account: &Account) -> Self {
        WebhookEvent {
            id: event_id(EventType::PaymentReceived, &invoice.payment_hash),
            kind: EventType::PaymentReceived,
            created_at: settled.settled_at,
            data: EventData {
                address: account.address(),
                amount_msat: settled.amount_paid_msat.msat(),
                fee_msat: 0,
                payment_hash: invoice.payment_hash.to_hex(),
                comment: invoice.comment.clone(),
                payer_data: invoice.payer_data.clone(),
                zap_sender: zap_sender(invoice),
            },
        }
    }
}

/// An outgoing payment's outcome, for `payment.sent` and `payment.failed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub payment_hash: PaymentHash,
    pub amount_msat: u64,
    /// The routing fee kept (0 when failed).
    pub fee_msat: u64,
    pub succeeded: bool,
    /// Unix seconds of the finish.
    pub finished_at: u64,
}

impl WebhookEvent {
    /// `payment.sent` or `payment.failed` for `outgoing` from `account`.
    pub fn outgoing(outgoing: &Outgoing, account: &Account) -> Self {
        let kind = if outgoing.succeeded {
            EventType::PaymentSent
        } else {
            EventType::PaymentFailed
        };
        WebhookEvent {
            id: event_id(kind, &outgoing.payment_hash),
            kind,
            created_at: outgoing.finished_at,
            data: EventData {
                address: account.address(),
                amount_msat: outgoing.amount_msat,
                fee_msat: outgoing.fee_msat,
                payment_hash: outgoing.payment_hash.to_hex(),
                comment: None,
                payer_data: None,
                zap_sender: None,
            },
        }
    }
}

/// One webhook an event goes to, and how delivering there went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryTarget {
    pub webhook_id: String,
    pub url: String,
    /// The receiver answered 2xx.
    pub delivered: bool,
    /// Failed attempts so far.
    pub attempts: u32,
    /// When to try again (Unix ms); `None` once settled either way.
    pub next_at_ms: Option<u64>,
    /// What went wrong last (a status code or a connection error; never the secret).
    pub last_error: Option<String>,
}

/// The delivery job of one event: created with the ledger change, finished once every target
/// webhook answered 2xx or was given up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryJob {
    pub event: WebhookEvent,
    pub account_id: AccountId,
    /// The account's domain, which picks domain-scoped webhooks.
    pub domain: String,
    /// Filled on the first attempt from the webhooks registered then.
    pub targets: Vec<DeliveryTarget>,
    pub targets_chosen: bool,
    pub done: bool,
    pub queued_at_ms: u64,
    pub due_at_ms: u64,
    /// The process holding the job's lease, while one does.
    pub lease_owner: Option<String>,
}

impl DeliveryJob {
    pub fn new(event: WebhookEvent, account: &Account, queued_at_ms: u64) -> Self {
        DeliveryJob {
            event,
            account_id: account.id.clone(),
            domain: account.domain.clone(),
            targets: Vec::new(),
            targets_chosen: false,
            done: false,
            queued_at_ms,
            due_at_ms: 0,
            lease_owner: None,
        }
    }

    /// The `payment.received` job a credit queues (in the credit's atomic step), queued at the
    /// settlement time. Both backends build it here.
    pub fn on_credit(invoice: &InvoiceRecord, settled: &Settlement, account: &Account) -> Self {
        DeliveryJob::new(
            WebhookEvent::received(invoice, settled, account),
            account,
            settled.settled_at.saturating_mul(1000),
        )
    }

    /// The `payment.sent` / `payment.failed` job a finished payment queues (in the finish's atomic
    /// step), queued when it finished. Both backends build it here.
    pub fn on_finish(outgoing: &Outgoing, account: &Account) -> Self {
        DeliveryJob::new(
            WebhookEvent::outgoing(outgoing, account),
            account,
            outgoing.finished_at.saturating_mul(1000),
        )
    }
}

/// How full the outbox is, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Jobs not finished yet.
    pub pending: u64,
    /// When the oldest unfinished job was queued (Unix ms).
    pub oldest_queued_at_ms: Option<u64>,
}

/// The webhook part of a store (a supertrait of [`Store`](super::Store)).
///
/// Duties of an implementation:
/// - `credit_settlement` creates exactly one [`DeliveryJob`] (`payment.received`) per credited
///   invoice, in the same atomic step as the credit; a repeated credit creates none. Likewise
///   `finish_withdrawal` creates one `payment.sent` or `payment.failed` job per finished payment. The job is
///   created whether or not webhooks are registered: the first attempt picks its targets.
/// - [`WebhookStore::claim_webhook_jobs`] hands a due job to one caller at a time; claiming is
///   atomic across processes; an expired lease makes the job due again.
/// - [`WebhookStore::save_webhook_job`] writes only for the lease holder, reschedules the job at
///   `due_at_ms` or finishes it (`done`), and releases the lease.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Registers a webhook (its id is unique: a random one).
    async fn create_webhook(&self, webhook: &Webhook) -> Result<(), StoreError>;

    /// Every registered webhook, oldest first.
    async fn webhooks(&self) -> Result<Vec<Webhook>, StoreError>;

    /// Removes a webhook; answers whether it existed. Events not yet delivered to it are dropped
    /// for it at their next attempt.
    async fn delete_webhook(&self, id: &str) -> Result<bool, StoreError>;

    /// Claims up to `limit` due jobs for `owner` until `now_ms + lease_ms`.
    async fn claim_webhook_jobs(
        &self,
        owner: &str,
        now_ms: u64,
        lease_ms: u64,
        limit: usize,
    ) -> Result<Vec<DeliveryJob>, StoreError>;

    /// Records progress, reschedules or finishes the job, releases the lease. Answers `false`,
    /// writing nothing, when `owner` no longer holds the lease.
    async fn save_webhook_job(&self, owner: &str, job: &DeliveryJob) -> Result<bool, StoreError>;

    /// The delivery job of an event.
    async fn webhook_job(
        &self,
        account: &AccountId,
        event_id: &str,
    ) -> Result<Option<DeliveryJob>, StoreError>;

    /// Unfinished jobs and the oldest one's age.
    async fn webhook_queue_stats(&self) -> Result<QueueStats, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_stable_and_distinct() {
        let h = PaymentHash([7; 32]);
        let a = event_id(EventType::PaymentReceived, &h);
        assert_eq!(a, event_id(EventType::PaymentReceived, &h));
        assert_ne!(a, event_id(EventType::PaymentSent, &h));
        assert_ne!(
            a,
            event_id(EventType::PaymentReceived, &PaymentHash([8; 32]))
        );
        assert!(a.starts_with("evt_") && a.len() == 36);
    }

    #[test]
    fn event_types_round_trip() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
            let json = serde_json::to_string(&t).expect("json");
            assert_eq!(json, format!("\"{}\"", t.as_str()));
        }
        assert_eq!(EventType::parse("payment.other"), None);
    }

    #[test]
    fn debug_hides_the_secret() {
        let w = Webhook {
            id: "wh".into(),
            url: "https://example.com/hook".into(),
            events: vec![EventType::PaymentReceived],
            domain: None,
            secret: "whsec_topsecret".into(),
            created_at: 0,
        };
        assert!(!format!("{w:?}").contains("topsecret"));
        assert!(w.wants(EventType::PaymentReceived, "a.example"));
        assert!(!w.wants(EventType::PaymentSent, "a.example"));
    }
}
