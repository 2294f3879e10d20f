//! The environment: k-d-c's variables, blank ones unset, values trimmed.

use crate::config::tests::*;
use crate::config::{Layer, Nat64Engine, Origin, Sourced, V4Prefix16};
use crate::test_support::{config_from_env, env_layer, flag, valid};

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
