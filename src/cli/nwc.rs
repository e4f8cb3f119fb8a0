//! `lnaddr nwc create|list|revoke`: Nostr Wallet Connect (NIP-47) connections through the admin
//! API; `create` prints the connection URI as a terminal QR code (shown this once).

use anyhow::Result;
use clap::Subcommand;

use lnaddr::client::{AdminClient, NewNwcConnection};

#[derive(Subcommand)]
pub enum NwcCmd {
    /// Connect a Nostr client (Damus, Amethyst, Alby Go...) to an account: prints the connection
    /// URI and its QR code, e.g. `lnaddr nwc create alice@example.com --budget-sat 10000 --renewal daily`.
    Create {
        address: String,
        /// A name to recognise the connection by.
        #[arg(long)]
        name: Option<String>,
        /// Most the connection may spend per period, in sat.
        #[arg(long)]
        budget_sat: Option<u64>,
        /// When the budget starts again: daily, weekly, monthly, yearly or never.
        #[arg(long)]
        renewal: Option<String>,
        /// Largest single payment, in sat.
        #[arg(long)]
        max_sat: Option<u64>,
        /// Allowed methods, comma-separated (default: all).
        #[arg(long, value_delimiter = ',')]
        methods: Option<Vec<String>>,
        /// The connection stops working this many seconds from now.
        #[arg(long)]
        expires_in: Option<u64>,
    },
    /// List an account's connections with their budget used.
    List { address: String },
    /// Revoke a connection for good.
    Revoke { id: String },
}

/// Runs one command; `Ok(None)` when it printed its own output.
pub async fn run(client: &AdminClient, cmd: NwcCmd) -> Result<Option<serde_json::Value>> {
    Ok(Some(match cmd {
        NwcCmd::Create {
            address,
            name,
            budget_sat,
            renewal,
            max_sat,
            methods,
            expires_in,
        } => {
            let conn = NewNwcConnection {
                name,
                budget_sat,
                renewal,
                max_sat,
                methods,
                expires_in_secs: expires_in,
            };
            let out = client.create_nwc_connection(&address, &conn).await?;
            print_connection(&out)?;
            return Ok(None);
        }
        NwcCmd::List { address } => client.nwc_connections(&address).await?,
        NwcCmd::Revoke { id } => client.revoke_nwc_connection(&id).await?,
    }))
}

/// Prints a new NWC connection: the QR code to scan, the URI to paste (shown this once).
fn print_connection(conn: &serde_json::Value) -> Result<()> {
    super::print_qr(conn, "uri", "uri")?;
    if let Some(id) = conn["id"].as_str() {
        println!("id: {id}");
    }
    eprintln!(
        "the URI holds the client's secret and is shown only now: scan or paste it into the client"
    );
    Ok(())
}
