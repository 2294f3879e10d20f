//! The address plan: names, subnets, addresses and routes, against k-d-c's rules.

use crate::config::Layer;
use crate::plan::{
    mgmt_v4_for_cluster, mgmt_v6_for_cluster, nat64_v4_subnet, network_name, plan,
    pod_cidr_for_node, rule_tag, suffix, ClusterPlan, Role, Route, SubnetPlan,
};
use crate::test_support::{config_from_env, flag, valid};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn v6(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn route_strings(routes: &[Route]) -> Vec<String> {
    routes.iter().map(Route::to_string).collect()
}

fn plan_from_env(vars: &[(&str, &str)]) -> ClusterPlan {
    plan(&config_from_env(vars))
}

// ---------------------------------------------------------------- default ipv6 plan

#[test]
fn default_ipv6_network() {
    let p = plan_from_env(&[]);
    assert_eq!(p.cluster_id, 0);
    assert_eq!(p.suffix, "");
    assert_eq!(p.network.name, "kubeadm-dind-net");
    assert_eq!(p.network.bridge, "br-dind0");
    assert!(p.network.ipv6);
    assert_eq!(
        p.network.subnets,
        vec![
            SubnetPlan {
                cidr: net("172.18.0.0/16"),
                gateway: ip("172.18.0.1"),
                ip_range: Some(net("172.18.128.0/17")),
            },
            SubnetPlan {
                cidr: net("fd00:20::/64"),
                gateway: ip("fd00:20::1"),
                ip_range: None
            },
        ]
    );
}

#[test]
fn default_ipv6_dns64_and_nat64() {
    let p = plan_from_env(&[]);
    let dns64 = p.dns64.expect("ipv6 mode has DNS64");
    assert_eq!(dns64.container, "bind9");
    assert_eq!(dns64.address, v6("fd00:20::100"));
    assert_eq!(dns64.prefix.to_string(), "fd00:10:64:ff9b::/96");
    // No --upstream-dns: Docker's embedded DNS, over the IPv4 address bind9 keeps.
    assert_eq!(dns64.forwarder.to_string(), "127.0.0.11");
    assert!(!dns64.drop_ipv4);
    assert!(!dns64.allow_aaaa);
    assert_eq!(
        route_strings(&dns64.routes),
        ["fd00:10:64:ff9b::/96 via fd00:20::200"]
    );

    let nat64 = p.nat64.expect("ipv6 mode has NAT64");
    assert_eq!(nat64.container, "tayga");
    assert_eq!(nat64.address_v6, v6("fd00:20::200"));
    assert_eq!(nat64.address_v4, Ipv4Addr::new(172, 18, 0, 200));
    assert_eq!(nat64.prefix.to_string(), "fd00:10:64:ff9b::/96");
    assert_eq!(nat64.pool.to_string(), "172.18.0.128/25");
    assert_eq!(nat64.tun_device, "nat64");
    assert_eq!(
        route_strings(&nat64.routes),
        [
            "172.18.0.128/25 dev nat64",
            "fd00:10:64:ff9b::/96 dev nat64"
        ]
    );

    assert_eq!(
        route_strings(&p.host.routes),
        ["172.18.0.128/25 via 172.18.0.200"]
    );
    assert_eq!(p.host.rule_tag, "dind:cluster=0");
    assert!(p.host.direct_ipv6_sources.is_empty());
    assert_eq!(p.host.egress_interface, None);
}

#[test]
fn docker_ip_range_stays_clear_of_tayga_and_its_pool() {
    let p = plan_from_env(&[]);
    let nat64 = p.nat64.unwrap();
    let v4 = &p.network.subnets[0];
    let IpNet::V4(range) = v4.ip_range.unwrap() else {
        panic!("IPv4 range")
    };
    let IpNet::V4(subnet) = v4.cidr else {
        panic!("IPv4 subnet")
    };
    assert!(subnet.contains(&range));
    assert!(subnet.contains(&nat64.pool));
    assert!(!range.contains(&nat64.address_v4));
    assert!(!range.contains(&nat64.pool.network()) && !nat64.pool.contains(&range.network()));
    assert!(
        nat64.pool.contains(&nat64.address_v4),
        "tayga.conf allows ipv4-addr in the pool"
    );
    assert!(!range.contains(&v4.gateway.to_string().parse::<Ipv4Addr>().unwrap()));
}

/// (container, role, node id, addresses, pod CIDRs)
type NodeSummary<'a> = (&'a str, Role, u8, Vec<IpAddr>, Vec<IpNet>);

