//! The cluster's nodes: a worker count, or kind's list of nodes (`- role: control-plane`,
//! `- role: worker`) with their port mappings, mounts and Kubernetes labels. The file gives
//! each list entry as a YAML document of its own; every refusal names the field's path.

use super::layer::{Origin, Sourced};
use super::table::{Basis, Setting};
use super::validate::Refusal;
use super::IpMode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use yaml_serde::Value;

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

/// The keys of a node entry dind reads; kind's other keys are refused with what to use.
const ENTRY_KEYS: [&str; 4] = ["role", "labels", "extraPortMappings", "extraMounts"];
const PORT_KEYS: [&str; 4] = ["containerPort", "hostPort", "listenAddress", "protocol"];
const MOUNT_KEYS: [&str; 5] = [
    "hostPath",
    "containerPath",
    "readOnly",
    "selinuxRelabel",
    "propagation",
];

/// The `nodes` row's check: one number (a worker count, from any source), or the entries
/// of the config file's list, each a YAML mapping.
pub(super) fn check(
    row: &Setting,
    raw: &[Sourced],
    basis: &Basis,
    refusals: &mut Vec<Refusal>,
) -> Option<Nodes> {
    let from_file = |s: &Sourced| matches!(s.origin, Origin::FileEntry { .. });
    if let [count] = raw {
        if !from_file(count) {
            return match count.value.trim().parse::<u8>() {
                Ok(workers) if workers <= 250 => Some(Nodes::count(workers)),
                _ => {
                    refusals.push(Refusal::new(
                        row.name,
                        count,
                        "expected a number of workers from 0 to 250",
                    ));
                    None
                }
            };
        }
    }
    let before = refusals.len();
    // kind's empty list is one control-plane node.
    if raw.is_empty() {
        return Some(Nodes::count(0));
    }
    let mut checker = Checker {
        basis,
        refusals,
        published: Vec::new(),
    };
    let specs: Vec<Option<NodeSpec>> = raw
        .iter()
        .enumerate()
        .map(|(index, entry)| checker.entry(index, entry))
        .collect();
    let masters: Vec<usize> = specs
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s, Some(s) if s.role == NodeRole::ControlPlane))
        .map(|(i, _)| i)
        .collect();
    let roles_known = specs.iter().all(Option::is_some);
    if roles_known && masters.is_empty() {
        refusals.push(Refusal {
            setting: "nodes".into(),
            value: format!("{} workers", raw.len()),
            origin: raw[0].origin.to_string(),
            reason: "the list has no `role: control-plane` node; add one (dind's master)".into(),
        });
    }
    for &extra in masters.iter().skip(1) {
        refusals.push(Refusal {
            setting: format!("nodes[{extra}].role"),
            value: "control-plane".into(),
            origin: raw[extra].origin.to_string(),
            reason: format!(
                "dind runs one control-plane node (the master, nodes[{}]); make this one \
                 `role: worker` or drop it",
                masters[0]
            ),
        });
    }
    if raw.len() > 251 {
        refusals.push(Refusal {
            setting: "nodes".into(),
            value: format!("{} nodes", raw.len()),
            origin: raw[0].origin.to_string(),
            reason: "at most 250 workers besides the master".into(),
        });
    }
    if refusals.len() > before {
        return None;
    }
    let mut specs: Vec<NodeSpec> = specs.into_iter().flatten().collect();
    let master = specs.remove(masters[0]);
    specs.insert(0, master);
    Some(Nodes(specs))
}

struct Checker<'a> {
    basis: &'a Basis,
    refusals: &'a mut Vec<Refusal>,
    /// (host port, protocol, listen address, field path) of every port checked so far.
    published: Vec<(u16, Protocol, IpAddr, String)>,
}

/// What a YAML value is, for type errors.
pub(super) fn shape(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// A scalar as text, as a refusal shows it.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => shape(other).to_string(),
    }
}

