//! [`DomainStore`] on Redis. Every domain key shares the hash tag `{dom}` (one slot), so each
//! change is one Lua script that also bumps the version counter the registries of all processes
//! poll. Key names are in [`keys`].
//!
//! Removing a domain first lists its accounts (a SCAN of its name keys, like `list_accounts`),
//! then removes the record and its tokens in one script. Names live in other slots, so an account
//! created on another process in the instant between the two steps can outlive its domain; it is
//! then listed by the admin API and can be removed, and its lookups answer "unknown domain".

use std::sync::LazyLock;

use ::redis::Script;
use async_trait::async_trait;

use super::{RedisStore, decode, encode};
use crate::store::keys;
use crate::store::{DomainRecord, DomainStore, DomainToken, Store, StoreError};
use crate::types::DomainName;

/// Adds (ARGV[3] = "add") or replaces ("update") a domain, and bumps the version.
/// KEYS: domains hash, version. ARGV: name, JSON, mode. Answers `"ok"`, `"exists"`, `"missing"`.
static PUT_DOMAIN: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local present = redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1
if ARGV[3] == 'add' and present then return 'exists' end
if ARGV[3] == 'update' and not present then return 'missing' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('INCR', KEYS[2])
return 'ok'
",
    )
});

/// Removes a domain and its tokens, and bumps the version.
/// KEYS: domains hash, version, tokens hash, token ids hash. ARGV: name. Answers `"ok"` or
/// `"missing"`.
static REMOVE_DOMAIN: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 'missing' end
local all = redis.call('HGETALL', KEYS[3])
for i = 1, #all, 2 do
  local token = cjson.decode(all[i + 1])
  if token.domain == ARGV[1] then
    redis.call('HDEL', KEYS[3], all[i])
    redis.call('HDEL', KEYS[4], token.id)
  end
end
redis.call('INCR', KEYS[2])
return 'ok'
",
    )
});

/// Keeps a token. KEYS: tokens hash, token ids hash. ARGV: hash, id, JSON.
static ADD_TOKEN: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('HSETNX', KEYS[2], ARGV[2], ARGV[1]) == 0 then return 'exists' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 'ok'
",
    )
});

/// Revokes a token by id. KEYS: tokens hash, token ids hash. ARGV: id. Answers the token's JSON,
/// or false when there was none.
static REMOVE_TOKEN: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local hash = redis.call('HGET', KEYS[2], ARGV[1])
if not hash then return false end
local json = redis.call('HGET', KEYS[1], hash)
redis.call('HDEL', KEYS[1], hash)
redis.call('HDEL', KEYS[2], ARGV[1])
return json
",
    )
});

impl RedisStore {
    async fn put_domain(&self, record: &DomainRecord, mode: &str) -> Result<String, StoreError> {
        let mut put = PUT_DOMAIN.prepare_invoke();
        put.key(keys::DOMAINS)
            .key(keys::DOMAINS_VERSION)
            .arg(&record.domain.name)
            .arg(encode(record)?)
            .arg(mode);
        self.conn.invoke(&put).await
    }
}

#[async_trait]
impl DomainStore for RedisStore {
    async fn add_domain(&self, record: &DomainRecord) -> Result<(), StoreError> {
        match self.put_domain(record, "add").await?.as_str() {
            "ok" => Ok(()),
            _ => Err(StoreError::DomainExists),
        }
    }

    async fn update_domain(&self, record: &DomainRecord) -> Result<(), StoreError> {
        match self.put_domain(record, "update").await?.as_str() {
            "ok" => Ok(()),
            _ => Err(StoreError::NotFound),
        }
    }

    async fn remove_domain(&self, name: &str) -> Result<(), StoreError> {
        let exists: bool = self
            .conn
            .query(::redis::cmd("HEXISTS").arg(keys::DOMAINS).arg(name))
            .await?;
        if !exists {
            return Err(StoreError::NotFound);
        }
        if let Ok(domain) = DomainName::parse(name)
            && !self.list_accounts(Some(&domain)).await?.is_empty()
        {
            return Err(StoreError::DomainHasAccounts);
        }
        let mut remove = REMOVE_DOMAIN.prepare_invoke();
        remove
            .key(keys::DOMAINS)
            .key(keys::DOMAINS_VERSION)
            .key(keys::DOMAIN_TOKENS)
            .key(keys::DOMAIN_TOKEN_IDS)
            .arg(name);
        let answer: String = self.conn.invoke(&remove).await?;
        match answer.as_str() {
            "ok" => Ok(()),
            _ => Err(StoreError::NotFound),
        }
    }

    async fn domains(&self) -> Result<Vec<DomainRecord>, StoreError> {
        let all: Vec<(String, Vec<u8>)> = self
            .conn
            .query(::redis::cmd("HGETALL").arg(keys::DOMAINS))
            .await?;
        let mut out: Vec<DomainRecord> = all
            .iter()
            .map(|(_, json)| decode(json))
            .collect::<Result<_, _>>()?;
        out.sort_by(|a, b| a.domain.name.cmp(&b.domain.name));
        Ok(out)
    }

    async fn domains_version(&self) -> Result<u64, StoreError> {
        let v: Option<u64> = self
            .conn
            .query(::redis::cmd("GET").arg(keys::DOMAINS_VERSION))
            .await?;
        Ok(v.unwrap_or(0))
    }

    async fn add_domain_token(&self, token: &DomainToken) -> Result<(), StoreError> {
        let mut add = ADD_TOKEN.prepare_invoke();
        add.key(keys::DOMAIN_TOKENS)
            .key(keys::DOMAIN_TOKEN_IDS)
            .arg(&token.token_hash)
            .arg(&token.id)
            .arg(encode(token)?);
        let _: String = self.conn.invoke(&add).await?;
        Ok(())
    }

    async fn domain_token(&self, token_hash: &str) -> Result<Option<DomainToken>, StoreError> {
        let json: Option<Vec<u8>> = self
            .conn
            .query(
                ::redis::cmd("HGET")
                    .arg(keys::DOMAIN_TOKENS)
                    .arg(token_hash),
            )
            .await?;
        json.map(|j| decode(&j)).transpose()
    }

    async fn domain_tokens(&self, domain: &str) -> Result<Vec<DomainToken>, StoreError> {
        let all: Vec<(String, Vec<u8>)> = self
            .conn
            .query(::redis::cmd("HGETALL").arg(keys::DOMAIN_TOKENS))
            .await?;
        let mut out = Vec::new();
        for (_, json) in all {
            let token: DomainToken = decode(&json)?;
            if token.domain == domain {
                out.push(token);
            }
        }
        out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(out)
    }

    async fn remove_domain_token(&self, id: &str) -> Result<Option<DomainToken>, StoreError> {
        let mut remove = REMOVE_TOKEN.prepare_invoke();
        remove
            .key(keys::DOMAIN_TOKENS)
            .key(keys::DOMAIN_TOKEN_IDS)
            .arg(id);
        let json: Option<Vec<u8>> = self.conn.invoke(&remove).await?;
        json.map(|j| decode(&j)).transpose()
    }
}
