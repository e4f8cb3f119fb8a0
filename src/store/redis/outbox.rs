//! The Redis store's zap receipt outbox (NIP-57 appendix E). Layout and crash argument in
//! [`keys`](super::keys): the job record lives in the account's slot (written by the credit script,
//! so queued atomically with the credit); the due queue `{zapq}` and its lease hash share one
//! slot, so claims and releases are one script each on one slot, unchanged on Redis Cluster.

use async_trait::async_trait;

use super::conn::{Conn, RedisCallError};
use super::leased::LeasedQueue;
use super::{RedisStore, decode, encode};
use crate::store::keys::{self, ZAP_LEASES, ZAP_QUEUE};
use crate::store::leased::LeasedJob;
use crate::store::outbox::{ZapJob, ZapOutbox};
use crate::store::{AccountId, InvoiceRecord, Settlement, StoreError};
use crate::types::{PaymentHash, unix_now};

/// After its expiry, how long an unpaid zap invoice's queue entry waits before it is looked at.
const EXPIRY_GRACE_SECS: u64 = 600;
/// How often an entry without a job is looked at again once its invoice has expired.
const ORPHAN_RECHECK_MS: u64 = 3_600_000;
/// How long after its invoice's expiry an entry without a job is dropped.
const ORPHAN_DROP_SECS: u64 = 86_400;

/// The zap receipt queue.
const QUEUE: LeasedQueue = LeasedQueue {
    queue: ZAP_QUEUE,
    leases: ZAP_LEASES,
    age: None,
};

/// The job JSON the credit script writes for a zap invoice ("" for other invoices).
pub(super) fn job_on_credit(
    invoice: &InvoiceRecord,
    settled: &Settlement,
) -> Result<Vec<u8>, StoreError> {
    match ZapJob::on_credit(invoice, settled) {
        Some(job) => encode(&job),
        None => Ok(Vec::new()),
    }
}

/// In `add_invoice`: enters a zap invoice in the due queue at its expiry plus a grace period, so a
/// job credited later can never be missing from the queue.
pub(super) async fn preregister(conn: &Conn, invoice: &InvoiceRecord) -> Result<(), StoreError> {
    if invoice.zap_request.is_none() {
        return Ok(());
    }
    let at = invoice
        .expires_at
        .saturating_add(EXPIRY_GRACE_SECS)
        .saturating_mul(1000);
    let mut cmd = ::redis::cmd("ZADD");
    cmd.arg(ZAP_QUEUE)
        .arg("NX")
        .arg(at)
        .arg(keys::zap_member(&invoice.account_id, &invoice.payment_hash));
    conn.query::<i64>(&cmd).await?;
    Ok(())
}

/// After a credit: makes a zap's job due now. Best effort: on failure the job is found at its
/// pre-registered time.
pub(super) async fn due_now(conn: &Conn, invoice: &InvoiceRecord) {
    if invoice.zap_request.is_none() {
        return;
    }
    let mut cmd = ::redis::cmd("ZADD");
    cmd.arg(ZAP_QUEUE)
        .arg("LT")
        .arg(0)
        .arg(keys::zap_member(&invoice.account_id, &invoice.payment_hash));
    if let Err(e) = conn.query::<i64>(&cmd).await {
        tracing::warn!(payment_hash = %invoice.payment_hash, error = %e, "could not make a zap receipt due now; it will go out later");
    }
}

fn parse_member(member: &str) -> Result<(AccountId, PaymentHash), StoreError> {
    let bad = || -> StoreError {
        RedisCallError::Unexpected(format!("zap queue member {member:?}")).into()
    };
    let (id, hash) = member.split_once('/').ok_or_else(bad)?;
    let hash: PaymentHash = hash.parse().map_err(|_| bad())?;
    Ok((AccountId(id.to_string()), hash))
}

impl RedisStore {
    async fn read_job(
        &self,
        id: &AccountId,
        hash: &PaymentHash,
    ) -> Result<Option<ZapJob>, StoreError> {
        let json: Option<Vec<u8>> = self
            .conn
            .query(::redis::cmd("GET").arg(keys::zap_job(id, hash)))
            .await?;
        json.map(|j| decode(&j)).transpose()
    }

    /// A claimed member without a job: its invoice was not credited (yet). Look again later, or
    /// drop it once the invoice is long expired or settled without a credit (account removed).
    async fn handle_orphan(
        &self,
        member: &str,
        owner: &str,
        hash: &PaymentHash,
        now_ms: u64,
    ) -> Result<(), StoreError> {
        use crate::store::Store;
        let invoice = self.invoice(hash).await?;
        let next = match invoice {
            Some(inv) if inv.settled.is_none() => {
                let drop_at = inv.expires_at.saturating_add(ORPHAN_DROP_SECS);
                (unix_now() < drop_at).then(|| {
                    let after_expiry = inv
                        .expires_at
                        .saturating_add(EXPIRY_GRACE_SECS)
                        .saturating_mul(1000);
                    after_expiry.max(now_ms.saturating_add(ORPHAN_RECHECK_MS))
                })
            }
            _ => None,
        };
        QUEUE.release(&self.conn, member, owner, next).await?;
        Ok(())
    }
}

#[async_trait]
impl ZapOutbox for RedisStore {
    async fn claim_zap_jobs(
        &self,
        owner: &str,
        now_ms: u64,
        lease_ms: u64,
        limit: usize,
    ) -> Result<Vec<ZapJob>, StoreError> {
        let until = now_ms.saturating_add(lease_ms);
        let members = QUEUE.claim(&self.conn, owner, now_ms, until, limit).await?;
        let mut out = Vec::new();
        for member in members {
            let (id, hash) = parse_member(&member)?;
            match self.read_job(&id, &hash).await? {
                Some(job) => out.push(job.claimed(owner, until)),
                None => self.handle_orphan(&member, owner, &hash, now_ms).await?,
            }
        }
        Ok(out)
    }

    async fn save_zap_job(&self, owner: &str, job: &ZapJob) -> Result<bool, StoreError> {
        let (record, due) = job.released();
        QUEUE
            .save(
                &self.conn,
                &keys::zap_member(&job.account_id, &job.payment_hash),
                owner,
                &keys::zap_job(&job.account_id, &job.payment_hash),
                encode(&record)?,
                due,
            )
            .await
    }

    async fn zap_job(&self, hash: &PaymentHash) -> Result<Option<ZapJob>, StoreError> {
        match self.owner(&keys::invoice_owner(hash)).await? {
            Some(id) => self.read_job(&id, hash).await,
            None => Ok(None),
        }
    }
}
