//! Typed calls that hand out access to an account's money: withdraw links (`lnaddr withdraw
//! ...`), Nostr Wallet Connect connections (`lnaddr nwc ...`) and LndHub credentials (`lnaddr
//! lndhub ...`). Amounts arrive in sat as the operator types them and leave in msat.

use hyper::Method;
use serde_json::{Value, json};

use super::{AdminClient, ClientError, account_path, enc, sat_to_msat};

/// What `lnaddr withdraw create` asks for; amounts in sat as the operator types them.
#[derive(Debug, Clone, Default)]
pub struct NewWithdrawLink {
    pub max_sat: u64,
    /// Default: 1 sat, or `max_sat` when smaller.
    pub min_sat: Option<u64>,
    pub uses: u32,
    pub title: Option<String>,
    pub expires_in_secs: Option<u64>,
}

/// What `lnaddr nwc create` asks for; amounts in sat as the operator types them.
#[derive(Debug, Clone, Default)]
pub struct NewNwcConnection {
    pub name: Option<String>,
    /// Most the connection may spend per period.
    pub budget_sat: Option<u64>,
    /// daily, weekly, monthly, yearly or never.
    pub renewal: Option<String>,
    /// Largest single payment.
    pub max_sat: Option<u64>,
    /// Allowed NIP-47 methods (default: all).
    pub methods: Option<Vec<String>>,
    pub expires_in_secs: Option<u64>,
}

impl AdminClient {
    /// `POST /api/v1/accounts/{address}/withdraw-links`.
    pub async fn create_withdraw_link(
        &self,
        address: &str,
        link: &NewWithdrawLink,
    ) -> Result<Value, ClientError> {
        let max_msat = sat_to_msat(link.max_sat)?;
        let min_msat = sat_to_msat(link.min_sat.unwrap_or(1).min(link.max_sat))?;
        let body = json!({"min_msat": min_msat, "max_msat": max_msat, "uses": link.uses,
            "title": link.title, "expires_in_secs": link.expires_in_secs});
        let path = account_path(address, "/withdraw-links");
        self.call(Method::POST, &path, Some(body)).await
    }

    /// `GET /api/v1/withdraw-links/{k1}`.
    pub async fn withdraw_link(&self, k1: &str) -> Result<Value, ClientError> {
        let path = format!("/api/v1/withdraw-links/{}", enc(k1));
        self.call(Method::GET, &path, None).await
    }

    /// `DELETE /api/v1/withdraw-links/{k1}`.
    pub async fn disable_withdraw_link(&self, k1: &str) -> Result<Value, ClientError> {
        let path = format!("/api/v1/withdraw-links/{}", enc(k1));
        self.call(Method::DELETE, &path, None).await
    }

    /// `POST /api/v1/accounts/{address}/nwc`: answers the connection with its URI (shown once).
    pub async fn create_nwc_connection(
        &self,
        address: &str,
        conn: &NewNwcConnection,
    ) -> Result<Value, ClientError> {
        let body = json!({"name": conn.name, "methods": conn.methods,
            "budget_msat": conn.budget_sat.map(sat_to_msat).transpose()?,
            "max_amount_msat": conn.max_sat.map(sat_to_msat).transpose()?,
            "budget_renewal": conn.renewal, "expires_in_secs": conn.expires_in_secs});
        let path = account_path(address, "/nwc");
        self.call(Method::POST, &path, Some(body)).await
    }

    /// `GET /api/v1/accounts/{address}/nwc`: the account's connections with their budget used.
    pub async fn nwc_connections(&self, address: &str) -> Result<Value, ClientError> {
        self.call(Method::GET, &account_path(address, "/nwc"), None)
            .await
    }

    /// `DELETE /api/v1/nwc/{id}`.
    pub async fn revoke_nwc_connection(&self, id: &str) -> Result<Value, ClientError> {
        let path = format!("/api/v1/nwc/{}", enc(id));
        self.call(Method::DELETE, &path, None).await
    }

    /// `POST /api/v1/accounts/{address}/lndhub`: a credential with its `lndhub://` URL (the
    /// password is in it, shown this once).
    pub async fn create_lndhub_credential(&self, address: &str) -> Result<Value, ClientError> {
        self.call(Method::POST, &account_path(address, "/lndhub"), None)
            .await
    }

    /// `GET /api/v1/accounts/{address}/lndhub` (logins only).
    pub async fn lndhub_credentials(&self, address: &str) -> Result<Value, ClientError> {
        self.call(Method::GET, &account_path(address, "/lndhub"), None)
            .await
    }

    /// `DELETE /api/v1/lndhub/{login}`: its wallets are logged out at once.
    pub async fn revoke_lndhub_credential(&self, login: &str) -> Result<Value, ClientError> {
        let path = format!("/api/v1/lndhub/{}", enc(login));
        self.call(Method::DELETE, &path, None).await
    }

    /// `POST /api/v1/lndhub/invites`: a one-use invite code for `domain`.
    pub async fn lndhub_invite(
        &self,
        domain: &str,
        expires_in_secs: Option<u64>,
    ) -> Result<Value, ClientError> {
        let body = json!({"domain": domain, "expires_in_secs": expires_in_secs});
        self.call(Method::POST, "/api/v1/lndhub/invites", Some(body))
            .await
    }
}
