//! The gateway's NIP-57 part: the receipt status shown with a zap's ledger entry in the admin API.
//! (Whether an account takes zaps and checking a callback's zap request are `invoices`'.)

use serde::Serialize;

use super::{Error, Gateway};
use crate::store::{ReceiptStatus, Transaction, ZapJob};

/// A ledger entry as the admin API shows it: the entry, and for a zap its receipt's progress.
#[derive(Debug, Serialize)]
pub struct TransactionView {
    #[serde(flatten)]
    pub tx: Transaction,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zap_receipt: Option<ReceiptView>,
}

/// A zap receipt's progress (NIP-57 appendix E).
#[derive(Debug, Serialize)]
pub struct ReceiptView {
    pub status: ReceiptStatus,
    pub event_id: Option<String>,
    pub relays_ok: Vec<String>,
    /// Relays not (yet) accepting it, with the last error.
    pub relays_pending: Vec<RelayView>,
}

impl ReceiptView {
    /// The view of a receipt job.
    pub fn of(job: ZapJob) -> Self {
        ReceiptView {
            status: job.status,
            relays_ok: job.relays_ok(),
            relays_pending: job
                .relays
                .iter()
                .filter(|r| !r.ok)
                .map(|r| RelayView {
                    url: r.url.clone(),
                    attempts: r.attempts,
                    last_error: r.last_error.clone(),
                })
                .collect(),
            event_id: job.event_id,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct RelayView {
    pub url: String,
    pub attempts: u32,
    pub last_error: Option<String>,
}

impl Gateway {
    /// The account's ledger, newest first, with each zap's receipt status.
    pub async fn transactions_with_receipts(
        &self,
        address: &crate::types::LightningAddress,
        limit: usize,
    ) -> Result<Vec<TransactionView>, Error> {
        let txs = self.transactions(address, limit).await?;
        let mut out = Vec::with_capacity(txs.len());
        for tx in txs {
            let zap_receipt = if tx.zap {
                self.store
                    .zap_job(&tx.payment_hash)
                    .await?
                    .map(ReceiptView::of)
            } else {
                None
            };
            out.push(TransactionView { tx, zap_receipt });
        }
        Ok(out)
    }
}
