//! The simulator's `lnrpc.Lightning` service: GetInfo, AddInvoice, ListInvoices, LookupInvoice and
//! SubscribeInvoices and CheckMacaroonPermissions, answering with LND's semantics and LND's error texts (LND returns most errors
//! as plain Go errors, which gRPC sends with code `Unknown`).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bitcoin::hashes::{Hash, sha256};
use bitcoin::secp256k1::Secp256k1;
use futures_util::stream::BoxStream;
use lightning_invoice::{Currency, InvoiceBuilder, PaymentSecret};
use lnaddr::lightning::lnd::proto::lnrpc;
use lnrpc::lightning_server::Lightning;
use sha2::Digest;
use tokio::sync::{broadcast, mpsc};
use tonic::{Request, Response, Status};

use super::Shared;

/// LND's default invoice expiry when the request leaves it at 0.
const DEFAULT_EXPIRY_SECS: i64 = 86_400;
/// LND refuses memos longer than this.
const MAX_MEMO: usize = 1024;
/// The simulator refuses invoices above 21 million BTC.
const MAX_INVOICE_MSAT: i64 = 21_000_000 * 100_000_000 * 1000;

/// The `lnrpc.Lightning` service of a simulator.
pub struct LightningSvc(pub Arc<Shared>);

fn unix_now() -> Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

/// A receiver as a stream that ends when the sender goes.
pub fn channel_stream<T: Send + 'static>(rx: mpsc::Receiver<T>) -> BoxStream<'static, T> {
    Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }))
}

impl LightningSvc {
    fn sign(&self, invoice: &lnrpc::Invoice, hash: [u8; 32]) -> Result<String, Status> {
        let now = unix_now();
        let mut builder = InvoiceBuilder::new(Currency::Regtest)
            .payment_hash(sha256::Hash::from_byte_array(hash))
            .payment_secret(PaymentSecret(rand::random()))
            .duration_since_epoch(Duration::from_secs(now.as_secs()))
            .min_final_cltv_expiry_delta(80)
            .expiry_time(Duration::from_secs(invoice.expiry as u64));
        if invoice.value_msat > 0 {
            builder = builder.amount_milli_satoshis(invoice.value_msat as u64);
        }
        let signed = if invoice.description_hash.len() == 32 {
            let mut h = [0u8; 32];
            h.copy_from_slice(&invoice.description_hash);
            builder
                .description_hash(sha256::Hash::from_byte_array(h))
                .build_signed(|m| Secp256k1::new().sign_ecdsa_recoverable(m, &self.0.key))
        } else {
            builder
                .description(invoice.memo.clone())
                .build_signed(|m| Secp256k1::new().sign_ecdsa_recoverable(m, &self.0.key))
        };
        signed
            .map(|i| i.to_string())
            .map_err(|e| Status::unknown(format!("unable to sign invoice: {e}")))
    }
}

/// LND's checks on a new invoice (`invoicesrpc.AddInvoice`), in LND's order, with LND's texts.
fn check_new_invoice(invoice: &lnrpc::Invoice) -> Result<i64, Status> {
    if invoice.value != 0 && invoice.value_msat != 0 {
        return Err(Status::unknown(
            "sat and msat arguments are mutually exclusive",
        ));
    }
    let msat = if invoice.value != 0 {
        invoice.value.saturating_mul(1000)
    } else {
        invoice.value_msat
    };
    if invoice.memo.len() > MAX_MEMO {
        return Err(Status::unknown(format!(
            "memo too large: {} bytes (maxlen={MAX_MEMO})",
            invoice.memo.len()
        )));
    }
    if !invoice.description_hash.is_empty() && invoice.description_hash.len() != 32 {
        return Err(Status::unknown(format!(
            "description hash is {} bytes, must be 32",
            invoice.description_hash.len()
        )));
    }
    if msat < 0 {
        return Err(Status::unknown(format!(
            "payments of negative value are not allowed, value is {msat}"
        )));
    }
    if msat > MAX_INVOICE_MSAT {
        return Err(Status::unknown(format!(
            "payment of {msat} mSAT is too large, max payment allowed is {MAX_INVOICE_MSAT} mSAT"
        )));
    }
    if invoice.expiry < 0 {
        return Err(Status::unknown("expiry must not be negative"));
    }
    Ok(msat)
}

#[tonic::async_trait]
impl Lightning for LightningSvc {
    async fn get_info(
        &self,
        request: Request<lnrpc::GetInfoRequest>,
    ) -> Result<Response<lnrpc::GetInfoResponse>, Status> {
        super::require(&request, "info", "read")?;
        let synced = self.0.synced.load(Ordering::SeqCst);
        Ok(Response::new(lnrpc::GetInfoResponse {
            version: "0.19.0-beta lnaddr-lnd-sim".into(),
            identity_pubkey: self.0.pubkey_hex(),
            alias: "lnd-sim".into(),
            block_height: 800_000,
            block_hash: "00".repeat(32),
            best_header_timestamp: i64::try_from(lnaddr::types::unix_now()).unwrap_or(0) - 300,
            synced_to_chain: synced,
            synced_to_graph: synced,
            chains: vec![lnrpc::Chain {
                network: "regtest".into(),
                ..Default::default()
            }],
        }))
    }

