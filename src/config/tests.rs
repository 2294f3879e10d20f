//! Config: defaults per IP mode, layer precedence, the environment and file sources, and
//! every refusal naming the setting, its origin and the fix.

use crate::config::{
    env_var_names, load_file, validate, Config, IpMode, KubeVersion, KubeadmKind, Layer,
    Nat64Engine, Nodes, Origin, Sourced, V4Prefix16,
};
use crate::test_support::{config_from_env, env_layer, flag, valid};
use ipnet::IpNet;
use std::net::Ipv4Addr;

fn nets(list: &[&str]) -> Vec<IpNet> {
    list.iter().map(|s| s.parse().unwrap()).collect()
}

/// A refusal as (setting, origin text, whole message).
fn refusal(layer: Layer) -> (String, String, String) {
    match validate(layer.clone()) {
        Ok(config) => panic!("expected {layer:?} to be refused, got {config:?}"),
        Err(err) => (
            err.first().setting.to_string(),
            err.first().origin.clone(),
            err.to_string(),
        ),
    }
}

/// `anyhow`'s whole chain, as the binary prints it.
fn file_error(path: &str, text: &str) -> String {
    match load_file(path, text) {
        Ok(layer) => panic!("expected the file to be refused, got {layer:?}"),
        Err(err) => format!("{err:#}"),
    }
}

fn file_layer(text: &str) -> Layer {
    load_file("c.yaml", text).unwrap_or_else(|e| panic!("file refused: {e:#}"))
}

const HEADER: &str = "apiVersion: dind.k8s.io/v1alpha1\nkind: Cluster\n";

// ---------------------------------------------------------------- defaults per IP mode

#[test]
fn defaults_are_kdc_ipv6_defaults() {
    let config = valid(Layer::default());
    pretty_assertions::assert_eq!(
        config,
        Config {
            cluster_id: 0,
            ip_mode: IpMode::Ipv6,
            nodes: Nodes::count(2),
            allow_aaaa: false,
            dns64_prefix: crate::config::rfc6052::parse("fd00:10:64:ff9b::/96").unwrap(),
            nat64_v4_prefix: V4Prefix16(172, 18),
            nat64_engine: Nat64Engine::DindNat64,
            // The Docker host's resolvers, through Docker's embedded DNS.
            upstream_dns: None,
            egress_interface: None,
            kubernetes: true,
            mgmt_cidrs: nets(&["fd00:20::/64"]),
            pod_cidrs: nets(&["fd00:40::/72"]),
            service_cidrs: nets(&["fd00:30::/110"]),
            node_image: None,
            kubernetes_from: None,
            probes: Vec::new(),
            kubernetes_version: KubeVersion {
                minor: 36,
                patch: None
            },
            feature_gates: Default::default(),
            kubeadm_config_patches: Vec::new(),
            registry: false,
            containerd_config_patches: Vec::new(),
        }
    );
}

/// (ip mode flag, mode, mgmt, pods, services, allow_aaaa)
type ModeDefaults = (
    &'static str,
    IpMode,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
    bool,
);

#[test]
fn defaults_per_ip_mode() {
    let cases: &[ModeDefaults] = &[
        (
            "ipv6",
            IpMode::Ipv6,
            &["fd00:20::/64"],
            &["fd00:40::/72"],
            &["fd00:30::/110"],
            false,
        ),
        (
            "ipv4",
            IpMode::Ipv4,
            &["10.192.0.0/24"],
            &["10.244.0.0/16"],
            &["10.96.0.0/12"],
            false,
        ),
        (
            "dual-stack",
            IpMode::DualStack,
            &["10.192.0.0/24", "fd00:20::/64"],
            &["10.244.0.0/16", "fd00:40::/72"],
            &["fd00:30::/110", "10.96.0.0/12"],
            true,
        ),
        (
            "dual",
            IpMode::DualStack,
            &["10.192.0.0/24", "fd00:20::/64"],
            &["10.244.0.0/16", "fd00:40::/72"],
            &["fd00:30::/110", "10.96.0.0/12"],
            true,
        ),
    ];
    for &(mode_flag, mode, mgmt, pods, service, allow_aaaa) in cases {
        let config = valid(Layer {
            ip_mode: flag("--ip-mode", mode_flag),
            ..Layer::default()
        });
        assert_eq!(config.ip_mode, mode, "{mode_flag}");
        assert_eq!(config.mgmt_cidrs, nets(mgmt), "{mode_flag}");
        assert_eq!(config.pod_cidrs, nets(pods), "{mode_flag}");
        assert_eq!(config.service_cidrs, nets(service), "{mode_flag}");
        assert_eq!(config.allow_aaaa, allow_aaaa, "{mode_flag}");
        // Mode-independent defaults.
        assert_eq!(config.nodes.workers(), 2, "{mode_flag}");
        assert_eq!(config.cluster_id, 0, "{mode_flag}");
        assert_eq!(config.upstream_dns, None, "{mode_flag}");
        assert_eq!(config.nat64_v4_prefix, V4Prefix16(172, 18), "{mode_flag}");
        assert!(config.kubernetes, "{mode_flag}");
    }
}

#[test]
fn ip_mode_display_round_trips() {
    for mode in [IpMode::Ipv4, IpMode::Ipv6, IpMode::DualStack] {
        assert_eq!(mode.to_string().parse::<IpMode>(), Ok(mode));
    }
    assert_eq!(IpMode::DualStack.to_string(), "dual-stack");
}

#[test]
fn dual_stack_forces_allow_aaaa_even_when_turned_off() {
    let config = valid(Layer {
        ip_mode: flag("--ip-mode", "dual-stack"),
        allow_aaaa: flag("--allow-aaaa", "false"),
        ..Layer::default()
    });
    assert!(config.allow_aaaa);
}

#[test]
fn dual_stack_sorts_ipv4_before_ipv6() {
    let config = valid(Layer {
        ip_mode: flag("--ip-mode", "dual-stack"),
        mgmt_cidrs: flag("--mgmt-cidrs", "fd00:21::/64, 10.193.0.0/24"),
        pod_cidrs: flag("--pod-cidrs", "fd00:41::/72 10.245.0.0/16"),
        ..Layer::default()
    });
    assert_eq!(config.mgmt_cidrs, nets(&["10.193.0.0/24", "fd00:21::/64"]));
    assert_eq!(config.pod_cidrs, nets(&["10.245.0.0/16", "fd00:41::/72"]));
}

// ---------------------------------------------------------------- precedence

/// One layer per source, each setting `cluster_id` (if given) and `nodes` to the same value.
fn source(origin: Origin, value: Option<&str>) -> Layer {
    let at = |v: &str| Some(Sourced::new(v, origin.clone()));
    match value {
        Some(v) => Layer {
            cluster_id: at(v),
            nodes: at(v).map(|s| vec![s]),
            ..Layer::default()
        },
        None => Layer::default(),
    }
}

/// (file, env, flag) -> expected value; None means "not set by that source".
type PrecedenceCase = (
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    u8,
);

#[test]
fn precedence_flag_over_env_over_file_over_default() {
    let cases: &[PrecedenceCase] = &[
        (None, None, None, 0),
        (Some("3"), None, None, 3),
        (None, Some("4"), None, 4),
        (None, None, Some("5"), 5),
        (Some("3"), Some("4"), None, 4),
        (Some("3"), None, Some("5"), 5),
        (None, Some("4"), Some("5"), 5),
        (Some("3"), Some("4"), Some("5"), 5),
    ];
    for &(file, env, flg, expected) in cases {
        let file = source(
            Origin::File {
                path: "c.yaml".into(),
                key: "clusterId",
            },
            file,
        );
        let env = source(Origin::Env("CLUSTER_ID"), env);
        let flg = source(Origin::Flag("--cluster-id"), flg);
        let config = valid(flg.over(env.over(file)));
        assert_eq!(config.cluster_id, expected, "cluster id, case {expected}");
        let nodes_default = if expected == 0 { 2 } else { expected };
        assert_eq!(
            config.nodes.workers(),
            nodes_default,
            "nodes, case {expected}"
        );
    }
}

#[test]
fn over_merges_field_by_field() {
    let flags = Layer {
        cluster_id: flag("--cluster-id", "7"),
        ..Layer::default()
    };
    let env = env_layer(&[("NUM_NODES", "4"), ("CLUSTER_ID", "3")]);
    let file = file_layer(&format!("{HEADER}upstreamDNS: 9.9.9.9\nnodes: 1\n"));
    let merged = flags.over(env.over(file));
    assert_eq!(merged.cluster_id, flag("--cluster-id", "7"));
    assert_eq!(
        merged.nodes,
        Some(vec![Sourced::new("4", Origin::Env("NUM_NODES"))])
    );
    assert_eq!(
        merged.upstream_dns,
        Some(Sourced::new(
            "9.9.9.9",
            Origin::File {
                path: "c.yaml".into(),
                key: "upstreamDNS"
            }
        ))
    );
    assert_eq!(merged.ip_mode, None);
    let config = valid(merged);
    assert_eq!((config.cluster_id, config.nodes.workers()), (7, 4));
    assert_eq!(config.upstream_dns, Some(Ipv4Addr::new(9, 9, 9, 9)));
}

#[test]
fn a_higher_layer_hides_a_bad_lower_value() {
    let file = file_layer(&format!("{HEADER}nodes: 251\n"));
    let flags = Layer {
        nodes: flag("--nodes", "3").map(|s| vec![s]),
        ..Layer::default()
    };
    assert_eq!(valid(flags.over(file)).nodes.workers(), 3);
}

#[test]
fn a_bad_value_is_reported_with_the_layer_it_came_from() {
    let file = file_layer(&format!("{HEADER}nodes: 251\n"));
    let env = env_layer(&[("CLUSTER_ID", "2")]);
    let (setting, origin, message) = refusal(env.over(file));
    assert_eq!(setting, "--nodes");
    assert_eq!(origin, "key 'nodes' of config file c.yaml");
    assert_eq!(
        message,
        "invalid --nodes '251' (from key 'nodes' of config file c.yaml): expected a number of \
         workers from 0 to 250"
    );
}

// ---------------------------------------------------------------- environment

