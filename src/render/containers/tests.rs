//! The settings of the support containers, the helper and the probes, and the labels that
//! mark all of them. The Kubernetes node's settings are tested with kubeadm's rendering
//! (render/kubeadm/tests.rs).

use super::*;
use crate::plan::plan;
use crate::test_support::config_from_env;
use std::net::IpAddr;

fn record(vars: &[(&str, &str)]) -> (ClusterPlan, Record) {
    let config = config_from_env(vars);
    let record = Record {
        config: config.clone(),
        enabled_ipv6_forwarding: false,
        ip6_forward_policy: None,
        kubeconfig: None,
        api_server_port: None,
        proxy: Default::default(),
    };
    (plan(&config), record)
}

#[test]
fn labels_name_the_cluster_and_role_and_only_cluster_members_carry_the_record() {
    let (_, record) = record(&[("CLUSTER_ID", "7")]);
    let member = labels(Owner::Cluster(&record), labels::Role::Master);
    assert_eq!(member[labels::CLUSTER], "7");
    assert_eq!(member[labels::ROLE], "master");
    let decoded = Record::from_labels(&member.clone().into_iter().collect())
        .unwrap()
        .expect("a record");
    assert_eq!(decoded, record);

    let helper = labels(Owner::ClusterId(7), labels::Role::HostHelper);
    assert_eq!(
        helper,
        BTreeMap::from([
            (labels::CLUSTER.to_string(), "7".to_string()),
            (labels::ROLE.to_string(), "host-helper".to_string()),
        ])
    );
    let probe = labels(Owner::Nobody, labels::Role::ImageProbe);
    assert_eq!(
        probe,
        BTreeMap::from([(labels::ROLE.to_string(), "image-probe".to_string())])
    );
}

#[test]
fn support_containers_get_net_admin_only_and_their_planned_addresses() {
    let (p, record) = record(&[]);
    let nat64_plan = p.nat64.as_ref().unwrap();
    let nat64 = nat64(&p, &record, nat64_plan, "dind/nat64:x");
    assert_eq!(nat64.name.as_deref(), Some(nat64_plan.container.as_str()));
    assert_eq!(nat64.cap_add, ["NET_ADMIN"]);
    assert_eq!(nat64.devices, ["/dev/net/tun"]);
    assert!(!nat64.privileged);
    assert_eq!(nat64.sysctls["net.ipv6.conf.all.forwarding"], "1");
    assert_eq!(nat64.restart, Some(Restart::UnlessStopped));
    assert_eq!(nat64.labels[labels::ROLE], "nat64");
    assert_eq!(
        nat64.network,
        Network::Attached {
            network: p.network.name.clone(),
            addresses: vec![
                IpAddr::V6(nat64_plan.address_v6),
                IpAddr::V4(nat64_plan.address_v4)
            ],
        }
    );

    let dns64_plan = p.dns64.as_ref().unwrap();
    let dns64 = dns64(&p, &record, dns64_plan, "dind/dns64:x");
    assert_eq!(dns64.cap_add, ["NET_ADMIN"]);
    assert!(dns64.devices.is_empty());
    assert!(!dns64.sysctls.contains_key("net.ipv6.conf.all.forwarding"));
    assert_eq!(dns64.labels[labels::ROLE], "dns64");
}

#[test]
fn the_host_helper_drops_everything_but_what_its_privilege_needs() {
    let net = host_helper("h", "img", 3, Privilege::NetAdmin);
    assert_eq!(net.network, Network::Host);
    assert_eq!(net.cap_drop, ["ALL"]);
    assert_eq!(net.cap_add, ["NET_ADMIN", "NET_RAW"]);
    assert!(net.security_opt.is_empty());
    assert!(!net.privileged);
    assert_eq!(
        net.labels,
        labels(Owner::ClusterId(3), labels::Role::HostHelper)
    );

    let sysctl = host_helper("h", "img", 3, Privilege::Sysctl);
    assert_eq!(sysctl.cap_add, ["NET_ADMIN", "SYS_ADMIN"]);
    assert_eq!(sysctl.security_opt, ["apparmor=unconfined"]);
}

#[test]
fn probes_run_without_network_or_capabilities() {
    let tun = tun_probe("p", "img", 3);
    assert_eq!(tun.network, Network::None);
    assert_eq!(tun.cap_drop, ["ALL"]);
    assert!(tun.cap_add.is_empty());
    assert_eq!(
        tun.mounts,
        [Mount::Bind {
            source: "/dev".into(),
            target: "/host/dev".into(),
            read_only: true
        }]
    );

    let kubeadm = kubeadm_probe("img", 3);
    assert_eq!(kubeadm.name, None);
    assert_eq!(kubeadm.network, Network::None);
    assert_eq!(kubeadm.cap_drop, ["ALL"]);
    assert_eq!(kubeadm.labels[labels::ROLE], "image-probe");
    assert_eq!(kubeadm.labels[labels::CLUSTER], "3");

    let file = image_file_probe("img");
    assert_eq!(file.network, Network::None);
    assert!(!file.labels.contains_key(labels::CLUSTER));
}

