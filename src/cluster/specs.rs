//! Container and network create requests for each role, built from the plan. Pure: the
//! least-privilege settings are unit-tested here.

use crate::config::Config;
use crate::labels::{self, Record};
use crate::plan::{ClusterPlan, Dns64Plan, Nat64Plan, NodePlan, Role};
use crate::render::kubeadm;
use bollard::models::{
    ContainerCreateBody, DeviceMapping, EndpointIpamConfig, EndpointSettings, HostConfig,
    HostConfigCgroupnsModeEnum, Ipam, IpamConfig, Mount, MountType, NetworkCreateRequest,
    NetworkingConfig, PortBinding, RestartPolicy, RestartPolicyNameEnum,
};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

pub fn network_request(plan: &ClusterPlan, record: &Record) -> NetworkCreateRequest {
    let config = plan
        .network
        .subnets
        .iter()
        .map(|s| IpamConfig {
            subnet: Some(s.cidr.to_string()),
            gateway: Some(s.gateway.to_string()),
            ip_range: s.ip_range.map(|r| r.to_string()),
            ..Default::default()
        })
        .collect();
    NetworkCreateRequest {
        name: plan.network.name.clone(),
        driver: Some("bridge".into()),
        enable_ipv6: Some(plan.network.ipv6),
        ipam: Some(Ipam {
            driver: Some("default".into()),
            config: Some(config),
            options: None,
        }),
        options: Some(HashMap::from([(
            "com.docker.network.bridge.name".to_string(),
            plan.network.bridge.clone(),
        )])),
        labels: Some(record.labels(labels::Role::Network)),
        ..Default::default()
    }
}

fn sysctls(ipv6_forwarding: bool) -> HashMap<String, String> {
    let mut map = HashMap::from([
        (
            "net.ipv6.conf.all.disable_ipv6".to_string(),
            "0".to_string(),
        ),
        (
            "net.ipv6.conf.default.disable_ipv6".to_string(),
            "0".to_string(),
        ),
    ]);
    if ipv6_forwarding {
        map.insert("net.ipv6.conf.all.forwarding".into(), "1".into());
        map.insert("net.ipv4.ip_forward".into(), "1".into());
    }
    map
}

/// A node's sysctls: forwarding, and where it hands DNS to Docker's embedded DNS, loopback
/// destinations for its pods' packets (`route_localnet`; that DNS listens on 127.0.0.11).
fn node_sysctls(node: &NodePlan) -> HashMap<String, String> {
    let mut map = sysctls(true);
    if node.docker_dns_at.is_some() {
        map.insert("net.ipv4.conf.all.route_localnet".into(), "1".into());
    }
    map
}

/// `--upstream-dns` as the node's Docker DNS server: Docker's embedded DNS forwards there.
fn node_dns(node: &NodePlan) -> Option<Vec<String>> {
    node.docker_dns_upstream.map(|ip| vec![ip.to_string()])
}

fn endpoint(plan: &ClusterPlan, addresses: &[IpAddr]) -> NetworkingConfig {
    let ipv4 = addresses
        .iter()
        .find(|a| a.is_ipv4())
        .map(|a| a.to_string());
    let ipv6 = addresses
        .iter()
        .find(|a| a.is_ipv6())
        .map(|a| a.to_string());
    NetworkingConfig {
        endpoints_config: Some(HashMap::from([(
            plan.network.name.clone(),
            EndpointSettings {
                ipam_config: Some(EndpointIpamConfig {
                    ipv4_address: ipv4,
                    ipv6_address: ipv6,
                    ..Default::default()
                }),
                ..Default::default()
            },
        )])),
    }
}

fn node_role(node: &NodePlan) -> labels::Role {
    node.role.into()
}

fn caps(names: &[&str]) -> Option<Vec<String>> {
    Some(names.iter().map(|s| s.to_string()).collect())
}

/// Support containers come back after a daemon restart.
fn restart_unless_stopped() -> Option<RestartPolicy> {
    Some(RestartPolicy {
        name: Some(RestartPolicyNameEnum::UNLESS_STOPPED),
        maximum_retry_count: None,
    })
}

