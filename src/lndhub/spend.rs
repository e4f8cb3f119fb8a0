//! The boundary between the LndHub API and the payment engine: [`Spend`] is what `payinvoice`,
//! `gettxs` and `checkpayment` need. [`LinkSpend`] implements it over the withdraw machinery
//! (`crate::withdraw`): each payment is a one-use withdraw link of exactly its amount, reserved
//! atomically (`amount + fee reserve` off the balance, one reservation per payment hash, however
//! many calls race), paid by the withdrawal payer (internal invoices settle inside the ledger;
//! resumed after a restart), and finished once. The account's outgoing payments are its ledger
//! debits.

use std::time::Duration;

use async_trait::async_trait;
use lightning_invoice::Bolt11Invoice;

use crate::gateway::Gateway;
use crate::lightning::PaymentResult;
use crate::lnurl::withdraw::{self as lud03, InvoiceProblem};
use crate::store::{
    Account, Reservation, ReserveOutcome, TxKind, TxStatus, WithdrawLink, WithdrawStatus,
};
use crate::types::{Msat, PaymentHash, unix_now};

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

/// What LndHub needs from the payment engine.
#[async_trait]
pub trait Spend: Send + Sync {
    /// Pays `bolt11` from `account` and waits up to `wait` for a final state; a payment still in
    /// flight then is answered `Pending` (it goes on, and finishes once).
    async fn pay(
        &self,
        account: &Account,
        bolt11: &str,
        amount: Option<Msat>,
        wait: Duration,
    ) -> Result<Outgoing, SpendError>;

    /// The account's outgoing payments, newest first.
    async fn outgoing(
        &self,
        account: &Account,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<Outgoing>, SpendError>;

    /// One outgoing payment of the account.
    async fn payment(
        &self,
        account: &Account,
        hash: &PaymentHash,
    ) -> Result<Option<Outgoing>, SpendError>;
}

/// [`Spend`] over one-use withdraw links (see the module doc).
pub struct LinkSpend<'a> {
    pub gw: &'a Gateway,
}

/// How often a waiting `pay` looks at the payment's state.
const POLL: Duration = Duration::from_millis(25);

impl From<crate::store::StoreError> for SpendError {
    fn from(e: crate::store::StoreError) -> Self {
        tracing::warn!(error = %e, "payment: store error");
        SpendError::Unavailable
    }
}

fn status(s: WithdrawStatus) -> OutgoingStatus {
    match s {
        WithdrawStatus::Pending => OutgoingStatus::Pending,
        WithdrawStatus::Succeeded => OutgoingStatus::Succeeded,
        WithdrawStatus::Failed => OutgoingStatus::Failed,
    }
}

impl LinkSpend<'_> {
    async fn view(
        &self,
        account: &Account,
        hash: &PaymentHash,
    ) -> Result<Option<Outgoing>, SpendError> {
        let Some(w) = self.gw.store.withdrawal(hash).await? else {
            return Ok(None);
        };
        if w.account_id != account.id {
            return Ok(None);
        }
        let fee = match w.status {
            WithdrawStatus::Pending => w.fee_reserve_msat,
            WithdrawStatus::Succeeded => w.fee_msat,
            WithdrawStatus::Failed => Msat::ZERO,
        };
        Ok(Some(Outgoing {
            payment_hash: w.payment_hash,
            bolt11: Some(w.bolt11),
            amount: w.amount_msat,
            fee,
            status: status(w.status),
            preimage: None,
            created_at: w.created_at,
            failure: w.failure,
        }))
    }

    /// The preimage of a payment the node made (none for one settled inside the ledger).
    async fn preimage(&self, hash: &PaymentHash) -> Option<[u8; 32]> {
        match self
            .gw
            .node
            .track_payment(hash, Duration::from_secs(1))
            .await
        {
            Ok(Some(PaymentResult::Succeeded { preimage, .. })) => Some(preimage),
            _ => None,
        }
    }
}

