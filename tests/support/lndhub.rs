//! An LndHub wallet as BlueWallet drives one (`class/wallets/lightning-custodian-wallet.ts`): it
//! imports the `lndhub://LOGIN:PASSWORD@URL` string, logs in with `POST /auth?type=auth`, sends
//! `Authorization: Bearer ACCESS` on every call, and refreshes with `POST /auth?type=refresh_token`.

use serde_json::{Value, json};

pub struct Wallet {
    pub http: reqwest::Client,
    /// `{public_url}/lndhub`, as imported.
    pub base: String,
    pub login: String,
    pub password: String,
    pub access_token: String,
    pub refresh_token: String,
}

/// Splits `lndhub://LOGIN:PASSWORD@URL` the way BlueWallet does.
pub fn parse_secret(secret: &str) -> (String, String, String) {
    let rest = secret.strip_prefix("lndhub://").expect("lndhub:// scheme");
    let (creds, url) = rest.split_once('@').expect("an @ before the URL");
    let (login, password) = creds.split_once(':').expect("LOGIN:PASSWORD");
    (login.to_string(), password.to_string(), url.to_string())
}

impl Wallet {
    /// Imports `secret`; `base` overrides its URL (a process whose public URL is not its socket).
    pub fn import(http: &reqwest::Client, secret: &str, base: Option<&str>) -> Wallet {
        let (login, password, url) = parse_secret(secret);
        Wallet {
            http: http.clone(),
            base: base.map_or(url, str::to_string),
            login,
            password,
            access_token: String::new(),
            refresh_token: String::new(),
        }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("Access-Control-Allow-Origin", "*")
            .header("Content-Type", "application/json");
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        let resp = req.send().await.expect("lndhub request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None, Some(&self.access_token))
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(
            reqwest::Method::POST,
            path,
            Some(body),
            Some(&self.access_token),
        )
        .await
    }

    /// `authorize()`: login and password for a token pair.
    pub async fn authorize(&mut self) -> (u16, Value) {
        let body = json!({"login": self.login, "password": self.password});
        let (status, json) = self
            .send(reqwest::Method::POST, "/auth?type=auth", Some(body), None)
            .await;
        if status == 200 {
            self.take_tokens(&json);
        }
        (status, json)
    }

    /// `refreshAcessToken()`.
    pub async fn refresh(&mut self) -> (u16, Value) {
        let body = json!({"refresh_token": self.refresh_token});
        let (status, json) = self
            .send(
                reqwest::Method::POST,
                "/auth?type=refresh_token",
                Some(body),
                None,
            )
            .await;
        if status == 200 {
            self.take_tokens(&json);
        }
        (status, json)
    }

    fn take_tokens(&mut self, json: &Value) {
        self.access_token = json["access_token"].as_str().expect("access").to_string();
        self.refresh_token = json["refresh_token"].as_str().expect("refresh").to_string();
    }

    /// `fetchBalance()`: satoshis.
    pub async fn balance(&self) -> u64 {
        let (status, json) = self.get("/balance").await;
        assert_eq!(status, 200, "{json}");
        json["BTC"]["AvailableBalance"].as_u64().expect("balance")
    }

    /// `addInvoice(amt, memo)`: `amt` sent as a string, as BlueWallet does.
    pub async fn add_invoice(&self, sats: u64, memo: &str) -> String {
        let (status, json) = self
            .post(
                "/addinvoice",
                json!({"amt": format!("{sats}"), "memo": memo}),
            )
            .await;
        assert_eq!(status, 200, "{json}");
        assert!(json["r_hash"].is_string(), "{json}");
        json["pay_req"].as_str().expect("pay_req").to_string()
    }

    /// `payInvoice(invoice, 0)`.
    pub async fn pay(&self, invoice: &str) -> (u16, Value) {
        self.post("/payinvoice", json!({"invoice": invoice, "amount": 0}))
            .await
    }

    pub async fn list(&self, path: &str) -> Vec<Value> {
        let (status, json) = self.get(path).await;
        assert_eq!(status, 200, "{path}: {json}");
        json.as_array().expect("array").clone()
    }
}

/// Asserts LndHub's bad-auth answer: `{"error":true,"code":1,...}`.
pub fn assert_bad_auth(answer: &(u16, Value)) {
    assert_eq!(answer.1["error"], true, "{answer:?}");
    assert_eq!(answer.1["code"], 1, "{answer:?}");
    assert_eq!(answer.0, 401, "{answer:?}");
}

/// Waits for racing `payinvoice` calls: how many were paid. Every other answer must be the
/// refusal for a short balance (400, code 2).
pub async fn count_paid(mut jobs: tokio::task::JoinSet<(u16, Value)>) -> u64 {
    let mut ok = 0u64;
    while let Some(r) = jobs.join_next().await {
        let (status, body) = r.expect("join");
        match status {
            200 => ok += 1,
            400 => assert_eq!(body["code"], 2, "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    ok
}
