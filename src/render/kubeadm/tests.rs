//! The kubeadm configuration (init and join) per IP mode and config API version, the
//! kubelet's resolv.conf, user patches, and the Kubernetes node container's settings.

use crate::config::{load_file, Config, KubeVersion, KubeadmPatch, Layer};
use crate::labels::Record;
use crate::plan::kubernetes::{
    api_service_ip, dns_service_ip, published_loopback, upstream_resolvers,
};
use crate::plan::{plan, ClusterPlan};
use crate::render::containers::{self, Mount, Restart};
use crate::render::kubeadm::{
    apply_patch, init_config, join_config, kubelet_resolv_conf, JoinCommand,
};
use crate::test_support::{assert_golden, config_from_env, valid};
use std::net::IpAddr;
use yaml_serde::Value;

fn version(v: &str) -> KubeVersion {
    v.parse().unwrap()
}

fn join_command() -> JoinCommand {
    JoinCommand {
        api_server_endpoint: "[fd00:20::2]:6443".into(),
        token: "abcdef.0123456789abcdef".into(),
        ca_cert_hashes: vec![format!("sha256:{}", "0a".repeat(32))],
    }
}

fn from_file(yaml: &str) -> Config {
    let layer = load_file("cluster.yaml", yaml).expect("a valid file");
    valid(layer)
}

fn docs(text: &str) -> Vec<Value> {
    text.split("\n---\n")
        .map(|doc| yaml_serde::from_str(doc).expect("each document is YAML"))
        .collect()
}

fn doc<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"].as_str() == Some(kind))
        .unwrap_or_else(|| panic!("no {kind} document"))
}

fn render_init(config: &Config, v: &str) -> String {
    init_config(&plan(config), config, version(v)).expect("renders")
}

// ------------------------------------------------------------------- golden files

#[test]
fn golden_init_ipv6_v1beta4() {
    let config = config_from_env(&[]);
    assert_golden(
        "kubeadm/init-ipv6-v1.36.yaml",
        &render_init(&config, "v1.36.4"),
    );
}

#[test]
fn golden_init_ipv6_v1beta3() {
    let config = config_from_env(&[]);
    assert_golden(
        "kubeadm/init-ipv6-v1.30.yaml",
        &render_init(&config, "v1.30.14"),
    );
}

#[test]
fn golden_init_dual_stack() {
    let config = config_from_env(&[("IP_MODE", "dual-stack")]);
    assert_golden(
        "kubeadm/init-dual-stack-v1.36.yaml",
        &render_init(&config, "v1.36.4"),
    );
}

#[test]
fn golden_init_ipv4() {
    let config = config_from_env(&[("IP_MODE", "ipv4")]);
    assert_golden(
        "kubeadm/init-ipv4-v1.36.yaml",
        &render_init(&config, "v1.36.4"),
    );
}

#[test]
fn golden_join_ipv6_both_api_versions() {
    let config = config_from_env(&[]);
    let p = plan(&config);
    let worker = &p.nodes[1];
    let v4 = join_config(&config, version("v1.36.4"), worker, &join_command()).unwrap();
    let v3 = join_config(&config, version("v1.30.14"), worker, &join_command()).unwrap();
    assert_golden("kubeadm/join-ipv6-v1.36.yaml", &v4);
    assert_golden("kubeadm/join-ipv6-v1.30.yaml", &v3);
}

#[test]
fn golden_kubelet_resolv_conf() {
    let ipv6 = config_from_env(&[]);
    let ipv4 = config_from_env(&[("IP_MODE", "ipv4"), ("REMOTE_DNS64_V4SERVER", "9.9.9.9")]);
    assert_golden(
        "kubeadm/kubelet-resolv-ipv6.conf",
        &kubelet_resolv_conf(&plan(&ipv6)),
    );
    assert_golden(
        "kubeadm/kubelet-resolv-ipv4.conf",
        &kubelet_resolv_conf(&plan(&ipv4)),
    );
}

// --------------------------------------------------------------- what the goldens hold

