//! The webhook deliverer: a supervised task in every gateway process that claims due delivery jobs
//! from the store's outbox ([`WebhookStore`](crate::store::WebhookStore)) under a lease, posts each
//! event to its webhooks (signed, through the guard, with deadlines) and saves the outcome. A
//! failed try is retried with capped exponential backoff; a webhook that has not answered 2xx
//! within [`GIVE_UP`] is given up for that event. Deliveries run here, never on the payment path,
//! so a slow or dead endpoint only delays its own events.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::watch;

use super::client::{Post, post};
use super::guard;
use super::signature;
use crate::leased::{self, LeasedWorker, millis as ms, now_ms, retry_delay};
use crate::metrics::Metrics;
use crate::store::webhooks::{DeliveryJob, DeliveryTarget, Webhook};
use crate::store::{Store, StoreError};

/// How long a claimed job is ours before another process may take it. Longer than a job's
/// deliveries can take ([`TIMEOUT`] per webhook, all at once).
pub const LEASE: Duration = Duration::from_secs(60);
/// How often the outbox is polled.
pub const POLL: Duration = Duration::from_secs(1);
/// Jobs claimed at once (processed concurrently).
const BATCH: usize = 32;
/// One POST, connect to status line.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// First retry delay of a webhook; doubles per failure up to [`BACKOFF_MAX`].
pub const BACKOFF_START: Duration = Duration::from_secs(2);
pub const BACKOFF_MAX: Duration = Duration::from_secs(600);
/// With no 2xx from a webhook, when an event is given up for it (at least 24 h, as promised).
pub const GIVE_UP: Duration = Duration::from_secs(3 * 86_400);
/// When the store cannot be read, when to look again.
const STORE_RETRY: Duration = Duration::from_secs(10);

/// The delay before retry number `attempts` (1-based) of one webhook.
pub fn backoff(attempts: u32) -> Duration {
    retry_delay(BACKOFF_START, BACKOFF_MAX, attempts)
}

#[async_trait]
impl LeasedWorker for Deliverer {
    type Job = DeliveryJob;
    const NAME: &'static str = "webhook deliveries";
    const BATCH: usize = BATCH;
    const POLL: Duration = POLL;

    async fn before_claim(&self) {
        self.update_gauges().await;
    }

    async fn claim(&self, limit: usize) -> Result<Vec<DeliveryJob>, StoreError> {
        self.store
            .claim_webhook_jobs(&self.owner, now_ms(), ms(LEASE), limit)
            .await
    }

    async fn work(&self, jobs: Vec<DeliveryJob>) {
        self.process_all(jobs).await;
    }

    async fn release(&self, jobs: Vec<DeliveryJob>) {
        self.release_jobs(jobs).await;
    }
}

/// What the deliverer needs; shared with nothing else.
pub struct Deliverer {
    pub store: Arc<dyn Store>,
    pub metrics: Metrics,
    pub allow_private: bool,
    /// This process' lease owner name (random per start).
    pub owner: String,
}

