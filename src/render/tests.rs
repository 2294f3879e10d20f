//! Renderers: golden files for named.conf, tayga.conf, the CNI conflist, a routes file and the
//! host rules.

use crate::plan::{plan, ClusterPlan, HostPlan, NodePlan};
use crate::render::host_rules::{direct_ipv6_rules, DaemonRules, Ip6Rule};
use crate::render::node_files::{
    dns64_files, masquerade_file, nat64_files, node_files, resolv_conf, routes_file,
    DOCKER_DNS_PATH, DROP_IPV4_PATH, MASQUERADE_PATH, RESOLV_PATH, ROUTES_PATH,
};
use crate::render::{cni, named::named_conf, tayga::tayga_conf, FileSpec};
use crate::test_support::{assert_golden, config_from_env};
use ipnet::Ipv6Net;
use serde_json::{json, Value};

fn plan_from_env(vars: &[(&str, &str)]) -> ClusterPlan {
    plan(&config_from_env(vars))
}

fn node<'a>(p: &'a ClusterPlan, name: &str) -> &'a NodePlan {
    p.nodes
        .iter()
        .find(|n| n.container == name)
        .unwrap_or_else(|| panic!("no node {name}"))
}

fn v6net(s: &str) -> Ipv6Net {
    s.parse().unwrap()
}

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

// ---------------------------------------------------------------- named.conf

#[test]
fn golden_named_conf_default() {
    let p = plan_from_env(&[]);
    assert_golden("named-default.conf", &named_conf(p.dns64.as_ref().unwrap()));
}

#[test]
fn bind9_follows_the_docker_host_unless_an_upstream_is_given() {
    let default = plan_from_env(&[]);
    let dns64 = default.dns64.as_ref().unwrap();
    assert_eq!(dns64.forwarder.to_string(), "127.0.0.11");
    // It keeps its IPv4 address: Docker's embedded DNS forwards over IPv4.
    assert_eq!(
        paths(&dns64_files(dns64)),
        ["/etc/bind/named.conf", ROUTES_PATH]
    );
    // Given: k-d-c's way, through NAT64, on IPv6 alone.
    let given = plan_from_env(&[("REMOTE_DNS64_V4SERVER", "8.8.8.8")]);
    let dns64 = given.dns64.as_ref().unwrap();
    assert_eq!(dns64.forwarder.to_string(), "fd00:10:64:ff9b::808:808");
    assert_eq!(
        paths(&dns64_files(dns64)),
        ["/etc/bind/named.conf", ROUTES_PATH, DROP_IPV4_PATH]
    );
}

#[test]
fn golden_named_conf_allow_aaaa() {
    let p = plan_from_env(&[("DIND_ALLOW_AAAA_USE", "true")]);
    assert_golden(
        "named-allow-aaaa.conf",
        &named_conf(p.dns64.as_ref().unwrap()),
    );
}

#[test]
fn named_conf_excludes_every_aaaa_only_without_allow_aaaa() {
    let without = named_conf(plan_from_env(&[]).dns64.as_ref().unwrap());
    let with = named_conf(
        plan_from_env(&[("DIND_ALLOW_AAAA_USE", "1")])
            .dns64
            .as_ref()
            .unwrap(),
    );
    assert!(
        without.contains("    dns64 fd00:10:64:ff9b::/96 {\n        exclude { any; };\n    };\n")
    );
    assert!(!with.contains("exclude"), "{with}");
    assert!(
        with.contains("    dns64 fd00:10:64:ff9b::/96 { };\n"),
        "{with}"
    );
    for conf in [&without, &with] {
        // No --upstream-dns: Docker's embedded DNS in bind9's own namespace.
        assert!(conf.contains("    forwarders { 127.0.0.11; };\n"), "{conf}");
        assert!(conf.contains("    forward only;\n"), "{conf}");
        assert!(conf.contains("    listen-on-v6 { any; };\n"), "{conf}");
        assert_eq!(
            conf.matches('{').count(),
            conf.matches('}').count(),
            "{conf}"
        );
    }
}

#[test]
fn named_conf_follows_the_prefix_and_upstream() {
    let p = plan_from_env(&[
        ("DNS64_PREFIX", "2001:db8:100:200::"),
        ("DNS64_PREFIX_SIZE", "64"),
        ("REMOTE_DNS64_V4SERVER", "1.1.1.1"),
    ]);
    let conf = named_conf(p.dns64.as_ref().unwrap());
    assert!(
        conf.contains("    forwarders { 2001:db8:100:200:1:101:100:0; };\n"),
        "{conf}"
    );
    assert!(
        conf.contains("    dns64 2001:db8:100:200::/64 {\n"),
        "{conf}"
    );
}

