//! The NIP-47 wallet service task: one per process, on the relays of `[nwc] relays`. It
//! subscribes to requests (kind 23194) addressed to every connection's wallet key, answers
//! each (kind 23195) in the encryption the client used, publishes each connection's info event
//! (kind 13194) and turns ledger events into notifications (23197 NIP-44, 23196 NIP-04).
//!
//! A request runs once whatever the number of deliveries: its event id is claimed in the store
//! ([`NwcStore::claim_nwc_request`](crate::store::NwcStore::claim_nwc_request)); a second delivery (another relay, another process on the same
//! Redis) waits for the first one's answer and sends the same. The claim keeps the request event
//! and is renewed while the request runs; a claim left to go stale (its process died, say in the
//! middle of a payment) is taken over by the next sweep of any process, which runs the request
//! again (the payment engine finishes that same payment, the budget hold is found, not taken
//! twice) and publishes the answer. Relays do not keep requests (kind 23194 is ephemeral), so
//! nothing else would ever answer it. The connection set is read from the
//! store every few seconds (and at once after a local change), so a connection made or revoked by
//! another process is served or refused within that time; every request re-reads its connection,
//! so a revoked one is refused at once everywhere. Relays are reconnected by rust-nostr's pool,
//! with a growing retry interval; a relay that is down does not stop the others.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use nostr_sdk::prelude::{RelayMessage, RelayPoolNotification, SubscriptionId};
use nostr_sdk::{Client, Event, Filter, JsonUtil, Keys, Kind, PublicKey, Timestamp};
use tokio::sync::{broadcast, watch};
use tokio::task::JoinSet;

use super::envelope::{self, Opened};
use super::methods::Methods;
use super::nip47::{self, Encryption, ErrorCode, NwcError};
use super::signal::NwcSignal;
use super::transactions;
use crate::events::{Events, LedgerEvent};
use crate::ratelimit::RateDecision;
use crate::store::{NwcConnection, RequestClaim, Store};
use crate::types::unix_now;

/// How often the connection set is read again.
const REFRESH: Duration = Duration::from_secs(5);
/// How long a claim stays fresh without being renewed; a request whose claim is older is run
/// again by the next sweep or delivery.
const LEASE_SECS: u64 = 20;
/// How often a running request renews its claim.
const RENEW_EVERY: Duration = Duration::from_secs(5);
/// The most stale requests a sweep takes up.
const SWEEP_LIMIT: usize = 64;
/// How long a second delivery waits for the first one's answer.
const ANSWER_WAIT: Duration = Duration::from_secs(150);
/// How often it looks.
const ANSWER_POLL: Duration = Duration::from_millis(100);
/// How long one publication may wait for relays' `OK`.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
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

struct Shared {
    client: Client,
    signal: Arc<NwcSignal>,
    store: Arc<dyn Store>,
    methods: Methods,
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

async fn publish(client: &Client, event: &Event, what: &str) {
    match tokio::time::timeout(SEND_TIMEOUT, client.send_event(event)).await {
        Ok(Ok(out)) if !out.success.is_empty() => {}
        Ok(Ok(_)) => tracing::warn!(kind = what, "no NWC relay accepted an event"),
        Ok(Err(e)) => tracing::warn!(kind = what, error = %e, "cannot publish to the NWC relays"),
        Err(_) => tracing::warn!(kind = what, "NWC relays did not answer in time"),
    }
}

/// Runs again the requests whose runner died (their claims went stale).
async fn sweep(shared: &Arc<Shared>, tasks: &mut JoinSet<()>) {
    let stale = match shared
        .store
        .stale_nwc_requests(unix_now(), LEASE_SECS, SWEEP_LIMIT)
        .await
    {
        Ok(stale) => stale,
        Err(e) => {
            tracing::warn!(error = %e, "cannot look for NWC requests left unanswered");
            return;
        }
    };
    for json in stale {
        match Event::from_json(&json) {
            Ok(event) => {
                tracing::info!(event_id = %event.id, "nwc: running again a request left unanswered");
                tasks.spawn(handle(shared.clone(), event, Delivery::Resumed));
            }
            Err(e) => tracing::warn!(error = %e, "an unreadable NWC request in the store"),
        }
    }
}

/// How a request reached [`handle`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    /// From a relay: a first delivery or a repeat.
    Relay,
    /// From the store: claimed before by a runner that died. It was accepted then, so its
    /// `expiration` is not checked again (its payment may be in flight).
    Resumed,
}

/// Answers one request event.
async fn handle(shared: Arc<Shared>, event: Event, delivery: Delivery) {
    let wallet_id = match envelope::addressed_to(&event) {
        Ok(id) => id,
        Err(e) => {
            tracing::debug!(error = %e, "NWC event dropped");
            return;
        }
    };
    let conn = match shared.store.nwc_connection(&wallet_id).await {
        Ok(Some(c)) => c,
        // Not one of ours: another wallet service on the same relay.
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read an NWC connection; the client will retry");
            return;
        }
    };
    let Ok(wallet) = Keys::parse(conn.wallet_secret.expose()) else {
        tracing::error!(wallet_pubkey = %conn.id, "an NWC connection's key is unreadable");
        return;
    };
    let opened = match envelope::open(&event, &wallet) {
        Ok(o) => o,
        Err(e) => {
            tracing::debug!(wallet_pubkey = %conn.id, error = %e, "NWC request dropped");
            return;
        }
    };
    let method = opened.request.method.clone();
    let answer = if event.pubkey.to_hex() != conn.client_pubkey {
        // Encrypted to our key by someone else: tell them, run nothing.
        nip47::response(
            &method,
            &Err(NwcError::new(
                ErrorCode::Unauthorized,
                "no wallet is connected to this key",
            )),
        )
    } else if delivery == Delivery::Relay && envelope::expired(opened.expiration, Timestamp::now())
    {
        nip47::response(
            &method,
            &Err(NwcError::new(ErrorCode::Other, "the request expired")),
        )
    } else {
        match run_once(&shared, &conn, &event, &opened, delivery).await {
            Some(answer) => answer,
            None => return,
        }
    };
    match envelope::response(&event, &wallet, opened.encryption, &answer) {
        Ok(ev) => publish(&shared.client, &ev, "response").await,
        Err(e) => tracing::warn!(error = %e, "cannot build an NWC response"),
    }
}

