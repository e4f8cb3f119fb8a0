//! Reaching LND: the endpoint, macaroon and certificate read and checked, the lazily connected
//! channel over our TLS connector, and the one `GetInfo` at start that tells a refused macaroon or
//! certificate (an error) from a node that is only down (a warning: the gateway starts anyway).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tonic::metadata::MetadataValue;
use tonic::transport::Endpoint;

use super::proto::invoicesrpc::invoices_client::InvoicesClient;
use super::proto::lnrpc::lightning_client::LightningClient;
use super::proto::routerrpc::router_client::RouterClient;
use super::{CONNECT_TIMEOUT, LndConfig, LndNode, convert, tls};

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
}
