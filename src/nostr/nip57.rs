//! NIP-57 zap requests (kind 9734), checked as appendix D says, before any invoice exists:
//! <https://github.com/nostr-protocol/nips/blob/master/57.md#appendix-d-lnurl-server-zap-request-validation>.
//! Pure code: no I/O. The request is kept as the exact text received (after URL-decoding), because
//! the invoice's description hash and the receipt's `description` tag commit to those bytes.

use nostr_sdk::{Event, JsonUtil};

/// Largest zap request we take, in bytes of JSON after URL-decoding.
pub const MAX_ZAP_REQUEST_BYTES: usize = 4096;
/// NIP-57 zap request kind.
pub const ZAP_REQUEST_KIND: u16 = 9734;

/// Which rule a zap request broke; the `Display` text is the public reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZapRequestError {
    #[error("zap request too large (at most {MAX_ZAP_REQUEST_BYTES} bytes)")]
    TooLarge,
    #[error("zap request is not a JSON nostr event")]
    NotJson,
    #[error("zap request must be of kind 9734")]
    WrongKind,
    #[error("zap request id is not the hash of the event")]
    BadId,
    #[error("zap request signature is invalid")]
    BadSignature,
    #[error("zap request must have tags")]
    NoTags,
    #[error("zap request must have exactly one p tag")]
    PTagCount,
    #[error("zap request p tag is not this account's nostr pubkey")]
    WrongRecipient,
    #[error("zap request must have at most one e tag")]
    ETagCount,
    #[error("zap request e tag must be a 32-byte hex event id")]
    BadETag,
    #[error("zap request must have at most one P tag, a public key")]
    BadSenderTag,
    #[error("zap request amount tag does not match the amount")]
    AmountMismatch,
    #[error("zap request must have one relays tag with at least one relay")]
    MissingRelays,
    #[error("zap request relays must be ws:// or wss:// URLs")]
    BadRelay,
    #[error("zap request a tag must be a valid event coordinate")]
    BadCoordinate,
    #[error("this address does not accept zaps")]
    NotAccepted,
}

/// A zap request that passed every check.
#[derive(Debug, Clone)]
pub struct ZapRequest {
    /// The JSON exactly as received.
    pub raw: String,
    pub event: Event,
}

impl ZapRequest {
    /// The relays the sender asked the receipt to go to, in order, without duplicates.
    pub fn relays(&self) -> Vec<String> {
        relays_of(&self.event)
    }

    /// The zap comment (NIP-57: the request's content).
    pub fn comment(&self) -> &str {
        &self.event.content
    }
}

/// The relays named by a (checked) zap request, in order, without duplicates.
pub fn relays_of(event: &Event) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags_named(event, "relays") {
        for url in &tag[1..] {
            if !out.contains(url) {
                out.push(url.clone());
            }
        }
    }
    out
}

fn tags_named<'a>(event: &'a Event, name: &'a str) -> impl Iterator<Item = &'a [String]> + 'a {
    event
        .tags
        .iter()
        .map(|t| t.as_slice())
        .filter(move |t| t.first().is_some_and(|n| n == name))
}

fn is_hex32(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_pubkey(s: &str) -> bool {
    is_hex32(s)
        && hex::decode(s)
            .ok()
            .is_some_and(|b| bitcoin::secp256k1::XOnlyPublicKey::from_slice(&b).is_ok())
}

/// NIP-01 event coordinate `<kind>:<pubkey hex>:<d identifier>` (the identifier may be empty).
pub fn is_coordinate(s: &str) -> bool {
    let mut parts = s.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(kind), Some(pubkey), Some(_d)) => {
            !kind.is_empty()
                && kind.bytes().all(|b| b.is_ascii_digit())
                && kind.parse::<u16>().is_ok()
                && is_pubkey(pubkey)
        }
        _ => false,
    }
}

fn is_relay_url(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "ws" | "wss") && u.host().is_some())
}

