//! The LND simulator on the wire, through lnaddr's own TLS connector and generated clients: LND's
//! macaroon errors, AddInvoice/LookupInvoice errors, SubscribeInvoices replay rules, and the
//! Router's SendPaymentV2/TrackPaymentV2 (fees, failures on demand, double payment).

mod lnd_sim;
// The simulator names the support's `Lnd` for gateway tests.
mod support;

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use lnaddr::lightning::lnd::proto::lnrpc::lightning_client::LightningClient;
use lnaddr::lightning::lnd::proto::routerrpc::router_client::RouterClient;
use lnaddr::lightning::lnd::proto::{lnrpc, routerrpc};
use lnaddr::lightning::lnd::tls;
use lnd_sim::LndSim;
use lnrpc::payment::PaymentStatus;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request};

async fn channel(sim: &LndSim) -> Channel {
    let target = tls::Target::parse(&sim.endpoint()).expect("endpoint");
    let certs = tls::load_certificates(&sim.cert_path()).expect("cert");
    let config = tls::client_config(certs).expect("tls");
    Endpoint::from_shared(target.http_uri())
        .expect("uri")
        .connect_with_connector(tls::connector(
            target,
            Arc::new(config),
            Duration::from_secs(10),
        ))
        .await
        .expect("connect")
}

fn with_macaroon<T>(sim: &LndSim, message: T) -> Request<T> {
    let mut request = Request::new(message);
    let macaroon = hex::encode(std::fs::read(sim.macaroon_path()).expect("macaroon"));
    request
        .metadata_mut()
        .insert("macaroon", macaroon.parse().expect("ascii"));
    request
}

fn new_invoice(msat: i64) -> lnrpc::Invoice {
    lnrpc::Invoice {
        value_msat: msat,
        description_hash: vec![3; 32],
        expiry: 600,
        ..Default::default()
    }
}

#[tokio::test]
async fn lightning_answers_like_lnd() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(dir.path()).await.expect("sim");
    let mut ln = LightningClient::new(channel(&sim).await);

    let err = ln
        .get_info(lnrpc::GetInfoRequest {})
        .await
        .expect_err("no macaroon");
    assert_eq!(err.code(), Code::Unknown);
    assert_eq!(err.message(), "expected 1 macaroon, got 0");
    let info = ln
        .get_info(with_macaroon(&sim, lnrpc::GetInfoRequest {}))
        .await
        .expect("info")
        .into_inner();
    assert_eq!(info.identity_pubkey, sim.pubkey());
    assert!(info.synced_to_chain);

    let lookup = |hash: Vec<u8>| {
        with_macaroon(
            &sim,
            lnrpc::PaymentHash {
                r_hash: hash,
                ..Default::default()
            },
        )
    };
    let err = ln
        .lookup_invoice(lookup(vec![1; 32]))
        .await
        .expect_err("none");
    assert_eq!(
        (err.code(), err.message()),
        (Code::NotFound, "there are no existing invoices")
    );

    let bad_hash = lnrpc::Invoice {
        description_hash: vec![1, 2, 3],
        ..new_invoice(1000)
    };
    let err = ln
        .add_invoice(with_macaroon(&sim, bad_hash))
        .await
        .expect_err("bad hash");
    assert_eq!(err.message(), "description hash is 3 bytes, must be 32");
    let err = ln
        .add_invoice(with_macaroon(&sim, new_invoice(-1)))
        .await
        .expect_err("negative");
    assert!(err.message().contains("negative value"), "{err}");

    let first = ln
        .add_invoice(with_macaroon(&sim, new_invoice(5_000)))
        .await
        .expect("add")
        .into_inner();
    assert_eq!(first.add_index, 1);
    let err = ln
        .lookup_invoice(lookup(vec![1; 32]))
        .await
        .expect_err("unknown");
    assert_eq!(
        (err.code(), err.message()),
        (Code::NotFound, "unable to locate invoice")
    );
    let open = ln
        .lookup_invoice(lookup(first.r_hash.clone()))
        .await
        .expect("lookup")
        .into_inner();
    assert_eq!(open.state, lnrpc::invoice::InvoiceState::Open as i32);
    assert_eq!((open.value_msat, open.settle_index), (5_000, 0));

    // Settled before anyone subscribed: settle_index 0 replays nothing, 0 < n replays after n.
    sim.settle(&first.payment_request).expect("settle");
    let second = ln
        .add_invoice(with_macaroon(&sim, new_invoice(6_000)))
        .await
        .expect("add")
        .into_inner();
    let subscribe = |settle_index| {
        with_macaroon(
            &sim,
            lnrpc::InvoiceSubscription {
                add_index: 0,
                settle_index,
            },
        )
    };
    let mut live = ln
        .subscribe_invoices(subscribe(0))
        .await
        .expect("subscribe")
        .into_inner();
    sim.settle(&second.payment_request).expect("settle");
    let update = live.next().await.expect("item").expect("ok");
    assert_eq!(
        (update.r_hash.clone(), update.settle_index),
        (second.r_hash.clone(), 2)
    );
    assert_eq!(update.state, lnrpc::invoice::InvoiceState::Settled as i32);
    assert_eq!(update.amt_paid_msat, 6_000);

    let mut replay = ln
        .subscribe_invoices(subscribe(1))
        .await
        .expect("subscribe")
        .into_inner();
    let update = replay.next().await.expect("item").expect("ok");
    assert_eq!((update.r_hash, update.settle_index), (second.r_hash, 2));

    // A dropped stream ends with an error the client sees.
    sim.drop_streams();
    let end = live.next().await;
    assert!(matches!(end, Some(Err(_)) | None), "{end:?}");
}

