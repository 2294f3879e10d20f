//! The validated configuration: what `validate` returns, the record stores, and the plan
//! reads.

use super::rfc6052::{self, Prefix};
use super::values::{IpMode, KubeVersion, Nat64Engine, V4Prefix16};
use super::{ContainerdPatch, KubeadmPatch, Nodes};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// A validated cluster configuration. Stored as JSON in the cluster's Docker labels, so every
/// later command works from what `up` was actually given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    pub(crate) cluster_id: u8,
    pub(crate) ip_mode: IpMode,
    /// The master first, then the workers; recorded as a worker count when no node has
    /// settings of its own.
    pub(crate) nodes: Nodes,
    pub allow_aaaa: bool,
    #[serde(with = "rfc6052")]
    pub(crate) dns64_prefix: Prefix,
    /// As given; the cluster id is added when planning.
    pub(crate) nat64_v4_prefix: V4Prefix16,
    /// The NAT64 translator; records written before there was a choice ran tayga.
    #[serde(default)]
    pub nat64_engine: Nat64Engine,
    /// The IPv4 resolver the cluster forwards to; None: the Docker host's own resolvers,
    /// reached through Docker's embedded DNS (127.0.0.11).
    pub(crate) upstream_dns: Option<Ipv4Addr>,
    /// None: use the interface of the Docker host's default route, found at `up` time.
    pub(crate) egress_interface: Option<String>,
    pub kubernetes: bool,
    /// As given; the cluster id is inserted when planning.
    pub(crate) mgmt_cidrs: Vec<IpNet>,
    pub(crate) pod_cidrs: Vec<IpNet>,
    /// The primary one first; two (one per family) only in dual-stack.
    #[serde(alias = "serviceCidr", deserialize_with = "one_or_many")]
    pub(crate) service_cidrs: Vec<IpNet>,
    /// None: the node image that dind builds itself.
    pub(crate) node_image: Option<String>,
    /// Kubernetes as files (an absolute path): dind's node image is built from them.
    #[serde(default)]
    pub(crate) kubernetes_from: Option<std::path::PathBuf>,
    /// Names `dind check network` probes when given none; the first is also the external
    /// name `up --wait` looks up through CoreDNS.
    #[serde(default)]
    pub(crate) probes: Vec<String>,
    /// Kubernetes version of dind's own node image.
    #[serde(default)]
    pub kubernetes_version: KubeVersion,
    /// Kubernetes feature gates, passed to every component.
    #[serde(default)]
    pub feature_gates: BTreeMap<String, bool>,
    /// YAML merge patches applied to the rendered kubeadm configuration documents.
    #[serde(default)]
    pub kubeadm_config_patches: Vec<KubeadmPatch>,
    /// A local registry container; records written before it existed have none.
    #[serde(default)]
    pub registry: bool,
    /// TOML documents merged into every node's containerd configuration.
    #[serde(default)]
    pub containerd_config_patches: Vec<ContainerdPatch>,
}

/// Records written before dual-stack clusters had two service CIDRs hold a single one.
fn one_or_many<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<IpNet>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(IpNet),
        Many(Vec<IpNet>),
    }
    match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(net) => Ok(vec![net]),
        OneOrMany::Many(nets) if nets.is_empty() => Err(serde::de::Error::custom(
            "a cluster has at least one service CIDR",
        )),
        OneOrMany::Many(nets) => Ok(nets),
    }
}

impl Config {
    /// The service CIDR whose family Kubernetes treats as primary.
    pub(crate) fn primary_service_cidr(&self) -> IpNet {
        self.service_cidrs[0]
    }
}

#[cfg(test)]
mod tests;
