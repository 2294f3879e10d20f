//! Every container and network dind creates, as dind's own description: the cluster's
//! network, DNS64, NAT64, the nodes, the host helper and the short-lived probes. Pure: the
//! least-privilege settings are unit-tested here, and the engine turns a spec into Docker's
//! request in one place (engine/body.rs).

use crate::config::{Config, Nat64Engine, Protocol};
use crate::labels::{self, Record};
use crate::plan::{self, ClusterPlan, Dns64Plan, Nat64Plan, NodePlan, RegistryPlan, Role};
use crate::render::node_files;
use ipnet::IpNet;
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

/// A container to create.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContainerSpec {
    /// None: an unnamed throwaway container.
    pub name: Option<String>,
    pub image: String,
    pub hostname: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub env: Vec<String>,
    /// None: the image's own.
    pub entrypoint: Option<Vec<String>>,
    /// None: the image's own.
    pub cmd: Option<Vec<String>>,
    pub tty: bool,
    pub privileged: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub security_opt: Vec<String>,
    pub sysctls: BTreeMap<String, String>,
    pub mounts: Vec<Mount>,
    /// Path -> mount options.
    pub tmpfs: BTreeMap<String, String>,
    /// Character devices passed through at the same path, read-write.
    pub devices: Vec<String>,
    pub network: Network,
    pub restart: Option<Restart>,
    /// DNS servers for Docker's embedded DNS to forward to; empty: the daemon's.
    pub dns: Vec<String>,
    /// Ports published on the Docker host.
    pub published: Vec<PublishedPort>,
    /// A cgroup namespace of its own, whatever the daemon's default.
    pub private_cgroupns: bool,
    /// Docker's init process; None: the daemon's default.
    pub init: Option<bool>,
    /// Stdin open for the one client that attaches before the start, and closed when that
    /// client's connection ends.
    pub stdin_once: bool,
    /// Docker removes the container once it exits.
    pub auto_remove: bool,
}

/// Where a container's network comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Network {
    /// Docker's default bridge.
    #[default]
    Default,
    /// Loopback only.
    None,
    /// The Docker host's own network namespace.
    Host,
    /// A user-defined network, with fixed addresses (the first IPv6 and the first IPv4 of
    /// `addresses` are used).
    Attached {
        network: String,
        addresses: Vec<IpAddr>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mount {
    /// An anonymous volume.
    Volume { target: String },
    /// A path of the Docker host.
    Bind {
        source: String,
        target: String,
        read_only: bool,
    },
}

impl Mount {
    pub(crate) fn target(&self) -> &str {
        match self {
            Mount::Volume { target } | Mount::Bind { target, .. } => target,
        }
    }
}

/// How a cluster's container comes back after a Docker daemon restart. The daemon's
/// shutdown stops every container without marking it stopped by hand; at its next start
/// it restarts `unless-stopped` containers whatever their exit code, and `on-failure`
/// ones only when they exited non-zero. A `docker stop` by hand keeps an `unless-stopped`
/// container stopped across daemon restarts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restart {
    /// The support containers and `--no-kubernetes` nodes: their entrypoints exit 0 on the
    /// daemon's SIGTERM.
    UnlessStopped,
    OnFailure {
        max_retries: i64,
    },
}

