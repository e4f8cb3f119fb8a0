//! Admin API for the fake node's test controls (admin token only): `POST /api/v1/fake/pay`
//! settles one of its invoices as if the network paid it, `POST /api/v1/fake/fail-next-payments`
//! makes the next outgoing payments fail. With another node in use both answer 404. The controls
//! are the admin router's ([`FakeControls`]), not the gateway's.

use hyper::StatusCode;
use serde::Deserialize;

use super::{Answer, json, parse};
use crate::lightning::fake::FakeControls;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FakePay {
    invoice: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FailNext {
    count: u64,
}

/// `POST /api/v1/fake/pay {"invoice": BOLT11}`
pub async fn pay(fake: &FakeControls, body: &[u8]) -> Answer {
    let req: FakePay = parse(body)?;
    let hash = fake.pay(&req.invoice).await?;
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({"status": "OK", "payment_hash": hash}),
    ))
}

/// `POST /api/v1/fake/fail-next-payments {"count": N}`
pub fn fail_next(fake: &FakeControls, body: &[u8]) -> Answer {
    let req: FailNext = parse(body)?;
    fake.fail_next_payments(req.count)?;
    Ok(json(
        StatusCode::OK,
        &serde_json::json!({"status": "OK", "count": req.count}),
    ))
}
