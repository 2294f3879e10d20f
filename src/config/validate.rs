//! Turns merged raw settings into a [`Config`], checking every rule in one place.

use super::layer::{Layer, Origin, Sourced};
use super::{defaults, Config, IpMode, KubeVersion, V4Prefix16};
use crate::plan;
use ipnet::{IpNet, Ipv6Net};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// A setting that was refused: which one, the value, where it came from, and why.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid {setting} '{value}' (from {origin}): {reason}")]
pub struct ConfigError {
    pub setting: &'static str,
    pub value: String,
    pub origin: String,
    pub reason: String,
}

fn refuse(setting: &'static str, raw: &Sourced, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        setting,
        value: raw.value.clone(),
        origin: raw.origin.to_string(),
        reason: reason.into(),
    }
}

fn or_default(raw: Option<Sourced>, default: &str) -> Sourced {
    raw.unwrap_or_else(|| Sourced::new(default, Origin::Default))
}

fn parse<T: FromStr>(
    setting: &'static str,
    raw: &Sourced,
    expected: &str,
) -> Result<T, ConfigError> {
    raw.value
        .trim()
        .parse()
        .map_err(|_| refuse(setting, raw, expected.to_string()))
}

fn parse_bool(setting: &'static str, raw: &Sourced) -> Result<bool, ConfigError> {
    match raw.value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(refuse(setting, raw, "use true or false")),
    }
}

fn parse_cidrs(setting: &'static str, raw: &Sourced) -> Result<Vec<IpNet>, ConfigError> {
    let items: Vec<&str> = raw
        .value
        .split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if items.is_empty() {
        return Err(refuse(setting, raw, "give at least one CIDR"));
    }
    items
        .into_iter()
        .map(|item| {
            let net: IpNet = item.parse().map_err(|_| {
                refuse(
                    setting,
                    raw,
                    format!("'{item}' is not a CIDR like fd00:20::/64"),
                )
            })?;
            if net.trunc() != net {
                return Err(refuse(
                    setting,
                    raw,
                    format!("'{item}' has host bits set; did you mean {}?", net.trunc()),
                ));
            }
            Ok(net)
        })
        .collect()
}

/// The IPv4 and IPv6 members of a CIDR list, checked against the IP mode.
fn families_for_mode(
    setting: &'static str,
    raw: &Sourced,
    nets: &[IpNet],
    mode: IpMode,
) -> Result<(), ConfigError> {
    let v4 = nets.iter().filter(|n| matches!(n, IpNet::V4(_))).count();
    let v6 = nets.len() - v4;
    let wanted = match mode {
        IpMode::Ipv4 => (1, 0),
        IpMode::Ipv6 => (0, 1),
        IpMode::DualStack => (1, 1),
    };
    if (v4, v6) != wanted {
        let need = match mode {
            IpMode::Ipv4 => "exactly one IPv4 CIDR in ipv4 mode",
            IpMode::Ipv6 => "exactly one IPv6 CIDR in ipv6 mode",
            IpMode::DualStack => "one IPv4 and one IPv6 CIDR in dual-stack mode",
        };
        return Err(refuse(setting, raw, format!("give {need}")));
    }
    Ok(())
}

const RFC6052_LENGTHS: [u8; 6] = [32, 40, 48, 56, 64, 96];

fn check_dns64_prefix(raw: &Sourced) -> Result<Ipv6Net, ConfigError> {
    const SETTING: &str = "--dns64-prefix";
    let net: Ipv6Net = parse(
        SETTING,
        raw,
        "expected an IPv6 CIDR like fd00:10:64:ff9b::/96",
    )?;
    if !RFC6052_LENGTHS.contains(&net.prefix_len()) {
        return Err(refuse(
            SETTING,
            raw,
            "the length must be 32, 40, 48, 56, 64 or 96 (RFC 6052)",
        ));
    }
    if net.trunc() != net {
        return Err(refuse(
            SETTING,
            raw,
            format!("host bits are set; did you mean {}?", net.trunc()),
        ));
    }
    // RFC 6052 §2.2: bits 64..71 of every address under the prefix are zero.
    if net.prefix_len() > 64 && net.network().octets()[8] != 0 {
        return Err(refuse(
            SETTING,
            raw,
            "bits 64-71 must be zero (RFC 6052 §2.2)",
        ));
    }
    Ok(net)
}

