//! What `lnaddr doctor` asks LND beyond the gateway's own calls: the chain tip's time (`GetInfo`'s
//! `best_header_timestamp`) and whether a macaroon grants given permissions
//! (`CheckMacaroonPermissions`, which itself needs `macaroon:read`).

use super::proto::lnrpc;
pub use super::proto::lnrpc::MacaroonPermission;
use super::{LndNode, convert};
use crate::lightning::LightningError;

/// The answer to "does this macaroon grant these permissions?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MacaroonCheck {
    Granted,
    /// LND answered that the macaroon lacks at least one of them (or is not LND's).
    NotGranted(String),
    /// The macaroon used for the call may not ask (it lacks `macaroon:read`).
    CannotAsk(String),
}

impl LndNode {
    /// The time of the chain tip LND knows (unix seconds).
    pub async fn chain_tip_time(&self) -> Result<i64, LightningError> {
        Ok(self
            .get_info()
            .await
            .map_err(convert::status_error)?
            .best_header_timestamp)
    }

    /// Asks LND whether `macaroon` grants every one of `permissions` (`entity`, `action`).
    pub async fn macaroon_grants(
        &self,
        macaroon: &[u8],
        permissions: &[(&str, &str)],
    ) -> Result<MacaroonCheck, LightningError> {
        let mut client = self.client.clone();
        let message = lnrpc::CheckMacPermRequest {
            macaroon: macaroon.to_vec(),
            permissions: permissions
                .iter()
                .map(|(entity, action)| MacaroonPermission {
                    entity: entity.to_string(),
                    action: action.to_string(),
                })
                .collect(),
            full_method: String::new(),
        };
        match Self::call(client.check_macaroon_permissions(self.request(message, true))).await {
            Ok(answer) if answer.valid => Ok(MacaroonCheck::Granted),
            Ok(_) => Ok(MacaroonCheck::NotGranted("not valid".into())),
            // LND returns CheckMacAuth's error as InvalidArgument.
            Err(status) if status.code() == tonic::Code::InvalidArgument => {
                Ok(MacaroonCheck::NotGranted(status.message().to_string()))
            }
            Err(status) if status.message().contains("permission denied") => {
                Ok(MacaroonCheck::CannotAsk(status.message().to_string()))
            }
            Err(status) => Err(convert::status_error(status)),
        }
    }
}
