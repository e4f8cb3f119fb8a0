//! NWC (NIP-47) test support: gateways whose `[nwc] relays` are in-process relays, connections made
//! through the admin API, the independent `nwc` client (rust-nostr's, NIP-04), and a small raw
//! client that signs and encrypts requests itself (NIP-44 v2 or NIP-04, an `expiration` tag, the
//! same event sent twice) and reads the responses and notifications off the relay.

use std::time::Duration;

use lightning_invoice::Currency;
use nostr_relay_builder::prelude::LocalRelay;
use nostr_sdk::nips::{nip04, nip44};
use nostr_sdk::prelude::*;
use nwc::prelude::NostrWalletConnectURI;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::gateway::TestGateway;
use super::redis_server::RedisServer;
use super::wallet::foreign_invoice;
use super::zaps::relay;

pub const WAIT: Duration = Duration::from_secs(20);

/// Which store a test runs on.
#[derive(Clone, Copy, Debug)]
pub enum Backing {
    Embedded,
    Redis,
}

/// A gateway serving NWC on its own relays, and what keeps them alive.
pub struct NwcGateway {
    pub gw: TestGateway,
    pub relays: Vec<(LocalRelay, String)>,
    pub redis: Option<RedisServer>,
    _dir: tempfile::TempDir,
}

/// A gateway on `backend` with `relay_count` fresh relays as `[nwc] relays`.
pub async fn nwc_gateway(backend: Backing, relay_count: usize) -> NwcGateway {
    nwc_gateway_with(backend, relay_count, Vec::new()).await
}

/// The same with more `LNADDR_*` settings (they win over the defaults here).
pub async fn nwc_gateway_with(
    backend: Backing,
    relay_count: usize,
    extra: Vec<(String, String)>,
) -> NwcGateway {
    let mut relays = Vec::new();
    for _ in 0..relay_count {
        relays.push(relay(0).await);
    }
    let redis = match backend {
        Backing::Embedded => None,
        Backing::Redis => Some(RedisServer::start()),
    };
    let urls: Vec<String> = relays.iter().map(|(_, u)| u.clone()).collect();
    let dir = tempfile::tempdir().expect("tmp");
    let gw = gateway_on_with(dir.path(), &urls, redis.as_ref(), extra).await;
    NwcGateway {
        gw,
        relays,
        redis,
        _dir: dir,
    }
}

/// One more gateway process on the same relays (and store, for Redis).
pub async fn gateway_on(
    dir: &std::path::Path,
    relays: &[String],
    redis: Option<&RedisServer>,
) -> TestGateway {
    gateway_on_with(dir, relays, redis, Vec::new()).await
}

async fn gateway_on_with(
    dir: &std::path::Path,
    relays: &[String],
    redis: Option<&RedisServer>,
    extra: Vec<(String, String)>,
) -> TestGateway {
    let list = relays
        .iter()
        .map(|r| format!("{r:?}"))
        .collect::<Vec<_>>()
        .join(",");
    let store = redis.map(|r| r.store_env()).unwrap_or_default();
    TestGateway::start_with(dir, |url| {
        let mut env = vec![
            (
                "LNADDR_DOMAINS".to_string(),
                format!(r#"[{{name="localhost", public_url="{url}"}}]"#),
            ),
            ("LNADDR_NWC__RELAYS".to_string(), format!("[{list}]")),
        ];
        env.extend(store);
        env.extend(extra);
        env
    })
    .await
}

/// The address most tests work with.
pub const ALICE: &str = "alice@localhost";

/// A gateway on `b` with Alice's account holding `balance` msat.
pub async fn alice(b: Backing, balance: u64) -> NwcGateway {
    let env = nwc_gateway(b, 1).await;
    env.gw.create_account(ALICE).await;
    fund(&env.gw, ALICE, balance).await;
    env
}

/// The wallet service's info event (kind 13194), once it is on the relay.
pub async fn wait_info(raw: &RawClient) -> Event {
    super::process::wait_for("the info event", WAIT, || async {
        let filter = Filter::new()
            .author(raw.uri.public_key)
            .kind(Kind::from(13194));
        raw.client
            .fetch_events(filter, Duration::from_secs(2))
            .await
            .ok()
            .and_then(|events| events.first().cloned())
    })
    .await
}

/// The NIP-47 error code of an answer, or `none`.
pub fn error_code(answer: &Value) -> &str {
    answer["error"]["code"].as_str().unwrap_or("none")
}

/// Pays a fresh foreign invoice of `amount` msat through `raw`; answers the response.
pub async fn pay(raw: &RawClient, amount: u64) -> Value {
    let (invoice, _) = foreign_invoice(Currency::Regtest, amount);
    raw.call(
        &json!({"method": "pay_invoice", "params": {"invoice": invoice}}).to_string(),
        true,
    )
    .await
}

/// `on_both_stores!(case, ...)` writes, for each `case(Backing)`, the tests `embedded::case` and
/// `redis::case`.
#[macro_export]
macro_rules! on_both_stores {
    ($($case:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::$case($crate::support::nwc::Backing::Embedded).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $case() {
                    super::$case($crate::support::nwc::Backing::Redis).await;
                }
            )*
        }
    };
}

