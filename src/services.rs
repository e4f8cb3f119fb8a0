//! What the services (withdrawals, NWC connections, invoice issuing, LndHub) share, so that none of
//! them imports `gateway`: their one error, [`ServiceError`], which `http::error` converts in one
//! place into the gateway's error of the same name.

use crate::lightning::LightningError;
use crate::refusal::Refusal;
use crate::store::StoreError;

/// What a service operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// No account has that address (or it was removed meanwhile).
    #[error("unknown user")]
    UnknownUser,
    /// No withdraw link has that k1 (LUD-03).
    #[error("unknown withdraw link")]
    UnknownLink,
    /// The client sent something the protocol or the API does not allow; the refusal says what.
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Lightning(#[from] LightningError),
}
