//! One receipt to one relay: the relay guard, the relay host's attempt cap (a store rate-limit
//! bucket shared by every process), a connection to the checked address only
//! ([`PinnedTransport`]), the send and the wait for `OK`, each bounded in time.

use std::time::Duration;

use nostr_sdk::{Client, Event};

use super::Publisher;
use crate::nostr::pinned::PinnedTransport;
use crate::nostr::relay_guard::{RelayRefused, checked_addrs, parse_relay};
use crate::ratelimit::RateDecision;

/// Connecting to one relay.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Waiting for a relay's `OK` (nostr-sdk's own wait is a fixed 10 s).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(8);

/// A relay attempt that failed.
#[derive(Debug)]
pub(super) enum SendError {
    /// Refused by the relay guard for good.
    Refused(RelayRefused),
    /// Worth retrying: unreachable, timed out, or the relay said `OK false`.
    Retry(String),
    /// The relay's host is over its attempt cap: try again after this long (not a failure).
    Deferred(Duration),
}

impl Publisher {
    /// Publishes to one relay: guard, the host's attempt cap, connect (to a checked address),
    /// send, wait for `OK`, each bounded in time.
    pub(super) async fn send(&self, url: &str, event: &Event) -> Result<(), SendError> {
        let allow_private = self.zaps.allow_private_relays;
        let parsed = parse_relay(url).map_err(SendError::Refused)?;
        match checked_addrs(&parsed, allow_private, self.resolver.as_ref()).await {
            Ok(_) => {}
            Err(why) if why.is_permanent() => return Err(SendError::Refused(why)),
            Err(why) => return Err(SendError::Retry(why.to_string())),
        }
        let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
        let per_minute = self.zaps.relay_host_attempts_per_minute.max(1);
        let taken = self
            .store
            .take_token(
                &format!("relay-host/{host}"),
                Duration::from_secs(60) / per_minute,
                per_minute,
            )
            .await;
        match taken {
            Ok(RateDecision::Allowed) => {}
            Ok(RateDecision::Limited { retry_after }) => {
                tracing::debug!(relay = url, "relay host over its attempt cap");
                return Err(SendError::Deferred(
                    retry_after.max(Duration::from_millis(100)),
                ));
            }
            Err(e) => return Err(SendError::Retry(format!("attempt cap unavailable: {e}"))),
        }
        let transport = PinnedTransport::new(self.resolver.clone(), allow_private);
        let client = Client::builder().websocket_transport(transport).build();
        let result = async {
            client
                .add_relay(url)
                .await
                .map_err(|e| SendError::Retry(e.to_string()))?;
            client
                .try_connect_relay(url, CONNECT_TIMEOUT)
                .await
                .map_err(|e| SendError::Retry(e.to_string()))?;
            let output = tokio::time::timeout(SEND_TIMEOUT, client.send_event_to([url], event))
                .await
                .map_err(|_| SendError::Retry("no OK from the relay in time".into()))?
                .map_err(|e| SendError::Retry(e.to_string()))?;
            if output.success.is_empty() {
                let why = output.failed.into_values().next().unwrap_or_default();
                return Err(SendError::Retry(format!("relay refused: {why}")));
            }
            Ok(())
        }
        .await;
        client.shutdown().await;
        if let Err(e) = &result {
            tracing::debug!(relay = url, error = ?e, "zap receipt not accepted");
        }
        result
    }
}