#[async_trait]
impl Spend for LinkSpend<'_> {
    async fn pay(
        &self,
        account: &Account,
        bolt11: &str,
        amount: Option<Msat>,
        wait: Duration,
    ) -> Result<Outgoing, SpendError> {
        let bolt11 = bolt11.trim();
        let now = unix_now();
        let network = self.gw.node.network().await.map_err(|e| {
            tracing::warn!(error = %e, "payment: node unavailable");
            SpendError::Unavailable
        })?;
        let parsed: Bolt11Invoice = bolt11
            .parse()
            .map_err(|_| SpendError::InvalidInvoice(InvoiceProblem::Invalid.to_string()))?;
        if parsed.amount_milli_satoshis().is_none() {
            return Err(SpendError::InvalidInvoice(match amount {
                Some(_) => "invoices without an amount cannot be paid yet".into(),
                None => InvoiceProblem::NoAmount.to_string(),
            }));
        }
        let checked = lud03::check_invoice(bolt11, Msat(1), Msat(u64::MAX), network, now)
            .map_err(|p| SpendError::InvalidInvoice(p.to_string()))?;
        if amount.is_some_and(|a| a.0 != 0 && a != checked.amount) {
            return Err(SpendError::InvalidInvoice(
                "the amount differs from the invoice's".into(),
            ));
        }
        // The rules of LNURL-withdraw's callback (README invariants): internal only for the very
        // invoice we issued, unpaid, unexpired, of another account, issued by the node in use.
        let internal = match self.gw.store.invoice(&checked.payment_hash).await? {
            None => false,
            Some(inv) if !inv.is_same_request(bolt11) => {
                tracing::warn!(payment_hash = %inv.payment_hash,
                    "lndhub payment refused: a foreign invoice reuses a payment hash of this gateway");
                return Err(SpendError::InvalidInvoice(
                    "this invoice reuses the payment hash of an invoice of this gateway".into(),
                ));
            }
            Some(inv) if inv.settled.is_some() => {
                return Err(SpendError::InvalidInvoice(
                    "the invoice is already paid".into(),
                ));
            }
            Some(inv) if inv.account_id == account.id => {
                return Err(SpendError::Refused(
                    "an account cannot pay its own invoice".into(),
                ));
            }
            Some(inv) if now >= inv.expires_at => {
                return Err(SpendError::InvalidInvoice(
                    InvoiceProblem::Expired.to_string(),
                ));
            }
            Some(inv) => inv.issued_by(&self.gw.node.node_id()),
        };
        let fee_reserve = if internal {
            Msat::ZERO
        } else {
            self.gw.settings.withdraw.fee_reserve(checked.amount)
        };
        let title = Some("LndHub payment".to_string());
        let link = WithdrawLink {
            k1: hex::encode(rand::random::<[u8; 32]>()),
            account_id: account.id.clone(),
            min_msat: checked.amount,
            max_msat: checked.amount,
            uses: 1,
            used: 0,
            title: title.clone(),
            created_at: now,
            expires_at: Some(now.saturating_add(600)),
            disabled: false,
        };
        self.gw.store.create_withdraw_link(&link).await?;
        let reservation = Reservation {
            k1: link.k1.clone(),
            payment_hash: checked.payment_hash,
            bolt11: bolt11.to_string(),
            amount: checked.amount,
            fee_reserve,
            internal,
            title,
            now,
        };
        let outcome = self.gw.store.reserve_withdrawal(&reservation).await?;
        // The link is spent or useless from here on.
        let _ = self.gw.store.disable_withdraw_link(&link.k1).await;
        match outcome {
            ReserveOutcome::Reserved(payment) => {
                tracing::info!(account = %account.id, payment_hash = %payment.payment_hash,
                    amount_msat = payment.amount_msat.0, fee_reserve_msat = fee_reserve.0, internal,
                    "lndhub payment reserved");
                self.gw.payer.submit(*payment);
            }
            ReserveOutcome::InsufficientBalance => return Err(SpendError::InsufficientBalance),
            ReserveOutcome::DuplicatePayment => return Err(SpendError::AlreadyPaying),
            other => {
                tracing::warn!(outcome = ?other, "lndhub payment: fresh link refused");
                return Err(SpendError::Unavailable);
            }
        }
        let hash = checked.payment_hash;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let view = self
                .view(account, &hash)
                .await?
                .ok_or(SpendError::Unavailable)?;
            if view.status != OutgoingStatus::Pending || tokio::time::Instant::now() >= deadline {
                let mut view = view;
                if view.status == OutgoingStatus::Succeeded && !internal {
                    view.preimage = self.preimage(&hash).await;
                }
                return Ok(view);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn outgoing(
        &self,
        account: &Account,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<Outgoing>, SpendError> {
        let txs = self
            .gw
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
            match self.view(account, &tx.payment_hash).await? {
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

    async fn payment(
        &self,
        account: &Account,
        hash: &PaymentHash,
    ) -> Result<Option<Outgoing>, SpendError> {
        self.view(account, hash).await
    }
}