#[test]
fn env_variables_map_to_settings_with_their_names() {
    let layer = env_layer(&[
        ("CLUSTER_ID", "5"),
        ("IP_MODE", "ipv6"),
        ("NUM_NODES", "3"),
        ("DIND_ALLOW_AAAA_USE", "true"),
        ("DNS64_PREFIX", "fd00:99::"),
        ("DNS64_PREFIX_SIZE", "64"),
        ("NAT64_V4_SUBNET_PREFIX", "10.20"),
        ("REMOTE_DNS64_V4SERVER", "1.1.1.1"),
        ("DIND_EGRESS_INTERFACE", "enp3s0"),
        ("MGMT_CIDRS", "fd00:21::/64"),
        ("POD_NETWORK_CIDR", "fd00:41::/72"),
        ("SERVICE_CIDR", "fd00:31::/110"),
        ("DIND_IMAGE", "example/node:v1"),
        ("DIND_K8S_VERSION", "v1.35.2"),
        ("FEATURE_GATES", "SidecarContainers=true"),
        ("DIND_REGISTRY", "on"),
        ("DIND_NAT64_ENGINE", "dind-nat64"),
    ]);
    let env = |value: &str, name: &'static str| Some(Sourced::new(value, Origin::Env(name)));
    pretty_assertions::assert_eq!(
        layer,
        Layer {
            cluster_id: env("5", "CLUSTER_ID"),
            ip_mode: env("ipv6", "IP_MODE"),
            nodes: env("3", "NUM_NODES").map(|s| vec![s]),
            allow_aaaa: env("true", "DIND_ALLOW_AAAA_USE"),
            dns64_prefix: env("fd00:99::/64", "DNS64_PREFIX/DNS64_PREFIX_SIZE"),
            nat64_v4_prefix: env("10.20", "NAT64_V4_SUBNET_PREFIX"),
            nat64_engine: env("dind-nat64", "DIND_NAT64_ENGINE"),
            upstream_dns: env("1.1.1.1", "REMOTE_DNS64_V4SERVER"),
            egress_interface: env("enp3s0", "DIND_EGRESS_INTERFACE"),
            kubernetes: None,
            mgmt_cidrs: env("fd00:21::/64", "MGMT_CIDRS"),
            pod_cidrs: env("fd00:41::/72", "POD_NETWORK_CIDR"),
            service_cidrs: env("fd00:31::/110", "SERVICE_CIDR"),
            node_image: env("example/node:v1", "DIND_IMAGE"),
            kubernetes_from: None,
            probes: None,
            kubernetes_version: env("v1.35.2", "DIND_K8S_VERSION"),
            feature_gates: env("SidecarContainers=true", "FEATURE_GATES"),
            kubeadm_config_patches: None,
            registry: env("on", "DIND_REGISTRY"),
            containerd_config_patches: None,
        }
    );
    let config = valid(layer);
    assert_eq!(config.cluster_id, 5);
    assert_eq!(config.dns64_prefix.to_string(), "fd00:99::/64");
    assert_eq!(config.nat64_v4_prefix, V4Prefix16(10, 20));
    assert_eq!(config.egress_interface.as_deref(), Some("enp3s0"));
    assert_eq!(config.node_image.as_deref(), Some("example/node:v1"));
    assert!(config.allow_aaaa);
    assert_eq!(config.nat64_engine, Nat64Engine::DindNat64);
}

#[test]
fn the_nat64_engine_comes_from_flag_env_or_file_and_a_bad_one_names_the_choices() {
    let from_file = valid(file_layer(&format!("{HEADER}nat64Engine: dind-nat64\n")));
    assert_eq!(from_file.nat64_engine, Nat64Engine::DindNat64);
    let flag_over_env = valid(
        Layer {
            nat64_engine: flag("--nat64-engine", "tayga"),
            ..Layer::default()
        }
        .over(env_layer(&[("DIND_NAT64_ENGINE", "dind-nat64")])),
    );
    assert_eq!(flag_over_env.nat64_engine, Nat64Engine::Tayga);

    let (setting, origin, message) = refusal(env_layer(&[("DIND_NAT64_ENGINE", "jool")]));
    assert_eq!(setting, "--nat64-engine");
    assert!(origin.contains("DIND_NAT64_ENGINE"), "{origin}");
    assert!(message.contains("'jool'"), "{message}");
    assert!(message.contains("tayga or dind-nat64"), "{message}");
    let (_, origin, _) = refusal(file_layer(&format!("{HEADER}nat64Engine: Tayga\n")));
    assert!(origin.contains("nat64Engine"), "{origin}");
}

#[test]
fn empty_or_blank_env_variables_are_unset_and_values_are_trimmed() {
    let layer = env_layer(&[
        ("CLUSTER_ID", ""),
        ("NUM_NODES", "   "),
        ("IP_MODE", " ipv4 "),
    ]);
    assert_eq!(layer.cluster_id, None);
    assert_eq!(layer.nodes, None);
    assert_eq!(
        layer.ip_mode,
        Some(Sourced::new("ipv4", Origin::Env("IP_MODE")))
    );
    assert_eq!(env_layer(&[]), Layer::default());
}

#[test]
fn dns64_prefix_and_size_combine() {
    // (DNS64_PREFIX, DNS64_PREFIX_SIZE) -> raw setting
    let cases: &[(Option<&str>, Option<&str>, Option<&str>)] = &[
        (
            Some("fd00:10:64:ff9b::"),
            None,
            Some("fd00:10:64:ff9b::/96"),
        ),
        (
            Some("fd00:10:64:ff9b::"),
            Some(""),
            Some("fd00:10:64:ff9b::/96"),
        ),
        (Some("2001:db8:64::"), Some("48"), Some("2001:db8:64::/48")),
        (
            Some(" 2001:db8:64:: "),
            Some(" 56 "),
            Some("2001:db8:64::/56"),
        ),
        // A prefix already carrying its length wins over the size.
        (
            Some("2001:db8:64::/64"),
            Some("96"),
            Some("2001:db8:64::/64"),
        ),
        (Some(""), Some("64"), Some("fd00:10:64:ff9b::/64")),
        (None, None, None),
    ];
    for &(prefix, size, expected) in cases {
        let mut vars = Vec::new();
        if let Some(p) = prefix {
            vars.push(("DNS64_PREFIX", p));
        }
        if let Some(s) = size {
            vars.push(("DNS64_PREFIX_SIZE", s));
        }
        let layer = env_layer(&vars);
        assert_eq!(
            layer.dns64_prefix,
            expected.map(|v| Sourced::new(v, Origin::Env("DNS64_PREFIX/DNS64_PREFIX_SIZE"))),
            "{prefix:?} + {size:?}"
        );
    }
    let config = config_from_env(&[
        ("DNS64_PREFIX", "2001:db8:64::"),
        ("DNS64_PREFIX_SIZE", "64"),
    ]);
    assert_eq!(config.dns64_prefix.to_string(), "2001:db8:64::/64");
}

#[test]
fn dns64_prefix_size_alone_applies_to_the_default_prefix() {
    let config = config_from_env(&[("DNS64_PREFIX_SIZE", "64")]);
    assert_eq!(config.dns64_prefix.to_string(), "fd00:10:64:ff9b::/64");
}

#[test]
fn allow_aaaa_values() {
    let cases: &[(&str, bool)] = &[
        ("true", true),
        ("TRUE", true),
        ("1", true),
        ("yes", true),
        ("on", true),
        ("false", false),
        ("0", false),
        ("no", false),
        ("off", false),
    ];
    for &(value, expected) in cases {
        let config = config_from_env(&[("DIND_ALLOW_AAAA_USE", value)]);
        assert_eq!(config.allow_aaaa, expected, "DIND_ALLOW_AAAA_USE={value}");
    }
    assert!(!config_from_env(&[]).allow_aaaa);
}

#[test]
fn allow_aaaa_false_is_fine_in_ipv4_mode() {
    let config = config_from_env(&[("IP_MODE", "ipv4"), ("DIND_ALLOW_AAAA_USE", "false")]);
    assert!(!config.allow_aaaa);
}

#[test]
fn kubernetes_can_be_turned_off() {
    let config = valid(Layer {
        kubernetes: flag("--kubernetes", "false"),
        ..Layer::default()
    });
    assert!(!config.kubernetes);
    let file = file_layer(&format!("{HEADER}kubernetes: false\n"));
    assert!(!valid(file).kubernetes);
}

#[test]
fn blank_node_image_means_the_built_in_one() {
    let config = valid(Layer {
        node_image: flag("--node-image", "  "),
        ..Layer::default()
    });
    assert_eq!(config.node_image, None);
}

// ---------------------------------------------------------------- config file

#[test]
fn file_with_every_key() {
    let text = format!(
        "{HEADER}clusterId: 3\nipMode: dual-stack\nnodes: 1\nallowAAAA: true\n\
         dns64Prefix: 2001:db8:64::/96\nnat64V4Prefix: \"10.10\"\nupstreamDNS: 1.1.1.1\n\
         egressInterface: eth1\nkubernetes: false\n\
         mgmtCIDRs:\n  - 10.193.0.0/24\n  - fd00:21::/64\n\
         podCIDRs: 10.245.0.0/16, fd00:41::/72\nserviceCIDR: fd00:31::/110\n\
         nodeImage: example/node:v2\nprobes: [example.com, ipv4.example.net]\n\
         kubernetesVersion: v1.34\nfeatureGates:\n  B: false\n  A: true\n\
         kubeadmConfigPatches:\n- \"kind: KubeletConfiguration\\nmaxPods: 10\\n\"\n"
    );
    let layer = file_layer(&text);
    let at = |value: &str, key: &'static str| {
        Some(Sourced::new(
            value,
            Origin::File {
                path: "c.yaml".into(),
                key,
            },
        ))
    };
    pretty_assertions::assert_eq!(
        layer,
        Layer {
            cluster_id: at("3", "clusterId"),
            ip_mode: at("dual-stack", "ipMode"),
            nodes: at("1", "nodes").map(|s| vec![s]),
            allow_aaaa: at("true", "allowAAAA"),
            dns64_prefix: at("2001:db8:64::/96", "dns64Prefix"),
            nat64_v4_prefix: at("10.10", "nat64V4Prefix"),
            upstream_dns: at("1.1.1.1", "upstreamDNS"),
            egress_interface: at("eth1", "egressInterface"),
            kubernetes: at("false", "kubernetes"),
            mgmt_cidrs: at("10.193.0.0/24,fd00:21::/64", "mgmtCIDRs"),
            pod_cidrs: at("10.245.0.0/16, fd00:41::/72", "podCIDRs"),
            service_cidrs: at("fd00:31::/110", "serviceCIDR"),
            node_image: at("example/node:v2", "nodeImage"),
            probes: at("example.com,ipv4.example.net", "probes"),
            kubernetes_version: at("v1.34", "kubernetesVersion"),
            feature_gates: at("A=true,B=false", "featureGates"),
            kubeadm_config_patches: Some(vec![Sourced::new(
                "kind: KubeletConfiguration\nmaxPods: 10\n",
                Origin::File {
                    path: "c.yaml".into(),
                    key: "kubeadmConfigPatches"
                }
            )]),
            ..Layer::default()
        }
    );
    let config = valid(layer);
    assert_eq!(config.probes, ["example.com", "ipv4.example.net"]);
    assert_eq!(config.kubernetes_version.to_string(), "v1.34");
    assert_eq!(
        config.feature_gates.into_iter().collect::<Vec<_>>(),
        [("A".to_string(), true), ("B".to_string(), false)]
    );
    assert_eq!(config.kubeadm_config_patches.len(), 1);
    assert_eq!(config.cluster_id, 3);
    assert_eq!(config.ip_mode, IpMode::DualStack);
    assert_eq!(config.nat64_v4_prefix, V4Prefix16(10, 10));
    assert_eq!(config.mgmt_cidrs, nets(&["10.193.0.0/24", "fd00:21::/64"]));
    assert_eq!(config.pod_cidrs, nets(&["10.245.0.0/16", "fd00:41::/72"]));
    assert!(!config.kubernetes);
}

#[test]
fn file_with_only_the_header_sets_nothing() {
    assert_eq!(file_layer(HEADER), Layer::default());
}