#[test]
fn default_ipv6_nodes() {
    let p = plan_from_env(&[]);
    let summary: Vec<NodeSummary> = p
        .nodes
        .iter()
        .map(|n| {
            (
                n.container.as_str(),
                n.role,
                n.node_id,
                n.addresses.clone(),
                n.pod_cidrs.clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "kube-master",
                Role::Master,
                1,
                vec![ip("fd00:20::2")],
                vec![net("fd00:40:0:0:1::/80")]
            ),
            (
                "kube-node-1",
                Role::Worker,
                2,
                vec![ip("fd00:20::3")],
                vec![net("fd00:40:0:0:2::/80")]
            ),
            (
                "kube-node-2",
                Role::Worker,
                3,
                vec![ip("fd00:20::4")],
                vec![net("fd00:40:0:0:3::/80")]
            ),
        ]
    );
    for node in &p.nodes {
        assert_eq!(
            node.resolver,
            std::net::IpAddr::V6(v6("fd00:20::100")),
            "{}",
            node.container
        );
        assert_eq!(node.docker_dns_at, None);
        assert!(node.drop_ipv4, "{}", node.container);
    }
}

#[test]
fn default_ipv6_node_routes() {
    let p = plan_from_env(&[]);
    let routes: Vec<Vec<String>> = p.nodes.iter().map(|n| route_strings(&n.routes)).collect();
    assert_eq!(
        routes,
        vec![
            vec![
                "fd00:10:64:ff9b::/96 via fd00:20::200",
                "fd00:40:0:0:2::/80 via fd00:20::3",
                "fd00:40:0:0:3::/80 via fd00:20::4",
            ],
            vec![
                "fd00:10:64:ff9b::/96 via fd00:20::200",
                "fd00:40:0:0:1::/80 via fd00:20::2",
                "fd00:40:0:0:3::/80 via fd00:20::4",
            ],
            vec![
                "fd00:10:64:ff9b::/96 via fd00:20::200",
                "fd00:40:0:0:1::/80 via fd00:20::2",
                "fd00:40:0:0:2::/80 via fd00:20::3",
            ],
        ]
    );
}

#[test]
fn a_single_node_cluster_only_routes_to_nat64() {
    let p = plan_from_env(&[("NUM_NODES", "0")]);
    assert_eq!(p.nodes.len(), 1);
    assert_eq!(p.nodes[0].container, "kube-master");
    assert_eq!(
        route_strings(&p.nodes[0].routes),
        ["fd00:10:64:ff9b::/96 via fd00:20::200"]
    );
}

#[test]
fn the_largest_cluster_keeps_addresses_unique_and_clear_of_bind9_and_tayga() {
    let p = plan_from_env(&[("NUM_NODES", "250")]);
    assert_eq!(p.nodes.len(), 251);
    let last = p.nodes.last().unwrap();
    assert_eq!(last.container, "kube-node-250");
    assert_eq!(last.node_id, 251);
    assert_eq!(last.addresses, vec![ip("fd00:20::fc")]);
    assert_eq!(last.pod_cidrs, vec![net("fd00:40:0:0:fb::/80")]);
    assert_eq!(last.routes.len(), 1 + 250);
    let mut seen: HashSet<IpAddr> = HashSet::new();
    seen.insert(ip("fd00:20::1"));
    seen.insert(ip("fd00:20::100"));
    seen.insert(ip("fd00:20::200"));
    for node in &p.nodes {
        for a in &node.addresses {
            assert!(seen.insert(*a), "{a} used twice");
        }
    }
    let pods: HashSet<IpNet> = p.nodes.iter().flat_map(|n| n.pod_cidrs.clone()).collect();
    assert_eq!(pods.len(), 251);
}

// ---------------------------------------------------------------- multiple clusters

