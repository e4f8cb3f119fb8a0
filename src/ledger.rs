//! Money rules for incoming payments: the settlement follower. It subscribes to the node's settled
//! invoices from the saved settle cursor and credits each payment hash exactly once
//! ([`Store::credit_settlement`] is idempotent), then moves the cursor. A crash between the two
//! replays the settlement on restart, which credits nothing twice; nothing settled while the gateway
//! was down is missed, because the node replays everything after the cursor. Each credit made
//! here is announced once on the in-process [`Events`] broadcast. Where each subscription starts
//! (the node's identity, a restored node, the replay window) is [`cursor`]; unpaid invoices are
//! forgotten after their expiry by [`forget`].

pub mod cursor;
pub mod forget;

use std::sync::Arc;

use futures_util::StreamExt;
use tokio::sync::{Notify, watch};

use crate::backoff::Backoff;
use crate::events::{Events, LedgerEvent, Received};
use crate::lightning::LightningNode;
use crate::metrics::Metrics;
use crate::store::{CreditOutcome, Settlement, Store, StoreError};

/// Credits one settlement and advances the cursor past it.
pub async fn apply_settlement(
    store: &dyn Store,
    node_id: &str,
    settlement: &Settlement,
    metrics: &Metrics,
) -> Result<CreditOutcome, StoreError> {
    let outcome = store.credit_settlement(settlement).await?;
    match &outcome {
        CreditOutcome::Credited {
            account_id,
            balance,
        } => {
            metrics.invoices_settled.inc();
            tracing::info!(account = %account_id, payment_hash = %settlement.payment_hash,
                amount_msat = settlement.amount_paid_msat.msat(), balance_msat = balance.msat(), "payment credited");
        }
        CreditOutcome::AlreadyCredited => {
            tracing::debug!(payment_hash = %settlement.payment_hash, "settlement replayed, already credited");
        }
        CreditOutcome::UnknownInvoice => {
            tracing::debug!(payment_hash = %settlement.payment_hash, "settlement of an invoice not issued here");
        }
        CreditOutcome::AccountGone => {
            // Parked, never dropped silently: the operator sees the metric and this line.
            metrics
                .orphaned_msat
                .inc_by(settlement.amount_paid_msat.msat());
            tracing::error!(payment_hash = %settlement.payment_hash,
                amount_msat = settlement.amount_paid_msat.msat(),
                "ORPHANED: a payment arrived for a removed account; not credited, counted in lnaddr_orphaned_msat_total");
        }
    }
    store
        .advance_settle_cursor(node_id, settlement.settle_index)
        .await?;
    Ok(outcome)
}

/// After a credit: when it queued a zap receipt (NIP-57), count it and wake the publisher.
async fn wake_for_zap(
    store: &dyn Store,
    settlement: &Settlement,
    outcome: &CreditOutcome,
    metrics: &Metrics,
    zap_wake: &Notify,
) {
    if !matches!(outcome, CreditOutcome::Credited { .. }) {
        return;
    }
    match store.zap_job(&settlement.payment_hash).await {
        Ok(Some(_)) => {
            metrics.zap_receipts_queued.inc();
            zap_wake.notify_one();
        }
        Ok(None) => {}
        // The publisher's poll finds the job anyway.
        Err(e) => tracing::debug!(error = %e, "cannot look up a zap receipt job"),
    }
}

/// After a credit: announces it ([`LedgerEvent::Received`]) with what the invoice recorded.
pub async fn announce_credit(
    store: &dyn Store,
    settlement: &Settlement,
    outcome: &CreditOutcome,
    events: &Events,
) {
    let CreditOutcome::Credited { account_id, .. } = outcome else {
        return;
    };
    if !events.has_subscribers() {
        return;
    }
    let invoice = match store.invoice(&settlement.payment_hash).await {
        Ok(Some(invoice)) => invoice,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, payment_hash = %settlement.payment_hash, "cannot read a credited invoice; no event");
            return;
        }
    };
    events.emit(LedgerEvent::Received(Box::new(Received {
        account_id: account_id.clone(),
        payment_hash: settlement.payment_hash,
        amount_msat: settlement.amount_paid_msat,
        bolt11: invoice.bolt11,
        preimage: hex::encode(settlement.preimage),
        comment: invoice.comment,
        payer_data: invoice.payer_data,
        zap_request: invoice.zap_request,
        created_at: invoice.created_at,
        expires_at: invoice.expires_at,
        settled_at: settlement.settled_at,
    })));
}

/// Follows the node's settlements until `shutdown` turns true. A settlement being applied when the
/// signal comes is finished first. `zap_wake` is notified when a credit queues a zap receipt.
/// Every (re)subscription starts `replay_window` settle indices behind the saved cursor.
pub async fn follow_settlements(
    store: Arc<dyn Store>,
    node: Arc<dyn LightningNode>,
    metrics: Metrics,
    zap_wake: Arc<Notify>,
    events: Events,
    replay_window: u64,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backoff = Backoff::default();
    while !*shutdown.borrow() {
        let subscribed =
            match cursor::resume_point(store.as_ref(), node.as_ref(), replay_window).await {
                Ok(resume) => node
                    .subscribe_settlements(resume.after)
                    .await
                    .map(|stream| (resume.node_key, stream))
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
        match subscribed {
            Ok((node_id, mut stream)) => loop {
                let item = tokio::select! {
                    item = stream.next() => item,
                    _ = shutdown.changed() => return,
                };
                match item {
                    Some(Ok(settlement)) => {
                        match apply_settlement(store.as_ref(), &node_id, &settlement, &metrics)
                            .await
                        {
                            Ok(outcome) => {
                                wake_for_zap(
                                    store.as_ref(),
                                    &settlement,
                                    &outcome,
                                    &metrics,
                                    &zap_wake,
                                )
                                .await;
                                announce_credit(store.as_ref(), &settlement, &outcome, &events)
                                    .await;
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, payment_hash = %settlement.payment_hash, "could not credit; resubscribing");
                                break;
                            }
                        }
                        backoff.reset();
                    }
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "settlement stream failed; resubscribing");
                        break;
                    }
                    None => {
                        tracing::info!("settlement stream ended; resubscribing");
                        break;
                    }
                }
            },
            Err(e) => tracing::warn!(error = %e, "cannot subscribe to settlements"),
        }
        let wait = backoff.next_delay();
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return,
        }
    }
}
