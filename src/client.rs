//! A small admin-API client for the CLI (`lnaddr account ...`, `lnaddr fake pay ...`), like `lncli`
//! to `lnd`: HTTP/1.1 over a plain TCP connection to the admin listener, bearer token from the
//! gateway's token file.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::secret::Secret;

/// Why an admin call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("admin URL must look like http://127.0.0.1:8081")]
    BadUrl,
    #[error("cannot reach the gateway's admin API at {url} (is `lnaddr serve` running?)")]
    Connect {
        url: String,
        #[source]
        source: std::io::Error,
    },
    #[error("HTTP error talking to the admin API")]
    Http(#[source] hyper::Error),
    #[error("{status}: {reason}")]
    Api { status: u16, reason: String },
}

/// Talks to one gateway's admin API.
pub struct AdminClient {
    base: url::Url,
    token: Secret,
}

impl AdminClient {
    pub fn new(admin_url: &str, token: Secret) -> Result<Self, ClientError> {
        let base = url::Url::parse(admin_url).map_err(|_| ClientError::BadUrl)?;
        if base.scheme() != "http" || base.host_str().is_none() {
            return Err(ClientError::BadUrl);
        }
        Ok(AdminClient { base, token })
    }

    /// Sends one request; answers the JSON body of a 2xx (or `null` for 204).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, ClientError> {
        let host = self.base.host_str().ok_or(ClientError::BadUrl)?;
        let port = self
            .base
            .port_or_known_default()
            .ok_or(ClientError::BadUrl)?;
        let stream =
            TcpStream::connect((host, port))
                .await
                .map_err(|source| ClientError::Connect {
                    url: self.base.to_string(),
                    source,
                })?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(ClientError::Http)?;
        tokio::spawn(conn);
        let bytes = body.map(|b| b.to_string()).unwrap_or_default();
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, format!("{host}:{port}"))
            .header(AUTHORIZATION, format!("Bearer {}", self.token.expose()))
            .header(CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(bytes)))
            .map_err(|_| ClientError::BadUrl)?;
        let resp = sender.send_request(req).await.map_err(ClientError::Http)?;
        let status = resp.status();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(ClientError::Http)?
            .to_bytes();
        let value: serde_json::Value = if body.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&body).unwrap_or_else(|_| {
                serde_json::Value::String(String::from_utf8_lossy(&body).into())
            })
        };
        if status.is_success() {
            Ok(value)
        } else {
            let reason = value
                .get("reason")
                .and_then(|r| r.as_str())
                .map_or_else(|| value.to_string(), str::to_string);
            Err(ClientError::Api {
                status: status.as_u16(),
                reason,
            })
        }
    }

    /// Pays `invoice` from the account at `address` through the payment engine
    /// (`POST /api/v1/accounts/{address}/payments`); `amount_msat` for a zero-amount invoice.
    /// Answers the payment: final, or `status: "pending"` when still in flight after the wait.
    pub async fn pay(
        &self,
        address: &str,
        invoice: &str,
        amount_msat: Option<u64>,
    ) -> Result<serde_json::Value, ClientError> {
        let address =
            percent_encoding::utf8_percent_encode(address, percent_encoding::NON_ALPHANUMERIC);
        self.call(
            Method::POST,
            &format!("/api/v1/accounts/{address}/payments"),
            Some(serde_json::json!({"invoice": invoice, "amount_msat": amount_msat})),
        )
        .await
    }
}

/// Typed calls for domains as tenants (`lnaddr domain ...`, `lnaddr wellknown export`).
impl AdminClient {
    /// `POST /api/v1/domains`: `domain` holds `name`, `public_url` and any other domain keys.
    pub async fn add_domain(
        &self,
        domain: serde_json::Value,
    ) -> Result<serde_json::Value, ClientError> {
        self.call(Method::POST, "/api/v1/domains", Some(domain))
            .await
    }

    /// `GET /api/v1/domains`
    pub async fn domains(&self) -> Result<serde_json::Value, ClientError> {
        self.call(Method::GET, "/api/v1/domains", None).await
    }

    /// `GET /api/v1/domains/{name}`
    pub async fn domain(&self, name: &str) -> Result<serde_json::Value, ClientError> {
        self.call(Method::GET, &domain_path(name, ""), None).await
    }

    /// `PATCH /api/v1/domains/{name}`: each key replaces the stored one, `null` clears it.
    pub async fn change_domain(
        &self,
        name: &str,
        patch: serde_json::Value,
    ) -> Result<serde_json::Value, ClientError> {
        self.call(Method::PATCH, &domain_path(name, ""), Some(patch))
            .await
    }

    /// `DELETE /api/v1/domains/{name}` (refused while it has accounts).
    pub async fn remove_domain(&self, name: &str) -> Result<(), ClientError> {
        self.call(Method::DELETE, &domain_path(name, ""), None)
            .await
            .map(drop)
    }

    /// `POST /api/v1/domains/{name}/tokens`: `{"id","token",...}`, the token shown this once.
    pub async fn create_domain_token(
        &self,
        name: &str,
        label: Option<&str>,
    ) -> Result<serde_json::Value, ClientError> {
        let body = serde_json::json!({ "label": label });
        self.call(Method::POST, &domain_path(name, "/tokens"), Some(body))
            .await
    }

    /// `GET /api/v1/domains/{name}/tokens` (ids and labels, never the tokens).
    pub async fn domain_tokens(&self, name: &str) -> Result<serde_json::Value, ClientError> {
        self.call(Method::GET, &domain_path(name, "/tokens"), None)
            .await
    }

    /// `DELETE /api/v1/tokens/{id}`
    pub async fn revoke_token(&self, id: &str) -> Result<(), ClientError> {
        let path = format!("/api/v1/tokens/{}", encode(id));
        self.call(Method::DELETE, &path, None).await.map(drop)
    }

    /// `GET /api/v1/domains/{name}/wellknown`: the static files of the domain, path → contents.
    pub async fn wellknown_files(
        &self,
        name: &str,
    ) -> Result<std::collections::BTreeMap<String, String>, ClientError> {
        let answer = self
            .call(Method::GET, &domain_path(name, "/wellknown"), None)
            .await?;
        serde_json::from_value(answer["files"].clone()).map_err(|e| ClientError::Api {
            status: 200,
            reason: format!("unexpected answer: {e}"),
        })
    }
}

fn encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn domain_path(name: &str, rest: &str) -> String {
    format!("/api/v1/domains/{}{rest}", encode(name))
}
