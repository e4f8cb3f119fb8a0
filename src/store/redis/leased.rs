//! The leased queue both Redis outboxes are built on (zap receipts, webhook deliveries): a sorted
//! set of members by due time (ms), a hash of lease holders and, for webhooks, an age index, all
//! in one slot (`{zapq}`, `{whq}`; [`keys`](crate::store::keys)), so a claim and a release are one
//! script each, unchanged on Redis Cluster. A claim moves the due members to their lease end and
//! names the holder; only the holder releases a member: rescheduled, or removed when done (and
//! from the age index). The job records live elsewhere (in their account's slot); saving one is
//! record first, release second, so a crash in between leaves a record ahead of the queue that
//! the next claimer carries on from.

use std::sync::LazyLock;

use ::redis::Script;

use super::conn::Conn;
use crate::store::StoreError;

/// Claims due members. KEYS: queue, leases. ARGV: now ms, lease end ms, owner, limit.
/// Answers the claimed members.
static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[4])
for _, m in ipairs(due) do
  redis.call('ZADD', KEYS[1], ARGV[2], m)
  redis.call('HSET', KEYS[2], m, ARGV[3])
end
return due
",
    )
});

/// Releases a member held by its owner: reschedules it at a due time, or removes it (`done`),
/// from the age index too when there is one. KEYS: queue, leases[, age]. ARGV: member, owner,
/// due ms or `done`. Answers 1, or 0 if not the holder.
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[2], ARGV[1])
if ARGV[3] == 'done' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  if KEYS[3] then redis.call('ZREM', KEYS[3], ARGV[1]) end
else
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
end
return 1
",
    )
});

/// One leased queue's keys.
pub(super) struct LeasedQueue {
    pub queue: &'static str,
    pub leases: &'static str,
    /// The index of members by the time they were queued, when the queue keeps one.
    pub age: Option<&'static str>,
}

impl LeasedQueue {
    /// Claims up to `limit` members due at `now_ms` for `owner` until `until_ms`.
    pub async fn claim(
        &self,
        conn: &Conn,
        owner: &str,
        now_ms: u64,
        until_ms: u64,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let mut claim = CLAIM.prepare_invoke();
        claim
            .key(self.queue)
            .key(self.leases)
            .arg(now_ms.to_string())
            .arg(until_ms.to_string())
            .arg(owner)
            .arg(limit);
        conn.invoke(&claim).await
    }

    /// Releases `member` if `owner` holds it: due again at `due` ms, or done (`None`). Answers
    /// whether `owner` held it.
    pub async fn release(
        &self,
        conn: &Conn,
        member: &str,
        owner: &str,
        due: Option<u64>,
    ) -> Result<bool, StoreError> {
        let mut release = RELEASE.prepare_invoke();
        release.key(self.queue).key(self.leases);
        if let Some(age) = self.age {
            release.key(age);
        }
        release.arg(member).arg(owner);
        match due {
            Some(at) => release.arg(at.to_string()),
            None => release.arg("done"),
        };
        let done: i64 = conn.invoke(&release).await?;
        Ok(done == 1)
    }

    /// Saves the job record `json` at `record_key` and releases `member`, if `owner` holds it
    /// (record first: see the module's crash argument). Answers whether `owner` held it.
    pub async fn save(
        &self,
        conn: &Conn,
        member: &str,
        owner: &str,
        record_key: &str,
        json: Vec<u8>,
        due: Option<u64>,
    ) -> Result<bool, StoreError> {
        let holder: Option<String> = conn
            .query(::redis::cmd("HGET").arg(self.leases).arg(member))
            .await?;
        if holder.as_deref() != Some(owner) {
            return Ok(false);
        }
        let mut set = ::redis::cmd("SET");
        set.arg(record_key).arg(json);
        conn.query::<()>(&set).await?;
        self.release(conn, member, owner, due).await
    }
}
