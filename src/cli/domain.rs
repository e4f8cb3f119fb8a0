//! `lnaddr domain add|set|list|show|remove|token|tokens|revoke-token`: domains as tenants through
//! the admin API (the optional domain keys become the request's JSON fields here); and
//! `lnaddr wellknown export`, a domain's static `.well-known` files written for a static host.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;

use lnaddr::client::AdminClient;

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
    /// The given keys as JSON fields.
    fn into_json(self, out: &mut serde_json::Map<String, serde_json::Value>) -> Result<()> {
        use base64::Engine;
        if let Some(d) = self.description {
            out.insert("description".into(), d.into());
        }
        if let Some(path) = self.image {
            let bytes = std::fs::read(&path)
                .with_context(|| format!("reading the image {}", path.display()))?;
            let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
            out.insert("image".into(), b64.into());
        }
        if let Some(r) = self.registration {
            out.insert("registration".into(), r.into());
        }
        for (key, v) in [
            ("min_sendable_msat", self.min_sendable_msat),
            ("max_sendable_msat", self.max_sendable_msat),
            ("comment_allowed", self.comment_allowed.map(u64::from)),
        ] {
            if let Some(v) = v {
                out.insert(key.into(), v.into());
            }
        }
        if !self.relays.is_empty() {
            out.insert("relays".into(), self.relays.into());
        }
        if let Some(path) = self.nostr_secret_key_file {
            let key = lnaddr::client::read_token(&path)?;
            out.insert("nostr_secret_key".into(), key.expose().into());
        }
        Ok(())
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
            let mut body = serde_json::Map::new();
            body.insert("name".into(), name.into());
            body.insert("public_url".into(), public_url.into());
            keys.into_json(&mut body)?;
            client.add_domain(body.into()).await?
        }
        DomainCmd::Set {
            name,
            public_url,
            keys,
        } => {
            let mut body = serde_json::Map::new();
            if let Some(url) = public_url {
                body.insert("public_url".into(), url.into());
            }
            keys.into_json(&mut body)?;
            client.change_domain(&name, body.into()).await?
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
