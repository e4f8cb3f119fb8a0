//! The Redis store: a Redis server or a Redis Cluster shared by any number of gateway processes.
//! Key names live in [`super::keys`] (with the layout table and the crash-consistency argument);
//! the connection and its deadlines in `conn`; [`Store`] itself (accounts, invoices, credits, the
//! ledger) in `accounts`, the name index in `names`, and the Lua scripts those use in `scripts`;
//! each other store trait has its own file. Records are the same JSON as in the embedded store.
//!
//! `list_accounts` SCANs the name index instead of keeping a per-domain sorted set: the name keys
//! are then the single source of truth, account creation stays two writes (no third key that a
//! crash could leave out of step), and listing is a rare admin operation whose cost (a SCAN over
//! every master) is acceptable.
//!
//! Unpaid invoices are forgotten by Redis itself: both keys of an invoice (`inv:<hash>` and the
//! record under the account's tag) carry an expiry at the invoice's expiry plus
//! `store.forget_unpaid_after_secs`, which the credit removes (`PERSIST`). See
//! `docs/money-safety.md` for why no late payment is lost.

mod accounts;
mod conn;
mod domains;
mod leased;
mod lndhub;
mod names;
mod nwc;
mod outbox;
mod ratelimit;
mod scripts;
mod webhooks;
mod withdraw;

use std::sync::Arc;

pub use self::conn::WaitReplicas;
use self::conn::{Conn, RedisCallError};
use self::names::NameCache;
use super::keys;
use super::*;
use crate::config::StoreOptions;
use crate::types::Msat;

/// How many names each process remembers ([`names`]): about 100 bytes each, so at most a few MB.
const NAME_CACHE_CAPACITY: usize = 20_000;

/// The Redis-backed [`Store`].
#[derive(Clone)]
pub struct RedisStore {
    conn: Conn,
    names: Arc<NameCache>,
    /// An unpaid invoice's keys expire this long after the invoice does.
    forget_unpaid_after_secs: u64,
}

impl RedisStore {
    /// Connects to one Redis server (`redis://host:port/db`; `rediss://` trusts the system's
    /// roots).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Ok(Self::with(Conn::single(url, None).await?))
    }

    /// Connects to a Redis Cluster through any of its nodes.
    pub async fn connect_cluster(urls: &[String]) -> Result<Self, StoreError> {
        Ok(Self::with(Conn::cluster(urls, None).await?))
    }

    /// Connects to one server or a cluster with `options`: `rediss://` trusting
    /// `store.redis.tls_ca_file` when set, then [`RedisStore::with_options`].
    pub async fn connect_with(
        urls: &[String],
        cluster: bool,
        options: &StoreOptions,
    ) -> Result<Self, StoreError> {
        let ca = match &options.tls_ca_file {
            Some(path) => Some(std::fs::read(path).map_err(|e| {
                StoreError::backend(std::io::Error::new(
                    e.kind(),
                    format!("store.redis.tls_ca_file {}: {e}", path.display()),
                ))
            })?),
            None => None,
        };
        let conn = if cluster {
            Conn::cluster(urls, ca).await?
        } else {
            let url = urls.first().map(String::as_str).unwrap_or_default();
            Conn::single(url, ca).await?
        };
        Ok(Self::with(conn).with_options(options))
    }

    fn with(conn: Conn) -> Self {
        RedisStore {
            conn,
            names: Arc::new(NameCache::new(NAME_CACHE_CAPACITY)),
            forget_unpaid_after_secs: StoreOptions::default().forget_unpaid_after_secs,
        }
    }

    /// Applies `store.forget_unpaid_after_secs` and `store.redis.wait_replicas`.
    pub fn with_options(mut self, options: &StoreOptions) -> Self {
        self.forget_unpaid_after_secs = options.forget_unpaid_after_secs;
        self.conn = self.conn.with_wait(Some(WaitReplicas {
            replicas: options.wait_replicas,
            timeout: options.wait_timeout,
        }));
        self
    }

    /// When an unpaid invoice expiring at `expires_at` is forgotten (unix seconds); `None` past
    /// what Redis can express (year 9999), for an invoice that practically never expires.
    fn forget_at(&self, expires_at: u64) -> Option<u64> {
        const LAST: u64 = 253_402_300_799;
        Some(expires_at.saturating_add(self.forget_unpaid_after_secs)).filter(|&t| t <= LAST)
    }

    /// The account id a global index key (`name:`, `inv:`, `wl:`, `wd:`, `nwc:`) points to.
    async fn owner(&self, index_key: &str) -> Result<Option<AccountId>, StoreError> {
        let id: Option<String> = self.conn.query(::redis::cmd("GET").arg(index_key)).await?;
        Ok(id.map(AccountId))
    }

    /// A paid invoice is kept: its hash → account index loses its expiry (the record's own is
    /// removed by the credit script). Also run on replays, which repairs a stop in between.
    async fn keep_paid_invoice(&self, hash: &PaymentHash) -> Result<(), StoreError> {
        self.conn
            .query::<i64>(::redis::cmd("PERSIST").arg(keys::invoice_owner(hash)))
            .await?;
        Ok(())
    }
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(StoreError::Corrupt)
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(StoreError::Corrupt)
}

fn unix_now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn parse_msat(s: &str) -> Result<Msat, StoreError> {
    s.parse()
        .map(Msat::from_msat)
        .map_err(|_| RedisCallError::Unexpected(format!("balance {s:?}")).into())
}
