//! LUD-06 `payRequest` and its callback, with the extensions wallets rely on:
//! LUD-09 `successAction`, LUD-11 `disposable`, LUD-12 `commentAllowed`, LUD-16 `text/identifier`,
//! LUD-18 `payerData`, the `verify` URL (LUD-21 verify), NIP-57 `allowsNostr`/`nostrPubkey`.
//!
//! The metadata string is built once and served byte for byte; the invoice's description hash is
//! sha256 of exactly that string (LUD-06), or of `metadata + payerdata` as received (LUD-18).

use serde::Serialize;
use sha2::{Digest, Sha256};

/// `GET /.well-known/lnurlp/{username}` answer (LUD-06 + LUD-16).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PayRequest<'a> {
    pub tag: &'static str,
    pub callback: &'a str,
    pub min_sendable: u64,
    pub max_sendable: u64,
    pub metadata: &'a str,
    pub comment_allowed: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allows_nostr: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nostr_pubkey: Option<&'a str>,
    pub payer_data: PayerDataSpec,
}

/// LUD-18 §1: the payer identities we accept; none is mandatory, so any wallet can pay.
#[derive(Debug, Serialize)]
pub struct PayerDataSpec {
    pub name: Mandatory,
    pub identifier: Mandatory,
    pub email: Mandatory,
    pub pubkey: Mandatory,
}

#[derive(Debug, Serialize)]
pub struct Mandatory {
    pub mandatory: bool,
}

impl PayerDataSpec {
    pub const OPTIONAL: PayerDataSpec = PayerDataSpec {
        name: Mandatory { mandatory: false },
        identifier: Mandatory { mandatory: false },
        email: Mandatory { mandatory: false },
        pubkey: Mandatory { mandatory: false },
    };
}

/// The callback's answer (LUD-06 with LUD-09, LUD-11 and the verify URL).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PayCallback<'a> {
    pub pr: &'a str,
    pub routes: [(); 0],
    pub verify: String,
    pub success_action: SuccessAction,
    pub disposable: bool,
}

/// LUD-09 `{"tag":"message","message":...}`; the message is at most 144 characters.
#[derive(Debug, Serialize)]
pub struct SuccessAction {
    pub tag: &'static str,
    pub message: String,
}

impl SuccessAction {
    pub fn message(text: &str) -> Self {
        SuccessAction {
            tag: "message",
            message: text.chars().take(144).collect(),
        }
    }
}

/// `GET .../verify/{payment_hash}` answer.
#[derive(Debug, Serialize)]
pub struct Verify<'a> {
    pub status: &'static str,
    pub settled: bool,
    pub preimage: Option<String>,
    pub pr: &'a str,
}

/// The LUD-06 metadata string for `address` (as the payer wrote it, tag included): a JSON array
/// with `text/plain` and `text/identifier` (LUD-16).
pub fn metadata(address: &str) -> String {
    let entries = [
        ["text/plain", &format!("Payment to {address}")],
        ["text/identifier", address],
    ];
    // Serializing a fixed array of strings cannot fail.
    serde_json::to_string(&entries).unwrap_or_default()
}

/// The LUD-06 metadata of a branded domain: `text/plain` is the domain's description when it has
/// one, and an `image/png;base64` (or jpeg) entry follows when it has an image. `text/identifier`
/// (LUD-16) always names the address.
pub fn metadata_branded(
    address: &str,
    description: Option<&str>,
    image: Option<(&str, &str)>,
) -> String {
    if description.is_none() && image.is_none() {
        return metadata(address);
    }
    let plain = match description {
        Some(d) => d.to_string(),
        None => format!("Payment to {address}"),
    };
    let mut entries = vec![["text/plain", plain.as_str()], ["text/identifier", address]];
    if let Some((mime, base64)) = image {
        entries.push([mime, base64]);
    }
    // Serializing an array of string pairs cannot fail.
    serde_json::to_string(&entries).unwrap_or_default()
}

