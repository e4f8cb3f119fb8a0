//! The boundary between `pay_invoice` and the payment engine: the [`Spender`] trait, and
//! [`WithdrawSpender`], which pays through the LNURL-withdraw machinery (atomic reservation of
//! `amount + fee reserve`, the background payer, refunds on failure, internal settlement of our
//! own invoices) until the shared payment engine replaces it.
//!
//! The adapter pays once per payment hash: a second request for an invoice already reserved
//! (a replayed event, a second relay, another process) waits for that payment instead of
//! starting one.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::gateway::{Error, Gateway};
use crate::store::{AccountId, WithdrawPayment, WithdrawStatus};
use crate::types::{Msat, PaymentHash};
use crate::withdraw::NewLink;

/// How long a payment may stay in flight before `pay` answers [`SpendOutcome::Pending`].
const FINAL_WAIT: Duration = Duration::from_secs(120);
/// How often the adapter looks at a payment in flight.
const POLL: Duration = Duration::from_millis(50);

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
    Unavailable(#[source] Error),
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

/// Pays through a one-use withdraw link made for the payment.
pub struct WithdrawSpender {
    pub gateway: Arc<Gateway>,
}

impl WithdrawSpender {
    async fn wait_final(&self, hash: &PaymentHash) -> Result<SpendOutcome, SpendError> {
        let deadline = tokio::time::Instant::now() + FINAL_WAIT;
        loop {
            let w = self
                .gateway
                .store
                .withdrawal(hash)
                .await
                .map_err(|e| SpendError::Unavailable(e.into()))?;
            match w {
                Some(w) if w.status != WithdrawStatus::Pending => {
                    return Ok(self.outcome(&w).await);
                }
                _ if tokio::time::Instant::now() >= deadline => return Ok(SpendOutcome::Pending),
                _ => tokio::time::sleep(POLL).await,
            }
        }
    }

    async fn outcome(&self, w: &WithdrawPayment) -> SpendOutcome {
        match w.status {
            WithdrawStatus::Pending => SpendOutcome::Pending,
            WithdrawStatus::Failed => {
                SpendOutcome::Failed(w.failure.clone().unwrap_or_else(|| "payment failed".into()))
            }
            WithdrawStatus::Succeeded if w.internal => SpendOutcome::Paid {
                fee: w.fee_msat,
                preimage: None,
            },
            WithdrawStatus::Succeeded => {
                let preimage = match self
                    .gateway
                    .node
                    .track_payment(&w.payment_hash, Duration::from_secs(5))
                    .await
                {
                    Ok(Some(crate::lightning::PaymentResult::Succeeded { preimage, .. })) => {
                        Some(hex::encode(preimage))
                    }
                    _ => None,
                };
                SpendOutcome::Paid {
                    fee: w.fee_msat,
                    preimage,
                }
            }
        }
    }

    /// A payment of this hash already reserved: this account's is awaited, another's refused.
    async fn existing(
        &self,
        request: &SpendRequest,
    ) -> Result<Option<Result<SpendOutcome, SpendError>>, SpendError> {
        let found = self
            .gateway
            .store
            .withdrawal(&request.payment_hash)
            .await
            .map_err(|e| SpendError::Unavailable(e.into()))?;
        Ok(match found {
            Some(w) if w.account_id == request.account_id => {
                Some(self.wait_final(&request.payment_hash).await)
            }
            Some(_) => Some(Err(SpendError::Refused(
                "this invoice is already being paid".into(),
            ))),
            None => None,
        })
    }
}

#[async_trait]
impl Spender for WithdrawSpender {
    async fn pay(&self, request: SpendRequest) -> Result<SpendOutcome, SpendError> {
        if let Some(done) = self.existing(&request).await? {
            return done;
        }
        let store = &self.gateway.store;
        let account = store
            .account(&request.account_id)
            .await
            .map_err(|e| SpendError::Unavailable(e.into()))?
            .ok_or_else(|| SpendError::Refused("the account is gone".into()))?;
        let new = NewLink {
            min_msat: request.amount,
            max_msat: request.amount,
            uses: 1,
            title: Some("Nostr Wallet Connect".into()),
            expires_in_secs: Some(600),
        };
        let (link, _) = self
            .gateway
            .create_withdraw_link(&account.address(), new)
            .await
            .map_err(|e| match e {
                Error::BadRequest(reason) => SpendError::Refused(reason),
                other => SpendError::Unavailable(other),
            })?;
        let paid = self
            .gateway
            .withdraw_callback(&link.k1, Some(&link.k1), Some(&request.bolt11))
            .await;
        // The link has done its one job (or none): nobody else may use it.
        let _ = store.disable_withdraw_link(&link.k1).await;
        match paid {
            Ok(()) => self.wait_final(&request.payment_hash).await,
            Err(Error::BadRequest(reason)) if reason.contains("balance does not cover") => {
                Err(SpendError::InsufficientBalance)
            }
            Err(Error::BadRequest(reason)) if reason.contains("already being paid") => self
                .existing(&request)
                .await?
                .unwrap_or(Err(SpendError::Refused(reason))),
            Err(Error::BadRequest(reason)) => Err(SpendError::Refused(reason)),
            Err(other) => Err(SpendError::Unavailable(other)),
        }
    }
}
