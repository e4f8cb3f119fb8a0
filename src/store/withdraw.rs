//! The store side of LNURL-withdraw (LUD-03): withdraw links, and the withdrawals paid through
//! them. A withdrawal is reserved in one atomic step (a use of the link, `amount + fee reserve` off
//! the balance, a pending debit in the ledger and the payment record), then finished exactly once:
//! completed (the real fee kept, the rest of the reserve refunded) or failed (everything refunded,
//! the use given back). Both backends run the withdraw part of the conformance suite
//! (`tests/support/withdraw_suite.rs`).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{AccountId, StoreError, Transaction, TxKind, TxStatus};
use crate::types::{Msat, PaymentHash};

/// The preimage recorded for an invoice of this gateway settled inside the ledger by a
/// withdrawal (the node was never asked, so no real preimage is known). It is a marker, never
/// shown: LUD-21 verify answers no preimage and a zap receipt has no `preimage` tag for it.
pub const INTERNAL_PREIMAGE: [u8; 32] = [0u8; 32];

/// A withdraw link of an account (LUD-03 `k1` names it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WithdrawLink {
    /// 32 random bytes, hex.
    pub k1: String,
    pub account_id: AccountId,
    pub min_msat: Msat,
    pub max_msat: Msat,
    /// How many withdrawals the link pays in all (1: single use).
    pub uses: u32,
    /// Uses taken: reserved, paid, or being paid. A failed payment gives its use back.
    pub used: u32,
    pub title: Option<String>,
    pub created_at: u64,
    /// Unix seconds after which the link pays nothing; `None`: never expires.
    pub expires_at: Option<u64>,
    pub disabled: bool,
}

impl WithdrawLink {
    pub fn uses_left(&self) -> u32 {
        self.uses.saturating_sub(self.used)
    }

    pub fn is_expired(&self, now: u64) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }
}

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentStatus {
    Pending,
    Succeeded,
    Failed,
}

/// One payment from an account, made (or being made) by the payment engine: through a withdraw
/// link (a withdrawal: `k1` names the link), LndHub, NWC or the admin API (`k1` empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    pub payment_hash: PaymentHash,
    pub k1: String,
    pub account_id: AccountId,
    pub bolt11: String,
    pub amount_msat: Msat,
    /// Reserved on top of the amount for routing fees.
    pub fee_reserve_msat: Msat,
    /// The routing fee paid, once succeeded.
    pub fee_msat: Msat,
    pub status: PaymentStatus,
    /// An invoice of this gateway: settled inside the ledger, not by the node.
    pub internal: bool,
    pub created_at: u64,
    pub finished_at: Option<u64>,
    pub failure: Option<String>,
    /// The link's title, shown as the ledger entry's comment.
    pub title: Option<String>,
    /// Hex proof of payment, once succeeded through the node; `None` for an internal payment
    /// (no preimage is revealed) and in records written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preimage: Option<String>,
}

impl Payment {
    /// The ledger entry showing this withdrawal in its current state.
    pub fn ledger_entry(&self) -> Transaction {
        let (status, fee) = match self.status {
            PaymentStatus::Pending => (TxStatus::Pending, self.fee_reserve_msat),
            PaymentStatus::Succeeded => (TxStatus::Settled, self.fee_msat),
            PaymentStatus::Failed => (TxStatus::Failed, Msat::ZERO),
        };
        Transaction {
            kind: TxKind::Debit,
            amount_msat: self.amount_msat,
            fee_msat: fee,
            payment_hash: self.payment_hash,
            status,
            comment: self.title.clone(),
            tag: None,
            zap: false,
            created_at: self.created_at,
        }
    }

