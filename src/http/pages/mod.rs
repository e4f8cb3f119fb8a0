//! Pages for people (SPEC "Pages for people"): the pay page `GET /pay/{username}` and the QR
//! codes it shows ([`pay`], [`qr`]), the operator console on the admin listener ([`console`]),
//! and what they share: HTML escaping, the static assets (CSS and JS, served as separate files so
//! that the Content-Security-Policy forbids every inline script and style), and the headers of an
//! HTML answer. The voucher page (`http/voucher.rs`) uses the same escaping, stylesheet and CSP.

pub mod console;
pub mod pay;
pub mod qr;

use std::sync::LazyLock;

use bytes::Bytes;
use hyper::header;
use hyper::{Response, StatusCode};
use sha2::{Digest, Sha256};

use super::Body;
use crate::types::Msat;

/// The policy of every page: only this origin's scripts, styles, images and fetches; no inline
/// script or style, no frames, no plugins, no form posts elsewhere. `blob:` images are the QR
/// codes the console fetches with its token.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self' data: blob:; connect-src 'self'; form-action 'self'; base-uri 'none'; \
frame-ancestors 'none'";

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An HTML answer with the page headers: the CSP, no MIME sniffing, no referrer (a voucher's URL
/// is its secret), not cached (balances and link states change).
pub fn html(status: StatusCode, page: String) -> Response<Body> {
    super::answer(
        status,
        page,
        &[
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-store"),
        ],
    )
}

/// The page skeleton: `title` and `body` are HTML already (escape what goes in them); `assets`
/// names the stylesheet and scripts, from [`ASSETS`].
pub fn document(title: &str, css: &str, js: &[&str], body: &str) -> String {
    let mut scripts = String::new();
    for name in js {
        scripts.push_str(&format!(
            "<script src=\"{}\" defer></script>",
            asset_url(name)
        ));
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title}</title><link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"{css}\">{scripts}</head>\
<body>{body}</body></html>\n",
        css = asset_url(css),
    )
}

/// A static file compiled into the binary.
pub struct Asset {
    pub name: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

/// Every asset, public and console alike (none holds anything secret).
pub const ASSETS: &[Asset] = &[
    Asset {
        name: "pages.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("assets/pages.css"),
    },
    Asset {
        name: "pages.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("assets/pages.js"),
    },
    Asset {
        name: "console.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("assets/console.css"),
    },
    Asset {
        name: "console.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("assets/console.js"),
    },
];

/// A short hash of all assets: their URLs carry it (`?v=`), so a new build's pages never run
/// with a cached old script.
static VERSION: LazyLock<String> = LazyLock::new(|| {
    let mut h = Sha256::new();
    for a in ASSETS {
        h.update(a.bytes);
    }
    hex::encode(&h.finalize()[..6])
});

/// The URL of an asset, with the version for cache busting.
pub fn asset_url(name: &str) -> String {
    format!("/assets/{name}?v={}", *VERSION)
}

/// `GET /assets/{name}`: the file with a day of caching (the `?v=` in page links changes with
/// every build), or `None` when there is no such asset.
pub fn asset(name: &str) -> Option<Response<Body>> {
    let a = ASSETS.iter().find(|a| a.name == name)?;
    Some(super::answer(
        StatusCode::OK,
        Bytes::from_static(a.bytes),
        &[
            (header::CONTENT_TYPE, a.content_type),
            (header::CACHE_CONTROL, "public, max-age=86400"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
    ))
}

/// Millisatoshis as sats, with the msat part only when there is one.
pub fn sats(m: Msat) -> String {
    match m.sub_sat() {
        0 => format!("{} sat", m.sat_floor()),
        rest => format!("{}.{rest:03} sat", m.sat_floor()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_formats() {
        assert_eq!(
            escape("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
        assert_eq!(sats(Msat::from_msat(21_000)), "21 sat");
        assert_eq!(sats(Msat::from_msat(1_500)), "1.500 sat");
    }

    #[test]
    fn assets_are_served_with_cache_headers_and_versioned_urls() {
        let resp = asset("pages.js").expect("pages.js");
        assert_eq!(
            resp.headers()[header::CACHE_CONTROL],
            "public, max-age=86400"
        );
        assert!(asset("../Cargo.toml").is_none());
        assert!(asset_url("pages.css").starts_with("/assets/pages.css?v="));
    }
}
