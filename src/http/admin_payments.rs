//! Admin API of the payment engine: pay a BOLT 11 invoice from an account
//! (`POST /api/v1/accounts/{address}/payments`), and show one payment (`GET /api/v1/payments/{hash}`).
//! The call waits up to [`WAIT`] for a final state: 200 with the payment once final
//! (`succeeded` with the real fee and, through the node, the preimage; or `failed`, refunded),
//! 202 with `status: "pending"` while it is still in flight (ask again with the GET).

use std::time::Duration;

use hyper::StatusCode;
use serde::{Deserialize, Serialize};

use super::{Answer, json, parse};
use crate::gateway::{Error, Gateway};
use crate::payments::{Payment, PaymentStatus};
use crate::types::Msat;

/// How long the call waits for a final state.
pub const WAIT: Duration = Duration::from_secs(30);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PayBody {
    invoice: String,
    amount_msat: Option<u64>,
    idempotency_key: Option<String>,
    memo: Option<String>,
}

/// A payment as the admin API shows it.
#[derive(Serialize)]
pub struct PaymentView {
    pub payment_hash: String,
    pub status: &'static str,
    pub amount_msat: u64,
    pub fee_msat: u64,
    /// Reserved for fees while pending.
    pub fee_reserve_msat: u64,
    pub preimage: Option<String>,
    pub internal: bool,
    pub failure: Option<String>,
    pub created_at: u64,
    pub finished_at: Option<u64>,
}

impl PaymentView {
    pub fn new(p: &Payment) -> Self {
        PaymentView {
            payment_hash: p.payment_hash.to_string(),
            status: match p.status {
                PaymentStatus::Pending => "pending",
                PaymentStatus::Succeeded => "succeeded",
                PaymentStatus::Failed => "failed",
            },
            amount_msat: p.amount_msat.msat(),
            fee_msat: p.fee_msat.msat(),
            fee_reserve_msat: p.fee_reserve_msat.msat(),
            preimage: p.preimage.clone(),
            internal: p.internal,
            failure: p.failure.clone(),
            created_at: p.created_at,
            finished_at: p.finished_at,
        }
    }
}

pub async fn pay(gw: &Gateway, address: &str, body: &[u8]) -> Answer {
    let req: PayBody = parse(body)?;
    let payment = gw
        .pay_from(
            &super::address(address)?,
            &req.invoice,
            req.amount_msat.map(Msat::from_msat),
            req.idempotency_key,
            req.memo,
            WAIT,
        )
        .await?;
    let status = match payment.status {
        PaymentStatus::Pending => StatusCode::ACCEPTED,
        _ => StatusCode::OK,
    };
    Ok(json(status, &PaymentView::new(&payment)))
}

pub async fn one(gw: &Gateway, hash: &str) -> Answer {
    let hash = hash.parse().map_err(|_| Error::UnknownPayment)?;
    let payment = gw.payment(&hash).await?;
    Ok(json(StatusCode::OK, &PaymentView::new(&payment)))
}
