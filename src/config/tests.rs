//! Loading as a whole: defaults, environment overrides, secrets never echoed, unknown keys named,
//! every problem reported at once, and the example configs under `config/` parse.

use super::*;
use crate::types::Msat;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn no_config_at_all_works() {
    let s = Settings::load(None, env(&[])).expect("defaults are valid");
    assert_eq!(s.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(s.domains.len(), 1);
    assert_eq!(s.domains[0].name.as_str(), "localhost:8080");
    assert_eq!(s.domains[0].public_url, "http://localhost:8080");
    assert!(matches!(s.store, StoreSettings::Embedded { .. }));
    assert!(matches!(s.lightning.backend, LightningBackend::Fake { .. }));
}

#[test]
fn env_overrides_nested_keys() {
    let s = Settings::load(
        None,
        env(&[
            ("LNADDR_LISTEN", "127.0.0.1:9000"),
            ("LNADDR_STORE__KIND", "redis"),
            ("LNADDR_STORE__URL", "redis://127.0.0.1:7000/0"),
            ("LNADDR_LIMITS__ENABLED", "false"),
            ("LNADDR_ADMIN_TOKEN", "0123456789abcdef0123"),
            ("LNADDR_CONFIG", "ignored.toml"),
            ("PATH", "/usr/bin"),
        ]),
    )
    .expect("valid");
    assert_eq!(s.listen.port(), 9000);
    assert_eq!(s.domains[0].name.as_str(), "localhost:9000");
    assert!(
        matches!(s.store, StoreSettings::Redis { ref url } if url == "redis://127.0.0.1:7000/0")
    );
    assert!(!s.limits.enabled);
    assert!(
        matches!(s.admin_token, AdminTokenSource::Value(ref t) if t.expose() == "0123456789abcdef0123")
    );
}

#[test]
fn lnd_settings_default_to_private_route_hints() {
    let lnd = |extra: &[(&str, &str)]| {
        let mut pairs = vec![
            ("LNADDR_LIGHTNING__KIND", "lnd"),
            ("LNADDR_LIGHTNING__LND__ENDPOINT", "https://10.0.0.2:10009"),
        ];
        pairs.extend_from_slice(extra);
        Settings::load(None, env(&pairs))
            .expect("valid")
            .lightning
            .backend
    };
    assert!(matches!(
        lnd(&[]),
        LightningBackend::Lnd { ref endpoint, private_route_hints: true, .. }
            if endpoint == "https://10.0.0.2:10009"
    ));
    assert!(matches!(
        lnd(&[("LNADDR_LIGHTNING__LND__PRIVATE_ROUTE_HINTS", "false")]),
        LightningBackend::Lnd {
            private_route_hints: false,
            ..
        }
    ));
}

#[test]
fn withdraw_settings_default_and_override() {
    let s = Settings::load(None, env(&[])).expect("defaults");
    assert_eq!(s.withdraw.fee_reserve_ppm, 10_000);
    assert_eq!(s.withdraw.min_fee_reserve, Msat::from_msat(10_000));
    let custom = Settings::load(
        None,
        env(&[
            ("LNADDR_WITHDRAW__FEE_RESERVE_PPM", "5000"),
            ("LNADDR_WITHDRAW__MIN_FEE_RESERVE_MSAT", "2000"),
        ]),
    )
    .expect("valid");
    assert_eq!(custom.withdraw.fee_reserve_ppm, 5_000);
    assert_eq!(custom.withdraw.min_fee_reserve, Msat::from_msat(2_000));
    assert!(
        Settings::load(
            None,
            env(&[("LNADDR_WITHDRAW__FEE_RESERVE_PPM", "1000001")])
        )
        .is_err()
    );
}

#[test]
fn a_numeric_looking_secret_from_the_environment_is_a_string() {
    let s = Settings::load(None, env(&[("LNADDR_ADMIN_TOKEN", "1234567890123456789")]))
        .expect("a numeric-looking token is a valid string");
    assert!(
        matches!(s.admin_token, AdminTokenSource::Value(ref t) if t.expose() == "1234567890123456789")
    );
    // Quoted TOML stays the text given, quotes included: a secret is never parsed.
    let s = Settings::load(None, env(&[("LNADDR_ADMIN_TOKEN", "\"0123456789abcdef\"")]))
        .expect("valid");
    assert!(
        matches!(s.admin_token, AdminTokenSource::Value(ref t) if t.expose() == "\"0123456789abcdef\"")
    );
}

#[test]
fn a_secret_from_the_environment_is_never_echoed_in_an_error() {
    // Too short: refused, without the value.
    let err =
        Settings::load(None, env(&[("LNADDR_ADMIN_TOKEN", "98765432")])).expect_err("too short");
    let text = err.to_string();
    assert!(text.contains("admin_token"), "{text}");
    assert!(!text.contains("98765432"), "{text}");
    // Another key's error in a configuration that also carries the secret.
    let err = Settings::load(
        None,
        env(&[
            ("LNADDR_ADMIN_TOKEN", "5550123456789012345"),
            ("LNADDR_ADMIN_TOKEN_FILE", "/tmp/5550123456789012345"),
            ("LNADDR_LISTEN", "5550123456789012345"),
        ]),
    )
    .expect_err("bad listen");
    let text = err.to_string();
    assert!(!text.contains("5550123456789012345"), "{text}");
}

#[test]
fn unknown_keys_are_named() {
    let err = Settings::load(None, env(&[("LNADDR_STORE__KINDD", "redis")])).expect_err("unknown");
    assert!(err.to_string().contains("kindd"), "{err}");
    let path = std::env::temp_dir().join(format!("lnaddr-cfg-{}.toml", std::process::id()));
    std::fs::write(&path, "listen = \"127.0.0.1:1\"\nlisten_typo = 1\n").expect("write");
    let err = Settings::load(Some(&path), env(&[])).expect_err("unknown");
    assert!(err.to_string().contains("listen_typo"), "{err}");
    let _ = std::fs::remove_file(path);
}

#[test]
fn every_problem_is_reported() {
    let raw: RawConfig = toml::from_str(
        r#"
        admin_listen = "127.0.0.1:8080"
        [[domains]]
        name = "bad domain"
        [[domains]]
        name = "ok.example"
        public_url = "ftp://x"
        "#,
    )
    .expect("schema-valid");
    let Err(ConfigError::Invalid(problems)) = Settings::from_raw(raw) else {
        panic!("expected invalid")
    };
    assert_eq!(problems.len(), 3, "{problems:?}");
}

#[test]
fn redis_urls_take_redis_or_rediss_and_the_ca_only_with_tls() {
    let load = |url: &str, ca: Option<&str>| {
        let mut vars = vec![
            ("LNADDR_STORE__KIND", "redis".to_string()),
            ("LNADDR_STORE__URL", url.to_string()),
        ];
        if let Some(ca) = ca {
            vars.push(("LNADDR_STORE__REDIS__TLS_CA_FILE", ca.to_string()));
        }
        let vars = vars
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect::<Vec<_>>();
        Settings::load(None, vars).map(|s| s.store_options.tls_ca_file)
    };
    assert_eq!(
        load("rediss://u:secret@redis.example:6380/0", Some("/ca.pem")).expect("tls"),
        Some(std::path::PathBuf::from("/ca.pem"))
    );
    assert!(load("rediss://redis.example:6380/0", None).is_ok());
    let err = load("redis://127.0.0.1:6379/0", Some("/ca.pem")).expect_err("no tls");
    assert!(err.to_string().contains("tls_ca_file"), "{err}");
    let err = load("http://u:hunter2@redis.example/0", None).expect_err("scheme");
    assert!(err.to_string().contains("redis:// or rediss://"), "{err}");
    assert!(
        !err.to_string().contains("hunter2"),
        "no password in the error"
    );
}

#[test]
fn example_configs_parse() {
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/config")).expect("config/")
    {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            Settings::load(Some(&path), env(&[]))
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
}
