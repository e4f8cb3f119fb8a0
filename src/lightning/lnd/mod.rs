//! The LND backend: gRPC over TLS with a macaroon (LND's `lnrpc.Lightning` service).
//!
//! - Every call carries the macaroon (hex) as `macaroon` metadata and has a deadline
//!   ([`CALL_TIMEOUT`]); connections are made lazily and remade after failures, so the gateway
//!   starts, and keeps answering what needs no node, while LND is down.
//! - The settle cursor is keyed by LND's identity key (`GetInfo.identity_pubkey`, asked at every
//!   subscription by the settlement follower), so another node behind the same endpoint starts its
//!   own cursor. Earlier versions keyed it by the endpoint (`lnd:HOST:PORT`,
//!   [`LightningNode::node_id`]); that cursor is carried over once.
//! - [`LightningNode::settle_index_reaches`] reads `ListInvoices` backwards from the newest invoice
//!   and stops at the first one settled at or above the index, so it is cheap when the cursor is
//!   recent and reads every invoice only when the node's count really went backwards.
//! - Settlements: `SubscribeInvoices` with `settle_index` = the cursor. LND replays only when the
//!   index is non-zero, so from cursor 0 the backlog is read with `ListInvoices` after the live
//!   stream is open, and live updates already in the backlog are dropped.

mod convert;
mod doctor;
pub use doctor::MacaroonCheck;
mod pay;
pub mod proto;
pub mod tls;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use tonic::metadata::{AsciiMetadataValue, MetadataValue};
use tonic::transport::{Channel, Endpoint};

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
/// Invoices per `ListInvoices` page when reading the settled backlog.
const LIST_PAGE: u64 = 1000;

/// Where and how to reach LND.
#[derive(Debug, Clone)]
pub struct LndConfig {
    pub endpoint: String,
    pub tls_cert: PathBuf,
    pub macaroon: PathBuf,
    /// Ask LND to add route hints for private channels to every invoice.
    pub private_route_hints: bool,
}

/// Why the LND backend could not start. Never shows the macaroon itself.
#[derive(Debug, thiserror::Error)]
pub enum LndStartError {
    /// `lightning.lnd.endpoint` is not `https://HOST:PORT`.
    #[error("lightning.lnd.endpoint {endpoint:?} is not usable: {reason}")]
    Endpoint { endpoint: String, reason: String },
    /// The macaroon file could not be read.
    #[error("cannot read the LND macaroon file {}", path.display())]
    ReadMacaroon {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The TLS certificate file could not be read or parsed.
    #[error("cannot use the LND TLS certificate file {}: {reason}", path.display())]
    Certificate { path: PathBuf, reason: String },
    /// LND refused the macaroon (wrong node, or missing permissions).
    #[error(
        "LND at {endpoint} refused the macaroon in {}: {message} (is it a macaroon of this node, \
         with invoices:read invoices:write offchain:read offchain:write info:read?)",
        path.display()
    )]
    MacaroonRefused {
        endpoint: String,
        path: PathBuf,
        message: String,
    },
    /// LND presented a certificate other than the configured one.
    #[error(
        "LND at {endpoint} presented a TLS certificate that does not match {} ({reason}); \
         copy the node's current tls.cert",
        path.display()
    )]
    CertificateMismatch {
        endpoint: String,
        path: PathBuf,
        reason: String,
    },
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
    /// Reads the macaroon and certificate and checks them with `GetInfo`. A refused macaroon or
    /// certificate is an error; an unreachable node is only a warning (the gateway starts and
    /// reports not ready until LND answers).
    pub async fn connect(config: &LndConfig) -> Result<LndNode, LndStartError> {
        let node = Self::new(config)?;
        match node.get_info().await {
            Ok(info) => {
                tracing::info!(pubkey = %info.identity_pubkey, version = %info.version,
                    synced = info.synced_to_chain, "connected to LND");
            }
            Err(status) if convert::is_auth_error(&status) => {
                return Err(LndStartError::MacaroonRefused {
                    endpoint: config.endpoint.clone(),
                    path: config.macaroon.clone(),
                    message: status.message().to_string(),
                });
            }
            Err(status) => {
                if let Some(reason) = tls::is_certificate_error(&status) {
                    return Err(LndStartError::CertificateMismatch {
                        endpoint: config.endpoint.clone(),
                        path: config.tls_cert.clone(),
                        reason,
                    });
                }
                tracing::warn!(endpoint = %config.endpoint, error = %status.message(),
                    "LND is not reachable; starting anyway, invoices fail until it answers");
            }
        }
        Ok(node)
    }

    /// Builds the client without calling LND.
    pub fn new(config: &LndConfig) -> Result<LndNode, LndStartError> {
        let endpoint_err = |reason: String| LndStartError::Endpoint {
            endpoint: config.endpoint.clone(),
            reason,
        };
        let target = tls::Target::parse(&config.endpoint).map_err(endpoint_err)?;
        let raw =
            std::fs::read(&config.macaroon).map_err(|source| LndStartError::ReadMacaroon {
                path: config.macaroon.clone(),
                source,
            })?;
        let macaroon =
            MetadataValue::try_from(hex::encode(raw)).map_err(|e| LndStartError::ReadMacaroon {
                path: config.macaroon.clone(),
                source: std::io::Error::other(e),
            })?;
        let cert_err = |reason: String| LndStartError::Certificate {
            path: config.tls_cert.clone(),
            reason,
        };
        let certs = tls::load_certificates(&config.tls_cert).map_err(cert_err)?;
        let tls_config = tls::client_config(certs).map_err(|e| cert_err(e.to_string()))?;
        let channel = Endpoint::from_shared(target.http_uri())
            .map_err(|e| endpoint_err(e.to_string()))?
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            // LND refuses pings closer than `grpc.client-ping-min-wait` (5 s) and, by default,
            // pings without an open stream; the settlement stream is always open.
            .http2_keep_alive_interval(Duration::from_secs(60))
            .keep_alive_timeout(Duration::from_secs(20))
            .keep_alive_while_idle(false)
            .connect_with_connector_lazy(tls::connector(
                target.clone(),
                Arc::new(tls_config),
                CONNECT_TIMEOUT,
            ));
        Ok(LndNode {
            client: LightningClient::new(channel.clone()),
            router: RouterClient::new(channel.clone()),
            invoices: InvoicesClient::new(channel),
            macaroon,
            node_id: format!("lnd:{}:{}", target.host.to_ascii_lowercase(), target.port),
            private_route_hints: config.private_route_hints,
        })
    }

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

    /// Every settled invoice with a settle index above `after`, in settle order (`ListInvoices`).
    async fn settled_backlog(&self, after: u64) -> Result<Vec<Settlement>, LightningError> {
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            let mut client = self.client.clone();
            let page = Self::call(client.list_invoices(self.request(
                lnrpc::ListInvoiceRequest {
                    pending_only: false,
                    index_offset: offset,
                    num_max_invoices: LIST_PAGE,
                    reversed: false,
                },
                true,
            )))
            .await
            .map_err(convert::status_error)?;
            for invoice in &page.invoices {
                if let Some(s) = convert::settlement(invoice)?
                    && s.settle_index > after
                {
                    out.push(s);
                }
            }
            if page.invoices.is_empty() || page.last_index_offset <= offset {
                break;
            }
            offset = page.last_index_offset;
        }
        out.sort_by_key(|s| s.settle_index);
        Ok(out)
    }
}