/// Alice with `balance` msat, paid through her Lightning Address.
pub async fn fund(gw: &TestGateway, address: &str, balance: u64) {
    let user = address.split('@').next().expect("user");
    let inv = gw.invoice(user, balance).await;
    let (status, body) = gw.fake_pay(inv["pr"].as_str().expect("pr")).await;
    assert_eq!(status, 200, "{body}");
    gw.wait_balance(address, balance).await;
}

/// Makes a connection with `body`; answers the admin API's view and the parsed URI.
pub async fn connect(
    gw: &TestGateway,
    address: &str,
    body: Value,
) -> (Value, NostrWalletConnectURI) {
    let (status, view) = gw
        .admin(
            Method::POST,
            &format!("/api/v1/accounts/{address}/nwc"),
            Some(body),
        )
        .await;
    assert_eq!(status, 201, "{view}");
    let uri =
        NostrWalletConnectURI::parse(view["uri"].as_str().expect("uri")).expect("a valid URI");
    (view, uri)
}

/// The independent client (rust-nostr's `nwc`, NIP-04), with a bounded wait.
pub fn nwc_client(uri: &NostrWalletConnectURI) -> nwc::NWC {
    let opts = nwc::prelude::NostrWalletConnectOptions::default().timeout(WAIT);
    nwc::NWC::with_opts(uri.clone(), opts)
}

/// A subscription to the wallet's answers to one request ([`RawClient::answers_to`]).
pub struct Answers {
    notes: broadcast::Receiver<RelayPoolNotification>,
    sub: SubscriptionId,
}

/// A client that builds its own request events.
pub struct RawClient {
    pub uri: NostrWalletConnectURI,
    pub keys: Keys,
    pub client: Client,
}

impl RawClient {
    pub async fn new(uri: &NostrWalletConnectURI) -> RawClient {
        let client = Client::default();
        for r in &uri.relays {
            client.add_relay(r.clone()).await.expect("add relay");
        }
        client.connect().await;
        client.wait_for_connection(WAIT).await;
        RawClient {
            uri: uri.clone(),
            keys: Keys::new(uri.secret.clone()),
            client,
        }
    }

    /// A signed request: `json` encrypted with NIP-44 v2 (tagged) or NIP-04, with more `tags`.
    pub fn request(&self, json: &str, nip44: bool, tags: Vec<Tag>) -> Event {
        self.request_as(&self.keys, json, nip44, tags)
    }

    /// The same signed by `keys` (a stranger).
    pub fn request_as(&self, keys: &Keys, json: &str, nip44: bool, mut tags: Vec<Tag>) -> Event {
        let wallet = self.uri.public_key;
        let content = if nip44 {
            tags.push(Tag::custom(TagKind::custom("encryption"), ["nip44_v2"]));
            nip44::encrypt(keys.secret_key(), &wallet, json, nip44::Version::V2).expect("nip44")
        } else {
            nip04::encrypt(keys.secret_key(), &wallet, json).expect("nip04")
        };
        tags.push(Tag::public_key(wallet));
        EventBuilder::new(Kind::from(23194), content)
            .tags(tags)
            .sign_with_keys(keys)
            .expect("sign")
    }

