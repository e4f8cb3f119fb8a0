//! The fake node's outgoing payments, for withdrawals (LUD-03) in demos and tests: any valid
//! invoice for the node's network is "paid" with a configurable routing fee (default 0), unless
//! told to fail the next payments. No money moves anywhere; the preimage of a foreign invoice is
//! unknowable, so a random one is reported.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use bitcoin::hashes::Hash;
use lightning_invoice::{Bolt11Invoice, Currency};

use super::{LightningError, PaymentRequest, PaymentResult};
use crate::types::{Msat, PaymentHash};

/// Payment state and the test controls of a fake node.
#[derive(Default)]
pub struct FakePayments {
    fail_next: AtomicU64,
    fee_msat: AtomicU64,
    paid: Mutex<HashMap<[u8; 32], PaymentResult>>,
}

impl FakePayments {
    /// The next `n` payments fail (no route).
    pub fn fail_next(&self, n: u64) {
        self.fail_next.store(n, Ordering::SeqCst);
    }

    /// The routing fee of later payments.
    pub fn set_fee(&self, fee: Msat) {
        self.fee_msat.store(fee.msat(), Ordering::SeqCst);
    }

    fn book(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], PaymentResult>> {
        self.paid.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn pay(
        &self,
        request: &PaymentRequest,
        currency: &Currency,
    ) -> Result<PaymentResult, LightningError> {
        let invoice: Bolt11Invoice = request
            .bolt11
            .trim()
            .parse()
            .map_err(|_| LightningError::Rejected("invalid payment request".into()))?;
        if invoice.currency() != *currency {
            return Err(LightningError::Rejected(
                "invoice for another network".into(),
            ));
        }
        if invoice.is_expired() {
            return Ok(PaymentResult::Failed("invoice expired".into()));
        }
        let hash = *invoice.payment_hash().as_byte_array();
        let mut book = self.book();
        match book.get(&hash) {
            Some(PaymentResult::Failed(_)) | None => {}
            Some(_) => return Err(LightningError::Rejected("invoice is already paid".into())),
        }
        let failing = self
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1))
            .is_ok();
        let fee = Msat::from_msat(self.fee_msat.load(Ordering::SeqCst));
        let result = if failing {
            PaymentResult::Failed("no route".into())
        } else if fee > request.fee_limit {
            PaymentResult::Failed("fee above the limit".into())
        } else {
            PaymentResult::Succeeded {
                fee,
                preimage: rand::random(),
            }
        };
        book.insert(hash, result.clone());
        Ok(result)
    }

    pub fn track(&self, hash: &PaymentHash) -> Option<PaymentResult> {
        self.book().get(&hash.0).cloned()
    }
}
