//! One check per setting: the raw text (and the [`Basis`]) in, the value or the reason it was
//! refused out. The setting's name, value and origin are added by the caller.
//!
//! Where a typed value can still be wrong (a record read back from Docker holds typed values
//! too), the check is the text read into the type, then the value's rule (`*_rule`), which
//! [`recheck`](super::recheck) applies to a decoded configuration.

use super::cluster_ranges::mgmt_v6_for_cluster;
use super::rfc6052::{self, Prefix};
use super::table::Basis;
use super::{
    defaults, ContainerdPatch, IpMode, KubeVersion, KubeadmPatch, Nat64Engine, V4Prefix16,
};
use ipnet::IpNet;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;

pub(super) fn ip_mode(value: &str, _: &Basis) -> Result<IpMode, String> {
    value.trim().parse()
}

/// The highest cluster id.
pub(crate) const MAX_CLUSTER_ID: u8 = 254;

pub(super) fn cluster_id(value: &str, _: &Basis) -> Result<u8, String> {
    let id = value
        .trim()
        .parse::<u8>()
        .map_err(|_| cluster_id_refusal())?;
    cluster_id_rule(id)?;
    Ok(id)
}

pub(super) fn cluster_id_rule(id: u8) -> Result<(), String> {
    if id > MAX_CLUSTER_ID {
        return Err(cluster_id_refusal());
    }
    Ok(())
}

fn cluster_id_refusal() -> String {
    format!("expected a number from 0 to {MAX_CLUSTER_ID}")
}

pub(super) fn boolean(value: &str, _: &Basis) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err("use true or false".into()),
    }
}

/// Dual-stack always passes AAAA records: its pods have IPv6 of their own.
pub(super) fn allow_aaaa(value: &str, basis: &Basis) -> Result<bool, String> {
    let allow = boolean(value, basis)?;
    allow_aaaa_rule(allow, basis)?;
    Ok(allow || basis.ip_mode == Some(IpMode::DualStack))
}

pub(super) fn allow_aaaa_rule(allow: bool, basis: &Basis) -> Result<(), String> {
    if allow && basis.ip_mode == Some(IpMode::Ipv4) {
        return Err(
            "AAAA use needs IPv6; use --ip-mode ipv6 or dual-stack, or drop --allow-aaaa".into(),
        );
    }
    Ok(())
}

pub(super) fn dns64_prefix(value: &str, _: &Basis) -> Result<Prefix, String> {
    rfc6052::parse(value)
}

/// Only ipv6 mode has a NAT64 network; elsewhere the prefix is recorded but unused.
pub(super) fn nat64_v4_prefix(value: &str, basis: &Basis) -> Result<V4Prefix16, String> {
    let prefix: V4Prefix16 = value.trim().parse()?;
    nat64_v4_prefix_rule(prefix, basis)?;
    Ok(prefix)
}

pub(super) fn nat64_v4_prefix_rule(prefix: V4Prefix16, basis: &Basis) -> Result<(), String> {
    let (Some(IpMode::Ipv6), Some(cluster_id)) = (basis.ip_mode, basis.cluster_id) else {
        return Ok(());
    };
    let second = u16::from(prefix.1) + u16::from(cluster_id);
    let allowed = match prefix.0 {
        10 => 0..=255,
        172 => 16..=31,
        _ => {
            return Err(
                "NAT64's IPv4 /16 must lie inside 10.0.0.0/8 or 172.16.0.0/12; use e.g. \
                 172.18 or 10.100"
                    .into(),
            )
        }
    };
    if !allowed.contains(&second) {
        return Err(format!(
            "with cluster id {cluster_id} the second octet becomes {} + {cluster_id} = {second}, \
             outside {}-{} for {}.x; pick a lower prefix or cluster id",
            prefix.1,
            allowed.start(),
            allowed.end(),
            prefix.0
        ));
    }
    Ok(())
}

pub(super) fn nat64_engine(value: &str, _: &Basis) -> Result<Nat64Engine, String> {
    value.trim().parse()
}

/// Unset: the Docker host's resolvers, through Docker's embedded DNS.
pub(super) fn upstream_dns(value: &str, _: &Basis) -> Result<Option<Ipv4Addr>, String> {
    let upstream: Ipv4Addr = value
        .trim()
        .parse()
        .map_err(|_| "expected an IPv4 address like 8.8.8.8".to_string())?;
    upstream_dns_rule(upstream)?;
    Ok(Some(upstream))
}

pub(super) fn upstream_dns_rule(upstream: Ipv4Addr) -> Result<(), String> {
    if upstream.is_unspecified() || upstream.is_loopback() || upstream.is_multicast() {
        return Err(
            "the upstream resolver must be a unicast address reachable from the Docker host".into(),
        );
    }
    Ok(())
}

pub(super) fn egress_interface(value: &str, _: &Basis) -> Result<Option<String>, String> {
    let name = value.trim();
    egress_interface_rule(name)?;
    Ok(Some(name.to_string()))
}

