//! Secrets (admin token, macaroon, nostr secret key) in a type whose `Debug` and `Display` redact
//! them, so that no log line or error message can carry one by accident.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself: call only where it is used, never to log or format it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Compares in time independent of where the first difference is.
    pub fn constant_time_eq(&self, other: &[u8]) -> bool {
        let mine = self.0.as_bytes();
        if mine.len() != other.len() {
            return false;
        }
        mine.iter()
            .zip(other)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A nostr secret key written as `nsec1...` (NIP-19) or 64 hex digits; `None` for anything else
/// (a file path, a typo). Lives here, beside the type that carries it, so that validating a
/// configuration does not need the nostr services.
pub fn parse_nostr_key(value: &str) -> Option<nostr_sdk::Keys> {
    let is_hex = value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit());
    if !(is_hex || value.starts_with("nsec1")) {
        return None;
    }
    nostr_sdk::Keys::parse(value).ok()
}

/// Whether `value` is a nostr secret key (nsec1 or 64 hex digits), not a file path.
pub fn is_nostr_key(value: &str) -> bool {
    parse_nostr_key(value.trim()).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_formats_the_value() {
        let s = Secret::new("hunter2-very-secret");
        assert!(!format!("{s:?} {s}").contains("hunter2"));
        assert!(s.constant_time_eq(b"hunter2-very-secret"));
        assert!(!s.constant_time_eq(b"hunter2-very-secreT"));
        assert!(!s.constant_time_eq(b"short"));
    }
}
