//! An in-process gateway on the LND backend, and an HTTP client for its public and admin APIs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lnaddr::app::{Running, StartError, start_with_listeners};
use lnaddr::config::Settings;
use serde_json::Value;
use tokio::net::TcpListener;

use super::process::{GatewayProcess, free_port, wait_for};

pub const TOKEN: &str = "test-admin-token-0123456789";
pub const WAIT: Duration = Duration::from_secs(20);

/// Where the gateway finds LND.
#[derive(Debug, Clone)]
pub struct Lnd {
    pub endpoint: String,
    pub cert: PathBuf,
    pub macaroon: PathBuf,
}

/// `LNADDR_*` settings for a gateway on the LND backend whose public listener is on `port`.
pub fn lnd_env(data: &Path, port: u16, lnd: &Lnd) -> Vec<(String, String)> {
    let env = [
        ("LNADDR_DATA_DIR", data.display().to_string()),
        ("LNADDR_ADMIN_TOKEN", TOKEN.to_string()),
        ("LNADDR_LIMITS__ENABLED", "false".to_string()),
        ("LNADDR_LIGHTNING__KIND", "lnd".to_string()),
        ("LNADDR_LIGHTNING__LND__ENDPOINT", lnd.endpoint.clone()),
        (
            "LNADDR_LIGHTNING__LND__TLS_CERT",
            lnd.cert.display().to_string(),
        ),
        (
            "LNADDR_LIGHTNING__LND__MACAROON",
            lnd.macaroon.display().to_string(),
        ),
        (
            "LNADDR_DOMAINS",
            format!(r#"[{{name="localhost", public_url="http://127.0.0.1:{port}"}}]"#),
        ),
    ];
    env.map(|(k, v)| (k.to_string(), v)).to_vec()
}

/// Starts a gateway in-process on free ports.
pub async fn start(data: &Path, lnd: &Lnd) -> Result<Running, StartError> {
    start_with(data, lnd, Vec::new()).await
}

/// [`start`] with more settings (e.g. the Redis store).
pub async fn start_with(
    data: &Path,
    lnd: &Lnd,
    extra: Vec<(String, String)>,
) -> Result<Running, StartError> {
    let public = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let admin = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = public.local_addr().expect("addr").port();
    let mut env = lnd_env(data, port, lnd);
    env.extend(extra);
    let settings = Settings::load(None, env).expect("settings");
    start_with_listeners(settings, public, admin).await
}

/// [`start`], expecting it to start, with the gateway's client.
pub async fn started(data: &Path, lnd: &Lnd) -> (Running, Client) {
    started_with(data, lnd, Vec::new()).await
}

/// [`start_with`], expecting it to start, with the gateway's client.
pub async fn started_with(
    data: &Path,
    lnd: &Lnd,
    extra: Vec<(String, String)>,
) -> (Running, Client) {
    let gw = start_with(data, lnd, extra).await.expect("start");
    let c = Client::of(&gw);
    (gw, c)
}

/// A gateway process on `lnd` (for `kill -9` tests) with its data in `data`, and its client,
/// once it is ready.
pub async fn process(data: &Path, lnd: &Lnd) -> (GatewayProcess, Client) {
    process_with(data, lnd, Vec::new()).await
}

/// The same with more `LNADDR_*` settings.
pub async fn process_with(
    data: &Path,
    lnd: &Lnd,
    extra: Vec<(String, String)>,
) -> (GatewayProcess, Client) {
    let (public, admin) = (free_port(), free_port());
    let env = lnd_env(data, public, lnd)
        .into_iter()
        .filter(|(k, _)| k != "LNADDR_DATA_DIR")
        .chain(extra)
        .collect();
    let g = GatewayProcess::start_with(data, public, admin, env);
    let c = Client {
        http: reqwest::Client::new(),
        public: g.public_url(),
        admin: g.admin_url(),
    };
    c.wait_ready().await;
    (g, c)
}

/// HTTP client of one gateway.
pub struct Client {
    pub http: reqwest::Client,
    pub public: String,
    pub admin: String,
}

impl Client {
    pub fn of(running: &Running) -> Client {
        Client {
            http: reqwest::Client::new(),
            public: format!("http://{}", running.public_addr),
            admin: format!("http://{}", running.admin_addr),
        }
    }

    pub async fn get(&self, url: &str) -> (u16, Value) {
        super::http::request(&self.http, reqwest::Method::GET, url, None, None).await
    }

    pub async fn public(&self, path: &str) -> (u16, Value) {
        self.get(&format!("{}{path}", self.public)).await
    }

    pub async fn admin(&self, path: &str) -> Value {
        let resp = self
            .http
            .get(format!("{}{path}", self.admin))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("admin request");
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.expect("json")
    }

    /// An admin request: the status and the JSON body (null when none).
    pub async fn admin_send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.admin);
        super::http::request(&self.http, method, &url, Some(TOKEN), body).await
    }

    /// Waits until the gateway answers `/readyz`.
    pub async fn wait_ready(&self) {
        wait_for("the gateway", WAIT, || async {
            let r = self
                .http
                .get(format!("{}/readyz", self.public))
                .send()
                .await;
            r.ok().filter(|r| r.status().is_success()).map(|_| ())
        })
        .await;
    }

    pub async fn create_account(&self, address: &str) {
        let resp = self
            .http
            .post(format!("{}/api/v1/accounts", self.admin))
            .bearer_auth(TOKEN)
            .json(&serde_json::json!({ "address": address }))
            .send()
            .await
            .expect("create");
        assert_eq!(resp.status().as_u16(), 201);
    }

    pub async fn balance(&self, address: &str) -> u64 {
        self.admin(&format!("/api/v1/accounts/{address}")).await["balance_msat"]
            .as_u64()
            .expect("balance")
    }

    pub async fn credits(&self, address: &str) -> usize {
        let txs = self
            .admin(&format!("/api/v1/accounts/{address}/transactions"))
            .await;
        txs.as_array()
            .expect("array")
            .iter()
            .filter(|t| t["kind"] == "credit" && t["status"] != "pending")
            .count()
    }

    /// Lookup then callback: the invoice and the verify URL.
    pub async fn invoice(&self, name: &str, amount: u64) -> (String, String, String) {
        let (status, pay) = self.public(&format!("/.well-known/lnurlp/{name}")).await;
        assert_eq!(status, 200, "{pay}");
        let callback = pay["callback"].as_str().expect("callback").to_string();
        let metadata = pay["metadata"].as_str().expect("metadata").to_string();
        let (status, answer) = self.get(&format!("{callback}?amount={amount}")).await;
        assert_eq!(status, 200, "{answer}");
        let pr = answer["pr"]
            .as_str()
            .unwrap_or_else(|| panic!("no invoice: {answer}"))
            .to_string();
        let verify = answer["verify"].as_str().expect("verify").to_string();
        (pr, verify, metadata)
    }

    /// Pays `name@localhost` `msat` through its Lightning Address, the invoice settled by
    /// `settle` (the simulator paying it), and waits until the balance shows it.
    pub async fn fund<R>(&self, name: &str, msat: u64, settle: impl FnOnce(&str) -> R) {
        let address = format!("{name}@localhost");
        let before = self.balance(&address).await;
        let (pr, _, _) = self.invoice(name, msat).await;
        settle(&pr);
        self.wait_balance(&address, before + msat).await;
    }

    pub async fn wait_balance(&self, address: &str, want: u64) {
        wait_for(&format!("balance {want}"), WAIT, || async {
            (self.balance(address).await == want).then_some(())
        })
        .await;
    }
}
