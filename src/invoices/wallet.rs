//! Invoices an account's own wallet asks for (NIP-47 `make_invoice`), issued and recorded like
//! the LNURL callback's, so the settlement follower credits them the same way. The description is
//! committed to by its hash (the node takes a description hash), or the caller's hash is used.

use sha2::{Digest, Sha256};

use super::{Error, Invoices, NewInvoice};
use crate::refusal::Refusal;
use crate::store::{AccountId, InvoiceRecord};
use crate::types::Msat;

/// Longest description, in characters.
const MAX_DESCRIPTION: usize = 640;
/// Expiry bounds of an invoice asked for by an account's wallet, in seconds.
const EXPIRY_RANGE: std::ops::RangeInclusive<u64> = 60..=7 * 86_400;

/// What an account's wallet asks for: exactly `amount`, described by `description` (kept as the
/// ledger entry's comment) or committed to by `description_hash`, expiring after `expiry_secs`
/// (the configured invoice expiry when absent).
#[derive(Debug, Clone)]
pub struct WalletInvoice {
    pub amount: Msat,
    pub description: Option<String>,
    pub description_hash: Option<[u8; 32]>,
    pub expiry_secs: Option<u64>,
}

impl Invoices {
    /// Issues the invoice `ask` describes to the account and records it.
    pub(super) async fn issue_wallet_invoice(
        &self,
        account_id: &AccountId,
        ask: WalletInvoice,
    ) -> Result<InvoiceRecord, Error> {
        let account = self
            .store
            .account(account_id)
            .await?
            .ok_or(Error::UnknownUser)?;
        let domain = self.domains.served(&account.domain)?;
        let amount = ask.amount;
        super::check_sendable(&domain, amount)?;
        let description = ask.description.filter(|d| !d.is_empty());
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
        let expiry_secs = ask.expiry_secs.unwrap_or(self.expiry_secs);
        if !EXPIRY_RANGE.contains(&expiry_secs) {
            return Err(Refusal::ExpiryOutOfRange.into());
        }
        let description_hash = ask.description_hash.unwrap_or_else(|| {
            Sha256::digest(description.as_deref().unwrap_or("").as_bytes()).into()
        });
        let record = self
            .record(
                &account.id,
                NewInvoice {
                    amount,
                    description_hash,
                    expiry_secs,
                    comment: description,
                    tag: None,
                    payer_data: None,
                    zap_request: None,
                },
            )
            .await?;
        tracing::info!(account = %account.id, payment_hash = %record.payment_hash, amount_msat = amount.msat(), "account invoice issued");
        Ok(record)
    }
}
