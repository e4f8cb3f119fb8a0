//! LUD-01 bech32 LNURLs: decoding garbage never panics, and encoding round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lnaddr::lnurl::encode::{decode, encode};

fuzz_target!(|data: &str| {
    let _ = decode(data);
    if let Ok(lnurl) = encode(data) {
        assert_eq!(decode(&lnurl).ok().as_deref(), Some(data));
    }
});
