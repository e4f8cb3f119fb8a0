//! `lnaddr doctor`: loads the configuration itself (a configuration that does not load is the
//! first finding, not an error) and prints [`lnaddr::doctor`]'s report; exits 1 when a finding
//! failed.

use std::path::PathBuf;

use anyhow::Result;

use lnaddr::config::Settings;

use super::Cli;

/// Every finding on its own line; a config that does not load is the first.
pub async fn doctor(
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
