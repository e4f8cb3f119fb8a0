//! `limits.trusted_proxies`: addresses or CIDR ranges (`10.0.0.0/8`, `2001:db8::/32`) of the
//! reverse proxies whose `X-Forwarded-For` header is believed.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};

/// One trusted address or network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedProxy {
    net: IpAddr,
    prefix: u8,
}

impl TrustedProxy {
    /// Whether `ip` is inside this network. IPv4-mapped IPv6 addresses count as IPv4.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                mask(u128::from(u32::from(net)), self.prefix, 32)
                    == mask(u128::from(u32::from(ip)), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                mask(u128::from(net), self.prefix, 128) == mask(u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

use crate::ip::canonical;

/// The top `prefix` bits of a `bits`-wide address.
fn mask(addr: u128, prefix: u8, bits: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        addr >> (bits - prefix)
    }
}

impl FromStr for TrustedProxy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not an IP address or CIDR range");
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().map_err(|_| bad())?)),
            None => (s.trim(), None),
        };
        let net = canonical(addr.parse::<IpAddr>().map_err(|_| bad())?);
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(bad());
        }
        Ok(TrustedProxy { net, prefix })
    }
}

impl fmt::Display for TrustedProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.net, self.prefix)
    }
}

impl<'de> Deserialize<'de> for TrustedProxy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn addresses_and_ranges() {
        let one: TrustedProxy = "127.0.0.1".parse().expect("addr");
        assert!(one.contains(ip("127.0.0.1")));
        assert!(one.contains(ip("::ffff:127.0.0.1")));
        assert!(!one.contains(ip("127.0.0.2")));
        let net: TrustedProxy = "10.0.0.0/8".parse().expect("cidr");
        assert!(net.contains(ip("10.200.3.4")) && !net.contains(ip("11.0.0.1")));
        let v6: TrustedProxy = "2001:db8::/32".parse().expect("cidr");
        assert!(v6.contains(ip("2001:db8:ffff::1")) && !v6.contains(ip("2001:db9::1")));
        let all: TrustedProxy = "0.0.0.0/0".parse().expect("cidr");
        assert!(all.contains(ip("8.8.8.8")) && !all.contains(ip("::1")));
        for bad in ["10.0.0.0/33", "nonsense", "::/129", "1.2.3.4/x"] {
            assert!(bad.parse::<TrustedProxy>().is_err(), "{bad}");
        }
    }
}
