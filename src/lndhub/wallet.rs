//! The wallet calls of an authenticated session: balance, node info, receiving (`addinvoice`
//! through the same invoice path as the LNURL-pay callback, so the settlement follower credits it),
//! the incoming invoices (LndHub ones and every Lightning Address payment and zap credited to the
//! account), paying through the payment engine ([`super::spend`]), outgoing payments, and decoding an invoice.

use std::collections::HashSet;
use std::time::Duration;

use bitcoin::hashes::Hash;
use lightning_invoice::{Bolt11Invoice, Bolt11InvoiceDescriptionRef};

use super::spend::{Outgoing, OutgoingStatus, SpendError};
use super::views::*;
use super::{Hub, HubError, Session};
use crate::invoices::CallbackParams;
use crate::store::{InvoiceRecord, TxKind};
use crate::types::{Msat, PaymentHash};

/// Most entries one list call answers.
pub const MAX_LIST: usize = 1000;

/// An amount as LndHub clients send it: a JSON number or a string of digits (BlueWallet sends
/// `amt + ''`). `None` when absent or `null`.
pub fn parse_sats(value: Option<&serde_json::Value>, name: &str) -> Result<Option<u64>, HubError> {
    let bad = || HubError::BadArguments(format!("{name} must be a whole number of satoshis"));
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Number(n)) => n.as_u64().map(Some).ok_or_else(bad),
        Some(serde_json::Value::String(s)) => {
            let s = s.trim();
            if s.is_empty() {
                return Ok(None);
            }
            if s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            s.parse().map(Some).map_err(|_| bad())
        }
        Some(_) => Err(bad()),
    }
}

fn sats_to_msat(sats: u64) -> Result<Msat, HubError> {
    Msat::from_sat(sats).ok_or_else(|| HubError::BadArguments("amount too large".into()))
}

impl From<SpendError> for HubError {
    fn from(e: SpendError) -> Self {
        match e {
            SpendError::InvalidInvoice(r) => HubError::InvalidInvoice(r),
            SpendError::InsufficientBalance => HubError::NotEnoughBalance,
            SpendError::AlreadyPaying => {
                HubError::BadArguments("this invoice is already being paid".into())
            }
            SpendError::Refused(r) => HubError::BadArguments(r),
            SpendError::Unavailable => HubError::Unavailable,
        }
    }
}

/// The description a wallet shows for an incoming invoice.
fn description(inv: &InvoiceRecord) -> String {
    match (&inv.comment, &inv.zap_request) {
        (Some(c), _) => c.clone(),
        (None, Some(_)) => "zap".into(),
        (None, None) => String::new(),
    }
}

fn user_invoice(inv: &InvoiceRecord) -> UserInvoice {
    let hash = inv.payment_hash.to_hex();
    let amt = match &inv.settled {
        Some(s) => s.amount_paid_msat.sat_floor(),
        None => inv.amount_msat.sat_floor(),
    };
    UserInvoice {
        r_hash: hash.clone(),
        payment_hash: hash,
        payment_request: inv.bolt11.clone(),
        pay_req: inv.bolt11.clone(),
        description: description(inv),
        timestamp: inv.created_at,
        kind: "user_invoice",
        expire_time: inv.expires_at.saturating_sub(inv.created_at),
        amt,
        ispaid: inv.settled.is_some(),
        keysend: false,
    }
}

/// LND's `DecodePayReq` fields of `bolt11`.
pub fn decode(bolt11: &str) -> Result<Decoded, HubError> {
    let inv: Bolt11Invoice = bolt11
        .trim()
        .parse()
        .map_err(|_| HubError::InvalidInvoice("not a BOLT 11 invoice".into()))?;
    let msat = inv.amount_milli_satoshis().unwrap_or(0);
    let (description, description_hash) = match inv.description() {
        Bolt11InvoiceDescriptionRef::Direct(d) => (d.to_string(), String::new()),
        Bolt11InvoiceDescriptionRef::Hash(h) => (String::new(), hex::encode(h.0.to_byte_array())),
    };
    Ok(Decoded {
        destination: inv.recover_payee_pub_key().to_string(),
        payment_hash: hex::encode(inv.payment_hash().to_byte_array()),
        num_satoshis: Msat::from_msat(msat).sat_floor().to_string(),
        num_msat: msat.to_string(),
        timestamp: inv.duration_since_epoch().as_secs().to_string(),
        expiry: inv.expiry_time().as_secs().to_string(),
        description,
        description_hash,
        fallback_addr: String::new(),
        cltv_expiry: inv.min_final_cltv_expiry_delta().to_string(),
        route_hints: Vec::new(),
        payment_addr: hex::encode(inv.payment_secret().0),
        features: serde_json::Map::new(),
    })
}

