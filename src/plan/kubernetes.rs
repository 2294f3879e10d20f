//! Kubernetes facts derived from the config: where the API server listens and is published,
//! the cluster DNS service's address, the resolvers CoreDNS forwards to, the kubeconfig
//! context's name.

use super::ClusterPlan;
use crate::config::{Config, IpMode};
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The API server's port inside the master node.
pub(crate) const API_SERVER_PORT: u16 = 6443;

/// The host address the API server is published on. Docker's port proxy forwards a
/// binding on ::1 to the node's IPv6 address and one on 127.0.0.1 to its IPv4 address,
/// and IPv6-only nodes have none.
pub(crate) fn published_loopback(ip_mode: IpMode) -> IpAddr {
    match ip_mode {
        IpMode::Ipv6 => IpAddr::V6(Ipv6Addr::LOCALHOST),
        IpMode::Ipv4 | IpMode::DualStack => IpAddr::V4(Ipv4Addr::LOCALHOST),
    }
}

/// `host:port`, with brackets around an IPv6 host.
pub(crate) fn host_port(ip: IpAddr, port: u16) -> String {
    std::net::SocketAddr::new(ip, port).to_string()
}

/// The API server's URL on the Docker host, as the kubeconfig and `status` show it.
pub(crate) fn api_server_url(host: IpAddr, port: u16) -> String {
    format!("https://{}", host_port(host, port))
}

/// The cluster DNS service's address: the primary service CIDR's tenth address, as kubeadm
/// picks it.
pub(crate) fn dns_service_ip(config: &Config) -> IpAddr {
    match config.primary_service_cidr() {
        IpNet::V4(n) => IpAddr::V4(Ipv4Addr::from(u32::from(n.network()) + 10)),
        IpNet::V6(n) => IpAddr::V6(Ipv6Addr::from(u128::from(n.network()) + 10)),
    }
}

/// The API server's Service (`kubernetes.default`): the primary service CIDR's first
/// address, as the API server takes it.
pub(crate) fn api_service_ip(config: &Config) -> IpAddr {
    match config.primary_service_cidr() {
        IpNet::V4(n) => IpAddr::V4(Ipv4Addr::from(u32::from(n.network()) + 1)),
        IpNet::V6(n) => IpAddr::V6(Ipv6Addr::from(u128::from(n.network()) + 1)),
    }
}

/// The resolvers pods' DNS (CoreDNS) forwards to: the nodes' own, which is DNS64 in ipv6
/// mode and elsewhere the address each node hands to Docker's embedded DNS (127.0.0.11 is
/// unreachable from a pod).
pub(crate) fn upstream_resolvers(plan: &ClusterPlan) -> Vec<IpAddr> {
    plan.nodes
        .first()
        .map(|master| master.resolver)
        .into_iter()
        .collect()
}

/// `dind` for cluster 0, `dind-cluster-N` otherwise: the name of the cluster, user and
/// context entries dind owns.
pub(crate) fn context_name(cluster_id: u8) -> String {
    if cluster_id == 0 {
        "dind".to_string()
    } else {
        format!("dind-cluster-{cluster_id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_name_is_dind_for_cluster_0_and_numbered_otherwise() {
        assert_eq!(context_name(0), "dind");
        assert_eq!(context_name(1), "dind-cluster-1");
        assert_eq!(context_name(42), "dind-cluster-42");
        assert_eq!(context_name(255), "dind-cluster-255");
    }
}