    /// Sends `event` (to every relay) and waits for `count` responses to it; answers them
    /// decrypted, with the responses' events.
    pub async fn send(&self, event: &Event, count: usize) -> Vec<(Value, Event)> {
        self.send_as(&self.keys, event, count).await
    }

    pub async fn send_as(&self, keys: &Keys, event: &Event, count: usize) -> Vec<(Value, Event)> {
        let out = self.collect(keys, event, count, WAIT).await;
        assert_eq!(
            out.len(),
            count,
            "{} of {count} responses in time",
            out.len()
        );
        out
    }

    /// Sends `event` and gathers up to `count` distinct responses within `wait`.
    pub async fn collect(
        &self,
        keys: &Keys,
        event: &Event,
        count: usize,
        wait: Duration,
    ) -> Vec<(Value, Event)> {
        let answers = self.answers_to(event).await;
        let sent = self.client.send_event(event).await.expect("send");
        assert!(
            !sent.success.is_empty(),
            "no relay took the request: {sent:?}"
        );
        self.receive(keys, answers, count, wait).await
    }

    /// Subscribes to the wallet's answers to `event` without sending it (a request the gateway
    /// finds in its store). Once this returns the relay holds the subscription: a later request
    /// on the same connection has been answered (relays read one connection in order).
    pub async fn answers_to(&self, event: &Event) -> Answers {
        let filter = Filter::new()
            .author(self.uri.public_key)
            .kind(Kind::from(23195))
            .event(event.id);
        let notes = self.client.notifications();
        let sub = self
            .client
            .subscribe(filter, None)
            .await
            .expect("subscribe")
            .val;
        // A query after it on the same connection: its end of stored events (EOSE) comes once
        // the relay has taken the subscription.
        self.client
            .fetch_events(Filter::new().id(event.id), WAIT)
            .await
            .expect("a query the relay answers");
        Answers { notes, sub }
    }

    /// Up to `count` answers of `answers`' subscription within `wait`, opened with `keys`.
    pub async fn receive(
        &self,
        keys: &Keys,
        mut answers: Answers,
        count: usize,
        wait: Duration,
    ) -> Vec<(Value, Event)> {
        let mut out: Vec<(Value, Event)> = Vec::new();
        let deadline = tokio::time::Instant::now() + wait;
        while out.len() < count {
            let Ok(n) = tokio::time::timeout_at(deadline, answers.notes.recv()).await else {
                break;
            };
            if let Ok(RelayPoolNotification::Message {
                message:
                    RelayMessage::Event {
                        event: ev,
                        subscription_id,
                    },
                ..
            }) = n
                && *subscription_id == answers.sub
                && !out.iter().any(|(_, seen)| seen.id == ev.id)
            {
                let ev = ev.into_owned();
                out.push((self.open(keys, &ev), ev));
            }
        }
        self.client.unsubscribe(&answers.sub).await;
        out
    }

    /// Decrypts a response or notification from the wallet (NIP-44 or NIP-04 by its form).
    pub fn open(&self, keys: &Keys, ev: &Event) -> Value {
        assert_eq!(
            ev.pubkey, self.uri.public_key,
            "signed by the wallet service"
        );
        ev.verify().expect("valid signature");
        let plain = if ev.content.contains("?iv=") {
            nip04::decrypt(keys.secret_key(), &self.uri.public_key, &ev.content).expect("nip04")
        } else {
            nip44::decrypt(keys.secret_key(), &self.uri.public_key, &ev.content).expect("nip44")
        };
        serde_json::from_str(&plain).expect("json")
    }

    /// One request, one answer.
    pub async fn call(&self, json: &str, nip44: bool) -> Value {
        let ev = self.request(json, nip44, Vec::new());
        self.send(&ev, 1).await.remove(0).0
    }
}
