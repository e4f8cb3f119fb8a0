//! [`WithdrawStore`] on redb (LUD-03 withdraw links). Each operation is one write transaction, and
//! redb runs one write transaction at a time, so a reservation (link use, balance, pending ledger
//! entry, payment record) and a finish (status, refund, ledger entry, use back) are each atomic.
//!
//! Tables: `withdraw_links` (k1 → link JSON), `withdrawals` (payment hash → [`Row`] JSON: the
//! payment and the sequence of its ledger entry, so finishing rewrites that entry in place),
//! `withdrawals_pending` (payment hash → 0, the payer's work list).

use async_trait::async_trait;
use redb::{ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::{
    ACCOUNTS, EmbeddedStore, META, TX_SEQ_KEY, TXS, decode, encode, get_account, get_u64, next_seq,
    put_account, put_u64,
};
use crate::store::withdraw::*;
use crate::store::{AccountId, StoreError};
use crate::types::{Msat, PaymentHash};

pub(super) const LINKS: TableDefinition<&str, &[u8]> = TableDefinition::new("withdraw_links");
pub(super) const PAYMENTS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("withdrawals");
pub(super) const PENDING: TableDefinition<&[u8], u8> = TableDefinition::new("withdrawals_pending");

/// A withdrawal and where its ledger entry is.
#[derive(Serialize, Deserialize)]
struct Row {
    payment: Payment,
    ledger_seq: u64,
}

fn get_link(tx: &WriteTransaction, k1: &str) -> Result<Option<WithdrawLink>, StoreError> {
    let t = tx.open_table(LINKS).map_err(StoreError::backend)?;
    let v = t.get(k1).map_err(StoreError::backend)?;
    v.map(|v| decode(v.value())).transpose()
}

fn put_link(tx: &WriteTransaction, link: &WithdrawLink) -> Result<(), StoreError> {
    let mut t = tx.open_table(LINKS).map_err(StoreError::backend)?;
    t.insert(link.k1.as_str(), encode(link)?.as_slice())
        .map_err(StoreError::backend)?;
    Ok(())
}

fn get_row(tx: &WriteTransaction, hash: &PaymentHash) -> Result<Option<Row>, StoreError> {
    let t = tx.open_table(PAYMENTS).map_err(StoreError::backend)?;
    let v = t.get(hash.0.as_slice()).map_err(StoreError::backend)?;
    v.map(|v| decode(v.value())).transpose()
}

fn put_row(tx: &WriteTransaction, row: &Row) -> Result<(), StoreError> {
    let mut t = tx.open_table(PAYMENTS).map_err(StoreError::backend)?;
    t.insert(
        row.payment.payment_hash.0.as_slice(),
        encode(row)?.as_slice(),
    )
    .map_err(StoreError::backend)?;
    Ok(())
}

fn account_of(tx: &WriteTransaction, id: &AccountId) -> Result<Option<super::Account>, StoreError> {
    let t = tx.open_table(ACCOUNTS).map_err(StoreError::backend)?;
    get_account(&t, &id.0)
}

/// Writes the ledger entry at `seq` (a new sequence number when `seq` is 0); answers the sequence.
fn put_ledger(tx: &WriteTransaction, payment: &Payment, seq: u64) -> Result<u64, StoreError> {
    let seq = if seq == 0 {
        next_seq(tx, TX_SEQ_KEY)?
    } else {
        seq
    };
    let mut txs = tx.open_table(TXS).map_err(StoreError::backend)?;
    txs.insert(
        (payment.account_id.0.as_str(), seq),
        encode(&payment.ledger_entry())?.as_slice(),
    )
    .map_err(StoreError::backend)?;
    Ok(seq)
}

/// The part of a reservation every payment shares, in `tx`: the hash never reserved before, the
/// balance covering `amount + fee reserve`; then the debit, the pending ledger entry, the record
/// and the work-list entry. Nothing is written unless it answers `Reserved`.
fn reserve_in(
    tx: &WriteTransaction,
    id: &AccountId,
    r: &Reservation,
) -> Result<ReserveOutcome, StoreError> {
    if get_row(tx, &r.payment_hash)?.is_some() {
        return Ok(ReserveOutcome::DuplicatePayment);
    }
    let Some(mut account) = account_of(tx, id)? else {
        return Ok(ReserveOutcome::UnknownLink);
    };
    let total = r.total()?;
    let Some(left) = account.balance_msat.checked_sub(total) else {
        return Ok(ReserveOutcome::InsufficientBalance);
    };
    account.balance_msat = left;
    put_account(tx, &account)?;
    let payment = r.payment(id.clone());
    let ledger_seq = put_ledger(tx, &payment, 0)?;
    put_row(
        tx,
        &Row {
            payment: payment.clone(),
            ledger_seq,
        },
    )?;
    let mut pending = tx.open_table(PENDING).map_err(StoreError::backend)?;
    pending
        .insert(r.payment_hash.0.as_slice(), 0)
        .map_err(StoreError::backend)?;
    Ok(ReserveOutcome::Reserved(Box::new(payment)))
}

/// Whether a withdrawal from `id` is still pending (the pending table holds only payments in
/// flight, so it is short).
pub(super) fn has_pending(tx: &WriteTransaction, id: &AccountId) -> Result<bool, StoreError> {
    let pending = tx.open_table(PENDING).map_err(StoreError::backend)?;
    let payments = tx.open_table(PAYMENTS).map_err(StoreError::backend)?;
    for entry in pending.iter().map_err(StoreError::backend)? {
        let (hash, _) = entry.map_err(StoreError::backend)?;
        if let Some(v) = payments.get(hash.value()).map_err(StoreError::backend)? {
            let row: Row = decode(v.value())?;
            if &row.payment.account_id == id {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// The META key of a daily spending counter.
fn spend_key(key: &str, day: u64) -> String {
    format!("spend/{key}/{day}")
}

#[async_trait]
impl WithdrawStore for EmbeddedStore {
    async fn create_withdraw_link(&self, link: &WithdrawLink) -> Result<(), StoreError> {
        let link = link.clone();
        self.write(move |tx| {
            if account_of(tx, &link.account_id)?.is_none() {
                return Err(StoreError::NotFound);
            }
            put_link(tx, &link)
        })
        .await
    }

    async fn withdraw_link(&self, k1: &str) -> Result<Option<WithdrawLink>, StoreError> {
        let k1 = k1.to_string();
        self.read(move |tx| {
            let t = tx.open_table(LINKS).map_err(StoreError::backend)?;
            let v = t.get(k1.as_str()).map_err(StoreError::backend)?;
            v.map(|v| decode(v.value())).transpose()
        })
        .await
    }

    async fn disable_withdraw_link(&self, k1: &str) -> Result<Option<WithdrawLink>, StoreError> {
        let k1 = k1.to_string();
        self.write(move |tx| {
            let Some(mut link) = get_link(tx, &k1)? else {
                return Ok(None);
            };
            link.disabled = true;
            put_link(tx, &link)?;
            Ok(Some(link))
        })
        .await
    }

    async fn take_daily_spend(
        &self,
        key: &str,
        day: u64,
        amount: Msat,
        limit: Msat,
    ) -> Result<bool, StoreError> {
        let key = spend_key(key, day);
        self.write(move |tx| {
            let mut meta = tx.open_table(META).map_err(StoreError::backend)?;
            match get_u64(&meta, &key)?.checked_add(amount.msat()) {
                Some(total) if total <= limit.msat() => {
                    put_u64(&mut meta, &key, total)?;
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
        .await
    }

    async fn give_back_daily_spend(
        &self,
        key: &str,
        day: u64,
        amount: Msat,
    ) -> Result<(), StoreError> {
        let key = spend_key(key, day);
        self.write(move |tx| {
            let mut meta = tx.open_table(META).map_err(StoreError::backend)?;
            let used = get_u64(&meta, &key)?;
            if used == 0 {
                return Ok(());
            }
            put_u64(&mut meta, &key, used.saturating_sub(amount.msat()))
        })
        .await
    }

    async fn reserve_payment(
        &self,
        account: &AccountId,
        r: &Reservation,
    ) -> Result<ReserveOutcome, StoreError> {
        let (id, r) = (account.clone(), r.clone());
        self.write(move |tx| reserve_in(tx, &id, &r)).await
    }

    async fn reserve_withdrawal(&self, r: &Reservation) -> Result<ReserveOutcome, StoreError> {
        let r = r.clone();
        self.write(move |tx| {
            let Some(mut link) = get_link(tx, &r.k1)? else {
                return Ok(ReserveOutcome::UnknownLink);
            };
            if link.disabled {
                return Ok(ReserveOutcome::Disabled);
            }
            if link.is_expired(r.now) {
                return Ok(ReserveOutcome::Expired);
            }
            if link.uses_left() == 0 {
                return Ok(ReserveOutcome::UsedUp);
            }
            let reserved = reserve_in(tx, &link.account_id, &r)?;
            if matches!(reserved, ReserveOutcome::Reserved(_)) {
                link.used += 1;
                put_link(tx, &link)?;
            }
            Ok(reserved)
        })
        .await
    }

    async fn finish_withdrawal(
        &self,
        hash: &PaymentHash,
        finish: &Finish,
        now: u64,
    ) -> Result<FinishOutcome, StoreError> {
        let hash = *hash;
        let finish = finish.clone();
        self.write(move |tx| {
            let Some(row) = get_row(tx, &hash)? else {
                return Ok(FinishOutcome::Unknown);
            };
            if row.payment.status != PaymentStatus::Pending {
                return Ok(FinishOutcome::AlreadyFinished(row.payment));
            }
            let done = row.payment.finished(&finish, now);
            if let Some(mut account) = account_of(tx, &done.account_id)? {
                account.balance_msat = account
                    .balance_msat
                    .checked_add(done.refund())
                    .unwrap_or(Msat::from_msat(u64::MAX));
                put_account(tx, &account)?;
                if let Some(outgoing) = done.outgoing() {
                    super::webhooks::enqueue_on_finish(tx, &outgoing, &account)?;
                }
            }
            if done.status == PaymentStatus::Failed
                && let Some(mut link) = get_link(tx, &done.k1)?
            {
                link.used = link.used.saturating_sub(1);
                put_link(tx, &link)?;
            }
            put_ledger(tx, &done, row.ledger_seq)?;
            put_row(
                tx,
                &Row {
                    payment: done.clone(),
                    ledger_seq: row.ledger_seq,
                },
            )?;
            let mut pending = tx.open_table(PENDING).map_err(StoreError::backend)?;
            pending
                .remove(hash.0.as_slice())
                .map_err(StoreError::backend)?;
            Ok(FinishOutcome::Finished(done))
        })
        .await
    }

    async fn withdrawal(&self, hash: &PaymentHash) -> Result<Option<Payment>, StoreError> {
        let key = hash.0;
        self.read(move |tx| {
            let t = tx.open_table(PAYMENTS).map_err(StoreError::backend)?;
            let v = t.get(key.as_slice()).map_err(StoreError::backend)?;
            Ok(v.map(|v| decode::<Row>(v.value()))
                .transpose()?
                .map(|r| r.payment))
        })
        .await
    }

    async fn lease_payment(
        &self,
        hash: &PaymentHash,
        holder: &str,
        ttl: std::time::Duration,
    ) -> Result<bool, StoreError> {
        Ok(self.leases.take(hash, holder, ttl))
    }

    async fn release_payment(&self, hash: &PaymentHash, holder: &str) -> Result<(), StoreError> {
        self.leases.release(hash, holder);
        Ok(())
    }

    async fn pending_withdrawals(&self) -> Result<Vec<Payment>, StoreError> {
        self.read(move |tx| {
            let pending = tx.open_table(PENDING).map_err(StoreError::backend)?;
            let payments = tx.open_table(PAYMENTS).map_err(StoreError::backend)?;
            let mut out = Vec::new();
            for entry in pending.iter().map_err(StoreError::backend)? {
                let (hash, _) = entry.map_err(StoreError::backend)?;
                if let Some(v) = payments.get(hash.value()).map_err(StoreError::backend)? {
                    let row: Row = decode(v.value())?;
                    out.push(row.payment);
                }
            }
            Ok(out)
        })
        .await
    }
}
