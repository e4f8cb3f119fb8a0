//! [`WithdrawStore`] on Redis (LUD-03 withdraw links). Key names are in [`keys`]. The money moves
//! are single Lua scripts over keys of one account's hash tag `{a:<id>}`: the link, the account,
//! its ledger and the withdrawal record live in one slot, so a reservation (use, balance, pending
//! ledger entry, record) and a finish (status, refund, ledger entry rewritten in place with
//! `LPOS` + `LSET`, use given back) are each atomic, on one server and on a cluster.
//!
//! Global keys are written around the scripts in an order where a crash in between is harmless:
//! - `create_withdraw_link` writes the link record, then its `wl:<k1>` index: a crash leaves an
//!   unreachable record.
//! - `reserve_withdrawal` claims `wd:<hash>` (SET NX) and adds `<id>:<hash>` to `wd:pending`
//!   before the script, and undoes both (claim first) when the script reserves nothing. A crash
//!   in between leaves a claim that refuses that invoice (no money moved) and a pending member
//!   without a record, which `pending_withdrawals` skips: while the claim stands it cannot tell
//!   that member from a reservation another process is making at that very moment, and dropping
//!   that one would lose it if its process then crashed before finishing.
//! - `finish_withdrawal` runs the script, then removes the pending member; a crash in between
//!   leaves a member whose record is no longer pending, which `pending_withdrawals` drops.
//!
//! Known limits: a reservation whose script ran but whose answer was lost (a Redis timeout) answers the wallet
//! an error and stays pending; the next payer start finds it never sent and refunds it (once the
//! payer's send grace has passed, so that a withdrawal another process is about to send is not
//! refunded under it).
//!
//! The scripts are in `withdraw/scripts.rs`.

mod scripts;

use async_trait::async_trait;

use self::scripts::{DISABLE, FINISH, GIVE_BACK_SPEND, LEASE, RESERVE, SPEND_TTL_SECS, TAKE_SPEND};
use super::conn::RedisCallError;
use super::scripts::DELETE_IF;
use super::{RedisStore, decode, encode};
use crate::store::keys::{self, FIELD_JSON};
use crate::store::withdraw::*;
use crate::store::{AccountId, StoreError};
use crate::types::{Msat, PaymentHash};

fn status_text(s: PaymentStatus) -> &'static str {
    match s {
        PaymentStatus::Pending => "pending",
        PaymentStatus::Succeeded => "succeeded",
        PaymentStatus::Failed => "failed",
    }
}

fn pending_member(id: &AccountId, hash: &PaymentHash) -> String {
    format!("{id}:{hash}")
}

impl RedisStore {
    async fn read_link(&self, k1: &str) -> Result<Option<WithdrawLink>, StoreError> {
        let Some(id) = self.owner(&keys::withdraw_link_owner(k1)).await? else {
            return Ok(None);
        };
        let mut cmd = ::redis::cmd("HMGET");
        cmd.arg(keys::withdraw_link(&id, k1))
            .arg(FIELD_JSON)
            .arg("used")
            .arg("disabled");
        let (json, used, disabled): (Option<Vec<u8>>, Option<u32>, Option<String>) =
            self.conn.query(&cmd).await?;
        let Some(json) = json else {
            return Ok(None);
        };
        let mut link: WithdrawLink = decode(&json)?;
        link.used = used.unwrap_or(0);
        link.disabled = disabled.as_deref() == Some("1");
        Ok(Some(link))
    }

    async fn read_withdrawal(
        &self,
        id: &AccountId,
        hash: &PaymentHash,
    ) -> Result<Option<Payment>, StoreError> {
        let mut cmd = ::redis::cmd("HGET");
        cmd.arg(keys::withdrawal(id, hash)).arg(FIELD_JSON);
        let json: Option<Vec<u8>> = self.conn.query(&cmd).await?;
        json.map(|j| decode(&j)).transpose()
    }