#[test]
fn file_list_and_comma_forms_of_cidrs_agree() {
    let forms = [
        "mgmtCIDRs: [10.193.0.0/24, fd00:21::/64]\n",
        "mgmtCIDRs:\n- 10.193.0.0/24\n- fd00:21::/64\n",
        "mgmtCIDRs: 10.193.0.0/24,fd00:21::/64\n",
        "mgmtCIDRs: \"10.193.0.0/24 fd00:21::/64\"\n",
        "mgmtCIDRs: [fd00:21::/64, 10.193.0.0/24]\n",
    ];
    for form in forms {
        let layer = file_layer(&format!("{HEADER}ipMode: dual-stack\n{form}"));
        let config = valid(layer);
        assert_eq!(
            config.mgmt_cidrs,
            nets(&["10.193.0.0/24", "fd00:21::/64"]),
            "{form}"
        );
    }
    let single = file_layer(&format!("{HEADER}podCIDRs: [fd00:41::/72]\n"));
    assert_eq!(valid(single).pod_cidrs, nets(&["fd00:41::/72"]));
}

#[test]
fn file_scalars_of_any_yaml_type_become_text() {
    let layer = file_layer(&format!(
        "{HEADER}clusterId: \"4\"\nnodes: 0\nallowAAAA: \"yes\"\nkubernetes: true\n"
    ));
    let key = |k: &'static str| Origin::File {
        path: "c.yaml".into(),
        key: k,
    };
    assert_eq!(layer.cluster_id, Some(Sourced::new("4", key("clusterId"))));
    assert_eq!(layer.nodes, Some(vec![Sourced::new("0", key("nodes"))]));
    assert_eq!(
        layer.allow_aaaa,
        Some(Sourced::new("yes", key("allowAAAA")))
    );
    assert_eq!(
        layer.kubernetes,
        Some(Sourced::new("true", key("kubernetes")))
    );
    let config = valid(layer);
    assert_eq!(
        (config.cluster_id, config.nodes.workers(), config.allow_aaaa),
        (4, 0, true)
    );
}

#[test]
fn file_quoted_nat64_prefix_keeps_its_trailing_zero() {
    let layer = file_layer(&format!("{HEADER}nat64V4Prefix: \"10.10\"\n"));
    assert_eq!(layer.nat64_v4_prefix.unwrap().value, "10.10");
}

#[test]
fn file_refusals() {
    // (file text after or instead of the header, fragments the chain must contain)
    let cases: &[(&str, &[&str])] = &[
        (
            "apiVersion: dind.k8s.io/v1\nkind: Cluster\n",
            &[
                "config file c.yaml",
                "apiVersion 'dind.k8s.io/v1' is not supported",
                "use 'apiVersion: dind.k8s.io/v1alpha1'",
            ],
        ),
        (
            "apiVersion: dind.k8s.io/v1alpha1\nkind: Config\n",
            &[
                "config file c.yaml",
                "kind 'Config' is not supported",
                "use 'kind: Cluster'",
            ],
        ),
        (
            "apiVersion: dind.k8s.io/v1alpha1\nkind: Cluster\nnumNodes: 3\n",
            &[
                "config file c.yaml is not a valid dind cluster config",
                "unknown field `numNodes`",
            ],
        ),
        (
            "apiVersion: dind.k8s.io/v1alpha1\nkind: Cluster\nnat64V4Prefix: 172.18\n",
            &[
                "config file c.yaml",
                "nat64V4Prefix: 172.18 is read as a YAML number",
                "quote it, e.g. nat64V4Prefix: \"172.18\"",
            ],
        ),
        (
            // 10.10 would silently become 10.1 if the float were accepted.
            "apiVersion: dind.k8s.io/v1alpha1\nkind: Cluster\nnat64V4Prefix: 10.10\n",
            &["nat64V4Prefix: 10.1 is read as a YAML number", "quote it"],
        ),
        (
            "kind: Cluster\n",
            &[
                "config file c.yaml is not a valid dind cluster config",
                "missing field `apiVersion`",
            ],
        ),
        (
            "apiVersion: dind.k8s.io/v1alpha1\n",
            &["not a valid dind cluster config", "missing field `kind`"],
        ),
        (
            "apiVersion: dind.k8s.io/v1alpha1\nkind: Cluster\nmgmtCIDRs: {a: b}\n",
            &["config file c.yaml: line 3: mgmtCIDRs: expected a string or a list of strings, got a mapping"],
        ),
        (
            "- just\n- a list\n",
            &["config file c.yaml is not a valid dind cluster config"],
        ),
    ];
    for &(text, fragments) in cases {
        let message = file_error("c.yaml", text);
        for fragment in fragments {
            assert!(
                message.contains(fragment),
                "{text:?}: {message:?} lacks {fragment:?}"
            );
        }
    }
}

#[test]
fn file_float_error_for_a_numeric_key_does_not_suggest_a_nat64_prefix() {
    let message = file_error("c.yaml", &format!("{HEADER}nodes: 2.5\n"));
    assert!(message.contains("nodes"), "{message}");
    assert!(!message.contains("172.18"), "{message}");
}

// ---------------------------------------------------------------- refusals

struct Bad {
    what: &'static str,
    layer: Layer,
    setting: &'static str,
    origin: &'static str,
    reason: &'static str,
}

