//! Is the cluster up yet? Pure judgements of `kubectl` and `dig` output; the caller polls.

use crate::plan::ClusterPlan;
use anyhow::{Context, Result};
use ipnet::Ipv6Net;
use serde::Deserialize;
use std::net::IpAddr;

/// A Kubernetes v1 `List` (what `kubectl get ... -o json` prints). `items` is required so that
/// something that is not a list (a single object, an error document) is refused.
#[derive(Debug, Deserialize)]
struct List<T> {
    items: Vec<T>,
}

#[derive(Debug, Default, Deserialize)]
struct Metadata {
    name: String,
    #[serde(default)]
    namespace: String,
}

#[derive(Debug, Deserialize)]
struct Condition {
    #[serde(rename = "type")]
    kind: String,
    status: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    message: String,
}

#[derive(Debug, Deserialize)]
struct Node {
    metadata: Metadata,
    #[serde(default)]
    status: NodeStatus,
}

#[derive(Debug, Default, Deserialize)]
struct NodeStatus {
    #[serde(default)]
    conditions: Vec<Condition>,
}

#[derive(Debug, Deserialize)]
struct Pod {
    metadata: Metadata,
    #[serde(default)]
    status: PodStatus,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodStatus {
    #[serde(default)]
    phase: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    conditions: Vec<Condition>,
    #[serde(default)]
    container_statuses: Vec<ContainerStatus>,
}

#[derive(Debug, Deserialize)]
struct ContainerStatus {
    name: String,
    #[serde(default)]
    ready: bool,
    #[serde(default)]
    state: ContainerState,
}

/// One of the three is set; only the reason matters here.
#[derive(Debug, Default, Deserialize)]
struct ContainerState {
    #[serde(default)]
    waiting: Option<StateReason>,
    #[serde(default)]
    terminated: Option<StateReason>,
}

#[derive(Debug, Default, Deserialize)]
struct StateReason {
    #[serde(default)]
    reason: String,
}

/// `reason: message`, `reason`, `message` or nothing, whichever fields are set.
fn reason_message(reason: &str, message: &str) -> String {
    match (reason.trim(), message.trim()) {
        ("", "") => String::new(),
        (r, "") => r.to_string(),
        ("", m) => m.to_string(),
        (r, m) => format!("{r}: {m}"),
    }
}

/// ` (text)`, or nothing when `text` is empty.
fn parenthesised(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(" ({text})")
    }
}

/// What is not ready yet, one human-readable line each, e.g.
/// "node kube-node-1: not registered", "node kube-master: NotReady (KubeletNotReady: container runtime network not ready)",
/// "pod kube-system/coredns-abc: Pending", "pod kube-system/kube-proxy-x: Running, container kube-proxy not ready",
/// "no kube-system pods yet". Empty = ready. A node is ready when its Ready condition is True;
/// a pod when phase is Running (or Succeeded) and every container status is ready.
///
/// Only the expected nodes are judged (in the order given); nodes not expected are ignored.
/// Pods are judged in the order listed. Details are added where Kubernetes gives them: a
/// Pending pod's scheduling failure or waiting containers, an unready container's waiting or
/// terminated reason, a Failed pod's reason.
pub(crate) fn not_ready(
    expected_nodes: &[String],
    nodes_json: &str,
    pods_json: &str,
) -> Result<Vec<String>> {
    let nodes: List<Node> = serde_json::from_str(nodes_json)
        .context("cannot parse the output of `kubectl get nodes -o json`")?;
    let pods: List<Pod> = serde_json::from_str(pods_json)
        .context("cannot parse the output of `kubectl get pods -n kube-system -o json`")?;

    let mut out = Vec::new();
    for name in expected_nodes {
        let Some(node) = nodes.items.iter().find(|n| n.metadata.name == *name) else {
            out.push(format!("node {name}: not registered"));
            continue;
        };
        match node.status.conditions.iter().find(|c| c.kind == "Ready") {
            None => out.push(format!("node {name}: no Ready condition yet")),
            Some(c) if c.status == "True" => {}
            Some(c) => out.push(format!(
                "node {name}: NotReady{}",
                parenthesised(&reason_message(&c.reason, &c.message))
            )),
        }
    }

    if pods.items.is_empty() {
        out.push("no kube-system pods yet".to_string());
    }
    for pod in &pods.items {
        if let Some(problem) = pod_problem(pod) {
            let namespace = match pod.metadata.namespace.as_str() {
                "" => "kube-system",
                ns => ns,
            };
            out.push(format!("pod {namespace}/{}: {problem}", pod.metadata.name));
        }
    }
    Ok(out)
}

