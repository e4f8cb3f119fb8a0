//! [`Store`] on Redis: accounts and their names, invoices, credits and the ledger, settle
//! cursors, write-once meta values. The key layout and the order of writes across slots are in
//! [`keys`](crate::store::keys); the scripts in `scripts`.

use async_trait::async_trait;
use futures_util::{StreamExt, TryStreamExt};

use super::conn::RedisCallError;
use super::{RedisStore, decode, encode, outbox, parse_msat, scripts, unix_now_ms, webhooks};
use crate::store::keys::{self, FIELD_BALANCE, FIELD_JSON, FIELD_SETTLED};
use crate::store::*;
use crate::types::unix_now;

/// How many account reads `list_accounts` keeps in flight.
const LIST_CONCURRENCY: usize = 32;

impl RedisStore {
    /// Reads an account record: its JSON, with the balance from its own field.
    pub(super) async fn read_account(&self, id: &AccountId) -> Result<Option<Account>, StoreError> {
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
        let Some(id) = self.owner(&name_key).await? else {
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
            let owner = self.owner(&owner_key).await?;
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
        let Some(owner) = self.owner(&keys::invoice_owner(hash)).await? else {
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
        let Some(owner) = self.owner(&owner_key).await? else {
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
            .arg(settled.amount_paid_msat.msat())
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
