//! The one place where errors become HTTP answers: a status and the LNURL error body
//! `{"status":"ERROR","reason":...}`. Public reasons are short and leak nothing; the full error is
//! logged here, once.
//!
//! LUD-06 tells wallets to read the body, not the status, and some show nothing on a 4xx, so on
//! the public LNURL surface a protocol error (bad amount, bad zap...) is HTTP 200 with the ERROR body;
//! unknown users, domains and invoices are 404; our own faults and unreachable backends are 503/500.

use hyper::{Response, StatusCode};

use super::{Body, json};
use crate::domains::admin::DomainError;
use crate::gateway::Error;
use crate::lightning::LightningError;
use crate::lightning::fake::{FakeControlError, FakePayError};
use crate::lnurl::ErrorBody;
use crate::payments::PayError;
use crate::services::ServiceError;
use crate::store::StoreError;

/// Which listener answers: the public one (wallets) or the admin API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    Public,
    Admin,
}

/// An error answer with `reason`.
pub fn error_response(status: StatusCode, reason: &str) -> Response<Body> {
    json(status, &ErrorBody::new(reason))
}

/// What an HTTP handler can fail with: the gateway's domain errors, and the refusals of the fake
/// node's controls (which are the admin router's, not the domain's).
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Domain(#[from] Error),
    #[error(transparent)]
    Fake(#[from] FakeControlError),
    /// A withdraw link's QR code could not be drawn.
    #[error(transparent)]
    Qr(#[from] crate::withdraw::qr::QrError),
}

impl From<crate::gateway::Refusal> for ApiError {
    fn from(e: crate::gateway::Refusal) -> Self {
        ApiError::Domain(Error::Refused(e))
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        ApiError::Domain(e.into())
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError::Domain(Error::Domain(e))
    }
}

/// Maps every error a handler can answer to its answer, and logs it (once).
pub fn into_response(err: &ApiError, surface: Surface) -> Response<Body> {
    let bad_request = match surface {
        Surface::Public => StatusCode::OK,
        Surface::Admin => StatusCode::BAD_REQUEST,
    };
    let (status, reason) = match err {
        ApiError::Domain(e) => domain_status(e, bad_request),
        ApiError::Fake(e) => match e {
            FakeControlError::NotFake => {
                (StatusCode::NOT_FOUND, "the fake node is not in use".into())
            }
            FakeControlError::Pay(e) => match e {
                FakePayError::Invalid => (bad_request, e.to_string()),
                FakePayError::NotOurs => (StatusCode::NOT_FOUND, e.to_string()),
                FakePayError::AlreadyPaid | FakePayError::Expired | FakePayError::Canceled => {
                    (StatusCode::CONFLICT, e.to_string())
                }
                FakePayError::Node(inner) => lightning_status(inner),
            },
        },
        ApiError::Qr(e) => (bad_request, e.to_string()),
    };
    if status.is_server_error() {
        tracing::error!(error = %err, source = ?std::error::Error::source(err), "request failed");
    } else {
        tracing::debug!(error = %err, "request refused");
    }
    error_response(status, &reason)
}

/// A domain error's status and public reason; `bad_request` is the status of a refused request
/// on this surface.
fn domain_status(err: &Error, bad_request: StatusCode) -> (StatusCode, String) {
    match err {
        Error::UnknownDomain => (StatusCode::NOT_FOUND, "unknown domain".into()),
        Error::UnknownUser => (StatusCode::NOT_FOUND, "unknown user".into()),
        Error::UnknownInvoice => (StatusCode::NOT_FOUND, "unknown invoice".into()),
        Error::UnknownLink => (StatusCode::NOT_FOUND, "unknown withdraw link".into()),
        Error::Refused(refusal) => (bad_request, refusal.to_string()),
        Error::NameTaken => (StatusCode::CONFLICT, "the name is already taken".into()),
        Error::BalanceNotZero => (
            StatusCode::CONFLICT,
            "the account's balance is not zero".into(),
        ),
        Error::Forbidden => (
            StatusCode::FORBIDDEN,
            "this token does not manage that".into(),
        ),
        Error::Domain(e) => match e {
            DomainError::Invalid(_) => (bad_request, e.to_string()),
            DomainError::Unknown | DomainError::UnknownToken => {
                (StatusCode::NOT_FOUND, e.to_string())
            }
            DomainError::Configured | DomainError::Exists | DomainError::HasAccounts => {
                (StatusCode::CONFLICT, e.to_string())
            }
            DomainError::Store(inner) => store_status(inner),
        },
        Error::MoneyInFlight(reason) => (StatusCode::CONFLICT, reason.clone()),
        Error::UnknownPayment => (StatusCode::NOT_FOUND, "unknown payment".into()),
        Error::Pay(e) => match e {
            PayError::UnknownAccount => (StatusCode::NOT_FOUND, "unknown user".into()),
            PayError::AlreadyBeingPaid | PayError::IdempotencyConflict => {
                (StatusCode::CONFLICT, e.to_string())
            }
            PayError::Refused(_)
            | PayError::InsufficientBalance
            | PayError::BadIdempotencyKey
            | PayError::Limit(_) => (bad_request, e.to_string()),
            PayError::Store(StoreError::Backend(_)) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "store unavailable, try again later".into(),
            ),
            PayError::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal error".into()),
            PayError::Lightning(inner) => lightning_status(inner),
        },
        Error::Store(e) => store_status(e),
        Error::Lightning(e) => lightning_status(e),
    }
}

fn store_status(e: &StoreError) -> (StatusCode, String) {
    match e {
        StoreError::NameTaken => (StatusCode::CONFLICT, "the name is already taken".into()),
        StoreError::NotFound => (StatusCode::NOT_FOUND, "not found".into()),
        StoreError::BalanceNotZero => (
            StatusCode::CONFLICT,
            "the account's balance is not zero".into(),
        ),
        StoreError::DomainExists => (StatusCode::CONFLICT, "the domain exists already".into()),
        StoreError::DomainHasAccounts => (
            StatusCode::CONFLICT,
            "the domain still has accounts: remove them first".into(),
        ),
        StoreError::PaymentsPending | StoreError::InvoicesOutstanding { .. } => {
            (StatusCode::CONFLICT, e.to_string())
        }
        StoreError::DuplicateInvoice | StoreError::Corrupt(_) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error".into())
        }
        StoreError::Backend(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "store unavailable, try again later".into(),
        ),
        StoreError::Unsupported(what) => (StatusCode::NOT_IMPLEMENTED, (*what).into()),
    }
}

fn lightning_status(e: &LightningError) -> (StatusCode, String) {
    match e {
        LightningError::Unavailable(_) | LightningError::Unauthorized(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "lightning node unavailable, try again later".into(),
        ),
        LightningError::Rejected(_) | LightningError::Protocol(_) => (
            StatusCode::BAD_GATEWAY,
            "the lightning node could not create the invoice".into(),
        ),
    }
}
