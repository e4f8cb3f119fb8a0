//! The zap receipt outbox as an operator sees it (admin `GET /api/v1/zap-receipts`): each paid
//! zap of the accounts that take zaps, newest first, with its receipt's progress (pending,
//! published or failed, and each relay's last error). Read from the ledger and the receipt jobs
//! the store already keeps, so it needs no index of its own; it reads the recent ledger of every
//! account with a nostr key, so it is meant for an operator's console, not for polling at scale.

use serde::Serialize;

use super::{Error, Gateway, ReceiptView};
use crate::types::{DomainName, Msat, PaymentHash};

/// One paid zap and its receipt.
#[derive(Debug, Serialize)]
pub struct OutboxEntry {
    pub address: String,
    pub payment_hash: PaymentHash,
    pub amount_msat: Msat,
    /// When the zap was paid (Unix seconds).
    pub created_at: u64,
    /// `None` while the receipt job is not written yet.
    pub receipt: Option<ReceiptView>,
}

impl Gateway {
    /// The paid zaps of `domain` (or of every domain), the last `per_account` ledger entries of
    /// each account looked at, newest first.
    pub async fn zap_outbox(
        &self,
        domain: Option<&DomainName>,
        per_account: usize,
    ) -> Result<Vec<OutboxEntry>, Error> {
        let accounts = self.store.list_accounts(domain).await?;
        let mut out = Vec::new();
        for account in accounts.iter().filter(|a| a.nostr_pubkey.is_some()) {
            let txs = self.store.transactions(&account.id, per_account).await?;
            for tx in txs.into_iter().filter(|t| t.zap) {
                let receipt = self
                    .store
                    .zap_job(&tx.payment_hash)
                    .await?
                    .map(ReceiptView::of);
                out.push(OutboxEntry {
                    address: account.address(),
                    payment_hash: tx.payment_hash,
                    amount_msat: tx.amount_msat,
                    created_at: tx.created_at,
                    receipt,
                });
            }
        }
        out.sort_by_key(|e| std::cmp::Reverse(e.created_at));
        Ok(out)
    }
}
