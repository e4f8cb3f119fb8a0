//! The public listener's router: wallets and browsers. Every answer carries
//! `Access-Control-Allow-Origin: *`, and `OPTIONS` preflights are answered, so web wallets can call
//! us. The admin API is not routed here at all.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use super::error::{Surface, error_response, into_response};
use super::{Body, health, lndhub, lnurlp, nip05, pages, segments, withdraw};
use crate::gateway::Gateway;

/// What a public request asks for, with its route template for metrics. The LNURL-pay and NIP-05
/// routes are also served under `/d/{domain}/`, which names the domain instead of the Host header
/// (see [`crate::config::DomainSettings::lnurl_base`]); the template stays the same.
enum Route {
    PayRequest(String),
    PayCallback(String),
    Verify(String, String),
    Nip05,
    WithdrawRequest(String),
    WithdrawCallback(String),
    WithdrawPage(String),
    WithdrawQr(String, bool),
    PayPage(String),
    QrSvg,
    Asset(String),
    Healthz,
    Readyz,
    NotFound,
}

impl Route {
    /// The route, and the domain the path names (`/d/{domain}/...`).
    fn parse(path: &str) -> (Route, Option<String>) {
        let Some(segs) = segments(path) else {
            return (Route::NotFound, None);
        };
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        if let ["d", domain, rest @ ..] = segs.as_slice() {
            let route = match Self::parse_segments(rest) {
                r @ (Route::PayRequest(_)
                | Route::PayCallback(_)
                | Route::Verify(..)
                | Route::Nip05) => r,
                _ => Route::NotFound,
            };
            return (route, Some(domain.to_string()));
        }
        (Self::parse_segments(&segs), None)
    }

    fn parse_segments(segs: &[&str]) -> Route {
        match segs {
            [".well-known", "lnurlp", user] => Route::PayRequest(user.to_string()),
            [".well-known", "nostr.json"] => Route::Nip05,
            ["lnurlp", user, "callback"] => Route::PayCallback(user.to_string()),
            ["lnurlp", user, "verify", hash] => Route::Verify(user.to_string(), hash.to_string()),
            ["lnurlw", k1] => Route::WithdrawRequest(k1.to_string()),
            ["lnurlw", k1, "callback"] => Route::WithdrawCallback(k1.to_string()),
            ["withdraw", k1] => Route::WithdrawPage(k1.to_string()),
            ["withdraw", k1, "qr.svg"] => Route::WithdrawQr(k1.to_string(), false),
            ["withdraw", k1, "qr.png"] => Route::WithdrawQr(k1.to_string(), true),
            ["pay", user] => Route::PayPage(user.to_string()),
            ["qr.svg"] => Route::QrSvg,
            ["assets", name] => Route::Asset(name.to_string()),
            ["healthz"] => Route::Healthz,
            ["readyz"] => Route::Readyz,
            _ => Route::NotFound,
        }
    }

    fn template(&self) -> &'static str {
        match self {
            Route::PayRequest(_) => "/.well-known/lnurlp/{username}",
            Route::PayCallback(_) => "/lnurlp/{username}/callback",
            Route::Verify(..) => "/lnurlp/{username}/verify/{payment_hash}",
            Route::Nip05 => "/.well-known/nostr.json",
            Route::WithdrawRequest(_) => "/lnurlw/{k1}",
            Route::WithdrawCallback(_) => "/lnurlw/{k1}/callback",
            Route::WithdrawPage(_) => "/withdraw/{k1}",
            Route::WithdrawQr(_, false) => "/withdraw/{k1}/qr.svg",
            Route::WithdrawQr(_, true) => "/withdraw/{k1}/qr.png",
            Route::PayPage(_) => "/pay/{username}",
            Route::QrSvg => "/qr.svg",
            Route::Asset(_) => "/assets/{name}",
            Route::Healthz => "/healthz",
            Route::Readyz => "/readyz",
            Route::NotFound => "other",
        }
    }
}

/// Handles one public request.
pub async fn handle(gw: Arc<Gateway>, req: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
    let started = Instant::now();
    if lndhub::is_lndhub(req.uri().path()) {
        let (template, resp) = lndhub::handle(
            gw.lndhub(),
            &gw.settings().limits.trusted_proxies,
            req,
            peer,
        )
        .await;
        return finish(&gw, template, resp, started);
    }
    let (route, named) = Route::parse(req.uri().path());
    let named = named.as_deref();
    let template = route.template();
    let answer = if req.method() == Method::OPTIONS {
        Ok(super::preflight("GET, OPTIONS", "*"))
    } else if req.method() != Method::GET && req.method() != Method::HEAD {
        Ok(error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed",
        ))
    } else {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| req.uri().authority().map(|a| a.as_str()));
        let query = req.uri().query();
        match route {
            Route::PayRequest(user) => lnurlp::pay_request(&gw, host, named, &user).await,
            Route::PayCallback(user) => lnurlp::callback(&gw, host, named, &user, query).await,
            Route::Verify(user, hash) => lnurlp::verify(&gw, host, named, &user, &hash).await,
            Route::Nip05 => nip05::names(&gw, host, named, query).await,
            Route::WithdrawRequest(k1) => withdraw::request(&gw, &k1).await,
            Route::WithdrawCallback(k1) => withdraw::callback(&gw, &k1, query).await,
            Route::WithdrawPage(k1) => withdraw::page(&gw, &k1).await,
            Route::WithdrawQr(k1, png) => withdraw::qr_code(&gw, &k1, png).await,
            Route::PayPage(user) => Ok(pages::pay::page(&gw, host, &user).await),
            Route::QrSvg => Ok(pages::qr::svg(query)),
            Route::Asset(name) => Ok(pages::asset(&name)
                .unwrap_or_else(|| error_response(StatusCode::NOT_FOUND, "not found"))),
            Route::Healthz => Ok(health::healthz()),
            Route::Readyz => Ok(health::readyz(&gw).await),
            Route::NotFound => Ok(error_response(StatusCode::NOT_FOUND, "not found")),
        }
    };
    // The one place a public handler's error becomes its answer.
    let resp = answer.unwrap_or_else(|e| into_response(&e, Surface::Public));
    finish(&gw, template, resp, started)
}

/// The headers every public answer carries, its metrics and its route for the access log.
fn finish(
    gw: &Gateway,
    template: &'static str,
    mut resp: Response<Body>,
    started: Instant,
) -> Response<Body> {
    let headers = resp.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    // Pages and assets set their own caching; everything else is fresh on every request.
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    gw.metrics().observe_request(
        template,
        resp.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    resp.extensions_mut()
        .insert(super::request_log::RouteTemplate(template));
    resp
}
