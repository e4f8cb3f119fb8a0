//! Client addresses as the gateway counts them: IPv4-mapped IPv6 is the IPv4 address, and an IPv6
//! client is its /64. Used by the trusted-proxy rules, the HTTP rate limits and the LndHub login
//! limits alike, so all three count one client the same way.

use std::net::{IpAddr, Ipv6Addr};

/// IPv4-mapped IPv6 addresses are the IPv4 address.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The rate-limit key of a client: the IPv4 address, or the /64 of an IPv6 address (one subscriber
/// usually holds a whole /64, so counting its addresses one by one would limit nothing).
pub fn bucket_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}
