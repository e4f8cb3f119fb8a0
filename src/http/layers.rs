//! What wraps the routers: request ids and the access log line, the URL length limit (414), the
//! rate limits (429 with `Retry-After`) and a deadline per request (503), each answered with the
//! LNURL error body. The routers ([`super::public`], [`super::admin`]) stay unaware of them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};
use tracing::Instrument;

use super::client_ip::client_ip;
use super::error::error_response;
use super::ratelimit::{RateLimiter, classify};
use super::request_log::{self, RequestInfo};
use super::{Body, admin, public};
use crate::config::LimitSettings;
use crate::gateway::Gateway;

/// Per-listener state of the layers.
pub struct Layers {
    limits: LimitSettings,
    limiter: RateLimiter,
}

impl Layers {
    pub fn new(limits: &LimitSettings) -> Arc<Self> {
        Arc::new(Layers {
            limits: limits.clone(),
            limiter: RateLimiter::new(limits),
        })
    }
}

/// The public listener: log, URL limit, rate limits, deadline, then [`public::handle`].
pub async fn public(
    gw: Arc<Gateway>,
    layers: Arc<Layers>,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Body> {
    let info = info("public", &req, peer, &layers.limits);
    let (class, template) = classify(req.uri().path());
    let span = tracing::info_span!("request", request_id = %info.id);
    let mut resp = async {
        if let Some(resp) = url_too_long(&req, &layers.limits) {
            return resp;
        }
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| req.uri().authority().map(|a| a.as_str()));
        let limited = layers.limiter.check(&gw, &class, info.client, host).await;
        if let Some(wait) = limited {
            return too_many_requests(wait);
        }
        deadline(
            layers.limits.request_timeout,
            public::handle(gw.clone(), req, peer),
        )
        .await
    }
    .instrument(span)
    .await;
    let h = resp.headers_mut();
    h.entry(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .or_insert(HeaderValue::from_static("*"));
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    if !request_log::finish(&info, &mut resp, template) {
        let elapsed = info.started.elapsed().as_secs_f64();
        gw.metrics()
            .observe_request(template, resp.status().as_u16(), elapsed);
    }
    resp
}

/// The admin listener: log, URL limit, deadline, then [`admin::handle`] (which checks the token
/// and limits the body to 64 KiB, answering 413 over it).
pub async fn admin(
    state: Arc<admin::AdminState>,
    layers: Arc<Layers>,
    req: Request<Incoming>,
    peer: SocketAddr,
) -> Response<Body> {
    let info = info("admin", &req, peer, &layers.limits);
    let span = tracing::info_span!("request", request_id = %info.id);
    let mut resp = async {
        if let Some(resp) = url_too_long(&req, &layers.limits) {
            return resp;
        }
        deadline(
            layers.limits.request_timeout,
            admin::handle(state, req, peer),
        )
        .await
    }
    .instrument(span)
    .await;
    request_log::finish(&info, &mut resp, "other");
    resp
}

fn info(
    listener: &'static str,
    req: &Request<Incoming>,
    peer: SocketAddr,
    limits: &LimitSettings,
) -> RequestInfo {
    RequestInfo {
        id: request_log::request_id(req.headers()),
        listener,
        method: req.method().clone(),
        client: client_ip(peer.ip(), req.headers(), &limits.trusted_proxies),
        started: Instant::now(),
    }
}

/// 414 when the path and query are longer than allowed.
fn url_too_long(req: &Request<Incoming>, limits: &LimitSettings) -> Option<Response<Body>> {
    let len = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    (len > limits.max_url_bytes).then(|| error_response(StatusCode::URI_TOO_LONG, "URL too long"))
}

/// 429 with `Retry-After` in whole seconds (at least 1).
pub fn too_many_requests(wait: Duration) -> Response<Body> {
    let mut resp = error_response(
        StatusCode::TOO_MANY_REQUESTS,
        "too many requests, try again later",
    );
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    resp
}

/// Answers 503 when `handler` takes longer than `limit`.
async fn deadline(
    limit: Duration,
    handler: impl Future<Output = Response<Body>>,
) -> Response<Body> {
    match tokio::time::timeout(limit, handler).await {
        Ok(resp) => resp,
        Err(_) => {
            tracing::warn!(timeout_secs = limit.as_secs(), "request timed out");
            error_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "the request took too long, try again later",
            )
        }
    }
}
