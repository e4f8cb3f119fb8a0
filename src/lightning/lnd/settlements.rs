//! Settlements from LND.
//!
//! - [`LightningNode::settle_index_reaches`](crate::lightning::LightningNode::settle_index_reaches)
//!   reads `ListInvoices` backwards from the newest invoice and stops at the first one settled at
//!   or above the index, so it is cheap when the cursor is recent and reads every invoice only
//!   when the node's count really went backwards.
//! - Settlements: `SubscribeInvoices` with `settle_index` = the cursor. LND replays only when the
//!   index is non-zero, so from cursor 0 the backlog is read with `ListInvoices` after the live
//!   stream is open, and live updates already in the backlog are dropped.

use futures_util::StreamExt;

use super::proto::lnrpc;
use super::{LndNode, convert};
use crate::lightning::{LightningError, Settlement, SettlementStream};

/// Invoices per `ListInvoices` page when reading the settled backlog.
const LIST_PAGE: u64 = 1000;

impl LndNode {
    /// One page of `ListInvoices` from `offset`: oldest first, or newest first when `reversed`.
    async fn list_invoices(
        &self,
        offset: u64,
        reversed: bool,
    ) -> Result<lnrpc::ListInvoiceResponse, LightningError> {
        let mut client = self.client.clone();
        Self::call(client.list_invoices(self.request(
            lnrpc::ListInvoiceRequest {
                pending_only: false,
                index_offset: offset,
                num_max_invoices: LIST_PAGE,
                reversed,
            },
            true,
        )))
        .await
        .map_err(convert::status_error)
    }

    /// Every settled invoice with a settle index above `after`, in settle order (`ListInvoices`).
    async fn settled_backlog(&self, after: u64) -> Result<Vec<Settlement>, LightningError> {
        let mut out = Vec::new();
        let mut offset = 0;
        loop {
            let page = self.list_invoices(offset, false).await?;
            for invoice in &page.invoices {
                if let Some(s) = convert::settlement(invoice)?
                    && s.settle_index > after
                {
                    out.push(s);
                }
            }
            if page.invoices.is_empty() || page.last_index_offset <= offset {
                break;
            }
            offset = page.last_index_offset;
        }
        out.sort_by_key(|s| s.settle_index);
        Ok(out)
    }

    /// Whether the node's settle index reaches `index` (see the module doc).
    pub(super) async fn reaches_settle_index(&self, index: u64) -> Result<bool, LightningError> {
        if index == 0 {
            return Ok(true);
        }
        // Backwards from the newest invoice: `index_offset` 0 with `reversed` starts at the end,
        // and `first_index_offset` of a page is where the next (older) page ends.
        let mut offset = 0;
        loop {
            let page = self.list_invoices(offset, true).await?;
            if page.invoices.iter().any(|i| i.settle_index >= index) {
                return Ok(true);
            }
            if page.invoices.is_empty() || page.first_index_offset <= 1 {
                return Ok(false);
            }
            if offset != 0 && page.first_index_offset >= offset {
                return Err(LightningError::Protocol(
                    "ListInvoices did not page backwards".into(),
                ));
            }
            offset = page.first_index_offset;
        }
    }

    /// The settlements after `after_settle_index`: the backlog first when LND replays none.
    pub(super) async fn subscribe(
        &self,
        after_settle_index: u64,
    ) -> Result<SettlementStream, LightningError> {
        let mut client = self.client.clone();
        let subscription = lnrpc::InvoiceSubscription {
            add_index: 0,
            settle_index: after_settle_index,
        };
        let live = Self::call(client.subscribe_invoices(self.request(subscription, false)))
            .await
            .map_err(convert::status_error)?;
        // LND replays nothing for settle_index 0: read the backlog once the stream is open.
        let backlog = if after_settle_index == 0 {
            self.settled_backlog(0).await?
        } else {
            Vec::new()
        };
        let seen = backlog
            .last()
            .map_or(after_settle_index, |s| s.settle_index);
        let live = live.filter_map(move |update| {
            futures_util::future::ready(match update {
                Ok(invoice) => match convert::settlement(&invoice) {
                    Ok(Some(s)) if s.settle_index > seen => Some(Ok(s)),
                    Ok(_) => None,
                    Err(e) => Some(Err(e)),
                },
                Err(status) => Some(Err(convert::status_error(status))),
            })
        });
        Ok(Box::pin(
            futures_util::stream::iter(backlog.into_iter().map(Ok)).chain(live),
        ))
    }
}
