//! The Redis store: a Redis server or a Redis Cluster shared by any number of gateway processes.
//! Key names live in [`super::keys`] (with the layout table and the crash-consistency argument);
//! the connection and its deadlines in `conn`; the Lua scripts that make money moves atomic in
//! `scripts`. Records are the same JSON as in the embedded store.
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

use async_trait::async_trait;
use futures_util::{StreamExt, TryStreamExt};

pub use self::conn::WaitReplicas;
use self::conn::{Conn, RedisCallError};
use self::names::NameCache;
use super::keys::{self, FIELD_BALANCE, FIELD_JSON, FIELD_SETTLED};
use super::*;
use crate::config::StoreOptions;
use crate::types::{Msat, unix_now};

/// How many account reads `list_accounts` keeps in flight.
const LIST_CONCURRENCY: usize = 32;

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

    /// A paid invoice is kept: its hash → account index loses its expiry (the record's own is
    /// removed by the credit script). Also run on replays, which repairs a stop in between.
    async fn keep_paid_invoice(&self, hash: &PaymentHash) -> Result<(), StoreError> {
        self.conn
            .query::<i64>(::redis::cmd("PERSIST").arg(keys::invoice_owner(hash)))
            .await?;
        Ok(())
    }

    /// Reads an account record: its JSON, with the balance from its own field.
    async fn read_account(&self, id: &AccountId) -> Result<Option<Account>, StoreError> {
        let mut cmd = ::redis::cmd("HMGET");
        cmd.arg(keys::account(id))
            .arg(FIELD_JSON)
            .arg(FIELD_BALANCE);
        let (json, balance): (Option<Vec<u8>>, Option<String>) = self.conn.query(&cmd).await?;
        match (json, balance) {
            (Some(json), Some(balance)) => {
                let mut account: Account = decode(&json)?;
                account.balance_msat = parse_msat(&balance)?;
                Ok(Some(account))
            }
            _ => Ok(None),
        }
    }

    /// The account id a name key points to.
    async fn name_owner(&self, name_key: &str) -> Result<Option<AccountId>, StoreError> {
        let id: Option<String> = self.conn.query(::redis::cmd("GET").arg(name_key)).await?;
        Ok(id.map(AccountId))
    }

    /// The account behind a name key; a name pointing at a removed account is no account.
    async fn account_at(&self, name_key: &str) -> Result<Option<Account>, StoreError> {
        match self.name_owner(name_key).await? {
            Some(id) => self.read_account(&id).await,
            None => Ok(None),
        }
    }

    /// Claims `name_key` for `id`: SET NX, or takes over a name left pointing at a removed
    /// account (a crash inside `delete_account`). Answers whether the name is now `id`'s.
    async fn claim_name(&self, name_key: &str, id: &AccountId) -> Result<bool, StoreError> {
        let mut set = ::redis::cmd("SET");
        set.arg(name_key).arg(&id.0).arg("NX");
        let done: Option<String> = self.conn.query(&set).await?;
        if done.is_some() {
            return Ok(true);
        }
        let Some(owner) = self.name_owner(name_key).await? else {
            // Freed in between: try once more from the start.
            let done: Option<String> = self.conn.query(&set).await?;
            return Ok(done.is_some());
        };
        if self.read_account(&owner).await?.is_some() {
            return Ok(false);
        }
        let mut swap = scripts::SWAP_IF.prepare_invoke();
        swap.key(name_key).arg(&owner.0).arg(&id.0);
        let swapped: i64 = self.conn.invoke(&swap).await?;
        if swapped == 1 {
            tracing::info!(name = name_key, stale_account = %owner, "took over a name left by a removed account");
        }
        Ok(swapped == 1)
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
        .map(Msat)
        .map_err(|_| RedisCallError::Unexpected(format!("balance {s:?}")).into())
}

