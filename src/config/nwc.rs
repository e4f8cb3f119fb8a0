//! `[nwc]`: the relays where every Nostr Wallet Connect (NIP-47) connection listens and answers,
//! and how many requests one connection may send.

use serde::Deserialize;

use super::limits::Rate;

/// Requests one connection may send per minute, by default (NIP-47 clients poll `get_balance`
/// and `list_transactions`, a few a minute).
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 60;
/// Requests one connection may send at once, by default.
pub const DEFAULT_REQUESTS_BURST: u32 = 20;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNwc {
    pub relays: Option<Vec<String>>,
    pub requests_per_minute: Option<u32>,
    pub requests_burst: Option<u32>,
}

/// The NWC wallet service's settings; no relays: the service does not run.
#[derive(Debug, Clone)]
pub struct NwcSettings {
    pub relays: Vec<String>,
    /// Requests per connection (shared by every process on one store); past it the answer is
    /// `RATE_LIMITED` and nothing runs. Off with `limits.enabled = false`.
    pub requests: Rate,
}

impl Default for NwcSettings {
    fn default() -> Self {
        NwcSettings {
            relays: Vec::new(),
            requests: Rate {
                per_minute: DEFAULT_REQUESTS_PER_MINUTE,
                burst: DEFAULT_REQUESTS_BURST,
            },
        }
    }
}

/// Validates `[nwc]`.
pub fn nwc_settings(raw: RawNwc, problems: &mut Vec<String>) -> NwcSettings {
    let relays = raw.relays.unwrap_or_default();
    for r in &relays {
        let ok = url::Url::parse(r)
            .is_ok_and(|u| matches!(u.scheme(), "ws" | "wss") && u.host_str().is_some());
        if !ok {
            problems.push(format!("nwc.relays: {r:?} is not a ws:// or wss:// URL"));
        }
    }
    let requests = Rate {
        per_minute: raw
            .requests_per_minute
            .unwrap_or(DEFAULT_REQUESTS_PER_MINUTE),
        burst: raw.requests_burst.unwrap_or(DEFAULT_REQUESTS_BURST),
    };
    if requests.per_minute == 0 || requests.burst == 0 {
        problems.push("nwc.requests_per_minute and nwc.requests_burst must be at least 1".into());
    }
    NwcSettings { relays, requests }
}
