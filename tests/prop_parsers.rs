//! Property tests for everything that parses input from strangers: amounts, query strings and path
//! segments, usernames, addresses and domains, bech32 LNURLs and BOLT 11 strings. Each parser must
//! never panic on garbage, and must round-trip what it accepts. Case counts stay modest so the
//! suite stays fast; the `fuzz/` targets explore the same parsers without limit.

use std::str::FromStr;
use std::time::Duration;

use bitcoin::hashes::{Hash, sha256};
use bitcoin::secp256k1::{Secp256k1, SecretKey};
use lightning_invoice::{Bolt11Invoice, Currency, InvoiceBuilder, PaymentSecret};
use lnaddr::http::{query_param, segments};
use lnaddr::lnurl::encode::{decode, encode};
use lnaddr::lnurl::pay::parse_amount;
use lnaddr::types::{DomainName, LightningAddress, NostrPubkey, TaggedName, Username};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A real, signed BOLT 11 invoice to mutate.
fn valid_invoice() -> String {
    let key = SecretKey::from_slice(&[0x11; 32]).expect("key");
    let secp = Secp256k1::new();
    InvoiceBuilder::new(Currency::Regtest)
        .amount_milli_satoshis(21_000)
        .description_hash(sha256::Hash::from_byte_array([7; 32]))
        .payment_hash(sha256::Hash::from_byte_array([9; 32]))
        .payment_secret(PaymentSecret([42; 32]))
        .duration_since_epoch(Duration::from_secs(1_700_000_000))
        .min_final_cltv_expiry_delta(80)
        .build_signed(|msg| secp.sign_ecdsa_recoverable(msg, &key))
        .expect("invoice")
        .to_string()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn amounts_parse_exactly_the_decimal_u64s(raw in ".{0,30}", n in any::<u64>()) {
        let parsed = parse_amount(&raw);
        if let Some(v) = parsed {
            prop_assert!(raw.bytes().all(|b| b.is_ascii_digit()));
            prop_assert_eq!(raw.parse::<u64>().ok(), Some(v));
        }
        prop_assert_eq!(parse_amount(&n.to_string()), Some(n));
        prop_assert_eq!(parse_amount(&format!("+{n}")), None);
        prop_assert_eq!(parse_amount(&format!("-{n}")), None);
        prop_assert_eq!(parse_amount(&format!("{n} ")), None);
    }

    #[test]
    fn query_params_round_trip(key in "[a-z]{1,10}", value in ".{0,60}", junk in ".{0,80}") {
        let _ = query_param(Some(&junk), &key);
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair(&key, &value)
            .append_pair("other", "x")
            .finish();
        prop_assert_eq!(query_param(Some(&q), &key), Some(value));
        prop_assert_eq!(query_param(None, &key), None);
    }

    #[test]
    fn path_segments_round_trip(first in ".{1,12}", more in prop::collection::vec(".{0,12}", 0..4), junk in ".{0,80}") {
        let _ = segments(&junk);
        // Leading slashes are trimmed, so the first segment is not empty.
        let segs: Vec<String> = std::iter::once(first).chain(more).collect();
        let path: String = segs
            .iter()
            .map(|s| {
                let enc = percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC);
                format!("/{enc}")
            })
            .collect();
        prop_assert_eq!(segments(&path), Some(segs));
    }

    #[test]
    fn names_accept_only_lud16_characters(raw in ".{0,70}") {
        if let Ok(u) = Username::parse(&raw) {
            prop_assert!(u.as_str().bytes().all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.')));
            prop_assert_eq!(u.as_str(), raw.to_ascii_lowercase());
            prop_assert_eq!(Username::parse(u.as_str()).ok(), Some(u.clone()));
        }
        if let Ok(t) = TaggedName::parse(&raw) {
            prop_assert_eq!(TaggedName::parse(&t.to_string()).ok(), Some(t));
        }
        if let Ok(d) = DomainName::parse(&raw) {
            prop_assert_eq!(DomainName::parse(d.as_str()).ok(), Some(d.clone()));
            prop_assert!(!d.host().is_empty());
        }
        if let Ok(a) = LightningAddress::from_str(&raw) {
            prop_assert_eq!(LightningAddress::from_str(&a.to_string()).ok(), Some(a));
        }
        let _ = NostrPubkey::parse(&raw);
    }

    #[test]
    fn addresses_from_valid_parts_parse(user in "[a-zA-Z0-9._-]{1,64}", host in "[a-z0-9-]{1,20}(\\.[a-z0-9-]{1,20}){0,3}", port in proptest::option::of(1u16..)) {
        let domain = match port {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        let address = LightningAddress::from_str(&format!("{user}@{domain}")).expect("valid parts");
        prop_assert_eq!(address.username.as_str(), user.to_ascii_lowercase());
        prop_assert_eq!(address.domain.host(), host);
    }

    #[test]
    fn lnurls_round_trip_and_garbage_is_refused(url in "https?://[a-z0-9.]{1,30}/[ -~]{0,200}", garbage in ".{0,120}") {
        if let Ok(lnurl) = encode(&url) {
            prop_assert!(lnurl.starts_with("LNURL1"));
            prop_assert_eq!(decode(&lnurl).ok(), Some(url.clone()));
            prop_assert_eq!(decode(&lnurl.to_lowercase()).ok(), Some(url));
        }
        if let Ok(decoded) = decode(&garbage) {
            prop_assert_eq!(encode(&decoded).ok().map(|e| e.to_lowercase()), Some(garbage.to_lowercase()));
        }
    }

    #[test]
    fn bolt11_parsing_never_panics(garbage in ".{0,400}", cut in any::<prop::sample::Index>(), flip in any::<prop::sample::Index>(), c in "[a-z0-9]") {
        let _ = Bolt11Invoice::from_str(&garbage);
        let _ = Bolt11Invoice::from_str(&format!("lnbcrt{garbage}"));
        let valid = valid_invoice();
        prop_assert!(Bolt11Invoice::from_str(&valid).is_ok());
        let _ = Bolt11Invoice::from_str(&valid[..cut.index(valid.len())]);
        let mut mutated = valid.clone().into_bytes();
        let i = flip.index(mutated.len());
        mutated[i] = c.as_bytes()[0];
        let mutated = String::from_utf8(mutated).expect("ascii");
        if mutated != valid {
            // A changed character breaks the checksum: never accepted as the same invoice.
            prop_assert!(Bolt11Invoice::from_str(&mutated).ok().map(|i| i.to_string()) != Some(valid));
        }
    }
}
