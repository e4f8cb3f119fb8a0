//! [`NwcStore`] on redb (NIP-47 connections). Each operation is one write transaction, and redb
//! runs one at a time, so a budget reservation and a request claim are atomic.
//!
//! Tables: `nwc_connections` (wallet public key → [`NwcConnection`] JSON, budget state included),
//! `nwc_requests` (request event id → [`RequestRow`] JSON: claimed at, the event, answer once
//! known), `nwc_open` (event id → claimed at, for requests claimed and not answered),
//! `nwc_holds` (`<wallet pubkey>/<event id>` → [`Hold`] JSON: budget held for a request).

use async_trait::async_trait;
use redb::{ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};

use super::{ACCOUNTS, EmbeddedStore, decode, encode};
use crate::store::nwc::*;
use crate::store::{AccountId, StoreError};
use crate::types::Msat;

pub(super) const CONNECTIONS: TableDefinition<&str, &[u8]> =
    TableDefinition::new("nwc_connections");
pub(super) const REQUESTS: TableDefinition<&str, &[u8]> = TableDefinition::new("nwc_requests");
pub(super) const OPEN: TableDefinition<&str, u64> = TableDefinition::new("nwc_open");
pub(super) const HOLDS: TableDefinition<&str, &[u8]> = TableDefinition::new("nwc_holds");

/// Creates the tables.
pub(super) fn create_tables(tx: &WriteTransaction) -> Result<(), StoreError> {
    tx.open_table(CONNECTIONS).map_err(StoreError::backend)?;
    tx.open_table(REQUESTS).map_err(StoreError::backend)?;
    tx.open_table(OPEN).map_err(StoreError::backend)?;
    tx.open_table(HOLDS).map_err(StoreError::backend)?;
    Ok(())
}

/// A request being run or answered.
#[derive(Serialize, Deserialize)]
struct RequestRow {
    claimed_at: u64,
    answer: Option<String>,
    /// The request event (JSON) while it runs.
    #[serde(default)]
    event: Option<String>,
}

/// Budget held for one request.
#[derive(Serialize, Deserialize)]
struct Hold {
    amount: Msat,
    period: u64,
}

fn hold_key(id: &str, request: &str) -> String {
    format!("{id}/{request}")
}

fn get_request(tx: &WriteTransaction, event_id: &str) -> Result<Option<RequestRow>, StoreError> {
    let t = tx.open_table(REQUESTS).map_err(StoreError::backend)?;
    let v = t.get(event_id).map_err(StoreError::backend)?;
    v.map(|v| decode(v.value())).transpose()
}

fn put_request(tx: &WriteTransaction, event_id: &str, row: &RequestRow) -> Result<(), StoreError> {
    let mut t = tx.open_table(REQUESTS).map_err(StoreError::backend)?;
    t.insert(event_id, encode(row)?.as_slice())
        .map_err(StoreError::backend)?;
    Ok(())
}

fn get_conn(tx: &WriteTransaction, id: &str) -> Result<Option<NwcConnection>, StoreError> {
    let t = tx.open_table(CONNECTIONS).map_err(StoreError::backend)?;
    let v = t.get(id).map_err(StoreError::backend)?;
    v.map(|v| decode(v.value())).transpose()
}

fn put_conn(tx: &WriteTransaction, conn: &NwcConnection) -> Result<(), StoreError> {
    let mut t = tx.open_table(CONNECTIONS).map_err(StoreError::backend)?;
    t.insert(conn.id.as_str(), encode(conn)?.as_slice())
        .map_err(StoreError::backend)?;
    Ok(())
}

#[async_trait]
impl NwcStore for EmbeddedStore {
    async fn create_nwc_connection(&self, conn: &NwcConnection) -> Result<(), StoreError> {
        let conn = conn.clone();
        self.write(move |tx| {
            let accounts = tx.open_table(ACCOUNTS).map_err(StoreError::backend)?;
            if accounts
                .get(conn.account_id.0.as_str())
                .map_err(StoreError::backend)?
                .is_none()
            {
                return Err(StoreError::NotFound);
            }
            drop(accounts);
            if get_conn(tx, &conn.id)?.is_some() {
                return Err(StoreError::backend(std::io::Error::other(
                    "nwc connection id already taken",
                )));
            }
            put_conn(tx, &conn)
        })
        .await
    }

    async fn nwc_connection(&self, id: &str) -> Result<Option<NwcConnection>, StoreError> {
        let id = id.to_string();
        self.read(move |tx| {
            let t = tx.open_table(CONNECTIONS).map_err(StoreError::backend)?;
            let v = t.get(id.as_str()).map_err(StoreError::backend)?;
            v.map(|v| decode(v.value())).transpose()
        })
        .await
    }

    async fn nwc_connections(
        &self,
        account: Option<&AccountId>,
    ) -> Result<Vec<NwcConnection>, StoreError> {
        let account = account.cloned();
        self.read(move |tx| {
            let t = tx.open_table(CONNECTIONS).map_err(StoreError::backend)?;
            let mut out = Vec::new();
            for entry in t.iter().map_err(StoreError::backend)? {
                let (_, v) = entry.map_err(StoreError::backend)?;
                let conn: NwcConnection = decode(v.value())?;
                if account.as_ref().is_none_or(|a| *a == conn.account_id) {
                    out.push(conn);
                }
            }
            out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
            Ok(out)
        })
        .await
    }

    async fn revoke_nwc_connection(&self, id: &str) -> Result<Option<NwcConnection>, StoreError> {
        let id = id.to_string();
        self.write(move |tx| {
            let Some(mut conn) = get_conn(tx, &id)? else {
                return Ok(None);
            };
            conn.revoked = true;
            put_conn(tx, &conn)?;
            Ok(Some(conn))
        })
        .await
    }

