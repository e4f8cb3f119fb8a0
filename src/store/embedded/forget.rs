//! Forgetting unpaid invoices in the embedded store: an index `(expires_at, hash)` written with
//! each invoice lets the sweep find expired ones without reading every record. The sweep
//! ([`crate::ledger::forget`]) asks the node before it forgets one; here, forgetting checks once
//! more, in the write transaction, that the invoice is still unpaid.

use redb::{ReadableTable, TableDefinition, WriteTransaction};

use super::{INVOICES, META, decode};
use crate::store::{InvoiceRecord, StoreError};
use crate::types::PaymentHash;

/// `(expires_at, payment hash)` of every invoice not yet forgotten or found paid by the sweep.
pub(super) const EXPIRY: TableDefinition<(u64, &[u8]), ()> = TableDefinition::new("invoice_expiry");
/// Set once the index holds the invoices written before it existed.
const BACKFILLED: &str = "invoice_expiry/backfilled";

/// Creates the index and, the first time, fills it from the unpaid invoices already stored.
pub(super) fn create(tx: &WriteTransaction) -> Result<(), StoreError> {
    let mut index = tx.open_table(EXPIRY).map_err(StoreError::backend)?;
    let mut meta = tx.open_table(META).map_err(StoreError::backend)?;
    if meta.get(BACKFILLED).map_err(StoreError::backend)?.is_some() {
        return Ok(());
    }
    let invoices = tx.open_table(INVOICES).map_err(StoreError::backend)?;
    for entry in invoices.iter().map_err(StoreError::backend)? {
        let (key, value) = entry.map_err(StoreError::backend)?;
        let record: InvoiceRecord = decode(value.value())?;
        if record.settled.is_none() {
            index
                .insert((record.expires_at, key.value()), ())
                .map_err(StoreError::backend)?;
        }
    }
    meta.insert(BACKFILLED, [1u8].as_slice())
        .map_err(StoreError::backend)?;
    Ok(())
}

/// Indexes a new invoice by its expiry.
pub(super) fn index(tx: &WriteTransaction, invoice: &InvoiceRecord) -> Result<(), StoreError> {
    tx.open_table(EXPIRY)
        .map_err(StoreError::backend)?
        .insert((invoice.expires_at, invoice.payment_hash.0.as_slice()), ())
        .map_err(StoreError::backend)?;
    Ok(())
}

/// Up to `limit` indexed invoices that expired before `before`, oldest first.
pub(super) fn expired(
    index: &impl ReadableTable<(u64, &'static [u8]), ()>,
    before: u64,
    limit: usize,
) -> Result<Vec<PaymentHash>, StoreError> {
    let mut out = Vec::new();
    let range = index
        .range((0u64, [].as_slice())..(before, [].as_slice()))
        .map_err(StoreError::backend)?;
    for entry in range.take(limit) {
        let (key, ()) = entry
            .map(|(k, v)| (k, v.value()))
            .map_err(StoreError::backend)?;
        let (_, hash) = key.value();
        if let Ok(hash) = <[u8; 32]>::try_from(hash) {
            out.push(PaymentHash(hash));
        }
    }
    Ok(out)
}

/// Removes the invoice `hash` if it is still unpaid (and its index entry in any case).
pub(super) fn forget(tx: &WriteTransaction, hash: &PaymentHash) -> Result<bool, StoreError> {
    let mut invoices = tx.open_table(INVOICES).map_err(StoreError::backend)?;
    let record: Option<InvoiceRecord> = match invoices
        .get(hash.0.as_slice())
        .map_err(StoreError::backend)?
    {
        Some(v) => Some(decode(v.value())?),
        None => None,
    };
    let Some(record) = record else {
        return Ok(false);
    };
    tx.open_table(EXPIRY)
        .map_err(StoreError::backend)?
        .remove((record.expires_at, hash.0.as_slice()))
        .map_err(StoreError::backend)?;
    if record.settled.is_some() {
        return Ok(false);
    }
    invoices
        .remove(hash.0.as_slice())
        .map_err(StoreError::backend)?;
    Ok(true)
}