#[tokio::test]
async fn router_pays_with_fee_and_fails_on_demand() {
    let dir = tempfile::tempdir().expect("tmp");
    let payer = LndSim::start(&dir.path().join("payer")).await.expect("sim");
    let payee = LndSim::start(&dir.path().join("payee")).await.expect("sim");
    let mut router = RouterClient::new(channel(&payer).await);
    payer.set_payment_fee_msat(2_000);
    let payee_ln = LightningClient::new(channel(&payee).await);
    let invoice = || {
        let req = with_macaroon(&payee, new_invoice(50_000));
        let mut ln = payee_ln.clone();
        async move { ln.add_invoice(req).await.expect("add").into_inner() }
    };
    let send = |payment_request: String| {
        with_macaroon(
            &payer,
            routerrpc::SendPaymentRequest {
                payment_request,
                timeout_seconds: 30,
                fee_limit_msat: 5_000,
                ..Default::default()
            },
        )
    };

    let paid = invoice().await;
    let updates: Vec<_> = router
        .send_payment_v2(send(paid.payment_request.clone()))
        .await
        .expect("send")
        .into_inner()
        .collect()
        .await;
    let statuses: Vec<i32> = updates
        .iter()
        .map(|u| u.as_ref().expect("update").status)
        .collect();
    assert_eq!(
        statuses,
        [
            PaymentStatus::InFlight as i32,
            PaymentStatus::Succeeded as i32
        ]
    );
    let done = updates.last().expect("final").as_ref().expect("ok");
    assert_eq!((done.value_msat, done.fee_msat), (50_000, 2_000));
    assert_eq!(done.payment_preimage.len(), 64);

    let tracked = router
        .track_payment_v2(with_macaroon(
            &payer,
            routerrpc::TrackPaymentRequest {
                payment_hash: paid.r_hash.clone(),
                no_inflight_updates: false,
            },
        ))
        .await
        .expect("track")
        .into_inner()
        .next()
        .await
        .expect("item")
        .expect("ok");
    assert_eq!(tracked.status, PaymentStatus::Succeeded as i32);

    let err = router
        .send_payment_v2(send(paid.payment_request.clone()))
        .await
        .expect_err("paid twice");
    assert_eq!(err.code(), Code::AlreadyExists);

    payer.fail_next_payments(1);
    let unlucky = invoice().await;
    let last = router
        .send_payment_v2(send(unlucky.payment_request.clone()))
        .await
        .expect("send")
        .into_inner()
        .collect::<Vec<_>>()
        .await
        .pop()
        .expect("final")
        .expect("ok");
    assert_eq!(last.status, PaymentStatus::Failed as i32);
    assert_eq!(
        last.failure_reason,
        lnrpc::PaymentFailureReason::FailureReasonNoRoute as i32
    );

    let err = router
        .track_payment_v2(with_macaroon(
            &payer,
            routerrpc::TrackPaymentRequest {
                payment_hash: vec![9; 32],
                no_inflight_updates: false,
            },
        ))
        .await
        .expect_err("unknown payment");
    assert_eq!(err.code(), Code::NotFound);
}
