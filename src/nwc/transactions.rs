//! NIP-47 transaction objects (`make_invoice`, `lookup_invoice`, `list_transactions` and the
//! notifications) from the ledger: incoming ones from the invoices this gateway issued, with
//! `metadata` carrying the LUD-12 `comment`, the LUD-18 `payer_data` and the NIP-57 zap request
//! (`nostr`, as Alby Hub names it); outgoing ones from the account's payments.

use serde_json::{Map, Value, json};

use crate::events::{Received, Sent};
use crate::store::withdraw::INTERNAL_PREIMAGE;
use crate::store::{AccountId, InvoiceRecord, Payment, PaymentStatus, Store, StoreError, TxKind};
use crate::types::{PaymentHash, unix_now};

/// Default page size of `list_transactions`.
const DEFAULT_LIMIT: u64 = 50;
/// Largest page.
const MAX_LIMIT: u64 = 200;
/// How far back in the ledger a filtered listing looks.
const MAX_SCAN: usize = 5_000;

/// `list_transactions` parameters.
#[derive(Debug, Clone)]
pub struct Query {
    pub from: u64,
    pub until: u64,
    pub limit: Option<u64>,
    pub offset: u64,
    /// `Some(true)`: incoming only; `Some(false)`: outgoing only.
    pub kind: Option<bool>,
}

fn metadata(
    comment: Option<&str>,
    payer_data: Option<&str>,
    zap_request: Option<&str>,
) -> Option<Value> {
    let mut m = Map::new();
    if let Some(c) = comment {
        m.insert("comment".into(), Value::String(c.to_string()));
    }
    // Both were checked to be JSON when they were accepted; kept as text if not.
    let parsed = |s: &str| serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.into()));
    if let Some(p) = payer_data {
        m.insert("payer_data".into(), parsed(p));
    }
    if let Some(z) = zap_request {
        m.insert("nostr".into(), parsed(z));
    }
    (!m.is_empty()).then_some(Value::Object(m))
}

fn real_preimage(hex_preimage: &str) -> Option<String> {
    (hex_preimage != hex::encode(INTERNAL_PREIMAGE)).then(|| hex_preimage.to_string())
}

/// An invoice of the account.
pub fn incoming(inv: &InvoiceRecord) -> Value {
    let state = match &inv.settled {
        Some(_) => "settled",
        None if unix_now() >= inv.expires_at => "expired",
        None => "pending",
    };
    let mut v = json!({
        "type": "incoming",
        "state": state,
        "invoice": inv.bolt11,
        "payment_hash": inv.payment_hash.to_string(),
        "amount": inv.settled.as_ref().map_or(inv.amount_msat.msat(), |s| s.amount_paid_msat.msat()),
        "fees_paid": 0,
        "created_at": inv.created_at,
        "expires_at": inv.expires_at,
    });
    if let Some(c) = &inv.comment {
        v["description"] = Value::String(c.clone());
    }
    if let Some(s) = &inv.settled {
        v["settled_at"] = json!(s.settled_at);
        if let Some(p) = real_preimage(&s.preimage) {
            v["preimage"] = Value::String(p);
        }
    }
    if let Some(m) = metadata(
        inv.comment.as_deref(),
        inv.payer_data.as_deref(),
        inv.zap_request.as_deref(),
    ) {
        v["metadata"] = m;
    }
    v
}

/// A payment from the account.
pub fn outgoing(p: &Payment) -> Value {
    let state = match p.status {
        PaymentStatus::Pending => "pending",
        PaymentStatus::Succeeded => "settled",
        PaymentStatus::Failed => "failed",
    };
    let mut v = json!({
        "type": "outgoing",
        "state": state,
        "invoice": p.bolt11,
        "payment_hash": p.payment_hash.to_string(),
        "amount": p.amount_msat.msat(),
        "fees_paid": p.fee_msat.msat(),
        "created_at": p.created_at,
    });
    if p.status == PaymentStatus::Succeeded
        && let Some(at) = p.finished_at
    {
        v["settled_at"] = json!(at);
    }
    v
}

/// The `payment_received` notification body.
pub fn received(r: &Received) -> Value {
    let mut v = json!({
        "type": "incoming",
        "state": "settled",
        "invoice": r.bolt11,
        "preimage": real_preimage(&r.preimage).unwrap_or_default(),
        "payment_hash": r.payment_hash.to_string(),
        "amount": r.amount_msat.msat(),
        "fees_paid": 0,
        "created_at": r.created_at,
        "expires_at": r.expires_at,
        "settled_at": r.settled_at,
    });
    if let Some(c) = &r.comment {
        v["description"] = Value::String(c.clone());
    }
    if let Some(m) = metadata(
        r.comment.as_deref(),
        r.payer_data.as_deref(),
        r.zap_request.as_deref(),
    ) {
        v["metadata"] = m;
    }
    v
}

/// The `payment_sent` notification body.
pub fn sent(s: &Sent) -> Value {
    json!({
        "type": "outgoing",
        "state": "settled",
        "invoice": s.bolt11,
        "preimage": s.preimage.clone().unwrap_or_default(),
        "payment_hash": s.payment_hash.to_string(),
        "amount": s.amount_msat.msat(),
        "fees_paid": s.fee_msat.msat(),
        "created_at": s.created_at,
        "settled_at": s.settled_at,
    })
}

/// The invoice or payment with `hash`, only when it is the account's.
pub async fn lookup(
    store: &dyn Store,
    account: &AccountId,
    hash: &PaymentHash,
) -> Result<Option<Value>, StoreError> {
    if let Some(inv) = store.invoice(hash).await?
        && inv.account_id == *account
    {
        return Ok(Some(incoming(&inv)));
    }
    if let Some(p) = store.withdrawal(hash).await?
        && p.account_id == *account
    {
        return Ok(Some(outgoing(&p)));
    }
    Ok(None)
}

/// A page of the account's ledger, newest first, as NIP-47 transactions.
pub async fn list(
    store: &dyn Store,
    account: &AccountId,
    q: &Query,
) -> Result<Vec<Value>, StoreError> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).min(MAX_LIMIT);
    let offset = usize::try_from(q.offset).unwrap_or(usize::MAX);
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let filtered = q.from > 0 || q.until != u64::MAX || q.kind.is_some();
    let scan = if filtered {
        MAX_SCAN
    } else {
        offset.saturating_add(limit).min(MAX_SCAN)
    };
    let ledger = store.transactions(account, scan).await?;
    let page: Vec<_> = ledger
        .into_iter()
        .filter(|t| t.created_at >= q.from && t.created_at <= q.until)
        .filter(|t| match q.kind {
            Some(incoming) => (t.kind == TxKind::Credit) == incoming,
            None => true,
        })
        .skip(offset)
        .take(limit)
        .collect();
    let mut out = Vec::with_capacity(page.len());
    for t in page {
        let detail = match t.kind {
            TxKind::Credit => store.invoice(&t.payment_hash).await?.map(|i| incoming(&i)),
            TxKind::Debit => store
                .withdrawal(&t.payment_hash)
                .await?
                .map(|p| outgoing(&p)),
        };
        out.push(detail.unwrap_or_else(|| {
            json!({
                "type": if t.kind == TxKind::Credit { "incoming" } else { "outgoing" },
                "payment_hash": t.payment_hash.to_string(),
                "amount": t.amount_msat.msat(),
                "fees_paid": t.fee_msat.msat(),
                "created_at": t.created_at,
            })
        }));
    }
    Ok(out)
}
