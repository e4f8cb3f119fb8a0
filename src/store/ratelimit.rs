//! Rate-limit buckets kept by the store, so that a limit per account holds across every gateway
//! process sharing the store. The rule is [`crate::ratelimit::gcra`]; the embedded backend keeps
//! [`crate::ratelimit::MemoryBuckets`], the Redis backend runs the same rule in a Lua script
//! against the server's clock.

use std::time::Duration;

use async_trait::async_trait;

use super::StoreError;
use crate::ratelimit::RateDecision;

/// Shared rate-limit buckets.
///
/// Duties of an implementation:
/// - [`RateLimitStore::take_token`] is atomic across every process sharing the backend: `burst`
///   concurrent calls on a fresh bucket are all allowed, the next one is not.
/// - A bucket left alone long enough to be full again takes no space (it expires).
/// - Bucket keys live apart from every other record; taking tokens changes nothing else.
#[async_trait]
pub trait RateLimitStore: Send + Sync {
    /// Takes one token from bucket `key`, which refills one token every `interval` and holds at
    /// most `burst`.
    async fn take_token(
        &self,
        key: &str,
        interval: Duration,
        burst: u32,
    ) -> Result<RateDecision, StoreError>;
}
