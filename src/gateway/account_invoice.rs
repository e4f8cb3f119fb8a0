//! Invoices an account's own wallet asks for (NIP-47 `make_invoice`), issued and recorded like
//! the LNURL callback's, so the settlement follower credits them the same way. The description is
//! committed to by its hash (the node takes a description hash), or the caller's hash is used.

use sha2::{Digest, Sha256};

use super::{Error, Gateway, Refusal};
use crate::lightning::InvoiceRequest;
use crate::nwc::invoices::IssueError;
use crate::store::{AccountId, InvoiceRecord};
use crate::types::{Msat, unix_now};

/// Longest description, in characters.
const MAX_DESCRIPTION: usize = 640;
/// Expiry bounds of an invoice asked for by an account's wallet, in seconds.
const EXPIRY_RANGE: std::ops::RangeInclusive<u64> = 60..=7 * 86_400;

impl Gateway {
    /// Issues an invoice of exactly `amount` to the account and records it. The description is
    /// kept as the ledger entry's comment.
    pub async fn issue_account_invoice(
        &self,
        account_id: &AccountId,
        amount: Msat,
        description: Option<String>,
        description_hash: Option<[u8; 32]>,
        expiry_secs: Option<u64>,
    ) -> Result<InvoiceRecord, Error> {
        let account = self
            .store
            .account(account_id)
            .await?
            .ok_or(Error::UnknownUser)?;
        let domain = self.domain_named(&account.domain)?;
        if !domain.sendable.contains(&amount) {
            return Err(Refusal::AmountOutOfRange {
                min: *domain.sendable.start(),
                max: *domain.sendable.end(),
            }
            .into());
        }
        let description = description.filter(|d| !d.is_empty());
        if description
            .as_ref()
            .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
        {
            return Err(Refusal::TooLong {
                field: "description",
                max: MAX_DESCRIPTION,
            }
            .into());
        }
        let expiry_secs = expiry_secs.unwrap_or(self.settings.lightning.invoice_expiry_secs);
        if !EXPIRY_RANGE.contains(&expiry_secs) {
            return Err(Refusal::ExpiryOutOfRange.into());
        }
        let description_hash = description_hash.unwrap_or_else(|| {
            Sha256::digest(description.as_deref().unwrap_or("").as_bytes()).into()
        });
        let created = self
            .node
            .create_invoice(InvoiceRequest {
                amount,
                description_hash,
                expiry_secs,
            })
            .await?;
        let record = InvoiceRecord {
            payment_hash: created.payment_hash,
            account_id: account.id.clone(),
            amount_msat: amount,
            bolt11: created.bolt11,
            comment: description,
            tag: None,
            payer_data: None,
            zap_request: None,
            created_at: unix_now(),
            expires_at: created.expires_at,
            settled: None,
            node_id: Some(self.node.node_id()),
        };
        self.store.add_invoice(record.clone()).await?;
        self.metrics.invoices_created.inc();
        tracing::info!(account = %account.id, payment_hash = %record.payment_hash, amount_msat = amount.0, "account invoice issued");
        Ok(record)
    }
}

#[async_trait::async_trait]
impl crate::nwc::invoices::AccountInvoices for Gateway {
    async fn issue_account_invoice(
        &self,
        account_id: &AccountId,
        amount: Msat,
        description: Option<String>,
        description_hash: Option<[u8; 32]>,
        expiry_secs: Option<u64>,
    ) -> Result<InvoiceRecord, IssueError> {
        Gateway::issue_account_invoice(
            self,
            account_id,
            amount,
            description,
            description_hash,
            expiry_secs,
        )
        .await
        .map_err(|e| match e {
            Error::Refused(reason) => IssueError::Refused(reason),
            other => IssueError::Failed(Box::new(other)),
        })
    }
}
