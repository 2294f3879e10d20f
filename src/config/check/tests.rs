//! Each setting's check: every refusal names the setting, its origin and the fix; the edge
//! values that pass.

use crate::config::tests::*;
use crate::config::{validate, Config, Layer};
use crate::test_support::{config_from_env, env_layer, flag, valid};

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

#[test]
fn nat64_prefix_is_not_checked_without_nat64() {
    for mode in ["ipv4", "dual-stack"] {
        let config = config_from_env(&[("IP_MODE", mode), ("CLUSTER_ID", "20")]);
        assert_eq!(config.cluster_id, 20, "{mode}");
    }
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
