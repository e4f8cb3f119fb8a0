//! Two small web servers a domain owner might run in front of their names, on real loopback
//! sockets: a plain static file server (serves files under a directory, nothing else), and a
//! reverse proxy that hands `/.well-known/lnurlp/` and `/.well-known/nostr.json` to a gateway's
//! `/d/{domain}/...` routes, like the nginx and Caddy snippets in `.well-known/`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A running server; stops when dropped.
pub struct WebServer {
    pub url: String,
    task: JoinHandle<()>,
}

impl Drop for WebServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Handler = Arc<
    dyn Fn(
            Request<Incoming>,
        ) -> std::pin::Pin<Box<dyn Future<Output = Response<Full<Bytes>>> + Send>>
        + Send
        + Sync,
>;

async fn serve(handler: Handler) -> WebServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req| {
                    let handler = handler.clone();
                    async move { Ok::<_, Infallible>(handler(req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    WebServer {
        url: format!("http://{addr}"),
        task,
    }
}

fn answer(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(body.into()));
    *resp.status_mut() = status;
    resp
}

/// Serves the files under `root` as they are (GET only); what a static web host does.
pub async fn static_files(root: PathBuf) -> WebServer {
    let root = Arc::new(root);
    serve(Arc::new(move |req: Request<Incoming>| {
        let root = root.clone();
        Box::pin(async move {
            let path = req.uri().path().trim_start_matches('/').to_string();
            if path.split('/').any(|s| s.is_empty() || s == "..") {
                return answer(StatusCode::NOT_FOUND, "not found");
            }
            match tokio::fs::read(root.join(&path)).await {
                Ok(bytes) => {
                    let mut resp = answer(StatusCode::OK, bytes);
                    let h = resp.headers_mut();
                    h.insert("content-type", "application/json".parse().expect("value"));
                    h.insert("access-control-allow-origin", "*".parse().expect("value"));
                    resp
                }
                Err(_) => answer(StatusCode::NOT_FOUND, "not found"),
            }
        })
    }))
    .await
}

/// The owner's reverse proxy for `domain`: the two `.well-known` paths go to
/// `{gateway}/d/{domain}/...` with the query kept; anything else is the owner's own site (404).
pub async fn well_known_proxy(gateway: String, domain: String) -> WebServer {
    let http = reqwest::Client::new();
    serve(Arc::new(move |req: Request<Incoming>| {
        let (gateway, domain, http) = (gateway.clone(), domain.clone(), http.clone());
        Box::pin(async move {
            let path = req.uri().path();
            let delegated =
                path.starts_with("/.well-known/lnurlp/") || path == "/.well-known/nostr.json";
            if !delegated {
                return answer(StatusCode::NOT_FOUND, "the owner's own site");
            }
            let query = req
                .uri()
                .query()
                .map(|q| format!("?{q}"))
                .unwrap_or_default();
            let upstream = format!("{gateway}/d/{domain}{path}{query}");
            match http.get(upstream).send().await {
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let body = resp.bytes().await.unwrap_or_default();
                    let mut out = answer(StatusCode::from_u16(status).expect("status"), body);
                    out.headers_mut()
                        .insert("content-type", "application/json".parse().expect("value"));
                    out
                }
                Err(_) => answer(StatusCode::BAD_GATEWAY, "gateway unreachable"),
            }
        })
    }))
    .await
}
