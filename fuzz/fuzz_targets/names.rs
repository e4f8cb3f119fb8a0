//! Usernames, tagged names, domains, addresses and nostr keys: never a panic, and whatever is
//! accepted parses again to the same value.
#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use lnaddr::types::{DomainName, LightningAddress, NostrPubkey, TaggedName, Username};

fuzz_target!(|data: &str| {
    if let Ok(u) = Username::parse(data) {
        assert_eq!(Username::parse(u.as_str()).ok(), Some(u));
    }
    if let Ok(t) = TaggedName::parse(data) {
        assert_eq!(TaggedName::parse(&t.to_string()).ok(), Some(t));
    }
    if let Ok(d) = DomainName::parse(data) {
        assert_eq!(DomainName::parse(d.as_str()).ok(), Some(d));
    }
    if let Ok(a) = LightningAddress::from_str(data) {
        assert_eq!(LightningAddress::from_str(&a.to_string()).ok(), Some(a));
    }
    let _ = NostrPubkey::parse(data);
});