#[test]
fn the_config_api_follows_the_kubeadm_version() {
    let config = config_from_env(&[]);
    for (v, api) in [
        ("v1.30.14", "kubeadm.k8s.io/v1beta3"),
        ("v1.31.0", "kubeadm.k8s.io/v1beta4"),
        ("v1.36.4", "kubeadm.k8s.io/v1beta4"),
    ] {
        let rendered = docs(&render_init(&config, v));
        for kind in ["InitConfiguration", "ClusterConfiguration"] {
            assert_eq!(
                doc(&rendered, kind)["apiVersion"].as_str(),
                Some(api),
                "{v} {kind}"
            );
        }
        assert_eq!(
            doc(&rendered, "ClusterConfiguration")["kubernetesVersion"].as_str(),
            Some(v)
        );
    }
}

#[test]
fn v1beta4_takes_flag_lists_and_v1beta3_flag_maps() {
    let config = config_from_env(&[]);
    let v4 = docs(&render_init(&config, "v1.36.4"));
    let args = &doc(&v4, "InitConfiguration")["nodeRegistration"]["kubeletExtraArgs"];
    assert_eq!(args[0]["name"].as_str(), Some("node-ip"));
    assert_eq!(args[0]["value"].as_str(), Some("fd00:20::2"));
    let v3 = docs(&render_init(&config, "v1.30.14"));
    let args = &doc(&v3, "InitConfiguration")["nodeRegistration"]["kubeletExtraArgs"];
    assert_eq!(args["node-ip"].as_str(), Some("fd00:20::2"));
}

#[test]
fn ipv6_cluster_advertises_ipv6_and_uses_ipv6_subnets() {
    let config = config_from_env(&[("CLUSTER_ID", "5"), ("NAT64_V4_SUBNET_PREFIX", "172.18")]);
    let rendered = docs(&render_init(&config, "v1.36.4"));
    let init = doc(&rendered, "InitConfiguration");
    assert_eq!(
        init["localAPIEndpoint"]["advertiseAddress"].as_str(),
        Some("fd00:20:5::2")
    );
    assert_eq!(
        init["nodeRegistration"]["name"].as_str(),
        Some("kube-master-cluster-5")
    );
    let cluster = doc(&rendered, "ClusterConfiguration");
    assert_eq!(cluster["clusterName"].as_str(), Some("dind-cluster-5"));
    assert_eq!(
        cluster["controlPlaneEndpoint"].as_str(),
        Some("[fd00:20:5::2]:6443")
    );
    assert_eq!(
        cluster["networking"]["podSubnet"].as_str(),
        Some("fd00:40::/72")
    );
    assert_eq!(
        cluster["networking"]["serviceSubnet"].as_str(),
        Some("fd00:30::/110")
    );
    let sans: Vec<&str> = cluster["apiServer"]["certSANs"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    // The kubeconfig reaches the API server on the host's ::1.
    assert!(sans.contains(&"::1"), "{sans:?}");
    assert!(sans.contains(&"fd00:20:5::2"), "{sans:?}");
    // dind's plan, not the controller manager, gives nodes their pod CIDRs (a /80 each).
    let cm = &cluster["controllerManager"]["extraArgs"];
    assert_eq!(cm[0]["name"].as_str(), Some("allocate-node-cidrs"));
    assert_eq!(cm[0]["value"].as_str(), Some("false"));
    assert_eq!(cm[1]["name"].as_str(), Some("node-cidr-mask-size"));
    assert_eq!(cm[1]["value"].as_str(), Some("80"));
    let kubelet = doc(&rendered, "KubeletConfiguration");
    assert_eq!(
        kubelet["resolvConf"].as_str(),
        Some("/etc/dind/kubelet-resolv.conf")
    );
    assert_eq!(kubelet["cgroupDriver"].as_str(), Some("systemd"));
    let proxy = doc(&rendered, "KubeProxyConfiguration");
    assert_eq!(proxy["clusterCIDR"].as_str(), Some("fd00:40::/72"));
    assert_eq!(proxy["conntrack"]["maxPerCore"].as_i64(), Some(0));
}

#[test]
fn service_traffic_is_masqueraded_so_same_node_backends_answer() {
    for mode in ["ipv6", "dual-stack", "ipv4"] {
        for v in ["v1.30.14", "v1.36.4"] {
            let config = config_from_env(&[("IP_MODE", mode)]);
            let rendered = docs(&render_init(&config, v));
            let proxy = doc(&rendered, "KubeProxyConfiguration");
            assert_eq!(proxy["mode"].as_str(), Some("iptables"), "{mode} {v}");
            assert_eq!(
                proxy["iptables"]["masqueradeAll"].as_bool(),
                Some(true),
                "{mode} {v}"
            );
        }
    }
}

#[test]
fn dual_stack_puts_the_service_family_first() {
    let config = config_from_env(&[("IP_MODE", "dual-stack")]);
    let p = plan(&config);
    let rendered = docs(&render_init(&config, "v1.36.4"));
    let init = doc(&rendered, "InitConfiguration");
    let master_v6 = p.nodes[0].addresses.iter().find(|a| a.is_ipv6()).unwrap();
    let master_v4 = p.nodes[0].addresses.iter().find(|a| a.is_ipv4()).unwrap();
    assert_eq!(
        init["localAPIEndpoint"]["advertiseAddress"].as_str(),
        Some(master_v6.to_string().as_str())
    );
    assert_eq!(
        init["nodeRegistration"]["kubeletExtraArgs"][0]["value"].as_str(),
        Some(format!("{master_v6},{master_v4}").as_str())
    );
    let cluster = doc(&rendered, "ClusterConfiguration");
    assert_eq!(
        cluster["networking"]["podSubnet"].as_str(),
        Some("fd00:40::/72,10.244.0.0/16")
    );
    let names: Vec<&str> = cluster["controllerManager"]["extraArgs"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "allocate-node-cidrs",
            "node-cidr-mask-size-ipv4",
            "node-cidr-mask-size-ipv6"
        ]
    );
    // Services of both families, the primary (IPv6) first; CoreDNS on the primary one.
    assert_eq!(
        cluster["networking"]["serviceSubnet"].as_str(),
        Some("fd00:30::/110,10.96.0.0/12")
    );
    assert_eq!(dns_service_ip(&config).to_string(), "fd00:30::a");
}

