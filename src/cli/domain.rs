//! `lnaddr domain add|set|list|show|remove|token|tokens|revoke-token`: domains as tenants through
//! the admin API (the optional domain keys become the request's JSON fields here); and
//! `lnaddr wellknown export`, a domain's static `.well-known` files written for a static host.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;

use lnaddr::client::{AdminClient, DomainFields};

#[derive(Subcommand)]
pub enum DomainCmd {
    /// Add a domain, e.g. `lnaddr domain add example.org --public-url https://pay.gateway.net`.
    Add {
        name: String,
        /// The gateway's public URL, where wallets send callbacks.
        #[arg(long)]
        public_url: String,
        #[command(flatten)]
        keys: DomainKeys,
    },
    /// Change a domain added at run time (only the keys given change).
    Set {
        name: String,
        #[arg(long)]
        public_url: Option<String>,
        #[command(flatten)]
        keys: DomainKeys,
    },
    /// List the served domains.
    List,
    /// Show one domain.
    Show { name: String },
    /// Remove a domain added at run time (refused while it has accounts).
    Remove { name: String },
    /// Make a token that manages this domain only; it is printed once.
    Token {
        name: String,
        #[arg(long)]
        label: Option<String>,
    },
    /// List a domain's tokens (ids and labels).
    Tokens { name: String },
    /// Revoke a domain token by id.
    RevokeToken { id: String },
}

/// The optional keys of a domain.
#[derive(clap::Args)]
pub struct DomainKeys {
    /// LUD-06 description shown by wallets (`text/plain`).
    #[arg(long)]
    description: Option<String>,
    /// A PNG or JPEG file: the LUD-06 image shown by wallets.
    #[arg(long)]
    image: Option<PathBuf>,
    /// Who may open accounts through LndHub `/create`: closed, invite or open.
    #[arg(long)]
    registration: Option<String>,
    #[arg(long)]
    min_sendable_msat: Option<u64>,
    #[arg(long)]
    max_sendable_msat: Option<u64>,
    /// LUD-12 comment length (0 disables comments).
    #[arg(long)]
    comment_allowed: Option<u32>,
    /// A nostr relay for NIP-05 and zap receipts (repeat for more).
    #[arg(long = "relay")]
    relays: Vec<String>,
    /// A file holding the domain's zapper key (nsec1 or hex); generated when absent.
    #[arg(long)]
    nostr_secret_key_file: Option<PathBuf>,
}

impl DomainKeys {
    /// The keys given, read from their files, as the admin client takes them.
    fn into_fields(self, public_url: Option<String>) -> Result<DomainFields> {
        let image = match self.image {
            Some(path) => Some(
                std::fs::read(&path)
                    .with_context(|| format!("reading the image {}", path.display()))?,
            ),
            None => None,
        };
        let nostr_secret_key = match self.nostr_secret_key_file {
            Some(path) => Some(lnaddr::client::read_token(&path)?),
            None => None,
        };
        Ok(DomainFields {
            public_url,
            description: self.description,
            image,
            registration: self.registration,
            min_sendable_msat: self.min_sendable_msat,
            max_sendable_msat: self.max_sendable_msat,
            comment_allowed: self.comment_allowed,
            relays: self.relays,
            nostr_secret_key,
        })
    }
}

/// Runs one command; `Ok(None)` when it printed its own output.
pub async fn run(client: &AdminClient, cmd: DomainCmd) -> Result<Option<serde_json::Value>> {
    Ok(Some(match cmd {
        DomainCmd::Add {
            name,
            public_url,
            keys,
        } => {
            let fields = keys.into_fields(Some(public_url))?;
            client.add_domain(&name, &fields).await?
        }
        DomainCmd::Set {
            name,
            public_url,
            keys,
        } => {
            let fields = keys.into_fields(public_url)?;
            client.change_domain(&name, &fields).await?
        }
        DomainCmd::List => client.domains().await?,
        DomainCmd::Show { name } => client.domain(&name).await?,
        DomainCmd::Remove { name } => {
            client.remove_domain(&name).await?;
            eprintln!("removed {name}");
            return Ok(None);
        }
        DomainCmd::Token { name, label } => {
            let made = client.create_domain_token(&name, label.as_deref()).await?;
            eprintln!("the token is shown this once: keep it now");
            made
        }
        DomainCmd::Tokens { name } => client.domain_tokens(&name).await?,
        DomainCmd::RevokeToken { id } => {
            client.revoke_token(&id).await?;
            eprintln!("revoked {id}");
            return Ok(None);
        }
    }))
}

#[derive(Subcommand)]
pub enum WellknownCmd {
    /// Write `.well-known/lnurlp/{name}` for every name of the domain (callbacks on the gateway)
    /// and `.well-known/nostr.json` under DIR, for a static web host.
    Export {
        #[arg(long)]
        domain: String,
        #[arg(long)]
        out: PathBuf,
    },
}

/// `lnaddr wellknown export`: fetches the domain's files from the gateway and writes them.
pub async fn wellknown(client: &AdminClient, cmd: WellknownCmd) -> Result<()> {
    let WellknownCmd::Export { domain, out } = cmd;
    let files = client.wellknown_files(&domain).await?;
    let written = lnaddr::wellknown::write_files(&out, &files)?;
    eprintln!(
        "wrote {} files under {} (serve them with Content-Type: application/json and Access-Control-Allow-Origin: *)",
        written.len(),
        out.display()
    );
    Ok(())
}
