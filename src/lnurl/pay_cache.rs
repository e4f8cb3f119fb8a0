//! What the LNURL-pay answers of one address have in common, made once instead of per request:
//! the LUD-06 metadata string, its sha256 (the description hash of every invoice paid without
//! LUD-18 payerdata), and the bytes of the lookup answer with and without the NIP-57 fields.
//!
//! An entry depends only on the domain's settings and the name as the payer wrote it, never on
//! account state: whether the account accepts zaps picks one of the entry's two answers at request
//! time. Domain settings change at run time (`crate::domains`), and each new snapshot of them has a
//! higher *generation*: the cache holds entries of one generation, is emptied when a request of a
//! newer one arrives, and never keeps an entry made from an older one, so no answer outlives the
//! settings it was made from.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use bytes::Bytes;

/// The shared parts of one address's LNURL-pay answers.
#[derive(Debug)]
pub struct PayEntry {
    /// The metadata string, served byte for byte and hashed into invoices.
    pub metadata: String,
    /// sha256 of `metadata`.
    pub description_hash: [u8; 32],
    /// The lookup answer without `allowsNostr`/`nostrPubkey`.
    pub plain: Bytes,
    /// The lookup answer with them; `None` when the domain has no zapper key.
    pub zap: Option<Bytes>,
}

impl PayEntry {
    /// The lookup answer for an account that does (`true`) or does not accept zaps.
    pub fn lookup_body(&self, zaps: bool) -> Bytes {
        match (&self.zap, zaps) {
            (Some(zap), true) => zap.clone(),
            _ => self.plain.clone(),
        }
    }
}

type Names = HashMap<String, Arc<PayEntry>>;

/// The entries of one generation.
#[derive(Default)]
struct Entries {
    generation: u64,
    domains: HashMap<String, Names>,
}

/// Entries by domain, then by name as written in the URL. Bounded per domain: a full domain map
/// is emptied and refills with the names in use.
pub struct PayCache {
    domains: RwLock<Entries>,
    per_domain: usize,
}

impl PayCache {
    pub fn new(per_domain: usize) -> Self {
        PayCache {
            domains: RwLock::new(Entries::default()),
            per_domain,
        }
    }

    /// The entry for `name` on `domain` with the settings of `generation`, made by `make` the
    /// first time.
    pub fn get_or_make(
        &self,
        generation: u64,
        domain: &str,
        name: &str,
        make: impl FnOnce() -> PayEntry,
    ) -> Arc<PayEntry> {
        {
            let cache = self.domains.read().unwrap_or_else(|e| e.into_inner());
            if cache.generation == generation
                && let Some(entry) = cache.domains.get(domain).and_then(|names| names.get(name))
            {
                return entry.clone();
            }
        }
        // Made outside the lock; two requests racing for a new name both make it, one is kept.
        let entry = Arc::new(make());
        let mut cache = self.domains.write().unwrap_or_else(|e| e.into_inner());
        if cache.generation > generation {
            // Made from settings already replaced: serve it this once, keep nothing.
            return entry;
        }
        if cache.generation < generation {
            cache.generation = generation;
            cache.domains.clear();
        }
        let names = cache.domains.entry(domain.to_string()).or_default();
        if names.len() >= self.per_domain {
            names.clear();
        }
        names
            .entry(name.to_string())
            .or_insert_with(|| entry.clone())
            .clone()
    }

    #[cfg(test)]
    fn len(&self, domain: &str) -> usize {
        let cache = self.domains.read().unwrap_or_else(|e| e.into_inner());
        cache.domains.get(domain).map_or(0, HashMap::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(metadata: &str) -> PayEntry {
        PayEntry {
            metadata: metadata.to_string(),
            description_hash: [0; 32],
            plain: Bytes::from_static(b"plain"),
            zap: Some(Bytes::from_static(b"zap")),
        }
    }

    #[test]
    fn makes_each_entry_once() {
        let cache = PayCache::new(16);
        let mut made = 0;
        for _ in 0..3 {
            let e = cache.get_or_make(1, "a.com", "alice", || {
                made += 1;
                entry("m")
            });
            assert_eq!(e.metadata, "m");
        }
        assert_eq!(made, 1);
        let other = cache.get_or_make(1, "b.com", "alice", || entry("other domain"));
        assert_eq!(
            other.metadata, "other domain",
            "domains do not share entries"
        );
    }

    #[test]
    fn a_newer_generation_replaces_every_entry_and_an_older_one_keeps_nothing() {
        let cache = PayCache::new(16);
        cache.get_or_make(1, "a.com", "alice", || entry("old"));
        let new = cache.get_or_make(2, "a.com", "alice", || entry("new"));
        assert_eq!(new.metadata, "new");
        let late = cache.get_or_make(1, "a.com", "alice", || entry("stale"));
        assert_eq!(late.metadata, "stale", "made from its own settings");
        assert_eq!(
            cache
                .get_or_make(2, "a.com", "alice", || entry("again"))
                .metadata,
            "new",
            "the stale entry was not kept"
        );
    }

    #[test]
    fn bounded_per_domain() {
        let cache = PayCache::new(4);
        for i in 0..10 {
            cache.get_or_make(1, "a.com", &format!("u{i}"), || entry("m"));
        }
        assert!(cache.len("a.com") <= 4);
    }

    #[test]
    fn zap_answer_only_when_both_sides_have_it() {
        let e = entry("m");
        assert_eq!(e.lookup_body(true), Bytes::from_static(b"zap"));
        assert_eq!(e.lookup_body(false), Bytes::from_static(b"plain"));
        let no_zapper = PayEntry {
            zap: None,
            ..entry("m")
        };
        assert_eq!(no_zapper.lookup_body(true), Bytes::from_static(b"plain"));
    }
}