    /// A reservation around its script (through the link `k1` when given): claims `wd:<hash>`
    /// (SET NX) and adds the pending member first, and undoes both when the script reserves
    /// nothing (see the module docs for the order).
    async fn reserve_with(
        &self,
        id: &AccountId,
        r: &Reservation,
        link: Option<&str>,
    ) -> Result<ReserveOutcome, StoreError> {
        let hash = r.payment_hash;
        let mut claim = ::redis::cmd("SET");
        claim
            .arg(keys::withdrawal_owner(&hash))
            .arg(&id.0)
            .arg("NX");
        let claimed: Option<String> = self.conn.query(&claim).await?;
        if claimed.is_none() {
            return Ok(ReserveOutcome::DuplicatePayment);
        }
        let mut sadd = ::redis::cmd("SADD");
        sadd.arg(keys::withdrawals_pending())
            .arg(pending_member(id, &hash));
        self.conn.query::<i64>(&sadd).await?;
        let payment = r.payment(id.clone());
        let mut reserve = RESERVE.prepare_invoke();
        reserve
            .key(keys::account(id))
            .key(keys::ledger(id))
            .key(keys::withdrawal(id, &hash));
        if let Some(k1) = link {
            reserve.key(keys::withdraw_link(id, k1));
        }
        reserve
            .arg(r.total()?.msat().to_string())
            .arg(encode(&payment)?)
            .arg(encode(&payment.ledger_entry())?)
            .arg(r.now);
        let answer: String = self.conn.invoke(&reserve).await?;
        let outcome = match answer.as_str() {
            "reserved" => return Ok(ReserveOutcome::Reserved(Box::new(payment))),
            "unknown" => ReserveOutcome::UnknownLink,
            "disabled" => ReserveOutcome::Disabled,
            "expired" => ReserveOutcome::Expired,
            "used" => ReserveOutcome::UsedUp,
            "duplicate" => ReserveOutcome::DuplicatePayment,
            "balance" => ReserveOutcome::InsufficientBalance,
            other => return Err(RedisCallError::Unexpected(format!("reserve: {other}")).into()),
        };
        self.release_claim(id, &hash).await?;
        Ok(outcome)
    }

    async fn release_claim(&self, id: &AccountId, hash: &PaymentHash) -> Result<(), StoreError> {
        let mut free = DELETE_IF.prepare_invoke();
        free.key(keys::withdrawal_owner(hash)).arg(&id.0);
        self.conn.invoke::<i64>(&free).await?;
        let mut srem = ::redis::cmd("SREM");
        srem.arg(keys::withdrawals_pending())
            .arg(pending_member(id, hash));
        self.conn.query::<i64>(&srem).await?;
        Ok(())
    }
}

#[async_trait]
impl WithdrawStore for RedisStore {
    async fn create_withdraw_link(&self, link: &WithdrawLink) -> Result<(), StoreError> {
        let exists: bool = self
            .conn
            .query(::redis::cmd("EXISTS").arg(keys::account(&link.account_id)))
            .await?;
        if !exists {
            return Err(StoreError::NotFound);
        }
        let mut put = ::redis::cmd("HSET");
        put.arg(keys::withdraw_link(&link.account_id, &link.k1))
            .arg(FIELD_JSON)
            .arg(encode(link)?)
            .arg("uses")
            .arg(link.uses)
            .arg("used")
            .arg(link.used)
            .arg("expires_at")
            .arg(link.expires_at.unwrap_or(0))
            .arg("disabled")
            .arg(if link.disabled { "1" } else { "0" });
        self.conn.query::<()>(&put).await?;
        let mut index = ::redis::cmd("SET");
        index
            .arg(keys::withdraw_link_owner(&link.k1))
            .arg(&link.account_id.0)
            .arg("NX");
        let done: Option<String> = self.conn.query(&index).await?;
        if done.is_none() {
            // 256 random bits collided, or a retry: never overwrite another link's index.
            return Err(
                RedisCallError::Unexpected("withdraw link k1 already indexed".into()).into(),
            );
        }
        Ok(())
    }

    async fn withdraw_link(&self, k1: &str) -> Result<Option<WithdrawLink>, StoreError> {
        self.read_link(k1).await
    }

    async fn disable_withdraw_link(&self, k1: &str) -> Result<Option<WithdrawLink>, StoreError> {
        let Some(link) = self.read_link(k1).await? else {
            return Ok(None);
        };
        let mut disable = DISABLE.prepare_invoke();
        disable.key(keys::withdraw_link(&link.account_id, k1));
        let found: i64 = self.conn.invoke(&disable).await?;
        if found == 0 {
            return Ok(None);
        }
        self.read_link(k1).await
    }

    async fn take_daily_spend(
        &self,
        key: &str,
        day: u64,
        amount: Msat,
        limit: Msat,
    ) -> Result<bool, StoreError> {
        let mut take = TAKE_SPEND.prepare_invoke();
        take.key(keys::daily_spend(key, day))
            .arg(amount.msat().to_string())
            .arg(limit.msat().to_string())
            .arg(SPEND_TTL_SECS);
        let taken: i64 = self.conn.invoke(&take).await?;
        Ok(taken == 1)
    }

    async fn give_back_daily_spend(
        &self,
        key: &str,
        day: u64,
        amount: Msat,
    ) -> Result<(), StoreError> {
        let mut give = GIVE_BACK_SPEND.prepare_invoke();
        give.key(keys::daily_spend(key, day))
            .arg(amount.msat().to_string());
        let _: i64 = self.conn.invoke(&give).await?;
        Ok(())
    }

    async fn reserve_payment(
        &self,
        account: &AccountId,
        r: &Reservation,
    ) -> Result<ReserveOutcome, StoreError> {
        self.reserve_with(account, r, None).await
    }

    async fn reserve_withdrawal(&self, r: &Reservation) -> Result<ReserveOutcome, StoreError> {
        let Some(id) = self.owner(&keys::withdraw_link_owner(&r.k1)).await? else {
            return Ok(ReserveOutcome::UnknownLink);
        };
        self.reserve_with(&id, r, Some(&r.k1)).await
    }

