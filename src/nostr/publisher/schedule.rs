//! When a zap receipt job's relays are tried again and when the job is done: capped exponential
//! backoff per relay, sent once one relay accepted, done after [`KEEP_TRYING`] more for the others
//! or failed after [`GIVE_UP`] without one.

use std::time::Duration;

use crate::leased::{millis as ms, retry_delay};
use crate::store::{ReceiptStatus, ZapJob};

/// First retry delay of a relay; doubles per failure up to [`BACKOFF_MAX`].
pub const BACKOFF_START: Duration = Duration::from_secs(1);
pub const BACKOFF_MAX: Duration = Duration::from_secs(300);
/// After the first relay accepted, how long the others are still tried.
pub const KEEP_TRYING: Duration = Duration::from_secs(3600);
/// With no relay accepting, when the job fails.
pub const GIVE_UP: Duration = Duration::from_secs(3 * 86_400);

/// The delay before retry number `attempts` (1-based) of one relay.
pub fn backoff(attempts: u32) -> Duration {
    retry_delay(BACKOFF_START, BACKOFF_MAX, attempts)
}

/// Status and schedule after a pass: sent once a relay accepted; done when nothing is left to
/// retry, when the others had [`KEEP_TRYING`] after the first success, or (failed) after
/// [`GIVE_UP`] without one.
pub fn settle_status(job: &mut ZapJob, now: u64) {
    let any_ok = job.relays.iter().any(|r| r.ok);
    if any_ok {
        job.status = ReceiptStatus::Sent;
        job.first_ok_at_ms.get_or_insert(now);
    }
    let next = job
        .relays
        .iter()
        .filter(|r| !r.ok)
        .filter_map(|r| r.next_at_ms)
        .min();
    let kept_trying = job
        .first_ok_at_ms
        .is_some_and(|t| now.saturating_sub(t) >= ms(KEEP_TRYING));
    let gave_up = !any_ok && now.saturating_sub(job.queued_at_ms) >= ms(GIVE_UP);
    job.done = next.is_none() || kept_trying || gave_up;
    if job.done && !any_ok {
        job.status = ReceiptStatus::Failed;
    }
    job.due_at_ms = next.unwrap_or(now);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{AccountId, RelayAttempt};
    use crate::types::PaymentHash;

    fn job(relays: Vec<(bool, Option<u64>)>) -> ZapJob {
        let mut job = ZapJob::new(PaymentHash([1; 32]), AccountId("a".into()), 0);
        job.relays = relays
            .into_iter()
            .enumerate()
            .map(|(i, (ok, next_at_ms))| RelayAttempt {
                url: format!("wss://r{i}.example"),
                ok,
                attempts: 0,
                next_at_ms,
                last_error: None,
            })
            .collect();
        job
    }

    #[test]
    fn backoff_doubles_to_its_cap() {
        assert_eq!(backoff(1), BACKOFF_START);
        assert_eq!(backoff(2), BACKOFF_START * 2);
        assert_eq!(backoff(4), BACKOFF_START * 8);
        assert_eq!(backoff(30), BACKOFF_MAX);
        assert_eq!(backoff(u32::MAX), BACKOFF_MAX);
    }

    #[test]
    fn sent_after_one_ok_and_done_after_keep_trying() {
        let mut j = job(vec![(true, None), (false, Some(5_000))]);
        settle_status(&mut j, 1_000);
        assert_eq!(j.status, ReceiptStatus::Sent);
        assert!(!j.done, "the other relay is still tried");
        assert_eq!(j.due_at_ms, 5_000);
        settle_status(&mut j, 1_000 + ms(KEEP_TRYING));
        assert!(j.done);
        assert_eq!(j.status, ReceiptStatus::Sent);
    }

    #[test]
    fn pending_until_give_up_then_failed() {
        let mut j = job(vec![(false, Some(9_000))]);
        settle_status(&mut j, 1_000);
        assert_eq!(
            (j.status, j.done, j.due_at_ms),
            (ReceiptStatus::Pending, false, 9_000)
        );
        settle_status(&mut j, ms(GIVE_UP));
        assert_eq!((j.status, j.done), (ReceiptStatus::Failed, true));
    }

    #[test]
    fn all_relays_refused_fails_at_once() {
        let mut j = job(vec![(false, None), (false, None)]);
        settle_status(&mut j, 1_000);
        assert_eq!((j.status, j.done), (ReceiptStatus::Failed, true));
        let mut all_ok = job(vec![(true, None)]);
        settle_status(&mut all_ok, 1_000);
        assert_eq!((all_ok.status, all_ok.done), (ReceiptStatus::Sent, true));
    }
}
