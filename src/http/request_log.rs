//! One structured log line per request: request id, listener, method, route template (never the
//! raw path or query, which carry user input and withdraw secrets), status, latency and client.
//! The request id is taken from an incoming `X-Request-Id` only when it is short and made of safe
//! characters; otherwise one is generated. It is sent back in the `X-Request-Id` answer header and
//! is a field of the request's tracing span, so every line logged while serving it carries it.

use std::net::IpAddr;
use std::time::Instant;

use hyper::header::HeaderValue;
use hyper::{HeaderMap, Method, Response};

use super::Body;

/// The request id header, in and out.
pub const X_REQUEST_ID: &str = "x-request-id";
/// Longest incoming request id accepted.
const MAX_ID_LEN: usize = 64;

/// The route template a router answered for, put in the answer's extensions by the router.
#[derive(Debug, Clone, Copy)]
pub struct RouteTemplate(pub &'static str);

/// The incoming id when it is 1..=64 characters of `A-Za-z0-9._-`, else a new random one.
pub fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|id| is_safe_id(id))
        .map_or_else(new_id, str::to_string)
}

/// Whether `id` may be echoed and logged as it is.
pub fn is_safe_id(id: &str) -> bool {
    (1..=MAX_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn new_id() -> String {
    hex::encode(rand::random::<[u8; 12]>())
}

/// What is known of a request before it is answered.
pub struct RequestInfo {
    pub id: String,
    pub listener: &'static str,
    pub method: Method,
    pub client: IpAddr,
    pub started: Instant,
}

/// Sets `X-Request-Id` on the answer and logs the request's line. `fallback` is the route template
/// when no router answered (a limit did); answers whether a router did.
pub fn finish(info: &RequestInfo, resp: &mut Response<Body>, fallback: &'static str) -> bool {
    let routed = resp.extensions().get::<RouteTemplate>().copied();
    let route = routed.map_or(fallback, |r| r.0);
    if let Ok(v) = HeaderValue::from_str(&info.id) {
        resp.headers_mut().insert(X_REQUEST_ID, v);
    }
    let status = resp.status().as_u16();
    let latency_ms = info.started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        target: "lnaddr::access",
        request_id = %info.id,
        listener = info.listener,
        method = %info.method,
        route,
        status,
        latency_ms,
        client = %info.client,
        "request"
    );
    routed.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_safe_ids_are_taken() {
        let mut h = HeaderMap::new();
        h.insert(X_REQUEST_ID, HeaderValue::from_static("abc-123_x.y"));
        assert_eq!(request_id(&h), "abc-123_x.y");
        for bad in ["", "a b", "x\"y", &"a".repeat(65), "é"] {
            assert!(!is_safe_id(bad), "{bad:?}");
        }
        h.insert(X_REQUEST_ID, HeaderValue::from_static("evil\"json"));
        let id = request_id(&h);
        assert_eq!(id.len(), 24);
        assert!(is_safe_id(&id));
    }
}