// ---------------------------------------------------------------- tayga.conf

#[test]
fn golden_tayga_conf_default() {
    let p = plan_from_env(&[]);
    assert_golden("tayga-default.conf", &tayga_conf(p.nat64.as_ref().unwrap()));
}

#[test]
fn golden_tayga_conf_cluster_5() {
    let p = plan_from_env(&[("CLUSTER_ID", "5")]);
    assert_golden(
        "tayga-cluster-5.conf",
        &tayga_conf(p.nat64.as_ref().unwrap()),
    );
}

#[test]
fn tayga_conf_has_one_of_each_directive() {
    let conf = tayga_conf(
        plan_from_env(&[("CLUSTER_ID", "5")])
            .nat64
            .as_ref()
            .unwrap(),
    );
    let directives: Vec<&str> = conf
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        directives,
        [
            "tun-device",
            "ipv4-addr",
            "prefix",
            "dynamic-pool",
            "data-dir"
        ]
    );
    assert!(conf.contains("\nipv4-addr 172.23.0.200\n"), "{conf}");
    assert!(conf.contains("\ndynamic-pool 172.23.0.128/25\n"), "{conf}");
}

// ---------------------------------------------------------------- CNI

#[test]
fn golden_cni_ipv6_master_and_worker() {
    let p = plan_from_env(&[]);
    assert_golden(
        "cni-ipv6-kube-master.conflist",
        &cni::conflist(node(&p, "kube-master")),
    );
    assert_golden(
        "cni-ipv6-kube-node-1.conflist",
        &cni::conflist(node(&p, "kube-node-1")),
    );
}

#[test]
fn golden_cni_dual_stack_master_and_worker() {
    let p = plan_from_env(&[("IP_MODE", "dual-stack")]);
    assert_golden(
        "cni-dual-stack-kube-master.conflist",
        &cni::conflist(node(&p, "kube-master")),
    );
    assert_golden(
        "cni-dual-stack-kube-node-1.conflist",
        &cni::conflist(node(&p, "kube-node-1")),
    );
}

#[test]
fn cni_conflist_fields() {
    let p = plan_from_env(&[("IP_MODE", "dual-stack")]);
    let text = cni::conflist(node(&p, "kube-node-2"));
    assert!(text.ends_with("}\n"));
    let value: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(value["cniVersion"], "0.4.0");
    assert_eq!(value["name"], "dindnet");
    let plugins = value["plugins"].as_array().unwrap();
    assert_eq!(plugins.len(), 2);
    let bridge = &plugins[0];
    assert_eq!(bridge["type"], "bridge");
    assert_eq!(bridge["bridge"], cni::BRIDGE);
    assert_eq!(cni::BRIDGE, "dind0");
    for key in ["isGateway", "isDefaultGateway", "hairpinMode"] {
        assert_eq!(bridge[key], true, "{key}");
    }
    // The node masquerades (node_files), sparing pod-to-pod traffic; the plugin would not.
    assert_eq!(bridge["ipMasq"], false);
    // No ipam routes: isDefaultGateway adds the default routes, and ipam routes for the same
    // destinations make the bridge plugin fail with "file exists".
    assert_eq!(
        bridge["ipam"],
        json!({
            "type": "host-local",
            "ranges": [[{ "subnet": "10.244.3.0/24" }], [{ "subnet": "fd00:40:0:0:3::/80" }]]
        })
    );
    assert_eq!(
        plugins[1],
        json!({ "type": "portmap", "capabilities": { "portMappings": true } })
    );
    assert_eq!(cni::CONFLIST_PATH, "/etc/cni/net.d/10-dindnet.conflist");
}

#[test]
fn cni_conflist_ipv4_has_only_ipv4() {
    let p = plan_from_env(&[("IP_MODE", "ipv4")]);
    let value: Value = serde_json::from_str(&cni::conflist(node(&p, "kube-master"))).unwrap();
    assert_eq!(
        value["plugins"][0]["ipam"],
        json!({ "type": "host-local", "ranges": [[{ "subnet": "10.244.1.0/24" }]] })
    );
}

// ---------------------------------------------------------------- node and support files

#[test]
fn golden_routes_file_of_a_worker() {
    let p = plan_from_env(&[]);
    let file = routes_file(&node(&p, "kube-node-1").routes);
    assert_eq!(file.path, ROUTES_PATH);
    assert_eq!(file.mode, 0o644);
    assert_golden("routes-ipv6-kube-node-1", &file.contents);
}

