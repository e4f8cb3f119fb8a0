//! A small typed admin-API client for the CLI (`lnaddr account ...`, `lnaddr fake pay ...`), like
//! `lncli` to `lnd`: HTTP/1.1 over a plain TCP connection to the admin listener, bearer token from
//! the gateway's token file. Each admin route the CLI uses is one method here, so the binary only
//! parses arguments and prints answers.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use std::path::Path;

use serde_json::{Value, json};

use crate::config::{AdminTokenSource, Settings};
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
    #[error(
        "reading the admin token from {path} (start `lnaddr serve` once, or pass --token-file)"
    )]
    Token {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("amount too large")]
    Amount,
    #[error("writing {path}")]
    File {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

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

/// Percent-encodes one path segment or query value.
fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Reads an admin token file (the token is the file's text, trimmed).
pub fn read_token(path: &Path) -> Result<Secret, ClientError> {
    let text = std::fs::read_to_string(path).map_err(|source| ClientError::Token {
        path: path.display().to_string(),
        source,
    })?;
    Ok(Secret::new(text.trim().to_string()))
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

    /// The client of the gateway that `settings` describe: `admin_url` defaults to
    /// `http://{admin_listen}`, the token to `token_file`, else the configured token or its file.
    pub fn from_settings(
        settings: &Settings,
        admin_url: Option<&str>,
        token_file: Option<&Path>,
    ) -> Result<Self, ClientError> {
        let url = admin_url.map_or_else(
            || format!("http://{}", settings.admin_listen),
            str::to_string,
        );
        let token = match token_file {
            Some(path) => read_token(path)?,
            None => match &settings.admin_token {
                AdminTokenSource::Value(t) => t.clone(),
                AdminTokenSource::File(path) => read_token(path)?,
            },
        };
        AdminClient::new(&url, token)
    }

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
        let path = format!("/api/v1/accounts/{}", enc(address));
        self.call(Method::GET, &path, None).await
    }

    /// `GET /api/v1/accounts[?domain=D]`.
    pub async fn accounts(&self, domain: Option<&str>) -> Result<Value, ClientError> {
        let path = match domain {
            Some(d) => format!("/api/v1/accounts?domain={}", enc(d)),
            None => "/api/v1/accounts".into(),
        };
        self.call(Method::GET, &path, None).await
    }

    /// `DELETE /api/v1/accounts/{address}`.
    pub async fn remove_account(&self, address: &str) -> Result<(), ClientError> {
        let path = format!("/api/v1/accounts/{}", enc(address));
        self.call(Method::DELETE, &path, None).await.map(drop)
    }

    /// `GET /api/v1/accounts/{address}/transactions`.
    pub async fn transactions(&self, address: &str) -> Result<Value, ClientError> {
        let path = format!("/api/v1/accounts/{}/transactions", enc(address));
        self.call(Method::GET, &path, None).await
    }

    /// `POST /api/v1/accounts/{address}/withdraw-links`.
    pub async fn create_withdraw_link(
        &self,
        address: &str,
        link: &NewWithdrawLink,
    ) -> Result<Value, ClientError> {
        let msat = |sat: u64| sat.checked_mul(1000).ok_or(ClientError::Amount);
        let max_msat = msat(link.max_sat)?;
        let min_msat = msat(link.min_sat.unwrap_or(1).min(link.max_sat))?;
        let body = json!({"min_msat": min_msat, "max_msat": max_msat, "uses": link.uses,
            "title": link.title, "expires_in_secs": link.expires_in_secs});
        let path = format!("/api/v1/accounts/{}/withdraw-links", enc(address));
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

    /// `POST /api/v1/fake/pay` (fake node only).
    pub async fn fake_pay(&self, invoice: &str) -> Result<Value, ClientError> {
        let body = json!({"invoice": invoice});
        self.call(Method::POST, "/api/v1/fake/pay", Some(body))
            .await
    }

    /// `GET /api/v1/backup`: a consistent snapshot of the gateway's embedded store (redb file).
    pub async fn backup(&self) -> Result<Bytes, ClientError> {
        let (status, body) = self.send(Method::GET, "/api/v1/backup", None).await?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(api_error(status, &body))
        }
    }

    /// Saves [`AdminClient::backup`] to `out` (mode 0600): written beside it, fsynced, then
    /// renamed, so `out` is either the previous file or the whole new snapshot. Answers its size.
    pub async fn backup_to(&self, out: &Path) -> Result<u64, ClientError> {
        let bytes = self.backup().await?;
        let file_err = |source| ClientError::File {
            path: out.display().to_string(),
            source,
        };
        let tmp = out.with_extension("partial");
        let _ = std::fs::remove_file(&tmp);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options.open(&tmp).and_then(|mut f| {
            std::io::Write::write_all(&mut f, &bytes)?;
            f.sync_all()
        });
        if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, out)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(file_err(e));
        }
        Ok(bytes.len() as u64)
    }

    /// Sends one request; answers the JSON body of a 2xx (or `null` for 204).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, ClientError> {
        let (status, body) = self.send(method, path, body).await?;
        if status.is_success() {
            Ok(json_or_text(&body))
        } else {
            Err(api_error(status, &body))
        }
    }

    /// Sends one request; answers the status and the whole body.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<(hyper::StatusCode, Bytes), ClientError> {
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
        Ok((status, body))
    }
}