fn bad_cases() -> Vec<Bad> {
    let env = env_layer;
    let file = |body: &str| file_layer(&format!("{HEADER}{body}"));
    vec![
        Bad {
            what: "cluster id 255",
            layer: Layer {
                cluster_id: flag("--cluster-id", "255"),
                ..Layer::default()
            },
            setting: "--cluster-id",
            origin: "flag --cluster-id",
            reason: "expected a number from 0 to 254",
        },
        Bad {
            what: "cluster id abc",
            layer: env(&[("CLUSTER_ID", "abc")]),
            setting: "--cluster-id",
            origin: "environment variable CLUSTER_ID",
            reason: "expected a number from 0 to 254",
        },
        Bad {
            what: "cluster id -1",
            layer: file("clusterId: -1\n"),
            setting: "--cluster-id",
            origin: "key 'clusterId' of config file c.yaml",
            reason: "expected a number from 0 to 254",
        },
        Bad {
            what: "nodes 251",
            layer: env(&[("NUM_NODES", "251")]),
            setting: "--nodes",
            origin: "environment variable NUM_NODES",
            reason: "expected a number of workers from 0 to 250",
        },
        Bad {
            what: "ip mode ipv5",
            layer: env(&[("IP_MODE", "ipv5")]),
            setting: "--ip-mode",
            origin: "environment variable IP_MODE",
            reason: "'ipv5' is not an IP mode; use ipv6, ipv4 or dual-stack",
        },
        Bad {
            what: "dns64 prefix /33",
            layer: env(&[
                ("DNS64_PREFIX", "fd00:10:64:ff9b::"),
                ("DNS64_PREFIX_SIZE", "33"),
            ]),
            setting: "--dns64-prefix",
            origin: "environment variable DNS64_PREFIX/DNS64_PREFIX_SIZE",
            reason: "the length must be 32, 40, 48, 56, 64 or 96 (RFC 6052)",
        },
        Bad {
            what: "dns64 prefix /128",
            layer: Layer {
                dns64_prefix: flag("--dns64-prefix", "fd00:10:64:ff9b::/128"),
                ..Layer::default()
            },
            setting: "--dns64-prefix",
            origin: "flag --dns64-prefix",
            reason: "the length must be 32, 40, 48, 56, 64 or 96 (RFC 6052)",
        },
        Bad {
            // The fifth hextet is ff00: bits 64..71 (the "u" octet) are set, no host bits.
            what: "dns64 prefix with bits 64-71 set",
            layer: env(&[
                ("DNS64_PREFIX", "fd00:10:64:ff9b:ff00::"),
                ("DNS64_PREFIX_SIZE", "96"),
            ]),
            setting: "--dns64-prefix",
            origin: "environment variable DNS64_PREFIX/DNS64_PREFIX_SIZE",
            reason: "bits 64-71 must be zero (RFC 6052 §2.2)",
        },
        Bad {
            what: "dns64 prefix with host bits",
            layer: Layer {
                dns64_prefix: flag("--dns64-prefix", "fd00:10:64:ff9b::1/96"),
                ..Layer::default()
            },
            setting: "--dns64-prefix",
            origin: "flag --dns64-prefix",
            reason: "host bits are set; did you mean fd00:10:64:ff9b::/96?",
        },
        Bad {
            what: "dns64 prefix /64 with host bits in the u octet",
            layer: Layer {
                dns64_prefix: flag("--dns64-prefix", "2001:db8:1:2:ff00::/64"),
                ..Layer::default()
            },
            setting: "--dns64-prefix",
            origin: "flag --dns64-prefix",
            reason: "host bits are set; did you mean 2001:db8:1:2::/64?",
        },
        Bad {
            what: "dns64 prefix IPv4",
            layer: file("dns64Prefix: 10.64.0.0/16\n"),
            setting: "--dns64-prefix",
            origin: "key 'dns64Prefix' of config file c.yaml",
            reason: "expected an IPv6 CIDR like fd00:10:64:ff9b::/96",
        },
        Bad {
            what: "dns64 prefix without a length given as a flag",
            layer: Layer {
                dns64_prefix: flag("--dns64-prefix", "fd00:64::"),
                ..Layer::default()
            },
            setting: "--dns64-prefix",
            origin: "flag --dns64-prefix",
            reason: "expected an IPv6 CIDR like fd00:10:64:ff9b::/96",
        },
        Bad {
            what: "nat64 10.255 with cluster id 1",
            layer: env(&[("NAT64_V4_SUBNET_PREFIX", "10.255"), ("CLUSTER_ID", "1")]),
            setting: "--nat64-v4-prefix",
            origin: "environment variable NAT64_V4_SUBNET_PREFIX",
            reason: "with cluster id 1 the second octet becomes 255 + 1 = 256, outside 0-255 for \
                     10.x; pick a lower prefix or cluster id",
        },
        Bad {
            what: "nat64 10.254 with cluster id 2",
            layer: env(&[("NAT64_V4_SUBNET_PREFIX", "10.254"), ("CLUSTER_ID", "2")]),
            setting: "--nat64-v4-prefix",
            origin: "environment variable NAT64_V4_SUBNET_PREFIX",
            reason: "with cluster id 2 the second octet becomes 254 + 2 = 256, outside 0-255",
        },
        Bad {
            what: "nat64 172.15",
            layer: file("nat64V4Prefix: \"172.15\"\n"),
            setting: "--nat64-v4-prefix",
            origin: "key 'nat64V4Prefix' of config file c.yaml",
            reason:
                "with cluster id 0 the second octet becomes 15 + 0 = 15, outside 16-31 for 172.x",
        },
        Bad {
            what: "nat64 172.18 with cluster id 14",
            layer: Layer {
                cluster_id: flag("--cluster-id", "14"),
                nat64_v4_prefix: flag("--nat64-v4-prefix", "172.18"),
                ..Layer::default()
            },
            setting: "--nat64-v4-prefix",
            origin: "flag --nat64-v4-prefix",
            reason: "with cluster id 14 the second octet becomes 18 + 14 = 32, outside 16-31",
        },
        Bad {
            what: "nat64 192.168",
            layer: Layer {
                nat64_v4_prefix: flag("--nat64-v4-prefix", "192.168"),
                ..Layer::default()
            },
            setting: "--nat64-v4-prefix",
            origin: "flag --nat64-v4-prefix",
            reason: "NAT64's IPv4 /16 must lie inside 10.0.0.0/8 or 172.16.0.0/12",
        },
        Bad {
            what: "nat64 with three octets",
            layer: Layer {
                nat64_v4_prefix: flag("--nat64-v4-prefix", "172.18.0"),
                ..Layer::default()
            },
            setting: "--nat64-v4-prefix",
            origin: "flag --nat64-v4-prefix",
            reason: "'172.18.0' is not two decimal octets like 172.18",
        },
        Bad {
            what: "nat64 with one octet",
            layer: env(&[("NAT64_V4_SUBNET_PREFIX", "172")]),
            setting: "--nat64-v4-prefix",
            origin: "environment variable NAT64_V4_SUBNET_PREFIX",
            reason: "'172' is not two decimal octets like 172.18",
        },
        Bad {
            what: "upstream dns ::1",
            layer: env(&[("REMOTE_DNS64_V4SERVER", "::1")]),
            setting: "--upstream-dns",
            origin: "environment variable REMOTE_DNS64_V4SERVER",
            reason: "expected an IPv4 address like 8.8.8.8",
        },
        Bad {
            what: "upstream dns 127.0.0.1",
            layer: Layer {
                upstream_dns: flag("--upstream-dns", "127.0.0.1"),
                ..Layer::default()
            },
            setting: "--upstream-dns",
            origin: "flag --upstream-dns",
            reason:
                "the upstream resolver must be a unicast address reachable from the Docker host",
        },
        Bad {
            what: "upstream dns 0.0.0.0",
            layer: file("upstreamDNS: 0.0.0.0\n"),
            setting: "--upstream-dns",
            origin: "key 'upstreamDNS' of config file c.yaml",
            reason: "the upstream resolver must be a unicast address",
        },
        Bad {
            what: "upstream dns multicast",
            layer: Layer {
                upstream_dns: flag("--upstream-dns", "224.0.0.251"),
                ..Layer::default()
            },
            setting: "--upstream-dns",
            origin: "flag --upstream-dns",
            reason: "the upstream resolver must be a unicast address",
        },
        Bad {
            what: "egress interface a/b",
            layer: env(&[("DIND_EGRESS_INTERFACE", "a/b")]),
            setting: "--egress-interface",
            origin: "environment variable DIND_EGRESS_INTERFACE",
            reason:
                "a Linux interface name has 1-15 printable characters and no '/', ':' or spaces",
        },
        Bad {
            what: "egress interface of 16 characters",
            layer: Layer {
                egress_interface: flag("--egress-interface", "abcdefghijklmnop"),
                ..Layer::default()
            },
            setting: "--egress-interface",
            origin: "flag --egress-interface",
            reason: "1-15 printable characters",
        },
        Bad {
            what: "egress interface alias eth0:1",
            layer: Layer {
                egress_interface: flag("--egress-interface", "eth0:1"),
                ..Layer::default()
            },
            setting: "--egress-interface",
            origin: "flag --egress-interface",
            reason: "no '/', ':' or spaces",
        },
        Bad {
            what: "egress interface with a space",
            layer: Layer {
                egress_interface: flag("--egress-interface", "eth 0"),
                ..Layer::default()
            },
            setting: "--egress-interface",
            origin: "flag --egress-interface",
            reason: "no '/', ':' or spaces",
        },
        Bad {
            what: "egress interface ..",
            layer: Layer {
                egress_interface: flag("--egress-interface", ".."),
                ..Layer::default()
            },
            setting: "--egress-interface",
            origin: "flag --egress-interface",
            reason: "a Linux interface name",
        },
        Bad {
            what: "mgmt v4 not a /24",
            layer: env(&[("IP_MODE", "ipv4"), ("MGMT_CIDRS", "10.192.0.0/16")]),
            setting: "--mgmt-cidrs",
            origin: "environment variable MGMT_CIDRS",
            reason: "the IPv4 management CIDR must be a /24",
        },
        Bad {
            what: "mgmt v6 narrower than /112",
            layer: env(&[("MGMT_CIDRS", "fd00:20::/120")]),
            setting: "--mgmt-cidrs",
            origin: "environment variable MGMT_CIDRS",
            reason: "the IPv6 management CIDR must be /112 or wider",
        },
        Bad {
            what: "mgmt IPv4 in ipv6 mode",
            layer: env(&[("MGMT_CIDRS", "10.192.0.0/24")]),
            setting: "--mgmt-cidrs",
            origin: "environment variable MGMT_CIDRS",
            reason: "give exactly one IPv6 CIDR in ipv6 mode",
        },
        Bad {
            what: "mgmt two IPv6 in ipv6 mode",
            layer: env(&[("MGMT_CIDRS", "fd00:20::/64,fd00:21::/64")]),
            setting: "--mgmt-cidrs",
            origin: "environment variable MGMT_CIDRS",
            reason: "give exactly one IPv6 CIDR in ipv6 mode",
        },
        Bad {
            what: "mgmt only IPv6 in dual-stack",
            layer: env(&[("IP_MODE", "dual-stack"), ("MGMT_CIDRS", "fd00:20::/64")]),
            setting: "--mgmt-cidrs",
            origin: "environment variable MGMT_CIDRS",
            reason: "give one IPv4 and one IPv6 CIDR in dual-stack mode",
        },
        Bad {
            what: "mgmt not a CIDR",
            layer: file("mgmtCIDRs: \"fd00:20::\"\n"),
            setting: "--mgmt-cidrs",
            origin: "key 'mgmtCIDRs' of config file c.yaml",
            reason: "'fd00:20::' is not a CIDR like fd00:20::/64",
        },
        Bad {
            what: "mgmt empty list",
            layer: env(&[("MGMT_CIDRS", " , ,")]),
            setting: "--mgmt-cidrs",
            origin: "environment variable MGMT_CIDRS",
            reason: "give at least one CIDR",
        },
        Bad {
            what: "pods with host bits set",
            layer: env(&[("POD_NETWORK_CIDR", "fd00:40::1/72")]),
            setting: "--pod-cidrs",
            origin: "environment variable POD_NETWORK_CIDR",
            reason: "'fd00:40::1/72' has host bits set; did you mean fd00:40::/72?",
        },
        Bad {
            what: "pods v4 not a /16",
            layer: env(&[("IP_MODE", "ipv4"), ("POD_NETWORK_CIDR", "10.244.0.0/24")]),
            setting: "--pod-cidrs",
            origin: "environment variable POD_NETWORK_CIDR",
            reason: "the IPv4 pod CIDR must be a /16",
        },
        Bad {
            what: "pods v6 narrower than /112",
            layer: env(&[("POD_NETWORK_CIDR", "fd00:40::/116")]),
            setting: "--pod-cidrs",
            origin: "environment variable POD_NETWORK_CIDR",
            reason: "the IPv6 pod CIDR must be /112 or wider",
        },
        Bad {
            what: "allow-aaaa in ipv4 mode",
            layer: env(&[("IP_MODE", "ipv4"), ("DIND_ALLOW_AAAA_USE", "true")]),
            setting: "--allow-aaaa",
            origin: "environment variable DIND_ALLOW_AAAA_USE",
            reason: "AAAA use needs IPv6; use --ip-mode ipv6 or dual-stack, or drop --allow-aaaa",
        },
        Bad {
            what: "allow-aaaa not a boolean",
            layer: env(&[("DIND_ALLOW_AAAA_USE", "maybe")]),
            setting: "--allow-aaaa",
            origin: "environment variable DIND_ALLOW_AAAA_USE",
            reason: "use true or false",
        },
        Bad {
            what: "kubernetes not a boolean",
            layer: file("kubernetes: perhaps\n"),
            setting: "--kubernetes",
            origin: "key 'kubernetes' of config file c.yaml",
            reason: "use true or false",
        },
        Bad {
            what: "pods overlap mgmt",
            layer: env(&[("POD_NETWORK_CIDR", "fd00:20::/72")]),
            setting: "--pod-cidrs",
            origin: "environment variable POD_NETWORK_CIDR",
            reason:
                "fd00:20::/72 overlaps fd00:20::/64 of --mgmt-cidrs (from the default); choose \
                     ranges that do not overlap",
        },
        Bad {
            what: "service overlaps pods",
            layer: env(&[("SERVICE_CIDR", "fd00:40::/110")]),
            setting: "--service-cidr",
            origin: "environment variable SERVICE_CIDR",
            reason: "fd00:40::/110 overlaps fd00:40::/72 of --pod-cidrs (from the default)",
        },
        Bad {
            what: "dns64 prefix overlaps service",
            layer: env(&[("DNS64_PREFIX", "fd00:30::"), ("DNS64_PREFIX_SIZE", "96")]),
            setting: "--dns64-prefix",
            origin: "environment variable DNS64_PREFIX/DNS64_PREFIX_SIZE",
            reason: "fd00:30::/96 overlaps fd00:30::/110 of --service-cidr (from the default)",
        },
        Bad {
            what: "service family mismatch in ipv6 mode",
            layer: env(&[("SERVICE_CIDR", "10.96.0.0/12")]),
            setting: "--service-cidr",
            origin: "environment variable SERVICE_CIDR",
            reason: "give exactly one IPv6 CIDR in ipv6 mode",
        },
        Bad {
            what: "service family mismatch in ipv4 mode",
            layer: env(&[("IP_MODE", "ipv4"), ("SERVICE_CIDR", "fd00:30::/110")]),
            setting: "--service-cidr",
            origin: "environment variable SERVICE_CIDR",
            reason: "give exactly one IPv4 CIDR in ipv4 mode",
        },
        Bad {
            what: "two service CIDRs in ipv6 mode",
            layer: env(&[("SERVICE_CIDR", "fd00:30::/110,fd00:31::/110")]),
            setting: "--service-cidr",
            origin: "environment variable SERVICE_CIDR",
            reason: "give exactly one IPv6 CIDR in ipv6 mode",
        },
        Bad {
            what: "two service CIDRs of one family in dual-stack",
            layer: env(&[
                ("IP_MODE", "dual-stack"),
                ("SERVICE_CIDR", "fd00:30::/110,fd00:31::/110"),
            ]),
            setting: "--service-cidr",
            origin: "environment variable SERVICE_CIDR",
            reason:
                "give one CIDR, or two of different families (the primary first) in dual-stack mode",
        },
        Bad {
            what: "dual-stack services overlapping pods",
            layer: env(&[
                ("IP_MODE", "dual-stack"),
                ("SERVICE_CIDR", "fd00:30::/110,10.244.0.0/20"),
            ]),
            setting: "--service-cidr",
            origin: "environment variable SERVICE_CIDR",
            reason: "10.244.0.0/20 overlaps 10.244.0.0/16 of --pod-cidrs (from the default)",
        },
    ]
}

#[test]
fn refusals_name_the_setting_the_origin_and_the_fix() {
    let cases = bad_cases();
    assert!(cases.len() >= 12);
    for case in cases {
        let (setting, origin, message) = refusal(case.layer);
        assert_eq!(setting, case.setting, "{}: {message}", case.what);
        assert_eq!(origin, case.origin, "{}: {message}", case.what);
        assert!(
            message.starts_with(&format!("invalid {} '", case.setting)),
            "{}: {message}",
            case.what
        );
        assert!(
            message.contains(&format!("(from {})", case.origin)),
            "{}: {message}",
            case.what
        );
        assert!(
            message.contains(case.reason),
            "{}: {message:?} lacks {:?}",
            case.what,
            case.reason
        );
    }
}

