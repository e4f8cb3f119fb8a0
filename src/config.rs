//! Configuration: a TOML file, overridden key by key by `LNADDR_<SECTION>__<KEY>` environment
//! variables, over defaults that work with no file at all. The raw serde tree rejects unknown keys by
//! name; [`Settings::from_raw`] validates it once into typed settings, reporting every problem at once.

mod domains;
mod env;
mod ledger;
mod limits;
mod lndhub;
mod nwc;
mod proxies;
mod store;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::secret::Secret;
use crate::types::Msat;

use domains::domain_settings;
use env::apply_env;
pub use nwc::NwcSettings;

pub use domains::{
    DomainSettings, Image, KeySource, RawDomain, Registration, validate as validate_domain,
};
pub use ledger::{LedgerSettings, RawLedger};
pub use limits::{LimitSettings, Rate, RawLimits};
pub use lndhub::{LndhubSettings, RawLndhub};
pub use proxies::TrustedProxy;
pub use store::{RawRedisOptions, StoreOptions};

/// Why the configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The TOML (file plus environment overrides) does not fit the schema; names the key.
    #[error("invalid configuration: {0}")]
    Parse(String),
    /// Values parsed but do not make sense together; every problem found is listed.
    #[error("invalid configuration:\n  - {}", .0.join("\n  - "))]
    Invalid(Vec<String>),
}

impl ConfigError {
    /// The same error with every occurrence of the given secret values replaced, so that no
    /// configuration error echoes a secret given in the environment.
    fn redacted(self, secrets: &[&str]) -> ConfigError {
        let scrub = |mut text: String| {
            for secret in secrets {
                text = text.replace(secret, "<redacted>");
            }
            text
        };
        match self {
            ConfigError::Parse(text) => ConfigError::Parse(scrub(text)),
            ConfigError::Invalid(list) => {
                ConfigError::Invalid(list.into_iter().map(scrub).collect())
            }
            other => other,
        }
    }
}

/// Environment variable prefix; `LNADDR_STORE__KIND` sets `store.kind`.
pub const ENV_PREFIX: &str = "LNADDR_";
/// Variables with the prefix that are not config keys.
const ENV_NOT_KEYS: &[&str] = &["LNADDR_CONFIG"];

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub listen: Option<SocketAddr>,
    pub admin_listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub admin_token: Option<String>,
    pub admin_token_file: Option<PathBuf>,
    pub log_format: Option<LogFormat>,
    /// Seconds a graceful shutdown may take before the process exits anyway.
    pub shutdown_timeout_secs: Option<u64>,
    #[serde(default)]
    pub store: RawStore,
    #[serde(default)]
    pub lightning: RawLightning,
    #[serde(default)]
    pub limits: RawLimits,
    #[serde(default)]
    pub zaps: RawZaps,
    #[serde(default)]
    pub withdraw: RawWithdraw,
    #[serde(default)]
    pub ledger: RawLedger,
    #[serde(default)]
    pub nwc: nwc::RawNwc,
    #[serde(default)]
    pub webhooks: RawWebhooks,
    #[serde(default)]
    pub payments: RawPayments,
    #[serde(default)]
    pub lndhub: RawLndhub,
    #[serde(default)]
    pub domains: Vec<RawDomain>,
}

/// `[webhooks]`: signed event deliveries (docs/webhooks.md).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebhooks {
    /// Webhook URLs on loopback/private addresses (the relay guard's rule); true for local tests.
    pub allow_private_addresses: Option<bool>,
}

/// `[withdraw]`: LNURL-withdraw (LUD-03) payments.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWithdraw {
    /// Fee reserve in parts per million of the amount (10000 = 1%).
    pub fee_reserve_ppm: Option<u64>,
    /// The fee reserve is never below this.
    pub min_fee_reserve_msat: Option<u64>,
    /// How long the node may look for a route.
    pub payment_timeout_secs: Option<u32>,
}

