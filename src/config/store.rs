//! Store options that apply whichever backend is chosen (`store.forget_unpaid_after_secs`) and the
//! Redis-only `[store.redis]` table (`wait_replicas`, `wait_timeout_ms`, `tls_ca_file`).

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// Default of `store.forget_unpaid_after_secs`: a day after expiry.
pub const DEFAULT_FORGET_UNPAID_AFTER_SECS: u64 = 86_400;
/// `store.forget_unpaid_after_secs` is at least this: a settlement made just before expiry has
/// this long to be credited (and the zap queue looks at expired zaps 10 minutes after expiry).
pub const MIN_FORGET_UNPAID_AFTER_SECS: u64 = 3_600;

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
    if !(1..=2000).contains(&wait_ms) {
        problems.push("store.redis.wait_timeout_ms must be between 1 and 2000".into());
    }
    StoreOptions {
        forget_unpaid_after_secs: forget,
        wait_replicas: redis.wait_replicas.unwrap_or(0),
        wait_timeout: Duration::from_millis(wait_ms),
        tls_ca_file: redis.tls_ca_file,
    }
}
