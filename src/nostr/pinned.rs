//! The websocket transport the receipt publisher gives nostr-sdk (its `WebSocketTransport` hook):
//! it resolves the relay's host once, checks every address with the relay guard
//! ([`super::relay_guard::checked_addrs`]), and opens the TCP connection to one of those checked
//! addresses itself. The websocket handshake and TLS still use the URL's host name (SNI,
//! certificate check, `Host` header). nostr-sdk's own transport resolves the name again when it
//! connects, so a name answering a public address to the guard and 127.0.0.1 or
//! 169.254.169.254 to the connection (DNS rebinding) would have passed.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_wsocket::{ConnectionMode, Message, WebSocket};
use futures_util::stream::SplitSink;
use futures_util::{Sink, SinkExt, StreamExt, TryStreamExt};
use nostr_sdk::pool::transport::error::TransportError;
use nostr_sdk::pool::transport::websocket::{WebSocketSink, WebSocketStream, WebSocketTransport};
use nostr_sdk::util::BoxedFuture;
use tokio::net::TcpStream;

use super::relay_guard::{Resolve, checked_addrs};

/// Resolve once, check, connect to what was checked.
#[derive(Clone)]
pub struct PinnedTransport {
    resolver: Arc<dyn Resolve>,
    allow_private: bool,
}

impl std::fmt::Debug for PinnedTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinnedTransport")
            .field("allow_private", &self.allow_private)
            .finish()
    }
}

impl PinnedTransport {
    pub fn new(resolver: Arc<dyn Resolve>, allow_private: bool) -> Self {
        PinnedTransport {
            resolver,
            allow_private,
        }
    }
}

/// Tries the checked addresses in turn; the first that accepts is used.
async fn connect_any(addrs: &[SocketAddr]) -> std::io::Result<TcpStream> {
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no address to connect to")))
}

impl WebSocketTransport for PinnedTransport {
    fn support_ping(&self) -> bool {
        true
    }

    fn connect<'a>(
        &'a self,
        url: &'a nostr_sdk::Url,
        _mode: &'a ConnectionMode,
        timeout: Duration,
    ) -> BoxedFuture<'a, Result<(WebSocketSink, WebSocketStream), TransportError>> {
        Box::pin(async move {
            let addrs = checked_addrs(url, self.allow_private, self.resolver.as_ref())
                .await
                .map_err(TransportError::backend)?;
            let handshake = async {
                let tcp = connect_any(&addrs).await.map_err(TransportError::backend)?;
                // The URL keeps the host name: TLS verifies it and the request names it.
                let (socket, _) = tokio_tungstenite::client_async_tls(url.as_str(), tcp)
                    .await
                    .map_err(TransportError::backend)?;
                Ok::<_, TransportError>(socket)
            };
            let socket = tokio::time::timeout(timeout, Box::pin(handshake))
                .await
                .map_err(|_| {
                    TransportError::backend(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "connecting to the relay timed out",
                    ))
                })??;
            let (tx, rx) = WebSocket::Tokio(socket).split();
            let sink: WebSocketSink = Box::new(PinnedSink(tx));
            let stream: WebSocketStream = Box::pin(rx.map_err(TransportError::backend));
            Ok((sink, stream))
        })
    }
}

/// The write half, with errors as nostr-sdk's transport errors (written out rather than
/// `sink_map_err`, as nostr-sdk's own transport does).
struct PinnedSink(SplitSink<WebSocket, Message>);

impl Sink<Message> for PinnedSink {
    type Error = TransportError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready_unpin(cx).map_err(TransportError::backend)
    }

    fn start_send(mut self: Pin<&mut Self>, item: Message) -> Result<(), Self::Error> {
        self.0
            .start_send_unpin(item)
            .map_err(TransportError::backend)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_flush_unpin(cx).map_err(TransportError::backend)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_close_unpin(cx).map_err(TransportError::backend)
    }
}
