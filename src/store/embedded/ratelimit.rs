//! Rate-limit buckets of the embedded store: in memory. The embedded store serves one process, so
//! a bucket needs no persistence; a restart only refills every bucket.

use std::time::Duration;

use async_trait::async_trait;

use super::EmbeddedStore;
use crate::ratelimit::{MemoryBuckets, RateDecision};
use crate::store::RateLimitStore;
use crate::store::StoreError;

/// Buckets held by one embedded store.
const CAPACITY: usize = 100_000;

/// The embedded store's buckets.
pub struct Buckets(MemoryBuckets<String>);

impl Default for Buckets {
    fn default() -> Self {
        Buckets(MemoryBuckets::new(CAPACITY))
    }
}

#[async_trait]
impl RateLimitStore for EmbeddedStore {
    async fn take_token(
        &self,
        key: &str,
        interval: Duration,
        burst: u32,
    ) -> Result<RateDecision, StoreError> {
        Ok(self.buckets.0.take(key.to_string(), interval, burst))
    }
}
