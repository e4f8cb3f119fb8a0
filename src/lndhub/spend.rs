//! What `payinvoice`, `gettxs` and `checkpayment` need from the payment engine
//! ([`crate::payments`], the one engine every way of spending uses: atomic reservation of
//! `amount + fee reserve`, one payment per payment hash, internal settlement of this gateway's own
//! invoices, the payer that finishes each payment once and resumes after a restart), as LndHub
//! shows it. The account's outgoing payments are its ledger debits.

use std::time::Duration;

use super::Hub;
use crate::payments::{PayError, Payment, Refusal, Source, SpendRequest};
use crate::store::{Account, PaymentStatus, TxKind, TxStatus};
use crate::types::{Msat, PaymentHash};

/// Where an outgoing payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutgoingStatus {
    Pending,
    Succeeded,
    Failed,
}

/// An outgoing payment of an account.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub payment_hash: PaymentHash,
    pub bolt11: Option<String>,
    pub amount: Msat,
    /// The routing fee paid (the fee reserve while pending, 0 when failed).
    pub fee: Msat,
    pub status: OutgoingStatus,
    pub preimage: Option<[u8; 32]>,
    pub created_at: u64,
    pub failure: Option<String>,
}

/// Why a payment was refused; none of these moved money.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SpendError {
    #[error("{0}")]
    InvalidInvoice(String),
    #[error("the balance does not cover the amount and the fee reserve")]
    InsufficientBalance,
    #[error("this invoice is already being paid")]
    AlreadyPaying,
    #[error("{0}")]
    Refused(String),
    #[error("backend unavailable")]
    Unavailable,
}

impl From<crate::store::StoreError> for SpendError {
    fn from(e: crate::store::StoreError) -> Self {
        tracing::warn!(error = %e, "payment: store error");
        SpendError::Unavailable
    }
}

impl From<PayError> for SpendError {
    fn from(e: PayError) -> Self {
        match e {
            PayError::Refused(Refusal::OwnInvoice) => {
                SpendError::Refused(Refusal::OwnInvoice.to_string())
            }
            PayError::Refused(r) => SpendError::InvalidInvoice(r.to_string()),
            PayError::InsufficientBalance => SpendError::InsufficientBalance,
            PayError::AlreadyBeingPaid => SpendError::AlreadyPaying,
            e @ (PayError::Limit(_)
            | PayError::IdempotencyConflict
            | PayError::BadIdempotencyKey
            | PayError::UnknownAccount) => SpendError::Refused(e.to_string()),
            PayError::Store(e) => e.into(),
            PayError::Lightning(e) => {
                tracing::warn!(error = %e, "payment: node unavailable");
                SpendError::Unavailable
            }
        }
    }
}

/// How LndHub shows a payment of the engine.
fn outgoing(p: Payment) -> Outgoing {
    let (status, fee) = match p.status {
        PaymentStatus::Pending => (OutgoingStatus::Pending, p.fee_reserve_msat),
        PaymentStatus::Succeeded => (OutgoingStatus::Succeeded, p.fee_msat),
        PaymentStatus::Failed => (OutgoingStatus::Failed, Msat::ZERO),
    };
    let preimage = p
        .preimage
        .as_deref()
        .and_then(|h| hex::decode(h).ok())
        .and_then(|b| <[u8; 32]>::try_from(b).ok());
    Outgoing {
        payment_hash: p.payment_hash,
        bolt11: Some(p.bolt11),
        amount: p.amount_msat,
        fee,
        status,
        preimage,
        created_at: p.created_at,
        failure: p.failure,
    }
}

impl Hub {
    /// Pays `bolt11` from `account` and waits up to `wait` for a final state; a payment still in
    /// flight then is answered `Pending` (it goes on, and finishes once).
    pub(super) async fn pay_from(
        &self,
        account: &Account,
        bolt11: &str,
        amount: Option<Msat>,
        wait: Duration,
    ) -> Result<Outgoing, SpendError> {
        let request = SpendRequest {
            account_id: account.id.clone(),
            bolt11: bolt11.trim().to_string(),
            amount,
            source: Source::LndHub,
            idempotency_key: None,
            memo: Some("LndHub payment".into()),
        };
        let paid = self.payments.pay(request, wait).await?;
        Ok(outgoing(paid))
    }

    /// The account's outgoing payments, newest first.
    pub(super) async fn outgoing(
        &self,
        account: &Account,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<Outgoing>, SpendError> {
        let txs = self
            .store
            .transactions(
                &account.id,
                offset.saturating_add(limit).saturating_mul(4).min(10_000),
            )
            .await?;
        let mut out = Vec::new();
        for tx in txs
            .iter()
            .filter(|t| t.kind == TxKind::Debit && t.status != TxStatus::Failed)
            .skip(offset)
            .take(limit)
        {
            match self.outgoing_payment(account, &tx.payment_hash).await? {
                Some(o) => out.push(o),
                None => out.push(Outgoing {
                    payment_hash: tx.payment_hash,
                    bolt11: None,
                    amount: tx.amount_msat,
                    fee: tx.fee_msat,
                    status: if tx.status == TxStatus::Pending {
                        OutgoingStatus::Pending
                    } else {
                        OutgoingStatus::Succeeded
                    },
                    preimage: None,
                    created_at: tx.created_at,
                    failure: None,
                }),
            }
        }
        Ok(out)
    }

    /// One outgoing payment of the account.
    pub(super) async fn outgoing_payment(
        &self,
        account: &Account,
        hash: &PaymentHash,
    ) -> Result<Option<Outgoing>, SpendError> {
        Ok(self
            .payments
            .payment(hash)
            .await?
            .filter(|p| p.account_id == account.id)
            .map(outgoing))
    }
}
