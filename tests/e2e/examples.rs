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

/// `dind up --dry-run` needs no Docker daemon: with DOCKER_HOST pointing at nothing, every
/// example still prints its whole plan, as text and as one JSON document.
#[test]
fn every_example_dry_runs_without_docker() {
    let examples = std::fs::read_dir(format!("{}/examples", env!("CARGO_MANIFEST_DIR")))
        .expect("examples/")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"));
    let mut seen = 0;
    for path in examples {
        let run = |extra: &[&str]| {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_dind"))
                .args(["up", "--dry-run", "--config"])
                .arg(&path)
                .args(extra)
                .env("DOCKER_HOST", "tcp://127.0.0.1:9")
                .output()
                .expect("dind runs");
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            assert!(
                out.status.success(),
                "{}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            stdout
        };
        let text = run(&[]);
        assert!(text.contains("# nothing was created or changed"), "{text}");
        assert!(text.contains("== container kube-master"), "{text}");
        let json: serde_json::Value = serde_json::from_str(&run(&["-o", "json"])).expect("JSON");
        let containers = json["containers"].as_array().expect("containers");
        assert!(containers.iter().any(|c| c["role"] == "master"), "{json:#}");
        seen += 1;
    }
    assert!(seen >= 4, "only {seen} examples");
}

#[test]
fn kind_nodes_example() {
    let config = load("kind-nodes.yaml");
    let plan = serde_json::to_value(plan(&config)).expect("a plan serializes");
    let nodes = plan["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 3);
    assert_eq!(nodes[0]["container"], "kube-master-cluster-3");
    assert_eq!(
        nodes[0]["port_mappings"],
        serde_json::json!([
            {"containerPort": 80, "hostPort": 8080, "listenAddress": "::1", "protocol": "TCP"},
            {"containerPort": 53, "hostPort": 5353, "listenAddress": "::1", "protocol": "UDP"}
        ])
    );
    assert_eq!(nodes[0]["extra_mounts"][0]["readOnly"], true);
    assert_eq!(nodes[2]["labels"]["tier"], "db");
}

#[test]
fn local_registry_example() {
    let config = load("local-registry.yaml");
    assert!(config.registry);
    let registry = plan(&config).registry.expect("a registry is planned");
    assert_eq!(registry.host_port, 5004);
    assert_eq!(registry.container, "dind-registry-cluster-3");
}
