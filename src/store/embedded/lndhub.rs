//! [`LndhubStore`] on the embedded store: one table per kind of record, written in one redb
//! transaction each. Tokens are also indexed by expiry, and every new token sweeps a few expired
//! ones, so they take no space for long.

use async_trait::async_trait;
use redb::{ReadableTable, TableDefinition, WriteTransaction};

use super::{EmbeddedStore, decode, encode, newest_first, next_seq};
use crate::store::lndhub::*;
use crate::store::{AccountId, StoreError};
use crate::types::PaymentHash;

/// login → credential JSON.
pub(super) const LOGINS: TableDefinition<&str, &[u8]> = TableDefinition::new("lndhub_logins");
/// (account id, login) → nothing: an account's credentials.
pub(super) const BY_ACCOUNT: TableDefinition<(&str, &str), &[u8]> =
    TableDefinition::new("lndhub_by_account");
/// token hash → token JSON.
pub(super) const TOKENS: TableDefinition<&str, &[u8]> = TableDefinition::new("lndhub_tokens");
/// (expires at, token hash) → nothing: tokens by expiry, for the sweep.
pub(super) const EXPIRY: TableDefinition<(u64, &str), &[u8]> =
    TableDefinition::new("lndhub_token_expiry");
/// code hash → invite JSON.
pub(super) const INVITES: TableDefinition<&str, &[u8]> = TableDefinition::new("lndhub_invites");
/// (account id, sequence) → payment hash: invoices made by `addinvoice`, newest last.
pub(super) const INVOICES: TableDefinition<(&str, u64), &[u8]> =
    TableDefinition::new("lndhub_invoices");
const INVOICE_SEQ_KEY: &str = "seq/lndhub-invoices";
/// Expired tokens removed by each new token.
const SWEEP: usize = 16;

/// Creates the tables (at open).
pub(super) fn create_tables(tx: &WriteTransaction) -> Result<(), StoreError> {
    tx.open_table(LOGINS).map_err(StoreError::backend)?;
    tx.open_table(BY_ACCOUNT).map_err(StoreError::backend)?;
    tx.open_table(TOKENS).map_err(StoreError::backend)?;
    tx.open_table(EXPIRY).map_err(StoreError::backend)?;
    tx.open_table(INVITES).map_err(StoreError::backend)?;
    tx.open_table(INVOICES).map_err(StoreError::backend)?;
    Ok(())
}

fn sweep_tokens(tx: &WriteTransaction, now: u64) -> Result<(), StoreError> {
    let mut expiry = tx.open_table(EXPIRY).map_err(StoreError::backend)?;
    let mut tokens = tx.open_table(TOKENS).map_err(StoreError::backend)?;
    let mut gone = Vec::new();
    for entry in expiry
        .range((0u64, "")..(now.saturating_add(1), ""))
        .map_err(StoreError::backend)?
        .take(SWEEP)
    {
        let (k, _) = entry.map_err(StoreError::backend)?;
        let (at, hash) = k.value();
        gone.push((at, hash.to_string()));
    }
    for (at, hash) in gone {
        expiry
            .remove((at, hash.as_str()))
            .map_err(StoreError::backend)?;
        tokens.remove(hash.as_str()).map_err(StoreError::backend)?;
    }
    Ok(())
}

#[async_trait]
impl LndhubStore for EmbeddedStore {
    async fn create_lndhub_credential(&self, cred: &LndhubCredential) -> Result<(), StoreError> {
        let cred = cred.clone();
        self.write(move |tx| {
            let mut logins = tx.open_table(LOGINS).map_err(StoreError::backend)?;
            if logins
                .get(cred.login.as_str())
                .map_err(StoreError::backend)?
                .is_some()
            {
                return Err(StoreError::NameTaken);
            }
            logins
                .insert(cred.login.as_str(), encode(&cred)?.as_slice())
                .map_err(StoreError::backend)?;
            let mut by = tx.open_table(BY_ACCOUNT).map_err(StoreError::backend)?;
            by.insert(
                (cred.account_id.0.as_str(), cred.login.as_str()),
                [].as_slice(),
            )
            .map_err(StoreError::backend)?;
            Ok(())
        })
        .await
    }

    async fn lndhub_credential(&self, login: &str) -> Result<Option<LndhubCredential>, StoreError> {
        let login = login.to_string();
        self.read(move |tx| {
            let t = tx.open_table(LOGINS).map_err(StoreError::backend)?;
            match t.get(login.as_str()).map_err(StoreError::backend)? {
                Some(v) => Ok(Some(decode(v.value())?)),
                None => Ok(None),
            }
        })
        .await
    }

    async fn lndhub_credentials(
        &self,
        account: &AccountId,
    ) -> Result<Vec<LndhubCredential>, StoreError> {
        let id = account.0.clone();
        self.read(move |tx| {
            let by = tx.open_table(BY_ACCOUNT).map_err(StoreError::backend)?;
            let logins = tx.open_table(LOGINS).map_err(StoreError::backend)?;
            let mut out: Vec<LndhubCredential> = Vec::new();
            for entry in by.range((id.as_str(), "")..).map_err(StoreError::backend)? {
                let (k, _) = entry.map_err(StoreError::backend)?;
                let (owner, login) = k.value();
                if owner != id {
                    break;
                }
                if let Some(v) = logins.get(login).map_err(StoreError::backend)? {
                    out.push(decode(v.value())?);
                }
            }
            out.sort_by(|a, b| (a.created_at, &a.login).cmp(&(b.created_at, &b.login)));
            Ok(out)
        })
        .await
    }

