//! The fake node (like LNbits' FakeWallet and CDK's fake wallet): signs real BOLT 11 invoices with its
//! own key (kept in `data_dir/fake-node.key`), remembers them in `data_dir/fake-node.redb`, and settles
//! one when [`FakeNode::pay`] is called, with LND's semantics: a settle index that grows by one per
//! settlement, and a settlement stream that replays from any index.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bitcoin::hashes::{Hash, sha256};
use bitcoin::secp256k1::{PublicKey, Secp256k1, SecretKey, SignOnly};
use lightning_invoice::{Bolt11Invoice, Currency, InvoiceBuilder, PaymentSecret};
use redb::{Database, ReadableDatabase, ReadableTable};
use sha2::Digest;
use tokio::sync::{broadcast, mpsc};

use super::*;
use crate::batch_writer::{BatchWriter, WriterError};
use crate::types::unix_now;

mod controls;
mod records;

pub use self::controls::{FakeControlError, FakeControls};

use self::records::{
    COUNTERS, FakeInvoice, INVOICES, SETTLED, get_record, next_index, put_record, settled_after,
    to_settlement,
};

/// Why a fake payment was refused.
#[derive(Debug, thiserror::Error)]
pub enum FakePayError {
    #[error("not a valid BOLT 11 invoice")]
    Invalid,
    #[error("not an invoice of this node")]
    NotOurs,
    #[error("invoice already paid")]
    AlreadyPaid,
    #[error("invoice expired")]
    Expired,
    #[error("invoice canceled")]
    Canceled,
    #[error(transparent)]
    Node(#[from] LightningError),
}

/// The in-process fake Lightning node.
pub struct FakeNode {
    /// Declared first: dropping the node stops the writer thread before the database closes.
    writer: BatchWriter<FakePayError>,
    db: Arc<Database>,
    key: SecretKey,
    pubkey: PublicKey,
    /// Made once: a new context is randomized (a point multiplication and several sha256s),
    /// which cost as much as the signature itself.
    secp: Secp256k1<SignOnly>,
    currency: Currency,
    network: bitcoin::Network,
    settled_tx: broadcast::Sender<Settlement>,
    /// Outgoing payments (withdrawals) and their test controls.
    pub payments: super::fake_pay::FakePayments,
}

impl FakeNode {
    /// Opens the node's state in `dir`, creating its key on first use.
    pub fn open(dir: &Path, network: bitcoin::Network) -> Result<Self, LightningError> {
        crate::fsutil::create_private_dir(dir).map_err(LightningError::unavailable)?;
        let key = crate::fsutil::load_or_create_secret_hex(&dir.join("fake-node.key"), 32)
            .map_err(LightningError::unavailable)?;
        let key =
            SecretKey::from_slice(&key).map_err(|e| LightningError::Protocol(e.to_string()))?;
        let pubkey = key.public_key(&Secp256k1::new());
        // Invoices are written once and read back only when paid: a small cache is enough.
        crate::fsutil::prepare_private_file(&dir.join("fake-node.redb"))
            .map_err(LightningError::unavailable)?;
        let db = Database::builder()
            .set_cache_size(2 << 20)
            .create(dir.join("fake-node.redb"))
            .map_err(LightningError::unavailable)?;
        let tx = db.begin_write().map_err(LightningError::unavailable)?;
        {
            tx.open_table(INVOICES)
                .map_err(LightningError::unavailable)?;
            tx.open_table(SETTLED)
                .map_err(LightningError::unavailable)?;
            tx.open_table(COUNTERS)
                .map_err(LightningError::unavailable)?;
        }
        tx.commit().map_err(LightningError::unavailable)?;
        let (settled_tx, _) = broadcast::channel(1024);
        let db = Arc::new(db);
        let writer =
            BatchWriter::start(db.clone(), "fake-node").map_err(LightningError::unavailable)?;
        Ok(FakeNode {
            writer,
            db,
            key,
            pubkey,
            secp: Secp256k1::signing_only(),
            currency: Currency::from(network),
            network,
            settled_tx,
            payments: Default::default(),
        })
    }

    /// The node's identity key, hex.
    pub fn pubkey_hex(&self) -> String {
        hex::encode(self.pubkey.serialize())
    }

