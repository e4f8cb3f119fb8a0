//! A withdrawal to an invoice of this gateway is settled inside the ledger, never by the node, the
//! same way on every store: the invoice is cancelled on the node that issued it (confirmed, or the
//! payment waits) so the network cannot pay it as well; the payer was debited by the reservation;
//! the payee is credited through the one idempotent credit path every settlement uses
//! ([`Store::credit_settlement`](crate::store::Store::credit_settlement), once per payment hash,
//! which also queues a zap receipt; marked with [`INTERNAL_PREIMAGE`], never shown); then the
//! withdrawal is completed with no fee. Each step is atomic and idempotent, so a crash between
//! them is finished by the resume.

use std::time::Duration;

use crate::backoff::Backoff;
use crate::lightning::CancelOutcome;
use crate::store::{CreditOutcome, Finish, Payment, Settlement};
use crate::types::unix_now;

use super::{INTERNAL_PREIMAGE, PayerDeps};

/// The longest wait between two attempts to cancel an invoice paid inside the ledger.
const CANCEL_RETRY_MAX: Duration = Duration::from_secs(5);

/// A withdrawal to an invoice of this gateway moves money inside the ledger, one way for every
/// store: cancel on the node → [`Store::credit_settlement`](crate::store::Store::credit_settlement)
/// → finish. The cancel comes first
/// and must be confirmed (rule 3): an invoice credited inside the ledger while still payable on
/// the node could be paid over the network too, and that payer's money would be kept
/// uncredited. So a node that cannot be reached holds the withdrawal pending (retried with
/// backoff) until it answers. If the network paid the invoice first, the settlement follower
/// credits that payment and this withdrawal fails, refunded.
pub(super) async fn settle_internal(deps: &PayerDeps, payment: &Payment) -> Finish {
    let hash = payment.payment_hash;
    let mut backoff = Backoff::default();
    loop {
        match deps.node.cancel_invoice(&hash).await {
            // Unknown: the node cannot be paid for it either.
            Ok(CancelOutcome::Canceled | CancelOutcome::Unknown) => break,
            Ok(CancelOutcome::AlreadySettled) => {
                tracing::warn!(payment_hash = %hash,
                    "an invoice withdrawn to inside the ledger was paid over the network first; refunding the withdrawal");
                return Finish::Failed {
                    reason: "invoice already paid".into(),
                };
            }
            Err(e) => {
                tracing::warn!(error = %e, payment_hash = %hash,
                    "cannot cancel the invoice on the node; the internal payment waits");
                tokio::time::sleep(backoff.next_delay().min(CANCEL_RETRY_MAX)).await;
            }
        }
    }
    credit_internal(deps, payment).await
}

/// Credits the payee of an internal withdrawal (once) and announces the credit.
async fn credit_internal(deps: &PayerDeps, payment: &Payment) -> Finish {
    let settlement = Settlement {
        payment_hash: payment.payment_hash,
        preimage: INTERNAL_PREIMAGE,
        amount_paid_msat: payment.amount_msat,
        settle_index: 0,
        settled_at: unix_now(),
    };
    let mut backoff = Backoff::default();
    loop {
        let outcome = deps.store.credit_settlement(&settlement).await;
        let finish = match outcome {
            Ok(outcome @ CreditOutcome::Credited { .. }) => {
                if let CreditOutcome::Credited { account_id, .. } = &outcome {
                    tracing::info!(account = %account_id, payment_hash = %payment.payment_hash,
                        "internal withdrawal credited");
                }
                crate::ledger::announce_credit(
                    deps.store.as_ref(),
                    &settlement,
                    &outcome,
                    &deps.events,
                )
                .await;
                Finish::Succeeded {
                    fee: crate::types::Msat::ZERO,
                    preimage: None,
                }
            }
            // Credited before: by this withdrawal (a resumed one), or paid from outside.
            Ok(CreditOutcome::AlreadyCredited) => {
                match deps.store.invoice(&payment.payment_hash).await {
                    Ok(Some(inv))
                        if inv
                            .settled
                            .as_ref()
                            .is_some_and(|s| s.preimage == hex::encode(INTERNAL_PREIMAGE)) =>
                    {
                        Finish::Succeeded {
                            fee: crate::types::Msat::ZERO,
                            preimage: None,
                        }
                    }
                    Ok(_) => Finish::Failed {
                        reason: "invoice already paid".into(),
                    },
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read invoice; retrying");
                        tokio::time::sleep(backoff.next_delay()).await;
                        continue;
                    }
                }
            }
            Ok(CreditOutcome::UnknownInvoice) => Finish::Failed {
                reason: "unknown invoice".into(),
            },
            Ok(CreditOutcome::AccountGone) => Finish::Failed {
                reason: "the payee account was removed".into(),
            },
            Err(e) => {
                tracing::warn!(error = %e, "cannot credit internal withdrawal; retrying");
                tokio::time::sleep(backoff.next_delay()).await;
                continue;
            }
        };
        return finish;
    }
}
