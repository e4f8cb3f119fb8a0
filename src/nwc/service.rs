//! The NIP-47 wallet service task: one per process, on the relays of `[nwc] relays`. It
//! subscribes to requests (kind 23194) addressed to every connection's wallet key, answers
//! each (kind 23195) in the encryption the client used, publishes each connection's info event
//! (kind 13194) and turns ledger events into notifications (23197 NIP-44, 23196 NIP-04).
//!
//! Each request is answered by `nwc::requests`, once whatever the number of deliveries, and
//! again after a restart if its runner died. The connection set is read from the
//! store every few seconds (and at once after a local change), so a connection made or revoked by
//! another process is served or refused within that time; every request re-reads its connection,
//! so a revoked one is refused at once everywhere. Relays are reconnected by rust-nostr's pool,
//! with a growing retry interval; a relay that is down does not stop the others.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use nostr_sdk::prelude::{RelayMessage, RelayPoolNotification, SubscriptionId};
use nostr_sdk::{Client, Filter, Keys, Kind, PublicKey, Timestamp};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinSet;

use super::envelope;
use super::methods::Methods;
use super::nip47::{self, Encryption};
use super::requests::{Delivery, Shared, handle, publish, sweep};
use super::signal::NwcSignal;
use super::transactions;
use crate::events::{Events, LedgerEvent};
use crate::store::{NwcConnection, Store};
use crate::types::unix_now;

/// How often the connection set is read again.
const REFRESH: Duration = Duration::from_secs(5);
/// Requests older than this at start are not asked for again.
const LOOKBACK_SECS: u64 = 300;

const SUBSCRIPTION: &str = "nwc-requests";

/// What the service works with.
pub struct NwcService {
    pub store: Arc<dyn Store>,
    pub methods: Methods,
    pub relays: Vec<String>,
    pub events: Events,
    /// Woken when a connection is made or revoked in this process; told what is listened for.
    pub signal: Arc<NwcSignal>,
}

impl NwcService {
    /// Runs until `shutdown`.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let client = Client::default();
        for relay in &self.relays {
            if let Err(e) = client.add_relay(relay.as_str()).await {
                tracing::warn!(relay = %relay, error = %e, "cannot add an NWC relay");
            }
        }
        client.connect().await;
        let mut notifications = client.notifications();
        let mut ledger = self.events.subscribe();
        let shared = Arc::new(Shared {
            client: client.clone(),
            signal: self.signal.clone(),
            store: self.store.clone(),
            methods: self.methods.clone(),
        });
        let since = Timestamp::from(unix_now().saturating_sub(LOOKBACK_SECS));
        let mut state = Subscribed::default();
        let mut tasks = JoinSet::new();
        let mut refresh = tokio::time::interval(REFRESH);
        tracing::info!(relays = self.relays.len(), "nwc wallet service started");
        loop {
            tokio::select! {
                _ = refresh.tick() => {
                    state.refresh(&shared, since, &mut tasks).await;
                    sweep(&shared, &mut tasks).await;
                }
                () = self.signal.notified() => state.refresh(&shared, since, &mut tasks).await,
                // Every relay's delivery (not the pool's first-seen `Event`): each one is
                // answered, and the store's claim makes sure the request runs once.
                n = notifications.recv() => match n {
                    Ok(RelayPoolNotification::Message {
                        message: RelayMessage::Event { subscription_id, event },
                        ..
                    }) if subscription_id.as_str() == SUBSCRIPTION
                        && event.kind == Kind::from(nip47::KIND_REQUEST) =>
                    {
                        tasks.spawn(handle(shared.clone(), event.into_owned(), Delivery::Relay));
                    }
                    Ok(RelayPoolNotification::Shutdown) => break,
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "nwc service fell behind the relays");
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                e = ledger.recv() => match e {
                    Ok(event) => { tasks.spawn(notify(shared.clone(), event)); }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "nwc notifications fell behind the ledger");
                    }
                    Err(broadcast::error::RecvError::Closed) => {}
                },
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                _ = shutdown.changed() => break,
            }
        }
        // Payments in flight go on in the payer; their requests are answered by the next sweep.
        self.signal.stopped();
        tasks.shutdown().await;
        client.shutdown().await;
    }
}