fn json_or_text(body: &[u8]) -> Value {
    if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(body)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into()))
    }
}

fn api_error(status: hyper::StatusCode, body: &[u8]) -> ClientError {
    let value = json_or_text(body);
    let reason = value
        .get("reason")
        .and_then(|r| r.as_str())
        .map_or_else(|| value.to_string(), str::to_string);
    ClientError::Api {
        status: status.as_u16(),
        reason,
    }
}

/// Typed calls for the payment engine (`lnaddr pay`).
impl AdminClient {
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
        let path = format!("/api/v1/tokens/{}", enc(id));
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

fn domain_path(name: &str, rest: &str) -> String {
    format!("/api/v1/domains/{}{rest}", enc(name))
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

/// Typed calls for ledger exports, webhooks, NWC connections and LndHub credentials.
impl AdminClient {
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
        let mut path = format!("/api/v1/accounts/{}/transactions.{ext}", enc(address));
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

    /// `POST /api/v1/webhooks`: answers its id and its signing secret (shown this once).
    pub async fn add_webhook(
        &self,
        url: &str,
        events: &[String],
        domain: Option<&str>,
    ) -> Result<Value, ClientError> {
        let body = json!({"url": url, "events": events, "domain": domain});
        self.call(Method::POST, "/api/v1/webhooks", Some(body))
            .await
    }

    /// `GET /api/v1/webhooks` (without secrets).
    pub async fn webhooks(&self) -> Result<Value, ClientError> {
        self.call(Method::GET, "/api/v1/webhooks", None).await
    }

    /// `DELETE /api/v1/webhooks/{id}`.
    pub async fn remove_webhook(&self, id: &str) -> Result<(), ClientError> {
        let path = format!("/api/v1/webhooks/{}", enc(id));
        self.call(Method::DELETE, &path, None).await.map(drop)
    }

    /// `POST /api/v1/accounts/{address}/nwc`: answers the connection with its URI (shown once).
    pub async fn create_nwc_connection(
        &self,
        address: &str,
        conn: &NewNwcConnection,
    ) -> Result<Value, ClientError> {
        let msat = |sat: u64| sat.checked_mul(1000).ok_or(ClientError::Amount);
        let body = json!({"name": conn.name, "methods": conn.methods,
            "budget_msat": conn.budget_sat.map(msat).transpose()?,
            "max_amount_msat": conn.max_sat.map(msat).transpose()?,
            "budget_renewal": conn.renewal, "expires_in_secs": conn.expires_in_secs});
        let path = format!("/api/v1/accounts/{}/nwc", enc(address));
        self.call(Method::POST, &path, Some(body)).await
    }

    /// `GET /api/v1/accounts/{address}/nwc`: the account's connections with their budget used.
    pub async fn nwc_connections(&self, address: &str) -> Result<Value, ClientError> {
        let path = format!("/api/v1/accounts/{}/nwc", enc(address));
        self.call(Method::GET, &path, None).await
    }

    /// `DELETE /api/v1/nwc/{id}`.
    pub async fn revoke_nwc_connection(&self, id: &str) -> Result<Value, ClientError> {
        let path = format!("/api/v1/nwc/{}", enc(id));
        self.call(Method::DELETE, &path, None).await
    }

    /// `POST /api/v1/accounts/{address}/lndhub`: a credential with its `lndhub://` URL (the
    /// password is in it, shown this once).
    pub async fn create_lndhub_credential(&self, address: &str) -> Result<Value, ClientError> {
        let path = format!("/api/v1/accounts/{}/lndhub", enc(address));
        self.call(Method::POST, &path, None).await
    }

    /// `GET /api/v1/accounts/{address}/lndhub` (logins only).
    pub async fn lndhub_credentials(&self, address: &str) -> Result<Value, ClientError> {
        let path = format!("/api/v1/accounts/{}/lndhub", enc(address));
        self.call(Method::GET, &path, None).await
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
