//! The embedded store's webhooks: registrations in `webhooks` (id → [`Webhook`] JSON), delivery
//! jobs in `webhook_jobs` (event id → [`DeliveryJob`] JSON), a due index `webhook_due` ((due ms,
//! event id) → ()) and an age index `webhook_age` ((queued ms, event id) → ()) of unfinished jobs.
//! Like the zap outbox, a claimed job's due entry moves to the end of its lease, so an expired
//! lease makes it due again without a sweep; redb's single writer makes claims exclusive.

use async_trait::async_trait;
use redb::{ReadableTable, ReadableTableMetadata, TableDefinition, WriteTransaction};

use super::leased::Outbox;
use super::{EmbeddedStore, decode, encode};
use crate::store::webhooks::{DeliveryJob, QueueStats, Webhook, WebhookStore};
use crate::store::{Account, AccountId, InvoiceRecord, Settlement, StoreError};

pub(super) const WEBHOOKS: TableDefinition<&str, &[u8]> = TableDefinition::new("webhooks");
pub(super) const JOBS: TableDefinition<&str, &[u8]> = TableDefinition::new("webhook_jobs");
pub(super) const DUE: TableDefinition<(u64, &str), ()> = TableDefinition::new("webhook_due");
pub(super) const AGE: TableDefinition<(u64, &str), ()> = TableDefinition::new("webhook_age");

/// The delivery jobs as a leased outbox.
const OUTBOX: Outbox<String> = Outbox {
    jobs: JOBS,
    due: DUE,
};

/// Creates the tables (at open).
pub(super) fn create_tables(tx: &WriteTransaction) -> Result<(), StoreError> {
    tx.open_table(WEBHOOKS).map_err(StoreError::backend)?;
    tx.open_table(JOBS).map_err(StoreError::backend)?;
    tx.open_table(DUE).map_err(StoreError::backend)?;
    tx.open_table(AGE).map_err(StoreError::backend)?;
    Ok(())
}

/// Inside `credit_settlement`'s transaction: queues the `payment.received` event, once.
pub(super) fn enqueue_on_credit(
    tx: &WriteTransaction,
    invoice: &InvoiceRecord,
    settled: &Settlement,
    account: &Account,
) -> Result<(), StoreError> {
    enqueue(tx, &DeliveryJob::on_credit(invoice, settled, account))
}

/// Inside `finish_withdrawal`'s transaction: queues `payment.sent` or `payment.failed`, once.
pub(super) fn enqueue_on_finish(
    tx: &WriteTransaction,
    outgoing: &crate::store::webhooks::Outgoing,
    account: &Account,
) -> Result<(), StoreError> {
    enqueue(tx, &DeliveryJob::on_finish(outgoing, account))
}

/// Queues `job` unless a job for its event exists.
pub(super) fn enqueue(tx: &WriteTransaction, job: &DeliveryJob) -> Result<(), StoreError> {
    let id = job.event.id.as_str();
    let mut jobs = tx.open_table(JOBS).map_err(StoreError::backend)?;
    if jobs.get(id).map_err(StoreError::backend)?.is_some() {
        return Ok(());
    }
    jobs.insert(id, encode(job)?.as_slice())
        .map_err(StoreError::backend)?;
    let mut due = tx.open_table(DUE).map_err(StoreError::backend)?;
    due.insert((job.due_at_ms, id), ())
        .map_err(StoreError::backend)?;
    let mut age = tx.open_table(AGE).map_err(StoreError::backend)?;
    age.insert((job.queued_at_ms, id), ())
        .map_err(StoreError::backend)?;
    Ok(())
}

#[async_trait]
impl WebhookStore for EmbeddedStore {
    async fn create_webhook(&self, webhook: &Webhook) -> Result<(), StoreError> {
        let webhook = webhook.clone();
        self.write(move |tx| {
            let mut t = tx.open_table(WEBHOOKS).map_err(StoreError::backend)?;
            t.insert(webhook.id.as_str(), encode(&webhook)?.as_slice())
                .map_err(StoreError::backend)?;
            Ok(())
        })
        .await
    }

    async fn webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        self.read(|tx| {
            let t = tx.open_table(WEBHOOKS).map_err(StoreError::backend)?;
            let mut out: Vec<Webhook> = Vec::new();
            for entry in t.iter().map_err(StoreError::backend)? {
                let (_, v) = entry.map_err(StoreError::backend)?;
                out.push(decode(v.value())?);
            }
            out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
            Ok(out)
        })
        .await
    }

    async fn delete_webhook(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.write(move |tx| {
            let mut t = tx.open_table(WEBHOOKS).map_err(StoreError::backend)?;
            let removed = t.remove(id.as_str()).map_err(StoreError::backend)?;
            Ok(removed.is_some())
        })
        .await
    }

    async fn claim_webhook_jobs(
        &self,
        owner: &str,
        now_ms: u64,
        lease_ms: u64,
        limit: usize,
    ) -> Result<Vec<DeliveryJob>, StoreError> {
        if !self.read(move |tx| OUTBOX.anything_due(tx, now_ms)).await? {
            return Ok(Vec::new());
        }
        let owner = owner.to_string();
        self.write(move |tx| OUTBOX.claim(tx, &owner, now_ms, lease_ms, limit))
            .await
    }

    async fn save_webhook_job(&self, owner: &str, job: &DeliveryJob) -> Result<bool, StoreError> {
        let owner = owner.to_string();
        let job = job.clone();
        self.write(move |tx| {
            let id = job.event.id.clone();
            let Some(stored) = OUTBOX.save(tx, &id, &owner, &job)? else {
                return Ok(false);
            };
            if job.done {
                let mut age = tx.open_table(AGE).map_err(StoreError::backend)?;
                age.remove((stored.queued_at_ms, id.as_str()))
                    .map_err(StoreError::backend)?;
            }
            Ok(true)
        })
        .await
    }

    async fn webhook_job(
        &self,
        _account: &AccountId,
        event_id: &str,
    ) -> Result<Option<DeliveryJob>, StoreError> {
        let id = event_id.to_string();
        self.read(move |tx| {
            let jobs = tx.open_table(JOBS).map_err(StoreError::backend)?;
            OUTBOX.read(&jobs, &id)
        })
        .await
    }

    async fn webhook_queue_stats(&self) -> Result<QueueStats, StoreError> {
        self.read(|tx| {
            let age = tx.open_table(AGE).map_err(StoreError::backend)?;
            let pending = age.len().map_err(StoreError::backend)?;
            let oldest = age
                .first()
                .map_err(StoreError::backend)?
                .map(|(k, _)| k.value().0);
            Ok(QueueStats {
                pending,
                oldest_queued_at_ms: oldest,
            })
        })
        .await
    }
}
