//! The gateway's domain logic, between HTTP and the backends: which domain a request is for, which
//! account a name resolves to, issuing invoices bound to an account (LUD-06/16/18), verifying them
//! (LUD-21 verify); the account operations of the admin API are in `accounts`, zaps in `zap`. The
//! gateway holds the services (withdrawals, the payment engine, NWC connections) and is built from
//! its [`Parts`] (`parts`, with the accessors). No HTTP types here.

mod account_invoice;
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
use crate::lightning::{InvoiceRequest, InvoiceState, LightningError, LightningNode};
use crate::lnurl::pay::{self, PayRequest, PayerDataSpec};
use crate::lnurl::pay_cache::{PayCache, PayEntry};
use crate::metrics::Metrics;
use crate::secret::Secret;
use crate::store::{Account, InvoiceRecord, Store, StoreError};
use crate::types::{Msat, PaymentHash, TaggedName, unix_now};

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
    /// Each address's metadata, description hash and lookup answer, made once.
    pay_cache: PayCache,
    /// The in-process ledger event broadcast (credits, payments sent or failed).
    events: crate::events::Events,
    /// Making, listing and revoking NWC connections.
    nwc_connections: crate::nwc::NwcConnections,
}

/// How many addresses per domain keep their LNURL-pay answers made ([`PayCache`]); an entry is
/// about 1 KB.
pub const PAY_CACHE_PER_DOMAIN: usize = 4096;

/// The callback parameters of LUD-06 (amount), LUD-12 (comment), LUD-18 (payerdata) and NIP-57
/// (nostr).
#[derive(Debug)]
pub struct CallbackParams {
    /// The amount as the caller parsed it ([`CallbackParams::parse_amount`]), or why it has
    /// none; the refusal is answered only once the address is known to exist.
    pub amount: Result<Msat, Refusal>,
    pub comment: Option<String>,
    pub payer_data: Option<String>,
    /// The zap request as it appears in the query, still percent-encoded: its exact bytes matter,
    /// and [`crate::nostr::nip57::check_param`] decides how to decode it.
    pub nostr: Option<String>,
}

impl CallbackParams {
    /// The LUD-06 `amount` query parameter: present, and a whole number of millisatoshis.
    pub fn parse_amount(raw: Option<&str>) -> Result<Msat, Refusal> {
        let raw = raw.ok_or(Refusal::MissingAmount)?;
        pay::parse_amount(raw)
            .map(Msat)
            .ok_or(Refusal::AmountNotInteger)
    }
}

impl Default for CallbackParams {
    fn default() -> Self {
        CallbackParams {
            amount: Err(Refusal::MissingAmount),
            comment: None,
            payer_data: None,
            nostr: None,
        }
    }
}

