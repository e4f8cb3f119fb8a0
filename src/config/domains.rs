//! `[[domains]]`: each domain the gateway answers for, its public URL, amounts, comments, zap
//! relays, branding (LUD-06 metadata description and image) and who may register on it. With no
//! domain configured, the gateway serves `localhost:<port>`.
//!
//! The same keys describe a domain added at run time through the admin API (kept in the store,
//! see [`crate::domains`]): [`RawDomain`] is both the config table and the stored record, and
//! [`validate`] turns either into [`DomainSettings`].

use std::net::SocketAddr;

use base64::Engine;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::secret::Secret;
use crate::types::{DomainName, Msat};

/// A domain as written in the config file or sent to the admin API (and kept in the store). Its
/// `Debug` leaves out the nostr secret key.
#[derive(Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDomain {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_sendable_msat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_sendable_msat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment_allowed: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nostr_secret_key: Option<String>,
    #[serde(default)]
    pub relays: Vec<String>,
    /// LUD-06 `text/plain` of every address on the domain (default: "Payment to user@domain").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// LUD-06 `image/png;base64` (or `image/jpeg;base64`): base64 of the image, or a
    /// `data:image/png;base64,...` URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Who may open an account through LndHub `/create`: `closed` (default), `invite`, `open`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration: Option<Registration>,
}

impl std::fmt::Debug for RawDomain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawDomain")
            .field("name", &self.name)
            .field("public_url", &self.public_url)
            .field("min_sendable_msat", &self.min_sendable_msat)
            .field("max_sendable_msat", &self.max_sendable_msat)
            .field("comment_allowed", &self.comment_allowed)
            .field(
                "nostr_secret_key",
                &self.nostr_secret_key.as_ref().map(|_| "[redacted]"),
            )
            .field("relays", &self.relays)
            .field("description", &self.description)
            .field("image", &self.image.as_ref().map(String::len))
            .field("registration", &self.registration)
            .finish()
    }
}

/// Who may create an account on a domain without the admin API (LndHub `/create`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Registration {
    /// Only the admin API (or a domain token) creates accounts.
    #[default]
    Closed,
    /// `/create` needs an invite code.
    Invite,
    /// Anyone may create an account.
    Open,
}

/// The image of a domain's LUD-06 metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// `image/png;base64` or `image/jpeg;base64`, as the metadata entry names it.
    pub mime: &'static str,
    /// The base64 text, canonical (standard alphabet, padded).
    pub base64: String,
}

/// Largest image accepted: it is part of every lookup answer, and some wallets choke on more.
pub const MAX_IMAGE_BYTES: usize = 64 * 1024;
/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 640;

#[derive(Debug, Clone)]
pub struct DomainSettings {
    pub name: DomainName,
    /// Base of every callback URL handed to wallets, without a trailing slash.
    pub public_url: String,
    /// The amounts a payer may send (LUD-06 `minSendable..=maxSendable`); never empty, never 0.
    pub sendable: std::ops::RangeInclusive<Msat>,
    pub comment_allowed: u32,
    pub nostr_secret_key: Option<Secret>,
    pub relays: Vec<String>,
    /// LUD-06 `text/plain`, when the domain brands its metadata.
    pub description: Option<String>,
    /// LUD-06 image entry, when the domain has one.
    pub image: Option<Image>,
    pub registration: Registration,
}

impl DomainSettings {
    /// Where the gateway serves this domain's LNURL endpoints: `public_url` when it is on the
    /// domain's own host, else `public_url/d/{name}`, so a gateway serving several delegated
    /// domains on one host knows whose callback it is without the Host header.
    pub fn lnurl_base(&self) -> String {
        let own_host = Url::parse(&self.public_url).ok().is_some_and(|u| {
            let host = u.host_str().unwrap_or_default().to_ascii_lowercase();
            let authority = match u.port() {
                Some(p) => format!("{host}:{p}"),
                None => host.clone(),
            };
            authority == self.name.as_str() || (u.port().is_none() && host == self.name.host())
        });
        if own_host {
            self.public_url.clone()
        } else {
            format!("{}/d/{}", self.public_url, self.name)
        }
    }
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
        match validate(&d, KeySource::ConfigOrFile) {
            Ok(s) => {
                if out.iter().any(|o| o.name == s.name) {
                    problems.push(format!("domains: {} is configured twice", s.name));
                }
                out.push(s);
            }
            Err(mut p) => problems.append(&mut p),
        }
    }
    out
}

/// Where a domain's `nostr_secret_key` may come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// The config file: a key, or the path of a file holding one.
    ConfigOrFile,
    /// The admin API: a key only (the admin API never reads files of the gateway's host).
    KeyOnly,
}

