//! HTTP on hyper 1.x: the accept loop with graceful shutdown, request parsing helpers and JSON
//! answers. Routing lives in [`public`] and [`admin`], one file per endpoint family; errors become
//! HTTP answers only in [`error`].

pub mod admin;
mod admin_backup;
mod admin_domains;
mod admin_fake;
mod admin_lndhub;
mod admin_nwc;
mod admin_outbox;
mod admin_payments;
mod admin_webhooks;
mod admin_withdraw;
pub mod auth;
pub mod client_ip;
pub mod error;
mod health;
pub mod layers;
pub mod limits;
pub mod lndhub;
mod lnurlp;
mod nip05;
pub mod pages;
pub mod public;
pub mod ratelimit;
pub mod request_log;
mod voucher;
mod withdraw;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, CONTENT_TYPE, HeaderName, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

pub type Body = Full<Bytes>;

/// Serves `handler` on `listener` until `shutdown` turns true, then lets open requests finish for
/// up to `limits.grace`. At most `limits.max_connections` connections are open at once.
pub async fn serve<F, Fut>(
    listener: TcpListener,
    handler: F,
    mut shutdown: watch::Receiver<bool>,
    limits: limits::ConnLimits,
) where
    F: Fn(Request<Incoming>, SocketAddr) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response<Body>> + Send + 'static,
{
    let builder = limits.builder();
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            _ = shutdown.changed() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let handler = handler.clone();
        let activity = Arc::new(limits::Activity::default());
        let activity_in_service = activity.clone();
        let service = hyper::service::service_fn(move |req| {
            let in_flight = activity_in_service.begin();
            let handler = handler.clone();
            async move {
                let resp = handler(req, peer).await;
                drop(in_flight);
                Ok::<_, Infallible>(resp)
            }
        });
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let conn = graceful.watch(conn);
        let idle = limits.header_read_timeout;
        tokio::spawn(async move {
            limits::drive(conn, activity, idle).await;
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("open connections did not finish within the shutdown grace period");
    }
}

/// A JSON answer.
pub fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(bytes) => json_bytes(status, bytes),
        Err(e) => {
            tracing::error!(error = %e, "could not serialize a response");
            json_bytes(
                StatusCode::INTERNAL_SERVER_ERROR,
                br#"{"status":"ERROR","reason":"internal error"}"#.to_vec(),
            )
        }
    }
}

pub fn json_bytes(status: StatusCode, bytes: impl Into<Bytes>) -> Response<Body> {
    answer(status, bytes, &[(CONTENT_TYPE, "application/json")])
}

/// Path segments, percent-decoded. `None` when a segment is not UTF-8 after decoding.
pub fn segments(path: &str) -> Option<Vec<String>> {
    path.trim_start_matches('/')
        .split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .ok()
                .map(|c| c.into_owned())
        })
        .collect()
}

/// The first value of query parameter `name` (form-urlencoded: `+` is a space).
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// What a handler answers: a response, or an error that its router turns into one, in one place
/// ([`error::into_response`], which also logs it). Shared by the route modules, which therefore
/// import only this module, never each other.
pub(crate) type Answer = Result<Response<Body>, error::ApiError>;

/// An admin request's JSON body, or a 400 naming what is wrong with it.
pub(crate) fn parse<'a, T: serde::Deserialize<'a>>(
    body: &'a [u8],
) -> Result<T, crate::gateway::Error> {
    serde_json::from_slice(body).map_err(|e| crate::gateway::Refusal::InvalidJson(e).into())
}

/// A withdraw link's k1 from a path: one that is not 64 hex characters names no link.
pub(crate) fn k1(raw: &str) -> Result<crate::types::K1, crate::gateway::Error> {
    raw.parse().map_err(|_| crate::gateway::Error::UnknownLink)
}

/// An account's address from a path: one that does not parse names no account.
pub(crate) fn address(raw: &str) -> Result<crate::types::LightningAddress, crate::gateway::Error> {
    raw.parse().map_err(|_| crate::gateway::Error::UnknownUser)
}

/// An answer of `status` with `body` and the fixed `headers`, set in their order.
pub(crate) fn answer(
    status: StatusCode,
    body: impl Into<Bytes>,
    headers: &[(HeaderName, &'static str)],
) -> Response<Body> {
    let mut resp = Response::new(Full::new(body.into()));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    for (name, value) in headers {
        h.insert(name.clone(), HeaderValue::from_static(value));
    }
    resp
}

/// The answer to a CORS preflight (`OPTIONS`): the `methods` and request `headers` allowed, for a
/// day.
pub(crate) fn preflight(methods: &'static str, headers: &'static str) -> Response<Body> {
    answer(
        StatusCode::NO_CONTENT,
        Bytes::new(),
        &[
            (header::ACCESS_CONTROL_ALLOW_METHODS, methods),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, headers),
            (header::ACCESS_CONTROL_MAX_AGE, "86400"),
        ],
    )
}

/// An empty 204 answer.
pub(crate) fn no_content() -> Response<Body> {
    let mut resp = Response::new(Body::default());
    *resp.status_mut() = StatusCode::NO_CONTENT;
    resp
}
