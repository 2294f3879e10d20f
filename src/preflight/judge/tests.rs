use super::*;
use crate::config::Layer;
use crate::engine::info::DaemonInfo;
use crate::preflight::routes::parse_routes;
use crate::test_support::{flag, valid};
use Level::{Fail, Pass, Warn};

/// The judgement of `facts` for `config` and its plan.
fn judged(config: &Config, facts: &HostFacts) -> Vec<Finding> {
    judge(config, &crate::plan::plan(config), facts)
}

/// `up`'s verdict on `facts` for `config` and its plan.
fn verdict(config: &Config, facts: &HostFacts) -> Result<Vec<Finding>, crate::preflight::Refused> {
    crate::preflight::up_verdict(config, &crate::plan::plan(config), facts)
}

/// A config from `(setting, value)` pairs, as flags.
pub(crate) fn config(settings: &[(&str, &str)]) -> Config {
    let mut layer = Layer::default();
    for (key, value) in settings {
        let v = flag("--test", value);
        match *key {
            "cluster-id" => layer.cluster_id = v,
            "ip-mode" => layer.ip_mode = v,
            "allow-aaaa" => layer.allow_aaaa = v,
            "egress-interface" => layer.egress_interface = v,
            "nat64-v4-prefix" => layer.nat64_v4_prefix = v,
            "kubernetes" => layer.kubernetes = v,
            other => panic!("no test setting {other}"),
        }
    }
    valid(layer)
}

pub(crate) fn facts(host: HostNetFacts) -> HostFacts {
    HostFacts {
        daemon_version: "20.10.24".into(),
        api_version: "1.41".into(),
        daemon: DaemonInfo {
            cgroup_version: Some(2),
            ..DaemonInfo::default()
        },
        networks: vec![DockerNetwork {
            name: "bridge".into(),
            cluster: None,
            subnets: vec!["172.17.0.0/16".parse().unwrap()],
        }],
        tun: Some(Ok(true)),
        host: Ok(host),
    }
}

pub(crate) fn host() -> HostNetFacts {
    HostNetFacts {
        routes_v4: parse_routes(
            "default via 192.0.2.1 dev eth0\n\
             172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1 linkdown\n\
             192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.2\n",
        ),
        routes_v6: parse_routes(
            "fd00::/64 dev eth0 proto kernel metric 256 pref medium\n\
             fe80::/64 dev eth0 proto kernel metric 256 pref medium\n\
             default via fd00::1 dev eth0 metric 1024 pref medium\n",
        ),
        ipv6_forwarding: true,
        ..HostNetFacts::default()
    }
}

fn egress(name: &str) -> Option<Egress> {
    Some(Egress {
        name: Some(name.into()),
        exists: true,
        accept_ra: Some(0),
    })
}

fn find(findings: &[Finding], check: Check) -> Option<&Finding> {
    findings.iter().find(|f| f.check == check)
}

/// (what the case is, config settings, facts, expected levels by check; None: absent).
pub(crate) type Case = (
    &'static str,
    Vec<(&'static str, &'static str)>,
    HostFacts,
    Vec<(Check, Option<Level>)>,
);

