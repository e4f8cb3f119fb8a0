//! The embedded store's zap receipt outbox (NIP-57 appendix E): jobs in `zap_jobs` (payment hash →
//! [`ZapJob`] JSON) and a due index `zap_due` ((due ms, payment hash) → ()). A claimed job's due time
//! is moved to the end of its lease, so an expired lease makes it due again without a sweep. redb
//! runs one write transaction at a time, which makes claims exclusive.

use async_trait::async_trait;
use redb::{ReadableTable, TableDefinition, WriteTransaction};

use super::{EmbeddedStore, decode, encode};
use crate::store::outbox::{ZapJob, ZapOutbox};
use crate::store::{InvoiceRecord, Settlement, StoreError};
use crate::types::PaymentHash;

pub(super) const ZAP_JOBS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("zap_jobs");
pub(super) const ZAP_DUE: TableDefinition<(u64, &[u8]), ()> = TableDefinition::new("zap_due");

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
    if invoice.zap_request.is_none() {
        return Ok(());
    }
    let key = invoice.payment_hash.0;
    let mut jobs = tx.open_table(ZAP_JOBS).map_err(StoreError::backend)?;
    if jobs
        .get(key.as_slice())
        .map_err(StoreError::backend)?
        .is_some()
    {
        return Ok(());
    }
    let job = ZapJob::new(
        invoice.payment_hash,
        invoice.account_id.clone(),
        settled.settled_at.saturating_mul(1000),
    );
    jobs.insert(key.as_slice(), encode(&job)?.as_slice())
        .map_err(StoreError::backend)?;
    let mut due = tx.open_table(ZAP_DUE).map_err(StoreError::backend)?;
    due.insert((job.due_at_ms, key.as_slice()), ())
        .map_err(StoreError::backend)?;
    Ok(())
}

fn read_job(
    jobs: &impl ReadableTable<&'static [u8], &'static [u8]>,
    key: &[u8],
) -> Result<Option<ZapJob>, StoreError> {
    match jobs.get(key).map_err(StoreError::backend)? {
        Some(v) => Ok(Some(decode(v.value())?)),
        None => Ok(None),
    }
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
        // Most polls find nothing: look in a read transaction first, so an idle outbox costs no
        // write (and no fsync).
        let anything_due = self
            .read(move |tx| {
                let due = tx.open_table(ZAP_DUE).map_err(StoreError::backend)?;
                match due.first().map_err(StoreError::backend)? {
                    Some((k, _)) => Ok(k.value().0 <= now_ms),
                    None => Ok(false),
                }
            })
            .await?;
        if !anything_due {
            return Ok(Vec::new());
        }
        let owner = owner.to_string();
        self.write(move |tx| {
            let mut due = tx.open_table(ZAP_DUE).map_err(StoreError::backend)?;
            let mut jobs = tx.open_table(ZAP_JOBS).map_err(StoreError::backend)?;
            let mut picked: Vec<(u64, Vec<u8>)> = Vec::new();
            for entry in due
                .range((0u64, [].as_slice())..)
                .map_err(StoreError::backend)?
                .take(limit)
            {
                let (k, _) = entry.map_err(StoreError::backend)?;
                let (at, hash) = k.value();
                if at > now_ms {
                    break;
                }
                picked.push((at, hash.to_vec()));
            }
            let until = now_ms.saturating_add(lease_ms);
            let mut out = Vec::new();
            for (at, hash) in picked {
                due.remove((at, hash.as_slice()))
                    .map_err(StoreError::backend)?;
                let Some(mut job) = read_job(&jobs, &hash)? else {
                    continue;
                };
                job.lease_owner = Some(owner.clone());
                job.due_at_ms = until;
                jobs.insert(hash.as_slice(), encode(&job)?.as_slice())
                    .map_err(StoreError::backend)?;
                due.insert((until, hash.as_slice()), ())
                    .map_err(StoreError::backend)?;
                out.push(job);
            }
            Ok(out)
        })
        .await
    }

    async fn save_zap_job(&self, owner: &str, job: &ZapJob) -> Result<bool, StoreError> {
        let owner = owner.to_string();
        let job = job.clone();
        self.write(move |tx| {
            let mut job = job.clone();
            let key = job.payment_hash.0;
            let mut jobs = tx.open_table(ZAP_JOBS).map_err(StoreError::backend)?;
            let Some(stored) = read_job(&jobs, &key)? else {
                return Ok(false);
            };
            if stored.lease_owner.as_deref() != Some(owner.as_str()) {
                return Ok(false);
            }
            let mut due = tx.open_table(ZAP_DUE).map_err(StoreError::backend)?;
            // While leased, the job's entry in the due index sits at its lease end.
            due.remove((stored.due_at_ms, key.as_slice()))
                .map_err(StoreError::backend)?;
            job.lease_owner = None;
            if !job.done {
                due.insert((job.due_at_ms, key.as_slice()), ())
                    .map_err(StoreError::backend)?;
            }
            jobs.insert(key.as_slice(), encode(&job)?.as_slice())
                .map_err(StoreError::backend)?;
            Ok(true)
        })
        .await
    }

    async fn zap_job(&self, hash: &PaymentHash) -> Result<Option<ZapJob>, StoreError> {
        let key = hash.0;
        self.read(move |tx| {
            let jobs = tx.open_table(ZAP_JOBS).map_err(StoreError::backend)?;
            read_job(&jobs, &key)
        })
        .await
    }
}