    /// Settles one of this node's open invoices as if the network had paid it in full.
    pub async fn pay(&self, bolt11: &str) -> Result<Settlement, FakePayError> {
        let invoice: Bolt11Invoice = bolt11.trim().parse().map_err(|_| FakePayError::Invalid)?;
        if invoice.recover_payee_pub_key() != self.pubkey {
            return Err(FakePayError::NotOurs);
        }
        let hash = *invoice.payment_hash().as_byte_array();
        let settlement = self
            .writer
            .write(move |tx| -> Result<Settlement, FakePayError> {
                let settlement = {
                    let invoices = tx
                        .open_table(INVOICES)
                        .map_err(LightningError::unavailable)?;
                    let mut record = get_record(&invoices, &hash)?.ok_or(FakePayError::NotOurs)?;
                    drop(invoices);
                    if record.settle_index != 0 {
                        return Err(FakePayError::AlreadyPaid);
                    }
                    if record.canceled {
                        return Err(FakePayError::Canceled);
                    }
                    let now = unix_now();
                    if now >= record.expires_at {
                        return Err(FakePayError::Expired);
                    }
                    let index = next_index(tx, "settle_index")?;
                    record.settle_index = index;
                    record.amount_paid_msat = record.amount_msat;
                    record.settled_at = now;
                    put_record(tx, &hash, &record)?;
                    let mut settled = tx
                        .open_table(SETTLED)
                        .map_err(LightningError::unavailable)?;
                    settled
                        .insert(index, hash.as_slice())
                        .map_err(LightningError::unavailable)?;
                    to_settlement(hash, &record)?
                };
                Ok(settlement)
            })
            .await?;
        // No subscriber is fine: a later subscription replays from the database.
        let _ = self.settled_tx.send(settlement.clone());
        Ok(settlement)
    }
}

impl WriterError for FakePayError {
    fn backend(message: String) -> Self {
        FakePayError::Node(LightningError::unavailable(std::io::Error::other(message)))
    }
}

/// A write's error as the node's: the node's own, or a protocol error for the rest.
fn node_error(e: FakePayError) -> LightningError {
    match e {
        FakePayError::Node(e) => e,
        other => LightningError::Protocol(other.to_string()),
    }
}

#[async_trait]
impl LightningNode for FakeNode {
    fn node_id(&self) -> String {
        self.pubkey_hex()
    }

    async fn settle_index_reaches(&self, index: u64) -> Result<bool, LightningError> {
        if index == 0 {
            return Ok(true);
        }
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || {
            let tx = db.begin_read().map_err(LightningError::unavailable)?;
            let settled = tx
                .open_table(SETTLED)
                .map_err(LightningError::unavailable)?;
            let last = settled
                .last()
                .map_err(LightningError::unavailable)?
                .map_or(0, |(k, _)| k.value());
            Ok(last >= index)
        })
        .await
        .map_err(LightningError::unavailable)?
    }