impl fmt::Display for Restart {
    /// As `docker run --restart` spells it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Restart::UnlessStopped => f.write_str("unless-stopped"),
            Restart::OnFailure { max_retries } if *max_retries > 0 => {
                write!(f, "on-failure:{max_retries}")
            }
            Restart::OnFailure { .. } => f.write_str("on-failure"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedPort {
    pub(crate) container_port: u16,
    pub(crate) host_ip: IpAddr,
    /// None: Docker picks one (at every start).
    pub(crate) host_port: Option<u16>,
    pub(crate) protocol: Protocol,
}

impl PublishedPort {
    /// Docker's key for the container side, `6443/tcp`.
    pub(crate) fn container_key(&self) -> String {
        format!("{}/{}", self.container_port, self.protocol.docker_name())
    }
}

pub(crate) fn tcp_port_key(port: u16) -> String {
    format!("{port}/tcp")
}

/// A bridge network to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NetworkSpec {
    pub(crate) name: String,
    pub(crate) ipv6: bool,
    pub(crate) subnets: Vec<SubnetSpec>,
    /// The Linux bridge's name on the Docker host.
    pub(crate) bridge: String,
    pub(crate) labels: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SubnetSpec {
    pub(crate) cidr: IpNet,
    pub(crate) gateway: IpAddr,
    pub(crate) ip_range: Option<IpNet>,
}

/// Whose a container or network is, as its labels say.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Owner<'a> {
    /// Part of a cluster: the labels carry its record.
    Cluster(&'a Record),
    /// Working for a cluster (helpers and probes): its id only.
    ClusterId(u8),
    /// Nobody's (an image probe before any cluster).
    Nobody,
}

/// The labels of everything dind creates: the one place they are made.
pub(crate) fn labels(owner: Owner<'_>, role: labels::Role) -> BTreeMap<String, String> {
    match owner {
        Owner::Cluster(record) => record.labels(role).into_iter().collect(),
        Owner::ClusterId(id) => BTreeMap::from([
            (labels::CLUSTER.to_string(), id.to_string()),
            (labels::ROLE.to_string(), role.as_label().to_string()),
        ]),
        Owner::Nobody => BTreeMap::from([(labels::ROLE.to_string(), role.as_label().to_string())]),
    }
}

pub(crate) fn network(plan: &ClusterPlan, record: &Record) -> NetworkSpec {
    NetworkSpec {
        name: plan.network.name.clone(),
        ipv6: plan.network.ipv6,
        subnets: plan
            .network
            .subnets
            .iter()
            .map(|s| SubnetSpec {
                cidr: s.cidr,
                gateway: s.gateway,
                ip_range: s.ip_range,
            })
            .collect(),
        bridge: plan.network.bridge.clone(),
        labels: labels(Owner::Cluster(record), labels::Role::Network),
    }
}

fn sysctls(ipv6_forwarding: bool) -> BTreeMap<String, String> {
    let mut map = BTreeMap::from([
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
fn node_sysctls(node: &NodePlan) -> BTreeMap<String, String> {
    let mut map = sysctls(true);
    if node.docker_dns_at.is_some() {
        map.insert("net.ipv4.conf.all.route_localnet".into(), "1".into());
    }
    map
}

/// `--upstream-dns` as the node's Docker DNS server: Docker's embedded DNS forwards there.
fn node_dns(node: &NodePlan) -> Vec<String> {
    node.docker_dns_upstream
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn attached(plan: &ClusterPlan, addresses: &[IpAddr]) -> Network {
    Network::Attached {
        network: plan.network.name.clone(),
        addresses: addresses.to_vec(),
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// What the cluster's support containers (DNS64, NAT64, registry) share: named after
/// themselves, labelled with the cluster's record, back after a daemon restart.
fn support_container(
    record: &Record,
    container: &str,
    role: labels::Role,
    image: &str,
) -> ContainerSpec {
    ContainerSpec {
        name: Some(container.to_string()),
        image: image.to_string(),
        hostname: Some(container.to_string()),
        labels: labels(Owner::Cluster(record), role),
        restart: Some(Restart::UnlessStopped),
        ..Default::default()
    }
}

pub(crate) fn dns64(
    plan: &ClusterPlan,
    record: &Record,
    dns64: &Dns64Plan,
    image: &str,
) -> ContainerSpec {
    ContainerSpec {
        // NET_ADMIN: drop the IPv4 address, route the DNS64 prefix via NAT64.
        cap_add: strings(&["NET_ADMIN"]),
        sysctls: sysctls(false),
        network: attached(plan, &[IpAddr::V6(dns64.address)]),
        ..support_container(record, &dns64.container, labels::Role::Dns64, image)
    }
}

pub(crate) fn nat64(
    plan: &ClusterPlan,
    record: &Record,
    nat64: &Nat64Plan,
    image: &str,
) -> ContainerSpec {
    // The image runs tayga unless told otherwise: a tayga container stays as it always was.
    let env = match nat64.engine {
        Nat64Engine::Tayga => Vec::new(),
        engine => vec![format!("{}={engine}", node_files::NAT64_ENGINE_ENV)],
    };
    ContainerSpec {
        // NET_ADMIN: create and route the tun device the translator works on.
        cap_add: strings(&["NET_ADMIN"]),
        env,
        devices: strings(&["/dev/net/tun"]),
        sysctls: sysctls(true),
        network: attached(
            plan,
            &[IpAddr::V6(nat64.address_v6), IpAddr::V4(nat64.address_v4)],
        ),
        ..support_container(record, &nat64.container, labels::Role::Nat64, image)
    }
}

/// The local registry: no capability at all, its port on the Docker host's IPv4 loopback
/// only (Docker's daemon pushes to `localhost:PORT` over plain HTTP without further setup).
pub(crate) fn registry(
    plan: &ClusterPlan,
    record: &Record,
    registry: &RegistryPlan,
    image: &str,
) -> ContainerSpec {
    ContainerSpec {
        cap_drop: strings(&["ALL"]),
        sysctls: sysctls(false),
        published: vec![PublishedPort {
            container_port: plan::REGISTRY_PORT,
            host_ip: IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            host_port: Some(registry.host_port),
            protocol: crate::config::Protocol::Tcp,
        }],
        network: attached(plan, &registry.addresses),
        ..support_container(record, &registry.container, labels::Role::Registry, image)
    }
}

pub(crate) fn node(
    plan: &ClusterPlan,
    record: &Record,
    node: &NodePlan,
    image: &str,
) -> ContainerSpec {
    if record.config.kubernetes {
        return kubernetes_node(plan, record, node, image);
    }
    ContainerSpec {
        name: Some(node.container.clone()),
        image: image.to_string(),
        hostname: Some(node.container.clone()),
        labels: labels(Owner::Cluster(record), node.role.into()),
        // NET_ADMIN: routes, the CNI bridge and its masquerade rules.
        // SYS_ADMIN + no AppArmor profile: network namespaces for pods (ip netns mounts).
        cap_add: strings(&["NET_ADMIN", "SYS_ADMIN"]),
        security_opt: strings(&["apparmor=unconfined"]),
        sysctls: node_sysctls(node),
        dns: node_dns(node),
        restart: Some(Restart::UnlessStopped),
        network: attached(plan, &node.addresses),
        published: user_ports(node),
        mounts: user_mounts(node),
        ..Default::default()
    }
}

/// The node's `extraPortMappings`, published where the user said.
fn user_ports(node: &NodePlan) -> Vec<PublishedPort> {
    node.port_mappings
        .iter()
        .map(|p| PublishedPort {
            container_port: p.container_port,
            host_ip: p.listen_address,
            host_port: Some(p.host_port),
            protocol: p.protocol,
        })
        .collect()
}

/// The node's `extraMounts`, bind mounts of the machine running dind.
fn user_mounts(node: &NodePlan) -> Vec<Mount> {
    node.extra_mounts
        .iter()
        .map(|m| Mount::Bind {
            source: m.host_path.clone(),
            target: m.container_path.clone(),
            read_only: m.read_only,
        })
        .collect()
}

/// The proxy settings of dind's environment (upper or lower case) that nodes pass on to
/// containerd and the kubelet, as kind does: none unless HTTP_PROXY or HTTPS_PROXY is set.
/// NO_PROXY gains the cluster's own ranges and names, so nothing inside the cluster goes
/// through the proxy.
pub(crate) fn proxy_settings(
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

/// The host's kernel modules, which kube-proxy's modprobe wants.
pub(crate) const HOST_MODULES: &str = "/lib/modules";

/// The same node without the read-only mount of the host's kernel modules.
pub(crate) fn without_host_modules(mut spec: ContainerSpec) -> ContainerSpec {
    spec.mounts.retain(|m| m.target() != HOST_MODULES);
    spec
}

/// What a Kubernetes node may do, instead of `--privileged` (which some hosts refuse, and
/// which would also hand it every device and kernel setting of the host): mounts,
/// namespaces and cgroups for systemd, containerd and runc (SYS_ADMIN); its pods' network,
/// routes and rules (NET_ADMIN); containerd's and runc's look into the processes of its
/// pods (SYS_PTRACE); systemd's halt, which makes a node stopped by the daemon exit
/// non-zero, so that `on-failure` brings it back (SYS_BOOT).
pub(crate) const KUBERNETES_NODE_CAPS: [&str; 4] =
    ["SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_BOOT"];

/// A node that runs systemd, containerd and the kubelet, as kind runs its nodes but with
/// explicit capabilities ([`KUBERNETES_NODE_CAPS`]) rather than privileged: seccomp and
/// AppArmor unconfined, tmpfs /run and /tmp, an anonymous /var volume (containerd's overlay
/// snapshots need a real filesystem under them), /lib/modules read-only, a private cgroup
/// namespace (its entrypoint makes the cgroups writable there, and shows the kubelet the
/// kernel settings it wants without changing the host's). The master publishes the API
/// server on the host's loopback only, on the port `up` picked.
fn kubernetes_node(
    plan: &ClusterPlan,
    record: &Record,
    node: &NodePlan,
    image: &str,
) -> ContainerSpec {
    let mut published = match node.role {
        Role::Master => vec![PublishedPort {
            container_port: plan::kubernetes::API_SERVER_PORT,
            host_ip: plan::kubernetes::published_loopback(record.config.ip_mode),
            host_port: record.api_server_port,
            protocol: Protocol::Tcp,
        }],
        Role::Worker => Vec::new(),
    };
    published.extend(user_ports(node));
    let mut mounts = vec![
        Mount::Volume {
            target: "/var".into(),
        },
        Mount::Bind {
            source: HOST_MODULES.into(),
            target: HOST_MODULES.into(),
            read_only: true,
        },
    ];
    mounts.extend(user_mounts(node));
    ContainerSpec {
        name: Some(node.container.clone()),
        image: image.to_string(),
        hostname: Some(node.container.clone()),
        labels: labels(Owner::Cluster(record), node.role.into()),
        env: std::iter::once("container=docker".to_string())
            .chain(proxy_env(record))
            .collect(),
        tty: true,
        cap_add: strings(&KUBERNETES_NODE_CAPS),
        security_opt: strings(&["seccomp=unconfined", "apparmor=unconfined"]),
        tmpfs: BTreeMap::from([
            ("/run".to_string(), "rw".to_string()),
            ("/tmp".to_string(), "rw".to_string()),
        ]),
        mounts,
        private_cgroupns: true,
        init: Some(false),
        // As kind: back after a daemon restart, and a crash is retried once only. It exits
        // non-zero when the daemon stops it: systemd halts on SIGRTMIN+3 (the image's stop
        // signal) with reboot(), which in a container's PID namespace kills it by SIGINT
        // (130) as it holds CAP_SYS_BOOT; one slower than the stop timeout is killed (137).
        // (Exit 0, which would stay down, comes only without CAP_SYS_BOOT.) Unlike
        // `unless-stopped`, a node stopped by hand comes back at the next daemon restart,
        // as kind's does.
        restart: Some(Restart::OnFailure { max_retries: 1 }),
        published,
        sysctls: node_sysctls(node),
        dns: node_dns(node),
        network: attached(plan, &node.addresses),
        ..Default::default()
    }
}

/// What a host helper may do: NET_ADMIN for routes and rules; SYS_ADMIN (and no AppArmor
/// profile) only for the one sysctl write, which needs /proc/sys remounted read-write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Privilege {
    NetAdmin,
    Sysctl,
}

/// A container on the Docker host's network that idles until its commands are run in it.
pub(crate) fn host_helper(
    name: &str,
    image: &str,
    cluster_id: u8,
    privilege: Privilege,
) -> ContainerSpec {
    let (cap_add, security_opt) = match privilege {
        Privilege::NetAdmin => (strings(&["NET_ADMIN", "NET_RAW"]), Vec::new()),
        Privilege::Sysctl => (
            strings(&["NET_ADMIN", "SYS_ADMIN"]),
            strings(&["apparmor=unconfined"]),
        ),
    };
    ContainerSpec {
        name: Some(name.to_string()),
        image: image.to_string(),
        entrypoint: Some(strings(&["sleep"])),
        cmd: Some(strings(&["infinity"])),
        labels: labels(Owner::ClusterId(cluster_id), labels::Role::HostHelper),
        network: Network::Host,
        cap_add,
        cap_drop: strings(&["ALL"]),
        security_opt,
        ..Default::default()
    }
}

/// Exits 0 when the Docker host has the character device /dev/net/tun: it sees the host's
/// /dev read-only, with no network and no capability.
pub(crate) fn tun_probe(name: &str, image: &str, cluster_id: u8) -> ContainerSpec {
    ContainerSpec {
        name: Some(name.to_string()),
        image: image.to_string(),
        entrypoint: Some(strings(&["test"])),
        cmd: Some(strings(&["-c", "/host/dev/net/tun"])),
        labels: labels(Owner::ClusterId(cluster_id), labels::Role::HostHelper),
        network: Network::None,
        cap_drop: strings(&["ALL"]),
        mounts: vec![Mount::Bind {
            source: "/dev".into(),
            target: "/host/dev".into(),
            read_only: true,
        }],
        ..Default::default()
    }
}

/// Prints the kubeadm version of a node image, with no network and no capability.
pub(crate) fn kubeadm_probe(image: &str, cluster_id: u8) -> ContainerSpec {
    ContainerSpec {
        image: image.to_string(),
        entrypoint: Some(strings(&["kubeadm"])),
        cmd: Some(strings(&["version", "-o", "short"])),
        labels: labels(Owner::ClusterId(cluster_id), labels::Role::ImageProbe),
        network: Network::None,
        cap_drop: strings(&["ALL"]),
        ..Default::default()
    }
}

/// Cluster `cluster_id`'s lock, held by `holder`: `cat` reads the stdin its holder attaches
/// and exits when that connection ends, and Docker then removes it. No network and no
/// capability; not labelled as the cluster's, so `down` leaves it to its holder.
pub(crate) fn cluster_lock(
    name: &str,
    image: &str,
    cluster_id: u8,
    holder: &labels::LockHolder,
) -> ContainerSpec {
    ContainerSpec {
        name: Some(name.to_string()),
        image: image.to_string(),
        // An entrypoint of its own: Docker then ignores the image's CMD.
        entrypoint: Some(strings(&["cat"])),
        labels: holder.labels(cluster_id),
        network: Network::None,
        cap_drop: strings(&["ALL"]),
        stdin_once: true,
        auto_remove: true,
        ..Default::default()
    }
}

/// A container of `image` that is created only to read its files, never started.
pub(crate) fn image_file_probe(image: &str) -> ContainerSpec {
    ContainerSpec {
        image: image.to_string(),
        entrypoint: Some(strings(&["true"])),
        labels: labels(Owner::Nobody, labels::Role::ImageProbe),
        network: Network::None,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests;
