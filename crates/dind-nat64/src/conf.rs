//! tayga.conf, as dind renders it: the translator reads the same file tayga does.

use super::addr::Prefix;
use ipnet::{Ipv4Net, Ipv6Net};
use std::net::Ipv4Addr;

#[derive(Debug, PartialEq, Eq)]
pub struct Conf {
    pub tun_device: String,
    pub ipv4_addr: Ipv4Addr,
    pub prefix: Prefix,
    pub dynamic_pool: Ipv4Net,
}

#[derive(Debug, PartialEq, Eq)]
pub struct ConfError(pub String);

impl std::fmt::Display for ConfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfError {}

impl Conf {
    /// Reads the keys dind writes; tayga's others (data-dir, ipv6-addr, map, ...) are
    /// accepted and ignored, as this translator keeps its pool in memory.
    pub fn parse(text: &str) -> Result<Conf, ConfError> {
        let (mut tun, mut v4, mut prefix, mut pool) = (None, None, None, None);
        for (number, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            let Some((key, value)) = line.split_once(char::is_whitespace) else {
                if line.is_empty() {
                    continue;
                }
                return Err(ConfError(format!(
                    "line {}: `{line}` has no value",
                    number + 1
                )));
            };
            let value = value.trim();
            let bad = |what: &str, err: &dyn std::fmt::Display| {
                ConfError(format!(
                    "line {}: {key} `{value}`: {what}: {err}",
                    number + 1
                ))
            };
            match key {
                "tun-device" => tun = Some(value.to_string()),
                "ipv4-addr" => {
                    v4 = Some(value.parse().map_err(|e| bad("not an IPv4 address", &e))?)
                }
                "prefix" => {
                    let net: Ipv6Net = value.parse().map_err(|e| bad("not an IPv6 prefix", &e))?;
                    prefix = Some(Prefix::new(net).map_err(|e| bad("unusable", &e))?);
                }
                "dynamic-pool" => {
                    pool = Some(value.parse().map_err(|e| bad("not an IPv4 prefix", &e))?)
                }
                _ => {}
            }
        }
        let missing = |key: &str| ConfError(format!("{key} is missing"));
        Ok(Conf {
            tun_device: tun.ok_or_else(|| missing("tun-device"))?,
            ipv4_addr: v4.ok_or_else(|| missing("ipv4-addr"))?,
            prefix: prefix.ok_or_else(|| missing("prefix"))?,
            dynamic_pool: pool.ok_or_else(|| missing("dynamic-pool"))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_dind_renders_for_tayga() {
        let text = "# Rendered by dind\ntun-device nat64\nipv4-addr 172.18.0.200\n\
                    prefix fd00:10:64:ff9b::/96\ndynamic-pool 172.18.128.0/17\n\
                    data-dir /var/spool/tayga\n";
        let conf = Conf::parse(text).unwrap();
        assert_eq!(conf.tun_device, "nat64");
        assert_eq!(conf.ipv4_addr, Ipv4Addr::new(172, 18, 0, 200));
        assert_eq!(conf.prefix.net().to_string(), "fd00:10:64:ff9b::/96");
        assert_eq!(conf.dynamic_pool.to_string(), "172.18.128.0/17");
    }

    #[test]
    fn a_bad_or_missing_key_is_named() {
        let err = Conf::parse("tun-device n\nipv4-addr 1.2.3\n").unwrap_err();
        assert!(err.0.starts_with("line 2: ipv4-addr `1.2.3`"), "{err}");
        let err = Conf::parse("tun-device n\nprefix fd00::/33\n").unwrap_err();
        assert!(err.0.contains("RFC 6052"), "{err}");
        let err = Conf::parse("tun-device n\n").unwrap_err();
        assert_eq!(err.0, "ipv4-addr is missing");
    }
}