pub(crate) fn cases() -> Vec<Case> {
    use Check::*;
    let mut foreign = facts(host());
    foreign.networks.push(DockerNetwork {
        name: "other".into(),
        cluster: None,
        subnets: vec!["fd00:20:51::/64".parse().unwrap()],
    });
    let mut own = facts(host());
    own.networks.push(DockerNetwork {
        name: "kubeadm-dind-net-cluster-51".into(),
        cluster: Some("51".into()),
        subnets: vec![
            "10.151.0.0/16".parse().unwrap(),
            "fd00:20:51::/64".parse().unwrap(),
        ],
    });
    own.host.as_mut().unwrap().routes_v4.extend(parse_routes(
        "10.151.0.128/25 via 10.151.0.200 dev br-dind51\n",
    ));
    let mut impostor = facts(host());
    impostor.networks.push(DockerNetwork {
        name: "kubeadm-dind-net-cluster-51".into(),
        cluster: None,
        subnets: vec!["fd00:20:51::/64".parse().unwrap()],
    });
    let mut impostor_elsewhere = facts(host());
    impostor_elsewhere.networks.push(DockerNetwork {
        name: "kubeadm-dind-net-cluster-51".into(),
        cluster: None,
        subnets: vec!["fd00:99::/64".parse().unwrap()],
    });
    let allow = vec![("allow-aaaa", "true"), ("egress-interface", "eth0")];
    let ra_route =
        || parse_routes("default via fe80::1 dev eth0 proto ra metric 1024 expires 1790sec\n");
    let ra1 = || {
        Some(Egress {
            accept_ra: Some(1),
            ..egress("eth0").unwrap()
        })
    };
    vec![
        (
            "a clean host",
            vec![],
            facts(host()),
            vec![
                (Daemon, Some(Pass)),
                (Ipv6, Some(Pass)),
                (IptablesBackend, Some(Pass)),
                (DaemonIpv6Nat, Some(Pass)),
                (Tun, Some(Pass)),
                (Cgroup, Some(Pass)),
                (NetworkName, Some(Pass)),
                (SubnetOverlap, Some(Pass)),
                (EgressInterface, None),
                (HostHelper, None),
            ],
        ),
        (
            "IPv6 disabled",
            vec![],
            facts(HostNetFacts {
                ipv6_disabled: Some(true),
                ..host()
            }),
            vec![(Ipv6, Some(Fail))],
        ),
        (
            "IPv6 disabled does not matter in ipv4 mode",
            vec![("ip-mode", "ipv4")],
            HostFacts {
                tun: None,
                ..facts(HostNetFacts {
                    ipv6_disabled: Some(true),
                    ..host()
                })
            },
            vec![(Ipv6, Some(Pass)), (Tun, None)],
        ),
        (
            "no IPv6 in the kernel",
            vec![],
            facts(HostNetFacts {
                ipv6_disabled: None,
                ..host()
            }),
            vec![(Ipv6, Some(Fail))],
        ),
        (
            "no tun",
            vec![],
            HostFacts {
                tun: Some(Ok(false)),
                ..facts(host())
            },
            vec![(Tun, Some(Fail))],
        ),
        (
            "the tun probe cannot run",
            vec![],
            HostFacts {
                tun: Some(Err("no image".into())),
                ..facts(host())
            },
            vec![(Tun, Some(Fail))],
        ),
        (
            "cgroup v1 with Kubernetes: nodes run there too",
            vec![],
            HostFacts {
                daemon: DaemonInfo {
                    cgroup_version: Some(1),
                    ..DaemonInfo::default()
                },
                ..facts(host())
            },
            vec![(Cgroup, Some(Pass)), (NodePrivilege, Some(Pass))],
        ),
        (
            "cgroup v1 does not matter without Kubernetes",
            vec![("kubernetes", "false")],
            HostFacts {
                daemon: DaemonInfo {
                    cgroup_version: Some(1),
                    ..DaemonInfo::default()
                },
                ..facts(host())
            },
            vec![(Cgroup, None), (NodePrivilege, None)],
        ),
        (
            "a daemon that does not say its cgroup version",
            vec![],
            HostFacts {
                daemon: DaemonInfo {
                    cgroup_version: None,
                    ..DaemonInfo::default()
                },
                ..facts(host())
            },
            vec![(Cgroup, Some(Pass))],
        ),
        (
            "the helper cannot start",
            vec![],
            HostFacts {
                host: Err("no image".into()),
                ..facts(host())
            },
            vec![
                (HostHelper, Some(Fail)),
                (Ipv6, None),
                (SubnetOverlap, Some(Pass)),
            ],
        ),
        (
            "unreadable ip6tables",
            vec![],
            facts(HostNetFacts {
                ip6tables: None,
                ..host()
            }),
            vec![(DaemonIpv6Nat, Some(Warn))],
        ),
        (
            "a foreign network on the management subnet",
            vec![("cluster-id", "51"), ("nat64-v4-prefix", "10.100")],
            foreign,
            vec![(SubnetOverlap, Some(Fail)), (NetworkName, Some(Pass))],
        ),
        (
            "the cluster's own network and routes",
            vec![("cluster-id", "51"), ("nat64-v4-prefix", "10.100")],
            own,
            vec![(SubnetOverlap, Some(Pass)), (NetworkName, Some(Pass))],
        ),
        (
            "a network with the cluster's name that dind did not make",
            vec![("cluster-id", "51"), ("nat64-v4-prefix", "10.100")],
            impostor,
            vec![(SubnetOverlap, Some(Fail)), (NetworkName, Some(Fail))],
        ),
        (
            // `up` refused this before; doctor passed it.
            "a network with the cluster's name elsewhere",
            vec![("cluster-id", "51"), ("nat64-v4-prefix", "10.100")],
            impostor_elsewhere,
            vec![(SubnetOverlap, Some(Pass)), (NetworkName, Some(Fail))],
        ),
        (
            // Doctor refused this before; `up` went ahead.
            "a host route into the NAT64 subnet",
            vec![],
            facts(HostNetFacts {
                routes_v4: parse_routes("172.18.5.0/24 via 192.0.2.9 dev eth0\n"),
                ..host()
            }),
            vec![(SubnetOverlap, Some(Fail))],
        ),
        (
            "a host route covering the management subnet",
            vec![],
            facts(HostNetFacts {
                routes_v6: parse_routes("unreachable fd00::/16 dev lo metric 1024 pref medium\n"),
                ..host()
            }),
            vec![(SubnetOverlap, Some(Fail))],
        ),
        (
            "allow-aaaa on a good uplink",
            allow.clone(),
            facts(HostNetFacts {
                egress: egress("eth0"),
                ..host()
            }),
            vec![
                (EgressInterface, Some(Pass)),
                (Ipv6DefaultRoute, Some(Pass)),
                (Ipv6Forwarding, Some(Pass)),
                (AcceptRa, Some(Pass)),
            ],
        ),
        (
            "allow-aaaa: a missing interface",
            allow.clone(),
            facts(HostNetFacts {
                egress: Some(Egress {
                    name: Some("nosuchif0".into()),
                    exists: false,
                    accept_ra: None,
                }),
                ..host()
            }),
            vec![(EgressInterface, Some(Fail)), (Ipv6DefaultRoute, None)],
        ),
        (
            "allow-aaaa: no default route at all",
            vec![("allow-aaaa", "true")],
            facts(HostNetFacts {
                egress: Some(Egress::default()),
                ..host()
            }),
            vec![(EgressInterface, Some(Fail))],
        ),
        (
            "allow-aaaa: no IPv6 default route, forwarding off",
            allow.clone(),
            facts(HostNetFacts {
                routes_v6: parse_routes("fd00::/64 dev eth0 proto kernel metric 256\n"),
                ipv6_forwarding: false,
                egress: egress("eth0"),
                ..host()
            }),
            vec![
                (EgressInterface, Some(Pass)),
                (Ipv6DefaultRoute, Some(Warn)),
                (Ipv6Forwarding, Some(Warn)),
                (AcceptRa, Some(Pass)),
            ],
        ),
        (
            // The egress falls back to the IPv4 default route's interface, which carries
            // no IPv6.
            "allow-aaaa: no IPv6 default route and no --egress-interface",
            vec![("allow-aaaa", "true")],
            facts(HostNetFacts {
                routes_v4: parse_routes("default via 192.0.2.1 dev eth0\n"),
                routes_v6: parse_routes("fd00::/64 dev eth0 proto kernel metric 256\n"),
                egress: egress("eth0"),
                ..host()
            }),
            vec![
                (EgressInterface, Some(Pass)),
                (Ipv6DefaultRoute, Some(Fail)),
            ],
        ),
        (
            "allow-aaaa: an unreachable IPv6 default is no default route",
            vec![("allow-aaaa", "true")],
            facts(HostNetFacts {
                routes_v6: parse_routes("unreachable default dev lo metric 4294967295\n"),
                egress: egress("eth0"),
                ..host()
            }),
            vec![(Ipv6DefaultRoute, Some(Fail))],
        ),
        (
            // Switching forwarding on would drop the route at once.
            "allow-aaaa: router-advertised, accept_ra 1, forwarding off",
            allow.clone(),
            facts(HostNetFacts {
                routes_v6: ra_route(),
                ipv6_forwarding: false,
                egress: ra1(),
                ..host()
            }),
            vec![(Ipv6DefaultRoute, Some(Pass)), (AcceptRa, Some(Fail))],
        ),
        (
            // The route lapses when it expires, dind or not: doctor failed this, `up` went on.
            "allow-aaaa: router-advertised, accept_ra 1, forwarding on already",
            allow.clone(),
            facts(HostNetFacts {
                routes_v6: ra_route(),
                egress: ra1(),
                ..host()
            }),
            vec![(Ipv6DefaultRoute, Some(Pass)), (AcceptRa, Some(Warn))],
        ),
        (
            "allow-aaaa: router-advertised with accept_ra 2",
            allow.clone(),
            facts(HostNetFacts {
                routes_v6: ra_route(),
                ipv6_forwarding: false,
                egress: Some(Egress {
                    accept_ra: Some(2),
                    ..egress("eth0").unwrap()
                }),
                ..host()
            }),
            vec![(AcceptRa, Some(Pass))],
        ),
        (
            "allow-aaaa: accept_ra 1 and forwarding off, but no router-advertised route",
            allow.clone(),
            facts(HostNetFacts {
                ipv6_forwarding: false,
                egress: ra1(),
                ..host()
            }),
            vec![(Ipv6Forwarding, Some(Warn)), (AcceptRa, Some(Pass))],
        ),
        (
            "allow-aaaa: the default route is on another interface",
            allow,
            facts(HostNetFacts {
                routes_v6: parse_routes("default via fd00:ee::10 dev dind-wan0 metric 1024\n"),
                egress: egress("eth0"),
                ..host()
            }),
            vec![(Ipv6DefaultRoute, Some(Warn))],
        ),
        (
            "Docker 28 with its own ip6tables rules, forwarding off",
            vec![],
            docker28(host_without_forwarding()),
            vec![
                (DaemonFirewall, Some(Pass)),
                (ForwardPolicy, Some(Pass)),
                (DaemonIpv6Nat, Some(Pass)),
                (UserlandProxy, Some(Pass)),
            ],
        ),
        (
            "Docker 29, nftables backend, IPv6 forwarding off",
            vec![],
            nftables(host_without_forwarding()),
            vec![(DaemonFirewall, Some(Fail)), (DaemonIpv6Nat, Some(Pass))],
        ),
        (
            "Docker 29, nftables backend, IPv4 forwarding off in ipv4 mode",
            vec![("ip-mode", "ipv4")],
            HostFacts {
                tun: None,
                ..nftables(HostNetFacts {
                    ipv4_forwarding: false,
                    ..host_without_forwarding()
                })
            },
            vec![(DaemonFirewall, Some(Fail))],
        ),
        (
            "Docker 29, nftables backend, forwarding on",
            vec![],
            nftables(HostNetFacts {
                ipv6_default_forwarding: true,
                ..host()
            }),
            vec![(DaemonFirewall, Some(Pass))],
        ),
        (
            // Its nodes hand DNS to Docker's embedded DNS, which nftables sets up unseen.
            "nftables in ipv4 mode, forwarding on",
            vec![("ip-mode", "ipv4")],
            HostFacts {
                tun: None,
                ..nftables(host_without_forwarding())
            },
            vec![(DaemonFirewall, Some(Fail))],
        ),
        (
            "Docker 29 without its userland proxy: the API server on [::1] needs it",
            vec![],
            without_proxy(facts(host())),
            vec![(UserlandProxy, Some(Fail))],
        ),
        (
            "without the userland proxy in dual-stack: the API server is on 127.0.0.1",
            vec![("ip-mode", "dual-stack")],
            without_proxy(facts(host())),
            vec![(UserlandProxy, Some(Pass))],
        ),
        (
            "a daemon that does not say whether its proxy runs",
            vec![],
            docker28(host()),
            vec![(UserlandProxy, Some(Pass))],
        ),
    ]
}