#[test]
fn cluster_5_names_and_addresses() {
    let p = plan_from_env(&[("CLUSTER_ID", "5")]);
    assert_eq!(p.suffix, "-cluster-5");
    assert_eq!(p.network.name, "kubeadm-dind-net-cluster-5");
    assert_eq!(p.network.bridge, "br-dind5");
    assert_eq!(
        p.network.subnets,
        vec![
            SubnetPlan {
                cidr: net("172.23.0.0/16"),
                gateway: ip("172.23.0.1"),
                ip_range: Some(net("172.23.128.0/17")),
            },
            SubnetPlan {
                cidr: net("fd00:20:5::/64"),
                gateway: ip("fd00:20:5::1"),
                ip_range: None
            },
        ]
    );
    let dns64 = p.dns64.unwrap();
    assert_eq!(dns64.container, "bind9-cluster-5");
    assert_eq!(dns64.address, v6("fd00:20:5::100"));
    assert_eq!(
        route_strings(&dns64.routes),
        ["fd00:10:64:ff9b::/96 via fd00:20:5::200"]
    );
    let nat64 = p.nat64.unwrap();
    assert_eq!(nat64.container, "tayga-cluster-5");
    assert_eq!(nat64.address_v6, v6("fd00:20:5::200"));
    assert_eq!(nat64.address_v4, Ipv4Addr::new(172, 23, 0, 200));
    assert_eq!(nat64.pool.to_string(), "172.23.0.128/25");
    assert_eq!(
        route_strings(&p.host.routes),
        ["172.23.0.128/25 via 172.23.0.200"]
    );
    assert_eq!(p.host.rule_tag, "dind:cluster=5");
    let names: Vec<&str> = p.nodes.iter().map(|n| n.container.as_str()).collect();
    assert_eq!(
        names,
        [
            "kube-master-cluster-5",
            "kube-node-1-cluster-5",
            "kube-node-2-cluster-5"
        ]
    );
    let addrs: Vec<IpAddr> = p.nodes.iter().flat_map(|n| n.addresses.clone()).collect();
    assert_eq!(
        addrs,
        [ip("fd00:20:5::2"), ip("fd00:20:5::3"), ip("fd00:20:5::4")]
    );
    assert_eq!(
        p.nodes[0].resolver,
        std::net::IpAddr::V6(v6("fd00:20:5::100"))
    );
    // Pod CIDRs do not carry the cluster id (as in k-d-c): they live inside the nodes.
    assert_eq!(p.nodes[0].pod_cidrs, vec![net("fd00:40:0:0:1::/80")]);
}

#[test]
fn cluster_20_pastes_the_decimal_id_into_a_hex_hextet() {
    let p = plan_from_env(&[("CLUSTER_ID", "20"), ("NAT64_V4_SUBNET_PREFIX", "10.0")]);
    assert_eq!(p.network.name, "kubeadm-dind-net-cluster-20");
    assert_eq!(p.network.bridge, "br-dind20");
    assert_eq!(p.network.subnets[0].cidr, net("10.20.0.0/16"));
    assert_eq!(p.network.subnets[1].cidr, net("fd00:20:20::/64"));
    assert_eq!(p.dns64.unwrap().address, v6("fd00:20:20::100"));
    assert_eq!(p.nat64.unwrap().address_v4, Ipv4Addr::new(10, 20, 0, 200));
    assert_eq!(p.host.rule_tag, "dind:cluster=20");
}

#[test]
fn mgmt_v6_for_cluster_table() {
    // (base, id) -> k-d-c's `sed "s/^\(.*\)\(\:\:\/[0-9]*\)$/\1:${CLUSTER_ID}\2/"`
    let cases = [
        ("fd00:20::/64", 0, "fd00:20::/64"),
        ("fd00:20::/64", 1, "fd00:20:1::/64"),
        ("fd00:20::/64", 5, "fd00:20:5::/64"),
        ("fd00:20::/64", 20, "fd00:20:20::/64"),
        ("fd00:20::/64", 99, "fd00:20:99::/64"),
        ("fd00:20::/64", 100, "fd00:20:100::/64"),
        ("fd00:20::/64", 254, "fd00:20:254::/64"),
        ("fd00::/64", 7, "fd00:7::/64"),
        ("fd00:20::/48", 3, "fd00:20:3::/48"),
        ("fd00:20::/112", 3, "fd00:20:3::/112"),
    ];
    for (base, id, expected) in cases {
        let got = mgmt_v6_for_cluster(base.parse().unwrap(), id).expect("the id fits");
        assert_eq!(got.to_string(), expected, "{base} id {id}");
    }
}

