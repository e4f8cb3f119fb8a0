//! Backup and restore of the embedded store: `lnaddr backup --out FILE` takes a consistent snapshot
//! through the running gateway while payments keep being credited, and `lnaddr restore FILE`
//! (gateway stopped) brings back every credit acknowledged before the backup began; the settle
//! cursor in the backup makes the node replay what was paid since, credited once each.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;
use support::gateway::{TOKEN, TestGateway};

const USERS: [&str; 2] = ["alice", "bob"];

/// The payment hash of a callback answer (the last segment of its LUD-21 verify URL).
fn hash_of(callback: &Value) -> String {
    let verify = callback["verify"].as_str().expect("verify url");
    verify.rsplit('/').next().expect("hash").to_string()
}

/// Every credited payment hash of `user`, with its amount, from the admin ledger.
async fn credits(gw: &TestGateway, user: &str) -> BTreeMap<String, u64> {
    let (status, body) = gw
        .admin(
            reqwest::Method::GET,
            &format!("/api/v1/accounts/{user}@localhost/transactions?limit=1000"),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let mut credits = BTreeMap::new();
    for t in body.as_array().expect("ledger") {
        if t["kind"] != "credit" {
            continue;
        }
        let hash = t["payment_hash"].as_str().expect("hash").to_string();
        let amount = t["amount_msat"].as_u64().expect("amount");
        assert!(
            credits.insert(hash.clone(), amount).is_none(),
            "{user}: {hash} credited twice"
        );
    }
    credits
}

fn cli(gw: &TestGateway, token_file: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_lnaddr"))
        .args(["--admin-url", &gw.admin, "--token-file"])
        .arg(token_file)
        .args(args)
        .env_clear()
        .env("LNADDR_DATA_DIR", &gw.dir)
        .output()
        .expect("run cli")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_taken_under_load_restores_every_acknowledged_credit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let gw = TestGateway::start(&data).await;
    for user in USERS {
        gw.create_account(&format!("{user}@localhost")).await;
    }
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, TOKEN).expect("token");

    // Load: invoices issued and paid without pause, on both accounts, until told to stop.
    let gw = Arc::new(gw);
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for (i, user) in USERS.iter().enumerate() {
        let (gw, stop) = (gw.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            let mut n = 0u64;
            // Capped, so every credit stays within one page of the ledger API (1000 entries).
            while !stop.load(Ordering::SeqCst) && n < 200 {
                let amount = 1000 * (1 + i as u64) + n;
                let inv = gw.invoice(user, amount).await;
                let (status, body) = gw.fake_pay(inv["pr"].as_str().expect("pr")).await;
                assert_eq!(status, 200, "{body}");
                n += 1;
            }
            n
        }));
    }
    // An invoice issued now and paid only after the backup: the restored cursor must replay it.
    let late = gw.invoice("alice", 777_000).await;

    support::process::wait_for("credits under load", Duration::from_secs(60), || {
        let gw = gw.clone();
        async move { (credits(&gw, "alice").await.len() >= 10).then_some(()) }
    })
    .await;
    // Acknowledged before the backup begins: what the ledger shows now.
    let mut acknowledged = BTreeMap::new();
    for user in USERS {
        acknowledged.insert(user, credits(&gw, user).await);
    }
    let file = dir.path().join("snapshot.redb");
    let out = {
        let (gw, token_file, file) = (gw.clone(), token_file.clone(), file.clone());
        tokio::task::spawn_blocking(move || {
            cli(
                &gw,
                &token_file,
                &["backup", "--out", file.to_str().expect("utf8")],
            )
        })
        .await
        .expect("join")
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file)
            .expect("backup file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the backup holds every balance");
    }
    // More credits after the backup, then the late invoice.
    support::process::wait_for("credits after the backup", Duration::from_secs(60), || {
        let (gw, before) = (gw.clone(), acknowledged["alice"].len());
        async move { (credits(&gw, "alice").await.len() >= before + 5).then_some(()) }
    })
    .await;
    stop.store(true, Ordering::SeqCst);
    for task in load {
        task.await.expect("load task");
    }
    let (status, body) = gw.fake_pay(late["pr"].as_str().expect("pr")).await;
    assert_eq!(status, 200, "{body}");
    let late_hash = hash_of(&late);
    support::process::wait_for("the late credit", Duration::from_secs(60), || {
        let (gw, h) = (gw.clone(), late_hash.clone());
        async move { credits(&gw, "alice").await.contains_key(&h).then_some(()) }
    })
    .await;
    let mut final_credits = BTreeMap::new();
    for user in USERS {
        final_credits.insert(user, credits(&gw, user).await);
    }

    // A running gateway's store is never overwritten.
    let refused = cli(&gw, &token_file, &["restore", file.to_str().expect("utf8")]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("stop it first"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    let mut gw = Arc::into_inner(gw).expect("load tasks done");
    gw.running.take().expect("running").shutdown().await;
    let out = cli(&gw, &token_file, &["restore", file.to_str().expect("utf8")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kept: Vec<_> = std::fs::read_dir(&data)
        .expect("data dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("before-restore"))
        .collect();
    assert_eq!(kept.len(), 1, "the replaced store is kept beside it");

    gw.restart().await;
    // The backup's older settle cursor replays the late payment: credited, once.
    support::process::wait_for("the late credit replayed", Duration::from_secs(60), || {
        let (gw, h) = (&gw, late_hash.clone());
        async move { credits(gw, "alice").await.contains_key(&h).then_some(()) }
    })
    .await;
    for user in USERS {
        let restored = credits(&gw, user).await;
        // Every credit acknowledged before the backup is there ...
        for (hash, amount) in &acknowledged[user] {
            assert_eq!(
                restored.get(hash),
                Some(amount),
                "{user}: credit {hash} lost"
            );
        }
        // ... nothing that was not paid (each hash once: `credits`), and the balance is the ledger's sum.
        for (hash, amount) in &restored {
            assert_eq!(
                final_credits[user].get(hash),
                Some(amount),
                "{user}: {hash}"
            );
        }
        let sum: u64 = restored.values().sum();
        assert_eq!(
            gw.balance(&format!("{user}@localhost")).await,
            sum,
            "{user}"
        );
    }
}
