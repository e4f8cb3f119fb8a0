//! The simulator's invoice and payment book, with LND's semantics: invoices go OPEN → SETTLED
//! (or CANCELED once expired or cancelled by `CancelInvoice`), `add_index` and `settle_index` count from 1 and only grow, and a
//! settled invoice keeps its preimage, amount paid and settle date.

use std::collections::HashMap;

use lnaddr::lightning::lnd::proto::lnrpc;
use lnrpc::invoice::InvoiceState;

/// Every invoice and payment of the simulated node.
#[derive(Default)]
pub struct Book {
    invoices: Vec<lnrpc::Invoice>,
    by_hash: HashMap<[u8; 32], usize>,
    settled: Vec<usize>,
    pub payments: HashMap<[u8; 32], lnrpc::Payment>,
    pub payment_count: u64,
}

/// Why an invoice could not be settled.
#[derive(Debug, PartialEq, Eq)]
pub enum SettleError {
    Unknown,
    AlreadySettled,
    Expired,
    Canceled,
}

impl std::fmt::Display for SettleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SettleError::Unknown => "unable to locate invoice",
            SettleError::AlreadySettled => "invoice already settled",
            SettleError::Expired => "invoice expired",
            SettleError::Canceled => "invoice already canceled",
        })
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Book {
    /// Records a new invoice and gives it the next add index.
    pub fn add(&mut self, mut invoice: lnrpc::Invoice) -> lnrpc::Invoice {
        invoice.add_index = self.invoices.len() as u64 + 1;
        invoice.state = InvoiceState::Open as i32;
        let hash: [u8; 32] = invoice.r_hash.as_slice().try_into().unwrap_or([0; 32]);
        self.by_hash.insert(hash, self.invoices.len());
        self.invoices.push(invoice.clone());
        invoice
    }

    pub fn is_empty(&self) -> bool {
        self.invoices.is_empty()
    }

    /// The invoice as LND would report it now (an expired open invoice is CANCELED).
    pub fn get(&self, hash: &[u8; 32]) -> Option<lnrpc::Invoice> {
        self.by_hash.get(hash).map(|&i| self.view(i))
    }

    fn view(&self, i: usize) -> lnrpc::Invoice {
        let mut invoice = self.invoices[i].clone();
        if invoice.state == InvoiceState::Open as i32
            && now() > invoice.creation_date + invoice.expiry
        {
            invoice.state = InvoiceState::Canceled as i32;
        }
        invoice
    }

    /// Settles an open invoice as if its HTLCs arrived in full.
    pub fn settle(&mut self, hash: &[u8; 32]) -> Result<lnrpc::Invoice, SettleError> {
        let &i = self.by_hash.get(hash).ok_or(SettleError::Unknown)?;
        let view = self.view(i);
        if view.state == InvoiceState::Settled as i32 {
            return Err(SettleError::AlreadySettled);
        }
        if self.invoices[i].state == InvoiceState::Canceled as i32 {
            return Err(SettleError::Canceled);
        }
        if view.state == InvoiceState::Canceled as i32 {
            return Err(SettleError::Expired);
        }
        self.settled.push(i);
        let settle_index = self.settled.len() as u64;
        let invoice = &mut self.invoices[i];
        invoice.state = InvoiceState::Settled as i32;
        #[allow(deprecated)]
        {
            invoice.settled = true;
        }
        invoice.settle_index = settle_index;
        invoice.settle_date = now();
        invoice.amt_paid_msat = invoice.value_msat;
        invoice.amt_paid_sat = invoice.value_msat / 1000;
        Ok(invoice.clone())
    }

    /// LND's `CancelInvoice` (`invoices/invoiceregistry.go`, `cancelInvoiceImpl`): an open or
    /// expired invoice becomes CANCELED, a cancelled one succeeds again (idempotent), a settled
    /// one is refused. Indices do not move.
    pub fn cancel(&mut self, hash: &[u8; 32]) -> Result<(), SettleError> {
        let &i = self.by_hash.get(hash).ok_or(SettleError::Unknown)?;
        let invoice = &mut self.invoices[i];
        if invoice.state == InvoiceState::Settled as i32 {
            return Err(SettleError::AlreadySettled);
        }
        invoice.state = InvoiceState::Canceled as i32;
        Ok(())
    }

    /// Settled invoices with a settle index above `after`, in settle order.
    pub fn settled_after(&self, after: u64) -> Vec<lnrpc::Invoice> {
        self.settled
            .iter()
            .skip(after as usize)
            .map(|&i| self.view(i))
            .collect()
    }

    /// Invoices with an add index above `after`, in add order.
    pub fn added_after(&self, after: u64) -> Vec<lnrpc::Invoice> {
        (after as usize..self.invoices.len())
            .map(|i| self.view(i))
            .collect()
    }

    /// `ListInvoices` (LND's `invoices.QueryInvoices`): forward, the invoices after `index_offset`
    /// (an add index); `reversed`, the ones before it (before the end when it is 0), the nearest
    /// first taken, answered in add order either way.
    pub fn list(&self, request: &lnrpc::ListInvoiceRequest) -> lnrpc::ListInvoiceResponse {
        let max = if request.num_max_invoices == 0 {
            100
        } else {
            request.num_max_invoices as usize
        };
        let keep =
            |i: &lnrpc::Invoice| !request.pending_only || i.state == InvoiceState::Open as i32;
        let invoices: Vec<_> = if request.reversed {
            let end = if request.index_offset == 0 {
                self.invoices.len()
            } else {
                (request.index_offset as usize)
                    .saturating_sub(1)
                    .min(self.invoices.len())
            };
            let mut back: Vec<_> = (0..end)
                .rev()
                .map(|i| self.view(i))
                .filter(keep)
                .take(max)
                .collect();
            back.reverse();
            back
        } else {
            self.added_after(request.index_offset)
                .into_iter()
                .filter(keep)
                .take(max)
                .collect()
        };
        lnrpc::ListInvoiceResponse {
            first_index_offset: invoices.first().map_or(0, |i| i.add_index),
            last_index_offset: invoices.last().map_or(0, |i| i.add_index),
            invoices,
        }
    }
}