pub fn dns64_container(
    plan: &ClusterPlan,
    record: &Record,
    dns64: &Dns64Plan,
    image: &str,
) -> ContainerCreateBody {
    ContainerCreateBody {
        image: Some(image.to_string()),
        hostname: Some(dns64.container.clone()),
        labels: Some(record.labels(labels::Role::Dns64)),
        host_config: Some(HostConfig {
            // NET_ADMIN: drop the IPv4 address, route the DNS64 prefix via NAT64.
            cap_add: caps(&["NET_ADMIN"]),
            sysctls: Some(sysctls(false)),
            restart_policy: restart_unless_stopped(),
            ..Default::default()
        }),
        networking_config: Some(endpoint(plan, &[IpAddr::V6(dns64.address)])),
        ..Default::default()
    }
}

pub fn nat64_container(
    plan: &ClusterPlan,
    record: &Record,
    nat64: &Nat64Plan,
    image: &str,
) -> ContainerCreateBody {
    ContainerCreateBody {
        image: Some(image.to_string()),
        hostname: Some(nat64.container.clone()),
        labels: Some(record.labels(labels::Role::Nat64)),
        host_config: Some(HostConfig {
            // NET_ADMIN: create and route the tun device tayga translates on.
            cap_add: caps(&["NET_ADMIN"]),
            devices: Some(vec![DeviceMapping {
                path_on_host: Some("/dev/net/tun".into()),
                path_in_container: Some("/dev/net/tun".into()),
                cgroup_permissions: Some("rwm".into()),
            }]),
            sysctls: Some(sysctls(true)),
            restart_policy: restart_unless_stopped(),
            ..Default::default()
        }),
        networking_config: Some(endpoint(
            plan,
            &[IpAddr::V6(nat64.address_v6), IpAddr::V4(nat64.address_v4)],
        )),
        ..Default::default()
    }
}

pub fn node_container(
    plan: &ClusterPlan,
    record: &Record,
    node: &NodePlan,
    image: &str,
) -> ContainerCreateBody {
    if record.config.kubernetes {
        return kubernetes_node_container(plan, record, node, image);
    }
    let role = node_role(node);
    ContainerCreateBody {
        image: Some(image.to_string()),
        hostname: Some(node.container.clone()),
        labels: Some(record.labels(role)),
        host_config: Some(HostConfig {
            // NET_ADMIN: routes, the CNI bridge and its masquerade rules.
            // SYS_ADMIN + no AppArmor profile: network namespaces for pods (ip netns mounts).
            cap_add: caps(&["NET_ADMIN", "SYS_ADMIN"]),
            security_opt: Some(vec!["apparmor=unconfined".into()]),
            sysctls: Some(node_sysctls(node)),
            dns: node_dns(node),
            ..Default::default()
        }),
        networking_config: Some(endpoint(plan, &node.addresses)),
        ..Default::default()
    }
}

/// The proxy settings of dind's environment (upper or lower case) that nodes pass on to
/// containerd and the kubelet, as kind does: none unless HTTP_PROXY or HTTPS_PROXY is set.
/// NO_PROXY gains the cluster's own ranges and names, so nothing inside the cluster goes
/// through the proxy.
pub fn proxy_settings(
    var: impl Fn(&str) -> Option<String>,
    plan: &ClusterPlan,
    config: &Config,
) -> BTreeMap<String, String> {
    let get = |name: &str| {
        var(name)
            .or_else(|| var(&name.to_lowercase()))
            .filter(|v| !v.trim().is_empty())
    };
    let mut settings = BTreeMap::new();
    for name in ["HTTP_PROXY", "HTTPS_PROXY"] {
        if let Some(value) = get(name) {
            settings.insert(name.to_string(), value);
        }
    }
    if settings.is_empty() {
        return settings;
    }
    let mut no_proxy: Vec<String> = get("NO_PROXY")
        .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
        .unwrap_or_default();
    let own = ["localhost", "127.0.0.1", "::1"]
        .into_iter()
        .map(str::to_string)
        .chain(plan.network.subnets.iter().map(|s| s.cidr.to_string()))
        .chain(config.pod_cidrs.iter().map(ToString::to_string))
        .chain(config.service_cidrs.iter().map(ToString::to_string))
        .chain(plan.nodes.iter().map(|n| n.container.clone()))
        .chain(
            [".svc", ".svc.cluster.local", ".cluster.local"]
                .into_iter()
                .map(str::to_string),
        );
    for entry in own {
        if !no_proxy.contains(&entry) {
            no_proxy.push(entry);
        }
    }
    no_proxy.retain(|e| !e.is_empty());
    settings.insert("NO_PROXY".to_string(), no_proxy.join(","));
    settings
}

