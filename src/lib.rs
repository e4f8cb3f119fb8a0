//! lnaddr: a federated Lightning Address gateway. Many users on many domains, one shared Lightning
//! node, custodial accounts credited exactly once per payment.
//!
//! Codemap (dependencies point down the list; adapters never import `http`):
//! - [`app`]: starts and stops a gateway: backends from settings, listeners, background tasks.
//! - [`http`]: hyper server, public and admin routers, the one place errors become HTTP answers;
//!   around the routers, rate limits, request and connection limits and the access log; the pay
//!   page, voucher styling and operator console in [`http::pages`].
//! - [`gateway`]: domain logic: host → domain, name → account, verify invoices, accounts; holds
//!   the services below (private fields, accessors), which never import it.
//! - [`invoices`]: the `Invoices` service: the LNURL-pay callback and answers, the invoices an
//!   account's wallet asks for (the `AccountInvoices` trait LndHub and NWC hold).
//! - [`services`]: what the services share: `ServiceError`, the account lookups.
//! - [`domains`]: domains as tenants: the served set (config file + store), reloaded while
//!   running; domain administration and domain tokens.
//! - [`ledger`]: money rules for incoming payments: follow settlements, credit each hash once.
//! - [`events`]: the in-process broadcast of ledger events (received, sent, failed).
//! - [`lndhub`]: the LndHub API (BlueWallet, Zeus), the `Hub` service: credentials, tokens, each
//!   account's wallet.
//! - [`webhooks`]: signed webhooks: URL guard (SSRF), `lnaddr-signature`, the deliverer task that
//!   drains the store's delivery outbox (events queued atomically with the ledger change).
//! - [`nwc`]: Nostr Wallet Connect (NIP-47): the connections service, budgets, the wallet service
//!   on relays.
//! - [`withdraw`]: LNURL-withdraw (LUD-03) vouchers, the `Withdrawals` service: links and the
//!   callback's atomic reservation.
//! - [`payments`]: the payment engine every way of spending uses (withdraw links, the admin
//!   `payments` call, LndHub, NWC), and its payer that finishes each payment once (resumed after
//!   a restart, swept under a lease).
//! - [`lnurl`]: pure LNURL protocol: LUD wire types, metadata and description hash, bech32 LNURL.
//! - [`nostr`]: NIP-57 zaps: zap request checks and receipt building (pure), zapper keys, the relay
//!   guard (SSRF), and the receipt publisher that drains the store's outbox to relays.
//! - [`store`]: the `Store` trait (with its zap receipt outbox, [`store::outbox`]) and records; [`store::embedded`] (redb), [`store::redis`] (Redis or
//!   Redis Cluster, key names only in [`store::keys`]).
//! - [`lightning`]: the `LightningNode` trait; [`lightning::fake`] (signs real BOLT 11 invoices;
//!   its test controls are a handle the admin router holds, not the gateway's);
//!   [`lightning::lnd`] (gRPC over TLS with a macaroon, our subset of LND's protos in `proto/`).
//! - [`config`]: TOML + `LNADDR_*` environment → validated [`config::Settings`].
//! - [`client`]: the CLI's admin-API client (`lnaddr account ...`).
//! - [`wellknown`]: `lnaddr wellknown export`, a domain's static `.well-known` files on disk.
//! - [`doctor`]: `lnaddr doctor`, a configuration and its running gateway checked end to end.
//! - [`seed`]: `lnaddr seed`, many accounts at once for benchmarks at scale.
//! - [`batch_writer`]: group commit for redb (embedded store, fake node); [`backoff`]: retry delays;
//!   [`leased`]: the loop of the leased outbox workers (zap receipts, webhook deliveries);
//!   [`ratelimit`]: the GCRA rule and bounded in-memory buckets (pure; shared buckets are the store's);
//!   [`refusal`]: why a request the caller got wrong is refused (its text is the wire reason).
//! - [`types`], [`secret`], [`metrics`], [`fsutil`], [`ip`]: newtypes, redacted secrets, Prometheus,
//!   files, how a client address is counted.

pub mod app;
pub mod backoff;
pub mod batch_writer;
pub mod client;
pub mod config;
pub mod doctor;
pub mod domains;
pub mod events;
pub mod fsutil;
pub mod gateway;
pub mod http;
pub mod invoices;
pub mod ip;
pub mod leased;
pub mod ledger;
pub mod lightning;
pub mod lndhub;
pub mod lnurl;
pub mod metrics;
pub mod nostr;
pub mod nwc;
pub mod payments;
pub mod ratelimit;
pub mod refusal;
pub mod secret;
pub mod seed;
pub mod services;
pub mod store;
pub mod types;
pub mod webhooks;
pub mod wellknown;
pub mod withdraw;