impl Checker<'_> {
    /// Refuses the field at `path`, its origin the field's own line where it can be found.
    fn refuse(&mut self, path: &str, value: String, entry: &Sourced, reason: impl Into<String>) {
        let mut origin = entry.origin.clone();
        if let Origin::FileEntry {
            line: Some(line),
            as_written: true,
            ..
        } = &mut origin
        {
            *line += field_line(&entry.value, path);
        }
        self.refusals.push(Refusal {
            setting: path.to_string(),
            value,
            origin: origin.to_string(),
            reason: reason.into(),
        });
    }

    /// The keys of `map` not in `known`, each refused.
    fn unknown_keys(
        &mut self,
        path: &str,
        map: &yaml_serde::Mapping,
        known: &[&str],
        entry: &Sourced,
    ) {
        for key in map.keys() {
            let name = text(key);
            if known.contains(&name.as_str()) {
                continue;
            }
            let reason = match name.as_str() {
                "image" if path.ends_with(']') => {
                    "dind gives every node the same image; use the top-level `nodeImage`".into()
                }
                "kubeadmConfigPatches" | "kubeadmConfigPatchesJSON6902" => {
                    "dind takes kubeadm patches for the whole cluster only; use the top-level \
                     `kubeadmConfigPatches`"
                        .into()
                }
                _ => format!("unknown field; expected one of {}", known.join(", ")),
            };
            self.refuse(&format!("{path}.{name}"), name.clone(), entry, reason);
        }
    }

    fn entry(&mut self, index: usize, entry: &Sourced) -> Option<NodeSpec> {
        let path = format!("nodes[{index}]");
        let value: Value = match yaml_serde::from_str(&entry.value) {
            Ok(value) => value,
            Err(e) => {
                self.refuse(&path, entry.value.clone(), entry, format!("not YAML: {e}"));
                return None;
            }
        };
        let Value::Mapping(map) = &value else {
            self.refuse(
                &path,
                text(&value),
                entry,
                format!(
                    "a node is a mapping like `role: worker`, got {}",
                    shape(&value)
                ),
            );
            return None;
        };
        let before = self.refusals.len();
        self.unknown_keys(&path, map, &ENTRY_KEYS, entry);
        let role = match map.get("role") {
            None => {
                self.refuse(
                    &format!("{path}.role"),
                    String::new(),
                    entry,
                    "missing; give `role: control-plane` or `role: worker`",
                );
                None
            }
            Some(Value::String(s)) if s == "control-plane" => Some(NodeRole::ControlPlane),
            Some(Value::String(s)) if s == "worker" => Some(NodeRole::Worker),
            Some(other) => {
                self.refuse(
                    &format!("{path}.role"),
                    text(other),
                    entry,
                    "use control-plane or worker",
                );
                None
            }
        };
        let labels = self.labels(&path, map.get("labels"), entry);
        let ports = self.list(&path, "extraPortMappings", map, entry, Checker::port);
        let mounts = self.list(&path, "extraMounts", map, entry, Checker::mount);
        if self.refusals.len() > before {
            return None;
        }
        Some(NodeSpec {
            role: role?,
            extra_port_mappings: ports?,
            extra_mounts: mounts?,
            labels: labels?,
        })
    }

    /// `key`'s list of mappings, each checked by `item`.
    fn list<T>(
        &mut self,
        path: &str,
        key: &str,
        map: &yaml_serde::Mapping,
        entry: &Sourced,
        item: fn(&mut Self, &str, &yaml_serde::Mapping, &Sourced) -> Option<T>,
    ) -> Option<Vec<T>> {
        let path = format!("{path}.{key}");
        let items = match map.get(key) {
            None | Some(Value::Null) => return Some(Vec::new()),
            Some(Value::Sequence(items)) => items,
            Some(other) => {
                self.refuse(
                    &path,
                    text(other),
                    entry,
                    format!("expected a list, got {}", shape(other)),
                );
                return None;
            }
        };
        let mut checked = Some(Vec::new());
        for (i, value) in items.iter().enumerate() {
            let path = format!("{path}[{i}]");
            let result = match value {
                Value::Mapping(map) => item(self, &path, map, entry),
                other => {
                    self.refuse(
                        &path,
                        text(other),
                        entry,
                        format!("expected a mapping, got {}", shape(other)),
                    );
                    None
                }
            };
            match (result, checked.as_mut()) {
                (Some(value), Some(list)) => list.push(value),
                _ => checked = None,
            }
        }
        checked
    }

    fn port_number(
        &mut self,
        path: &str,
        map: &yaml_serde::Mapping,
        key: &str,
        entry: &Sourced,
    ) -> Option<u16> {
        let path = format!("{path}.{key}");
        // kind picks a free host port for an unset or zero one; dind publishes fixed ports
        // only, so that a restarted node keeps its port.
        let no_pick = if key == "hostPort" {
            "; dind does not pick a free host port as kind does, give one"
        } else {
            ""
        };
        let Some(value) = map.get(key) else {
            self.refuse(
                &path,
                String::new(),
                entry,
                format!("missing; give a port from 1 to 65535{no_pick}"),
            );
            return None;
        };
        let number = match value {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse::<u64>().ok(),
            _ => None,
        };
        match number {
            Some(port @ 1..=65535) => Some(port as u16),
            Some(0) => {
                self.refuse(
                    &path,
                    text(value),
                    entry,
                    format!("expected a port from 1 to 65535{no_pick}"),
                );
                None
            }
            _ => {
                self.refuse(&path, text(value), entry, "expected a port from 1 to 65535");
                None
            }
        }
    }

    fn port(
        &mut self,
        path: &str,
        map: &yaml_serde::Mapping,
        entry: &Sourced,
    ) -> Option<PortMapping> {
        let before = self.refusals.len();
        self.unknown_keys(path, map, &PORT_KEYS, entry);
        let container_port = self.port_number(path, map, "containerPort", entry);
        let host_port = self.port_number(path, map, "hostPort", entry);
        let protocol = match map.get("protocol") {
            None => Some(Protocol::Tcp),
            Some(value) => match text(value).to_ascii_uppercase().as_str() {
                "TCP" => Some(Protocol::Tcp),
                "UDP" => Some(Protocol::Udp),
                "SCTP" => Some(Protocol::Sctp),
                _ => {
                    self.refuse(
                        &format!("{path}.protocol"),
                        text(value),
                        entry,
                        "use TCP, UDP or SCTP",
                    );
                    None
                }
            },
        };
        let listen_address = self.listen_address(path, map.get("listenAddress"), entry);
        if self.refusals.len() > before {
            return None;
        }
        let mapping = PortMapping {
            container_port: container_port?,
            host_port: host_port?,
            listen_address: listen_address?,
            protocol: protocol?,
        };
        let clash = self.published.iter().find(|(port, protocol, address, _)| {
            *port == mapping.host_port
                && *protocol == mapping.protocol
                && addresses_overlap(*address, mapping.listen_address)
        });
        if let Some((_, _, address, other)) = clash {
            let reason = format!(
                "{} {} on {} is published by {other} already; pick another hostPort",
                mapping.protocol, mapping.host_port, address
            );
            self.refuse(
                &format!("{path}.hostPort"),
                mapping.host_port.to_string(),
                entry,
                reason,
            );
            return None;
        }
        self.published.push((
            mapping.host_port,
            mapping.protocol,
            mapping.listen_address,
            path.to_string(),
        ));
        Some(mapping)
    }

    /// Unset: the host's loopback of the nodes' family. In ipv6 mode the nodes have no IPv4
    /// address, and Docker forwards a port published on an IPv4 host address to the node's
    /// IPv4 address, so only IPv6 listen addresses reach them.
    fn listen_address(
        &mut self,
        path: &str,
        value: Option<&Value>,
        entry: &Sourced,
    ) -> Option<IpAddr> {
        let ipv6_only = self.basis.ip_mode == Some(IpMode::Ipv6);
        let Some(value) = value else {
            return Some(if ipv6_only {
                IpAddr::V6(Ipv6Addr::LOCALHOST)
            } else {
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            });
        };
        let path = format!("{path}.listenAddress");
        let given = text(value);
        let Ok(address) = given.trim().parse::<IpAddr>() else {
            self.refuse(
                &path,
                given,
                entry,
                "expected an IP address of the Docker host, like 127.0.0.1 or ::1",
            );
            return None;
        };
        if ipv6_only && address.is_ipv4() {
            let fix = if address.is_unspecified() {
                "::"
            } else {
                "::1"
            };
            self.refuse(
                &path,
                given,
                entry,
                format!(
                    "in ipv6 mode the nodes have no IPv4 address, and Docker forwards a port \
                     published on an IPv4 host address to the node's IPv4 address; use an IPv6 \
                     address (e.g. {fix}), or --ip-mode dual-stack"
                ),
            );
            return None;
        }
        Some(address)
    }

    fn mount(
        &mut self,
        path: &str,
        map: &yaml_serde::Mapping,
        entry: &Sourced,
    ) -> Option<ExtraMount> {
        let before = self.refusals.len();
        self.unknown_keys(path, map, &MOUNT_KEYS, entry);
        let path_of = |checker: &mut Self, key: &str| -> Option<String> {
            match map.get(key) {
                Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
                other => {
                    checker.refuse(
                        &format!("{path}.{key}"),
                        other.map(text).unwrap_or_default(),
                        entry,
                        "expected a path",
                    );
                    None
                }
            }
        };
        let host_path = path_of(self, "hostPath");
        let container_path = path_of(self, "containerPath");
        let read_only = match map.get("readOnly") {
            None => Some(false),
            Some(Value::Bool(b)) => Some(*b),
            Some(other) => {
                self.refuse(
                    &format!("{path}.readOnly"),
                    text(other),
                    entry,
                    "use true or false",
                );
                None
            }
        };
        match map.get("selinuxRelabel") {
            None | Some(Value::Bool(false)) => {}
            Some(other) => self.refuse(
                &format!("{path}.selinuxRelabel"),
                text(other),
                entry,
                "dind does not relabel mounts for SELinux; drop it or relabel the host path \
                 yourself (chcon)",
            ),
        }
        match map.get("propagation") {
            None => {}
            Some(Value::String(s)) if s == "None" => {}
            Some(other) => self.refuse(
                &format!("{path}.propagation"),
                text(other),
                entry,
                "dind mounts without propagation; drop it or use None",
            ),
        }
        if let Some(target) = &container_path {
            if !target.starts_with('/') {
                self.refuse(
                    &format!("{path}.containerPath"),
                    target.clone(),
                    entry,
                    format!(
                        "must be absolute, like /{}",
                        target.trim_start_matches("./")
                    ),
                );
            }
        }
        let host_path = host_path.and_then(|source| self.host_path(path, source, entry));
        if self.refusals.len() > before {
            return None;
        }
        Some(ExtraMount {
            host_path: host_path?,
            container_path: container_path?,
            read_only: read_only?,
        })
    }

    /// The host path made absolute (kind resolves a relative one against its working
    /// directory); it must exist, since Docker would create a missing one as root's empty
    /// directory.
    fn host_path(&mut self, path: &str, source: String, entry: &Sourced) -> Option<String> {
        let absolute = match std::path::absolute(Path::new(&source)) {
            Ok(absolute) => absolute,
            Err(e) => {
                self.refuse(
                    &format!("{path}.hostPath"),
                    source,
                    entry,
                    format!("cannot be made absolute: {e}"),
                );
                return None;
            }
        };
        if !absolute.exists() {
            self.refuse(
                &format!("{path}.hostPath"),
                source,
                entry,
                format!(
                    "{} does not exist on this machine (the one running dind); create it or \
                     fix the path",
                    absolute.display()
                ),
            );
            return None;
        }
        Some(absolute.to_string_lossy().into_owned())
    }

    fn labels(
        &mut self,
        path: &str,
        value: Option<&Value>,
        entry: &Sourced,
    ) -> Option<BTreeMap<String, String>> {
        let path = format!("{path}.labels");
        let map = match value {
            None | Some(Value::Null) => return Some(BTreeMap::new()),
            Some(Value::Mapping(map)) => map,
            Some(other) => {
                self.refuse(
                    &path,
                    text(other),
                    entry,
                    format!(
                        "expected a mapping of label keys to values, got {}",
                        shape(other)
                    ),
                );
                return None;
            }
        };
        let mut labels = Some(BTreeMap::new());
        for (key, value) in map {
            let key = text(key);
            let value_text = match value {
                Value::String(_) | Value::Bool(_) | Value::Number(_) | Value::Null => {
                    if value.is_null() {
                        String::new()
                    } else {
                        text(value)
                    }
                }
                other => {
                    self.refuse(
                        &format!("{path}.{key}"),
                        shape(other).into(),
                        entry,
                        "a label value is text",
                    );
                    labels = None;
                    continue;
                }
            };
            let problem = label_key_problem(&key)
                .map(|p| (key.clone(), p))
                .or_else(|| label_value_problem(&value_text).map(|p| (value_text.clone(), p)));
            if let Some((shown, problem)) = problem {
                self.refuse(&format!("{path}.{key}"), shown, entry, problem);
                labels = None;
                continue;
            }
            if let Some(labels) = labels.as_mut() {
                labels.insert(key, value_text);
            }
        }
        labels
    }
}

