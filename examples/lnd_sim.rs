//! `cargo run --example lnd-sim -- --dir lnd-sim --listen 127.0.0.1:10009`: the LND simulator as
//! a process, for demos and manual tests. It prints the settings that point lnaddr at it, then
//! reads commands on stdin (`help` lists them); without a terminal it simply runs until Ctrl-C.

#[path = "../tests/lnd_sim/mod.rs"]
mod lnd_sim;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use tokio::io::{AsyncBufReadExt, BufReader};

#[derive(Parser)]
#[command(about = "An LND simulator speaking LND's gRPC over TLS with a macaroon")]
struct Args {
    /// Where tls.cert, tls.key, admin.macaroon and node.key are kept.
    #[arg(long, default_value = "lnd-sim")]
    dir: PathBuf,
    /// The gRPC listener.
    #[arg(long, default_value = "127.0.0.1:10009")]
    listen: SocketAddr,
}

const HELP: &str = "commands:
  pay BOLT11|HASH     settle one of our invoices as if the network paid it
  fail N              the next N outgoing payments fail (no route)
  delay N SECS        the next N outgoing payments stay in flight SECS first
  fee MSAT            routing fee of successful payments
  drop                end every open SubscribeInvoices stream
  down / up           stop answering (connections refused) / answer again
  synced true|false   GetInfo's synced_to_chain
  quit";

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let sim = lnd_sim::LndSim::start_on(&args.dir, args.listen)
        .await
        .map_err(anyhow::Error::msg)
        .context("starting the LND simulator")?;
    let dir = std::fs::canonicalize(&args.dir).context("data directory")?;
    println!(
        "LND simulator {} listening on {}",
        sim.pubkey(),
        sim.endpoint()
    );
    println!("point lnaddr at it with:");
    println!("  LNADDR_LIGHTNING__KIND=lnd");
    println!("  LNADDR_LIGHTNING__LND__ENDPOINT={}", sim.endpoint());
    println!(
        "  LNADDR_LIGHTNING__LND__TLS_CERT={}",
        dir.join("tls.cert").display()
    );
    println!(
        "  LNADDR_LIGHTNING__LND__MACAROON={}",
        dir.join("admin.macaroon").display()
    );
    println!("{HELP}");
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        tokio::select! {
            line = lines.next_line() => match line {
                Ok(Some(line)) => {
                    if line.trim() == "quit" {
                        return Ok(());
                    }
                    println!("{}", command(&sim, &line));
                }
                // No terminal (stdin closed): keep serving until Ctrl-C.
                _ => {
                    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
                    return Ok(());
                }
            },
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

fn command(sim: &lnd_sim::LndSim, line: &str) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    let number = |i: usize| words.get(i).and_then(|w| w.parse::<u64>().ok());
    match words.as_slice() {
        ["pay", what] => match sim.settle(what) {
            Ok(invoice) => format!(
                "settled {} msat, settle_index {}",
                invoice.amt_paid_msat, invoice.settle_index
            ),
            Err(e) => format!("error: {e}"),
        },
        ["fail", _] => match number(1) {
            Some(n) => {
                sim.fail_next_payments(n);
                format!("the next {n} payments fail")
            }
            None => HELP.into(),
        },
        ["delay", _, _] => match (number(1), number(2)) {
            (Some(n), Some(secs)) => {
                sim.delay_next_payments(n, Duration::from_secs(secs));
                format!("the next {n} payments wait {secs} s")
            }
            _ => HELP.into(),
        },
        ["fee", _] => match number(1) {
            Some(fee) => {
                sim.set_payment_fee_msat(fee);
                format!("fee {fee} msat")
            }
            None => HELP.into(),
        },
        ["drop"] => {
            sim.drop_streams();
            "streams dropped".into()
        }
        ["down"] => {
            sim.go_down();
            "down".into()
        }
        ["up"] => {
            sim.come_up();
            "up".into()
        }
        ["synced", v] => match v.parse::<bool>() {
            Ok(v) => {
                sim.set_synced(v);
                format!("synced_to_chain = {v}")
            }
            Err(_) => HELP.into(),
        },
        [] => String::new(),
        _ => HELP.into(),
    }
}