fn check_nat64_v4_prefix(raw: &Sourced, cluster_id: u8) -> Result<V4Prefix16, ConfigError> {
    const SETTING: &str = "--nat64-v4-prefix";
    let prefix: V4Prefix16 = raw
        .value
        .trim()
        .parse()
        .map_err(|e: String| refuse(SETTING, raw, e))?;
    let second = u16::from(prefix.1) + u16::from(cluster_id);
    let allowed = match prefix.0 {
        10 => 0..=253,
        172 => 16..=31,
        _ => {
            return Err(refuse(
                SETTING,
                raw,
                "NAT64's IPv4 /16 must lie inside 10.0.0.0/8 or 172.16.0.0/12; use e.g. 172.18 or 10.100",
            ))
        }
    };
    if !allowed.contains(&second) {
        return Err(refuse(
            SETTING,
            raw,
            format!(
                "with cluster id {cluster_id} the second octet becomes {} + {cluster_id} = {second}, outside \
                 {}-{} for {}.x; pick a lower prefix or cluster id",
                prefix.1,
                allowed.start(),
                allowed.end(),
                prefix.0
            ),
        ));
    }
    Ok(prefix)
}

fn check_interface_name(raw: &Sourced) -> Result<String, ConfigError> {
    let name = raw.value.trim();
    let valid = !name.is_empty()
        && name.len() <= 15
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '/' && c != ':');
    if !valid {
        return Err(refuse(
            "--egress-interface",
            raw,
            "a Linux interface name has 1-15 printable characters and no '/', ':' or spaces",
        ));
    }
    Ok(name.to_string())
}

/// Host names, comma- or space-separated.
fn parse_names(setting: &'static str, raw: &Sourced) -> Result<Vec<String>, ConfigError> {
    let names: Vec<String> = raw
        .value
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
            return Err(refuse(
                setting,
                raw,
                format!("'{name}' is not a host name like example.com"),
            ));
        }
    }
    Ok(names)
}

fn parse_kubernetes_version(raw: &Sourced) -> Result<KubeVersion, ConfigError> {
    let version: KubeVersion = raw
        .value
        .parse()
        .map_err(|e: String| refuse("--kubernetes-version", raw, e))?;
    if version.minor < KubeVersion::OLDEST_MINOR {
        return Err(refuse(
            "--kubernetes-version",
            raw,
            format!(
                "dind supports Kubernetes v1.{} and later; pick a newer version, e.g. {}",
                KubeVersion::OLDEST_MINOR,
                defaults::KUBERNETES_VERSION
            ),
        ));
    }
    Ok(version)
}

/// `Name=true,Other=false`: the form every Kubernetes component takes.
fn parse_feature_gates(raw: &Sourced) -> Result<BTreeMap<String, bool>, ConfigError> {
    let mut gates = BTreeMap::new();
    for item in raw
        .value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let (name, value) = item.split_once('=').ok_or_else(|| {
            refuse(
                "--feature-gates",
                raw,
                format!("'{item}' is not Name=true or Name=false"),
            )
        })?;
        let name = name.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(refuse(
                "--feature-gates",
                raw,
                format!("'{name}' is not a feature gate name like InPlacePodVerticalScaling"),
            ));
        }
        let value = match value.trim().to_ascii_lowercase().as_str() {
            "true" => true,
            "false" => false,
            other => {
                return Err(refuse(
                    "--feature-gates",
                    raw,
                    format!("{name}={other}: a gate is true or false"),
                ))
            }
        };
        gates.insert(name.to_string(), value);
    }
    Ok(gates)
}

