//! Rules across settings, judged on the accepted configuration.

use super::cluster_ranges::{mgmt_v4_for_cluster, mgmt_v6_for_cluster, nat64_v4_subnet};
use super::layer::Sourced;
use super::refusal::Refusal;
use super::settings::Layer;
use super::settings::ROWS;
use super::table::{Basis, Setting};
use super::{Config, IpMode};
use ipnet::IpNet;

/// The cluster's own ranges must not overlap each other, compared as the cluster uses them
/// (the cluster id already in the management and NAT64 ranges). A refusal names the later
/// setting and says where the earlier one came from.
pub(super) fn check_overlaps(config: &Config, layer: &Layer, refusals: &mut Vec<Refusal>) {
    let basis = Basis {
        ip_mode: Some(config.ip_mode),
        cluster_id: Some(config.cluster_id),
    };
    let raw = |row: &Setting, given: Option<&Sourced>| {
        row.or_fallback(given, &basis)
            .expect("an accepted required setting has a value")
    };
    let nat64 = raw(&ROWS.nat64_v4_prefix, layer.nat64_v4_prefix.as_ref());
    let mgmt = raw(&ROWS.mgmt_cidrs, layer.mgmt_cidrs.as_ref());
    let pods = raw(&ROWS.pod_cidrs, layer.pod_cidrs.as_ref());
    let services = raw(&ROWS.service_cidrs, layer.service_cidrs.as_ref());
    let dns64 = raw(&ROWS.dns64_prefix, layer.dns64_prefix.as_ref());

    let ipv6_only = config.ip_mode == IpMode::Ipv6;
    let mut ranges: Vec<(&'static str, &Sourced, IpNet)> = Vec::new();
    // In ipv6 mode the network's only IPv4 subnet is NAT64's.
    if let Some(subnet) = nat64_v4_subnet(config).filter(|_| ipv6_only) {
        ranges.push((ROWS.nat64_v4_prefix.name, &nat64, IpNet::V4(subnet)));
    }
    for net in &config.mgmt_cidrs {
        let planned = match net {
            IpNet::V4(n) => IpNet::V4(mgmt_v4_for_cluster(*n, config.cluster_id)),
            IpNet::V6(n) => {
                IpNet::V6(mgmt_v6_for_cluster(*n, config.cluster_id).expect("checked: the id fits"))
            }
        };
        ranges.push((ROWS.mgmt_cidrs.name, &mgmt, planned));
    }
    ranges.extend(
        config
            .pod_cidrs
            .iter()
            .map(|n| (ROWS.pod_cidrs.name, &pods, *n)),
    );
    ranges.extend(
        config
            .service_cidrs
            .iter()
            .map(|n| (ROWS.service_cidrs.name, &services, *n)),
    );
    if ipv6_only {
        ranges.push((
            ROWS.dns64_prefix.name,
            &dns64,
            IpNet::V6(config.dns64_prefix.net()),
        ));
    }

    let overlaps = |a: &IpNet, b: &IpNet| a.contains(&b.network()) || b.contains(&a.network());
    for (i, (setting, raw, net)) in ranges.iter().enumerate() {
        let earlier = ranges[..i]
            .iter()
            .find(|(_, _, earlier)| overlaps(net, earlier));
        if let Some((earlier_setting, earlier_raw, earlier)) = earlier {
            refusals.push(Refusal::new(
                setting,
                raw,
                format!(
                    "{net} overlaps {earlier} of {earlier_setting} (from {}); choose ranges that \
                     do not overlap",
                    earlier_raw.origin
                ),
            ));
        }
    }
}

/// containerd refuses `registry.mirrors` beside `config_path`, which the registry sets.
pub(super) fn check_registry_mirrors(config: &Config, layer: &Layer, refusals: &mut Vec<Refusal>) {
    if !config.registry {
        return;
    }
    let given = layer
        .containerd_config_patches
        .as_deref()
        .unwrap_or_default();
    for (index, (patch, raw)) in config
        .containerd_config_patches
        .iter()
        .zip(given)
        .enumerate()
    {
        let mirrors = patch
            .table()
            .get("plugins")
            .and_then(toml::Value::as_table)
            .is_some_and(|plugins| {
                plugins.values().any(|plugin| {
                    plugin
                        .get("registry")
                        .and_then(|r| r.get("mirrors"))
                        .is_some()
                })
            });
        if mirrors {
            refusals.push(
                Refusal::new(
                    ROWS.containerd_config_patches.name,
                    raw,
                    "sets registry.mirrors, which containerd refuses beside the config_path that \
                     --registry sets; drop the mirrors or the registry",
                )
                .at(index),
            );
        }
    }
}

/// `--kubernetes-from` builds dind's own node image from files: it needs Kubernetes, it
/// cannot stand beside a node image of the user's, and the version is the files' own.
pub(super) fn check_kubernetes_from(config: &Config, layer: &Layer, refusals: &mut Vec<Refusal>) {
    let (Some(from), Some(_)) = (&layer.kubernetes_from, &config.kubernetes_from) else {
        return;
    };
    let conflicts: [(Option<&Sourced>, &Setting, &str); 3] = [
        (
            layer
                .node_image
                .as_ref()
                .filter(|_| config.node_image.is_some()),
            &ROWS.node_image,
            "runs an image of yours while --kubernetes-from builds dind's own; give one of them",
        ),
        (
            layer.kubernetes_version.as_ref(),
            &ROWS.kubernetes_version,
            "names a version while the files have their own; leave the version out",
        ),
        (
            layer.kubernetes.as_ref().filter(|_| !config.kubernetes),
            &ROWS.kubernetes,
            "leaves Kubernetes out; drop one of the two",
        ),
    ];
    for (given, other, why) in conflicts {
        if let Some(raw) = given {
            refusals.push(Refusal::new(
                ROWS.kubernetes_from.name,
                from,
                format!(
                    "cannot go with {} (from {}), which {why}",
                    other.name, raw.origin
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests;
