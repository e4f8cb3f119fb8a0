//! What the services (withdrawals, NWC connections, invoice issuing, LndHub) share, so that none of
//! them imports `gateway`: their one error, [`ServiceError`], converted in one place into the
//! gateway's error of the same name (so `http::error` answers it like the gateway's), and the
//! lookups of an account by address and by a name on a domain.

use crate::config::DomainSettings;
use crate::lightning::LightningError;
use crate::refusal::Refusal;
use crate::store::{Account, Store, StoreError};
use crate::types::{LightningAddress, TaggedName};

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

/// The account at `address` (tags are not part of an account's address), or
/// [`ServiceError::UnknownUser`].
pub async fn account_at(
    store: &dyn Store,
    address: &LightningAddress,
) -> Result<Account, ServiceError> {
    crate::store::account_at(store, address)
        .await?
        .ok_or(ServiceError::UnknownUser)
}

/// Resolves `name` or `name+tag` on `domain` to its account; a name that does not parse names no
/// account.
pub async fn resolve(
    store: &dyn Store,
    domain: &DomainSettings,
    name: &str,
) -> Result<(Account, TaggedName), ServiceError> {
    let tagged = TaggedName::parse(name).map_err(|_| ServiceError::UnknownUser)?;
    let account = store
        .account_by_name(&domain.name, &tagged.username)
        .await?
        .ok_or(ServiceError::UnknownUser)?;
    Ok((account, tagged))
}