    async fn reserve_nwc_budget(
        &self,
        id: &str,
        request: &str,
        amount: Msat,
        budget: Option<Msat>,
        period: u64,
    ) -> Result<BudgetOutcome, StoreError> {
        let (id, key) = (id.to_string(), hold_key(id, request));
        self.write(move |tx| {
            let Some(mut conn) = get_conn(tx, &id)? else {
                return Ok(BudgetOutcome::Refused);
            };
            let mut holds = tx.open_table(HOLDS).map_err(StoreError::backend)?;
            let held: Option<Hold> = holds
                .get(key.as_str())
                .map_err(StoreError::backend)?
                .map(|v| decode(v.value()))
                .transpose()?;
            if let Some(held) = held {
                return Ok(BudgetOutcome::Reserved {
                    period: held.period,
                });
            }
            if conn.revoked {
                return Ok(BudgetOutcome::Refused);
            }
            let used = conn.used_in(period);
            let Some(total) = used.checked_add(amount) else {
                return Ok(BudgetOutcome::QuotaExceeded);
            };
            if budget.is_some_and(|b| total > b) {
                return Ok(BudgetOutcome::QuotaExceeded);
            }
            holds
                .insert(key.as_str(), encode(&Hold { amount, period })?.as_slice())
                .map_err(StoreError::backend)?;
            drop(holds);
            conn.budget_period = period;
            conn.budget_used_msat = total;
            put_conn(tx, &conn)?;
            Ok(BudgetOutcome::Reserved { period })
        })
        .await
    }

    async fn settle_nwc_budget(
        &self,
        id: &str,
        request: &str,
        spent: Msat,
    ) -> Result<(), StoreError> {
        let (id, key) = (id.to_string(), hold_key(id, request));
        self.write(move |tx| {
            let mut holds = tx.open_table(HOLDS).map_err(StoreError::backend)?;
            let held: Option<Hold> = holds
                .remove(key.as_str())
                .map_err(StoreError::backend)?
                .map(|v| decode(v.value()))
                .transpose()?;
            drop(holds);
            let Some(held) = held else {
                return Ok(());
            };
            let Some(mut conn) = get_conn(tx, &id)? else {
                return Ok(());
            };
            if conn.budget_period != held.period {
                return Ok(());
            }
            let back = held.amount.saturating_sub(spent);
            conn.budget_used_msat = conn.budget_used_msat.saturating_sub(back);
            put_conn(tx, &conn)
        })
        .await
    }

    async fn claim_nwc_request(
        &self,
        event_id: &str,
        now: u64,
        lease_secs: u64,
        event: &str,
    ) -> Result<RequestClaim, StoreError> {
        let (event_id, event) = (event_id.to_string(), event.to_string());
        self.write(move |tx| {
            match get_request(tx, &event_id)? {
                Some(RequestRow {
                    answer: Some(answer),
                    ..
                }) => return Ok(RequestClaim::Answered(answer)),
                Some(r) if !claim_ran_out(r.claimed_at, lease_secs, now) => {
                    return Ok(RequestClaim::Running);
                }
                _ => {}
            }
            let row = RequestRow {
                claimed_at: now,
                answer: None,
                event: Some(event.clone()),
            };
            put_request(tx, &event_id, &row)?;
            let mut open = tx.open_table(OPEN).map_err(StoreError::backend)?;
            open.insert(event_id.as_str(), now)
                .map_err(StoreError::backend)?;
            Ok(RequestClaim::Claimed)
        })
        .await
    }

    async fn renew_nwc_request(&self, event_id: &str, now: u64) -> Result<(), StoreError> {
        let event_id = event_id.to_string();
        self.write(move |tx| {
            let Some(mut row) = get_request(tx, &event_id)? else {
                return Ok(());
            };
            if row.answer.is_some() {
                return Ok(());
            }
            row.claimed_at = row.claimed_at.max(now);
            put_request(tx, &event_id, &row)?;
            let mut open = tx.open_table(OPEN).map_err(StoreError::backend)?;
            open.insert(event_id.as_str(), row.claimed_at)
                .map_err(StoreError::backend)?;
            Ok(())
        })
        .await
    }

    async fn stale_nwc_requests(
        &self,
        now: u64,
        lease_secs: u64,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        self.read(move |tx| {
            let open = tx.open_table(OPEN).map_err(StoreError::backend)?;
            let requests = tx.open_table(REQUESTS).map_err(StoreError::backend)?;
            let mut out = Vec::new();
            for entry in open.iter().map_err(StoreError::backend)? {
                let (id, claimed_at) = entry.map_err(StoreError::backend)?;
                if !claim_ran_out(claimed_at.value(), lease_secs, now) {
                    continue;
                }
                let Some(v) = requests.get(id.value()).map_err(StoreError::backend)? else {
                    continue;
                };
                let row: RequestRow = decode(v.value())?;
                if let (None, Some(event)) = (row.answer, row.event) {
                    out.push(event);
                    if out.len() >= limit {
                        break;
                    }
                }
            }
            Ok(out)
        })
        .await
    }

    async fn answer_nwc_request(&self, event_id: &str, response: &str) -> Result<(), StoreError> {
        let (event_id, response) = (event_id.to_string(), response.to_string());
        self.write(move |tx| {
            let row = RequestRow {
                claimed_at: 0,
                answer: Some(response.clone()),
                event: None,
            };
            put_request(tx, &event_id, &row)?;
            let mut open = tx.open_table(OPEN).map_err(StoreError::backend)?;
            open.remove(event_id.as_str())
                .map_err(StoreError::backend)?;
            Ok(())
        })
        .await
    }
}
