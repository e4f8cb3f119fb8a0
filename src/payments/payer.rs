//! The withdrawal payer (LUD-03 §4, the service pays the wallet's invoice): a supervised task
//! that pays each reserved withdrawal and finishes it once in the store (success keeps the real
//! fee and refunds the rest of the reserve; failure refunds everything and gives the use back).
//! On start it resumes every withdrawal still pending (`TrackPaymentV2` on LND), so a gateway
//! stopped or killed mid-payment settles it on restart; and every process sweeps the pending
//! withdrawals periodically, taking over (under a lease, so one process at a time) those older
//! than `payments.stale_after_secs` that nobody works on, whatever happened to the request or the
//! process that reserved them. On shutdown, payments in flight are left pending in the store;
//! nothing is refunded while the outcome is unknown.
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

use std::collections::HashMap;

use crate::backoff::Backoff;
use crate::config::{PaymentSettings, WithdrawSettings};
use crate::events::{Events, Failed, LedgerEvent, Sent};
use crate::lightning::{
    CancelOutcome, LightningError, LightningNode, PaymentRequest, PaymentResult,
};
use crate::store::{
    CreditOutcome, Finish, FinishOutcome, Payment, PaymentStatus, Settlement, Store,
};
use crate::types::PaymentHash;
use crate::types::unix_now;

/// How long one `track_payment` call waits for a final state before asking again.
const TRACK_WAIT: Duration = Duration::from_secs(60);

// How long after its reservation a withdrawal the node has never heard of may still be sent by
// the process that reserved it is `payments.stale_after_secs`: that process sends at once, and
// its one send attempt is bounded by the node's call deadline; until then "never sent" may only
// mean "not sent yet". The first sweep at start resumes every pending withdrawal, including
// those another process has just reserved: giving up on one early would refund money that is
// then sent anyway.

pub use crate::store::withdraw::INTERNAL_PREIMAGE;

/// Hands reserved withdrawals to the payer task.
#[derive(Clone)]
pub struct Payer {
    tx: mpsc::UnboundedSender<Payment>,
}

impl Payer {
    /// A payer handle and the receiving end for [`run`].
    pub fn channel() -> (Payer, mpsc::UnboundedReceiver<Payment>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Payer { tx }, rx)
    }

    /// Queues a reserved withdrawal. If the payer is gone (shutting down), it stays pending in
    /// the store and is resumed on the next start.
    pub fn submit(&self, payment: Payment) {
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
    pub payments: PaymentSettings,
    pub metrics: crate::metrics::Metrics,
}

/// How long a payment's lease lasts unless renewed; it is renewed every third of that while the
/// payment is worked on, so a process that died gives its payments up within this time.
const LEASE_TTL: Duration = Duration::from_secs(15);

/// Runs the payer until `shutdown`: pays new withdrawals as they are submitted, and sweeps the
/// pending ones every `payments.sweep_interval` (the first sweep, at start, resumes every pending
/// withdrawal; later ones take those older than `payments.stale_after_secs`). Each payment is
/// worked on under its lease, so two processes never both send, track or finish one.
pub async fn run(
    deps: PayerDeps,
    mut jobs: mpsc::UnboundedReceiver<Payment>,
    mut shutdown: watch::Receiver<bool>,
) {
    let holder = hex::encode(rand::random::<[u8; 16]>());
    let mut running = JoinSet::new();
    let mut busy: HashMap<tokio::task::Id, PaymentHash> = HashMap::new();
    let mut sweep = tokio::time::interval(deps.payments.sweep_interval);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut first_sweep = true;
    let is_busy = |busy: &HashMap<tokio::task::Id, PaymentHash>, h: &PaymentHash| {
        busy.values().any(|b| b == h)
    };
    loop {
        tokio::select! {
            job = jobs.recv() => match job {
                Some(p) if !is_busy(&busy, &p.payment_hash) => {
                    let hash = p.payment_hash;
                    let task = running.spawn(work(deps.clone(), holder.clone(), p, false));
                    busy.insert(task.id(), hash);
                }
                Some(_) => {}
                None => break,
            },
            _ = sweep.tick() => match deps.store.pending_withdrawals().await {
                Ok(pending) => {
                    let now = unix_now();
                    let mut taken = 0;
                    for p in pending {
                        let stale =
                            p.created_at.saturating_add(deps.payments.stale_after_secs) <= now;
                        if (first_sweep || stale) && !is_busy(&busy, &p.payment_hash) {
                            let hash = p.payment_hash;
                            let task = running.spawn(work(deps.clone(), holder.clone(), p, true));
                            busy.insert(task.id(), hash);
                            taken += 1;
                        }
                    }
                    if taken > 0 {
                        tracing::info!(count = taken, "resuming pending withdrawals");
                    }
                    first_sweep = false;
                }
                Err(e) => tracing::warn!(error = %e, "cannot list pending withdrawals; the next sweep retries"),
            },
            Some(done) = running.join_next_with_id(), if !running.is_empty() => {
                let id = match done {
                    Ok((id, ())) => id,
                    Err(e) => e.id(),
                };
                busy.remove(&id);
            }
            _ = shutdown.changed() => break,
        }
    }
    // Outcomes still unknown stay pending in the store; their leases run out and the next
    // sweep, here or in another process, resumes them.
    running.shutdown().await;
}

