//! The LND backend: gRPC over TLS with a macaroon (LND's `lnrpc.Lightning` service).
//!
//! - Every call carries the macaroon (hex) as `macaroon` metadata and has a deadline
//!   ([`CALL_TIMEOUT`]); connections are made lazily and remade after failures, so the gateway
//!   starts, and keeps answering what needs no node, while LND is down.
//! - The settle cursor is keyed by LND's identity key (`GetInfo.identity_pubkey`, asked at every
//!   subscription by the settlement follower), so another node behind the same endpoint starts its
//!   own cursor. Earlier versions keyed it by the endpoint (`lnd:HOST:PORT`,
//!   [`LightningNode::node_id`]); that cursor is carried over once.
//!
//! This file holds the client, its call plumbing and the invoice calls; reaching LND and the
//! start-up check are in `connect`, the settlement stream and the settle-index check in
//! `settlements`, outgoing payments in `pay`, doctor's questions in `doctor`, the wire
//! conversions and the one gRPC-status mapping in `convert`.

mod connect;
mod convert;
mod doctor;
pub use connect::LndStartError;
pub use doctor::MacaroonCheck;
mod pay;
pub mod proto;
mod settlements;
pub mod tls;

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use tonic::metadata::AsciiMetadataValue;
use tonic::transport::Channel;

use self::proto::invoicesrpc::invoices_client::InvoicesClient;
use self::proto::lnrpc;
use self::proto::lnrpc::lightning_client::LightningClient;
use self::proto::routerrpc::router_client::RouterClient;
use super::*;
use crate::types::unix_now;

/// Deadline of every unary call, and of opening a stream.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Deadline of a TCP + TLS connection to LND.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where and how to reach LND.
#[derive(Debug, Clone)]
pub struct LndConfig {
    pub endpoint: String,
    pub tls_cert: PathBuf,
    pub macaroon: PathBuf,
    /// Ask LND to add route hints for private channels to every invoice.
    pub private_route_hints: bool,
}

/// A client of one LND node.
#[derive(Clone)]
pub struct LndNode {
    client: LightningClient<Channel>,
    router: RouterClient<Channel>,
    invoices: InvoicesClient<Channel>,
    macaroon: AsciiMetadataValue,
    node_id: String,
    private_route_hints: bool,
}

impl std::fmt::Debug for LndNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LndNode")
            .field("node_id", &self.node_id)
            .field("macaroon", &"<redacted>")
            .finish()
    }
}

impl LndNode {
    fn request<T>(&self, message: T, deadline: bool) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request
            .metadata_mut()
            .insert("macaroon", self.macaroon.clone());
        if deadline {
            request.set_timeout(CALL_TIMEOUT);
        }
        request
    }

    /// Runs one call under [`CALL_TIMEOUT`].
    async fn call<T>(
        fut: impl Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    ) -> Result<T, tonic::Status> {
        match tokio::time::timeout(CALL_TIMEOUT, fut).await {
            Ok(answer) => answer.map(tonic::Response::into_inner),
            Err(_) => Err(tonic::Status::deadline_exceeded(
                "LND did not answer in time",
            )),
        }
    }

    async fn get_info(&self) -> Result<lnrpc::GetInfoResponse, tonic::Status> {
        let mut client = self.client.clone();
        Self::call(client.get_info(self.request(lnrpc::GetInfoRequest {}, true))).await
    }
}

#[async_trait]
impl LightningNode for LndNode {
    fn node_id(&self) -> String {
        self.node_id.clone()
    }

    async fn settle_index_reaches(&self, index: u64) -> Result<bool, LightningError> {
        self.reaches_settle_index(index).await
    }

    async fn create_invoice(
        &self,
        request: InvoiceRequest,
    ) -> Result<CreatedInvoice, LightningError> {
        let value_msat = i64::try_from(request.amount.msat())
            .map_err(|_| LightningError::Rejected("amount too large".into()))?;
        let expiry = i64::try_from(request.expiry_secs)
            .map_err(|_| LightningError::Rejected("expiry too large".into()))?;
        let invoice = lnrpc::Invoice {
            value_msat,
            description_hash: request.description_hash.to_vec(),
            expiry,
            private: self.private_route_hints,
            ..Default::default()
        };
        let mut client = self.client.clone();
        let created = Self::call(client.add_invoice(self.request(invoice, true)))
            .await
            .map_err(convert::status_error)?;
        let hash: [u8; 32] = created.r_hash.as_slice().try_into().map_err(|_| {
            LightningError::Protocol(format!("r_hash is {} bytes", created.r_hash.len()))
        })?;
        Ok(CreatedInvoice {
            payment_hash: PaymentHash(hash),
            bolt11: created.payment_request,
            expires_at: unix_now() + request.expiry_secs,
        })
    }

    async fn lookup_invoice(
        &self,
        hash: &PaymentHash,
    ) -> Result<Option<NodeInvoice>, LightningError> {
        let mut client = self.client.clone();
        let request = lnrpc::PaymentHash {
            r_hash: hash.0.to_vec(),
            ..Default::default()
        };
        match Self::call(client.lookup_invoice(self.request(request, true))).await {
            Ok(invoice) => convert::node_invoice(&invoice).map(Some),
            Err(status) if status.code() == tonic::Code::NotFound => Ok(None),
            Err(status) => Err(convert::status_error(status)),
        }
    }

    /// `invoicesrpc.CancelInvoice`. LND answers its refusals as plain Go errors (gRPC `Unknown`)
    /// with `invpkg.ErrInvoiceAlreadySettled` and `ErrInvoiceNotFound` texts; an invoice already
    /// cancelled is a success.
    async fn cancel_invoice(&self, hash: &PaymentHash) -> Result<CancelOutcome, LightningError> {
        let mut client = self.invoices.clone();
        let request = proto::invoicesrpc::CancelInvoiceMsg {
            payment_hash: hash.0.to_vec(),
        };
        match Self::call(client.cancel_invoice(self.request(request, true))).await {
            Ok(_) => Ok(CancelOutcome::Canceled),
            Err(status) if status.code() == tonic::Code::NotFound => Ok(CancelOutcome::Unknown),
            Err(status) => match convert::status_error(status) {
                LightningError::Rejected(text) if text.contains("already settled") => {
                    Ok(CancelOutcome::AlreadySettled)
                }
                LightningError::Rejected(text) if text.contains("unable to locate invoice") => {
                    Ok(CancelOutcome::Unknown)
                }
                other => Err(other),
            },
        }
    }

    async fn subscribe_settlements(
        &self,
        after_settle_index: u64,
    ) -> Result<SettlementStream, LightningError> {
        self.subscribe(after_settle_index).await
    }

    async fn status(&self) -> Result<NodeStatus, LightningError> {
        let info = self.get_info().await.map_err(convert::status_error)?;
        Ok(NodeStatus {
            pubkey: info.identity_pubkey,
            synced: info.synced_to_chain,
        })
    }

    async fn network(&self) -> Result<bitcoin::Network, LightningError> {
        let info = self.get_info().await.map_err(convert::status_error)?;
        pay::network(&info)
    }

    async fn pay_invoice(&self, request: PaymentRequest) -> Result<PaymentResult, LightningError> {
        self.send_payment(request).await
    }

    async fn track_payment(
        &self,
        hash: &PaymentHash,
        wait: Duration,
    ) -> Result<Option<PaymentResult>, LightningError> {
        self.track(hash, wait).await
    }
}