impl Deliverer {
    /// Runs until `shutdown` turns true ([`leased::run`]: jobs in flight then are released
    /// unchanged, due now).
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        leased::run(&self, None, shutdown).await;
    }

    async fn update_gauges(&self) {
        if let Ok(stats) = self.store.webhook_queue_stats().await {
            self.metrics
                .webhook_queue_depth
                .set(i64::try_from(stats.pending).unwrap_or(i64::MAX));
            let age = stats
                .oldest_queued_at_ms
                .map_or(0, |t| now_ms().saturating_sub(t) / 1000);
            self.metrics
                .webhook_oldest_pending_seconds
                .set(i64::try_from(age).unwrap_or(i64::MAX));
        }
    }

    async fn release_jobs(&self, jobs: Vec<DeliveryJob>) {
        for mut job in jobs {
            job.due_at_ms = now_ms();
            if let Err(e) = self.store.save_webhook_job(&self.owner, &job).await {
                tracing::debug!(event = %job.event.id, error = %e, "could not release a webhook job; its lease will run out");
            }
        }
    }

    async fn process_all(&self, jobs: Vec<DeliveryJob>) {
        let webhooks = match self.store.webhooks().await {
            Ok(list) => Some(list),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the webhooks; deliveries wait");
                None
            }
        };
        futures_util::stream::iter(jobs)
            .for_each_concurrent(None, |job| {
                let webhooks = webhooks.as_deref();
                async move {
                    let job = match webhooks {
                        Some(list) => self.process(job, list, now_ms()).await,
                        None => {
                            let mut job = job;
                            job.due_at_ms = now_ms().saturating_add(ms(STORE_RETRY));
                            job
                        }
                    };
                    match self.store.save_webhook_job(&self.owner, &job).await {
                        Ok(true) => {}
                        Ok(false) => tracing::info!(event = %job.event.id, "lost the lease of a webhook job; another process has it"),
                        Err(e) => tracing::warn!(event = %job.event.id, error = %e, "cannot save a webhook job; it will be retried"),
                    }
                }
            })
            .await;
    }

    /// One pass over a claimed job: answers it updated (to be saved).
    pub async fn process(
        &self,
        mut job: DeliveryJob,
        webhooks: &[Webhook],
        now: u64,
    ) -> DeliveryJob {
        if job.done {
            return job;
        }
        if !job.targets_chosen {
            job.targets = webhooks
                .iter()
                .filter(|w| w.wants(job.event.kind, &job.domain))
                .map(|w| DeliveryTarget {
                    webhook_id: w.id.clone(),
                    url: w.url.clone(),
                    delivered: false,
                    attempts: 0,
                    next_at_ms: Some(0),
                    last_error: None,
                })
                .collect();
            job.targets_chosen = true;
        }
        let body = match serde_json::to_vec(&job.event) {
            Ok(b) => Bytes::from(b),
            Err(e) => {
                tracing::error!(event = %job.event.id, error = %e, "cannot encode a webhook event; giving up");
                job.done = true;
                return job;
            }
        };
        let by_id: HashMap<&str, &Webhook> = webhooks.iter().map(|w| (w.id.as_str(), w)).collect();
        let due: Vec<usize> = (0..job.targets.len())
            .filter(|&i| {
                let t = &job.targets[i];
                !t.delivered && t.next_at_ms.is_some_and(|at| at <= now)
            })
            .collect();
        let results = futures_util::future::join_all(due.iter().map(|&i| {
            let hook = by_id.get(job.targets[i].webhook_id.as_str()).copied();
            self.deliver(hook, &job, body.clone())
        }))
        .await;
        let given_up = now.saturating_sub(job.queued_at_ms) >= ms(GIVE_UP);
        for (i, result) in due.into_iter().zip(results) {
            let target = &mut job.targets[i];
            match result {
                Ok(()) => {
                    target.delivered = true;
                    target.next_at_ms = None;
                    target.last_error = None;
                    self.metrics.webhook_deliveries.inc();
                }
                Err(Failure::Gone) => {
                    target.next_at_ms = None;
                    target.last_error = Some("webhook removed".into());
                }
                Err(Failure::Retry(why)) => {
                    self.metrics.webhook_delivery_failures.inc();
                    target.attempts = target.attempts.saturating_add(1);
                    target.last_error = Some(why);
                    if given_up {
                        target.next_at_ms = None;
                        tracing::warn!(event = %job.event.id, webhook = %target.webhook_id, attempts = target.attempts, "webhook event given up");
                    } else {
                        target.next_at_ms = Some(now.saturating_add(ms(backoff(target.attempts))));
                    }
                }
            }
        }
        let next = job.targets.iter().filter_map(|t| t.next_at_ms).min();
        job.done = next.is_none();
        job.due_at_ms = next.unwrap_or(now);
        job
    }

    /// Delivers the event to one webhook: guard, sign, post, 2xx.
    async fn deliver(
        &self,
        hook: Option<&Webhook>,
        job: &DeliveryJob,
        body: Bytes,
    ) -> Result<(), Failure> {
        let Some(hook) = hook else {
            return Err(Failure::Gone);
        };
        let (url, addrs) = guard::check(&hook.url, self.allow_private)
            .await
            .map_err(|e| Failure::Retry(e.to_string()))?;
        let t = crate::types::unix_now();
        let headers = [
            (signature::HEADER, signature::header(&hook.secret, t, &body)),
            ("lnaddr-event-id", job.event.id.clone()),
        ];
        let request = Post {
            url: &url,
            headers: &headers,
            body,
        };
        match post(&request, &addrs, TIMEOUT).await {
            Ok(status) if (200..300).contains(&status) => {
                tracing::debug!(event = %job.event.id, webhook = %hook.id, status, "webhook delivered");
                Ok(())
            }
            Ok(status) => Err(Failure::Retry(format!("answered HTTP {status}"))),
            Err(why) => Err(Failure::Retry(why)),
        }
    }
}

/// A delivery that did not succeed.
enum Failure {
    /// The webhook was removed: nothing to deliver to.
    Gone,
    /// Worth another try later.
    Retry(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_its_cap() {
        assert_eq!(backoff(1), BACKOFF_START);
        assert_eq!(backoff(3), BACKOFF_START * 4);
        assert_eq!(backoff(40), BACKOFF_MAX);
        assert_eq!(backoff(u32::MAX), BACKOFF_MAX);
        // Retried for at least 24 h before giving up.
        assert!(GIVE_UP >= Duration::from_secs(86_400));
    }
}
