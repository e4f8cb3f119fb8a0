//! The store from the command line: `lnaddr backup` (a snapshot through the running gateway's
//! admin API), `lnaddr restore` (offline, on the configured embedded store) and `lnaddr seed`
//! (many accounts written directly into the configured store).

use std::path::Path;

use anyhow::{Context, Result};

use lnaddr::client::AdminClient;
use lnaddr::config::Settings;

/// `lnaddr backup --out FILE`.
pub async fn backup(client: &AdminClient, out: &Path) -> Result<()> {
    let size = client.backup_to(out).await?;
    println!(
        "saved a snapshot of the store to {} ({size} bytes)",
        out.display()
    );
    Ok(())
}

/// `lnaddr restore FILE`: offline, on the configured embedded store.
pub fn restore(settings: &Settings, file: &Path) -> Result<()> {
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

/// `lnaddr seed --domain D --count N [--prefix P]`.
pub async fn seed(settings: &Settings, domain: &str, count: u64, prefix: &str) -> Result<()> {
    let domain = lnaddr::types::DomainName::parse(domain).context("--domain")?;
    let store = lnaddr::app::open_store_with(&settings.store, &settings.store_options)
        .await
        .context("opening the store")?;
    let started = std::time::Instant::now();
    let created = lnaddr::seed::seed(store, &domain, prefix, count)
        .await
        .context("seeding")?;
    println!(
        "created {created} accounts in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
