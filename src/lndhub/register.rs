//! `POST /create`: opening an account from the wallet, as the domain's `registration` says:
//! `closed` (the default: only the operator makes accounts), `invite` (a one-use code made with the
//! admin API, sent as the body's `invite` or in the base URL `{public_url}/lndhub/i/CODE`), or
//! `open` (anybody, within the per-IP `/create` rate limit). The new account gets a random name
//! and one credential; the answer is the `{"login","password"}` pair BlueWallet stores.

use std::net::IpAddr;

use super::views::CreateAnswer;
use super::{Hub, HubError, digest, random_hex};
use crate::config::Registration;
use crate::refusal::Refusal;
use crate::services::ServiceError;
use crate::store::{Invite, NewAccount, StoreError};
use crate::types::{LightningAddress, unix_now};

/// Longest invite lifetime: 90 days.
const MAX_INVITE_SECS: u64 = 90 * 24 * 3600;
/// Default invite lifetime: 7 days.
const DEFAULT_INVITE_SECS: u64 = 7 * 24 * 3600;

/// A new invite code, shown once.
#[derive(Debug, Clone)]
pub struct NewInvite {
    pub code: String,
    pub domain: String,
    /// `{public_url}/lndhub/i/CODE`: the LndHub URL to give BlueWallet's "create" flow.
    pub url: String,
    pub expires_at: u64,
}

impl Hub {
    /// Makes a one-use invite code for `domain` (admin API).
    pub async fn create_invite(
        &self,
        domain: &str,
        expires_in_secs: Option<u64>,
    ) -> Result<NewInvite, ServiceError> {
        let d = self.domains.served(&domain.to_ascii_lowercase())?;
        let secs = expires_in_secs.unwrap_or(DEFAULT_INVITE_SECS);
        if secs == 0 || secs > MAX_INVITE_SECS {
            return Err(Refusal::InviteLifetime {
                max: MAX_INVITE_SECS,
            }
            .into());
        }
        let code = random_hex(16);
        let now = unix_now();
        let invite = Invite {
            domain: d.name.to_string(),
            created_at: now,
            expires_at: now.saturating_add(secs),
        };
        self.store.create_invite(&digest(&code), &invite).await?;
        tracing::info!(domain = %d.name, "lndhub invite created");
        Ok(NewInvite {
            url: format!("{}/lndhub/i/{code}", d.public_url),
            code,
            domain: invite.domain,
            expires_at: invite.expires_at,
        })
    }

    /// Takes a token from the client's `/create` bucket (`[lndhub] create_per_hour`,
    /// `create_burst`).
    async fn create_limit(&self, client: IpAddr) -> Result<(), HubError> {
        let ip = crate::ip::bucket_key(client);
        let s = &self.settings;
        self.limit(format!("lh-create:{ip}"), s.create_interval, s.create_burst)
            .await
    }

    /// `POST /create` on the domain the request's `host` names (not found when none is served),
    /// for a client at `client`, with an invite code if one was given.
    pub async fn register(
        &self,
        host: Option<&str>,
        invite: Option<&str>,
        client: IpAddr,
    ) -> Result<CreateAnswer, HubError> {
        let domain = self
            .domains
            .current()
            .for_host(host)
            .ok_or(HubError::NotFound)?;
        match domain.registration {
            Registration::Closed => {
                return Err(HubError::Forbidden(
                    "registration is closed on this domain; ask its operator for an account".into(),
                ));
            }
            Registration::Invite => {
                self.create_limit(client).await?;
                let code = invite
                    .map(str::trim)
                    .filter(|c| !c.is_empty() && c.len() <= 128)
                    .ok_or_else(|| HubError::Forbidden("an invite code is needed".into()))?;
                let taken = self.store.take_invite(&digest(code), unix_now()).await?;
                match taken {
                    Some(i) if i.domain == domain.name.as_str() => {}
                    Some(i) => {
                        // Wrong domain: give it back untouched.
                        self.store.create_invite(&digest(code), &i).await?;
                        return Err(HubError::Forbidden("unknown or used invite code".into()));
                    }
                    None => return Err(HubError::Forbidden("unknown or used invite code".into())),
                }
            }
            Registration::Open => self.create_limit(client).await?,
        }
        let account = loop {
            let name = format!("u{}", random_hex(6));
            let address: LightningAddress = format!("{name}@{}", domain.name)
                .parse()
                .map_err(|_| HubError::Unavailable)?;
            match self
                .store
                .create_account(NewAccount {
                    address,
                    nostr_pubkey: None,
                })
                .await
            {
                Ok(a) => break a,
                Err(StoreError::NameTaken) => continue,
                Err(e) => return Err(e.into()),
            }
        };
        tracing::info!(account = %account.id, address = %account.address(), "account opened through lndhub /create");
        let cred = self.credential_for(&account).await?;
        Ok(CreateAnswer {
            login: cred.login,
            password: cred.password,
            address: account.address(),
        })
    }
}
