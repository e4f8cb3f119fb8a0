//! Starting and stopping a gateway: opens the store and the node chosen in the settings, loads the
//! admin token and the domains (with their zapper keys), binds both listeners and runs the
//! supervised background tasks (settlement follower, zap receipt publisher, webhook deliverer,
//! withdrawal payer, domain watcher, NWC wallet service) under one shutdown signal, and creates the in-process ledger
//! event broadcast ([`crate::events`]) they share.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use crate::config::{AdminTokenSource, LightningBackend, Settings, StoreSettings};
use crate::gateway::Gateway;
use crate::lightning::LightningNode;
use crate::lightning::fake::{FakeControls, FakeNode};
use crate::lightning::lnd::{LndConfig, LndNode, LndStartError};
use crate::nostr::publisher::Publisher;
use crate::secret::Secret;
use crate::store::Store;
use crate::store::embedded::EmbeddedStore;
use crate::store::redis::RedisStore;
use crate::{http, ledger};

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot bind {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the store")]
    Store(#[source] crate::store::StoreError),
    #[error("cannot start the lightning backend")]
    Lightning(#[source] crate::lightning::LightningError),
    #[error("cannot read or create the admin token file {path}")]
    AdminToken {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Lnd(#[from] LndStartError),
    #[error("cannot load the domains")]
    Domains(#[source] crate::domains::LoadError),
    #[error("{0} is not available in this build yet")]
    Unsupported(&'static str),
}

/// A running gateway.
pub struct Running {
    pub public_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub gateway: Arc<Gateway>,
    /// The fake node's controls (empty unless the fake node is the node in use).
    pub fake: FakeControls,
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Running {
    /// Stops accepting, lets open requests and the settlement in progress finish, and waits for
    /// every task.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        while self.tasks.join_next().await.is_some() {}
    }

    /// Waits until every task ends (after a shutdown signal from elsewhere).
    pub async fn wait(mut self) {
        while self.tasks.join_next().await.is_some() {}
    }

    /// A handle that triggers shutdown.
    pub fn shutdown_handle(&self) -> watch::Sender<bool> {
        self.shutdown.clone()
    }
}

/// Binds the configured listeners and starts.
pub async fn start(settings: Settings) -> Result<Running, StartError> {
    let public = bind(settings.listen).await?;
    let admin = bind(settings.admin_listen).await?;
    start_with_listeners(settings, public, admin).await
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })
}

/// Opens the store the settings name, with its options (Redis: TLS trust, `WAIT`, invoice
/// expiry).
pub async fn open_store_with(
    settings: &StoreSettings,
    options: &crate::config::StoreOptions,
) -> Result<Arc<dyn Store>, crate::store::StoreError> {
    Ok(match settings {
        StoreSettings::Embedded { path } => Arc::new(EmbeddedStore::open(path)?),
        StoreSettings::Redis { url } => {
            Arc::new(RedisStore::connect_with(std::slice::from_ref(url), false, options).await?)
        }
        StoreSettings::RedisCluster { urls } => {
            Arc::new(RedisStore::connect_with(urls, true, options).await?)
        }
    })
}

/// The domains a fake node serves under an `https` public URL: a gateway that looks public while
/// its invoices cannot be paid (`lnaddr doctor` reports the same).
pub fn fake_node_on_https(settings: &Settings) -> Vec<String> {
    if !matches!(settings.lightning.backend, LightningBackend::Fake { .. }) {
        return Vec::new();
    }
    settings
        .domains
        .iter()
        .filter(|d| d.public_url.starts_with("https://"))
        .map(|d| d.name.as_str().to_string())
        .collect()
}

/// Starts on listeners bound by the caller (tests bind port 0 first).
pub async fn start_with_listeners(
    settings: Settings,
    public: TcpListener,
    admin: TcpListener,
) -> Result<Running, StartError> {
    let public_addr = public.local_addr().map_err(|source| StartError::Bind {
        addr: settings.listen,
        source,
    })?;
    let admin_addr = admin.local_addr().map_err(|source| StartError::Bind {
        addr: settings.admin_listen,
        source,
    })?;

    let store = open_store_with(&settings.store, &settings.store_options)
        .await
        .map_err(StartError::Store)?;
    let (node, fake): (Arc<dyn LightningNode>, Option<Arc<FakeNode>>) =
        match &settings.lightning.backend {
            LightningBackend::Fake { network } => {
                for domain in fake_node_on_https(&settings) {
                    tracing::warn!(
                        domain = %domain,
                        "the fake Lightning node serves an https public URL: its invoices are \
                         not payable on any network; set lightning.kind = \"lnd\" before \
                         anyone uses this address"
                    );
                }
                let fake = Arc::new(
                    FakeNode::open(&settings.data_dir, *network).map_err(StartError::Lightning)?,
                );
                (fake.clone(), Some(fake))
            }
            LightningBackend::Lnd {
                endpoint,
                tls_cert,
                macaroon,
                private_route_hints,
            } => {
                let lnd = LndNode::connect(&LndConfig {
                    endpoint: endpoint.clone(),
                    tls_cert: tls_cert.clone(),
                    macaroon: macaroon.clone(),
                    private_route_hints: *private_route_hints,
                })
                .await?;
                (Arc::new(lnd), None)
            }
        };
    let admin_token = load_admin_token(&settings.admin_token)?;
    let domains = Arc::new(
        crate::domains::Domains::load(settings.domains.clone(), store.clone())
            .await
            .map_err(StartError::Domains)?,
    );

    let metrics = crate::metrics::Metrics::default();
    let invoices = Arc::new(crate::invoices::Invoices::new(
        store.clone(),
        node.clone(),
        metrics.clone(),
        domains.clone(),
        settings.lightning.invoice_expiry_secs,
    ));
    let (payer, payer_jobs) = crate::payments::Payer::channel();
    let shared_settings = Arc::new(settings.clone());
    let payments = crate::payments::Payments::new(
        store.clone(),
        node.clone(),
        shared_settings.clone(),
        payer.clone(),
    );
    let withdrawals = crate::withdraw::Withdrawals::new(
        store.clone(),
        node.clone(),
        settings.withdraw.clone(),
        domains.clone(),
        payer,
    );
    let nwc_signal = Arc::new(crate::nwc::NwcSignal::default());
    let nwc_connections = crate::nwc::NwcConnections::new(
        store.clone(),
        settings.nwc.relays.clone(),
        nwc_signal.clone(),
    );
    let lndhub = crate::lndhub::Hub::new(
        store.clone(),
        node.clone(),
        &settings,
        payments.clone(),
        domains.clone(),
        invoices.clone(),
    );
    let gateway = Arc::new(Gateway::new(crate::gateway::Parts {
        settings,
        store,
        node,
        metrics,
        admin_token,
        domains,
        invoices,
        withdrawals,
        payments,
        nwc_connections,
        lndhub,
    }));
    let (shutdown, shutdown_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();

    let limits = &gateway.settings().limits;
    // Connections get most of the shutdown timeout; the rest is for the settlement in progress.
    let grace = gateway.settings().shutdown_timeout.mul_f64(0.8);
    let conn_limits = http::limits::ConnLimits::new(limits, grace);
    let (gw, layers) = (gateway.clone(), http::layers::Layers::new(limits));
    tasks.spawn(http::serve(
        public,
        move |req, peer| http::layers::public(gw.clone(), layers.clone(), req, peer),
        shutdown_rx.clone(),
        conn_limits.clone(),
    ));
    let fake = FakeControls::new(fake);
    let admin_state = Arc::new(http::admin::AdminState {
        gw: gateway.clone(),
        fake: fake.clone(),
    });
    let layers = http::layers::Layers::new(limits);
    tasks.spawn(http::serve(
        admin,
        move |req, peer| http::layers::admin(admin_state.clone(), layers.clone(), req, peer),
        shutdown_rx.clone(),
        conn_limits,
    ));
    tasks.spawn(gateway.domains().clone().watch(shutdown_rx.clone()));
    let zap_wake = Arc::new(Notify::new());
    tasks.spawn(crate::payments::payer::run(
        crate::payments::payer::PayerDeps {
            store: gateway.store().clone(),
            node: gateway.node().clone(),
            settings: gateway.settings().withdraw.clone(),
            events: gateway.events().clone(),
            payments: gateway.settings().payments.clone(),
            metrics: gateway.metrics().clone(),
        },
        payer_jobs,
        shutdown_rx.clone(),
    ));
    tasks.spawn(ledger::follow_settlements(
        gateway.store().clone(),
        gateway.node().clone(),
        gateway.metrics().clone(),
        zap_wake.clone(),
        gateway.events().clone(),
        gateway.settings().ledger.replay_window,
        shutdown_rx.clone(),
    ));
    tasks.spawn(ledger::forget::run(
        gateway.store().clone(),
        gateway.node().clone(),
        gateway.settings().store_options.forget_unpaid_after_secs,
        shutdown_rx.clone(),
    ));
    let publisher = Publisher {
        store: gateway.store().clone(),
        zappers: gateway.domains().clone(),
        zaps: gateway.settings().zaps.clone(),
        metrics: gateway.metrics().clone(),
        wake: zap_wake,
        owner: format!("gw-{}", hex::encode(rand::random::<[u8; 8]>())),
        resolver: Arc::new(crate::nostr::relay_guard::SystemResolver),
    };
    tasks.spawn(publisher.run(shutdown_rx.clone()));
    let deliverer = crate::webhooks::deliverer::Deliverer {
        store: gateway.store().clone(),
        metrics: gateway.metrics().clone(),
        allow_private: gateway.settings().webhooks.allow_private_addresses,
        owner: format!("gw-{}", hex::encode(rand::random::<[u8; 8]>())),
    };
    tasks.spawn(deliverer.run(shutdown_rx.clone()));
    if !gateway.settings().nwc.relays.is_empty() {
        let service = crate::nwc::NwcService {
            store: gateway.store().clone(),
            methods: crate::nwc::methods::Methods {
                store: gateway.store().clone(),
                node: gateway.node().clone(),
                settings: shared_settings,
                invoices: gateway.invoices().clone(),
                spender: Arc::new(crate::nwc::spend::EngineSpender {
                    payments: gateway.payments().clone(),
                }),
            },
            relays: gateway.settings().nwc.relays.clone(),
            events: gateway.events().clone(),
            signal: nwc_signal,
        };
        tasks.spawn(service.run(shutdown_rx));
    }
    tracing::info!(public = %public_addr, admin = %admin_addr, "lnaddr gateway started");
    Ok(Running {
        public_addr,
        admin_addr,
        gateway,
        fake,
        shutdown,
        tasks,
    })
}

/// The admin token: given in the settings, or read from its file, created with 32 random bytes
/// (hex, mode 0600) on first start.
pub fn load_admin_token(source: &AdminTokenSource) -> Result<Secret, StartError> {
    match source {
        AdminTokenSource::Value(secret) => Ok(secret.clone()),
        AdminTokenSource::File(path) => {
            let err = |source| StartError::AdminToken {
                path: path.clone(),
                source,
            };
            match std::fs::read_to_string(path) {
                Ok(text) if !text.trim().is_empty() => Ok(Secret::new(text.trim().to_string())),
                Ok(_) => Err(err(std::io::Error::other("the file is empty"))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let token = hex::encode(rand::random::<[u8; 32]>());
                    crate::fsutil::write_private(path, &token).map_err(err)?;
                    tracing::info!(path = %path.display(), "created a new admin token file");
                    Ok(Secret::new(token))
                }
                Err(e) => Err(err(e)),
            }
        }
    }
}