    async fn create_invoice(
        &self,
        request: InvoiceRequest,
    ) -> Result<CreatedInvoice, LightningError> {
        if request.amount.msat() == 0 {
            return Err(LightningError::Rejected("amount must be positive".into()));
        }
        let preimage: [u8; 32] = rand::random();
        let hash: [u8; 32] = sha2::Sha256::digest(preimage).into();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| LightningError::Protocol(e.to_string()))?;
        let invoice = InvoiceBuilder::new(self.currency.clone())
            .amount_milli_satoshis(request.amount.msat())
            .description_hash(sha256::Hash::from_byte_array(request.description_hash))
            .payment_hash(sha256::Hash::from_byte_array(hash))
            .payment_secret(PaymentSecret(rand::random()))
            .duration_since_epoch(Duration::from_secs(now.as_secs()))
            .min_final_cltv_expiry_delta(80)
            .expiry_time(Duration::from_secs(request.expiry_secs))
            .build_signed(|msg| self.secp.sign_ecdsa_recoverable(msg, &self.key))
            .map_err(|e| LightningError::Rejected(e.to_string()))?;
        let bolt11 = invoice.to_string();
        let expires_at = now.as_secs() + request.expiry_secs;
        let record_bolt11 = bolt11.clone();
        self.writer
            .write(move |tx| -> Result<(), FakePayError> {
                let add_index = next_index(tx, "add_index")?;
                let record = FakeInvoice {
                    bolt11: record_bolt11.clone(),
                    preimage: hex::encode(preimage),
                    amount_msat: request.amount.msat(),
                    add_index,
                    settle_index: 0,
                    amount_paid_msat: 0,
                    expires_at,
                    settled_at: 0,
                    canceled: false,
                };
                put_record(tx, &hash, &record)?;
                Ok(())
            })
            .await
            .map_err(node_error)?;
        Ok(CreatedInvoice {
            payment_hash: PaymentHash(hash),
            bolt11,
            expires_at,
        })
    }

    async fn lookup_invoice(
        &self,
        hash: &PaymentHash,
    ) -> Result<Option<NodeInvoice>, LightningError> {
        let db = self.db.clone();
        let key = hash.0;
        tokio::task::spawn_blocking(move || {
            let tx = db.begin_read().map_err(LightningError::unavailable)?;
            let invoices = tx
                .open_table(INVOICES)
                .map_err(LightningError::unavailable)?;
            let Some(record) = get_record(&invoices, &key)? else {
                return Ok(None);
            };
            let settled = record.settle_index != 0;
            let state = if settled {
                InvoiceState::Settled
            } else if record.canceled || unix_now() >= record.expires_at {
                InvoiceState::Canceled
            } else {
                InvoiceState::Open
            };
            let preimage = if settled {
                Some(to_settlement(key, &record)?.preimage)
            } else {
                None
            };
            Ok(Some(NodeInvoice {
                state,
                preimage,
                amount_paid: Msat::from_msat(record.amount_paid_msat),
                settle_index: record.settle_index,
            }))
        })
        .await
        .map_err(LightningError::unavailable)?
    }

    /// LND's rules: an open (or expired) invoice becomes cancelled, a cancelled one answers the
    /// same again, a settled one stays settled.
    async fn cancel_invoice(&self, hash: &PaymentHash) -> Result<CancelOutcome, LightningError> {
        let key = hash.0;
        self.writer
            .write(move |tx| -> Result<CancelOutcome, FakePayError> {
                let invoices = tx
                    .open_table(INVOICES)
                    .map_err(LightningError::unavailable)?;
                let Some(mut record) = get_record(&invoices, &key)? else {
                    return Ok(CancelOutcome::Unknown);
                };
                drop(invoices);
                if record.settle_index != 0 {
                    return Ok(CancelOutcome::AlreadySettled);
                }
                if !record.canceled {
                    record.canceled = true;
                    put_record(tx, &key, &record)?;
                }
                Ok(CancelOutcome::Canceled)
            })
            .await
            .map_err(node_error)
    }

    async fn subscribe_settlements(&self, after: u64) -> Result<SettlementStream, LightningError> {
        // Subscribe before reading the backlog so nothing settled in between is missed; the
        // index check drops what the backlog already delivered.
        let mut live = self.settled_tx.subscribe();
        let db = self.db.clone();
        let (tx, rx) = mpsc::channel::<Result<Settlement, LightningError>>(256);
        tokio::spawn(async move {
            let mut last = after;
            loop {
                let backlog = {
                    let db = db.clone();
                    tokio::task::spawn_blocking(move || settled_after(&db, last)).await
                };
                let backlog = match backlog {
                    Ok(Ok(b)) => b,
                    Ok(Err(e)) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(LightningError::unavailable(e))).await;
                        return;
                    }
                };
                for s in backlog {
                    last = s.settle_index;
                    if tx.send(Ok(s)).await.is_err() {
                        return;
                    }
                }
                loop {
                    tokio::select! {
                        received = live.recv() => match received {
                            Ok(s) if s.settle_index <= last => {}
                            // Concurrent pays commit in index order but may broadcast out of
                            // order: on a gap, read it from the database instead of skipping it.
                            Ok(s) if s.settle_index > last + 1 => break,
                            Ok(s) => {
                                last = s.settle_index;
                                if tx.send(Ok(s)).await.is_err() {
                                    return;
                                }
                            }
                            // Fell behind the broadcast: read the gap from the database.
                            Err(broadcast::error::RecvError::Lagged(_)) => break,
                            Err(broadcast::error::RecvError::Closed) => return,
                        },
                        () = tx.closed() => return,
                    }
                }
            }
        });
        Ok(Box::pin(futures_util::stream::unfold(
            rx,
            |mut rx| async move { rx.recv().await.map(|item| (item, rx)) },
        )))
    }

    async fn status(&self) -> Result<NodeStatus, LightningError> {
        Ok(NodeStatus {
            pubkey: self.pubkey_hex(),
            synced: true,
        })
    }

    async fn network(&self) -> Result<bitcoin::Network, LightningError> {
        Ok(self.network)
    }

    async fn pay_invoice(&self, request: PaymentRequest) -> Result<PaymentResult, LightningError> {
        self.payments.pay(&request, &self.currency)
    }

    async fn track_payment(
        &self,
        hash: &PaymentHash,
        _wait: Duration,
    ) -> Result<Option<PaymentResult>, LightningError> {
        Ok(self.payments.track(hash))
    }
}
