//! The Redis store's webhooks. Layout and crash argument in [`keys`](super::keys): registrations
//! in one hash; each delivery job in its account's slot, written by the credit script (so queued
//! atomically with the credit); the due queue `{whq}`, its lease hash and its age index share one
//! slot, so enqueue, claim and release are one script each, unchanged on Redis Cluster.

use std::sync::LazyLock;

use ::redis::Script;
use async_trait::async_trait;

use super::conn::{Conn, RedisCallError};
use super::leased::LeasedQueue;
use super::{RedisStore, decode, encode};
use crate::store::keys::{self, WEBHOOK_AGE, WEBHOOK_LEASES, WEBHOOK_QUEUE, WEBHOOKS};
use crate::store::leased::LeasedJob;
use crate::store::webhooks::{DeliveryJob, QueueStats, Webhook, WebhookStore};
use crate::store::{Account, AccountId, InvoiceRecord, Settlement, StoreError};

/// How long after it is entered (before the credit script runs) a member becomes due on its own:
/// the credit script's answer lost in between is found then.
const PRE_ENTRY_DELAY_MS: u64 = 120_000;

/// Enters a member unless present. KEYS: queue, age. ARGV: due ms, now ms, member.
static ENQUEUE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[2], 'NX', ARGV[2], ARGV[3])
return 1
",
    )
});

/// The delivery queue.
const QUEUE: LeasedQueue = LeasedQueue {
    queue: WEBHOOK_QUEUE,
    leases: WEBHOOK_LEASES,
    age: Some(WEBHOOK_AGE),
};

/// The `payment.received` job the credit script writes, with its key and queue member ("" JSON
/// when the account is gone: the script credits nothing then).
pub(super) struct CreditJob {
    pub key: String,
    pub member: String,
    pub json: Vec<u8>,
}

pub(super) fn job_on_credit(
    invoice: &InvoiceRecord,
    settled: &Settlement,
    account: Option<&Account>,
) -> Result<CreditJob, StoreError> {
    let event_id = crate::store::webhooks::event_id(
        crate::store::webhooks::EventType::PaymentReceived,
        &invoice.payment_hash,
    );
    let json = match account {
        Some(account) => encode(&DeliveryJob::on_credit(invoice, settled, account))?,
        None => Vec::new(),
    };
    Ok(CreditJob {
        key: keys::webhook_job(&invoice.account_id, &event_id),
        member: keys::webhook_member(&invoice.account_id, &event_id),
        json,
    })
}

/// The `payment.sent`/`payment.failed` job the finish script writes; `None` while pending or when
/// the account is gone (no one to tell).
pub(super) fn job_on_finish(
    done: &crate::store::Payment,
    account: Option<&Account>,
) -> Result<Option<CreditJob>, StoreError> {
    let (Some(outgoing), Some(account)) = (done.outgoing(), account) else {
        return Ok(None);
    };
    let job = DeliveryJob::on_finish(&outgoing, account);
    Ok(Some(CreditJob {
        key: keys::webhook_job(&account.id, &job.event.id),
        member: keys::webhook_member(&account.id, &job.event.id),
        json: encode(&job)?,
    }))
}

/// Before the credit script: enters the member, due a little later, so that a job the script
/// writes is never missing from the queue.
pub(super) async fn pre_enter(conn: &Conn, member: &str, now_ms: u64) -> Result<(), StoreError> {
    let mut enqueue = ENQUEUE.prepare_invoke();
    enqueue
        .key(WEBHOOK_QUEUE)
        .key(WEBHOOK_AGE)
        .arg(now_ms.saturating_add(PRE_ENTRY_DELAY_MS).to_string())
        .arg(now_ms.to_string())
        .arg(member);
    conn.invoke::<i64>(&enqueue).await?;
    Ok(())
}

