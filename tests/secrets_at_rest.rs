//! Secrets at rest (issue #12, item 9): the gateway started with `umask 000` still creates its
//! data directory 0700 and every file in it (embedded store, fake node key and database, admin
//! token) 0600.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::process::{free_port, wait_for};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn data_dir_is_0700_and_its_files_0600_under_umask_000() {
    let tmp = tempfile::tempdir().expect("tmp");
    // Two levels that do not exist yet: both are created by the gateway.
    let data = tmp.path().join("state").join("data");
    let (public, admin) = (free_port(), free_port());
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(r#"umask 000 && exec "$0" serve"#)
        .arg(env!("CARGO_BIN_EXE_lnaddr"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("LNADDR_LISTEN", format!("127.0.0.1:{public}"))
        .env("LNADDR_ADMIN_LISTEN", format!("127.0.0.1:{admin}"))
        .env("LNADDR_DATA_DIR", &data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn lnaddr");
    let http = reqwest::Client::new();
    wait_for("the gateway to answer", Duration::from_secs(30), || async {
        let up = http
            .get(format!("http://127.0.0.1:{public}/healthz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        (up && data.join("admin.token").exists()).then_some(())
    })
    .await;
    let _ = child.kill();
    let _ = child.wait();

    // The umask really was 000: a file the shell makes under it is world-writable.
    let probe = tmp.path().join("probe");
    let status = Command::new("sh")
        .arg("-c")
        .arg(r#"umask 000 && : > "$0""#)
        .arg(&probe)
        .status()
        .expect("sh");
    assert!(status.success());
    assert_eq!(mode(&probe), 0o666);

    assert_eq!(mode(&data), 0o700, "data_dir");
    assert_eq!(
        mode(data.parent().expect("parent")),
        0o700,
        "created parent"
    );
    let mut files: Vec<_> = std::fs::read_dir(&data)
        .expect("read data dir")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    for name in [
        "admin.token",
        "lnaddr.redb",
        "fake-node.key",
        "fake-node.redb",
    ] {
        assert!(files.contains(&data.join(name)), "{name} in {files:?}");
    }
    for file in &files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
}
