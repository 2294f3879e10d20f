//! IPv4-embedded IPv6 addresses (RFC 6052 section 2.2): the IPv4 address follows the
//! prefix, skipping bits 64 to 71 (the "u" octet, always zero).

use ipnet::Ipv6Net;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// A translation prefix of one of RFC 6052's lengths, without host bits, its bits 64 to 71
/// zero: the one type dind and the translator both take a DNS64/NAT64 prefix as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefix {
    net: Ipv6Net,
    /// Where the IPv4 address's four bytes go.
    slots: [usize; 4],
}

/// Why a network cannot be a [`Prefix`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrefixProblem {
    /// Not one of [`Prefix::LENGTHS`].
    Length,
    /// Bits past the length are set.
    HostBits,
    /// Bits 64 to 71 (the "u" octet) are not zero.
    UOctet,
}

#[derive(Debug, PartialEq, Eq)]
pub struct BadPrefix {
    pub net: Ipv6Net,
    pub problem: PrefixProblem,
}

impl fmt::Display for BadPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problem {
            PrefixProblem::HostBits => write!(
                f,
                "prefix {} has host bits set; did you mean {}?",
                self.net,
                self.net.trunc()
            ),
            PrefixProblem::Length | PrefixProblem::UOctet => write!(
                f,
                "prefix {} cannot embed IPv4 addresses: RFC 6052 allows /32, /40, /48, /56, /64 or /96, with bits 64-71 zero",
                self.net
            ),
        }
    }
}

impl std::error::Error for BadPrefix {}

impl Prefix {
    /// RFC 6052's prefix lengths.
    pub const LENGTHS: [u8; 6] = [32, 40, 48, 56, 64, 96];

    /// The prefix `net` is; its problems are judged in the order of [`PrefixProblem`].
    pub fn new(net: Ipv6Net) -> Result<Prefix, BadPrefix> {
        let bad = |problem| Err(BadPrefix { net, problem });
        let slots = match net.prefix_len() {
            32 => [4, 5, 6, 7],
            40 => [5, 6, 7, 9],
            48 => [6, 7, 9, 10],
            56 => [7, 9, 10, 11],
            64 => [9, 10, 11, 12],
            96 => [12, 13, 14, 15],
            _ => return bad(PrefixProblem::Length),
        };
        if net.trunc() != net {
            return bad(PrefixProblem::HostBits);
        }
        if net.addr().octets()[8] != 0 {
            return bad(PrefixProblem::UOctet);
        }
        Ok(Prefix { net, slots })
    }

    pub fn net(&self) -> Ipv6Net {
        self.net
    }

    /// Whether `v6` lies under the prefix.
    pub fn contains(&self, v6: &Ipv6Addr) -> bool {
        self.net.contains(v6)
    }

    pub fn embed(&self, v4: Ipv4Addr) -> Ipv6Addr {
        let mut octets = self.net.addr().octets();
        for (slot, byte) in self.slots.iter().zip(v4.octets()) {
            octets[*slot] = byte;
        }
        Ipv6Addr::from(octets)
    }

    /// The IPv4 address embedded in `v6`, if `v6` is under the prefix with a zero "u"
    /// octet.
    pub fn extract(&self, v6: &Ipv6Addr) -> Option<Ipv4Addr> {
        let octets = v6.octets();
        if !self.net.contains(v6) || octets[8] != 0 {
            return None;
        }
        Some(Ipv4Addr::from(self.slots.map(|slot| octets[slot])))
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.net.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6052 section 2.4's table: 192.0.2.33 under each prefix length.
    const VECTORS: [(&str, &str); 7] = [
        ("2001:db8::/32", "2001:db8:c000:221::"),
        ("2001:db8:100::/40", "2001:db8:1c0:2:21::"),
        ("2001:db8:122::/48", "2001:db8:122:c000:2:2100::"),
        ("2001:db8:122:300::/56", "2001:db8:122:3c0:0:221::"),
        ("2001:db8:122:344::/64", "2001:db8:122:344:c0:2:2100:0"),
        ("2001:db8:122:344::/96", "2001:db8:122:344::192.0.2.33"),
        ("64:ff9b::/96", "64:ff9b::192.0.2.33"),
    ];

    #[test]
    fn rfc_6052_vectors_embed_and_extract() {
        let v4 = Ipv4Addr::new(192, 0, 2, 33);
        for (net, embedded) in VECTORS {
            let prefix = Prefix::new(net.parse().unwrap()).unwrap();
            let embedded: Ipv6Addr = embedded.parse().unwrap();
            assert_eq!(prefix.embed(v4), embedded, "{net}");
            assert_eq!(prefix.extract(&embedded), Some(v4), "{net}");
        }
    }

    #[test]
    fn dinds_default_prefix_embeds_in_the_last_four_bytes() {
        let prefix = Prefix::new("fd00:10:64:ff9b::/96".parse().unwrap()).unwrap();
        let origin = prefix.embed(Ipv4Addr::new(198, 18, 0, 10));
        assert_eq!(
            origin,
            "fd00:10:64:ff9b::c612:a".parse::<Ipv6Addr>().unwrap()
        );
    }

    #[test]
    fn an_address_outside_the_prefix_or_with_a_u_octet_embeds_nothing() {
        let prefix = Prefix::new("2001:db8:122:344::/64".parse().unwrap()).unwrap();
        let outside: Ipv6Addr = "2001:db8:122:345:c0:2:2100:0".parse().unwrap();
        assert_eq!(prefix.extract(&outside), None);
        let u_octet: Ipv6Addr = "2001:db8:122:344:ffc0:2:2100:0".parse().unwrap();
        assert_eq!(prefix.extract(&u_octet), None);
    }

    #[test]
    fn other_lengths_host_bits_and_a_set_u_octet_are_refused() {
        for (net, problem) in [
            ("2001:db8::/33", PrefixProblem::Length),
            ("2001:db8::/128", PrefixProblem::Length),
            ("2001:db8::/72", PrefixProblem::Length),
            ("2001:db8:0:0:ff00::/96", PrefixProblem::UOctet),
            ("2001:db8::1/96", PrefixProblem::HostBits),
        ] {
            let net: Ipv6Net = net.parse().unwrap();
            let err = Prefix::new(net).unwrap_err();
            assert_eq!(err.problem, problem, "{net}");
            let wanted = match problem {
                PrefixProblem::HostBits => "host bits",
                _ => "RFC 6052",
            };
            assert!(err.to_string().contains(wanted), "{err}");
        }
    }
}