/// `[payments]`: how every process finishes the payments of others (see `docs/payments.md`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPayments {
    /// A pending payment this old that no process holds is taken over by the sweep, and one the
    /// node never heard of is refunded.
    pub stale_after_secs: Option<u64>,
    /// How often each process sweeps the pending payments.
    pub sweep_interval_secs: Option<u64>,
    /// The largest single payment an account may make (unset: no limit but the balance).
    pub max_payment_msat: Option<u64>,
    /// What one account may spend through the engine in one UTC day (unset: no limit).
    pub account_daily_limit_msat: Option<u64>,
    /// What the accounts of one domain may spend together in one UTC day (unset: no limit).
    pub domain_daily_limit_msat: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    pub kind: Option<StoreKind>,
    pub url: Option<String>,
    pub urls: Option<Vec<String>>,
    /// Seconds after its expiry an unpaid invoice is forgotten.
    pub forget_unpaid_after_secs: Option<u64>,
    pub redis: Option<RawRedisOptions>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    #[default]
    Embedded,
    Redis,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLightning {
    pub kind: Option<LightningKind>,
    /// Seconds an issued invoice stays payable.
    pub invoice_expiry_secs: Option<u64>,
    pub fake: Option<RawFake>,
    pub lnd: Option<RawLnd>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LightningKind {
    #[default]
    Fake,
    Lnd,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFake {
    /// `bitcoin`, `testnet`, `signet` or `regtest`: the network the fake node's invoices name.
    pub network: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLnd {
    pub endpoint: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub macaroon: Option<PathBuf>,
    /// Whether invoices carry route hints for private channels (LND's `private` flag).
    pub private_route_hints: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawZaps {
    pub allow_private_relays: Option<bool>,
    pub max_relays: Option<usize>,
    /// Attempts to reach one relay host per minute, across all zaps.
    pub relay_host_attempts_per_minute: Option<u32>,
}

/// Validated settings the gateway runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub admin_listen: SocketAddr,
    pub data_dir: PathBuf,
    pub admin_token: AdminTokenSource,
    pub log_format: LogFormat,
    /// How long a graceful shutdown may take (open requests, the settlement in progress).
    pub shutdown_timeout: Duration,
    pub store: StoreSettings,
    pub store_options: StoreOptions,
    pub lightning: LightningSettings,
    pub limits: LimitSettings,
    pub zaps: ZapSettings,
    pub withdraw: WithdrawSettings,
    pub ledger: LedgerSettings,
    pub webhooks: WebhookSettings,
    pub payments: PaymentSettings,
    pub lndhub: LndhubSettings,
    pub nwc: NwcSettings,
    pub domains: Vec<DomainSettings>,
}

/// Webhook deliveries.
#[derive(Debug, Clone, Default)]
pub struct WebhookSettings {
    /// Let webhook URLs name loopback/private addresses (SSRF guard off; tests only).
    pub allow_private_addresses: bool,
}

/// Every process sweeps the pending payments every `sweep_interval` and takes over (under a
/// lease) those older than `stale_after_secs` that no process is working on; one the node never
/// heard of is then refunded. So a reservation is paid or refunded within about
/// `stale_after_secs + sweep_interval`, whatever happened to the request that made it.
#[derive(Debug, Clone)]
pub struct PaymentSettings {
    pub stale_after_secs: u64,
    pub sweep_interval: Duration,
    /// The largest single payment from an account through the payment engine.
    pub max_payment: Option<Msat>,
    /// What one account may spend through the engine in one UTC day.
    pub account_daily_limit: Option<Msat>,
    /// What one domain's accounts may spend together through the engine in one UTC day.
    pub domain_daily_limit: Option<Msat>,
}

/// Withdrawals reserve `amount + max(min_fee_reserve, amount * fee_reserve_ppm / 1e6)` (rounded
/// up) and pay with that reserve as the node's fee limit (the math: `crate::withdraw::fees`).
#[derive(Debug, Clone)]
pub struct WithdrawSettings {
    pub fee_reserve_ppm: u64,
    pub min_fee_reserve: Msat,
    pub payment_timeout_secs: u32,
}

/// Where the admin bearer token comes from.
#[derive(Debug, Clone)]
pub enum AdminTokenSource {
    /// Given in the config or `LNADDR_ADMIN_TOKEN`.
    Value(Secret),
    /// Read from this file; created (mode 0600) with a random token on first start when missing.
    File(PathBuf),
}

#[derive(Debug, Clone)]
pub enum StoreSettings {
    Embedded { path: PathBuf },
    Redis { url: String },
    RedisCluster { urls: Vec<String> },
}

#[derive(Debug, Clone)]
pub struct LightningSettings {
    pub invoice_expiry_secs: u64,
    pub backend: LightningBackend,
}

#[derive(Debug, Clone)]
pub enum LightningBackend {
    Fake {
        network: bitcoin::Network,
    },
    Lnd {
        endpoint: String,
        tls_cert: PathBuf,
        macaroon: PathBuf,
        /// Invoices carry route hints for private channels (default true).
        private_route_hints: bool,
    },
}

#[derive(Debug, Clone)]
pub struct ZapSettings {
    pub allow_private_relays: bool,
    pub max_relays: usize,
    /// One relay host is tried at most this many times a minute across all zaps (and processes).
    pub relay_host_attempts_per_minute: u32,
}

impl Settings {
    /// Reads the file (if any), applies `LNADDR_*` overrides from `env`, and validates.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                text.parse::<toml::Table>()
                    .map_err(|e| ConfigError::Parse(e.to_string()))?
            }
            None => toml::Table::new(),
        };
        let env: Vec<(String, String)> = env.into_iter().collect();
        let secrets: Vec<&str> = env
            .iter()
            .filter(|(k, v)| k.starts_with(ENV_PREFIX) && env::is_secret_key(k) && !v.is_empty())
            .map(|(_, v)| v.as_str())
            .collect();
        let loaded = apply_env(&mut table, env.iter().cloned()).and_then(|()| {
            let raw: RawConfig = toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Parse(e.to_string()))?;
            Settings::from_raw(raw)
        });
        loaded.map_err(|e| e.redacted(&secrets))
    }

    pub fn from_raw(raw: RawConfig) -> Result<Settings, ConfigError> {
        let mut problems = Vec::new();
        let listen = raw
            .listen
            .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080)));
        let admin_listen = raw
            .admin_listen
            .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8081)));
        if listen == admin_listen {
            problems
                .push("listen and admin_listen must differ: the admin API is never public".into());
        }
        let data_dir = expand_home(&raw.data_dir.unwrap_or_else(|| PathBuf::from("data")));
        let admin_token = match (raw.admin_token, raw.admin_token_file) {
            (Some(_), Some(_)) => {
                problems.push("set admin_token or admin_token_file, not both".into());
                AdminTokenSource::File(data_dir.join("admin.token"))
            }
            (Some(token), None) if token.trim().len() < 16 => {
                problems.push("admin_token must be at least 16 characters".into());
                AdminTokenSource::Value(Secret::new(token))
            }
            (Some(token), None) => AdminTokenSource::Value(Secret::new(token.trim().to_string())),
            (None, Some(file)) => AdminTokenSource::File(expand_home(&file)),
            (None, None) => AdminTokenSource::File(data_dir.join("admin.token")),
        };

        let store_options = store::store_options(
            raw.store.forget_unpaid_after_secs,
            raw.store.redis,
            &mut problems,
        );
        let store = match raw.store.kind.unwrap_or_default() {
            StoreKind::Embedded => {
                if raw.store.url.is_some() || raw.store.urls.is_some() {
                    problems.push("store.url/store.urls are for store.kind = \"redis\"".into());
                }
                StoreSettings::Embedded {
                    path: data_dir.join("lnaddr.redb"),
                }
            }
            StoreKind::Redis => match (raw.store.url, raw.store.urls) {
                (Some(url), None) => StoreSettings::Redis { url },
                (None, Some(urls)) if !urls.is_empty() => StoreSettings::RedisCluster { urls },
                (None, None) => StoreSettings::Redis {
                    url: "redis://127.0.0.1:6379/0".into(),
                },
                _ => {
                    problems.push("store: give either url (one server) or urls (a cluster)".into());
                    StoreSettings::Redis { url: String::new() }
                }
            },
        };
        let urls: &[String] = match &store {
            StoreSettings::Embedded { .. } => &[],
            StoreSettings::Redis { url } => std::slice::from_ref(url),
            StoreSettings::RedisCluster { urls } => urls,
        };
        if let Some(bad) = urls
            .iter()
            .find(|u| !u.starts_with("redis://") && !u.starts_with("rediss://"))
        {
            // The URL may carry a password: name the scheme only.
            let scheme = bad.split_once("://").map_or("", |(s, _)| s);
            problems.push(format!(
                "store.url: the scheme must be redis:// or rediss:// (TLS), not {scheme:?}"
            ));
        }
        if store_options.tls_ca_file.is_some()
            && (urls.is_empty() || urls.iter().any(|u| !u.starts_with("rediss://")))
        {
            problems.push("store.redis.tls_ca_file is for rediss:// (TLS) URLs".into());
        }

        let lightning = lightning_settings(raw.lightning, &mut problems);
        let limits = limits::limit_settings(raw.limits, &mut problems);
        let shutdown_timeout_secs = raw.shutdown_timeout_secs.unwrap_or(10);
        if !(1..=600).contains(&shutdown_timeout_secs) {
            problems.push("shutdown_timeout_secs must be between 1 and 600".into());
        }
        let withdraw = WithdrawSettings {
            fee_reserve_ppm: raw.withdraw.fee_reserve_ppm.unwrap_or(10_000),
            min_fee_reserve: Msat(raw.withdraw.min_fee_reserve_msat.unwrap_or(10_000)),
            payment_timeout_secs: raw.withdraw.payment_timeout_secs.unwrap_or(60),
        };
        if withdraw.fee_reserve_ppm > 1_000_000 {
            problems.push("withdraw.fee_reserve_ppm must be at most 1000000 (100%)".into());
        }
        if !(1..=3600).contains(&withdraw.payment_timeout_secs) {
            problems.push("withdraw.payment_timeout_secs must be between 1 and 3600".into());
        }
        let ledger = ledger::ledger_settings(raw.ledger, &mut problems);
        let payments = PaymentSettings {
            stale_after_secs: raw.payments.stale_after_secs.unwrap_or(60),
            sweep_interval: Duration::from_secs(raw.payments.sweep_interval_secs.unwrap_or(10)),
            max_payment: raw.payments.max_payment_msat.map(Msat),
            account_daily_limit: raw.payments.account_daily_limit_msat.map(Msat),
            domain_daily_limit: raw.payments.domain_daily_limit_msat.map(Msat),
        };
        if !(1..=86_400).contains(&payments.stale_after_secs) {
            problems.push("payments.stale_after_secs must be between 1 and 86400".into());
        }
        if !(1..=3_600).contains(&payments.sweep_interval.as_secs()) {
            problems.push("payments.sweep_interval_secs must be between 1 and 3600".into());
        }
        let lndhub = lndhub::lndhub_settings(raw.lndhub, &mut problems);
        let domains = domain_settings(raw.domains, listen, &mut problems);
        let nwc = nwc::nwc_settings(raw.nwc, &mut problems);

        if !problems.is_empty() {
            return Err(ConfigError::Invalid(problems));
        }
        Ok(Settings {
            listen,
            admin_listen,
            data_dir,
            admin_token,
            log_format: raw.log_format.unwrap_or_default(),
            shutdown_timeout: Duration::from_secs(shutdown_timeout_secs),
            store,
            store_options,
            lightning,
            limits,
            zaps: ZapSettings {
                allow_private_relays: raw.zaps.allow_private_relays.unwrap_or(false),
                max_relays: raw.zaps.max_relays.unwrap_or(10),
                relay_host_attempts_per_minute: raw
                    .zaps
                    .relay_host_attempts_per_minute
                    .unwrap_or(60),
            },
            withdraw,
            ledger,
            webhooks: WebhookSettings {
                allow_private_addresses: raw.webhooks.allow_private_addresses.unwrap_or(false),
            },
            payments,
            lndhub,
            nwc,
            domains,
        })
    }
}

