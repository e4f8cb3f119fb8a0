//! The leased-job outbox both embedded outboxes are built on (zap receipts, webhook deliveries):
//! jobs in a table (key → job JSON) and a due index ((due ms, key) → ()). A claim moves each due
//! job's entry to the end of its lease and names the holder, so an expired lease makes it due
//! again without a sweep; only the holder saves a job back (rescheduled, or out of the index when
//! done). redb runs one write transaction at a time, which makes claims exclusive. What a claim
//! and a save do to the job is `store::leased`'s; the Redis store's queue is `store::redis::leased`.

use redb::{Key, ReadTransaction, ReadableTable, TableDefinition, Value, WriteTransaction};

use super::{decode, encode};
use crate::store::StoreError;
use crate::store::leased::LeasedJob;

/// An owned job key and the redb key type it is stored as.
pub(super) trait JobKey: Sized {
    type K: Key + 'static;
    fn of(key: <Self::K as Value>::SelfType<'_>) -> Self;
    fn key(&self) -> <Self::K as Value>::SelfType<'_>;
}

impl JobKey for Vec<u8> {
    type K = &'static [u8];
    fn of(key: &[u8]) -> Self {
        key.to_vec()
    }
    fn key(&self) -> &[u8] {
        self
    }
}

impl JobKey for String {
    type K = &'static str;
    fn of(key: &str) -> Self {
        key.to_string()
    }
    fn key(&self) -> &str {
        self
    }
}

/// One outbox's tables.
pub(super) struct Outbox<O: JobKey> {
    pub jobs: TableDefinition<'static, O::K, &'static [u8]>,
    pub due: TableDefinition<'static, (u64, O::K), ()>,
}

impl<O: JobKey> Outbox<O> {
    /// Whether a job is due at `now_ms` (a read: an idle outbox costs no write, and no fsync).
    pub fn anything_due(&self, tx: &ReadTransaction, now_ms: u64) -> Result<bool, StoreError> {
        let due = tx.open_table(self.due).map_err(StoreError::backend)?;
        match due.first().map_err(StoreError::backend)? {
            Some((k, _)) => Ok(k.value().0 <= now_ms),
            None => Ok(false),
        }
    }

    /// The job stored at `key`.
    pub fn read<J: LeasedJob>(
        &self,
        jobs: &impl ReadableTable<O::K, &'static [u8]>,
        key: &O,
    ) -> Result<Option<J>, StoreError> {
        match jobs.get(key.key()).map_err(StoreError::backend)? {
            Some(v) => Ok(Some(decode(v.value())?)),
            None => Ok(None),
        }
    }

    /// Claims up to `limit` jobs due at `now_ms` for `owner`, leased for `lease_ms`.
    pub fn claim<J: LeasedJob>(
        &self,
        tx: &WriteTransaction,
        owner: &str,
        now_ms: u64,
        lease_ms: u64,
        limit: usize,
    ) -> Result<Vec<J>, StoreError> {
        let mut due = tx.open_table(self.due).map_err(StoreError::backend)?;
        let mut jobs = tx.open_table(self.jobs).map_err(StoreError::backend)?;
        let mut picked: Vec<(u64, O)> = Vec::new();
        for entry in due.iter().map_err(StoreError::backend)? {
            let (k, _) = entry.map_err(StoreError::backend)?;
            let (at, key) = k.value();
            if at > now_ms || picked.len() >= limit {
                break;
            }
            picked.push((at, O::of(key)));
        }
        let until = now_ms.saturating_add(lease_ms);
        let mut out = Vec::new();
        for (at, key) in picked {
            due.remove((at, key.key())).map_err(StoreError::backend)?;
            let Some(job) = self.read::<J>(&jobs, &key)? else {
                continue;
            };
            let job = job.claimed(owner, until);
            jobs.insert(key.key(), encode(&job)?.as_slice())
                .map_err(StoreError::backend)?;
            due.insert((until, key.key()), ())
                .map_err(StoreError::backend)?;
            out.push(job);
        }
        Ok(out)
    }

    /// Saves `job` at `key` if `owner` holds it: lease ended, due again at its `due_at_ms`, or out
    /// of the due index when done. Answers the job as it was stored before, or `None` (and
    /// changes nothing) when `owner` does not hold it.
    pub fn save<J: LeasedJob>(
        &self,
        tx: &WriteTransaction,
        key: &O,
        owner: &str,
        job: &J,
    ) -> Result<Option<J>, StoreError> {
        let mut jobs = tx.open_table(self.jobs).map_err(StoreError::backend)?;
        let Some(stored) = self.read::<J>(&jobs, key)? else {
            return Ok(None);
        };
        if stored.lease_owner() != Some(owner) {
            return Ok(None);
        }
        let mut due = tx.open_table(self.due).map_err(StoreError::backend)?;
        // While leased, the job's entry in the due index sits at its lease end.
        due.remove((stored.due_at_ms(), key.key()))
            .map_err(StoreError::backend)?;
        let (job, due_at) = job.released();
        if let Some(at) = due_at {
            due.insert((at, key.key()), ())
                .map_err(StoreError::backend)?;
        }
        jobs.insert(key.key(), encode(&job)?.as_slice())
            .map_err(StoreError::backend)?;
        Ok(Some(stored))
    }
}