/// Each setting under both spellings: tools differ in which one they read.
fn proxy_env(record: &Record) -> impl Iterator<Item = String> + '_ {
    record.proxy.iter().flat_map(|(name, value)| {
        [
            format!("{name}={value}"),
            format!("{}={value}", name.to_lowercase()),
        ]
    })
}

const HOST_MODULES: &str = "/lib/modules";

/// Docker refuses a bind mount whose source is missing on its host.
pub fn is_missing_host_modules(err: &anyhow::Error) -> bool {
    format!("{err:#}").contains(&format!("bind source path does not exist: {HOST_MODULES}"))
}

/// runc could not grant a privileged container every capability (the daemon itself runs
/// with a reduced bounding set, as in some CI sandboxes).
pub fn is_privilege_refused(err: &anyhow::Error) -> bool {
    format!("{err:#}").contains("unable to apply caps")
}

/// The same node without the read-only mount of the host's kernel modules.
pub fn without_host_modules(mut body: ContainerCreateBody) -> ContainerCreateBody {
    if let Some(mounts) = body.host_config.as_mut().and_then(|h| h.mounts.as_mut()) {
        mounts.retain(|m| m.target.as_deref() != Some(HOST_MODULES));
    }
    body
}

/// A node that runs systemd, containerd and the kubelet, as kind runs its nodes: privileged
/// (the kubelet manages cgroups, mounts and iptables), seccomp and AppArmor unconfined, tmpfs
/// /run and /tmp, an anonymous /var volume (containerd's overlay snapshots need a real
/// filesystem under them), /lib/modules read-only, a private cgroup namespace. The master
/// publishes the API server on the host's loopback only, on the port `up` picked.
fn kubernetes_node_container(
    plan: &ClusterPlan,
    record: &Record,
    node: &NodePlan,
    image: &str,
) -> ContainerCreateBody {
    let role = node_role(node);
    let api_port = format!("{}/tcp", kubeadm::API_SERVER_PORT);
    let published = (node.role == Role::Master).then(|| {
        HashMap::from([(
            api_port.clone(),
            Some(vec![PortBinding {
                host_ip: Some(kubeadm::published_loopback(record.config.ip_mode).to_string()),
                // Empty: Docker picks one (at every start).
                host_port: Some(
                    record
                        .api_server_port
                        .map(|p| p.to_string())
                        .unwrap_or_default(),
                ),
            }]),
        )])
    });
    ContainerCreateBody {
        image: Some(image.to_string()),
        hostname: Some(node.container.clone()),
        labels: Some(record.labels(role)),
        env: Some(
            std::iter::once("container=docker".to_string())
                .chain(proxy_env(record))
                .collect(),
        ),
        tty: Some(true),
        exposed_ports: published.as_ref().map(|_| vec![api_port.clone()]),
        host_config: Some(HostConfig {
            privileged: Some(true),
            security_opt: Some(vec![
                "seccomp=unconfined".into(),
                "apparmor=unconfined".into(),
            ]),
            tmpfs: Some(HashMap::from([
                ("/run".to_string(), "rw".to_string()),
                ("/tmp".to_string(), "rw".to_string()),
            ])),
            mounts: Some(vec![
                Mount {
                    target: Some("/var".into()),
                    typ: Some(MountType::VOLUME),
                    ..Default::default()
                },
                Mount {
                    target: Some(HOST_MODULES.into()),
                    source: Some(HOST_MODULES.into()),
                    typ: Some(MountType::BIND),
                    read_only: Some(true),
                    ..Default::default()
                },
            ]),
            cgroupns_mode: Some(HostConfigCgroupnsModeEnum::PRIVATE),
            init: Some(false),
            // As kind: back after a daemon restart (which kills it), not after `docker stop`.
            restart_policy: Some(RestartPolicy {
                name: Some(RestartPolicyNameEnum::ON_FAILURE),
                maximum_retry_count: Some(1),
            }),
            port_bindings: published,
            sysctls: Some(node_sysctls(node)),
            dns: node_dns(node),
            ..Default::default()
        }),
        networking_config: Some(endpoint(plan, &node.addresses)),
        ..Default::default()
    }
}
