//! The `lnaddr` binary: `lnaddr serve` runs the gateway; every other subcommand is a client of a
//! running gateway's admin API, except `doctor`, `restore` and `seed`, which work from the config.
//! The subcommands' definitions and their printing live in [`cli`]; this file parses, loads the
//! configuration and dispatches.

mod cli;

use anyhow::{Context, Result};
use clap::Parser;

use cli::{Cli, Command, FakeCmd};
use lnaddr::client::AdminClient;
use lnaddr::config::Settings;

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
        return cli::doctor::doctor(&cli, *network, check_macaroon.clone()).await;
    }
    let settings =
        Settings::load(cli.config.as_deref(), std::env::vars()).context("loading configuration")?;
    match cli.command {
        Command::Serve => cli::serve::serve(settings).await,
        Command::Restore { file } => cli::store::restore(&settings, &file),
        Command::Seed {
            domain,
            count,
            prefix,
        } => cli::store::seed(&settings, &domain, count, &prefix).await,
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
        Command::Backup { out } => return cli::store::backup(client, &out).await,
        Command::Wellknown(cmd) => return cli::domain::wellknown(client, cmd).await,
        Command::Account(cmd) => cli::account::run(client, cmd).await?,
        Command::Withdraw(cmd) => cli::withdraw::run(client, cmd).await?,
        Command::Lndhub(cmd) => cli::lndhub::run(client, cmd).await?,
        Command::Nwc(cmd) => cli::nwc::run(client, cmd).await?,
        Command::Webhook(cmd) => cli::webhook::run(client, cmd).await?,
        Command::Domain(cmd) => cli::domain::run(client, cmd).await?,
        Command::Pay {
            address,
            invoice,
            amount_msat,
        } => Some(client.pay(&address, &invoice, amount_msat).await?),
        Command::Fake(FakeCmd::Pay { invoice }) => Some(client.fake_pay(&invoice).await?),
    };
    let text = match &out {
        Some(serde_json::Value::String(text)) => text.clone(),
        None | Some(serde_json::Value::Null) => return Ok(()),
        Some(other) => format!("{}\n", serde_json::to_string_pretty(other)?),
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