/// Checks one domain's keys; every problem is reported, each naming the key.
pub fn validate(d: &RawDomain, keys: KeySource) -> Result<DomainSettings, Vec<String>> {
    let mut problems = Vec::new();
    let Ok(name) = DomainName::parse(&d.name) else {
        return Err(vec![format!("domains: {:?} is not a domain name", d.name)]);
    };
    let public_url = d
        .public_url
        .clone()
        .unwrap_or_else(|| format!("https://{name}"));
    let public_url = match Url::parse(&public_url) {
        Ok(u)
            if matches!(u.scheme(), "http" | "https")
                && u.host().is_some()
                && u.query().is_none()
                && u.fragment().is_none()
                && u.username().is_empty()
                && u.password().is_none() =>
        {
            u.as_str().trim_end_matches('/').to_string()
        }
        _ => {
            problems.push(format!(
                "domains.{name}.public_url: {public_url:?} is not an http(s) URL"
            ));
            String::new()
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
    if d.relays.len() > 20 {
        problems.push(format!("domains.{name}.relays: at most 20 relays"));
    }
    let description = d
        .description
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if let Some(text) = description
        && (text.chars().count() > MAX_DESCRIPTION_CHARS || text.chars().any(char::is_control))
    {
        problems.push(format!(
                "domains.{name}.description: at most {MAX_DESCRIPTION_CHARS} characters, no control characters"
            ));
    }
    let image = match d.image.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(raw) => match parse_image(raw) {
            Ok(image) => Some(image),
            Err(reason) => {
                problems.push(format!("domains.{name}.image: {reason}"));
                None
            }
        },
        None => None,
    };
    if keys == KeySource::KeyOnly
        && let Some(key) = &d.nostr_secret_key
        && !crate::secret::is_nostr_key(key)
    {
        problems.push(format!(
            "domains.{name}.nostr_secret_key is not an nsec1 key or 64 hex digits"
        ));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(DomainSettings {
        name,
        public_url,
        sendable: Msat::from_msat(min)..=Msat::from_msat(max),
        comment_allowed,
        nostr_secret_key: d.nostr_secret_key.clone().map(Secret::new),
        relays: d.relays.clone(),
        description: description.map(str::to_string),
        image,
        registration: d.registration.unwrap_or_default(),
    })
}

/// A PNG or JPEG image given as base64 or as a `data:` URL; the kind is read from its bytes.
pub fn parse_image(raw: &str) -> Result<Image, String> {
    let text = match raw.strip_prefix("data:") {
        Some(rest) => rest
            .split_once(";base64,")
            .map(|(_, b)| b)
            .ok_or("a data: URL must be base64")?,
        None => raw,
    };
    let text: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.as_bytes())
        .map_err(|_| "not base64".to_string())?;
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(format!("at most {MAX_IMAGE_BYTES} bytes"));
    }
    let mime = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "image/png;base64"
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        "image/jpeg;base64"
    } else {
        return Err("must be a PNG or JPEG image".into());
    };
    Ok(Image {
        mime,
        base64: base64::engine::general_purpose::STANDARD.encode(&bytes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain(name: &str, public_url: &str) -> DomainSettings {
        validate(
            &RawDomain {
                name: name.into(),
                public_url: Some(public_url.into()),
                ..RawDomain::default()
            },
            KeySource::KeyOnly,
        )
        .expect("valid")
    }

    #[test]
    fn lnurl_base_names_the_domain_only_when_served_elsewhere() {
        assert_eq!(
            domain("example.com", "https://example.com").lnurl_base(),
            "https://example.com"
        );
        assert_eq!(
            domain("localhost:8080", "http://localhost:8080").lnurl_base(),
            "http://localhost:8080"
        );
        assert_eq!(
            domain("example.org", "https://pay.gateway.net").lnurl_base(),
            "https://pay.gateway.net/d/example.org"
        );
        assert_eq!(
            domain("example.org", "https://pay.gateway.net/base/").lnurl_base(),
            "https://pay.gateway.net/base/d/example.org"
        );
    }

    #[test]
    fn images_are_png_or_jpeg_and_bounded() {
        let png = base64::engine::general_purpose::STANDARD.encode(b"\x89PNG\r\n\x1a\nrest");
        let image = parse_image(&png).expect("png");
        assert_eq!(image.mime, "image/png;base64");
        assert_eq!(image.base64, png);
        let data_url = format!("data:image/png;base64,{png}");
        assert_eq!(parse_image(&data_url).expect("data url"), image);
        assert!(parse_image("not base64!").is_err());
        let gif = base64::engine::general_purpose::STANDARD.encode(b"GIF89a....");
        assert!(parse_image(&gif).is_err());
        let big = base64::engine::general_purpose::STANDARD
            .encode([b"\x89PNG\r\n\x1a\n".as_slice(), &vec![0u8; MAX_IMAGE_BYTES]].concat());
        assert!(parse_image(&big).is_err());
    }

    #[test]
    fn api_keys_must_be_keys_and_problems_name_the_key() {
        let raw = RawDomain {
            name: "example.com".into(),
            public_url: Some("ftp://x".into()),
            nostr_secret_key: Some("/etc/passwd".into()),
            description: Some("bell\u{7}".into()),
            registration: Some(Registration::Open),
            ..RawDomain::default()
        };
        let problems = validate(&raw, KeySource::KeyOnly).expect_err("refused");
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems.iter().all(|p| !p.contains("/etc/passwd")));
        let secret = RawDomain {
            nostr_secret_key: Some("nsec1secretsecret".into()),
            ..RawDomain::default()
        };
        assert!(!format!("{secret:?}").contains("nsec1secretsecret"));
    }
}
