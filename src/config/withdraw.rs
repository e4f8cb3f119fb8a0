//! `[withdraw]`: LNURL-withdraw (LUD-03) payments: the fee reserve held back from each withdrawal
//! and how long the node may look for a route.

use serde::Deserialize;

use super::check_range;
use crate::types::Msat;

/// `[withdraw]`: LNURL-withdraw (LUD-03) payments.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWithdraw {
    /// Fee reserve in parts per million of the amount (10000 = 1%).
    pub fee_reserve_ppm: Option<u64>,
    /// The fee reserve is never below this.
    pub min_fee_reserve_msat: Option<u64>,
    /// How long the node may look for a route.
    pub payment_timeout_secs: Option<u32>,
}

/// Withdrawals reserve `amount + max(min_fee_reserve, amount * fee_reserve_ppm / 1e6)` (rounded
/// up) and pay with that reserve as the node's fee limit (the math: `crate::withdraw::fees`).
#[derive(Debug, Clone)]
pub struct WithdrawSettings {
    pub fee_reserve_ppm: u64,
    pub min_fee_reserve: Msat,
    pub payment_timeout_secs: u32,
}

pub fn withdraw_settings(raw: RawWithdraw, problems: &mut Vec<String>) -> WithdrawSettings {
    let withdraw = WithdrawSettings {
        fee_reserve_ppm: raw.fee_reserve_ppm.unwrap_or(10_000),
        min_fee_reserve: Msat::from_msat(raw.min_fee_reserve_msat.unwrap_or(10_000)),
        payment_timeout_secs: raw.payment_timeout_secs.unwrap_or(60),
    };
    if withdraw.fee_reserve_ppm > 1_000_000 {
        problems.push("withdraw.fee_reserve_ppm must be at most 1000000 (100%)".into());
    }
    check_range(
        problems,
        "withdraw.payment_timeout_secs",
        u64::from(withdraw.payment_timeout_secs),
        1..=3600,
    );
    withdraw
}
