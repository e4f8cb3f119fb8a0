//! The zapper keys: one nostr key per domain that signs its zap receipts (NIP-57 appendix C's
//! `nostrPubkey`). Taken from `domains.nostr_secret_key` (nsec1…, 64 hex digits, or a file holding
//! either) or, when absent, generated once and kept in the store under `zapper/<domain>` so every
//! gateway process sharing the store signs with the same key. Loaded once at start. Secret keys
//! never reach a log or an error message.

use std::collections::HashMap;

use nostr_sdk::Keys;

use crate::config::DomainSettings;
use crate::secret::Secret;
use crate::store::{Store, StoreError};

/// Why the zapper keys could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ZapperKeyError {
    /// The configured value is neither a key nor a readable file holding one (the value is not
    /// repeated here: it may be a key).
    #[error(
        "domains.{domain}.nostr_secret_key is not an nsec1 key, 64 hex digits or a file holding one"
    )]
    Invalid { domain: String },
    /// The store could not keep or give the generated key.
    #[error("cannot keep the zapper key of {domain} in the store")]
    Store {
        domain: String,
        #[source]
        source: StoreError,
    },
}

/// The zapper key of every configured domain.
#[derive(Clone, Default)]
pub struct ZapperKeys {
    by_domain: HashMap<String, Zapper>,
}

/// A domain's key with its public half already in hex: the lookup serves it on every request.
#[derive(Clone)]
struct Zapper {
    keys: Keys,
    public_hex: String,
}

impl From<Keys> for Zapper {
    fn from(keys: Keys) -> Self {
        Zapper {
            public_hex: keys.public_key().to_hex(),
            keys,
        }
    }
}

impl std::fmt::Debug for ZapperKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let public: HashMap<&String, String> = self
            .by_domain
            .iter()
            .map(|(d, z)| (d, z.public_hex.clone()))
            .collect();
        f.debug_struct("ZapperKeys")
            .field("public", &public)
            .finish()
    }
}

impl ZapperKeys {
    /// Loads (or generates and stores) the key of each domain.
    pub async fn load(
        domains: &[DomainSettings],
        store: &dyn Store,
    ) -> Result<Self, ZapperKeyError> {
        let mut by_domain = HashMap::new();
        for d in domains {
            let domain = d.name.as_str().to_string();
            let keys = match &d.nostr_secret_key {
                Some(secret) => {
                    parse_configured(secret).ok_or_else(|| ZapperKeyError::Invalid {
                        domain: domain.clone(),
                    })?
                }
                None => generated(store, &domain).await?,
            };
            tracing::info!(domain = %domain, nostr_pubkey = %keys.public_key().to_hex(), "zapper key loaded");
            by_domain.insert(domain, Zapper::from(keys));
        }
        Ok(ZapperKeys { by_domain })
    }

    /// The domain's zapper key.
    pub fn keys(&self, domain: &str) -> Option<&Keys> {
        self.by_domain.get(domain).map(|z| &z.keys)
    }

    /// The domain's zapper public key, hex (x-only), as `nostrPubkey` shows it.
    pub fn public_hex(&self, domain: &str) -> Option<&str> {
        self.by_domain.get(domain).map(|z| z.public_hex.as_str())
    }
}

/// A key given as nsec/hex, or as the path of a file holding one.
fn parse_configured(secret: &Secret) -> Option<Keys> {
    let value = secret.expose().trim();
    if let Ok(keys) = parse_key(value) {
        return Some(keys);
    }
    let text = std::fs::read_to_string(value).ok()?;
    parse_key(text.trim()).ok()
}

fn parse_key(value: &str) -> Result<Keys, ()> {
    crate::secret::parse_nostr_key(value).ok_or(())
}

async fn generated(store: &dyn Store, domain: &str) -> Result<Keys, ZapperKeyError> {
    let fresh = Keys::generate();
    let secret = Secret::new(fresh.secret_key().to_secret_hex());
    let kept = store
        .put_meta_once(&format!("zapper/{domain}"), secret.expose().as_bytes())
        .await
        .map_err(|source| ZapperKeyError::Store {
            domain: domain.to_string(),
            source,
        })?;
    let kept = Secret::new(String::from_utf8_lossy(&kept).into_owned());
    parse_key(kept.expose()).map_err(|()| ZapperKeyError::Invalid {
        domain: domain.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hex_nsec_and_files_and_never_shows_the_secret() {
        let keys = Keys::generate();
        let hex = keys.secret_key().to_secret_hex();
        let nsec = nostr_sdk::ToBech32::to_bech32(keys.secret_key()).expect("nsec");
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("zapper.key");
        std::fs::write(&path, format!("{nsec}\n")).expect("write");
        for given in [hex.clone(), nsec, path.display().to_string()] {
            let parsed = parse_configured(&Secret::new(given)).expect("parsed");
            assert_eq!(parsed.public_key(), keys.public_key());
        }
        assert!(parse_configured(&Secret::new("not a key")).is_none());
        let set = ZapperKeys {
            by_domain: HashMap::from([("d".to_string(), Zapper::from(keys))]),
        };
        assert!(!format!("{set:?}").contains(&hex));
    }
}
