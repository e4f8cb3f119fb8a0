//! The LNURL-pay callback (LUD-06, LUD-12 comments, LUD-18 payerdata, NIP-57 zaps): the
//! parameters checked before any invoice exists, the description hash the invoice commits to, and
//! the record that lets the settlement follower credit the account (and queue a zap's receipt).

use sha2::{Digest, Sha256};

use super::{CallbackParams, Error, Invoices, IssuedInvoice, NewInvoice};
use crate::domains::Domain;
use crate::lnurl::pay;
use crate::nostr::nip57::{self, ZapRequest, ZapRequestError};
use crate::refusal::Refusal;
use crate::store::Account;

impl Invoices {
    /// See [`super::AccountInvoices::issue`].
    pub(super) async fn issue_callback_invoice(
        &self,
        domain: &Domain,
        name: &str,
        params: CallbackParams,
    ) -> Result<IssuedInvoice, Error> {
        let (account, tagged) = crate::services::resolve(self.store.as_ref(), domain, name).await?;
        let amount = params.amount?;
        super::check_sendable(domain, amount)?;
        let zap = match params.nostr.as_deref() {
            Some(raw) => Some(check_zap(domain, &account, raw, amount.msat())?),
            None => None,
        };
        let payer_data = match zap {
            // The zap request is what the hash commits to; payerdata has no place in a zap.
            Some(_) => None,
            None => params.payer_data,
        };
        if let Some(pd) = payer_data.as_deref() {
            pay::check_payer_data(pd).map_err(Refusal::from)?;
        }
        // NIP-57: with a zap request, its content is the comment.
        let comment = match &zap {
            Some(z) => Some(z.comment()),
            None => params.comment.as_deref(),
        }
        .and_then(|c| pay::cut_comment(c, domain.comment_allowed));
        let description_hash = match (&zap, payer_data.as_deref()) {
            (Some(z), _) => description_hash(z),
            (None, None) => self.pay_entry(domain, name, &tagged).description_hash,
            (None, Some(pd)) => {
                pay::description_hash(&self.pay_entry(domain, name, &tagged).metadata, Some(pd))
            }
        };
        let is_zap = zap.is_some();
        let record = self
            .record(
                &account.id,
                NewInvoice {
                    amount,
                    description_hash,
                    expiry_secs: self.expiry_secs,
                    comment,
                    tag: tagged.tag.clone(),
                    payer_data,
                    zap_request: zap.map(|z| z.raw),
                },
            )
            .await?;
        tracing::info!(account = %account.id, payment_hash = %record.payment_hash, amount_msat = amount.msat(), zap = is_zap, "invoice issued");
        Ok(IssuedInvoice {
            bolt11: record.bolt11,
            payment_hash: record.payment_hash,
            address: account.address(),
        })
    }
}

/// Checks the callback's `nostr` parameter (still percent-encoded) for a zap of `amount` msat.
fn check_zap(
    domain: &Domain,
    account: &Account,
    raw: &str,
    amount: u64,
) -> Result<ZapRequest, Refusal> {
    if super::zap_pubkey(domain, account).is_none() {
        return Err(Refusal::Zap(ZapRequestError::NotAccepted));
    }
    let recipient = account
        .nostr_pubkey
        .as_ref()
        .ok_or(Refusal::Zap(ZapRequestError::NotAccepted))?;
    nip57::check_param(raw, amount, recipient.as_hex()).map_err(Refusal::Zap)
}

/// NIP-57: the description hash of a zap invoice is sha256 of the zap request exactly as received.
fn description_hash(zap: &ZapRequest) -> [u8; 32] {
    Sha256::digest(zap.raw.as_bytes()).into()
}
