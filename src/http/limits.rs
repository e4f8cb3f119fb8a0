//! Request and connection limits of both listeners, so that no client can make the server hang or
//! grow without bound: a cap on open connections (a semaphore in the accept loop), the request
//! head's size (hyper answers 431), a deadline for the request head (hyper's header read timeout,
//! which also closes idle keep-alive connections) and, before hyper can apply it, for the first
//! bytes of a connection (a connection that sends nothing is closed), HTTP/2 stream and header-list
//! caps, and the URL's length (414, answered by [`super::layers`]).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto::Builder;

use crate::config::LimitSettings;

/// Concurrent HTTP/2 streams per connection.
const H2_MAX_STREAMS: u32 = 64;
/// HTTP/2 keep-alive pings find dead peers.
const H2_PING_INTERVAL: Duration = Duration::from_secs(30);
const H2_PING_TIMEOUT: Duration = Duration::from_secs(10);

/// The limits one listener runs with.
#[derive(Debug, Clone)]
pub struct ConnLimits {
    pub max_connections: usize,
    pub max_header_bytes: usize,
    pub header_read_timeout: Duration,
    /// How long open connections may take to finish once shutdown starts.
    pub grace: Duration,
}

impl ConnLimits {
    pub fn new(limits: &LimitSettings, grace: Duration) -> Self {
        ConnLimits {
            max_connections: limits.max_connections,
            max_header_bytes: limits.max_header_bytes,
            header_read_timeout: limits.header_read_timeout,
            grace,
        }
    }

    /// A hyper connection builder (HTTP/1 and HTTP/2) with these limits.
    pub fn builder(&self) -> Builder<TokioExecutor> {
        let mut builder = Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout)
            .max_buf_size(self.max_header_bytes.max(8192));
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(H2_MAX_STREAMS)
            .max_header_list_size(u32::try_from(self.max_header_bytes).unwrap_or(u32::MAX))
            .keep_alive_interval(H2_PING_INTERVAL)
            .keep_alive_timeout(H2_PING_TIMEOUT);
        builder
    }
}

/// Drives one connection; closes it (by dropping it) when no request has started within
/// `first_request` (`seen` turns true when the first request reaches the service). After the first
/// request hyper's own timeouts apply.
pub async fn drive<C, E>(conn: C, seen: Arc<AtomicBool>, first_request: Duration)
where
    C: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    tokio::pin!(conn);
    let result = tokio::select! {
        r = &mut conn => r,
        () = tokio::time::sleep(first_request) => {
            if !seen.load(Ordering::Acquire) {
                tracing::debug!("no request within the header read timeout; closing");
                return;
            }
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "connection closed with an error");
    }
}
