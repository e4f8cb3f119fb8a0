//! The invoice a payer hands over, checked before anything moves: decoded (BOLT 11), for the
//! node's network, unexpired, with an amount (its own, or the one asked for a zero-amount
//! invoice), and classified: an invoice of another node (external), the very invoice this gateway
//! issued (internal, rule 1 of `docs/payments.md`), or a refusal.

use std::time::Duration;

use bitcoin::hashes::Hash;
use lightning_invoice::{Bolt11Invoice, Currency};

use crate::store::{AccountId, InvoiceRecord};
use crate::types::{Msat, PaymentHash};

/// Why an invoice cannot be paid from an account; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the invoice is not a valid BOLT 11 invoice")]
    Invalid,
    #[error("the invoice is for another network than this gateway's node")]
    WrongNetwork,
    #[error("the invoice has expired")]
    Expired,
    #[error("the invoice has no amount; give one")]
    NoAmount,
    #[error("the amount given differs from the invoice's amount")]
    AmountMismatch,
    #[error("the amount must be at least 1 msat")]
    ZeroAmount,
    #[error("this invoice reuses the payment hash of an invoice of this gateway")]
    ForgedHash,
    #[error("the invoice is already paid")]
    AlreadyPaid,
    #[error("an account cannot pay an invoice of its own")]
    OwnInvoice,
}

/// A decoded invoice that passed the checks that need no store.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub payment_hash: PaymentHash,
    /// What will be paid: the invoice's amount, or the one given for a zero-amount invoice.
    pub amount: Msat,
    /// The invoice carries no amount of its own (the node pays `amount`).
    pub amountless: bool,
}

/// Decodes `pr` and checks network, expiry and amount (`given`: the amount asked for, required
/// for a zero-amount invoice and, for another, equal to the invoice's).
pub fn decode(
    pr: &str,
    given: Option<Msat>,
    network: bitcoin::Network,
    now: u64,
) -> Result<Decoded, Refusal> {
    let invoice: Bolt11Invoice = pr.trim().parse().map_err(|_| Refusal::Invalid)?;
    if invoice.currency() != Currency::from(network) {
        return Err(Refusal::WrongNetwork);
    }
    let expires = invoice
        .duration_since_epoch()
        .checked_add(invoice.expiry_time())
        .unwrap_or(Duration::MAX);
    if Duration::from_secs(now) >= expires {
        return Err(Refusal::Expired);
    }
    let (amount, amountless) = match (invoice.amount_milli_satoshis(), given) {
        (Some(own), None) => (own, false),
        (Some(own), Some(g)) if g.msat() == own => (own, false),
        (Some(_), Some(_)) => return Err(Refusal::AmountMismatch),
        (None, Some(g)) => (g.msat(), true),
        (None, None) => return Err(Refusal::NoAmount),
    };
    if amount == 0 {
        return Err(Refusal::ZeroAmount);
    }
    Ok(Decoded {
        payment_hash: PaymentHash(invoice.payment_hash().to_byte_array()),
        amount: Msat::from_msat(amount),
        amountless,
    })
}

/// How an invoice is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Through the node, over the network.
    External,
    /// Inside the ledger: the very invoice this gateway issued, through the node that issued it.
    Internal,
}

/// Rule 1: an invoice is internal only when it is the very invoice we issued (same payment
/// request: payee, amount and hash match), unpaid, unexpired and issued by the node in use (only
/// that node can cancel it; one of another node is paid over the network). `ours` is the store's
/// record for the invoice's payment hash; `payer` the paying account.
pub fn route(
    pr: &str,
    ours: Option<&InvoiceRecord>,
    payer: &AccountId,
    node_id: &str,
    now: u64,
) -> Result<Route, Refusal> {
    let Some(inv) = ours else {
        return Ok(Route::External);
    };
    if !inv.is_same_request(pr) {
        tracing::warn!(payment_hash = %inv.payment_hash,
            "payment refused: a foreign invoice reuses a payment hash of this gateway");
        return Err(Refusal::ForgedHash);
    }
    if inv.settled.is_some() {
        return Err(Refusal::AlreadyPaid);
    }
    if &inv.account_id == payer {
        return Err(Refusal::OwnInvoice);
    }
    if now >= inv.expires_at {
        return Err(Refusal::Expired);
    }
    Ok(if inv.issued_by(node_id) {
        Route::Internal
    } else {
        Route::External
    })
}
