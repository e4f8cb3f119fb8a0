//! `lnaddr lndhub create|list|revoke|invite`: LndHub credentials through the admin API. `create`
//! prints the `lndhub://LOGIN:PASSWORD@URL` string as a terminal QR code (the one BlueWallet's
//! "import wallet" scanner and Zeus read) and as text.

use anyhow::{Context, Result};
use clap::Subcommand;
use hyper::Method;
use serde_json::json;

use lnaddr::client::AdminClient;

#[derive(Subcommand)]
pub enum LndhubCmd {
    /// Make a credential for an account and print its lndhub:// string and QR code, e.g.
    /// `lnaddr lndhub create alice@example.com`.
    Create { address: String },
    /// List an account's credentials (logins only; passwords are never kept).
    List { address: String },
    /// Revoke a credential: its wallets are logged out at once.
    Revoke { login: String },
    /// Make a one-use invite code for a domain whose registration is "invite".
    Invite {
        domain: String,
        /// The code stops working this many seconds from now (default 7 days).
        #[arg(long)]
        expires_in: Option<u64>,
    },
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Runs one command; `Ok(None)` when it printed its own output.
pub async fn run(client: &AdminClient, cmd: LndhubCmd) -> Result<Option<serde_json::Value>> {
    match cmd {
        LndhubCmd::Create { address } => {
            let out = client
                .call(
                    Method::POST,
                    &format!("/api/v1/accounts/{}/lndhub", enc(&address)),
                    None,
                )
                .await?;
            let url = out["url"]
                .as_str()
                .context("the gateway answered no lndhub url")?;
            let qr = lnaddr::withdraw::qr::terminal(url).context("rendering the QR code")?;
            println!("{qr}");
            println!("{url}");
            println!(
                "BlueWallet: Add Wallet > Import wallet, scan the code (or paste the line above).\n\
                 Zeus: Settings > Connect a node > LndHub, scan the code.\n\
                 The password is shown only now; `lnaddr lndhub revoke {}` logs this wallet out.",
                out["login"].as_str().unwrap_or_default()
            );
            Ok(None)
        }
        LndhubCmd::List { address } => Ok(Some(
            client
                .call(
                    Method::GET,
                    &format!("/api/v1/accounts/{}/lndhub", enc(&address)),
                    None,
                )
                .await?,
        )),
        LndhubCmd::Revoke { login } => Ok(Some(
            client
                .call(
                    Method::DELETE,
                    &format!("/api/v1/lndhub/{}", enc(&login)),
                    None,
                )
                .await?,
        )),
        LndhubCmd::Invite { domain, expires_in } => Ok(Some(
            client
                .call(
                    Method::POST,
                    "/api/v1/lndhub/invites",
                    Some(json!({"domain": domain, "expires_in_secs": expires_in})),
                )
                .await?,
        )),
    }
}
