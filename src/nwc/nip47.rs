//! NIP-47 (Nostr Wallet Connect) wire format, pure: event kinds, the request and response JSON,
//! error codes, the connection URI, the info event's content and tags, and which encryption a
//! request used (NIP-44 v2 when it says so in its `encryption` tag, else NIP-04).
//! <https://github.com/nostr-protocol/nips/blob/master/47.md>

use serde::Deserialize;
use serde_json::{Value, json};

/// Replaceable info event: what the wallet service supports.
pub const KIND_INFO: u16 = 13194;
/// A client's request.
pub const KIND_REQUEST: u16 = 23194;
/// The wallet service's response.
pub const KIND_RESPONSE: u16 = 23195;
/// A notification encrypted with NIP-04 (for clients that only speak NIP-04).
pub const KIND_NOTIFICATION_NIP04: u16 = 23196;
/// A notification encrypted with NIP-44 v2.
pub const KIND_NOTIFICATION_NIP44: u16 = 23197;

/// Every method this wallet service implements.
pub const METHODS: &[&str] = &[
    "pay_invoice",
    "get_balance",
    "make_invoice",
    "lookup_invoice",
    "list_transactions",
    "get_info",
];

/// The notifications it sends.
pub const NOTIFICATIONS: &[&str] = &["payment_received", "payment_sent"];

/// The encryption schemes it speaks, as the info event's `encryption` tag names them.
pub const ENCRYPTIONS: &str = "nip44_v2 nip04";

/// How a request was encrypted; its response uses the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encryption {
    Nip44,
    Nip04,
}

impl Encryption {
    /// From the request's `encryption` tag value (absent: NIP-04, as NIP-47 says for clients that
    /// predate the tag). A NIP-04 payload has `?iv=` in it; a NIP-44 one never does (base64).
    pub fn of_request(tag: Option<&str>, content: &str) -> Encryption {
        match tag.map(str::trim) {
            Some(t) if t.split_whitespace().any(|s| s == "nip44_v2") => Encryption::Nip44,
            Some(_) => Encryption::Nip04,
            None if content.contains("?iv=") => Encryption::Nip04,
            None => Encryption::Nip04,
        }
    }
}

/// NIP-47 error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    RateLimited,
    NotImplemented,
    InsufficientBalance,
    QuotaExceeded,
    Restricted,
    Unauthorized,
    Internal,
    Other,
    PaymentFailed,
    NotFound,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::NotImplemented => "NOT_IMPLEMENTED",
            ErrorCode::InsufficientBalance => "INSUFFICIENT_BALANCE",
            ErrorCode::QuotaExceeded => "QUOTA_EXCEEDED",
            ErrorCode::Restricted => "RESTRICTED",
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::Other => "OTHER",
            ErrorCode::PaymentFailed => "PAYMENT_FAILED",
            ErrorCode::NotFound => "NOT_FOUND",
        }
    }
}

/// A request's error: a code and a message for people (short, leaks nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NwcError {
    pub code: ErrorCode,
    pub message: String,
}

impl NwcError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        NwcError {
            code,
            message: message.into(),
        }
    }
}

/// A decrypted request.
#[derive(Debug, Clone, Deserialize)]
pub struct Request {
    pub method: String,
    #[serde(default)]
    pub params: Value,
}

impl Request {
    /// Parses the decrypted content; `None` when it is not a NIP-47 request.
    pub fn parse(plaintext: &str) -> Option<Request> {
        let mut r: Request = serde_json::from_str(plaintext).ok()?;
        if r.params.is_null() {
            r.params = json!({});
        }
        r.params.is_object().then_some(r)
    }
}

/// The response JSON for `method`: the result, or the error (`result` null).
pub fn response(method: &str, outcome: &Result<Value, NwcError>) -> String {
    match outcome {
        Ok(result) => json!({"result_type": method, "error": null, "result": result}),
        Err(e) => json!({
            "result_type": method,
            "error": {"code": e.code.as_str(), "message": e.message},
            "result": null,
        }),
    }
    .to_string()
}

/// A notification's JSON.
pub fn notification(kind: &str, body: Value) -> String {
    json!({"notification_type": kind, "notification": body}).to_string()
}

/// The info event's content: the connection's methods, and `notifications`.
pub fn info_content(methods: &[String]) -> String {
    let mut words: Vec<&str> = methods.iter().map(String::as_str).collect();
    words.push("notifications");
    words.join(" ")
}

/// `nostr+walletconnect://WALLET?relay=...&secret=...&lud16=...`, every value percent-encoded.
pub fn connection_uri(wallet_pubkey: &str, relays: &[String], secret: &str, lud16: &str) -> String {
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let mut uri = format!("nostr+walletconnect://{wallet_pubkey}?");
    for r in relays {
        uri.push_str(&format!("relay={}&", enc(r)));
    }
    uri.push_str(&format!("secret={secret}&lud16={}", enc(lud16)));
    uri
}

/// Whether a method name is one this service implements.
pub fn is_method(name: &str) -> bool {
    METHODS.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_and_bad_ones_do_not() {
        let r = Request::parse(r#"{"method":"get_balance"}"#).expect("request");
        assert_eq!(r.method, "get_balance");
        assert!(r.params.is_object());
        let r = Request::parse(r#"{"method":"pay_invoice","params":{"invoice":"lnbc1"}}"#)
            .expect("request");
        assert_eq!(r.params["invoice"], "lnbc1");
        for bad in [
            "",
            "[]",
            "{}",
            r#"{"method":1}"#,
            r#"{"method":"x","params":[1]}"#,
        ] {
            assert!(Request::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn responses_carry_the_method_and_either_result_or_error() {
        let ok: Value = serde_json::from_str(&response("get_balance", &Ok(json!({"balance": 5}))))
            .expect("json");
        assert_eq!(ok["result_type"], "get_balance");
        assert_eq!(ok["result"]["balance"], 5);
        assert!(ok["error"].is_null());
        let err = NwcError::new(ErrorCode::QuotaExceeded, "budget used up");
        let e: Value = serde_json::from_str(&response("pay_invoice", &Err(err))).expect("json");
        assert_eq!(e["error"]["code"], "QUOTA_EXCEEDED");
        assert!(e["result"].is_null());
    }

    #[test]
    fn encryption_follows_the_tag() {
        assert_eq!(
            Encryption::of_request(Some("nip44_v2"), "AbC"),
            Encryption::Nip44
        );
        assert_eq!(
            Encryption::of_request(Some("nip44_v2 nip04"), "x"),
            Encryption::Nip44
        );
        assert_eq!(
            Encryption::of_request(Some("nip04"), "x?iv=y"),
            Encryption::Nip04
        );
        assert_eq!(Encryption::of_request(None, "x?iv=y"), Encryption::Nip04);
    }

    #[test]
    fn the_uri_encodes_relays_and_address() {
        let uri = connection_uri(
            "ab",
            &[
                "wss://r.example/x?y".to_string(),
                "ws://127.0.0.1:7".to_string(),
            ],
            "cd",
            "alice@example.com",
        );
        assert_eq!(
            uri,
            "nostr+walletconnect://ab?relay=wss%3A%2F%2Fr%2Eexample%2Fx%3Fy&relay=ws%3A%2F%2F127%2E0%2E0%2E1%3A7&secret=cd&lud16=alice%40example%2Ecom"
        );
    }
}
