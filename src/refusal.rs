//! Why the gateway refused a request that was its caller's fault: one variant per thing that can
//! be wrong, carrying its data; the `Display` text is the public reason on the wire.
//! `http::error` answers every one with the surface's "bad request" status.

use crate::lnurl::encode::LnurlError;
use crate::lnurl::pay::PayerDataError;
use crate::lnurl::withdraw::InvoiceProblem;
use crate::nostr::nip57::ZapRequestError;
use crate::types::{Msat, NameError};
use crate::webhooks::guard::UrlRefused;

/// A request the protocol or the API does not allow; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The address names a domain this gateway does not serve.
    #[error("domain {0} is not served by this gateway")]
    DomainNotServed(String),
    /// A name, address, tag, hash or nostr key that does not parse.
    #[error(transparent)]
    BadName(#[from] NameError),
    /// The LUD-06 callback has no `amount`.
    #[error("missing amount")]
    MissingAmount,
    /// `amount` is not a whole number of millisatoshis.
    #[error("amount must be a whole number of millisatoshis")]
    AmountNotInteger,
    /// The amount is outside the domain's sendable range.
    #[error("amount must be between {} and {} millisatoshis", .min.msat(), .max.msat())]
    AmountOutOfRange { min: Msat, max: Msat },
    /// The LUD-18 payerdata is not acceptable.
    #[error(transparent)]
    PayerData(#[from] PayerDataError),
    /// The NIP-57 zap request is not acceptable (or the account takes no zaps).
    #[error(transparent)]
    Zap(#[from] ZapRequestError),
    /// A free-text field is longer than allowed.
    #[error("{field} must be at most {max} characters")]
    TooLong { field: &'static str, max: usize },
    /// A number that must be above zero is zero.
    #[error("{0} must be positive")]
    NotPositive(&'static str),
    /// An invoice's expiry is outside 60 s to a week.
    #[error("expiry must be between 60 and 604800 seconds")]
    ExpiryOutOfRange,
    /// A time parameter is not a number of Unix seconds.
    #[error("{0} must be Unix seconds")]
    NotUnixSeconds(&'static str),
    /// An admin request's JSON body does not parse.
    #[error("invalid JSON body: {0}")]
    InvalidJson(#[from] serde_json::Error),
    /// The webhook URL is longer than 2048 bytes.
    #[error("the webhook URL is too long")]
    WebhookUrlTooLong,
    /// The webhook URL is not one the gateway calls.
    #[error(transparent)]
    WebhookUrl(#[from] UrlRefused),
    /// A webhook event type that does not exist.
    #[error("unknown event type {0:?}")]
    UnknownEventType(String),
    /// The outbox filter's status is none of the three.
    #[error("status must be pending, sent or failed")]
    BadReceiptStatus,
    /// An LndHub invite's lifetime is outside 1 to `max` seconds.
    #[error("expires_in_secs must be between 1 and {max}")]
    InviteLifetime { max: u64 },
    /// NWC is not set up: no relays to listen on.
    #[error("no NWC relays are configured ([nwc] relays)")]
    NoNwcRelays,
    /// An NWC method that does not exist.
    #[error("unknown method {name:?}; known: {}", .known.join(", "))]
    UnknownNwcMethod {
        name: String,
        known: &'static [&'static str],
    },
    /// An NWC connection with an empty method list.
    #[error("methods must not be empty")]
    NoNwcMethods,
    /// An NWC connection's per-payment limit or budget is zero.
    #[error("max_amount_msat and budget_msat must be positive")]
    NwcLimitsNotPositive,
    /// A withdraw link's bounds are not `1 <= min <= max`.
    #[error("need 1 <= min_msat <= max_msat")]
    LinkBounds,
    /// A withdraw link's number of uses is outside 1 to `max`.
    #[error("uses must be between 1 and {max}")]
    LinkUses { max: u32 },
    /// The configured public URL makes an LNURL longer than bech32 allows.
    #[error("public_url too long for an LNURL: {0}")]
    PublicUrlTooLong(LnurlError),
    /// The withdraw link cannot pay now (LUD-03).
    #[error("this withdraw link is disabled")]
    LinkDisabled,
    #[error("this withdraw link has expired")]
    LinkExpired,
    #[error("this withdraw link has been used up")]
    LinkUsedUp,
    /// The callback's `k1` is not the link's.
    #[error("k1 does not match this link")]
    K1Mismatch,
    /// The withdraw callback has no invoice.
    #[error("missing pr")]
    MissingPr,
    /// The wallet's invoice does not fit the link (LUD-03).
    #[error(transparent)]
    Invoice(#[from] InvoiceProblem),
    /// A withdraw link asked to pay an invoice of its own account.
    #[error("a link cannot pay an invoice of its own account")]
    OwnInvoice,
    /// The payment engine's invoice rules refused the invoice.
    #[error(transparent)]
    InvoiceRefused(crate::payments::Refusal),
    /// The balance does not cover the withdrawal and its fee reserve.
    #[error("the balance does not cover this amount and the fee reserve")]
    InsufficientBalance,
    /// That invoice is already being paid.
    #[error("this invoice is already being paid")]
    AlreadyBeingPaid,
}
