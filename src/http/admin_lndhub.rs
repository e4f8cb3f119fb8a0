//! The admin API of LndHub credentials: make one for an account (the only time its password is
//! shown), list an account's (never a password), revoke one (its tokens stop working at once), and
//! make invite codes for `registration = "invite"` domains.

use hyper::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::error::error_response;
use super::{Answer, json as json_response, parse};
use crate::gateway::Gateway;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewInvite {
    domain: String,
    expires_in_secs: Option<u64>,
}

/// `POST` / `GET /api/v1/accounts/{address}/lndhub`.
pub async fn account(gw: &Gateway, method: &Method, address: &str) -> Answer {
    let hub = gw.lndhub();
    match *method {
        Method::POST => {
            let c = hub.create_credential(&super::address(address)?).await?;
            Ok(json_response(
                StatusCode::CREATED,
                &json!({
                    "login": c.login,
                    "password": c.password,
                    "url": c.url,
                    "address": address.to_ascii_lowercase(),
                    "created_at": c.credential.created_at,
                }),
            ))
        }
        Method::GET => {
            let list = hub.credentials(&super::address(address)?).await?;
            let views: Vec<_> = list
                .iter()
                .map(|c| json!({"login": c.login, "created_at": c.created_at}))
                .collect();
            Ok(json_response(StatusCode::OK, &views))
        }
        _ => Ok(error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed",
        )),
    }
}

/// `DELETE /api/v1/lndhub/{login}`.
pub async fn revoke(gw: &Gateway, method: &Method, login: &str) -> Answer {
    if *method != Method::DELETE {
        return Ok(error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed",
        ));
    }
    Ok(match gw.lndhub().revoke(login).await? {
        Some(c) => json_response(StatusCode::OK, &json!({"login": c.login, "revoked": true})),
        None => error_response(StatusCode::NOT_FOUND, "no such lndhub credential"),
    })
}

/// `POST /api/v1/lndhub/invites` `{"domain","expires_in_secs"?}`.
pub async fn invite(gw: &Gateway, body: &[u8]) -> Answer {
    let req: NewInvite = parse(body)?;
    let i = gw
        .lndhub()
        .create_invite(&req.domain, req.expires_in_secs)
        .await?;
    Ok(json_response(
        StatusCode::CREATED,
        &json!({
            "code": i.code,
            "url": i.url,
            "domain": i.domain,
            "expires_at": i.expires_at,
        }),
    ))
}
