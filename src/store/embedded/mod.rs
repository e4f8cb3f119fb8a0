//! The embedded store: one redb file under `data_dir`. redb commits are copy-on-write with a
//! checksummed, fsynced commit record, so a process killed at any point (even `kill -9`) reopens to
//! the last committed transaction: a credit is either whole or absent. One write transaction at a
//! time makes every operation atomic without further locking. Single process only (redb takes a
//! file lock); use Redis for many processes.

pub mod backup;
mod domains;
mod forget;
mod leased;
mod lndhub;
mod nwc;
mod outbox;
mod ratelimit;
mod webhooks;
mod withdraw;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use redb::{
    Database, ReadTransaction, ReadableDatabase, ReadableTable, Table, TableDefinition,
    WriteTransaction,
};

use super::*;
use crate::batch_writer::{BatchWriter, WriterError};
use crate::types::{Msat, unix_now};

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

fn cursor_key(node_id: &str) -> String {
    format!("cursor/{node_id}")
}

/// The redb-backed [`Store`].
#[derive(Clone)]
pub struct EmbeddedStore {
    /// Declared first: dropping the last handle stops the writer thread before the database closes.
    writer: Arc<BatchWriter<StoreError>>,
    db: Arc<Database>,
    buckets: Arc<ratelimit::Buckets>,
    /// Payment leases ([`WithdrawStore::lease_payment`]): one process serves an embedded store,
    /// so they live in memory.
    leases: Arc<withdraw::Leases>,
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

#[async_trait]
impl Store for EmbeddedStore {
    async fn create_account(&self, new: NewAccount) -> Result<Account, StoreError> {
        self.write(move |tx| {
            let key = name_key(&new.address.domain, &new.address.username);
            let account = new.clone().into_account(unix_now());
            let mut names = tx.open_table(NAMES).map_err(StoreError::backend)?;
            if names
                .get(key.as_str())
                .map_err(StoreError::backend)?
                .is_some()
            {
                return Err(StoreError::NameTaken);
            }
            names
                .insert(key.as_str(), account.id.0.as_str())
                .map_err(StoreError::backend)?;
            put_account(tx, &account)?;
            Ok(account)
        })
        .await
    }

    async fn account(&self, id: &AccountId) -> Result<Option<Account>, StoreError> {
        let id = id.0.clone();
        self.read(move |tx| {
            let t = tx.open_table(ACCOUNTS).map_err(StoreError::backend)?;
            get_account(&t, &id)
        })
        .await
    }

    async fn account_by_name(
        &self,
        domain: &DomainName,
        username: &Username,
    ) -> Result<Option<Account>, StoreError> {
        let key = name_key(domain, username);
        self.read(move |tx| {
            let names = tx.open_table(NAMES).map_err(StoreError::backend)?;
            let Some(id) = names.get(key.as_str()).map_err(StoreError::backend)? else {
                return Ok(None);
            };
            let accounts = tx.open_table(ACCOUNTS).map_err(StoreError::backend)?;
            get_account(&accounts, id.value())
        })
        .await
    }

    async fn list_accounts(&self, domain: Option<&DomainName>) -> Result<Vec<Account>, StoreError> {
        let prefix = domain.map(|d| format!("{d}/"));
        self.read(move |tx| {
            let names = tx.open_table(NAMES).map_err(StoreError::backend)?;
            let accounts = tx.open_table(ACCOUNTS).map_err(StoreError::backend)?;
            let mut out = Vec::new();
            let start = prefix.as_deref().unwrap_or("");
            for entry in names.range(start..).map_err(StoreError::backend)? {
                let (k, id) = entry.map_err(StoreError::backend)?;
                if !k.value().starts_with(start) {
                    break;
                }
                if let Some(a) = get_account(&accounts, id.value())? {
                    out.push(a);
                }
            }
            out.sort_by(|a, b| (&a.domain, &a.username).cmp(&(&b.domain, &b.username)));
            Ok(out)
        })
        .await
    }

    async fn set_nostr_pubkey(
        &self,
        id: &AccountId,
        pubkey: Option<NostrPubkey>,
    ) -> Result<Account, StoreError> {
        let id = id.0.clone();
        self.write(move |tx| {
            let mut account = {
                let t = tx.open_table(ACCOUNTS).map_err(StoreError::backend)?;
                get_account(&t, &id)?.ok_or(StoreError::NotFound)?
            };
            account.nostr_pubkey = pubkey.clone();
            put_account(tx, &account)?;
            Ok(account)
        })
        .await
    }