/// A host where Docker has switched nothing on yet.
fn host_without_forwarding() -> HostNetFacts {
    HostNetFacts {
        ipv6_forwarding: false,
        ipv6_default_forwarding: false,
        ..host()
    }
}

/// What Docker 28.5.2 shows right after its start: its chains, FORWARD still ACCEPT.
const DOCKER28_STARTED: &str = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n\
    :OUTPUT ACCEPT [0:0]\n:DOCKER - [0:0]\n:DOCKER-FORWARD - [0:0]\n:DOCKER-USER - [0:0]\n\
    -A FORWARD -j DOCKER-USER\n-A FORWARD -j DOCKER-FORWARD\nCOMMIT\n";

fn docker28(host: HostNetFacts) -> HostFacts {
    HostFacts {
        daemon_version: "28.5.2+dfsg4".into(),
        api_version: "1.51".into(),
        daemon: DaemonInfo {
            cgroup_version: Some(2),
            firewall_backend: Some("iptables".into()),
            userland_proxy: None,
        },
        ..facts(HostNetFacts {
            ip6tables: Some(DOCKER28_STARTED.into()),
            ..host
        })
    }
}

fn nftables(host: HostNetFacts) -> HostFacts {
    HostFacts {
        daemon_version: "29.8.1".into(),
        api_version: "1.56".into(),
        daemon: DaemonInfo {
            cgroup_version: Some(2),
            firewall_backend: Some("nftables".into()),
            userland_proxy: Some(true),
        },
        ..facts(HostNetFacts {
            ip6tables: Some(String::new()),
            ..host
        })
    }
}

