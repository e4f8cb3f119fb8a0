//! The embedded store's zap receipt outbox (NIP-57 appendix E): jobs in `zap_jobs` (payment hash →
//! [`ZapJob`] JSON) and a due index `zap_due` ((due ms, payment hash) → ()). A claimed job's due time
//! is moved to the end of its lease, so an expired lease makes it due again without a sweep. redb
//! runs one write transaction at a time, which makes claims exclusive (the lease rules are
//! [`super::leased`]'s).

use async_trait::async_trait;
use redb::{ReadableTable, TableDefinition, WriteTransaction};

use super::leased::Outbox;
use super::{EmbeddedStore, encode};
use crate::store::outbox::{ZapJob, ZapOutbox};
use crate::store::{InvoiceRecord, Settlement, StoreError};
use crate::types::PaymentHash;

pub(super) const ZAP_JOBS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("zap_jobs");
pub(super) const ZAP_DUE: TableDefinition<(u64, &[u8]), ()> = TableDefinition::new("zap_due");

/// The zap receipt jobs as a leased outbox.
const OUTBOX: Outbox<Vec<u8>> = Outbox {
    jobs: ZAP_JOBS,
    due: ZAP_DUE,
};

/// Creates the outbox tables (at open).
pub(super) fn create_tables(tx: &WriteTransaction) -> Result<(), StoreError> {
    tx.open_table(ZAP_JOBS).map_err(StoreError::backend)?;
    tx.open_table(ZAP_DUE).map_err(StoreError::backend)?;
    Ok(())
}

/// Inside `credit_settlement`'s transaction: queues the receipt job of a zap invoice, once.
pub(super) fn enqueue_on_credit(
    tx: &WriteTransaction,
    invoice: &InvoiceRecord,
    settled: &Settlement,
) -> Result<(), StoreError> {
    let Some(job) = ZapJob::on_credit(invoice, settled) else {
        return Ok(());
    };
    let key = invoice.payment_hash.0;
    let mut jobs = tx.open_table(ZAP_JOBS).map_err(StoreError::backend)?;
    if jobs
        .get(key.as_slice())
        .map_err(StoreError::backend)?
        .is_some()
    {
        return Ok(());
    }
    jobs.insert(key.as_slice(), encode(&job)?.as_slice())
        .map_err(StoreError::backend)?;
    let mut due = tx.open_table(ZAP_DUE).map_err(StoreError::backend)?;
    due.insert((job.due_at_ms, key.as_slice()), ())
        .map_err(StoreError::backend)?;
    Ok(())
}

#[async_trait]
impl ZapOutbox for EmbeddedStore {
    async fn claim_zap_jobs(
        &self,
        owner: &str,
        now_ms: u64,
        lease_ms: u64,
        limit: usize,
    ) -> Result<Vec<ZapJob>, StoreError> {
        if !self.read(move |tx| OUTBOX.anything_due(tx, now_ms)).await? {
            return Ok(Vec::new());
        }
        let owner = owner.to_string();
        self.write(move |tx| OUTBOX.claim(tx, &owner, now_ms, lease_ms, limit))
            .await
    }

    async fn save_zap_job(&self, owner: &str, job: &ZapJob) -> Result<bool, StoreError> {
        let owner = owner.to_string();
        let job = job.clone();
        self.write(move |tx| {
            let key = job.payment_hash.0.to_vec();
            Ok(OUTBOX.save(tx, &key, &owner, &job)?.is_some())
        })
        .await
    }

    async fn zap_job(&self, hash: &PaymentHash) -> Result<Option<ZapJob>, StoreError> {
        let key = hash.0;
        self.read(move |tx| {
            let jobs = tx.open_table(ZAP_JOBS).map_err(StoreError::backend)?;
            OUTBOX.read(&jobs, &key.to_vec())
        })
        .await
    }
}
