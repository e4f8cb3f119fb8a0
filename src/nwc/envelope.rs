//! NIP-47 events in and out, pure (no I/O): reading a request event (which connection, which
//! encryption, the decrypted request, its `expiration`), and building the signed response,
//! notification and info events. NIP-44 v2 and NIP-04 through rust-nostr's implementations.

use nostr_sdk::nips::{nip04, nip44};
use nostr_sdk::{Event, EventBuilder, Keys, Kind, PublicKey, Tag, TagKind, Timestamp};

use super::nip47::{self, Encryption, Request};

/// Why a request event cannot be read; it is dropped (there is nobody to answer safely).
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    #[error("the event's id or signature is invalid")]
    BadSignature,
    #[error("the event names no wallet service (p tag)")]
    NoWallet,
    #[error("the content cannot be decrypted")]
    Decrypt,
    #[error("the content is not a NIP-47 request")]
    NotARequest,
    #[error("cannot sign or encrypt an event")]
    Build,
}

/// The wallet service key a request is addressed to: its first `p` tag (hex).
pub fn addressed_to(event: &Event) -> Result<String, EnvelopeError> {
    if event.verify().is_err() {
        return Err(EnvelopeError::BadSignature);
    }
    event
        .tags
        .public_keys()
        .next()
        .map(|pk| pk.to_hex())
        .ok_or(EnvelopeError::NoWallet)
}

/// A request decrypted with the wallet key.
#[derive(Debug)]
pub struct Opened {
    pub request: Request,
    pub encryption: Encryption,
    /// The `expiration` tag (NIP-40 timestamp), when present.
    pub expiration: Option<u64>,
}

fn encryption_tag(event: &Event) -> Option<&str> {
    event
        .tags
        .iter()
        .find(|t| t.kind() == TagKind::custom("encryption"))
        .and_then(|t| t.content())
}

/// Decrypts `event` with the wallet key, in the scheme the client used.
pub fn open(event: &Event, wallet: &Keys) -> Result<Opened, EnvelopeError> {
    let encryption = Encryption::of_request(encryption_tag(event), &event.content);
    let plain = decrypt(encryption, wallet, &event.pubkey, &event.content)?;
    let request = Request::parse(&plain).ok_or(EnvelopeError::NotARequest)?;
    Ok(Opened {
        request,
        encryption,
        expiration: event.tags.expiration().map(|t| t.as_secs()),
    })
}

fn decrypt(
    scheme: Encryption,
    wallet: &Keys,
    peer: &PublicKey,
    content: &str,
) -> Result<String, EnvelopeError> {
    match scheme {
        Encryption::Nip44 => {
            nip44::decrypt(wallet.secret_key(), peer, content).map_err(|_| EnvelopeError::Decrypt)
        }
        Encryption::Nip04 => {
            nip04::decrypt(wallet.secret_key(), peer, content).map_err(|_| EnvelopeError::Decrypt)
        }
    }
}

fn encrypt(
    scheme: Encryption,
    wallet: &Keys,
    peer: &PublicKey,
    content: &str,
) -> Result<String, EnvelopeError> {
    match scheme {
        Encryption::Nip44 => nip44::encrypt(wallet.secret_key(), peer, content, nip44::Version::V2)
            .map_err(|_| EnvelopeError::Build),
        Encryption::Nip04 => {
            nip04::encrypt(wallet.secret_key(), peer, content).map_err(|_| EnvelopeError::Build)
        }
    }
}

/// The response (kind 23195) to `request`: `p` names its author, `e` the request.
pub fn response(
    request: &Event,
    wallet: &Keys,
    encryption: Encryption,
    json: &str,
) -> Result<Event, EnvelopeError> {
    let content = encrypt(encryption, wallet, &request.pubkey, json)?;
    let mut tags = vec![Tag::public_key(request.pubkey), Tag::event(request.id)];
    if encryption == Encryption::Nip44 {
        tags.push(Tag::custom(TagKind::custom("encryption"), ["nip44_v2"]));
    }
    EventBuilder::new(Kind::from(nip47::KIND_RESPONSE), content)
        .tags(tags)
        .sign_with_keys(wallet)
        .map_err(|_| EnvelopeError::Build)
}

