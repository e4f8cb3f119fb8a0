//! The `lnaddr` binary: `lnaddr serve` runs the gateway; every other subcommand is a client of a
//! running gateway's admin API.

mod lndhub_cli;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use lnaddr::client::{AdminClient, NewNwcConnection, NewWithdrawLink};
use lnaddr::config::{LogFormat, Settings};

#[derive(Parser)]
#[command(
    name = "lnaddr",
    version,
    about = "A federated Lightning Address gateway"
)]
struct Cli {
    /// Config file (TOML); every key can also be set as LNADDR_<SECTION>__<KEY>.
    #[arg(long, global = true, env = "LNADDR_CONFIG")]
    config: Option<PathBuf>,
    /// Admin API of the gateway to talk to (default: http://<admin_listen> from the config).
    #[arg(long, global = true)]
    admin_url: Option<String>,
    /// File holding the admin token (default: the gateway's admin_token_file).
    #[arg(long, global = true)]
    token_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway.
    Serve,
    /// Manage accounts.
    #[command(subcommand)]
    Account(AccountCmd),
    /// LNURL-withdraw vouchers (LUD-03).
    #[command(subcommand)]
    Withdraw(WithdrawCmd),
    /// LndHub wallets (BlueWallet, Zeus) of accounts.
    #[command(subcommand)]
    Lndhub(lndhub_cli::LndhubCmd),
    /// Nostr Wallet Connect (NIP-47) connections.
    #[command(subcommand)]
    Nwc(NwcCmd),
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
    Webhook(WebhookCmd),
    /// Domains as tenants: add, change and remove domains while the gateway runs; domain tokens.
    #[command(subcommand)]
    Domain(DomainCmd),
    /// Static `.well-known` files for a domain on static hosting.
    #[command(subcommand)]
    Wellknown(WellknownCmd),
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
enum WithdrawCmd {
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

#[derive(Subcommand)]
enum NwcCmd {
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

#[derive(Subcommand)]
enum AccountCmd {
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

#[derive(Subcommand)]
enum WebhookCmd {
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

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportFormat {
    Csv,
    Json,
}

#[derive(Subcommand)]
enum DomainCmd {
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
struct DomainKeys {
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

#[derive(Subcommand)]
enum WellknownCmd {
    /// Write `.well-known/lnurlp/{name}` for every name of the domain (callbacks on the gateway)
    /// and `.well-known/nostr.json` under DIR, for a static web host.
    Export {
        #[arg(long)]
        domain: String,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum FakeCmd {
    /// Settle one of the fake node's invoices as if the network paid it.
    Pay { invoice: String },
}

/// jemalloc instead of glibc's malloc: the per-request work is many small allocations (hyper's
/// buffers, header maps, JSON), where glibc's malloc took ~8% of the lookup profile and its
/// per-thread arenas kept freed memory resident. Measured with bench/run's rows at 64 connections:
/// lookups +12%, callbacks +5%, RSS after lookups 16 MB and after callbacks 31 MB. mimalloc was as
/// fast but held 46 MB after the same callbacks.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<()> {
    if let Command::Doctor {
        network,
        check_macaroon,
    } = &cli.command
    {
        return doctor(&cli, *network, check_macaroon.clone()).await;
    }
    let settings =
        Settings::load(cli.config.as_deref(), std::env::vars()).context("loading configuration")?;
    match cli.command {
        Command::Serve => serve(settings).await,
        Command::Restore { file } => restore(&settings, &file),
        Command::Seed {
            domain,
            count,
            prefix,
        } => {
            let domain = lnaddr::types::DomainName::parse(&domain).context("--domain")?;
            let store = lnaddr::app::open_store_with(&settings.store, &settings.store_options)
                .await
                .context("opening the store")?;
            let started = std::time::Instant::now();
            let created = lnaddr::seed::seed(store, &domain, &prefix, count)
                .await
                .context("seeding")?;
            println!(
                "created {created} accounts in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        command => {
            let client = AdminClient::from_settings(
                &settings,
                cli.admin_url.as_deref(),
                cli.token_file.as_deref(),
            )?;
            admin_command(&client, command).await
        }
    }
}

/// Runs one admin subcommand through the typed client and prints its answer.
async fn admin_command(client: &AdminClient, command: Command) -> Result<()> {
    let out = match command {
        Command::Serve
        | Command::Seed { .. }
        | Command::Restore { .. }
        | Command::Doctor { .. } => {
            unreachable!("handled by run")
        }
        Command::Backup { out } => {
            let size = client.backup_to(&out).await?;
            println!(
                "saved a snapshot of the store to {} ({size} bytes)",
                out.display()
            );
            return Ok(());
        }
        Command::Lndhub(cmd) => match lndhub_cli::run(client, cmd).await? {
            Some(out) => out,
            None => return Ok(()),
        },
        Command::Account(AccountCmd::Add {
            address,
            nostr_pubkey,
        }) => {
            client
                .create_account(&address, nostr_pubkey.as_deref())
                .await?
        }
        Command::Account(AccountCmd::Show { address }) => client.account(&address).await?,
        Command::Account(AccountCmd::List { domain }) => client.accounts(domain.as_deref()).await?,
        Command::Account(AccountCmd::Remove { address }) => {
            client.remove_account(&address).await?;
            eprintln!("removed {address}");
            return Ok(());
        }
        Command::Account(AccountCmd::Transactions { address }) => {
            client.transactions(&address).await?
        }
        Command::Withdraw(WithdrawCmd::Create {
            address,
            max_sat,
            min_sat,
            uses,
            title,
            expires_in,
        }) => {
            let link = NewWithdrawLink {
                max_sat,
                min_sat,
                uses,
                title,
                expires_in_secs: expires_in,
            };
            let out = client.create_withdraw_link(&address, &link).await?;
            return print_voucher(&out);
        }
        Command::Withdraw(WithdrawCmd::Show { k1 }) => client.withdraw_link(&k1).await?,
        Command::Withdraw(WithdrawCmd::Disable { k1 }) => client.disable_withdraw_link(&k1).await?,
        Command::Account(AccountCmd::Export {
            address,
            format,
            from,
            to,
        }) => {
            let csv = matches!(format, ExportFormat::Csv);
            client.export_transactions(&address, csv, from, to).await?
        }
        Command::Webhook(WebhookCmd::Add {
            url,
            events,
            domain,
        }) => client.add_webhook(&url, &events, domain.as_deref()).await?,
        Command::Webhook(WebhookCmd::List) => client.webhooks().await?,
        Command::Webhook(WebhookCmd::Remove { id }) => {
            client.remove_webhook(&id).await?;
            eprintln!("removed {id}");
            return Ok(());
        }
        Command::Domain(cmd) => domain_command(client, cmd).await?,
        Command::Wellknown(WellknownCmd::Export { domain, out }) => {
            let files = client.wellknown_files(&domain).await?;
            let written = lnaddr::wellknown::write_files(&out, &files)?;
            eprintln!(
                "wrote {} files under {} (serve them with Content-Type: application/json and Access-Control-Allow-Origin: *)",
                written.len(),
                out.display()
            );
            return Ok(());
        }
        Command::Nwc(NwcCmd::Create {
            address,
            name,
            budget_sat,
            renewal,
            max_sat,
            methods,
            expires_in,
        }) => {
            let conn = NewNwcConnection {
                name,
                budget_sat,
                renewal,
                max_sat,
                methods,
                expires_in_secs: expires_in,
            };
            let out = client.create_nwc_connection(&address, &conn).await?;
            return print_connection(&out);
        }
        Command::Nwc(NwcCmd::List { address }) => client.nwc_connections(&address).await?,
        Command::Nwc(NwcCmd::Revoke { id }) => client.revoke_nwc_connection(&id).await?,
        Command::Pay {
            address,
            invoice,
            amount_msat,
        } => client.pay(&address, &invoice, amount_msat).await?,
        Command::Fake(FakeCmd::Pay { invoice }) => client.fake_pay(&invoice).await?,
    };
    let text = match &out {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Null => return Ok(()),
        other => format!("{}\n", serde_json::to_string_pretty(other)?),
    };
    write_out(&text)
}

/// Writes the command's answer to stdout. A reader that went away (`| head`, `| jq` that failed)
/// is not an error of ours: the answer is dropped quietly rather than with a panic.
fn write_out(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other.context("cannot write to stdout")?),
    }
}

/// `lnaddr doctor`: every finding on its own line; a config that does not load is the first.
async fn doctor(
    cli: &Cli,
    network: Option<bitcoin::Network>,
    check_macaroon: Option<PathBuf>,
) -> Result<()> {
    let settings = match Settings::load(cli.config.as_deref(), std::env::vars()) {
        Ok(s) => s,
        Err(e) => {
            println!("FAIL the configuration does not load: {e} -> fix it; every problem is named");
            std::process::exit(1);
        }
    };
    let source = cli.config.as_ref().map_or_else(
        || "defaults and LNADDR_*".to_string(),
        |p| p.display().to_string(),
    );
    println!("ok   the configuration loads ({source})");
    let admin_token = match &cli.token_file {
        Some(path) => Some(lnaddr::client::read_token(path)?),
        None => None,
    };
    let options = lnaddr::doctor::Options {
        network,
        check_macaroon,
        admin_token,
    };
    let report = lnaddr::doctor::run(&settings, &options).await;
    print!("{report}");
    if report.failed() {
        std::process::exit(1);
    }
    Ok(())
}

/// `lnaddr restore FILE`: offline, on the configured embedded store.
fn restore(settings: &Settings, file: &std::path::Path) -> Result<()> {
    let lnaddr::config::StoreSettings::Embedded { path } = &settings.store else {
        anyhow::bail!("restore is for the embedded store; Redis is restored from its own backups");
    };
    let kept = lnaddr::store::embedded::backup::restore(file, path)?;
    println!("restored {} to {}", file.display(), path.display());
    if let Some(kept) = kept {
        println!("the store that was there is kept as {}", kept.display());
    }
    println!(
        "on start the gateway replays the node's settlements after the backup's settle cursor: \
         invoices in the backup paid since are credited, once each; invoices issued after the \
         backup are not in it (docs/deploy.md, Backup and restore)"
    );
    Ok(())
}

async fn domain_command(client: &AdminClient, cmd: DomainCmd) -> Result<serde_json::Value> {
    Ok(match cmd {
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
            serde_json::Value::Null
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
            serde_json::Value::Null
        }
    })
}

/// Prints a new withdraw link: the QR code in the terminal, the LNURL and where the voucher is.
fn print_voucher(link: &serde_json::Value) -> Result<()> {
    let lnurl = link["lnurl"]
        .as_str()
        .context("the gateway answered no lnurl")?;
    let qr = lnaddr::withdraw::qr::terminal(lnurl).context("rendering the QR code")?;
    println!("{qr}");
    println!("{lnurl}");
    for (label, key) in [("voucher", "page"), ("lnurlw", "lnurlw"), ("k1", "k1")] {
        if let Some(v) = link[key].as_str() {
            println!("{label}: {v}");
        }
    }
    Ok(())
}

/// Prints a new NWC connection: the QR code to scan, the URI to paste (shown this once).
fn print_connection(conn: &serde_json::Value) -> Result<()> {
    let uri = conn["uri"]
        .as_str()
        .context("the gateway answered no uri")?;
    let qr = lnaddr::withdraw::qr::terminal(uri).context("rendering the QR code")?;
    println!("{qr}");
    println!("{uri}");
    if let Some(id) = conn["id"].as_str() {
        println!("id: {id}");
    }
    eprintln!(
        "the URI holds the client's secret and is shown only now: scan or paste it into the client"
    );
    Ok(())
}

async fn serve(settings: Settings) -> Result<()> {
    init_tracing(settings.log_format);
    let running = lnaddr::app::start(settings)
        .await
        .context("starting the gateway")?;
    println!(
        "lnaddr listening on http://{} (admin API on http://{})",
        running.public_addr, running.admin_addr
    );
    let shutdown = running.shutdown_handle();
    let timeout = running.gateway.settings().shutdown_timeout;
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!(timeout_secs = timeout.as_secs(), "shutting down");
        let _ = shutdown.send(true);
        tokio::select! {
            () = wait_for_signal() => {
                tracing::warn!("second signal: exiting now");
                std::process::exit(130);
            }
            () = tokio::time::sleep(timeout) => {
                tracing::warn!("graceful shutdown took longer than shutdown_timeout_secs: exiting now");
                std::process::exit(1);
            }
        }
    });
    running.wait().await;
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
