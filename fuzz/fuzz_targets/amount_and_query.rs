//! Amounts, query strings and path segments as wallets send them: never a panic, and an accepted
//! amount is exactly the decimal number written.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    if let Some(n) = lnaddr::lnurl::pay::parse_amount(data) {
        assert_eq!(data.parse::<u64>().ok(), Some(n));
    }
    for name in ["amount", "comment", "nostr", "payerdata", "name", "k1", "pr"] {
        let _ = lnaddr::http::query_param(Some(data), name);
    }
    let _ = lnaddr::http::segments(data);
    let _ = lnaddr::http::ratelimit::classify(data);
    let _ = lnaddr::http::request_log::is_safe_id(data);
});
