//! [`Store`] on redb: accounts and their names, invoices, credits and the ledger, settle cursors,
//! write-once meta values and snapshots. Each write is one redb write transaction (see the
//! module root for the tables and the writer), so a credit, with its ledger entry, zap receipt
//! job and webhook job, is whole or absent.

use std::path::Path;

use async_trait::async_trait;
use redb::{ReadableDatabase, ReadableTable};

use super::{
    ACCOUNTS, EmbeddedStore, INVOICES, INVOICES_UNTIL, META, NAMES, TX_SEQ_KEY, TXS, backup,
    decode, encode, forget, get_account, get_u64, newest_first, next_seq, outbox, put_account,
    put_u64, webhooks, withdraw,
};
use crate::store::*;
use crate::types::{Msat, unix_now};

fn cursor_key(node_id: &str) -> String {
    format!("cursor/{node_id}")
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