/// Each patch is one YAML mapping naming the `kind` of the document it patches.
fn check_kubeadm_patch(raw: &Sourced) -> Result<String, ConfigError> {
    let value: yaml_serde::Value = yaml_serde::from_str(&raw.value).map_err(|e| {
        refuse(
            "kubeadmConfigPatches",
            raw,
            format!("not a YAML document: {e}"),
        )
    })?;
    let kind = value
        .as_mapping()
        .and_then(|m| m.get("kind"))
        .and_then(|k| k.as_str());
    if !kind.is_some_and(|k| crate::render::kubeadm::PATCHABLE_KINDS.contains(&k)) {
        return Err(refuse(
            "kubeadmConfigPatches",
            raw,
            "a patch is a YAML mapping with a `kind:` (ClusterConfiguration, InitConfiguration,              JoinConfiguration, KubeletConfiguration or KubeProxyConfiguration)",
        ));
    }
    Ok(raw.value.clone())
}

/// A cluster id alone, for commands that only name a cluster (down, clean, status).
pub fn parse_cluster_id(raw: &Sourced) -> Result<u8, ConfigError> {
    const EXPECTED: &str = "expected a number from 0 to 254";
    let id: u8 = parse("--cluster-id", raw, EXPECTED)?;
    if id > 254 {
        return Err(refuse("--cluster-id", raw, EXPECTED));
    }
    Ok(id)
}

