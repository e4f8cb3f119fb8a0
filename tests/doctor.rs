//! `lnaddr doctor` against the LND simulator and a running gateway: a healthy setup has no failure;
//! a wrong macaroon, a macaroon missing or exceeding lnaddr's permissions, a node on another
//! network, and a domain whose proxy points elsewhere are each named with what to do.

mod lnd_sim;
mod support;

use std::path::Path;

use lnaddr::app::{Running, start_with_listeners};
use lnaddr::config::Settings;
use lnaddr::doctor::{Level, Options, REQUIRED_PERMISSIONS, Report, run};
use lnd_sim::LndSim;
use support::lnd_gateway::{Lnd, lnd_env};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn settings(data: &Path, public: u16, admin: u16, lnd: &Lnd, public_url: &str) -> Settings {
    settings_with(data, public, admin, lnd, public_url, &[])
}

/// [`settings`] with more `LNADDR_*` variables.
fn settings_with(
    data: &Path,
    public: u16,
    admin: u16,
    lnd: &Lnd,
    public_url: &str,
    extra: &[(&str, String)],
) -> Settings {
    let mut env = lnd_env(data, public, lnd);
    env.retain(|(k, _)| k != "LNADDR_DOMAINS");
    env.extend([
        ("LNADDR_LISTEN".to_string(), format!("127.0.0.1:{public}")),
        (
            "LNADDR_ADMIN_LISTEN".to_string(),
            format!("127.0.0.1:{admin}"),
        ),
        (
            "LNADDR_DOMAINS".to_string(),
            format!(r#"[{{name="localhost", public_url="{public_url}"}}]"#),
        ),
    ]);
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    Settings::load(None, env).expect("settings")
}

/// A gateway on the simulator with `macaroon`; its domain's public URL is `public_url`, or the
/// gateway itself (a proxy that forwards correctly) when `None`.
async fn gateway(data: &Path, lnd: &Lnd, public_url: Option<&str>) -> (Settings, Running) {
    gateway_with(data, lnd, public_url, &[]).await
}

/// [`gateway`] with more `LNADDR_*` variables.
async fn gateway_with(
    data: &Path,
    lnd: &Lnd,
    public_url: Option<&str>,
    extra: &[(&str, String)],
) -> (Settings, Running) {
    let public = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let admin = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let (p, a) = (
        public.local_addr().expect("addr").port(),
        admin.local_addr().expect("addr").port(),
    );
    let own = format!("http://127.0.0.1:{p}");
    let s = settings_with(data, p, a, lnd, public_url.unwrap_or(&own), extra);
    let running = start_with_listeners(s.clone(), public, admin)
        .await
        .expect("start");
    (s, running)
}

/// A web server that answers every request with another site's page.
async fn elsewhere() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let body = "<html><body>Welcome to nginx!</body></html>";
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    url
}

fn lines(report: &Report, level: Level) -> Vec<String> {
    report
        .0
        .iter()
        .filter(|f| f.level == level)
        .map(ToString::to_string)
        .collect()
}

fn has(report: &Report, level: Level, text: &str) -> bool {
    lines(report, level).iter().any(|l| l.contains(text))
}

