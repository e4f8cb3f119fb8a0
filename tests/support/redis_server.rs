//! Real Redis servers for tests: a private `redis-server` on a free loopback port (never the shared
//! one on 6379), which can be stopped and restarted on the same port, a replica of one that can be
//! promoted (failover tests), and a 3-master Redis Cluster.
//! Servers are killed on drop. Waits poll a condition with a deadline; nothing sleeps on hope.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::process::free_port;

const START_TIMEOUT: Duration = Duration::from_secs(20);

fn require(binary: &str) {
    let found = Command::new(binary)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "`{binary}` is not installed or not on PATH: the Redis tests start their own servers \
         (install it, e.g. `apt-get install redis-server`)"
    );
}

/// `redis-cli -p PORT args...` answer, or None when the server does not answer.
pub fn cli(port: u16, args: &[&str]) -> Option<String> {
    assert_ne!(port, 6379, "port 6379 belongs to someone else");
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !text.starts_with("Could not connect")).then_some(text)
}

/// One `field:value` line of `INFO section`.
pub fn info_field(port: u16, section: &str, field: &str) -> Option<String> {
    let info = cli(port, &["INFO", section])?;
    info.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .map(|v| v.trim().to_string())
}

/// Polls `check` every 20 ms until it holds, or panics naming `what`.
pub fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + START_TIMEOUT;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn spawn(port: u16, dir: &Path, extra: &[&str]) -> Child {
    assert_ne!(port, 6379, "port 6379 belongs to someone else");
    let log = std::fs::File::create(dir.join(format!("redis-{port}.log"))).expect("redis log");
    Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .arg("--dir")
        .arg(dir)
        .args(extra)
        .stdout(log)
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn redis-server")
}

/// One private `redis-server`.
pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
    dir: PathBuf,
    /// More `redis-server` arguments (TLS).
    extra: Vec<String>,
    _tmp: tempfile::TempDir,
}

impl RedisServer {
    /// Starts a server on a free port and waits until it answers PING.
    pub fn start() -> RedisServer {
        require("redis-server");
        require("redis-cli");
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut server = RedisServer {
            port: free_port(),
            child: None,
            dir: tmp.path().to_path_buf(),
            extra: Vec::new(),
            _tmp: tmp,
        };
        server.resume();
        server
    }

    /// Starts a server that also speaks TLS on a second free port (answered), with the PEM files
    /// `cert` and `key`, `ca` as its CA, no client certificate asked. The plain port stays for
    /// `redis-cli` (readiness, and looking at what the gateway wrote).
    pub fn start_tls(cert: &Path, key: &Path, ca: &Path) -> (RedisServer, u16) {
        require("redis-server");
        require("redis-cli");
        let tmp = tempfile::tempdir().expect("tempdir");
        let tls_port = free_port();
        let path = |p: &Path| p.display().to_string();
        let mut server = RedisServer {
            port: free_port(),
            child: None,
            dir: tmp.path().to_path_buf(),
            extra: vec![
                "--tls-port".into(),
                tls_port.to_string(),
                "--tls-cert-file".into(),
                path(cert),
                "--tls-key-file".into(),
                path(key),
                "--tls-ca-cert-file".into(),
                path(ca),
                "--tls-auth-clients".into(),
                "no".into(),
            ],
            _tmp: tmp,
        };
        server.resume();
        (server, tls_port)
    }

    /// `redis://127.0.0.1:PORT/0`
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// The gateway settings that put its store on this server.
    pub fn store_env(&self) -> Vec<(String, String)> {
        vec![
            ("LNADDR_STORE__KIND".to_string(), "redis".to_string()),
            ("LNADDR_STORE__URL".to_string(), self.url()),
        ]
    }

