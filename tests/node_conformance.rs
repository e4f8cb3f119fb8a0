//! The `LightningNode` conformance suite run against the fake node and the LND backend (on the
//! LND simulator, over TLS).

mod lnd_sim;
mod support;

use std::sync::Arc;

use futures_util::FutureExt;
use lnaddr::lightning::fake::FakeNode;
use lnaddr::lightning::lnd::{LndConfig, LndNode};
use lnd_sim::LndSim;

#[tokio::test]
async fn fake_node_conforms() {
    let dir = tempfile::tempdir().expect("tmp");
    let node = Arc::new(FakeNode::open(dir.path(), bitcoin::Network::Regtest).expect("open"));
    let payer = node.clone();
    let settle = move |bolt11: String| {
        let payer = payer.clone();
        async move {
            payer.pay(&bolt11).await.expect("pay");
        }
        .boxed()
    };
    support::node_suite::run(node.as_ref(), &settle).await;
}

#[tokio::test]
async fn lnd_node_conforms() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = Arc::new(LndSim::start(dir.path()).await.expect("sim"));
    let node = LndNode::connect(&LndConfig {
        endpoint: sim.endpoint(),
        tls_cert: sim.cert_path(),
        macaroon: sim.macaroon_path(),
        private_route_hints: true,
    })
    .await
    .expect("connect");
    let payer = sim.clone();
    let settle = move |bolt11: String| {
        let result = payer.settle(&bolt11).map(|_| ());
        async move { result.expect("settle") }.boxed()
    };
    support::node_suite::run(&node, &settle).await;
}
