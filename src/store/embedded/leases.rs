//! Payment leases of the embedded store ([`WithdrawStore::lease_payment`]): one process serves
//! an embedded store, so they live in memory, and a restart frees them all.
//!
//! [`WithdrawStore::lease_payment`]: crate::store::WithdrawStore::lease_payment

use crate::types::PaymentHash;

/// Payment leases in memory: payment hash → (holder, until).
#[derive(Default)]
pub(super) struct Leases(
    std::sync::Mutex<std::collections::HashMap<[u8; 32], (String, std::time::Instant)>>,
);

impl Leases {
    pub(super) fn take(&self, hash: &PaymentHash, holder: &str, ttl: std::time::Duration) -> bool {
        let now = std::time::Instant::now();
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match map.get(&hash.0) {
            Some((other, until)) if other != holder && *until > now => false,
            _ => {
                map.insert(hash.0, (holder.to_string(), now + ttl));
                true
            }
        }
    }

    pub(super) fn release(&self, hash: &PaymentHash, holder: &str) {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.get(&hash.0).is_some_and(|(h, _)| h == holder) {
            map.remove(&hash.0);
        }
    }
}
