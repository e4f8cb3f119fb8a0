//! `[nwc]`: the relays where every Nostr Wallet Connect (NIP-47) connection listens and answers.

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNwc {
    pub relays: Option<Vec<String>>,
}

/// The NWC wallet service's settings; no relays: the service does not run.
#[derive(Debug, Clone, Default)]
pub struct NwcSettings {
    pub relays: Vec<String>,
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
    NwcSettings { relays }
}
