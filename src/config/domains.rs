//! `[[domains]]`: each domain the gateway answers for, its public URL, amounts, comments and
//! zap relays. With no domain configured, the gateway serves `localhost:<port>`.

use std::net::SocketAddr;

use serde::Deserialize;
use url::Url;

use crate::secret::Secret;
use crate::types::{DomainName, Msat};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDomain {
    pub name: String,
    pub public_url: Option<String>,
    pub min_sendable_msat: Option<u64>,
    pub max_sendable_msat: Option<u64>,
    pub comment_allowed: Option<u32>,
    pub nostr_secret_key: Option<String>,
    #[serde(default)]
    pub relays: Vec<String>,
    /// Who may open an account through LndHub `/create`.
    pub registration: Option<Registration>,
}

/// Who may open an account on a domain through LndHub `POST /create`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Registration {
    /// Nobody: accounts are made by the operator (admin API, CLI).
    #[default]
    Closed,
    /// Whoever holds an invite code made with the admin API.
    Invite,
    /// Anybody, within the `/create` rate limits.
    Open,
}

#[derive(Debug, Clone)]
pub struct DomainSettings {
    pub name: DomainName,
    /// Base of every callback URL handed to wallets, without a trailing slash.
    pub public_url: String,
    pub min_sendable: Msat,
    pub max_sendable: Msat,
    pub comment_allowed: u32,
    pub nostr_secret_key: Option<Secret>,
    pub relays: Vec<String>,
    pub registration: Registration,
}

/// Validates the configured domains, pushing each problem onto `problems`.
pub(super) fn domain_settings(
    raw: Vec<RawDomain>,
    listen: SocketAddr,
    problems: &mut Vec<String>,
) -> Vec<DomainSettings> {
    let raw = if raw.is_empty() {
        let name = format!("localhost:{}", listen.port());
        vec![RawDomain {
            public_url: Some(format!("http://{name}")),
            name,
            ..RawDomain::default()
        }]
    } else {
        raw
    };
    let mut out: Vec<DomainSettings> = Vec::new();
    for d in raw {
        let Ok(name) = DomainName::parse(&d.name) else {
            problems.push(format!("domains: {:?} is not a domain name", d.name));
            continue;
        };
        if out.iter().any(|o| o.name == name) {
            problems.push(format!("domains: {name} is configured twice"));
        }
        let public_url = d.public_url.unwrap_or_else(|| format!("https://{name}"));
        let public_url = match Url::parse(&public_url) {
            Ok(u)
                if matches!(u.scheme(), "http" | "https")
                    && u.host().is_some()
                    && u.query().is_none() =>
            {
                u.as_str().trim_end_matches('/').to_string()
            }
            _ => {
                problems.push(format!(
                    "domains.{name}.public_url: {public_url:?} is not an http(s) URL"
                ));
                continue;
            }
        };
        let min = d.min_sendable_msat.unwrap_or(1_000);
        let max = d.max_sendable_msat.unwrap_or(100_000_000_000);
        if min == 0 || min > max {
            problems.push(format!(
                "domains.{name}: need 1 <= min_sendable_msat <= max_sendable_msat"
            ));
        }
        // LUD-12 wallets send the comment in the callback URL; keep it to what a URL can carry.
        let comment_allowed = d.comment_allowed.unwrap_or(255);
        if comment_allowed > 2000 {
            problems.push(format!(
                "domains.{name}.comment_allowed must be at most 2000"
            ));
        }
        for relay in &d.relays {
            if !Url::parse(relay).is_ok_and(|u| matches!(u.scheme(), "ws" | "wss")) {
                problems.push(format!(
                    "domains.{name}.relays: {relay:?} is not a ws:// or wss:// URL"
                ));
            }
        }
        out.push(DomainSettings {
            name,
            public_url,
            min_sendable: Msat(min),
            max_sendable: Msat(max),
            comment_allowed,
            nostr_secret_key: d.nostr_secret_key.map(Secret::new),
            relays: d.relays,
            registration: d.registration.unwrap_or_default(),
        });
    }
    out
}
