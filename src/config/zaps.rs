//! `[zaps]`: where zap receipts (NIP-57) may be sent: private relays or not, how many of a zap
//! request's relays, and how often one relay host is tried.

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawZaps {
    pub allow_private_relays: Option<bool>,
    pub max_relays: Option<usize>,
    /// Attempts to reach one relay host per minute, across all zaps.
    pub relay_host_attempts_per_minute: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct ZapSettings {
    pub allow_private_relays: bool,
    pub max_relays: usize,
    /// One relay host is tried at most this many times a minute across all zaps (and processes).
    pub relay_host_attempts_per_minute: u32,
}

pub fn zap_settings(raw: RawZaps) -> ZapSettings {
    ZapSettings {
        allow_private_relays: raw.allow_private_relays.unwrap_or(false),
        max_relays: raw.max_relays.unwrap_or(10),
        relay_host_attempts_per_minute: raw.relay_host_attempts_per_minute.unwrap_or(60),
    }
}
