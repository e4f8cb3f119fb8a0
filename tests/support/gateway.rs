//! An lnaddr gateway running in-process on real loopback sockets, with an HTTP client for its
//! public and admin listeners.

use std::time::Duration;

use lnaddr::app::{Running, start_with_listeners};
use lnaddr::config::Settings;
use serde_json::Value;
use tokio::net::TcpListener;

pub const TOKEN: &str = "test-admin-token-0123456789";

pub struct TestGateway {
    pub running: Option<Running>,
    pub dir: std::path::PathBuf,
    pub public: String,
    pub admin: String,
    pub http: reqwest::Client,
    env: Vec<(String, String)>,
    public_port: u16,
    admin_port: u16,
}

impl TestGateway {
    /// One domain, `localhost`, whose public URL is this gateway's public listener.
    pub async fn start(dir: &std::path::Path) -> TestGateway {
        Self::start_with(dir, |url| {
            vec![(
                "LNADDR_DOMAINS".into(),
                format!(r#"[{{name="localhost", public_url="{url}"}}]"#),
            )]
        })
        .await
    }

    /// `extra(public_url)` gives more `LNADDR_*` settings.
    pub async fn start_with(
        dir: &std::path::Path,
        extra: impl FnOnce(&str) -> Vec<(String, String)>,
    ) -> TestGateway {
        let public = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let admin = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let public_port = public.local_addr().expect("addr").port();
        let admin_port = admin.local_addr().expect("addr").port();
        let public_url = format!("http://127.0.0.1:{public_port}");
        let mut env = vec![
            ("LNADDR_DATA_DIR".to_string(), dir.display().to_string()),
            ("LNADDR_ADMIN_TOKEN".to_string(), TOKEN.to_string()),
            // Tests make many quick requests from one address; the limit tests turn them on.
            ("LNADDR_LIMITS__ENABLED".to_string(), "false".to_string()),
            (
                "LNADDR_LISTEN".to_string(),
                format!("127.0.0.1:{public_port}"),
            ),
            (
                "LNADDR_ADMIN_LISTEN".to_string(),
                format!("127.0.0.1:{admin_port}"),
            ),
        ];
        env.extend(extra(&public_url));
        let running = Self::run(&env, public, admin).await;
        TestGateway {
            running: Some(running),
            dir: dir.to_path_buf(),
            public: public_url,
            admin: format!("http://127.0.0.1:{admin_port}"),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("client"),
            env,
            public_port,
            admin_port,
        }
    }

    async fn run(env: &[(String, String)], public: TcpListener, admin: TcpListener) -> Running {
        let settings = Settings::load(None, env.to_vec()).expect("settings");
        start_with_listeners(settings, public, admin)
            .await
            .expect("start")
    }

    /// Graceful stop and start again on the same ports and data.
    pub async fn restart(&mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
        let public = TcpListener::bind(("127.0.0.1", self.public_port))
            .await
            .expect("rebind");
        let admin = TcpListener::bind(("127.0.0.1", self.admin_port))
            .await
            .expect("rebind");
        self.running = Some(Self::run(&self.env, public, admin).await);
    }

    /// The in-process fake node (its controls: fees, failures).
    pub fn fake(&self) -> &lnaddr::lightning::fake::FakeNode {
        self.running
            .as_ref()
            .expect("running")
            .fake
            .node()
            .expect("fake node")
    }

    /// Where the default domain's LNURL endpoints are: its public URL is this listener, not
    /// `localhost`, so they are under `/d/localhost` (`DomainSettings::lnurl_base`).
    pub fn lnurl_base(&self) -> String {
        format!("{}/d/localhost", self.public)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let url = format!("{}{path}", self.public);
        super::http::request(&self.http, reqwest::Method::GET, &url, None, None).await
    }

    pub async fn get_host(&self, host: &str, path: &str) -> (u16, Value) {
        let resp = self
            .http
            .get(format!("{}{path}", self.public))
            .header("host", host)
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// A GET of a full URL (e.g. a callback a lookup named): its JSON.
    pub async fn get_url(&self, url: &str) -> Value {
        self.http
            .get(url)
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json")
    }

    pub async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.admin_as(TOKEN, method, path, body).await
    }

    /// An admin request with `token` (a domain token, a wrong one) instead of the operator's.
    pub async fn admin_as(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.admin);
        super::http::request(&self.http, method, &url, Some(token), body).await
    }

