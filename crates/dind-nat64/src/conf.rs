//! tayga.conf, as dind renders it and as tayga reads it: every key tayga knows is either
//! honoured or refused by name, as is a key tayga does not know.

use super::addr::Prefix;
use super::static_map::StaticMap;
use super::translate::{Settings, UdpZeroChecksum, IPV6_MIN_MTU};
use ipnet::{Ipv4Net, Ipv6Net};
use std::collections::HashSet;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

#[derive(Debug, PartialEq, Eq)]
pub struct Conf {
    pub tun_device: String,
    pub ipv4_addr: Ipv4Addr,
    pub ipv6_addr: Option<Ipv6Addr>,
    pub prefix: Prefix,
    pub dynamic_pool: Ipv4Net,
    pub wkpf_strict: bool,
    pub offlink_mtu: usize,
    pub maps: Vec<StaticMap>,
    pub udp_zero_checksum: UdpZeroChecksum,
    /// Where dynamic.map is kept.
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct ConfError(pub String);

impl std::fmt::Display for ConfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfError {}

/// tayga's keys this translator does not do, and why.
const UNSUPPORTED: [(&str, &str); 7] = [
    ("map-file", "static maps go in tayga.conf as `map` lines"),
    ("log", "it logs counts of dropped packets, not packets"),
    (
        "tun-up",
        "the TUN device is made and configured by the container",
    ),
    ("tun-ip", "the TUN device is configured by the container"),
    ("tun-route", "the TUN device's routes are the container's"),
    (
        "workers",
        "it serves one queue per CPU, or DIND_NAT64_QUEUES of them",
    ),
    (
        "strict-frag-hdr",
        "it translates fragment headers as RFC 7915 says",
    ),
];

/// The values seen so far.
#[derive(Default)]
struct Parsed {
    tun: Option<String>,
    v4: Option<Ipv4Addr>,
    v6: Option<Ipv6Addr>,
    prefix: Option<Prefix>,
    pool: Option<Ipv4Net>,
    wkpf_strict: Option<bool>,
    offlink_mtu: Option<usize>,
    maps: Vec<StaticMap>,
    udp_zero_checksum: Option<UdpZeroChecksum>,
    data_dir: Option<PathBuf>,
}

impl Conf {
    pub fn parse(text: &str) -> Result<Conf, ConfError> {
        let mut parsed = Parsed::default();
        let mut seen = HashSet::new();
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let words: Vec<&str> = line
                .split('#')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect();
            let Some((key, values)) = words.split_first() else {
                continue;
            };
            if let Some((_, why)) = UNSUPPORTED.iter().find(|(name, _)| name == key) {
                return Err(ConfError(format!(
                    "line {number}: `{key}` is a tayga key dind-nat64 does not support: {why}"
                )));
            }
            if *key != "map" && !seen.insert(key.to_string()) {
                return Err(ConfError(format!("line {number}: `{key}` is given twice")));
            }
            parsed
                .read(key, values)
                .map_err(|why| ConfError(format!("line {number}: {why}")))?;
        }
        parsed.finish()
    }

    /// The translator's settings, for a TUN device of `mtu`.
    pub fn settings(&self, mtu: usize) -> Settings {
        let mut settings = Settings::new(self.prefix, self.ipv4_addr, self.dynamic_pool, mtu);
        if let Some(v6) = self.ipv6_addr {
            settings.own_v6 = v6;
        }
        settings.offlink_mtu = self.offlink_mtu;
        settings.wkpf_strict = self.wkpf_strict;
        settings.static_maps = self.maps.clone();
        settings.udp_zero_checksum = self.udp_zero_checksum;
        settings
    }
}

