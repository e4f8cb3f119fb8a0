//! The configuration files shipped in `config/` load, and the production-shaped ones are what
//! docs/deploy.md promises: absolute paths (systemd starts the gateway in /), a real LND, the
//! reverse proxy trusted, and ports that do not clash with LND's REST (8080) or gRPC (10009).

use std::path::Path;

use lnaddr::config::{AdminTokenSource, LightningBackend, Settings, StoreSettings};

fn load(name: &str) -> Settings {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config")
        .join(name);
    Settings::load(Some(&path), Vec::new()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_shipped_config_loads() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("config dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .to_string();
        if name.ends_with(".toml") {
            load(&name);
            seen += 1;
        }
    }
    assert!(
        seen >= 3,
        "config/ holds the example, production and multi-domain files"
    );
}

#[test]
fn production_shaped_configs_work_under_systemd_with_lnd() {
    for name in ["production.toml", "multi-domain.toml"] {
        let s = load(name);
        assert!(s.data_dir.is_absolute(), "{name}: data_dir");
        match &s.admin_token {
            AdminTokenSource::File(p) => assert!(p.is_absolute(), "{name}: admin token file"),
            AdminTokenSource::Value(_) => panic!("{name}: no admin token in a shipped config"),
        }
        if let StoreSettings::Embedded { path } = &s.store {
            assert!(path.is_absolute(), "{name}: store");
        }
        let LightningBackend::Lnd {
            tls_cert, macaroon, ..
        } = &s.lightning.backend
        else {
            panic!("{name}: a production config must not run the fake node");
        };
        assert!(tls_cert.is_absolute() && macaroon.is_absolute(), "{name}");
        assert_eq!(
            macaroon.file_name().and_then(|n| n.to_str()),
            Some("lnaddr.macaroon"),
            "{name}: the macaroon name docs/deploy.md bakes"
        );
        assert!(!s.limits.trusted_proxies.is_empty(), "{name}: proxy");
        for port in [s.listen.port(), s.admin_listen.port()] {
            assert!(
                ![8080, 10009, 9735].contains(&port),
                "{name}: port {port} is LND's"
            );
        }
        assert!(
            s.listen.ip().is_loopback() && s.admin_listen.ip().is_loopback(),
            "{name}"
        );
        assert!(
            s.domains
                .iter()
                .all(|d| d.public_url.starts_with("https://")),
            "{name}"
        );
        assert!(lnaddr::app::fake_node_on_https(&s).is_empty());
    }
}

#[test]
fn the_fake_node_on_an_https_domain_is_flagged() {
    let s = Settings::load(
        None,
        vec![(
            "LNADDR_DOMAINS".to_string(),
            r#"[{name="example.com", public_url="https://example.com"}]"#.to_string(),
        )],
    )
    .expect("settings");
    assert_eq!(lnaddr::app::fake_node_on_https(&s), vec!["example.com"]);
    let local = Settings::load(None, Vec::new()).expect("settings");
    assert!(lnaddr::app::fake_node_on_https(&local).is_empty());
}
