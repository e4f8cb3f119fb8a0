//! An LND simulator for tests and demos: LND's gRPC services (our proto subset, LND's wire format)
//! over TLS with an LND-like self-signed certificate, and a macaroon checked on every call the way
//! LND checks it. It keeps LND's invoice semantics (see `book.rs`), signs real BOLT 11 invoices
//! with its own key, and offers controls: settle an invoice as if paid, fail or delay payments,
//! drop every open stream, go down and come back, report not synced.
//!
//! Used in-process by `tests/lnd_backend.rs` and as a process by `examples/lnd_sim.rs`
//! (`cargo run --example lnd-sim`). State is kept in memory; the certificate, key and macaroon are
//! kept in its directory so a restarted simulator is still trusted.
#![allow(dead_code)]

mod book;
mod invoices;
mod lightning;
mod router;
mod server;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bitcoin::hashes::Hash;
use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey};
use lnaddr::lightning::lnd::proto::{invoicesrpc, lnrpc, routerrpc};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch};
use tonic::{Request, Status};

/// State shared by the services and the controls.
pub struct Shared {
    book: Mutex<book::Book>,
    key: SecretKey,
    /// Every macaroon this node issued (hex) and what it grants: `admin.macaroon` everything,
    /// [`LndSim::bake`]d ones their permissions (`lncli bakemacaroon`).
    macaroons: Mutex<std::collections::HashMap<String, Vec<(String, String)>>>,
    synced: AtomicBool,
    invoice_events: broadcast::Sender<lnrpc::Invoice>,
    payment_events: broadcast::Sender<lnrpc::Payment>,
    drop_streams: watch::Sender<u64>,
    open_streams: AtomicUsize,
    subscriptions: AtomicU64,
    fail_next: AtomicU64,
    delay_next: AtomicU64,
    delay_ms: AtomicU64,
    fee_msat: AtomicU64,
    /// While set, CancelInvoice answers as an LND that is not ready (gRPC `Unavailable`).
    cancels_unavailable: AtomicBool,
    cancel_calls: AtomicU64,
    track_calls: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, book::Book> {
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn pubkey_hex(&self) -> String {
        hex::encode(PublicKey::from_secret_key(&Secp256k1::new(), &self.key).serialize())
    }
}

/// LND's permission table (`rpcserver.go` `MainRPCServerPermissions`) for every entity lnaddr could
/// be granted; `admin.macaroon` has all of them.
pub const ALL_PERMISSIONS: &[(&str, &str)] = &[
    ("onchain", "read"),
    ("onchain", "write"),
    ("offchain", "read"),
    ("offchain", "write"),
    ("address", "read"),
    ("address", "write"),
    ("message", "read"),
    ("message", "write"),
    ("peers", "read"),
    ("peers", "write"),
    ("info", "read"),
    ("info", "write"),
    ("invoices", "read"),
    ("invoices", "write"),
    ("signer", "read"),
    ("signer", "generate"),
    ("macaroon", "read"),
    ("macaroon", "write"),
    ("macaroon", "generate"),
];

/// What the caller's macaroon grants, put on the request by [`macaroon_check`].
#[derive(Clone)]
struct Granted(Vec<(String, String)>);

/// The permission check LND makes for each method: the macaroon must grant `entity:action`, or the
/// call fails with bakery's "permission denied" as a plain Go error (gRPC `Unknown`).
fn require<T>(request: &Request<T>, entity: &str, action: &str) -> Result<(), Status> {
    let granted = request
        .extensions()
        .get::<Granted>()
        .is_some_and(|g| g.0.iter().any(|(e, a)| e == entity && a == action));
    if granted {
        Ok(())
    } else {
        Err(Status::unknown("permission denied"))
    }
}

/// LND's macaroon check (`macaroons/service.go`): errors are plain Go errors (gRPC `Unknown`).
fn macaroon_check(
    shared: Arc<Shared>,
) -> impl FnMut(Request<()>) -> Result<Request<()>, Status> + Clone {
    move |request: Request<()>| {
        let given: Vec<_> = request.metadata().get_all("macaroon").iter().collect();
        if given.len() != 1 {
            return Err(Status::unknown(format!(
                "expected 1 macaroon, got {}",
                given.len()
            )));
        }
        let text = given[0].to_str().unwrap_or_default();
        if hex::decode(text).is_err() {
            return Err(Status::unknown("encoding/hex: invalid byte"));
        }
        let granted = shared
            .macaroons
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&text.to_ascii_lowercase())
            .cloned();
        let Some(granted) = granted else {
            return Err(Status::unknown(
                "verification failed: signature mismatch after caveat verification",
            ));
        };
        let mut request = request;
        request.extensions_mut().insert(Granted(granted));
        Ok(request)
    }
}

