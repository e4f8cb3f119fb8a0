//! The embedded store: one redb file under `data_dir`. redb commits are copy-on-write with a
//! checksummed, fsynced commit record, so a process killed at any point (even `kill -9`) reopens to
//! the last committed transaction: a credit is either whole or absent. One write transaction at a
//! time makes every operation atomic without further locking. Single process only (redb takes a
//! file lock); use Redis for many processes.
//!
//! This file opens the database and holds what every part shares: the core tables, the writer,
//! the record codecs and the helpers for numbers kept in `meta`. [`Store`] itself (accounts,
//! invoices, credits, the ledger) is in `accounts`; each other store trait has its own file
//! (`withdraw`, `nwc`, `lndhub`, `webhooks`, `outbox`, `domains`, `ratelimit`), over the leased
//! outbox of `leased`, the invoice expiry index of `forget` and the payment leases of `leases`.

mod accounts;
pub mod backup;
mod domains;
mod forget;
mod leased;
mod leases;
mod lndhub;
mod nwc;
mod outbox;
mod ratelimit;
mod webhooks;
mod withdraw;

use std::path::Path;
use std::sync::Arc;

use redb::{
    Database, ReadTransaction, ReadableDatabase, ReadableTable, Table, TableDefinition,
    WriteTransaction,
};

use super::*;
use crate::batch_writer::{BatchWriter, WriterError};

const ACCOUNTS: TableDefinition<&str, &[u8]> = TableDefinition::new("accounts");
const NAMES: TableDefinition<&str, &str> = TableDefinition::new("names");
const INVOICES: TableDefinition<&[u8], &[u8]> = TableDefinition::new("invoices");
/// Ledger: (account id, sequence) → transaction; the sequence grows, so a reverse range is newest
/// first.
const TXS: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("transactions");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Account id → the latest expiry (Unix seconds) of the invoices issued to it: until then the
/// account cannot be removed.
const INVOICES_UNTIL: TableDefinition<&str, u64> = TableDefinition::new("invoices_until");
const TX_SEQ_KEY: &str = "seq/transactions";

/// The redb-backed [`Store`].
#[derive(Clone)]
pub struct EmbeddedStore {
    /// Declared first: dropping the last handle stops the writer thread before the database closes.
    writer: Arc<BatchWriter<StoreError>>,
    db: Arc<Database>,
    buckets: Arc<ratelimit::Buckets>,
    /// Payment leases ([`WithdrawStore::lease_payment`]): one process serves an embedded store,
    /// so they live in memory.
    leases: Arc<leases::Leases>,
}

impl EmbeddedStore {
    /// Opens (or creates) the store file, creating its directory (0700) and tables. The file is
    /// made 0600 whatever the umask: it holds withdraw k1s and generated zapper keys.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        crate::fsutil::prepare_private_file(path).map_err(StoreError::backend)?;
        // redb's page cache defaults to 1 GiB. A gateway's hot set (the name and account pages of
        // the addresses being looked up) fits in a few MiB; written invoice pages are not read
        // again soon, and a larger cache only kept them resident (32 MiB cost 20 MB of RSS under
        // callback load, with no change in req/s). Misses are served from the OS page cache.
        let db = Database::builder()
            .set_cache_size(8 << 20)
            .create(path)
            .map_err(StoreError::backend)?;
        let tx = db.begin_write().map_err(StoreError::backend)?;
        {
            tx.open_table(ACCOUNTS).map_err(StoreError::backend)?;
            tx.open_table(NAMES).map_err(StoreError::backend)?;
            tx.open_table(INVOICES).map_err(StoreError::backend)?;
            tx.open_table(TXS).map_err(StoreError::backend)?;
            tx.open_table(META).map_err(StoreError::backend)?;
            tx.open_table(INVOICES_UNTIL).map_err(StoreError::backend)?;
            forget::create(&tx)?;
            outbox::create_tables(&tx)?;
            lndhub::create_tables(&tx)?;
            webhooks::create_tables(&tx)?;
            domains::create_tables(&tx)?;
            nwc::create_tables(&tx)?;
            tx.open_table(withdraw::LINKS)
                .map_err(StoreError::backend)?;
            tx.open_table(withdraw::PAYMENTS)
                .map_err(StoreError::backend)?;
            tx.open_table(withdraw::PENDING)
                .map_err(StoreError::backend)?;
        }
        tx.commit().map_err(StoreError::backend)?;
        let db = Arc::new(db);
        let writer = BatchWriter::start(db.clone(), "store").map_err(StoreError::backend)?;
        Ok(EmbeddedStore {
            writer: Arc::new(writer),
            db,
            buckets: Arc::default(),
            leases: Arc::default(),
        })
    }

    /// Runs `f` in a write transaction and answers once it is committed. Writes that arrive
    /// together share one commit (see [`crate::batch_writer`]); `f` may run twice, so it must check
    /// before it writes and give the same answer for the same state.
    async fn write<T: Send + 'static>(
        &self,
        f: impl Fn(&WriteTransaction) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.writer.write(f).await
    }

    /// Runs `f` in a read transaction. Inline, not on the blocking pool: a redb read of hot pages
    /// takes microseconds, less than handing it to another thread.
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&ReadTransaction) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let tx = self.db.begin_read().map_err(StoreError::backend)?;
        f(&tx)
    }
}

