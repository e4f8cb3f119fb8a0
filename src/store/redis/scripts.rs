//! The Lua scripts: every Redis operation that moves money or uses something up runs as one script,
//! atomically on the server. Each script touches keys of one slot only (one account's hash tag, or
//! one global key), so it runs unchanged on Redis Cluster. Numbers are handled as decimal strings
//! or with Redis' own 64-bit integer commands, never as Lua numbers (doubles), so no precision is
//! lost. A script checks everything that can fail before its first write: Redis does not roll a
//! script back when it fails half-way.

use std::sync::LazyLock;

use ::redis::Script;

/// Credits a settled invoice once and writes its webhook delivery job and, for a zap, its receipt
/// job. KEYS: invoice hash, account hash, ledger list, zap job, webhook job. ARGV: settled JSON,
/// amount msat, ledger JSON, zap job JSON (empty when the invoice is not a zap), webhook job JSON.
/// Answers `{"unknown"}`, `{"already"}`, `{"gone"}` or `{"credited", balance}`.
pub static CREDIT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return {'unknown'} end
if redis.call('HEXISTS', KEYS[1], 'settled') == 1 then return {'already'} end
redis.call('PERSIST', KEYS[1])
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('HSET', KEYS[1], 'settled', ARGV[1])
  return {'gone'}
end
redis.call('HINCRBY', KEYS[2], 'balance', ARGV[2])
redis.call('HSET', KEYS[1], 'settled', ARGV[1])
redis.call('LPUSH', KEYS[3], ARGV[3])
if ARGV[4] ~= '' then redis.call('SET', KEYS[4], ARGV[4], 'NX') end
if ARGV[5] ~= '' then redis.call('SET', KEYS[5], ARGV[5], 'NX') end
return {'credited', redis.call('HGET', KEYS[2], 'balance')}
",
    )
});

/// Writes an invoice record once, forgotten at a given time unless paid (the credit script
/// removes the expiry). KEYS: invoice hash. ARGV: record JSON, unix seconds to forget it at (0:
/// never). Answers 1 when written, 0 when a record was there.
pub static ADD_INVOICE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('HSETNX', KEYS[1], 'json', ARGV[1]) == 0 then return 0 end
if ARGV[2] ~= '0' then redis.call('EXPIREAT', KEYS[1], ARGV[2]) end
return 1
",
    )
});

/// Removes an invoice record that is not settled. KEYS: invoice hash. Answers 1 when removed.
pub static FORGET_UNPAID: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[1], 'settled') == 1 then return 0 end
redis.call('DEL', KEYS[1])
return 1
",
    )
});

/// Removes an account whose balance is zero, with no payment pending (`pending`, counted by the
/// withdraw scripts) and no invoice that may still be paid (`inv_until`), with its ledger.
/// KEYS: account hash, ledger list. ARGV: now (Unix seconds). Answers `"ok"`, `"missing"`,
/// `"balance"`, `"pending"` or `"invoices:<until>"`.
pub static DELETE_ACCOUNT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local balance = redis.call('HGET', KEYS[1], 'balance')
if not balance then return 'missing' end
if balance ~= '0' then return 'balance' end
if tonumber(redis.call('HGET', KEYS[1], 'pending') or '0') > 0 then return 'pending' end
local till = tonumber(redis.call('HGET', KEYS[1], 'inv_until') or '0')
if till > tonumber(ARGV[1]) then return 'invoices:' .. till end
redis.call('DEL', KEYS[1], KEYS[2])
return 'ok'
",
    )
});

/// Moves an existing account's latest invoice expiry forward, never creating a removed account.
/// KEYS: account hash. ARGV: the invoice's expiry (Unix seconds).
pub static INVOICES_UNTIL: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local till = tonumber(redis.call('HGET', KEYS[1], 'inv_until') or '0')
if tonumber(ARGV[1]) > till then redis.call('HSET', KEYS[1], 'inv_until', ARGV[1]) end
return 1
",
    )
});

/// Replaces an existing account's record, never creating a removed one.
/// KEYS: account hash. ARGV: record JSON. Answers the balance, or false when the account is gone.
pub static UPDATE_ACCOUNT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSET', KEYS[1], 'json', ARGV[1])
return redis.call('HGET', KEYS[1], 'balance')
",
    )
});

/// Sets a cursor to ARGV[2] only while it holds ARGV[1] (a missing cursor holds '0'). KEYS:
/// cursor. ARGV: expected, new (decimal, no leading zeros).
pub static RESET_CURSOR: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local cur = redis.call('GET', KEYS[1]) or '0'
if cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
",
    )
});

/// Moves a cursor forward, never back. KEYS: cursor. ARGV: new index (decimal, no leading zeros).
/// Compares as strings (length, then text) to stay exact for any u64.
pub static ADVANCE_CURSOR: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local cur = redis.call('GET', KEYS[1]) or '0'
local new = ARGV[1]
if #new > #cur or (#new == #cur and new > cur) then
  redis.call('SET', KEYS[1], new)
  return 1
end
return 0
",
    )
});

/// Compare-and-set on a string key. KEYS: key. ARGV: expected value, new value.
/// Answers 1 when swapped.
pub static SWAP_IF: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  return 1
end
return 0
",
    )
});

/// Compare-and-delete on a string key. KEYS: key. ARGV: expected value. Answers 1 when deleted.
pub static DELETE_IF: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
",
    )
});
