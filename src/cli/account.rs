//! `lnaddr account add|show|list|remove|transactions|export`: accounts and their ledgers through
//! the admin API.

use anyhow::Result;
use clap::Subcommand;

use lnaddr::client::AdminClient;

#[derive(Subcommand)]
pub enum AccountCmd {
    /// Create an account, e.g. `lnaddr account add alice@example.com`.
    Add {
        address: String,
        /// The account's nostr public key (hex or npub), for NIP-05 and zaps.
        #[arg(long)]
        nostr_pubkey: Option<String>,
    },
    /// Show one account.
    Show { address: String },
    /// List accounts.
    List {
        #[arg(long)]
        domain: Option<String>,
    },
    /// Remove an account (refused while its balance is not zero).
    Remove { address: String },
    /// Show an account's ledger, newest first.
    Transactions { address: String },
    /// Export an account's ledger for bookkeeping, oldest first, e.g.
    /// `lnaddr account export alice@example.com --format csv > alice.csv`.
    Export {
        address: String,
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// Only entries at or after this Unix time.
        #[arg(long)]
        from: Option<u64>,
        /// Only entries before this Unix time.
        #[arg(long)]
        to: Option<u64>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
}

/// Runs one command; `Ok(None)` when it printed its own output.
pub async fn run(client: &AdminClient, cmd: AccountCmd) -> Result<Option<serde_json::Value>> {
    Ok(Some(match cmd {
        AccountCmd::Add {
            address,
            nostr_pubkey,
        } => {
            client
                .create_account(&address, nostr_pubkey.as_deref())
                .await?
        }
        AccountCmd::Show { address } => client.account(&address).await?,
        AccountCmd::List { domain } => client.accounts(domain.as_deref()).await?,
        AccountCmd::Remove { address } => {
            client.remove_account(&address).await?;
            eprintln!("removed {address}");
            return Ok(None);
        }
        AccountCmd::Transactions { address } => client.transactions(&address).await?,
        AccountCmd::Export {
            address,
            format,
            from,
            to,
        } => {
            let csv = matches!(format, ExportFormat::Csv);
            client.export_transactions(&address, csv, from, to).await?
        }
    }))
}
