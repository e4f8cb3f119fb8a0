//! `rediss://`: the store over TLS to a real `redis-server` with a TLS port and a private CA
//! (`store.redis.tls_ca_file`), as a managed Redis is reached; a server the gateway does not
//! trust is refused, never used in the clear.

mod support;

use std::path::{Path, PathBuf};

use lnaddr::config::StoreOptions;
use lnaddr::store::redis::RedisStore;
use support::gateway::TestGateway;
use support::redis_server::{RedisServer, cli};

/// A CA, and a certificate for `localhost`/`127.0.0.1` it signed, as PEM files in `dir`:
/// answers (ca, cert, key).
fn certificates(dir: &Path, name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let ca_key = rcgen::KeyPair::generate().expect("ca key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("{name} test CA"));
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).expect("ca");
    let key = rcgen::KeyPair::generate().expect("key");
    let params =
        rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .expect("params");
    let cert = params.signed_by(&key, &ca).expect("cert");
    let paths = (
        dir.join(format!("{name}-ca.pem")),
        dir.join(format!("{name}-cert.pem")),
        dir.join(format!("{name}-key.pem")),
    );
    std::fs::write(&paths.0, ca.pem()).expect("write");
    std::fs::write(&paths.1, cert.pem()).expect("write");
    std::fs::write(&paths.2, key.serialize_pem()).expect("write");
    paths
}

fn options(ca: Option<PathBuf>) -> StoreOptions {
    StoreOptions {
        tls_ca_file: ca,
        ..StoreOptions::default()
    }
}

/// The gateway runs on `rediss://` with the CA of the server: accounts and credits land in that
/// Redis (seen through its plain port), and the balance is read back over TLS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_on_rediss_keeps_its_ledger_over_tls() {
    let certs = tempfile::tempdir().expect("tempdir");
    let (ca, cert, key) = certificates(certs.path(), "server");
    let (redis, tls_port) = RedisServer::start_tls(&cert, &key, &ca);
    let dir = tempfile::tempdir().expect("tempdir");
    let gw = TestGateway::start_with(dir.path(), |url| {
        vec![
            (
                "LNADDR_DOMAINS".into(),
                format!(r#"[{{name="localhost", public_url="{url}"}}]"#),
            ),
            ("LNADDR_STORE__KIND".into(), "redis".into()),
            (
                "LNADDR_STORE__URL".into(),
                format!("rediss://127.0.0.1:{tls_port}/0"),
            ),
            (
                "LNADDR_STORE__REDIS__TLS_CA_FILE".into(),
                ca.display().to_string(),
            ),
        ]
    })
    .await;
    gw.create_account("alice@localhost").await;
    let invoice = gw.invoice("alice", 21_000).await;
    let (status, paid) = gw.fake_pay(invoice["pr"].as_str().expect("pr")).await;
    assert_eq!(status, 200, "{paid}");
    gw.wait_balance("alice@localhost", 21_000).await;
    let keys: u64 = cli(redis.port, &["DBSIZE"])
        .expect("dbsize")
        .parse()
        .expect("number");
    assert!(keys > 0, "the ledger is in the TLS server's Redis");
}

/// A server whose certificate does not chain to the configured CA, or to the system's roots, is
/// refused at connect; a CA file that cannot be read is a clear error naming the setting.
#[tokio::test]
async fn rediss_refuses_a_server_it_does_not_trust() {
    let certs = tempfile::tempdir().expect("tempdir");
    let (ca, cert, key) = certificates(certs.path(), "server");
    let (other_ca, _, _) = certificates(certs.path(), "other");
    let (_redis, tls_port) = RedisServer::start_tls(&cert, &key, &ca);
    let url = vec![format!("rediss://127.0.0.1:{tls_port}/0")];

    let trusted = RedisStore::connect_with(&url, false, &options(Some(ca.clone())))
        .await
        .expect("the right CA connects");
    drop(trusted);
    for untrusted in [Some(other_ca), None] {
        let refused = RedisStore::connect_with(&url, false, &options(untrusted.clone())).await;
        assert!(refused.is_err(), "connected with {untrusted:?}");
    }
    let missing = certs.path().join("nope.pem");
    let err = RedisStore::connect_with(&url, false, &options(Some(missing)))
        .await
        .err()
        .expect("no CA file");
    let text = format!("{err}: {:?}", std::error::Error::source(&err));
    assert!(text.contains("tls_ca_file"), "{text}");
}
