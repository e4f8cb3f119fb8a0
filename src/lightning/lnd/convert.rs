//! Conversions between LND's wire types and ours, and the one mapping of gRPC statuses to
//! [`LightningError`]. LND returns most errors as plain Go errors, which gRPC sends with code
//! `Unknown` and the error text (a bad macaroon is `Unknown` "verification failed: ..." or
//! "expected 1 macaroon, got 0"; a locked wallet is `Unknown` "wallet locked, ..."), so the text is
//! read as well as the code.

use tonic::{Code, Status};

use super::proto::lnrpc;
use crate::lightning::Settlement;
use crate::lightning::{InvoiceState, LightningError, NodeInvoice};
use crate::types::{Msat, PaymentHash};

/// Texts of LND's macaroon checks (`macaroons/service.go`).
const AUTH_TEXTS: &[&str] = &[
    "macaroon",
    "verification failed",
    "permission denied",
    "root key with id",
    "packet too short",
];

/// Texts LND answers while it is not ready to serve (starting, locked wallet).
const NOT_READY_TEXTS: &[&str] = &[
    "wallet locked",
    "waiting to start",
    "not yet ready",
    "still in the process of starting",
    "rpc server is not active",
    "server is shutting down",
];

fn mentions(message: &str, texts: &[&str]) -> bool {
    let lower = message.to_ascii_lowercase();
    texts.iter().any(|t| lower.contains(t))
}

/// Whether LND refused our credentials.
pub fn is_auth_error(status: &Status) -> bool {
    match status.code() {
        Code::Unauthenticated | Code::PermissionDenied => true,
        Code::Unknown => mentions(status.message(), AUTH_TEXTS),
        _ => false,
    }
}

/// Maps a gRPC status from LND (or from the transport) to our error.
pub fn status_error(status: Status) -> LightningError {
    // A status built by the transport (connection refused, reset, TLS) carries its cause; one
    // decoded from LND's answer does not.
    let transport = std::error::Error::source(&status).is_some();
    match status.code() {
        _ if is_auth_error(&status) => LightningError::Unauthorized(status.message().to_string()),
        Code::Unavailable
        | Code::DeadlineExceeded
        | Code::Cancelled
        | Code::Aborted
        | Code::ResourceExhausted => LightningError::unavailable(status),
        _ if transport => LightningError::unavailable(status),
        Code::Unknown | Code::Internal if mentions(status.message(), NOT_READY_TEXTS) => {
            LightningError::unavailable(status)
        }
        _ => LightningError::Rejected(status.message().to_string()),
    }
}

fn hash32(bytes: &[u8], what: &str) -> Result<[u8; 32], LightningError> {
    bytes
        .try_into()
        .map_err(|_| LightningError::Protocol(format!("{what} is {} bytes", bytes.len())))
}

fn msat(value: i64, what: &str) -> Result<Msat, LightningError> {
    u64::try_from(value)
        .map(Msat::from_msat)
        .map_err(|_| LightningError::Protocol(format!("negative {what}")))
}

/// The node's view of one of its invoices.
pub fn node_invoice(invoice: &lnrpc::Invoice) -> Result<NodeInvoice, LightningError> {
    use lnrpc::invoice::InvoiceState as S;
    let state = match S::try_from(invoice.state) {
        Ok(S::Settled) => InvoiceState::Settled,
        Ok(S::Canceled) => InvoiceState::Canceled,
        // ACCEPTED is a hold invoice waiting for its preimage: not paid yet.
        Ok(S::Open) | Ok(S::Accepted) => InvoiceState::Open,
        Err(_) => {
            return Err(LightningError::Protocol(format!(
                "unknown invoice state {}",
                invoice.state
            )));
        }
    };
    let preimage = if state == InvoiceState::Settled {
        Some(hash32(&invoice.r_preimage, "r_preimage")?)
    } else {
        None
    };
    Ok(NodeInvoice {
        state,
        preimage,
        amount_paid: msat(invoice.amt_paid_msat, "amt_paid_msat")?,
        settle_index: invoice.settle_index,
    })
}

/// A settlement, when `invoice` is a SETTLED update; `None` for adds and other states.
pub fn settlement(invoice: &lnrpc::Invoice) -> Result<Option<Settlement>, LightningError> {
    if invoice.state != lnrpc::invoice::InvoiceState::Settled as i32 {
        return Ok(None);
    }
    Ok(Some(Settlement {
        payment_hash: PaymentHash(hash32(&invoice.r_hash, "r_hash")?),
        preimage: hash32(&invoice.r_preimage, "r_preimage")?,
        amount_paid_msat: msat(invoice.amt_paid_msat, "amt_paid_msat")?,
        settle_index: invoice.settle_index,
        settled_at: u64::try_from(invoice.settle_date).unwrap_or(0),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_errors() {
        let cases = [
            (Status::unavailable("down"), "unavailable"),
            (Status::deadline_exceeded("slow"), "unavailable"),
            (Status::unknown("expected 1 macaroon, got 0"), "auth"),
            (
                Status::unknown(
                    "verification failed: signature mismatch after caveat verification",
                ),
                "auth",
            ),
            (Status::permission_denied("no"), "auth"),
            (
                Status::unknown("wallet locked, unlock it to enable full RPC access"),
                "unavailable",
            ),
            (
                Status::unknown("description hash is 3 bytes, must be 32"),
                "rejected",
            ),
            (Status::invalid_argument("bad"), "rejected"),
        ];
        for (status, want) in cases {
            let got = match status_error(status) {
                LightningError::Unavailable(_) => "unavailable",
                LightningError::Unauthorized(_) => "auth",
                LightningError::Rejected(_) => "rejected",
                LightningError::Protocol(_) => "protocol",
            };
            assert_eq!(got, want);
        }
    }

    #[test]
    fn only_settled_updates_are_settlements() {
        let mut inv = lnrpc::Invoice {
            r_hash: vec![1; 32],
            r_preimage: vec![2; 32],
            amt_paid_msat: 5000,
            settle_index: 7,
            settle_date: 100,
            ..Default::default()
        };
        assert!(settlement(&inv).expect("open").is_none());
        inv.state = lnrpc::invoice::InvoiceState::Settled as i32;
        let s = settlement(&inv).expect("ok").expect("settled");
        assert_eq!(
            (s.settle_index, s.amount_paid_msat.msat(), s.settled_at),
            (7, 5000, 100)
        );
    }
}
