//! Every example config parses and validates, and plans the cluster its comments describe.

use dind::config::{load_file, validate};
use dind::plan::plan;

fn load(name: &str) -> dind::config::Config {
    let path = format!("{}/examples/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("example exists");
    validate(load_file(&path, &text).expect("example parses")).expect("example validates")
}

#[test]
fn ipv6_allow_aaaa_example() {
    let config = load("ipv6-allow-aaaa.yaml");
    assert!(config.allow_aaaa);
    assert!(!config.kubernetes);
    let plan = plan(&config);
    assert_eq!(plan.nodes.len(), 4);
    assert_eq!(plan.network.name, "kubeadm-dind-net-cluster-2");
}

#[test]
fn second_cluster_example() {
    let plan = plan(&load("second-cluster.yaml"));
    assert_eq!(plan.nodes[0].container, "kube-master-cluster-5");
    assert_eq!(plan.network.subnets[1].cidr.to_string(), "fd00:20:5::/64");
    assert_eq!(plan.network.subnets[0].cidr.to_string(), "172.23.0.0/16");
}

#[test]
fn custom_prefixes_example() {
    let plan = plan(&load("custom-prefixes.yaml"));
    let dns64 = plan.dns64.expect("ipv6 mode has DNS64");
    // 9.9.9.9 under a /64 prefix skips the reserved octet (bits 64..71).
    assert_eq!(dns64.forwarder.to_string(), "fd00:64::9:909:900:0");
    assert_eq!(
        plan.nat64.expect("ipv6 mode has NAT64").pool.to_string(),
        "10.150.0.128/25"
    );
    assert_eq!(plan.nodes[1].addresses[0].to_string(), "fd00:77::3");
}