/// One step of a field's path inside a node entry.
#[derive(Debug, PartialEq)]
enum Step<'a> {
    Key(&'a str),
    Item(usize),
}

/// `nodes[1].extraPortMappings[0].hostPort` as the steps after the entry; a label's key
/// (which may hold dots) is one step.
fn steps(path: &str) -> Vec<Step<'_>> {
    let mut steps = Vec::new();
    let Some((_, mut rest)) = path.split_once("].") else {
        return steps;
    };
    loop {
        if let Some(label) = rest.strip_prefix("labels.") {
            steps.push(Step::Key("labels"));
            steps.push(Step::Key(label));
            return steps;
        }
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        steps.push(Step::Key(&rest[..end]));
        rest = &rest[end..];
        while let Some(inner) = rest.strip_prefix('[') {
            let Some((index, after)) = inner.split_once(']') else {
                return steps;
            };
            steps.extend(index.parse().ok().map(Step::Item));
            rest = after;
        }
        match rest.strip_prefix('.') {
            Some(next) => rest = next,
            None => return steps,
        }
    }
}

/// How many lines below the entry's first the field at `path` is written, as far as its
/// steps can be followed in the block-style text (the line of the last step found).
fn field_line(entry: &str, path: &str) -> usize {
    let lines: Vec<&str> = entry.lines().collect();
    let key_at = |line: &str, key: &str| {
        let content = line.trim_start().trim_start_matches("- ").trim_start();
        [key.to_string(), format!("\"{key}\""), format!("'{key}'")]
            .iter()
            .any(|spelled| {
                content
                    .strip_prefix(spelled.as_str())
                    .is_some_and(|rest| rest.trim_start().starts_with(':'))
            })
    };
    let indent = |line: &str| line.len() - line.trim_start().len();
    let mut at = 0;
    for step in steps(path) {
        let found = match step {
            Step::Key(key) => (at..lines.len()).find(|&i| key_at(lines[i], key)),
            Step::Item(n) => {
                let items: Vec<usize> = (at + 1..lines.len())
                    .filter(|&i| {
                        let content = lines[i].trim_start();
                        content == "-" || content.starts_with("- ")
                    })
                    .collect();
                let depth = items.first().map(|&i| indent(lines[i]));
                items
                    .into_iter()
                    .filter(|&i| Some(indent(lines[i])) == depth)
                    .nth(n)
            }
        };
        match found {
            Some(line) => at = line,
            None => break,
        }
    }
    at
}

