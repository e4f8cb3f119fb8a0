//! Issuing invoices to accounts, the way every incoming payment starts: the LNURL-pay callback
//! (LUD-06/12/18, NIP-57 zaps; [`callback`]), which an LndHub wallet's `addinvoice` goes through
//! too, and the invoices an account's own wallet asks for (NIP-47 `make_invoice`; [`wallet`]). Each
//! asks the node for an invoice of exactly its amount and records it for the account, so the
//! settlement follower credits them all alike. The LNURL-pay answers of an address (metadata,
//! description hash, lookup JSON) are made here once and cached.
//!
//! [`Invoices`] is the service, holding only its dependencies (store, node, metrics, the domains,
//! the configured invoice expiry); it fails with the services' [`ServiceError`]. LndHub and the NWC
//! wallet service hold it as an [`AccountInvoices`]. No HTTP types here.

pub mod callback;
mod params;
pub mod wallet;

pub use params::{CallbackParams, IssuedInvoice};
pub use wallet::WalletInvoice;

use std::sync::Arc;

use async_trait::async_trait;

use crate::domains::{Domain, Domains};
use crate::lightning::{InvoiceRequest, LightningNode};
use crate::lnurl::pay::{self, PayRequest, PayerDataSpec};
use crate::lnurl::pay_cache::{PayCache, PayEntry};
use crate::metrics::Metrics;
use crate::refusal::Refusal;
use crate::services::ServiceError;
use crate::store::{Account, AccountId, InvoiceRecord, Store};
use crate::types::{Msat, TaggedName, unix_now};

type Error = ServiceError;

/// How many addresses per domain keep their LNURL-pay answers made ([`PayCache`]); an entry is
/// about 1 KB.
pub const PAY_CACHE_PER_DOMAIN: usize = 4096;

/// Issues invoices to accounts and records them: what the services that receive for an account
/// (LndHub, the NWC wallet service) hold, so none of them reaches the gateway.
#[async_trait]
pub trait AccountInvoices: Send + Sync {
    /// The LNURL-pay callback (LUD-06) for `name` on `domain`: the parameters are checked, then an
    /// invoice of exactly the amount whose description hash commits to the address's metadata (or
    /// the payerdata, or the zap request) is issued and recorded. Bad input changes nothing.
    async fn issue(
        &self,
        domain: &Domain,
        name: &str,
        params: CallbackParams,
    ) -> Result<IssuedInvoice, ServiceError>;

    /// An invoice the account's own wallet asks for ([`WalletInvoice`]), recorded for it.
    async fn issue_for_wallet(
        &self,
        account_id: &AccountId,
        ask: WalletInvoice,
    ) -> Result<InvoiceRecord, ServiceError>;
}

/// Issuing invoices and the LNURL-pay answers (see the module docs).
pub struct Invoices {
    store: Arc<dyn Store>,
    node: Arc<dyn LightningNode>,
    metrics: Metrics,
    domains: Arc<Domains>,
    /// `[lightning] invoice_expiry_secs`: how long an invoice of the callback is payable.
    expiry_secs: u64,
    /// Each address's metadata, description hash and lookup answer, made once.
    pay_cache: PayCache,
}

/// What [`Invoices::record`] asks the node for and records.
struct NewInvoice {
    amount: Msat,
    description_hash: [u8; 32],
    expiry_secs: u64,
    comment: Option<String>,
    tag: Option<String>,
    payer_data: Option<String>,
    zap_request: Option<String>,
}

impl Invoices {
    pub fn new(
        store: Arc<dyn Store>,
        node: Arc<dyn LightningNode>,
        metrics: Metrics,
        domains: Arc<Domains>,
        expiry_secs: u64,
    ) -> Self {
        Invoices {
            store,
            node,
            metrics,
            domains,
            expiry_secs,
            pay_cache: PayCache::new(PAY_CACHE_PER_DOMAIN),
        }
    }

    /// The LNURL-pay answers for `name` (as written in the URL, parsed as `tagged`): made on
    /// first use, then shared.
    pub fn pay_entry(&self, domain: &Domain, name: &str, tagged: &TaggedName) -> Arc<PayEntry> {
        self.pay_cache
            .get_or_make(domain.generation, domain.name.as_str(), name, || {
                make_pay_entry(domain, tagged)
            })
    }

    /// Asks the node for the invoice and records it for `account_id`; nothing is recorded when the
    /// node refuses.
    async fn record(
        &self,
        account_id: &AccountId,
        new: NewInvoice,
    ) -> Result<InvoiceRecord, Error> {
        let created = self
            .node
            .create_invoice(InvoiceRequest {
                amount: new.amount,
                description_hash: new.description_hash,
                expiry_secs: new.expiry_secs,
            })
            .await?;
        let record = InvoiceRecord {
            payment_hash: created.payment_hash,
            account_id: account_id.clone(),
            amount_msat: new.amount,
            bolt11: created.bolt11,
            comment: new.comment,
            tag: new.tag,
            payer_data: new.payer_data,
            zap_request: new.zap_request,
            created_at: unix_now(),
            expires_at: created.expires_at,
            settled: None,
            node_id: Some(self.node.node_id()),
        };
        self.store.add_invoice(record.clone()).await?;
        self.metrics.invoices_created.inc();
        Ok(record)
    }
}

#[async_trait]
impl AccountInvoices for Invoices {
    async fn issue(
        &self,
        domain: &Domain,
        name: &str,
        params: CallbackParams,
    ) -> Result<IssuedInvoice, ServiceError> {
        self.issue_callback_invoice(domain, name, params).await
    }

    async fn issue_for_wallet(
        &self,
        account_id: &AccountId,
        ask: WalletInvoice,
    ) -> Result<InvoiceRecord, ServiceError> {
        self.issue_wallet_invoice(account_id, ask).await
    }
}

/// Refuses an amount outside the domain's sendable range.
fn check_sendable(domain: &Domain, amount: Msat) -> Result<(), Refusal> {
    if domain.sendable.contains(&amount) {
        return Ok(());
    }
    Err(Refusal::AmountOutOfRange {
        min: *domain.sendable.start(),
        max: *domain.sendable.end(),
    })
}

/// The zapper public key to announce for `account` (`nostrPubkey`), when it takes zaps: it has a
/// nostr pubkey (the receipt's `p` tag names it) and its domain has a zapper key.
pub fn zap_pubkey<'d>(domain: &'d Domain, account: &Account) -> Option<&'d str> {
    account.nostr_pubkey.as_ref()?;
    domain.zapper_hex.as_deref()
}

/// LUD-06/16: the metadata names the address as the payer wrote it (tag included), with the
/// domain's branding (description, image); the lookup answer carries it with the domain's limits
/// and, for accounts that take zaps, the NIP-57 fields. The callback is on the gateway
/// ([`crate::config::DomainSettings::lnurl_base`]), whichever host served the lookup.
fn make_pay_entry(domain: &Domain, tagged: &TaggedName) -> PayEntry {
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
            min_sendable: domain.sendable.start().msat(),
            max_sendable: domain.sendable.end().msat(),
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
