//! `lnaddr webhook add|list|remove`: signed webhooks (docs/webhooks.md) through the admin API.

use anyhow::Result;
use clap::Subcommand;

use lnaddr::client::AdminClient;

#[derive(Subcommand)]
pub enum WebhookCmd {
    /// Register a webhook, e.g. `lnaddr webhook add https://shop.example/hook --events
    /// payment.received`; prints its id and its signing secret (shown only this once).
    Add {
        url: String,
        /// Event types (comma-separated): payment.received, payment.sent, payment.failed
        /// (default: all).
        #[arg(long, value_delimiter = ',')]
        events: Vec<String>,
        /// Only events of this domain's accounts (default: every domain).
        #[arg(long)]
        domain: Option<String>,
    },
    /// List webhooks (without secrets).
    List,
    /// Remove a webhook.
    Remove { id: String },
}

/// Runs one command; `Ok(None)` when it printed its own output.
pub async fn run(client: &AdminClient, cmd: WebhookCmd) -> Result<Option<serde_json::Value>> {
    Ok(Some(match cmd {
        WebhookCmd::Add {
            url,
            events,
            domain,
        } => client.add_webhook(&url, &events, domain.as_deref()).await?,
        WebhookCmd::List => client.webhooks().await?,
        WebhookCmd::Remove { id } => {
            client.remove_webhook(&id).await?;
            eprintln!("removed {id}");
            return Ok(None);
        }
    }))
}
