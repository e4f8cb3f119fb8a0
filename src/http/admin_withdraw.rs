//! Admin API for LNURL-withdraw (LUD-03) links: create one on an account, show one, disable one.

use hyper::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use super::error::error_response;
use super::{Answer, json, parse};
use crate::gateway::Gateway;
use crate::store::WithdrawLink;
use crate::types::Msat;
use crate::withdraw::{LinkUrls, NewLink};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateLink {
    min_msat: Option<u64>,
    max_msat: u64,
    uses: Option<u32>,
    title: Option<String>,
    expires_in_secs: Option<u64>,
}

/// A link as the admin API shows it.
#[derive(Serialize)]
pub struct LinkView {
    pub k1: String,
    pub lnurl: String,
    pub url: String,
    pub lnurlw: String,
    pub page: String,
    pub qr_svg: String,
    pub qr_png: String,
    pub account_id: String,
    pub min_msat: u64,
    pub max_msat: u64,
    pub uses: u32,
    pub uses_left: u32,
    pub title: Option<String>,
    pub created_at: u64,
    pub expires_at: Option<u64>,
    pub disabled: bool,
}

impl LinkView {
    fn new(link: &WithdrawLink, urls: &LinkUrls) -> Self {
        LinkView {
            k1: link.k1.clone(),
            lnurl: urls.lnurl.clone(),
            url: urls.url.clone(),
            lnurlw: urls.lnurlw.clone(),
            page: urls.page.clone(),
            qr_svg: format!("{}/qr.svg", urls.page),
            qr_png: format!("{}/qr.png", urls.page),
            account_id: link.account_id.0.clone(),
            min_msat: link.min_msat.msat(),
            max_msat: link.max_msat.msat(),
            uses: link.uses,
            uses_left: link.uses_left(),
            title: link.title.clone(),
            created_at: link.created_at,
            expires_at: link.expires_at,
            disabled: link.disabled,
        }
    }
}

/// `POST /api/v1/accounts/{address}/withdraw-links`
pub async fn create(gw: &Gateway, address: &str, body: &[u8]) -> Answer {
    let req: CreateLink = parse(body)?;
    let new = NewLink {
        min_msat: Msat::from_msat(req.min_msat.unwrap_or(1_000).min(req.max_msat)),
        max_msat: Msat::from_msat(req.max_msat),
        uses: req.uses.unwrap_or(1),
        title: req.title,
        expires_in_secs: req.expires_in_secs,
    };
    let (link, urls) = gw
        .withdrawals()
        .create_withdraw_link(&super::address(address)?, new)
        .await?;
    Ok(json(StatusCode::CREATED, &LinkView::new(&link, &urls)))
}

/// `GET` / `DELETE /api/v1/withdraw-links/{k1}`
pub async fn one(gw: &Gateway, method: &Method, k1: &str) -> Answer {
    if !matches!(*method, Method::GET | Method::DELETE) {
        return Ok(error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed",
        ));
    }
    let k1 = super::k1(k1)?;
    if *method == Method::DELETE {
        gw.withdrawals().disable_withdraw_link(&k1).await?;
    }
    let (link, _, urls) = gw.withdrawals().withdraw_link_view(&k1).await?;
    Ok(json(StatusCode::OK, &LinkView::new(&link, &urls)))
}