#[async_trait]
impl Store for RedisStore {
    async fn create_account(&self, new: NewAccount) -> Result<Account, StoreError> {
        let name_key = keys::name(&new.address.domain, &new.address.username);
        let account = new.into_account(unix_now());
        // The record first, then the name: a crash in between leaves only an unnamed, empty record.
        let mut put = ::redis::cmd("HSET");
        put.arg(keys::account(&account.id))
            .arg(FIELD_JSON)
            .arg(encode(&account)?)
            .arg(FIELD_BALANCE)
            .arg("0");
        self.conn.query::<()>(&put).await?;
        if self.claim_name(&name_key, &account.id).await? {
            return Ok(account);
        }
        // Taken: drop the record nobody will reach (best effort; it is harmless if it stays).
        let mut drop = ::redis::cmd("DEL");
        drop.arg(keys::account(&account.id));
        if let Err(e) = self.conn.query::<()>(&drop).await {
            tracing::warn!(account = %account.id, error = %e, "could not remove an unused account record");
        }
        Err(StoreError::NameTaken)
    }

    async fn account(&self, id: &AccountId) -> Result<Option<Account>, StoreError> {
        self.read_account(id).await
    }

    /// One round trip when this process has seen the name before (see `redis/names.rs`), two
    /// otherwise.
    async fn account_by_name(
        &self,
        domain: &DomainName,
        username: &Username,
    ) -> Result<Option<Account>, StoreError> {
        let name_key = keys::name(domain, username);
        let is_named = |a: &Account| a.username == username.as_str() && a.domain == domain.as_str();
        if let Some(id) = self.names.get(&name_key) {
            match self.read_account(&id).await? {
                Some(account) if is_named(&account) => return Ok(Some(account)),
                _ => self.names.forget(&name_key, &id),
            }
        }
        let Some(id) = self.name_owner(&name_key).await? else {
            return Ok(None);
        };
        let account = self.read_account(&id).await?.filter(is_named);
        if account.is_some() {
            self.names.remember(name_key, id);
        }
        Ok(account)
    }

    async fn list_accounts(&self, domain: Option<&DomainName>) -> Result<Vec<Account>, StoreError> {
        let names = self.conn.scan(&keys::name_pattern(domain)).await?;
        let found: Vec<Option<Account>> = futures_util::stream::iter(names)
            .map(|name| async move { self.account_at(&name).await })
            .buffer_unordered(LIST_CONCURRENCY)
            .try_collect()
            .await?;
        let mut out: Vec<Account> = found.into_iter().flatten().collect();
        out.sort_by(|a, b| (&a.domain, &a.username).cmp(&(&b.domain, &b.username)));
        Ok(out)
    }

    async fn set_nostr_pubkey(
        &self,
        id: &AccountId,
        pubkey: Option<NostrPubkey>,
    ) -> Result<Account, StoreError> {
        let mut account = self.read_account(id).await?.ok_or(StoreError::NotFound)?;
        account.nostr_pubkey = pubkey;
        let mut update = scripts::UPDATE_ACCOUNT.prepare_invoke();
        update.key(keys::account(id)).arg(encode(&account)?);
        let balance: Option<String> = self.conn.invoke(&update).await?;
        let balance = balance.ok_or(StoreError::NotFound)?;
        account.balance_msat = parse_msat(&balance)?;
        Ok(account)
    }

    async fn delete_account(&self, id: &AccountId) -> Result<(), StoreError> {
        let account = self.read_account(id).await?.ok_or(StoreError::NotFound)?;
        // The record first (atomically with the zero-balance check), then the name: a crash in
        // between leaves a name pointing at nothing, which reads as free.
        let mut delete = scripts::DELETE_ACCOUNT.prepare_invoke();
        delete
            .key(keys::account(id))
            .key(keys::ledger(id))
            .arg(crate::types::unix_now());
        let answer: String = self.conn.invoke(&delete).await?;
        match answer.as_str() {
            "ok" => {}
            "missing" => return Err(StoreError::NotFound),
            "balance" => return Err(StoreError::BalanceNotZero),
            "pending" => return Err(StoreError::PaymentsPending),
            other if other.starts_with("invoices:") => {
                let until = other["invoices:".len()..].parse().unwrap_or(u64::MAX);
                return Err(StoreError::InvoicesOutstanding { until });
            }
            other => return Err(RedisCallError::Unexpected(other.to_string()).into()),
        }
        let name_key = keys::name_of(&account.domain, &account.username);
        self.names.forget(&name_key, id);
        let mut free = scripts::DELETE_IF.prepare_invoke();
        free.key(&name_key).arg(&id.0);
        self.conn.invoke::<i64>(&free).await?;
        Ok(())
    }

