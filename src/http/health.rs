//! `/healthz` (the process answers) and `/readyz` (the store and the Lightning node answer, and the
//! node is synced).

use hyper::{Response, StatusCode};
use serde_json::json;

use super::error::error_response;
use super::{Body, json};
use crate::gateway::Gateway;

pub fn healthz() -> Response<Body> {
    json(StatusCode::OK, &json!({"status": "OK"}))
}

pub async fn readyz(gw: &Gateway) -> Response<Body> {
    match gw.ready().await {
        Ok(()) => json(StatusCode::OK, &json!({"status": "OK"})),
        Err(reason) => error_response(StatusCode::SERVICE_UNAVAILABLE, &reason),
    }
}
