//! The withdrawal payer (LUD-03 §4, the service pays the wallet's invoice): a supervised task
//! that pays each reserved withdrawal and finishes it once in the store (success keeps the real
//! fee and refunds the rest of the reserve; failure refunds everything and gives the use back).
//! On start it resumes every withdrawal still pending (`TrackPaymentV2` on LND), so a gateway
//! stopped or killed mid-payment settles it on restart. On shutdown, payments in flight are left
//! pending in the store for the next start; nothing is refunded while the outcome is unknown.
//!
//! An invoice issued by this gateway is settled inside the ledger, never by the node, the same way
//! on every store: the invoice is cancelled on the node that issued it (confirmed, or the payment
//! waits) so the network cannot pay it as well; the payer was debited by the reservation; the
//! payee is credited through the one idempotent credit path every settlement uses
//! ([`Store::credit_settlement`], once per payment hash, which also queues a zap receipt; marked
//! with [`INTERNAL_PREIMAGE`], never shown); then the withdrawal is completed with no fee. Each
//! step is atomic and idempotent, so a crash between them is finished by the resume.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::config::WithdrawSettings;
use crate::events::{Events, Failed, LedgerEvent, Sent};
use crate::ledger::Backoff;
use crate::lightning::{
    CancelOutcome, LightningError, LightningNode, PaymentRequest, PaymentResult,
};
use crate::store::{
    CreditOutcome, Finish, FinishOutcome, Settlement, Store, WithdrawPayment, WithdrawStatus,
};
use crate::types::unix_now;

/// How long one `track_payment` call waits for a final state before asking again.
const TRACK_WAIT: Duration = Duration::from_secs(60);

/// How long after its reservation a withdrawal the node has never heard of may still be sent by
/// the process that reserved it. That process sends at once, and its one send attempt is bounded
/// by the node's call deadline; until this much time has passed, "never sent" may only mean "not
/// sent yet". With Redis, a process that starts resumes every pending withdrawal, including those
/// another process has just reserved: giving up on one early would refund money that is then
/// sent anyway.
const SEND_GRACE_SECS: u64 = 60;

pub use crate::store::withdraw::INTERNAL_PREIMAGE;

/// Hands reserved withdrawals to the payer task.
#[derive(Clone)]
pub struct Payer {
    tx: mpsc::UnboundedSender<WithdrawPayment>,
}

impl Payer {
    /// A payer handle and the receiving end for [`run`].
    pub fn channel() -> (Payer, mpsc::UnboundedReceiver<WithdrawPayment>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Payer { tx }, rx)
    }

    /// Queues a reserved withdrawal. If the payer is gone (shutting down), it stays pending in
    /// the store and is resumed on the next start.
    pub fn submit(&self, payment: WithdrawPayment) {
        if self.tx.send(payment).is_err() {
            tracing::warn!("withdrawal payer stopped; the payment resumes on the next start");
        }
    }
}

/// What the payer works with.
#[derive(Clone)]
pub struct PayerDeps {
    pub store: Arc<dyn Store>,
    pub node: Arc<dyn LightningNode>,
    pub settings: WithdrawSettings,
    /// Where a finished withdrawal is announced ([`LedgerEvent::Sent`] or `Failed`), and the
    /// payee's credit of an internal one ([`LedgerEvent::Received`]).
    pub events: Events,
}

/// Runs the payer until `shutdown`: resumes pending withdrawals, then pays new ones.
pub async fn run(
    deps: PayerDeps,
    mut jobs: mpsc::UnboundedReceiver<WithdrawPayment>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut running = JoinSet::new();
    let mut backoff = Backoff::default();
    loop {
        match deps.store.pending_withdrawals().await {
            Ok(pending) => {
                if !pending.is_empty() {
                    tracing::info!(count = pending.len(), "resuming pending withdrawals");
                }
                for p in pending {
                    running.spawn(settle(deps.clone(), p, true));
                }
                break;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot list pending withdrawals; retrying");
                tokio::select! {
                    () = tokio::time::sleep(backoff.next_delay()) => {}
                    _ = shutdown.changed() => return,
                }
            }
        }
    }
    loop {
        tokio::select! {
            job = jobs.recv() => match job {
                Some(p) => { running.spawn(settle(deps.clone(), p, false)); }
                None => break,
            },
            Some(_) = running.join_next(), if !running.is_empty() => {}
            _ = shutdown.changed() => break,
        }
    }
    // Outcomes still unknown stay pending in the store for the next start.
    running.shutdown().await;
}

/// Pays (or, when `resume`, tracks) one withdrawal to a final state and finishes it in the store.
async fn settle(deps: PayerDeps, payment: WithdrawPayment, resume: bool) {
    let hash = payment.payment_hash;
    let (finish, preimage) = if payment.internal {
        // Settled inside the ledger: no preimage was ever revealed.
        (settle_internal(&deps, &payment).await, None)
    } else {
        settle_external(&deps, &payment, resume).await
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
                    status = ?done.status, fee_msat = done.fee_msat.0, refund_msat = done.refund().0,
                    "withdrawal finished");
                announce(&deps.events, &done, preimage);
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

/// Announces a finished withdrawal on the ledger event broadcast.
fn announce(events: &Events, done: &WithdrawPayment, preimage: Option<[u8; 32]>) {
    let event = match done.status {
        WithdrawStatus::Pending => return,
        WithdrawStatus::Succeeded => LedgerEvent::Sent(Box::new(Sent {
            account_id: done.account_id.clone(),
            payment_hash: done.payment_hash,
            amount_msat: done.amount_msat,
            fee_msat: done.fee_msat,
            bolt11: done.bolt11.clone(),
            preimage: preimage.map(hex::encode),
            created_at: done.created_at,
            settled_at: done.finished_at.unwrap_or_else(unix_now),
        })),
        WithdrawStatus::Failed => LedgerEvent::Failed(Box::new(Failed {
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
    payment: &WithdrawPayment,
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
                fee_limit: payment.fee_reserve_msat,
                timeout_secs: deps.settings.payment_timeout_secs,
            };
            deps.node.pay_invoice(request).await.map(Some)
        };
        match answer {
            Ok(Some(PaymentResult::Succeeded { fee, preimage })) => {
                return (Finish::Succeeded { fee }, Some(preimage));
            }
            Ok(Some(PaymentResult::Failed(reason))) => return (Finish::Failed { reason }, None),
            // Not known to the node yet, but its sender may still be about to send it.
            Ok(None) if unix_now() < payment.created_at.saturating_add(SEND_GRACE_SECS) => {
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

/// The longest wait between two attempts to cancel an invoice paid inside the ledger.
const CANCEL_RETRY_MAX: Duration = Duration::from_secs(5);

/// A withdrawal to an invoice of this gateway moves money inside the ledger, one way for every
/// store: cancel on the node → [`Store::credit_settlement`] → finish. The cancel comes first
/// and must be confirmed (rule 3): an invoice credited inside the ledger while still payable on
/// the node could be paid over the network too, and that payer's money would be kept
/// uncredited. So a node that cannot be reached holds the withdrawal pending (retried with
/// backoff) until it answers. If the network paid the invoice first, the settlement follower
/// credits that payment and this withdrawal fails, refunded.
async fn settle_internal(deps: &PayerDeps, payment: &WithdrawPayment) -> Finish {
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
async fn credit_internal(deps: &PayerDeps, payment: &WithdrawPayment) -> Finish {
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
