//! The network questions of `lnaddr doctor`: one HTTP(S) GET the way a wallet makes it (TLS
//! verified against the web's roots, `webpki-roots`), and whether a relay's host answers a TCP
//! connection (and a TLS handshake for `wss://`). Every step has a deadline.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper::header::{DATE, HOST, USER_AGENT};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, pki_types::ServerName};

/// One HTTP answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
    /// The `Date` header, as sent.
    pub date: Option<String>,
}

fn tls() -> Result<TlsConnector, String> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsConnector::from(Arc::new(config)))
}

async fn connect(url: &url::Url, timeout: Duration) -> Result<TcpStream, String> {
    let host = url.host_str().ok_or("the URL has no host")?;
    let port = url.port_or_known_default().ok_or("the URL has no port")?;
    match tokio::time::timeout(timeout, TcpStream::connect((host, port))).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => Err(format!("cannot connect to {host}:{port}: {e}")),
        Err(_) => Err(format!("{host}:{port} did not answer within {timeout:?}")),
    }
}

async fn handshake(
    url: &url::Url,
    stream: TcpStream,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, String> {
    let host = url.host_str().ok_or("the URL has no host")?;
    let name = ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
    tls()?
        .connect(name, stream)
        .await
        .map_err(|e| format!("TLS with {host}: {e}"))
}

/// GETs `url`; `host` replaces the Host header (to ask the local listener as the proxy would).
pub async fn get(url: &str, host: Option<&str>, timeout: Duration) -> Result<Answer, String> {
    let url = url::Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
    let work = async {
        let stream = connect(&url, timeout).await?;
        match url.scheme() {
            "http" => send(&url, host, TokioIo::new(stream)).await,
            "https" => send(&url, host, TokioIo::new(handshake(&url, stream).await?)).await,
            other => Err(format!("unsupported scheme {other}")),
        }
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| format!("{url} did not answer within {timeout:?}"))?
}

async fn send<S>(url: &url::Url, host: Option<&str>, io: TokioIo<S>) -> Result<Answer, String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let authority = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => return Err("the URL has no host".into()),
    };
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let request = Request::get(path)
        .header(HOST, host.unwrap_or(&authority))
        .header(USER_AGENT, "lnaddr-doctor")
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let date = response
        .headers()
        .get(DATE)
        .and_then(|d| d.to_str().ok())
        .map(str::to_string);
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    Ok(Answer { status, body, date })
}

/// Whether a relay's host takes a connection (`ws://`) or a verified TLS handshake (`wss://`).
pub async fn relay_reachable(relay: &str, timeout: Duration) -> Result<(), String> {
    let url = url::Url::parse(relay).map_err(|e| format!("{relay}: {e}"))?;
    let work = async {
        let stream = connect(&url, timeout).await?;
        match url.scheme() {
            "ws" => Ok(()),
            "wss" => handshake(&url, stream).await.map(drop),
            other => Err(format!("not a relay URL (scheme {other})")),
        }
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| format!("{relay} did not answer within {timeout:?}"))?
}
