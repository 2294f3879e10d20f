//! Each field of a spec lands where Docker reads it, and an empty one is left to Docker.

use super::*;
use crate::render::containers::{PublishedPort, SubnetSpec};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fn full_spec() -> ContainerSpec {
    ContainerSpec {
        name: Some("kube-master".into()),
        image: "img".into(),
        hostname: Some("kube-master".into()),
        labels: BTreeMap::from([("k".to_string(), "v".to_string())]),
        env: vec!["container=docker".into()],
        entrypoint: Some(vec!["sleep".into()]),
        cmd: Some(vec!["infinity".into()]),
        tty: true,
        privileged: true,
        cap_add: vec!["NET_ADMIN".into()],
        cap_drop: vec!["ALL".into()],
        security_opt: vec!["seccomp=unconfined".into()],
        sysctls: BTreeMap::from([("net.ipv4.ip_forward".to_string(), "1".to_string())]),
        mounts: vec![
            Mount::Volume {
                target: "/var".into(),
            },
            Mount::Bind {
                source: "/lib/modules".into(),
                target: "/lib/modules".into(),
                read_only: true,
            },
        ],
        tmpfs: BTreeMap::from([("/run".to_string(), "rw".to_string())]),
        devices: vec!["/dev/net/tun".into()],
        network: Network::Attached {
            network: "kubeadm-dind-net".into(),
            addresses: vec![
                IpAddr::V4(Ipv4Addr::new(172, 18, 0, 2)),
                IpAddr::V6("fd00:20::2".parse::<Ipv6Addr>().unwrap()),
                IpAddr::V6("fd00:20::3".parse::<Ipv6Addr>().unwrap()),
            ],
        },
        restart: Some(Restart::OnFailure { max_retries: 1 }),
        dns: vec!["192.0.2.53".into()],
        published: vec![PublishedPort {
            container_port: 6443,
            host_ip: IpAddr::V6(Ipv6Addr::LOCALHOST),
            host_port: Some(40123),
            protocol: crate::config::Protocol::Tcp,
        }],
        private_cgroupns: true,
        init: Some(false),
        stdin_once: true,
        auto_remove: true,
    }
}

#[test]
fn every_field_of_a_container_spec_reaches_docker() {
    let body = container_body(&full_spec());
    assert_eq!(body.image.as_deref(), Some("img"));
    assert_eq!(body.hostname.as_deref(), Some("kube-master"));
    assert_eq!(body.labels.unwrap()["k"], "v");
    assert_eq!(body.env.unwrap(), ["container=docker"]);
    assert_eq!(body.entrypoint.unwrap(), ["sleep"]);
    assert_eq!(body.cmd.unwrap(), ["infinity"]);
    assert_eq!(body.tty, Some(true));
    assert_eq!(
        (body.open_stdin, body.stdin_once, body.attach_stdin),
        (Some(true), Some(true), Some(true))
    );
    assert_eq!(body.exposed_ports.unwrap(), ["6443/tcp"]);

    let host = body.host_config.unwrap();
    assert_eq!(host.privileged, Some(true));
    assert_eq!(host.cap_add.unwrap(), ["NET_ADMIN"]);
    assert_eq!(host.cap_drop.unwrap(), ["ALL"]);
    assert_eq!(host.security_opt.unwrap(), ["seccomp=unconfined"]);
    assert_eq!(host.sysctls.unwrap()["net.ipv4.ip_forward"], "1");
    assert_eq!(host.tmpfs.unwrap()["/run"], "rw");
    let mounts = host.mounts.unwrap();
    assert_eq!(mounts[0].typ, Some(MountType::VOLUME));
    assert_eq!(mounts[0].target.as_deref(), Some("/var"));
    assert_eq!(mounts[0].source, None);
    assert_eq!(mounts[1].typ, Some(MountType::BIND));
    assert_eq!(mounts[1].source.as_deref(), Some("/lib/modules"));
    assert_eq!(mounts[1].read_only, Some(true));
    let devices = host.devices.unwrap();
    assert_eq!(devices[0].path_on_host.as_deref(), Some("/dev/net/tun"));
    assert_eq!(
        devices[0].path_in_container.as_deref(),
        Some("/dev/net/tun")
    );
    assert_eq!(devices[0].cgroup_permissions.as_deref(), Some("rwm"));
    assert_eq!(host.network_mode, None);
    let restart = host.restart_policy.unwrap();
    assert_eq!(restart.name, Some(RestartPolicyNameEnum::ON_FAILURE));
    assert_eq!(restart.maximum_retry_count, Some(1));
    assert_eq!(host.dns.unwrap(), ["192.0.2.53"]);
    let api = host.port_bindings.unwrap()["6443/tcp"].clone().unwrap();
    assert_eq!(api[0].host_ip.as_deref(), Some("::1"));
    assert_eq!(api[0].host_port.as_deref(), Some("40123"));
    assert_eq!(
        host.cgroupns_mode,
        Some(HostConfigCgroupnsModeEnum::PRIVATE)
    );
    assert_eq!(host.init, Some(false));
    assert_eq!(host.auto_remove, Some(true));

    // The first address of each family, on the named network.
    let endpoints = body.networking_config.unwrap().endpoints_config.unwrap();
    let ipam = endpoints["kubeadm-dind-net"].ipam_config.clone().unwrap();
    assert_eq!(ipam.ipv4_address.as_deref(), Some("172.18.0.2"));
    assert_eq!(ipam.ipv6_address.as_deref(), Some("fd00:20::2"));
}

