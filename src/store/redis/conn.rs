//! The connection to Redis: one multiplexed [`ConnectionManager`] for a single server (it
//! reconnects by itself) or a [`ClusterConnection`] for a Redis Cluster (it follows slot moves and
//! reconnects by itself). Every command runs under a deadline, so when Redis is down a call fails
//! fast with [`StoreError::Backend`] instead of hanging; `redis::RedisError` stays in this module.
//!
//! With `store.redis.wait_replicas` set, every script (every money move is one script) is followed
//! by `WAIT n timeout` on the same connection (in a cluster, on every master, each for its own
//! writes): the call succeeds only once `n` replicas hold the write, so a failover to a replica
//! cannot lose an acknowledged credit or reservation. Fewer acknowledgements in time make the call
//! fail with [`RedisCallError::NotReplicated`]; the write did happen on the master, and every
//! write is idempotent or checked, so the caller's retry is safe.

use std::time::Duration;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::cluster::ClusterClientBuilder;
use ::redis::cluster_async::ClusterConnection;
use ::redis::cluster_routing::{
    AggregateOp, MultipleNodeRoutingInfo, ResponsePolicy, RoutingInfo, SingleNodeRoutingInfo,
};
use ::redis::{Cmd, FromRedisValue, ScriptInvocation, Value};

use crate::store::StoreError;

/// How long establishing one TCP connection to a server may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one command may wait for its answer on an open cluster connection (single-server
/// commands are bounded by [`CALL_TIMEOUT`] alone).
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// The outer bound on one call, including a reconnection in progress.
const CALL_TIMEOUT: Duration = Duration::from_secs(3);

/// Why a Redis call failed; wrapped in [`StoreError::Backend`].
#[derive(Debug, thiserror::Error)]
pub enum RedisCallError {
    /// The server answered with an error, or the connection failed.
    #[error("redis: {0}")]
    Redis(#[from] ::redis::RedisError),
    /// No answer within [`CALL_TIMEOUT`].
    #[error("redis did not answer within {0:?}")]
    Timeout(Duration),
    /// The server answered something this code does not expect.
    #[error("unexpected answer from redis: {0}")]
    Unexpected(String),
    /// `WAIT` saw fewer replicas acknowledge the write than `store.redis.wait_replicas` asks.
    #[error("the write reached {acked} of {wanted} replicas in time")]
    NotReplicated { acked: i64, wanted: u32 },
}

impl From<RedisCallError> for StoreError {
    fn from(e: RedisCallError) -> Self {
        StoreError::backend(e)
    }
}

/// `WAIT` after every script: how many replicas must acknowledge, and how long to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitReplicas {
    pub replicas: u32,
    pub timeout: Duration,
}

/// Either kind of connection.
#[derive(Clone)]
enum Link {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

/// A cheap-to-clone handle over either kind of connection.
#[derive(Clone)]
pub struct Conn {
    link: Link,
    wait: Option<WaitReplicas>,
}

impl Conn {
    fn of(link: Link) -> Conn {
        Conn { link, wait: None }
    }

    /// The same connection, with `WAIT` after every script when `wait` is set.
    pub fn with_wait(mut self, wait: Option<WaitReplicas>) -> Conn {
        self.wait = wait.filter(|w| w.replicas > 0);
        self
    }

