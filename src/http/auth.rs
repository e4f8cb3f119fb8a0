//! Who is calling the admin API, decided once per request: the operator's admin token, or a domain
//! token that manages one domain (its accounts, withdraw links, credentials, webhooks). Every admin
//! route asks the [`Auth`] it was given before it reads or changes anything:
//! [`Auth::require_admin`] for gateway-wide things (domains, tokens, metrics, the fake node),
//! [`Auth::require_domain`] / [`Auth::require_address`] for a domain's things. A domain token gets
//! 403 on anything else.
//!
//! The admin token is compared in constant time; a domain token is looked up by its sha256 in the
//! store on every request, so a revoked token stops working at once on every process.

use hyper::header;
use hyper::http::request::Parts;

use crate::domains::token;
use crate::gateway::{Error, Gateway};
use crate::store::StoreError;
use crate::types::DomainName;

/// The caller of an admin request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// The gateway's admin token: everything.
    Admin,
    /// A domain token: that domain only.
    Domain {
        /// The domain it manages (lower case).
        domain: String,
        /// The token's public id.
        token_id: String,
    },
}

/// Why a request has no [`Auth`].
#[derive(Debug)]
pub enum AuthError {
    /// No bearer token, or one that is neither the admin token nor a live domain token.
    Missing,
    /// The store could not be asked about a domain token.
    Store(StoreError),
}

impl Auth {
    /// Reads `Authorization: Bearer TOKEN`.
    pub async fn from_parts(gw: &Gateway, parts: &Parts) -> Result<Auth, AuthError> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Missing)?;
        if gw.is_admin_token(bearer) {
            return Ok(Auth::Admin);
        }
        // Tokens are 64 hex digits; anything else is not worth a store round trip.
        if bearer.len() != 64 || !bearer.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AuthError::Missing);
        }
        match gw.domains().authenticate(bearer).await {
            Ok(Some(t)) if t.token_hash == token::hash(bearer) => Ok(Auth::Domain {
                domain: t.domain,
                token_id: t.id,
            }),
            Ok(_) => Err(AuthError::Missing),
            Err(e) => Err(AuthError::Store(e)),
        }
    }

    /// Whether the caller may manage `domain` (any spelling of the name).
    pub fn can_manage(&self, domain: &str) -> bool {
        match self {
            Auth::Admin => true,
            Auth::Domain { domain: own, .. } => {
                DomainName::parse(domain).is_ok_and(|d| d.as_str() == own)
            }
        }
    }

    /// The domain a domain token is for; `None` for the admin token.
    pub fn domain(&self) -> Option<&str> {
        match self {
            Auth::Admin => None,
            Auth::Domain { domain, .. } => Some(domain),
        }
    }

    /// Gateway-wide operations: the admin token only.
    pub fn require_admin(&self) -> Result<(), Error> {
        match self {
            Auth::Admin => Ok(()),
            Auth::Domain { .. } => Err(Error::Forbidden),
        }
    }

    /// Operations on `domain`'s things.
    pub fn require_domain(&self, domain: &str) -> Result<(), Error> {
        if self.can_manage(domain) {
            Ok(())
        } else {
            Err(Error::Forbidden)
        }
    }

    /// Operations on the account at `address` (`user@domain`, a tag allowed).
    pub fn require_address(&self, address: &str) -> Result<(), Error> {
        match self {
            Auth::Admin => Ok(()),
            Auth::Domain { .. } => {
                let domain = address.rsplit_once('@').map_or("", |(_, d)| d);
                self.require_domain(domain)
            }
        }
    }

    /// Operations on the withdraw link `k1`: its account's domain decides.
    pub async fn require_link(&self, gw: &Gateway, k1: &str) -> Result<(), Error> {
        if *self == Auth::Admin {
            return Ok(());
        }
        let (_, account, _) = gw.withdrawals().withdraw_link_view(&super::k1(k1)?).await?;
        self.require_domain(&account.domain)
    }

    /// Operations on the payment `hash` (hex): its account's domain decides. A payment whose
    /// account is gone is the admin's only.
    pub async fn require_payment(&self, gw: &Gateway, hash: &str) -> Result<(), Error> {
        if *self == Auth::Admin {
            return Ok(());
        }
        let hash = hash.parse().map_err(|_| Error::UnknownPayment)?;
        let payment = gw.payment(&hash).await?;
        let account = gw
            .account_by_id(&payment.account_id)
            .await?
            .ok_or(Error::Forbidden)?;
        self.require_domain(&account.domain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_token_manages_its_domain_only() {
        let auth = Auth::Domain {
            domain: "example.com".into(),
            token_id: "id".into(),
        };
        assert!(auth.can_manage("example.com"));
        assert!(auth.can_manage("EXAMPLE.com"));
        assert!(!auth.can_manage("example.org"));
        assert!(!auth.can_manage("sub.example.com"));
        assert!(!auth.can_manage(""));
        assert!(auth.require_address("alice@example.com").is_ok());
        assert!(auth.require_address("alice@example.org").is_err());
        assert!(
            auth.require_address("alice@example.org@example.com")
                .is_ok()
        );
        assert!(auth.require_address("alice").is_err());
        assert!(auth.require_admin().is_err());
        assert!(Auth::Admin.can_manage("anything"));
        assert!(Auth::Admin.require_admin().is_ok());
    }
}
