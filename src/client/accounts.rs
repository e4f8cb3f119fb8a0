//! Typed calls for accounts, their ledgers and their payments (`lnaddr account ...`,
//! `lnaddr pay`).

use hyper::Method;
use serde_json::{Value, json};

use super::{AdminClient, ClientError, account_path};

impl AdminClient {
    /// `POST /api/v1/accounts`.
    pub async fn create_account(
        &self,
        address: &str,
        nostr_pubkey: Option<&str>,
    ) -> Result<Value, ClientError> {
        let body = json!({"address": address, "nostr_pubkey": nostr_pubkey});
        self.call(Method::POST, "/api/v1/accounts", Some(body))
            .await
    }

    /// `GET /api/v1/accounts/{address}`.
    pub async fn account(&self, address: &str) -> Result<Value, ClientError> {
        self.call(Method::GET, &account_path(address, ""), None)
            .await
    }

    /// `GET /api/v1/accounts[?domain=D]`.
    pub async fn accounts(&self, domain: Option<&str>) -> Result<Value, ClientError> {
        let path = match domain {
            Some(d) => format!("/api/v1/accounts?domain={}", super::enc(d)),
            None => "/api/v1/accounts".into(),
        };
        self.call(Method::GET, &path, None).await
    }

    /// `DELETE /api/v1/accounts/{address}`.
    pub async fn remove_account(&self, address: &str) -> Result<(), ClientError> {
        self.call(Method::DELETE, &account_path(address, ""), None)
            .await
            .map(drop)
    }

    /// `GET /api/v1/accounts/{address}/transactions`.
    pub async fn transactions(&self, address: &str) -> Result<Value, ClientError> {
        self.call(Method::GET, &account_path(address, "/transactions"), None)
            .await
    }

    /// `GET /api/v1/accounts/{address}/transactions.{csv|json}[?from=&to=]`, oldest first; the
    /// CSV comes back as a JSON string.
    pub async fn export_transactions(
        &self,
        address: &str,
        csv: bool,
        from: Option<u64>,
        to: Option<u64>,
    ) -> Result<Value, ClientError> {
        let ext = if csv { "csv" } else { "json" };
        let mut path = account_path(address, &format!("/transactions.{ext}"));
        let query: Vec<String> = [("from", from), ("to", to)]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| format!("{k}={v}")))
            .collect();
        if !query.is_empty() {
            path.push('?');
            path.push_str(&query.join("&"));
        }
        self.call(Method::GET, &path, None).await
    }

    /// Pays `invoice` from the account at `address` through the payment engine
    /// (`POST /api/v1/accounts/{address}/payments`); `amount_msat` for a zero-amount invoice.
    /// Answers the payment: final, or `status: "pending"` when still in flight after the wait.
    pub async fn pay(
        &self,
        address: &str,
        invoice: &str,
        amount_msat: Option<u64>,
    ) -> Result<Value, ClientError> {
        let body = json!({"invoice": invoice, "amount_msat": amount_msat});
        self.call(
            Method::POST,
            &account_path(address, "/payments"),
            Some(body),
        )
        .await
    }
}
