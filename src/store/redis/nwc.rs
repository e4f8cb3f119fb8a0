//! [`NwcStore`] on Redis (NIP-47 connections). Key names are in [`keys`]. A connection is one hash
//! in its account's slot (`json`, `revoked`, and the budget state `used` and `period`), so a budget
//! reservation is one Lua script over one key, atomic on a server and on a cluster; the budget a
//! request holds is a field `hold:<event id>` = `<amount>:<period>` of that hash, so reserving and
//! settling it are too. A request claim is one script over its own key `nwcreq:<event id>`
//! (`c:<claimed at>:<event JSON>` while running, `a:<response>` once answered), kept for
//! [`REQUEST_TTL_SECS`]; the set `nwcreq:open` names the requests that may be running (added to
//! before the claim, removed from after the answer, so it names every one of them; a request
//! delivered again once answered or while running is not added again), which
//! [`NwcStore::stale_nwc_requests`] reads with one `MGET` of their keys per sweep (split per slot
//! on a cluster by the client, the parts sent at once).
//!
//! Global keys are written after the connection's hash: `nwc:<wallet pubkey>` (the owner index)
//! and the member `<account id>/<wallet pubkey>` of `nwc:all`. A crash in between leaves an
//! unreachable hash, harmless; readers skip members whose hash is gone.
//!
//! The scripts are in `nwc/scripts.rs`.

mod scripts;

use async_trait::async_trait;

use self::scripts::{CLAIM, RENEW, RESERVE, REVOKE, SETTLE};
use super::conn::RedisCallError;
use super::{RedisStore, decode, encode};
use crate::store::keys::{self, FIELD_JSON};
use crate::store::nwc::*;
use crate::store::{AccountId, StoreError};
use crate::types::Msat;

/// How long an answered (or claimed) request id is remembered: far longer than any relay keeps
/// delivering an event, and than the `expiration` a client puts on a request.
pub const REQUEST_TTL_SECS: u64 = 7 * 24 * 3600;

/// How many request keys one `MGET` of [`NwcStore::stale_nwc_requests`] reads.
const STALE_READ_BATCH: usize = 500;

fn hold_field(request: &str) -> String {
    format!("hold:{request}")
}

impl RedisStore {
    async fn read_nwc(
        &self,
        account: &AccountId,
        id: &str,
    ) -> Result<Option<NwcConnection>, StoreError> {
        let mut cmd = ::redis::cmd("HMGET");
        cmd.arg(keys::nwc_connection(account, id))
            .arg(FIELD_JSON)
            .arg("revoked")
            .arg("used")
            .arg("period");
        let (json, revoked, used, period): (
            Option<Vec<u8>>,
            Option<String>,
            Option<u64>,
            Option<u64>,
        ) = self.conn.query(&cmd).await?;
        let Some(json) = json else {
            return Ok(None);
        };
        let mut conn: NwcConnection = decode(&json)?;
        conn.revoked = revoked.as_deref() == Some("1");
        conn.budget_used_msat = Msat::from_msat(used.unwrap_or(0));
        conn.budget_period = period.unwrap_or(0);
        Ok(Some(conn))
    }
}

#[async_trait]
impl NwcStore for RedisStore {
    async fn create_nwc_connection(&self, conn: &NwcConnection) -> Result<(), StoreError> {
        let exists: bool = self
            .conn
            .query(::redis::cmd("EXISTS").arg(keys::account(&conn.account_id)))
            .await?;
        if !exists {
            return Err(StoreError::NotFound);
        }
        let mut put = ::redis::cmd("HSET");
        put.arg(keys::nwc_connection(&conn.account_id, &conn.id))
            .arg(FIELD_JSON)
            .arg(encode(conn)?)
            .arg("revoked")
            .arg(if conn.revoked { "1" } else { "0" })
            .arg("used")
            .arg(conn.budget_used_msat.msat())
            .arg("period")
            .arg(conn.budget_period);
        self.conn.query::<()>(&put).await?;
        let mut index = ::redis::cmd("SET");
        index
            .arg(keys::nwc_owner(&conn.id))
            .arg(&conn.account_id.0)
            .arg("NX");
        let done: Option<String> = self.conn.query(&index).await?;
        if done.is_none() {
            return Err(
                RedisCallError::Unexpected("nwc connection id already indexed".into()).into(),
            );
        }
        let mut all = ::redis::cmd("SADD");
        all.arg(keys::NWC_ALL)
            .arg(format!("{}/{}", conn.account_id, conn.id));
        self.conn.query::<i64>(&all).await?;
        Ok(())
    }

    async fn nwc_connection(&self, id: &str) -> Result<Option<NwcConnection>, StoreError> {
        match self.owner(&keys::nwc_owner(id)).await? {
            Some(account) => self.read_nwc(&account, id).await,
            None => Ok(None),
        }
    }

    async fn nwc_connections(
        &self,
        account: Option<&AccountId>,
    ) -> Result<Vec<NwcConnection>, StoreError> {
        let members: Vec<String> = self
            .conn
            .query(::redis::cmd("SMEMBERS").arg(keys::NWC_ALL))
            .await?;
        let mut out = Vec::new();
        for m in members {
            let Some((owner, id)) = m.split_once('/') else {
                continue;
            };
            if account.is_some_and(|a| a.0 != owner) {
                continue;
            }
            if let Some(conn) = self.read_nwc(&AccountId(owner.to_string()), id).await? {
                out.push(conn);
            }
        }
        out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(out)
    }