#[test]
fn only_a_single_node_cluster_untaints_its_master() {
    let single = config_from_env(&[("NUM_NODES", "0")]);
    let rendered = docs(&render_init(&single, "v1.36.4"));
    let taints = &doc(&rendered, "InitConfiguration")["nodeRegistration"]["taints"];
    assert_eq!(taints.as_sequence().map(Vec::len), Some(0));
    let three = config_from_env(&[]);
    let rendered = docs(&render_init(&three, "v1.36.4"));
    assert!(doc(&rendered, "InitConfiguration")["nodeRegistration"]
        .get("taints")
        .is_none());
}

#[test]
fn join_carries_the_parsed_join_command_and_the_worker_address() {
    let config = config_from_env(&[]);
    let p = plan(&config);
    let text = join_config(&config, version("v1.36.4"), &p.nodes[2], &join_command()).unwrap();
    let join = &docs(&text)[0];
    let token = &join["discovery"]["bootstrapToken"];
    assert_eq!(
        token["apiServerEndpoint"].as_str(),
        Some("[fd00:20::2]:6443")
    );
    assert_eq!(token["token"].as_str(), Some("abcdef.0123456789abcdef"));
    assert_eq!(
        token["caCertHashes"][0].as_str(),
        Some(join_command().ca_cert_hashes[0].as_str())
    );
    assert_eq!(
        join["nodeRegistration"]["name"].as_str(),
        Some("kube-node-2")
    );
    assert_eq!(
        join["nodeRegistration"]["kubeletExtraArgs"][0]["value"].as_str(),
        Some("fd00:20::4")
    );
}

