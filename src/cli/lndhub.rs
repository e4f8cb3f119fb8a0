//! `lnaddr lndhub create|list|revoke|invite`: LndHub credentials through the admin API. `create`
//! prints the `lndhub://LOGIN:PASSWORD@URL` string as a terminal QR code (the one BlueWallet's
//! "import wallet" scanner and Zeus read) and as text.

use anyhow::Result;
use clap::Subcommand;

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

/// Runs one command; `Ok(None)` when it printed its own output.
pub async fn run(client: &AdminClient, cmd: LndhubCmd) -> Result<Option<serde_json::Value>> {
    match cmd {
        LndhubCmd::Create { address } => {
            let out = client.create_lndhub_credential(&address).await?;
            super::print_qr(&out, "url", "lndhub url")?;
            println!(
                "BlueWallet: Add Wallet > Import wallet, scan the code (or paste the line above).\n\
                 Zeus: Settings > Connect a node > LndHub, scan the code.\n\
                 The password is shown only now; `lnaddr lndhub revoke {}` logs this wallet out.",
                out["login"].as_str().unwrap_or_default()
            );
            Ok(None)
        }
        LndhubCmd::List { address } => Ok(Some(client.lndhub_credentials(&address).await?)),
        LndhubCmd::Revoke { login } => Ok(Some(client.revoke_lndhub_credential(&login).await?)),
        LndhubCmd::Invite { domain, expires_in } => {
            Ok(Some(client.lndhub_invite(&domain, expires_in).await?))
        }
    }
}