#[test]
fn routes_file_lines() {
    let p = plan_from_env(&[]);
    let file = routes_file(&node(&p, "kube-master").routes);
    assert_eq!(
        file.contents,
        "# ip route replace <line>, applied at every start\n\
         fd00:10:64:ff9b::/96 via fd00:20::200\n\
         fd00:40:0:0:2::/80 via fd00:20::3\n\
         fd00:40:0:0:3::/80 via fd00:20::4\n"
    );
    assert_eq!(
        routes_file(&[]).contents,
        "# ip route replace <line>, applied at every start\n"
    );
}

#[test]
fn resolv_conf_points_at_bind9_or_at_the_docker_dns_the_node_forwards() {
    let p = plan_from_env(&[("CLUSTER_ID", "5")]);
    assert_eq!(
        resolv_conf(node(&p, "kube-master-cluster-5")),
        "# Written by dind: the cluster's DNS64 server.\nnameserver fd00:20:5::100\n\
         options timeout:2 attempts:3\n"
    );
    let p4 = plan_from_env(&[("IP_MODE", "ipv4"), ("CLUSTER_ID", "5")]);
    assert_eq!(
        resolv_conf(node(&p4, "kube-master-cluster-5")),
        "# Written by dind: Docker's embedded DNS, which the node forwards this address to.\n\
         nameserver 10.192.5.1\noptions timeout:2 attempts:3\n"
    );
}

fn paths(files: &[FileSpec]) -> Vec<&str> {
    files.iter().map(|f| f.path.as_str()).collect()
}

#[test]
fn node_files_per_mode() {
    let p6 = plan_from_env(&[]);
    let files = node_files(node(&p6, "kube-node-1"));
    assert_eq!(
        paths(&files),
        [
            ROUTES_PATH,
            MASQUERADE_PATH,
            cni::CONFLIST_PATH,
            RESOLV_PATH,
            DROP_IPV4_PATH
        ]
    );
    assert!(files.iter().all(|f| f.mode == 0o644));
    assert_eq!(files[3].contents, resolv_conf(node(&p6, "kube-node-1")));
    assert_eq!(files[4].contents, "");
    assert_eq!(files[2].contents, cni::conflist(node(&p6, "kube-node-1")));

    // Outside ipv6 mode the node (and its pods) resolve through Docker's embedded DNS at the
    // gateway, which Docker's own 127.0.0.11 would not give a pod.
    let cases = [
        (
            &[("IP_MODE", "ipv4")][..],
            "kube-node-1",
            "the Docker host's resolvers",
        ),
        (
            &[
                ("IP_MODE", "dual-stack"),
                ("REMOTE_DNS64_V4SERVER", "9.9.9.9"),
            ][..],
            "kube-master",
            "--upstream-dns 9.9.9.9",
        ),
    ];
    for (vars, name, upstream) in cases {
        let p = plan_from_env(vars);
        let files = node_files(node(&p, name));
        assert_eq!(
            paths(&files),
            [
                ROUTES_PATH,
                MASQUERADE_PATH,
                cni::CONFLIST_PATH,
                RESOLV_PATH,
                DOCKER_DNS_PATH
            ],
            "{vars:?}"
        );
        assert_eq!(
            files[4].contents,
            format!(
                "# DNS to this address goes to Docker's embedded DNS ({upstream})\n10.192.0.1\n"
            )
        );
    }
}

#[test]
fn nodes_masquerade_all_but_pod_to_pod_traffic() {
    let p6 = plan_from_env(&[]);
    assert_eq!(
        masquerade_file(&node(&p6, "kube-node-1").masquerade).contents,
        "# <pod CIDR> <destination kept>...: masquerade the rest (chain DIND-MASQ), applied at every start\n\
         fd00:40:0:0:2::/80 fd00:40::/72\n"
    );
    // Each family keeps its own pod CIDRs.
    let pd = plan_from_env(&[("IP_MODE", "dual-stack")]);
    assert_eq!(
        masquerade_file(&node(&pd, "kube-master").masquerade).contents,
        "# <pod CIDR> <destination kept>...: masquerade the rest (chain DIND-MASQ), applied at every start\n\
         10.244.1.0/24 10.244.0.0/16\n\
         fd00:40:0:0:1::/80 fd00:40::/72\n"
    );
}