fn without_proxy(facts: HostFacts) -> HostFacts {
    HostFacts {
        daemon_version: "29.8.1".into(),
        daemon: DaemonInfo {
            firewall_backend: Some("iptables".into()),
            userland_proxy: Some(false),
            ..facts.daemon.clone()
        },
        ..facts
    }
}

#[test]
fn the_nftables_refusal_names_the_settings_and_the_fix() {
    let findings = judged(&config(&[]), &nftables(host_without_forwarding()));
    let finding = find(&findings, Check::DaemonFirewall).unwrap();
    assert_eq!(
        finding.detail,
        "firewall backend nftables: with nftables Docker does not switch forwarding on, and \
         refuses to create the cluster's network while it is off; on the Docker host \
         net.ipv6.conf.all.forwarding, net.ipv6.conf.default.forwarding must be 1"
    );
    assert_eq!(
        finding.hint.as_deref(),
        Some(
            "`sysctl -w net.ipv6.conf.all.forwarding=1 net.ipv6.conf.default.forwarding=1` on \
             the Docker host first (its firewall must then filter what it forwards); or run the \
             daemon with the iptables backend (\"firewall-backend\": \"iptables\" in \
             daemon.json, the default)"
        )
    );
    // Seen with Docker 29.8.1 in dual-stack: "no DOCKER_OUTPUT chain" in every node.
    let dual = config(&[("ip-mode", "dual-stack")]);
    let findings = judged(
        &dual,
        &nftables(HostNetFacts {
            ipv6_default_forwarding: true,
            ..host()
        }),
    );
    let finding = find(&findings, Check::DaemonFirewall).unwrap();
    assert_eq!(finding.level, Fail);
    assert!(finding.detail.contains("DOCKER_OUTPUT"), "{finding:?}");
    assert!(
        finding
            .hint
            .as_deref()
            .unwrap()
            .starts_with("use --ip-mode ipv6"),
        "{finding:?}"
    );
}

