//! The address plan: a pure function from a [`Config`] to every name, subnet, address and
//! route of a cluster. k-d-c's address rules live here, with its bugs fixed (see tests).

pub(crate) mod kubernetes;

pub(crate) use crate::config::{mgmt_v4_for_cluster, mgmt_v6_for_cluster, nat64_v4_subnet};
use crate::config::{
    Config, ExtraMount, IpMode, Nat64Engine, Nodes, PortMapping, Prefix, V4Prefix16,
};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClusterPlan {
    pub(crate) cluster_id: u8,
    /// "" for cluster 0, "-cluster-N" otherwise; appended to every name.
    pub(crate) suffix: String,
    pub network: NetworkPlan,
    pub dns64: Option<Dns64Plan>,
    pub nat64: Option<Nat64Plan>,
    pub nodes: Vec<NodePlan>,
    /// The local registry (`--registry`); None without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<RegistryPlan>,
    pub(crate) host: HostPlan,
}

/// The local registry: a container on the cluster network that the Docker host pushes to
/// at `localhost:host_port` and the nodes' containerd pulls `localhost:host_port/...` from
/// at its own address.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegistryPlan {
    pub container: String,
    /// Fixed addresses on the cluster network (none of IPv4 in ipv6 mode: Docker picks one
    /// from the NAT64 subnet's upper half).
    pub addresses: Vec<IpAddr>,
    /// Published on the Docker host's IPv4 loopback; also the name's port inside the nodes.
    pub host_port: u16,
}

/// Where the registry listens in its container.
pub(crate) const REGISTRY_PORT: u16 = 5000;
/// The registry of cluster N is `localhost:(5001 + N)` on the Docker host, as kind's local
/// registry guide uses 5001 (5000 is often taken, e.g. by macOS's AirPlay).
pub(crate) const REGISTRY_HOST_PORT_BASE: u16 = 5001;
const REGISTRY_HOST_V6: u128 = 0x300;
const REGISTRY_HOST_V4: u32 = 254;

impl RegistryPlan {
    /// The name images carry for the registry, in the nodes as on the Docker host.
    pub(crate) fn name(&self) -> String {
        format!("localhost:{}", self.host_port)
    }

