//! Request and connection limits of both listeners, so that no client can make the server hang or
//! grow without bound: a cap on open connections (a semaphore in the accept loop), the request
//! head's size (hyper answers 431), a deadline for the request head (hyper's header read timeout,
//! which also closes idle keep-alive connections), an idle timeout of our own for what hyper does not
//! cover (a connection that sends nothing, idle HTTP/2 connections), HTTP/2 stream and header-list
//! caps, and the URL's length (414, answered by [`super::layers`]).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
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
            // One buffer, one write(2): a lookup answer is a few hundred bytes, and copying it
            // behind the head beat writev(2) of the two (bench/run: embedded lookups +3%).
            .writev(false)
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

/// What a connection's service reports to [`drive`]: requests started and requests in flight.
#[derive(Debug, Default)]
pub struct Activity {
    started: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    /// Marks a request as started; the guard marks it finished when dropped.
    pub fn begin(self: &Arc<Self>) -> InFlight {
        self.started.fetch_add(1, Ordering::AcqRel);
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(self.clone())
    }
}

/// A request being served; see [`Activity::begin`].
pub struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Drives one connection, closing it (by dropping it) once a whole `idle` period passed with no
/// request started and none in flight: a client that sends nothing, or an idle HTTP/2 connection,
/// cannot hold one of the `max_connections` slots for long. Within a request head, hyper's own
/// header read timeout applies.
pub async fn drive<C, E>(conn: C, activity: Arc<Activity>, idle: Duration)
where
    C: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    tokio::pin!(conn);
    let mut seen = 0;
    loop {
        tokio::select! {
            result = &mut conn => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection closed with an error");
                }
                return;
            }
            () = tokio::time::sleep(idle) => {
                let started = activity.started.load(Ordering::Acquire);
                if started == seen && activity.in_flight.load(Ordering::Acquire) == 0 {
                    tracing::debug!("idle connection closed");
                    return;
                }
                seen = started;
            }
        }
    }
}