/// Works on one payment under its lease: takes it (or leaves the payment to the process that
/// holds it), reads the payment again under the lease (another process may have finished it),
/// settles it while renewing the lease, and gives the lease up.
async fn work(deps: PayerDeps, holder: String, payment: Payment, resume: bool) {
    let hash = payment.payment_hash;
    match deps.store.lease_payment(&hash, &holder, LEASE_TTL).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::debug!(payment_hash = %hash, "another process works on this payment");
            return;
        }
        Err(e) => {
            tracing::warn!(error = %e, payment_hash = %hash, "cannot take the payment's lease; the sweep retries");
            return;
        }
    }
    match deps.store.withdrawal(&hash).await {
        Ok(Some(p)) if p.status == PaymentStatus::Pending => {
            tokio::select! {
                () = settle(&deps, p, resume) => {}
                () = keep_lease(&deps, &hash, &holder) => {
                    tracing::warn!(payment_hash = %hash, "lost the payment's lease; leaving it to the process that took it");
                }
            }
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %e, payment_hash = %hash, "cannot read the payment; the sweep retries");
        }
    }
    if let Err(e) = deps.store.release_payment(&hash, &holder).await {
        tracing::debug!(error = %e, payment_hash = %hash, "cannot release the payment's lease; it runs out");
    }
}

/// Renews the lease every third of its TTL; returns when it is lost (taken by another process,
/// or not renewed for two thirds of its TTL, after which another may take it).
async fn keep_lease(deps: &PayerDeps, hash: &PaymentHash, holder: &str) {
    let mut renewed = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(LEASE_TTL / 3).await;
        match deps.store.lease_payment(hash, holder, LEASE_TTL).await {
            Ok(true) => renewed = tokio::time::Instant::now(),
            Ok(false) => return,
            Err(e) if renewed.elapsed() >= LEASE_TTL * 2 / 3 => {
                tracing::warn!(error = %e, payment_hash = %hash, "cannot renew the payment's lease");
                return;
            }
            Err(_) => {}
        }
    }
}

/// Pays (or, when `resume`, tracks) one withdrawal to a final state and finishes it in the store.
async fn settle(deps: &PayerDeps, payment: Payment, resume: bool) {
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
                    status = ?done.status, fee_msat = done.fee_msat.0, refund_msat = done.refund().0,
                    "withdrawal finished");
                announce(&deps.events, &done, preimage);
                park_orphaned_refund(deps, &done).await;
                super::release_failed(&*deps.store, &done).await;
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
        deps.metrics.orphaned_msat.inc_by(refund.0);
        tracing::error!(account = %done.account_id, payment_hash = %done.payment_hash,
            amount_msat = refund.0,
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

/// The longest wait between two attempts to cancel an invoice paid inside the ledger.
const CANCEL_RETRY_MAX: Duration = Duration::from_secs(5);

/// A withdrawal to an invoice of this gateway moves money inside the ledger, one way for every
/// store: cancel on the node → [`Store::credit_settlement`] → finish. The cancel comes first
/// and must be confirmed (rule 3): an invoice credited inside the ledger while still payable on
/// the node could be paid over the network too, and that payer's money would be kept
/// uncredited. So a node that cannot be reached holds the withdrawal pending (retried with
/// backoff) until it answers. If the network paid the invoice first, the settlement follower
/// credits that payment and this withdrawal fails, refunded.
async fn settle_internal(deps: &PayerDeps, payment: &Payment) -> Finish {
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