    async fn revoke_lndhub_credential(
        &self,
        login: &str,
    ) -> Result<Option<LndhubCredential>, StoreError> {
        let login = login.to_string();
        self.write(move |tx| {
            let mut logins = tx.open_table(LOGINS).map_err(StoreError::backend)?;
            let cred: LndhubCredential =
                match logins.remove(login.as_str()).map_err(StoreError::backend)? {
                    Some(v) => decode(v.value())?,
                    None => return Ok(None),
                };
            let mut by = tx.open_table(BY_ACCOUNT).map_err(StoreError::backend)?;
            by.remove((cred.account_id.0.as_str(), login.as_str()))
                .map_err(StoreError::backend)?;
            Ok(Some(cred))
        })
        .await
    }

    async fn put_lndhub_token(&self, hash: &str, token: &LndhubToken) -> Result<(), StoreError> {
        let hash = hash.to_string();
        let token = token.clone();
        self.write(move |tx| {
            sweep_tokens(tx, crate::types::unix_now())?;
            let mut tokens = tx.open_table(TOKENS).map_err(StoreError::backend)?;
            tokens
                .insert(hash.as_str(), encode(&token)?.as_slice())
                .map_err(StoreError::backend)?;
            let mut expiry = tx.open_table(EXPIRY).map_err(StoreError::backend)?;
            expiry
                .insert((token.expires_at, hash.as_str()), [].as_slice())
                .map_err(StoreError::backend)?;
            Ok(())
        })
        .await
    }

    async fn lndhub_token(&self, hash: &str, now: u64) -> Result<Option<LndhubToken>, StoreError> {
        let hash = hash.to_string();
        self.read(move |tx| {
            let t = tx.open_table(TOKENS).map_err(StoreError::backend)?;
            let token: Option<LndhubToken> =
                match t.get(hash.as_str()).map_err(StoreError::backend)? {
                    Some(v) => Some(decode(v.value())?),
                    None => None,
                };
            Ok(token.filter(|t| t.expires_at > now))
        })
        .await
    }

    async fn take_lndhub_token(
        &self,
        hash: &str,
        now: u64,
    ) -> Result<Option<LndhubToken>, StoreError> {
        let hash = hash.to_string();
        self.write(move |tx| {
            let mut t = tx.open_table(TOKENS).map_err(StoreError::backend)?;
            let token: LndhubToken = match t.remove(hash.as_str()).map_err(StoreError::backend)? {
                Some(v) => decode(v.value())?,
                None => return Ok(None),
            };
            let mut expiry = tx.open_table(EXPIRY).map_err(StoreError::backend)?;
            expiry
                .remove((token.expires_at, hash.as_str()))
                .map_err(StoreError::backend)?;
            Ok((token.expires_at > now).then_some(token))
        })
        .await
    }

    async fn create_invite(&self, hash: &str, invite: &Invite) -> Result<(), StoreError> {
        let hash = hash.to_string();
        let invite = invite.clone();
        self.write(move |tx| {
            let mut t = tx.open_table(INVITES).map_err(StoreError::backend)?;
            t.insert(hash.as_str(), encode(&invite)?.as_slice())
                .map_err(StoreError::backend)?;
            Ok(())
        })
        .await
    }

    async fn take_invite(&self, hash: &str, now: u64) -> Result<Option<Invite>, StoreError> {
        let hash = hash.to_string();
        self.write(move |tx| {
            let mut t = tx.open_table(INVITES).map_err(StoreError::backend)?;
            let invite: Invite = match t.remove(hash.as_str()).map_err(StoreError::backend)? {
                Some(v) => decode(v.value())?,
                None => return Ok(None),
            };
            Ok((invite.expires_at > now).then_some(invite))
        })
        .await
    }

    async fn note_lndhub_invoice(
        &self,
        account: &AccountId,
        hash: &PaymentHash,
    ) -> Result<(), StoreError> {
        let id = account.0.clone();
        let hash = *hash;
        self.write(move |tx| {
            let seq = next_seq(tx, INVOICE_SEQ_KEY)?;
            let mut t = tx.open_table(INVOICES).map_err(StoreError::backend)?;
            t.insert((id.as_str(), seq), hash.0.as_slice())
                .map_err(StoreError::backend)?;
            Ok(())
        })
        .await
    }

    async fn lndhub_invoices(
        &self,
        account: &AccountId,
        limit: usize,
    ) -> Result<Vec<PaymentHash>, StoreError> {
        let id = account.0.clone();
        self.read(move |tx| {
            let t = tx.open_table(INVOICES).map_err(StoreError::backend)?;
            newest_first(&t, &id, limit, |v| {
                let bytes: [u8; 32] = v
                    .try_into()
                    .map_err(|_| StoreError::backend(std::io::Error::other("bad invoice hash")))?;
                Ok(PaymentHash(bytes))
            })
        })
        .await
    }
}
