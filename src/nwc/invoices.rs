//! The boundary between `make_invoice` and the gateway's invoice issuing: the [`AccountInvoices`]
//! trait, which the gateway implements (so this module never imports the gateway).

use async_trait::async_trait;

use crate::refusal::Refusal;
use crate::store::{AccountId, InvoiceRecord};
use crate::types::Msat;

/// Why no invoice was issued; nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    /// The request is not a valid one (its `Display` is the reason shown to the client).
    #[error(transparent)]
    Refused(Refusal),
    /// The store or the node failed.
    #[error(transparent)]
    Failed(Box<dyn std::error::Error + Send + Sync>),
}

/// Issues invoices of exactly an amount to an account and records them.
#[async_trait]
pub trait AccountInvoices: Send + Sync {
    async fn issue_account_invoice(
        &self,
        account_id: &AccountId,
        amount: Msat,
        description: Option<String>,
        description_hash: Option<[u8; 32]>,
        expiry_secs: Option<u64>,
    ) -> Result<InvoiceRecord, IssueError>;
}
