//! A decoded configuration checked again, as `up` checked it: a record that Docker holds
//! passes here before anything plans or renders from it.
//!
//! config::validate checks raw settings and stops at the first error; this checks a typed
//! [`Config`] and returns every problem. When config offers a check of a typed Config, this
//! should call it instead.

use crate::config::{Config, IpMode, KubeVersion};
use crate::plan;
use ipnet::IpNet;

/// Every problem of `config`, in words; empty when it is one `up` accepts.
pub fn check_config(config: &Config) -> Vec<String> {
    let mut problems: Vec<String> = plan::plannable(config)
        .iter()
        .map(ToString::to_string)
        .collect();
    if config.cluster_id > 254 {
        problems.push(format!(
            "cluster id {} is not from 0 to 254",
            config.cluster_id
        ));
    }
    if config.allow_aaaa && config.ip_mode == IpMode::Ipv4 {
        problems.push("allowAaaa needs IPv6, but the IP mode is ipv4".to_string());
    }
    check_nat64_prefix(config, &mut problems);
    if let Some(upstream) = config.upstream_dns {
        if upstream.is_unspecified() || upstream.is_loopback() || upstream.is_multicast() {
            problems.push(format!(
                "the upstream resolver {upstream} is not a unicast address"
            ));
        }
    }
    if let Some(name) = &config.egress_interface {
        if !is_interface_name(name) {
            problems.push(format!("'{name}' is not a Linux interface name"));
        }
    }
    // plannable already refuses a narrow IPv6 management CIDR.
    check_cidrs(
        "management",
        &config.mgmt_cidrs,
        config.ip_mode,
        24,
        false,
        &mut problems,
    );
    check_cidrs(
        "pod",
        &config.pod_cidrs,
        config.ip_mode,
        16,
        true,
        &mut problems,
    );
    check_service_cidrs(config, &mut problems);
    if config.kubernetes_version.minor < KubeVersion::OLDEST_MINOR {
        problems.push(format!(
            "Kubernetes {} is older than v1.{}",
            config.kubernetes_version,
            KubeVersion::OLDEST_MINOR
        ));
    }
    if config
        .node_image
        .as_deref()
        .is_some_and(|i| i.trim().is_empty())
    {
        problems.push("the node image is empty".to_string());
    }
    problems.extend(config.nodes.problems());
    problems
}

/// Only ipv6 mode has a NAT64 network; elsewhere the prefix is recorded but unused.
fn check_nat64_prefix(config: &Config, problems: &mut Vec<String>) {
    if config.ip_mode != IpMode::Ipv6 {
        return;
    }
    let prefix = config.nat64_v4_prefix;
    let second = u16::from(prefix.1) + u16::from(config.cluster_id);
    let allowed = match prefix.0 {
        10 => 0..=255,
        172 => 16..=31,
        _ => {
            problems.push(format!(
                "the NAT64 prefix {prefix} is not inside 10.0.0.0/8 or 172.16.0.0/12"
            ));
            return;
        }
    };
    if !allowed.contains(&second) {
        problems.push(format!(
            "the NAT64 prefix {prefix} with cluster id {} gives second octet {second}, outside {}-{}",
            config.cluster_id,
            allowed.start(),
            allowed.end()
        ));
    }
}

/// One CIDR per family of the mode, without host bits; IPv4 ones of exactly `v4_len`, IPv6
/// ones (when `check_v6_width`) /112 or wider.
fn check_cidrs(
    what: &str,
    nets: &[IpNet],
    mode: IpMode,
    v4_len: u8,
    check_v6_width: bool,
    problems: &mut Vec<String>,
) {
    let v4 = nets.iter().filter(|n| n.addr().is_ipv4()).count();
    let wanted = match mode {
        IpMode::Ipv4 => (1, 0),
        IpMode::Ipv6 => (0, 1),
        IpMode::DualStack => (1, 1),
    };
    if (v4, nets.len() - v4) != wanted {
        problems.push(format!(
            "the {what} CIDRs {} do not fit {mode} mode",
            list(nets)
        ));
    }
    for net in nets {
        if net.trunc() != *net {
            problems.push(format!("the {what} CIDR {net} has host bits set"));
        }
        match net {
            IpNet::V4(n) if n.prefix_len() != v4_len => {
                problems.push(format!("the IPv4 {what} CIDR {n} is not a /{v4_len}"))
            }
            IpNet::V6(n) if check_v6_width && n.prefix_len() > 112 => {
                problems.push(format!("the IPv6 {what} CIDR {n} is narrower than /112"))
            }
            _ => {}
        }
    }
}

fn check_service_cidrs(config: &Config, problems: &mut Vec<String>) {
    let cidrs = &config.service_cidrs;
    let families_ok = match (config.ip_mode, &cidrs[..]) {
        (IpMode::Ipv4, [IpNet::V4(_)]) | (IpMode::Ipv6, [IpNet::V6(_)]) => true,
        (IpMode::DualStack, [_]) => true,
        (IpMode::DualStack, [a, b]) => a.addr().is_ipv6() != b.addr().is_ipv6(),
        _ => false,
    };
    if !families_ok {
        problems.push(format!(
            "the service CIDRs {} do not fit {} mode",
            list(cidrs),
            config.ip_mode
        ));
    }
    for net in cidrs {
        if net.trunc() != *net {
            problems.push(format!("the service CIDR {net} has host bits set"));
        }
    }
}

fn is_interface_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 15
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '/' && c != ':')
}

fn list(nets: &[IpNet]) -> String {
    if nets.is_empty() {
        return "(none)".to_string();
    }
    nets.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