fn memo_of(bolt11: Option<&str>) -> String {
    bolt11
        .and_then(|b| decode(b).ok())
        .map(|d| d.description)
        .unwrap_or_default()
}

fn paid_invoice(o: &Outgoing) -> PaidInvoice {
    let hash = o.payment_hash.to_hex();
    PaidInvoice {
        r_hash: hash.clone(),
        payment_hash: hash,
        payment_preimage: o.preimage.map(hex::encode).unwrap_or_default(),
        kind: "paid_invoice",
        value: o.amount.saturating_add(o.fee).sat_ceil(),
        fee: o.fee.sat_ceil(),
        timestamp: o.created_at,
        memo: memo_of(o.bolt11.as_deref()),
        pay_req: o.bolt11.clone().unwrap_or_default(),
        status: match o.status {
            OutgoingStatus::Pending => "pending",
            OutgoingStatus::Succeeded => "paid",
            OutgoingStatus::Failed => "failed",
        },
        keysend: false,
    }
}

impl Hub {
    /// `GET /balance`: whole satoshis, rounded down.
    pub fn balance(&self, s: &Session) -> Balance {
        Balance {
            btc: BtcBalance {
                available_balance: s.account.balance_msat.sat_floor(),
            },
        }
    }

    /// `GET /getinfo`: the shared node's identity (BlueWallet checks `identity_pubkey`).
    pub async fn info(&self) -> Info {
        let (pubkey, synced) = match self.node.status().await {
            Ok(s) => (s.pubkey, s.synced),
            Err(_) => (self.node.node_id(), false),
        };
        let network = match self.node.network().await {
            Ok(n) => n.to_core_arg().to_string(),
            Err(_) => String::new(),
        };
        Info {
            identity_pubkey: pubkey,
            alias: "lnaddr".into(),
            num_active_channels: 0,
            num_peers: 0,
            block_height: 0,
            synced_to_chain: synced,
            testnet: network != "main",
            chains: vec![Chain {
                chain: "bitcoin",
                network,
            }],
            uris: Vec::new(),
            version: concat!("lnaddr ", env!("CARGO_PKG_VERSION")).into(),
        }
    }

    /// `POST /addinvoice`: an invoice of `amt` satoshis for the session's account, issued like an
    /// LNURL-pay callback (same checks, same record), with the memo as its comment.
    pub async fn add_invoice(
        &self,
        s: &Session,
        amt: Option<&serde_json::Value>,
        memo: Option<&str>,
    ) -> Result<AddedInvoice, HubError> {
        let sats = parse_sats(amt, "amt")?
            .filter(|a| *a > 0)
            .ok_or_else(|| HubError::BadArguments("amt must be at least 1 satoshi".into()))?;
        let msat = sats_to_msat(sats)?;
        let domain = self.domains.served(&s.account.domain)?;
        let issued = self
            .invoices
            .issue(
                &domain,
                &s.account.username,
                CallbackParams {
                    amount: Ok(msat),
                    comment: memo.map(str::to_string).filter(|m| !m.trim().is_empty()),
                    ..CallbackParams::default()
                },
            )
            .await?;
        self.store
            .note_lndhub_invoice(&s.account.id, &issued.payment_hash)
            .await?;
        let hash = issued.payment_hash.to_hex();
        Ok(AddedInvoice {
            r_hash: hash.clone(),
            payment_hash: hash,
            payment_request: issued.bolt11.clone(),
            pay_req: issued.bolt11,
            add_index: "0".into(),
        })
    }

