//! The LndHub API (BlueWallet, Zeus; the protocol of BlueWallet's LndHub and getAlby's lndhub.go):
//! each account's own wallet. [`auth`]: credentials, logins, bearer tokens; [`register`]: `/create`
//! by the domain's `registration`; [`wallet`]: balance, invoices, payments, decoding; [`spend`]:
//! paying and listing payments through the payment engine; [`views`]: the JSON shapes the wallets
//! read. [`Hub`] is the service, holding only its dependencies (store, node, the `[lndhub]`
//! settings, the payment engine, the domains, and invoice issuing as an
//! [`AccountInvoices`]); it is built once in `app` and held by the gateway. Its admin operations
//! fail with the services' [`ServiceError`], its wallet calls with [`HubError`]. No HTTP types
//! here: `http::lndhub` routes requests to [`Hub`] and turns [`HubError`] into LndHub's error body.

pub mod auth;
pub mod register;
pub mod spend;
pub mod views;
pub mod wallet;

use std::sync::Arc;
use std::time::Duration;

use crate::config::{LndhubSettings, Settings};
use crate::domains::Domains;
use crate::invoices::AccountInvoices;
use crate::lightning::LightningNode;
use crate::payments::Payments;
use crate::ratelimit::RateDecision;
use crate::refusal::Refusal;
use crate::services::ServiceError;
use crate::store::{Account, Store, StoreError};

/// LndHub's error codes (`{"error":true,"code":N,"message":...}`), as BlueWallet and Zeus read
/// them: 1 makes the wallet log in again.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// Bad or expired credentials or token (code 1).
    #[error("bad auth")]
    BadAuth,
    /// The balance does not cover the amount and the fee reserve (code 2).
    #[error("not enough balance. Make sure you have at least 1% reserved for potential fees")]
    NotEnoughBalance,
    /// The invoice cannot be paid as it is (code 4).
    #[error("not a valid invoice: {0}")]
    InvalidInvoice(String),
    /// Our fault or a backend that cannot be reached (code 6).
    #[error("something went wrong, please try again later")]
    Unavailable,
    /// The payment failed for good; nothing was taken (code 7).
    #[error("payment failed: {0}")]
    PaymentFailed(String),
    /// Missing or malformed arguments (code 8).
    #[error("bad arguments: {0}")]
    BadArguments(String),
    /// Too many attempts; try again after the wait (code 9).
    #[error("too many requests, try again later")]
    RateLimited(Duration),
    /// The payment is still in flight when the call gives up (HTTP 503, code 6).
    #[error("payment is in transit")]
    InFlight,
    /// `/create` is not open on this domain, or the invite is unknown (code 10).
    #[error("{0}")]
    Forbidden(String),
    /// No such invoice or payment of this account (code 8, HTTP 404).
    #[error("not found")]
    NotFound,
}

impl HubError {
    /// The code of LndHub's error body.
    pub fn code(&self) -> u32 {
        match self {
            HubError::BadAuth => 1,
            HubError::NotEnoughBalance => 2,
            HubError::InvalidInvoice(_) => 4,
            HubError::Unavailable | HubError::InFlight => 6,
            HubError::PaymentFailed(_) => 7,
            HubError::BadArguments(_) | HubError::NotFound => 8,
            HubError::RateLimited(_) => 9,
            HubError::Forbidden(_) => 10,
        }
    }
}

impl From<StoreError> for HubError {
    fn from(e: StoreError) -> Self {
        tracing::warn!(error = %e, "lndhub: store error");
        HubError::Unavailable
    }
}

impl From<ServiceError> for HubError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Refused(reason) => HubError::BadArguments(reason.to_string()),
            ServiceError::UnknownUser => HubError::BadAuth,
            other => {
                tracing::warn!(error = %other, "lndhub: service error");
                HubError::Unavailable
            }
        }
    }
}

impl From<Refusal> for HubError {
    fn from(e: Refusal) -> Self {
        ServiceError::Refused(e).into()
    }
}

/// An authenticated wallet: the account its access token opens.
#[derive(Debug, Clone)]
pub struct Session {
    pub account: Account,
    pub login: String,
}

/// The LndHub service (see the module docs).
pub struct Hub {
    store: Arc<dyn Store>,
    node: Arc<dyn LightningNode>,
    settings: LndhubSettings,
    /// `[limits] enabled`: whether logins and `/create` are rate limited.
    limits_enabled: bool,
    payments: Payments,
    domains: Arc<Domains>,
    invoices: Arc<dyn AccountInvoices>,
}

impl Hub {
    /// A hub over `store` and `node` that reads `[lndhub]` and whether `[limits]` are on from
    /// `settings`.
    pub fn new(
        store: Arc<dyn Store>,
        node: Arc<dyn LightningNode>,
        settings: &Settings,
        payments: Payments,
        domains: Arc<Domains>,
        invoices: Arc<dyn AccountInvoices>,
    ) -> Self {
        Hub {
            store,
            node,
            settings: settings.lndhub.clone(),
            limits_enabled: settings.limits.enabled,
            payments,
            domains,
            invoices,
        }
    }

    /// Takes a token from the shared bucket `bucket` (one every `interval`, at most `burst`);
    /// `Err(RateLimited)` when it is empty. Nothing is limited when `[limits]` is off; a store
    /// that cannot be reached lets the attempt through (the attempt then meets the same store).
    async fn limit(&self, bucket: String, interval: Duration, burst: u32) -> Result<(), HubError> {
        if !self.limits_enabled {
            return Ok(());
        }
        match self.store.take_token(&bucket, interval, burst).await {
            Ok(RateDecision::Allowed) => Ok(()),
            Ok(RateDecision::Limited { retry_after }) => Err(HubError::RateLimited(retry_after)),
            Err(e) => {
                tracing::warn!(error = %e, "rate-limit store unavailable; not limiting");
                Ok(())
            }
        }
    }
}

/// Lower-case hex sha256: how passwords, tokens and invite codes are kept.
pub fn digest(secret: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

/// `n` random bytes in hex.
pub fn random_hex(n: usize) -> String {
    let bytes: Vec<u8> = (0..n).map(|_| rand::random::<u8>()).collect();
    hex::encode(bytes)
}
