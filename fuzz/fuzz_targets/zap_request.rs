//! The `nostr` callback parameter as a stranger sends it (NIP-57 appendix D): percent-decoding,
//! JSON, event id and signature, tag checks. Never a panic, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lnaddr::nostr::nip57::check_param;

const RECIPIENT: &str = "3bf0c63fcb93463407af97a5e5ee64fa883d107ef9e558472c4eb9aaaefa459d";

fuzz_target!(|data: &str| {
    let _ = check_param(data, 21_000, RECIPIENT);
});
