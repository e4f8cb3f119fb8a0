//! The zap receipt publisher: a supervised task that claims due jobs from the store's outbox
//! ([`ZapOutbox`](crate::store::ZapOutbox)), builds and signs each receipt ([`super::receipt`],
//! NIP-57 appendix E) and sends it with nostr-sdk to the zap request's relays (at most
//! `zaps.max_relays`) plus the domain's own `relays`, through the relay guard. Each relay that
//! fails is retried with capped exponential backoff until at least one relay accepts the receipt
//! (`OK true`, NIP-01); the others keep being tried for [`KEEP_TRYING`], then the job is done. A
//! job no relay accepts within [`GIVE_UP`] fails. The ledger wakes the task after a credit; a poll
//! is the fallback.
//!
//! Relays are named by strangers, so every connection goes through
//! [`PinnedTransport`](super::pinned::PinnedTransport) (resolve once, check, connect to the
//! checked address), and one relay host is tried at most `zaps.relay_host_attempts_per_minute`
//! times a minute across all zaps and, with Redis, all processes (a store rate-limit bucket): a
//! flood of paid 1-sat zaps naming a third party's server cannot make the gateway hammer it. An
//! attempt over the cap waits, without counting as a failure.
//!
//! This file is the task and one pass over a job (build the receipt, send to the due relays,
//! record each answer); one relay attempt is in `send`, when to retry and when a job is done in
//! `schedule`.

mod schedule;
mod send;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::future::join_all;
use nostr_sdk::{Event, JsonUtil};
use tokio::sync::{Notify, watch};

use super::nip57::relays_of;
use super::receipt::{PaidZap, build_receipt};
use super::relay_guard::Resolve;
use crate::config::ZapSettings;
use crate::leased::{self, LeasedWorker, millis as ms, now_ms};
use crate::metrics::Metrics;
use crate::store::{ReceiptStatus, RelayAttempt, Store, StoreError, ZapJob};

pub use schedule::{BACKOFF_MAX, BACKOFF_START, GIVE_UP, KEEP_TRYING, backoff, settle_status};
use send::SendError;
pub use send::{CONNECT_TIMEOUT, SEND_TIMEOUT};

/// How long a claimed job is ours before another process may take it.
pub const LEASE: Duration = Duration::from_secs(60);
/// How often the outbox is polled when nothing wakes the task.
pub const POLL: Duration = Duration::from_secs(5);
/// Jobs claimed at once.
const BATCH: usize = 16;
/// When the job's data cannot be read (store down), when to look again.
const STORE_RETRY: Duration = Duration::from_secs(10);

/// Where the publisher finds a domain's zapper key and its own relays.
pub trait ZapperSource: Send + Sync {
    /// The zapper key and relays of `domain`, while it is served.
    fn zapper(&self, domain: &str) -> Option<(nostr_sdk::Keys, Vec<String>)>;
}

#[async_trait]
impl LeasedWorker for Publisher {
    type Job = ZapJob;
    const NAME: &'static str = "zap receipt jobs";
    const BATCH: usize = BATCH;
    const POLL: Duration = POLL;

    async fn claim(&self, limit: usize) -> Result<Vec<ZapJob>, StoreError> {
        self.store
            .claim_zap_jobs(&self.owner, now_ms(), ms(LEASE), limit)
            .await
    }

    async fn work(&self, jobs: Vec<ZapJob>) {
        self.process_all(jobs).await;
    }

    async fn release(&self, jobs: Vec<ZapJob>) {
        self.release_jobs(jobs).await;
    }
}

/// What the publisher needs; shared with nothing else.
pub struct Publisher {
    pub store: Arc<dyn Store>,
    /// Each served domain's zapper key and relays, as they are now (domains change at run time).
    pub zappers: Arc<dyn ZapperSource>,
    pub zaps: ZapSettings,
    pub metrics: Metrics,
    pub wake: Arc<Notify>,
    /// This process' lease owner name (random per start).
    pub owner: String,
    /// Resolves relay host names ([`crate::nostr::relay_guard::SystemResolver`] outside tests).
    pub resolver: Arc<dyn Resolve>,
}

