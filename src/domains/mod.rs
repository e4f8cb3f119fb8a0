//! Domains as tenants: the set of domains a gateway serves, changed while it runs.
//!
//! Two sources make the set: the config file's `[[domains]]` (read at start) and the domains
//! added through the admin API, kept in the store ([`crate::store::DomainStore`]). **The config
//! file wins**: a domain it names cannot be added, changed or removed through the API, and a
//! stored record with the same name is ignored (with a warning) while the config names it.
//!
//! Every process holds the set as an immutable snapshot ([`DomainSet`]) and swaps it whole:
//! right after a change it made itself, and when the store's domain version moves, which a
//! background task ([`Domains::watch`]) polls every [`POLL`]. So every process sharing a store
//! serves a change within about a second, with no restart. Each snapshot has a new
//! [`Domain::generation`], which the LNURL-pay cache ([`crate::lnurl::pay_cache`]) compares to drop
//! answers made from an older snapshot.
//!
//! Administration of the set and of domain tokens is in [`admin`]; bearer tokens in [`token`].

pub mod admin;
pub mod token;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use nostr_sdk::Keys;
use tokio::sync::watch;

use crate::config::{DomainSettings, KeySource, validate_domain};
use crate::nostr::zapper::{ZapperKeyError, ZapperKeys};
use crate::refusal::Refusal;
use crate::store::{DomainRecord, Store, StoreError};

/// How often each process asks the store whether the domains changed.
pub const POLL: Duration = Duration::from_secs(1);

/// Where a domain of the set comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The config file's `[[domains]]`: read-only through the API.
    Config,
    /// Added through the admin API, kept in the store.
    Store,
}

/// One served domain: its settings, its zapper key, where it comes from.
#[derive(Debug)]
pub struct Domain {
    pub settings: DomainSettings,
    pub source: Source,
    /// The stored record (for `created_at`/`updated_at`), for domains from the store.
    pub record: Option<DomainRecord>,
    /// The NIP-57 zapper key that signs this domain's zap receipts.
    pub zapper: Option<Keys>,
    /// Its public half, hex, as the lookup's `nostrPubkey` shows it.
    pub zapper_hex: Option<String>,
    /// The snapshot this domain belongs to; grows with every new snapshot.
    pub generation: u64,
}

impl std::ops::Deref for Domain {
    type Target = DomainSettings;

    fn deref(&self) -> &DomainSettings {
        &self.settings
    }
}

/// The domains served at one moment.
#[derive(Debug, Default)]
pub struct DomainSet {
    /// The store's domain version this snapshot was read at.
    pub version: u64,
    /// Ordered by name.
    domains: Vec<Arc<Domain>>,
}

impl DomainSet {
    /// Every served domain, ordered by name.
    pub fn all(&self) -> &[Arc<Domain>] {
        &self.domains
    }

    /// The domain named `name` (lower case).
    pub fn named(&self, name: &str) -> Option<Arc<Domain>> {
        self.domains
            .iter()
            .find(|d| d.name.as_str() == name)
            .cloned()
    }

    /// The domain a request is for, by Host header. With one domain served, it answers any Host;
    /// otherwise the Host must match a domain name (exactly, or without its port).
    pub fn for_host(&self, host: Option<&str>) -> Option<Arc<Domain>> {
        if let [only] = self.domains.as_slice() {
            return Some(only.clone());
        }
        let host = host?.trim().to_ascii_lowercase();
        self.named(&host).or_else(|| {
            let bare = host.rsplit_once(':').map_or(host.as_str(), |(h, _)| h);
            self.named(bare)
        })
    }
}

impl crate::nostr::publisher::ZapperSource for Domains {
    fn zapper(&self, domain: &str) -> Option<(Keys, Vec<String>)> {
        let d = self.current().named(domain)?;
        Some((d.zapper.clone()?, d.relays.clone()))
    }
}

/// Why the domains could not be loaded at start.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Zapper(#[from] ZapperKeyError),
    #[error("cannot read the domains kept in the store")]
    Store(#[source] StoreError),
}

/// The registry: the current snapshot, and how to make the next one.
pub struct Domains {
    /// The config file's domains, validated at start.
    seed: Vec<DomainSettings>,
    /// Their zapper keys, loaded once at start (a bad configured key stops the start).
    seed_zappers: ZapperKeys,
    store: Arc<dyn Store>,
    current: RwLock<Arc<DomainSet>>,
    generation: AtomicU64,
    /// One reload at a time, so snapshots never go back in version.
    reload: tokio::sync::Mutex<()>,
}