pub(super) fn egress_interface_rule(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 15
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '/' && c != ':');
    if !valid {
        return Err(
            "a Linux interface name has 1-15 printable characters and no '/', ':' or spaces".into(),
        );
    }
    Ok(())
}

/// Comma- or space-separated CIDRs without host bits.
fn cidrs(value: &str) -> Result<Vec<IpNet>, String> {
    let items: Vec<&str> = value
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if items.is_empty() {
        return Err("give at least one CIDR".into());
    }
    items
        .into_iter()
        .map(|item| {
            let net: IpNet = item
                .parse()
                .map_err(|_| format!("'{item}' is not a CIDR like fd00:20::/64"))?;
            if net.trunc() != net {
                return Err(format!(
                    "'{item}' has host bits set; did you mean {}?",
                    net.trunc()
                ));
            }
            Ok(net)
        })
        .collect()
}

fn no_host_bits(net: &IpNet) -> Result<(), String> {
    if net.trunc() != *net {
        return Err(format!(
            "'{net}' has host bits set; did you mean {}?",
            net.trunc()
        ));
    }
    Ok(())
}

/// One CIDR per family of the IP mode (unchecked while the mode is unknown), IPv4 first.
fn cidrs_for_mode(value: &str, mode: Option<IpMode>) -> Result<Vec<IpNet>, String> {
    let mut nets = cidrs(value)?;
    one_per_family(&nets, mode)?;
    nets.sort_by_key(|n| matches!(n, IpNet::V6(_)));
    Ok(nets)
}

fn one_per_family(nets: &[IpNet], mode: Option<IpMode>) -> Result<(), String> {
    if let Some(mode) = mode {
        let v4 = nets.iter().filter(|n| matches!(n, IpNet::V4(_))).count();
        let wanted = match mode {
            IpMode::Ipv4 => (1, 0),
            IpMode::Ipv6 => (0, 1),
            IpMode::DualStack => (1, 1),
        };
        if (v4, nets.len() - v4) != wanted {
            return Err(match mode {
                IpMode::Ipv4 => "give exactly one IPv4 CIDR in ipv4 mode",
                IpMode::Ipv6 => "give exactly one IPv6 CIDR in ipv6 mode",
                IpMode::DualStack => "give one IPv4 and one IPv6 CIDR in dual-stack mode",
            }
            .into());
        }
    }
    Ok(())
}

/// A typed list of CIDRs: what [`cidrs_for_mode`] refuses in text.
fn cidrs_for_mode_rule(nets: &[IpNet], mode: Option<IpMode>) -> Result<(), String> {
    nets.iter().try_for_each(no_host_bits)?;
    one_per_family(nets, mode)
}

pub(super) fn mgmt_cidrs(value: &str, basis: &Basis) -> Result<Vec<IpNet>, String> {
    let nets = cidrs_for_mode(value, basis.ip_mode)?;
    mgmt_cidrs_sizes(&nets, basis)?;
    Ok(nets)
}

pub(super) fn mgmt_cidrs_rule(nets: &[IpNet], basis: &Basis) -> Result<(), String> {
    cidrs_for_mode_rule(nets, basis.ip_mode)?;
    mgmt_cidrs_sizes(nets, basis)
}

fn mgmt_cidrs_sizes(nets: &[IpNet], basis: &Basis) -> Result<(), String> {
    for net in nets {
        match net {
            IpNet::V4(n) if n.prefix_len() != 24 => {
                return Err("the IPv4 management CIDR must be a /24".into())
            }
            IpNet::V6(n) if n.prefix_len() > 112 => {
                return Err(
                    "the IPv6 management CIDR must be /112 or wider (it holds ::100 and ::200)"
                        .into(),
                )
            }
            IpNet::V6(n) => {
                if let Some(id) = basis.cluster_id {
                    if mgmt_v6_for_cluster(*n, id).is_none() {
                        return Err(format!(
                            "cluster id {id} goes into the hextet after {n}'s last non-zero one, \
                             which lies outside the prefix; use a prefix like fd00:20::/64"
                        ));
                    }
                }
            }
            IpNet::V4(_) => {}
        }
    }
    Ok(())
}

pub(super) fn pod_cidrs(value: &str, basis: &Basis) -> Result<Vec<IpNet>, String> {
    let nets = cidrs_for_mode(value, basis.ip_mode)?;
    pod_cidrs_sizes(&nets)?;
    Ok(nets)
}

pub(super) fn pod_cidrs_rule(nets: &[IpNet], basis: &Basis) -> Result<(), String> {
    cidrs_for_mode_rule(nets, basis.ip_mode)?;
    pod_cidrs_sizes(nets)
}

fn pod_cidrs_sizes(nets: &[IpNet]) -> Result<(), String> {
    for net in nets {
        match net {
            IpNet::V4(n) if n.prefix_len() != 16 => {
                return Err("the IPv4 pod CIDR must be a /16 (a /24 per node)".into())
            }
            IpNet::V6(n) if n.prefix_len() > 112 => {
                return Err("the IPv6 pod CIDR must be /112 or wider (a /+8 per node)".into())
            }
            _ => {}
        }
    }
    Ok(())
}

