//! The fake node's records in `fake-node.redb`, kept the way LND keeps its invoices: by payment
//! hash, with `add_index` and `settle_index` counters that only grow, and a settle-index table
//! that replays settlements in order.

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::lightning::LightningError;
use crate::lightning::Settlement;
use crate::types::{Msat, PaymentHash};

pub(super) const INVOICES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("invoices");
pub(super) const SETTLED: TableDefinition<u64, &[u8]> = TableDefinition::new("settled");
pub(super) const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");

/// One invoice as the fake node keeps it (JSON in the invoice table, keyed by payment hash).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct FakeInvoice {
    pub bolt11: String,
    pub preimage: String,
    pub amount_msat: u64,
    pub add_index: u64,
    pub settle_index: u64,
    pub amount_paid_msat: u64,
    pub expires_at: u64,
    pub settled_at: u64,
    /// Cancelled by `cancel_invoice`; absent in records written before cancelling existed.
    #[serde(default)]
    pub canceled: bool,
}

/// The record of invoice `hash`, from a read or a write handle of the invoice table.
pub(super) fn get_record(
    invoices: &impl ReadableTable<&'static [u8], &'static [u8]>,
    hash: &[u8; 32],
) -> Result<Option<FakeInvoice>, LightningError> {
    match invoices
        .get(hash.as_slice())
        .map_err(LightningError::unavailable)?
    {
        Some(v) => serde_json::from_slice(v.value())
            .map(Some)
            .map_err(|e| LightningError::Protocol(e.to_string())),
        None => Ok(None),
    }
}

pub(super) fn put_record(
    tx: &redb::WriteTransaction,
    hash: &[u8; 32],
    record: &FakeInvoice,
) -> Result<(), LightningError> {
    let bytes = serde_json::to_vec(record).map_err(|e| LightningError::Protocol(e.to_string()))?;
    tx.open_table(INVOICES)
        .map_err(LightningError::unavailable)?
        .insert(hash.as_slice(), bytes.as_slice())
        .map_err(LightningError::unavailable)?;
    Ok(())
}

/// Moves LND-style counter `name` (`add_index`, `settle_index`) on by one and answers the new value.
pub(super) fn next_index(tx: &redb::WriteTransaction, name: &str) -> Result<u64, LightningError> {
    let mut counters = tx
        .open_table(COUNTERS)
        .map_err(LightningError::unavailable)?;
    let index = counters
        .get(name)
        .map_err(LightningError::unavailable)?
        .map_or(0, |v| v.value())
        + 1;
    counters
        .insert(name, index)
        .map_err(LightningError::unavailable)?;
    Ok(index)
}

pub(super) fn to_settlement(
    hash: [u8; 32],
    record: &FakeInvoice,
) -> Result<Settlement, LightningError> {
    let mut preimage = [0u8; 32];
    hex::decode_to_slice(&record.preimage, &mut preimage)
        .map_err(|e| LightningError::Protocol(e.to_string()))?;
    Ok(Settlement {
        payment_hash: PaymentHash(hash),
        preimage,
        amount_paid_msat: Msat::from_msat(record.amount_paid_msat),
        settle_index: record.settle_index,
        settled_at: record.settled_at,
    })
}

/// Settled invoices with a settle index above `after`, in settle order.
pub(super) fn settled_after(db: &Database, after: u64) -> Result<Vec<Settlement>, LightningError> {
    let tx = db.begin_read().map_err(LightningError::unavailable)?;
    let settled = tx
        .open_table(SETTLED)
        .map_err(LightningError::unavailable)?;
    let invoices = tx
        .open_table(INVOICES)
        .map_err(LightningError::unavailable)?;
    let mut out = Vec::new();
    for entry in settled
        .range(after.saturating_add(1)..)
        .map_err(LightningError::unavailable)?
    {
        let (_, hash) = entry.map_err(LightningError::unavailable)?;
        let hash: [u8; 32] = hash
            .value()
            .try_into()
            .map_err(|_| LightningError::Protocol("bad hash".into()))?;
        if let Some(record) = get_record(&invoices, &hash)? {
            out.push(to_settlement(hash, &record)?);
        }
    }
    Ok(out)
}
