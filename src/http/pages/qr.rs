//! `GET /qr.svg?data=...` on the public listener: the QR code of a BOLT 11 invoice or an LNURL,
//! for the pay page (its script shows the invoice it fetched as `<img src="/qr.svg?data=...">`,
//! so the page needs no QR encoder of its own and no inline SVG from script). Anything else is
//! refused, so the endpoint is not a QR service for arbitrary text.

use hyper::header;
use hyper::{Response, StatusCode};
use lightning_invoice::Bolt11Invoice;

use super::super::error::error_response;
use super::super::{Body, query_param};
use crate::withdraw::qr;

/// Longest `data` taken: far above any invoice a wallet would scan, below a QR code's capacity.
const MAX_DATA: usize = 2048;

/// What a QR code may show here, upper-cased (QR's compact alphanumeric mode; LUD-01 and BOLT 11
/// readers accept either case), or `None`.
pub fn qr_payload(data: &str) -> Option<String> {
    let data = data.trim();
    if data.is_empty() || data.len() > MAX_DATA {
        return None;
    }
    let lower = data.to_ascii_lowercase();
    let allowed = if lower.starts_with("lnurl1") {
        crate::lnurl::decode(&lower).is_ok()
    } else {
        lower.parse::<Bolt11Invoice>().is_ok()
    };
    allowed.then(|| data.to_ascii_uppercase())
}

/// `GET /qr.svg?data=BOLT11|LNURL`
pub fn svg(query: Option<&str>) -> Response<Body> {
    let Some(data) = query_param(query, "data").and_then(|d| qr_payload(&d)) else {
        return error_response(
            StatusCode::BAD_REQUEST,
            "data must be a BOLT 11 invoice or an LNURL",
        );
    };
    match qr::svg(&data) {
        Ok(svg) => super::super::answer(
            StatusCode::OK,
            svg,
            &[
                (header::CONTENT_TYPE, "image/svg+xml"),
                // The image of one string never changes.
                (header::CACHE_CONTROL, "public, max-age=86400, immutable"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
        ),
        Err(e) => error_response(StatusCode::BAD_REQUEST, &e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_invoices_and_lnurls_are_drawn() {
        let lnurl =
            crate::lnurl::encode("https://example.com/.well-known/lnurlp/alice").expect("encode");
        assert_eq!(
            qr_payload(&lnurl.to_ascii_lowercase()),
            Some(lnurl.to_ascii_uppercase())
        );
        assert_eq!(qr_payload("https://evil.example/"), None);
        assert_eq!(qr_payload("<script>alert(1)</script>"), None);
        assert_eq!(qr_payload("lnbc1notaninvoice"), None);
        assert_eq!(qr_payload(""), None);
        assert_eq!(qr_payload(&"a".repeat(MAX_DATA + 1)), None);
    }
}