#[test]
fn feature_gates_reach_every_component() {
    let config = from_file(
        "apiVersion: dind.k8s.io/v1alpha1\nkind: Cluster\nfeatureGates:\n  InPlacePodVerticalScaling: true\n  SidecarContainers: false\n",
    );
    let rendered = docs(&render_init(&config, "v1.36.4"));
    let cluster = doc(&rendered, "ClusterConfiguration");
    for component in ["apiServer", "controllerManager", "scheduler"] {
        let args = cluster[component]["extraArgs"].as_sequence().unwrap();
        let gates = args
            .iter()
            .find(|a| a["name"].as_str() == Some("feature-gates"))
            .unwrap_or_else(|| panic!("{component} has no feature-gates"));
        assert_eq!(
            gates["value"].as_str(),
            Some("InPlacePodVerticalScaling=true,SidecarContainers=false")
        );
    }
    for kind in ["KubeletConfiguration", "KubeProxyConfiguration"] {
        let gates = &doc(&rendered, kind)["featureGates"];
        assert_eq!(
            gates["InPlacePodVerticalScaling"].as_bool(),
            Some(true),
            "{kind}"
        );
        assert_eq!(gates["SidecarContainers"].as_bool(), Some(false), "{kind}");
    }
}

#[test]
fn user_patches_merge_into_their_kind_only() {
    let config = from_file(
        r#"apiVersion: dind.k8s.io/v1alpha1
kind: Cluster
kubeadmConfigPatches:
- |
  kind: ClusterConfiguration
  apiServer:
    extraArgs:
    - name: v
      value: "4"
  networking:
    dnsDomain: dind.local
- |
  kind: KubeletConfiguration
  evictionHard: null
  maxPods: 50
- |
  kind: JoinConfiguration
  nodeRegistration:
    taints: []
"#,
    );
    let rendered = docs(&render_init(&config, "v1.36.4"));
    let cluster = doc(&rendered, "ClusterConfiguration");
    assert_eq!(
        cluster["networking"]["dnsDomain"].as_str(),
        Some("dind.local")
    );
    // Siblings of a patched key stay.
    assert_eq!(
        cluster["networking"]["podSubnet"].as_str(),
        Some("fd00:40::/72")
    );
    assert_eq!(
        cluster["apiServer"]["extraArgs"][0]["name"].as_str(),
        Some("v")
    );
    assert!(cluster["apiServer"]["certSANs"].is_sequence());
    let kubelet = doc(&rendered, "KubeletConfiguration");
    assert!(kubelet.get("evictionHard").is_none(), "null removes a key");
    assert_eq!(kubelet["maxPods"].as_i64(), Some(50));
    // The JoinConfiguration patch does not touch the master's documents...
    assert!(doc(&rendered, "InitConfiguration")["nodeRegistration"]
        .get("taints")
        .is_none());
    // ...and reaches the workers'.
    let p = plan(&config);
    let join = join_config(&config, version("v1.36.4"), &p.nodes[1], &join_command()).unwrap();
    assert_eq!(
        docs(&join)[0]["nodeRegistration"]["taints"]
            .as_sequence()
            .map(Vec::len),
        Some(0)
    );
}

#[test]
fn a_patch_with_an_api_version_only_touches_that_version() {
    let mut rendered = docs(&render_init(&config_from_env(&[]), "v1.36.4"));
    let before = rendered.clone();
    let patch = KubeadmPatch::parse(
        "apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nclusterName: other\n",
    )
    .unwrap();
    apply_patch(&mut rendered, &patch);
    assert_eq!(rendered, before);
}

