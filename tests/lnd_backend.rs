//! The gateway with `lightning.kind = "lnd"` against the LND simulator, over real TLS sockets:
//! the pay flow, startup errors (macaroon, certificate), LND down at start, dropped streams and
//! settlements while the gateway is stopped (each credited exactly once).

mod lnd_sim;
mod support;

use std::time::Duration;

use bitcoin::hashes::Hash;
use lightning_invoice::Bolt11Invoice;
use lnaddr::app::StartError;
use lnd_sim::LndSim;
use sha2::Digest;
use support::lnd_gateway::{Lnd, WAIT, lnd_env, start, started};
use support::process::{GatewayProcess, free_port, wait_for};

/// Starts a gateway in `dir/gw` that must refuse to start; answers why.
async fn refused_start(dir: &std::path::Path, lnd: &Lnd) -> StartError {
    start(&dir.join("gw"), lnd)
        .await
        .err()
        .expect("the gateway must not start")
}

/// Drops every open SubscribeInvoices stream and waits until the gateway has subscribed again.
async fn drop_streams_until_resubscribed(sim: &LndSim) {
    let before = sim.subscriptions();
    sim.drop_streams();
    wait_for("a new subscription", WAIT, || async {
        (sim.subscriptions() > before).then_some(())
    })
    .await;
}

#[tokio::test]
async fn pay_flow_over_lnd_credits_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    let (gw, c) = started(&dir.path().join("gw"), &sim.lnd()).await;
    c.create_account("alice@localhost").await;
    let (status, _) = c.public("/readyz").await;
    assert_eq!(status, 200);

    let (pr, verify, metadata) = c.invoice("alice", 21_000).await;
    let invoice: Bolt11Invoice = pr.parse().expect("bolt11");
    assert_eq!(invoice.amount_milli_satoshis(), Some(21_000));
    let want_hash: [u8; 32] = sha2::Sha256::digest(metadata.as_bytes()).into();
    match invoice.description() {
        lightning_invoice::Bolt11InvoiceDescriptionRef::Hash(h) => {
            assert_eq!(h.0.to_byte_array(), want_hash)
        }
        other => panic!("expected a description hash, got {other:?}"),
    }
    assert_eq!(
        hex::encode(invoice.recover_payee_pub_key().serialize()),
        sim.pubkey()
    );
    let (_, before) = c.get(&verify).await;
    assert_eq!(before["settled"], false);

    sim.settle(&pr).expect("settle");
    c.wait_balance("alice@localhost", 21_000).await;
    let (status, after) = c.get(&verify).await;
    assert_eq!(status, 200);
    assert_eq!(after["settled"], true);
    let preimage = hex::decode(after["preimage"].as_str().expect("preimage")).expect("hex");
    let hash: [u8; 32] = sha2::Sha256::digest(&preimage).into();
    assert_eq!(&hash, invoice.payment_hash().as_byte_array());

    // A dropped stream replays from the cursor: nothing is credited twice.
    drop_streams_until_resubscribed(&sim).await;
    let (pr2, _, _) = c.invoice("alice", 1_000).await;
    sim.settle(&pr2).expect("settle");
    c.wait_balance("alice@localhost", 22_000).await;
    assert_eq!(c.credits("alice@localhost").await, 2);
    gw.shutdown().await;
}

#[tokio::test]
async fn wrong_macaroon_is_a_clear_startup_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    let wrong = dir.path().join("wrong.macaroon");
    std::fs::write(&wrong, [7u8; 64]).expect("write");
    let lnd = Lnd {
        macaroon: wrong.clone(),
        ..sim.lnd()
    };
    let err = refused_start(dir.path(), &lnd).await;
    let text = err.to_string();
    assert!(matches!(err, StartError::Lnd(_)), "{text}");
    assert!(text.contains("refused the macaroon"), "{text}");
    assert!(text.contains(&wrong.display().to_string()), "{text}");
    assert!(!text.contains(&hex::encode([7u8; 64])), "{text}");

    let missing = dir.path().join("missing.macaroon");
    let lnd = Lnd {
        macaroon: missing.clone(),
        ..sim.lnd()
    };
    let err = refused_start(dir.path(), &lnd).await;
    assert!(
        err.to_string().contains(&missing.display().to_string()),
        "{err}"
    );
}

#[tokio::test]
async fn wrong_certificate_is_a_clear_startup_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    let other = LndSim::start(&dir.path().join("other")).await.expect("sim");
    let lnd = Lnd {
        cert: other.cert_path(),
        ..sim.lnd()
    };
    let text = refused_start(dir.path(), &lnd).await.to_string();
    assert!(text.contains("does not match"), "{text}");
    assert!(
        text.contains(&other.cert_path().display().to_string()),
        "{text}"
    );

    let garbage = dir.path().join("garbage.cert");
    std::fs::write(&garbage, "not a certificate").expect("write");
    let lnd = Lnd {
        cert: garbage.clone(),
        ..sim.lnd()
    };
    let err = refused_start(dir.path(), &lnd).await;
    assert!(
        err.to_string().contains(&garbage.display().to_string()),
        "{err}"
    );
}