/// sha256 of the bytes the invoice commits to: `metadata`, followed by the LUD-18 `payerdata`
/// exactly as received when there is one.
pub fn description_hash(metadata: &str, payer_data: Option<&str>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(metadata.as_bytes());
    if let Some(pd) = payer_data {
        h.update(pd.as_bytes());
    }
    h.finalize().into()
}

/// Why a LUD-18 `payerdata` value was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PayerDataError {
    #[error("payerdata must be a JSON object")]
    NotAnObject,
    #[error("payerdata is too long (at most 2048 bytes)")]
    TooLong,
}

/// Checks a LUD-18 `payerdata` value; it is hashed as received, not re-serialized.
pub fn check_payer_data(raw: &str) -> Result<(), PayerDataError> {
    if raw.len() > 2048 {
        return Err(PayerDataError::TooLong);
    }
    match serde_json::from_str::<serde_json::Value>(raw) {
        Ok(serde_json::Value::Object(_)) => Ok(()),
        _ => Err(PayerDataError::NotAnObject),
    }
}

/// LUD-12: a comment longer than allowed is cut to `allowed` characters, never refused.
pub fn cut_comment(comment: &str, allowed: u32) -> Option<String> {
    if allowed == 0 || comment.is_empty() {
        return None;
    }
    Some(comment.chars().take(allowed as usize).collect())
}

/// Parses a LUD-06 `amount`: a plain decimal integer of millisatoshis.
pub fn parse_amount(raw: &str) -> Option<u64> {
    if raw.is_empty() || raw.len() > 20 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_lud16_shaped() {
        let m = metadata("alice@example.com");
        let v: Vec<Vec<String>> = serde_json::from_str(&m).expect("json array");
        assert_eq!(v[0], ["text/plain", "Payment to alice@example.com"]);
        assert_eq!(v[1], ["text/identifier", "alice@example.com"]);
    }

    #[test]
    fn branded_metadata_keeps_the_identifier() {
        assert_eq!(metadata_branded("a@b.c", None, None), metadata("a@b.c"));
        let m = metadata_branded(
            "a@b.c",
            Some("Tips for \"Bob\""),
            Some(("image/png;base64", "iVBO")),
        );
        let v: Vec<Vec<String>> = serde_json::from_str(&m).expect("json array");
        assert_eq!(v[0], ["text/plain", "Tips for \"Bob\""]);
        assert_eq!(v[1], ["text/identifier", "a@b.c"]);
        assert_eq!(v[2], ["image/png;base64", "iVBO"]);
    }

    #[test]
    fn lud18_pseudocode_vector() {
        // LUD-18 §3: metadata and payerdata are concatenated as received, then hashed.
        let metadata = r#"[["text/plain", "description"], ["image/png;base64", "AAA=="]]"#;
        let payer = r#"{"name":"bob","identifier":"bob@bob.com"}"#;
        let expected: [u8; 32] = Sha256::digest(format!("{metadata}{payer}").as_bytes()).into();
        assert_eq!(description_hash(metadata, Some(payer)), expected);
        assert_ne!(description_hash(metadata, None), expected);
        assert_eq!(check_payer_data(payer), Ok(()));
        assert_eq!(check_payer_data("[1]"), Err(PayerDataError::NotAnObject));
        assert_eq!(check_payer_data("{"), Err(PayerDataError::NotAnObject));
    }

    #[test]
    fn comments_are_cut_by_characters() {
        assert_eq!(cut_comment("héllo", 2).as_deref(), Some("hé"));
        assert_eq!(cut_comment("hi", 0), None);
        assert_eq!(cut_comment("", 10), None);
    }

    #[test]
    fn amounts_are_plain_integers() {
        for (raw, want) in [
            ("1000", Some(1000)),
            ("0", Some(0)),
            ("", None),
            ("-1", None),
            ("1.5", None),
            ("1e3", None),
            (" 1", None),
            ("+1", None),
            ("99999999999999999999999", None),
        ] {
            assert_eq!(parse_amount(raw), want, "{raw:?}");
        }
    }
}