    async fn delete_account(&self, id: &AccountId) -> Result<(), StoreError> {
        let id = id.0.clone();
        self.write(move |tx| {
            let mut accounts = tx.open_table(ACCOUNTS).map_err(StoreError::backend)?;
            let account = get_account(&accounts, &id)?.ok_or(StoreError::NotFound)?;
            if account.balance_msat != Msat::ZERO {
                return Err(StoreError::BalanceNotZero);
            }
            if withdraw::has_pending(tx, &account.id)? {
                return Err(StoreError::PaymentsPending);
            }
            let mut until_t = tx.open_table(INVOICES_UNTIL).map_err(StoreError::backend)?;
            let until = until_t
                .get(id.as_str())
                .map_err(StoreError::backend)?
                .map_or(0, |v| v.value());
            if until > unix_now() {
                return Err(StoreError::InvoicesOutstanding { until });
            }
            until_t.remove(id.as_str()).map_err(StoreError::backend)?;
            drop(until_t);
            accounts.remove(id.as_str()).map_err(StoreError::backend)?;
            let mut names = tx.open_table(NAMES).map_err(StoreError::backend)?;
            let key = format!("{}/{}", account.domain, account.username);
            names.remove(key.as_str()).map_err(StoreError::backend)?;
            let mut txs = tx.open_table(TXS).map_err(StoreError::backend)?;
            txs.retain_in((id.as_str(), 0)..=(id.as_str(), u64::MAX), |_, _| false)
                .map_err(StoreError::backend)?;
            Ok(())
        })
        .await
    }

    async fn add_invoice(&self, invoice: InvoiceRecord) -> Result<(), StoreError> {
        self.write(move |tx| {
            let mut t = tx.open_table(INVOICES).map_err(StoreError::backend)?;
            let key = invoice.payment_hash.0;
            if t.get(key.as_slice())
                .map_err(StoreError::backend)?
                .is_some()
            {
                return Err(StoreError::DuplicateInvoice);
            }
            t.insert(key.as_slice(), encode(&invoice)?.as_slice())
                .map_err(StoreError::backend)?;
            let mut until = tx.open_table(INVOICES_UNTIL).map_err(StoreError::backend)?;
            let id = invoice.account_id.0.as_str();
            let known = until
                .get(id)
                .map_err(StoreError::backend)?
                .map_or(0, |v| v.value());
            if invoice.expires_at > known {
                until
                    .insert(id, invoice.expires_at)
                    .map_err(StoreError::backend)?;
            }
            forget::index(tx, &invoice)?;
            Ok(())
        })
        .await
    }

    async fn expired_unpaid_invoices(
        &self,
        expired_before: u64,
        limit: usize,
    ) -> Result<Vec<PaymentHash>, StoreError> {
        self.read(move |tx| {
            let index = tx.open_table(forget::EXPIRY).map_err(StoreError::backend)?;
            forget::expired(&index, expired_before, limit)
        })
        .await
    }

    async fn forget_unpaid_invoice(&self, hash: &PaymentHash) -> Result<bool, StoreError> {
        let hash = *hash;
        self.write(move |tx| forget::forget(tx, &hash)).await
    }

    async fn invoice(&self, hash: &PaymentHash) -> Result<Option<InvoiceRecord>, StoreError> {
        let key = hash.0;
        self.read(move |tx| {
            let t = tx.open_table(INVOICES).map_err(StoreError::backend)?;
            match t.get(key.as_slice()).map_err(StoreError::backend)? {
                Some(v) => Ok(Some(decode(v.value())?)),
                None => Ok(None),
            }
        })
        .await
    }

