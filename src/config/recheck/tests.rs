//! A record's typed configuration judged by config's rules.

use crate::config::tests::*;
use crate::config::{Config, IpMode, V4Prefix16};
use crate::test_support::config_from_env;
use std::net::Ipv4Addr;

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
