//! Forgetting unpaid invoices (issue #12, item 10): every callback records an invoice (with up to
//! 4 KiB of zap request), and most are never paid. An unpaid invoice is forgotten
//! `store.forget_unpaid_after_secs` after it expired; a paid one is kept with everything the
//! ledger and LUD-21 verify need.
//!
//! What this relies on: once an invoice has expired the node will not settle it. LND refuses
//! HTLCs for an expired invoice and its invoice registry cancels expired open invoices, and the
//! fake node does the same. So after expiry only a settlement made *before* expiry can still
//! arrive, and the follower must credit it before the invoice is forgotten:
//! - the embedded store's sweep (below) asks the node first and forgets only what the node
//!   reports cancelled (or does not know); an invoice the node reports settled is left for the
//!   follower, and one still open (clocks apart) is looked at again next round;
//! - Redis forgets by key expiry at the same time, without asking: the follower has
//!   `forget_unpaid_after_secs` (at least an hour, a day by default) to credit a settlement made
//!   just before expiry. A gateway stopped longer than that should raise it before restarting.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::lightning::{InvoiceState, LightningNode};
use crate::store::{Store, StoreError};
use crate::types::unix_now;

/// How often the sweep runs.
pub const SWEEP_EVERY: Duration = Duration::from_secs(600);
/// Invoices looked at per round at most.
const BATCH: usize = 500;

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    /// Unpaid invoices removed.
    pub forgotten: usize,
    /// Left for now: the node reports them settled (the follower credits them) or still open.
    pub kept: usize,
}

/// One round: forgets the unpaid invoices that expired more than `forget_after_secs` before `now`
/// and that the node will never settle.
pub async fn sweep_once(
    store: &dyn Store,
    node: &dyn LightningNode,
    forget_after_secs: u64,
    now: u64,
) -> Result<SweepReport, StoreError> {
    let before = now.saturating_sub(forget_after_secs);
    let mut report = SweepReport::default();
    for hash in store.expired_unpaid_invoices(before, BATCH).await? {
        // Credited meanwhile: nothing to ask the node; this only drops it from the sweep's list.
        if store
            .invoice(&hash)
            .await?
            .is_none_or(|i| i.settled.is_some())
        {
            store.forget_unpaid_invoice(&hash).await?;
            continue;
        }
        let state = match node.lookup_invoice(&hash).await {
            Ok(found) => found.map(|i| i.state),
            Err(e) => {
                tracing::debug!(error = %e, "node unavailable; invoice sweep stops for this round");
                break;
            }
        };
        match state {
            Some(InvoiceState::Canceled) | None => {
                if store.forget_unpaid_invoice(&hash).await? {
                    report.forgotten += 1;
                }
            }
            Some(InvoiceState::Settled) => {
                tracing::warn!(payment_hash = %hash, "expired invoice settled on the node but not credited yet; kept");
                report.kept += 1;
            }
            Some(InvoiceState::Open) => report.kept += 1,
        }
    }
    if report.forgotten > 0 {
        tracing::info!(
            forgotten = report.forgotten,
            kept = report.kept,
            "unpaid invoices forgotten"
        );
    }
    Ok(report)
}

/// Sweeps every [`SWEEP_EVERY`] until `shutdown` turns true.
pub async fn run(
    store: Arc<dyn Store>,
    node: Arc<dyn LightningNode>,
    forget_after_secs: u64,
    mut shutdown: watch::Receiver<bool>,
) {
    while !*shutdown.borrow() {
        loop {
            match sweep_once(store.as_ref(), node.as_ref(), forget_after_secs, unix_now()).await {
                // A full batch: there may be more.
                Ok(report) if report.forgotten + report.kept >= BATCH && report.forgotten > 0 => {}
                Ok(_) => break,
                Err(e) => {
                    tracing::debug!(error = %e, "invoice sweep failed; next round");
                    break;
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep(SWEEP_EVERY) => {}
            _ = shutdown.changed() => return,
        }
    }
}