/// A notification to `client` in one scheme: kind 23197 for NIP-44, 23196 for NIP-04.
pub fn notification(
    wallet: &Keys,
    client: &PublicKey,
    encryption: Encryption,
    json: &str,
) -> Result<Event, EnvelopeError> {
    let kind = match encryption {
        Encryption::Nip44 => nip47::KIND_NOTIFICATION_NIP44,
        Encryption::Nip04 => nip47::KIND_NOTIFICATION_NIP04,
    };
    let content = encrypt(encryption, wallet, client, json)?;
    EventBuilder::new(Kind::from(kind), content)
        .tag(Tag::public_key(*client))
        .sign_with_keys(wallet)
        .map_err(|_| EnvelopeError::Build)
}

/// The info event (kind 13194) of a connection allowed `methods`.
pub fn info(wallet: &Keys, methods: &[String]) -> Result<Event, EnvelopeError> {
    EventBuilder::new(Kind::from(nip47::KIND_INFO), nip47::info_content(methods))
        .tags([
            Tag::custom(TagKind::custom("encryption"), [nip47::ENCRYPTIONS]),
            Tag::custom(
                TagKind::custom("notifications"),
                [nip47::NOTIFICATIONS.join(" ")],
            ),
        ])
        .sign_with_keys(wallet)
        .map_err(|_| EnvelopeError::Build)
}

/// Whether a request's `expiration` has passed at `now`.
pub fn expired(expiration: Option<u64>, now: Timestamp) -> bool {
    expiration.is_some_and(|at| at <= now.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(client: &Keys, wallet: &Keys, scheme: Encryption, json: &str) -> Event {
        let content = encrypt(scheme, client, &wallet.public_key(), json).expect("encrypt");
        let mut tags = vec![Tag::public_key(wallet.public_key())];
        if scheme == Encryption::Nip44 {
            tags.push(Tag::custom(TagKind::custom("encryption"), ["nip44_v2"]));
        }
        EventBuilder::new(Kind::from(nip47::KIND_REQUEST), content)
            .tags(tags)
            .sign_with_keys(client)
            .expect("sign")
    }

    #[test]
    fn both_schemes_round_trip_and_answer_in_kind() {
        let (client, wallet) = (Keys::generate(), Keys::generate());
        for scheme in [Encryption::Nip44, Encryption::Nip04] {
            let ev = request(
                &client,
                &wallet,
                scheme,
                r#"{"method":"get_balance","params":{}}"#,
            );
            assert_eq!(addressed_to(&ev).expect("p"), wallet.public_key().to_hex());
            let opened = open(&ev, &wallet).expect("open");
            assert_eq!(opened.encryption, scheme);
            assert_eq!(opened.request.method, "get_balance");
            let resp = response(&ev, &wallet, scheme, r#"{"result_type":"get_balance"}"#)
                .expect("response");
            assert_eq!(resp.pubkey, wallet.public_key());
            let plain = decrypt(scheme, &client, &wallet.public_key(), &resp.content).expect("dec");
            assert_eq!(plain, r#"{"result_type":"get_balance"}"#);
        }
    }

    #[test]
    fn a_stranger_cannot_be_read_with_the_wrong_key() {
        let (client, wallet, other) = (Keys::generate(), Keys::generate(), Keys::generate());
        let ev = request(
            &client,
            &wallet,
            Encryption::Nip44,
            r#"{"method":"get_info"}"#,
        );
        assert!(matches!(open(&ev, &other), Err(EnvelopeError::Decrypt)));
    }

    #[test]
    fn expiration_in_the_past_is_expired() {
        let now = Timestamp::from(1_000);
        assert!(expired(Some(999), now));
        assert!(expired(Some(1_000), now));
        assert!(!expired(Some(1_001), now));
        assert!(!expired(None, now));
    }
}
