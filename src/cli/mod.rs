//! The `lnaddr` command line: the clap definitions of every subcommand, one module per command
//! family, each with the code that turns its arguments into typed admin-client calls and prints
//! what needs more than the JSON answer (QR codes, written files). `main.rs` parses, loads the
//! config and dispatches here.

pub mod account;
pub mod doctor;
pub mod domain;
pub mod lndhub;
pub mod nwc;
pub mod serve;
pub mod store;
pub mod webhook;
pub mod withdraw;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "lnaddr",
    version,
    about = "A federated Lightning Address gateway"
)]
pub struct Cli {
    /// Config file (TOML); every key can also be set as LNADDR_<SECTION>__<KEY>.
    #[arg(long, global = true, env = "LNADDR_CONFIG")]
    pub config: Option<PathBuf>,
    /// Admin API of the gateway to talk to (default: http://<admin_listen> from the config).
    #[arg(long, global = true)]
    pub admin_url: Option<String>,
    /// File holding the admin token (default: the gateway's admin_token_file).
    #[arg(long, global = true)]
    pub token_file: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the gateway.
    Serve,
    /// Manage accounts.
    #[command(subcommand)]
    Account(account::AccountCmd),
    /// LNURL-withdraw vouchers (LUD-03).
    #[command(subcommand)]
    Withdraw(withdraw::WithdrawCmd),
    /// LndHub wallets (BlueWallet, Zeus) of accounts.
    #[command(subcommand)]
    Lndhub(lndhub::LndhubCmd),
    /// Nostr Wallet Connect (NIP-47) connections.
    #[command(subcommand)]
    Nwc(nwc::NwcCmd),
    /// Pay a BOLT 11 invoice from an account through the payment engine, e.g.
    /// `lnaddr pay alice@example.com lnbc...` (waits up to 30 s for the outcome).
    Pay {
        address: String,
        invoice: String,
        /// The amount for a zero-amount invoice, in msat.
        #[arg(long)]
        amount_msat: Option<u64>,
    },
    /// Fake Lightning node controls.
    #[command(subcommand)]
    Fake(FakeCmd),
    /// Signed webhooks (docs/webhooks.md).
    #[command(subcommand)]
    Webhook(webhook::WebhookCmd),
    /// Domains as tenants: add, change and remove domains while the gateway runs; domain tokens.
    #[command(subcommand)]
    Domain(domain::DomainCmd),
    /// Static `.well-known` files for a domain on static hosting.
    #[command(subcommand)]
    Wellknown(domain::WellknownCmd),
    /// Save a consistent snapshot of the running gateway's embedded store to FILE.
    Backup {
        #[arg(long)]
        out: PathBuf,
    },
    /// Put a backup in place of the embedded store (the gateway must be stopped); the store
    /// that was there is kept beside it.
    Restore { file: PathBuf },
    /// Check the config and the gateway it describes: store, node, macaroon, domains through
    /// the proxy, relays, clocks. One line per finding; exits 1 when one fails.
    Doctor {
        /// The network the node must be on (bitcoin, testnet, signet, regtest); default:
        /// bitcoin when a domain is served over https.
        #[arg(long)]
        network: Option<bitcoin::Network>,
        /// A macaroon with macaroon:read (LND's readonly.macaroon) to ask LND what lnaddr's
        /// macaroon grants.
        #[arg(long)]
        check_macaroon: Option<PathBuf>,
    },
    /// Create many accounts directly in the configured store (for benchmarks at scale).
    Seed {
        /// Domain of the accounts (must be a configured domain).
        #[arg(long)]
        domain: String,
        /// How many accounts: `{prefix}0@domain` ...
        #[arg(long)]
        count: u64,
        #[arg(long, default_value = "user")]
        prefix: String,
    },
}

#[derive(Subcommand)]
pub enum FakeCmd {
    /// Settle one of the fake node's invoices as if the network paid it.
    Pay { invoice: String },
}

/// Prints the string `key` of a gateway's answer as a terminal QR code and then as text, and
/// answers it; `what` names it in the error when the answer has none.
pub fn print_qr<'a>(answer: &'a serde_json::Value, key: &str, what: &str) -> Result<&'a str> {
    let text = answer[key]
        .as_str()
        .with_context(|| format!("the gateway answered no {what}"))?;
    let qr = lnaddr::withdraw::qr::terminal(text).context("rendering the QR code")?;
    println!("{qr}");
    println!("{text}");
    Ok(text)
}
