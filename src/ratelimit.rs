//! Rate limiting, the rule alone: GCRA (the generic cell rate algorithm). A bucket is one number,
//! its "theoretical arrival time", and a request is allowed while that time is no more than
//! `burst` intervals ahead of now. [`gcra`] is the one statement of the rule; [`MemoryBuckets`] is
//! its bounded in-memory version (the per-IP limits of `http`, the embedded store's buckets). No
//! I/O: buckets shared across processes are the store's (`store::RateLimitStore`), and the Redis
//! backend runs the same rule in a Lua script against the server's clock.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What one request costs against a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    /// Allowed; one token was taken.
    Allowed,
    /// Over the limit; a token comes back after `retry_after`. Nothing was taken.
    Limited { retry_after: Duration },
}

/// The GCRA rule. `tat` is the bucket's theoretical arrival time (`None` for a fresh bucket), all
/// times in one clock; answers the decision and, when allowed, the new arrival time.
pub fn gcra(
    tat: Option<Duration>,
    now: Duration,
    interval: Duration,
    burst: u32,
) -> (RateDecision, Option<Duration>) {
    let tat = tat.map_or(now, |t| t.max(now));
    let new_tat = tat + interval;
    let allow_at = new_tat.saturating_sub(interval * burst.max(1));
    if allow_at > now {
        let retry_after = allow_at - now;
        (RateDecision::Limited { retry_after }, None)
    } else {
        (RateDecision::Allowed, Some(new_tat))
    }
}

/// In-memory GCRA buckets with a bounded number of keys. Keys live in two generations: when the
/// current one is full, it becomes the old one and the old one is dropped; a key touched in the old
/// generation moves back to the current one. So at most `capacity` keys are held, idle keys go
/// first, and a flood of new keys can only make active ones start over with a full bucket.
pub struct MemoryBuckets<K> {
    epoch: Instant,
    capacity: usize,
    inner: Mutex<Generations<K>>,
}

struct Generations<K> {
    current: HashMap<K, Duration>,
    old: HashMap<K, Duration>,
}

impl<K: Hash + Eq> MemoryBuckets<K> {
    /// Holds at most `capacity` keys (at least 2).
    pub fn new(capacity: usize) -> Self {
        MemoryBuckets {
            epoch: Instant::now(),
            capacity: capacity.max(2),
            inner: Mutex::new(Generations {
                current: HashMap::new(),
                old: HashMap::new(),
            }),
        }
    }

    /// Takes one token from `key`'s bucket.
    pub fn take(&self, key: K, interval: Duration, burst: u32) -> RateDecision {
        let now = self.epoch.elapsed();
        let mut g = match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let tat = match g.current.get(&key) {
            Some(t) => Some(*t),
            None => g.old.remove(&key),
        };
        let (decision, new_tat) = gcra(tat, now, interval, burst);
        let keep = new_tat.or(tat).filter(|t| *t > now);
        if let Some(t) = keep {
            if !g.current.contains_key(&key) && g.current.len() >= self.capacity / 2 {
                g.old = std::mem::take(&mut g.current);
            }
            g.current.insert(key, t);
        } else {
            // A full bucket is the same as no bucket.
            g.current.remove(&key);
        }
        decision
    }

    /// Keys held now.
    pub fn len(&self) -> usize {
        match self.inner.lock() {
            Ok(g) => g.current.len() + g.old.len(),
            Err(poisoned) => {
                let g = poisoned.into_inner();
                g.current.len() + g.old.len()
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(1);

    #[test]
    fn gcra_allows_the_burst_then_refills_one_per_interval() {
        let mut tat = None;
        let now = Duration::from_secs(100);
        for _ in 0..3 {
            let (d, t) = gcra(tat, now, SEC, 3);
            assert_eq!(d, RateDecision::Allowed);
            tat = t;
        }
        let (d, t) = gcra(tat, now, SEC, 3);
        assert_eq!(d, RateDecision::Limited { retry_after: SEC });
        assert_eq!(t, None);
        let (d, _) = gcra(tat, now + SEC, SEC, 3);
        assert_eq!(d, RateDecision::Allowed);
    }

    #[test]
    fn memory_buckets_stay_bounded_under_a_flood_of_keys() {
        let b = MemoryBuckets::new(100);
        for i in 0..10_000u32 {
            assert_eq!(b.take(i, SEC, 5), RateDecision::Allowed);
            assert!(b.len() <= 100, "{} keys", b.len());
        }
    }

    #[test]
    fn memory_buckets_keep_an_active_key_across_a_rotation() {
        let b = MemoryBuckets::new(10);
        for _ in 0..2 {
            assert_eq!(
                b.take(0u32, Duration::from_secs(60), 2),
                RateDecision::Allowed
            );
        }
        for i in 1..5u32 {
            b.take(i, Duration::from_secs(60), 2);
        }
        assert!(matches!(
            b.take(0u32, Duration::from_secs(60), 2),
            RateDecision::Limited { .. }
        ));
    }
}
