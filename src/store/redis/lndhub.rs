//! [`LndhubStore`] on Redis. Key names are in [`keys`]. A credential is one global key (its login)
//! plus a member of its account's set; tokens and invites are single keys that expire with what
//! they hold (`SET ... EXAT`) and are taken with `GETDEL`, so one caller of any number gets each.
//!
//! Crash consistency: `create_lndhub_credential` adds the login to the account's set before it
//! writes the credential, so a crash in between leaves a listed login with no credential, which
//! listing skips; `revoke_lndhub_credential` deletes the credential first (from then on it opens
//! nothing, in every process), then the set member.

use async_trait::async_trait;

use super::conn::RedisCallError;
use super::{RedisStore, decode, encode};
use crate::store::keys;
use crate::store::lndhub::*;
use crate::store::{AccountId, StoreError};
use crate::types::PaymentHash;

/// Most `addinvoice` hashes kept per account.
const MAX_INVOICES: isize = 10_000;

impl RedisStore {
    async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        let json: Option<Vec<u8>> = self.conn.query(::redis::cmd("GET").arg(key)).await?;
        json.map(|j| decode(&j)).transpose()
    }

    async fn getdel_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        let json: Option<Vec<u8>> = self.conn.query(::redis::cmd("GETDEL").arg(key)).await?;
        json.map(|j| decode(&j)).transpose()
    }

    async fn set_until(&self, key: &str, json: Vec<u8>, expires_at: u64) -> Result<(), StoreError> {
        let mut set = ::redis::cmd("SET");
        set.arg(key).arg(json).arg("EXAT").arg(expires_at.max(1));
        self.conn.query::<()>(&set).await
    }
}

#[async_trait]
impl LndhubStore for RedisStore {
    async fn create_lndhub_credential(&self, cred: &LndhubCredential) -> Result<(), StoreError> {
        let mut sadd = ::redis::cmd("SADD");
        sadd.arg(keys::lndhub_logins(&cred.account_id))
            .arg(&cred.login);
        self.conn.query::<i64>(&sadd).await?;
        let mut set = ::redis::cmd("SET");
        set.arg(keys::lndhub_login(&cred.login))
            .arg(encode(cred)?)
            .arg("NX");
        let done: Option<String> = self.conn.query(&set).await?;
        if done.is_none() {
            return Err(StoreError::NameTaken);
        }
        Ok(())
    }

    async fn lndhub_credential(&self, login: &str) -> Result<Option<LndhubCredential>, StoreError> {
        self.get_json(&keys::lndhub_login(login)).await
    }

    async fn lndhub_credentials(
        &self,
        account: &AccountId,
    ) -> Result<Vec<LndhubCredential>, StoreError> {
        let logins: Vec<String> = self
            .conn
            .query(::redis::cmd("SMEMBERS").arg(keys::lndhub_logins(account)))
            .await?;
        let mut out: Vec<LndhubCredential> = Vec::new();
        for login in logins {
            if let Some(c) = self.lndhub_credential(&login).await?
                && c.account_id == *account
            {
                out.push(c);
            }
        }
        out.sort_by(|a, b| (a.created_at, &a.login).cmp(&(b.created_at, &b.login)));
        Ok(out)
    }

    async fn revoke_lndhub_credential(
        &self,
        login: &str,
    ) -> Result<Option<LndhubCredential>, StoreError> {
        let cred: Option<LndhubCredential> = self.getdel_json(&keys::lndhub_login(login)).await?;
        if let Some(c) = &cred {
            let mut srem = ::redis::cmd("SREM");
            srem.arg(keys::lndhub_logins(&c.account_id)).arg(login);
            self.conn.query::<i64>(&srem).await?;
        }
        Ok(cred)
    }

    async fn put_lndhub_token(&self, hash: &str, token: &LndhubToken) -> Result<(), StoreError> {
        self.set_until(&keys::lndhub_token(hash), encode(token)?, token.expires_at)
            .await
    }

    async fn lndhub_token(&self, hash: &str, now: u64) -> Result<Option<LndhubToken>, StoreError> {
        let token: Option<LndhubToken> = self.get_json(&keys::lndhub_token(hash)).await?;
        Ok(token.filter(|t| t.expires_at > now))
    }

    async fn take_lndhub_token(
        &self,
        hash: &str,
        now: u64,
    ) -> Result<Option<LndhubToken>, StoreError> {
        let token: Option<LndhubToken> = self.getdel_json(&keys::lndhub_token(hash)).await?;
        Ok(token.filter(|t| t.expires_at > now))
    }

    async fn create_invite(&self, hash: &str, invite: &Invite) -> Result<(), StoreError> {
        self.set_until(
            &keys::lndhub_invite(hash),
            encode(invite)?,
            invite.expires_at,
        )
        .await
    }

    async fn take_invite(&self, hash: &str, now: u64) -> Result<Option<Invite>, StoreError> {
        let invite: Option<Invite> = self.getdel_json(&keys::lndhub_invite(hash)).await?;
        Ok(invite.filter(|i| i.expires_at > now))
    }

    async fn note_lndhub_invoice(
        &self,
        account: &AccountId,
        hash: &PaymentHash,
    ) -> Result<(), StoreError> {
        let key = keys::lndhub_invoices(account);
        let mut push = ::redis::cmd("LPUSH");
        push.arg(&key).arg(hash.0.as_slice());
        let len: i64 = self.conn.query(&push).await?;
        if len > MAX_INVOICES as i64 {
            // The oldest fall off; a crash before this only keeps a few more for a while.
            let mut trim = ::redis::cmd("LTRIM");
            trim.arg(&key).arg(0).arg(MAX_INVOICES - 1);
            self.conn.query::<()>(&trim).await?;
        }
        Ok(())
    }

    async fn lndhub_invoices(
        &self,
        account: &AccountId,
        limit: usize,
    ) -> Result<Vec<PaymentHash>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let stop = isize::try_from(limit).unwrap_or(isize::MAX) - 1;
        let mut cmd = ::redis::cmd("LRANGE");
        cmd.arg(keys::lndhub_invoices(account)).arg(0).arg(stop);
        let raw: Vec<Vec<u8>> = self.conn.query(&cmd).await?;
        raw.into_iter()
            .map(|b| {
                <[u8; 32]>::try_from(b.as_slice())
                    .map(PaymentHash)
                    .map_err(|_| RedisCallError::Unexpected("bad invoice hash".into()).into())
            })
            .collect()
    }
}
