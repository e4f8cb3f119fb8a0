//! The LndHub API on the public listener, under `/lndhub` (and `/lndhub/i/{invite}`, the base URL
//! an invite hands to BlueWallet's "create" flow; the code only matters to `/create`). Bodies are
//! JSON (or a form, as old LndHub clients send); answers are LndHub's shapes
//! ([`crate::lndhub::views`]) and errors LndHub's `{"error":true,"code":N,"message":...}`, with
//! an HTTP status: 401 bad auth (code 1), 400 bad input, 403 registration refused, 404 not found,
//! 429 rate limited, 500 our fault or a backend down (code 6), 503 only for a payment still in
//! flight (BlueWallet reads 503 as "payment is in transit").

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Map, Value, json};

use super::{Body, json as json_response, query_param, segments};
use crate::config::TrustedProxy;
use crate::lndhub::{Hub, HubError};

/// Largest request body.
const MAX_BODY: usize = 16 * 1024;

/// Whether `path` is an LndHub path.
pub fn is_lndhub(path: &str) -> bool {
    path == "/lndhub" || path.starts_with("/lndhub/")
}

/// LndHub's error answer.
pub fn error(e: &HubError) -> Response<Body> {
    let status = match e {
        HubError::BadAuth => StatusCode::UNAUTHORIZED,
        HubError::NotEnoughBalance
        | HubError::InvalidInvoice(_)
        | HubError::PaymentFailed(_)
        | HubError::BadArguments(_) => StatusCode::BAD_REQUEST,
        HubError::Unavailable => StatusCode::INTERNAL_SERVER_ERROR,
        HubError::InFlight => StatusCode::SERVICE_UNAVAILABLE,
        HubError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
        HubError::Forbidden(_) => StatusCode::FORBIDDEN,
        HubError::NotFound => StatusCode::NOT_FOUND,
    };
    let mut resp = json_response(
        status,
        &json!({"error": true, "code": e.code(), "message": e.to_string()}),
    );
    if let HubError::RateLimited(wait) = e {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    }
    resp
}

/// A successful LndHub answer: `value` as JSON.
fn ok<T: serde::Serialize>(value: T) -> Response<Body> {
    json_response(StatusCode::OK, &value)
}

/// The body as a JSON object: JSON, or a form (`a=1&b=2`); anything else is empty.
fn body_object(content_type: Option<&str>, body: &[u8]) -> Result<Map<String, Value>, HubError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    if content_type.is_some_and(|c| c.contains("x-www-form-urlencoded")) {
        return Ok(url::form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(HubError::BadArguments(
            "the body must be a JSON object".into(),
        )),
    }
}

fn str_field<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    body.get(name).and_then(Value::as_str)
}

