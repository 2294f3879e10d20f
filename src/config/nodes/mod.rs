//! The cluster's nodes: a worker count, or kind's list of nodes (`- role: control-plane`,
//! `- role: worker`) with their port mappings, mounts and Kubernetes labels. The file gives
//! each list entry as a YAML document of its own; every refusal names the field's path.

mod check;
mod field_line;
mod label;

pub(super) use check::{check, shape};
use label::{label_key_problem, label_value_problem};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

/// What a node is for, as kind's `role:` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum NodeRole {
    #[serde(rename = "control-plane")]
    ControlPlane,
    #[serde(rename = "worker")]
    Worker,
}

/// The transport protocol of a published port, as kind spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub(crate) enum Protocol {
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    /// As Docker's port keys spell it: `80/tcp`.
    pub(crate) fn docker_name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.docker_name().to_ascii_uppercase())
    }
}

/// A port of a node published on the Docker host (kind's `extraPortMappings` entry).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PortMapping {
    pub(crate) container_port: u16,
    pub(crate) host_port: u16,
    pub(crate) listen_address: IpAddr,
    pub(crate) protocol: Protocol,
}

/// A path of the machine running dind, bind-mounted into a node (kind's `extraMounts`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExtraMount {
    /// Absolute: a relative one is resolved against the directory dind was run in.
    pub(crate) host_path: String,
    pub(crate) container_path: String,
    #[serde(default)]
    pub(crate) read_only: bool,
}

/// One node of kind's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NodeSpec {
    pub(crate) role: NodeRole,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) extra_port_mappings: Vec<PortMapping>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) extra_mounts: Vec<ExtraMount>,
    /// Kubernetes node labels, set by the kubelet at registration.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) labels: BTreeMap<String, String>,
}

impl NodeSpec {
    fn plain(role: NodeRole) -> NodeSpec {
        NodeSpec {
            role,
            extra_port_mappings: Vec::new(),
            extra_mounts: Vec::new(),
            labels: BTreeMap::new(),
        }
    }

    fn is_plain(&self) -> bool {
        self.extra_port_mappings.is_empty()
            && self.extra_mounts.is_empty()
            && self.labels.is_empty()
    }
}

/// Every node of the cluster: the master first, then the workers in the order given.
/// Recorded as the worker count when no node has settings of its own (as records always
/// were), else as kind's list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nodes(Vec<NodeSpec>);

impl Nodes {
    /// The most workers a cluster has: the plan gives each node an address of one /24 and a
    /// /24 (or /+8) of the pod CIDR by its node id, the master's 1.
    pub(crate) const MAX_WORKERS: u8 = 250;

    /// The master and `workers` workers, none with settings of its own.
    pub(crate) fn count(workers: u8) -> Nodes {
        Nodes(
            std::iter::once(NodeSpec::plain(NodeRole::ControlPlane))
                .chain((0..workers).map(|_| NodeSpec::plain(NodeRole::Worker)))
                .collect(),
        )
    }

    /// Workers, besides the master (a forged record's overlong list saturates; the plan
    /// refuses it).
    pub(crate) fn workers(&self) -> u8 {
        u8::try_from(self.0.len().saturating_sub(1)).unwrap_or(u8::MAX)
    }

    /// The spec of node `index` (0: the master); None past the list.
    pub(crate) fn spec(&self, index: usize) -> Option<&NodeSpec> {
        self.0.get(index)
    }

    /// Some node has ports, mounts or labels of its own (the record holds the list).
    pub(crate) fn has_settings(&self) -> bool {
        !self.0.iter().all(NodeSpec::is_plain)
    }

    /// What a decoded list (a record Docker holds) has that the config file's check
    /// refuses: zero ports, relative container paths, labels the kubelet would not take.
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (index, node) in self.0.iter().enumerate() {
            for port in &node.extra_port_mappings {
                if port.container_port == 0 || port.host_port == 0 {
                    problems.push(format!("node {index} publishes port 0"));
                }
            }
            for mount in &node.extra_mounts {
                if !mount.container_path.starts_with('/') || !mount.host_path.starts_with('/') {
                    problems.push(format!(
                        "node {index} mounts {} at {}: both must be absolute",
                        mount.host_path, mount.container_path
                    ));
                }
            }
            for (key, value) in &node.labels {
                if label_key_problem(key).is_some() || label_value_problem(value).is_some() {
                    problems.push(format!("node {index} has an invalid label {key}={value}"));
                }
            }
        }
        problems
    }
}

impl Default for Nodes {
    fn default() -> Self {
        Nodes::count(0)
    }
}

impl Serialize for Nodes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if !self.has_settings() {
            return serializer.serialize_u8(self.workers());
        }
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Nodes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Nodes, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Shape {
            Count(u8),
            List(Vec<NodeSpec>),
        }
        match Shape::deserialize(deserializer)? {
            Shape::Count(workers) => Ok(Nodes::count(workers)),
            Shape::List(list) => {
                let masters = list
                    .iter()
                    .filter(|n| n.role == NodeRole::ControlPlane)
                    .count();
                if masters != 1 || list[0].role != NodeRole::ControlPlane {
                    return Err(serde::de::Error::custom(
                        "a node list starts with the one control-plane node",
                    ));
                }
                Ok(Nodes(list))
            }
        }
    }
}

#[cfg(test)]
mod tests;
