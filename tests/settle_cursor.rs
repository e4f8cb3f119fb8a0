//! The settle cursor follows the node, not its address (issue #12, item 4): a node restored from an
//! older database at the same address counts settle indices again from below the saved cursor,
//! and its settlements are still credited; a cursor saved under the endpoint by earlier versions
//! is carried over to the node's identity key once.

mod lnd_sim;
mod support;

use std::net::SocketAddr;
use std::path::Path;

use lnaddr::store::Store;
use lnaddr::store::embedded::EmbeddedStore;
use lnd_sim::LndSim;
use support::lnd_gateway::{Client, WAIT, started, started_with};
use support::process::wait_for;

/// Starts a simulator on `addr` (the port a dropped one just left), retrying while it is taken.
async fn start_at(dir: &Path, addr: SocketAddr) -> LndSim {
    wait_for("the old simulator's port", WAIT, || async {
        LndSim::start_on(dir, addr).await.ok()
    })
    .await
}

/// Pays `n` invoices of `amount` to alice through `sim`, waiting for each credit.
async fn pay(c: &Client, sim: &LndSim, n: u64, amount: u64) {
    for _ in 0..n {
        let before = c.balance("alice@localhost").await;
        let (pr, _, _) = c.invoice("alice", amount).await;
        sim.settle(&pr).expect("settle");
        c.wait_balance("alice@localhost", before + amount).await;
    }
}

#[tokio::test]
async fn a_node_restored_with_a_lower_settle_index_is_credited() {
    let dir = tempfile::tempdir().expect("tmp");
    let lnd_dir = dir.path().join("lnd");
    let sim = LndSim::start(&lnd_dir).await.expect("sim");
    let (addr, pubkey) = (sim.addr(), sim.pubkey());
    // A replay window of 1 (the default, 100, would replay these few indices anyway).
    let window = vec![("LNADDR_LEDGER__REPLAY_WINDOW".to_string(), "1".to_string())];
    let (gw, c) = started_with(&dir.path().join("gw"), &sim.lnd(), window).await;
    c.create_account("alice@localhost").await;
    pay(&c, &sim, 4, 1_000).await;
    let subscriptions = sim.subscriptions();
    assert!(subscriptions >= 1);

    // The node is restored from an empty database: same key, same address, settle index 0.
    drop(sim);
    let sim = start_at(&lnd_dir, addr).await;
    assert_eq!(sim.pubkey(), pubkey, "the same node identity");
    wait_for(
        "the gateway to subscribe to the restored node",
        WAIT,
        || async { (sim.subscriptions() >= 1).then_some(()) },
    )
    .await;
    // Its settle indices 1 and 2 are below the saved cursor (4): both must be credited.
    pay(&c, &sim, 2, 2_000).await;
    assert_eq!(c.credits("alice@localhost").await, 6);
    assert_eq!(c.balance("alice@localhost").await, 8_000);

    // A resubscription replays from the restored node's count, not the old one, and credits
    // nothing twice.
    let before = sim.subscriptions();
    sim.drop_streams();
    wait_for("a new subscription", WAIT, || async {
        (sim.subscriptions() > before).then_some(())
    })
    .await;
    pay(&c, &sim, 1, 4_000).await;
    assert_eq!(c.credits("alice@localhost").await, 7);
    assert_eq!(c.balance("alice@localhost").await, 12_000);
    gw.shutdown().await;

    // The cursor follows the restored node's count (3), below the old one (4).
    let store = EmbeddedStore::open(&dir.path().join("gw").join("lnaddr.redb")).expect("open");
    assert_eq!(store.settle_cursor(&pubkey).await.expect("cursor"), 3);
}

#[tokio::test]
async fn an_endpoint_keyed_cursor_is_carried_over_to_the_node_key_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    let gw_dir = dir.path().join("gw");
    let (gw, c) = started(&gw_dir, &sim.lnd()).await;
    c.create_account("alice@localhost").await;
    pay(&c, &sim, 2, 1_000).await;
    gw.shutdown().await;

    // What an earlier version left: the cursor under `lnd:HOST:PORT`, none under the node key.
    let legacy = format!("lnd:{}:{}", sim.addr().ip(), sim.addr().port());
    let db = gw_dir.join("lnaddr.redb");
    {
        let store = EmbeddedStore::open(&db).expect("open");
        assert_eq!(store.settle_cursor(&sim.pubkey()).await.expect("cursor"), 2);
        assert!(
            store
                .reset_settle_cursor(&sim.pubkey(), 2, 0)
                .await
                .expect("reset")
        );
        assert!(
            store
                .reset_settle_cursor(&legacy, 0, 2)
                .await
                .expect("reset")
        );
    }

    let (gw, c) = started(&gw_dir, &sim.lnd()).await;
    wait_for("the gateway to subscribe again", WAIT, || async {
        (sim.open_streams() >= 1).then_some(())
    })
    .await;
    pay(&c, &sim, 1, 1_000).await;
    assert_eq!(c.credits("alice@localhost").await, 3);
    gw.shutdown().await;

    let store = EmbeddedStore::open(&db).expect("open");
    assert_eq!(store.settle_cursor(&sim.pubkey()).await.expect("cursor"), 3);
    assert_eq!(store.settle_cursor(&legacy).await.expect("cursor"), 0);
}