#[async_trait]
impl LightningNode for LndNode {
    fn node_id(&self) -> String {
        self.node_id.clone()
    }

    async fn settle_index_reaches(&self, index: u64) -> Result<bool, LightningError> {
        if index == 0 {
            return Ok(true);
        }
        // Backwards from the newest invoice: `index_offset` 0 with `reversed` starts at the end,
        // and `first_index_offset` of a page is where the next (older) page ends.
        let mut offset = 0;
        loop {
            let mut client = self.client.clone();
            let page = Self::call(client.list_invoices(self.request(
                lnrpc::ListInvoiceRequest {
                    pending_only: false,
                    index_offset: offset,
                    num_max_invoices: LIST_PAGE,
                    reversed: true,
                },
                true,
            )))
            .await
            .map_err(convert::status_error)?;
            if page.invoices.iter().any(|i| i.settle_index >= index) {
                return Ok(true);
            }
            if page.invoices.is_empty() || page.first_index_offset <= 1 {
                return Ok(false);
            }
            if offset != 0 && page.first_index_offset >= offset {
                return Err(LightningError::Protocol(
                    "ListInvoices did not page backwards".into(),
                ));
            }
            offset = page.first_index_offset;
        }
    }

    async fn create_invoice(
        &self,
        request: InvoiceRequest,
    ) -> Result<CreatedInvoice, LightningError> {
        let value_msat = i64::try_from(request.amount.0)
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
        let mut client = self.client.clone();
        let subscription = lnrpc::InvoiceSubscription {
            add_index: 0,
            settle_index: after_settle_index,
        };
        let live = Self::call(client.subscribe_invoices(self.request(subscription, false)))
            .await
            .map_err(convert::status_error)?;
        // LND replays nothing for settle_index 0: read the backlog once the stream is open.
        let backlog = if after_settle_index == 0 {
            self.settled_backlog(0).await?
        } else {
            Vec::new()
        };
        let seen = backlog
            .last()
            .map_or(after_settle_index, |s| s.settle_index);
        let live = live.filter_map(move |update| {
            futures_util::future::ready(match update {
                Ok(invoice) => match convert::settlement(&invoice) {
                    Ok(Some(s)) if s.settle_index > seen => Some(Ok(s)),
                    Ok(_) => None,
                    Err(e) => Some(Err(e)),
                },
                Err(status) => Some(Err(convert::status_error(status))),
            })
        });
        Ok(Box::pin(
            futures_util::stream::iter(backlog.into_iter().map(Ok)).chain(live),
        ))
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