#[test]
fn the_proxy_refusal_names_what_is_published_on_the_ipv6_loopback() {
    let findings = judged(&config(&[]), &without_proxy(facts(host())));
    let finding = find(&findings, Check::UserlandProxy).unwrap();
    assert_eq!(
        finding.detail,
        "Docker runs without its userland proxy, and reaches ports published on [::1] only \
         through it: kube-master: the API server on [::1]"
    );
    assert!(finding
        .hint
        .as_deref()
        .unwrap()
        .contains("\"userland-proxy\": false"));
}

#[test]
fn docker_28_is_said_to_write_its_own_rules_and_set_the_policy_to_drop() {
    let findings = judged(&config(&[]), &docker28(host_without_forwarding()));
    let firewall = find(&findings, Check::DaemonFirewall).unwrap();
    assert_eq!(
        firewall.detail,
        "firewall backend iptables; it writes its own ip6tables rules (chains DOCKER, \
         DOCKER-FORWARD, DOCKER-USER)"
    );
    let policy = find(&findings, Check::ForwardPolicy).unwrap();
    assert_eq!(
        policy.detail,
        "ip6tables FORWARD policy ACCEPT; Docker 28.5.2+dfsg4 sets it to DROP when it switches \
         IPv6 forwarding on for the cluster's network (its own rules let the cluster's traffic \
         through); `dind down` puts ACCEPT back with forwarding"
    );
    // Debian's 20.10: no rules of its own, and no policy change to announce.
    let findings = judged(&config(&[]), &facts(host_without_forwarding()));
    assert_eq!(
        find(&findings, Check::DaemonFirewall).unwrap().detail,
        "no firewall backend named (Docker says it from 28.2; before, iptables); it writes no \
         ip6tables rules (Docker before 27, or ip6tables off)"
    );
    assert_eq!(
        find(&findings, Check::ForwardPolicy).unwrap().detail,
        "ip6tables FORWARD policy ACCEPT (no filter table); `dind down` keeps or puts back ACCEPT"
    );
}

