//! The `nodes` row's check: every entry of kind's list read field by field, each refusal
//! naming the field's path, its value and its line.

use super::field_line::field_line;
use super::label::{label_key_problem, label_value_problem};
use super::{ExtraMount, NodeRole, NodeSpec, Nodes, PortMapping, Protocol};
use crate::config::layer::{Origin, Sourced};
use crate::config::refusal::Refusal;
use crate::config::table::{Basis, Setting};
use crate::config::IpMode;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use yaml_serde::Value;

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
pub(in crate::config) fn check(
    row: &Setting,
    raw: &[Sourced],
    basis: &Basis,
    refusals: &mut Vec<Refusal>,
) -> Option<Nodes> {
    let from_file = |s: &Sourced| matches!(s.origin, Origin::FileEntry { .. });
    if let [count] = raw {
        if !from_file(count) {
            return match count.value.trim().parse::<u8>() {
                Ok(workers) if workers <= Nodes::MAX_WORKERS => Some(Nodes::count(workers)),
                _ => {
                    refusals.push(Refusal::new(
                        row.name,
                        count,
                        format!(
                            "expected a number of workers from 0 to {}",
                            Nodes::MAX_WORKERS
                        ),
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
            index: None,
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
            index: None,
        });
    }
    if raw.len() > usize::from(Nodes::MAX_WORKERS) + 1 {
        refusals.push(Refusal {
            setting: "nodes".into(),
            value: format!("{} nodes", raw.len()),
            origin: raw[0].origin.to_string(),
            reason: format!("at most {} workers besides the master", Nodes::MAX_WORKERS),
            index: None,
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
pub(in crate::config) fn shape(value: &Value) -> &'static str {
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
            index: None,
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
        let host_path = self.mount_path(path, map, "hostPath", entry);
        let container_path = self.mount_path(path, map, "containerPath", entry);
        let read_only = self.read_only(path, map, entry);
        self.refuse_mount_options(path, map, entry);
        if let Some(target) = &container_path {
            self.container_path(path, target, entry);
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

    /// Path `key` of a mount: a string that is not blank.
    fn mount_path(
        &mut self,
        path: &str,
        map: &yaml_serde::Mapping,
        key: &str,
        entry: &Sourced,
    ) -> Option<String> {
        match map.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            other => {
                self.refuse(
                    &format!("{path}.{key}"),
                    other.map(text).unwrap_or_default(),
                    entry,
                    "expected a path",
                );
                None
            }
        }
    }

    /// A mount's `readOnly`: false unless given.
    fn read_only(
        &mut self,
        path: &str,
        map: &yaml_serde::Mapping,
        entry: &Sourced,
    ) -> Option<bool> {
        match map.get("readOnly") {
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
        }
    }

    /// kind's mount options dind does not do, unless given as their defaults.
    fn refuse_mount_options(&mut self, path: &str, map: &yaml_serde::Mapping, entry: &Sourced) {
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
    }

    /// The container path must be absolute.
    fn container_path(&mut self, path: &str, target: &str, entry: &Sourced) {
        if !target.starts_with('/') {
            self.refuse(
                &format!("{path}.containerPath"),
                target.to_string(),
                entry,
                format!(
                    "must be absolute, like /{}",
                    target.trim_start_matches("./")
                ),
            );
        }
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

/// Two host addresses that one port cannot be published on twice: the same, or either the
/// unspecified address of the other's family.
fn addresses_overlap(a: IpAddr, b: IpAddr) -> bool {
    a == b || (a.is_ipv4() == b.is_ipv4() && (a.is_unspecified() || b.is_unspecified()))
}