impl Parsed {
    fn read(&mut self, key: &str, values: &[&str]) -> Result<(), String> {
        let wanted = if key == "map" { 2 } else { 1 };
        if values.len() != wanted {
            let noun = if wanted == 1 { "value" } else { "values" };
            return Err(format!("`{key}` takes {wanted} {noun}"));
        }
        let value = values[0];
        let bad =
            |what: &str, err: &dyn std::fmt::Display| format!("{key} `{value}`: {what}: {err}");
        match key {
            "tun-device" => self.tun = Some(value.to_string()),
            "ipv4-addr" => {
                self.v4 = Some(value.parse().map_err(|e| bad("not an IPv4 address", &e))?)
            }
            "ipv6-addr" => {
                self.v6 = Some(value.parse().map_err(|e| bad("not an IPv6 address", &e))?)
            }
            "prefix" => {
                let net: Ipv6Net = value.parse().map_err(|e| bad("not an IPv6 prefix", &e))?;
                self.prefix = Some(Prefix::new(net).map_err(|e| bad("unusable", &e))?);
            }
            "dynamic-pool" => {
                let pool: Ipv4Net = value.parse().map_err(|e| bad("not an IPv4 prefix", &e))?;
                if pool.prefix_len() > 31 {
                    return Err(bad("unusable", &"a pool needs a /31 or shorter"));
                }
                self.pool = Some(pool);
            }
            "wkpf-strict" => {
                self.wkpf_strict = Some(match value.to_ascii_lowercase().as_str() {
                    "yes" | "on" | "true" | "1" => true,
                    "no" | "off" | "false" | "0" => false,
                    _ => return Err(bad("unusable", &"expected yes or no")),
                })
            }
            "offlink-mtu" => {
                let mtu: usize = value.parse().map_err(|e| bad("not a number", &e))?;
                if !(IPV6_MIN_MTU..=usize::from(u16::MAX)).contains(&mtu) {
                    return Err(bad("unusable", &"expected 1280 to 65535"));
                }
                self.offlink_mtu = Some(mtu);
            }
            "udp-cksum-mode" => {
                self.udp_zero_checksum = Some(match value.to_ascii_lowercase().as_str() {
                    "calc" => UdpZeroChecksum::Calculate,
                    "drop" => UdpZeroChecksum::Drop,
                    "fwd" | "forward" => UdpZeroChecksum::Forward,
                    _ => return Err(bad("unusable", &"expected drop, fwd or calc")),
                })
            }
            "data-dir" => self.data_dir = Some(PathBuf::from(value)),
            "map" => {
                let map = StaticMap::parse(values[0], values[1])
                    .map_err(|e| format!("map `{} {}`: {e}", values[0], values[1]))?;
                self.maps.push(map);
            }
            _ => return Err(format!("`{key}` is not a tayga key")),
        }
        Ok(())
    }

