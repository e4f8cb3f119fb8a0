//! The gateway with `lightning.kind = "lnd"` against the LND simulator, over real TLS sockets:
//! the pay flow, startup errors (macaroon, certificate), LND down at start, dropped streams and
//! settlements while the gateway is stopped (each credited exactly once).

mod lnd_sim;
mod support;

use std::path::Path;
use std::time::Duration;

use bitcoin::hashes::Hash;
use lightning_invoice::Bolt11Invoice;
use lnaddr::app::{Running, StartError, start_with_listeners};
use lnaddr::config::Settings;
use lnd_sim::LndSim;
use serde_json::Value;
use sha2::Digest;
use support::process::wait_for;
use tokio::net::TcpListener;

const TOKEN: &str = "test-admin-token-0123456789";
const WAIT: Duration = Duration::from_secs(20);

struct Lnd<'a> {
    endpoint: String,
    cert: &'a Path,
    macaroon: &'a Path,
}

impl<'a> Lnd<'a> {
    fn of(sim: &'a LndSimPaths) -> Lnd<'a> {
        Lnd {
            endpoint: sim.endpoint.clone(),
            cert: &sim.cert,
            macaroon: &sim.macaroon,
        }
    }
}

struct LndSimPaths {
    endpoint: String,
    cert: std::path::PathBuf,
    macaroon: std::path::PathBuf,
}

fn paths(sim: &LndSim) -> LndSimPaths {
    LndSimPaths {
        endpoint: sim.endpoint(),
        cert: sim.cert_path(),
        macaroon: sim.macaroon_path(),
    }
}

async fn start(data: &Path, lnd: &Lnd<'_>) -> Result<Running, StartError> {
    let public = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let admin = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = public.local_addr().expect("addr").port();
    let env = [
        ("LNADDR_DATA_DIR", data.display().to_string()),
        ("LNADDR_ADMIN_TOKEN", TOKEN.to_string()),
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
    let settings = Settings::load(None, env.map(|(k, v)| (k.to_string(), v))).expect("settings");
    start_with_listeners(settings, public, admin).await
}

struct Client {
    http: reqwest::Client,
    public: String,
    admin: String,
}

impl Client {
    fn of(running: &Running) -> Client {
        Client {
            http: reqwest::Client::new(),
            public: format!("http://{}", running.public_addr),
            admin: format!("http://{}", running.admin_addr),
        }
    }

    async fn get(&self, url: &str) -> (u16, Value) {
        let resp = self.http.get(url).send().await.expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn public(&self, path: &str) -> (u16, Value) {
        self.get(&format!("{}{path}", self.public)).await
    }

    async fn admin(&self, path: &str) -> Value {
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

    async fn create_account(&self, address: &str) {
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

    async fn balance(&self, address: &str) -> u64 {
        self.admin(&format!("/api/v1/accounts/{address}")).await["balance_msat"]
            .as_u64()
            .expect("balance")
    }

    async fn credits(&self, address: &str) -> usize {
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
    async fn invoice(&self, name: &str, amount: u64) -> (String, String, String) {
        let (status, pay) = self.public(&format!("/.well-known/lnurlp/{name}")).await;
        assert_eq!(status, 200, "{pay}");
        let callback = pay["callback"].as_str().expect("callback").to_string();
        let metadata = pay["metadata"].as_str().expect("metadata").to_string();
        let (status, answer) = self.get(&format!("{callback}?amount={amount}")).await;
        assert_eq!(status, 200, "{answer}");
        let pr = answer["pr"].as_str().expect("pr").to_string();
        let verify = answer["verify"].as_str().expect("verify").to_string();
        (pr, verify, metadata)
    }

    async fn wait_balance(&self, address: &str, want: u64) {
        wait_for(&format!("balance {want}"), WAIT, || async {
            (self.balance(address).await == want).then_some(())
        })
        .await;
    }
}

#[tokio::test]
async fn pay_flow_over_lnd_credits_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    let p = paths(&sim);
    let gw = start(&dir.path().join("gw"), &Lnd::of(&p))
        .await
        .expect("start");
    let c = Client::of(&gw);
    c.create_account("alice@localhost").await;
    let (status, _) = c.public("/readyz").await;
    assert_eq!(status, 200);

    let (pr, verify, metadata) = c.invoice("alice", 21_000).await;
    let invoice: Bolt11Invoice = pr.parse().expect("bolt11");
    assert_eq!(invoice.amount_milli_satoshis(), Some(21_000));
    let want_hash: [u8; 32] = sha2::Sha256::digest(metadata.as_bytes()).into();
    match invoice.description() {
        lightning_invoice::Bolt11InvoiceDescriptionRef::Hash(h) => {
            assert_eq!(h.0.to_byte_array(), want_hash)
        }
        other => panic!("expected a description hash, got {other:?}"),
    }
    assert_eq!(
        hex::encode(invoice.recover_payee_pub_key().serialize()),
        sim.pubkey()
    );
    let (_, before) = c.get(&verify).await;
    assert_eq!(before["settled"], false);

    sim.settle(&pr).expect("settle");
    c.wait_balance("alice@localhost", 21_000).await;
    let (status, after) = c.get(&verify).await;
    assert_eq!(status, 200);
    assert_eq!(after["settled"], true);
    let preimage = hex::decode(after["preimage"].as_str().expect("preimage")).expect("hex");
    let hash: [u8; 32] = sha2::Sha256::digest(&preimage).into();
    assert_eq!(&hash, invoice.payment_hash().as_byte_array());

    // A dropped stream replays from the cursor: nothing is credited twice.
    sim.drop_streams();
    wait_for("a new subscription", WAIT, || async {
        (sim.open_streams() == 1).then_some(())
    })
    .await;
    let (pr2, _, _) = c.invoice("alice", 1_000).await;
    sim.settle(&pr2).expect("settle");
    c.wait_balance("alice@localhost", 22_000).await;
    assert_eq!(c.credits("alice@localhost").await, 2);
    gw.shutdown().await;
}

#[tokio::test]
async fn wrong_macaroon_is_a_clear_startup_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    let p = paths(&sim);
    let wrong = dir.path().join("wrong.macaroon");
    std::fs::write(&wrong, [7u8; 64]).expect("write");
    let lnd = Lnd {
        endpoint: p.endpoint.clone(),
        cert: &p.cert,
        macaroon: &wrong,
    };
    let err = start(&dir.path().join("gw"), &lnd)
        .await
        .err()
        .expect("must not start");
    let text = err.to_string();
    assert!(matches!(err, StartError::Lnd(_)), "{text}");
    assert!(text.contains("refused the macaroon"), "{text}");
    assert!(text.contains(&wrong.display().to_string()), "{text}");
    assert!(!text.contains(&hex::encode([7u8; 64])), "{text}");

    let missing = dir.path().join("missing.macaroon");
    let lnd = Lnd {
        endpoint: p.endpoint.clone(),
        cert: &p.cert,
        macaroon: &missing,
    };
    let err = start(&dir.path().join("gw"), &lnd)
        .await
        .err()
        .expect("err");
    assert!(
        err.to_string().contains(&missing.display().to_string()),
        "{err}"
    );
}

#[tokio::test]
async fn wrong_certificate_is_a_clear_startup_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    let other = LndSim::start(&dir.path().join("other")).await.expect("sim");
    let p = paths(&sim);
    let lnd = Lnd {
        endpoint: p.endpoint.clone(),
        cert: &other.cert_path(),
        macaroon: &p.macaroon,
    };
    let err = start(&dir.path().join("gw"), &lnd)
        .await
        .err()
        .expect("err");
    let text = err.to_string();
    assert!(text.contains("does not match"), "{text}");
    assert!(
        text.contains(&other.cert_path().display().to_string()),
        "{text}"
    );

    let garbage = dir.path().join("garbage.cert");
    std::fs::write(&garbage, "not a certificate").expect("write");
    let lnd = Lnd {
        endpoint: p.endpoint.clone(),
        cert: &garbage,
        macaroon: &p.macaroon,
    };
    let err = start(&dir.path().join("gw"), &lnd)
        .await
        .err()
        .expect("err");
    assert!(
        err.to_string().contains(&garbage.display().to_string()),
        "{err}"
    );
}

#[tokio::test]
async fn lnd_down_at_start_then_back() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    sim.go_down();
    let p = paths(&sim);
    let gw = start(&dir.path().join("gw"), &Lnd::of(&p))
        .await
        .expect("starts anyway");
    let c = Client::of(&gw);
    c.create_account("bob@localhost").await;

    let (status, ready) = c.public("/readyz").await;
    assert_eq!(status, 503, "{ready}");
    let (status, pay) = c.public("/.well-known/lnurlp/bob").await;
    assert_eq!(status, 200, "{pay}");
    let callback = pay["callback"].as_str().expect("callback").to_string();
    let (status, err) = c.get(&format!("{callback}?amount=5000")).await;
    assert_eq!(status, 503, "{err}");
    assert_eq!(err["status"], "ERROR");
    assert!(err["reason"].as_str().is_some());

    sim.come_up();
    wait_for("callbacks answer again", WAIT, || async {
        let (status, _) = c.get(&format!("{callback}?amount=5000")).await;
        (status == 200).then_some(())
    })
    .await;
    let (status, _) = c.public("/readyz").await;
    assert_eq!(status, 200);

    let (pr, _, _) = c.invoice("bob", 7_000).await;
    sim.settle(&pr).expect("settle");
    c.wait_balance("bob@localhost", 7_000).await;

    sim.set_synced(false);
    let (status, _) = c.public("/readyz").await;
    assert_eq!(status, 503);
    gw.shutdown().await;
}

#[tokio::test]
async fn settlements_during_outages_are_credited_exactly_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    let p = paths(&sim);
    let data = dir.path().join("gw");
    let gw = start(&data, &Lnd::of(&p)).await.expect("start");
    let c = Client::of(&gw);
    c.create_account("carol@localhost").await;
    let mut invoices = Vec::new();
    for amount in [1_000, 2_000, 3_000, 4_000] {
        invoices.push(c.invoice("carol", amount).await.0);
    }
    wait_for("the settlement stream", WAIT, || async {
        (sim.open_streams() == 1).then_some(())
    })
    .await;
    // Settled while the gateway is stopped, before it ever saved a cursor (LND replays nothing
    // for settle_index 0: the backlog comes from ListInvoices).
    gw.shutdown().await;
    sim.settle(&invoices[0]).expect("settle");
    let gw = start(&data, &Lnd::of(&p)).await.expect("restart");
    let c = Client::of(&gw);
    c.wait_balance("carol@localhost", 1_000).await;

    // Settled while the stream is down.
    sim.drop_streams();
    sim.settle(&invoices[1]).expect("settle");
    c.wait_balance("carol@localhost", 3_000).await;

    // Settled while LND restarts (every connection cut).
    sim.go_down();
    sim.settle(&invoices[2]).expect("settle");
    sim.come_up();
    c.wait_balance("carol@localhost", 6_000).await;

    // Settled while the gateway is stopped, with a saved cursor.
    gw.shutdown().await;
    sim.settle(&invoices[3]).expect("settle");
    let gw = start(&data, &Lnd::of(&p)).await.expect("restart");
    let c = Client::of(&gw);
    c.wait_balance("carol@localhost", 10_000).await;

    // Replays after all that credit nothing more.
    sim.drop_streams();
    wait_for("a new subscription", WAIT, || async {
        (sim.open_streams() == 1).then_some(())
    })
    .await;
    assert_eq!(c.balance("carol@localhost").await, 10_000);
    assert_eq!(c.credits("carol@localhost").await, 4);
    gw.shutdown().await;
}
