//! `[payments]`: how every process finishes the payments of others (see `docs/payments.md`), and
//! the spending limits of the payment engine.

use std::time::Duration;

use serde::Deserialize;

use super::check_range;
use crate::types::Msat;

/// `[payments]`: how every process finishes the payments of others (see `docs/payments.md`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPayments {
    /// A pending payment this old that no process holds is taken over by the sweep, and one the
    /// node never heard of is refunded.
    pub stale_after_secs: Option<u64>,
    /// How often each process sweeps the pending payments.
    pub sweep_interval_secs: Option<u64>,
    /// The largest single payment an account may make (unset: no limit but the balance).
    pub max_payment_msat: Option<u64>,
    /// What one account may spend through the engine in one UTC day (unset: no limit).
    pub account_daily_limit_msat: Option<u64>,
    /// What the accounts of one domain may spend together in one UTC day (unset: no limit).
    pub domain_daily_limit_msat: Option<u64>,
}

/// Every process sweeps the pending payments every `sweep_interval` and takes over (under a
/// lease) those older than `stale_after_secs` that no process is working on; one the node never
/// heard of is then refunded. So a reservation is paid or refunded within about
/// `stale_after_secs + sweep_interval`, whatever happened to the request that made it.
#[derive(Debug, Clone)]
pub struct PaymentSettings {
    pub stale_after_secs: u64,
    pub sweep_interval: Duration,
    /// The largest single payment from an account through the payment engine.
    pub max_payment: Option<Msat>,
    /// What one account may spend through the engine in one UTC day.
    pub account_daily_limit: Option<Msat>,
    /// What one domain's accounts may spend together through the engine in one UTC day.
    pub domain_daily_limit: Option<Msat>,
}

pub fn payment_settings(raw: RawPayments, problems: &mut Vec<String>) -> PaymentSettings {
    let payments = PaymentSettings {
        stale_after_secs: raw.stale_after_secs.unwrap_or(60),
        sweep_interval: Duration::from_secs(raw.sweep_interval_secs.unwrap_or(10)),
        max_payment: raw.max_payment_msat.map(Msat::from_msat),
        account_daily_limit: raw.account_daily_limit_msat.map(Msat::from_msat),
        domain_daily_limit: raw.domain_daily_limit_msat.map(Msat::from_msat),
    };
    check_range(
        problems,
        "payments.stale_after_secs",
        payments.stale_after_secs,
        1..=86_400,
    );
    check_range(
        problems,
        "payments.sweep_interval_secs",
        payments.sweep_interval.as_secs(),
        1..=3_600,
    );
    payments
}