    fn finish(self) -> Result<Conf, ConfError> {
        let missing = |key: &str| ConfError(format!("{key} is missing"));
        let tun_device = self.tun.ok_or_else(|| missing("tun-device"))?;
        let ipv4_addr = self.v4.ok_or_else(|| missing("ipv4-addr"))?;
        let prefix = self.prefix.ok_or_else(|| missing("prefix"))?;
        let dynamic_pool = self.pool.ok_or_else(|| missing("dynamic-pool"))?;
        for map in &self.maps {
            let v6 = map.v6();
            if prefix.net().contains(&v6.network()) || v6.contains(&prefix.net().network()) {
                return Err(ConfError(format!(
                    "map {} {v6}: its IPv6 side overlaps the prefix {}",
                    map.v4(),
                    prefix.net()
                )));
            }
        }
        Ok(Conf {
            tun_device,
            ipv4_addr,
            ipv6_addr: self.v6,
            prefix,
            dynamic_pool,
            wkpf_strict: self.wkpf_strict.unwrap_or(true),
            offlink_mtu: self.offlink_mtu.unwrap_or(IPV6_MIN_MTU),
            maps: self.maps,
            udp_zero_checksum: self.udp_zero_checksum.unwrap_or_default(),
            data_dir: self.data_dir,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DINDS: &str = "# Rendered by dind\ntun-device nat64\nipv4-addr 172.18.0.200\n\
                         prefix fd00:10:64:ff9b::/96\ndynamic-pool 172.18.128.0/17\n\
                         data-dir /var/spool/tayga\n";

    #[test]
    fn reads_what_dind_renders_for_tayga() {
        let conf = Conf::parse(DINDS).unwrap();
        assert_eq!(conf.tun_device, "nat64");
        assert_eq!(conf.ipv4_addr, Ipv4Addr::new(172, 18, 0, 200));
        assert_eq!(conf.prefix.net().to_string(), "fd00:10:64:ff9b::/96");
        assert_eq!(conf.dynamic_pool.to_string(), "172.18.128.0/17");
        assert_eq!(conf.data_dir, Some(PathBuf::from("/var/spool/tayga")));
        // tayga's defaults for the rest.
        assert!(conf.wkpf_strict);
        assert_eq!(conf.offlink_mtu, 1280);
        assert_eq!(conf.udp_zero_checksum, UdpZeroChecksum::Calculate);
        let settings = conf.settings(1500);
        assert_eq!(settings.own_v6, conf.prefix.embed(conf.ipv4_addr));
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

    #[test]
    fn offlink_mtu_wkpf_strict_udp_checksums_and_own_ipv6_address_are_honoured() {
        let text = format!(
            "{DINDS}offlink-mtu 1400\nwkpf-strict no\nudp-cksum-mode drop\nipv6-addr fd00::64\n"
        );
        let conf = Conf::parse(&text).unwrap();
        let settings = conf.settings(1500);
        assert_eq!(settings.offlink_mtu, 1400);
        assert!(!settings.wkpf_strict);
        assert_eq!(settings.udp_zero_checksum, UdpZeroChecksum::Drop);
        assert_eq!(settings.own_v6, "fd00::64".parse::<Ipv6Addr>().unwrap());
        for bad in ["offlink-mtu 1279", "offlink-mtu 65536", "wkpf-strict maybe"] {
            let err = Conf::parse(&format!("{DINDS}{bad}\n")).unwrap_err();
            let key = bad.split(' ').next().unwrap();
            assert!(err.0.starts_with(&format!("line 7: {key} ")), "{err}");
        }
    }

    #[test]
    fn map_lines_are_static_maps_off_the_prefix() {
        let text = format!("{DINDS}map 172.18.0.10 fd00:20::10\nmap 172.18.1.0/24 fd00:21::/120\n");
        let conf = Conf::parse(&text).unwrap();
        assert_eq!(conf.maps.len(), 2);
        assert_eq!(
            conf.maps[0].v6_of(Ipv4Addr::new(172, 18, 0, 10)),
            Some("fd00:20::10".parse().unwrap())
        );
        let err = Conf::parse(&format!("{DINDS}map 172.18.0.10\n")).unwrap_err();
        assert_eq!(err.0, "line 7: `map` takes 2 values");
        let err = Conf::parse(&format!("{DINDS}map 172.18.0.10 fd00:10:64:ff9b::1\n")).unwrap_err();
        assert!(err.0.contains("overlaps the prefix"), "{err}");
    }

    #[test]
    fn taygas_keys_it_does_not_do_unknown_keys_and_repeated_ones_are_refused_by_name() {
        for (key, _) in UNSUPPORTED {
            let err = Conf::parse(&format!("{DINDS}{key} x\n")).unwrap_err();
            assert!(
                err.0.starts_with(&format!(
                    "line 7: `{key}` is a tayga key dind-nat64 does not support"
                )),
                "{err}"
            );
        }
        let err = Conf::parse(&format!("{DINDS}colour blue\n")).unwrap_err();
        assert_eq!(err.0, "line 7: `colour` is not a tayga key");
        let err = Conf::parse(&format!("{DINDS}prefix 64:ff9b::/96\n")).unwrap_err();
        assert_eq!(err.0, "line 7: `prefix` is given twice");
        let err = Conf::parse(&format!("{DINDS}offlink-mtu\n")).unwrap_err();
        assert_eq!(err.0, "line 7: `offlink-mtu` takes 1 value");
    }
}
