//! Cluster configuration: four layers (default < file < environment < flags) merged into one
//! validated [`Config`]. Every setting is one row of the table in settings.rs (its flag,
//! variables, file key, default, help and check); every refusal names the setting, where its
//! value came from, and what would be accepted, and all of them are reported at once.
//! Imports nothing of the crate: the plan and the renderers build on it.

mod check;
mod cluster_ranges;
mod containerd_patch;
mod file;
mod layer;
mod nodes;
mod patch;
mod recheck;
pub(crate) mod rfc6052;
mod rules;
mod settings;
mod table;
mod validate;

pub(crate) use check::MAX_CLUSTER_ID;
pub use cluster_ranges::{mgmt_v4_for_cluster, mgmt_v6_for_cluster, nat64_v4_subnet};
pub use containerd_patch::ContainerdPatch;
pub use file::{load_file, read_file};
pub use layer::{Origin, Sourced};
pub use nodes::{list_overridden, Nodes};
pub(crate) use nodes::{ExtraMount, PortMapping, Protocol};
pub use patch::{KubeadmKind, KubeadmPatch, PATCHABLE_KINDS};
pub use recheck::recheck;
pub use rfc6052::Prefix;
pub use settings::Layer;
pub(crate) use settings::SETTINGS;
pub(crate) use table::Flag;
pub use validate::{parse_cluster_id, validate, ConfigError, Refusal};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// The IP families of a cluster's management network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum IpMode {
    Ipv4,
    Ipv6,
    DualStack,
}

impl FromStr for IpMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "ipv4" => Ok(IpMode::Ipv4),
            "ipv6" => Ok(IpMode::Ipv6),
            "dual-stack" | "dual" => Ok(IpMode::DualStack),
            other => Err(format!(
                "'{other}' is not an IP mode; use ipv6, ipv4 or dual-stack"
            )),
        }
    }
}

impl fmt::Display for IpMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IpMode::Ipv4 => "ipv4",
            IpMode::Ipv6 => "ipv6",
            IpMode::DualStack => "dual-stack",
        })
    }
}

/// The translator the NAT64 container runs. A new cluster gets dind-nat64 unless told
/// otherwise (the settings table's fallback); `Default` is what a record written before
/// there was a choice ran: tayga.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Nat64Engine {
    /// tayga, Debian's package.
    #[default]
    Tayga,
    /// dind's own translator (dind's executable, uploaded into the container).
    DindNat64,
}

impl Nat64Engine {
    pub(crate) const NAMES: &'static str = "tayga or dind-nat64";
}

impl FromStr for Nat64Engine {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "tayga" => Ok(Nat64Engine::Tayga),
            "dind-nat64" => Ok(Nat64Engine::DindNat64),
            other => Err(format!(
                "'{other}' is not a NAT64 engine; use {}",
                Nat64Engine::NAMES
            )),
        }
    }
}

impl fmt::Display for Nat64Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Nat64Engine::Tayga => "tayga",
            Nat64Engine::DindNat64 => "dind-nat64",
        })
    }
}

/// The first two octets of the IPv4 /16 that NAT64 maps IPv6 clients into, before the cluster
/// id is added to the second one (k-d-c's `NAT64_V4_SUBNET_PREFIX`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub(crate) struct V4Prefix16(pub u8, pub u8);

impl FromStr for V4Prefix16 {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("'{s}' is not two decimal octets like 172.18");
        let (a, b) = s.split_once('.').ok_or_else(bad)?;
        Ok(V4Prefix16(
            a.parse().map_err(|_| bad())?,
            b.parse().map_err(|_| bad())?,
        ))
    }
}

impl TryFrom<String> for V4Prefix16 {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<V4Prefix16> for String {
    fn from(p: V4Prefix16) -> String {
        p.to_string()
    }
}

impl fmt::Display for V4Prefix16 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

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

/// Every environment variable dind reads for its settings (the tests clear them all).
pub fn env_var_names() -> Vec<&'static str> {
    SETTINGS.iter().flat_map(|row| row.env.names()).collect()
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

/// A Kubernetes version: a minor (`v1.36`: the newest patch of it) or an exact patch release.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KubeVersion {
    pub(crate) minor: u32,
    pub(crate) patch: Option<u32>,
}

impl KubeVersion {
    /// The oldest minor dind's kubeadm configuration supports (kubeadm v1beta3).
    pub(crate) const OLDEST_MINOR: u32 = 30;

    /// kubeadm's configuration API: v1beta4 from Kubernetes 1.31 on.
    pub(crate) fn kubeadm_api(self) -> &'static str {
        if self.minor >= 31 {
            "kubeadm.k8s.io/v1beta4"
        } else {
            "kubeadm.k8s.io/v1beta3"
        }
    }

    /// `v1.36`, the path component of the pkgs.k8s.io repository.
    pub(crate) fn minor_tag(self) -> String {
        format!("v1.{}", self.minor)
    }
}

impl Default for KubeVersion {
    fn default() -> Self {
        defaults::KUBERNETES_VERSION
            .parse()
            .expect("the default version parses")
    }
}

impl FromStr for KubeVersion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("'{s}' is not a Kubernetes version like v1.36 or v1.36.4");
        let digits = s.trim().strip_prefix('v').unwrap_or(s.trim());
        let parts: Vec<&str> = digits.split('.').collect();
        let number = |p: &str| -> Result<u32, String> {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            p.parse().map_err(|_| bad())
        };
        let (minor, patch) = match parts[..] {
            ["1", minor] => (number(minor)?, None),
            ["1", minor, patch] => (number(minor)?, Some(number(patch)?)),
            _ => return Err(bad()),
        };
        Ok(KubeVersion { minor, patch })
    }
}

impl TryFrom<String> for KubeVersion {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<KubeVersion> for String {
    fn from(v: KubeVersion) -> String {
        v.to_string()
    }
}

impl fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.patch {
            Some(patch) => write!(f, "v1.{}.{patch}", self.minor),
            None => write!(f, "v1.{}", self.minor),
        }
    }
}

/// Defaults read outside the settings table too (the table has every setting's own).
pub(crate) mod defaults {
    pub(crate) const DNS64_PREFIX: &str = "fd00:10:64:ff9b::/96";
    pub(crate) const KUBERNETES_VERSION: &str = "v1.36";
    /// What `up --wait` looks up through CoreDNS when the config names no probes: a site
    /// without AAAA records, so in an ipv6 cluster the answer must come from DNS64.
    pub(crate) const WAIT_LOOKUP: &str = "github.com";
}

#[cfg(test)]
mod tests;