    async fn finish_withdrawal(
        &self,
        hash: &PaymentHash,
        finish: &Finish,
        now: u64,
    ) -> Result<FinishOutcome, StoreError> {
        let Some(id) = self.owner(&keys::withdrawal_owner(hash)).await? else {
            return Ok(FinishOutcome::Unknown);
        };
        let Some(current) = self.read_withdrawal(&id, hash).await? else {
            return Ok(FinishOutcome::Unknown);
        };
        if current.status != PaymentStatus::Pending {
            return Ok(FinishOutcome::AlreadyFinished(current));
        }
        let done = current.finished(finish, now);
        let account = self.read_account(&id).await?;
        let webhook = super::webhooks::job_on_finish(&done, account.as_ref())?;
        if let Some(job) = &webhook {
            super::webhooks::pre_enter(&self.conn, &job.member, super::unix_now_ms()).await?;
        }
        let mut script = FINISH.prepare_invoke();
        script
            .key(keys::withdrawal(&id, hash))
            .key(keys::account(&id))
            .key(keys::ledger(&id))
            .key(keys::withdraw_link(&id, &done.k1))
            .key(
                webhook
                    .as_ref()
                    .map_or_else(|| keys::webhook_job(&id, "none"), |job| job.key.clone()),
            )
            .arg(status_text(done.status))
            .arg(encode(&done)?)
            .arg(encode(&done.ledger_entry())?)
            .arg(done.refund().msat().to_string())
            .arg(if done.status == PaymentStatus::Failed {
                "1"
            } else {
                "0"
            })
            .arg(
                webhook
                    .as_ref()
                    .map(|job| job.json.clone())
                    .unwrap_or_default(),
            );
        let answer: String = self.conn.invoke(&script).await?;
        let outcome = match answer.as_str() {
            "done" => {
                if let Some(job) = &webhook {
                    super::webhooks::due_now(&self.conn, &job.member).await;
                }
                FinishOutcome::Finished(done)
            }
            "already" => match self.read_withdrawal(&id, hash).await? {
                Some(p) => FinishOutcome::AlreadyFinished(p),
                None => FinishOutcome::Unknown,
            },
            "unknown" => FinishOutcome::Unknown,
            other => return Err(RedisCallError::Unexpected(format!("finish: {other}")).into()),
        };
        let mut srem = ::redis::cmd("SREM");
        srem.arg(keys::withdrawals_pending())
            .arg(pending_member(&id, hash));
        self.conn.query::<i64>(&srem).await?;
        Ok(outcome)
    }

    async fn withdrawal(&self, hash: &PaymentHash) -> Result<Option<Payment>, StoreError> {
        match self.owner(&keys::withdrawal_owner(hash)).await? {
            Some(id) => self.read_withdrawal(&id, hash).await,
            None => Ok(None),
        }
    }

    async fn lease_payment(
        &self,
        hash: &PaymentHash,
        holder: &str,
        ttl: std::time::Duration,
    ) -> Result<bool, StoreError> {
        let mut lease = LEASE.prepare_invoke();
        lease
            .key(keys::payment_lease(hash))
            .arg(holder)
            .arg(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1));
        let held: i64 = self.conn.invoke(&lease).await?;
        Ok(held == 1)
    }

    async fn release_payment(&self, hash: &PaymentHash, holder: &str) -> Result<(), StoreError> {
        let mut free = DELETE_IF.prepare_invoke();
        free.key(keys::payment_lease(hash)).arg(holder);
        self.conn.invoke::<i64>(&free).await?;
        Ok(())
    }

    async fn pending_withdrawals(&self) -> Result<Vec<Payment>, StoreError> {
        let members: Vec<String> = self
            .conn
            .query(::redis::cmd("SMEMBERS").arg(keys::withdrawals_pending()))
            .await?;
        let mut out = Vec::new();
        for member in members {
            let parsed = member.split_once(':').and_then(|(id, hash)| {
                Some((AccountId(id.to_string()), hash.parse::<PaymentHash>().ok()?))
            });
            let Some((id, hash)) = parsed else { continue };
            match self.read_withdrawal(&id, &hash).await? {
                Some(p) if p.status == PaymentStatus::Pending => out.push(p),
                // No record but a claim: a reservation another process is making right now
                // (claim and member come before the script), or one a crash cut short. Either
                // way it is not this payer's to drop.
                None if self.owner(&keys::withdrawal_owner(&hash)).await?.is_some() => {}
                _ => {
                    // A reservation released (claim gone), or a finish whose SREM was lost.
                    let mut srem = ::redis::cmd("SREM");
                    srem.arg(keys::withdrawals_pending()).arg(&member);
                    self.conn.query::<i64>(&srem).await?;
                }
            }
        }
        Ok(out)
    }
}
