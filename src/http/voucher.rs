//! The printable withdraw voucher (LUD-03 link as a QR code, LUD-17 `lnurlw://` link): HTML with
//! the shared stylesheet (`pages/assets/pages.css`), the amount in big type, long links broken so
//! they never widen the page. It prints one voucher per page, without its Print button, on A4 and
//! on a 58 mm receipt printer (`@media print` with a narrow layout). Every user text is escaped.

use std::fmt::Write;

use super::pages::{document, escape, sats};
use crate::store::WithdrawLink;
use crate::types::Msat;
use crate::withdraw::LinkUrls;

/// What the voucher shows.
pub struct Voucher<'a> {
    pub link: &'a WithdrawLink,
    pub urls: &'a LinkUrls,
    /// What one withdrawal can take now (the balance and fee reserve may lower the link's max).
    pub max_now: Msat,
    pub qr_svg: &'a str,
    pub now: u64,
}

/// A UTC date and time from unix seconds (civil-from-days, no time zone database).
fn utc(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// The voucher page.
pub fn render(v: &Voucher<'_>) -> String {
    let link = v.link;
    let title = link.title.as_deref().unwrap_or("Lightning voucher");
    let amount = if link.min_msat == link.max_msat {
        sats(link.max_msat)
    } else {
        format!("{} – {}", sats(link.min_msat), sats(link.max_msat))
    };
    let mut status = String::new();
    if link.disabled {
        status.push_str("<p class=\"off\">disabled</p>");
    } else if link.is_expired(v.now) {
        status.push_str("<p class=\"off\">expired</p>");
    } else if link.uses_left() == 0 {
        status.push_str("<p class=\"off\">used up</p>");
    } else if v.max_now == Msat::ZERO {
        status.push_str("<p class=\"s\">Nothing to withdraw right now</p>");
    } else if v.max_now < link.max_msat {
        let _ = write!(
            status,
            "<p class=\"s\">Available now: up to {}</p>",
            escape(&sats(v.max_now))
        );
    }
    let expiry = match link.expires_at {
        Some(at) => format!("<p class=\"s\">Valid until {}</p>", utc(at)),
        None => String::new(),
    };
    let lnurl = escape(&v.urls.lnurl);
    let lnurlw = escape(&v.urls.lnurlw);
    let body = format!(
        "<main class=\"v\">\
<h1>{title}</h1><p class=\"amt\">{amount}</p>{status}\
<div class=\"qr\">{qr}</div>\
<p class=\"s\">Scan with a Lightning wallet, or <a href=\"lightning:{lnurl}\">open it in your wallet</a></p>\
<p class=\"s link\">LUD-17: <a href=\"{lnurlw}\">{lnurlw}</a></p>\
<p class=\"l\">{lnurl}</p>\
<p class=\"s\">Uses left: {left} of {uses}</p>{expiry}\
</main><p class=\"actions\"><button type=\"button\" data-print>Print</button></p>",
        title = escape(title),
        amount = escape(&amount),
        qr = v.qr_svg,
        left = link.uses_left(),
        uses = link.uses,
    );
    document(&escape(title), "pages.css", &["pages.js"], &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_formats() {
        assert_eq!(sats(Msat::from_msat(21_000)), "21 sat");
        assert_eq!(sats(Msat::from_msat(1_500)), "1.500 sat");
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13 UTC");
    }
}
