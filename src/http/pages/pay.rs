//! `GET /pay/{username}`: a page to pay a Lightning Address from a phone or a desktop (SPEC "Pages
//! for people"). The server renders the address, its LNURL (LUD-01, of the LUD-16 lookup URL) as
//! an inline QR code, the domain's limits and the form; `pay.js` asks the LNURL-pay callback
//! (LUD-06, LUD-12 comment) for an invoice, shows it as a QR code with a copy button and a
//! `lightning:` link, and polls LUD-21 verify until it is paid. Names and texts are escaped.

use hyper::{Response, StatusCode};

use super::super::Body;
use super::{document, escape, html, sats};
use crate::config::DomainSettings;
use crate::gateway::{Error, Gateway};
use crate::withdraw::qr;

/// `GET /pay/{username}` (the domain by Host, like every public endpoint).
pub async fn page(gw: &Gateway, host: Option<&str>, name: &str) -> Response<Body> {
    let result = async {
        let domain = gw.domain_for_host(host)?;
        let (_, tagged) = gw.resolve(&domain, name).await?;
        Ok::<_, Error>(render(&domain, &tagged.to_string()))
    }
    .await;
    match result {
        Ok(page) => html(StatusCode::OK, page),
        Err(e) => error_page(&e, name),
    }
}

/// The page of `name` (as resolved: `name` or `name+tag`) on `domain`.
pub fn render(domain: &DomainSettings, name: &str) -> String {
    let address = format!("{name}@{}", domain.name);
    // The gateway's endpoints of this domain (`/d/{domain}` when it is served from another host).
    let base = domain.lnurl_base();
    let lookup = format!("{base}/.well-known/lnurlp/{name}");
    let lnurl = crate::lnurl::encode(&lookup)
        .map(|l| l.to_ascii_uppercase())
        .unwrap_or_default();
    let lnurl_qr = qr::svg(&lnurl).unwrap_or_default();
    // The script asks this path on its own origin (the public URL's host may be another name of
    // this gateway).
    let callback = format!("{}/lnurlp/{name}/callback", url_path(&base));
    let min_sat = domain.sendable.start().sat_ceil();
    let max_sat = domain.sendable.end().sat_floor();
    let comment = if domain.comment_allowed > 0 {
        format!(
            "<label for=\"comment\">Comment (optional)</label>\
<textarea id=\"comment\" name=\"comment\" maxlength=\"{n}\" rows=\"2\"></textarea>",
            n = domain.comment_allowed
        )
    } else {
        String::new()
    };
    // The domain's branding (LUD-06 image and description), as wallets show it too.
    let mut brand = String::new();
    if let Some(image) = &domain.image {
        brand.push_str(&format!(
            "<img class=\"brand\" src=\"data:{},{}\" alt=\"\">",
            image.mime,
            escape(&image.base64)
        ));
    }
    if let Some(text) = &domain.description {
        brand.push_str(&format!("<p class=\"s brand-text\">{}</p>", escape(text)));
    }
    let body = format!(
        "<main class=\"card\">{brand}\
<h1>Pay <span class=\"addr\">{address}</span></h1>\
<div class=\"qr\" title=\"LNURL of {address}\">{lnurl_qr}</div>\
<p class=\"s\">Scan with a Lightning wallet, or <a href=\"lightning:{lnurl}\">open it in your wallet</a>, \
or ask for an invoice here:</p>\
<form id=\"pay\" data-callback=\"{callback}\" data-min=\"{min}\" data-max=\"{max}\" novalidate>\
<label for=\"amount\">Amount (sats, {min_text} to {max_text})</label>\
<input id=\"amount\" name=\"amount\" type=\"number\" inputmode=\"numeric\" min=\"{min_sat}\" \
max=\"{max_sat}\" step=\"1\" required>{comment}\
<button type=\"submit\">Get invoice</button></form>\
<p id=\"error\" class=\"error\" role=\"alert\" hidden></p>\
<section id=\"invoice\" hidden>\
<p id=\"status\" class=\"status\" role=\"status\">Waiting for payment…</p>\
<a id=\"open\" class=\"qr\" href=\"#\"><img id=\"invoice-qr\" alt=\"QR code of the invoice\"></a>\
<div class=\"row\"><input id=\"pr\" readonly aria-label=\"Invoice\">\
<button id=\"copy\" type=\"button\">Copy</button></div>\
<p class=\"s\"><a id=\"open-link\" href=\"#\">Open in wallet</a></p>\
</section>\
<p class=\"s small\">Lightning Address <span class=\"mono\">{address}</span></p>\
</main>",
        address = escape(&address),
        lnurl = escape(&lnurl),
        callback = escape(&callback),
        min = domain.sendable.start().msat(),
        max = domain.sendable.end().msat(),
        min_text = escape(&sats(*domain.sendable.start())),
        max_text = escape(&sats(*domain.sendable.end())),
    );
    document(
        &format!("Pay {}", escape(&address)),
        "pages.css",
        &["pages.js"],
        &body,
    )
}

