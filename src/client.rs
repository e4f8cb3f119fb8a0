//! A small typed admin-API client for the CLI (`lnaddr account ...`, `lnaddr fake pay ...`), like
//! `lncli` to `lnd`: HTTP/1.1 over a plain TCP connection to the admin listener, bearer token from
//! the gateway's token file. Each admin route the CLI uses is one method here, so the binary only
//! parses arguments and prints answers.
//!
//! This file holds the client, its error and the paths it calls; one request on the wire is in
//! `transport`; the typed calls are grouped by what they manage: `accounts` (accounts, ledgers,
//! payments), `spending` (withdraw links, NWC connections, LndHub credentials), `domains`
//! (domains, domain tokens, `.well-known` files) and `operator` (webhooks, backups, the fake
//! node).

mod accounts;
mod domains;
mod operator;
mod spending;
mod transport;

use std::path::Path;

use crate::config::{AdminTokenSource, Settings};
use crate::secret::Secret;

pub use domains::DomainFields;
pub use spending::{NewNwcConnection, NewWithdrawLink};

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
}

/// `/api/v1/accounts/{address}` followed by `rest`.
fn account_path(address: &str, rest: &str) -> String {
    format!("/api/v1/accounts/{}{rest}", enc(address))
}

fn domain_path(name: &str, rest: &str) -> String {
    format!("/api/v1/domains/{}{rest}", enc(name))
}

/// An amount the operator typed in sat, in msat for the API.
fn sat_to_msat(sat: u64) -> Result<u64, ClientError> {
    sat.checked_mul(1000).ok_or(ClientError::Amount)
}
