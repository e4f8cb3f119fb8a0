//! Who the client is, for rate limits and logs: the TCP peer, or, when the peer is one of the
//! configured trusted proxies, the right-most address in `X-Forwarded-For` that is not itself a
//! trusted proxy (every proxy appends the address it saw, so the entries to the left of our own
//! proxies are whatever the client chose to send). From any other peer the header is ignored.

use std::net::IpAddr;

use hyper::HeaderMap;

use crate::config::TrustedProxy;

/// The header proxies append the client address to.
pub const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The client's address for a request that came from `peer`.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[TrustedProxy]) -> IpAddr {
    let peer = canonical(peer);
    if !trusted.iter().any(|t| t.contains(peer)) {
        return peer;
    }
    // Several headers count as one comma-separated list, in order.
    let entries: Vec<&str> = headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for entry in entries.iter().rev() {
        match parse_entry(entry) {
            Some(ip) if trusted.iter().any(|t| t.contains(ip)) => continue,
            Some(ip) => return ip,
            // Garbage where a client address should be: the proxy is the best we know.
            None => return peer,
        }
    }
    peer
}

/// One `X-Forwarded-For` entry: `1.2.3.4`, `2001:db8::1`, `[2001:db8::1]:443` or `1.2.3.4:80`.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let e = entry.trim();
    if let Ok(ip) = e.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(sa) = e.parse::<std::net::SocketAddr>() {
        return Some(canonical(sa.ip()));
    }
    None
}

pub use crate::ip::{bucket_key, canonical};

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn proxy(s: &str) -> TrustedProxy {
        s.parse().expect("proxy")
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(X_FORWARDED_FOR, HeaderValue::from_str(v).expect("value"));
        }
        h
    }

    #[test]
    fn untrusted_peers_header_is_ignored() {
        let h = xff(&["9.9.9.9"]);
        assert_eq!(client_ip(ip("1.1.1.1"), &h, &[]), ip("1.1.1.1"));
        assert_eq!(
            client_ip(ip("1.1.1.1"), &h, &[proxy("2.2.2.2")]),
            ip("1.1.1.1")
        );
    }

    #[test]
    fn trusted_peer_gives_the_rightmost_untrusted_entry() {
        let trusted = [proxy("10.0.0.1"), proxy("10.0.0.2/32")];
        let h = xff(&["6.6.6.6, 5.5.5.5", "10.0.0.2"]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("5.5.5.5"));
        let h = xff(&["[2001:db8::7]:443"]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("2001:db8::7"));
        let h = xff(&["10.0.0.2"]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("10.0.0.1"));
        let h = xff(&["nonsense"]);
        assert_eq!(client_ip(ip("10.0.0.1"), &h, &trusted), ip("10.0.0.1"));
        let h = HeaderMap::new();
        assert_eq!(
            client_ip(ip("::ffff:10.0.0.1"), &h, &trusted),
            ip("10.0.0.1")
        );
        let h = xff(&["7.7.7.7, 172.16.5.5"]);
        let net = [proxy("172.16.0.0/12")];
        assert_eq!(client_ip(ip("172.16.0.1"), &h, &net), ip("7.7.7.7"));
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        assert_eq!(bucket_key(ip("2001:db8:1:2:3:4:5:6")), ip("2001:db8:1:2::"));
        assert_eq!(bucket_key(ip("::ffff:1.2.3.4")), ip("1.2.3.4"));
    }
}