impl WriterError for StoreError {
    fn backend(message: String) -> Self {
        StoreError::backend(std::io::Error::other(message))
    }
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(StoreError::Corrupt)
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(StoreError::Corrupt)
}

fn get_account(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    id: &str,
) -> Result<Option<Account>, StoreError> {
    match table.get(id).map_err(StoreError::backend)? {
        Some(v) => Ok(Some(decode(v.value())?)),
        None => Ok(None),
    }
}

fn put_account(tx: &WriteTransaction, account: &Account) -> Result<(), StoreError> {
    let mut t = tx.open_table(ACCOUNTS).map_err(StoreError::backend)?;
    t.insert(account.id.0.as_str(), encode(account)?.as_slice())
        .map_err(StoreError::backend)?;
    Ok(())
}

/// A number kept in `meta` (8 bytes, big-endian: sequences, settle cursors, spending counters,
/// the domains' version); 0 when absent.
fn get_u64(
    meta: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &str,
) -> Result<u64, StoreError> {
    let value = meta.get(key).map_err(StoreError::backend)?;
    Ok(value
        .as_ref()
        .and_then(|v| <[u8; 8]>::try_from(v.value()).ok())
        .map_or(0, u64::from_be_bytes))
}

/// Writes a number into `meta` (see [`get_u64`]).
fn put_u64(
    meta: &mut Table<&'static str, &'static [u8]>,
    key: &str,
    value: u64,
) -> Result<(), StoreError> {
    meta.insert(key, value.to_be_bytes().as_slice())
        .map_err(StoreError::backend)?;
    Ok(())
}

/// Moves the sequence `key` in `meta` one forward and answers the new number (1 the first time).
fn next_seq(tx: &WriteTransaction, key: &str) -> Result<u64, StoreError> {
    let mut meta = tx.open_table(META).map_err(StoreError::backend)?;
    let next = get_u64(&meta, key)? + 1;
    put_u64(&mut meta, key, next)?;
    Ok(next)
}

/// The rows of `owner` in a table keyed by (owner, sequence), newest first, at most `limit`,
/// each read by `each`.
fn newest_first<T>(
    table: &impl ReadableTable<(&'static str, u64), &'static [u8]>,
    owner: &str,
    limit: usize,
    each: impl Fn(&[u8]) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let range = table
        .range((owner, 0)..=(owner, u64::MAX))
        .map_err(StoreError::backend)?;
    let mut out = Vec::new();
    for entry in range.rev().take(limit) {
        let (_, v) = entry.map_err(StoreError::backend)?;
        out.push(each(v.value())?);
    }
    Ok(out)
}
