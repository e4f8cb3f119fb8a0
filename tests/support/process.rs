//! Runs the real `lnaddr` binary as a child process, configured through `LNADDR_*` environment
//! variables, for tests that kill and restart gateways.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port (bound then released; the small race is acceptable in tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Polls `check` until it answers `Some`, or panics after `timeout` naming `what`.
pub async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `lnaddr --admin-url ADMIN --token-file TOKEN_FILE ARGS…` with an empty environment.
pub fn cli(admin: &str, token_file: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lnaddr"))
        .arg("--admin-url")
        .arg(admin)
        .arg("--token-file")
        .arg(token_file)
        .args(args)
        .env_clear()
        .output()
        .expect("run cli")
}

/// [`cli`], which must succeed: its standard output.
pub fn cli_ok(admin: &str, token_file: &Path, args: &[&str]) -> String {
    let out = cli(admin, token_file, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf8")
}

/// A gateway process.
pub struct GatewayProcess {
    pub child: Child,
    pub public_port: u16,
    pub admin_port: u16,
    pub data_dir: PathBuf,
    pub env: Vec<(String, String)>,
    pub log: PathBuf,
}

impl GatewayProcess {
    /// Starts `lnaddr serve` with its data in `data_dir`, extra `LNADDR_*` settings in `env`.
    pub fn start(data_dir: &Path, env: &[(&str, &str)]) -> GatewayProcess {
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Self::start_with(data_dir, free_port(), free_port(), env)
    }

    pub fn start_with(
        data_dir: &Path,
        public_port: u16,
        admin_port: u16,
        env: Vec<(String, String)>,
    ) -> GatewayProcess {
        std::fs::create_dir_all(data_dir).expect("data dir");
        let log = data_dir.join(format!("gateway-{public_port}.log"));
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("log file");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lnaddr"));
        cmd.arg("serve")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .env("LNADDR_LISTEN", format!("127.0.0.1:{public_port}"))
            .env("LNADDR_ADMIN_LISTEN", format!("127.0.0.1:{admin_port}"))
            .env("LNADDR_DATA_DIR", data_dir)
            // Tests make many quick requests from one address; `env` may turn limits on.
            .env("LNADDR_LIMITS__ENABLED", "false")
            .stdout(Stdio::null())
            .stderr(log_file);
        for (k, v) in &env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn lnaddr");
        GatewayProcess {
            child,
            public_port,
            admin_port,
            data_dir: data_dir.to_path_buf(),
            env,
            log,
        }
    }

    /// [`cli`] against this gateway's admin API with the token it created.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        cli(&self.admin_url(), &self.data_dir.join("admin.token"), args)
    }

    /// [`cli_ok`] against this gateway's admin API with the token it created.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        cli_ok(&self.admin_url(), &self.data_dir.join("admin.token"), args)
    }

    /// Creates `address` through the admin API with `token`: the account as answered (201).
    pub async fn create_account(
        &self,
        http: &reqwest::Client,
        token: &str,
        address: &str,
    ) -> serde_json::Value {
        let resp = http
            .post(format!("{}/api/v1/accounts", self.admin_url()))
            .bearer_auth(token)
            .json(&serde_json::json!({ "address": address }))
            .send()
            .await
            .expect("create account");
        assert_eq!(resp.status(), 201, "create {address}");
        resp.json().await.expect("account json")
    }

    /// Waits until the gateway answers `/healthz`.
    pub async fn wait_healthy(&self, http: &reqwest::Client, timeout: Duration) {
        let url = format!("{}/healthz", self.public_url());
        wait_for("the gateway", timeout, || async {
            let r = http.get(&url).send().await;
            r.ok().filter(|r| r.status().is_success())
        })
        .await;
    }

    pub fn public_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.public_port)
    }

    pub fn admin_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.admin_port)
    }

    /// The admin token the gateway created in its data dir.
    pub fn admin_token(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("admin.token"))
            .expect("token file")
            .trim()
            .to_string()
    }

    /// `kill -9`: no shutdown code runs.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for the exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        self.child.wait().expect("wait")
    }

    /// Starts the same gateway again (same ports, data and settings).
    pub fn restart(&mut self) {
        self.kill9();
        let again = Self::start_with(
            &self.data_dir,
            self.public_port,
            self.admin_port,
            self.env.clone(),
        );
        *self = again;
    }

    /// Waits until `address` holds exactly `want` msat, read through this gateway's admin API.
    pub async fn wait_balance(
        &self,
        http: &reqwest::Client,
        token: &str,
        address: &str,
        want: u64,
    ) {
        let url = format!("{}/api/v1/accounts/{address}", self.admin_url());
        wait_for(
            &format!("{address} to hold {want} msat"),
            Duration::from_secs(30),
            || {
                let req = http.get(&url).bearer_auth(token).send();
                async move {
                    let v: serde_json::Value = req.await.ok()?.json().await.ok()?;
                    (v["balance_msat"].as_u64() == Some(want)).then_some(())
                }
            },
        )
        .await;
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