/// Why `pod` is not ready, or None when it is.
fn pod_problem(pod: &Pod) -> Option<String> {
    let status = &pod.status;
    let phase = if status.phase.is_empty() {
        "Pending"
    } else {
        status.phase.as_str()
    };
    match phase {
        "Succeeded" => None,
        "Running" => {
            if status.container_statuses.is_empty() {
                return Some("Running, no container status yet".to_string());
            }
            let unready: Vec<String> = status
                .container_statuses
                .iter()
                .filter(|c| !c.ready)
                .map(|c| {
                    format!(
                        "container {} not ready{}",
                        c.name,
                        parenthesised(state_reason(c))
                    )
                })
                .collect();
            if unready.is_empty() {
                None
            } else {
                Some(format!("Running, {}", unready.join(", ")))
            }
        }
        "Pending" => {
            let unscheduled = status
                .conditions
                .iter()
                .find(|c| c.kind == "PodScheduled" && c.status != "True");
            if let Some(c) = unscheduled {
                return Some(format!(
                    "Pending{}",
                    parenthesised(&reason_message(&c.reason, &c.message))
                ));
            }
            let waiting: Vec<String> = status
                .container_statuses
                .iter()
                .filter(|c| !c.ready)
                .filter_map(|c| {
                    let (state, reason) = match (&c.state.waiting, &c.state.terminated) {
                        (Some(w), _) => ("waiting", w.reason.as_str()),
                        (None, Some(t)) => ("terminated", t.reason.as_str()),
                        (None, None) => return None,
                    };
                    Some(format!(
                        "container {} {state}{}",
                        c.name,
                        parenthesised(reason)
                    ))
                })
                .collect();
            if waiting.is_empty() {
                Some("Pending".to_string())
            } else {
                Some(format!("Pending, {}", waiting.join(", ")))
            }
        }
        other => Some(format!(
            "{other}{}",
            parenthesised(&reason_message(&status.reason, &status.message))
        )),
    }
}

/// The reason a container is waiting or terminated (`ContainerCreating`, `CrashLoopBackOff`,
/// `Error`, ...), or "".
fn state_reason(c: &ContainerStatus) -> &str {
    c.state
        .waiting
        .as_ref()
        .or(c.state.terminated.as_ref())
        .map_or("", |s| s.reason.as_str())
}

/// What a (resumed) `up` does about the master's control plane.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum InitStep {
    Skip,
    Init,
    /// kubeadm writes admin.conf before the control plane is up: one whose API server does
    /// not answer is what an interrupted `kubeadm init` leaves.
    ResetThenInit,
}

pub(crate) fn init_step(has_admin_conf: bool, api_server_answers: bool) -> InitStep {
    match (has_admin_conf, api_server_answers) {
        (true, true) => InitStep::Skip,
        (true, false) => InitStep::ResetThenInit,
        (false, _) => InitStep::Init,
    }
}

/// What `up --wait` asks CoreDNS about its external name, and what makes the answer right.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LookupQuery {
    /// `AAAA` through DNS64 (ipv6 mode); `A` where the cluster has no DNS64 (ipv4 and
    /// dual-stack), since the default name has no AAAA record and nothing synthesizes one.
    pub(crate) record_type: &'static str,
    /// Some(prefix): the answer must lie in the DNS64 prefix (real AAAA records are
    /// excluded, so only a synthesized answer proves the path).
    pub(crate) synthesized_under: Option<Ipv6Net>,
}

pub(crate) fn wait_lookup_query(plan: &ClusterPlan) -> LookupQuery {
    match &plan.dns64 {
        Some(dns64) => LookupQuery {
            record_type: "AAAA",
            synthesized_under: (!dns64.allow_aaaa).then_some(dns64.prefix.net()),
        },
        None => LookupQuery {
            record_type: "A",
            synthesized_under: None,
        },
    }
}

/// Judges `dig +short AAAA <name>` output (IPv6 cluster) or `dig +short A` output: Ok(the addresses)
/// when there is at least one address, and, when `synthesized_under` is Some(prefix), at least one lies
/// in that prefix (proof the answer came through DNS64). Err(reason) otherwise (empty answer, only CNAMEs,
/// `;; connection timed out; no servers could be reached`, addresses outside the prefix).
///
/// The addresses are returned in the order dig printed them, all of them (also those outside
/// the prefix). dig's `;;` diagnostics next to addresses (a retry that then succeeded) do not
/// count against the answer.
pub(crate) fn judge_lookup(
    dig_short_output: &str,
    synthesized_under: Option<Ipv6Net>,
) -> Result<Vec<IpAddr>, String> {
    let mut addresses: Vec<IpAddr> = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    let mut other: Vec<&str> = Vec::new();
    for line in dig_short_output
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        if let Ok(ip) = line.parse::<IpAddr>() {
            addresses.push(ip);
        } else if line.ends_with('.')
            && !line.contains(char::is_whitespace)
            && !line.starts_with(';')
        {
            names.push(line);
        } else {
            other.push(line.trim_start_matches(';').trim());
        }
    }
    if addresses.is_empty() {
        return Err(if !other.is_empty() {
            format!("no address; dig said: {}", other.join("; "))
        } else if !names.is_empty() {
            format!("only CNAME records ({}), no address", names.join(", "))
        } else {
            "empty answer (no records)".to_string()
        });
    }
    if let Some(prefix) = synthesized_under {
        let inside = addresses.iter().any(|ip| match ip {
            IpAddr::V6(v6) => prefix.contains(v6),
            IpAddr::V4(_) => false,
        });
        if !inside {
            let list: Vec<String> = addresses.iter().map(IpAddr::to_string).collect();
            return Err(format!(
                "no address in the DNS64 prefix {prefix} (the answer did not come through DNS64): {}",
                list.join(", ")
            ));
        }
    }
    Ok(addresses)
}
