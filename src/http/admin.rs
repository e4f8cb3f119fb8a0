//! The admin API (admin listener only, `Authorization: Bearer TOKEN`): accounts, their ledger, the
//! fake node's pay button, and `/metrics`; withdraw links (LUD-03) in `http/admin_withdraw.rs`, the
//! zap receipt outbox in `http/admin_outbox.rs`, webhooks and ledger exports in
//! `http/admin_webhooks.rs`; the operator console (`GET /`, no token needed for the page itself) in
//! `http/pages/console.rs`.
//! JSON in and out; amounts in millisatoshis.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde::{Deserialize, Serialize};

use super::error::{Surface, error_response, into_response};
use super::{
    Body, admin_outbox, admin_webhooks, admin_withdraw, json, pages, query_param, segments,
};
use crate::gateway::{Error, Gateway};
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
            balance_msat: a.balance_msat.0,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FakePay {
    invoice: String,
}

mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

/// Handles one admin request.
pub async fn handle(gw: Arc<Gateway>, req: Request<Incoming>, _peer: SocketAddr) -> Response<Body> {
    let started = Instant::now();
    let console = pages::console::unauthenticated(req.method(), req.uri().path());
    let (route, mut resp) = if let Some(answer) = console {
        answer
    } else if !authorized(&gw, &req) {
        let mut resp = error_response(StatusCode::UNAUTHORIZED, "missing or wrong admin token");
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        ("unauthorized", resp)
    } else {
        route(&gw, req).await
    };
    gw.metrics.observe_request(
        route,
        resp.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    resp.extensions_mut()
        .insert(super::request_log::RouteTemplate(route));
    resp
}

fn authorized(gw: &Gateway, req: &Request<Incoming>) -> bool {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|token| gw.admin_token.constant_time_eq(token.trim().as_bytes()))
}

async fn route(gw: &Gateway, req: Request<Incoming>) -> (&'static str, Response<Body>) {
    let method = req.method().clone();
    let query = req.uri().query().map(str::to_string);
    let Some(segs) = segments(req.uri().path()) else {
        return ("other", error_response(StatusCode::NOT_FOUND, "not found"));
    };
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let body = match read_body(req).await {
        Ok(b) => b,
        Err(resp) => return ("other", resp),
    };
    if let Some(answer) = admin_webhooks::route(gw, &method, &segs, query.as_deref(), &body).await {
        return answer;
    }
    match (&method, segs.as_slice()) {
        (&Method::GET, ["metrics"]) => ("/metrics", metrics(gw)),
        (&Method::GET, ["api", "v1", "backup"]) => {
            ("/api/v1/backup", super::admin_backup::backup(gw).await)
        }
        (&Method::POST, ["api", "v1", "accounts"]) => ("/api/v1/accounts", create(gw, &body).await),
        (&Method::GET, ["api", "v1", "accounts"]) => (
            "/api/v1/accounts",
            list(gw, query_param(query.as_deref(), "domain")).await,
        ),
        (_, ["api", "v1", "accounts", address]) => (
            "/api/v1/accounts/{address}",
            one(gw, &method, address, &body).await,
        ),
        (&Method::GET, ["api", "v1", "accounts", address, "transactions"]) => {
            let limit = query_param(query.as_deref(), "limit")
                .and_then(|l| l.parse().ok())
                .unwrap_or(100usize);
            (
                "/api/v1/accounts/{address}/transactions",
                transactions(gw, address, limit.min(1000)).await,
            )
        }
        (&Method::POST, ["api", "v1", "accounts", address, "withdraw-links"]) => (
            "/api/v1/accounts/{address}/withdraw-links",
            admin_withdraw::create(gw, address, &body).await,
        ),
        (_, ["api", "v1", "withdraw-links", k1]) => (
            "/api/v1/withdraw-links/{k1}",
            admin_withdraw::one(gw, &method, k1).await,
        ),
        (&Method::POST, ["api", "v1", "fake", "fail-next-payments"]) => (
            "/api/v1/fake/fail-next-payments",
            admin_withdraw::fail_next(gw, &body).await,
        ),
        (&Method::GET, ["api", "v1", "zap-receipts"]) => (
            "/api/v1/zap-receipts",
            admin_outbox::list(gw, query.as_deref()).await,
        ),
        (&Method::POST, ["console", "qr"]) => ("/console/qr", pages::console::qr_svg(&body)),
        (&Method::POST, ["api", "v1", "fake", "pay"]) => {
            ("/api/v1/fake/pay", fake_pay(gw, &body).await)
        }
        _ => ("other", error_response(StatusCode::NOT_FOUND, "not found")),
    }
}

async fn read_body(req: Request<Incoming>) -> Result<Bytes, Response<Body>> {
    match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(_) => Err(error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large or unreadable",
        )),
    }
}

pub(super) fn parse<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| Error::BadRequest(format!("invalid JSON body: {e}")))
}

pub(super) fn answer<T: Serialize>(status: StatusCode, result: Result<T, Error>) -> Response<Body> {
    match result {
        Ok(v) => json(status, &v),
        Err(e) => into_response(&e, Surface::Admin),
    }
}

fn metrics(gw: &Gateway) -> Response<Body> {
    let mut resp = Response::new(Body::from(gw.metrics.render()));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    resp
}

async fn create(gw: &Gateway, body: &[u8]) -> Response<Body> {
    let result = async {
        let req: CreateAccount = parse(body)?;
        let account = gw
            .create_account(&req.address, req.nostr_pubkey.as_deref())
            .await?;
        Ok(AccountView::new(gw, &account))
    }
    .await;
    answer(StatusCode::CREATED, result)
}

async fn list(gw: &Gateway, domain: Option<String>) -> Response<Body> {
    let result = async {
        let domain = match domain {
            Some(d) => Some(gw.domain_named(&d.to_ascii_lowercase())?.name.clone()),
            None => None,
        };
        let accounts = gw.store.list_accounts(domain.as_ref()).await?;
        Ok(accounts
            .iter()
            .map(|a| AccountView::new(gw, a))
            .collect::<Vec<_>>())
    }
    .await;
    answer(StatusCode::OK, result)
}

async fn one(gw: &Gateway, method: &Method, address: &str, body: &[u8]) -> Response<Body> {
    match *method {
        Method::GET => answer(
            StatusCode::OK,
            gw.account(address).await.map(|a| AccountView::new(gw, &a)),
        ),
        Method::PATCH => {
            let result = async {
                let patch: PatchAccount = parse(body)?;
                let account = match patch.nostr_pubkey {
                    Some(key) => gw.set_nostr_pubkey(address, key.as_deref()).await?,
                    None => gw.account(address).await?,
                };
                Ok(AccountView::new(gw, &account))
            }
            .await;
            answer(StatusCode::OK, result)
        }
        Method::DELETE => match gw.delete_account(address).await {
            Ok(()) => {
                let mut resp = Response::new(Body::default());
                *resp.status_mut() = StatusCode::NO_CONTENT;
                resp
            }
            Err(e) => into_response(&e, Surface::Admin),
        },
        _ => error_response(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
    }
}

async fn transactions(gw: &Gateway, address: &str, limit: usize) -> Response<Body> {
    answer(
        StatusCode::OK,
        gw.transactions_with_receipts(address, limit).await,
    )
}

async fn fake_pay(gw: &Gateway, body: &[u8]) -> Response<Body> {
    let result = async {
        let req: FakePay = parse(body)?;
        let hash = gw.fake_pay(&req.invoice).await?;
        Ok(serde_json::json!({"status": "OK", "payment_hash": hash}))
    }
    .await;
    answer(StatusCode::OK, result)
}
