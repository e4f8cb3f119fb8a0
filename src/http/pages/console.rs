//! The operator console, `GET /` on the admin listener (SPEC "Pages for people"): a static page
//! and its script, a client of the admin API and nothing more. The page and its assets are the
//! only admin routes answered without a token (they hold no data); the script keeps the token the
//! operator signs in with in `sessionStorage` and sends it as `Authorization: Bearer` on every
//! API call, so there is no second way to read or change data. `POST /console/qr` (token
//! required) draws the QR code of a text the console shows (an LNURL, an `lndhub://` URL, a
//! `nostr+walletconnect://` URI): those hold secrets, so they travel in a body, never in a URL.

use bytes::Bytes;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Response, StatusCode};

use super::super::Body;
use super::super::error::error_response;
use super::{asset, document, html};
use crate::withdraw::qr;

/// Longest text drawn by `POST /console/qr`.
const MAX_QR_TEXT: usize = 2048;

/// The console's answer to a request that needs no token (the page and its assets), with its
/// route template, or `None` when the request is for the API.
pub fn unauthenticated(method: &Method, path: &str) -> Option<(&'static str, Response<Body>)> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    if path == "/" {
        return Some(("/", html(StatusCode::OK, page())));
    }
    let name = path.strip_prefix("/assets/")?;
    Some((
        "/assets/{name}",
        asset(name).unwrap_or_else(|| error_response(StatusCode::NOT_FOUND, "not found")),
    ))
}

/// The page: a shell that `console.js` fills in.
fn page() -> String {
    let body = "<header class=\"top\"><h1>lnaddr console</h1>\
<nav id=\"nav\" hidden><a href=\"#accounts\">Accounts</a><a href=\"#domains\">Domains</a>\
<a href=\"#zaps\">Zap receipts</a><a href=\"#webhooks\">Webhooks</a>\
<button id=\"signout\" type=\"button\" class=\"link\">Sign out</button></nav></header>\
<main id=\"main\"><form id=\"signin\" class=\"panel narrow\" hidden>\
<h2>Sign in</h2><label for=\"token\">Admin or domain token</label>\
<input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" required>\
<button type=\"submit\">Sign in</button><p id=\"signin-error\" class=\"error\" role=\"alert\"></p>\
<p class=\"hint\">The admin token is in <code>data/admin.token</code> by default. It is kept \
in this tab only (sessionStorage) and sent to this listener's API.</p></form>\
<div id=\"view\"></div></main>";
    document("lnaddr console", "console.css", &["console.js"], body)
}

/// `POST /console/qr` with the text as the body: its QR code as SVG.
pub fn qr_svg(body: &Bytes) -> Response<Body> {
    let text = match std::str::from_utf8(body) {
        Ok(t) if !t.trim().is_empty() && t.len() <= MAX_QR_TEXT => t.trim(),
        _ => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "the body must be the text to draw, 1 to 2048 bytes of UTF-8",
            );
        }
    };
    match qr::svg(text) {
        Ok(svg) => {
            let mut resp = Response::new(Body::from(svg));
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("image/svg+xml"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp
        }
        Err(e) => error_response(StatusCode::BAD_REQUEST, &e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_page_and_assets_are_open() {
        assert!(unauthenticated(&Method::GET, "/").is_some());
        assert!(unauthenticated(&Method::GET, "/assets/console.js").is_some());
        assert!(unauthenticated(&Method::POST, "/").is_none());
        assert!(unauthenticated(&Method::GET, "/api/v1/accounts").is_none());
        assert!(unauthenticated(&Method::GET, "/metrics").is_none());
        let (_, missing) = unauthenticated(&Method::GET, "/assets/nope.js").expect("answered");
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn qr_needs_text() {
        assert_eq!(
            qr_svg(&Bytes::from_static(b"")).status(),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            qr_svg(&Bytes::from_static(
                b"lndhub://a:b@https://example.com/lndhub"
            ))
            .status(),
            StatusCode::OK
        );
    }
}
