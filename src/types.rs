//! Newtypes for money and names. Validation happens in the constructors, so a value of one of these
//! types is always well-formed once it exists (usernames lower-case and LUD-16 clean, hashes 32 bytes,
//! a withdraw link's [`K1`] 64 hex characters, an [`Msat`] made and read only through named, checked
//! operations).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

mod k1;
mod msat;

pub use k1::{BadK1, K1};
pub use msat::Msat;

/// Why a name, address or hash was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// The username is empty, too long, or has a character outside LUD-16's `a-z0-9-_.`.
    #[error("invalid username: only a-z, 0-9, '-', '_' and '.' are allowed (1 to 64 characters)")]
    Username,
    /// The `+tag` part of an address is empty, too long or has characters outside `a-z0-9-_.`.
    #[error(
        "invalid tag after '+': only a-z, 0-9, '-', '_' and '.' are allowed (1 to 64 characters)"
    )]
    Tag,
    /// The domain is not a host name with an optional port.
    #[error("invalid domain name")]
    Domain,
    /// The address is not `user@domain`.
    #[error("invalid address: expected user@domain")]
    Address,
    /// The payment hash is not 64 hex characters.
    #[error("invalid payment hash: expected 64 hex characters")]
    PaymentHash,
    /// The nostr public key is neither 64-hex x-only key nor an npub.
    #[error("invalid nostr public key: expected 64 hex characters or npub1...")]
    NostrPubkey,
}

const MAX_NAME_LEN: usize = 64;

fn lud16_clean(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_NAME_LEN
        && s.bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.'))
}

/// The local part of a Lightning Address (LUD-16): lower-case `a-z0-9-_.`, 1 to 64 characters.
/// Matching is case-insensitive: the constructor lower-cases its input.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let lower = raw.to_ascii_lowercase();
        if lud16_clean(&lower) {
            Ok(Username(lower))
        } else {
            Err(NameError::Username)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A name as a payer wrote it: `name` or `name+tag`. The tag is kept on the transaction; the name
/// resolves the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedName {
    pub username: Username,
    pub tag: Option<String>,
}

impl TaggedName {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        match raw.split_once('+') {
            None => Ok(TaggedName {
                username: Username::parse(raw)?,
                tag: None,
            }),
            Some((name, tag)) => {
                let username = Username::parse(name)?;
                let tag = tag.to_ascii_lowercase();
                if !lud16_clean(&tag) {
                    return Err(NameError::Tag);
                }
                Ok(TaggedName {
                    username,
                    tag: Some(tag),
                })
            }
        }
    }
}

impl fmt::Display for TaggedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.tag {
            Some(tag) => write!(f, "{}+{tag}", self.username),
            None => write!(f, "{}", self.username),
        }
    }
}

/// A domain served by the gateway, as matched against the Host header: lower-case host name with an
/// optional `:port`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DomainName(String);

impl DomainName {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let lower = raw.trim().to_ascii_lowercase();
        let (host, port) = match lower.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (lower.as_str(), None),
        };
        let host_ok = !host.is_empty()
            && host.len() <= 253
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
        if host_ok && port_ok {
            Ok(DomainName(lower))
        } else {
            Err(NameError::Domain)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The host without its port.
    pub fn host(&self) -> &str {
        self.0.rsplit_once(':').map_or(&self.0, |(h, _)| h)
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `user@domain` (LUD-16), without a tag: the identity of an account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LightningAddress {
    pub username: Username,
    pub domain: DomainName,
}

impl FromStr for LightningAddress {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (user, domain) = s.rsplit_once('@').ok_or(NameError::Address)?;
        Ok(LightningAddress {
            username: Username::parse(user)?,
            domain: DomainName::parse(domain)?,
        })
    }
}

impl fmt::Display for LightningAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.username, self.domain)
    }
}

/// The SHA-256 payment hash of a BOLT 11 invoice.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PaymentHash(pub [u8; 32]);

impl PaymentHash {
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl FromStr for PaymentHash {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| NameError::PaymentHash)?;
        Ok(PaymentHash(out))
    }
}

