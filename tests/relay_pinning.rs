//! Relays named by strangers (issue #12, item 7): the connection goes to an address the relay
//! guard checked, in the same resolution (DNS rebinding cannot reach loopback), and one relay host
//! is tried at most `zaps.relay_host_attempts_per_minute` times a minute across all zaps.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::future::BoxFuture;
use lnaddr::nostr::pinned::PinnedTransport;
use lnaddr::nostr::relay_guard::{RelayRefused, Resolve, checked_addrs};
use nostr_sdk::prelude::*;
use support::process::wait_for;
use support::zaps::{account_with_key, relay, tag, zap_callback, zap_gateway_with, zap_request};
use tokio::net::TcpListener;

/// Answers `first` to the first question and `then` to every later one, like a name whose
/// owner flips its DNS record between our check and our connection.
struct Rebinding {
    calls: AtomicUsize,
    first: SocketAddr,
    then: SocketAddr,
}

impl Resolve for Rebinding {
    fn resolve<'a>(
        &'a self,
        _host: &'a str,
        _port: u16,
    ) -> BoxFuture<'a, std::io::Result<Vec<SocketAddr>>> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let answer = if n == 0 { self.first } else { self.then };
        Box::pin(async move { Ok(vec![answer]) })
    }
}

/// A loopback listener that counts the connections it accepts (and drops them).
async fn counting_listener() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (addr, accepted)
}

#[tokio::test]
async fn a_name_rebinding_to_loopback_after_the_check_is_never_connected_to() {
    let (loopback, accepted) = counting_listener().await;
    let port = loopback.port();
    let resolver = Arc::new(Rebinding {
        calls: AtomicUsize::new(0),
        first: SocketAddr::from(([93, 184, 216, 34], port)),
        then: loopback,
    });
    let url = Url::parse(&format!("ws://rebind.example:{port}")).expect("url");

    // The guard's look: a public address.
    let checked = checked_addrs(&url, false, resolver.as_ref())
        .await
        .expect("public at first");
    assert!(
        checked
            .iter()
            .all(|a| a.ip().to_string() == "93.184.216.34")
    );

    // The connection resolves once more, gets loopback, checks it, and never connects.
    let client = Client::builder()
        .websocket_transport(PinnedTransport::new(resolver.clone(), false))
        .build();
    client.add_relay(url.as_str()).await.expect("add");
    let connected = client
        .try_connect_relay(url.as_str(), Duration::from_secs(2))
        .await;
    client.shutdown().await;
    assert!(connected.is_err(), "must not connect");
    assert!(resolver.calls.load(Ordering::SeqCst) >= 2);
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        0,
        "a connection reached loopback"
    );

    // And the guard itself refuses the second answer.
    assert!(matches!(
        checked_addrs(&url, false, resolver.as_ref()).await,
        Err(RelayRefused::NotPublic(_))
    ));
}

#[tokio::test]
async fn the_connection_goes_to_the_resolved_address_under_the_relays_name() {
    // A real relay on loopback, reached by a name only our resolver knows (private allowed, as
    // in tests): the publish succeeds, so the transport used the checked address itself.
    let (_relay, relay_url) = relay(0).await;
    let port = Url::parse(&relay_url).expect("url").port().expect("port");
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let resolver = Arc::new(Rebinding {
        calls: AtomicUsize::new(0),
        first: addr,
        then: addr,
    });
    let named = format!("ws://relay.invalid:{port}");
    let client = Client::builder()
        .websocket_transport(PinnedTransport::new(resolver.clone(), true))
        .build();
    client.add_relay(named.as_str()).await.expect("add");
    client
        .try_connect_relay(named.as_str(), Duration::from_secs(5))
        .await
        .expect("connects through the resolver's answer");
    let event = EventBuilder::text_note("pinned")
        .sign_with_keys(&Keys::generate())
        .expect("sign");
    let sent = tokio::time::timeout(
        Duration::from_secs(8),
        client.send_event_to([named.as_str()], &event),
    )
    .await
    .expect("in time")
    .expect("sent");
    client.shutdown().await;
    assert_eq!(sent.success.len(), 1, "{:?}", sent.failed);
    assert!(resolver.calls.load(Ordering::SeqCst) >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_relay_host_is_tried_at_most_its_cap_across_all_zaps() {
    let (addr, accepted) = counting_listener().await;
    let target = format!("ws://{addr}");
    let dir = tempfile::tempdir().expect("dir");
    let gw = zap_gateway_with(
        dir.path(),
        &[],
        vec![(
            "LNADDR_ZAPS__RELAY_HOST_ATTEMPTS_PER_MINUTE".into(),
            "1".into(),
        )],
    )
    .await;
    let recipient = Keys::generate();
    account_with_key(&gw, "carol@localhost", &recipient.public_key()).await;
    const ZAPS: usize = 4;
    for _ in 0..ZAPS {
        let request = zap_request(
            &Keys::generate(),
            vec![
                tag(&["relays", &target]),
                tag(&["p", &recipient.public_key().to_hex()]),
            ],
            "",
        );
        let (_, body) = zap_callback(&gw, "carol", 1000, &request.as_json()).await;
        let pr = body["pr"].as_str().expect("invoice").to_string();
        assert_eq!(gw.fake_pay(&pr).await.0, 200);
    }
    // Every zap's receipt has been tried or deferred once.
    let errors = wait_for(
        "every receipt looked at",
        Duration::from_secs(30),
        || async {
            let errors: Vec<String> = gw
                .transactions("carol@localhost")
                .await
                .iter()
                .filter(|t| t["zap"] == true)
                .filter_map(|t| t["zap_receipt"]["relays_pending"][0]["last_error"].as_str())
                .map(str::to_string)
                .collect();
            (errors.len() == ZAPS).then_some(errors)
        },
    )
    .await;
    // One attempt went out; the others wait for the host's next token (the one that went out
    // may be waiting too by now, after its failure).
    let capped = errors.iter().filter(|e| e.contains("attempt cap")).count();
    assert!(capped >= ZAPS - 1, "{errors:?}");
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "{errors:?}");
}
