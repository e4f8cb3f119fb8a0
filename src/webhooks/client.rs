//! One webhook POST: connects to an address the guard checked (never resolving the name again),
//! speaks TLS for `https://` with the Mozilla roots (`webpki-roots`) and the URL's host as SNI,
//! sends HTTP/1.1, and reads only the status. Every step is bounded by one deadline; redirects are
//! not followed (a 3xx is a failed try).

use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use hyper::header::{CONTENT_TYPE, HOST, USER_AGENT};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use url::Url;

/// Connecting to one address.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

static TLS: LazyLock<Option<Arc<rustls::ClientConfig>>> = LazyLock::new(|| {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .ok()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Some(Arc::new(config))
});

/// A request to send: the URL (for Host, path and SNI), extra headers, the body.
pub struct Post<'a> {
    pub url: &'a Url,
    pub headers: &'a [(&'static str, String)],
    pub body: Bytes,
}

/// Posts to `addrs` in turn until one connects; answers the status code, or what went wrong.
pub async fn post(post: &Post<'_>, addrs: &[SocketAddr], timeout: Duration) -> Result<u16, String> {
    match tokio::time::timeout(timeout, post_inner(post, addrs)).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {} s", timeout.as_secs())),
    }
}

async fn post_inner(post: &Post<'_>, addrs: &[SocketAddr]) -> Result<u16, String> {
    let mut last = String::from("no address to connect to");
    for addr in addrs {
        let stream = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                last = format!("cannot connect: {}", e.kind());
                continue;
            }
            Err(_) => {
                last = "connect timed out".into();
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        return if post.url.scheme() == "https" {
            let tls = TLS.as_ref().ok_or("TLS is not available")?;
            let host = post.url.host_str().ok_or("no host")?;
            let name = ServerName::try_from(host.trim_matches(['[', ']']).to_string())
                .map_err(|_| "bad TLS server name".to_string())?;
            let stream = tokio_rustls::TlsConnector::from(tls.clone())
                .connect(name, stream)
                .await
                .map_err(|e| format!("TLS: {e}"))?;
            send(post, stream).await
        } else {
            send(post, stream).await
        };
    }
    Err(last)
}

async fn send<S>(post: &Post<'_>, stream: S) -> Result<u16, String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP: {e}"))?;
    let driver = tokio::spawn(conn);
    let host = match (post.url.host_str(), post.url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        (None, _) => return Err("no host".into()),
    };
    let path = match post.url.query() {
        Some(q) => format!("{}?{q}", post.url.path()),
        None => post.url.path().to_string(),
    };
    let mut req = Request::post(path)
        .header(HOST, host)
        .header(CONTENT_TYPE, "application/json")
        .header(
            USER_AGENT,
            concat!("lnaddr-webhooks/", env!("CARGO_PKG_VERSION")),
        );
    for (name, value) in post.headers {
        req = req.header(*name, value.as_str());
    }
    let req = req
        .body(Full::new(post.body.clone()))
        .map_err(|e| format!("request: {e}"))?;
    let result = sender.send_request(req).await;
    driver.abort();
    let resp = result.map_err(|e| format!("HTTP: {e}"))?;
    Ok(resp.status().as_u16())
}
