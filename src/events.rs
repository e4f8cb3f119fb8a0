//! In-process ledger events: a broadcast of money that moved, for the parts of this process that
//! react to it (NWC notifications, webhooks). `Received` is sent by whoever credited an invoice
//! (the settlement follower, or an internal payment settled inside the ledger); `Sent` and
//! `Failed` by the payer of an outgoing payment once it is final.
//!
//! Each credit or payment is emitted once, by the process that made the state change; with many
//! processes on one Redis, the others see nothing (their credit was `AlreadyCredited`). Delivery is
//! best effort: a subscriber that lags loses the oldest events (and is told so by the channel), and
//! nothing is replayed after a restart. Durable reactions keep their own record in the store.

use tokio::sync::broadcast;

use crate::store::AccountId;
use crate::types::{Msat, PaymentHash};

/// How many events a slow subscriber may fall behind before it loses the oldest.
const CAPACITY: usize = 1024;

/// An invoice of an account was paid and credited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub account_id: AccountId,
    pub payment_hash: PaymentHash,
    /// What was credited (the amount paid).
    pub amount_msat: Msat,
    pub bolt11: String,
    /// Hex; all zeros for an invoice settled inside the ledger.
    pub preimage: String,
    /// LUD-12 comment (or a zap request's content), as stored on the invoice.
    pub comment: Option<String>,
    /// LUD-18 payer data, exactly as received.
    pub payer_data: Option<String>,
    /// The NIP-57 zap request, exactly as received.
    pub zap_request: Option<String>,
    pub created_at: u64,
    pub expires_at: u64,
    pub settled_at: u64,
}

/// An outgoing payment from an account succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub account_id: AccountId,
    pub payment_hash: PaymentHash,
    pub amount_msat: Msat,
    pub fee_msat: Msat,
    pub bolt11: String,
    /// Hex, when known.
    pub preimage: Option<String>,
    pub created_at: u64,
    pub settled_at: u64,
}

/// An outgoing payment from an account failed; everything reserved for it was refunded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    pub account_id: AccountId,
    pub payment_hash: PaymentHash,
    pub amount_msat: Msat,
    pub bolt11: String,
    pub reason: String,
    pub created_at: u64,
}

/// One ledger event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerEvent {
    Received(Box<Received>),
    Sent(Box<Sent>),
    Failed(Box<Failed>),
}

impl LedgerEvent {
    /// The account the money moved on.
    pub fn account_id(&self) -> &AccountId {
        match self {
            LedgerEvent::Received(r) => &r.account_id,
            LedgerEvent::Sent(s) => &s.account_id,
            LedgerEvent::Failed(f) => &f.account_id,
        }
    }
}

/// The broadcast: cheap to clone, shared by every emitter and subscriber of one process.
#[derive(Debug, Clone)]
pub struct Events {
    tx: broadcast::Sender<LedgerEvent>,
}

impl Default for Events {
    fn default() -> Self {
        Events {
            tx: broadcast::channel(CAPACITY).0,
        }
    }
}

impl Events {
    /// Sends an event to every current subscriber (none: it is dropped).
    pub fn emit(&self, event: LedgerEvent) {
        let _ = self.tx.send(event);
    }

    /// Whether anyone listens; emitters skip building an event nobody would read.
    pub fn has_subscribers(&self) -> bool {
        self.tx.receiver_count() > 0
    }

    /// A receiver of every event emitted from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<LedgerEvent> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_get_events_emitted_after_they_subscribe() {
        let events = Events::default();
        assert!(!events.has_subscribers());
        events.emit(LedgerEvent::Failed(Box::new(failed("early"))));
        let mut rx = events.subscribe();
        assert!(events.has_subscribers());
        events.emit(LedgerEvent::Failed(Box::new(failed("late"))));
        match rx.recv().await.expect("event") {
            LedgerEvent::Failed(f) => assert_eq!(f.reason, "late"),
            other => panic!("unexpected {other:?}"),
        }
    }

    fn failed(reason: &str) -> Failed {
        Failed {
            account_id: AccountId("a".into()),
            payment_hash: PaymentHash([1; 32]),
            amount_msat: Msat::from_msat(1),
            bolt11: String::new(),
            reason: reason.into(),
            created_at: 0,
        }
    }
}
