//! Admin API for Nostr Wallet Connect (NIP-47) connections: make one on an account (answers the
//! connection URI, with its client secret, this once), list an account's with their budget used,
//! revoke one.

use hyper::{Method, StatusCode};
use serde::Deserialize;

use super::error::error_response;
use super::{Answer, json, parse};
use crate::gateway::Gateway;
use crate::nwc::NewConnection;
use crate::store::BudgetRenewal;
use crate::types::Msat;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateConnection {
    name: Option<String>,
    methods: Option<Vec<String>>,
    max_amount_msat: Option<u64>,
    budget_msat: Option<u64>,
    budget_renewal: Option<BudgetRenewal>,
    expires_in_secs: Option<u64>,
}

/// `GET` / `POST /api/v1/accounts/{address}/nwc`
pub async fn account(gw: &Gateway, method: &Method, address: &str, body: &[u8]) -> Answer {
    match *method {
        Method::GET => Ok(json(
            StatusCode::OK,
            &gw.nwc_connections()
                .nwc_connections(&super::address(address)?)
                .await?,
        )),
        Method::POST => {
            let req: CreateConnection = parse(body)?;
            let new = NewConnection {
                name: req.name,
                methods: req.methods,
                max_amount_msat: req.max_amount_msat.map(Msat::from_msat),
                budget_msat: req.budget_msat.map(Msat::from_msat),
                budget_renewal: req.budget_renewal,
                expires_in_secs: req.expires_in_secs,
            };
            let made = gw
                .nwc_connections()
                .create_nwc_connection(&super::address(address)?, new)
                .await?;
            Ok(json(StatusCode::CREATED, &made))
        }
        _ => Ok(error_response(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed",
        )),
    }
}

/// `DELETE /api/v1/nwc/{id}`
pub async fn revoke(gw: &Gateway, id: &str) -> Answer {
    Ok(json(
        StatusCode::OK,
        &gw.nwc_connections().revoke_nwc_connection(id).await?,
    ))
}
