//! The gateway's NIP-57 part: whether an account takes zaps, checking a callback's zap request
//! (appendix D) before any invoice exists, the description hash of a zap invoice, and the receipt
//! status shown with a zap's ledger entry in the admin API.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::{Error, Gateway, Refusal};
use crate::domains::Domain;
use crate::nostr::nip57::{self, ZapRequest, ZapRequestError};
use crate::store::{Account, ReceiptStatus, Transaction, ZapJob};

/// NIP-57: the description hash of a zap invoice is sha256 of the zap request exactly as received.
pub fn description_hash(zap: &ZapRequest) -> [u8; 32] {
    Sha256::digest(zap.raw.as_bytes()).into()
}

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
    /// The zapper public key to announce for `account` (`nostrPubkey`), when it takes zaps: it has
    /// a nostr pubkey (the receipt's `p` tag names it) and its domain has a zapper key.
    pub fn zap_pubkey<'d>(&self, domain: &'d Domain, account: &Account) -> Option<&'d str> {
        account.nostr_pubkey.as_ref()?;
        domain.zapper_hex.as_deref()
    }

    /// Checks the callback's `nostr` parameter (still percent-encoded) for a zap of `amount` msat.
    pub(super) fn check_zap(
        &self,
        domain: &Domain,
        account: &Account,
        raw: &str,
        amount: u64,
    ) -> Result<ZapRequest, Error> {
        let refuse = |e: ZapRequestError| Error::from(Refusal::Zap(e));
        if self.zap_pubkey(domain, account).is_none() {
            return Err(refuse(ZapRequestError::NotAccepted));
        }
        let recipient = account
            .nostr_pubkey
            .as_ref()
            .ok_or_else(|| refuse(ZapRequestError::NotAccepted))?;
        nip57::check_param(raw, amount, recipient.as_hex()).map_err(refuse)
    }

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
