//! Nostr Wallet Connect (NIP-47): every connection made with the admin API is a wallet service
//! for its account on the relays of `[nwc] relays`.
//! - [`nip47`]: the wire format, pure (kinds, request and response JSON, error codes, the URI).
//! - [`envelope`]: request events opened and answers sealed (NIP-44 v2 or NIP-04), pure.
//! - [`budget`]: budget periods (daily, weekly, monthly, yearly, never), pure.
//! - [`connections`]: making, listing and revoking connections (admin API, CLI).
//! - [`methods`]: the methods, one connection at a time; [`transactions`]: the ledger as
//!   NIP-47 transactions.
//! - [`spend`]: the boundary to the payment engine; invoices are issued through
//!   [`crate::invoices::AccountInvoices`].
//! - [`service`]: the task that listens on the relays, answers, and notifies; `requests`: one
//!   request run once (claimed, renewed, swept and resumed after a restart); [`signal`]: what
//!   ties the service to the connections made in its process.

pub mod budget;
pub mod connections;
pub mod envelope;
pub mod methods;
pub mod nip47;
mod requests;
pub mod service;
pub mod signal;
pub mod spend;
pub mod transactions;

pub use connections::{ConnectionView, NewConnection, NwcConnections};
pub use service::NwcService;
pub use signal::NwcSignal;