    async fn add_invoice(&self, invoice: InvoiceRecord) -> Result<(), StoreError> {
        let hash = invoice.payment_hash;
        let owner_key = keys::invoice_owner(&hash);
        let record_key = keys::invoice(&invoice.account_id, &hash);
        // The global index first, then the record under the account's tag; both before the
        // invoice is handed to anyone.
        let forget_at = self.forget_at(invoice.expires_at);
        let mut claim = ::redis::cmd("SET");
        claim.arg(&owner_key).arg(&invoice.account_id.0).arg("NX");
        if let Some(at) = forget_at {
            claim.arg("EXAT").arg(at);
        }
        let claimed: Option<String> = self.conn.query(&claim).await?;
        if claimed.is_none() {
            // Either a real duplicate, or a retry after a crash between the two writes.
            let owner = self.name_owner(&owner_key).await?;
            let exists: bool = self
                .conn
                .query(::redis::cmd("EXISTS").arg(&record_key))
                .await?;
            if owner.as_ref() != Some(&invoice.account_id) || exists {
                return Err(StoreError::DuplicateInvoice);
            }
        }
        outbox::preregister(&self.conn, &invoice).await?;
        let mut put = scripts::ADD_INVOICE.prepare_invoke();
        put.key(&record_key)
            .arg(encode(&invoice)?)
            .arg(forget_at.unwrap_or(0));
        let written: i64 = self.conn.invoke(&put).await?;
        if written != 1 {
            return Err(StoreError::DuplicateInvoice);
        }
        // Before the invoice is handed to anyone: the account cannot be removed until it expires.
        let mut until = scripts::INVOICES_UNTIL.prepare_invoke();
        until
            .key(keys::account(&invoice.account_id))
            .arg(invoice.expires_at);
        self.conn.invoke::<i64>(&until).await?;
        Ok(())
    }

    async fn invoice(&self, hash: &PaymentHash) -> Result<Option<InvoiceRecord>, StoreError> {
        let Some(owner) = self.name_owner(&keys::invoice_owner(hash)).await? else {
            return Ok(None);
        };
        let mut cmd = ::redis::cmd("HMGET");
        cmd.arg(keys::invoice(&owner, hash))
            .arg(FIELD_JSON)
            .arg(FIELD_SETTLED);
        let (json, settled): (Option<Vec<u8>>, Option<Vec<u8>>) = self.conn.query(&cmd).await?;
        let Some(json) = json else {
            return Ok(None);
        };
        let mut invoice: InvoiceRecord = decode(&json)?;
        if let Some(settled) = settled {
            invoice.settled = Some(decode(&settled)?);
        }
        Ok(Some(invoice))
    }

    /// Redis forgets unpaid invoices by itself (the keys' expiry): nothing to sweep.
    async fn expired_unpaid_invoices(
        &self,
        _expired_before: u64,
        _limit: usize,
    ) -> Result<Vec<PaymentHash>, StoreError> {
        Ok(Vec::new())
    }

    async fn forget_unpaid_invoice(&self, hash: &PaymentHash) -> Result<bool, StoreError> {
        let owner_key = keys::invoice_owner(hash);
        let Some(owner) = self.name_owner(&owner_key).await? else {
            return Ok(false);
        };
        let mut forget = scripts::FORGET_UNPAID.prepare_invoke();
        forget.key(keys::invoice(&owner, hash));
        let removed: i64 = self.conn.invoke(&forget).await?;
        if removed == 1 {
            // The record first: an index left alone points at nothing (an unknown invoice) and
            // expires anyway.
            self.conn
                .query::<i64>(::redis::cmd("DEL").arg(&owner_key))
                .await?;
        }
        Ok(removed == 1)
    }