impl Domains {
    /// Loads the config's domains and their keys, then the stored domains.
    pub async fn load(seed: Vec<DomainSettings>, store: Arc<dyn Store>) -> Result<Self, LoadError> {
        let seed_zappers = ZapperKeys::load(&seed, store.as_ref()).await?;
        let domains = Domains {
            seed,
            seed_zappers,
            store,
            current: RwLock::new(Arc::default()),
            generation: AtomicU64::new(0),
            reload: tokio::sync::Mutex::new(()),
        };
        domains.reload().await.map_err(LoadError::Store)?;
        Ok(domains)
    }

    /// The current snapshot.
    pub fn current(&self) -> Arc<DomainSet> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The served domain named `name` (lower case), or why there is none: the one lookup of
    /// "a domain this gateway serves" that the gateway and the services share.
    pub fn served(&self, name: &str) -> Result<Arc<Domain>, Refusal> {
        self.current()
            .named(name)
            .ok_or_else(|| Refusal::DomainNotServed(name.to_string()))
    }

    /// Whether the config file names `name`.
    pub fn configured(&self, name: &str) -> bool {
        self.seed.iter().any(|d| d.name.as_str() == name)
    }

    pub(crate) fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// Reads the stored domains and swaps in a new snapshot when their version moved.
    pub async fn refresh(&self) -> Result<(), StoreError> {
        let version = self.store.domains_version().await?;
        if version == self.current().version && self.generation.load(Ordering::Relaxed) > 0 {
            return Ok(());
        }
        self.reload().await
    }

    /// Makes a new snapshot from the config and the store, whatever the version.
    async fn reload(&self) -> Result<(), StoreError> {
        let _one = self.reload.lock().await;
        // The version first: a change landing during the read bumps it again, and the next poll
        // reads once more.
        let version = self.store.domains_version().await?;
        let records = self.store.domains().await?;
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        let mut domains: Vec<Arc<Domain>> = self
            .seed
            .iter()
            .map(|s| {
                let zapper = self.seed_zappers.keys(s.name.as_str()).cloned();
                Arc::new(Domain {
                    zapper_hex: zapper.as_ref().map(|k| k.public_key().to_hex()),
                    zapper,
                    settings: s.clone(),
                    source: Source::Config,
                    record: None,
                    generation,
                })
            })
            .collect();
        for record in records {
            let name = record.domain.name.clone();
            if self.configured(&name) {
                tracing::warn!(domain = %name, "a domain kept in the store is also in the config file; the config file wins");
                continue;
            }
            let settings = match validate_domain(&record.domain, KeySource::KeyOnly) {
                Ok(s) => s,
                Err(problems) => {
                    tracing::error!(domain = %name, ?problems, "a stored domain is not valid; not serving it");
                    continue;
                }
            };
            let zapper = match ZapperKeys::load(
                std::slice::from_ref(&settings),
                self.store.as_ref(),
            )
            .await
            {
                Ok(keys) => keys.keys(&name).cloned(),
                Err(ZapperKeyError::Store { source, .. }) => return Err(source),
                Err(e) => {
                    tracing::error!(domain = %name, error = %e, "cannot load the zapper key; zaps off for this domain");
                    None
                }
            };
            domains.push(Arc::new(Domain {
                zapper_hex: zapper.as_ref().map(|k| k.public_key().to_hex()),
                zapper,
                settings,
                source: Source::Store,
                record: Some(record),
                generation,
            }));
        }
        domains.sort_by(|a, b| a.name.as_str().cmp(b.name.as_str()));
        let names: Vec<&str> = domains.iter().map(|d| d.name.as_str()).collect();
        tracing::info!(version, domains = ?names, "serving domains");
        *self.current.write().unwrap_or_else(|e| e.into_inner()) =
            Arc::new(DomainSet { version, domains });
        Ok(())
    }

    /// Polls the store's domain version every [`POLL`] until `shutdown` turns true.
    pub async fn watch(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut failing = false;
        while !*shutdown.borrow() {
            tokio::select! {
                () = tokio::time::sleep(POLL) => {}
                _ = shutdown.changed() => return,
            }
            match self.refresh().await {
                Ok(()) => failing = false,
                Err(e) if !failing => {
                    failing = true;
                    tracing::warn!(error = %e, "cannot read the domains from the store; serving the last known set");
                }
                Err(_) => {}
            }
        }
    }
}
