//! [`NwcStore`] on redb (NIP-47 connections). Each operation is one write transaction, and redb
//! runs one at a time, so a budget reservation and a request claim are atomic.
//!
//! Tables: `nwc_connections` (wallet public key → [`NwcConnection`] JSON, budget state included),
//! `nwc_requests` (request event id → [`RequestRow`] JSON: claimed at, answer once known).

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

/// Creates the tables.
pub(super) fn create_tables(tx: &WriteTransaction) -> Result<(), StoreError> {
    tx.open_table(CONNECTIONS).map_err(StoreError::backend)?;
    tx.open_table(REQUESTS).map_err(StoreError::backend)?;
    Ok(())
}

/// A request being run or answered.
#[derive(Serialize, Deserialize)]
struct RequestRow {
    claimed_at: u64,
    answer: Option<String>,
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
        amount: Msat,
        budget: Option<Msat>,
        period: u64,
    ) -> Result<BudgetOutcome, StoreError> {
        let id = id.to_string();
        self.write(move |tx| {
            let Some(mut conn) = get_conn(tx, &id)? else {
                return Ok(BudgetOutcome::Refused);
            };
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
            conn.budget_period = period;
            conn.budget_used_msat = total;
            put_conn(tx, &conn)?;
            Ok(BudgetOutcome::Reserved { period })
        })
        .await
    }

    async fn release_nwc_budget(
        &self,
        id: &str,
        amount: Msat,
        period: u64,
    ) -> Result<(), StoreError> {
        let id = id.to_string();
        self.write(move |tx| {
            let Some(mut conn) = get_conn(tx, &id)? else {
                return Ok(());
            };
            if conn.budget_period != period {
                return Ok(());
            }
            conn.budget_used_msat = Msat(conn.budget_used_msat.0.saturating_sub(amount.0));
            put_conn(tx, &conn)
        })
        .await
    }

    async fn claim_nwc_request(
        &self,
        event_id: &str,
        now: u64,
        lease_secs: u64,
    ) -> Result<RequestClaim, StoreError> {
        let event_id = event_id.to_string();
        self.write(move |tx| {
            let mut t = tx.open_table(REQUESTS).map_err(StoreError::backend)?;
            let row: Option<RequestRow> = t
                .get(event_id.as_str())
                .map_err(StoreError::backend)?
                .map(|v| decode(v.value()))
                .transpose()?;
            match row {
                Some(RequestRow {
                    answer: Some(answer),
                    ..
                }) => return Ok(RequestClaim::Answered(answer)),
                Some(r) if now < r.claimed_at.saturating_add(lease_secs) => {
                    return Ok(RequestClaim::Running);
                }
                _ => {}
            }
            let row = RequestRow {
                claimed_at: now,
                answer: None,
            };
            t.insert(event_id.as_str(), encode(&row)?.as_slice())
                .map_err(StoreError::backend)?;
            Ok(RequestClaim::Claimed)
        })
        .await
    }

    async fn answer_nwc_request(&self, event_id: &str, response: &str) -> Result<(), StoreError> {
        let (event_id, response) = (event_id.to_string(), response.to_string());
        self.write(move |tx| {
            let mut t = tx.open_table(REQUESTS).map_err(StoreError::backend)?;
            let row = RequestRow {
                claimed_at: 0,
                answer: Some(response.clone()),
            };
            t.insert(event_id.as_str(), encode(&row)?.as_slice())
                .map_err(StoreError::backend)?;
            Ok(())
        })
        .await
    }
}
