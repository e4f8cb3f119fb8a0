//! The gateway's domain logic, between HTTP and the backends: which domain a request is for, which
//! account a name resolves to, verifying invoices (LUD-21 verify); the account operations of the
//! admin API are in `accounts`, zap receipts in `zap`. The gateway holds the services (invoice
//! issuing, withdrawals, the payment engine, NWC connections, LndHub) and is built from its
//! [`Parts`] (`parts`, with the accessors). No HTTP types here.

mod accounts;
pub mod export;
mod parts;
mod spend;
mod webhooks;
mod wellknown;
mod zap;
mod zap_outbox;

pub use crate::refusal::Refusal;
pub use parts::Parts;
pub use webhooks::WebhookView;
pub use wellknown::WellKnownFiles;
pub use zap::{ReceiptView, TransactionView};
pub use zap_outbox::OutboxEntry;

use std::sync::Arc;

use crate::config::{DomainSettings, Settings};
use crate::domains::{Domain, Domains};
use crate::lightning::{InvoiceState, LightningError, LightningNode};
use crate::metrics::Metrics;
use crate::secret::Secret;
use crate::store::{Account, Store, StoreError};
use crate::types::{PaymentHash, TaggedName};

/// What a gateway operation can fail with. `http::error` turns each into a status and an LNURL
/// error body.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No configured domain matches the request's Host.
    #[error("unknown domain")]
    UnknownDomain,
    /// No account has that name on that domain (or the name is not a valid one).
    #[error("unknown user")]
    UnknownUser,
    /// No invoice with that hash was issued to that account.
    #[error("unknown invoice")]
    UnknownInvoice,
    /// No withdraw link has that k1 (LUD-03).
    #[error("unknown withdraw link")]
    UnknownLink,
    /// No payment has that hash.
    #[error("unknown payment")]
    UnknownPayment,
    /// The payment engine refused or failed (the payment did not start; nothing changed).
    #[error(transparent)]
    Pay(#[from] crate::payments::PayError),
    /// The client sent something the protocol or the API does not allow; the refusal says what.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The name is already taken on that domain.
    #[error("the name is already taken")]
    NameTaken,
    /// The account still holds money.
    #[error("the account's balance is not zero")]
    BalanceNotZero,
    /// The caller's token does not manage this (a domain token outside its domain).
    #[error("this token does not manage that")]
    Forbidden,
    /// A domain operation was refused.
    #[error(transparent)]
    Domain(#[from] crate::domains::admin::DomainError),
    /// Money is still moving on the account (the reason says how); refused, nothing changed.
    #[error("{0}")]
    MoneyInFlight(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Lightning(#[from] LightningError),
}

impl From<crate::services::ServiceError> for Error {
    fn from(e: crate::services::ServiceError) -> Self {
        use crate::services::ServiceError;
        match e {
            ServiceError::UnknownUser => Error::UnknownUser,
            ServiceError::UnknownLink => Error::UnknownLink,
            ServiceError::Refused(reason) => Error::Refused(reason),
            ServiceError::Store(e) => Error::Store(e),
            ServiceError::Lightning(e) => Error::Lightning(e),
        }
    }
}

impl Error {
    fn from_store(e: StoreError) -> Self {
        match e {
            StoreError::NameTaken => Error::NameTaken,
            StoreError::NotFound => Error::UnknownUser,
            StoreError::BalanceNotZero => Error::BalanceNotZero,
            e @ (StoreError::PaymentsPending | StoreError::InvoicesOutstanding { .. }) => {
                Error::MoneyInFlight(e.to_string())
            }
            other => Error::Store(other),
        }
    }
}

/// Everything a request handler needs, shared by all connections. Its fields are private: the
/// services and shared parts are reached through their accessors, the admin token only through
/// [`Gateway::is_admin_token`].
pub struct Gateway {
    settings: Settings,
    store: Arc<dyn Store>,
    node: Arc<dyn LightningNode>,
    metrics: Metrics,
    /// Compared only by [`Gateway::is_admin_token`].
    admin_token: Secret,
    /// The served domains (config file and store) with their zapper keys, reloaded while running.
    domains: Arc<Domains>,
    /// Withdraw links and the LNURL-withdraw callback (LUD-03).
    withdrawals: crate::withdraw::Withdrawals,
    /// The payment engine every way of spending uses.
    payments: crate::payments::Payments,
    /// Issuing invoices (the LNURL-pay callback, wallets' invoices) and the LNURL-pay answers.
    invoices: Arc<crate::invoices::Invoices>,
    /// The in-process ledger event broadcast (credits, payments sent or failed).
    events: crate::events::Events,
    /// Making, listing and revoking NWC connections.
    nwc_connections: crate::nwc::NwcConnections,
    /// The LndHub API: credentials, tokens, each account's wallet.
    lndhub: crate::lndhub::Hub,
}

/// LUD-21 verify answer.
#[derive(Debug)]
pub struct Verification {
    pub settled: bool,
    pub preimage: Option<String>,
    pub bolt11: String,
}

impl Gateway {
    /// The domain a request is for: the one named in the path (`/d/{domain}/...`, see
    /// [`DomainSettings::lnurl_base`]) when there is one, else by Host header. With one domain
    /// served, it answers any Host; otherwise the Host must match a domain name (with its port when
    /// the name has one).
    pub fn domain_for(
        &self,
        host: Option<&str>,
        named: Option<&str>,
    ) -> Result<Arc<Domain>, Error> {
        let set = self.domains.current();
        match named {
            Some(name) => set.named(&name.to_ascii_lowercase()),
            None => set.for_host(host),
        }
        .ok_or(Error::UnknownDomain)
    }

    /// The domain a request is for, by Host header alone.
    pub fn domain_for_host(&self, host: Option<&str>) -> Result<Arc<Domain>, Error> {
        self.domain_for(host, None)
    }

    /// The served domain of an address, for the admin API.
    pub fn domain_named(&self, name: &str) -> Result<Arc<Domain>, Error> {
        Ok(self.domains.served(name)?)
    }

    /// Resolves `name` or `name+tag` on `domain` to its account.
    pub async fn resolve(
        &self,
        domain: &DomainSettings,
        name: &str,
    ) -> Result<(Account, TaggedName), Error> {
        Ok(crate::services::resolve(self.store.as_ref(), domain, name).await?)
    }

    /// LUD-21 verify: the state of an invoice issued to `name`, never of another account's (the
    /// node is shared, and a preimage is proof of payment). `hash` is `None` when the request's
    /// was not a payment hash: no invoice has it.
    pub async fn verify(
        &self,
        domain: &DomainSettings,
        name: &str,
        hash: Option<PaymentHash>,
    ) -> Result<Verification, Error> {
        let (account, _) = self.resolve(domain, name).await?;
        let hash = hash.ok_or(Error::UnknownInvoice)?;
        let invoice = self
            .store
            .invoice(&hash)
            .await?
            .filter(|i| i.account_id == account.id)
            .ok_or(Error::UnknownInvoice)?;
        if let Some(settled) = &invoice.settled {
            // Settled inside the ledger by a withdrawal: no preimage was ever revealed.
            let internal =
                settled.preimage == hex::encode(crate::store::withdraw::INTERNAL_PREIMAGE);
            return Ok(Verification {
                settled: true,
                preimage: (!internal).then(|| settled.preimage.clone()),
                bolt11: invoice.bolt11,
            });
        }
        // Settled on the node but not yet credited: the node is the authority.
        let node_view = self.node.lookup_invoice(&hash).await?;
        let (settled, preimage) = match node_view {
            Some(n) if n.state == InvoiceState::Settled => (true, n.preimage.map(hex::encode)),
            _ => (false, None),
        };
        Ok(Verification {
            settled,
            preimage,
            bolt11: invoice.bolt11,
        })
    }

    /// Whether `bearer` is the admin token (compared in constant time).
    pub fn is_admin_token(&self, bearer: &str) -> bool {
        self.admin_token.constant_time_eq(bearer.as_bytes())
    }

    /// Writes a consistent snapshot of the store to `out` (`GET /api/v1/backup`).
    pub async fn snapshot(&self, out: &std::path::Path) -> Result<(), Error> {
        Ok(self.store.snapshot(out).await?)
    }

    /// Takes one token from the shared rate-limit bucket `key` (refilled one token every
    /// `interval`, at most `burst`), kept in the store so it holds across every process.
    pub async fn take_rate_token(
        &self,
        key: &str,
        interval: std::time::Duration,
        burst: u32,
    ) -> Result<crate::ratelimit::RateDecision, Error> {
        Ok(self.store.take_token(key, interval, burst).await?)
    }

    /// Readiness: the store answers and the node is reachable and synced.
    pub async fn ready(&self) -> Result<(), String> {
        self.store
            .ping()
            .await
            .map_err(|_| "store unavailable".to_string())?;
        match self.node.status().await {
            Ok(s) if s.synced => Ok(()),
            Ok(_) => Err("lightning node not synced".into()),
            Err(_) => Err("lightning node unavailable".into()),
        }
    }
}
