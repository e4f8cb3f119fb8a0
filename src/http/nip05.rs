//! NIP-05: `GET /.well-known/nostr.json?name=NAME` maps a name on the domain to its nostr public key
//! (lower-case hex, never npub; no redirects). `_` is the domain's root name, an account like any
//! other.

use std::collections::BTreeMap;

use hyper::StatusCode;
use serde::Serialize;

use super::error::error_response;
use super::{Answer, json, query_param};
use crate::gateway::{Error, Gateway};

#[derive(Serialize)]
struct Nip05<'a> {
    names: BTreeMap<&'a str, &'a str>,
    relays: BTreeMap<&'a str, &'a [String]>,
}

pub async fn names(
    gw: &Gateway,
    host: Option<&str>,
    named: Option<&str>,
    query: Option<&str>,
) -> Answer {
    let Some(name) = query_param(query, "name") else {
        return Ok(error_response(
            StatusCode::BAD_REQUEST,
            "missing name parameter",
        ));
    };
    let domain = gw.domain_for(host, named)?;
    let (account, _) = gw.resolve(&domain, &name).await?;
    let pubkey = account.nostr_pubkey.ok_or(Error::UnknownUser)?;
    let mut body = Nip05 {
        names: BTreeMap::new(),
        relays: BTreeMap::new(),
    };
    let name = account.username.as_str();
    body.names.insert(name, pubkey.as_hex());
    if !domain.relays.is_empty() {
        body.relays.insert(pubkey.as_hex(), &domain.relays);
    }
    Ok(json(StatusCode::OK, &body))
}
