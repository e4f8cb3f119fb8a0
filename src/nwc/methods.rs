//! The NIP-47 methods, run for one connection: `get_info`, `get_balance`, `make_invoice`,
//! `pay_invoice`, `lookup_invoice`, `list_transactions`. Each answers the `result` object or a
//! NIP-47 error; nothing here knows about events, relays or encryption.

use std::str::FromStr;
use std::sync::Arc;

use lightning_invoice::Bolt11Invoice;
use serde_json::{Value, json};

use super::budget::period_start;
use super::nip47::{ErrorCode, NOTIFICATIONS, NwcError};
use super::spend::{SpendError, SpendOutcome, SpendRequest, Spender};
use super::transactions;
use crate::config::Settings;
use crate::invoices::{AccountInvoices, WalletInvoice};
use crate::lightning::LightningNode;
use crate::services::ServiceError;
use crate::store::{BudgetOutcome, NwcConnection, Store, StoreError};
use crate::types::{Msat, PaymentHash, unix_now};

/// What the methods work with.
#[derive(Clone)]
pub struct Methods {
    pub store: Arc<dyn Store>,
    pub node: Arc<dyn LightningNode>,
    /// The fee reserve (`[withdraw]`), the request rate (`[nwc]`, `[limits]`).
    pub settings: Arc<Settings>,
    pub invoices: Arc<dyn AccountInvoices>,
    pub spender: Arc<dyn Spender>,
}

fn internal(e: impl std::fmt::Display) -> NwcError {
    tracing::warn!(error = %e, "nwc request failed");
    NwcError::new(
        ErrorCode::Internal,
        "the wallet is unavailable, try again later",
    )
}

fn store_err(e: StoreError) -> NwcError {
    internal(e)
}

fn bad(message: impl Into<String>) -> NwcError {
    NwcError::new(ErrorCode::Other, message)
}

fn param_u64(params: &Value, key: &str) -> Result<Option<u64>, NwcError> {
    match params.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| bad(format!("{key} must be a non-negative integer"))),
    }
}

fn param_str<'a>(params: &'a Value, key: &str) -> Result<Option<&'a str>, NwcError> {
    match params.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad(format!("{key} must be a string"))),
    }
}

impl Methods {
    /// Runs `method` for `conn` (already checked: live, method allowed). `key` is the request
    /// event id, the payment's idempotency key.
    pub async fn run(
        &self,
        conn: &NwcConnection,
        method: &str,
        params: &Value,
        key: &str,
    ) -> Result<Value, NwcError> {
        match method {
            "get_info" => self.get_info(conn).await,
            "get_balance" => self.get_balance(conn).await,
            "make_invoice" => self.make_invoice(conn, params).await,
            "pay_invoice" => self.pay_invoice(conn, params, key).await,
            "lookup_invoice" => self.lookup_invoice(conn, params).await,
            "list_transactions" => self.list_transactions(conn, params).await,
            _ => Err(NwcError::new(
                ErrorCode::NotImplemented,
                format!("{method} is not implemented"),
            )),
        }
    }

    async fn get_info(&self, conn: &NwcConnection) -> Result<Value, NwcError> {
        let node = &self.node;
        let network = match node.network().await.map_err(internal)? {
            bitcoin::Network::Bitcoin => "mainnet",
            bitcoin::Network::Testnet | bitcoin::Network::Testnet4 => "testnet",
            bitcoin::Network::Signet => "signet",
            _ => "regtest",
        };
        Ok(json!({
            "alias": "lnaddr",
            "pubkey": node.node_id(),
            "network": network,
            "methods": conn.methods,
            "notifications": NOTIFICATIONS,
        }))
    }

    async fn get_balance(&self, conn: &NwcConnection) -> Result<Value, NwcError> {
        let account = self
            .store
            .account(&conn.account_id)
            .await
            .map_err(store_err)?
            .ok_or_else(|| NwcError::new(ErrorCode::Unauthorized, "the account is gone"))?;
        Ok(json!({"balance": account.balance_msat.msat()}))
    }