/// A running simulator.
pub struct LndSim {
    shared: Arc<Shared>,
    addr: SocketAddr,
    dir: PathBuf,
    up: watch::Sender<bool>,
    cut: watch::Sender<u64>,
    stop: watch::Sender<bool>,
}

impl LndSim {
    /// Starts on a free loopback port with its files in `dir`.
    pub async fn start(dir: &Path) -> Result<LndSim, String> {
        Self::start_on(dir, "127.0.0.1:0".parse().map_err(|_| "addr")?).await
    }

    /// Starts on `addr` with its files (`tls.cert`, `tls.key`, `admin.macaroon`, `node.key`) in
    /// `dir`, creating them on first use.
    pub async fn start_on(dir: &Path, addr: SocketAddr) -> Result<LndSim, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        server::ensure_certificate(dir)?;
        let macaroon = read_or_create(&dir.join("admin.macaroon"), 64)?;
        let key = read_or_create(&dir.join("node.key"), 32)?;
        let key = SecretKey::from_slice(&key).map_err(|e| e.to_string())?;
        let acceptor = server::acceptor(dir)?;
        let listener = TcpListener::bind(addr).await.map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let shared = Arc::new(Shared {
            book: Mutex::default(),
            key,
            macaroons: Mutex::new(
                [(
                    hex::encode(&macaroon),
                    ALL_PERMISSIONS
                        .iter()
                        .map(|(e, a)| (e.to_string(), a.to_string()))
                        .collect(),
                )]
                .into(),
            ),
            synced: AtomicBool::new(true),
            invoice_events: broadcast::channel(1024).0,
            payment_events: broadcast::channel(1024).0,
            drop_streams: watch::channel(0).0,
            open_streams: AtomicUsize::new(0),
            subscriptions: AtomicU64::new(0),
            fail_next: AtomicU64::new(0),
            delay_next: AtomicU64::new(0),
            delay_ms: AtomicU64::new(0),
            fee_msat: AtomicU64::new(1000),
            cancels_unavailable: AtomicBool::new(false),
            cancel_calls: AtomicU64::new(0),
            track_calls: AtomicU64::new(0),
        });
        let check = macaroon_check(shared.clone());
        let routes = tonic::service::Routes::new(
            lnrpc::lightning_server::LightningServer::with_interceptor(
                lightning::LightningSvc(shared.clone()),
                check.clone(),
            ),
        )
        .add_service(routerrpc::router_server::RouterServer::with_interceptor(
            router::RouterSvc(shared.clone()),
            check.clone(),
        ))
        .add_service(
            invoicesrpc::invoices_server::InvoicesServer::with_interceptor(
                invoices::InvoicesSvc(shared.clone()),
                check,
            ),
        );
        let (up, up_rx) = watch::channel(true);
        let (cut, cut_rx) = watch::channel(0);
        let (stop, stop_rx) = watch::channel(false);
        tokio::spawn(server::serve(
            listener,
            addr,
            acceptor,
            routes,
            server::Switches {
                up: up_rx,
                cut: cut_rx,
                stop: stop_rx,
            },
        ));
        Ok(LndSim {
            shared,
            addr,
            dir: dir.to_path_buf(),
            up,
            cut,
            stop,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:PORT`, for `lightning.lnd.endpoint`.
    pub fn endpoint(&self) -> String {
        format!("https://{}", self.addr)
    }

    pub fn cert_path(&self) -> PathBuf {
        self.dir.join("tls.cert")
    }

    pub fn macaroon_path(&self) -> PathBuf {
        self.dir.join("admin.macaroon")
    }

    /// Where a gateway under test finds this simulator.
    #[cfg(test)]
    pub fn lnd(&self) -> crate::support::lnd_gateway::Lnd {
        crate::support::lnd_gateway::Lnd {
            endpoint: self.endpoint(),
            cert: self.cert_path(),
            macaroon: self.macaroon_path(),
        }
    }

    /// `lncli bakemacaroon PERMISSIONS --save_to DIR/NAME`: a new macaroon granting exactly
    /// `permissions`, written to the simulator's directory; answers its path. Baked macaroons
    /// live in memory, like the rest of the simulator's state.
    pub fn bake(&self, name: &str, permissions: &[(&str, &str)]) -> PathBuf {
        let bytes: [u8; 32] = rand::random();
        let path = self.dir.join(name);
        std::fs::write(&path, bytes).expect("write macaroon");
        self.shared
            .macaroons
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                hex::encode(bytes),
                permissions
                    .iter()
                    .map(|(e, a)| (e.to_string(), a.to_string()))
                    .collect(),
            );
        path
    }

    /// The node's identity key, hex.
    pub fn pubkey(&self) -> String {
        self.shared.pubkey_hex()
    }

    /// Settles an open invoice (given as BOLT 11 or payment hash hex) as if the network paid it.
    pub fn settle(&self, bolt11_or_hash: &str) -> Result<lnrpc::Invoice, String> {
        let text = bolt11_or_hash.trim();
        let hash: [u8; 32] = match text.parse::<lightning_invoice::Bolt11Invoice>() {
            Ok(invoice) => *invoice.payment_hash().as_byte_array(),
            Err(_) => {
                let mut h = [0u8; 32];
                hex::decode_to_slice(text, &mut h).map_err(|_| "not a BOLT 11 invoice or hash")?;
                h
            }
        };
        let mut book = self.shared.lock();
        let settled = book.settle(&hash).map_err(|e| e.to_string())?;
        let _ = self.shared.invoice_events.send(settled.clone());
        Ok(settled)
    }

    /// One invoice as LookupInvoice would show it.
    pub fn invoice(&self, hash: &[u8; 32]) -> Option<lnrpc::Invoice> {
        self.shared.lock().get(hash)
    }

    /// The next `n` payments fail with FAILURE_REASON_NO_ROUTE.
    pub fn fail_next_payments(&self, n: u64) {
        self.shared.fail_next.store(n, Ordering::SeqCst);
    }

    /// The next `n` payments stay in flight for `delay` first.
    pub fn delay_next_payments(&self, n: u64, delay: Duration) {
        self.shared
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
        self.shared.delay_next.store(n, Ordering::SeqCst);
    }

    /// While `on`, CancelInvoice fails as a node that cannot answer now.
    pub fn set_cancels_unavailable(&self, on: bool) {
        self.shared.cancels_unavailable.store(on, Ordering::SeqCst);
    }

    /// CancelInvoice calls received so far.
    pub fn cancel_calls(&self) -> u64 {
        self.shared.cancel_calls.load(Ordering::SeqCst)
    }

    /// TrackPaymentV2 calls received so far.
    pub fn track_calls(&self) -> u64 {
        self.shared.track_calls.load(Ordering::SeqCst)
    }

    /// SendPaymentV2 calls accepted so far.
    pub fn payments_started(&self) -> u64 {
        self.shared.lock().payment_count
    }

    /// The routing fee of successful payments (default 1000 msat).
    pub fn set_payment_fee_msat(&self, fee: u64) {
        self.shared.fee_msat.store(fee, Ordering::SeqCst);
    }

    /// GetInfo's `synced_to_chain` (and `synced_to_graph`).
    pub fn set_synced(&self, synced: bool) {
        self.shared.synced.store(synced, Ordering::SeqCst);
    }

    /// Ends every open SubscribeInvoices stream with an `Unavailable` status.
    pub fn drop_streams(&self) {
        self.shared.drop_streams.send_modify(|g| *g += 1);
    }

    /// SubscribeInvoices streams currently open.
    pub fn open_streams(&self) -> usize {
        self.shared.open_streams.load(Ordering::SeqCst)
    }

    /// SubscribeInvoices calls answered so far (grows by one per subscription).
    pub fn subscriptions(&self) -> u64 {
        self.shared.subscriptions.load(Ordering::SeqCst)
    }

    /// Closes the listener and every connection: callers see "connection refused".
    pub fn go_down(&self) {
        self.up.send_replace(false);
        self.cut.send_modify(|g| *g += 1);
        self.drop_streams();
    }

    /// Listens again on the same address.
    pub fn come_up(&self) {
        self.up.send_replace(true);
    }
}

impl Drop for LndSim {
    fn drop(&mut self) {
        self.stop.send_replace(true);
        self.cut.send_modify(|g| *g += 1);
        self.drop_streams();
    }
}

fn read_or_create(path: &Path, len: usize) -> Result<Vec<u8>, String> {
    match std::fs::read(path) {
        Ok(bytes) if !bytes.is_empty() => Ok(bytes),
        _ => {
            let bytes: Vec<u8> = (0..len).map(|_| rand::random::<u8>()).collect();
            std::fs::write(path, &bytes).map_err(|e| e.to_string())?;
            Ok(bytes)
        }
    }
}