    async fn add_invoice(
        &self,
        request: Request<lnrpc::Invoice>,
    ) -> Result<Response<lnrpc::AddInvoiceResponse>, Status> {
        super::require(&request, "invoices", "write")?;
        let mut invoice = request.into_inner();
        let msat = check_new_invoice(&invoice)?;
        if invoice.expiry == 0 {
            invoice.expiry = DEFAULT_EXPIRY_SECS;
        }
        let preimage: [u8; 32] = if invoice.r_preimage.len() == 32 {
            let mut p = [0u8; 32];
            p.copy_from_slice(&invoice.r_preimage);
            p
        } else {
            rand::random()
        };
        let hash: [u8; 32] = sha2::Sha256::digest(preimage).into();
        invoice.value_msat = msat;
        invoice.value = msat / 1000;
        let payment_request = self.sign(&invoice, hash)?;
        let record = lnrpc::Invoice {
            r_preimage: preimage.to_vec(),
            r_hash: hash.to_vec(),
            creation_date: unix_now().as_secs() as i64,
            payment_request: payment_request.clone(),
            ..invoice
        };
        let mut book = self.0.lock();
        if book.get(&hash).is_some() {
            return Err(Status::already_exists(
                "invoice with payment hash already exists",
            ));
        }
        let added = book.add(record);
        let _ = self.0.invoice_events.send(added.clone());
        Ok(Response::new(lnrpc::AddInvoiceResponse {
            r_hash: hash.to_vec(),
            payment_request,
            add_index: added.add_index,
            payment_addr: vec![0; 32],
        }))
    }

    async fn list_invoices(
        &self,
        request: Request<lnrpc::ListInvoiceRequest>,
    ) -> Result<Response<lnrpc::ListInvoiceResponse>, Status> {
        super::require(&request, "invoices", "read")?;
        Ok(Response::new(self.0.lock().list(request.get_ref())))
    }

    async fn lookup_invoice(
        &self,
        request: Request<lnrpc::PaymentHash>,
    ) -> Result<Response<lnrpc::Invoice>, Status> {
        super::require(&request, "invoices", "read")?;
        let request = request.into_inner();
        #[allow(deprecated)]
        let hash = if request.r_hash_str.is_empty() {
            request.r_hash
        } else {
            hex::decode(&request.r_hash_str).map_err(|e| Status::unknown(e.to_string()))?
        };
        let hash: [u8; 32] = hash.as_slice().try_into().map_err(|_| {
            Status::unknown(format!(
                "payment hash must be exactly 32 bytes, is instead {}",
                hash.len()
            ))
        })?;
        let book = self.0.lock();
        match book.get(&hash) {
            Some(invoice) => Ok(Response::new(invoice)),
            None if book.is_empty() => Err(Status::not_found("there are no existing invoices")),
            None => Err(Status::not_found("unable to locate invoice")),
        }
    }

    type SubscribeInvoicesStream = BoxStream<'static, Result<lnrpc::Invoice, Status>>;

    async fn subscribe_invoices(
        &self,
        request: Request<lnrpc::InvoiceSubscription>,
    ) -> Result<Response<Self::SubscribeInvoicesStream>, Status> {
        super::require(&request, "invoices", "read")?;
        let sub = request.into_inner();
        // Under the lock: events are sent under it too, so nothing is missed or repeated
        // between the backlog and the live updates.
        let (mut live, backlog) = {
            let book = self.0.lock();
            let live = self.0.invoice_events.subscribe();
            let mut backlog = Vec::new();
            if sub.add_index > 0 {
                backlog.extend(book.added_after(sub.add_index));
            }
            if sub.settle_index > 0 {
                backlog.extend(book.settled_after(sub.settle_index));
            }
            (live, backlog)
        };
        self.0.subscriptions.fetch_add(1, Ordering::SeqCst);
        let mut dropped = self.0.drop_streams.subscribe();
        dropped.mark_unchanged();
        let shared = self.0.clone();
        let (tx, rx) = mpsc::channel(256);
        tokio::spawn(async move {
            shared.open_streams.fetch_add(1, Ordering::SeqCst);
            'run: {
                for invoice in backlog {
                    if tx.send(Ok(invoice)).await.is_err() {
                        break 'run;
                    }
                }
                loop {
                    tokio::select! {
                        event = live.recv() => match event {
                            Ok(invoice) => if tx.send(Ok(invoice)).await.is_err() { break 'run },
                            Err(broadcast::error::RecvError::Lagged(_)) => {
                                let _ = tx.send(Err(Status::internal("subscriber fell behind"))).await;
                                break 'run;
                            }
                            Err(broadcast::error::RecvError::Closed) => break 'run,
                        },
                        _ = dropped.changed() => {
                            let _ = tx.send(Err(Status::unavailable("stream dropped by the LND simulator"))).await;
                            break 'run;
                        }
                        () = tx.closed() => break 'run,
                    }
                }
            }
            shared.open_streams.fetch_sub(1, Ordering::SeqCst);
        });
        Ok(Response::new(channel_stream(rx)))
    }

    async fn check_macaroon_permissions(
        &self,
        request: Request<lnrpc::CheckMacPermRequest>,
    ) -> Result<Response<lnrpc::CheckMacPermResponse>, Status> {
        super::require(&request, "macaroon", "read")?;
        let req = request.into_inner();
        let granted = self
            .0
            .macaroons
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&hex::encode(&req.macaroon))
            .cloned();
        // LND: CheckMacAuth's error is returned as InvalidArgument; success is `valid: true`.
        let Some(granted) = granted else {
            return Err(Status::invalid_argument(
                "verification failed: signature mismatch after caveat verification",
            ));
        };
        let all = req.permissions.iter().all(|p| {
            granted
                .iter()
                .any(|(e, a)| *e == p.entity && *a == p.action)
        });
        if !all {
            return Err(Status::invalid_argument("permission denied"));
        }
        Ok(Response::new(lnrpc::CheckMacPermResponse { valid: true }))
    }
}
