//! End to end: real Docker, real bind9 and tayga, pods made through a node's CNI config,
//! and a simulated Internet. Needs root and a Docker daemon (`bash .ci/setup`).

use crate::support::*;

const V4ONLY: &str = "v4only.example.test";
const DUAL: &str = "dual.example.test";
const V6ONLY: &str = "v6only.example.test";

fn url(host: &str) -> String {
    format!("http://{host}/")
}

#[tokio::test(flavor = "multi_thread")]
async fn default_policy_sends_every_name_through_nat64_and_down_leaves_nothing() {
    let _serial = serial().await;
    let wan = Wan::start().await.expect("simulated Internet");
    let engine = engine().await;
    let before = HostState::capture();

    let cluster = Cluster::up(0, &[]).expect("dind up");
    let node = cluster.name("kube-node-1");
    let pod = Pod::create(&engine, &node, "pod-default")
        .await
        .expect("pod");
    assert!(
        pod.address.starts_with("fd00:40::2:"),
        "pod address {} is not in kube-node-1's pod CIDR",
        pod.address
    );
    // The node's own name resolves to the address it still has, not the flushed IPv4 one.
    let hosts = engine
        .exec_ok(&node, &["getent", "hosts", &node])
        .await
        .unwrap();
    assert!(hosts.starts_with("fd00:20::3 "), "{hosts}");
    let hosts_file = engine.exec_ok(&node, &["cat", "/etc/hosts"]).await.unwrap();
    assert!(!hosts_file.contains("172.18."), "{hosts_file}");

    // DNS64 synthesizes from the A record, also for a name that has a real AAAA.
    assert_eq!(pod.aaaa(V4ONLY).await.unwrap(), WAN_V4_SYNTHESIZED);
    assert_eq!(pod.aaaa(DUAL).await.unwrap(), WAN_V4_SYNTHESIZED);
    assert_eq!(
        pod.aaaa(V6ONLY).await.unwrap(),
        "",
        "an AAAA-only name has nothing to synthesize from"
    );

    // The origin sees the host's IPv4 address: NAT64, then the host's IPv4 masquerade.
    assert_eq!(pod.fetch(&url(V4ONLY)).await.unwrap(), HOST_V4);
    assert_eq!(pod.fetch(&url(DUAL)).await.unwrap(), HOST_V4);
    assert!(wan
        .origin_log()
        .await
        .contains(&format!("client={HOST_V4}")));

    // tayga mapped the node (pods are masqueraded to their node first).
    let mapped = nat64_clients(&engine, &cluster.name("tayga")).await;
    assert!(
        mapped.contains(&"fd00:20::3".to_string()),
        "tayga did not map kube-node-1 (fd00:20::3): {mapped:?}"
    );

    // No IPv6 NAT and no IPv6 rule of dind's in the default mode.
    assert!(ip6tables_lines_with("dind:cluster=0").is_empty());
    assert!(sh(&["ip", "route"])
        .unwrap()
        .contains("172.18.0.128/25 via 172.18.0.200"));

    let out = cluster.down();
    assert!(out.status.success(), "{}", stderr(&out));
    let (containers, networks) = docker_objects(&engine).await;
    for name in [
        "kube-master",
        "kube-node-1",
        "kube-node-2",
        "bind9",
        "tayga",
    ] {
        assert!(
            !containers.iter().any(|c| c.trim_start_matches('/') == name),
            "{name} is left: {containers:?}"
        );
    }
    assert!(!networks.contains(&"kubeadm-dind-net".to_string()));
    assert_eq!(
        HostState::capture(),
        before,
        "down must restore the host's routes and rules exactly"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn allow_aaaa_reaches_ipv6_sites_directly_and_ipv4_only_sites_through_nat64() {
    let _serial = serial().await;
    let wan = Wan::start().await.expect("simulated Internet");
    let engine = engine().await;
    let before = HostState::capture();

    let cluster = Cluster::up(1, &["--allow-aaaa", "--egress-interface", HOST_IF])
        .expect("dind up --allow-aaaa");
    // Fence: drop everything else the cluster bridge forwards out of the host, so the test
    // only passes through dind's own ACCEPT rules (they are inserted ahead of it). On Docker
    // 28 and later, Docker's jumps come first in FORWARD and its DOCKER-FORWARD accepts the
    // bridge's traffic, so the fence sees none: there the path is Docker's.
    let fence = HostRule::append_forward(&[
        "-i",
        "br-dind1",
        "!",
        "-o",
        "br-dind1",
        "-m",
        "comment",
        "--comment",
        "e2e-fence",
        "-j",
        "DROP",
    ]);
    let pod = Pod::create(&engine, &cluster.name("kube-node-2"), "pod-aaaa")
        .await
        .expect("pod");

    assert_eq!(
        pod.aaaa(DUAL).await.unwrap(),
        WAN_V6,
        "a real AAAA passes through"
    );
    assert_eq!(pod.aaaa(V6ONLY).await.unwrap(), WAN_V6);
    assert_eq!(
        pod.aaaa(V4ONLY).await.unwrap(),
        WAN_V4_SYNTHESIZED,
        "A-only names are still synthesized"
    );

    // Direct IPv6: the origin sees the host's IPv6 egress address (host masquerade), and
    // NAT64 maps nothing for the node.
    let node_address = "fd00:20:1::4".to_string();
    assert_eq!(pod.fetch(&url(DUAL)).await.unwrap(), HOST_V6);
    assert_eq!(pod.fetch(&url(V6ONLY)).await.unwrap(), HOST_V6);
    assert!(!nat64_clients(&engine, &cluster.name("tayga"))
        .await
        .contains(&node_address));
    // IPv4-only: still NAT64.
    assert_eq!(pod.fetch(&url(V4ONLY)).await.unwrap(), HOST_V4);
    assert!(nat64_clients(&engine, &cluster.name("tayga"))
        .await
        .contains(&node_address));
    assert!(wan
        .origin_log()
        .await
        .contains(&format!("client={HOST_V6}")));

    let rules = ip6tables_lines_with("dind:cluster=1");
    if docker_writes_ipv6_rules() {
        // Docker masquerades the management prefix itself, and (28+) accepts the bridge's
        // traffic both ways: dind adds only the NAT of the pod CIDR.
        let nat = sh(&["ip6tables-save", "-t", "nat"]).unwrap();
        assert!(
            nat.lines()
                .any(|l| l == "-A POSTROUTING -s fd00:20:1::/64 ! -o br-dind1 -j MASQUERADE"),
            "Docker's own MASQUERADE of the management prefix: {nat}"
        );
        assert!(
            !rules.iter().any(|r| r.contains("-s fd00:20:1::/64")),
            "dind adds nothing Docker provides: {rules:#?}"
        );
        assert!(
            rules
                .iter()
                .any(|r| r.contains("-s fd00:40::/72") && r.contains("MASQUERADE")),
            "dind's NAT of the pod CIDR: {rules:#?}"
        );
        if docker_major() >= 28 {
            assert!(
                !rules.iter().any(|r| r.contains("RELATED,ESTABLISHED")),
                "Docker 28+ accepts the replies itself (DOCKER-CT): {rules:#?}"
            );
        }
    } else {
        for expected in [
            "-s fd00:20:1::/64",
            "-s fd00:40::/72",
            "MASQUERADE",
            "RELATED,ESTABLISHED",
        ] {
            assert!(
                rules.iter().any(|r| r.contains(expected)),
                "no dind rule with {expected}: {rules:#?}"
            );
        }
    }
    assert!(
        rules.iter().all(|r| r.contains(HOST_IF)),
        "every rule is scoped to the egress interface: {rules:#?}"
    );

    let status = dind(&["status", "--cluster-id", "1", "-o", "json"], &[]);
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status -o json");
    assert_eq!(json[0]["aaaaPolicy"], "pass-real-aaaa");
    assert_eq!(
        json[0]["hostRules"].as_array().map(Vec::len),
        Some(rules.len())
    );

    drop(fence);
    let out = cluster.down();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(ip6tables_lines_with("dind:cluster=1").is_empty());
    assert_eq!(
        HostState::capture(),
        before,
        "down must remove exactly dind's rules, routes and forwarding"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn up_twice_changes_nothing_and_two_clusters_live_side_by_side() {
    let _serial = serial().await;
    let _wan = Wan::start().await.expect("simulated Internet");
    let engine = engine().await;

    let first = Cluster::up(3, &["--nodes", "1"]).expect("first up");
    let ids = |names: Vec<String>| async {
        let mut ids = Vec::new();
        for name in names {
            ids.push(
                engine
                    .inspect_container(&name)
                    .await
                    .unwrap()
                    .and_then(|c| c.id)
                    .unwrap(),
            );
        }
        ids
    };
    let names: Vec<String> = ["kube-master", "kube-node-1", "bind9", "tayga"]
        .iter()
        .map(|n| first.name(n))
        .collect();
    let ids_before = ids(names.clone()).await;
    let host_before = HostState::capture();

    let again = dind(
        &[
            "up",
            "--no-kubernetes",
            "--cluster-id",
            "3",
            "--nodes",
            "1",
            "--upstream-dns",
            WAN_V4,
        ],
        &[],
    );
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(
        ids(names).await,
        ids_before,
        "a second up must keep every container"
    );
    assert_eq!(
        HostState::capture(),
        host_before,
        "a second up must not touch the host again"
    );

    let other = dind(
        &[
            "up",
            "--no-kubernetes",
            "--cluster-id",
            "3",
            "--nodes",
            "2",
            "--upstream-dns",
            WAN_V4,
        ],
        &[],
    );
    assert!(
        !other.status.success(),
        "up with other settings for an existing cluster must fail"
    );
    assert!(
        stderr(&other).contains("dind down --cluster-id 3"),
        "{}",
        stderr(&other)
    );

    let second = Cluster::up(4, &["--nodes", "1"]).expect("second cluster");
    let pod = Pod::create(&engine, &second.name("kube-node-1"), "pod-side")
        .await
        .unwrap();
    assert!(sh(&["ip", "route"])
        .unwrap()
        .contains("172.22.0.128/25 via 172.22.0.200"));

    let out = first.down();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(engine
        .inspect_container(&first.name("tayga"))
        .await
        .unwrap()
        .is_none());
    // The other cluster still resolves and reaches the origin through its own NAT64.
    assert_eq!(pod.aaaa(V4ONLY).await.unwrap(), WAN_V4_SYNTHESIZED);
    assert_eq!(pod.fetch(&url(V4ONLY)).await.unwrap(), HOST_V4);
    assert!(sh(&["ip", "route"])
        .unwrap()
        .contains("172.22.0.128/25 via 172.22.0.200"));
    assert!(!sh(&["ip", "route"]).unwrap().contains("172.21.0.128/25"));
}

#[tokio::test(flavor = "multi_thread")]
async fn pods_on_different_nodes_reach_each_other() {
    let _serial = serial().await;
    let engine = engine().await;
    let cluster = Cluster::up(5, &[]).expect("dind up");
    let a = Pod::create(&engine, &cluster.name("kube-node-1"), "pod-a")
        .await
        .unwrap();
    let b = Pod::create(&engine, &cluster.name("kube-node-2"), "pod-b")
        .await
        .unwrap();
    b.serve_once(7000).await.unwrap();
    let seen = a.connect(&b.address, 7000).await.unwrap();
    let seen: std::net::Ipv6Addr = seen
        .trim_matches(['[', ']'])
        .parse()
        .expect("socat prints the peer address");
    // Pod-to-pod traffic keeps the pod's own address (only what leaves the pod CIDRs is
    // masqueraded to the node).
    let a_address: std::net::Ipv6Addr = a.address.parse().expect("pod-a has an IPv6 address");
    assert_eq!(seen, a_address, "pod-b saw pod-a as {seen}, not as itself");
    assert_ne!(seen, "fd00:20:5::3".parse::<std::net::Ipv6Addr>().unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn dual_stack_reaches_both_families_directly() {
    let _serial = serial().await;
    let _wan = Wan::start().await.expect("simulated Internet");
    let engine = engine().await;
    let before = HostState::capture();

    let cluster = Cluster::up(
        6,
        &["--ip-mode", "dual-stack", "--egress-interface", HOST_IF],
    )
    .expect("dual-stack up");
    assert!(
        engine
            .inspect_container(&cluster.name("tayga"))
            .await
            .unwrap()
            .is_none(),
        "dual-stack runs no NAT64"
    );
    let pod = Pod::create(&engine, &cluster.name("kube-node-1"), "pod-dual")
        .await
        .unwrap();
    assert_eq!(
        pod.fetch(&format!("http://{WAN_V4}/")).await.unwrap(),
        HOST_V4
    );
    assert_eq!(
        pod.fetch(&format!("http://[{WAN_V6}]/")).await.unwrap(),
        HOST_V6
    );
    // By name: the pod's resolver is the network's gateway, which the node hands to Docker's
    // embedded DNS, which forwards to --upstream-dns (the simulated Internet's resolver).
    assert_eq!(pod.lookup(V4ONLY, "A").await.unwrap(), WAN_V4);
    assert_eq!(pod.lookup(DUAL, "AAAA").await.unwrap(), WAN_V6);
    assert_eq!(pod.fetch(&url(V4ONLY)).await.unwrap(), HOST_V4);
    assert!(!ip6tables_lines_with("dind:cluster=6").is_empty());

    let out = cluster.down();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(HostState::capture(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn ipv4_mode_runs_no_dns64_and_touches_no_ipv6_rule() {
    let _serial = serial().await;
    let _wan = Wan::start().await.expect("simulated Internet");
    let engine = engine().await;
    let before = HostState::capture();

    let cluster = Cluster::up(7, &["--ip-mode", "ipv4", "--nodes", "1"]).expect("ipv4 up");
    assert!(engine
        .inspect_container(&cluster.name("bind9"))
        .await
        .unwrap()
        .is_none());
    let pod = Pod::create(&engine, &cluster.name("kube-node-1"), "pod-v4")
        .await
        .unwrap();
    assert!(
        pod.address.starts_with("10.244.2."),
        "pod address {}",
        pod.address
    );
    assert_eq!(
        pod.fetch(&format!("http://{WAN_V4}/")).await.unwrap(),
        HOST_V4
    );
    // By name, through the node to Docker's embedded DNS and on to --upstream-dns.
    assert_eq!(pod.lookup(V4ONLY, "A").await.unwrap(), WAN_V4);
    assert_eq!(pod.fetch(&url(V4ONLY)).await.unwrap(), HOST_V4);
    assert!(ip6tables_lines_with("dind:cluster=7").is_empty());

    let out = cluster.down();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(HostState::capture(), before);
}

/// Forwarding that was on before dind stays on after `down`; forwarding that dind's `up`
/// switched on (through its IPv6 network) is switched back off, and the host-wide marker
/// that says so exists exactly while a cluster needs it. The ip6tables FORWARD policy, which
/// Docker 28 and later set to DROP as they switch forwarding on, is what it was after `down`.
#[tokio::test(flavor = "multi_thread")]
async fn down_restores_ipv6_forwarding_to_what_it_was_before_dind() {
    let _serial = serial().await;
    let read = || std::fs::read_to_string(IPV6_FORWARDING).unwrap();
    let marker = || async {
        docker_volumes()
            .await
            .iter()
            .any(|v| v == "dind-ipv6-forwarding")
    };
    let was = read();
    let policy_was = ip6_forward_policy();
    let args = ["--nodes", "0", "--nat64-v4-prefix", "10.100"];
    for before in ["0", "1"] {
        std::fs::write(IPV6_FORWARDING, before).unwrap();
        let policy_before = ip6_forward_policy();
        let cluster = Cluster::up(70, &args).expect("dind up");
        assert_eq!(
            read().trim(),
            "1",
            "an IPv6 cluster runs with forwarding on"
        );
        // Docker 28 and later set the FORWARD policy to DROP when they switch forwarding on
        // for a network; 20.10, and any engine that finds forwarding on, leave it alone.
        let drops = before == "0" && docker_writes_ipv6_rules() && docker_major() >= 28;
        assert_eq!(
            ip6_forward_policy(),
            if drops {
                "DROP"
            } else {
                policy_before.as_str()
            },
            "the FORWARD policy while the cluster runs (forwarding was {before})"
        );
        assert_eq!(
            marker().await,
            before == "0",
            "the marker says dind switched forwarding on (it was {before})"
        );
        let out = cluster.down();
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(
            read().trim(),
            before,
            "forwarding after down (it was {before})"
        );
        assert_eq!(
            ip6_forward_policy(),
            policy_before,
            "the FORWARD policy after down (forwarding was {before})"
        );
        if drops {
            assert!(
                stdout(&out).contains(&format!("ip6tables FORWARD policy back to {policy_before}")),
                "down says it put the policy back: {}",
                stdout(&out)
            );
        }
        assert!(!marker().await, "the marker is gone after the last down");
        drop(cluster);
    }
    std::fs::write(IPV6_FORWARDING, was).unwrap();
    if ip6_forward_policy() != policy_was {
        sh(&["ip6tables", "-w", "-P", "FORWARD", &policy_was]).unwrap();
    }
}
