//! Records the store keeps. They are serialized as JSON inside each backend, so both backends hold
//! the same shapes.

use serde::{Deserialize, Serialize};

use crate::types::{DomainName, LightningAddress, Msat, NostrPubkey, PaymentHash, Username};

/// Opaque account id: 16 random bytes in hex. Never reused, unlike names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(pub String);

impl AccountId {
    pub fn random() -> Self {
        AccountId(hex::encode(rand::random::<[u8; 16]>()))
    }
}

impl std::fmt::Display for AccountId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    pub username: String,
    pub domain: String,
    pub nostr_pubkey: Option<NostrPubkey>,
    pub balance_msat: Msat,
    pub created_at: u64,
}

impl Account {
    pub fn address(&self) -> String {
        format!("{}@{}", self.username, self.domain)
    }
}

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub address: LightningAddress,
    pub nostr_pubkey: Option<NostrPubkey>,
}

impl NewAccount {
    pub fn into_account(self, now: u64) -> Account {
        Account {
            id: AccountId::random(),
            username: self.address.username.as_str().to_string(),
            domain: self.address.domain.as_str().to_string(),
            nostr_pubkey: self.nostr_pubkey,
            balance_msat: Msat::ZERO,
            created_at: now,
        }
    }
}

/// Key of the name index: `domain/username` (neither can contain `/`).
pub fn name_key(domain: &DomainName, username: &Username) -> String {
    format!("{domain}/{username}")
}

/// An invoice this gateway issued for an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceRecord {
    pub payment_hash: PaymentHash,
    pub account_id: AccountId,
    pub amount_msat: Msat,
    pub bolt11: String,
    pub comment: Option<String>,
    pub tag: Option<String>,
    pub payer_data: Option<String>,
    /// The NIP-57 zap request exactly as received, when this invoice is a zap.
    pub zap_request: Option<String>,
    pub created_at: u64,
    pub expires_at: u64,
    pub settled: Option<SettledInfo>,
    /// The node that issued the invoice ([`crate::lightning::LightningNode::node_id`]): only
    /// that node can cancel it, so only a payment through that node settles it inside the
    /// ledger. `None` on records written before it was kept (taken as the node in use).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_id: Option<String>,
}

impl InvoiceRecord {
    /// Whether `pr` is this very invoice, as issued (BOLT 11 is case-insensitive). Sharing the
    /// payment hash is not enough: anyone can sign an invoice with a hash they have seen.
    pub fn is_same_request(&self, pr: &str) -> bool {
        self.bolt11.trim().eq_ignore_ascii_case(pr.trim())
    }

    /// Whether `node_id` is the node that issued the invoice.
    pub fn issued_by(&self, node_id: &str) -> bool {
        self.node_id.as_deref().is_none_or(|n| n == node_id)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettledInfo {
    pub preimage: String,
    pub amount_paid_msat: Msat,
    pub settled_at: u64,
}

/// What the node reported, as the store credits it (defined by the node's side).
pub use crate::lightning::Settlement;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreditOutcome {
    /// Credited now; the account's new balance.
    Credited {
        account_id: AccountId,
        balance: Msat,
    },
    /// This payment hash was credited before; nothing changed.
    AlreadyCredited,
    /// Not an invoice of this gateway (the node is shared): nothing to credit.
    UnknownInvoice,
    /// The invoice's account was removed; the invoice is marked settled, nothing credited.
    AccountGone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TxKind {
    Credit,
    Debit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TxStatus {
    Pending,
    Settled,
    Failed,
}

/// One ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    pub kind: TxKind,
    pub amount_msat: Msat,
    pub fee_msat: Msat,
    pub payment_hash: PaymentHash,
    pub status: TxStatus,
    pub comment: Option<String>,
    pub tag: Option<String>,
    pub zap: bool,
    pub created_at: u64,
}

impl Transaction {
    /// The ledger entry for crediting `invoice` with `settled`.
    pub fn credit(invoice: &InvoiceRecord, settled: &Settlement) -> Self {
        Transaction {
            kind: TxKind::Credit,
            amount_msat: settled.amount_paid_msat,
            fee_msat: Msat::ZERO,
            payment_hash: invoice.payment_hash,
            status: TxStatus::Settled,
            comment: invoice.comment.clone(),
            tag: invoice.tag.clone(),
            zap: invoice.zap_request.is_some(),
            created_at: settled.settled_at,
        }
    }
}