#[test]
fn a_lock_reads_its_holders_stdin_with_nothing_else_and_is_not_the_clusters() {
    let holder = labels::LockHolder::new("up", "box", 7, std::time::UNIX_EPOCH);
    let lock = cluster_lock("dind-lock-3", "img", 3, &holder);
    assert_eq!(lock.name.as_deref(), Some("dind-lock-3"));
    assert_eq!(lock.entrypoint, Some(vec!["cat".to_string()]));
    assert_eq!(lock.cmd, None);
    assert!(lock.stdin_once && lock.auto_remove);
    assert_eq!(lock.network, Network::None);
    assert_eq!(lock.cap_drop, ["ALL"]);
    assert!(lock.cap_add.is_empty() && !lock.privileged && lock.mounts.is_empty());
    assert_eq!(
        lock.restart, None,
        "a restarted lock would outlive its holder"
    );
    assert_eq!(lock.labels, holder.labels(3));
    assert!(!lock.labels.contains_key(labels::CLUSTER));
}

#[test]
fn the_network_is_the_planned_bridge_with_the_record() {
    let (p, record) = record(&[]);
    let spec = network(&p, &record);
    assert_eq!(spec.name, p.network.name);
    assert_eq!(spec.bridge, p.network.bridge);
    assert!(spec.ipv6);
    assert_eq!(spec.subnets.len(), p.network.subnets.len());
    assert_eq!(
        spec.labels,
        labels(Owner::Cluster(&record), labels::Role::Network)
    );
}

#[test]
fn restart_policies_read_as_docker_run_spells_them() {
    assert_eq!(Restart::UnlessStopped.to_string(), "unless-stopped");
    assert_eq!(
        Restart::OnFailure { max_retries: 1 }.to_string(),
        "on-failure:1"
    );
    assert_eq!(
        Restart::OnFailure { max_retries: 0 }.to_string(),
        "on-failure"
    );
}

/// Every container `up` creates for a cluster of these settings.
fn cluster_containers(vars: &[(&str, &str)], kubernetes: bool) -> Vec<ContainerSpec> {
    let (p, mut record) = record(vars);
    record.config.kubernetes = kubernetes;
    let mut specs = Vec::new();
    if let Some(plan) = &p.nat64 {
        specs.push(nat64(&p, &record, plan, "img"));
    }
    if let Some(plan) = &p.dns64 {
        specs.push(dns64(&p, &record, plan, "img"));
    }
    specs.extend(p.nodes.iter().map(|n| node(&p, &record, n, "img")));
    specs
}

#[test]
fn every_cluster_container_comes_back_after_a_daemon_restart() {
    for mode in ["ipv6", "ipv4", "dual-stack"] {
        for kubernetes in [false, true] {
            let specs = cluster_containers(&[("IP_MODE", mode)], kubernetes);
            let roles: Vec<&str> = specs
                .iter()
                .map(|s| s.labels[labels::ROLE].as_str())
                .collect();
            let support = if mode == "ipv6" { 2 } else { 0 };
            assert_eq!(specs.len(), support + 3, "{mode}: {roles:?}");
            for spec in &specs {
                let is_node = matches!(spec.labels[labels::ROLE].as_str(), "master" | "worker");
                let expected = if kubernetes && is_node {
                    Restart::OnFailure { max_retries: 1 }
                } else {
                    Restart::UnlessStopped
                };
                assert_eq!(
                    spec.restart,
                    Some(expected),
                    "{mode}, kubernetes {kubernetes}: {:?}",
                    spec.name
                );
            }
        }
    }
}

#[test]
fn throwaway_containers_never_come_back() {
    // A helper or probe restarted by the daemon would outlive the run that made it.
    let throwaway = [
        host_helper("h", "img", 3, Privilege::NetAdmin),
        host_helper("h", "img", 3, Privilege::Sysctl),
        tun_probe("p", "img", 3),
        kubeadm_probe("img", 3),
        image_file_probe("img"),
    ];
    for spec in throwaway {
        assert_eq!(spec.restart, None, "{:?}", spec.entrypoint);
    }
}

#[test]
fn the_registry_has_no_capability_and_publishes_on_the_ipv4_loopback_only() {
    let (without, _) = record(&[]);
    let (p, record) = record(&[("CLUSTER_ID", "4"), ("DIND_REGISTRY", "true")]);
    let planned = p.registry.as_ref().expect("planned with DIND_REGISTRY");
    let spec = super::registry(&p, &record, planned, "dind/registry:x");
    assert_eq!(spec.name.as_deref(), Some("dind-registry-cluster-4"));
    assert_eq!(spec.cap_drop, ["ALL"]);
    assert!(spec.cap_add.is_empty() && !spec.privileged);
    assert_eq!(spec.labels[labels::ROLE], "registry");
    assert_eq!(spec.labels[labels::CLUSTER], "4");
    assert_eq!(
        spec.published,
        [PublishedPort {
            container_port: 5000,
            host_ip: "127.0.0.1".parse().unwrap(),
            host_port: Some(5005),
            protocol: crate::config::Protocol::Tcp,
        }]
    );
    let IpAddr::V6(v6) = planned.addresses[0] else {
        panic!("an IPv6 address first: {:?}", planned.addresses);
    };
    assert_eq!(v6.to_string(), "fd00:20:4::300");
    assert_eq!(spec.restart, Some(Restart::UnlessStopped));
    assert!(without.registry.is_none());
}
