//! The Lua scripts of the Redis [`NwcStore`](crate::store::NwcStore): a connection's budget
//! (one hash in its account's slot) and a request's claim (its own key), one key each, so they
//! run unchanged on Redis Cluster.

use std::sync::LazyLock;

use ::redis::Script;

/// Holds part of a connection's budget for a request. KEYS: connection hash. ARGV: amount, budget
/// (empty: none), period, hold field. Answers `ok`, `held:<period>` (held before), `quota` or
/// `refused`.
pub(super) static RESERVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 'refused' end
local held = redis.call('HGET', KEYS[1], ARGV[4])
if held then return 'held:' .. (string.match(held, ':(%d+)$') or '0') end
if redis.call('HGET', KEYS[1], 'revoked') == '1' then return 'refused' end
local used = 0
if redis.call('HGET', KEYS[1], 'period') == ARGV[3] then
  used = tonumber(redis.call('HGET', KEYS[1], 'used') or '0')
end
local total = used + tonumber(ARGV[1])
if ARGV[2] ~= '' and total > tonumber(ARGV[2]) then return 'quota' end
redis.call('HSET', KEYS[1], 'used', string.format('%.0f', total), 'period', ARGV[3],
  ARGV[4], ARGV[1] .. ':' .. ARGV[3])
return 'ok'
",
    )
});

/// Ends a request's hold, giving back what was not spent. KEYS: connection hash. ARGV: hold
/// field, spent.
pub(super) static SETTLE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local held = redis.call('HGET', KEYS[1], ARGV[1])
if not held then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
local amount, period = string.match(held, '^(%d+):(%d+)$')
if not amount or redis.call('HGET', KEYS[1], 'period') ~= period then return 1 end
local back = tonumber(amount) - tonumber(ARGV[2])
if back <= 0 then return 1 end
local used = tonumber(redis.call('HGET', KEYS[1], 'used') or '0') - back
if used < 0 then used = 0 end
redis.call('HSET', KEYS[1], 'used', string.format('%.0f', used))
return 1
",
    )
});

/// Claims a request, or with ARGV[5] = `look` only says whether it could (writing nothing).
/// KEYS: request key. ARGV: now, lease, ttl, event JSON, `take` or `look`.
/// Answers `{'claimed'}`, `{'free'}` (a look at a request one may claim), `{'running'}` or
/// `{'answered', response}`.
pub(super) static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local v = redis.call('GET', KEYS[1])
if v then
  if string.sub(v, 1, 2) == 'a:' then return {'answered', string.sub(v, 3)} end
  local at = tonumber(string.match(v, '^c:(%d+)')) or 0
  if tonumber(ARGV[1]) < at + tonumber(ARGV[2]) then return {'running'} end
end
if ARGV[5] ~= 'take' then return {'free'} end
redis.call('SET', KEYS[1], 'c:' .. ARGV[1] .. ':' .. ARGV[4], 'EX', ARGV[3])
return {'claimed'}
",
    )
});

/// Marks a running request as alive. KEYS: request key. ARGV: now, ttl.
pub(super) static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, 2) ~= 'c:' then return 0 end
local at, event = string.match(v, '^c:(%d+):(.*)$')
if not at or tonumber(at) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], 'c:' .. ARGV[1] .. ':' .. event, 'EX', ARGV[2])
return 1
",
    )
});

/// Revokes a connection. KEYS: connection hash. Answers 1 when it exists.
pub(super) static REVOKE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'revoked', '1')
return 1
",
    )
});