#[test]
fn support_container_files() {
    let p = plan_from_env(&[("REMOTE_DNS64_V4SERVER", "8.8.8.8")]);
    let dns64 = p.dns64.as_ref().unwrap();
    let files = dns64_files(dns64);
    assert_eq!(
        paths(&files),
        ["/etc/bind/named.conf", ROUTES_PATH, DROP_IPV4_PATH]
    );
    assert_eq!(files[0].contents, named_conf(dns64));
    assert_eq!(
        files[1].contents,
        "# ip route replace <line>, applied at every start\nfd00:10:64:ff9b::/96 via fd00:20::200\n"
    );

    let nat64 = p.nat64.as_ref().unwrap();
    let files = nat64_files(nat64);
    assert_eq!(paths(&files), ["/etc/tayga.conf", ROUTES_PATH]);
    assert_eq!(files[0].contents, tayga_conf(nat64));
    assert_eq!(
        files[1].contents,
        "# ip route replace <line>, applied at every start\n172.18.0.128/25 dev nat64\n\
         fd00:10:64:ff9b::/96 dev nat64\n"
    );
}

// ---------------------------------------------------------------- host rules

fn allow_aaaa_plan() -> ClusterPlan {
    plan_from_env(&[
        ("DIND_ALLOW_AAAA_USE", "true"),
        ("DIND_EGRESS_INTERFACE", "eth0"),
    ])
}

#[test]
fn golden_host_rules_allow_aaaa_eth0() {
    let p = allow_aaaa_plan();
    let rules = direct_ipv6_rules(&p.host, &p.network.bridge, &DaemonRules::default());
    let mut text = String::from(
        "# direct_ipv6_rules: --allow-aaaa, egress eth0, bridge br-dind0, cluster 0\n# display()\n",
    );
    for rule in &rules {
        text.push_str(&rule.display());
        text.push('\n');
    }
    text.push_str("# add_args(), one argument per word\n");
    for rule in &rules {
        let args = rule.add_args();
        assert!(
            args.iter()
                .all(|a| !a.is_empty() && !a.contains(char::is_whitespace)),
            "{args:?}"
        );
        text.push_str(&args.join(" "));
        text.push('\n');
    }
    assert_golden("host-rules-allow-aaaa-eth0.txt", &text);
}

#[test]
fn direct_rules_per_source() {
    let p = allow_aaaa_plan();
    let rules = direct_ipv6_rules(&p.host, "br-dind0", &DaemonRules::default());
    let tag = "dind:cluster=0";
    let mut expected = Vec::new();
    for src in ["fd00:20::/64", "fd00:40::/72"] {
        expected.push(Ip6Rule {
            table: "filter".into(),
            chain: "FORWARD".into(),
            spec: strings(&[
                "-s",
                src,
                "-i",
                "br-dind0",
                "-o",
                "eth0",
                "-m",
                "comment",
                "--comment",
                tag,
                "-j",
                "ACCEPT",
            ]),
        });
        expected.push(Ip6Rule {
            table: "filter".into(),
            chain: "FORWARD".into(),
            spec: strings(&[
                "-d",
                src,
                "-i",
                "eth0",
                "-o",
                "br-dind0",
                "-m",
                "conntrack",
                "--ctstate",
                "RELATED,ESTABLISHED",
                "-m",
                "comment",
                "--comment",
                tag,
                "-j",
                "ACCEPT",
            ]),
        });
        expected.push(Ip6Rule {
            table: "nat".into(),
            chain: "POSTROUTING".into(),
            spec: strings(&[
                "-s",
                src,
                "-o",
                "eth0",
                "-m",
                "comment",
                "--comment",
                tag,
                "-j",
                "MASQUERADE",
            ]),
        });
    }
    pretty_assertions::assert_eq!(rules, expected);
}

fn masqueraded(subnet: &str) -> DaemonRules {
    DaemonRules {
        masqueraded: vec![v6net(subnet)],
        forwards: false,
    }
}

#[test]
fn direct_rules_skip_nat_for_daemon_masqueraded_sources() {
    let p = allow_aaaa_plan();
    let rules = direct_ipv6_rules(&p.host, "br-dind0", &masqueraded("fd00:20::/64"));
    let nat_sources: Vec<&str> = rules
        .iter()
        .filter(|r| r.table == "nat")
        .map(|r| r.spec[1].as_str())
        .collect();
    assert_eq!(nat_sources, ["fd00:40::/72"]);
    assert_eq!(rules.iter().filter(|r| r.table == "filter").count(), 4);
    // An unrelated daemon-NATed network changes nothing.
    let rules = direct_ipv6_rules(&p.host, "br-dind0", &masqueraded("fd00:99::/64"));
    assert_eq!(rules.len(), 6);
}

