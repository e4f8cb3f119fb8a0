//! `lnaddr doctor`: checks a configuration and the gateway it describes the way an operator would
//! ask, one line per finding with what to do. The config parses (or the CLI stops before this);
//! the store answers; the node answers, is synced, is on the expected network, and its macaroon
//! grants what lnaddr needs and nothing more (LND's `CheckMacaroonPermissions`); each domain's
//! `public_url` answers `/.well-known/lnurlp/` with exactly this gateway's answer (through the
//! proxy and its TLS); the domain relays and the NWC relays are reachable; the registered webhooks
//! post to public addresses; clocks agree.
//!
//! This file runs the checks in order and checks the gateway and the store itself; the node's
//! checks are in `node`, the domains through the proxy in `domains`, the relays and webhooks the
//! gateway connects out to in `outbound`, the findings ([`Report`]) in `report`, and the HTTP and
//! relay questions they ask in [`probe`].

mod domains;
mod node;
mod outbound;
pub mod probe;
mod report;

use std::path::PathBuf;
use std::time::Duration;

use crate::config::{Settings, StoreSettings};
use crate::secret::Secret;

pub use node::{EXTRA_PERMISSIONS, REQUIRED_PERMISSIONS};
pub use report::{Finding, Level, Report};

/// How long one network question may take.
const TIMEOUT: Duration = Duration::from_secs(8);
/// Clocks further apart than this are reported.
const MAX_SKEW_SECS: i64 = 60;

/// What doctor is told besides the config.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The network the node must be on; default: bitcoin when a domain is served over https.
    pub network: Option<bitcoin::Network>,
    /// A macaroon with `macaroon:read` (LND's `readonly.macaroon`) to ask LND what lnaddr's
    /// macaroon grants, when lnaddr's own cannot ask (as it should not).
    pub check_macaroon: Option<PathBuf>,
    /// The admin token, to find an account per domain to look up.
    pub admin_token: Option<Secret>,
}

fn now() -> i64 {
    i64::try_from(crate::types::unix_now()).unwrap_or(i64::MAX)
}

/// Runs every check against `settings` (already parsed) and the gateway they describe.
pub async fn run(settings: &Settings, options: &Options) -> Report {
    let mut report = Report::default();
    for domain in crate::app::fake_node_on_https(settings) {
        report.warn(
            format!(
                "the fake Lightning node serves {domain} over https: its invoices cannot be paid"
            ),
            "set lightning.kind = \"lnd\" (docs/deploy.md)",
        );
    }
    let running = gateway(settings, &mut report).await;
    store(settings, running, &mut report).await;
    node::node(settings, options, &mut report).await;
    domains::domains(settings, options, running, &mut report).await;
    outbound::relays(settings, &mut report).await;
    outbound::nwc_relays(settings, &mut report).await;
    outbound::webhooks(settings, options, running, &mut report).await;
    report
}

/// Whether a gateway answers on `listen`, and whether it says it is ready.
async fn gateway(settings: &Settings, report: &mut Report) -> bool {
    let base = format!("http://{}", settings.listen);
    match probe::get(&format!("{base}/readyz"), None, TIMEOUT).await {
        Ok(a) if a.status == 200 => {
            report.ok(format!(
                "a gateway answers on {} and is ready",
                settings.listen
            ));
            true
        }
        Ok(a) => {
            report.fail(
                format!(
                    "the gateway on {} is not ready ({}: {})",
                    settings.listen,
                    a.status,
                    String::from_utf8_lossy(&a.body).trim()
                ),
                "see below which of store and node does not answer, and the gateway's log",
            );
            true
        }
        Err(e) => {
            report.warn(
                format!("no gateway answers on {} ({e})", settings.listen),
                "start it (systemctl start lnaddr) to check the domains through the proxy",
            );
            false
        }
    }
}

async fn store(settings: &Settings, running: bool, report: &mut Report) {
    match &settings.store {
        StoreSettings::Embedded { path } if running => report.ok(format!(
            "embedded store {}: held by the running gateway",
            path.display()
        )),
        StoreSettings::Embedded { path } if !path.exists() => report.warn(
            format!("embedded store {} does not exist yet", path.display()),
            "lnaddr serve creates it on first start; check data_dir if you expected one",
        ),
        StoreSettings::Embedded { path } => {
            match crate::store::embedded::EmbeddedStore::open(path) {
                Ok(_) => report.ok(format!("embedded store {} opens", path.display())),
                Err(e) => report.fail(
                    format!("embedded store {} does not open: {e}", path.display()),
                    "check the file's owner (the service user) and mode; restore a backup if it is damaged",
                ),
            }
        }
        StoreSettings::Redis { .. } | StoreSettings::RedisCluster { .. } => {
            let store = crate::app::open_store_with(&settings.store, &settings.store_options).await;
            let answer = match store {
                Ok(s) => s.ping().await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            match answer {
                Ok(()) => report.ok("the Redis store answers"),
                Err(e) => report.fail(
                    format!("the Redis store does not answer: {e}"),
                    "check store.url, the password and the network path to Redis",
                ),
            }
        }
    }
}

/// The admin API client of the gateway `settings` describe, with the token doctor was given.
fn admin_client(
    settings: &Settings,
    options: &Options,
) -> Result<crate::client::AdminClient, crate::client::ClientError> {
    match &options.admin_token {
        Some(token) => crate::client::AdminClient::new(
            &format!("http://{}", settings.admin_listen),
            token.clone(),
        ),
        None => crate::client::AdminClient::from_settings(settings, None, None),
    }
}