    async fn make_invoice(&self, conn: &NwcConnection, params: &Value) -> Result<Value, NwcError> {
        let amount = param_u64(params, "amount")?
            .filter(|a| *a > 0)
            .ok_or_else(|| bad("amount (msat) is required"))?;
        let description = param_str(params, "description")?.map(str::to_string);
        let description_hash = match param_str(params, "description_hash")? {
            Some(h) => {
                let bytes = hex::decode(h)
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| bad("description_hash must be 32 bytes of hex"))?;
                Some(bytes)
            }
            None => None,
        };
        let expiry = param_u64(params, "expiry")?;
        let invoice = self
            .invoices
            .issue_for_wallet(
                &conn.account_id,
                WalletInvoice {
                    amount: Msat::from_msat(amount),
                    description,
                    description_hash,
                    expiry_secs: expiry,
                },
            )
            .await
            .map_err(|e| match e {
                ServiceError::Refused(reason) => bad(reason.to_string()),
                other => internal(other),
            })?;
        Ok(transactions::incoming(&invoice))
    }

    async fn pay_invoice(
        &self,
        conn: &NwcConnection,
        params: &Value,
        key: &str,
    ) -> Result<Value, NwcError> {
        let bolt11 = param_str(params, "invoice")?
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad("invoice is required"))?;
        let invoice = Bolt11Invoice::from_str(bolt11).map_err(|_| bad("invalid invoice"))?;
        let amount = match (
            invoice.amount_milli_satoshis(),
            param_u64(params, "amount")?,
        ) {
            (Some(a), _) => a,
            // A zero-amount invoice is paid the `amount` asked for (msat); the engine checks it.
            (None, Some(a)) => a,
            (None, None) => return Err(bad("the invoice has no amount")),
        };
        let amount = Msat::from_msat(amount);
        if conn.max_amount_msat.is_some_and(|max| amount > max) {
            return Err(NwcError::new(
                ErrorCode::QuotaExceeded,
                "the amount is above this connection's largest payment",
            ));
        }
        let fee_reserve = self.settings.withdraw.fee_reserve(amount);
        let hold = amount
            .checked_add(fee_reserve)
            .ok_or_else(|| bad("amount too large"))?;
        let period = period_start(conn.budget_renewal, unix_now());
        let store = &self.store;
        // Held for this request (the event id): a request run again after a restart finds its
        // hold and is counted once.
        match store
            .reserve_nwc_budget(&conn.id, key, hold, conn.budget_msat, period)
            .await
            .map_err(store_err)?
        {
            BudgetOutcome::Reserved { .. } => {}
            BudgetOutcome::QuotaExceeded => {
                return Err(NwcError::new(
                    ErrorCode::QuotaExceeded,
                    "this connection's budget does not cover the payment",
                ));
            }
            BudgetOutcome::Refused => {
                return Err(NwcError::new(
                    ErrorCode::Unauthorized,
                    "this connection was revoked",
                ));
            }
        }
        let hash = PaymentHash(*invoice.payment_hash().as_ref());
        let request = SpendRequest {
            account_id: conn.account_id.clone(),
            bolt11: bolt11.to_string(),
            payment_hash: hash,
            amount,
            idempotency_key: key.to_string(),
        };
        let outcome = self.spender.pay(request).await;
        // The budget keeps what was spent and the rest goes back (all of it when nothing was);
        // a payment still in flight keeps its hold until the request runs again.
        let spent = match &outcome {
            Ok(SpendOutcome::Paid { fee, .. }) => Some(amount.checked_add(*fee).unwrap_or(hold)),
            Ok(SpendOutcome::Pending) => None,
            Ok(SpendOutcome::Failed(_)) | Err(_) => Some(Msat::ZERO),
        };
        if let Some(spent) = spent
            && let Err(e) = store.settle_nwc_budget(&conn.id, key, spent).await
        {
            tracing::warn!(error = %e, wallet_pubkey = %conn.id, "cannot give budget back");
        }
        match outcome {
            Ok(SpendOutcome::Paid { fee, preimage }) => {
                tracing::info!(account = %conn.account_id, payment_hash = %hash, amount_msat = amount.msat(), "nwc payment sent");
                Ok(json!({
                    "preimage": preimage.unwrap_or_default(),
                    "fees_paid": fee.msat(),
                }))
            }
            Ok(SpendOutcome::Failed(reason)) => {
                Err(NwcError::new(ErrorCode::PaymentFailed, reason))
            }
            Ok(SpendOutcome::Pending) => Err(NwcError::new(
                ErrorCode::Internal,
                "the payment is still in flight",
            )),
            Err(SpendError::InsufficientBalance) => Err(NwcError::new(
                ErrorCode::InsufficientBalance,
                "the balance does not cover the amount and the fee reserve",
            )),
            Err(SpendError::Refused(reason)) => {
                Err(NwcError::new(ErrorCode::PaymentFailed, reason))
            }
            Err(SpendError::Unavailable(e)) => Err(internal(e)),
        }
    }

    async fn lookup_invoice(
        &self,
        conn: &NwcConnection,
        params: &Value,
    ) -> Result<Value, NwcError> {
        let hash = match (
            param_str(params, "payment_hash")?,
            param_str(params, "invoice")?,
        ) {
            (Some(h), _) => PaymentHash::from_str(h).map_err(|_| bad("invalid payment_hash"))?,
            (None, Some(i)) => {
                let inv = Bolt11Invoice::from_str(i.trim()).map_err(|_| bad("invalid invoice"))?;
                PaymentHash(*inv.payment_hash().as_ref())
            }
            (None, None) => return Err(bad("payment_hash or invoice is required")),
        };
        transactions::lookup(self.store.as_ref(), &conn.account_id, &hash)
            .await
            .map_err(store_err)?
            .ok_or_else(|| NwcError::new(ErrorCode::NotFound, "no such invoice or payment"))
    }

    async fn list_transactions(
        &self,
        conn: &NwcConnection,
        params: &Value,
    ) -> Result<Value, NwcError> {
        let query = transactions::Query {
            from: param_u64(params, "from")?.unwrap_or(0),
            until: param_u64(params, "until")?.unwrap_or(u64::MAX),
            limit: param_u64(params, "limit")?,
            offset: param_u64(params, "offset")?.unwrap_or(0),
            kind: match param_str(params, "type")? {
                None => None,
                Some("incoming") => Some(true),
                Some("outgoing") => Some(false),
                Some(_) => return Err(bad("type must be incoming or outgoing")),
            },
        };
        let list = transactions::list(self.store.as_ref(), &conn.account_id, &query)
            .await
            .map_err(store_err)?;
        Ok(json!({"transactions": list}))
    }
}