fn lightning_settings(raw: RawLightning, problems: &mut Vec<String>) -> LightningSettings {
    let invoice_expiry_secs = raw.invoice_expiry_secs.unwrap_or(3600);
    if !(60..=7 * 86_400).contains(&invoice_expiry_secs) {
        problems.push("lightning.invoice_expiry_secs must be between 60 and 604800".into());
    }
    let backend = match raw.kind.unwrap_or_default() {
        LightningKind::Fake => {
            let name = raw
                .fake
                .and_then(|f| f.network)
                .unwrap_or_else(|| "regtest".into());
            let network = match name.as_str() {
                "bitcoin" | "mainnet" => bitcoin::Network::Bitcoin,
                "testnet" => bitcoin::Network::Testnet,
                "signet" => bitcoin::Network::Signet,
                "regtest" => bitcoin::Network::Regtest,
                other => {
                    problems.push(format!("lightning.fake.network: unknown network {other:?}"));
                    bitcoin::Network::Regtest
                }
            };
            LightningBackend::Fake { network }
        }
        LightningKind::Lnd => {
            let lnd = raw.lnd.unwrap_or_default();
            let home_lnd = |rest: &str| expand_home(Path::new(&format!("~/.lnd/{rest}")));
            LightningBackend::Lnd {
                endpoint: lnd
                    .endpoint
                    .unwrap_or_else(|| "https://127.0.0.1:10009".into()),
                tls_cert: lnd
                    .tls_cert
                    .map(|p| expand_home(&p))
                    .unwrap_or_else(|| home_lnd("tls.cert")),
                macaroon: lnd.macaroon.map(|p| expand_home(&p)).unwrap_or_else(|| {
                    home_lnd("data/chain/bitcoin/mainnet/invoice+offchain.macaroon")
                }),
                private_route_hints: lnd.private_route_hints.unwrap_or(true),
            }
        }
    };
    LightningSettings {
        invoice_expiry_secs,
        backend,
    }
}

/// `~/x` → `$HOME/x`.
pub fn expand_home(path: &Path) -> PathBuf {
    match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(s.withdraw.min_fee_reserve, Msat(10_000));
        let custom = Settings::load(
            None,
            env(&[
                ("LNADDR_WITHDRAW__FEE_RESERVE_PPM", "5000"),
                ("LNADDR_WITHDRAW__MIN_FEE_RESERVE_MSAT", "2000"),
            ]),
        )
        .expect("valid");
        assert_eq!(custom.withdraw.fee_reserve_ppm, 5_000);
        assert_eq!(custom.withdraw.min_fee_reserve, Msat(2_000));
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
        let err = Settings::load(None, env(&[("LNADDR_ADMIN_TOKEN", "98765432")]))
            .expect_err("too short");
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
        let err =
            Settings::load(None, env(&[("LNADDR_STORE__KINDD", "redis")])).expect_err("unknown");
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
        for entry in
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/config")).expect("config/")
        {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "toml") {
                Settings::load(Some(&path), env(&[]))
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            }
        }
    }
}
