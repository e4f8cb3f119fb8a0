//! `GET /api/v1/zap-receipts[?domain=D][&status=pending|sent|failed]` on the admin listener: the
//! zap receipt outbox (NIP-57 appendix E), paid zaps newest first with their receipts' progress,
//! for the operator console.

use hyper::StatusCode;

use super::{Answer, json, query_param};
use crate::gateway::{Error, Gateway, Refusal};
use crate::store::ReceiptStatus;

/// How many recent ledger entries of each account are looked at.
const PER_ACCOUNT: usize = 200;

pub async fn list(gw: &Gateway, query: Option<&str>) -> Answer {
    let domain = match query_param(query, "domain") {
        Some(d) => Some(gw.domain_named(&d.to_ascii_lowercase())?.name.clone()),
        None => None,
    };
    let status = match query_param(query, "status").as_deref() {
        None | Some("") => None,
        Some("pending") => Some(ReceiptStatus::Pending),
        Some("sent") => Some(ReceiptStatus::Sent),
        Some("failed") => Some(ReceiptStatus::Failed),
        Some(_) => {
            return Err(Error::from(Refusal::BadReceiptStatus).into());
        }
    };
    let mut entries = gw.zap_outbox(domain.as_ref(), PER_ACCOUNT).await?;
    if let Some(status) = status {
        entries.retain(|e| e.receipt.as_ref().is_some_and(|r| r.status == status));
    }
    Ok(json(StatusCode::OK, &entries))
}
