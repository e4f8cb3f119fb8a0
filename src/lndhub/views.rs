//! The JSON shapes of the LndHub API, field for field as BlueWallet and Zeus read them (and as
//! BlueWallet's LndHub and lndhub.go write them): amounts in whole satoshis, hashes in hex.

use serde::Serialize;

/// `POST /auth` answer.
#[derive(Debug, Serialize)]
pub struct AuthAnswer {
    pub access_token: String,
    pub refresh_token: String,
}

/// `POST /create` answer.
#[derive(Debug, Serialize)]
pub struct CreateAnswer {
    pub login: String,
    pub password: String,
    /// The Lightning Address of the new account (an lnaddr extra).
    pub address: String,
}

/// `GET /balance` answer: `{"BTC":{"AvailableBalance":SATS}}`.
#[derive(Debug, Serialize)]
pub struct Balance {
    #[serde(rename = "BTC")]
    pub btc: BtcBalance,
}

#[derive(Debug, Serialize)]
pub struct BtcBalance {
    #[serde(rename = "AvailableBalance")]
    pub available_balance: u64,
}

/// `POST /addinvoice` answer.
#[derive(Debug, Serialize)]
pub struct AddedInvoice {
    pub r_hash: String,
    pub payment_hash: String,
    pub payment_request: String,
    pub pay_req: String,
    pub add_index: String,
}

/// One entry of `GET /getuserinvoices`.
#[derive(Debug, Serialize)]
pub struct UserInvoice {
    pub r_hash: String,
    pub payment_hash: String,
    pub payment_request: String,
    pub pay_req: String,
    pub description: String,
    pub timestamp: u64,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub expire_time: u64,
    /// Satoshis: what was paid once paid, else the invoice amount.
    pub amt: u64,
    pub ispaid: bool,
    pub keysend: bool,
}

/// One entry of `GET /gettxs`.
#[derive(Debug, Serialize)]
pub struct PaidInvoice {
    pub r_hash: String,
    pub payment_hash: String,
    pub payment_preimage: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Satoshis, the fee included (rounded up).
    pub value: u64,
    pub fee: u64,
    pub timestamp: u64,
    pub memo: String,
    pub pay_req: String,
    pub status: &'static str,
    pub keysend: bool,
}

/// `GET /decodeinvoice` answer: LND's `PayReq` field names (numbers as strings, as LND's JSON).
#[derive(Debug, Serialize)]
pub struct Decoded {
    pub destination: String,
    pub payment_hash: String,
    pub num_satoshis: String,
    pub num_msat: String,
    pub timestamp: String,
    pub expiry: String,
    pub description: String,
    pub description_hash: String,
    pub fallback_addr: String,
    pub cltv_expiry: String,
    pub route_hints: Vec<serde_json::Value>,
    pub payment_addr: String,
    pub features: serde_json::Map<String, serde_json::Value>,
}

/// `POST /payinvoice` answer: LND's `SendResponse` names plus lndhub's extras.
#[derive(Debug, Serialize)]
pub struct PayAnswer {
    pub payment_error: String,
    pub payment_preimage: String,
    pub payment_hash: String,
    pub r_hash: String,
    pub pay_req: String,
    pub payment_request: String,
    pub decoded: Decoded,
    pub fee_msat: u64,
    pub fee: u64,
    pub amount: u64,
    pub num_satoshis: u64,
    pub description: String,
    pub destination: String,
    pub payment_route: PaymentRoute,
}

#[derive(Debug, Serialize)]
pub struct PaymentRoute {
    pub total_amt: u64,
    pub total_amt_msat: u64,
    pub total_fees: u64,
    pub total_fees_msat: u64,
}

/// `GET /getinfo` answer: the fields of LND's `GetInfoResponse` that LndHub wallets read.
#[derive(Debug, Serialize)]
pub struct Info {
    pub identity_pubkey: String,
    pub alias: String,
    pub num_active_channels: u32,
    pub num_peers: u32,
    pub block_height: u32,
    pub synced_to_chain: bool,
    pub testnet: bool,
    pub chains: Vec<Chain>,
    pub uris: Vec<String>,
    pub version: String,
}

#[derive(Debug, Serialize)]
pub struct Chain {
    pub chain: &'static str,
    pub network: String,
}

/// `GET /checkpayment/{hash}` answer.
#[derive(Debug, Serialize)]
pub struct Paid {
    pub paid: bool,
}
