//! Which webhook URLs the gateway posts to (SSRF guard). Webhooks are registered by operators and
//! domain owners, who must not reach the gateway's own network: only `http://` and `https://` URLs
//! with a host and no credentials are taken, and unless `webhooks.allow_private_addresses` is set,
//! every address the host resolves to must be public unicast, by the relay guard's rule
//! ([`crate::nostr::relay_guard::is_public`]). The addresses checked are the ones connected to
//! (the delivery pins them), so a DNS answer that changes after the check is not followed.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use url::{Host, Url};

use crate::nostr::relay_guard::is_public;

/// How long resolving a webhook's host may take.
pub const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a webhook URL is not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefused {
    #[error("the webhook URL must be an http:// or https:// URL")]
    Scheme,
    #[error("the webhook URL has no host")]
    NoHost,
    #[error("the webhook URL must not carry a user name or password")]
    Credentials,
    #[error("cannot resolve the webhook's host: {0}")]
    Resolve(String),
    #[error("the webhook's host resolves to no address")]
    NoAddress,
    #[error("the webhook's host resolves to a non-public address ({0})")]
    NotPublic(IpAddr),
}

impl UrlRefused {
    /// Whether trying again later could help (a resolver failure may pass).
    pub fn is_permanent(&self) -> bool {
        !matches!(self, UrlRefused::Resolve(_))
    }
}

/// Parses a webhook URL: http(s), a host, no user info.
pub fn parse(url: &str) -> Result<Url, UrlRefused> {
    let parsed = Url::parse(url).map_err(|_| UrlRefused::Scheme)?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(UrlRefused::Scheme);
    }
    if parsed.host().is_none() {
        return Err(UrlRefused::NoHost);
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(UrlRefused::Credentials);
    }
    Ok(parsed)
}

/// Resolves the URL's host and checks every address; answers the addresses to connect to.
pub async fn resolve(url: &Url, allow_private: bool) -> Result<Vec<SocketAddr>, UrlRefused> {
    let port = url.port_or_known_default().ok_or(UrlRefused::Scheme)?;
    let addrs: Vec<SocketAddr> = match url.host() {
        Some(Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(Host::Domain(name)) => {
            let lookup = tokio::net::lookup_host((name, port));
            tokio::time::timeout(RESOLVE_TIMEOUT, lookup)
                .await
                .map_err(|_| UrlRefused::Resolve("timed out".into()))?
                .map_err(|e| UrlRefused::Resolve(e.kind().to_string()))?
                .collect()
        }
        None => return Err(UrlRefused::NoHost),
    };
    if addrs.is_empty() {
        return Err(UrlRefused::NoAddress);
    }
    if !allow_private && let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
        return Err(UrlRefused::NotPublic(bad.ip()));
    }
    Ok(addrs)
}

/// [`parse`] then [`resolve`].
pub async fn check(url: &str, allow_private: bool) -> Result<(Url, Vec<SocketAddr>), UrlRefused> {
    let parsed = parse(url)?;
    let addrs = resolve(&parsed, allow_private).await?;
    Ok((parsed, addrs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refuses_private_addresses_unless_allowed() {
        for url in [
            "http://127.0.0.1:9000/hook",
            "https://10.0.0.5/",
            "http://[::1]:8080/x",
            "http://169.254.169.254/latest/meta-data",
            "http://localhost:9000/",
            "http://[::ffff:192.168.1.1]/",
        ] {
            assert!(
                matches!(check(url, false).await, Err(UrlRefused::NotPublic(_))),
                "{url}"
            );
        }
        let (_, addrs) = check("http://127.0.0.1:9000/hook", true)
            .await
            .expect("allowed");
        assert_eq!(addrs, vec!["127.0.0.1:9000".parse().expect("addr")]);
        let (_, addrs) = check("https://1.1.1.1/hook", false).await.expect("public");
        assert_eq!(addrs, vec!["1.1.1.1:443".parse().expect("addr")]);
    }

    #[tokio::test]
    async fn refuses_other_schemes_and_credentials_even_when_private_is_allowed() {
        for (url, why) in [
            ("ftp://example.com/x", UrlRefused::Scheme),
            ("file:///etc/passwd", UrlRefused::Scheme),
            ("not a url", UrlRefused::Scheme),
            ("http://user:pw@127.0.0.1/", UrlRefused::Credentials),
        ] {
            assert_eq!(check(url, true).await.map(|_| ()), Err(why), "{url}");
        }
    }
}
