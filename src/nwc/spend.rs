//! The boundary between `pay_invoice` and the payment engine: the [`Spender`] trait, and
//! [`EngineSpender`], which pays through [`crate::payments::Payments`], the one engine every way
//! of spending uses (atomic reservation of `amount + fee reserve`, the payer, refunds on failure,
//! internal settlement of our own invoices, resumed after a restart).
//!
//! The request event id is the engine's idempotency key: an event delivered twice (two relays,
//! two processes on one Redis, a replay) names one payment for good and every delivery is
//! answered that payment's result; it never pays twice.

use std::time::Duration;

use async_trait::async_trait;

use crate::payments::{self, PayError, Payment, PaymentStatus, Payments, Source};
use crate::store::AccountId;
use crate::types::{Msat, PaymentHash};

/// How long a payment may stay in flight before `pay` answers [`SpendOutcome::Pending`].
const FINAL_WAIT: Duration = Duration::from_secs(120);

/// A payment to make from an account.
#[derive(Debug, Clone)]
pub struct SpendRequest {
    pub account_id: AccountId,
    pub bolt11: String,
    pub payment_hash: PaymentHash,
    pub amount: Msat,
    /// The same key never pays twice (the request event id).
    pub idempotency_key: String,
}

/// Where a payment ended (or stands, when it is still in flight).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpendOutcome {
    Paid {
        fee: Msat,
        /// Hex; `None` for an invoice of this gateway settled inside the ledger.
        preimage: Option<String>,
    },
    Failed(String),
    Pending,
}

/// Why a payment was not even started; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum SpendError {
    #[error("the balance does not cover the amount and the fee reserve")]
    InsufficientBalance,
    /// The invoice cannot be paid from this account (the reason says why).
    #[error("{0}")]
    Refused(String),
    #[error("the wallet is unavailable")]
    Unavailable(#[source] PayError),
}

/// Pays invoices from accounts.
///
/// Duties of an implementation: one payment at most per `idempotency_key` and per payment hash;
/// the balance is reserved atomically before paying and refunded when the payment fails; `pay`
/// waits for a final state for a while and answers `Pending` after that.
#[async_trait]
pub trait Spender: Send + Sync {
    async fn pay(&self, request: SpendRequest) -> Result<SpendOutcome, SpendError>;
}

/// Pays through the payment engine, the event id as the idempotency key.
pub struct EngineSpender {
    pub payments: Payments,
}

fn outcome(p: Payment) -> SpendOutcome {
    match p.status {
        PaymentStatus::Pending => SpendOutcome::Pending,
        PaymentStatus::Failed => {
            SpendOutcome::Failed(p.failure.unwrap_or_else(|| "payment failed".into()))
        }
        // `preimage` is `None` for an invoice of this gateway settled inside the ledger.
        PaymentStatus::Succeeded => SpendOutcome::Paid {
            fee: p.fee_msat,
            preimage: p.preimage,
        },
    }
}

#[async_trait]
impl Spender for EngineSpender {
    async fn pay(&self, request: SpendRequest) -> Result<SpendOutcome, SpendError> {
        let spend = payments::SpendRequest {
            account_id: request.account_id,
            bolt11: request.bolt11,
            amount: Some(request.amount),
            source: Source::Nwc,
            idempotency_key: Some(request.idempotency_key),
            memo: Some("Nostr Wallet Connect".into()),
        };
        match self.payments.pay(spend, FINAL_WAIT).await {
            Ok(p) if p.payment_hash == request.payment_hash => Ok(outcome(p)),
            Ok(p) => {
                tracing::warn!(payment_hash = %p.payment_hash, "nwc: engine answered another payment");
                Err(SpendError::Refused(
                    "the request names another payment".into(),
                ))
            }
            Err(PayError::InsufficientBalance) => Err(SpendError::InsufficientBalance),
            Err(e @ (PayError::Store(_) | PayError::Lightning(_))) => {
                Err(SpendError::Unavailable(e))
            }
            Err(e) => Err(SpendError::Refused(e.to_string())),
        }
    }
}