    /// `GET /getuserinvoices`: the account's incoming invoices, newest first: those made by
    /// `addinvoice` (paid or not) and every payment credited to it (Lightning Address payments,
    /// zaps, payments from other accounts).
    pub async fn user_invoices(
        &self,
        s: &Session,
        limit: usize,
    ) -> Result<Vec<UserInvoice>, HubError> {
        let limit = limit.min(MAX_LIST);
        let store = &self.store;
        let mut hashes: Vec<PaymentHash> = store.lndhub_invoices(&s.account.id, limit).await?;
        hashes.extend(
            store
                .transactions(&s.account.id, limit.saturating_mul(2))
                .await?
                .into_iter()
                .filter(|t| t.kind == TxKind::Credit)
                .map(|t| t.payment_hash),
        );
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for hash in hashes {
            if !seen.insert(hash) {
                continue;
            }
            if let Some(inv) = store.invoice(&hash).await?
                && inv.account_id == s.account.id
            {
                out.push(user_invoice(&inv));
            }
        }
        out.sort_by_key(|i| std::cmp::Reverse(i.timestamp));
        out.truncate(limit);
        Ok(out)
    }

    /// `GET /gettxs`: the account's outgoing payments, newest first.
    pub async fn txs(
        &self,
        s: &Session,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<PaidInvoice>, HubError> {
        let list = self
            .outgoing(&s.account, limit.min(MAX_LIST), offset)
            .await?;
        Ok(list.iter().map(paid_invoice).collect())
    }

    /// `POST /payinvoice`: pays and waits up to `lndhub.payment_wait_secs`; a payment still in
    /// flight then is [`HubError::InFlight`] (HTTP 503, as BlueWallet expects).
    pub async fn pay(
        &self,
        s: &Session,
        invoice: Option<&str>,
        amount: Option<&serde_json::Value>,
    ) -> Result<PayAnswer, HubError> {
        let bolt11 = invoice
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .ok_or_else(|| HubError::BadArguments("missing invoice".into()))?;
        let decoded = decode(bolt11)?;
        let amount = match parse_sats(amount, "amount")? {
            Some(0) | None => None,
            Some(sats) => Some(sats_to_msat(sats)?),
        };
        let wait: Duration = self.settings.payment_wait;
        let paid = self.pay_from(&s.account, bolt11, amount, wait).await?;
        match paid.status {
            OutgoingStatus::Pending => return Err(HubError::InFlight),
            OutgoingStatus::Failed => {
                return Err(HubError::PaymentFailed(
                    paid.failure.unwrap_or_else(|| "no route".into()),
                ));
            }
            OutgoingStatus::Succeeded => {}
        }
        let hash = paid.payment_hash.to_hex();
        let total = paid.amount.saturating_add(paid.fee);
        Ok(PayAnswer {
            payment_error: String::new(),
            payment_preimage: paid.preimage.map(hex::encode).unwrap_or_default(),
            r_hash: hash.clone(),
            payment_hash: hash,
            pay_req: bolt11.to_string(),
            payment_request: bolt11.to_string(),
            fee_msat: paid.fee.msat(),
            fee: paid.fee.sat_ceil(),
            amount: paid.amount.sat_floor(),
            num_satoshis: paid.amount.sat_floor(),
            description: decoded.description.clone(),
            destination: decoded.destination.clone(),
            payment_route: PaymentRoute {
                total_amt: total.sat_ceil(),
                total_amt_msat: total.msat(),
                total_fees: paid.fee.sat_ceil(),
                total_fees_msat: paid.fee.msat(),
            },
            decoded,
        })
    }

    /// `GET /checkpayment/{hash}`: whether an invoice of the account was paid (or, for one of its
    /// outgoing payments, whether it succeeded). Another account's hash is not found.
    pub async fn check_payment(&self, s: &Session, hash: &str) -> Result<Paid, HubError> {
        let hash: PaymentHash = hash.parse().map_err(|_| HubError::NotFound)?;
        if let Some(inv) = self.store.invoice(&hash).await?
            && inv.account_id == s.account.id
        {
            return Ok(Paid {
                paid: inv.settled.is_some(),
            });
        }
        match self.outgoing_payment(&s.account, &hash).await? {
            Some(o) => Ok(Paid {
                paid: o.status == OutgoingStatus::Succeeded,
            }),
            None => Err(HubError::NotFound),
        }
    }
}
