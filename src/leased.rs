//! The loop of the workers that drain a leased outbox in every gateway process: zap receipts
//! ([`crate::nostr::publisher`]) and webhook deliveries ([`crate::webhooks::deliverer`]). Each
//! turn claims a batch of due jobs under this process's lease, works them, and goes again at once
//! when the batch was full; otherwise it waits for the poll interval (or a wake-up). At shutdown
//! the jobs in hand are released unchanged, due now, so the next start (or another process) picks
//! them up at once rather than after the lease. What a job is, how it is claimed, worked and
//! released is the worker's ([`LeasedWorker`]).

use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{Notify, watch};

use crate::store::StoreError;

/// A worker of one leased outbox.
#[async_trait]
pub trait LeasedWorker: Send + Sync {
    type Job: Clone + Send + Sync;

    /// What it works on, for logs ("zap receipt jobs").
    const NAME: &'static str;
    /// Jobs claimed at once.
    const BATCH: usize;
    /// How often the outbox is looked at when nothing wakes the worker.
    const POLL: Duration;

    /// Claims up to `limit` due jobs for this process.
    async fn claim(&self, limit: usize) -> Result<Vec<Self::Job>, StoreError>;

    /// Works the claimed jobs and saves each outcome.
    async fn work(&self, jobs: Vec<Self::Job>);

    /// Gives jobs back unchanged, due now (at shutdown).
    async fn release(&self, jobs: Vec<Self::Job>);

    /// Runs before each claim (gauges).
    async fn before_claim(&self) {}
}

/// Runs `worker` until `shutdown` turns true; `wake` cuts a wait short.
pub async fn run<W: LeasedWorker>(
    worker: &W,
    wake: Option<&Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    while !*shutdown.borrow() {
        worker.before_claim().await;
        let mut full = false;
        match worker.claim(W::BATCH).await {
            Ok(jobs) if !jobs.is_empty() => {
                full = jobs.len() == W::BATCH;
                let originals = jobs.clone();
                tokio::select! {
                    () = worker.work(jobs) => {}
                    _ = shutdown.changed() => {
                        worker.release(originals).await;
                        return;
                    }
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot claim {}", W::NAME),
        }
        if full {
            continue;
        }
        let woken = async {
            match wake {
                Some(n) => n.notified().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = woken => {}
            () = tokio::time::sleep(W::POLL) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Milliseconds of `d`, saturating.
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Unix time in milliseconds.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, millis)
}

/// The delay before retry number `attempts` (1-based) of one target: `start`, doubling per
/// failure, at most `max`.
pub fn retry_delay(start: Duration, max: Duration, attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(20);
    start.saturating_mul(2u32.pow(doublings)).min(max)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn retry_delays_double_up_to_the_cap() {
        let (start, max) = (Duration::from_secs(2), Duration::from_secs(600));
        assert_eq!(retry_delay(start, max, 0), start);
        assert_eq!(retry_delay(start, max, 1), start);
        assert_eq!(retry_delay(start, max, 3), start * 4);
        assert_eq!(retry_delay(start, max, 9), start * 256);
        assert_eq!(retry_delay(start, max, 10), max);
        assert_eq!(retry_delay(start, max, u32::MAX), max);
    }

    /// A queue of numbered jobs that records what was worked and released.
    struct Queue {
        left: std::sync::Mutex<Vec<u32>>,
        worked: AtomicUsize,
        released: std::sync::Mutex<Vec<u32>>,
        hang: bool,
        claimed: Notify,
    }

    #[async_trait]
    impl LeasedWorker for Arc<Queue> {
        type Job = u32;
        const NAME: &'static str = "test jobs";
        const BATCH: usize = 2;
        const POLL: Duration = Duration::from_secs(3600);

        async fn claim(&self, limit: usize) -> Result<Vec<u32>, StoreError> {
            let mut left = self.left.lock().expect("lock");
            let n = limit.min(left.len());
            let jobs: Vec<u32> = left.drain(..n).collect();
            if !jobs.is_empty() {
                self.claimed.notify_one();
            }
            Ok(jobs)
        }

        async fn work(&self, jobs: Vec<u32>) {
            if self.hang {
                std::future::pending::<()>().await;
            }
            self.worked.fetch_add(jobs.len(), Ordering::SeqCst);
        }

        async fn release(&self, jobs: Vec<u32>) {
            self.released.lock().expect("lock").extend(jobs);
        }
    }

    fn queue(jobs: Vec<u32>, hang: bool) -> Arc<Queue> {
        Arc::new(Queue {
            left: std::sync::Mutex::new(jobs),
            worked: AtomicUsize::new(0),
            released: std::sync::Mutex::new(Vec::new()),
            hang,
            claimed: Notify::new(),
        })
    }

    async fn worked(q: &Queue, n: usize) {
        tokio::time::timeout(Duration::from_secs(10), async {
            while q.worked.load(Ordering::SeqCst) < n {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("the jobs were worked");
    }

    #[tokio::test]
    async fn full_batches_are_drained_without_waiting_and_a_wake_ends_the_wait() {
        let q = queue((0..5).collect(), false);
        let wake = Arc::new(Notify::new());
        let (stop, rx) = watch::channel(false);
        let task = {
            let (q, wake) = (q.clone(), wake.clone());
            tokio::spawn(async move { run(&q, Some(&wake), rx).await })
        };
        // 2 + 2 + 1 with an hour-long poll: only the loop's "full batch, go on" gets all five.
        worked(&q, 5).await;
        q.left.lock().expect("lock").push(9);
        wake.notify_one();
        worked(&q, 6).await;
        stop.send(true).expect("stop");
        task.await.expect("task");
    }

    #[tokio::test]
    async fn jobs_in_hand_at_shutdown_are_released() {
        let q = queue(vec![1, 2, 3], true);
        let (stop, rx) = watch::channel(false);
        let task = {
            let q = q.clone();
            tokio::spawn(async move { run(&q, None, rx).await })
        };
        q.claimed.notified().await;
        stop.send(true).expect("stop");
        task.await.expect("task");
        assert_eq!(*q.released.lock().expect("lock"), vec![1, 2]);
        assert_eq!(q.worked.load(Ordering::SeqCst), 0);
    }
}
