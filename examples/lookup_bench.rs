//! Lookup throughput: `GET /.well-known/lnurlp/{user}` over many concurrent keep-alive HTTP/1.1
//! connections for a fixed time, against a running gateway.
//!
//! `cargo run --release --example lookup_bench -- http://127.0.0.1:8080 alice [connections] [secs]`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper_util::rt::TokioIo;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(base), Some(user)) = (args.get(1), args.get(2)) else {
        bail!("usage: lookup_bench BASE_URL USER [CONNECTIONS] [SECONDS]");
    };
    let conns: usize = args.get(3).map_or(Ok(64), |s| s.parse())?;
    let secs: u64 = args.get(4).map_or(Ok(5), |s| s.parse())?;
    let url = url::Url::parse(base).context("base url")?;
    let host = url.host_str().context("host")?.to_string();
    let port = url.port_or_known_default().context("port")?;
    let path = format!("/.well-known/lnurlp/{user}");

    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..conns {
        let (host, path, ok, failed) = (host.clone(), path.clone(), ok.clone(), failed.clone());
        workers.spawn(async move {
            let stream = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
            stream.set_nodelay(true)?;
            let (mut send, conn) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(conn);
            while Instant::now() < deadline {
                let req = Request::get(path.as_str())
                    .header("host", host.as_str())
                    .body(Empty::<bytes::Bytes>::new())?;
                send.ready().await?;
                let resp = send.send_request(req).await?;
                let status = resp.status();
                resp.into_body().collect().await?;
                if status.is_success() {
                    ok.fetch_add(1, Ordering::Relaxed);
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
            anyhow::Ok(())
        });
    }
    let started = Instant::now();
    while let Some(done) = workers.join_next().await {
        done??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let ok = ok.load(Ordering::Relaxed);
    println!(
        "{ok} ok, {} failed in {elapsed:.2} s over {conns} connections: {:.0} req/s",
        failed.load(Ordering::Relaxed),
        ok as f64 / elapsed
    );
    Ok(())
}
