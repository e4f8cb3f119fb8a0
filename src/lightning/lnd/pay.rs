//! Outgoing payments for withdrawals (LUD-03) through LND's `routerrpc.Router`:
//! `SendPaymentV2` with `fee_limit_msat` = the withdrawal's fee reserve and `timeout_seconds`, its
//! stream read to a final status; `TrackPaymentV2` to learn the outcome of a payment started
//! before a restart. LND refuses a second `SendPaymentV2` for a hash that is in flight or paid
//! (`AlreadyExists`), so a retry can never pay twice; we then track instead.

use std::time::Duration;

use futures_util::StreamExt;
use tonic::Code;

use super::proto::{lnrpc, routerrpc};
use super::{LndNode, convert};
use crate::lightning::{LightningError, PaymentRequest, PaymentResult};
use crate::types::{Msat, PaymentHash};

/// How long past the payment timeout we keep reading a payment stream before calling it in flight.
const STREAM_SLACK: Duration = Duration::from_secs(30);

/// The network of `GetInfo`'s first chain (`mainnet`, `testnet`, `signet`, `regtest`...).
pub fn network(info: &lnrpc::GetInfoResponse) -> Result<bitcoin::Network, LightningError> {
    let name = info
        .chains
        .first()
        .map(|c| c.network.as_str())
        .unwrap_or_default();
    match name {
        "mainnet" | "bitcoin" => Ok(bitcoin::Network::Bitcoin),
        "testnet" | "testnet3" => Ok(bitcoin::Network::Testnet),
        "testnet4" => Ok(bitcoin::Network::Testnet4),
        "signet" => Ok(bitcoin::Network::Signet),
        "regtest" | "simnet" => Ok(bitcoin::Network::Regtest),
        other => Err(LightningError::Protocol(format!(
            "unknown network {other:?} in GetInfo"
        ))),
    }
}

/// Our view of one `lnrpc.Payment` update.
fn result_of(p: &lnrpc::Payment) -> Result<PaymentResult, LightningError> {
    use lnrpc::payment::PaymentStatus;
    match PaymentStatus::try_from(p.status) {
        Ok(PaymentStatus::Succeeded) => {
            let mut preimage = [0u8; 32];
            hex::decode_to_slice(&p.payment_preimage, &mut preimage)
                .map_err(|_| LightningError::Protocol("bad payment preimage".into()))?;
            let fee = u64::try_from(p.fee_msat)
                .map_err(|_| LightningError::Protocol("negative fee".into()))?;
            Ok(PaymentResult::Succeeded {
                fee: Msat::from_msat(fee),
                preimage,
            })
        }
        Ok(PaymentStatus::Failed) => {
            let reason = lnrpc::PaymentFailureReason::try_from(p.failure_reason)
                .map(|r| r.as_str_name().to_ascii_lowercase())
                .unwrap_or_else(|_| "payment failed".into());
            Ok(PaymentResult::Failed(reason))
        }
        _ => Ok(PaymentResult::InFlight),
    }
}

/// Reads payment updates until a final one, or until `wait` has passed (then: in flight).
async fn follow(
    mut stream: tonic::Streaming<lnrpc::Payment>,
    wait: Duration,
) -> Result<PaymentResult, LightningError> {
    let read = async {
        while let Some(update) = stream.next().await {
            match update {
                Ok(p) => match result_of(&p)? {
                    PaymentResult::InFlight => continue,
                    done => return Ok(done),
                },
                // The stream broke: the payment may go on; track it later.
                Err(_) => return Ok(PaymentResult::InFlight),
            }
        }
        Ok(PaymentResult::InFlight)
    };
    tokio::time::timeout(wait, read)
        .await
        .unwrap_or(Ok(PaymentResult::InFlight))
}

impl LndNode {
    pub(super) async fn send_payment(
        &self,
        request: PaymentRequest,
    ) -> Result<PaymentResult, LightningError> {
        let invoice: lightning_invoice::Bolt11Invoice = request
            .bolt11
            .parse()
            .map_err(|_| LightningError::Rejected("invalid payment request".into()))?;
        let hash = PaymentHash(bitcoin::hashes::Hash::to_byte_array(
            *invoice.payment_hash(),
        ));
        let fee_limit_msat = i64::try_from(request.fee_limit.msat())
            .map_err(|_| LightningError::Rejected("fee limit too large".into()))?;
        let amt_msat = match (invoice.amount_milli_satoshis(), request.amount) {
            // A zero-amount invoice: LND pays the amount given (SendPaymentRequest.amt_msat).
            (None, Some(a)) => i64::try_from(a.msat())
                .map_err(|_| LightningError::Rejected("amount too large".into()))?,
            _ => 0,
        };
        let send = routerrpc::SendPaymentRequest {
            payment_request: request.bolt11.clone(),
            amt_msat,
            timeout_seconds: i32::try_from(request.timeout_secs).unwrap_or(i32::MAX),
            fee_limit_msat,
            no_inflight_updates: true,
            ..Default::default()
        };
        let wait = Duration::from_secs(u64::from(request.timeout_secs)) + STREAM_SLACK;
        let mut router = self.router.clone();
        match Self::call(router.send_payment_v2(self.request(send, false))).await {
            Ok(stream) => follow(stream, wait).await,
            // In flight or paid already: never send twice, learn its state instead.
            Err(status) if status.code() == Code::AlreadyExists => Ok(self
                .track(&hash, wait)
                .await?
                .unwrap_or(PaymentResult::InFlight)),
            Err(status) => match convert::status_error(status) {
                // Refused before any HTLC left: nothing was paid.
                LightningError::Rejected(reason) => Ok(PaymentResult::Failed(reason)),
                // Unknown whether LND got it: track it later.
                _ => Ok(PaymentResult::InFlight),
            },
        }
    }

    pub(super) async fn track(
        &self,
        hash: &PaymentHash,
        wait: Duration,
    ) -> Result<Option<PaymentResult>, LightningError> {
        let track = routerrpc::TrackPaymentRequest {
            payment_hash: hash.0.to_vec(),
            no_inflight_updates: false,
        };
        let mut router = self.router.clone();
        match Self::call(router.track_payment_v2(self.request(track, false))).await {
            Ok(stream) => follow(stream, wait).await.map(Some),
            Err(status)
                if status.code() == Code::NotFound
                    || status.message().contains("isn't initiated") =>
            {
                Ok(None)
            }
            Err(status) => Err(convert::status_error(status)),
        }
    }
}
