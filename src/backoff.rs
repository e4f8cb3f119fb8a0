//! Capped exponential backoff for the loops that retry a node or a store: the settlement follower
//! (`ledger`) and the payer (`payments::payer`). 100 ms, doubling, at most 30 s; reset after a
//! success.

use std::time::Duration;

const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// Capped exponential backoff.
#[derive(Debug)]
pub struct Backoff(Duration);

impl Default for Backoff {
    fn default() -> Self {
        Backoff(BACKOFF_START)
    }
}

impl Backoff {
    /// The delay to wait now; the next one is twice as long, up to the cap.
    pub fn next_delay(&mut self) -> Duration {
        let now = self.0;
        self.0 = (self.0 * 2).min(BACKOFF_MAX);
        now
    }

    /// Back to the first delay (after a success).
    pub fn reset(&mut self) {
        self.0 = BACKOFF_START;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_resets() {
        let mut b = Backoff::default();
        let seq: Vec<_> = (0..12).map(|_| b.next_delay()).collect();
        assert_eq!(seq[0], BACKOFF_START);
        assert_eq!(seq[1], BACKOFF_START * 2);
        assert_eq!(*seq.last().expect("non-empty"), BACKOFF_MAX);
        b.reset();
        assert_eq!(b.next_delay(), BACKOFF_START);
    }
}
