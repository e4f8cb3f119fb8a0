//! The simulator's `invoicesrpc.Invoices` service: CancelInvoice with LND's answers
//! (`lnrpc/invoicesrpc/invoices.proto`: "If the invoice is already canceled, this call will
//! succeed. If the invoice is already settled, it will fail."). LND returns its refusals as plain
//! Go errors, which gRPC sends as `Unknown` with the error's text.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use invoicesrpc::invoices_server::Invoices;
use lnaddr::lightning::lnd::proto::invoicesrpc;
use tonic::{Request, Response, Status};

use super::Shared;

/// The `invoicesrpc.Invoices` service of a simulator.
pub struct InvoicesSvc(pub Arc<Shared>);

#[tonic::async_trait]
impl Invoices for InvoicesSvc {
    async fn cancel_invoice(
        &self,
        request: Request<invoicesrpc::CancelInvoiceMsg>,
    ) -> Result<Response<invoicesrpc::CancelInvoiceResp>, Status> {
        super::require(&request, "invoices", "write")?;
        self.0.cancel_calls.fetch_add(1, Ordering::SeqCst);
        if self.0.cancels_unavailable.load(Ordering::SeqCst) {
            return Err(Status::unavailable(
                "the RPC server is in the process of starting up",
            ));
        }
        let raw = request.into_inner().payment_hash;
        // lntypes.MakeHash's refusal.
        let hash: [u8; 32] = raw.as_slice().try_into().map_err(|_| {
            Status::unknown(format!("invalid hash length of {}, want 32", raw.len()))
        })?;
        self.0
            .lock()
            .cancel(&hash)
            .map_err(|e| Status::unknown(e.to_string()))?;
        Ok(Response::new(invoicesrpc::CancelInvoiceResp {}))
    }
}
