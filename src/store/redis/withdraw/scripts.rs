//! The Lua scripts of the Redis [`WithdrawStore`](crate::store::WithdrawStore): each touches the
//! keys of one account's hash tag (or one global key), so it runs unchanged on Redis Cluster.
//! A balance is compared as a decimal string (by length, then text) and moved with `HINCRBY`,
//! never as a Lua number.

use std::sync::LazyLock;

use ::redis::Script;

/// Reserves a payment: through a withdraw link when its key is given (the link's checks and use),
/// else the payment engine's without one.
/// KEYS: account hash, ledger list, withdrawal hash[, link hash].
/// ARGV: amount + reserve (decimal), payment JSON, ledger entry JSON, now.
/// Answers `reserved`, `unknown`, `disabled`, `expired`, `used`, `duplicate` or `balance`.
pub(super) static RESERVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local link = KEYS[4]
if link then
  if redis.call('EXISTS', link) == 0 then return 'unknown' end
  if redis.call('HGET', link, 'disabled') == '1' then return 'disabled' end
  local exp = tonumber(redis.call('HGET', link, 'expires_at') or '0')
  if exp ~= 0 and tonumber(ARGV[4]) >= exp then return 'expired' end
  local used = tonumber(redis.call('HGET', link, 'used') or '0')
  local uses = tonumber(redis.call('HGET', link, 'uses') or '0')
  if used >= uses then return 'used' end
end
if redis.call('EXISTS', KEYS[3]) == 1 then return 'duplicate' end
local bal = redis.call('HGET', KEYS[1], 'balance')
if not bal then return 'unknown' end
local need = ARGV[1]
if #bal < #need or (#bal == #need and bal < need) then return 'balance' end
redis.call('HINCRBY', KEYS[1], 'balance', '-' .. need)
redis.call('HINCRBY', KEYS[1], 'pending', 1)
if link then redis.call('HINCRBY', link, 'used', 1) end
redis.call('HSET', KEYS[3], 'json', ARGV[2], 'status', 'pending', 'tx', ARGV[3])
redis.call('LPUSH', KEYS[2], ARGV[3])
return 'reserved'
",
    )
});

/// A daily spending counter outlives its day by a day (its payments' refunds may come late).
pub(super) const SPEND_TTL_SECS: u64 = 2 * 86_400;

/// Takes from a daily spending counter. KEYS: counter. ARGV: amount, limit, TTL in seconds.
/// Answers 1 when taken.
pub(super) static TAKE_SPEND: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local total = used + tonumber(ARGV[1])
if total > tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], string.format('%d', total), 'EX', ARGV[3])
return 1
",
    )
});

/// Gives back to a daily spending counter, never below zero. KEYS: counter. ARGV: amount.
pub(super) static GIVE_BACK_SPEND: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used == 0 then return 0 end
local left = used - tonumber(ARGV[1])
if left < 0 then left = 0 end
redis.call('SET', KEYS[1], string.format('%d', left), 'KEEPTTL')
return 1
",
    )
});

/// Finishes a pending withdrawal once.
/// KEYS: withdrawal hash, account hash, ledger list, link hash, webhook job.
/// ARGV: new status, new payment JSON, new ledger entry JSON, refund (decimal), `1` to give the
/// use back, the `payment.sent`/`payment.failed` delivery job JSON (empty: none).
/// Answers `done`, `already` or `unknown`.
pub(super) static FINISH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 'unknown' end
if redis.call('HGET', KEYS[1], 'status') ~= 'pending' then return 'already' end
local old = redis.call('HGET', KEYS[1], 'tx')
if redis.call('EXISTS', KEYS[2]) == 1 then
  if ARGV[4] ~= '0' then redis.call('HINCRBY', KEYS[2], 'balance', ARGV[4]) end
  if tonumber(redis.call('HGET', KEYS[2], 'pending') or '0') > 0 then
    redis.call('HINCRBY', KEYS[2], 'pending', -1)
  end
end
local pos = redis.call('LPOS', KEYS[3], old)
if pos then redis.call('LSET', KEYS[3], pos, ARGV[3]) end
if ARGV[5] == '1' and redis.call('EXISTS', KEYS[4]) == 1 then
  redis.call('HINCRBY', KEYS[4], 'used', -1)
end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'json', ARGV[2], 'tx', ARGV[3])
if ARGV[6] ~= '' and redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('SET', KEYS[5], ARGV[6], 'NX')
end
return 'done'
",
    )
});

/// Disables an existing link. KEYS: link hash. Answers 1 when the link exists.
pub(super) static DISABLE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'disabled', '1')
return 1
",
    )
});

/// Takes or renews a payment's lease (SET NX PX, or PEXPIRE by its holder).
/// KEYS: lease key. ARGV: holder, TTL in ms. Answers 1 when `holder` holds it now.
pub(super) static LEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local cur = redis.call('GET', KEYS[1])
if not cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
",
    )
});
