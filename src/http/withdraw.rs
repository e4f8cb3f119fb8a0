//! LNURL-withdraw endpoints (LUD-03, LUD-17): `GET /lnurlw/{k1}` (the `withdrawRequest`), its
//! callback, the printable voucher page `GET /withdraw/{k1}` and its QR code as SVG and PNG.
//! Protocol errors are HTTP 200 with the ERROR body; an unknown link is 404.

use hyper::header;
use hyper::{Response, StatusCode};

use super::{Answer, Body, answer, json, k1 as parse_k1, pages, query_param, voucher};
use crate::gateway::Gateway;
use crate::lnurl::withdraw::{OK, WithdrawRequest};
use crate::types::unix_now;
use crate::withdraw::qr;

/// `GET /lnurlw/{k1}`
pub async fn request(gw: &Gateway, k1: &str) -> Answer {
    let (link, urls, min, max) = gw.withdrawals().withdraw_request(&parse_k1(k1)?).await?;
    let description = link.title.as_deref().unwrap_or("Withdrawal");
    Ok(json(
        StatusCode::OK,
        &WithdrawRequest {
            tag: "withdrawRequest",
            callback: format!("{}/callback", urls.url),
            k1: &link.k1,
            default_description: description,
            min_withdrawable: min.msat(),
            max_withdrawable: max.msat(),
        },
    ))
}

/// `GET /lnurlw/{k1}/callback?k1=K1&pr=BOLT11`
pub async fn callback(gw: &Gateway, k1: &str, query: Option<&str>) -> Answer {
    gw.withdrawals()
        .withdraw_callback(
            &parse_k1(k1)?,
            query_param(query, "k1").as_deref(),
            query_param(query, "pr").as_deref(),
        )
        .await?;
    Ok(json(StatusCode::OK, &OK))
}

/// `GET /withdraw/{k1}`: the printable voucher.
pub async fn page(gw: &Gateway, k1: &str) -> Answer {
    let (link, account, urls) = gw.withdrawals().withdraw_link_view(&parse_k1(k1)?).await?;
    let (_, max) = gw.withdrawals().withdrawable(&link, account.balance_msat);
    let svg = qr::svg(&urls.lnurl)?;
    let html = voucher::render(&voucher::Voucher {
        link: &link,
        urls: &urls,
        max_now: max,
        qr_svg: &svg,
        now: unix_now(),
    });
    Ok(pages::html(StatusCode::OK, html))
}

/// `GET /withdraw/{k1}/qr.svg` and `/withdraw/{k1}/qr.png`
pub async fn qr_code(gw: &Gateway, k1: &str, png: bool) -> Answer {
    let (_, _, urls) = gw.withdrawals().withdraw_link_view(&parse_k1(k1)?).await?;
    Ok(if png {
        image(qr::png(&urls.lnurl, 8)?, "image/png")
    } else {
        image(qr::svg(&urls.lnurl)?.into_bytes(), "image/svg+xml")
    })
}

fn image(bytes: Vec<u8>, content_type: &'static str) -> Response<Body> {
    answer(
        StatusCode::OK,
        bytes,
        &[(header::CONTENT_TYPE, content_type)],
    )
}