#[test]
fn refusal_message_quotes_the_raw_value() {
    let (_, _, message) = refusal(env_layer(&[
        ("DNS64_PREFIX", "fd00:10:64:ff9b::"),
        ("DNS64_PREFIX_SIZE", "33"),
    ]));
    assert_eq!(
        message,
        "invalid --dns64-prefix 'fd00:10:64:ff9b::/33' (from environment variable \
         DNS64_PREFIX/DNS64_PREFIX_SIZE): the length must be 32, 40, 48, 56, 64 or 96 (RFC 6052)"
    );
}

#[test]
fn accepted_edge_values() {
    // (what, layer, check)
    let config = |vars: &[(&str, &str)]| config_from_env(vars);
    // 254, the largest id, still has a NAT64 network: 10.0 + 254 = 10.254.
    assert_eq!(
        config(&[("CLUSTER_ID", "254"), ("NAT64_V4_SUBNET_PREFIX", "10.0")]).cluster_id,
        254
    );
    assert_eq!(config(&[("NUM_NODES", "250")]).nodes.workers(), 250);
    assert_eq!(config(&[("NUM_NODES", "0")]).nodes.workers(), 0);
    assert_eq!(
        config(&[("DIND_EGRESS_INTERFACE", "abcdefghijklmno")])
            .egress_interface
            .as_deref(),
        Some("abcdefghijklmno")
    );
    assert_eq!(
        config(&[("DIND_EGRESS_INTERFACE", " wlp0s20f3 ")])
            .egress_interface
            .as_deref(),
        Some("wlp0s20f3")
    );
    assert_eq!(
        config(&[("MGMT_CIDRS", "fd00:20::/112")]).mgmt_cidrs,
        nets(&["fd00:20::/112"])
    );
    assert_eq!(
        config(&[("POD_NETWORK_CIDR", "fd00:40::/112")]).pod_cidrs,
        nets(&["fd00:40::/112"])
    );
}

#[test]
fn every_rfc6052_length_is_accepted() {
    let cases = [
        ("2001:db8::", "32"),
        ("2001:db8:100::", "40"),
        ("2001:db8:122::", "48"),
        ("2001:db8:122:300::", "56"),
        ("2001:db8:122:344::", "64"),
        ("2001:db8:122:344::", "96"),
        // The u octet is bits 64..71; bits 72.. may be set in a /96.
        ("fd00:10:64:ff9b:ff::", "96"),
    ];
    for (prefix, size) in cases {
        let config = config_from_env(&[("DNS64_PREFIX", prefix), ("DNS64_PREFIX_SIZE", size)]);
        assert_eq!(config.dns64_prefix.to_string(), format!("{prefix}/{size}"));
    }
}

#[test]
fn nat64_prefix_bounds_are_compared_as_numbers() {
    // (prefix, cluster id) -> accepted; k-d-c compares `[[ 26 > 253 ]]` as strings and wrongly
    // refuses 10.26 and 10.99.
    let accepted: &[(&str, &str)] = &[
        ("10.26", "0"),
        ("10.99", "0"),
        ("10.25", "0"),
        ("10.100", "0"),
        ("10.253", "0"),
        ("10.255", "0"),
        ("10.0", "0"),
        ("10.254", "1"),
        ("172.16", "0"),
        ("172.31", "0"),
        ("172.18", "13"),
        ("172.16", "15"),
    ];
    for &(prefix, id) in accepted {
        let config = config_from_env(&[("NAT64_V4_SUBNET_PREFIX", prefix), ("CLUSTER_ID", id)]);
        assert_eq!(
            config.nat64_v4_prefix.to_string(),
            prefix,
            "{prefix} id {id}"
        );
    }
    let refused: &[(&str, &str)] = &[
        ("10.256", "0"),
        ("10.255", "1"),
        ("10.2", "254"),
        ("172.32", "0"),
        ("172.31", "1"),
    ];
    for &(prefix, id) in refused {
        let (setting, _, _) = refusal(env_layer(&[
            ("NAT64_V4_SUBNET_PREFIX", prefix),
            ("CLUSTER_ID", id),
        ]));
        assert_eq!(setting, "--nat64-v4-prefix", "{prefix} id {id}");
    }
}

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

#[test]
fn nat64_prefix_is_not_checked_without_nat64() {
    for mode in ["ipv4", "dual-stack"] {
        let config = config_from_env(&[("IP_MODE", mode), ("CLUSTER_ID", "20")]);
        assert_eq!(config.cluster_id, 20, "{mode}");
    }
}

#[test]
fn overlap_check_uses_the_cluster_specific_mgmt_cidr() {
    let result = validate(env_layer(&[
        ("CLUSTER_ID", "5"),
        ("POD_NETWORK_CIDR", "fd00:20:5::/72"),
    ]));
    let err = result.expect_err("fd00:20:5::/64 overlaps fd00:20:5::/72");
    assert!(err.to_string().contains("overlaps"), "{err}");
}

#[test]
fn v4_prefix16_parses_and_prints() {
    assert_eq!("172.18".parse::<V4Prefix16>(), Ok(V4Prefix16(172, 18)));
    assert_eq!(V4Prefix16(10, 0).to_string(), "10.0");
    for bad in ["", "172", "172.", ".18", "256.1", "1.256", "a.b", "1.2.3"] {
        let err = bad.parse::<V4Prefix16>().unwrap_err();
        assert_eq!(
            err,
            format!("'{bad}' is not two decimal octets like 172.18")
        );
    }
}

#[test]
fn config_round_trips_through_json_labels() {
    let config = valid(Layer {
        ip_mode: flag("--ip-mode", "dual-stack"),
        egress_interface: flag("--egress-interface", "eth0"),
        ..Layer::default()
    });
    let json = serde_json::to_string(&config).unwrap();
    assert!(json.contains("\"ipMode\":\"dual-stack\""), "{json}");
    assert!(json.contains("\"nat64V4Prefix\":\"172.18\""), "{json}");
    let back: Config = serde_json::from_str(&json).unwrap();
    assert_eq!(back, config);
}

#[test]
fn probes_must_be_host_names() {
    let err = crate::config::validate(file_layer(&format!(
        "{HEADER}probes: [example.com, \"not a/name\"]\n"
    )))
    .expect_err("a slash is no host name");
    assert_eq!(err.first().setting, "probes");
    assert!(
        err.to_string().contains("'a/name' is not a host name"),
        "{err}"
    );
    assert!(
        err.first()
            .origin
            .contains("key 'probes' of config file c.yaml"),
        "{err}"
    );
}

// ---------------------------------------------------------------- Kubernetes settings

#[test]
fn kubernetes_versions_parse_as_minor_or_patch() {
    for (given, shown) in [
        ("v1.36", "v1.36"),
        ("1.35", "v1.35"),
        ("v1.34.2", "v1.34.2"),
    ] {
        let config = valid(Layer {
            kubernetes_version: flag("--kubernetes-version", given),
            ..Layer::default()
        });
        assert_eq!(config.kubernetes_version.to_string(), shown);
    }
}

#[test]
fn bad_kubernetes_versions_name_the_setting_and_the_fix() {
    for (given, expected) in [
        (
            "latest",
            "is not a Kubernetes version like v1.36 or v1.36.4",
        ),
        ("v2.1", "is not a Kubernetes version like v1.36 or v1.36.4"),
        (
            "v1.36.x",
            "is not a Kubernetes version like v1.36 or v1.36.4",
        ),
        ("v1.29", "dind supports Kubernetes v1.30 and later"),
    ] {
        let (setting, origin, message) = refusal(Layer {
            kubernetes_version: flag("--kubernetes-version", given),
            ..Layer::default()
        });
        assert_eq!(setting, "--kubernetes-version");
        assert_eq!(origin, "flag --kubernetes-version");
        assert!(message.contains(expected), "{given}: {message}");
    }
}

#[test]
fn feature_gates_parse_and_bad_ones_are_refused() {
    let config = valid(env_layer(&[("FEATURE_GATES", "Zeta=false, Alpha=true")]));
    assert_eq!(config.feature_gates.get("Alpha"), Some(&true));
    assert_eq!(config.feature_gates.get("Zeta"), Some(&false));
    // k-d-c's "none" means no gates.
    assert!(valid(env_layer(&[("FEATURE_GATES", "none")]))
        .feature_gates
        .is_empty());
    for (given, expected) in [
        ("Alpha", "'Alpha' is not Name=true or Name=false"),
        ("Alpha=maybe", "Alpha=maybe: a gate is true or false"),
        ("Al-pha=true", "'Al-pha' is not a feature gate name"),
    ] {
        let (setting, _, message) = refusal(Layer {
            feature_gates: flag("--feature-gates", given),
            ..Layer::default()
        });
        assert_eq!(setting, "--feature-gates");
        assert!(message.contains(expected), "{given}: {message}");
    }
}

#[test]
fn dual_stack_takes_two_service_cidrs_primary_first() {
    let config = config_from_env(&[
        ("IP_MODE", "dual-stack"),
        ("SERVICE_CIDR", "10.97.0.0/16,fd00:31::/112"),
    ]);
    assert_eq!(
        config.service_cidrs,
        nets(&["10.97.0.0/16", "fd00:31::/112"])
    );
    assert_eq!(config.primary_service_cidr(), nets(&["10.97.0.0/16"])[0]);
    // One alone still makes a dual-stack cluster with single-family services.
    let one = config_from_env(&[("IP_MODE", "dual-stack"), ("SERVICE_CIDR", "fd00:31::/112")]);
    assert_eq!(one.service_cidrs, nets(&["fd00:31::/112"]));
}

#[test]
fn a_record_from_before_two_service_cidrs_still_reads() {
    let mut json = serde_json::to_value(config_from_env(&[])).unwrap();
    let object = json.as_object_mut().unwrap();
    object.remove("serviceCidrs");
    object.insert("serviceCidr".into(), "fd00:30::/110".into());
    let old: Config = serde_json::from_value(json.clone()).expect("the old record shape reads");
    assert_eq!(old.service_cidrs, nets(&["fd00:30::/110"]));

    // A record with none (forged by hand) is refused, never indexed.
    let object = json.as_object_mut().unwrap();
    object.remove("serviceCidr");
    object.insert("serviceCidrs".into(), serde_json::json!([]));
    let err = serde_json::from_value::<Config>(json).unwrap_err();
    assert!(
        err.to_string().contains("at least one service CIDR"),
        "{err}"
    );
}

// ---------------------------------------------------------------- every refusal, the table

#[test]
fn every_refused_setting_is_reported_in_table_order_one_per_line() {
    let layer = Layer {
        nodes: flag("--nodes", "300").map(|s| vec![s]),
        upstream_dns: flag("--upstream-dns", "::1"),
        feature_gates: flag("--feature-gates", "Alpha"),
        ..env_layer(&[("DIND_K8S_VERSION", "v1.29"), ("CLUSTER_ID", "255")])
    };
    let err = validate(layer).expect_err("five settings are bad");
    let settings: Vec<&str> = err.refusals().iter().map(|r| r.setting.as_str()).collect();
    assert_eq!(
        settings,
        [
            "--cluster-id",
            "--nodes",
            "--upstream-dns",
            "--kubernetes-version",
            "--feature-gates"
        ]
    );
    let lines: Vec<String> = err.to_string().lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 5, "{err}");
    // The first line is what the first refusal alone says.
    assert_eq!(
        lines[0],
        "invalid --cluster-id '255' (from environment variable CLUSTER_ID): expected a number \
         from 0 to 254"
    );
    assert_eq!(err.first().setting, "--cluster-id");
    for (line, refusal) in lines.iter().zip(err.refusals()) {
        assert_eq!(line, &refusal.to_string());
    }
}

