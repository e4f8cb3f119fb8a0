//! A TCP proxy with a switchable target, standing in for what moves clients to a promoted replica
//! in a Redis failover (Sentinel-aware proxy, virtual IP, DNS). Switching drops every open
//! connection, as the old master going away would.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct TcpProxy {
    pub port: u16,
    target: Arc<Mutex<SocketAddr>>,
    cut: watch::Sender<u64>,
    _task: tokio::task::JoinHandle<()>,
}

impl TcpProxy {
    /// Listens on a free loopback port and forwards to `target`.
    pub async fn start(target: SocketAddr) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let target = Arc::new(Mutex::new(target));
        let (cut, _) = watch::channel(0u64);
        let (to, cuts) = (target.clone(), cut.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let addr = *to.lock().unwrap_or_else(|e| e.into_inner());
                let mut cut = cuts.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(addr).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        TcpProxy {
            port,
            target,
            cut,
            _task: task,
        }
    }

    /// `redis://127.0.0.1:PORT/0` through the proxy.
    pub fn redis_url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Sends new connections to `target` and drops the open ones.
    pub fn switch(&self, target: SocketAddr) {
        *self.target.lock().unwrap_or_else(|e| e.into_inner()) = target;
        self.cut.send_modify(|g| *g += 1);
    }
}