    /// The finished payment as a webhook event's facts (`payment.sent` / `payment.failed`);
    /// `None` while pending.
    pub fn outgoing(&self) -> Option<super::webhooks::Outgoing> {
        let succeeded = match self.status {
            PaymentStatus::Pending => return None,
            PaymentStatus::Succeeded => true,
            PaymentStatus::Failed => false,
        };
        Some(super::webhooks::Outgoing {
            payment_hash: self.payment_hash,
            amount_msat: self.amount_msat.msat(),
            fee_msat: if succeeded { self.fee_msat.msat() } else { 0 },
            succeeded,
            finished_at: self.finished_at.unwrap_or(self.created_at),
        })
    }

    /// What the reservation took off the balance.
    pub fn reserved(&self) -> Option<Msat> {
        self.amount_msat.checked_add(self.fee_reserve_msat)
    }

    /// The record once finished: succeeded with `fee` (capped at the reserve, so the balance
    /// never pays more than was reserved), or failed with `reason`.
    pub fn finished(&self, outcome: &Finish, now: u64) -> Payment {
        let mut done = self.clone();
        done.finished_at = Some(now);
        match outcome {
            Finish::Succeeded { fee, preimage } => {
                done.status = PaymentStatus::Succeeded;
                done.fee_msat = (*fee).min(self.fee_reserve_msat);
                done.preimage = preimage.map(hex::encode);
            }
            Finish::Failed { reason } => {
                done.status = PaymentStatus::Failed;
                done.failure = Some(reason.clone());
            }
        }
        done
    }

    /// What finishing gives back to the balance: the unused reserve, or everything.
    pub fn refund(&self) -> Msat {
        match self.status {
            PaymentStatus::Pending => Msat::ZERO,
            PaymentStatus::Succeeded => self.fee_reserve_msat.saturating_sub(self.fee_msat),
            PaymentStatus::Failed => self.reserved().unwrap_or(Msat::ZERO),
        }
    }
}

/// A withdrawal to reserve.
#[derive(Debug, Clone)]
pub struct Reservation {
    pub k1: String,
    pub payment_hash: PaymentHash,
    pub bolt11: String,
    pub amount: Msat,
    pub fee_reserve: Msat,
    pub internal: bool,
    pub title: Option<String>,
    pub now: u64,
}

impl Reservation {
    /// What the reservation takes off the balance: `amount + fee reserve` (an amount past
    /// `u64::MAX` msat is a backend error, never a wrap). Both backends check the balance
    /// against it.
    pub fn total(&self) -> Result<Msat, StoreError> {
        self.amount
            .checked_add(self.fee_reserve)
            .ok_or_else(|| StoreError::backend(std::io::Error::other("amount overflow")))
    }

    pub fn payment(&self, account_id: AccountId) -> Payment {
        Payment {
            payment_hash: self.payment_hash,
            k1: self.k1.clone(),
            account_id,
            bolt11: self.bolt11.clone(),
            amount_msat: self.amount,
            fee_reserve_msat: self.fee_reserve,
            fee_msat: Msat::ZERO,
            status: PaymentStatus::Pending,
            internal: self.internal,
            created_at: self.now,
            finished_at: None,
            failure: None,
            title: self.title.clone(),
            preimage: None,
        }
    }
}

/// How a reservation ended. Every outcome but `Reserved` changed nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReserveOutcome {
    Reserved(Box<Payment>),
    UnknownLink,
    Disabled,
    Expired,
    /// Every use is taken.
    UsedUp,
    /// The balance does not cover `amount + fee reserve`.
    InsufficientBalance,
    /// A withdrawal with this payment hash exists already.
    DuplicatePayment,
}

/// How a pending withdrawal ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    /// Paid, with this routing fee, and the preimage when the node paid it.
    Succeeded {
        fee: Msat,
        preimage: Option<[u8; 32]>,
    },
    /// Not paid; everything is refunded and the use given back.
    Failed { reason: String },
}

/// The answer of [`WithdrawStore::finish_withdrawal`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FinishOutcome {
    /// Finished now: the balance got [`Payment::refund`] back.
    Finished(Payment),
    /// Finished before; nothing changed.
    AlreadyFinished(Payment),
    /// No withdrawal with this hash.
    Unknown,
}