fn limit_param(query: Option<&str>, name: &str, default: usize) -> usize {
    query_param(query, name)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Handles one LndHub request with `hub` (the client's address counted past `trusted_proxies`);
/// answers its route template (for metrics) and the answer. The one place an LndHub error becomes
/// its answer ([`error`]).
pub async fn handle(
    hub: &Hub,
    trusted_proxies: &[TrustedProxy],
    req: Request<Incoming>,
    peer: SocketAddr,
) -> (&'static str, Response<Body>) {
    let (template, answer) = route(hub, trusted_proxies, req, peer).await;
    (template, answer.unwrap_or_else(|e| error(&e)))
}

async fn route(
    hub: &Hub,
    trusted_proxies: &[TrustedProxy],
    req: Request<Incoming>,
    peer: SocketAddr,
) -> (&'static str, Result<Response<Body>, HubError>) {
    let Some(segs) = segments(req.uri().path()) else {
        return ("/lndhub/other", Err(HubError::NotFound));
    };
    let mut segs: Vec<String> = segs.into_iter().skip(1).collect();
    let mut invite = None;
    if segs.first().is_some_and(|s| s == "i") && segs.len() >= 2 {
        invite = Some(segs[1].clone());
        segs.drain(..2);
    }
    let method = req.method().clone();
    if method == Method::OPTIONS {
        return (
            "/lndhub/preflight",
            Ok(super::preflight(
                "GET, POST, OPTIONS",
                "authorization, content-type, access-control-allow-origin",
            )),
        );
    }
    let query = req.uri().query().map(str::to_string);
    let client = super::client_ip::client_ip(peer.ip(), req.headers(), trusted_proxies);
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string);
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
                .unwrap_or(v)
                .to_string()
        });
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body: Bytes = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => {
            return (
                "/lndhub/other",
                Err(HubError::BadArguments("request body too large".into())),
            );
        }
    };
    let body = match body_object(content_type.as_deref(), &body) {
        Ok(b) => b,
        Err(e) => return ("/lndhub/other", Err(e)),
    };
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let q = query.as_deref();

    // Calls without a session.
    match (&method, segs.as_slice()) {
        (&Method::POST, ["auth"]) => {
            let kind = query_param(q, "type");
            let refresh = str_field(&body, "refresh_token");
            let result = match (kind.as_deref(), refresh) {
                (Some("refresh_token"), _) | (None, Some(_)) => {
                    hub.refresh(refresh.unwrap_or_default()).await
                }
                _ => {
                    let login = str_field(&body, "login").unwrap_or_default();
                    let password = str_field(&body, "password").unwrap_or_default();
                    hub.login(login, password, client).await
                }
            };
            let result = result.map(|t| crate::lndhub::views::AuthAnswer {
                access_token: t.access_token,
                refresh_token: t.refresh_token,
            });
            return ("/lndhub/auth", result.map(ok));
        }
        (&Method::POST, ["create"]) => {
            let code = invite
                .as_deref()
                .or_else(|| str_field(&body, "invite"))
                .or_else(|| str_field(&body, "invite_code"));
            let result = hub.register(host.as_deref(), code, client).await;
            return ("/lndhub/create", result.map(ok));
        }
        _ => {}
    }

    let session = match hub.authenticate(bearer.as_deref()).await {
        Ok(s) => s,
        Err(e) => return ("/lndhub/unauthorized", Err(e)),
    };
    match (&method, segs.as_slice()) {
        (&Method::GET, ["getinfo"]) => ("/lndhub/getinfo", Ok(ok(hub.info().await))),
        (&Method::GET, ["balance"]) => ("/lndhub/balance", Ok(ok(hub.balance(&session)))),
        (&Method::POST, ["addinvoice"]) => {
            let result = hub
                .add_invoice(&session, body.get("amt"), str_field(&body, "memo"))
                .await;
            ("/lndhub/addinvoice", result.map(ok))
        }
        (&Method::POST, ["payinvoice"]) => {
            let result = hub
                .pay(&session, str_field(&body, "invoice"), body.get("amount"))
                .await;
            ("/lndhub/payinvoice", result.map(ok))
        }
        (&Method::GET, ["gettxs"]) => {
            let result = hub
                .txs(
                    &session,
                    limit_param(q, "limit", 100),
                    limit_param(q, "offset", 0),
                )
                .await;
            ("/lndhub/gettxs", result.map(ok))
        }
        (&Method::GET, ["getuserinvoices"]) => {
            let result = hub
                .user_invoices(&session, limit_param(q, "limit", 100))
                .await;
            ("/lndhub/getuserinvoices", result.map(ok))
        }
        (&Method::GET, ["getpending"]) => ("/lndhub/getpending", Ok(ok(Vec::<Value>::new()))),
        (&Method::GET, ["getbtc"]) => ("/lndhub/getbtc", Ok(ok(Vec::<Value>::new()))),
        (&Method::GET, ["decodeinvoice"]) => {
            let invoice = query_param(q, "invoice").unwrap_or_default();
            (
                "/lndhub/decodeinvoice",
                crate::lndhub::wallet::decode(&invoice).map(ok),
            )
        }
        (&Method::GET, ["checkpayment", hash]) => (
            "/lndhub/checkpayment/{payment_hash}",
            hub.check_payment(&session, hash).await.map(ok),
        ),
        _ => ("/lndhub/other", Err(HubError::NotFound)),
    }
}