#[tokio::test]
async fn lnd_down_at_start_then_back() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    sim.go_down();
    let (gw, c) = started(&dir.path().join("gw"), &sim.lnd()).await;
    c.create_account("bob@localhost").await;

    let (status, ready) = c.public("/readyz").await;
    assert_eq!(status, 503, "{ready}");
    let (status, pay) = c.public("/.well-known/lnurlp/bob").await;
    assert_eq!(status, 200, "{pay}");
    let callback = pay["callback"].as_str().expect("callback").to_string();
    let (status, err) = c.get(&format!("{callback}?amount=5000")).await;
    assert_eq!(status, 503, "{err}");
    assert_eq!(err["status"], "ERROR");
    assert!(err["reason"].as_str().is_some());

    sim.come_up();
    wait_for("callbacks answer again", WAIT, || async {
        let (status, _) = c.get(&format!("{callback}?amount=5000")).await;
        (status == 200).then_some(())
    })
    .await;
    let (status, _) = c.public("/readyz").await;
    assert_eq!(status, 200);

    let (pr, _, _) = c.invoice("bob", 7_000).await;
    sim.settle(&pr).expect("settle");
    c.wait_balance("bob@localhost", 7_000).await;

    sim.set_synced(false);
    let (status, _) = c.public("/readyz").await;
    assert_eq!(status, 503);
    gw.shutdown().await;
}

#[tokio::test]
async fn settlements_during_outages_are_credited_exactly_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    let data = dir.path().join("gw");
    let (gw, c) = started(&data, &sim.lnd()).await;
    c.create_account("carol@localhost").await;
    let mut invoices = Vec::new();
    for amount in [1_000, 2_000, 3_000, 4_000] {
        invoices.push(c.invoice("carol", amount).await.0);
    }
    wait_for("the settlement stream", WAIT, || async {
        (sim.open_streams() == 1).then_some(())
    })
    .await;
    // Settled while the gateway is stopped, before it ever saved a cursor (LND replays nothing
    // for settle_index 0: the backlog comes from ListInvoices).
    gw.shutdown().await;
    sim.settle(&invoices[0]).expect("settle");
    let (gw, c) = started(&data, &sim.lnd()).await;
    c.wait_balance("carol@localhost", 1_000).await;

    // Settled while the stream is down.
    sim.drop_streams();
    sim.settle(&invoices[1]).expect("settle");
    c.wait_balance("carol@localhost", 3_000).await;

    // Settled while LND restarts (every connection cut).
    sim.go_down();
    sim.settle(&invoices[2]).expect("settle");
    sim.come_up();
    c.wait_balance("carol@localhost", 6_000).await;

    // Settled while the gateway is stopped, with a saved cursor.
    gw.shutdown().await;
    sim.settle(&invoices[3]).expect("settle");
    let (gw, c) = started(&data, &sim.lnd()).await;
    c.wait_balance("carol@localhost", 10_000).await;

    // Replays after all that credit nothing more.
    drop_streams_until_resubscribed(&sim).await;
    let (pr, _, _) = c.invoice("carol", 5_000).await;
    sim.settle(&pr).expect("settle");
    c.wait_balance("carol@localhost", 15_000).await;
    assert_eq!(c.balance("carol@localhost").await, 15_000);
    assert_eq!(c.credits("carol@localhost").await, 5);
    gw.shutdown().await;
}

#[tokio::test]
async fn the_binary_names_the_refused_macaroon_file_and_exits() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    let wrong = dir.path().join("wrong.macaroon");
    std::fs::write(&wrong, [9u8; 64]).expect("write");
    let data = dir.path().join("gw");
    let (public, admin) = (free_port(), free_port());
    let lnd = Lnd {
        macaroon: wrong.clone(),
        ..sim.lnd()
    };
    let env = lnd_env(&data, public, &lnd)
        .into_iter()
        .filter(|(k, _)| k != "LNADDR_DATA_DIR")
        .collect();
    let mut gw = GatewayProcess::start_with(&data, public, admin, env);
    let status = wait_for("the gateway to exit", Duration::from_secs(30), || {
        let exited = gw.child.try_wait().expect("wait");
        async move { exited }
    })
    .await;
    assert!(!status.success());
    let log = gw.log_text();
    assert!(log.contains(&wrong.display().to_string()), "{log}");
    assert!(log.contains("refused the macaroon"), "{log}");
    assert!(!log.contains(&hex::encode([9u8; 64])), "{log}");
}