    async fn credit_settlement(&self, settled: &Settlement) -> Result<CreditOutcome, StoreError> {
        let settled = settled.clone();
        self.write(move |tx| {
            let key = settled.payment_hash.0;
            let mut invoices = tx.open_table(INVOICES).map_err(StoreError::backend)?;
            let mut invoice: InvoiceRecord =
                match invoices.get(key.as_slice()).map_err(StoreError::backend)? {
                    Some(v) => decode(v.value())?,
                    None => return Ok(CreditOutcome::UnknownInvoice),
                };
            if invoice.settled.is_some() {
                return Ok(CreditOutcome::AlreadyCredited);
            }
            invoice.settled = Some(SettledInfo {
                preimage: hex::encode(settled.preimage),
                amount_paid_msat: settled.amount_paid_msat,
                settled_at: settled.settled_at,
            });
            invoices
                .insert(key.as_slice(), encode(&invoice)?.as_slice())
                .map_err(StoreError::backend)?;

            let mut account = {
                let t = tx.open_table(ACCOUNTS).map_err(StoreError::backend)?;
                match get_account(&t, &invoice.account_id.0)? {
                    Some(a) => a,
                    None => return Ok(CreditOutcome::AccountGone),
                }
            };
            account.balance_msat = account
                .balance_msat
                .checked_add(settled.amount_paid_msat)
                .ok_or_else(|| StoreError::backend(std::io::Error::other("balance overflow")))?;
            put_account(tx, &account)?;

            let seq = next_seq(tx, TX_SEQ_KEY)?;
            let mut txs = tx.open_table(TXS).map_err(StoreError::backend)?;
            let entry = Transaction::credit(&invoice, &settled);
            txs.insert((account.id.0.as_str(), seq), encode(&entry)?.as_slice())
                .map_err(StoreError::backend)?;
            outbox::enqueue_on_credit(tx, &invoice, &settled)?;
            webhooks::enqueue_on_credit(tx, &invoice, &settled, &account)?;
            Ok(CreditOutcome::Credited {
                account_id: account.id,
                balance: account.balance_msat,
            })
        })
        .await
    }

    async fn settle_cursor(&self, node_id: &str) -> Result<u64, StoreError> {
        let key = cursor_key(node_id);
        self.read(move |tx| {
            let t = tx.open_table(META).map_err(StoreError::backend)?;
            get_u64(&t, &key)
        })
        .await
    }

    async fn snapshot(&self, out: &Path) -> Result<(), StoreError> {
        // The read transaction begins now: the snapshot is the store as of this call.
        let tx = self.db.begin_read().map_err(StoreError::backend)?;
        let out = out.to_path_buf();
        tokio::task::spawn_blocking(move || backup::write_snapshot(&tx, &out))
            .await
            .map_err(StoreError::backend)?
    }

    async fn advance_settle_cursor(&self, node_id: &str, index: u64) -> Result<(), StoreError> {
        let key = cursor_key(node_id);
        self.write(move |tx| {
            let mut t = tx.open_table(META).map_err(StoreError::backend)?;
            if index > get_u64(&t, &key)? {
                put_u64(&mut t, &key, index)?;
            }
            Ok(())
        })
        .await
    }

    async fn reset_settle_cursor(
        &self,
        node_id: &str,
        expected: u64,
        to: u64,
    ) -> Result<bool, StoreError> {
        let key = cursor_key(node_id);
        self.write(move |tx| {
            let mut t = tx.open_table(META).map_err(StoreError::backend)?;
            if get_u64(&t, &key)? != expected {
                return Ok(false);
            }
            put_u64(&mut t, &key, to)?;
            Ok(true)
        })
        .await
    }

    async fn transactions(
        &self,
        id: &AccountId,
        limit: usize,
    ) -> Result<Vec<Transaction>, StoreError> {
        let id = id.0.clone();
        self.read(move |tx| {
            let t = tx.open_table(TXS).map_err(StoreError::backend)?;
            newest_first(&t, &id, limit, decode)
        })
        .await
    }

    async fn put_meta_once(&self, key: &str, value: &[u8]) -> Result<Vec<u8>, StoreError> {
        let key = format!("kv/{key}");
        let value = value.to_vec();
        self.write(move |tx| {
            let mut t = tx.open_table(META).map_err(StoreError::backend)?;
            if let Some(existing) = t.get(key.as_str()).map_err(StoreError::backend)? {
                return Ok(existing.value().to_vec());
            }
            t.insert(key.as_str(), value.as_slice())
                .map_err(StoreError::backend)?;
            Ok(value.clone())
        })
        .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read(|tx| tx.open_table(META).map(|_| ()).map_err(StoreError::backend))
            .await
    }
}