impl fmt::Display for PaymentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for PaymentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PaymentHash({})", self.to_hex())
    }
}

impl Serialize for PaymentHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for PaymentHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A nostr public key as lower-case hex of the 32-byte x-only key (NIP-01). `npub1...` (NIP-19) is
/// accepted on input and converted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NostrPubkey(String);

impl NostrPubkey {
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        let raw = raw.trim();
        let bytes: Vec<u8> = if raw.to_ascii_lowercase().starts_with("npub1") {
            let (hrp, data) = bitcoin::bech32::decode(raw).map_err(|_| NameError::NostrPubkey)?;
            if hrp.as_str() != "npub" {
                return Err(NameError::NostrPubkey);
            }
            data
        } else {
            hex::decode(raw).map_err(|_| NameError::NostrPubkey)?
        };
        let key = bitcoin::secp256k1::XOnlyPublicKey::from_slice(&bytes)
            .map_err(|_| NameError::NostrPubkey)?;
        Ok(NostrPubkey(hex::encode(key.serialize())))
    }

    pub fn as_hex(&self) -> &str {
        &self.0
    }
}

impl Serialize for NostrPubkey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for NostrPubkey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        NostrPubkey::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// (year, month 1-12, day 1-31) of a day count since 1970-01-01 (days ≥ 0), by H. Hinnant's
/// algorithm: the UTC calendar for budgets that renew by the month and for exported timestamps.
pub fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_lowercased_and_checked() {
        assert_eq!(
            Username::parse("Alice").map(|u| u.0),
            Ok("alice".to_string())
        );
        for bad in ["", "a b", "al/ice", "ali@ce", "é", &"a".repeat(65)] {
            assert_eq!(Username::parse(bad), Err(NameError::Username), "{bad:?}");
        }
        assert!(Username::parse("a.b-c_d9").is_ok());
    }

    #[test]
    fn tags_split_from_names() {
        let t = TaggedName::parse("Bob+Coffee").expect("valid");
        assert_eq!(t.username.as_str(), "bob");
        assert_eq!(t.tag.as_deref(), Some("coffee"));
        assert_eq!(TaggedName::parse("bob+"), Err(NameError::Tag));
        assert_eq!(TaggedName::parse("+x"), Err(NameError::Username));
    }

    #[test]
    fn domains_and_addresses() {
        assert_eq!(
            DomainName::parse("Example.COM").map(|d| d.0),
            Ok("example.com".into())
        );
        assert_eq!(
            DomainName::parse("localhost:8080").map(|d| d.host().to_string()),
            Ok("localhost".into())
        );
        for bad in ["", "exa mple.com", "a..b", "host:0", "host:99999", "host:x"] {
            assert_eq!(DomainName::parse(bad), Err(NameError::Domain), "{bad:?}");
        }
        let a: LightningAddress = "Alice@Example.com".parse().expect("valid");
        assert_eq!(a.to_string(), "alice@example.com");
        assert!("alice".parse::<LightningAddress>().is_err());
    }

    #[test]
    fn payment_hash_round_trips() {
        let h: PaymentHash = "00".repeat(32).parse().expect("valid");
        assert_eq!(h.to_hex(), "00".repeat(32));
        assert!("zz".parse::<PaymentHash>().is_err());
        assert!("00".repeat(31).parse::<PaymentHash>().is_err());
    }

    #[test]
    fn nostr_pubkeys_accept_hex_and_npub() {
        // NIP-19's example pair.
        let hex = "3bf0c63fcb93463407af97a5e5ee64fa883d107ef9e558472c4eb9aaaefa459d";
        let npub = "npub180cvv07tjdrrgpa0j7j7tmnyl2yr6yr7l8j4s3evf6u64th6gkwsyjh6w6";
        assert_eq!(NostrPubkey::parse(npub).map(|k| k.0), Ok(hex.to_string()));
        assert_eq!(
            NostrPubkey::parse(&hex.to_uppercase()).map(|k| k.0),
            Ok(hex.to_string())
        );
        assert!(NostrPubkey::parse("abcd").is_err());
        assert!(NostrPubkey::parse("nsec1xyz").is_err());
    }
}
