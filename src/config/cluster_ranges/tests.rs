//! The cluster id in the ranges: every id's defaults are its own.

use crate::config::{validate, IpMode};
use crate::test_support::{config_from_env, env_layer};
use ipnet::IpNet;

/// Every id `--cluster-id` accepts works with the defaults, in every IP mode, and no two ids
/// share a network: the Docker networks (management and NAT64 subnets) of any two ids are
/// apart, whatever mode each of them runs in.
#[test]
fn every_cluster_id_has_default_ranges_of_its_own() {
    use crate::config::{mgmt_v4_for_cluster, mgmt_v6_for_cluster, nat64_v4_subnet};
    let mut networks: Vec<(u8, &str, IpNet)> = Vec::new();
    for id in 0..=254u8 {
        for mode in ["ipv6", "ipv4", "dual-stack"] {
            let config = validate(env_layer(&[
                ("CLUSTER_ID", &id.to_string()),
                ("IP_MODE", mode),
            ]))
            .unwrap_or_else(|e| panic!("cluster id {id} in {mode} mode refused: {e}"));
            for net in &config.mgmt_cidrs {
                networks.push((
                    id,
                    mode,
                    match net {
                        IpNet::V4(n) => IpNet::V4(mgmt_v4_for_cluster(*n, id)),
                        IpNet::V6(n) => IpNet::V6(mgmt_v6_for_cluster(*n, id).unwrap()),
                    },
                ));
            }
            if config.ip_mode == IpMode::Ipv6 {
                networks.push((id, mode, IpNet::V4(nat64_v4_subnet(&config).unwrap())));
            }
        }
    }
    let overlaps = |a: &IpNet, b: &IpNet| a.contains(&b.network()) || b.contains(&a.network());
    for (i, (id, mode, net)) in networks.iter().enumerate() {
        for (other_id, other_mode, other) in &networks[i + 1..] {
            assert!(
                id == other_id || !overlaps(net, other),
                "cluster {id} ({mode}) {net} overlaps cluster {other_id} ({other_mode}) {other}"
            );
        }
    }
    // k-d-c's 172.18 + id for the ids it served.
    let nat64_of = |id: u8| {
        nat64_v4_subnet(&config_from_env(&[("CLUSTER_ID", &id.to_string())]))
            .unwrap()
            .to_string()
    };
    assert_eq!(nat64_of(0), "172.18.0.0/16");
    assert_eq!(nat64_of(13), "172.31.0.0/16");
    assert_eq!(nat64_of(14), "10.14.0.0/16");
    assert_eq!(nat64_of(191), "10.191.0.0/16");
    assert_eq!(nat64_of(192), "10.193.0.0/16");
    assert_eq!(nat64_of(254), "10.255.0.0/16");
}
