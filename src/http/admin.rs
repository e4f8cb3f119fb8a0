//! The admin API (admin listener only, `Authorization: Bearer TOKEN`): accounts, their ledger and
//! `/metrics`; withdraw links (LUD-03) in `http/admin_withdraw.rs`, the zap receipt outbox in
//! `http/admin_outbox.rs`, webhooks and ledger exports in `http/admin_webhooks.rs`, LndHub
//! credentials and invites in `http/admin_lndhub.rs`, NWC connections (NIP-47) in
//! `http/admin_nwc.rs`, domains and domain tokens in `http/admin_domains.rs`, the fake node's
//! controls in `http/admin_fake.rs`; the operator console (`GET /`, no token needed for the page
//! itself) in `http/pages/console.rs`. JSON in and out; amounts in millisatoshis. Who may do what
//! is decided by the request's [`Auth`] (`http/auth.rs`): every route checks it before anything
//! else. Handlers answer `http::Answer`; [`handle`] turns an error into its answer, once.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde::{Deserialize, Serialize};

use super::auth::{Auth, AuthError};
use super::error::{Surface, error_response, into_response};
use super::{
    Answer, Body, admin_domains, admin_fake, admin_lndhub, admin_nwc, admin_outbox, admin_payments,
    admin_webhooks, admin_withdraw, json, no_content, pages, parse, query_param, segments,
};
use crate::gateway::{Error, Gateway, Refusal};
use crate::lightning::fake::FakeControls;
use crate::store::Account;

/// Largest admin request body.
const MAX_BODY: usize = 64 * 1024;

/// An account as the admin API shows it.
#[derive(Serialize)]
pub struct AccountView {
    pub id: String,
    pub address: String,
    pub balance_msat: u64,
    pub lnurl: Option<String>,
    pub nostr_pubkey: Option<String>,
    pub created_at: u64,
}