#[test]
fn findings_follow_the_facts() {
    for (what, settings, facts, expected) in cases() {
        let findings = judged(&config(&settings), &facts);
        for (check, level) in expected {
            assert_eq!(
                find(&findings, check).map(|f| f.level),
                level,
                "{what}: {check:?} in {findings:#?}"
            );
        }
    }
}

#[test]
fn each_check_is_judged_at_most_once() {
    for (what, settings, facts, _) in cases() {
        let findings = judged(&config(&settings), &facts);
        for &check in Check::ALL {
            let count = findings.iter().filter(|f| f.check == check).count();
            assert!(count <= 1, "{what}: {check:?} {count} times");
        }
    }
}

#[test]
fn up_refuses_exactly_on_a_failure_and_names_every_one() {
    for (what, settings, facts, _) in cases() {
        let config = config(&settings);
        let findings = judged(&config, &facts);
        let failed: Vec<&Finding> = findings.iter().filter(|f| f.level == Fail).collect();
        match verdict(&config, &facts) {
            Ok(warnings) => {
                assert!(failed.is_empty(), "{what}: up went on past {failed:#?}");
                let expected: Vec<&Finding> = findings.iter().filter(|f| f.level == Warn).collect();
                assert_eq!(warnings.iter().collect::<Vec<_>>(), expected, "{what}");
            }
            Err(refused) => {
                assert!(!failed.is_empty(), "{what}: up refused a passing host");
                let text = refused.to_string();
                for failure in failed {
                    assert!(text.contains(&failure.to_string()), "{what}: {text}");
                }
            }
        }
    }
}

#[test]
fn names_are_the_json_values_and_unique() {
    let mut seen = std::collections::HashSet::new();
    for &check in Check::ALL {
        assert!(seen.insert(check.name()), "{check:?}");
        assert_eq!(
            serde_json::to_value(check).unwrap(),
            serde_json::json!(check.name())
        );
    }
}

#[test]
fn overlap_names_the_network_and_the_flag() {
    let mut f = facts(host());
    f.networks.push(DockerNetwork {
        name: "compose_default".into(),
        cluster: None,
        subnets: vec!["172.18.0.0/16".parse().unwrap()],
    });
    let findings = judged(&config(&[]), &f);
    let overlap = find(&findings, Check::SubnetOverlap).unwrap();
    assert_eq!(
        overlap.detail,
        "subnet 172.18.0.0/16 of this cluster overlaps 172.18.0.0/16 of Docker network compose_default"
    );
    assert!(overlap
        .hint
        .as_deref()
        .unwrap()
        .contains("--nat64-v4-prefix"));
}

#[test]
fn a_host_route_overlap_quotes_the_route() {
    let f = facts(HostNetFacts {
        routes_v4: parse_routes("172.18.5.0/24 via 192.0.2.9 dev eth0\n"),
        ..host()
    });
    let findings = judged(&config(&[]), &f);
    let overlap = find(&findings, Check::SubnetOverlap).unwrap();
    assert_eq!(
        overlap.to_string(),
        "subnet 172.18.0.0/16 of this cluster overlaps the host route \
         `172.18.5.0/24 via 192.0.2.9 dev eth0`; pick another --cluster-id, --mgmt-cidrs or \
         --nat64-v4-prefix"
    );
}

