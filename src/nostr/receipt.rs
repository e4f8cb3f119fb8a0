//! NIP-57 zap receipts (kind 9735), built as appendix E says:
//! <https://github.com/nostr-protocol/nips/blob/master/57.md#appendix-e-zap-receipt-event>.
//! Pure code. Tags are built here, not by nostr-sdk's `zap_receipt` builder, which copies only the
//! first `e`/`a`/`p` tag, re-serializes the request and stamps "now". With `created_at` = the
//! invoice's paid time and tags fixed by the stored request, the event id is the same on every
//! rebuild, so a receipt sent again after a restart is the same event and relays keep one.

use nostr_sdk::{Event, EventBuilder, JsonUtil, Keys, Kind, Tag, Timestamp};

use super::nip57::ZAP_REQUEST_KIND;

/// NIP-57 zap receipt kind.
pub const ZAP_RECEIPT_KIND: u16 = 9735;

/// Why a receipt could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ReceiptError {
    /// The stored zap request no longer parses as a zap request (it was checked when received).
    #[error("stored zap request is not a zap request")]
    BadRequest,
    /// nostr-sdk refused a tag or could not sign.
    #[error("cannot build the zap receipt: {0}")]
    Build(String),
}

/// What the receipt commits to, from the paid invoice.
#[derive(Debug, Clone)]
pub struct PaidZap<'a> {
    /// The zap request JSON exactly as received.
    pub zap_request: &'a str,
    pub bolt11: &'a str,
    /// Hex preimage of the payment; `None` when none was revealed (an invoice paid inside the
    /// ledger): the receipt then has no `preimage` tag (NIP-57 makes it optional).
    pub preimage: Option<&'a str>,
    /// When the invoice was paid (Unix seconds).
    pub paid_at: u64,
}

/// The receipt's tags, in a fixed order: `p`, `e`, `a` (copied whole from the request), `P` (the
/// request's author), `bolt11`, `description` (the request as received), `preimage`.
pub fn receipt_tags(paid: &PaidZap<'_>) -> Result<Vec<Vec<String>>, ReceiptError> {
    let request = Event::from_json(paid.zap_request).map_err(|_| ReceiptError::BadRequest)?;
    if request.kind.as_u16() != ZAP_REQUEST_KIND {
        return Err(ReceiptError::BadRequest);
    }
    let copied = |name: &str| -> Vec<Vec<String>> {
        request
            .tags
            .iter()
            .map(|t| t.as_slice())
            .filter(|t| t.first().is_some_and(|n| n == name) && t.len() >= 2)
            .map(<[String]>::to_vec)
            .collect()
    };
    let p = copied("p");
    if p.len() != 1 {
        return Err(ReceiptError::BadRequest);
    }
    let mut tags = p;
    tags.extend(copied("e"));
    tags.extend(copied("a"));
    tags.push(vec!["P".into(), request.pubkey.to_hex()]);
    tags.push(vec!["bolt11".into(), paid.bolt11.to_string()]);
    tags.push(vec!["description".into(), paid.zap_request.to_string()]);
    if let Some(preimage) = paid.preimage {
        tags.push(vec!["preimage".into(), preimage.to_string()]);
    }
    Ok(tags)
}

/// Builds and signs the receipt with the domain's zapper key.
pub fn build_receipt(keys: &Keys, paid: &PaidZap<'_>) -> Result<Event, ReceiptError> {
    let tags = receipt_tags(paid)?
        .into_iter()
        .map(|t| Tag::parse(t).map_err(|e| ReceiptError::Build(e.to_string())))
        .collect::<Result<Vec<Tag>, _>>()?;
    EventBuilder::new(Kind::from(ZAP_RECEIPT_KIND), "")
        .tags(tags)
        .allow_self_tagging()
        .custom_created_at(Timestamp::from(paid.paid_at))
        .sign_with_keys(keys)
        .map_err(|e| ReceiptError::Build(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(keys: &Keys, extra: Vec<Vec<&str>>) -> String {
        let recipient = Keys::generate().public_key().to_hex();
        let mut tags = vec![
            Tag::parse(["relays", "wss://relay.example.com"]).expect("tag"),
            Tag::parse(["p", recipient.as_str()]).expect("tag"),
        ];
        for t in extra {
            tags.push(Tag::parse(t).expect("tag"));
        }
        EventBuilder::new(Kind::from(ZAP_REQUEST_KIND), "great post")
            .tags(tags)
            .sign_with_keys(keys)
            .expect("sign")
            .as_json()
    }

    #[test]
    fn receipt_is_deterministic_and_carries_every_tag() {
        let sender = Keys::generate();
        let zapper = Keys::generate();
        let e = "9ae37aa68f48645127299e9453eb5d908a0cbb6058ff340d528ed4d37c8994fb";
        let a = format!("30023:{}:post", sender.public_key().to_hex());
        let raw = request(&sender, vec![vec!["e", e, "wss://hint"], vec!["a", &a]]);
        let paid = PaidZap {
            zap_request: &raw,
            bolt11: "lnbcrt1test",
            preimage: Some("00ff"),
            paid_at: 1_700_000_123,
        };
        let one = build_receipt(&zapper, &paid).expect("build");
        let two = build_receipt(&zapper, &paid).expect("build");
        assert_eq!(one.id, two.id);
        one.verify().expect("valid signature");
        assert_eq!(one.pubkey, zapper.public_key());
        assert_eq!(one.created_at.as_secs(), 1_700_000_123);
        assert_eq!(one.kind.as_u16(), ZAP_RECEIPT_KIND);
        assert!(one.content.is_empty());
        let tags: Vec<Vec<String>> = one.tags.iter().map(|t| t.as_slice().to_vec()).collect();
        let names: Vec<&str> = tags.iter().map(|t| t[0].as_str()).collect();
        assert_eq!(
            names,
            ["p", "e", "a", "P", "bolt11", "description", "preimage"]
        );
        assert_eq!(tags[1], vec!["e", e, "wss://hint"]);
        assert_eq!(tags[3][1], sender.public_key().to_hex());
        assert_eq!(tags[5][1], raw);
    }

    #[test]
    fn refuses_a_request_that_is_not_one() {
        let paid = PaidZap {
            zap_request: "{}",
            bolt11: "x",
            preimage: Some("00"),
            paid_at: 1,
        };
        assert!(matches!(
            build_receipt(&Keys::generate(), &paid),
            Err(ReceiptError::BadRequest)
        ));
    }
}
