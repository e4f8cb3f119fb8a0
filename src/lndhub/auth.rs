//! LndHub credentials and tokens. The admin API makes a credential for an account: a random login
//! and a random 160-bit password, handed out once in the `lndhub://LOGIN:PASSWORD@URL` string the
//! wallets import; the store keeps only the password's sha256. `POST /auth?type=auth` trades the
//! pair for an access token and a refresh token (32 random bytes each, kept as their sha256, with
//! an expiry); `POST /auth?type=refresh_token` trades a refresh token once for a new pair
//! (rotation: a refresh token works once). Every call checks that the token's credential still
//! exists, so revoking a credential ends its tokens at once, in every process. Logins are rate
//! limited per client IP and per login, in the store's shared buckets.

use std::net::IpAddr;

use super::{Hub, HubError, Session, digest, random_hex};
use crate::services::ServiceError;
use crate::store::{LndhubCredential, LndhubToken, TokenKind};
use crate::types::unix_now;

/// A new credential, with its password: shown once.
#[derive(Debug, Clone)]
pub struct NewCredential {
    pub login: String,
    pub password: String,
    /// `lndhub://LOGIN:PASSWORD@{public_url}/lndhub`, what BlueWallet and Zeus import.
    pub url: String,
    pub credential: LndhubCredential,
}

/// An access and refresh token pair.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
}

impl Hub {
    /// Makes a credential for the account at `address` (admin API).
    pub async fn create_credential(
        &self,
        address: &crate::types::LightningAddress,
    ) -> Result<NewCredential, ServiceError> {
        let account = crate::services::account_at(self.store.as_ref(), address).await?;
        self.credential_for(&account).await
    }

    /// Makes a credential for `account`.
    pub async fn credential_for(
        &self,
        account: &crate::store::Account,
    ) -> Result<NewCredential, ServiceError> {
        let domain = self.domains.served(&account.domain)?;
        // Hex only: BlueWallet splits the string at ':' and '@'.
        let login = random_hex(10);
        let password = random_hex(20);
        let credential = LndhubCredential {
            login: login.clone(),
            account_id: account.id.clone(),
            password_hash: digest(&password),
            created_at: unix_now(),
        };
        self.store.create_lndhub_credential(&credential).await?;
        tracing::info!(account = %account.id, login = %login, "lndhub credential created");
        let url = format!("lndhub://{login}:{password}@{}/lndhub", domain.public_url);
        Ok(NewCredential {
            login,
            password,
            url,
            credential,
        })
    }

    /// The credentials of the account at `address`.
    pub async fn credentials(
        &self,
        address: &crate::types::LightningAddress,
    ) -> Result<Vec<LndhubCredential>, ServiceError> {
        let account = crate::services::account_at(self.store.as_ref(), address).await?;
        Ok(self.store.lndhub_credentials(&account.id).await?)
    }

    /// Revokes a credential: its tokens stop working at once.
    pub async fn revoke(&self, login: &str) -> Result<Option<LndhubCredential>, ServiceError> {
        if login.is_empty() || login.len() > 64 || !login.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let revoked = self.store.revoke_lndhub_credential(login).await?;
        if let Some(c) = &revoked {
            tracing::info!(account = %c.account_id, login = %c.login, "lndhub credential revoked");
        }
        Ok(revoked)
    }

    /// Takes a token from a login bucket (`[lndhub] auth_per_minute`, `auth_burst`).
    async fn limit_login(&self, bucket: String) -> Result<(), HubError> {
        let rate = self.settings.auth;
        self.limit(bucket, rate.interval(), rate.burst).await
    }

    /// `POST /auth?type=auth`: the login and password for a token pair. Rate limited per client
    /// IP and per login; every refusal is the same `BadAuth`.
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        client: IpAddr,
    ) -> Result<Tokens, HubError> {
        let ip = crate::ip::bucket_key(client);
        self.limit_login(format!("lh-auth-ip:{ip}")).await?;
        let login_key = &digest(login)[..32];
        self.limit_login(format!("lh-auth-login:{login_key}"))
            .await?;
        if login.is_empty() || login.len() > 64 || password.len() > 256 {
            return Err(HubError::BadAuth);
        }
        let cred = self
            .store
            .lndhub_credential(login)
            .await?
            .ok_or(HubError::BadAuth)?;
        let given = digest(password);
        if !constant_time_eq(given.as_bytes(), cred.password_hash.as_bytes()) {
            tracing::info!(login = %cred.login, "lndhub login refused: wrong password");
            return Err(HubError::BadAuth);
        }
        if self.store.account(&cred.account_id).await?.is_none() {
            return Err(HubError::BadAuth);
        }
        self.issue(&cred).await
    }

    /// `POST /auth?type=refresh_token`: a refresh token, once, for a new pair.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens, HubError> {
        let hash = digest(refresh_token.trim());
        let now = unix_now();
        let peek = self.store.lndhub_token(&hash, now).await?;
        if !peek.is_some_and(|t| t.kind == TokenKind::Refresh) {
            return Err(HubError::BadAuth);
        }
        let token = self
            .store
            .take_lndhub_token(&hash, now)
            .await?
            .ok_or(HubError::BadAuth)?;
        let cred = self
            .store
            .lndhub_credential(&token.login)
            .await?
            .filter(|c| c.account_id == token.account_id)
            .ok_or(HubError::BadAuth)?;
        self.issue(&cred).await
    }

    async fn issue(&self, cred: &LndhubCredential) -> Result<Tokens, HubError> {
        let now = unix_now();
        let settings = &self.settings;
        let access = random_hex(32);
        let refresh = random_hex(32);
        for (token, kind, ttl) in [
            (&access, TokenKind::Access, settings.access_token_ttl),
            (&refresh, TokenKind::Refresh, settings.refresh_token_ttl),
        ] {
            let record = LndhubToken {
                login: cred.login.clone(),
                account_id: cred.account_id.clone(),
                kind,
                expires_at: now.saturating_add(ttl.as_secs()),
            };
            self.store.put_lndhub_token(&digest(token), &record).await?;
        }
        Ok(Tokens {
            access_token: access,
            refresh_token: refresh,
        })
    }

    /// The session an `Authorization: Bearer` access token opens: the token is known, not expired,
    /// an access token, its credential still exists and its account too.
    pub async fn authenticate(&self, bearer: Option<&str>) -> Result<Session, HubError> {
        let token = bearer
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 256);
        let token = token.ok_or(HubError::BadAuth)?;
        let record = self
            .store
            .lndhub_token(&digest(token), unix_now())
            .await?
            .filter(|t| t.kind == TokenKind::Access)
            .ok_or(HubError::BadAuth)?;
        self.store
            .lndhub_credential(&record.login)
            .await?
            .filter(|c| c.account_id == record.account_id)
            .ok_or(HubError::BadAuth)?;
        let account = self
            .store
            .account(&record.account_id)
            .await?
            .ok_or(HubError::BadAuth)?;
        Ok(Session {
            account,
            login: record.login,
        })
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