/// Two host addresses that one port cannot be published on twice: the same, or either the
/// unspecified address of the other's family.
fn addresses_overlap(a: IpAddr, b: IpAddr) -> bool {
    a == b || (a.is_ipv4() == b.is_ipv4() && (a.is_unspecified() || b.is_unspecified()))
}

/// A name segment of a label key or a value: up to 63 characters, alphanumerics with `-`,
/// `_` and `.` inside.
fn is_label_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !name.is_empty()
        && name.len() <= 63
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn is_dns_subdomain(prefix: &str) -> bool {
    prefix.len() <= 253
        && prefix.split('.').all(|label| {
            let bytes = label.as_bytes();
            !label.is_empty()
                && label.len() <= 63
                && bytes[0].is_ascii_alphanumeric()
                && bytes[bytes.len() - 1].is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        })
}

/// Why `key` is not a label key the kubelet may set; None when it is.
pub(crate) fn label_key_problem(key: &str) -> Option<String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if !is_label_name(name) {
        return Some(
            "a label name has 1-63 characters: letters, digits, '-', '_' and '.', starting and \
             ending with a letter or digit"
                .into(),
        );
    }
    // Without a prefix the name alone is the key.
    let prefix = prefix?;
    if !is_dns_subdomain(prefix) {
        return Some(format!(
            "the prefix '{prefix}' is not a DNS subdomain like example.com"
        ));
    }
    let kubernetes = |domain: &str| prefix == domain || prefix.ends_with(&format!(".{domain}"));
    let allowed = ["kubelet.kubernetes.io", "node.kubernetes.io"]
        .iter()
        .any(|ok| prefix == *ok || prefix.ends_with(&format!(".{ok}")));
    if (kubernetes("kubernetes.io") || kubernetes("k8s.io")) && !allowed {
        return Some(
            "the kubelet may set labels under kubernetes.io and k8s.io only with the prefixes \
             kubelet.kubernetes.io/ and node.kubernetes.io/; use a prefix of your own"
                .into(),
        );
    }
    None
}

/// Why `value` is not a label value; None when it is (empty is one).
pub(crate) fn label_value_problem(value: &str) -> Option<String> {
    (!value.is_empty() && !is_label_name(value)).then(|| {
        "a label value is empty or has up to 63 characters: letters, digits, '-', '_' and \
         '.', starting and ending with a letter or digit"
            .into()
    })
}

/// A worker count from the command line or the environment would silently drop the config
/// file's node list (its ports, mounts and labels): the problem, when it does.
pub fn list_overridden(upper: &super::Layer, file: &super::Layer) -> Option<String> {
    let count = upper.nodes.as_ref()?.first()?;
    let entry = file.nodes.as_ref()?.first()?;
    let Origin::FileEntry { path, .. } = &entry.origin else {
        return None;
    };
    Some(format!(
        "config file {path}: nodes: its node list and {} ('{}') both set the nodes; drop one \
         (unset NUM_NODES, or leave out --nodes)",
        count.origin, count.value
    ))
}
