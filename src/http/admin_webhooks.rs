//! Admin routes for webhooks (`/api/v1/webhooks`) and ledger exports
//! (`/api/v1/accounts/{address}/transactions.csv` and `.json`, `?from=&to=` Unix seconds).

use hyper::header::{self, HeaderValue};
use hyper::{Method, Response, StatusCode};
use serde::Deserialize;

use super::auth::Auth;
use super::error::error_response;
use super::{Answer, Body, json, no_content, parse, query_param};
use crate::gateway::export::to_csv;
use crate::gateway::{Error, Gateway, Refusal};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateWebhook {
    url: String,
    #[serde(default)]
    events: Vec<String>,
    domain: Option<String>,
}

/// Answers the request when it is one of these routes. The admin token manages every webhook; a
/// domain token only its own domain's (SPEC.md: "its accounts, links, credentials, webhooks"):
/// it registers for its domain, lists and removes only those.
pub(super) async fn route(
    gw: &Gateway,
    auth: &Auth,
    method: &Method,
    segs: &[&str],
    query: Option<&str>,
    body: &[u8],
) -> Option<(&'static str, Answer)> {
    Some(match (method, segs) {
        (&Method::POST, ["api", "v1", "webhooks"]) => {
            ("/api/v1/webhooks", create(gw, auth, body).await)
        }
        (&Method::GET, ["api", "v1", "webhooks"]) => ("/api/v1/webhooks", list(gw, auth).await),
        (&Method::DELETE, ["api", "v1", "webhooks", id]) => {
            ("/api/v1/webhooks/{id}", delete(gw, auth, id).await)
        }
        (&Method::GET, ["api", "v1", "accounts", address, "transactions.csv"]) => (
            "/api/v1/accounts/{address}/transactions.csv",
            export(gw, address, query, true).await,
        ),
        (&Method::GET, ["api", "v1", "accounts", address, "transactions.json"]) => (
            "/api/v1/accounts/{address}/transactions.json",
            export(gw, address, query, false).await,
        ),
        _ => return None,
    })
}

async fn create(gw: &Gateway, auth: &Auth, body: &[u8]) -> Answer {
    let req: CreateWebhook = parse(body)?;
    // A domain token registers for its own domain (named or not); never gateway-wide.
    let domain = match (req.domain.as_deref(), auth.domain()) {
        (Some(d), _) => {
            auth.require_domain(d)?;
            Some(d)
        }
        (None, own) => own,
    };
    let made = gw.create_webhook(&req.url, &req.events, domain).await?;
    Ok(json(StatusCode::CREATED, &made))
}

async fn list(gw: &Gateway, auth: &Auth) -> Answer {
    Ok(json(StatusCode::OK, &gw.webhooks(auth.domain()).await?))
}

async fn delete(gw: &Gateway, auth: &Auth, id: &str) -> Answer {
    gw.delete_webhook(id, auth.domain()).await?;
    Ok(no_content())
}

fn time_param(query: Option<&str>, name: &'static str) -> Result<Option<u64>, Error> {
    query_param(query, name)
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| Refusal::NotUnixSeconds(name).into())
        })
        .transpose()
}

async fn export(gw: &Gateway, address: &str, query: Option<&str>, csv: bool) -> Answer {
    let from = time_param(query, "from")?;
    let to = time_param(query, "to")?;
    let rows = gw.export(&super::address(address)?, from, to).await?;
    if !csv {
        return Ok(json(StatusCode::OK, &rows));
    }
    Ok(match to_csv(&rows) {
        Ok(bytes) => {
            let mut resp = Response::new(Body::from(bytes));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            resp.headers_mut().insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"transactions.csv\""),
            );
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot write the CSV export");
            error_response(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    })
}