#[test]
fn an_unknown_ip_mode_refuses_only_what_can_be_judged_without_it() {
    // The CIDRs' families need the mode; the node count does not.
    let err = validate(env_layer(&[
        ("IP_MODE", "ipv5"),
        ("MGMT_CIDRS", "10.192.0.0/24"),
        ("NUM_NODES", "251"),
    ]))
    .expect_err("refused");
    let settings: Vec<&str> = err.refusals().iter().map(|r| r.setting.as_str()).collect();
    assert_eq!(settings, ["--ip-mode", "--nodes"], "{err}");
}

#[test]
fn every_bad_patch_is_refused_on_its_own() {
    let err = validate(file_layer(&format!(
        "{HEADER}kubeadmConfigPatches:\n- \"kind: Deployment\"\n- \"kind: KubeletConfiguration\"\n\
         - \"kind: [unclosed\"\n"
    )))
    .expect_err("two patches are bad");
    let values: Vec<&str> = err.refusals().iter().map(|r| r.value.as_str()).collect();
    assert_eq!(values, ["kind: Deployment", "kind: [unclosed"], "{err}");
}

#[test]
fn refusals_have_no_run_of_spaces() {
    let (_, _, message) = refusal(file_layer(&format!(
        "{HEADER}kubeadmConfigPatches:\n- \"kind: Deployment\"\n"
    )));
    assert!(
        message.ends_with(
            "a patch is a YAML mapping with a `kind:` (ClusterConfiguration, InitConfiguration, \
             JoinConfiguration, KubeletConfiguration or KubeProxyConfiguration)"
        ),
        "{message}"
    );
    for case in bad_cases().into_iter().map(|c| c.layer) {
        let (_, _, message) = refusal(case);
        assert!(!message.contains("  "), "{message:?}");
    }
}

#[test]
fn kubeadm_patches_are_parsed_once_and_recorded_as_their_text() {
    let text =
        "kind: KubeletConfiguration\napiVersion: kubelet.config.k8s.io/v1beta1\nmaxPods: 10\n";
    let config = valid(Layer {
        kubeadm_config_patches: Some(vec![Sourced::new(
            text,
            Origin::File {
                path: "c.yaml".into(),
                key: "kubeadmConfigPatches",
            },
        )]),
        ..Layer::default()
    });
    let patch = &config.kubeadm_config_patches[0];
    assert_eq!(patch.kind(), KubeadmKind::KubeletConfiguration);
    assert_eq!(patch.api_version(), Some("kubelet.config.k8s.io/v1beta1"));
    assert_eq!(patch.value()["maxPods"].as_i64(), Some(10));
    // A record holds the text, as records written before the patches were typed do.
    let json = serde_json::to_value(&config).unwrap();
    assert_eq!(json["kubeadmConfigPatches"], serde_json::json!([text]));
    let back: Config = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back, config);
    // A forged record with a patch dind would refuse is refused on read.
    let mut forged = json;
    forged["kubeadmConfigPatches"] = serde_json::json!(["kind: Deployment"]);
    let err = serde_json::from_value::<Config>(forged).unwrap_err();
    assert!(
        err.to_string().contains("a patch is a YAML mapping"),
        "{err}"
    );
}

#[test]
fn env_var_names_are_exactly_the_variables_read() {
    let names = env_var_names();
    for expected in [
        "DIND_K8S_VERSION",
        "FEATURE_GATES",
        "DNS64_PREFIX_SIZE",
        "CLUSTER_ID",
    ] {
        assert!(names.contains(&expected), "{names:?} lacks {expected}");
    }
    // Each one, set alone, sets something.
    for name in &names {
        assert_ne!(env_layer(&[(name, "7")]), Layer::default(), "{name}");
    }
    // Nothing else is read: a lookup that records what it is asked.
    let asked = std::cell::RefCell::new(Vec::new());
    Layer::from_env(|name| {
        asked.borrow_mut().push(name.to_string());
        None
    });
    let mut asked = asked.into_inner();
    asked.sort();
    let mut listed: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    listed.sort();
    assert_eq!(asked, listed);
}

#[test]
fn the_table_names_each_flag_and_file_key_once() {
    let rows = crate::config::SETTINGS;
    let mut keys: Vec<&str> = rows.iter().map(|r| r.file.key()).collect();
    let mut flags: Vec<&str> = rows.iter().filter_map(|r| r.flag_name()).collect();
    let (key_count, flag_count) = (keys.len(), flags.len());
    keys.sort();
    keys.dedup();
    flags.sort();
    flags.dedup();
    assert_eq!((keys.len(), flags.len()), (key_count, flag_count));
    // The first two are what the others are judged against.
    assert_eq!(rows[0].field, "ip_mode");
    assert_eq!(rows[1].field, "cluster_id");
}

#[test]
fn help_shows_the_rows_variables_and_defaults() {
    let help = |field: &str| {
        crate::config::SETTINGS
            .iter()
            .find(|r| r.field == field)
            .unwrap()
            .help_text()
    };
    assert_eq!(
        help("nodes"),
        "Worker nodes besides the master [env: NUM_NODES] [default: 2]"
    );
    assert!(
        help("mgmt_cidrs").ends_with(
            "[env: MGMT_CIDRS] [default: fd00:20::/64 in ipv6 mode, 10.192.0.0/24 in ipv4 mode, \
             10.192.0.0/24,fd00:20::/64 in dual-stack mode]"
        ),
        "{}",
        help("mgmt_cidrs")
    );
    assert!(help("dns64_prefix").contains("[env: DNS64_PREFIX + DNS64_PREFIX_SIZE]"));
    assert_eq!(
        help("kubernetes"),
        "Stop after the network plane and the node containers"
    );
    assert_eq!(
        help("feature_gates"),
        "Feature gates for every Kubernetes component, e.g. Name=true,Other=false \
         [env: FEATURE_GATES]"
    );
}

// ---------------------------------------------------------------- kind's node list

/// A kind-style `nodes:` section after the header; `{dir}` is an existing directory.
fn kind_nodes(body: &str) -> String {
    let dir = std::env::temp_dir();
    format!(
        "{HEADER}{}",
        body.replace("{dir}", dir.to_str().expect("a UTF-8 temp dir"))
    )
}

fn nodes_refusals(text: &str) -> Vec<(String, String, String)> {
    let layer = file_layer(text);
    match validate(layer) {
        Ok(config) => panic!("expected a refusal, got {:?}", config.nodes),
        Err(err) => err
            .refusals()
            .iter()
            .map(|r| (r.setting.clone(), r.value.clone(), err_line(r)))
            .collect(),
    }
}

fn err_line(refusal: &crate::config::Refusal) -> String {
    refusal.to_string()
}

#[test]
fn file_nodes_list_in_kinds_shape() {
    let text = kind_nodes(
        "nodes:\n\
         - role: worker\n\
         \x20 labels:\n\
         \x20   tier: frontend\n\
         - role: control-plane\n\
         \x20 extraPortMappings:\n\
         \x20 - containerPort: 80\n\
         \x20   hostPort: 18080\n\
         \x20 - containerPort: 53\n\
         \x20   hostPort: 18053\n\
         \x20   protocol: udp\n\
         \x20   listenAddress: \"::\"\n\
         \x20 extraMounts:\n\
         \x20 - hostPath: {dir}\n\
         \x20   containerPath: /data\n\
         \x20   readOnly: true\n\
         \x20   propagation: None\n\
         - role: worker\n",
    );
    let config = valid(file_layer(&text));
    assert_eq!(config.nodes.workers(), 2);
    let master = config.nodes.spec(0).unwrap();
    assert_eq!(master.role, crate::config::nodes::NodeRole::ControlPlane);
    let ports: Vec<String> = master
        .extra_port_mappings
        .iter()
        .map(|p| {
            format!(
                "{} {}:{} -> {}",
                p.protocol, p.listen_address, p.host_port, p.container_port
            )
        })
        .collect();
    // ipv6 mode: the default listen address is the host's IPv6 loopback.
    assert_eq!(ports, ["TCP ::1:18080 -> 80", "UDP :::18053 -> 53"]);
    assert_eq!(master.extra_mounts.len(), 1);
    assert_eq!(master.extra_mounts[0].container_path, "/data");
    assert!(master.extra_mounts[0].read_only);
    // The workers keep their order; the first had its labels.
    let first_worker = config.nodes.spec(1).unwrap();
    assert_eq!(first_worker.labels["tier"], "frontend");
    assert!(config.nodes.spec(2).unwrap().labels.is_empty());
}

#[test]
fn file_nodes_list_defaults_to_ipv4_loopback_outside_ipv6_mode() {
    let text = kind_nodes(
        "ipMode: dual-stack\nnodes:\n- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 18080\n",
    );
    let config = valid(file_layer(&text));
    let port = &config.nodes.spec(0).unwrap().extra_port_mappings[0];
    assert_eq!(port.listen_address.to_string(), "127.0.0.1");
    assert_eq!(port.protocol, crate::config::Protocol::Tcp);
}

#[test]
fn file_nodes_relative_host_path_is_made_absolute() {
    let text = kind_nodes(
        "nodes:\n- role: control-plane\n  extraMounts:\n  - hostPath: .\n    containerPath: /src\n",
    );
    let config = valid(file_layer(&text));
    let mount = &config.nodes.spec(0).unwrap().extra_mounts[0];
    assert!(mount.host_path.starts_with('/'), "{}", mount.host_path);
    assert!(!mount.read_only);
}

#[test]
fn file_nodes_empty_list_is_the_master_alone_as_in_kind() {
    let config = valid(file_layer(&kind_nodes("nodes: []\n")));
    assert_eq!(config.nodes.workers(), 0);
}

#[test]
fn file_nodes_count_still_works_and_the_flag_overrides_it() {
    let file = file_layer(&kind_nodes("nodes: 1\n"));
    assert_eq!(valid(file.clone()).nodes.workers(), 1);
    let flags = Layer {
        nodes: flag("--nodes", "4").map(|s| vec![s]),
        ..Layer::default()
    };
    assert_eq!(valid(flags.over(file)).nodes.workers(), 4);
}

#[test]
fn a_count_from_the_environment_does_not_silently_drop_the_files_node_list() {
    let file = file_layer(&kind_nodes("nodes:\n- role: control-plane\n"));
    let env = env_layer(&[("NUM_NODES", "3")]);
    let problem = crate::config::list_overridden(&env, &file).expect("a conflict");
    assert_eq!(
        problem,
        "config file c.yaml: nodes: its node list and environment variable NUM_NODES ('3') \
         both set the nodes; drop one (unset NUM_NODES, or leave out --nodes)"
    );
    // A count in the file is simply overridden, as every other setting.
    let count_file = file_layer(&kind_nodes("nodes: 1\n"));
    assert_eq!(crate::config::list_overridden(&env, &count_file), None);
    assert_eq!(
        crate::config::list_overridden(&Layer::default(), &file),
        None
    );
}

