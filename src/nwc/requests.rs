//! One NIP-47 request, run once: its event id is claimed in the store
//! ([`NwcStore::claim_nwc_request`](crate::store::NwcStore::claim_nwc_request)); a second delivery
//! (another relay, another process on the same Redis) waits for the first one's answer and sends
//! the same. The claim keeps the request event and is renewed while the request runs; a claim
//! left to go stale (its process died, say in the middle of a payment) is taken over by the next
//! sweep of any process, which runs the request again (the payment engine finishes that same
//! payment, the budget hold is found, not taken twice) and publishes the answer. Relays do not
//! keep requests (kind 23194 is ephemeral), so nothing else would ever answer it. Also here: the
//! per-connection checks (revoked, expired, allowed methods, rate limit) and publishing.

use std::sync::Arc;
use std::time::Duration;

use nostr_sdk::{Client, Event, JsonUtil, Keys, Timestamp};
use tokio::task::JoinSet;

use super::envelope::{self, Opened};
use super::methods::Methods;
use super::nip47::{self, ErrorCode, NwcError};
use super::signal::NwcSignal;
use crate::ratelimit::RateDecision;
use crate::store::{NwcConnection, RequestClaim, Store};
use crate::types::unix_now;

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

/// What request handling works with (one per service).
pub(super) struct Shared {
    pub client: Client,
    pub signal: Arc<NwcSignal>,
    pub store: Arc<dyn Store>,
    pub methods: Methods,
}

/// Publishes `event` to the relays, waiting a bounded time for their `OK`.
pub(super) async fn publish(client: &Client, event: &Event, what: &str) {
    match tokio::time::timeout(SEND_TIMEOUT, client.send_event(event)).await {
        Ok(Ok(out)) if !out.success.is_empty() => {}
        Ok(Ok(_)) => tracing::warn!(kind = what, "no NWC relay accepted an event"),
        Ok(Err(e)) => tracing::warn!(kind = what, error = %e, "cannot publish to the NWC relays"),
        Err(_) => tracing::warn!(kind = what, "NWC relays did not answer in time"),
    }
}

/// Runs again the requests whose runner died (their claims went stale).
pub(super) async fn sweep(shared: &Arc<Shared>, tasks: &mut JoinSet<()>) {
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
pub(super) enum Delivery {
    /// From a relay: a first delivery or a repeat.
    Relay,
    /// From the store: claimed before by a runner that died. It was accepted then, so its
    /// `expiration` is not checked again (its payment may be in flight).
    Resumed,
}

/// Answers one request event.
pub(super) async fn handle(shared: Arc<Shared>, event: Event, delivery: Delivery) {
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