    /// Where the nodes reach it: its IPv6 address when it has one, in brackets.
    pub(crate) fn endpoint(&self) -> String {
        let address = self
            .addresses
            .iter()
            .find(|a| a.is_ipv6())
            .or(self.addresses.first())
            .expect("a registry has an address");
        format!(
            "http://{}",
            std::net::SocketAddr::new(*address, REGISTRY_PORT)
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NetworkPlan {
    pub name: String,
    /// The Linux bridge on the Docker host; host rules match on it.
    pub(crate) bridge: String,
    pub subnets: Vec<SubnetPlan>,
    pub(crate) ipv6: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SubnetPlan {
    pub cidr: IpNet,
    pub(crate) gateway: IpAddr,
    /// Where Docker may hand out addresses by itself; keeps it away from the NAT64 pool.
    pub(crate) ip_range: Option<IpNet>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Dns64Plan {
    pub(crate) container: String,
    pub(crate) address: Ipv6Addr,
    #[serde(serialize_with = "crate::config::rfc6052::serialize")]
    pub(crate) prefix: Prefix,
    /// With `--upstream-dns`: its IPv4 address embedded in the prefix, so bind9's own queries
    /// cross NAT64 too (k-d-c's design). Without: Docker's embedded DNS in bind9's own
    /// namespace, which follows the Docker host's resolvers.
    pub forwarder: IpAddr,
    /// Delete the IPv4 address Docker gives bind9; it keeps it to reach Docker's embedded
    /// DNS, which forwards over IPv4.
    pub(crate) drop_ipv4: bool,
    pub(crate) allow_aaaa: bool,
    pub(crate) routes: Vec<Route>,
}

/// Docker's embedded DNS, in every container's own namespace on a user-defined network.
pub(crate) const DOCKER_DNS: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 11);

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Nat64Plan {
    pub(crate) container: String,
    pub(crate) address_v6: Ipv6Addr,
    pub(crate) address_v4: Ipv4Addr,
    #[serde(serialize_with = "crate::config::rfc6052::serialize")]
    pub(crate) prefix: Prefix,
    /// The translator it runs.
    pub engine: Nat64Engine,
    /// The dynamic pool the translator maps IPv6 clients into.
    pub pool: Ipv4Net,
    pub(crate) tun_device: String,
    /// Routes inside the NAT64 container, onto its tun device.
    pub(crate) routes: Vec<Route>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Role {
    Master,
    Worker,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodePlan {
    pub container: String,
    pub(crate) role: Role,
    /// k-d-c's node id: 1 for the master, k+1 for worker k.
    pub(crate) node_id: u8,
    pub addresses: Vec<IpAddr>,
    pub(crate) pod_cidrs: Vec<IpNet>,
    pub(crate) routes: Vec<Route>,
    /// The resolver written into the node's resolv.conf (its pods use it too): DNS64 in
    /// ipv6 mode, else the network's IPv4 gateway, where the node hands DNS to Docker's
    /// embedded DNS (`docker_dns_at`).
    pub(crate) resolver: IpAddr,
    /// Some(address): the node forwards DNS sent to this address (from its pods, too) to
    /// Docker's embedded DNS, which a pod cannot reach at 127.0.0.11 itself (as kind does).
    pub(crate) docker_dns_at: Option<Ipv4Addr>,
    /// Docker's embedded DNS forwards the node's queries here (`--upstream-dns`); None:
    /// to the Docker host's resolvers.
    pub(crate) docker_dns_upstream: Option<Ipv4Addr>,
    /// Delete the IPv4 address Docker gives the node on the NAT64 subnet: IPv6-only nodes.
    pub(crate) drop_ipv4: bool,
    /// What the node masquerades to its own address, one rule per pod CIDR of the node.
    pub(crate) masquerade: Vec<Masquerade>,
    /// The node's ports published on the Docker host (kind's `extraPortMappings`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) port_mappings: Vec<PortMapping>,
    /// Paths of the machine running dind mounted into the node (kind's `extraMounts`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) extra_mounts: Vec<ExtraMount>,
    /// Kubernetes node labels the kubelet registers the node with.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) labels: BTreeMap<String, String>,
}

/// Traffic from `source` (the node's pods) leaving for anywhere but `except` (every pod
/// CIDR of the cluster, of the same family) takes the node's address, as kindnet does: pods
/// see each other's own addresses, and everything else (the DNS64 server, the Docker host,
/// the Internet) sees the node, which is where their replies can be routed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Masquerade {
    pub(crate) source: IpNet,
    pub(crate) except: Vec<IpNet>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct Route {
    pub(crate) dst: IpNet,
    pub(crate) via: Option<IpAddr>,
    pub(crate) dev: Option<String>,
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.dst)?;
        if let Some(via) = self.via {
            write!(f, " via {via}")?;
        }
        if let Some(dev) = &self.dev {
            write!(f, " dev {dev}")?;
        }
        Ok(())
    }
}

impl Route {
    fn via(dst: IpNet, via: IpAddr) -> Route {
        Route {
            dst,
            via: Some(via),
            dev: None,
        }
    }
    fn dev(dst: IpNet, dev: &str) -> Route {
        Route {
            dst,
            via: None,
            dev: Some(dev.to_string()),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(crate) struct HostPlan {
    /// Routes on the Docker host (the NAT64 pool via tayga's IPv4 address).
    pub(crate) routes: Vec<Route>,
    /// IPv6 sources that the host forwards and masquerades out of the egress interface
    /// (`--allow-aaaa`); empty otherwise.
    pub(crate) direct_ipv6_sources: Vec<Ipv6Net>,
    pub(crate) egress_interface: Option<String>,
    /// The ip6tables comment on every rule of this cluster.
    pub(crate) rule_tag: String,
}

pub(crate) const NAT64_TUN: &str = "nat64";
const DNS64_HOST: u128 = 0x100;
const NAT64_HOST: u128 = 0x200;

pub(crate) fn suffix(cluster_id: u8) -> String {
    if cluster_id == 0 {
        String::new()
    } else {
        format!("-cluster-{cluster_id}")
    }
}

pub(crate) fn network_name(cluster_id: u8) -> String {
    format!("kubeadm-dind-net{}", suffix(cluster_id))
}

pub fn rule_tag(cluster_id: u8) -> String {
    format!("dind:cluster={cluster_id}")
}

fn v6_host(net: Ipv6Net, host: u128) -> Ipv6Addr {
    Ipv6Addr::from(u128::from(net.network()) + host)
}

fn v4_host(net: Ipv4Net, host: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(net.network()) + host)
}

/// Per-node pod subnet: one step longer by 8 bits, with the node id in those 8 bits.
pub(crate) fn pod_cidr_for_node(pods: IpNet, node_id: u8) -> IpNet {
    match pods {
        IpNet::V4(n) => {
            let [a, b, _, _] = n.network().octets();
            IpNet::V4(Ipv4Net::new(Ipv4Addr::new(a, b, node_id, 0), 24).expect("24 is valid"))
        }
        IpNet::V6(n) => {
            let len = n.prefix_len() + 8;
            let base = u128::from(n.network()) + (u128::from(node_id) << (128 - u32::from(len)));
            IpNet::V6(Ipv6Net::new(Ipv6Addr::from(base), len).expect("validated length"))
        }
    }
}

/// Why a configuration cannot be planned. `config::validate` refuses all of these; a record
/// read back from Docker (forged, or from another dind) is checked with [`plannable`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PlanError {
    #[error("{0} worker nodes is more than {max}", max = Nodes::MAX_WORKERS)]
    Nodes(u8),
    #[error("cluster id {cluster_id} does not fit the management prefix {base}")]
    MgmtIdOutsidePrefix { base: Ipv6Net, cluster_id: u8 },
    #[error("the IPv6 management prefix {0} is narrower than /112 (it holds ::100 and ::200)")]
    MgmtTooNarrow(Ipv6Net),
    #[error("NAT64 prefix {prefix} with cluster id {cluster_id} passes 255 in the second octet")]
    Nat64Overflow { prefix: V4Prefix16, cluster_id: u8 },
    #[error("the pod CIDR {0} leaves no 8 bits for the node id")]
    PodTooNarrow(IpNet),
}

/// Every reason [`plan`] could not plan `config` (empty: it can). Each is a precondition of
/// an address computation in `plan`, which would otherwise overflow or index out of range.
pub(crate) fn plannable(config: &Config) -> Vec<PlanError> {
    let mut problems = Vec::new();
    if config.nodes.workers() > Nodes::MAX_WORKERS {
        problems.push(PlanError::Nodes(config.nodes.workers()));
    }
    for net in &config.mgmt_cidrs {
        if let IpNet::V6(base) = net {
            if base.prefix_len() > 112 {
                problems.push(PlanError::MgmtTooNarrow(*base));
            } else if mgmt_v6_for_cluster(*base, config.cluster_id).is_none() {
                problems.push(PlanError::MgmtIdOutsidePrefix {
                    base: *base,
                    cluster_id: config.cluster_id,
                });
            }
        }
    }
    if config.ip_mode == IpMode::Ipv6 && nat64_v4_subnet(config).is_none() {
        problems.push(PlanError::Nat64Overflow {
            prefix: config.nat64_v4_prefix,
            cluster_id: config.cluster_id,
        });
    }
    for net in &config.pod_cidrs {
        if matches!(net, IpNet::V6(n) if n.prefix_len() > 120) {
            problems.push(PlanError::PodTooNarrow(*net));
        }
    }
    problems
}

/// Plans a validated configuration; one that [`plannable`] refuses is a bug of the caller.
pub fn plan(config: &Config) -> ClusterPlan {
    let id = config.cluster_id;
    let sfx = suffix(id);
    let mgmt = Mgmt::of(config);
    let translation = translation(config, mgmt, &sfx);
    let mut subnets = mgmt.subnets();
    let (dns64, nat64) = match translation {
        Some(Translation {
            subnet,
            dns64,
            nat64,
        }) => {
            subnets.insert(0, subnet);
            (Some(dns64), Some(nat64))
        }
        None => (None, None),
    };
    let dns = NodeDns::of(mgmt, dns64.as_ref());
    let nodes = nodes(config, mgmt, nat64.as_ref(), dns, &sfx);
    ClusterPlan {
        cluster_id: id,
        suffix: sfx.clone(),
        network: NetworkPlan {
            name: network_name(id),
            bridge: format!("br-dind{id}"),
            subnets,
            ipv6: mgmt.v6.is_some(),
        },
        host: host(config, mgmt, nat64.as_ref()),
        registry: registry(config, mgmt, &sfx),
        dns64,
        nat64,
        nodes,
    }
}

/// The cluster's management subnets, one per family of the configuration.
#[derive(Clone, Copy)]
struct Mgmt {
    v4: Option<Ipv4Net>,
    v6: Option<Ipv6Net>,
}

impl Mgmt {
    fn of(config: &Config) -> Mgmt {
        let id = config.cluster_id;
        Mgmt {
            v4: config.mgmt_cidrs.iter().find_map(|n| match n {
                IpNet::V4(n) => Some(mgmt_v4_for_cluster(*n, id)),
                IpNet::V6(_) => None,
            }),
            v6: config.mgmt_cidrs.iter().find_map(|n| match n {
                IpNet::V6(n) => {
                    Some(mgmt_v6_for_cluster(*n, id).expect("plannable: the id fits the prefix"))
                }
                IpNet::V4(_) => None,
            }),
        }
    }

    /// IPv4 first, then IPv6, each with its first address as the gateway.
    fn subnets(self) -> Vec<SubnetPlan> {
        let v4 = self.v4.map(|v4| SubnetPlan {
            cidr: IpNet::V4(v4),
            gateway: v4_host(v4, 1).into(),
            ip_range: None,
        });
        let v6 = self.v6.map(|v6| SubnetPlan {
            cidr: IpNet::V6(v6),
            gateway: v6_host(v6, 1).into(),
            ip_range: None,
        });
        v4.into_iter().chain(v6).collect()
    }

    /// A node's addresses, IPv4 first: host `node_id + 1` of each subnet.
    fn node_addresses(self, node_id: u8) -> Vec<IpAddr> {
        let host = u32::from(node_id) + 1;
        let mut addrs = Vec::new();
        if let Some(v4) = self.v4 {
            addrs.push(v4_host(v4, host).into());
        }
        if let Some(v6) = self.v6 {
            addrs.push(v6_host(v6, u128::from(host)).into());
        }
        addrs
    }
}

/// What an IPv6-only cluster adds to reach IPv4: the NAT64 subnet of the cluster network,
/// the translator and the DNS64 server.
struct Translation {
    subnet: SubnetPlan,
    dns64: Dns64Plan,
    nat64: Nat64Plan,
}

/// None unless the cluster is IPv6-only (and has an IPv6 management subnet).
fn translation(config: &Config, mgmt: Mgmt, sfx: &str) -> Option<Translation> {
    let v6 = mgmt.v6.filter(|_| config.ip_mode == IpMode::Ipv6)?;
    let v4 = nat64_v4_subnet(config).expect("plannable: the NAT64 octet fits");
    let nat64 = nat64(config, v4, v6, sfx);
    Some(Translation {
        subnet: nat64_subnet(v4),
        dns64: dns64(config, v6, nat64.address_v6, sfx),
        nat64,
    })
}

/// Docker hands out addresses itself only from the upper half of the /16, so no container
/// ever lands in tayga's pool (.0.128/25) or on tayga's .0.200.
fn nat64_subnet(v4: Ipv4Net) -> SubnetPlan {
    let upper_half = Ipv4Net::new(v4_host(v4, 0x8000), 17).expect("17 is valid");
    SubnetPlan {
        cidr: IpNet::V4(v4),
        gateway: v4_host(v4, 1).into(),
        ip_range: Some(IpNet::V4(upper_half)),
    }
}

fn nat64(config: &Config, v4: Ipv4Net, v6: Ipv6Net, sfx: &str) -> Nat64Plan {
    let pool = Ipv4Net::new(v4_host(v4, 128), 25).expect("25 is valid");
    Nat64Plan {
        container: format!("tayga{sfx}"),
        address_v6: v6_host(v6, NAT64_HOST),
        address_v4: v4_host(v4, 200),
        prefix: config.dns64_prefix,
        engine: config.nat64_engine,
        pool,
        tun_device: NAT64_TUN.to_string(),
        routes: vec![
            Route::dev(IpNet::V4(pool), NAT64_TUN),
            Route::dev(IpNet::V6(config.dns64_prefix.net()), NAT64_TUN),
        ],
    }
}

fn dns64(config: &Config, v6: Ipv6Net, nat64_v6: Ipv6Addr, sfx: &str) -> Dns64Plan {
    Dns64Plan {
        container: format!("bind9{sfx}"),
        address: v6_host(v6, DNS64_HOST),
        prefix: config.dns64_prefix,
        forwarder: match config.upstream_dns {
            Some(upstream) => config.dns64_prefix.embed(upstream).into(),
            None => DOCKER_DNS.into(),
        },
        drop_ipv4: config.upstream_dns.is_some(),
        allow_aaaa: config.allow_aaaa,
        routes: vec![Route::via(
            IpNet::V6(config.dns64_prefix.net()),
            nat64_v6.into(),
        )],
    }
}

/// Where every node sends DNS.
#[derive(Clone, Copy)]
struct NodeDns {
    resolver: IpAddr,
    docker_dns_at: Option<Ipv4Addr>,
}

impl NodeDns {
    fn of(mgmt: Mgmt, dns64: Option<&Dns64Plan>) -> NodeDns {
        // Without DNS64, nodes hand DNS sent to the network's IPv4 gateway to Docker's DNS.
        let docker_dns_at = mgmt.v4.filter(|_| dns64.is_none()).map(|v4| v4_host(v4, 1));
        let resolver: IpAddr = match (dns64, docker_dns_at) {
            (Some(dns64), _) => dns64.address.into(),
            (None, Some(gateway)) => gateway.into(),
            // Not a valid config (no family at all); Docker's resolver stays.
            (None, None) => DOCKER_DNS.into(),
        };
        NodeDns {
            resolver,
            docker_dns_at,
        }
    }
}

/// The master (node 1), then every worker.
fn nodes(
    config: &Config,
    mgmt: Mgmt,
    nat64: Option<&Nat64Plan>,
    dns: NodeDns,
    sfx: &str,
) -> Vec<NodePlan> {
    let node_ids: Vec<u8> = (1..=config.nodes.workers().saturating_add(1)).collect();
    node_ids
        .iter()
        .map(|&node_id| {
            let (role, container) = node_name(node_id, sfx);
            let spec = config.nodes.spec(usize::from(node_id - 1));
            NodePlan {
                port_mappings: spec
                    .map(|s| s.extra_port_mappings.clone())
                    .unwrap_or_default(),
                extra_mounts: spec.map(|s| s.extra_mounts.clone()).unwrap_or_default(),
                labels: spec.map(|s| s.labels.clone()).unwrap_or_default(),
                container,
                role,
                node_id,
                addresses: mgmt.node_addresses(node_id),
                pod_cidrs: node_pod_cidrs(config, node_id),
                routes: node_routes(config, mgmt, nat64, &node_ids, node_id),
                resolver: dns.resolver,
                docker_dns_at: dns.docker_dns_at,
                docker_dns_upstream: config.upstream_dns.filter(|_| dns.docker_dns_at.is_some()),
                drop_ipv4: config.ip_mode == IpMode::Ipv6,
                masquerade: masquerade(config, node_id),
            }
        })
        .collect()
}

fn node_name(node_id: u8, sfx: &str) -> (Role, String) {
    if node_id == 1 {
        (Role::Master, format!("kube-master{sfx}"))
    } else {
        (Role::Worker, format!("kube-node-{}{sfx}", node_id - 1))
    }
}

fn node_pod_cidrs(config: &Config, node_id: u8) -> Vec<IpNet> {
    config
        .pod_cidrs
        .iter()
        .map(|p| pod_cidr_for_node(*p, node_id))
        .collect()
}

/// The NAT64 prefix via the translator, then every other node's pod CIDRs via its address
/// of the same family.
fn node_routes(
    config: &Config,
    mgmt: Mgmt,
    nat64: Option<&Nat64Plan>,
    node_ids: &[u8],
    node_id: u8,
) -> Vec<Route> {
    let mut routes = Vec::new();
    if let Some(nat64) = nat64 {
        routes.push(Route::via(
            IpNet::V6(nat64.prefix.net()),
            nat64.address_v6.into(),
        ));
    }
    for &other in node_ids.iter().filter(|&&o| o != node_id) {
        for pod in node_pod_cidrs(config, other) {
            let gateway = mgmt
                .node_addresses(other)
                .into_iter()
                .find(|a| a.is_ipv4() == pod.addr().is_ipv4());
            if let Some(gateway) = gateway {
                routes.push(Route::via(pod, gateway));
            }
        }
    }
    routes
}

fn masquerade(config: &Config, node_id: u8) -> Vec<Masquerade> {
    node_pod_cidrs(config, node_id)
        .into_iter()
        .map(|source| Masquerade {
            source,
            except: config
                .pod_cidrs
                .iter()
                .filter(|p| p.addr().is_ipv6() == source.addr().is_ipv6())
                .copied()
                .collect(),
        })
        .collect()
}

fn host(config: &Config, mgmt: Mgmt, nat64: Option<&Nat64Plan>) -> HostPlan {
    HostPlan {
        routes: nat64
            .iter()
            .map(|n| Route::via(IpNet::V4(n.pool), n.address_v4.into()))
            .collect(),
        direct_ipv6_sources: direct_ipv6_sources(config, mgmt),
        egress_interface: config.egress_interface.clone(),
        rule_tag: rule_tag(config.cluster_id),
    }
}

/// With `--allow-aaaa`: the IPv6 management subnet and the IPv6 pod CIDRs.
fn direct_ipv6_sources(config: &Config, mgmt: Mgmt) -> Vec<Ipv6Net> {
    if !config.allow_aaaa {
        return Vec::new();
    }
    let mut sources: Vec<Ipv6Net> = mgmt.v6.into_iter().collect();
    sources.extend(config.pod_cidrs.iter().filter_map(|p| match p {
        IpNet::V6(n) => Some(*n),
        IpNet::V4(_) => None,
    }));
    sources
}

fn registry(config: &Config, mgmt: Mgmt, sfx: &str) -> Option<RegistryPlan> {
    config.registry.then(|| RegistryPlan {
        container: format!("dind-registry{sfx}"),
        addresses: mgmt
            .v6
            .map(|v6| IpAddr::V6(v6_host(v6, REGISTRY_HOST_V6)))
            .into_iter()
            .chain(mgmt.v4.map(|v4| IpAddr::V4(v4_host(v4, REGISTRY_HOST_V4))))
            .collect(),
        host_port: REGISTRY_HOST_PORT_BASE + u16::from(config.cluster_id),
    })
}

#[cfg(test)]
mod tests;