/// What this process subscribed to and published.
#[derive(Default)]
struct Subscribed {
    wallets: BTreeSet<PublicKey>,
    /// Info event content published per connection.
    info: HashMap<String, String>,
}

impl Subscribed {
    async fn refresh(&mut self, shared: &Arc<Shared>, since: Timestamp, tasks: &mut JoinSet<()>) {
        let all = match shared.store.nwc_connections(None).await {
            Ok(all) => all,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list NWC connections");
                return;
            }
        };
        let now = unix_now();
        let live: Vec<&NwcConnection> = all
            .iter()
            .filter(|c| !c.revoked && !c.is_expired(now))
            .collect();
        // Revoked and expired connections stay subscribed, so that their clients are told
        // UNAUTHORIZED rather than left waiting.
        let wallets: BTreeSet<PublicKey> = all
            .iter()
            .filter_map(|c| PublicKey::from_hex(&c.id).ok())
            .collect();
        if wallets != self.wallets {
            let id = SubscriptionId::new(SUBSCRIPTION);
            if wallets.is_empty() {
                shared.client.unsubscribe(&id).await;
            } else {
                let filter = Filter::new()
                    .kind(Kind::from(nip47::KIND_REQUEST))
                    .pubkeys(wallets.iter().copied())
                    .since(since);
                // Kept by every relay and sent again when it reconnects, even if it is down now.
                if let Err(e) = shared.client.subscribe_with_id(id, filter, None).await {
                    tracing::debug!(error = %e, "no NWC relay took the subscription yet");
                }
            }
            self.wallets = wallets;
        }
        shared
            .signal
            .listening(self.wallets.iter().map(|w| w.to_hex()).collect());
        for c in live {
            let content = nip47::info_content(&c.methods);
            if self.info.get(&c.id) != Some(&content) {
                self.info.insert(c.id.clone(), content);
                let (shared, c) = (shared.clone(), c.clone());
                tasks.spawn(async move {
                    let Ok(keys) = Keys::parse(c.wallet_secret.expose()) else {
                        return;
                    };
                    match envelope::info(&keys, &c.methods) {
                        Ok(ev) => publish(&shared.client, &ev, "info").await,
                        Err(e) => tracing::warn!(error = %e, "cannot build an NWC info event"),
                    }
                });
            }
        }
    }
}

/// Sends the notification of a ledger event to every live connection of its account, in both
/// encryptions.
async fn notify(shared: Arc<Shared>, event: LedgerEvent) {
    let (kind, body) = match &event {
        LedgerEvent::Received(r) => ("payment_received", transactions::received(r)),
        LedgerEvent::Sent(s) => ("payment_sent", transactions::sent(s)),
        LedgerEvent::Failed(_) => return,
    };
    let conns = match shared.store.nwc_connections(Some(event.account_id())).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list NWC connections for a notification");
            return;
        }
    };
    let json = nip47::notification(kind, body);
    let now = unix_now();
    for conn in conns.iter().filter(|c| !c.revoked && !c.is_expired(now)) {
        let (Ok(wallet), Ok(client)) = (
            Keys::parse(conn.wallet_secret.expose()),
            PublicKey::from_hex(&conn.client_pubkey),
        ) else {
            continue;
        };
        for scheme in [Encryption::Nip44, Encryption::Nip04] {
            match envelope::notification(&wallet, &client, scheme, &json) {
                Ok(ev) => publish(&shared.client, &ev, kind).await,
                Err(e) => tracing::warn!(error = %e, "cannot build an NWC notification"),
            }
        }
    }
}