    async fn revoke_nwc_connection(&self, id: &str) -> Result<Option<NwcConnection>, StoreError> {
        let Some(account) = self.owner(&keys::nwc_owner(id)).await? else {
            return Ok(None);
        };
        let mut revoke = REVOKE.prepare_invoke();
        revoke.key(keys::nwc_connection(&account, id));
        let found: i64 = self.conn.invoke(&revoke).await?;
        if found == 0 {
            return Ok(None);
        }
        self.read_nwc(&account, id).await
    }

    async fn reserve_nwc_budget(
        &self,
        id: &str,
        request: &str,
        amount: Msat,
        budget: Option<Msat>,
        period: u64,
    ) -> Result<BudgetOutcome, StoreError> {
        let Some(account) = self.owner(&keys::nwc_owner(id)).await? else {
            return Ok(BudgetOutcome::Refused);
        };
        let mut reserve = RESERVE.prepare_invoke();
        reserve
            .key(keys::nwc_connection(&account, id))
            .arg(amount.msat())
            .arg(budget.map(|b| b.msat().to_string()).unwrap_or_default())
            .arg(period)
            .arg(hold_field(request));
        let answer: String = self.conn.invoke(&reserve).await?;
        Ok(match answer.as_str() {
            "ok" => BudgetOutcome::Reserved { period },
            "quota" => BudgetOutcome::QuotaExceeded,
            held if held.starts_with("held:") => BudgetOutcome::Reserved {
                period: held[5..].parse().unwrap_or(period),
            },
            _ => BudgetOutcome::Refused,
        })
    }

    async fn settle_nwc_budget(
        &self,
        id: &str,
        request: &str,
        spent: Msat,
    ) -> Result<(), StoreError> {
        let Some(account) = self.owner(&keys::nwc_owner(id)).await? else {
            return Ok(());
        };
        let mut settle = SETTLE.prepare_invoke();
        settle
            .key(keys::nwc_connection(&account, id))
            .arg(hold_field(request))
            .arg(spent.msat());
        self.conn.invoke::<i64>(&settle).await?;
        Ok(())
    }

    async fn claim_nwc_request(
        &self,
        event_id: &str,
        now: u64,
        lease_secs: u64,
        event: &str,
    ) -> Result<RequestClaim, StoreError> {
        let claim = |mode: &'static str| {
            let mut claim = CLAIM.prepare_invoke();
            claim
                .key(keys::nwc_request(event_id))
                .arg(now)
                .arg(lease_secs)
                .arg(REQUEST_TTL_SECS)
                .arg(event)
                .arg(mode);
            claim
        };
        // A look first: a request delivered again (by another relay, to another process) is
        // answered or running already, and is told so without touching the open set.
        let look: Vec<String> = self.conn.invoke_read_only(&claim("look")).await?;
        let answer = match look.as_slice() {
            [state] if state == "free" => {
                // Named as possibly running before the claim, so that no claim is missing from
                // the set.
                let mut open = ::redis::cmd("SADD");
                open.arg(keys::NWC_OPEN).arg(event_id);
                self.conn.query::<i64>(&open).await?;
                self.conn.invoke(&claim("take")).await?
            }
            _ => look,
        };
        Ok(match answer.as_slice() {
            [state] if state == "claimed" => RequestClaim::Claimed,
            [state, response] if state == "answered" => RequestClaim::Answered(response.clone()),
            _ => RequestClaim::Running,
        })
    }

    async fn renew_nwc_request(&self, event_id: &str, now: u64) -> Result<(), StoreError> {
        let mut renew = RENEW.prepare_invoke();
        renew
            .key(keys::nwc_request(event_id))
            .arg(now)
            .arg(REQUEST_TTL_SECS);
        self.conn.invoke::<i64>(&renew).await?;
        Ok(())
    }

    async fn stale_nwc_requests(
        &self,
        now: u64,
        lease_secs: u64,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let ids: Vec<String> = self
            .conn
            .query(::redis::cmd("SMEMBERS").arg(keys::NWC_OPEN))
            .await?;
        let mut out = Vec::new();
        for batch in ids.chunks(STALE_READ_BATCH) {
            if out.len() >= limit {
                break;
            }
            // One MGET for the batch. The request keys carry no hash tag, so on a cluster they
            // lie in many slots: the cluster client splits the MGET per slot, sends the parts to
            // their nodes at once and puts the answers back in order.
            let mut read = ::redis::cmd("MGET");
            for id in batch {
                read.arg(keys::nwc_request(id));
            }
            let values: Vec<Option<String>> = self.conn.query(&read).await?;
            let mut finished = Vec::new();
            for (id, value) in batch.iter().zip(values) {
                let running = value.as_deref().and_then(|v| v.strip_prefix("c:"));
                let Some(running) = running else {
                    // Answered, expired or never claimed: not running any more.
                    finished.push(id);
                    continue;
                };
                let (at, event) = running.split_once(':').unwrap_or((running, ""));
                let at: u64 = at.parse().unwrap_or(0);
                if event.is_empty() || !claim_ran_out(at, lease_secs, now) || out.len() >= limit {
                    continue;
                }
                out.push(event.to_string());
            }
            if !finished.is_empty() {
                let mut done = ::redis::cmd("SREM");
                done.arg(keys::NWC_OPEN).arg(finished);
                self.conn.query::<i64>(&done).await?;
            }
        }
        Ok(out)
    }

    async fn answer_nwc_request(&self, event_id: &str, response: &str) -> Result<(), StoreError> {
        let mut set = ::redis::cmd("SET");
        set.arg(keys::nwc_request(event_id))
            .arg(format!("a:{response}"))
            .arg("EX")
            .arg(REQUEST_TTL_SECS);
        self.conn.query::<()>(&set).await?;
        let mut done = ::redis::cmd("SREM");
        done.arg(keys::NWC_OPEN).arg(event_id);
        self.conn.query::<i64>(&done).await?;
        Ok(())
    }
}