#[test]
fn an_unset_field_is_left_to_docker() {
    let body = container_body(&ContainerSpec {
        image: "img".into(),
        ..Default::default()
    });
    assert_eq!(body.env, None);
    assert_eq!(body.tty, None);
    assert_eq!(
        (body.open_stdin, body.stdin_once, body.attach_stdin),
        (None, None, None)
    );
    assert_eq!(body.exposed_ports, None);
    assert_eq!(body.networking_config, None);
    // Labels are always set: dind finds its objects by them.
    assert_eq!(body.labels, Some(HashMap::new()));
    let host = body.host_config.unwrap();
    assert_eq!(host, HostConfig::default());
}

#[test]
fn a_port_without_a_host_port_lets_docker_pick_one() {
    let mut spec = full_spec();
    spec.published[0].host_port = None;
    let bindings = container_body(&spec)
        .host_config
        .unwrap()
        .port_bindings
        .unwrap();
    assert_eq!(
        bindings["6443/tcp"].clone().unwrap()[0]
            .host_port
            .as_deref(),
        Some("")
    );
}

#[test]
fn host_and_no_network_are_network_modes() {
    let mode = |network| {
        container_body(&ContainerSpec {
            network,
            ..Default::default()
        })
        .host_config
        .unwrap()
        .network_mode
    };
    assert_eq!(mode(Network::Host).as_deref(), Some("host"));
    assert_eq!(mode(Network::None).as_deref(), Some("none"));
    assert_eq!(mode(Network::Default), None);
    let unless_stopped = restart_policy(Restart::UnlessStopped);
    assert_eq!(
        unless_stopped.name,
        Some(RestartPolicyNameEnum::UNLESS_STOPPED)
    );
    assert_eq!(unless_stopped.maximum_retry_count, None);
}

#[test]
fn a_network_spec_becomes_a_bridge_with_its_subnets_and_labels() {
    let spec = NetworkSpec {
        name: "kubeadm-dind-net".into(),
        ipv6: true,
        subnets: vec![SubnetSpec {
            cidr: "fd00:20::/64".parse().unwrap(),
            gateway: "fd00:20::1".parse().unwrap(),
            ip_range: Some("fd00:20::/80".parse().unwrap()),
        }],
        bridge: "br-dind".into(),
        labels: BTreeMap::from([("k".to_string(), "v".to_string())]),
    };
    let request = network_request(&spec);
    assert_eq!(request.name, "kubeadm-dind-net");
    assert_eq!(request.driver.as_deref(), Some("bridge"));
    assert_eq!(request.enable_ipv6, Some(true));
    let ipam = request.ipam.unwrap();
    assert_eq!(ipam.driver.as_deref(), Some("default"));
    let subnet = &ipam.config.unwrap()[0];
    assert_eq!(subnet.subnet.as_deref(), Some("fd00:20::/64"));
    assert_eq!(subnet.gateway.as_deref(), Some("fd00:20::1"));
    assert_eq!(subnet.ip_range.as_deref(), Some("fd00:20::/80"));
    assert_eq!(
        request.options.unwrap()["com.docker.network.bridge.name"],
        "br-dind"
    );
    assert_eq!(request.labels.unwrap()["k"], "v");
}

#[test]
fn one_container_port_on_two_host_addresses_keeps_both_bindings_and_each_protocol_its_key() {
    use crate::config::Protocol;
    let mut spec = full_spec();
    let port = |host_ip: IpAddr, protocol| PublishedPort {
        container_port: 53,
        host_ip,
        host_port: Some(18053),
        protocol,
    };
    spec.published = vec![
        port(IpAddr::V6(Ipv6Addr::LOCALHOST), Protocol::Udp),
        port(IpAddr::V6(Ipv6Addr::UNSPECIFIED), Protocol::Udp),
        port(IpAddr::V6(Ipv6Addr::LOCALHOST), Protocol::Tcp),
    ];
    let body = container_body(&spec);
    let mut exposed = body.exposed_ports.clone().unwrap();
    exposed.sort();
    assert_eq!(exposed, ["53/tcp", "53/udp"]);
    let bindings = body.host_config.unwrap().port_bindings.unwrap();
    let udp: Vec<String> = bindings["53/udp"]
        .clone()
        .unwrap()
        .into_iter()
        .map(|b| b.host_ip.unwrap())
        .collect();
    assert_eq!(udp, ["::1", "::"]);
    assert_eq!(bindings["53/tcp"].clone().unwrap().len(), 1);
}
