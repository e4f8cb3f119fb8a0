//! The simulator's `routerrpc.Router` service: SendPaymentV2 and TrackPaymentV2. Payments succeed
//! by default with the configured fee; the controls make the next ones fail (no route) or wait.
//! Paying one of the simulator's own invoices settles it; any other invoice gets a random preimage
//! (a simulator cannot know it).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bitcoin::hashes::Hash;
use futures_util::stream::BoxStream;
use lightning_invoice::Bolt11Invoice;
use lnaddr::lightning::lnd::proto::{lnrpc, routerrpc};
use lnrpc::payment::PaymentStatus;
use routerrpc::router_server::Router;
use tokio::sync::{broadcast, mpsc};
use tonic::{Request, Response, Status};

use super::Shared;
use super::lightning::channel_stream;

/// The `routerrpc.Router` service of a simulator.
pub struct RouterSvc(pub Arc<Shared>);

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

fn is_final(p: &lnrpc::Payment) -> bool {
    p.status == PaymentStatus::Succeeded as i32 || p.status == PaymentStatus::Failed as i32
}

/// Sends `first`, then the updates of the same payment until a final one.
fn follow(
    first: lnrpc::Payment,
    mut updates: broadcast::Receiver<lnrpc::Payment>,
) -> BoxStream<'static, Result<lnrpc::Payment, Status>> {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        let hash = first.payment_hash.clone();
        let done = is_final(&first);
        if tx.send(Ok(first)).await.is_err() || done {
            return;
        }
        while let Ok(update) = updates.recv().await {
            if update.payment_hash != hash {
                continue;
            }
            let done = is_final(&update);
            if tx.send(Ok(update)).await.is_err() || done {
                return;
            }
        }
    });
    channel_stream(rx)
}

#[tonic::async_trait]
impl Router for RouterSvc {
    type SendPaymentV2Stream = BoxStream<'static, Result<lnrpc::Payment, Status>>;

