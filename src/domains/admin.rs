//! Administration of the domain set and of domain tokens (the admin API's `/api/v1/domains` and
//! `/api/v1/tokens`): add, change and remove stored domains; make, list and revoke tokens. Every
//! change is followed by a reload of this process' snapshot, so the process that made it serves
//! it at once; the others follow within [`super::POLL`].

use std::sync::Arc;

use serde_json::{Map, Value};

use super::token::{self, NewToken};
use super::{Domain, Domains};
use crate::config::{KeySource, RawDomain, validate_domain};
use crate::store::{DomainRecord, DomainToken, StoreError};
use crate::types::{DomainName, unix_now};

/// Why a domain operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// The domain's keys are not valid; each problem names its key.
    #[error("{}", .0.join("; "))]
    Invalid(Vec<String>),
    /// No served domain has that name.
    #[error("unknown domain")]
    Unknown,
    /// No token has that id.
    #[error("unknown token")]
    UnknownToken,
    /// The config file names the domain: it is changed there, not through the API.
    #[error("the domain is configured in the config file; change it there")]
    Configured,
    /// A domain with that name exists already.
    #[error("the domain exists already")]
    Exists,
    /// Accounts are still named on the domain.
    #[error("the domain still has accounts: remove them first")]
    HasAccounts,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for DomainError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::DomainExists => DomainError::Exists,
            StoreError::DomainHasAccounts => DomainError::HasAccounts,
            StoreError::NotFound => DomainError::Unknown,
            other => DomainError::Store(other),
        }
    }
}

/// Keys a PATCH may not change.
const FIXED: [&str; 1] = ["name"];

impl Domains {
    /// Adds a domain to the store (and to this process' set at once).
    pub async fn add(&self, mut raw: RawDomain) -> Result<Arc<Domain>, DomainError> {
        let name = DomainName::parse(&raw.name).map_err(|_| {
            DomainError::Invalid(vec![format!("{:?} is not a domain name", raw.name)])
        })?;
        raw.name = name.to_string();
        if raw.public_url.is_none() {
            return Err(DomainError::Invalid(vec![format!(
                "domains.{name}.public_url is required: the gateway's own URL, where callbacks go"
            )]));
        }
        validate_domain(&raw, KeySource::KeyOnly).map_err(DomainError::Invalid)?;
        if self.configured(name.as_str()) {
            return Err(DomainError::Configured);
        }
        let now = unix_now();
        self.store()
            .add_domain(&DomainRecord {
                domain: raw,
                created_at: now,
                updated_at: now,
            })
            .await?;
        tracing::info!(domain = %name, "domain added");
        self.reload_named(name.as_str()).await
    }

    /// Changes a stored domain: each key of `patch` replaces the stored one, `null` clears it.
    pub async fn patch(
        &self,
        name: &str,
        patch: Map<String, Value>,
    ) -> Result<Arc<Domain>, DomainError> {
        if self.configured(name) {
            return Err(DomainError::Configured);
        }
        let record = self
            .store()
            .domains()
            .await?
            .into_iter()
            .find(|r| r.domain.name == name)
            .ok_or(DomainError::Unknown)?;
        let Value::Object(mut merged) = serde_json::to_value(&record.domain)
            .map_err(|e| DomainError::Store(StoreError::Corrupt(e)))?
        else {
            return Err(DomainError::Invalid(vec![
                "the stored domain is not an object".into(),
            ]));
        };
        for (key, value) in patch {
            if FIXED.contains(&key.as_str()) {
                if value.as_str() != Some(name) {
                    return Err(DomainError::Invalid(vec![format!(
                        "{key} cannot be changed"
                    )]));
                }
                continue;
            }
            if value.is_null() {
                merged.remove(&key);
            } else {
                merged.insert(key, value);
            }
        }
        let raw: RawDomain = serde_json::from_value(Value::Object(merged))
            .map_err(|e| DomainError::Invalid(vec![e.to_string()]))?;
        validate_domain(&raw, KeySource::KeyOnly).map_err(DomainError::Invalid)?;
        if raw.public_url.is_none() {
            return Err(DomainError::Invalid(vec![
                "public_url cannot be cleared".into(),
            ]));
        }
        self.store()
            .update_domain(&DomainRecord {
                domain: raw,
                created_at: record.created_at,
                updated_at: unix_now(),
            })
            .await?;
        tracing::info!(domain = %name, "domain changed");
        self.reload_named(name).await
    }

    /// Removes a stored domain and its tokens; refused while it has accounts.
    pub async fn remove(&self, name: &str) -> Result<(), DomainError> {
        if self.configured(name) {
            return Err(DomainError::Configured);
        }
        self.store().remove_domain(name).await?;
        tracing::info!(domain = %name, "domain removed");
        self.refresh().await?;
        Ok(())
    }

    /// Makes a token that manages `domain`; the token is in the answer only.
    pub async fn create_token(
        &self,
        domain: &str,
        label: Option<String>,
    ) -> Result<NewToken, DomainError> {
        self.current().named(domain).ok_or(DomainError::Unknown)?;
        if let Some(l) = &label
            && (l.chars().count() > 100 || l.chars().any(char::is_control))
        {
            return Err(DomainError::Invalid(vec![
                "label: at most 100 characters, no control characters".into(),
            ]));
        }
        let made = token::generate(domain, label);
        self.store().add_domain_token(&made.record).await?;
        tracing::info!(domain = %domain, token_id = %made.record.id, "domain token created");
        Ok(made)
    }

    /// The tokens of `domain` (never the tokens themselves).
    pub async fn tokens(&self, domain: &str) -> Result<Vec<DomainToken>, DomainError> {
        self.current().named(domain).ok_or(DomainError::Unknown)?;
        Ok(self.store().domain_tokens(domain).await?)
    }

    /// Revokes a token; it stops working at once on every process (each request reads the store).
    pub async fn revoke_token(&self, id: &str) -> Result<DomainToken, DomainError> {
        let token = self
            .store()
            .remove_domain_token(id)
            .await?
            .ok_or(DomainError::UnknownToken)?;
        tracing::info!(domain = %token.domain, token_id = %token.id, "domain token revoked");
        Ok(token)
    }

    /// The domain a bearer token manages, when it is a live domain token.
    pub async fn authenticate(&self, bearer: &str) -> Result<Option<DomainToken>, StoreError> {
        self.store().domain_token(&token::hash(bearer)).await
    }

    async fn reload_named(&self, name: &str) -> Result<Arc<Domain>, DomainError> {
        self.refresh().await?;
        self.current().named(name).ok_or(DomainError::Unknown)
    }
}
