//! The LNURL-pay callback's parameters, as the HTTP layer parsed them, and the invoice it answers.

use crate::lnurl::pay;
use crate::refusal::Refusal;
use crate::types::{Msat, PaymentHash};

/// The callback parameters of LUD-06 (amount), LUD-12 (comment), LUD-18 (payerdata) and NIP-57
/// (nostr).
#[derive(Debug)]
pub struct CallbackParams {
    /// The amount as the caller parsed it ([`CallbackParams::parse_amount`]), or why it has
    /// none; the refusal is answered only once the address is known to exist.
    pub amount: Result<Msat, Refusal>,
    pub comment: Option<String>,
    pub payer_data: Option<String>,
    /// The zap request as it appears in the query, still percent-encoded: its exact bytes matter,
    /// and [`crate::nostr::nip57::check_param`] decides how to decode it.
    pub nostr: Option<String>,
}

impl CallbackParams {
    /// The LUD-06 `amount` query parameter: present, and a whole number of millisatoshis.
    pub fn parse_amount(raw: Option<&str>) -> Result<Msat, Refusal> {
        let raw = raw.ok_or(Refusal::MissingAmount)?;
        pay::parse_amount(raw)
            .map(Msat::from_msat)
            .ok_or(Refusal::AmountNotInteger)
    }
}

impl Default for CallbackParams {
    fn default() -> Self {
        CallbackParams {
            amount: Err(Refusal::MissingAmount),
            comment: None,
            payer_data: None,
            nostr: None,
        }
    }
}

/// An invoice issued by the callback.
#[derive(Debug)]
pub struct IssuedInvoice {
    pub bolt11: String,
    pub payment_hash: PaymentHash,
    pub address: String,
}