impl Publisher {
    /// Runs until `shutdown` turns true ([`leased::run`]: jobs in flight then are released
    /// unchanged, due now, so the next start or another process picks them up at once).
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let wake = self.wake.clone();
        leased::run(&self, Some(&wake), shutdown).await;
    }

    async fn release_jobs(&self, jobs: Vec<ZapJob>) {
        for mut job in jobs {
            job.due_at_ms = now_ms();
            if let Err(e) = self.store.save_zap_job(&self.owner, &job).await {
                tracing::debug!(payment_hash = %job.payment_hash, error = %e, "could not release a zap job; its lease will run out");
            }
        }
    }

    async fn process_all(&self, jobs: Vec<ZapJob>) {
        join_all(jobs.into_iter().map(|job| async move {
            let before = job.status;
            let job = self.process(job, now_ms()).await;
            match self.store.save_zap_job(&self.owner, &job).await {
                Ok(true) => self.count(before, &job),
                Ok(false) => tracing::info!(payment_hash = %job.payment_hash, "lost the lease of a zap job; another process has it"),
                Err(e) => tracing::warn!(payment_hash = %job.payment_hash, error = %e, "cannot save a zap job; it will be retried"),
            }
        }))
        .await;
    }

    fn count(&self, before: ReceiptStatus, job: &ZapJob) {
        if before == job.status {
            return;
        }
        match job.status {
            ReceiptStatus::Sent => {
                self.metrics.zap_receipts_sent.inc();
            }
            ReceiptStatus::Failed => {
                self.metrics.zap_receipts_failed.inc();
            }
            ReceiptStatus::Pending => {}
        }
        tracing::info!(payment_hash = %job.payment_hash, status = ?job.status, relays_ok = ?job.relays_ok(), "zap receipt status");
    }

    /// One pass over a claimed job: answers it updated (to be saved).
    pub async fn process(&self, mut job: ZapJob, now: u64) -> ZapJob {
        if job.done {
            return job;
        }
        let (event, targets) = match self.prepare(&job).await {
            Ok(prepared) => prepared,
            Err(Some(reason)) => {
                tracing::warn!(payment_hash = %job.payment_hash, reason, "zap receipt cannot be built; giving up");
                job.status = ReceiptStatus::Failed;
                job.done = true;
                return job;
            }
            Err(None) => {
                job.due_at_ms = now.saturating_add(ms(STORE_RETRY));
                return job;
            }
        };
        job.event_id = Some(event.id.to_hex());
        if job.relays.is_empty() {
            job.relays = targets
                .into_iter()
                .map(|url| RelayAttempt {
                    url,
                    ok: false,
                    attempts: 0,
                    next_at_ms: Some(0),
                    last_error: None,
                })
                .collect();
        }
        let due: Vec<usize> = (0..job.relays.len())
            .filter(|&i| !job.relays[i].ok && job.relays[i].next_at_ms.is_some_and(|t| t <= now))
            .collect();
        let results = join_all(due.iter().map(|&i| self.send(&job.relays[i].url, &event))).await;
        for (i, result) in due.into_iter().zip(results) {
            let relay = &mut job.relays[i];
            match result {
                Ok(()) => {
                    relay.ok = true;
                    relay.next_at_ms = None;
                    relay.last_error = None;
                }
                Err(SendError::Refused(why)) => {
                    relay.next_at_ms = None;
                    relay.last_error = Some(why.to_string());
                }
                Err(SendError::Deferred(wait)) => {
                    relay.next_at_ms = Some(now.saturating_add(ms(wait)));
                    relay.last_error = Some("relay host over its attempt cap; waiting".into());
                }
                Err(SendError::Retry(why)) => {
                    relay.attempts = relay.attempts.saturating_add(1);
                    relay.next_at_ms = Some(now.saturating_add(ms(backoff(relay.attempts))));
                    relay.last_error = Some(why);
                }
            }
        }
        settle_status(&mut job, now);
        job
    }

    /// The signed receipt and its target relays. `Err(Some(reason))`: never buildable;
    /// `Err(None)`: the store did not answer, try later.
    async fn prepare(&self, job: &ZapJob) -> Result<(Event, Vec<String>), Option<&'static str>> {
        let invoice = self
            .store
            .invoice(&job.payment_hash)
            .await
            .map_err(|_| None)?
            .ok_or(Some("invoice not found"))?;
        let zap_request = invoice.zap_request.as_deref().ok_or(Some("not a zap"))?;
        let settled = invoice
            .settled
            .as_ref()
            .ok_or(Some("invoice not settled"))?;
        let account = self
            .store
            .account(&job.account_id)
            .await
            .map_err(|_| None)?
            .ok_or(Some("account removed"))?;
        let (keys, own) = self
            .zappers
            .zapper(&account.domain)
            .ok_or(Some("domain no longer served"))?;
        let event = build_receipt(
            &keys,
            &PaidZap {
                zap_request,
                bolt11: &invoice.bolt11,
                preimage: (settled.preimage
                    != hex::encode(crate::store::withdraw::INTERNAL_PREIMAGE))
                .then_some(settled.preimage.as_str()),
                paid_at: settled.settled_at,
            },
        )
        .map_err(|_| Some("zap receipt cannot be built"))?;
        let request = Event::from_json(zap_request).map_err(|_| Some("bad zap request"))?;
        let mut targets: Vec<String> = relays_of(&request)
            .into_iter()
            .take(self.zaps.max_relays)
            .collect();
        for relay in own {
            if !targets.contains(&relay) {
                targets.push(relay);
            }
        }
        Ok((event, targets))
    }
}
