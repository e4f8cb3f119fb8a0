//! `[store]`: which store backend (`kind = "embedded"` in `data_dir`, or `"redis"` with one `url`
//! or a cluster's `urls`), the options that apply whichever backend is chosen
//! (`store.forget_unpaid_after_secs`) and the Redis-only `[store.redis]` table (`wait_replicas`,
//! `wait_timeout_ms`, `tls_ca_file`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::check_range;

/// Default of `store.forget_unpaid_after_secs`: a day after expiry.
pub const DEFAULT_FORGET_UNPAID_AFTER_SECS: u64 = 86_400;
/// `store.forget_unpaid_after_secs` is at least this: a settlement made just before expiry has
/// this long to be credited (and the zap queue looks at expired zaps 10 minutes after expiry).
pub const MIN_FORGET_UNPAID_AFTER_SECS: u64 = 3_600;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    pub kind: Option<StoreKind>,
    pub url: Option<String>,
    pub urls: Option<Vec<String>>,
    /// Seconds after its expiry an unpaid invoice is forgotten.
    pub forget_unpaid_after_secs: Option<u64>,
    pub redis: Option<RawRedisOptions>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    #[default]
    Embedded,
    Redis,
}

/// `[store.redis]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRedisOptions {
    /// `WAIT` for this many replicas after every money write; 0 (default) turns it off.
    pub wait_replicas: Option<u32>,
    /// How long `WAIT` may take, milliseconds.
    pub wait_timeout_ms: Option<u64>,
    /// `rediss://` only: a PEM file of the CA to trust instead of the system's roots (a managed
    /// Redis with a private CA, or a self-signed server).
    pub tls_ca_file: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub enum StoreSettings {
    Embedded { path: PathBuf },
    Redis { url: String },
    RedisCluster { urls: Vec<String> },
}

/// Validated store options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreOptions {
    /// An unpaid invoice is forgotten this long after it expired.
    pub forget_unpaid_after_secs: u64,
    /// Redis: replicas that must acknowledge every money write, and how long to wait for them.
    pub wait_replicas: u32,
    pub wait_timeout: Duration,
    /// `rediss://`: the CA to trust instead of the system's roots.
    pub tls_ca_file: Option<PathBuf>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            forget_unpaid_after_secs: DEFAULT_FORGET_UNPAID_AFTER_SECS,
            wait_replicas: 0,
            wait_timeout: Duration::from_millis(1000),
            tls_ca_file: None,
        }
    }
}

pub fn store_options(
    forget_unpaid_after_secs: Option<u64>,
    redis: Option<RawRedisOptions>,
    problems: &mut Vec<String>,
) -> StoreOptions {
    let redis = redis.unwrap_or_default();
    let defaults = StoreOptions::default();
    let forget = forget_unpaid_after_secs.unwrap_or(defaults.forget_unpaid_after_secs);
    if forget < MIN_FORGET_UNPAID_AFTER_SECS {
        problems.push(format!(
            "store.forget_unpaid_after_secs must be at least {MIN_FORGET_UNPAID_AFTER_SECS}"
        ));
    }
    let wait_ms = redis.wait_timeout_ms.unwrap_or(1000);
    check_range(problems, "store.redis.wait_timeout_ms", wait_ms, 1..=2000);
    StoreOptions {
        forget_unpaid_after_secs: forget,
        wait_replicas: redis.wait_replicas.unwrap_or(0),
        wait_timeout: Duration::from_millis(wait_ms),
        tls_ca_file: redis.tls_ca_file,
    }
}

/// The backend and its options; an embedded store lives in `data_dir`. A URL that may carry a
/// password is never echoed in a problem, only its scheme.
pub fn store_settings(
    raw: RawStore,
    data_dir: &Path,
    problems: &mut Vec<String>,
) -> (StoreSettings, StoreOptions) {
    let store_options = store_options(raw.forget_unpaid_after_secs, raw.redis, problems);
    let store = match raw.kind.unwrap_or_default() {
        StoreKind::Embedded => {
            if raw.url.is_some() || raw.urls.is_some() {
                problems.push("store.url/store.urls are for store.kind = \"redis\"".into());
            }
            StoreSettings::Embedded {
                path: data_dir.join("lnaddr.redb"),
            }
        }
        StoreKind::Redis => match (raw.url, raw.urls) {
            (Some(url), None) => StoreSettings::Redis { url },
            (None, Some(urls)) if !urls.is_empty() => StoreSettings::RedisCluster { urls },
            (None, None) => StoreSettings::Redis {
                url: "redis://127.0.0.1:6379/0".into(),
            },
            _ => {
                problems.push("store: give either url (one server) or urls (a cluster)".into());
                StoreSettings::Redis { url: String::new() }
            }
        },
    };
    let urls: &[String] = match &store {
        StoreSettings::Embedded { .. } => &[],
        StoreSettings::Redis { url } => std::slice::from_ref(url),
        StoreSettings::RedisCluster { urls } => urls,
    };
    if let Some(bad) = urls
        .iter()
        .find(|u| !u.starts_with("redis://") && !u.starts_with("rediss://"))
    {
        // The URL may carry a password: name the scheme only.
        let scheme = bad.split_once("://").map_or("", |(s, _)| s);
        problems.push(format!(
            "store.url: the scheme must be redis:// or rediss:// (TLS), not {scheme:?}"
        ));
    }
    if store_options.tls_ca_file.is_some()
        && (urls.is_empty() || urls.iter().any(|u| !u.starts_with("rediss://")))
    {
        problems.push("store.redis.tls_ca_file is for rediss:// (TLS) URLs".into());
    }
    (store, store_options)
}
