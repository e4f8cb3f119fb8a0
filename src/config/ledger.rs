//! `[ledger]`: how the settlement follower replays (see [`crate::ledger::cursor`]).

use serde::Deserialize;

/// Default of `ledger.replay_window`.
pub const DEFAULT_REPLAY_WINDOW: u64 = 100;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLedger {
    /// Settle indices replayed behind the saved cursor on every (re)subscription.
    pub replay_window: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct LedgerSettings {
    /// Every subscription to the node's settlements starts this many settle indices behind the
    /// saved cursor, so a credit lost while its cursor survived (a Redis failover) is made again.
    pub replay_window: u64,
}

pub fn ledger_settings(raw: RawLedger, problems: &mut Vec<String>) -> LedgerSettings {
    let replay_window = raw.replay_window.unwrap_or(DEFAULT_REPLAY_WINDOW);
    if replay_window > 1_000_000 {
        problems.push("ledger.replay_window must be at most 1000000".into());
    }
    LedgerSettings { replay_window }
}
