//! k-d-c's rules for putting the cluster id into the configured ranges. They live with the
//! settings because validation compares the ranges as the cluster uses them; the plan
//! re-exports them.

use super::Config;
use ipnet::{Ipv4Net, Ipv6Net};
use std::net::{Ipv4Addr, Ipv6Addr};

/// k-d-c inserts the cluster id, written in decimal but read as a hex hextet, right after the
/// last non-zero hextet of the management prefix: fd00:20::/64 with id 20 -> fd00:20:20::/64.
/// None when that hextet lies outside the prefix (every id would give the same subnet).
pub fn mgmt_v6_for_cluster(base: Ipv6Net, cluster_id: u8) -> Option<Ipv6Net> {
    if cluster_id == 0 {
        return Some(base);
    }
    let mut segments = base.network().segments();
    let slot = segments
        .iter()
        .rposition(|s| *s != 0)
        .map_or(0, |last| last + 1);
    if (slot + 1) * 16 > usize::from(base.prefix_len()) {
        return None;
    }
    segments[slot] =
        u16::from_str_radix(&cluster_id.to_string(), 16).expect("decimal digits are hex");
    Some(Ipv6Net::new(Ipv6Addr::from(segments), base.prefix_len()).expect("same length"))
}

/// k-d-c replaces the third octet of the IPv4 management /24 with the cluster id.
pub fn mgmt_v4_for_cluster(base: Ipv4Net, cluster_id: u8) -> Ipv4Net {
    let [a, b, _, _] = base.network().octets();
    Ipv4Net::new(Ipv4Addr::new(a, b, cluster_id, 0), 24).expect("24 is valid")
}

/// The NAT64 prefix of a cluster that was given none; every id gets its own /16, none of
/// them in 10.192.0.0/16 (where every cluster's IPv4 management /24 lies):
/// 172.18 for ids 0-13 (172.18-31.0.0/16, k-d-c's), 10.0 for ids 14-191 (10.14-191.0.0/16),
/// 10.1 for ids 192-254 (10.193-255.0.0/16).
pub(crate) fn default_nat64_v4_prefix(cluster_id: u8) -> &'static str {
    match cluster_id {
        0..=13 => "172.18",
        14..=191 => "10.0",
        192.. => "10.1",
    }
}

/// NAT64's IPv4 /16: the cluster id added to the prefix's second octet; None when that
/// passes 255.
pub fn nat64_v4_subnet(config: &Config) -> Option<Ipv4Net> {
    let second = config.nat64_v4_prefix.1.checked_add(config.cluster_id)?;
    Some(
        Ipv4Net::new(Ipv4Addr::new(config.nat64_v4_prefix.0, second, 0, 0), 16)
            .expect("16 is valid"),
    )
}

#[cfg(test)]
mod tests;
