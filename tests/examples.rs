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

#[test]
fn kubernetes_patched_example() {
    use dind::render::kubeadm::init_config;
    let config = load("kubernetes-patched.yaml");
    assert!(config.kubernetes);
    assert_eq!(config.kubernetes_version.to_string(), "v1.35");
    assert_eq!(
        config.feature_gates.get("InPlacePodVerticalScaling"),
        Some(&true)
    );
    let rendered = init_config(
        &plan(&config),
        &config,
        "v1.35.2".parse().expect("a version"),
    )
    .expect("renders");
    assert!(rendered.contains("maxPods: 60"), "{rendered}");
    assert!(rendered.contains("name: audit-log-maxage"), "{rendered}");
    // The patch adds its flag beside the API server's feature gates, not instead of them.
    assert_eq!(
        rendered
            .matches("value: InPlacePodVerticalScaling=true")
            .count(),
        3,
        "{rendered}"
    );
    assert_eq!(plan(&config).nodes.len(), 4);
}
