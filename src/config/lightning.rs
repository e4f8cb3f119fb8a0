//! `[lightning]`: which node backend issues and pays invoices (`kind = "fake"` or `"lnd"`), how
//! long an invoice stays payable, and the `[lightning.fake]` / `[lightning.lnd]` tables.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{check_range, expand_home};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLightning {
    pub kind: Option<LightningKind>,
    /// Seconds an issued invoice stays payable.
    pub invoice_expiry_secs: Option<u64>,
    pub fake: Option<RawFake>,
    pub lnd: Option<RawLnd>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LightningKind {
    #[default]
    Fake,
    Lnd,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFake {
    /// `bitcoin`, `testnet`, `signet` or `regtest`: the network the fake node's invoices name.
    pub network: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLnd {
    pub endpoint: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub macaroon: Option<PathBuf>,
    /// Whether invoices carry route hints for private channels (LND's `private` flag).
    pub private_route_hints: Option<bool>,
}

#[derive(Debug, Clone)]
pub struct LightningSettings {
    pub invoice_expiry_secs: u64,
    pub backend: LightningBackend,
}

#[derive(Debug, Clone)]
pub enum LightningBackend {
    Fake {
        network: bitcoin::Network,
    },
    Lnd {
        endpoint: String,
        tls_cert: PathBuf,
        macaroon: PathBuf,
        /// Invoices carry route hints for private channels (default true).
        private_route_hints: bool,
    },
}

pub fn lightning_settings(raw: RawLightning, problems: &mut Vec<String>) -> LightningSettings {
    let invoice_expiry_secs = raw.invoice_expiry_secs.unwrap_or(3600);
    check_range(
        problems,
        "lightning.invoice_expiry_secs",
        invoice_expiry_secs,
        60..=7 * 86_400,
    );
    let backend = match raw.kind.unwrap_or_default() {
        LightningKind::Fake => {
            let name = raw
                .fake
                .and_then(|f| f.network)
                .unwrap_or_else(|| "regtest".into());
            let network = match name.as_str() {
                "bitcoin" | "mainnet" => bitcoin::Network::Bitcoin,
                "testnet" => bitcoin::Network::Testnet,
                "signet" => bitcoin::Network::Signet,
                "regtest" => bitcoin::Network::Regtest,
                other => {
                    problems.push(format!("lightning.fake.network: unknown network {other:?}"));
                    bitcoin::Network::Regtest
                }
            };
            LightningBackend::Fake { network }
        }
        LightningKind::Lnd => {
            let lnd = raw.lnd.unwrap_or_default();
            let home_lnd = |rest: &str| expand_home(Path::new(&format!("~/.lnd/{rest}")));
            LightningBackend::Lnd {
                endpoint: lnd
                    .endpoint
                    .unwrap_or_else(|| "https://127.0.0.1:10009".into()),
                tls_cert: lnd
                    .tls_cert
                    .map(|p| expand_home(&p))
                    .unwrap_or_else(|| home_lnd("tls.cert")),
                macaroon: lnd.macaroon.map(|p| expand_home(&p)).unwrap_or_else(|| {
                    home_lnd("data/chain/bitcoin/mainnet/invoice+offchain.macaroon")
                }),
                private_route_hints: lnd.private_route_hints.unwrap_or(true),
            }
        }
    };
    LightningSettings {
        invoice_expiry_secs,
        backend,
    }
}
