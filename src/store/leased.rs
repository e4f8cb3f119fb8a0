//! What a claim and a save do to a job of a leased outbox (zap receipts, webhook deliveries), the
//! same on both backends: a claimed job names its holder and is due again when the lease ends; a
//! saved job has no holder and is due again at its own `due_at_ms`, or never once done. The
//! backends keep the queues (`embedded/leased.rs`, `redis/leased.rs`).

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::outbox::ZapJob;
use super::webhooks::DeliveryJob;

/// A job kept in a leased outbox.
pub(super) trait LeasedJob: Clone + Serialize + DeserializeOwned {
    fn lease_owner(&self) -> Option<&str>;
    fn set_lease_owner(&mut self, owner: Option<String>);
    fn due_at_ms(&self) -> u64;
    fn set_due_at_ms(&mut self, at: u64);
    fn is_done(&self) -> bool;

    /// The job as handed to `owner`, whose lease ends at `until_ms`.
    fn claimed(mut self, owner: &str, until_ms: u64) -> Self {
        self.set_lease_owner(Some(owner.to_string()));
        self.set_due_at_ms(until_ms);
        self
    }

    /// The job as its holder stores it back (no holder), and when it is due again (`None`: done,
    /// out of the queue).
    fn released(&self) -> (Self, Option<u64>) {
        let mut job = self.clone();
        job.set_lease_owner(None);
        let due = (!job.is_done()).then(|| job.due_at_ms());
        (job, due)
    }
}

macro_rules! leased_job {
    ($t:ty) => {
        impl LeasedJob for $t {
            fn lease_owner(&self) -> Option<&str> {
                self.lease_owner.as_deref()
            }
            fn set_lease_owner(&mut self, owner: Option<String>) {
                self.lease_owner = owner;
            }
            fn due_at_ms(&self) -> u64 {
                self.due_at_ms
            }
            fn set_due_at_ms(&mut self, at: u64) {
                self.due_at_ms = at;
            }
            fn is_done(&self) -> bool {
                self.done
            }
        }
    };
}
leased_job!(ZapJob);
leased_job!(DeliveryJob);
