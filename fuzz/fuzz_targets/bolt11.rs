//! BOLT 11 strings as a wallet or a withdraw callback hands them over: parsing never panics.
#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use lightning_invoice::Bolt11Invoice;

fuzz_target!(|data: &str| {
    if let Ok(invoice) = Bolt11Invoice::from_str(data) {
        let _ = invoice.amount_milli_satoshis();
        let _ = invoice.payment_hash();
        let _ = invoice.is_expired();
        let _ = invoice.recover_payee_pub_key();
    }
});
