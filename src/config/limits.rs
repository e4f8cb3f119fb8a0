//! The `[limits]` section: rate limits per client IP and per account, and the request and
//! connection limits of both listeners. Raw keys with their named defaults, validated into
//! [`LimitSettings`].

use std::time::Duration;

use serde::Deserialize;

use super::check_range;
use super::proxies::TrustedProxy;

/// Lookups (`/.well-known/*`, verify, everything not a callback) per client IP and minute.
pub const DEFAULT_LOOKUP_PER_MINUTE: u32 = 300;
/// Lookups one client IP may make at once before the rate applies.
pub const DEFAULT_LOOKUP_BURST: u32 = 100;
/// Invoice-creating and withdraw callbacks per client IP and minute.
pub const DEFAULT_CALLBACK_PER_MINUTE: u32 = 60;
pub const DEFAULT_CALLBACK_BURST: u32 = 20;
/// Callbacks per account (or withdraw link) and minute, over every client and gateway process.
pub const DEFAULT_ACCOUNT_CALLBACK_PER_MINUTE: u32 = 60;
pub const DEFAULT_ACCOUNT_CALLBACK_BURST: u32 = 30;
/// Client IPs tracked per limiter; idle ones are evicted first.
pub const DEFAULT_MAX_TRACKED_CLIENTS: usize = 100_000;
/// Open connections per listener; more wait in the kernel's backlog.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Request line plus headers, in bytes (hyper's read buffer; at least 8192). Over it: 431.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 16 * 1024;
/// Path plus query, in bytes. Over it: 414.
pub const DEFAULT_MAX_URL_BYTES: usize = 8 * 1024;
/// Seconds a client has to send a complete request head, and that an idle connection stays open.
pub const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 10;
/// Seconds one request may take to be answered; then 503.
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 30;

/// The smallest read buffer hyper accepts (it panics below it).
const MIN_HEADER_BYTES: usize = 8192;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    pub enabled: Option<bool>,
    pub trusted_proxies: Option<Vec<TrustedProxy>>,
    pub lookup_per_minute: Option<u32>,
    pub lookup_burst: Option<u32>,
    pub callback_per_minute: Option<u32>,
    pub callback_burst: Option<u32>,
    pub account_callback_per_minute: Option<u32>,
    pub account_callback_burst: Option<u32>,
    pub max_tracked_clients: Option<usize>,
    pub max_connections: Option<usize>,
    pub max_header_bytes: Option<usize>,
    pub max_url_bytes: Option<usize>,
    pub header_read_timeout_secs: Option<u64>,
    pub request_timeout_secs: Option<u64>,
}

/// A token bucket: `per_minute` tokens come back each minute, at most `burst` are held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_minute: u32,
    pub burst: u32,
}

impl Rate {
    /// Time for one token to come back.
    pub fn interval(&self) -> Duration {
        Duration::from_secs(60) / self.per_minute.max(1)
    }
}

#[derive(Debug, Clone)]
pub struct LimitSettings {
    /// Rate limits on; `false` turns them off (benchmarks). The request and connection limits
    /// below always apply.
    pub enabled: bool,
    /// Peers whose `X-Forwarded-For` header is believed (addresses or CIDR ranges).
    pub trusted_proxies: Vec<TrustedProxy>,
    pub lookup: Rate,
    pub callback: Rate,
    pub account_callback: Rate,
    pub max_tracked_clients: usize,
    pub max_connections: usize,
    pub max_header_bytes: usize,
    pub max_url_bytes: usize,
    pub header_read_timeout: Duration,
    pub request_timeout: Duration,
}

impl Default for LimitSettings {
    fn default() -> Self {
        let mut problems = Vec::new();
        limit_settings(RawLimits::default(), &mut problems)
    }
}

