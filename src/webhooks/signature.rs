//! The `lnaddr-signature` header: `t=UNIX,v1=HEX`, where HEX is HMAC-SHA256 keyed with the
//! webhook's secret over `"{t}.{body}"` (the Stripe/BTCPay scheme: the timestamp inside the MAC
//! lets a receiver refuse old replays). Pure, no I/O; receivers can copy [`verify`].

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The header's name.
pub const HEADER: &str = "lnaddr-signature";

/// Why a signature header is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the header is not t=UNIX,v1=HEX")]
    Malformed,
    #[error("the signature does not match the body")]
    Mismatch,
    #[error("the timestamp is outside the accepted window")]
    Stale,
}

fn mac(secret: &str, t: u64, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The hex HMAC of `"{t}.{body}"`.
pub fn sign(secret: &str, t: u64, body: &[u8]) -> String {
    hex::encode(mac(secret, t, body).finalize().into_bytes())
}

/// The header value for `body` sent at `t`.
pub fn header(secret: &str, t: u64, body: &[u8]) -> String {
    format!("t={t},v1={}", sign(secret, t, body))
}

/// Checks a header against the raw body, in constant time, and that `t` is within `tolerance`
/// seconds of `now`.
pub fn verify(
    secret: &str,
    header: &str,
    body: &[u8],
    now: u64,
    tolerance: u64,
) -> Result<(), SignatureError> {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => t = value.parse::<u64>().ok(),
            Some(("v1", value)) => v1 = hex::decode(value).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return Err(SignatureError::Malformed);
    };
    mac(secret, t, body)
        .verify_slice(&v1)
        .map_err(|_| SignatureError::Mismatch)?;
    if now.abs_diff(t) > tolerance {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_4231_case_2() {
        // HMAC-SHA256("Jefe", "what do ya want for nothing?"): split as "t.body" is not
        // possible for this text, so check the primitive directly.
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(b"Jefe").expect("key");
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn signs_timestamp_and_body() {
        let h = header("whsec_x", 1_700_000_000, br#"{"id":"evt_1"}"#);
        assert!(h.starts_with("t=1700000000,v1="));
        assert_eq!(
            verify("whsec_x", &h, br#"{"id":"evt_1"}"#, 1_700_000_010, 300),
            Ok(())
        );
        assert_eq!(
            verify("whsec_x", &h, br#"{"id":"evt_2"}"#, 1_700_000_010, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("whsec_y", &h, br#"{"id":"evt_1"}"#, 1_700_000_010, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify("whsec_x", &h, br#"{"id":"evt_1"}"#, 1_700_001_000, 300),
            Err(SignatureError::Stale)
        );
        // The timestamp is inside the MAC: changing it breaks the signature.
        let forged = h.replace("t=1700000000", "t=1700000500");
        assert_eq!(
            verify("whsec_x", &forged, br#"{"id":"evt_1"}"#, 1_700_000_500, 300),
            Err(SignatureError::Mismatch)
        );
        for bad in ["", "t=1", "v1=00", "t=x,v1=00", "t=1,v1=zz"] {
            assert_eq!(
                verify("whsec_x", bad, b"{}", 1, 300),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }
}