impl AccountView {
    fn new(gw: &Gateway, a: &Account) -> Self {
        AccountView {
            id: a.id.0.clone(),
            address: a.address(),
            balance_msat: a.balance_msat.msat(),
            lnurl: gw.account_lnurl(a),
            nostr_pubkey: a.nostr_pubkey.as_ref().map(|k| k.as_hex().to_string()),
            created_at: a.created_at,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateAccount {
    address: String,
    nostr_pubkey: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchAccount {
    /// `null` clears the key; absent leaves it.
    #[serde(default, with = "double_option")]
    nostr_pubkey: Option<Option<String>>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

/// What the admin router serves from: the gateway, and the fake node's controls (empty unless the
/// fake node is the node in use; they are no part of the gateway's domain).
pub struct AdminState {
    pub gw: Arc<Gateway>,
    pub fake: FakeControls,
}

/// Handles one admin request.
pub async fn handle(
    state: Arc<AdminState>,
    req: Request<Incoming>,
    _peer: SocketAddr,
) -> Response<Body> {
    let (gw, fake) = (&state.gw, &state.fake);
    let started = Instant::now();
    let console = pages::console::unauthenticated(req.method(), req.uri().path());
    let (parts, body) = req.into_parts();
    let (route, answer) = match console {
        Some((route, resp)) => (route, Ok(resp)),
        None => authorized_route(gw, fake, parts, body).await,
    };
    // The one place an admin handler's error becomes its answer.
    let mut resp = answer.unwrap_or_else(|e| into_response(&e, Surface::Admin));
    gw.metrics().observe_request(
        route,
        resp.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    resp.extensions_mut()
        .insert(super::request_log::RouteTemplate(route));
    resp
}

/// Authorizes the request once ([`Auth`]), then routes it.
async fn authorized_route(
    gw: &Gateway,
    fake: &FakeControls,
    parts: hyper::http::request::Parts,
    body: Incoming,
) -> (&'static str, Answer) {
    match Auth::from_parts(gw, &parts).await {
        Ok(auth) => route(gw, fake, &auth, parts, body).await,
        Err(AuthError::Missing) => {
            let mut resp = error_response(StatusCode::UNAUTHORIZED, "missing or wrong admin token");
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            ("unauthorized", Ok(resp))
        }
        Err(AuthError::Store(e)) => ("unauthorized", Err(Error::Store(e).into())),
    }
}

async fn route(
    gw: &Gateway,
    fake: &FakeControls,
    auth: &Auth,
    parts: hyper::http::request::Parts,
    body: Incoming,
) -> (&'static str, Answer) {
    let method = parts.method.clone();
    let query = parts.uri.query().map(str::to_string);
    let Some(segs) = segments(parts.uri.path()) else {
        return (
            "other",
            Ok(error_response(StatusCode::NOT_FOUND, "not found")),
        );
    };
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let body = match read_body(body).await {
        Ok(b) => b,
        Err(resp) => return ("other", Ok(resp)),
    };
    // Webhooks check their caller in `admin_webhooks`; a ledger export is its account's domain's.
    let webhook_check = match segs.as_slice() {
        [
            "api",
            "v1",
            "accounts",
            address,
            "transactions.csv" | "transactions.json",
        ] => Some(auth.require_address(address)),
        _ => None,
    };
    if let Some(Err(e)) = webhook_check {
        return ("other", Err(e.into()));
    }
    if let Some(answer) =
        admin_webhooks::route(gw, auth, &method, &segs, query.as_deref(), &body).await
    {
        return answer;
    }
    // Every route checks the caller first: `check` answers 403 (or the link's 404) instead.
    macro_rules! check {
        ($template:expr, $allowed:expr, $answer:expr) => {
            match $allowed {
                Ok(()) => ($template, $answer),
                Err(e) => ($template, Err(e.into())),
            }
        };
    }
    match (&method, segs.as_slice()) {
        (&Method::GET, ["metrics"]) => check!("/metrics", auth.require_admin(), Ok(metrics(gw))),
        (&Method::POST, ["api", "v1", "accounts"]) => {
            ("/api/v1/accounts", create(gw, auth, &body).await)
        }
        (&Method::GET, ["api", "v1", "backup"]) => check!(
            "/api/v1/backup",
            auth.require_admin(),
            super::admin_backup::backup(gw).await
        ),
        (&Method::GET, ["api", "v1", "accounts"]) => (
            "/api/v1/accounts",
            list(gw, auth, query_param(query.as_deref(), "domain")).await,
        ),
        (_, ["api", "v1", "accounts", address]) => check!(
            "/api/v1/accounts/{address}",
            auth.require_address(address),
            one(gw, &method, address, &body).await
        ),
        (&Method::GET, ["api", "v1", "accounts", address, "transactions"]) => {
            let limit = query_param(query.as_deref(), "limit")
                .and_then(|l| l.parse().ok())
                .unwrap_or(100usize);
            check!(
                "/api/v1/accounts/{address}/transactions",
                auth.require_address(address),
                transactions(gw, address, limit.min(1000)).await
            )
        }
        (&Method::POST, ["api", "v1", "accounts", address, "withdraw-links"]) => check!(
            "/api/v1/accounts/{address}/withdraw-links",
            auth.require_address(address),
            admin_withdraw::create(gw, address, &body).await
        ),
        (_, ["api", "v1", "accounts", address, "lndhub"]) => check!(
            "/api/v1/accounts/{address}/lndhub",
            auth.require_address(address),
            admin_lndhub::account(gw, &method, address).await
        ),
        (&Method::POST, ["api", "v1", "lndhub", "invites"]) => check!(
            "/api/v1/lndhub/invites",
            auth.require_admin(),
            admin_lndhub::invite(gw, &body).await
        ),
        (_, ["api", "v1", "lndhub", login]) => check!(
            "/api/v1/lndhub/{login}",
            auth.require_admin(),
            admin_lndhub::revoke(gw, &method, login).await
        ),
        (_, ["api", "v1", "accounts", address, "nwc"]) => check!(
            "/api/v1/accounts/{address}/nwc",
            auth.require_address(address),
            admin_nwc::account(gw, &method, address, &body).await
        ),
        (&Method::DELETE, ["api", "v1", "nwc", id]) => check!(
            "/api/v1/nwc/{id}",
            auth.require_admin(),
            admin_nwc::revoke(gw, id).await
        ),
        (&Method::POST, ["api", "v1", "accounts", address, "payments"]) => check!(
            "/api/v1/accounts/{address}/payments",
            auth.require_address(address),
            admin_payments::pay(gw, address, &body).await
        ),
        (&Method::GET, ["api", "v1", "payments", hash]) => check!(
            "/api/v1/payments/{hash}",
            auth.require_payment(gw, hash).await,
            admin_payments::one(gw, hash).await
        ),
        (_, ["api", "v1", "withdraw-links", k1]) => check!(
            "/api/v1/withdraw-links/{k1}",
            auth.require_link(gw, k1).await,
            admin_withdraw::one(gw, &method, k1).await
        ),
        (&Method::POST, ["api", "v1", "fake", "fail-next-payments"]) => check!(
            "/api/v1/fake/fail-next-payments",
            auth.require_admin(),
            admin_fake::fail_next(fake, &body)
        ),
        (&Method::GET, ["api", "v1", "zap-receipts"]) => check!(
            "/api/v1/zap-receipts",
            auth.require_admin(),
            admin_outbox::list(gw, query.as_deref()).await
        ),
        // Renders a QR code of the body for the console; reads and changes nothing.
        (&Method::POST, ["console", "qr"]) => ("/console/qr", Ok(pages::console::qr_svg(&body))),
        (&Method::POST, ["api", "v1", "fake", "pay"]) => check!(
            "/api/v1/fake/pay",
            auth.require_admin(),
            admin_fake::pay(fake, &body).await
        ),
        (_, ["api", "v1", "domains", ..] | ["api", "v1", "tokens", ..]) => {
            admin_domains::route(gw, auth, &method, &segs[2..], &body).await
        }
        _ => (
            "other",
            Ok(error_response(StatusCode::NOT_FOUND, "not found")),
        ),
    }
}

async fn read_body(body: Incoming) -> Result<Bytes, Response<Body>> {
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(_) => Err(error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large or unreadable",
        )),
    }
}

fn metrics(gw: &Gateway) -> Response<Body> {
    let mut resp = Response::new(Body::from(gw.metrics().render()));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    resp
}

async fn create(gw: &Gateway, auth: &Auth, body: &[u8]) -> Answer {
    let req: CreateAccount = parse(body)?;
    auth.require_address(&req.address)?;
    let account = gw
        .create_account(
            req.address.parse().map_err(Refusal::from)?,
            req.nostr_pubkey.as_deref(),
        )
        .await?;
    Ok(json(StatusCode::CREATED, &AccountView::new(gw, &account)))
}

async fn list(gw: &Gateway, auth: &Auth, domain: Option<String>) -> Answer {
    // A domain token lists its own domain, and may name no other.
    let domain = domain.or_else(|| auth.domain().map(str::to_string));
    if let Some(d) = &domain {
        auth.require_domain(d)?;
    }
    let domain = match domain {
        Some(d) => Some(gw.domain_named(&d.to_ascii_lowercase())?.name.clone()),
        None => None,
    };
    let accounts = gw.list_accounts(domain.as_ref()).await?;
    let views: Vec<_> = accounts.iter().map(|a| AccountView::new(gw, a)).collect();
    Ok(json(StatusCode::OK, &views))
}

async fn one(gw: &Gateway, method: &Method, address: &str, body: &[u8]) -> Answer {
    let account = match *method {
        Method::GET => gw.account(&super::address(address)?).await?,
        Method::PATCH => {
            let patch: PatchAccount = parse(body)?;
            match patch.nostr_pubkey {
                Some(key) => {
                    gw.set_nostr_pubkey(&super::address(address)?, key.as_deref())
                        .await?
                }
                None => gw.account(&super::address(address)?).await?,
            }
        }
        Method::DELETE => {
            gw.delete_account(&super::address(address)?).await?;
            return Ok(no_content());
        }
        _ => {
            return Ok(error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed",
            ));
        }
    };
    Ok(json(StatusCode::OK, &AccountView::new(gw, &account)))
}

async fn transactions(gw: &Gateway, address: &str, limit: usize) -> Answer {
    let rows = gw
        .transactions_with_receipts(&super::address(address)?, limit)
        .await?;
    Ok(json(StatusCode::OK, &rows))
}
