//! Nostr for the gateway: NIP-57 zaps (<https://github.com/nostr-protocol/nips/blob/master/57.md>).
//! [`nip57`] checks zap requests and [`receipt`] builds zap receipts (both pure, no I/O);
//! [`zapper`] holds each domain's signing key; [`relay_guard`] decides which relays may be
//! contacted (SSRF) and [`pinned`] connects only to the addresses it checked; [`publisher`] is the adapter that sends receipts from the store's outbox to
//! relays (NIP-01 websockets through nostr-sdk).

pub mod nip57;
pub mod pinned;
pub mod publisher;
pub mod receipt;
pub mod relay_guard;
pub mod zapper;