#[test]
fn mgmt_v6_for_cluster_refuses_a_prefix_with_no_room_for_the_id() {
    // The id would land outside the /64 and every cluster would get the same subnet.
    let base: Ipv6Net = "fd00:1:2:3::/64".parse().unwrap();
    assert_eq!(mgmt_v6_for_cluster(base, 5), None);
    assert_eq!(mgmt_v6_for_cluster(base, 0), Some(base));
}

#[test]
fn mgmt_v4_for_cluster_replaces_the_third_octet() {
    let base: Ipv4Net = "10.192.0.0/24".parse().unwrap();
    assert_eq!(mgmt_v4_for_cluster(base, 0).to_string(), "10.192.0.0/24");
    assert_eq!(mgmt_v4_for_cluster(base, 5).to_string(), "10.192.5.0/24");
    assert_eq!(
        mgmt_v4_for_cluster(base, 254).to_string(),
        "10.192.254.0/24"
    );
}

#[test]
fn name_helpers() {
    assert_eq!(suffix(0), "");
    assert_eq!(suffix(12), "-cluster-12");
    assert_eq!(network_name(0), "kubeadm-dind-net");
    assert_eq!(network_name(3), "kubeadm-dind-net-cluster-3");
    assert_eq!(rule_tag(0), "dind:cluster=0");
    assert_eq!(rule_tag(10), "dind:cluster=10");
}

#[test]
fn nat64_subnet_adds_the_cluster_id_to_the_second_octet() {
    let cases = [
        (&[][..], "172.18.0.0/16"),
        (&[("CLUSTER_ID", "10")][..], "172.28.0.0/16"),
        (&[("CLUSTER_ID", "13")][..], "172.31.0.0/16"),
        (&[("NAT64_V4_SUBNET_PREFIX", "10.26")][..], "10.26.0.0/16"),
        (
            &[("NAT64_V4_SUBNET_PREFIX", "10.99"), ("CLUSTER_ID", "3")][..],
            "10.102.0.0/16",
        ),
    ];
    for (vars, expected) in cases {
        let config = config_from_env(vars);
        assert_eq!(
            nat64_v4_subnet(&config).unwrap().to_string(),
            expected,
            "{vars:?}"
        );
        assert_eq!(
            plan(&config).network.subnets[0].cidr,
            net(expected),
            "{vars:?}"
        );
    }
}

// ---------------------------------------------------------------- ipv4 and dual-stack

#[test]
fn ipv4_plan() {
    let p = plan_from_env(&[("IP_MODE", "ipv4")]);
    assert!(!p.network.ipv6);
    assert_eq!(
        p.network.subnets,
        vec![SubnetPlan {
            cidr: net("10.192.0.0/24"),
            gateway: ip("10.192.0.1"),
            ip_range: None
        }]
    );
    assert!(p.dns64.is_none());
    assert!(p.nat64.is_none());
    assert!(p.host.routes.is_empty());
    assert!(p.host.direct_ipv6_sources.is_empty());
    let addrs: Vec<IpAddr> = p.nodes.iter().flat_map(|n| n.addresses.clone()).collect();
    assert_eq!(
        addrs,
        [ip("10.192.0.2"), ip("10.192.0.3"), ip("10.192.0.4")]
    );
    let pods: Vec<IpNet> = p.nodes.iter().flat_map(|n| n.pod_cidrs.clone()).collect();
    assert_eq!(
        pods,
        [
            net("10.244.1.0/24"),
            net("10.244.2.0/24"),
            net("10.244.3.0/24")
        ]
    );
    assert_eq!(
        route_strings(&p.nodes[0].routes),
        [
            "10.244.2.0/24 via 10.192.0.3",
            "10.244.3.0/24 via 10.192.0.4"
        ]
    );
    for node in &p.nodes {
        // The gateway, which the node hands to Docker's embedded DNS.
        assert_eq!(node.resolver.to_string(), "10.192.0.1");
        assert_eq!(node.docker_dns_at, Some("10.192.0.1".parse().unwrap()));
        assert!(!node.drop_ipv4);
    }
}

#[test]
fn ipv4_plan_for_cluster_5() {
    let p = plan(&valid(Layer {
        ip_mode: flag("--ip-mode", "ipv4"),
        cluster_id: flag("--cluster-id", "5"),
        ..Layer::default()
    }));
    assert_eq!(p.network.name, "kubeadm-dind-net-cluster-5");
    assert_eq!(p.network.subnets[0].cidr, net("10.192.5.0/24"));
    assert_eq!(p.network.subnets[0].gateway, ip("10.192.5.1"));
    assert_eq!(p.nodes[1].addresses, vec![ip("10.192.5.3")]);
}

