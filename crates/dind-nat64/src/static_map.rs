//! tayga's `map` lines: a static, one-to-one mapping between an IPv4 host or subnet and an
//! IPv6 one of as many addresses (`map 192.0.2.5 2001:db8::5`, `map 192.0.2.0/28
//! 2001:db8::/124`).

use ipnet::{Ipv4Net, Ipv6Net};
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StaticMap {
    v4: Ipv4Net,
    v6: Ipv6Net,
}

#[derive(Debug, PartialEq, Eq)]
pub struct BadMap(String);

impl fmt::Display for BadMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadMap {}

impl StaticMap {
    /// The two sides of a map line; a bare address is a /32 or a /128.
    pub fn parse(v4: &str, v6: &str) -> Result<StaticMap, BadMap> {
        let v4: Ipv4Net = match v4.parse::<Ipv4Addr>() {
            Ok(host) => Ipv4Net::from(host),
            Err(_) => v4
                .parse()
                .map_err(|_| BadMap(format!("`{v4}` is not an IPv4 address or prefix")))?,
        };
        let v6: Ipv6Net = match v6.parse::<Ipv6Addr>() {
            Ok(host) => Ipv6Net::from(host),
            Err(_) => v6
                .parse()
                .map_err(|_| BadMap(format!("`{v6}` is not an IPv6 address or prefix")))?,
        };
        StaticMap::new(v4, v6)
    }

    pub fn new(v4: Ipv4Net, v6: Ipv6Net) -> Result<StaticMap, BadMap> {
        let (v4, v6) = (v4.trunc(), v6.trunc());
        if 32 - v4.prefix_len() != 128 - v6.prefix_len() {
            return Err(BadMap(format!(
                "{v4} and {v6} do not have as many addresses"
            )));
        }
        Ok(StaticMap { v4, v6 })
    }

    pub fn v4(&self) -> Ipv4Net {
        self.v4
    }

    pub fn v6(&self) -> Ipv6Net {
        self.v6
    }

    /// The IPv6 address `v4` maps to, if it is on the IPv4 side.
    pub fn v6_of(&self, v4: Ipv4Addr) -> Option<Ipv6Addr> {
        if !self.v4.contains(&v4) {
            return None;
        }
        let host = u128::from(u32::from(v4) & !u32::from(self.v4.netmask()));
        Some(Ipv6Addr::from(u128::from(self.v6.network()) | host))
    }

    /// The IPv4 address `v6` maps to, if it is on the IPv6 side.
    pub fn v4_of(&self, v6: &Ipv6Addr) -> Option<Ipv4Addr> {
        if !self.v6.contains(v6) {
            return None;
        }
        let host = (u128::from(*v6) & !u128::from(self.v6.netmask())) as u32;
        Some(Ipv4Addr::from(u32::from(self.v4.network()) | host))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_map_maps_one_address_each_way() {
        let map = StaticMap::parse("192.0.2.5", "2001:db8::5").unwrap();
        let v6: Ipv6Addr = "2001:db8::5".parse().unwrap();
        assert_eq!(map.v6_of(Ipv4Addr::new(192, 0, 2, 5)), Some(v6));
        assert_eq!(map.v4_of(&v6), Some(Ipv4Addr::new(192, 0, 2, 5)));
        assert_eq!(map.v6_of(Ipv4Addr::new(192, 0, 2, 6)), None);
        assert_eq!(map.v4_of(&"2001:db8::6".parse().unwrap()), None);
    }

    #[test]
    fn a_subnet_map_keeps_the_host_bits() {
        let map = StaticMap::parse("192.0.2.16/28", "2001:db8::/124").unwrap();
        let v6: Ipv6Addr = "2001:db8::9".parse().unwrap();
        assert_eq!(map.v6_of(Ipv4Addr::new(192, 0, 2, 25)), Some(v6));
        assert_eq!(map.v4_of(&v6), Some(Ipv4Addr::new(192, 0, 2, 25)));
    }

    #[test]
    fn sides_of_different_sizes_or_not_addresses_are_refused() {
        let err = StaticMap::parse("192.0.2.0/28", "2001:db8::/120").unwrap_err();
        assert!(err.to_string().contains("as many addresses"), "{err}");
        assert!(StaticMap::parse("192.0.2", "2001:db8::1").is_err());
        assert!(StaticMap::parse("192.0.2.1", "2001:db8::/129").is_err());
    }
}
