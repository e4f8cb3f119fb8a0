//! Where the settlement follower resumes: the settle cursor of the node it is talking to.
//!
//! - The cursor is keyed by the node's identity key (LND `GetInfo.identity_pubkey`), asked at every
//!   (re)subscription, never by the address the node is reached at: another node behind the same
//!   endpoint gets its own cursor and is replayed from its start.
//! - A cursor saved by earlier versions under [`LightningNode::node_id`] is carried over
//!   once, to the first identity seen there: the old cursor is zeroed first (a compare-and-set, so
//!   one process takes it), then written under the identity. A stop in between loses the cursor,
//!   which only replays the node from its start.
//! - A node restored from an older database keeps its key but counts settle indices again from
//!   below the saved cursor; LND would replay nothing and every settlement up to the old cursor
//!   would be dropped. When the node has no settlement at or above the cursor
//!   ([`LightningNode::settle_index_reaches`]), the follower logs it at error level, moves the
//!   cursor back to 0 and replays everything (credits are idempotent).
//! - Every subscription starts `replay_window` indices behind the cursor, so a credit lost while
//!   its cursor survived (a Redis failover can lose one write and keep the next) is made again.

use crate::lightning::LightningNode;
use crate::store::Store;

/// Why the follower could not find where to resume; it retries with backoff.
#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    /// The node did not answer (its identity or its settle count).
    #[error("lightning node: {0}")]
    Node(#[from] crate::lightning::LightningError),
    /// The store did not answer.
    #[error("store: {0}")]
    Store(#[from] crate::store::StoreError),
    /// The node answered an empty identity key.
    #[error("the lightning node reported no identity key")]
    NoIdentity,
}

/// Where one subscription starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    /// The node's identity key: the key of its cursor.
    pub node_key: String,
    /// The saved cursor (after any correction).
    pub cursor: u64,
    /// The settle index to subscribe after: `cursor - replay_window`, at least 0.
    pub after: u64,
}

/// Finds where to resume following `node`'s settlements.
pub async fn resume_point(
    store: &dyn Store,
    node: &dyn LightningNode,
    replay_window: u64,
) -> Result<Resume, ResumeError> {
    let node_key = node.status().await?.pubkey.to_ascii_lowercase();
    if node_key.is_empty() {
        return Err(ResumeError::NoIdentity);
    }
    carry_over_legacy(store, node, &node_key).await?;
    let mut cursor = store.settle_cursor(&node_key).await?;
    if cursor > 0 && !node.settle_index_reaches(cursor).await? {
        tracing::error!(node = %node_key, cursor,
            "the lightning node's settle index went backwards (node restored from an older \
             database or replaced?): replaying every settlement from the node's start");
        if !store.reset_settle_cursor(&node_key, cursor, 0).await? {
            tracing::warn!(node = %node_key, "settle cursor moved meanwhile; replaying from 0 anyway");
        }
        cursor = 0;
    }
    Ok(Resume {
        after: cursor.saturating_sub(replay_window),
        node_key,
        cursor,
    })
}

/// Carries a cursor saved under the legacy key (the endpoint) over to `node_key`, once: the first
/// identity seen behind that endpoint takes it; a node found there later starts from 0, and a
/// taken cursor that is ahead of the node is caught by the backwards check.
async fn carry_over_legacy(
    store: &dyn Store,
    node: &dyn LightningNode,
    node_key: &str,
) -> Result<(), ResumeError> {
    let legacy = node.node_id();
    if legacy.eq_ignore_ascii_case(node_key) {
        return Ok(());
    }
    let old = store.settle_cursor(&legacy).await?;
    if old == 0 {
        return Ok(());
    }
    if !store.reset_settle_cursor(&legacy, old, 0).await? {
        return Ok(());
    }
    if store.reset_settle_cursor(node_key, 0, old).await? {
        tracing::info!(node = %node_key, from = %legacy, cursor = old,
            "settle cursor carried over to the node's identity key");
    }
    Ok(())
}
