//! Configuration: a TOML file, overridden key by key by `LNADDR_<SECTION>__<KEY>` environment
//! variables, over defaults that work with no file at all. The raw serde tree rejects unknown keys by
//! name; [`Settings::from_raw`] validates it once into typed settings, reporting every problem at once.
//!
//! This file holds the top-level keys (listeners, `data_dir`, the admin token, log format,
//! shutdown timeout) and the loading; each `[section]` has its own module with its raw table, its
//! validated settings and the function that turns one into the other (`store`, `lightning`,
//! `limits`, `zaps`, `withdraw`, `ledger`, `payments`, `webhooks`, `lndhub`, `nwc`, `domains`);
//! `env` applies the environment overrides.

mod domains;
mod env;
mod ledger;
mod lightning;
mod limits;
mod lndhub;
mod nwc;
mod payments;
mod proxies;
mod store;
mod webhooks;
mod withdraw;
mod zaps;

use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::secret::Secret;

use domains::domain_settings;
use env::apply_env;
pub use nwc::NwcSettings;

pub use domains::{
    DomainSettings, Image, KeySource, RawDomain, Registration, validate as validate_domain,
};
pub use ledger::{LedgerSettings, RawLedger};
pub use lightning::{
    LightningBackend, LightningKind, LightningSettings, RawFake, RawLightning, RawLnd,
};
pub use limits::{LimitSettings, Rate, RawLimits};
pub use lndhub::{LndhubSettings, RawLndhub};
pub use payments::{PaymentSettings, RawPayments};
pub use proxies::TrustedProxy;
pub use store::{RawRedisOptions, RawStore, StoreKind, StoreOptions, StoreSettings};
pub use webhooks::{RawWebhooks, WebhookSettings};
pub use withdraw::{RawWithdraw, WithdrawSettings};
pub use zaps::{RawZaps, ZapSettings};

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

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
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

/// Where the admin bearer token comes from.
#[derive(Debug, Clone)]
pub enum AdminTokenSource {
    /// Given in the config or `LNADDR_ADMIN_TOKEN`.
    Value(Secret),
    /// Read from this file; created (mode 0600) with a random token on first start when missing.
    File(PathBuf),
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

        let (store, store_options) = store::store_settings(raw.store, &data_dir, &mut problems);
        let lightning = lightning::lightning_settings(raw.lightning, &mut problems);
        let limits = limits::limit_settings(raw.limits, &mut problems);
        let shutdown_timeout_secs = raw.shutdown_timeout_secs.unwrap_or(10);
        check_range(
            &mut problems,
            "shutdown_timeout_secs",
            shutdown_timeout_secs,
            1..=600,
        );
        let withdraw = withdraw::withdraw_settings(raw.withdraw, &mut problems);
        let ledger = ledger::ledger_settings(raw.ledger, &mut problems);
        let payments = payments::payment_settings(raw.payments, &mut problems);
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
            zaps: zaps::zap_settings(raw.zaps),
            withdraw,
            ledger,
            webhooks: webhooks::webhook_settings(raw.webhooks),
            payments,
            lndhub,
            nwc,
            domains,
        })
    }
}

/// Notes a problem unless `value` is within `range`: "`key` must be between MIN and MAX".
fn check_range(problems: &mut Vec<String>, key: &str, value: u64, range: RangeInclusive<u64>) {
    if !range.contains(&value) {
        problems.push(format!(
            "{key} must be between {} and {}",
            range.start(),
            range.end()
        ));
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
mod tests;