#[test]
fn bad_patches_are_refused_with_the_setting_named() {
    let refused = |patch: &str| {
        let yaml = format!(
            "apiVersion: dind.k8s.io/v1alpha1\nkind: Cluster\nkubeadmConfigPatches:\n- |\n{}",
            patch
                .lines()
                .map(|l| format!("  {l}\n"))
                .collect::<String>()
        );
        let layer: Layer = load_file("cluster.yaml", &yaml).expect("the file parses");
        crate::config::validate(layer)
            .expect_err("the patch is refused")
            .to_string()
    };
    let err = refused("apiServer:\n  certSANs: [a]");
    assert!(err.contains("kubeadmConfigPatches"), "{err}");
    assert!(err.contains("kind"), "{err}");
    let err = refused("kind: Deployment\nspec: {}");
    assert!(
        err.contains("ClusterConfiguration, InitConfiguration"),
        "{err}"
    );
    let err = refused("kind: [unclosed");
    assert!(err.contains("not a YAML document"), "{err}");
}

#[test]
fn kubelet_resolvers_are_dns64_in_ipv6_and_the_nodes_docker_dns_elsewhere() {
    let ipv6 = config_from_env(&[]);
    assert_eq!(
        upstream_resolvers(&plan(&ipv6)),
        vec!["fd00:20::100".parse::<IpAddr>().unwrap()]
    );
    // Given or not, --upstream-dns is what Docker's embedded DNS forwards to; pods reach that
    // through the network's gateway address on their node.
    for upstream in [None, Some("1.1.1.1")] {
        let mut vars = vec![("IP_MODE", "dual-stack")];
        vars.extend(upstream.map(|u| ("REMOTE_DNS64_V4SERVER", u)));
        let dual = config_from_env(&vars);
        let p = plan(&dual);
        assert_eq!(
            upstream_resolvers(&p),
            vec!["10.192.0.1".parse::<IpAddr>().unwrap()]
        );
        for node in &p.nodes {
            assert_eq!(node.docker_dns_at, Some("10.192.0.1".parse().unwrap()));
            assert_eq!(
                node.docker_dns_upstream,
                upstream.map(|u| u.parse().unwrap())
            );
        }
    }
}

#[test]
fn the_dns_service_is_the_tenth_service_address() {
    assert_eq!(
        dns_service_ip(&config_from_env(&[])).to_string(),
        "fd00:30::a"
    );
    assert_eq!(
        dns_service_ip(&config_from_env(&[("IP_MODE", "ipv4")])).to_string(),
        "10.96.0.10"
    );
}

/// What `--wait` expects CoreDNS to answer for kubernetes.default (seen on live clusters:
/// fd00:30::1 in ipv6 mode).
#[test]
fn the_api_service_is_the_first_service_address_of_the_primary_family() {
    let api = |vars: &[(&str, &str)]| api_service_ip(&config_from_env(vars)).to_string();
    assert_eq!(api(&[]), "fd00:30::1");
    assert_eq!(api(&[("IP_MODE", "ipv4")]), "10.96.0.1");
    assert_eq!(api(&[("IP_MODE", "dual-stack")]), "fd00:30::1");
}

// ------------------------------------------------------------ the node container

fn kubernetes_record(vars: &[(&str, &str)]) -> (ClusterPlan, Record) {
    let config = config_from_env(vars);
    (plan(&config), record_of(&config))
}

/// The record `up` writes for `config`, the API server on host port 40123.
fn record_of(config: &Config) -> Record {
    Record {
        config: config.clone(),
        enabled_ipv6_forwarding: false,
        ip6_forward_policy: None,
        kubeconfig: None,
        api_server_port: Some(40123),
        proxy: Default::default(),
    }
}

