//! The store conformance suites as one named test per case per backend (the way CDK's database
//! tests are laid out): `embedded::store_suite::credit_is_once`,
//! `redis::nwc_suite::revoke_is_for_good`, `cluster::withdraw_suite::finish_is_once`, ... so the first failure hides nothing and names the case
//! and the backend. Every case gets a store of its own: a fresh redb file, its own `redis-server`,
//! or its own 3-master Redis Cluster.

use std::sync::Arc;

use lnaddr::store::Store;
use lnaddr::store::embedded::EmbeddedStore;
use lnaddr::store::redis::RedisStore;

use super::redis_server::{RedisCluster, RedisServer};

/// Where one case's store lives; dropped (file removed, servers killed) with the case.
pub enum Backend {
    Embedded(tempfile::TempDir),
    Redis(RedisServer),
    Cluster(RedisCluster),
}

impl Backend {
    pub fn embedded() -> Backend {
        Backend::Embedded(tempfile::tempdir().expect("tempdir"))
    }

    pub fn redis() -> Backend {
        Backend::Redis(RedisServer::start())
    }

    pub fn cluster() -> Backend {
        Backend::Cluster(RedisCluster::start())
    }

    /// A store on this backend.
    pub async fn store(&self) -> Arc<dyn Store> {
        match self {
            Backend::Embedded(dir) => {
                let path = dir.path().join("store.redb");
                Arc::new(EmbeddedStore::open(&path).expect("open"))
            }
            Backend::Redis(server) => {
                Arc::new(RedisStore::connect(&server.url()).await.expect("connect"))
            }
            Backend::Cluster(cluster) => Arc::new(
                RedisStore::connect_cluster(&cluster.urls())
                    .await
                    .expect("connect cluster"),
            ),
        }
    }
}

/// `conformance! { store_suite => [credit_is_once, ...], nwc_suite => [...] }` writes, for each
/// backend (`embedded`, `redis`, `cluster`), a module per suite with one `#[tokio::test]` per case
/// that runs `support::{suite}::{case}` on a store of its own.
#[macro_export]
macro_rules! conformance {
    ($($suite:ident => [$($case:ident),* $(,)?]),* $(,)?) => {
        $crate::conformance!(@backend embedded; $($suite => [$($case),*]),*);
        $crate::conformance!(@backend redis; $($suite => [$($case),*]),*);
        $crate::conformance!(@backend cluster; $($suite => [$($case),*]),*);
    };
    (@backend $backend:ident; $($suite:ident => [$($case:ident),*]),*) => {
        mod $backend {
            $(
                mod $suite {
                    $(
                        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                        async fn $case() {
                            let backend = $crate::support::conformance::Backend::$backend();
                            $crate::support::$suite::$case(backend.store().await).await;
                        }
                    )*
                }
            )*
        }
    };
}
