//! `lnaddr serve`: starts the gateway with tracing on stderr and stops it gracefully on SIGINT or
//! SIGTERM (a second signal, or `shutdown_timeout_secs` passing, exits at once).

use anyhow::{Context, Result};

use lnaddr::config::{LogFormat, Settings};

pub async fn serve(settings: Settings) -> Result<()> {
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
