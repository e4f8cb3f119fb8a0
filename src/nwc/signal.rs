//! What ties the admin side of NWC to this process's wallet service: a connection made or revoked
//! wakes the service at once, and the service says which wallet keys it listens for, so that a
//! connection just made is answered by the time its URI is shown. Requests are ephemeral events
//! (NIP-47 kind 23194) that relays do not keep: one sent before the service subscribed to its
//! wallet key would be lost.

use std::collections::BTreeSet;
use std::time::Duration;

use tokio::sync::{Notify, watch};

/// Shared by the gateway (connections) and the NWC service of one process.
#[derive(Debug)]
pub struct NwcSignal {
    changed: Notify,
    /// The wallet keys (hex) the service has subscribed to; `None` while no service runs.
    listening: watch::Sender<Option<BTreeSet<String>>>,
}

impl Default for NwcSignal {
    fn default() -> Self {
        NwcSignal {
            changed: Notify::new(),
            listening: watch::Sender::new(None),
        }
    }
}

impl NwcSignal {
    /// A connection was made or revoked here.
    pub fn changed(&self) {
        self.changed.notify_one();
    }

    /// Resolves after the next [`NwcSignal::changed`] (at once if one is pending).
    pub async fn notified(&self) {
        self.changed.notified().await;
    }

    /// The service now listens for exactly `wallets`.
    pub fn listening(&self, wallets: BTreeSet<String>) {
        self.listening.send_replace(Some(wallets));
    }

    /// The service stopped.
    pub fn stopped(&self) {
        self.listening.send_replace(None);
    }

    /// Waits up to `wait` until the service listens for `wallet`; answers whether it does. With
    /// no service running there is nothing to wait for (`false`).
    pub async fn wait_listening(&self, wallet: &str, wait: Duration) -> bool {
        let mut rx = self.listening.subscribe();
        if rx.borrow().is_none() {
            return false;
        }
        let heard = rx.wait_for(|w| w.as_ref().is_none_or(|w| w.contains(wallet)));
        matches!(
            tokio::time::timeout(wait, heard).await,
            Ok(Ok(w)) if w.as_ref().is_some_and(|w| w.contains(wallet))
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_new_wallet_is_waited_for_until_the_service_listens() {
        let signal = std::sync::Arc::new(NwcSignal::default());
        // No service: no wait.
        assert!(!signal.wait_listening("aa", Duration::from_secs(5)).await);
        signal.listening(BTreeSet::new());
        let waiting = {
            let signal = signal.clone();
            tokio::spawn(async move { signal.wait_listening("aa", Duration::from_secs(30)).await })
        };
        signal.listening(BTreeSet::from(["bb".to_string()]));
        signal.listening(BTreeSet::from(["aa".to_string(), "bb".to_string()]));
        assert!(waiting.await.expect("task"));
        // A key never listened for: the wait ends at its bound.
        assert!(!signal.wait_listening("cc", Duration::from_millis(50)).await);
        signal.stopped();
        assert!(!signal.wait_listening("aa", Duration::from_secs(5)).await);
    }
}