#[test]
fn flag_nodes_takes_only_a_count() {
    let layer = Layer {
        nodes: flag("--nodes", "role: worker").map(|s| vec![s]),
        ..Layer::default()
    };
    let (setting, _, message) = refusal(layer);
    assert_eq!(setting, "--nodes");
    assert!(
        message.contains("expected a number of workers"),
        "{message}"
    );
}

#[test]
fn file_nodes_refusals_name_the_field_path_the_value_the_line_and_the_fix() {
    // (entries after `nodes:`, the field path, the value, fragments of the message)
    let cases: &[(&str, &str, &str, &[&str])] = &[
        (
            "- role: control-plane\n- role: worker\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 70000\n",
            "nodes[1].extraPortMappings[0].hostPort",
            "70000",
            &["line 8", "expected a port from 1 to 65535"],
        ),
        (
            "- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n",
            "nodes[0].extraPortMappings[0].hostPort",
            "",
            &["missing; give a port from 1 to 65535; dind does not pick a free host port as kind does"],
        ),
        (
            "- role: control-plane\n  extraPortMappings:\n  - hostPort: 8080\n",
            "nodes[0].extraPortMappings[0].containerPort",
            "",
            &["line 6", "missing; give a port"],
        ),
        (
            "- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 8080\n    protocol: ICMP\n",
            "nodes[0].extraPortMappings[0].protocol",
            "ICMP",
            &["use TCP, UDP or SCTP"],
        ),
        (
            "- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 8080\n    listenAddress: 0.0.0.0\n",
            "nodes[0].extraPortMappings[0].listenAddress",
            "0.0.0.0",
            &["in ipv6 mode the nodes have no IPv4 address", "(e.g. ::)"],
        ),
        (
            "- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 8080\n    listenAddress: localhost\n",
            "nodes[0].extraPortMappings[0].listenAddress",
            "localhost",
            &["expected an IP address"],
        ),
        (
            "- role: control-plane\n  extraPortMappings:\n  - containerPort: 80\n    hostPort: 8080\n    hostIP: ::1\n",
            "nodes[0].extraPortMappings[0].hostIP",
            "hostIP",
            &["unknown field; expected one of containerPort, hostPort, listenAddress, protocol"],
        ),
        (
            "- role: control-plane\n  extraMounts:\n  - hostPath: {dir}\n    containerPath: data\n",
            "nodes[0].extraMounts[0].containerPath",
            "data",
            &["must be absolute, like /data"],
        ),
        (
            "- role: control-plane\n  extraMounts:\n  - hostPath: /no/such/dind/path\n    containerPath: /data\n",
            "nodes[0].extraMounts[0].hostPath",
            "/no/such/dind/path",
            &["does not exist on this machine (the one running dind)"],
        ),
        (
            "- role: control-plane\n  extraMounts:\n  - hostPath: {dir}\n    containerPath: /data\n    selinuxRelabel: true\n",
            "nodes[0].extraMounts[0].selinuxRelabel",
            "true",
            &["dind does not relabel mounts"],
        ),
        (
            "- role: control-plane\n  extraMounts:\n  - hostPath: {dir}\n    containerPath: /data\n    propagation: Bidirectional\n",
            "nodes[0].extraMounts[0].propagation",
            "Bidirectional",
            &["dind mounts without propagation"],
        ),
        (
            "- role: control-plane\n  extraMounts:\n  - hostPath: {dir}\n    containerPath: /data\n    readOnly: maybe\n",
            "nodes[0].extraMounts[0].readOnly",
            "maybe",
            &["use true or false"],
        ),
        (
            "- role: control-plane\n  labels:\n    \"-bad\": x\n",
            "nodes[0].labels.-bad",
            "-bad",
            &["a label name has 1-63 characters"],
        ),
        (
            "- role: control-plane\n  labels:\n    tier: \"front end\"\n",
            "nodes[0].labels.tier",
            "front end",
            &["a label value is empty or has up to 63 characters"],
        ),
        (
            "- role: control-plane\n  labels:\n    node-role.kubernetes.io/edge: \"\"\n",
            "nodes[0].labels.node-role.kubernetes.io/edge",
            "node-role.kubernetes.io/edge",
            &["line 6", "kubelet.kubernetes.io/ and node.kubernetes.io/"],
        ),
        (
            "- role: control-plane\n  labels:\n    Example.com/tier: x\n",
            "nodes[0].labels.Example.com/tier",
            "Example.com/tier",
            &["not a DNS subdomain"],
        ),
        (
            "- role: master\n",
            "nodes[0].role",
            "master",
            &["line 4", "use control-plane or worker"],
        ),
        (
            "- labels: {}\n",
            "nodes[0].role",
            "",
            &["missing; give `role: control-plane` or `role: worker`"],
        ),
        (
            "- role: control-plane\n  image: kindest/node:v1.30.0\n",
            "nodes[0].image",
            "image",
            &["use the top-level `nodeImage`"],
        ),
        (
            "- role: control-plane\n  kubeadmConfigPatches: []\n",
            "nodes[0].kubeadmConfigPatches",
            "kubeadmConfigPatches",
            &["use the top-level `kubeadmConfigPatches`"],
        ),
        (
            "- role: control-plane\n  extraPortMapping: []\n",
            "nodes[0].extraPortMapping",
            "extraPortMapping",
            &["unknown field; expected one of role, labels, extraPortMappings, extraMounts"],
        ),
        (
            "- role: control-plane\n- role: control-plane\n",
            "nodes[1].role",
            "control-plane",
            &["dind runs one control-plane node (the master, nodes[0])", "`role: worker`"],
        ),
        (
            "- role: worker\n",
            "nodes",
            "1 workers",
            &["no `role: control-plane` node; add one"],
        ),
        (
            "- role: control-plane\n  extraPortMappings: 80\n",
            "nodes[0].extraPortMappings",
            "80",
            &["expected a list, got a number"],
        ),
    ];
    for &(entries, path, value, fragments) in cases {
        let text = kind_nodes(&format!("nodes:\n{entries}"));
        let refusals = nodes_refusals(&text);
        let found = refusals.iter().find(|(setting, _, _)| setting == path);
        let Some((_, shown, message)) = found else {
            panic!("{entries:?}: no refusal of {path}: {refusals:?}");
        };
        assert_eq!(shown, value, "{entries:?}");
        assert!(
            message.starts_with(&format!("invalid {path} '{value}' (from entry ")),
            "{message}"
        );
        assert!(
            message.contains("of key 'nodes' of config file c.yaml"),
            "{message}"
        );
        for fragment in fragments {
            assert!(
                message.contains(fragment),
                "{entries:?}: {message:?} lacks {fragment:?}"
            );
        }
    }
}

#[test]
fn file_nodes_refusals_point_at_the_fields_line_even_past_comments_and_in_flow_style() {
    let text = kind_nodes(
        "nodes:\n\
         # the master\n\
         - role: control-plane\n\
         \x20 extraPortMappings:\n\
         \x20 # the web\n\
         \x20 - containerPort: 80\n\
         \x20   hostPort: 18080\n\
         \x20 - containerPort: 81\n\
         \x20   hostPort: 0\n\
         - {role: worker, extraPortMappings: [{containerPort: 99999, hostPort: 18081}]}\n",
    );
    let refusals = nodes_refusals(&text);
    let messages: Vec<&str> = refusals.iter().map(|r| r.2.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].starts_with(
            "invalid nodes[0].extraPortMappings[1].hostPort '0' (from entry 0 of key 'nodes' of \
             config file c.yaml, line 11)"
        ),
        "{messages:?}"
    );
    // A flow-style entry: its own line.
    assert!(
        messages[1].starts_with(
            "invalid nodes[1].extraPortMappings[0].containerPort '99999' (from entry 1 of key \
             'nodes' of config file c.yaml, line 12)"
        ),
        "{messages:?}"
    );
}

#[test]
fn file_nodes_duplicate_host_port_across_the_cluster_is_refused() {
    let text = kind_nodes(
        "nodes:\n\
         - role: control-plane\n\
         \x20 extraPortMappings:\n\
         \x20 - {containerPort: 80, hostPort: 18080}\n\
         \x20 - {containerPort: 53, hostPort: 18080, protocol: UDP}\n\
         - role: worker\n\
         \x20 extraPortMappings:\n\
         \x20 - {containerPort: 81, hostPort: 18080, listenAddress: \"::\"}\n",
    );
    let refusals = nodes_refusals(&text);
    // UDP on the same port is another socket; `::` covers the master's ::1.
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    let (setting, value, message) = &refusals[0];
    assert_eq!(setting, "nodes[1].extraPortMappings[0].hostPort");
    assert_eq!(value, "18080");
    assert!(
        message.contains(
            "TCP 18080 on ::1 is published by nodes[0].extraPortMappings[0] already; pick another hostPort"
        ),
        "{message}"
    );
}

#[test]
fn file_nodes_every_refusal_is_reported_at_once() {
    let text = kind_nodes(
        "nodes:\n\
         - role: control-plane\n\
         \x20 extraPortMappings:\n\
         \x20 - {containerPort: 0, hostPort: 18080}\n\
         - role: boss\n\
         \x20 extraMounts:\n\
         \x20 - {hostPath: /no/such/dind/path, containerPath: rel}\n\
         clusterId: 300\n",
    );
    let settings: Vec<String> = nodes_refusals(&text).into_iter().map(|r| r.0).collect();
    assert_eq!(
        settings,
        [
            "--cluster-id",
            "nodes[0].extraPortMappings[0].containerPort",
            "nodes[1].role",
            "nodes[1].extraMounts[0].containerPath",
            "nodes[1].extraMounts[0].hostPath",
        ]
    );
}

#[test]
fn file_type_errors_name_the_key_the_line_and_what_was_expected() {
    let cases: &[(&str, &str)] = &[
        (
            "nodes: [1, 2]\n",
            "config file c.yaml: line 3: nodes: expected a worker count or a list of nodes \
             (kind's `- role: worker`), got a list of numbers",
        ),
        (
            "nodes:\n  role: worker\n",
            "config file c.yaml: line 3: nodes: expected a worker count or a list of nodes \
             (kind's `- role: worker`), got a mapping",
        ),
        (
            "\n# a comment\nclusterId: [3]\n",
            "config file c.yaml: line 5: clusterId: expected a number, a string or a boolean, \
             got a list of numbers",
        ),
        (
            "ipMode:\n  - ipv6\n",
            "config file c.yaml: line 3: ipMode: expected a string, got a list of strings",
        ),
        (
            "kubeadmConfigPatches: {kind: InitConfiguration}\n",
            "config file c.yaml: line 3: kubeadmConfigPatches: expected a list of YAML \
             documents, each a string (`- |` blocks), got a mapping",
        ),
        (
            "featureGates: [A]\n",
            "config file c.yaml: line 3: featureGates: expected a mapping of gate names to true \
             or false, or Name=true,... text, got a list of strings",
        ),
        (
            "nodes: 2.5\n",
            "config file c.yaml: line 3: nodes: 2.5 is not a whole number",
        ),
    ];
    for &(body, expected) in cases {
        assert_eq!(file_error("c.yaml", &format!("{HEADER}{body}")), expected);
    }
}