#[test]
fn kubernetes_nodes_run_as_kinds_do_and_only_the_master_publishes_the_api() {
    let (p, record) = kubernetes_record(&[]);
    let master = containers::node(&p, &record, &p.nodes[0], "img");
    // Not privileged: the capabilities systemd, containerd, runc and the kubelet need.
    assert!(!master.privileged);
    assert_eq!(
        master.cap_add,
        ["SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_BOOT"]
    );
    assert!(master.cap_drop.is_empty() && master.devices.is_empty());
    let security = master.security_opt.clone();
    assert!(security.contains(&"seccomp=unconfined".to_string()));
    assert!(security.contains(&"apparmor=unconfined".to_string()));
    let tmpfs = master.tmpfs.clone();
    assert!(tmpfs.contains_key("/run") && tmpfs.contains_key("/tmp"));
    let mounts = master.mounts.clone();
    assert!(mounts
        .iter()
        .any(|m| matches!(m, Mount::Volume { target } if target == "/var")));
    assert!(mounts.iter().any(|m| matches!(
        m,
        Mount::Bind { target, read_only: true, .. } if target == "/lib/modules"
    )));
    assert!(master.private_cgroupns);
    let api: Vec<_> = master
        .published
        .iter()
        .filter(|b| b.container_key() == "6443/tcp")
        .collect();
    // IPv6-only node: Docker's proxy on ::1 reaches it, one on 127.0.0.1 would not.
    assert_eq!(api[0].host_ip.to_string(), "::1");
    // The port `up` picked and recorded: the same after every restart.
    assert_eq!(api[0].host_port, Some(40123));
    // Back after a daemon restart, as kind's nodes.
    assert_eq!(master.restart, Some(Restart::OnFailure { max_retries: 1 }));
    // Without a recorded port (a remote Docker host), Docker picks one.
    let unpicked = Record {
        api_server_port: None,
        ..record.clone()
    };
    let master = containers::node(&p, &unpicked, &p.nodes[0], "img");
    assert_eq!(master.published[0].container_key(), "6443/tcp");
    assert_eq!(master.published[0].host_port, None);

    let worker = containers::node(&p, &record, &p.nodes[1], "img");
    assert!(worker.published.is_empty());

    let (p, record) = kubernetes_record(&[("IP_MODE", "dual-stack")]);
    let master = containers::node(&p, &record, &p.nodes[0], "img");
    assert_eq!(master.published[0].container_key(), "6443/tcp");
    assert_eq!(master.published[0].host_ip.to_string(), "127.0.0.1");
}

#[test]
fn network_plane_nodes_keep_their_narrow_capabilities() {
    let (p, mut record) = kubernetes_record(&[]);
    record.config.kubernetes = false;
    let node = containers::node(&p, &record, &p.nodes[0], "img");
    assert!(!node.privileged);
    assert_eq!(node.cap_add, ["NET_ADMIN", "SYS_ADMIN"]);
    assert!(node.published.is_empty());
}

#[test]
fn published_loopback_matches_the_node_families() {
    use crate::config::IpMode;
    assert_eq!(published_loopback(IpMode::Ipv6).to_string(), "::1");
    assert_eq!(published_loopback(IpMode::Ipv4).to_string(), "127.0.0.1");
    assert_eq!(
        published_loopback(IpMode::DualStack).to_string(),
        "127.0.0.1"
    );
}

#[test]
fn a_node_without_the_host_modules_keeps_every_other_setting() {
    let (p, record) = kubernetes_record(&[]);
    let spec = containers::node(&p, &record, &p.nodes[0], "img");
    let without = containers::without_host_modules(spec.clone());
    let mounts = without.mounts.clone();
    assert_eq!(mounts.len(), 1);
    assert_eq!(mounts[0].target(), "/var");
    let mut expected = spec;
    expected.mounts = mounts;
    assert_eq!(without, expected);
}

