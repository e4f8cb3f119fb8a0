//! The payment engine: every way of spending from an account (withdraw links, the admin
//! `payments` call and `lnaddr pay`, LndHub `payinvoice`, NWC `pay_invoice`) goes through
//! [`Payments`], a service holding only its dependencies (store, node, settings, the payer).
//!
//! Rules (`docs/payments.md`): the invoice is checked before anything moves ([`invoice`]); an
//! invoice of this gateway is internal only when it is the very invoice we issued; `amount + fee
//! reserve` is reserved in one atomic store step; the [`payer`] pays (internal: cancel on the node,
//! credit, finish; external: through the node with the reserve as the fee limit), tracks to a final
//! state, keeps the real fee and refunds the rest once, resumes after a restart and sweeps
//! payments whose request or process died. One request is never sent twice: one payment per
//! payment hash, and an idempotency key names one payment for good.

pub mod invoice;
pub mod payer;

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

pub use invoice::{Refusal, Route};
pub use payer::Payer;

use crate::config::Settings;
use crate::lightning::{LightningError, LightningNode};
use crate::store::{Account, AccountId, Reservation, ReserveOutcome, Store, StoreError};
use crate::types::{Msat, PaymentHash, unix_now};

/// A payment record and where it stands: the store's (a withdrawal is a payment made through a
/// link).
pub use crate::store::{Payment, PaymentStatus};

/// Who asked for a payment (logged, and shown in the ledger entry's comment when no memo is
/// given).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    WithdrawLink,
    LndHub,
    Nwc,
    Admin,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::WithdrawLink => "withdraw link",
            Source::LndHub => "lndhub",
            Source::Nwc => "nwc",
            Source::Admin => "admin",
        }
    }
}

/// A payment to make from an account.
#[derive(Debug, Clone)]
pub struct SpendRequest {
    pub account_id: AccountId,
    /// The BOLT 11 invoice to pay.
    pub bolt11: String,
    /// Required for a zero-amount invoice; for another, when given, must equal its amount.
    pub amount: Option<Msat>,
    pub source: Source,
    /// The same key (per account) always names the same payment: a retried call or a replayed
    /// event answers that payment, never sends a second one. A key used before for another
    /// invoice is refused.
    pub idempotency_key: Option<String>,
    /// Shown as the ledger entry's comment.
    pub memo: Option<String>,
}

/// Why a payment was not made; every refusal changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum PayError {
    #[error("no such account")]
    UnknownAccount,
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("the balance does not cover the amount and the fee reserve")]
    InsufficientBalance,
    #[error("this invoice is already being paid")]
    AlreadyBeingPaid,
    #[error("this idempotency key was used for another invoice")]
    IdempotencyConflict,
    #[error("the idempotency key must be 1 to 128 printable ASCII characters")]
    BadIdempotencyKey,
    /// A spending limit (the text says which).
    #[error("{0}")]
    Limit(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Lightning(#[from] LightningError),
}

/// The payment engine (see the module docs).
#[derive(Clone)]
pub struct Payments {
    store: Arc<dyn Store>,
    node: Arc<dyn LightningNode>,
    settings: Arc<Settings>,
    payer: Payer,
}

/// Seconds in a (UTC) day: the daily totals count from midnight UTC.
const DAY_SECS: u64 = 86_400;

/// The daily-total counter of an account.
fn account_counter(id: &AccountId) -> String {
    format!("a/{id}")
}

/// The daily-total counter of a domain (lower case, as stored on accounts).
fn domain_counter(domain: &str) -> String {
    format!("d/{}", domain.to_ascii_lowercase())
}

/// Gives `amount` back to the daily totals `keys` of the day of `at` (a refused or failed
/// payment does not count). A store error is logged: the total then stays higher than spent,
/// which refuses more, never less.
async fn give_back_daily(store: &dyn Store, keys: &[String], amount: Msat, at: u64) {
    for key in keys {
        if let Err(e) = store
            .give_back_daily_spend(key, at / DAY_SECS, amount)
            .await
        {
            tracing::warn!(error = %e, counter = %key, "cannot give a payment back to a daily total");
        }
    }
}

/// A failed payment of the engine (one without a withdraw link) gives its amount back to its
/// account's and domain's daily totals of the day it was made. Called once, by the payer that
/// finished it.
pub(crate) async fn release_failed(store: &dyn Store, failed: &Payment) {
    if !failed.k1.is_empty() || failed.status != PaymentStatus::Failed {
        return;
    }
    let mut keys = vec![account_counter(&failed.account_id)];
    match store.account(&failed.account_id).await {
        Ok(Some(account)) => keys.push(domain_counter(&account.domain)),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "cannot read the account of a failed payment"),
    }
    give_back_daily(store, &keys, failed.amount_msat, failed.created_at).await;
}