/// An invoice issued by the callback.
#[derive(Debug)]
pub struct IssuedInvoice {
    pub bolt11: String,
    pub payment_hash: PaymentHash,
    pub address: String,
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
        let tagged = TaggedName::parse(name).map_err(|_| Error::UnknownUser)?;
        let account = self
            .store
            .account_by_name(&domain.name, &tagged.username)
            .await?
            .ok_or(Error::UnknownUser)?;
        Ok((account, tagged))
    }

    /// The LNURL-pay answers for `name` (as written in the URL, parsed as `tagged`): made on
    /// first use, then shared.
    pub fn pay_entry(&self, domain: &Domain, name: &str, tagged: &TaggedName) -> Arc<PayEntry> {
        self.pay_cache
            .get_or_make(domain.generation, domain.name.as_str(), name, || {
                self.make_pay_entry(domain, tagged)
            })
    }

    /// LUD-06/16: the metadata names the address as the payer wrote it (tag included), with the
    /// domain's branding (description, image); the lookup answer carries it with the domain's
    /// limits and, for accounts that take zaps, the NIP-57 fields. The callback is on the
    /// gateway ([`DomainSettings::lnurl_base`]), whichever host served the lookup.
    pub fn make_pay_entry(&self, domain: &Domain, tagged: &TaggedName) -> PayEntry {
        let metadata = pay::metadata_branded(
            &format!("{tagged}@{}", domain.name),
            domain.description.as_deref(),
            domain.image.as_ref().map(|i| (i.mime, i.base64.as_str())),
        );
        let callback = format!("{}/lnurlp/{tagged}/callback", domain.lnurl_base());
        let render = |zapper: Option<&str>| {
            let answer = PayRequest {
                tag: "payRequest",
                callback: &callback,
                min_sendable: domain.sendable.start().0,
                max_sendable: domain.sendable.end().0,
                metadata: &metadata,
                comment_allowed: domain.comment_allowed,
                allows_nostr: zapper.map(|_| true),
                nostr_pubkey: zapper,
                payer_data: PayerDataSpec::OPTIONAL,
            };
            // A struct of strings and integers always serializes.
            bytes::Bytes::from(serde_json::to_vec(&answer).unwrap_or_default())
        };
        let plain = render(None);
        let zap = domain.zapper_hex.as_deref().map(|hex| render(Some(hex)));
        PayEntry {
            description_hash: pay::description_hash(&metadata, None),
            metadata,
            plain,
            zap,
        }
    }

    /// LUD-06 callback: checks the parameters, asks the node for an invoice of exactly `amount`
    /// whose description hash commits to the metadata (and payerdata), and records it for the
    /// account. Bad input changes nothing.
    pub async fn issue_invoice(
        &self,
        domain: &Domain,
        name: &str,
        params: CallbackParams,
    ) -> Result<IssuedInvoice, Error> {
        let (account, tagged) = self.resolve(domain, name).await?;
        let amount = params.amount?;
        if !domain.sendable.contains(&amount) {
            return Err(Refusal::AmountOutOfRange {
                min: *domain.sendable.start(),
                max: *domain.sendable.end(),
            }
            .into());
        }
        let zap = match params.nostr.as_deref() {
            Some(raw) => Some(self.check_zap(domain, &account, raw, amount.0)?),
            None => None,
        };
        let payer_data = match zap {
            // The zap request is what the hash commits to; payerdata has no place in a zap.
            Some(_) => None,
            None => params.payer_data,
        };
        if let Some(pd) = payer_data.as_deref() {
            pay::check_payer_data(pd).map_err(Refusal::from)?;
        }
        // NIP-57: with a zap request, its content is the comment.
        let comment = match &zap {
            Some(z) => Some(z.comment()),
            None => params.comment.as_deref(),
        }
        .and_then(|c| pay::cut_comment(c, domain.comment_allowed));
        let description_hash = match (&zap, payer_data.as_deref()) {
            (Some(z), _) => zap::description_hash(z),
            (None, None) => self.pay_entry(domain, name, &tagged).description_hash,
            (None, Some(pd)) => {
                pay::description_hash(&self.pay_entry(domain, name, &tagged).metadata, Some(pd))
            }
        };
        let is_zap = zap.is_some();
        let created = self
            .node
            .create_invoice(InvoiceRequest {
                amount,
                description_hash,
                expiry_secs: self.settings.lightning.invoice_expiry_secs,
            })
            .await?;
        self.store
            .add_invoice(InvoiceRecord {
                payment_hash: created.payment_hash,
                account_id: account.id.clone(),
                amount_msat: amount,
                bolt11: created.bolt11.clone(),
                comment,
                tag: tagged.tag.clone(),
                payer_data,
                zap_request: zap.map(|z| z.raw),
                created_at: unix_now(),
                expires_at: created.expires_at,
                settled: None,
                node_id: Some(self.node.node_id()),
            })
            .await?;
        self.metrics.invoices_created.inc();
        tracing::info!(account = %account.id, payment_hash = %created.payment_hash, amount_msat = amount.0, zap = is_zap, "invoice issued");
        Ok(IssuedInvoice {
            bolt11: created.bolt11,
            payment_hash: created.payment_hash,
            address: account.address(),
        })
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
