//! Rate-limit buckets of the Redis store: one string key per bucket holding its GCRA arrival time
//! in milliseconds of the Redis server's clock, so every gateway process shares the bucket and
//! their clocks do not matter. One Lua script reads and moves it atomically and gives the key a
//! TTL of the time until the bucket is full again.

use std::sync::LazyLock;
use std::time::Duration;

use ::redis::Script;
use async_trait::async_trait;

use super::RedisStore;
use crate::ratelimit::RateDecision;
use crate::store::RateLimitStore;
use crate::store::StoreError;
use crate::store::keys;

/// GCRA (the rule of [`crate::ratelimit::gcra`]). KEYS: bucket. ARGV: interval ms, burst.
/// Answers `{1, 0}` when allowed, `{0, retry_after_ms}` when not. Times stay far below 2^53, so
/// Lua's doubles hold them exactly.
static TAKE_TOKEN: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - interval * burst
if allow_at > now then return {0, allow_at - now} end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', new_tat - now)
return {1, 0}
",
    )
});

#[async_trait]
impl RateLimitStore for RedisStore {
    async fn take_token(
        &self,
        key: &str,
        interval: Duration,
        burst: u32,
    ) -> Result<RateDecision, StoreError> {
        let interval_ms = u64::try_from(interval.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let mut call = TAKE_TOKEN.key(keys::rate_limit(key));
        call.arg(interval_ms).arg(burst.max(1));
        let (allowed, retry_ms): (u64, u64) = self.conn.invoke(&call).await?;
        Ok(if allowed == 1 {
            RateDecision::Allowed
        } else {
            RateDecision::Limited {
                retry_after: Duration::from_millis(retry_ms),
            }
        })
    }
}