#[test]
fn dual_stack_plan() {
    let p = plan_from_env(&[("IP_MODE", "dual-stack")]);
    assert!(p.network.ipv6);
    assert_eq!(
        p.network.subnets,
        vec![
            SubnetPlan {
                cidr: net("10.192.0.0/24"),
                gateway: ip("10.192.0.1"),
                ip_range: None
            },
            SubnetPlan {
                cidr: net("fd00:20::/64"),
                gateway: ip("fd00:20::1"),
                ip_range: None
            },
        ]
    );
    assert!(p.dns64.is_none());
    assert!(p.nat64.is_none());
    assert!(p.host.routes.is_empty());
    // AAAA use is forced in dual-stack.
    assert_eq!(
        p.host.direct_ipv6_sources,
        vec![
            "fd00:20::/64".parse::<Ipv6Net>().unwrap(),
            "fd00:40::/72".parse().unwrap()
        ]
    );
    let master = &p.nodes[0];
    assert_eq!(master.addresses, vec![ip("10.192.0.2"), ip("fd00:20::2")]);
    assert_eq!(
        master.pod_cidrs,
        vec![net("10.244.1.0/24"), net("fd00:40:0:0:1::/80")]
    );
    assert_eq!(
        route_strings(&master.routes),
        [
            "10.244.2.0/24 via 10.192.0.3",
            "fd00:40:0:0:2::/80 via fd00:20::3",
            "10.244.3.0/24 via 10.192.0.4",
            "fd00:40:0:0:3::/80 via fd00:20::4",
        ]
    );
    assert_eq!(master.resolver.to_string(), "10.192.0.1");
    assert!(!master.drop_ipv4);
}

#[test]
fn dual_stack_cluster_id_goes_into_both_families() {
    // k-d-c never changed the IPv4 mgmt CIDR in dual-stack (bug 19); dind does.
    let p = plan_from_env(&[("IP_MODE", "dual-stack"), ("CLUSTER_ID", "4")]);
    assert_eq!(p.network.subnets[0].cidr, net("10.192.4.0/24"));
    assert_eq!(p.network.subnets[1].cidr, net("fd00:20:4::/64"));
    assert_eq!(p.network.bridge, "br-dind4");
}

// ---------------------------------------------------------------- allow-aaaa

#[test]
fn allow_aaaa_sources_are_mgmt_and_pods_v6() {
    let p = plan_from_env(&[
        ("DIND_ALLOW_AAAA_USE", "true"),
        ("DIND_EGRESS_INTERFACE", "eth0"),
    ]);
    assert_eq!(
        p.host.direct_ipv6_sources,
        vec![
            "fd00:20::/64".parse::<Ipv6Net>().unwrap(),
            "fd00:40::/72".parse().unwrap()
        ]
    );
    assert_eq!(p.host.egress_interface.as_deref(), Some("eth0"));
    assert!(p.dns64.unwrap().allow_aaaa);

    let p5 = plan_from_env(&[("DIND_ALLOW_AAAA_USE", "true"), ("CLUSTER_ID", "5")]);
    assert_eq!(
        p5.host.direct_ipv6_sources,
        vec![
            "fd00:20:5::/64".parse::<Ipv6Net>().unwrap(),
            "fd00:40::/72".parse().unwrap()
        ]
    );
    assert_eq!(p5.host.egress_interface, None);
}

#[test]
fn without_allow_aaaa_there_are_no_direct_sources() {
    let p = plan_from_env(&[("DIND_EGRESS_INTERFACE", "eth0")]);
    assert!(p.host.direct_ipv6_sources.is_empty());
    assert_eq!(p.host.egress_interface.as_deref(), Some("eth0"));
    assert!(!p.dns64.unwrap().allow_aaaa);
}

// ---------------------------------------------------------------- RFC 6052 and pod CIDRs

/// `v4` embedded in the DNS64 prefix `prefix`, as the plan embeds the upstream resolver.
fn embed_ipv4(prefix: &str, v4: Ipv4Addr) -> Ipv6Addr {
    crate::config::rfc6052::parse(prefix).unwrap().embed(v4)
}