/// The texts a raw (still percent-encoded) `nostr` parameter may stand for. Wallets encode the
/// request with `encodeURIComponent` (a `+` is a plus) or as a form (a `+` is a space); only the
/// right reading has a valid id, so [`check`] tries each.
pub fn decodings(raw_param: &str) -> Vec<String> {
    let mut out = Vec::with_capacity(2);
    if let Ok(plain) = percent_encoding::percent_decode_str(raw_param).decode_utf8() {
        out.push(plain.into_owned());
    }
    let form: String = url::form_urlencoded::parse(format!("x={raw_param}").as_bytes())
        .map(|(_, v)| v.into_owned())
        .next()
        .unwrap_or_default();
    if !out.contains(&form) {
        out.push(form);
    }
    out
}

/// Checks a raw `nostr` parameter against appendix D for a zap of `amount_msat` to the account
/// whose nostr key is `recipient` (hex). Answers the first decoding that passes, or the first
/// decoding's failure.
pub fn check_param(
    raw_param: &str,
    amount_msat: u64,
    recipient: &str,
) -> Result<ZapRequest, ZapRequestError> {
    let mut first_err = None;
    for text in decodings(raw_param) {
        match check(&text, amount_msat, recipient) {
            Ok(zap) => return Ok(zap),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    Err(first_err.unwrap_or(ZapRequestError::NotJson))
}

/// Checks one decoded zap request (appendix D, in order).
pub fn check(json: &str, amount_msat: u64, recipient: &str) -> Result<ZapRequest, ZapRequestError> {
    if json.len() > MAX_ZAP_REQUEST_BYTES {
        return Err(ZapRequestError::TooLarge);
    }
    let event = Event::from_json(json).map_err(|_| ZapRequestError::NotJson)?;
    if event.kind.as_u16() != ZAP_REQUEST_KIND {
        return Err(ZapRequestError::WrongKind);
    }
    // 1. A valid signature over a valid id.
    if !event.verify_id() {
        return Err(ZapRequestError::BadId);
    }
    if !event.verify_signature() {
        return Err(ZapRequestError::BadSignature);
    }
    // 2. Tags.
    if event.tags.is_empty() {
        return Err(ZapRequestError::NoTags);
    }
    // 3. Exactly one p tag, naming the account.
    let p: Vec<&[String]> = tags_named(&event, "p").collect();
    let [p] = p.as_slice() else {
        return Err(ZapRequestError::PTagCount);
    };
    if p.get(1).map(|k| k.to_ascii_lowercase()) != Some(recipient.to_ascii_lowercase()) {
        return Err(ZapRequestError::WrongRecipient);
    }
    // 4. At most one e tag.
    let e: Vec<&[String]> = tags_named(&event, "e").collect();
    match e.as_slice() {
        [] => {}
        [e] if e.get(1).is_some_and(|id| is_hex32(id)) => {}
        [_] => return Err(ZapRequestError::BadETag),
        _ => return Err(ZapRequestError::ETagCount),
    }
    // 5. One relays tag, naming at least one relay, each a websocket URL.
    let relays: Vec<&[String]> = tags_named(&event, "relays").collect();
    let [relays] = relays.as_slice() else {
        return Err(ZapRequestError::MissingRelays);
    };
    if relays.len() < 2 {
        return Err(ZapRequestError::MissingRelays);
    }
    if !relays[1..].iter().all(|r| is_relay_url(r)) {
        return Err(ZapRequestError::BadRelay);
    }
    // 6. An amount tag equals the amount asked for.
    for amount in tags_named(&event, "amount") {
        if amount.get(1).map(String::as_str) != Some(amount_msat.to_string().as_str()) {
            return Err(ZapRequestError::AmountMismatch);
        }
    }
    // 7. An a tag is an event coordinate.
    for a in tags_named(&event, "a") {
        if !a.get(1).is_some_and(|c| is_coordinate(c)) {
            return Err(ZapRequestError::BadCoordinate);
        }
    }
    // 8. At most one P tag, a public key. (The text says it must equal "the zap receipt's
    // pubkey", which is ambiguous; the receipt's own P tag is always the request's author.)
    let sender: Vec<&[String]> = tags_named(&event, "P").collect();
    match sender.as_slice() {
        [] => {}
        [s] if s.get(1).is_some_and(|k| is_pubkey(k)) => {}
        _ => return Err(ZapRequestError::BadSenderTag),
    }
    Ok(ZapRequest {
        raw: json.to_string(),
        event,
    })
}

#[cfg(test)]
#[path = "nip57_tests.rs"]
mod tests;
