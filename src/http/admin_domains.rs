//! Admin API for domains as tenants: `/api/v1/domains` (add, list, show, change, remove),
//! `/api/v1/domains/{name}/tokens` and `/api/v1/tokens/{id}` (domain tokens), and
//! `/api/v1/domains/{name}/wellknown` (the static files of `lnaddr wellknown export`). Domain and
//! token management is for the admin token; a domain token may read its own domain and export it.

use hyper::{Method, Response, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::auth::Auth;
use super::error::error_response;
use super::{Answer, Body, json, no_content, parse};
use crate::config::{RawDomain, Registration};
use crate::domains::{Domain, Source};
use crate::gateway::{Error, Gateway};
use crate::store::DomainToken;

/// A domain as the admin API shows it (never its nostr secret key).
#[derive(Serialize)]
pub struct DomainView {
    pub name: String,
    pub public_url: String,
    /// Where its LNURL endpoints are: `public_url`, or `public_url/d/{name}` when served for
    /// another host.
    pub lnurl_base: String,
    pub min_sendable_msat: u64,
    pub max_sendable_msat: u64,
    pub comment_allowed: u32,
    pub relays: Vec<String>,
    pub description: Option<String>,
    /// `data:image/png;base64,...` (or jpeg).
    pub image: Option<String>,
    pub registration: Registration,
    /// The zapper key's public half (hex), which signs its zap receipts.
    pub nostr_pubkey: Option<String>,
    pub source: Source,
    pub created_at: Option<u64>,
    pub updated_at: Option<u64>,
}

impl DomainView {
    pub fn new(d: &Domain) -> Self {
        DomainView {
            name: d.name.to_string(),
            public_url: d.public_url.clone(),
            lnurl_base: d.lnurl_base(),
            min_sendable_msat: d.sendable.start().msat(),
            max_sendable_msat: d.sendable.end().msat(),
            comment_allowed: d.comment_allowed,
            relays: d.relays.clone(),
            description: d.description.clone(),
            image: d
                .image
                .as_ref()
                .map(|i| format!("data:{},{}", i.mime, i.base64)),
            registration: d.registration,
            nostr_pubkey: d.zapper_hex.clone(),
            source: d.source,
            created_at: d.record.as_ref().map(|r| r.created_at),
            updated_at: d.record.as_ref().map(|r| r.updated_at),
        }
    }
}

/// A token as listed (never the token).
#[derive(Serialize)]
struct TokenView {
    id: String,
    domain: String,
    label: Option<String>,
    created_at: u64,
}

impl From<DomainToken> for TokenView {
    fn from(t: DomainToken) -> Self {
        TokenView {
            id: t.id,
            domain: t.domain,
            label: t.label,
            created_at: t.created_at,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateToken {
    label: Option<String>,
}

/// The new token, shown once.
#[derive(Serialize)]
struct NewTokenView {
    id: String,
    token: String,
    domain: String,
    label: Option<String>,
    created_at: u64,
}

/// Routes `/api/v1/{segs...}` for domains and tokens.
pub async fn route(
    gw: &Gateway,
    auth: &Auth,
    method: &Method,
    segs: &[&str],
    body: &[u8],
) -> (&'static str, Answer) {
    match (method, segs) {
        (&Method::POST, ["domains"]) => ("/api/v1/domains", add(gw, auth, body).await),
        (&Method::GET, ["domains"]) => ("/api/v1/domains", Ok(list(gw, auth))),
        (_, ["domains", name]) => (
            "/api/v1/domains/{name}",
            one(gw, auth, method, name, body).await,
        ),
        (&Method::POST, ["domains", name, "tokens"]) => (
            "/api/v1/domains/{name}/tokens",
            create_token(gw, auth, name, body).await,
        ),
        (&Method::GET, ["domains", name, "tokens"]) => (
            "/api/v1/domains/{name}/tokens",
            tokens(gw, auth, name).await,
        ),
        (&Method::GET, ["domains", name, "wellknown"]) => (
            "/api/v1/domains/{name}/wellknown",
            wellknown(gw, auth, name).await,
        ),
        (&Method::DELETE, ["tokens", id]) => {
            ("/api/v1/tokens/{id}", revoke_token(gw, auth, id).await)
        }
        _ => (
            "other",
            Ok(error_response(StatusCode::NOT_FOUND, "not found")),
        ),
    }
}

async fn add(gw: &Gateway, auth: &Auth, body: &[u8]) -> Answer {
    auth.require_admin()?;
    let raw: RawDomain = parse(body)?;
    let domain = gw.domains().add(raw).await?;
    Ok(json(StatusCode::CREATED, &DomainView::new(&domain)))
}

fn list(gw: &Gateway, auth: &Auth) -> Response<Body> {
    let set = gw.domains().current();
    let views: Vec<DomainView> = set
        .all()
        .iter()
        .filter(|d| auth.can_manage(d.name.as_str()))
        .map(|d| DomainView::new(d))
        .collect();
    json(StatusCode::OK, &views)
}

async fn one(gw: &Gateway, auth: &Auth, method: &Method, name: &str, body: &[u8]) -> Answer {
    let name = name.to_ascii_lowercase();
    let domain = match *method {
        Method::GET => {
            auth.require_domain(&name)?;
            gw.domains()
                .current()
                .named(&name)
                .ok_or(Error::UnknownDomain)?
        }
        Method::PATCH => {
            auth.require_admin()?;
            let patch: Map<String, Value> = parse(body)?;
            gw.domains().patch(&name, patch).await?
        }
        Method::DELETE => {
            auth.require_admin()?;
            gw.domains().remove(&name).await?;
            return Ok(no_content());
        }
        _ => {
            return Ok(error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed",
            ));
        }
    };
    Ok(json(StatusCode::OK, &DomainView::new(&domain)))
}

async fn create_token(gw: &Gateway, auth: &Auth, name: &str, body: &[u8]) -> Answer {
    auth.require_admin()?;
    let req: CreateToken = if body.is_empty() {
        CreateToken { label: None }
    } else {
        parse(body)?
    };
    let made = gw
        .domains()
        .create_token(&name.to_ascii_lowercase(), req.label)
        .await?;
    let view = NewTokenView {
        id: made.record.id,
        token: made.token.expose().to_string(),
        domain: made.record.domain,
        label: made.record.label,
        created_at: made.record.created_at,
    };
    Ok(json(StatusCode::CREATED, &view))
}

async fn tokens(gw: &Gateway, auth: &Auth, name: &str) -> Answer {
    auth.require_admin()?;
    let tokens = gw.domains().tokens(&name.to_ascii_lowercase()).await?;
    let views: Vec<_> = tokens.into_iter().map(TokenView::from).collect();
    Ok(json(StatusCode::OK, &views))
}

async fn revoke_token(gw: &Gateway, auth: &Auth, id: &str) -> Answer {
    auth.require_admin()?;
    gw.domains().revoke_token(id).await?;
    Ok(no_content())
}

async fn wellknown(gw: &Gateway, auth: &Auth, name: &str) -> Answer {
    auth.require_domain(name)?;
    Ok(json(StatusCode::OK, &gw.wellknown_files(name).await?))
}
