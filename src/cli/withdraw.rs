//! `lnaddr withdraw create|show|disable`: LNURL-withdraw (LUD-03) vouchers through the admin API;
//! `create` prints the voucher's QR code in the terminal.

use anyhow::Result;
use clap::Subcommand;

use lnaddr::client::{AdminClient, NewWithdrawLink};

#[derive(Subcommand)]
pub enum WithdrawCmd {
    /// Create a withdraw link and print its LNURL and QR code, e.g.
    /// `lnaddr withdraw create alice@example.com --max-sat 1000 --uses 1`.
    Create {
        address: String,
        /// Most one withdrawal may take, in sat.
        #[arg(long)]
        max_sat: u64,
        /// Least one withdrawal may take, in sat (default: 1, or max-sat when smaller).
        #[arg(long)]
        min_sat: Option<u64>,
        /// How many withdrawals the link pays (1: single use).
        #[arg(long, default_value_t = 1)]
        uses: u32,
        /// Shown on the voucher and to the wallet.
        #[arg(long)]
        title: Option<String>,
        /// The link stops paying this many seconds from now.
        #[arg(long)]
        expires_in: Option<u64>,
    },
    /// Show a withdraw link.
    Show { k1: String },
    /// Disable a withdraw link for good.
    Disable { k1: String },
}

/// Runs one command; `Ok(None)` when it printed its own output.
pub async fn run(client: &AdminClient, cmd: WithdrawCmd) -> Result<Option<serde_json::Value>> {
    Ok(Some(match cmd {
        WithdrawCmd::Create {
            address,
            max_sat,
            min_sat,
            uses,
            title,
            expires_in,
        } => {
            let link = NewWithdrawLink {
                max_sat,
                min_sat,
                uses,
                title,
                expires_in_secs: expires_in,
            };
            let out = client.create_withdraw_link(&address, &link).await?;
            print_voucher(&out)?;
            return Ok(None);
        }
        WithdrawCmd::Show { k1 } => client.withdraw_link(&k1).await?,
        WithdrawCmd::Disable { k1 } => client.disable_withdraw_link(&k1).await?,
    }))
}

/// Prints a new withdraw link: the QR code in the terminal, the LNURL and where the voucher is.
fn print_voucher(link: &serde_json::Value) -> Result<()> {
    super::print_qr(link, "lnurl", "lnurl")?;
    for (label, key) in [("voucher", "page"), ("lnurlw", "lnurlw"), ("k1", "k1")] {
        if let Some(v) = link[key].as_str() {
            println!("{label}: {v}");
        }
    }
    Ok(())
}