/// Runs a request once across deliveries and processes; the answer to send (the stored one for
/// a repeated delivery), or `None` when none can be given now.
async fn run_once(
    shared: &Shared,
    conn: &NwcConnection,
    event: &Event,
    opened: &Opened,
    delivery: Delivery,
) -> Option<String> {
    let key = event.id.to_hex();
    let json = event.as_json();
    let deadline = tokio::time::Instant::now() + ANSWER_WAIT;
    loop {
        match shared
            .store
            .claim_nwc_request(&key, unix_now(), LEASE_SECS, &json)
            .await
        {
            Ok(RequestClaim::Answered(answer)) => return Some(answer),
            Ok(RequestClaim::Claimed) => break,
            // Another sweep or delivery took it up first and answers it.
            Ok(RequestClaim::Running) if delivery == Delivery::Resumed => return None,
            Ok(RequestClaim::Running) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(ANSWER_POLL).await;
            }
            Ok(RequestClaim::Running) => return None,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim an NWC request; the client will retry");
                return None;
            }
        }
    }
    let method = &opened.request.method;
    // A resumed request was checked and counted when it first ran; its payment may be in
    // flight, so a revocation or a full bucket since then must not answer it with a refusal.
    let allowed = match delivery {
        Delivery::Resumed => Ok(()),
        Delivery::Relay => match check(conn, method) {
            Ok(()) => rate_limit(shared, conn).await,
            Err(e) => Err(e),
        },
    };
    let outcome = match allowed {
        Err(e) => Err(e),
        Ok(()) => {
            let run = shared
                .methods
                .run(conn, method, &opened.request.params, &key);
            keep_claimed(shared, &key, run).await
        }
    };
    if let Err(e) = &outcome {
        tracing::info!(wallet_pubkey = %conn.id, method = %method, code = e.code.as_str(), "nwc request refused");
    }
    let answer = nip47::response(method, &outcome);
    if let Err(e) = shared.store.answer_nwc_request(&key, &answer).await {
        tracing::warn!(error = %e, "cannot record an NWC answer");
    }
    Some(answer)
}

/// Runs `work`, renewing the claim on `key` every [`RENEW_EVERY`] until it is done, so that no
/// sweep takes a live request for a dead one.
async fn keep_claimed<T>(shared: &Shared, key: &str, work: impl Future<Output = T>) -> T {
    tokio::pin!(work);
    let mut renew = tokio::time::interval(RENEW_EVERY);
    renew.tick().await;
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = renew.tick() => {
                if let Err(e) = shared.store.renew_nwc_request(key, unix_now()).await {
                    tracing::warn!(error = %e, "cannot renew an NWC request's claim");
                }
            }
        }
    }
}

/// One token of the connection's bucket (`[nwc] requests_per_minute`, `requests_burst`), shared
/// by every process on the store; `RATE_LIMITED` when it is empty. A store that cannot be reached
/// lets the request through (the request then meets the same store).
async fn rate_limit(shared: &Shared, conn: &NwcConnection) -> Result<(), NwcError> {
    let settings = &shared.methods.settings;
    if !settings.limits.enabled {
        return Ok(());
    }
    let rate = settings.nwc.requests;
    match shared
        .store
        .take_token(
            &format!("nwc-conn:{}", conn.id),
            rate.interval(),
            rate.burst,
        )
        .await
    {
        Ok(RateDecision::Allowed) => Ok(()),
        Ok(RateDecision::Limited { retry_after }) => Err(NwcError::new(
            ErrorCode::RateLimited,
            format!(
                "too many requests on this connection; try again in {} s",
                retry_after.as_secs().max(1)
            ),
        )),
        Err(e) => {
            tracing::warn!(error = %e, "rate-limit store unavailable; not limiting");
            Ok(())
        }
    }
}

/// The connection may call `method` now.
fn check(conn: &NwcConnection, method: &str) -> Result<(), NwcError> {
    if conn.revoked {
        return Err(NwcError::new(
            ErrorCode::Unauthorized,
            "this connection was revoked",
        ));
    }
    if conn.is_expired(unix_now()) {
        return Err(NwcError::new(
            ErrorCode::Unauthorized,
            "this connection has expired",
        ));
    }
    if !nip47::is_method(method) {
        return Err(NwcError::new(
            ErrorCode::NotImplemented,
            format!("{method} is not implemented"),
        ));
    }
    if !conn.methods.iter().any(|m| m == method) {
        return Err(NwcError::new(
            ErrorCode::Restricted,
            format!("this connection may not call {method}"),
        ));
    }
    Ok(())
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