    /// Stops the server like an operator restarting a persistent Redis: `SHUTDOWN SAVE` writes a
    /// snapshot into the server's own directory, which [`RedisServer::resume`] loads again.
    pub fn stop(&mut self) {
        let _ = cli(self.port, &["SHUTDOWN", "SAVE"]);
        if let Some(mut child) = self.child.take() {
            let deadline = Instant::now() + START_TIMEOUT;
            while child.try_wait().ok().flatten().is_none() {
                if Instant::now() > deadline {
                    let _ = child.kill();
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        wait_until("redis to stop", || cli(self.port, &["PING"]).is_none());
    }

    /// Starts the server again on the same port and waits for PING.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "already running");
        let extra: Vec<&str> = self.extra.iter().map(String::as_str).collect();
        self.child = Some(spawn(self.port, &self.dir, &extra));
        wait_until("redis to answer PING", || {
            cli(self.port, &["PING"]).as_deref() == Some("PONG")
        });
    }

    /// Starts a replica of `master` and waits until its link to the master is up and it holds
    /// everything the master had.
    pub fn start_replica_of(master: &RedisServer) -> RedisServer {
        let replica = RedisServer::start();
        let port = master.port.to_string();
        assert_eq!(
            cli(replica.port, &["REPLICAOF", "127.0.0.1", &port]).as_deref(),
            Some("OK")
        );
        wait_until("the replica's link to its master", || {
            info_field(replica.port, "replication", "master_link_status").as_deref() == Some("up")
        });
        replica.wait_caught_up(master);
        replica
    }

    /// Waits until this replica has processed every write `master` made so far.
    pub fn wait_caught_up(&self, master: &RedisServer) {
        let target = info_field(master.port, "replication", "master_repl_offset")
            .and_then(|v| v.parse::<u64>().ok())
            .expect("master offset");
        wait_until("the replica to catch up", || {
            info_field(self.port, "replication", "slave_repl_offset")
                .and_then(|v| v.parse::<u64>().ok())
                .is_some_and(|o| o >= target)
        });
    }

    /// Failover: this replica stops following its master and takes writes (`REPLICAOF NO ONE`).
    /// Writes the old master accepts from now on never reach it.
    pub fn promote(&self) {
        assert_eq!(
            cli(self.port, &["REPLICAOF", "NO", "ONE"]).as_deref(),
            Some("OK")
        );
        wait_until("the promoted replica to be a master", || {
            info_field(self.port, "replication", "role").as_deref() == Some("master")
        });
    }

    /// `kill -9`: the server dies with whatever it has not replicated.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Empties this private server (never any other).
    pub fn flush(&self) {
        assert_eq!(
            cli(self.port, &["FLUSHALL"]).as_deref(),
            Some("OK"),
            "FLUSHALL"
        );
    }

    /// Number of keys in db 0.
    pub fn dbsize(&self) -> u64 {
        cli(self.port, &["DBSIZE"])
            .and_then(|s| s.parse().ok())
            .expect("DBSIZE")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A 3-master Redis Cluster of private servers.
pub struct RedisCluster {
    pub ports: Vec<u16>,
    children: Vec<Child>,
    _tmp: tempfile::TempDir,
}

impl RedisCluster {
    /// Starts three cluster-enabled servers, joins them and waits for `cluster_state:ok` on each.
    pub fn start() -> RedisCluster {
        require("redis-server");
        require("redis-cli");
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut ports = Vec::new();
        let mut children = Vec::new();
        for _ in 0..3 {
            let port = free_port();
            let dir = tmp.path().join(port.to_string());
            std::fs::create_dir_all(&dir).expect("node dir");
            let conf = dir.join("nodes.conf");
            let conf = conf.to_str().expect("utf-8 path");
            children.push(spawn(
                port,
                &dir,
                &["--cluster-enabled", "yes", "--cluster-config-file", conf],
            ));
            ports.push(port);
        }
        for &port in &ports {
            wait_until("cluster node to answer PING", || {
                cli(port, &["PING"]).as_deref() == Some("PONG")
            });
        }
        let addrs: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let status = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addrs)
            .arg("--cluster-yes")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("redis-cli --cluster create");
        assert!(status.success(), "redis-cli --cluster create failed");
        for &port in &ports {
            wait_until("cluster_state:ok", || {
                cli(port, &["CLUSTER", "INFO"]).is_some_and(|i| i.contains("cluster_state:ok"))
            });
        }
        RedisCluster {
            ports,
            children,
            _tmp: tmp,
        }
    }

    pub fn urls(&self) -> Vec<String> {
        self.ports
            .iter()
            .map(|p| format!("redis://127.0.0.1:{p}"))
            .collect()
    }

    /// Empties every master of this private cluster.
    pub fn flush(&self) {
        for &port in &self.ports {
            assert_eq!(cli(port, &["FLUSHALL"]).as_deref(), Some("OK"), "FLUSHALL");
        }
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