/// Docker 28 and later: the daemon masquerades the management subnet and accepts the
/// bridge's traffic both ways, so dind adds only the NAT of the pod CIDR.
#[test]
fn direct_rules_leave_out_what_docker_28_provides() {
    let p = allow_aaaa_plan();
    let daemon = DaemonRules {
        masqueraded: vec![v6net("fd00:20::/64")],
        forwards: true,
    };
    let rules = direct_ipv6_rules(&p.host, "br-dind0", &daemon);
    let shown: Vec<String> = rules.iter().map(Ip6Rule::display).collect();
    assert_eq!(
        shown,
        ["-t nat -A POSTROUTING -s fd00:40::/72 -o eth0 -m comment --comment 'dind:cluster=0' -j MASQUERADE"]
    );
    // Forwarding accepted but nothing masqueraded: every NAT rule, no FORWARD rule.
    let forwards_only = DaemonRules {
        masqueraded: vec![],
        forwards: true,
    };
    let rules = direct_ipv6_rules(&p.host, "br-dind0", &forwards_only);
    assert!(rules.iter().all(|r| r.table == "nat"), "{rules:?}");
    assert_eq!(rules.len(), 2);
}

#[test]
fn direct_rules_need_an_egress_interface_and_sources() {
    let no_egress = plan_from_env(&[("DIND_ALLOW_AAAA_USE", "true")]);
    assert_eq!(no_egress.host.egress_interface, None);
    assert_eq!(
        direct_ipv6_rules(&no_egress.host, "br-dind0", &DaemonRules::default()),
        vec![]
    );

    let no_aaaa = plan_from_env(&[("DIND_EGRESS_INTERFACE", "eth0")]);
    assert_eq!(
        direct_ipv6_rules(&no_aaaa.host, "br-dind0", &DaemonRules::default()),
        vec![]
    );
}

#[test]
fn direct_rules_carry_the_cluster_tag_and_bridge() {
    let p = plan_from_env(&[
        ("DIND_ALLOW_AAAA_USE", "true"),
        ("DIND_EGRESS_INTERFACE", "wlan0"),
        ("CLUSTER_ID", "10"),
    ]);
    let rules = direct_ipv6_rules(&p.host, &p.network.bridge, &DaemonRules::default());
    assert_eq!(rules.len(), 6);
    assert_eq!(rules[0].spec[1], "fd00:20:10::/64");
    for rule in &rules {
        let words: Vec<&str> = rule.spec.iter().map(String::as_str).collect();
        assert!(
            words
                .windows(2)
                .any(|w| w == ["--comment", "dind:cluster=10"]),
            "{words:?}"
        );
        assert!(words.contains(&"wlan0"), "{words:?}");
        if rule.table == "filter" {
            assert!(words.contains(&"br-dind10"), "{words:?}");
        }
    }
}

#[test]
fn rule_argument_vectors() {
    let host = HostPlan {
        routes: vec![],
        direct_ipv6_sources: vec![v6net("fd00:20::/64")],
        egress_interface: Some("eth0".into()),
        rule_tag: "dind:cluster=0".into(),
    };
    let rules = direct_ipv6_rules(&host, "br-dind0", &DaemonRules::default());
    let forward = &rules[0];
    let nat = &rules[2];
    let tail = "-s fd00:20::/64 -i br-dind0 -o eth0 -m comment --comment dind:cluster=0 -j ACCEPT";
    assert_eq!(
        forward.check_args().join(" "),
        format!("-w -t filter -C FORWARD {tail}")
    );
    assert_eq!(
        forward.add_args().join(" "),
        format!("-w -t filter -I FORWARD {tail}")
    );
    assert_eq!(
        forward.delete_args().join(" "),
        format!("-w -t filter -D FORWARD {tail}")
    );
    let tail = "-s fd00:20::/64 -o eth0 -m comment --comment dind:cluster=0 -j MASQUERADE";
    assert_eq!(
        nat.check_args().join(" "),
        format!("-w -t nat -C POSTROUTING {tail}")
    );
    assert_eq!(
        nat.add_args().join(" "),
        format!("-w -t nat -A POSTROUTING {tail}")
    );
    assert_eq!(
        nat.delete_args().join(" "),
        format!("-w -t nat -D POSTROUTING {tail}")
    );
}
