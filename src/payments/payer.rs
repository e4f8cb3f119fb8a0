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
//! This file is the task, the sweep and the lease; `settle` takes one payment to its final state
//! and finishes it; an invoice issued by this gateway is settled inside the ledger, never by the
//! node (`internal`).

mod internal;
mod settle;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use std::collections::HashMap;

use crate::config::{PaymentSettings, WithdrawSettings};
use crate::events::Events;
use crate::lightning::LightningNode;
use crate::store::{Payment, PaymentStatus, Store};
use crate::types::PaymentHash;
use crate::types::unix_now;

use settle::settle;

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
    /// Where a finished withdrawal is announced
    /// ([`LedgerEvent::Sent`](crate::events::LedgerEvent::Sent) or `Failed`), and the payee's
    /// credit of an internal one ([`LedgerEvent::Received`](crate::events::LedgerEvent::Received)).
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
