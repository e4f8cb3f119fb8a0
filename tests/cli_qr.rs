//! The CLI's printed QR codes, read back by a QR decoder, against a real gateway process: `lnaddr
//! lndhub create` (the lndhub:// string, which then opens the wallet), `lnaddr withdraw create`
//! (the LNURL of a voucher) and `lnaddr nwc create` (the NWC URI, which then reads the balance).

mod support;

use std::time::Duration;

use serde_json::Value;
use support::lndhub::{Wallet, assert_bad_auth};
use support::process::GatewayProcess;
use support::zaps::relay;

const WAIT: Duration = Duration::from_secs(30);

/// Reads back a QR code printed with Unicode half blocks (`lnaddr::withdraw::qr::terminal`).
fn decode_terminal_qr(text: &str) -> Option<String> {
    let rows: Vec<Vec<char>> = text
        .lines()
        .filter(|l| !l.is_empty() && l.chars().all(|c| " ▀▄█".contains(c)))
        .map(|l| l.chars().collect())
        .collect();
    let width = rows.iter().map(Vec::len).max()?;
    const SCALE: usize = 4;
    for invert in [false, true] {
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(
            width * SCALE,
            rows.len() * 2 * SCALE,
            |x, y| {
                let (col, half) = (x / SCALE, y / SCALE);
                let c = rows[half / 2].get(col).copied().unwrap_or(' ');
                let top = half % 2 == 0;
                let filled = match c {
                    '█' => true,
                    '▀' => top,
                    '▄' => !top,
                    _ => false,
                };
                if filled ^ invert { 255 } else { 0 }
            },
        );
        for grid in img.detect_grids() {
            if let Ok((_, content)) = grid.decode() {
                return Some(content);
            }
        }
    }
    None
}

/// A gateway process (with `env`) that is up, and `alice` on its default domain
/// (`localhost:<port>`): the process and her address.
async fn alice_on_a_gateway(
    dir: &std::path::Path,
    env: &[(&str, &str)],
) -> (GatewayProcess, String) {
    let g = GatewayProcess::start(dir, env);
    g.wait_healthy(&reqwest::Client::new(), WAIT).await;
    let address = format!("alice@localhost:{}", g.public_port);
    g.cli_ok(&["account", "add", &address]);
    (g, address)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_prints_the_lndhub_string_and_its_qr_code() {
    let dir = tempfile::tempdir().expect("tmp");
    let (g, address) = alice_on_a_gateway(dir.path(), &[]).await;
    let cli = |args: &[&str]| g.cli_ok(args);
    let domain = format!("localhost:{}", g.public_port);
    let http = reqwest::Client::new();
    let out = cli(&["lndhub", "create", &address]);
    let line = out
        .lines()
        .find(|l| l.starts_with("lndhub://"))
        .expect("the lndhub:// line");
    assert!(
        line.ends_with(&format!("@http://{domain}/lndhub")),
        "{line}"
    );
    assert_eq!(
        decode_terminal_qr(&out).as_deref(),
        Some(line),
        "the QR code holds the string"
    );

    // The printed string opens the wallet (the domain's public URL is this process).
    let mut w = Wallet::import(&http, line, None);
    assert_eq!(w.authorize().await.0, 200);
    assert_eq!(w.balance().await, 0);
    let listed: Value = serde_json::from_str(&cli(&["lndhub", "list", &address])).expect("json");
    assert_eq!(listed[0]["login"], w.login.as_str());
    assert!(
        !listed.to_string().contains(&w.password),
        "the password is never listed"
    );
    let revoked: Value = serde_json::from_str(&cli(&["lndhub", "revoke", &w.login])).expect("json");
    assert_eq!(revoked["revoked"], true);
    assert_bad_auth(&w.get("/balance").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_creates_a_voucher_with_a_terminal_qr_code() {
    let dir = tempfile::tempdir().expect("tmp");
    let (g, address) = alice_on_a_gateway(dir.path(), &[]).await;
    let cli = |args: &[&str]| g.cli_ok(args);
    let out = cli(&[
        "withdraw",
        "create",
        &address,
        "--max-sat",
        "1000",
        "--uses",
        "1",
    ]);
    let lnurl = out
        .lines()
        .find(|l| l.starts_with("LNURL1"))
        .expect("an LNURL line");
    assert_eq!(
        decode_terminal_qr(&out).as_deref(),
        Some(lnurl),
        "the QR code holds the LNURL"
    );
    let url = lnaddr::lnurl::decode(lnurl).expect("lnurl");
    assert!(url.contains("/lnurlw/"), "{url}");
    let k1 = url.rsplit('/').next().expect("k1");
    let shown: Value = serde_json::from_str(&cli(&["withdraw", "show", k1])).expect("json");
    assert_eq!(shown["max_msat"], 1_000_000);
    let disabled: Value = serde_json::from_str(&cli(&["withdraw", "disable", k1])).expect("json");
    assert_eq!(disabled["disabled"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_creates_an_nwc_connection_with_its_uri_and_qr_code() {
    let (_relay, relay_url) = relay(0).await;
    let dir = tempfile::tempdir().expect("tmp");
    let relays = format!("[{relay_url:?}]");
    let (g, address) =
        alice_on_a_gateway(dir.path(), &[("LNADDR_NWC__RELAYS", relays.as_str())]).await;
    let cli = |args: &[&str]| g.cli_ok(args);
    let out = cli(&["nwc", "create", &address, "--budget-sat", "1000"]);
    let uri = out
        .lines()
        .find(|l| l.starts_with("nostr+walletconnect://"))
        .expect("the URI line");
    assert_eq!(
        decode_terminal_qr(&out).as_deref(),
        Some(uri),
        "the QR code holds the URI"
    );
    let parsed = nwc::prelude::NostrWalletConnectURI::parse(uri).expect("a valid NWC URI");
    assert_eq!(parsed.relays.len(), 1);
    // The printed URI works: its client reads the balance.
    let client = nwc::NWC::new(parsed);
    assert_eq!(client.get_balance().await.expect("get_balance"), 0);
    let listed: Value = serde_json::from_str(&cli(&["nwc", "list", &address])).expect("json");
    assert_eq!(listed[0]["wallet_pubkey"], client_wallet(uri));
    assert!(
        !listed.to_string().contains(uri),
        "the secret is shown only at creation"
    );
}

/// The wallet service's public key in an NWC URI (its host part).
fn client_wallet(uri: &str) -> String {
    let rest = uri.strip_prefix("nostr+walletconnect://").expect("scheme");
    rest.split('?').next().expect("pubkey").to_string()
}