    /// An admin GET: its status.
    pub async fn admin_status(&self, path: &str) -> u16 {
        self.admin(reqwest::Method::GET, path, None).await.0
    }

    pub async fn create_account(&self, address: &str) -> Value {
        let (status, body) = self
            .admin(
                reqwest::Method::POST,
                "/api/v1/accounts",
                Some(serde_json::json!({"address": address})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body
    }

    pub async fn account(&self, address: &str) -> Value {
        let (status, body) = self
            .admin(
                reqwest::Method::GET,
                &format!("/api/v1/accounts/{address}"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    pub async fn balance(&self, address: &str) -> u64 {
        self.account(address).await["balance_msat"]
            .as_u64()
            .expect("balance")
    }

    pub async fn transactions(&self, address: &str) -> Vec<Value> {
        let (status, body) = self
            .admin(
                reqwest::Method::GET,
                &format!("/api/v1/accounts/{address}/transactions"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body.as_array().expect("array").clone()
    }

    /// Asks the callback for an invoice of `amount` msat; answers the callback JSON.
    pub async fn invoice(&self, user: &str, amount: u64) -> Value {
        let (status, body) = self
            .get(&format!("/lnurlp/{user}/callback?amount={amount}"))
            .await;
        assert_eq!(status, 200, "{body}");
        assert!(body["pr"].is_string(), "{body}");
        body
    }

    pub async fn fake_pay(&self, bolt11: &str) -> (u16, Value) {
        self.admin(
            reqwest::Method::POST,
            "/api/v1/fake/pay",
            Some(serde_json::json!({"invoice": bolt11})),
        )
        .await
    }

    /// `POST /api/v1/fake/fail-next-payments`: the fake node fails its next `count` payments.
    pub async fn fail_next_payments(&self, count: u32) {
        let (status, body) = self
            .admin(
                reqwest::Method::POST,
                "/api/v1/fake/fail-next-payments",
                Some(serde_json::json!({"count": count})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }

    /// Pays `user@localhost` `amount` msat with the fake node, through its Lightning Address.
    pub async fn pay_to(&self, user: &str, amount: u64) {
        self.pay_with(user, amount, "").await;
    }

    /// The same with more callback query `extra` (`&comment=...`); answers the payment hash.
    pub async fn pay_with(&self, user: &str, amount: u64, extra: &str) -> String {
        let (status, body) = self
            .get_host(
                "localhost",
                &format!("/lnurlp/{user}/callback?amount={amount}{extra}"),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let (status, paid) = self.fake_pay(body["pr"].as_str().expect("pr")).await;
        assert_eq!(status, 200, "{paid}");
        paid["payment_hash"].as_str().expect("hash").to_string()
    }

    /// Creates `user@localhost`, pays it `amount` msat and waits until it holds them.
    pub async fn fund(&self, user: &str, amount: u64) {
        let address = format!("{user}@localhost");
        self.create_account(&address).await;
        self.pay_to(user, amount).await;
        self.wait_balance(&address, amount).await;
    }

    /// A new withdraw link of `address` (`body` as the admin API takes it): the link (201).
    pub async fn create_link(&self, address: &str, body: Value) -> Value {
        let (status, link) = self
            .admin(
                reqwest::Method::POST,
                &format!("/api/v1/accounts/{address}/withdraw-links"),
                Some(body),
            )
            .await;
        assert_eq!(status, 201, "{link}");
        link
    }

    /// Waits until `address` holds `balance` msat.
    pub async fn wait_balance(&self, address: &str, balance: u64) {
        super::process::wait_for(
            &format!("{address} to hold {balance} msat"),
            Duration::from_secs(10),
            || async { (self.balance(address).await == balance).then_some(()) },
        )
        .await
    }

    /// A metric's value from `/metrics` (0 when absent).
    pub async fn metric(&self, name: &str) -> f64 {
        let text = self
            .http
            .get(format!("{}/metrics", self.admin))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        text.lines()
            .find_map(|l| {
                l.strip_prefix(name)
                    .and_then(|rest| rest.trim().parse().ok())
            })
            .unwrap_or(0.0)
    }
}

/// `&comment=` with `text` encoded, for [`TestGateway::pay_with`].
pub fn comment_query(text: &str) -> String {
    let text: String = url::form_urlencoded::byte_serialize(text.as_bytes()).collect();
    format!("&comment={text}")
}