    async fn send_payment_v2(
        &self,
        request: Request<routerrpc::SendPaymentRequest>,
    ) -> Result<Response<Self::SendPaymentV2Stream>, Status> {
        super::require(&request, "offchain", "write")?;
        let req = request.into_inner();
        let invoice: Bolt11Invoice = req
            .payment_request
            .parse()
            .map_err(|e| Status::unknown(format!("invalid payment request: {e}")))?;
        if req.timeout_seconds == 0 {
            return Err(Status::unknown("timeout_seconds must be specified"));
        }
        if req.fee_limit_sat != 0 && req.fee_limit_msat != 0 {
            return Err(Status::unknown(
                "sat and msat arguments are mutually exclusive",
            ));
        }
        let amount_msat = match (invoice.amount_milli_satoshis(), req.amt_msat) {
            (Some(_), a) if a != 0 => {
                return Err(Status::unknown(
                    "amount must not be specified when paying a non-zero amount invoice",
                ));
            }
            (Some(a), _) => a as i64,
            (None, 0) => {
                return Err(Status::unknown(
                    "amount must be specified when paying a zero amount invoice",
                ));
            }
            (None, a) => a,
        };
        let fee_limit_msat = req
            .fee_limit_msat
            .max(req.fee_limit_sat.saturating_mul(1000));
        let hash = *invoice.payment_hash().as_byte_array();
        let (payment, updates, plan) = {
            let mut book = self.0.lock();
            if let Some(existing) = book.payments.get(&hash) {
                if existing.status == PaymentStatus::Succeeded as i32 {
                    return Err(Status::already_exists("invoice is already paid"));
                }
                if existing.status != PaymentStatus::Failed as i32 {
                    return Err(Status::already_exists("payment is in transition"));
                }
            }
            book.payment_count += 1;
            let payment = lnrpc::Payment {
                payment_hash: hex::encode(hash),
                value_sat: amount_msat / 1000,
                value_msat: amount_msat,
                payment_request: req.payment_request.clone(),
                status: PaymentStatus::InFlight as i32,
                creation_time_ns: now_ns(),
                payment_index: book.payment_count,
                ..Default::default()
            };
            book.payments.insert(hash, payment.clone());
            (
                payment,
                self.0.payment_events.subscribe(),
                self.0.next_payment_plan(),
            )
        };
        let shared = self.0.clone();
        let mut done = payment.clone();
        tokio::spawn(async move {
            if !plan.delay.is_zero() {
                tokio::time::sleep(plan.delay).await;
            }
            let fee = plan.fee_msat as i64;
            if plan.fail || fee > fee_limit_msat {
                done.status = PaymentStatus::Failed as i32;
                done.failure_reason = lnrpc::PaymentFailureReason::FailureReasonNoRoute as i32;
            } else {
                let preimage = {
                    let mut book = shared.lock();
                    match book.get(&hash) {
                        Some(own) => {
                            if let Ok(settled) = book.settle(&hash) {
                                let _ = shared.invoice_events.send(settled);
                            }
                            own.r_preimage
                        }
                        None => rand::random::<[u8; 32]>().to_vec(),
                    }
                };
                done.status = PaymentStatus::Succeeded as i32;
                done.payment_preimage = hex::encode(&preimage);
                done.fee_msat = fee;
                done.fee_sat = fee / 1000;
                done.htlcs = vec![lnrpc::HtlcAttempt {
                    attempt_id: done.payment_index,
                    status: lnrpc::htlc_attempt::HtlcStatus::Succeeded as i32,
                    attempt_time_ns: done.creation_time_ns,
                    resolve_time_ns: now_ns(),
                    preimage,
                }];
            }
            let mut book = shared.lock();
            book.payments.insert(hash, done.clone());
            let _ = shared.payment_events.send(done);
        });
        let first = if req.no_inflight_updates {
            // Only the final update: skip the in-flight one.
            let (tx, rx) = mpsc::channel(1);
            let mut updates = updates;
            let hash = payment.payment_hash.clone();
            tokio::spawn(async move {
                while let Ok(u) = updates.recv().await {
                    if u.payment_hash == hash && is_final(&u) {
                        let _ = tx.send(Ok(u)).await;
                        return;
                    }
                }
            });
            return Ok(Response::new(channel_stream(rx)));
        } else {
            payment
        };
        Ok(Response::new(follow(first, updates)))
    }

    type TrackPaymentV2Stream = BoxStream<'static, Result<lnrpc::Payment, Status>>;

    async fn track_payment_v2(
        &self,
        request: Request<routerrpc::TrackPaymentRequest>,
    ) -> Result<Response<Self::TrackPaymentV2Stream>, Status> {
        super::require(&request, "offchain", "read")?;
        let hash: [u8; 32] = request
            .get_ref()
            .payment_hash
            .as_slice()
            .try_into()
            .map_err(|_| Status::invalid_argument("invalid hash"))?;
        self.0.track_calls.fetch_add(1, Ordering::SeqCst);
        let book = self.0.lock();
        let updates = self.0.payment_events.subscribe();
        match book.payments.get(&hash) {
            Some(p) => Ok(Response::new(follow(p.clone(), updates))),
            None => Err(Status::not_found("payment isn't initiated")),
        }
    }
}

/// What the controls decided for one payment.
pub struct PaymentPlan {
    pub fail: bool,
    pub delay: Duration,
    pub fee_msat: u64,
}

impl Shared {
    fn next_payment_plan(&self) -> PaymentPlan {
        let take = |n: &std::sync::atomic::AtomicU64| {
            n.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| v.checked_sub(1))
                .is_ok()
        };
        PaymentPlan {
            fail: take(&self.fail_next),
            delay: if take(&self.delay_next) {
                Duration::from_millis(self.delay_ms.load(Ordering::SeqCst))
            } else {
                Duration::ZERO
            },
            fee_msat: self.fee_msat.load(Ordering::SeqCst),
        }
    }
}