/// How often a caller waiting for a final state looks at the payment.
const POLL: Duration = Duration::from_millis(25);

impl Payments {
    pub fn new(
        store: Arc<dyn Store>,
        node: Arc<dyn LightningNode>,
        settings: Arc<Settings>,
        payer: Payer,
    ) -> Self {
        Payments {
            store,
            node,
            settings,
            payer,
        }
    }

    /// Pays `request` and waits up to `wait` for a final state; a payment still in flight then
    /// is answered with status `pending` (ask again with [`Payments::payment`]).
    pub async fn pay(&self, request: SpendRequest, wait: Duration) -> Result<Payment, PayError> {
        let started = self.start(request).await?;
        self.wait_final(started.payment_hash, wait).await
    }

    /// Checks, reserves and hands the payment to the payer; answers the pending payment (or, for
    /// an idempotency key used before, that payment as it stands).
    pub async fn start(&self, request: SpendRequest) -> Result<Payment, PayError> {
        let account = self
            .store
            .account(&request.account_id)
            .await?
            .ok_or(PayError::UnknownAccount)?;
        let now = unix_now();
        let network = self.node.network().await?;
        let decoded = invoice::decode(&request.bolt11, request.amount, network, now)?;
        let hash = decoded.payment_hash;
        if let Some(key) = &request.idempotency_key {
            if key.is_empty() || key.len() > 128 || !key.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(PayError::BadIdempotencyKey);
            }
            let meta = format!("pay-key/{}/{key}", account.id);
            let kept = self.store.put_meta_once(&meta, &hash.0).await?;
            if kept != hash.0 {
                return Err(PayError::IdempotencyConflict);
            }
            if let Some(p) = self.store.withdrawal(&hash).await?
                && p.account_id == account.id
            {
                return Ok(p);
            }
        }
        let ours = self.store.invoice(&hash).await?;
        let route = invoice::route(
            &request.bolt11,
            ours.as_ref(),
            &account.id,
            &self.node.node_id(),
            now,
        )?;
        self.check_limits(decoded.amount)?;
        let taken = self.take_daily(&account, decoded.amount, now).await?;
        let fee_reserve = match route {
            Route::Internal => Msat::ZERO,
            Route::External => self.settings.withdraw.fee_reserve(decoded.amount),
        };
        let reservation = Reservation {
            k1: String::new(),
            payment_hash: hash,
            bolt11: request.bolt11.trim().to_string(),
            amount: decoded.amount,
            fee_reserve,
            internal: route == Route::Internal,
            title: request
                .memo
                .clone()
                .or_else(|| Some(format!("payment ({})", request.source.as_str()))),
            now,
        };
        let outcome = match self.store.reserve_payment(&account.id, &reservation).await {
            Ok(ReserveOutcome::Reserved(payment)) => ReserveOutcome::Reserved(payment),
            // Not reserved: what was taken from the daily totals goes back.
            other => {
                self.give_back_daily(&taken, decoded.amount, now).await;
                other?
            }
        };
        match outcome {
            ReserveOutcome::Reserved(payment) => {
                tracing::info!(account = %account.id, payment_hash = %hash,
                    amount_msat = decoded.amount.msat(), fee_reserve_msat = fee_reserve.msat(),
                    internal = payment.internal, source = request.source.as_str(), "payment reserved");
                self.payer.submit((*payment).clone());
                Ok(*payment)
            }
            ReserveOutcome::InsufficientBalance => Err(PayError::InsufficientBalance),
            // The same idempotency key racing itself (an event delivered to two processes at
            // once): the key is bound to this hash for this account, so the payment the other
            // call reserved is this request's.
            ReserveOutcome::DuplicatePayment if request.idempotency_key.is_some() => {
                match self.store.withdrawal(&hash).await? {
                    Some(p) if p.account_id == account.id => Ok(p),
                    _ => Err(PayError::AlreadyBeingPaid),
                }
            }
            ReserveOutcome::DuplicatePayment => Err(PayError::AlreadyBeingPaid),
            ReserveOutcome::UnknownLink => Err(PayError::UnknownAccount),
            // Link outcomes: a payment without a link has none.
            ReserveOutcome::Disabled | ReserveOutcome::Expired | ReserveOutcome::UsedUp => {
                Err(PayError::Store(StoreError::backend(std::io::Error::other(
                    "a link refusal for a payment without a link",
                ))))
            }
        }
    }

    /// Spending limits (`payments.max_payment_msat`): the largest single payment.
    fn check_limits(&self, amount: Msat) -> Result<(), PayError> {
        match self.settings.payments.max_payment {
            Some(max) if amount > max => Err(PayError::Limit(format!(
                "the amount is above the largest payment allowed ({} msat)",
                max.msat()
            ))),
            _ => Ok(()),
        }
    }

    /// Takes `amount` from the account's and its domain's daily totals (the limits set); all or
    /// none. Answers the counters taken from, for [`Payments::give_back_daily`].
    async fn take_daily(
        &self,
        account: &Account,
        amount: Msat,
        now: u64,
    ) -> Result<Vec<String>, PayError> {
        let day = now / DAY_SECS;
        let limits = [
            (
                account_counter(&account.id),
                self.settings.payments.account_daily_limit,
                "the account's",
            ),
            (
                domain_counter(&account.domain),
                self.settings.payments.domain_daily_limit,
                "the domain's",
            ),
        ];
        let mut taken = Vec::new();
        for (key, limit, whose) in limits {
            let Some(limit) = limit else { continue };
            let took = match self.store.take_daily_spend(&key, day, amount, limit).await {
                Ok(took) => took,
                Err(e) => {
                    self.give_back_daily(&taken, amount, now).await;
                    return Err(e.into());
                }
            };
            if !took {
                self.give_back_daily(&taken, amount, now).await;
                return Err(PayError::Limit(format!(
                    "the payment is above what is left of {whose} daily spending limit ({} msat a day)",
                    limit.msat()
                )));
            }
            taken.push(key);
        }
        Ok(taken)
    }

    /// Gives `amount` back to the daily totals `keys` of the day of `at`.
    async fn give_back_daily(&self, keys: &[String], amount: Msat, at: u64) {
        give_back_daily(&*self.store, keys, amount, at).await;
    }

    /// One payment by its hash.
    pub async fn payment(&self, hash: &PaymentHash) -> Result<Option<Payment>, PayError> {
        Ok(self.store.withdrawal(hash).await?)
    }

    /// Waits up to `wait` for the payment `hash` to be final; answers it as it stands then.
    pub async fn wait_final(&self, hash: PaymentHash, wait: Duration) -> Result<Payment, PayError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let current = self
                .store
                .withdrawal(&hash)
                .await?
                .ok_or(PayError::UnknownAccount)?;
            if current.status != PaymentStatus::Pending || tokio::time::Instant::now() >= deadline {
                return Ok(current);
            }
            tokio::time::sleep(POLL).await;
        }
    }
}
