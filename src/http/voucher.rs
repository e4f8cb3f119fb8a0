//! The printable withdraw voucher (LUD-03 link as a QR code, LUD-17 `lnurlw://` link): plain
//! HTML and CSS, no JavaScript. It prints on A4 and on a 58 mm receipt printer (`@media print`
//! with a narrow layout). Every user-provided text is escaped.

use std::fmt::Write;

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

/// Millisatoshis as sats, with the msat part only when there is one.
fn sats(m: Msat) -> String {
    if m.0.is_multiple_of(1000) {
        format!("{} sat", m.0 / 1000)
    } else {
        format!("{}.{:03} sat", m.0 / 1000, m.0 % 1000)
    }
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

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;padding:2rem;color:#000;background:#fff}\
.v{max-width:22rem;margin:0 auto;border:2px dashed #000;padding:1.5rem;text-align:center}\
.v h1{font-size:1.4rem;margin:0 0 .5rem}.amt{font-size:2rem;font-weight:700;margin:.5rem 0}\
.qr svg{width:100%;height:auto;max-width:18rem}.s{font-size:.85rem;margin:.3rem 0}\
.l{font-family:monospace;font-size:.6rem;word-break:break-all;margin:.5rem 0}\
a{color:#000}.off{font-weight:700;text-transform:uppercase}\
@media print{@page{margin:8mm}body{padding:0}.v{border-width:1px}}\
@media print and (max-width:80mm){@page{size:58mm auto;margin:2mm}\
body{padding:0;font-size:9pt}.v{max-width:54mm;border:0;padding:0}\
.v h1{font-size:11pt}.amt{font-size:14pt}.qr svg{max-width:50mm}.l{font-size:6pt}}";

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
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title}</title><style>{STYLE}</style></head><body><main class=\"v\">\
<h1>{title}</h1><p class=\"amt\">{amount}</p>{status}\
<div class=\"qr\">{qr}</div>\
<p class=\"s\">Scan with a Lightning wallet, or open: <a href=\"lightning:{lnurl}\">lightning:{lnurl_short}…</a></p>\
<p class=\"s\">LUD-17: <a href=\"{lnurlw}\">{lnurlw}</a></p>\
<p class=\"l\">{lnurl}</p>\
<p class=\"s\">Uses left: {left} of {uses}</p>{expiry}\
</main></body></html>\n",
        title = escape(title),
        amount = escape(&amount),
        qr = v.qr_svg,
        lnurl_short = escape(&v.urls.lnurl.chars().take(16).collect::<String>()),
        left = link.uses_left(),
        uses = link.uses,
    )
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
        assert_eq!(sats(Msat(21_000)), "21 sat");
        assert_eq!(sats(Msat(1_500)), "1.500 sat");
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(1_700_000_000), "2023-11-14 22:13 UTC");
    }
}
