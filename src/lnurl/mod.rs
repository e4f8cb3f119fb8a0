//! LNURL wire protocol, pure: response types for the LUDs we serve, metadata and description hashes,
//! bech32 LNURL encoding. No I/O here.
//!
//! - LUD-01 (bech32 encoding): [`encode()`]
//! - LUD-06 (payRequest), LUD-09 (successAction), LUD-12 (comments), LUD-16 (Lightning Address),
//!   LUD-18 (payerData), the `verify` URL: [`pay`]; the parts of those answers made once per
//!   address: [`pay_cache`]
//! - LUD-03 (withdrawRequest), LUD-17 (`lnurlw://`): [`withdraw`]

pub mod encode;
pub mod pay;
pub mod pay_cache;
pub mod withdraw;

pub use encode::{decode, encode};

use serde::Serialize;

/// The LNURL error body every endpoint answers with: `{"status":"ERROR","reason":...}` (LUD-06).
#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    pub status: &'static str,
    pub reason: &'a str,
}

impl<'a> ErrorBody<'a> {
    pub fn new(reason: &'a str) -> Self {
        ErrorBody {
            status: "ERROR",
            reason,
        }
    }
}
