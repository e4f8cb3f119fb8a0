//! The Lightning node behind the gateway: one shared node issues every invoice and reports every
//! settlement. Backends: [`fake`] (in-process, signs real BOLT 11 invoices; settles when told) and
//! [`lnd`] (LND over gRPC and TLS with a macaroon). Withdrawals (LUD-03) pay through
//! [`LightningNode::pay_invoice`] and resume with [`LightningNode::track_payment`].

pub mod fake;
pub mod fake_pay;
pub mod lnd;

use async_trait::async_trait;
use futures_util::stream::BoxStream;

use crate::types::{Msat, PaymentHash};

/// A settlement reported by the Lightning node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settlement {
    pub payment_hash: PaymentHash,
    pub preimage: [u8; 32],
    /// What the payer paid; may exceed the invoice amount (overpayment goes to the account).
    pub amount_paid_msat: Msat,
    /// The node's settle index (LND `settle_index`), strictly growing.
    pub settle_index: u64,
    pub settled_at: u64,
}

/// What a node operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum LightningError {
    /// The node cannot be reached or is not ready (locked, starting, not synced). Retry later.
    #[error("lightning node unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The node refused the request as invalid; retrying the same request will not help.
    #[error("lightning node refused the request: {0}")]
    Rejected(String),
    /// The node refused our credentials (LND: a wrong macaroon or one without the permission).
    #[error("lightning node refused our credentials: {0}")]
    Unauthorized(String),
    /// The node answered something we could not understand.
    #[error("unexpected answer from the lightning node: {0}")]
    Protocol(String),
}

impl LightningError {
    pub fn unavailable(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        LightningError::Unavailable(Box::new(e))
    }
}

/// An invoice to create. The description is committed by hash only (LUD-06, NIP-57).
#[derive(Debug, Clone)]
pub struct InvoiceRequest {
    pub amount: Msat,
    pub description_hash: [u8; 32],
    pub expiry_secs: u64,
}

#[derive(Debug, Clone)]
pub struct CreatedInvoice {
    pub payment_hash: PaymentHash,
    pub bolt11: String,
    pub expires_at: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceState {
    Open,
    Settled,
    Canceled,
}

/// What cancelling an invoice came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The invoice is cancelled (now or before): the network can no longer pay it.
    Canceled,
    /// It was paid first; it stays settled.
    AlreadySettled,
    /// The node has no invoice with that hash.
    Unknown,
}

/// An invoice as the node sees it.
#[derive(Debug, Clone)]
pub struct NodeInvoice {
    pub state: InvoiceState,
    /// Known once settled (the node always knows it for its own invoices).
    pub preimage: Option<[u8; 32]>,
    pub amount_paid: Msat,
    pub settle_index: u64,
}

#[derive(Debug, Clone)]
pub struct NodeStatus {
    /// The node's identity public key, hex.
    pub pubkey: String,
    /// Synced to chain and graph: ready to issue invoices others can pay.
    pub synced: bool,
}

/// An invoice to pay (a withdrawal, LUD-03).
#[derive(Debug, Clone)]
pub struct PaymentRequest {
    pub bolt11: String,
    /// The amount to pay for a zero-amount invoice (ignored for an invoice with an amount).
    pub amount: Option<Msat>,
    /// The most the route may cost; the payment fails rather than pay more.
    pub fee_limit: Msat,
    /// How long the node may keep trying to find a route.
    pub timeout_secs: u32,
}

/// Where an outgoing payment stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentResult {
    /// Paid: the routing fee and the preimage (proof of payment).
    Succeeded { fee: Msat, preimage: [u8; 32] },
    /// Not paid, for good: the money never left.
    Failed(String),
    /// Still in flight (or the answer was lost): ask again with `track_payment`.
    InFlight,
}

/// Settled invoices in settle-index order.
pub type SettlementStream = BoxStream<'static, Result<Settlement, LightningError>>;

/// A Lightning node that issues and watches invoices.
///
/// Duties of an implementation:
/// - `create_invoice` makes an invoice for exactly `amount` with `description_hash`; it never
///   reuses a payment hash.
/// - `subscribe_settlements(after)` first replays every invoice settled with a settle index greater
///   than `after`, in order, then streams new settlements as they happen. Settle indices strictly
///   grow. The stream may end or fail at any time; callers resubscribe from their saved cursor, so
///   replays are expected and harmless.
/// - The settle cursor is keyed by the node's identity key ([`NodeStatus::pubkey`], learned from the
///   node at every subscription), never by where the node is reached: a node replaced at the same
///   address starts its own cursor.
/// - [`LightningNode::settle_index_reaches`] tells whether the node has counted settlements up to a
///   saved cursor; a node restored from an older database has not, and is replayed from its start.
/// - Errors: `Unavailable` when the node cannot answer now (retry later), `Rejected` when it
///   refused this request, `Unauthorized` when it refused our credentials, `Protocol` when its
///   answer made no sense.
#[async_trait]
pub trait LightningNode: Send + Sync + 'static {
    /// A stable name for this node, known without calling it (LND: `lnd:HOST:PORT` of the
    /// endpoint; fake: its public key). Invoices record it as their issuer. Earlier versions also
    /// keyed the settle cursor by it; that cursor is carried over once to the node's identity key.
    fn node_id(&self) -> String;

    /// Whether the node has settled an invoice with a settle index of at least `index`. `false`
    /// for a saved cursor means the node's count went backwards (restored or replaced node).
    async fn settle_index_reaches(&self, index: u64) -> Result<bool, LightningError>;

    async fn create_invoice(
        &self,
        request: InvoiceRequest,
    ) -> Result<CreatedInvoice, LightningError>;

    /// The node's view of one of its invoices; `None` when it does not know the hash.
    async fn lookup_invoice(
        &self,
        hash: &PaymentHash,
    ) -> Result<Option<NodeInvoice>, LightningError>;

    /// Cancels an open invoice so that the network can no longer pay it (LND
    /// `invoicesrpc.CancelInvoice`): for an invoice of ours paid inside the ledger. Cancelling a
    /// cancelled invoice succeeds again; a settled one stays settled.
    async fn cancel_invoice(&self, hash: &PaymentHash) -> Result<CancelOutcome, LightningError>;

    async fn subscribe_settlements(
        &self,
        after_settle_index: u64,
    ) -> Result<SettlementStream, LightningError>;

    /// Reachability and sync state, for `/readyz`.
    async fn status(&self) -> Result<NodeStatus, LightningError>;

    /// The chain the node is on: invoices for another network cannot be paid by it.
    async fn network(&self) -> Result<bitcoin::Network, LightningError>;

    /// Pays `request` and waits for the outcome (at most about its timeout). Duties: never pays
    /// more than the fee limit in fees; `Failed` only when the money certainly did not leave;
    /// `InFlight` when the outcome is not known yet; a second call for an invoice already paid
    /// or in flight must not pay twice (answer its state, or an error).
    async fn pay_invoice(&self, request: PaymentRequest) -> Result<PaymentResult, LightningError>;

    /// The state of an outgoing payment by hash, waiting for a final state while it is in flight
    /// (up to `wait`). `None` when the node never started paying it (safe to give up).
    async fn track_payment(
        &self,
        hash: &PaymentHash,
        wait: std::time::Duration,
    ) -> Result<Option<PaymentResult>, LightningError>;
}
