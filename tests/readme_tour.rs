//! The README's five-minute tour, run as written against a fresh `lnaddr serve` (the README's first
//! set-up command), so the tour cannot drift from what the gateway does. The commands are taken
//! from the README itself; only `cargo run -q --` becomes the built binary and the ports 8080/8081
//! become free ones, since tests never take the default ports.

mod support;

use std::process::Command;
use std::time::Duration;

use support::process::{free_port, wait_for};

/// The shell block under `## A five-minute tour`.
fn tour_commands() -> String {
    let readme = include_str!("../README.md");
    let section = readme
        .split("\n## A five-minute tour")
        .nth(1)
        .expect("README has a five-minute tour");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .expect("the tour is a sh block");
    block.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_tour_runs_as_written() {
    let tour = tour_commands();
    assert!(tour.contains("cargo run -q -- account add"), "{tour}");
    let (public, admin) = (free_port(), free_port());
    let script = tour
        .replace("cargo run -q --", "\"$LNADDR\"")
        .replace("8080", &public.to_string())
        .replace("8081", &admin.to_string());

    // `cargo run -- serve` with no config, in a fresh directory: data goes to ./data.
    let dir = tempfile::tempdir().expect("tempdir");
    let env = [
        ("LNADDR", env!("CARGO_BIN_EXE_lnaddr").to_string()),
        ("LNADDR_LISTEN", format!("127.0.0.1:{public}")),
        ("LNADDR_ADMIN_LISTEN", format!("127.0.0.1:{admin}")),
        ("PATH", std::env::var("PATH").unwrap_or_default()),
    ];
    let log = std::fs::File::create(dir.path().join("serve.log")).expect("log");
    let mut serve = Command::new(env!("CARGO_BIN_EXE_lnaddr"))
        .arg("serve")
        .current_dir(dir.path())
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("serve");
    let http = reqwest::Client::new();
    let health = format!("http://localhost:{public}/healthz");
    wait_for(
        "lnaddr serve to answer",
        Duration::from_secs(20),
        || async { http.get(&health).send().await.ok().map(|_| ()) },
    )
    .await;

    let out = tokio::task::spawn_blocking({
        let dir = dir.path().to_path_buf();
        let env = env.clone();
        move || {
            Command::new("bash")
                .args(["-euo", "pipefail", "-c", &script])
                .current_dir(dir)
                .env_clear()
                .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
                .output()
                .expect("bash")
        }
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let serve_log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default();
    assert!(
        out.status.success(),
        "tour failed\n{stdout}\n{stderr}\n{serve_log}"
    );
    // What the tour promises a reader sees: the lookup, an invoice with its verify URL.
    assert!(stdout.contains(r#""tag":"payRequest""#), "{stdout}");
    assert!(stdout.contains(r#""pr":"lnbcrt"#), "{stdout}");
    assert!(stdout.contains("/verify/"), "{stdout}");

    // The 21 sat the tour paid reach alice's balance (credited by the settlement follower).
    let token = std::fs::read_to_string(dir.path().join("data/admin.token")).expect("token");
    let account = format!("http://127.0.0.1:{admin}/api/v1/accounts/alice@localhost:{public}");
    wait_for("alice to hold 21 sat", Duration::from_secs(10), || async {
        let resp = http
            .get(&account)
            .bearer_auth(token.trim())
            .send()
            .await
            .ok()?;
        let body: serde_json::Value = resp.json().await.ok()?;
        (body["balance_msat"] == 21_000).then_some(())
    })
    .await;
    let _ = serve.kill();
    let _ = serve.wait();
}
