//! The admin API of LndHub credentials: make one for an account (the only time its password is
//! shown), list an account's (never a password), revoke one (its tokens stop working at once), and
//! make invite codes for `registration = "invite"` domains.

use hyper::{Method, Response, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::Body;
use super::error::error_response;
use super::{answer, parse};
use crate::gateway::{Error, Gateway};
use crate::lndhub::Hub;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewInvite {
    domain: String,
    expires_in_secs: Option<u64>,
}

/// `POST` / `GET /api/v1/accounts/{address}/lndhub`.
pub async fn account(gw: &Gateway, method: &Method, address: &str) -> Response<Body> {
    let hub = Hub::new(gw);
    match *method {
        Method::POST => {
            let result = hub.create_credential(address).await.map(|c| {
                json!({
                    "login": c.login,
                    "password": c.password,
                    "url": c.url,
                    "address": address.to_ascii_lowercase(),
                    "created_at": c.credential.created_at,
                })
            });
            answer(StatusCode::CREATED, result)
        }
        Method::GET => {
            let result = hub.credentials(address).await.map(|list| {
                list.iter()
                    .map(|c| json!({"login": c.login, "created_at": c.created_at}))
                    .collect::<Vec<_>>()
            });
            answer(StatusCode::OK, result)
        }
        _ => error_response(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
    }
}

/// `DELETE /api/v1/lndhub/{login}`.
pub async fn revoke(gw: &Gateway, method: &Method, login: &str) -> Response<Body> {
    if *method != Method::DELETE {
        return error_response(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    }
    match Hub::new(gw).revoke(login).await {
        Ok(Some(c)) => answer::<_>(
            StatusCode::OK,
            Ok::<_, Error>(json!({"login": c.login, "revoked": true})),
        ),
        Ok(None) => error_response(StatusCode::NOT_FOUND, "no such lndhub credential"),
        Err(e) => answer::<serde_json::Value>(StatusCode::OK, Err(e)),
    }
}

/// `POST /api/v1/lndhub/invites` `{"domain","expires_in_secs"?}`.
pub async fn invite(gw: &Gateway, body: &[u8]) -> Response<Body> {
    let result = async {
        let req: NewInvite = parse(body)?;
        let i = Hub::new(gw)
            .create_invite(&req.domain, req.expires_in_secs)
            .await?;
        Ok::<_, Error>(json!({
            "code": i.code,
            "url": i.url,
            "domain": i.domain,
            "expires_at": i.expires_at,
        }))
    }
    .await;
    answer(StatusCode::CREATED, result)
}