/// One service CIDR of the mode's family; in dual-stack one or two of different families, the
/// first one primary (its family is the cluster's primary family, as kubeadm reads it).
pub(super) fn service_cidrs(value: &str, basis: &Basis) -> Result<Vec<IpNet>, String> {
    let nets = cidrs(value)?;
    service_families(&nets, basis)?;
    Ok(nets)
}

pub(super) fn service_cidrs_rule(nets: &[IpNet], basis: &Basis) -> Result<(), String> {
    nets.iter().try_for_each(no_host_bits)?;
    service_families(nets, basis)
}

fn service_families(nets: &[IpNet], basis: &Basis) -> Result<(), String> {
    let Some(mode) = basis.ip_mode else {
        return Ok(());
    };
    let families_ok = match (mode, nets) {
        (IpMode::Ipv4, [IpNet::V4(_)]) | (IpMode::Ipv6, [IpNet::V6(_)]) => true,
        (IpMode::DualStack, [_]) => true,
        (IpMode::DualStack, [a, b]) => a.addr().is_ipv6() != b.addr().is_ipv6(),
        _ => false,
    };
    if families_ok {
        return Ok(());
    }
    Err(match mode {
        IpMode::Ipv4 => "give exactly one IPv4 CIDR in ipv4 mode",
        IpMode::Ipv6 => "give exactly one IPv6 CIDR in ipv6 mode",
        IpMode::DualStack => {
            "give one CIDR, or two of different families (the primary first) in dual-stack mode"
        }
    }
    .into())
}

/// Blank: the node image that dind builds itself.
pub(super) fn node_image(value: &str, _: &Basis) -> Result<Option<String>, String> {
    let image = value.trim();
    Ok((!image.is_empty()).then(|| image.to_string()))
}

/// What [`node_image`] gives: a name without surrounding blanks, or none.
pub(super) fn node_image_rule(image: &str) -> Result<(), String> {
    if image.is_empty() || image.trim() != image {
        return Err("give an image name like dind/node:v1.36, or none".into());
    }
    Ok(())
}

/// A path that exists on this machine, made absolute (the record keeps it; a later `up` may
/// run elsewhere). What it holds is read when the node image is built.
pub(super) fn kubernetes_from(value: &str, _: &Basis) -> Result<Option<PathBuf>, String> {
    let given = value.trim();
    if given.is_empty() {
        return Ok(None);
    }
    std::fs::canonicalize(given).map(Some).map_err(|e| {
        format!(
            "cannot read it ({e}); give the directory .ci/kubernetes-kit printed, or \
             kubernetes-server-linux-amd64.tar.gz (or the directory it unpacks to)"
        )
    })
}

/// Host names, comma- or space-separated.
pub(super) fn probes(value: &str, _: &Basis) -> Result<Vec<String>, String> {
    let names: Vec<String> = value
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    for name in &names {
        let valid = name.len() <= 253
            && name.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            });
        if !valid {
            return Err(format!("'{name}' is not a host name like example.com"));
        }
    }
    Ok(names)
}

pub(super) fn kubernetes_version(value: &str, _: &Basis) -> Result<KubeVersion, String> {
    let version: KubeVersion = value.parse()?;
    kubernetes_version_rule(version)?;
    Ok(version)
}

pub(super) fn kubernetes_version_rule(version: KubeVersion) -> Result<(), String> {
    if version.minor < KubeVersion::OLDEST_MINOR {
        return Err(format!(
            "dind supports Kubernetes v1.{} and later; pick a newer version, e.g. {}",
            KubeVersion::OLDEST_MINOR,
            defaults::KUBERNETES_VERSION
        ));
    }
    Ok(())
}

/// `Name=true,Other=false`: the form every Kubernetes component takes.
pub(super) fn feature_gates(value: &str, _: &Basis) -> Result<BTreeMap<String, bool>, String> {
    let mut gates = BTreeMap::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, value) = item
            .split_once('=')
            .ok_or_else(|| format!("'{item}' is not Name=true or Name=false"))?;
        let name = name.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!(
                "'{name}' is not a feature gate name like InPlacePodVerticalScaling"
            ));
        }
        let value = match value.trim().to_ascii_lowercase().as_str() {
            "true" => true,
            "false" => false,
            other => return Err(format!("{name}={other}: a gate is true or false")),
        };
        gates.insert(name.to_string(), value);
    }
    Ok(gates)
}

pub(super) fn kubeadm_patch(value: &str, _: &Basis) -> Result<KubeadmPatch, String> {
    KubeadmPatch::parse(value)
}

pub(super) fn containerd_patch(value: &str, _: &Basis) -> Result<ContainerdPatch, String> {
    ContainerdPatch::parse(value)
}

#[cfg(test)]
mod tests;