    /// Connects to one server at `url` (`redis://host:port/db`, or `rediss://` for TLS, which
    /// trusts `ca_pem` when given, else the system's roots).
    pub async fn single(url: &str, ca_pem: Option<Vec<u8>>) -> Result<Conn, StoreError> {
        let client = match ca_pem {
            Some(ca) => ::redis::Client::build_with_tls(url, certificates(ca)),
            None => ::redis::Client::open(url),
        }
        .map_err(RedisCallError::from)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            // No per-command timer inside redis-rs: `bounded` already puts one on every call, and
            // redis-rs does not reconnect on its own timeouts anyway (a timed-out read is not
            // "connection dropped"). One timer instead of two: Redis lookups +2% (A/B runs).
            .set_response_timeout(None)
            // Few, short retries: a call must fail within CALL_TIMEOUT; the next call starts a
            // fresh reconnection, so recovery needs no long retry chain.
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500));
        let manager = bounded(ConnectionManager::new_with_config(client, config)).await?;
        Ok(Conn::of(Link::Single(manager)))
    }

    /// Connects to a Redis Cluster through any of its `urls` (`rediss://` ones with `ca_pem` as
    /// in [`Conn::single`]).
    pub async fn cluster(urls: &[String], ca_pem: Option<Vec<u8>>) -> Result<Conn, StoreError> {
        let mut builder = ClusterClientBuilder::new(urls.iter().map(String::as_str));
        if let Some(ca) = ca_pem {
            builder = builder.certs(certificates(ca));
        }
        let client = builder
            .connection_timeout(CONNECT_TIMEOUT)
            .response_timeout(RESPONSE_TIMEOUT)
            .retries(2)
            .build()
            .map_err(RedisCallError::from)?;
        let conn = bounded(client.get_async_connection()).await?;
        Ok(Conn::of(Link::Cluster(conn)))
    }

    /// Runs one command.
    pub async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> Result<T, StoreError> {
        match self.link.clone() {
            Link::Single(mut c) => bounded(cmd.query_async(&mut c)).await,
            Link::Cluster(mut c) => bounded(cmd.query_async(&mut c)).await,
        }
    }

    /// Runs a Lua script (EVALSHA, loading it on NOSCRIPT).
    pub async fn invoke<T: FromRedisValue>(
        &self,
        script: &ScriptInvocation<'_>,
    ) -> Result<T, StoreError> {
        let answer = self.invoke_read_only(script).await?;
        if let Some(wait) = self.wait {
            self.wait_replicas(wait).await?;
        }
        Ok(answer)
    }

    /// Runs a Lua script that writes nothing (no `WAIT` after it: there is no write to wait for).
    pub async fn invoke_read_only<T: FromRedisValue>(
        &self,
        script: &ScriptInvocation<'_>,
    ) -> Result<T, StoreError> {
        match self.link.clone() {
            Link::Single(mut c) => bounded(script.invoke_async(&mut c)).await,
            Link::Cluster(mut c) => bounded(script.invoke_async(&mut c)).await,
        }
    }

    /// `WAIT n timeout` on the connection that carried the write (every master in a cluster; the
    /// smallest count is the answer).
    async fn wait_replicas(&self, wait: WaitReplicas) -> Result<(), StoreError> {
        let mut cmd = ::redis::cmd("WAIT");
        let timeout_ms = u64::try_from(wait.timeout.as_millis()).unwrap_or(u64::MAX);
        cmd.arg(wait.replicas).arg(timeout_ms);
        let acked: i64 = match self.link.clone() {
            Link::Single(mut c) => bounded(cmd.query_async(&mut c)).await?,
            Link::Cluster(mut c) => {
                let route = RoutingInfo::MultiNode((
                    MultipleNodeRoutingInfo::AllMasters,
                    Some(ResponsePolicy::Aggregate(AggregateOp::Min)),
                ));
                let value = bounded(c.route_command(cmd, route)).await?;
                i64::from_redis_value(value).map_err(|e| RedisCallError::Redis(e.into()))?
            }
        };
        if acked < i64::from(wait.replicas) {
            return Err(RedisCallError::NotReplicated {
                acked,
                wanted: wait.replicas,
            }
            .into());
        }
        Ok(())
    }

    /// Every key matching `pattern`, with SCAN (never KEYS, which blocks the server); in a cluster,
    /// on every master.
    pub async fn scan(&self, pattern: &str) -> Result<Vec<String>, StoreError> {
        match self.link.clone() {
            Link::Single(c) => {
                scan_node(pattern, |cmd| {
                    let mut c = c.clone();
                    async move { bounded(cmd.query_async::<(u64, Vec<String>)>(&mut c)).await }
                })
                .await
            }
            Link::Cluster(c) => {
                let mut out = Vec::new();
                for (host, port) in masters(&c).await? {
                    let keys = scan_node(pattern, |cmd| {
                        let mut c = c.clone();
                        let route = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
                            host: host.clone(),
                            port,
                        });
                        async move {
                            let value = bounded(c.route_command(cmd, route)).await?;
                            <(u64, Vec<String>)>::from_redis_value(value)
                                .map_err(|e| RedisCallError::Redis(e.into()).into())
                        }
                    })
                    .await?;
                    out.extend(keys);
                }
                Ok(out)
            }
        }
    }
}

/// Runs SCAN to completion through `send`, which sends one SCAN command to one node.
async fn scan_node<F, Fut>(pattern: &str, mut send: F) -> Result<Vec<String>, StoreError>
where
    F: FnMut(Cmd) -> Fut,
    Fut: Future<Output = Result<(u64, Vec<String>), StoreError>>,
{
    let mut out = Vec::new();
    let mut cursor = 0u64;
    loop {
        let mut cmd = ::redis::cmd("SCAN");
        cmd.arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(1000);
        let (next, keys) = send(cmd).await?;
        out.extend(keys);
        if next == 0 {
            return Ok(out);
        }
        cursor = next;
    }
}

/// The addresses of the cluster's masters: PING sent to all of them answers one entry per address.
async fn masters(c: &ClusterConnection) -> Result<Vec<(String, u16)>, StoreError> {
    let mut c = c.clone();
    let route = RoutingInfo::MultiNode((MultipleNodeRoutingInfo::AllMasters, None));
    let value = bounded(c.route_command(::redis::cmd("PING"), route)).await?;
    let entries: Vec<(String, Value)> = match value {
        Value::Map(entries) => entries
            .into_iter()
            .map(|(k, v)| Ok((String::from_redis_value(k)?, v)))
            .collect::<Result<_, ::redis::ParsingError>>()
            .map_err(|e| RedisCallError::Redis(e.into()))?,
        other => {
            return Err(
                RedisCallError::Unexpected(format!("PING to all masters: {other:?}")).into(),
            );
        }
    };
    entries
        .into_iter()
        .map(|(addr, _)| {
            addr.rsplit_once(':')
                .and_then(|(h, p)| Some((h.to_string(), p.parse().ok()?)))
                .ok_or_else(|| RedisCallError::Unexpected(format!("node address {addr}")).into())
        })
        .collect()
}

/// Bounds a Redis future by [`CALL_TIMEOUT`] and maps its error.
async fn bounded<T>(
    fut: impl Future<Output = Result<T, ::redis::RedisError>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(CALL_TIMEOUT, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(RedisCallError::Redis(e).into()),
        Err(_) => Err(RedisCallError::Timeout(CALL_TIMEOUT).into()),
    }
}

/// TLS trust for `rediss://`: the server's certificate must chain to `ca_pem` (no client
/// certificate).
fn certificates(ca_pem: Vec<u8>) -> ::redis::TlsCertificates {
    ::redis::TlsCertificates {
        client_tls: None,
        root_cert: Some(ca_pem),
    }
}
