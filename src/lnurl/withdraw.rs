//! LUD-03 `withdrawRequest`, pure: the wire types, and the checks on the BOLT 11 invoice a wallet
//! hands to the callback (amount present and within the link's bounds, the node's network, not
//! expired). LUD-17: the `lnurlw://` form of the link URL. No I/O here.

use std::time::Duration;

use bitcoin::hashes::Hash;
use lightning_invoice::{Bolt11Invoice, Currency};
use serde::Serialize;

use crate::types::{Msat, PaymentHash};

/// `GET /lnurlw/{k1}` answer (LUD-03 §2).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WithdrawRequest<'a> {
    pub tag: &'static str,
    pub callback: String,
    pub k1: &'a str,
    pub default_description: &'a str,
    pub min_withdrawable: u64,
    pub max_withdrawable: u64,
}

/// `{"status":"OK"}` (LUD-03 §3: the service answers once it has started paying).
#[derive(Debug, Serialize)]
pub struct Ok {
    pub status: &'static str,
}

pub const OK: Ok = Ok { status: "OK" };

/// A wallet's invoice that passed [`check_invoice`].
#[derive(Debug, Clone)]
pub struct CheckedInvoice {
    pub payment_hash: PaymentHash,
    pub amount: Msat,
}

/// Why a wallet's invoice is refused; the text is the public reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvoiceProblem {
    #[error("pr is not a valid BOLT 11 invoice")]
    Invalid,
    #[error("the invoice must name an amount")]
    NoAmount,
    #[error("the invoice amount must be between {min} and {max} millisatoshis")]
    OutOfRange { min: u64, max: u64 },
    #[error("the invoice is for another network")]
    WrongNetwork,
    #[error("the invoice has expired")]
    Expired,
}

/// Checks the invoice `pr` against the link's bounds, the node's network and the time `now`
/// (unix seconds).
pub fn check_invoice(
    pr: &str,
    min: Msat,
    max: Msat,
    network: bitcoin::Network,
    now: u64,
) -> Result<CheckedInvoice, InvoiceProblem> {
    let invoice: Bolt11Invoice = pr.trim().parse().map_err(|_| InvoiceProblem::Invalid)?;
    if invoice.currency() != Currency::from(network) {
        return Err(InvoiceProblem::WrongNetwork);
    }
    let amount = invoice
        .amount_milli_satoshis()
        .ok_or(InvoiceProblem::NoAmount)?;
    if amount < min.msat() || amount > max.msat() {
        return Err(InvoiceProblem::OutOfRange {
            min: min.msat(),
            max: max.msat(),
        });
    }
    let expires = invoice
        .duration_since_epoch()
        .checked_add(invoice.expiry_time())
        .unwrap_or(Duration::MAX);
    if Duration::from_secs(now) >= expires {
        return Err(InvoiceProblem::Expired);
    }
    Ok(CheckedInvoice {
        payment_hash: PaymentHash(invoice.payment_hash().to_byte_array()),
        amount: Msat::from_msat(amount),
    })
}

/// LUD-17: the link URL with the `lnurlw://` scheme in place of `https://` (or `http://`, which
/// LUD-17 means for onion hosts; a wallet reads `lnurlw://` back as `https://` for any other host,
/// so on a plain-http test domain only the bech32 LNURL works).
pub fn lnurlw_url(url: &str) -> String {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .unwrap_or(url);
    format!("lnurlw://{rest}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitcoin::hashes::sha256;
    use bitcoin::secp256k1::{Secp256k1, SecretKey};
    use lightning_invoice::{InvoiceBuilder, PaymentSecret};

    fn invoice(currency: Currency, amount: Option<u64>, at: u64, expiry: u64) -> String {
        let key = SecretKey::from_slice(&[7u8; 32]).expect("key");
        let mut b = InvoiceBuilder::new(currency)
            .description("test".into())
            .payment_hash(sha256::Hash::from_byte_array([1u8; 32]))
            .payment_secret(PaymentSecret([2u8; 32]))
            .duration_since_epoch(Duration::from_secs(at))
            .min_final_cltv_expiry_delta(18)
            .expiry_time(Duration::from_secs(expiry));
        if let Some(a) = amount {
            b = b.amount_milli_satoshis(a);
        }
        let secp = Secp256k1::signing_only();
        b.build_signed(|m| secp.sign_ecdsa_recoverable(m, &key))
            .expect("signed")
            .to_string()
    }

    #[test]
    fn invoice_checks() {
        let now = 1_700_000_000;
        let net = bitcoin::Network::Regtest;
        let (min, max) = (Msat::from_msat(1_000), Msat::from_msat(10_000));
        let good = invoice(Currency::Regtest, Some(5_000), now, 600);
        let ok = check_invoice(&good, min, max, net, now).expect("valid");
        assert_eq!(ok.amount, Msat::from_msat(5_000));
        assert_eq!(ok.payment_hash, PaymentHash([1u8; 32]));
        let cases = [
            ("garbage".to_string(), InvoiceProblem::Invalid),
            (
                invoice(Currency::Bitcoin, Some(5_000), now, 600),
                InvoiceProblem::WrongNetwork,
            ),
            (
                invoice(Currency::Regtest, None, now, 600),
                InvoiceProblem::NoAmount,
            ),
            (
                invoice(Currency::Regtest, Some(10_001), now, 600),
                InvoiceProblem::OutOfRange {
                    min: 1_000,
                    max: 10_000,
                },
            ),
            (
                invoice(Currency::Regtest, Some(999), now, 600),
                InvoiceProblem::OutOfRange {
                    min: 1_000,
                    max: 10_000,
                },
            ),
            (
                invoice(Currency::Regtest, Some(5_000), now - 700, 600),
                InvoiceProblem::Expired,
            ),
        ];
        for (pr, want) in cases {
            assert_eq!(check_invoice(&pr, min, max, net, now).err(), Some(want));
        }
    }

    #[test]
    fn lud17_scheme() {
        assert_eq!(
            lnurlw_url("https://example.com/lnurlw/ab"),
            "lnurlw://example.com/lnurlw/ab"
        );
        assert_eq!(
            lnurlw_url("http://127.0.0.1:8080/lnurlw/ab"),
            "lnurlw://127.0.0.1:8080/lnurlw/ab"
        );
    }
}