/// Merges `layer` over the defaults and checks every setting.
pub fn validate(layer: Layer) -> Result<Config, ConfigError> {
    let ip_mode_raw = or_default(layer.ip_mode, "ipv6");
    let ip_mode: IpMode = ip_mode_raw
        .value
        .trim()
        .parse()
        .map_err(|e: String| refuse("--ip-mode", &ip_mode_raw, e))?;

    let id_raw = or_default(layer.cluster_id, &defaults::CLUSTER_ID.to_string());
    let cluster_id = parse_cluster_id(&id_raw)?;

    let nodes_raw = or_default(layer.nodes, &defaults::NODES.to_string());
    let nodes: u8 = parse(
        "--nodes",
        &nodes_raw,
        "expected a number of workers from 0 to 250",
    )?;
    if nodes > 250 {
        return Err(refuse(
            "--nodes",
            &nodes_raw,
            "expected a number of workers from 0 to 250",
        ));
    }

    let allow_aaaa = match &layer.allow_aaaa {
        Some(raw) => parse_bool("--allow-aaaa", raw)?,
        None => false,
    };
    if allow_aaaa && ip_mode == IpMode::Ipv4 {
        let raw = layer.allow_aaaa.as_ref().expect("set when true");
        return Err(refuse(
            "--allow-aaaa",
            raw,
            "AAAA use needs IPv6; use --ip-mode ipv6 or dual-stack, or drop --allow-aaaa",
        ));
    }

    let kubernetes = match &layer.kubernetes {
        Some(raw) => parse_bool("--kubernetes", raw)?,
        None => true,
    };

    let dns64_raw = or_default(layer.dns64_prefix, defaults::DNS64_PREFIX);
    let dns64_prefix = check_dns64_prefix(&dns64_raw)?;
    let nat64_raw = or_default(layer.nat64_v4_prefix, defaults::NAT64_V4_PREFIX);
    // Only ipv6 mode has a NAT64 network; elsewhere the prefix is recorded but unused.
    let nat64_v4_prefix = if ip_mode == IpMode::Ipv6 {
        check_nat64_v4_prefix(&nat64_raw, cluster_id)?
    } else {
        nat64_raw
            .value
            .trim()
            .parse()
            .map_err(|e: String| refuse("--nat64-v4-prefix", &nat64_raw, e))?
    };
    // Unset: the Docker host's resolvers, through Docker's embedded DNS.
    let upstream_dns = match &layer.upstream_dns {
        Some(dns_raw) => {
            let upstream: Ipv4Addr = parse(
                "--upstream-dns",
                dns_raw,
                "expected an IPv4 address like 8.8.8.8",
            )?;
            if upstream.is_unspecified() || upstream.is_loopback() || upstream.is_multicast() {
                return Err(refuse(
                    "--upstream-dns",
                    dns_raw,
                    "the upstream resolver must be a unicast address reachable from the Docker host",
                ));
            }
            Some(upstream)
        }
        None => None,
    };
    let egress_interface = layer
        .egress_interface
        .as_ref()
        .map(check_interface_name)
        .transpose()?;

    let (mgmt_default, pod_default, service_default) = match ip_mode {
        IpMode::Ipv4 => (
            defaults::MGMT_V4.to_string(),
            defaults::POD_V4.to_string(),
            defaults::SERVICE_V4.to_string(),
        ),
        IpMode::Ipv6 => (
            defaults::MGMT_V6.to_string(),
            defaults::POD_V6.to_string(),
            defaults::SERVICE_V6.to_string(),
        ),
        // IPv6 services are primary (k-d-c's choice); IPv4 ones exist too, as in kind.
        IpMode::DualStack => (
            format!("{},{}", defaults::MGMT_V4, defaults::MGMT_V6),
            format!("{},{}", defaults::POD_V4, defaults::POD_V6),
            format!("{},{}", defaults::SERVICE_V6, defaults::SERVICE_V4),
        ),
    };
    let mgmt_raw = or_default(layer.mgmt_cidrs, &mgmt_default);
    let mut mgmt_cidrs = parse_cidrs("--mgmt-cidrs", &mgmt_raw)?;
    families_for_mode("--mgmt-cidrs", &mgmt_raw, &mgmt_cidrs, ip_mode)?;
    mgmt_cidrs.sort_by_key(|n| matches!(n, IpNet::V6(_)));
    for net in &mgmt_cidrs {
        match net {
            IpNet::V4(n) if n.prefix_len() != 24 => {
                return Err(refuse("--mgmt-cidrs", &mgmt_raw, "the IPv4 management CIDR must be a /24"))
            }
            IpNet::V6(n) if n.prefix_len() > 112 => {
                return Err(refuse(
                    "--mgmt-cidrs",
                    &mgmt_raw,
                    "the IPv6 management CIDR must be /112 or wider (it holds ::100 and ::200)",
                ))
            }
            IpNet::V6(n) if plan::mgmt_v6_for_cluster(*n, cluster_id).is_none() => {
                return Err(refuse(
                    "--mgmt-cidrs",
                    &mgmt_raw,
                    format!(
                        "cluster id {cluster_id} goes into the hextet after {n}'s last non-zero one, which lies \
                         outside the prefix; use a prefix like fd00:20::/64"
                    ),
                ))
            }
            _ => {}
        }
    }

    let pod_raw = or_default(layer.pod_cidrs, &pod_default);
    let mut pod_cidrs = parse_cidrs("--pod-cidrs", &pod_raw)?;
    families_for_mode("--pod-cidrs", &pod_raw, &pod_cidrs, ip_mode)?;
    pod_cidrs.sort_by_key(|n| matches!(n, IpNet::V6(_)));
    for net in &pod_cidrs {
        match net {
            IpNet::V4(n) if n.prefix_len() != 16 => {
                return Err(refuse(
                    "--pod-cidrs",
                    &pod_raw,
                    "the IPv4 pod CIDR must be a /16 (a /24 per node)",
                ))
            }
            IpNet::V6(n) if n.prefix_len() > 112 => {
                return Err(refuse(
                    "--pod-cidrs",
                    &pod_raw,
                    "the IPv6 pod CIDR must be /112 or wider (a /+8 per node)",
                ))
            }
            _ => {}
        }
    }

    let service_raw = or_default(layer.service_cidr, &service_default);
    let service_cidrs = parse_cidrs("--service-cidr", &service_raw)?;
    check_service_cidrs(&service_raw, &service_cidrs, ip_mode)?;

    let node_image = layer
        .node_image
        .map(|raw| raw.value.trim().to_string())
        .filter(|s| !s.is_empty());

    let probes = match &layer.probes {
        Some(raw) => parse_names("probes", raw)?,
        None => Vec::new(),
    };

    let kubernetes_version = match &layer.kubernetes_version {
        Some(raw) => parse_kubernetes_version(raw)?,
        None => KubeVersion::default(),
    };
    let feature_gates = match &layer.feature_gates {
        Some(raw) => parse_feature_gates(raw)?,
        None => BTreeMap::new(),
    };
    let kubeadm_config_patches = layer
        .kubeadm_config_patches
        .iter()
        .flatten()
        .map(check_kubeadm_patch)
        .collect::<Result<Vec<_>, _>>()?;

    let config = Config {
        cluster_id,
        ip_mode,
        nodes,
        allow_aaaa: allow_aaaa || ip_mode == IpMode::DualStack,
        dns64_prefix,
        nat64_v4_prefix,
        upstream_dns,
        egress_interface,
        kubernetes,
        mgmt_cidrs,
        pod_cidrs,
        service_cidrs,
        node_image,
        probes,
        kubernetes_version,
        feature_gates,
        kubeadm_config_patches,
    };
    // Compared as planned: the cluster id is already in the management and NAT64 ranges.
    let planned = plan::plan(&config);
    let mut ranges: Vec<(&'static str, &Sourced, IpNet)> = Vec::new();
    for subnet in &planned.network.subnets {
        // In ipv6 mode the network's only IPv4 subnet is NAT64's.
        if planned.nat64.is_some() && matches!(subnet.cidr, IpNet::V4(_)) {
            ranges.push(("--nat64-v4-prefix", &nat64_raw, subnet.cidr));
        } else {
            ranges.push(("--mgmt-cidrs", &mgmt_raw, subnet.cidr));
        }
    }
    ranges.extend(
        config
            .pod_cidrs
            .iter()
            .map(|n| ("--pod-cidrs", &pod_raw, *n)),
    );
    ranges.extend(
        config
            .service_cidrs
            .iter()
            .map(|n| ("--service-cidr", &service_raw, *n)),
    );
    if config.ip_mode == IpMode::Ipv6 {
        ranges.push(("--dns64-prefix", &dns64_raw, IpNet::V6(config.dns64_prefix)));
    }
    check_overlaps(&ranges)?;
    Ok(config)
}

/// One service CIDR of the mode's family; in dual-stack one or two of different families, the
/// first one primary (its family is the cluster's primary family, as kubeadm reads it).
fn check_service_cidrs(raw: &Sourced, cidrs: &[IpNet], ip_mode: IpMode) -> Result<(), ConfigError> {
    let families_ok = match (ip_mode, cidrs) {
        (IpMode::Ipv4, [IpNet::V4(_)]) | (IpMode::Ipv6, [IpNet::V6(_)]) => true,
        (IpMode::DualStack, [_]) => true,
        (IpMode::DualStack, [a, b]) => a.addr().is_ipv6() != b.addr().is_ipv6(),
        _ => false,
    };
    if families_ok {
        return Ok(());
    }
    let expected = match ip_mode {
        IpMode::Ipv4 => "give exactly one IPv4 CIDR in ipv4 mode",
        IpMode::Ipv6 => "give exactly one IPv6 CIDR in ipv6 mode",
        IpMode::DualStack => {
            "give one CIDR, or two of different families (the primary first) in dual-stack mode"
        }
    };
    Err(refuse("--service-cidr", raw, expected))
}

/// The cluster's own ranges must not overlap each other. The error names the later
/// setting and says where the earlier one came from.
fn check_overlaps(ranges: &[(&'static str, &Sourced, IpNet)]) -> Result<(), ConfigError> {
    let overlaps = |a: &IpNet, b: &IpNet| a.contains(&b.network()) || b.contains(&a.network());
    for (i, (setting, raw, net)) in ranges.iter().enumerate() {
        for (earlier_setting, earlier_raw, earlier) in &ranges[..i] {
            if overlaps(net, earlier) {
                return Err(refuse(
                    setting,
                    raw,
                    format!(
                        "{net} overlaps {earlier} of {earlier_setting} (from {}); choose ranges that do not overlap",
                        earlier_raw.origin
                    ),
                ));
            }
        }
    }
    Ok(())
}
