//! One withdrawal to its final state: paid (or, resumed, tracked) on the node, or settled inside
//! the ledger (`internal`); then finished once in the store, announced on the ledger
//! event broadcast, and a refund whose account is gone counted rather than dropped.

use crate::backoff::Backoff;
use crate::events::{Events, Failed, LedgerEvent, Sent};
use crate::lightning::{LightningError, PaymentRequest, PaymentResult};
use crate::store::{Finish, FinishOutcome, Payment, PaymentStatus};
use crate::types::unix_now;

use super::internal::settle_internal;
use super::{PayerDeps, TRACK_WAIT};

/// Pays (or, when `resume`, tracks) one withdrawal to a final state and finishes it in the store.
pub(super) async fn settle(deps: &PayerDeps, payment: Payment, resume: bool) {
    let hash = payment.payment_hash;
    let (finish, preimage) = if payment.internal {
        // Settled inside the ledger: no preimage was ever revealed.
        (settle_internal(deps, &payment).await, None)
    } else {
        settle_external(deps, &payment, resume).await
    };
    let mut backoff = Backoff::default();
    loop {
        match deps
            .store
            .finish_withdrawal(&hash, &finish, unix_now())
            .await
        {
            Ok(FinishOutcome::Finished(done)) => {
                tracing::info!(account = %done.account_id, payment_hash = %hash,
                    status = ?done.status, fee_msat = done.fee_msat.msat(), refund_msat = done.refund().msat(),
                    "withdrawal finished");
                announce(&deps.events, &done, preimage);
                park_orphaned_refund(deps, &done).await;
                crate::payments::release_failed(&*deps.store, &done).await;
                return;
            }
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(error = %e, payment_hash = %hash, "cannot finish withdrawal; retrying");
                tokio::time::sleep(backoff.next_delay()).await;
            }
        }
    }
}

/// A refund whose account is gone (removed while the payment was pending, which deletion refuses
/// but a store written by an older version may hold) is never dropped silently: it is counted in
/// `lnaddr_orphaned_msat_total` and logged at error level for the operator. An account holding a
/// refund cannot be removed, so an account missing right after the finish never got it.
async fn park_orphaned_refund(deps: &PayerDeps, done: &Payment) {
    let refund = done.refund();
    if refund == crate::types::Msat::ZERO {
        return;
    }
    if let Ok(None) = deps.store.account(&done.account_id).await {
        deps.metrics.orphaned_msat.inc_by(refund.msat());
        tracing::error!(account = %done.account_id, payment_hash = %done.payment_hash,
            amount_msat = refund.msat(),
            "ORPHANED: a refund found no account; counted in lnaddr_orphaned_msat_total");
    }
}

/// Announces a finished withdrawal on the ledger event broadcast.
fn announce(events: &Events, done: &Payment, preimage: Option<[u8; 32]>) {
    let event = match done.status {
        PaymentStatus::Pending => return,
        PaymentStatus::Succeeded => LedgerEvent::Sent(Box::new(Sent {
            account_id: done.account_id.clone(),
            payment_hash: done.payment_hash,
            amount_msat: done.amount_msat,
            fee_msat: done.fee_msat,
            bolt11: done.bolt11.clone(),
            preimage: preimage.map(hex::encode),
            created_at: done.created_at,
            settled_at: done.finished_at.unwrap_or_else(unix_now),
        })),
        PaymentStatus::Failed => LedgerEvent::Failed(Box::new(Failed {
            account_id: done.account_id.clone(),
            payment_hash: done.payment_hash,
            amount_msat: done.amount_msat,
            bolt11: done.bolt11.clone(),
            reason: done.failure.clone().unwrap_or_default(),
            created_at: done.created_at,
        })),
    };
    events.emit(event);
}

/// Pays (or tracks) an external withdrawal to a final state; the preimage when it succeeded.
async fn settle_external(
    deps: &PayerDeps,
    payment: &Payment,
    resume: bool,
) -> (Finish, Option<[u8; 32]>) {
    let hash = payment.payment_hash;
    let mut backoff = Backoff::default();
    let mut started = resume;
    loop {
        let first_send = !started;
        let answer = if started {
            deps.node.track_payment(&hash, TRACK_WAIT).await
        } else {
            started = true;
            let request = PaymentRequest {
                bolt11: payment.bolt11.clone(),
                amount: Some(payment.amount_msat),
                fee_limit: payment.fee_reserve_msat,
                timeout_secs: deps.settings.payment_timeout_secs,
            };
            deps.node.pay_invoice(request).await.map(Some)
        };
        match answer {
            Ok(Some(PaymentResult::Succeeded { fee, preimage })) => {
                return (
                    Finish::Succeeded {
                        fee,
                        preimage: Some(preimage),
                    },
                    Some(preimage),
                );
            }
            Ok(Some(PaymentResult::Failed(reason))) => return (Finish::Failed { reason }, None),
            // Not known to the node yet, but its sender may still be about to send it.
            Ok(None)
                if unix_now()
                    < payment
                        .created_at
                        .saturating_add(deps.payments.stale_after_secs) =>
            {
                tokio::time::sleep(backoff.next_delay()).await;
            }
            // The node never started it (e.g. a crash before the send): nothing left the node.
            Ok(None) => {
                let reason = "payment was never sent".into();
                return (Finish::Failed { reason }, None);
            }
            Ok(Some(PaymentResult::InFlight)) => backoff.reset(),
            // The node refused the invoice outright: nothing was sent.
            Err(LightningError::Rejected(reason)) if first_send => {
                return (Finish::Failed { reason }, None);
            }
            Err(e) => {
                tracing::warn!(error = %e, payment_hash = %hash, "payment state unknown; tracking");
                tokio::time::sleep(backoff.next_delay()).await;
            }
        }
    }
}