/// Validates `[limits]`, adding what is wrong to `problems`.
pub fn limit_settings(raw: RawLimits, problems: &mut Vec<String>) -> LimitSettings {
    let mut rate = |name: &str, per_minute: Option<u32>, burst: Option<u32>, d: (u32, u32)| {
        let r = Rate {
            per_minute: per_minute.unwrap_or(d.0),
            burst: burst.unwrap_or(d.1),
        };
        if r.per_minute == 0 || r.burst == 0 {
            problems.push(format!(
                "limits.{name}_per_minute and limits.{name}_burst must be at least 1 \
                 (set limits.enabled = false to turn rate limits off)"
            ));
        }
        r
    };
    let lookup = rate(
        "lookup",
        raw.lookup_per_minute,
        raw.lookup_burst,
        (DEFAULT_LOOKUP_PER_MINUTE, DEFAULT_LOOKUP_BURST),
    );
    let callback = rate(
        "callback",
        raw.callback_per_minute,
        raw.callback_burst,
        (DEFAULT_CALLBACK_PER_MINUTE, DEFAULT_CALLBACK_BURST),
    );
    let account_callback = rate(
        "account_callback",
        raw.account_callback_per_minute,
        raw.account_callback_burst,
        (
            DEFAULT_ACCOUNT_CALLBACK_PER_MINUTE,
            DEFAULT_ACCOUNT_CALLBACK_BURST,
        ),
    );
    let max_tracked_clients = raw
        .max_tracked_clients
        .unwrap_or(DEFAULT_MAX_TRACKED_CLIENTS);
    if max_tracked_clients < 16 {
        problems.push("limits.max_tracked_clients must be at least 16".into());
    }
    let max_connections = raw.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS);
    if max_connections == 0 {
        problems.push("limits.max_connections must be at least 1".into());
    }
    let max_header_bytes = raw.max_header_bytes.unwrap_or(DEFAULT_MAX_HEADER_BYTES);
    if max_header_bytes < MIN_HEADER_BYTES {
        problems.push(format!(
            "limits.max_header_bytes must be at least {MIN_HEADER_BYTES}"
        ));
    }
    let max_url_bytes = raw.max_url_bytes.unwrap_or(DEFAULT_MAX_URL_BYTES);
    if max_url_bytes < 256 || max_url_bytes >= max_header_bytes {
        problems
            .push("limits.max_url_bytes must be at least 256 and below max_header_bytes".into());
    }
    let secs = |name: &str, v: Option<u64>, d: u64, problems: &mut Vec<String>| {
        let v = v.unwrap_or(d);
        check_range(problems, &format!("limits.{name}"), v, 1..=3600);
        Duration::from_secs(v)
    };
    let header_read_timeout = secs(
        "header_read_timeout_secs",
        raw.header_read_timeout_secs,
        DEFAULT_HEADER_READ_TIMEOUT_SECS,
        problems,
    );
    let request_timeout = secs(
        "request_timeout_secs",
        raw.request_timeout_secs,
        DEFAULT_REQUEST_TIMEOUT_SECS,
        problems,
    );
    LimitSettings {
        enabled: raw.enabled.unwrap_or(true),
        trusted_proxies: raw.trusted_proxies.unwrap_or_default(),
        lookup,
        callback,
        account_callback,
        max_tracked_clients,
        max_connections,
        max_header_bytes,
        max_url_bytes,
        header_read_timeout,
        request_timeout,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_rates_have_intervals() {
        let mut problems = Vec::new();
        let s = limit_settings(RawLimits::default(), &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        assert!(s.enabled);
        assert_eq!(s.callback.interval(), Duration::from_secs(1));
        assert_eq!(s.lookup.interval(), Duration::from_millis(200));
    }

    #[test]
    fn nonsense_is_reported() {
        let mut problems = Vec::new();
        limit_settings(
            RawLimits {
                lookup_per_minute: Some(0),
                max_header_bytes: Some(100),
                header_read_timeout_secs: Some(0),
                ..RawLimits::default()
            },
            &mut problems,
        );
        assert_eq!(problems.len(), 4, "{problems:?}");
    }
}