#[test]
fn embed_ipv4_matches_rfc6052_table() {
    // RFC 6052 §2.4, 192.0.2.33 under each prefix length.
    let v4 = Ipv4Addr::new(192, 0, 2, 33);
    let cases = [
        ("2001:db8::/32", "2001:db8:c000:221::"),
        ("2001:db8:100::/40", "2001:db8:1c0:2:21::"),
        ("2001:db8:122::/48", "2001:db8:122:c000:2:2100::"),
        ("2001:db8:122:300::/56", "2001:db8:122:3c0:0:221::"),
        ("2001:db8:122:344::/64", "2001:db8:122:344:c0:2:2100:0"),
        ("2001:db8:122:344::/96", "2001:db8:122:344::192.0.2.33"),
    ];
    for (prefix, expected) in cases {
        let got = embed_ipv4(prefix, v4);
        assert_eq!(got, v6(expected), "{prefix}");
    }
}

#[test]
fn embed_ipv4_for_the_forwarder() {
    let cases = [
        (
            "fd00:10:64:ff9b::/96",
            Ipv4Addr::new(8, 8, 8, 8),
            "fd00:10:64:ff9b::808:808",
        ),
        (
            "64:ff9b::/96",
            Ipv4Addr::new(1, 1, 1, 1),
            "64:ff9b::101:101",
        ),
        (
            "2001:db8:100:200::/64",
            Ipv4Addr::new(1, 1, 1, 1),
            "2001:db8:100:200:1:101:100:0",
        ),
    ];
    for (prefix, v4, expected) in cases {
        assert_eq!(embed_ipv4(prefix, v4), v6(expected), "{prefix}");
    }
    let p = plan_from_env(&[
        ("DNS64_PREFIX", "2001:db8:122::"),
        ("DNS64_PREFIX_SIZE", "48"),
        ("REMOTE_DNS64_V4SERVER", "192.0.2.33"),
    ]);
    assert_eq!(
        p.dns64.unwrap().forwarder,
        std::net::IpAddr::V6(v6("2001:db8:122:c000:2:2100::"))
    );
}

#[test]
fn pod_cidr_for_node_table() {
    let cases = [
        ("fd00:40::/72", 1, "fd00:40:0:0:1::/80"),
        ("fd00:40::/72", 2, "fd00:40:0:0:2::/80"),
        ("fd00:40::/72", 255, "fd00:40:0:0:ff::/80"),
        ("fd00:10:20:30::/64", 1, "fd00:10:20:30:100::/72"),
        ("fd00:10:20:30::/64", 2, "fd00:10:20:30:200::/72"),
        ("fd00:10:20:30:4000::/72", 1, "fd00:10:20:30:4001::/80"),
        ("fd00:40::/48", 3, "fd00:40:0:300::/56"),
        ("fd00:40::/104", 1, "fd00:40::1:0/112"),
        ("10.244.0.0/16", 1, "10.244.1.0/24"),
        ("10.244.0.0/16", 251, "10.244.251.0/24"),
        ("192.168.0.0/16", 2, "192.168.2.0/24"),
    ];
    for (pods, node_id, expected) in cases {
        assert_eq!(
            pod_cidr_for_node(net(pods), node_id),
            net(expected),
            "{pods} node {node_id}"
        );
    }
}

#[test]
fn custom_pod_cidr_flows_into_node_plans() {
    let p = plan_from_env(&[("POD_NETWORK_CIDR", "fd00:10:20:30::/64")]);
    let pods: Vec<IpNet> = p.nodes.iter().flat_map(|n| n.pod_cidrs.clone()).collect();
    assert_eq!(
        pods,
        [
            net("fd00:10:20:30:100::/72"),
            net("fd00:10:20:30:200::/72"),
            net("fd00:10:20:30:300::/72"),
        ]
    );
}

#[test]
fn route_display() {
    let via = Route {
        dst: net("fd00:40::/72"),
        via: Some(ip("fd00:20::2")),
        dev: None,
    };
    let dev = Route {
        dst: net("172.18.0.128/25"),
        via: None,
        dev: Some("nat64".into()),
    };
    let both = Route {
        dst: net("::/0"),
        via: Some(ip("fe80::1")),
        dev: Some("eth0".into()),
    };
    assert_eq!(via.to_string(), "fd00:40::/72 via fd00:20::2");
    assert_eq!(dev.to_string(), "172.18.0.128/25 dev nat64");
    assert_eq!(both.to_string(), "::/0 via fe80::1 dev eth0");
}