    async fn credit_settlement(&self, settled: &Settlement) -> Result<CreditOutcome, StoreError> {
        let hash = settled.payment_hash;
        let Some(invoice) = self.invoice(&hash).await? else {
            return Ok(CreditOutcome::UnknownInvoice);
        };
        if invoice.settled.is_some() {
            self.keep_paid_invoice(&hash).await?;
            return Ok(CreditOutcome::AlreadyCredited);
        }
        let info = SettledInfo {
            preimage: hex::encode(settled.preimage),
            amount_paid_msat: settled.amount_paid_msat,
            settled_at: settled.settled_at,
        };
        let entry = Transaction::credit(&invoice, settled);
        let id = &invoice.account_id;
        let account = self.read_account(id).await?;
        let webhook = webhooks::job_on_credit(&invoice, settled, account.as_ref())?;
        webhooks::pre_enter(&self.conn, &webhook.member, unix_now_ms()).await?;
        let mut credit = scripts::CREDIT.prepare_invoke();
        credit
            .key(keys::invoice(id, &hash))
            .key(keys::account(id))
            .key(keys::ledger(id))
            .key(keys::zap_job(id, &hash))
            .key(&webhook.key)
            .arg(encode(&info)?)
            .arg(settled.amount_paid_msat.0)
            .arg(encode(&entry)?)
            .arg(outbox::job_on_credit(&invoice, settled)?)
            .arg(webhook.json);
        let answer: Vec<String> = self.conn.invoke(&credit).await?;
        if matches!(
            answer.first().map(String::as_str),
            Some("credited" | "gone" | "already")
        ) {
            self.keep_paid_invoice(&hash).await?;
        }
        match answer.as_slice() {
            [s, balance] if s == "credited" => {
                outbox::due_now(&self.conn, &invoice).await;
                webhooks::due_now(&self.conn, &webhook.member).await;
                Ok(CreditOutcome::Credited {
                    account_id: id.clone(),
                    balance: parse_msat(balance)?,
                })
            }
            [s] if s == "already" => Ok(CreditOutcome::AlreadyCredited),
            [s] if s == "gone" => Ok(CreditOutcome::AccountGone),
            [s] if s == "unknown" => Ok(CreditOutcome::UnknownInvoice),
            other => Err(RedisCallError::Unexpected(format!("credit: {other:?}")).into()),
        }
    }

    async fn settle_cursor(&self, node_id: &str) -> Result<u64, StoreError> {
        let value: Option<String> = self
            .conn
            .query(::redis::cmd("GET").arg(keys::cursor(node_id)))
            .await?;
        match value {
            None => Ok(0),
            Some(v) => v
                .parse()
                .map_err(|_| RedisCallError::Unexpected(format!("cursor {v:?}")).into()),
        }
    }

    async fn snapshot(&self, _out: &std::path::Path) -> Result<(), StoreError> {
        Err(StoreError::Unsupported(
            "the Redis store is backed up by Redis itself (AOF and RDB copies, see docs/deploy.md)",
        ))
    }

    async fn advance_settle_cursor(&self, node_id: &str, index: u64) -> Result<(), StoreError> {
        let mut advance = scripts::ADVANCE_CURSOR.prepare_invoke();
        advance.key(keys::cursor(node_id)).arg(index.to_string());
        self.conn.invoke::<i64>(&advance).await?;
        Ok(())
    }

    async fn reset_settle_cursor(
        &self,
        node_id: &str,
        expected: u64,
        to: u64,
    ) -> Result<bool, StoreError> {
        let mut reset = scripts::RESET_CURSOR.prepare_invoke();
        reset
            .key(keys::cursor(node_id))
            .arg(expected.to_string())
            .arg(to.to_string());
        Ok(self.conn.invoke::<i64>(&reset).await? == 1)
    }

    async fn transactions(
        &self,
        id: &AccountId,
        limit: usize,
    ) -> Result<Vec<Transaction>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let last = i64::try_from(limit - 1).unwrap_or(i64::MAX);
        let mut cmd = ::redis::cmd("LRANGE");
        cmd.arg(keys::ledger(id)).arg(0).arg(last);
        let entries: Vec<Vec<u8>> = self.conn.query(&cmd).await?;
        entries.iter().map(|e| decode(e)).collect()
    }

    async fn put_meta_once(&self, key: &str, value: &[u8]) -> Result<Vec<u8>, StoreError> {
        let key = keys::meta(key);
        let mut set = ::redis::cmd("SET");
        set.arg(&key).arg(value).arg("NX");
        let done: Option<String> = self.conn.query(&set).await?;
        if done.is_some() {
            return Ok(value.to_vec());
        }
        let kept: Option<Vec<u8>> = self.conn.query(::redis::cmd("GET").arg(&key)).await?;
        kept.ok_or_else(|| RedisCallError::Unexpected(format!("{key} vanished")).into())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.conn.query::<String>(&::redis::cmd("PING")).await?;
        Ok(())
    }
}