/// After a credit: makes the job due now. Best effort: on failure it is due at its pre-entered
/// time.
pub(super) async fn due_now(conn: &Conn, member: &str) {
    let mut cmd = ::redis::cmd("ZADD");
    cmd.arg(WEBHOOK_QUEUE).arg("LT").arg(0).arg(member);
    if let Err(e) = conn.query::<i64>(&cmd).await {
        tracing::warn!(error = %e, "could not make a webhook event due now; it goes out a little later");
    }
}

fn parse_member(member: &str) -> Result<(AccountId, &str), StoreError> {
    let (id, event) = member.split_once('/').ok_or_else(|| -> StoreError {
        RedisCallError::Unexpected(format!("webhook queue member {member:?}")).into()
    })?;
    Ok((AccountId(id.to_string()), event))
}

#[async_trait]
impl WebhookStore for RedisStore {
    async fn create_webhook(&self, webhook: &Webhook) -> Result<(), StoreError> {
        let mut cmd = ::redis::cmd("HSET");
        cmd.arg(WEBHOOKS).arg(&webhook.id).arg(encode(webhook)?);
        self.conn.query::<i64>(&cmd).await?;
        Ok(())
    }

    async fn webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        let all: Vec<Vec<u8>> = self.conn.query(::redis::cmd("HVALS").arg(WEBHOOKS)).await?;
        let mut out: Vec<Webhook> = all.iter().map(|j| decode(j)).collect::<Result<_, _>>()?;
        out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(out)
    }

    async fn delete_webhook(&self, id: &str) -> Result<bool, StoreError> {
        let removed: i64 = self
            .conn
            .query(::redis::cmd("HDEL").arg(WEBHOOKS).arg(id))
            .await?;
        Ok(removed == 1)
    }

    async fn claim_webhook_jobs(
        &self,
        owner: &str,
        now_ms: u64,
        lease_ms: u64,
        limit: usize,
    ) -> Result<Vec<DeliveryJob>, StoreError> {
        let until = now_ms.saturating_add(lease_ms);
        let members = QUEUE.claim(&self.conn, owner, now_ms, until, limit).await?;
        let mut out = Vec::new();
        for member in members {
            let (id, event_id) = parse_member(&member)?;
            match self.webhook_job(&id, event_id).await? {
                Some(job) => out.push(job.claimed(owner, until)),
                // Entered before a credit script that did not run (or credited nothing): the
                // replayed settlement enters it again if it still has to.
                None => {
                    QUEUE.release(&self.conn, &member, owner, None).await?;
                }
            }
        }
        Ok(out)
    }

    async fn save_webhook_job(&self, owner: &str, job: &DeliveryJob) -> Result<bool, StoreError> {
        let (record, due) = job.released();
        QUEUE
            .save(
                &self.conn,
                &keys::webhook_member(&job.account_id, &job.event.id),
                owner,
                &keys::webhook_job(&job.account_id, &job.event.id),
                encode(&record)?,
                due,
            )
            .await
    }

    async fn webhook_job(
        &self,
        account: &AccountId,
        event_id: &str,
    ) -> Result<Option<DeliveryJob>, StoreError> {
        let json: Option<Vec<u8>> = self
            .conn
            .query(::redis::cmd("GET").arg(keys::webhook_job(account, event_id)))
            .await?;
        json.map(|j| decode(&j)).transpose()
    }

    async fn webhook_queue_stats(&self) -> Result<QueueStats, StoreError> {
        let pending: u64 = self
            .conn
            .query(::redis::cmd("ZCARD").arg(WEBHOOK_AGE))
            .await?;
        let oldest: Vec<(String, f64)> = self
            .conn
            .query(
                ::redis::cmd("ZRANGE")
                    .arg(WEBHOOK_AGE)
                    .arg(0)
                    .arg(0)
                    .arg("WITHSCORES"),
            )
            .await?;
        Ok(QueueStats {
            pending,
            // Scores are whole milliseconds, well inside a double's exact range.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            oldest_queued_at_ms: oldest.first().map(|(_, score)| *score as u64),
        })
    }
}
