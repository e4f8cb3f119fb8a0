//! The relay guard (SSRF): zap requests name relays, so strangers choose where the gateway
//! connects. Only `ws://` and `wss://` URLs are used, and unless `zaps.allow_private_relays` is set,
//! a relay is refused when any address its host resolves to is not a public unicast address
//! (loopback, private, link-local, CGNAT, unique-local, multicast, unspecified, documentation...).
//! Relays are the NIP-01 websocket servers of <https://github.com/nostr-protocol/nips/blob/master/01.md>.
//!
//! A name is resolved once per connection, through a [`Resolve`] (the system resolver, or one a
//! test injects), and the connection goes to an address of that same answer
//! ([`super::pinned::PinnedTransport`]): a name that answers a public address first and
//! 127.0.0.1 next (DNS rebinding) cannot slip past the check.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use futures_util::future::BoxFuture;

use url::{Host, Url};

/// How long resolving a relay's host may take.
pub const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a relay is not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelayRefused {
    #[error("not a ws:// or wss:// URL")]
    Scheme,
    #[error("the relay URL has no host")]
    NoHost,
    #[error("cannot resolve the relay's host: {0}")]
    Resolve(String),
    #[error("the relay's host resolves to no address")]
    NoAddress,
    #[error("the relay's host resolves to a non-public address ({0})")]
    NotPublic(IpAddr),
}

impl RelayRefused {
    /// Whether trying again later could help (a resolver failure may pass).
    pub fn is_permanent(&self) -> bool {
        !matches!(self, RelayRefused::Resolve(_))
    }
}

/// Resolves a host name to socket addresses.
pub trait Resolve: Send + Sync + 'static {
    fn resolve<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> BoxFuture<'a, std::io::Result<Vec<SocketAddr>>>;
}

/// The operating system's resolver (`getaddrinfo` through tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> BoxFuture<'a, std::io::Result<Vec<SocketAddr>>> {
        Box::pin(async move { Ok(tokio::net::lookup_host((host, port)).await?.collect()) })
    }
}

/// Whether `ip` is a public unicast address that a stranger may make us connect to.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let blocked = ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240; // reserved
    !blocked
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let seg = ip.segments();
    // NAT64 (64:ff9b::/96) carries an IPv4 address in its last 32 bits.
    if seg[0] == 0x64 && seg[1] == 0xff9b && seg[2..6] == [0, 0, 0, 0] {
        let [.., hi, lo] = seg;
        let v4 = Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
        return is_public_v4(v4);
    }
    let blocked = ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (seg[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (seg[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (seg[0] & 0xffc0) == 0xfec0 // site-local fec0::/10
        || (seg[0] == 0x2001 && seg[1] == 0x0db8) // documentation
        || (seg[0] == 0x2001 && seg[1] == 0) // Teredo
        || seg[0] == 0x2002 // 6to4 (embeds an IPv4 address we do not check)
        || (seg[0] == 0x0100 && seg[1..4] == [0, 0, 0]) // discard 100::/64
        || seg[..6] == [0, 0, 0, 0, 0, 0]; // IPv4-compatible and other ::/96
    !blocked
}

/// Parses a relay URL, keeping only websocket schemes with a host.
pub fn parse_relay(url: &str) -> Result<Url, RelayRefused> {
    let parsed = Url::parse(url).map_err(|_| RelayRefused::Scheme)?;
    if !matches!(parsed.scheme(), "ws" | "wss") {
        return Err(RelayRefused::Scheme);
    }
    if parsed.host().is_none() {
        return Err(RelayRefused::NoHost);
    }
    Ok(parsed)
}

/// Checks a relay before connecting: the scheme always, and, unless `allow_private`, every address
/// its host resolves to (with the system resolver).
pub async fn check_relay(url: &str, allow_private: bool) -> Result<(), RelayRefused> {
    let parsed = parse_relay(url)?;
    checked_addrs(&parsed, allow_private, &SystemResolver)
        .await
        .map(|_| ())
}

/// Resolves the relay's host once with `resolver` and answers the addresses to connect to, after
/// checking every one of them unless `allow_private`. An IP literal is not resolved.
pub async fn checked_addrs(
    url: &Url,
    allow_private: bool,
    resolver: &dyn Resolve,
) -> Result<Vec<SocketAddr>, RelayRefused> {
    if !matches!(url.scheme(), "ws" | "wss") {
        return Err(RelayRefused::Scheme);
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = match url.host() {
        Some(Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(Host::Domain(name)) => {
            tokio::time::timeout(RESOLVE_TIMEOUT, resolver.resolve(name, port))
                .await
                .map_err(|_| RelayRefused::Resolve("timed out".into()))?
                .map_err(|e| RelayRefused::Resolve(e.kind().to_string()))?
        }
        None => return Err(RelayRefused::NoHost),
    };
    if addrs.is_empty() {
        return Err(RelayRefused::NoAddress);
    }
    if !allow_private && let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
        return Err(RelayRefused::NotPublic(bad.ip()));
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_addresses() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "192.0.2.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2001:db8::1",
        ] {
            let ip: IpAddr = private.parse().expect("ip");
            assert!(!is_public(ip), "{private} must be refused");
        }
        for public in [
            "1.1.1.1",
            "93.184.216.34",
            "2606:4700:4700::1111",
            "64:ff9b::101:101",
        ] {
            let ip: IpAddr = public.parse().expect("ip");
            assert!(is_public(ip), "{public} must be allowed");
        }
    }

    #[tokio::test]
    async fn refuses_private_relays_unless_allowed() {
        for url in [
            "ws://127.0.0.1:7777",
            "wss://10.0.0.5/",
            "ws://[::1]:8080",
            "ws://169.254.169.254/latest",
        ] {
            assert!(
                matches!(
                    check_relay(url, false).await,
                    Err(RelayRefused::NotPublic(_))
                ),
                "{url}"
            );
            assert_eq!(check_relay(url, true).await, Ok(()), "{url}");
        }
        assert_eq!(check_relay("wss://1.1.1.1", false).await, Ok(()));
    }

    #[tokio::test]
    async fn refuses_names_that_resolve_to_loopback() {
        assert!(matches!(
            check_relay("ws://localhost:7777", false).await,
            Err(RelayRefused::NotPublic(_))
        ));
    }

    #[tokio::test]
    async fn refuses_other_schemes_even_when_private_is_allowed() {
        for url in [
            "http://relay.example.com",
            "file:///etc/passwd",
            "not a url",
        ] {
            assert_eq!(
                check_relay(url, true).await,
                Err(RelayRefused::Scheme),
                "{url}"
            );
        }
    }
}