/// The path part of a base URL, without a trailing slash (`""` for a bare origin).
fn url_path(base: &str) -> String {
    url::Url::parse(base)
        .map(|u| u.path().trim_end_matches('/').to_string())
        .unwrap_or_default()
}

/// The page for an unknown name or domain, or a store that does not answer: the reason in words.
fn error_page(e: &Error, name: &str) -> Response<Body> {
    let (status, text) = match e {
        Error::UnknownDomain => (
            StatusCode::NOT_FOUND,
            "This gateway does not serve this domain.".to_string(),
        ),
        Error::UnknownUser => (
            StatusCode::NOT_FOUND,
            format!("There is no Lightning Address “{}” here.", escape(name)),
        ),
        other => {
            tracing::error!(error = %other, "pay page failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "The gateway cannot answer right now. Please try again later.".to_string(),
            )
        }
    };
    let body =
        format!("<main class=\"card\"><h1>Cannot pay</h1><p class=\"error\">{text}</p></main>");
    html(status, document("Cannot pay", "pages.css", &[], &body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    fn domain() -> DomainSettings {
        let settings = Settings::load(
            None,
            vec![(
                "LNADDR_DOMAINS".to_string(),
                r#"[{name="example.com", public_url="https://example.com"}]"#.to_string(),
            )],
        )
        .expect("settings");
        settings.domains[0].clone()
    }

    #[test]
    fn page_shows_the_address_limits_and_no_inline_script_or_style() {
        let page = render(&domain(), "alice");
        assert!(page.contains("Pay <span class=\"addr\">alice@example.com</span>"));
        assert!(page.contains("data-min=\"1000\""));
        assert!(page.contains("href=\"lightning:LNURL1"));
        assert!(page.contains("<svg"));
        assert!(!page.contains("<script>"), "no inline script");
        assert!(!page.contains("<style"), "no inline style");
        assert!(!page.contains("style="), "no style attribute");
    }

    #[test]
    fn page_shows_the_domains_description_and_image() {
        let plain = render(&domain(), "alice");
        assert!(!plain.contains("class=\"brand"), "no branding unless set");
        let mut branded = domain();
        branded.description = Some("Coffee & <cake>".into());
        branded.image = Some(crate::config::Image {
            mime: "image/png;base64",
            base64: "iVBORw0KGgo=".into(),
        });
        let page = render(&branded, "alice");
        assert!(page.contains("<img class=\"brand\" src=\"data:image/png;base64,iVBORw0KGgo=\""));
        assert!(page.contains("Coffee &amp; &lt;cake&gt;"), "escaped");
        assert!(!page.contains("<cake>"));
    }

    #[test]
    fn unknown_name_is_escaped_in_words() {
        let resp = error_page(&Error::UnknownUser, "<b>x</b>");
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    }
}