#[test]
fn a_patch_adds_a_named_flag_without_dropping_dinds() {
    let config = from_file(
        r#"apiVersion: dind.k8s.io/v1alpha1
kind: Cluster
featureGates:
  InPlacePodVerticalScaling: true
kubeadmConfigPatches:
- |
  kind: ClusterConfiguration
  apiServer:
    extraArgs:
    - name: audit-log-maxage
      value: "7"
  controllerManager:
    extraArgs:
    - name: node-cidr-mask-size
      value: "96"
"#,
    );
    let rendered = docs(&render_init(&config, "v1.36.4"));
    let cluster = doc(&rendered, "ClusterConfiguration");
    let args = |component: &str| -> Vec<(String, String)> {
        cluster[component]["extraArgs"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["name"].as_str().unwrap().to_string(),
                    a["value"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let pair = |n: &str, v: &str| (n.to_string(), v.to_string());
    assert_eq!(
        args("apiServer"),
        [
            pair("feature-gates", "InPlacePodVerticalScaling=true"),
            pair("audit-log-maxage", "7")
        ]
    );
    // The same name replaces dind's value in place.
    assert_eq!(
        args("controllerManager"),
        [
            pair("allocate-node-cidrs", "false"),
            pair("node-cidr-mask-size", "96"),
            pair("bind-address", "::"),
            pair("feature-gates", "InPlacePodVerticalScaling=true")
        ]
    );
    // Lists of anything else are replaced whole (JSON merge patch).
    let mut rendered = rendered.clone();
    let patch =
        KubeadmPatch::parse("kind: ClusterConfiguration\napiServer:\n  certSANs: [dind.test]\n")
            .unwrap();
    apply_patch(&mut rendered, &patch);
    let sans = &doc(&rendered, "ClusterConfiguration")["apiServer"]["certSANs"];
    assert_eq!(sans.as_sequence().map(Vec::len), Some(1));
}

#[test]
fn proxy_settings_reach_kubernetes_nodes_with_the_cluster_left_out() {
    let (p, mut record) = kubernetes_record(&[]);
    let env = std::collections::HashMap::from([
        ("https_proxy", "http://proxy.example:3128"),
        ("NO_PROXY", "corp.example"),
    ]);
    record.proxy =
        containers::proxy_settings(|n| env.get(n).map(|v| v.to_string()), &p, &record.config);
    assert_eq!(
        record.proxy.get("HTTPS_PROXY").map(String::as_str),
        Some("http://proxy.example:3128")
    );
    assert!(!record.proxy.contains_key("HTTP_PROXY"));
    let no_proxy: Vec<&str> = record.proxy["NO_PROXY"].split(',').collect();
    for entry in [
        "corp.example",
        "::1",
        "fd00:20::/64",
        "fd00:40::/72",
        "fd00:30::/110",
        "kube-master",
        "kube-node-2",
        ".svc.cluster.local",
    ] {
        assert!(no_proxy.contains(&entry), "{entry} not in {no_proxy:?}");
    }
    let master = containers::node(&p, &record, &p.nodes[0], "img");
    let env = master.env;
    for var in ["HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"] {
        assert!(
            env.iter().any(|e| e.starts_with(&format!("{var}="))),
            "{var} missing from {env:?}"
        );
    }

    // No proxy in the environment: nothing is passed.
    assert!(containers::proxy_settings(|_| None, &p, &record.config).is_empty());
}

#[test]
fn ipv6_primary_clusters_serve_the_kubelet_on_both_families() {
    let kubelet_address = |mode: &str| {
        let config = config_from_env(&[("IP_MODE", mode)]);
        let rendered = docs(&render_init(&config, "v1.36.4"));
        let kubelet = doc(&rendered, "KubeletConfiguration").clone();
        (
            kubelet["address"].as_str().map(str::to_string),
            kubelet["healthzBindAddress"].as_str().map(str::to_string),
        )
    };
    let both = (Some("::".to_string()), Some("::".to_string()));
    assert_eq!(kubelet_address("ipv6"), both);
    // Dual-stack's primary family is IPv6 (its first service CIDR).
    assert_eq!(kubelet_address("dual-stack"), both);
    assert_eq!(kubelet_address("ipv4"), (None, None));

    // Health endpoints of the controller manager and scheduler on IPv6 in ipv6 mode.
    let config = config_from_env(&[]);
    let rendered = docs(&render_init(&config, "v1.36.4"));
    let cluster = doc(&rendered, "ClusterConfiguration");
    let arg = |component: &str, name: &str| {
        cluster[component]["extraArgs"]
            .as_sequence()
            .and_then(|args| args.iter().find(|a| a["name"].as_str() == Some(name)))
            .and_then(|a| a["value"].as_str())
            .map(str::to_string)
    };
    assert_eq!(
        arg("controllerManager", "bind-address").as_deref(),
        Some("::")
    );
    assert_eq!(arg("scheduler", "bind-address").as_deref(), Some("::1"));
}

#[test]
fn node_labels_become_the_kubelets_node_labels_flag_of_that_node_only() {
    let config = from_file(
        "apiVersion: dind.k8s.io/v1alpha1\nkind: Cluster\nkubernetesVersion: v1.30\nnodes:\n\
         - role: control-plane\n  labels:\n    ingress-ready: \"true\"\n\
         - role: worker\n\
         - role: worker\n  labels:\n    tier: db\n    example.com/zone: a\n",
    );
    let p = plan(&config);
    let init = docs(&init_config(&p, &config, version("v1.30.2")).unwrap());
    let args = &doc(&init, "InitConfiguration")["nodeRegistration"]["kubeletExtraArgs"];
    assert_eq!(args["node-labels"], Value::from("ingress-ready=true"));
    let plain =
        docs(&join_config(&config, version("v1.30.2"), &p.nodes[1], &join_command()).unwrap());
    let args = &doc(&plain, "JoinConfiguration")["nodeRegistration"]["kubeletExtraArgs"];
    assert!(args.get("node-labels").is_none(), "{args:?}");
    let labelled =
        docs(&join_config(&config, version("v1.30.2"), &p.nodes[2], &join_command()).unwrap());
    let args = &doc(&labelled, "JoinConfiguration")["nodeRegistration"]["kubeletExtraArgs"];
    assert_eq!(
        args["node-labels"],
        Value::from("example.com/zone=a,tier=db")
    );
}

#[test]
fn kubernetes_nodes_publish_and_mount_what_the_node_list_says() {
    let config = from_file(
        "apiVersion: dind.k8s.io/v1alpha1\nkind: Cluster\nnodes:\n\
         - role: worker\n  extraPortMappings:\n  - {containerPort: 53, hostPort: 18053, protocol: UDP}\n\
         \x20 extraMounts:\n  - {hostPath: /tmp, containerPath: /data, readOnly: true}\n\
         - role: control-plane\n",
    );
    let p = plan(&config);
    let record = record_of(&config);
    let master = containers::node(&p, &record, &p.nodes[0], "img");
    assert_eq!(master.published.len(), 1, "the API server only");
    let worker = containers::node(&p, &record, &p.nodes[1], "img");
    let ports: Vec<String> = worker
        .published
        .iter()
        .map(|p| format!("{} {:?} {}", p.host_ip, p.host_port, p.container_key()))
        .collect();
    assert_eq!(ports, ["::1 Some(18053) 53/udp"]);
    assert!(worker.mounts.contains(&Mount::Bind {
        source: "/tmp".into(),
        target: "/data".into(),
        read_only: true,
    }));
    // Kept when the host's kernel modules cannot be mounted.
    let without = containers::without_host_modules(worker);
    assert!(without.mounts.iter().any(|m| m.target() == "/data"));
}

#[test]
fn the_kubelet_checks_no_credentials_of_pulled_images_where_it_would() {
    let policy = |config: &Config, v: &str| {
        let rendered = docs(&render_init(config, v));
        doc(&rendered, "KubeletConfiguration")["imagePullCredentialsVerificationPolicy"]
            .as_str()
            .map(str::to_string)
    };
    let plain = config_from_env(&[]);
    assert_eq!(policy(&plain, "v1.35.4").as_deref(), Some("NeverVerify"));
    assert_eq!(
        policy(&plain, "v1.34.4"),
        None,
        "the check is off before 1.35"
    );
    let gate_off = config_from_env(&[("FEATURE_GATES", "KubeletEnsureSecretPulledImages=false")]);
    assert_eq!(policy(&gate_off, "v1.35.4"), None);
    let gate_on = config_from_env(&[("FEATURE_GATES", "KubeletEnsureSecretPulledImages=true")]);
    assert_eq!(policy(&gate_on, "v1.34.4").as_deref(), Some("NeverVerify"));
}
