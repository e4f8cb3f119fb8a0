//! The `LightningNode` conformance suite: the duties written on the trait, checked the same way
//! against every implementation (the fake node and the LND backend on the simulator).

use std::time::Duration;

use bitcoin::hashes::Hash;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use lightning_invoice::{Bolt11Invoice, Bolt11InvoiceDescriptionRef};
use lnaddr::lightning::{
    CancelOutcome, InvoiceRequest, InvoiceState, LightningNode, SettlementStream,
};
use lnaddr::store::Settlement;
use lnaddr::types::{Msat, PaymentHash};
use sha2::Digest;

/// Settles one of the node's invoices as if the network paid it.
pub type Settle<'a> = &'a (dyn Fn(String) -> BoxFuture<'static, ()> + Sync);

async fn next(stream: &mut SettlementStream) -> Settlement {
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("a settlement in time")
        .expect("the stream goes on")
        .expect("a settlement, not an error")
}

fn request(msat: u64, tag: u8) -> InvoiceRequest {
    InvoiceRequest {
        amount: Msat::from_msat(msat),
        description_hash: [tag; 32],
        expiry_secs: 600,
    }
}

/// Runs every check against `node`; `settle` pays one of its invoices.
pub async fn run(node: &dyn LightningNode, settle: Settle<'_>) {
    assert_eq!(node.node_id(), node.node_id());
    // Before any settlement, no saved cursor is reached but 0.
    assert!(node.settle_index_reaches(0).await.expect("reaches"));
    assert!(!node.settle_index_reaches(1).await.expect("reaches"));
    let status = node.status().await.expect("status");
    assert!(status.synced);

    // Invoices: exact amount, description hash, payment hash; never two with one hash.
    let first = node
        .create_invoice(request(12_345, 1))
        .await
        .expect("create");
    let decoded: Bolt11Invoice = first.bolt11.parse().expect("bolt11");
    assert_eq!(decoded.amount_milli_satoshis(), Some(12_345));
    match decoded.description() {
        Bolt11InvoiceDescriptionRef::Hash(h) => assert_eq!(h.0.to_byte_array(), [1; 32]),
        other => panic!("expected a description hash, got {other:?}"),
    }
    assert_eq!(
        decoded.payment_hash().as_byte_array(),
        &first.payment_hash.0
    );
    assert_eq!(
        hex::encode(decoded.recover_payee_pub_key().serialize()),
        status.pubkey
    );
    let second = node
        .create_invoice(request(2_000, 2))
        .await
        .expect("create");
    assert_ne!(first.payment_hash, second.payment_hash);

    assert!(
        node.lookup_invoice(&PaymentHash([0xee; 32]))
            .await
            .expect("lookup")
            .is_none()
    );
    let open = node
        .lookup_invoice(&first.payment_hash)
        .await
        .expect("lookup")
        .expect("known");
    assert_eq!(
        (open.state, open.preimage, open.settle_index),
        (InvoiceState::Open, None, 0)
    );

    // Live settlements, with the preimage of the hash and the amount paid.
    let mut live = node.subscribe_settlements(0).await.expect("subscribe");
    settle(first.bolt11.clone()).await;
    let s1 = next(&mut live).await;
    assert_eq!(s1.payment_hash, first.payment_hash);
    assert_eq!(s1.amount_paid_msat, Msat::from_msat(12_345));
    let hash: [u8; 32] = sha2::Sha256::digest(s1.preimage).into();
    assert_eq!(hash, first.payment_hash.0);
    assert!(s1.settle_index > 0);
    let settled = node
        .lookup_invoice(&first.payment_hash)
        .await
        .expect("lookup")
        .expect("known");
    assert_eq!(settled.state, InvoiceState::Settled);
    assert_eq!(settled.preimage, Some(s1.preimage));
    assert_eq!(settled.amount_paid, Msat::from_msat(12_345));
    assert_eq!(settled.settle_index, s1.settle_index);

    settle(second.bolt11.clone()).await;
    let s2 = next(&mut live).await;
    assert_eq!(s2.payment_hash, second.payment_hash);
    assert!(s2.settle_index > s1.settle_index);
    drop(live);

    // Replays: everything after the given index, in order, from 0 too.
    let mut after_first = node
        .subscribe_settlements(s1.settle_index)
        .await
        .expect("subscribe");
    assert_eq!(
        next(&mut after_first).await.payment_hash,
        second.payment_hash
    );
    let mut from_zero = node.subscribe_settlements(0).await.expect("subscribe");
    let replayed = [next(&mut from_zero).await, next(&mut from_zero).await];
    assert_eq!(
        replayed.map(|s| s.settle_index),
        [s1.settle_index, s2.settle_index]
    );

    // Cancelling (LND's CancelInvoice): an open invoice becomes cancelled, cancelling it again
    // succeeds, a settled one stays settled, an unknown hash is unknown. Indices do not move.
    let third = node
        .create_invoice(request(3_000, 4))
        .await
        .expect("create");
    for _ in 0..2 {
        assert_eq!(
            node.cancel_invoice(&third.payment_hash)
                .await
                .expect("cancel"),
            CancelOutcome::Canceled
        );
    }
    let canceled = node
        .lookup_invoice(&third.payment_hash)
        .await
        .expect("lookup")
        .expect("known");
    assert_eq!(
        (canceled.state, canceled.preimage, canceled.settle_index),
        (InvoiceState::Canceled, None, 0)
    );
    assert_eq!(
        node.cancel_invoice(&first.payment_hash)
            .await
            .expect("cancel"),
        CancelOutcome::AlreadySettled
    );
    assert_eq!(
        node.lookup_invoice(&first.payment_hash)
            .await
            .expect("lookup")
            .expect("known")
            .state,
        InvoiceState::Settled
    );
    assert_eq!(
        node.cancel_invoice(&PaymentHash([0xee; 32]))
            .await
            .expect("cancel"),
        CancelOutcome::Unknown
    );

    // The settle count: reached up to the last settlement, even with newer unsettled invoices;
    // a cursor beyond it is not (a node restored from an older database).
    for index in [0, s1.settle_index, s2.settle_index] {
        assert!(
            node.settle_index_reaches(index).await.expect("reaches"),
            "{index}"
        );
    }
    assert!(
        !node
            .settle_index_reaches(s2.settle_index + 1)
            .await
            .expect("reaches")
    );

    // Bad input is refused, not an outage.
    let err = node.create_invoice(request(0, 3)).await;
    if let Err(e) = err {
        assert!(
            !matches!(e, lnaddr::lightning::LightningError::Unavailable(_)),
            "{e}"
        );
    }
}