#[test]
fn a_docker_networks_own_route_is_reported_once() {
    let mut f = facts(host());
    f.networks.push(DockerNetwork {
        name: "other".into(),
        cluster: None,
        subnets: vec!["fd00:20::/64".parse().unwrap()],
    });
    f.host.as_mut().unwrap().routes_v6.extend(parse_routes(
        "fd00:20::/64 dev br-0123456789ab proto kernel metric 256 linkdown pref medium\n",
    ));
    let findings = judged(&config(&[]), &f);
    let overlap = find(&findings, Check::SubnetOverlap).unwrap();
    assert_eq!(overlap.level, Fail);
    assert!(!overlap.detail.contains("host route"), "{}", overlap.detail);
}

#[test]
fn the_accept_ra_fix_names_the_interface() {
    for forwarding in [false, true] {
        let f = facts(HostNetFacts {
            routes_v6: parse_routes("default via fe80::1 dev wlan0 proto ra metric 600\n"),
            ipv6_forwarding: forwarding,
            egress: Some(Egress {
                name: Some("wlan0".into()),
                exists: true,
                accept_ra: Some(1),
            }),
            ..host()
        });
        let findings = judged(
            &config(&[("allow-aaaa", "true"), ("egress-interface", "wlan0")]),
            &f,
        );
        let ra = find(&findings, Check::AcceptRa).unwrap();
        assert_eq!(
            ra.hint.as_deref(),
            Some("`sysctl net.ipv6.conf.wlan0.accept_ra=2` on the Docker host")
        );
    }
}

#[test]
fn up_names_the_missing_egress_interface_and_its_fix() {
    let f = facts(HostNetFacts {
        egress: Some(Egress {
            name: Some("nosuchif0".into()),
            exists: false,
            accept_ra: None,
        }),
        ..host()
    });
    let settings = [("allow-aaaa", "true"), ("egress-interface", "nosuchif0")];
    let text = verdict(&config(&settings), &f).unwrap_err().to_string();
    assert!(
        text.contains("egress interface nosuchif0 does not exist on the Docker host"),
        "{text}"
    );
    assert!(
        text.contains("fix --egress-interface (or DIND_EGRESS_INTERFACE)"),
        "{text}"
    );
}

#[derive(Debug, PartialEq)]
enum Expect {
    Fine,
    Warn,
    Refuse,
}

#[test]
fn allow_aaaa_without_an_ipv6_route_is_refused_unless_the_egress_is_named() {
    // (ip mode, --allow-aaaa, --egress-interface, host has an IPv6 default route, verdict)
    let table = [
        ("ipv6", true, None, false, Expect::Refuse),
        ("ipv6", true, Some("eth1"), false, Expect::Warn),
        ("ipv6", true, None, true, Expect::Fine),
        ("ipv6", true, Some("eth1"), true, Expect::Fine),
        ("ipv6", false, None, false, Expect::Fine),
        ("ipv6", false, Some("eth1"), false, Expect::Fine),
        // Dual-stack always uses real AAAA records, but its nodes fall back to IPv4.
        ("dual-stack", false, None, false, Expect::Fine),
        ("ipv4", false, None, false, Expect::Fine),
    ];
    for (mode, allow, egress, route, expected) in table {
        let mut settings = vec![("ip-mode", mode)];
        if allow {
            settings.push(("allow-aaaa", "true"));
        }
        if let Some(egress) = egress {
            settings.push(("egress-interface", egress));
        }
        let verdict = direct_ipv6(&config(&settings), route);
        let got = match &verdict {
            DirectIpv6::Fine => Expect::Fine,
            DirectIpv6::Warn(text) => {
                assert!(text.contains(egress.unwrap()), "{text}");
                Expect::Warn
            }
            DirectIpv6::Refuse(text) => {
                for fix in ["drop --allow-aaaa", "dual-stack", "--egress-interface"] {
                    assert!(text.contains(fix), "{text}");
                }
                Expect::Refuse
            }
        };
        assert_eq!(got, expected, "{mode} {allow} {egress:?} {route}");
    }
}