fn regtest(check_macaroon: Option<&Path>) -> Options {
    Options {
        network: Some(bitcoin::Network::Regtest),
        check_macaroon: check_macaroon.map(Path::to_path_buf),
        admin_token: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_setup_passes_and_extra_permissions_are_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    let baked = sim.bake("lnaddr.macaroon", REQUIRED_PERMISSIONS);
    let lnd = Lnd {
        endpoint: sim.endpoint(),
        cert: sim.cert_path(),
        macaroon: baked.clone(),
    };
    let (s, running) = gateway(&dir.path().join("data"), &lnd, None).await;
    let client = lnaddr::client::AdminClient::from_settings(&s, None, None).expect("client");
    client
        .create_account("alice@localhost", None)
        .await
        .expect("account");

    // lnaddr's least-privilege macaroon cannot ask LND about macaroons, as it should not.
    let report = run(&s, &regtest(None)).await;
    assert!(!report.failed(), "{report}");
    assert!(has(&report, Level::Ok, "no macaroon:read"), "{report}");
    assert!(
        has(
            &report,
            Level::Ok,
            "/.well-known/lnurlp/alice answers with this gateway's answer"
        ),
        "{report}"
    );
    assert!(has(&report, Level::Ok, "LND is on regtest"), "{report}");

    // Asked with LND's admin macaroon: every needed permission, nothing more.
    let report = run(&s, &regtest(Some(&sim.macaroon_path()))).await;
    assert!(!report.failed(), "{report}");
    assert!(
        has(&report, Level::Ok, "grants every permission lnaddr needs"),
        "{report}"
    );
    assert!(lines(&report, Level::Warn).is_empty(), "{report}");

    // The gateway handed LND's admin macaroon: the extras are named, with what to do.
    let admin_lnd = Lnd {
        macaroon: sim.macaroon_path(),
        ..lnd.clone()
    };
    let s_admin = settings(
        &dir.path().join("data"),
        s.listen.port(),
        s.admin_listen.port(),
        &admin_lnd,
        &format!("http://{}", s.listen),
    );
    let report = run(&s_admin, &regtest(None)).await;
    assert!(
        has(
            &report,
            Level::Warn,
            "also grants onchain:read onchain:write"
        ),
        "{report}"
    );
    assert!(has(&report, Level::Warn, "macaroon:read"), "{report}");
    assert!(has(&report, Level::Warn, "bake one with only"), "{report}");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_missing_and_foreign_are_each_a_failure_with_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");

    // A macaroon of another node: LND refuses it.
    let foreign = dir.path().join("other-node.macaroon");
    std::fs::write(&foreign, [7u8; 32]).expect("write");
    let wrong = Lnd {
        endpoint: sim.endpoint(),
        cert: sim.cert_path(),
        macaroon: foreign,
    };
    let s = settings(&dir.path().join("d1"), 1, 2, &wrong, "http://127.0.0.1:1");
    let report = run(&s, &regtest(None)).await;
    assert!(
        has(&report, Level::Fail, "refused the macaroon"),
        "{report}"
    );
    assert!(has(&report, Level::Fail, "bake a macaroon"), "{report}");
    assert!(has(&report, Level::Warn, "no gateway answers"), "{report}");

    // A macaroon without offchain:write (withdrawals would fail).
    let short = sim.bake(
        "short.macaroon",
        &[
            ("info", "read"),
            ("invoices", "read"),
            ("invoices", "write"),
            ("offchain", "read"),
        ],
    );
    let lnd = Lnd {
        endpoint: sim.endpoint(),
        cert: sim.cert_path(),
        macaroon: short,
    };
    let s = settings(&dir.path().join("d2"), 1, 2, &lnd, "http://127.0.0.1:1");
    let report = run(&s, &regtest(Some(&sim.macaroon_path()))).await;
    assert!(
        has(&report, Level::Fail, "lacks offchain:write"),
        "{report}"
    );

    // The node is regtest; a mainnet gateway expects bitcoin.
    let options = Options {
        network: Some(bitcoin::Network::Bitcoin),
        ..regtest(None)
    };
    let report = run(&s, &options).await;
    assert!(
        has(&report, Level::Fail, "LND is on regtest, expected bitcoin"),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_whose_proxy_points_elsewhere_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    let lnd = Lnd {
        endpoint: sim.endpoint(),
        cert: sim.cert_path(),
        macaroon: sim.bake("lnaddr.macaroon", REQUIRED_PERMISSIONS),
    };
    let other = elsewhere().await;
    let (s, running) = gateway(&dir.path().join("data"), &lnd, Some(&other)).await;
    let report = run(&s, &regtest(None)).await;
    assert!(report.failed(), "{report}");
    assert!(
        has(&report, Level::Fail, "answers something else (200: <html>"),
        "{report}"
    );
    assert!(
        has(
            &report,
            Level::Fail,
            "the proxy must forward /.well-known/lnurlp/"
        ),
        "{report}"
    );

    // The same check through the CLI: one line per finding, exit status 1.
    let out = tokio::task::spawn_blocking({
        let s = s.clone();
        move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_lnaddr"))
                .args(["doctor", "--network", "regtest"])
                .env_clear()
                .env("LNADDR_LISTEN", s.listen.to_string())
                .env("LNADDR_ADMIN_LISTEN", s.admin_listen.to_string())
                .env("LNADDR_ADMIN_TOKEN", support::lnd_gateway::TOKEN)
                .env("LNADDR_LIMITS__ENABLED", "false")
                .env("LNADDR_LIGHTNING__KIND", "lnd")
                .env("LNADDR_LIGHTNING__LND__ENDPOINT", sim.endpoint())
                .env("LNADDR_LIGHTNING__LND__TLS_CERT", sim.cert_path())
                .env("LNADDR_LIGHTNING__LND__MACAROON", sim.macaroon_path())
                .env(
                    "LNADDR_DOMAINS",
                    format!(r#"[{{name="localhost", public_url="{other}"}}]"#),
                )
                .output()
                .expect("doctor")
        }
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout
            .lines()
            .next()
            .is_some_and(|l| l.starts_with("ok   the configuration loads")),
        "{stdout}"
    );
    assert!(
        stdout.lines().any(|l| l.starts_with("FAIL localhost:")),
        "{stdout}"
    );
    running.shutdown().await;
}

/// A port nothing listens on (bound, then let go).
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("addr").port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nwc_relays_and_webhook_addresses_are_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sim = LndSim::start(&dir.path().join("lnd")).await.expect("sim");
    let lnd = Lnd {
        endpoint: sim.endpoint(),
        cert: sim.cert_path(),
        macaroon: sim.bake("lnaddr.macaroon", REQUIRED_PERMISSIONS),
    };
    let dead = format!("ws://127.0.0.1:{}", closed_port().await);
    let (s, running) = gateway_with(
        &dir.path().join("data"),
        &lnd,
        None,
        &[
            ("LNADDR_NWC__RELAYS", format!(r#"["{dead}"]"#)),
            ("LNADDR_WEBHOOKS__ALLOW_PRIVATE_ADDRESSES", "true".into()),
        ],
    )
    .await;
    let client = lnaddr::client::AdminClient::from_settings(&s, None, None).expect("client");
    let hook = client
        .add_webhook("http://127.0.0.1:9/hook", &[], None)
        .await
        .expect("webhook");
    let id = hook["id"].as_str().expect("id");

    let report = run(&s, &regtest(None)).await;
    assert!(
        has(
            &report,
            Level::Warn,
            &format!("NWC relay {dead} is not reachable")
        ),
        "{report}"
    );
    assert!(
        has(&report, Level::Fail, "no NWC relay is reachable"),
        "{report}"
    );
    assert!(
        has(
            &report,
            Level::Warn,
            "webhooks.allow_private_addresses is on"
        ),
        "{report}"
    );
    assert!(
        has(
            &report,
            Level::Warn,
            &format!("webhook {id} posts to the non-public address 127.0.0.1")
        ),
        "{report}"
    );

    // One reachable relay is enough; the webhook check is the same.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let live = format!("ws://{}", listener.local_addr().expect("addr"));
    let mut s_live = s.clone();
    s_live.nwc.relays = vec![live.clone()];
    let report = run(&s_live, &regtest(None)).await;
    assert!(
        has(
            &report,
            Level::Ok,
            &format!("NWC relay {live} is reachable")
        ),
        "{report}"
    );
    assert!(!has(&report, Level::Fail, "NWC relay"), "{report}");
    running.shutdown().await;
}