/// Withdraw links and withdrawals.
///
/// Duties of an implementation:
/// - A reservation only reserves, internal or not: an internal payment is settled by the payer
///   alone (cancel on the node, [`super::Store::credit_settlement`], finish), one way for every
///   backend.
/// - [`WithdrawStore::reserve_withdrawal`] is one atomic step: it checks the link (exists, not
///   disabled, not expired, a use left), the payment hash (never reserved before) and the balance
///   (covers `amount + fee reserve`), then takes the use, debits the balance, appends a pending
///   debit to the ledger and records the withdrawal, all or nothing, however many callers race.
/// - [`WithdrawStore::finish_withdrawal`] finishes a pending withdrawal once: a second call, or a
///   call after the other outcome, changes nothing and answers `AlreadyFinished`.
/// - A balance never goes below zero.
/// - [`WithdrawStore::lease_payment`] gives a pending payment to one process at a time, across
///   every process sharing the store; a lease not renewed within its TTL passes to another.
#[async_trait]
pub trait WithdrawStore: Send + Sync {
    /// Records a new link; [`StoreError::NotFound`] when its account does not exist.
    async fn create_withdraw_link(&self, link: &WithdrawLink) -> Result<(), StoreError>;

    /// The link named `k1`.
    async fn withdraw_link(&self, k1: &str) -> Result<Option<WithdrawLink>, StoreError>;

    /// Disables a link for good; answers it, or `None` when there is no such link.
    async fn disable_withdraw_link(&self, k1: &str) -> Result<Option<WithdrawLink>, StoreError>;

    /// Reserves a payment from `account` without a link (the payment engine's): the same atomic
    /// step as [`WithdrawStore::reserve_withdrawal`] without the link's checks and use;
    /// `reservation.k1` is empty. `UnknownLink` when the account does not exist.
    async fn reserve_payment(
        &self,
        account: &AccountId,
        reservation: &Reservation,
    ) -> Result<ReserveOutcome, StoreError>;

    /// Adds `amount` to the spending counter `key` of `day` (days since the epoch, UTC) when the
    /// counter's total stays within `limit`; answers whether it did (nothing changes when not).
    /// Atomic across every process sharing the store: racing calls never take more than `limit`.
    async fn take_daily_spend(
        &self,
        key: &str,
        day: u64,
        amount: Msat,
        limit: Msat,
    ) -> Result<bool, StoreError>;

    /// Gives `amount` back to the spending counter `key` of `day` (never below zero).
    async fn give_back_daily_spend(
        &self,
        key: &str,
        day: u64,
        amount: Msat,
    ) -> Result<(), StoreError>;

    /// Reserves a withdrawal (see the trait's duties).
    async fn reserve_withdrawal(
        &self,
        reservation: &Reservation,
    ) -> Result<ReserveOutcome, StoreError>;

    /// Finishes a pending withdrawal once (see the trait's duties).
    async fn finish_withdrawal(
        &self,
        hash: &PaymentHash,
        finish: &Finish,
        now: u64,
    ) -> Result<FinishOutcome, StoreError>;

    /// One withdrawal.
    async fn withdrawal(&self, hash: &PaymentHash) -> Result<Option<Payment>, StoreError>;

    /// Every withdrawal still pending, for the payer to resume after a restart.
    async fn pending_withdrawals(&self) -> Result<Vec<Payment>, StoreError>;

    /// Takes the lease on the payment `hash` for `holder` for `ttl`, or renews it when `holder`
    /// holds it already; `false` when another holder has it. Only a lease holder sends, tracks or
    /// finishes a payment, so two processes never both send one.
    async fn lease_payment(
        &self,
        hash: &PaymentHash,
        holder: &str,
        ttl: std::time::Duration,
    ) -> Result<bool, StoreError>;

    /// Gives the lease up, if `holder` holds it.
    async fn release_payment(&self, hash: &PaymentHash, holder: &str) -> Result<(), StoreError>;
}
