//! The fake node's test controls as the admin API sees them: settle one of its invoices as if the
//! network paid it, make the next outgoing payments fail. A handle built where the node is chosen
//! (`app`), empty when another node is in use; its refusals are [`FakeControlError`], apart from
//! the gateway's domain errors.

use std::sync::Arc;

use super::{FakeNode, FakePayError};
use crate::types::PaymentHash;

/// Why a fake-node control was refused.
#[derive(Debug, thiserror::Error)]
pub enum FakeControlError {
    /// Another node is configured; the controls do not exist.
    #[error("the fake node is not in use")]
    NotFake,
    /// The fake node refused the payment.
    #[error(transparent)]
    Pay(#[from] FakePayError),
}

/// The fake node's controls, when the fake node is the node in use.
#[derive(Clone, Default)]
pub struct FakeControls(Option<Arc<FakeNode>>);

impl FakeControls {
    /// Controls of `node`; `None` when another node is in use.
    pub fn new(node: Option<Arc<FakeNode>>) -> Self {
        FakeControls(node)
    }

    /// The fake node, when it is the node in use.
    pub fn node(&self) -> Option<&FakeNode> {
        self.0.as_deref()
    }

    fn require(&self) -> Result<&FakeNode, FakeControlError> {
        self.node().ok_or(FakeControlError::NotFake)
    }

    /// Settles one of the fake node's invoices as if the network paid it.
    pub async fn pay(&self, bolt11: &str) -> Result<PaymentHash, FakeControlError> {
        let settlement = self.require()?.pay(bolt11).await?;
        Ok(settlement.payment_hash)
    }

    /// The next `count` outgoing payments fail (no route).
    pub fn fail_next_payments(&self, count: u64) -> Result<(), FakeControlError> {
        self.require()?.payments.fail_next(count);
        Ok(())
    }
}