#[test]
fn file_problems_are_all_reported_at_once() {
    let text = format!("{HEADER}numNodes: 3\nnodes: [1, 2]\nipMode: [ipv6]\nfoo: bar\n");
    let message = file_error("c.yaml", &text);
    let lines: Vec<&str> = message.lines().collect();
    assert_eq!(lines.len(), 4, "{message}");
    // In the file's order.
    assert!(
        lines[0].contains("line 3: unknown field `numNodes`"),
        "{message}"
    );
    assert!(lines[1].starts_with("config file c.yaml: line 4: nodes: expected a worker count"));
    assert!(lines[2].starts_with("config file c.yaml: line 5: ipMode: expected a string"));
    assert!(
        lines[3].contains("line 6: unknown field `foo`"),
        "{message}"
    );
    // What the file did give is still read, so its refusals can be reported with them.
    let (layer, problems) =
        crate::config::read_file("c.yaml", &format!("{HEADER}foo: 1\nclusterId: 300\n")).unwrap();
    assert_eq!(problems.len(), 1);
    assert_eq!(layer.cluster_id.unwrap().value, "300");
}

#[test]
fn recorded_nodes_are_a_count_without_node_settings_and_kinds_list_with_them() {
    let plain = valid(Layer::default());
    let json = serde_json::to_value(&plain).unwrap();
    assert_eq!(json["nodes"], 2);
    // A record written before node lists existed reads back.
    let old: Config = serde_json::from_value(json).unwrap();
    assert_eq!(old, plain);

    let text = kind_nodes(
        "nodes:\n- role: control-plane\n  extraPortMappings:\n  - {containerPort: 80, hostPort: 18080}\n- role: worker\n  labels: {tier: db}\n",
    );
    let config = valid(file_layer(&text));
    let json = serde_json::to_value(&config).unwrap();
    assert_eq!(
        json["nodes"],
        serde_json::json!([
            {"role": "control-plane", "extraPortMappings": [
                {"containerPort": 80, "hostPort": 18080, "listenAddress": "::1", "protocol": "TCP"}
            ]},
            {"role": "worker", "labels": {"tier": "db"}}
        ])
    );
    let back: Config = serde_json::from_value(json).unwrap();
    assert_eq!(back, config);
    // A forged list without its master first is refused when read back.
    let forged = serde_json::json!([{"role": "worker"}, {"role": "control-plane"}]);
    assert!(serde_json::from_value::<Nodes>(forged).is_err());
}

#[test]
fn the_registry_is_a_switch_from_every_source() {
    assert!(!valid(Layer::default()).registry);
    assert!(config_from_env(&[("DIND_REGISTRY", "true")]).registry);
    assert!(valid(file_layer(&format!("{HEADER}registry: true\n"))).registry);
    let (setting, origin, message) = refusal(env_layer(&[("DIND_REGISTRY", "maybe")]));
    assert_eq!(setting, "--registry");
    assert_eq!(origin, "environment variable DIND_REGISTRY");
    assert!(message.ends_with("use true or false"), "{message}");
}

#[test]
fn containerd_patches_are_toml_and_a_bad_one_is_named_by_index_and_line() {
    let config = valid(file_layer(&format!(
        "{HEADER}containerdConfigPatches:\n- |\n  [debug]\n  level = \"debug\"\n"
    )));
    let patch = &config.containerd_config_patches[0];
    assert_eq!(patch.table()["debug"]["level"].as_str(), Some("debug"));
    // Records keep the text.
    let json = serde_json::to_value(&config).unwrap();
    assert_eq!(
        json["containerdConfigPatches"],
        serde_json::json!(["[debug]\nlevel = \"debug\"\n"])
    );
    assert_eq!(serde_json::from_value::<Config>(json).unwrap(), config);

    let err = validate(file_layer(&format!(
        "{HEADER}containerdConfigPatches:\n- \"a = 1\"\n- |\n  [ok]\n  b = 2\n  c = = 3\n"
    )))
    .expect_err("the second patch is not TOML");
    let message = err.to_string();
    assert!(
        message.starts_with("invalid containerdConfigPatches[1] '[ok]\nb = 2\nc = = 3\n' (from key 'containerdConfigPatches' of config file c.yaml): not a TOML document: line 3, column"),
        "{message}"
    );
    assert_eq!(err.refusals().len(), 1, "{message}");
}

#[test]
fn list_refusals_name_their_item() {
    let err = validate(file_layer(&format!(
        "{HEADER}kubeadmConfigPatches:\n- \"kind: KubeletConfiguration\"\n- \"kind: Deployment\"\n"
    )))
    .expect_err("the second patch names no kubeadm kind");
    assert!(
        err.to_string()
            .starts_with("invalid kubeadmConfigPatches[1] "),
        "{err}"
    );
}

#[test]
fn a_mirror_patch_is_refused_beside_the_registry() {
    let patches = "containerdConfigPatches:\n- \"a = 1\"\n- |\n  \
                   [plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"docker.io\"]\n  \
                   endpoint = [\"http://mirror:5000\"]\n";
    assert_eq!(
        valid(file_layer(&format!("{HEADER}{patches}")))
            .containerd_config_patches
            .len(),
        2
    );
    let err = validate(file_layer(&format!("{HEADER}registry: true\n{patches}")))
        .expect_err("containerd would refuse it");
    let message = err.to_string();
    assert!(
        message.starts_with("invalid containerdConfigPatches[1] "),
        "{message}"
    );
    assert!(
        message.contains("drop the mirrors or the registry"),
        "{message}"
    );
}

// ---------------------------------------------------------------- kubernetes from files

#[test]
fn kubernetes_from_is_a_path_made_absolute_from_flag_env_or_file() {
    let dir = tempfile::tempdir().unwrap();
    let kit = dir.path().join("kit");
    std::fs::create_dir(&kit).unwrap();
    let absolute = std::fs::canonicalize(&kit).unwrap();
    let from_flag = valid(Layer {
        kubernetes_from: flag("--kubernetes-from", kit.to_str().unwrap()),
        ..Layer::default()
    });
    assert_eq!(
        from_flag.kubernetes_from.as_deref(),
        Some(absolute.as_path())
    );
    let from_env = config_from_env(&[("DIND_KUBERNETES_FROM", kit.to_str().unwrap())]);
    assert_eq!(
        from_env.kubernetes_from.as_deref(),
        Some(absolute.as_path())
    );
    let from_file = valid(file_layer(&format!(
        "{HEADER}kubernetesFrom: {}\n",
        kit.display()
    )));
    assert_eq!(
        from_file.kubernetes_from.as_deref(),
        Some(absolute.as_path())
    );
    assert_eq!(valid(Layer::default()).kubernetes_from, None);
}

#[test]
fn a_missing_kubernetes_from_path_is_refused_with_what_to_give() {
    let (setting, origin, text) = refusal(Layer {
        kubernetes_from: flag("--kubernetes-from", "/nonexistent/kit"),
        ..Layer::default()
    });
    assert_eq!(setting, "--kubernetes-from");
    assert_eq!(origin, "flag --kubernetes-from");
    assert!(text.contains("cannot read it"), "{text}");
    assert!(text.contains(".ci/kubernetes-kit"), "{text}");
}

#[test]
fn kubernetes_from_refuses_a_node_image_a_version_and_no_kubernetes_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let kit = dir.path().to_str().unwrap();
    let with = |layer: Layer| {
        let (setting, _, text) = refusal(Layer {
            kubernetes_from: flag("--kubernetes-from", kit),
            ..layer
        });
        assert_eq!(setting, "--kubernetes-from", "{text}");
        text
    };
    let text = with(Layer {
        node_image: flag("--node-image", "mine:1"),
        ..Layer::default()
    });
    assert!(
        text.contains("cannot go with --node-image (from flag --node-image)"),
        "{text}"
    );
    let text = with(Layer {
        kubernetes_version: flag("--kubernetes-version", "v1.34"),
        ..Layer::default()
    });
    assert!(text.contains("leave the version out"), "{text}");
    let text = with(Layer {
        kubernetes: flag("--no-kubernetes", "false"),
        ..Layer::default()
    });
    assert!(text.contains("leaves Kubernetes out"), "{text}");
}

// ---------------------------------------------------------------- a record's typed config

#[test]
fn recheck_accepts_what_validate_accepts() {
    for vars in [
        &[][..],
        &[("IP_MODE", "ipv4"), ("CLUSTER_ID", "254")],
        &[("IP_MODE", "dual-stack"), ("DIND_ALLOW_AAAA_USE", "true")],
        &[
            ("CLUSTER_ID", "200"),
            ("REMOTE_DNS64_V4SERVER", "192.0.2.1"),
        ],
        &[
            ("DIND_IMAGE", "dind/node:x"),
            ("DIND_EGRESS_INTERFACE", "eth0"),
        ],
    ] {
        assert_eq!(
            crate::config::recheck(&config_from_env(vars)),
            Vec::<String>::new()
        );
    }
}

#[test]
fn recheck_refuses_typed_values_with_configs_words() {
    let base = config_from_env(&[]);
    let cases: Vec<(Config, &str)> = vec![
        (
            Config {
                cluster_id: 255,
                ..base.clone()
            },
            "--cluster-id 255: expected a number from 0 to 254",
        ),
        (
            Config {
                ip_mode: IpMode::Ipv4,
                allow_aaaa: true,
                mgmt_cidrs: nets(&["10.192.0.0/24"]),
                pod_cidrs: nets(&["10.244.0.0/16"]),
                service_cidrs: nets(&["10.96.0.0/12"]),
                ..base.clone()
            },
            "--allow-aaaa true: AAAA use needs IPv6",
        ),
        (
            Config {
                nat64_v4_prefix: V4Prefix16(172, 31),
                cluster_id: 1,
                ..base.clone()
            },
            "--nat64-v4-prefix 172.31: with cluster id 1 the second octet becomes 31 + 1 = 32",
        ),
        (
            Config {
                upstream_dns: Some(Ipv4Addr::LOCALHOST),
                ..base.clone()
            },
            "--upstream-dns 127.0.0.1: the upstream resolver must be a unicast address",
        ),
        (
            Config {
                egress_interface: Some("eth0; reboot".into()),
                ..base.clone()
            },
            "--egress-interface eth0; reboot: a Linux interface name",
        ),
        (
            Config {
                mgmt_cidrs: nets(&["fd00:20::/64", "10.192.0.0/24"]),
                ..base.clone()
            },
            "--mgmt-cidrs fd00:20::/64,10.192.0.0/24: give exactly one IPv6 CIDR in ipv6 mode",
        ),
        (
            Config {
                pod_cidrs: vec!["fd00:40::1/72".parse().unwrap()],
                ..base.clone()
            },
            "--pod-cidrs fd00:40::1/72: 'fd00:40::1/72' has host bits set",
        ),
        (
            Config {
                service_cidrs: nets(&["10.96.0.0/12"]),
                ..base.clone()
            },
            "--service-cidr 10.96.0.0/12: give exactly one IPv6 CIDR in ipv6 mode",
        ),
        (
            Config {
                node_image: Some(" ".into()),
                ..base.clone()
            },
            "--node-image  : give an image name",
        ),
        (
            Config {
                kubernetes_version: "v1.29".parse().unwrap(),
                ..base.clone()
            },
            "--kubernetes-version v1.29: dind supports Kubernetes v1.30 and later",
        ),
    ];
    for (config, expected) in cases {
        let problems = crate::config::recheck(&config);
        assert!(
            problems.iter().any(|p| p.starts_with(expected)),
            "{expected}: {problems:?}"
        );
    }
}
