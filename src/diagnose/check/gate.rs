//! What a check needs before it can run: the containers it runs in or talks to running,
//! and the commands it runs present in the probe nodes. A check whose need is unmet is
//! reported as not run, with the reason and what to do, instead of failing on the way; the
//! need itself is reported once, by its own check.

use super::report::{Check, CheckId};
use crate::engine::docker::ContainerState;
use crate::plan::{ClusterPlan, NodePlan};
use std::collections::HashMap;

/// What Docker said about one cluster container, or why it could not say.
pub(crate) type Observed = Result<ContainerState, String>;

/// The `running` check of one container, with what to run when it fails.
pub(crate) fn container_check(name: &str, observed: &Observed, cluster_id: u8) -> Check {
    match observed {
        Ok(ContainerState::Running) => {
            Check::ok(CheckId::Running, name, "container is running".into())
        }
        Ok(state) => Check::fail(
            CheckId::Running,
            name,
            format!("container {}", describe(state)),
            container_hint(name, state, cluster_id),
        ),
        Err(error) => Check::fail(
            CheckId::Running,
            name,
            format!("Docker cannot say: {error}"),
            format!("is the Docker daemon answering? `docker inspect {name}`"),
        ),
    }
}

/// A container's state in words, after "container ".
fn describe(state: &ContainerState) -> String {
    match state {
        ContainerState::Running => "is running".into(),
        ContainerState::Paused => "is paused".into(),
        ContainerState::Restarting => "keeps restarting".into(),
        ContainerState::Stopped { status, exit_code } => {
            format!("is {status} (exit code {exit_code})")
        }
        ContainerState::Missing => "is missing".into(),
    }
}

/// What starts a container that is not running again.
fn container_hint(name: &str, state: &ContainerState, cluster_id: u8) -> String {
    let up = format!("`dind up --cluster-id {cluster_id}` with the cluster's settings");
    match state {
        ContainerState::Running => String::new(),
        ContainerState::Paused => format!("`docker unpause {name}`"),
        ContainerState::Restarting => {
            format!("it exits as soon as it starts: `docker logs {name}` tells why")
        }
        ContainerState::Stopped { .. } => format!(
            "{up} starts it and re-applies its network (`docker start {name}` only starts it); \
             `docker logs {name}` tells why it stopped"
        ),
        ContainerState::Missing => format!("{up} creates it again"),
    }
}

/// Something a check needs.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Need<'a> {
    /// The container runs.
    Running(&'a str),
    /// The node has these commands.
    Tools(&'a str, &'a [&'static str]),
}

/// Why a check cannot run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Blocker {
    /// A container it runs in or talks to is not running.
    Container { name: String, seen: String },
    /// The node lacks a command it runs.
    Tool { node: String, tool: &'static str },
    /// No command can be run in the node.
    Exec { node: String, error: String },
}

impl Blocker {
    pub(crate) fn reason(&self) -> String {
        match self {
            Blocker::Container { name, seen } => format!("{name} {seen}"),
            Blocker::Tool { node, tool } => format!("{node} has no `{tool}`"),
            Blocker::Exec { node, error } => format!("commands cannot run in {node}: {error}"),
        }
    }

    /// Points at the check that reports the cause, which holds the fix.
    pub(crate) fn hint(&self) -> String {
        match self {
            Blocker::Container { name, .. } => {
                format!("runs once {name} does: see the `running {name}` check")
            }
            Blocker::Tool { node, .. } | Blocker::Exec { node, .. } => {
                format!("runs once {node} has its tools: see the `tools {node}` check")
            }
        }
    }

    /// The check, not run, with this reason.
    pub(crate) fn not_run(&self, check: CheckId, target: &str) -> Check {
        Check::not_run(check, target, &self.reason(), self.hint())
    }
}

/// What is known, before the checks that need them run, about the cluster's containers and
/// the probe nodes' commands.
#[derive(Default)]
pub(crate) struct Gate {
    containers: HashMap<String, Observed>,
    /// Per probe node: the commands it lacks, or why none could be listed.
    tools: HashMap<String, Result<Vec<String>, String>>,
}

impl Gate {
    pub(crate) fn new(containers: impl IntoIterator<Item = (String, Observed)>) -> Gate {
        Gate {
            containers: containers.into_iter().collect(),
            tools: HashMap::new(),
        }
    }

    pub(crate) fn is_running(&self, name: &str) -> bool {
        matches!(self.containers.get(name), Some(Ok(ContainerState::Running)))
    }

    /// What listing `node`'s commands found: the missing ones, or why it could not list.
    pub(crate) fn set_tools(&mut self, node: &str, missing: Result<Vec<String>, String>) {
        self.tools.insert(node.to_string(), missing);
    }

    /// The first unmet need, if any. A node's tools count as present until listed.
    pub(crate) fn blocker(&self, needs: &[Need]) -> Option<Blocker> {
        needs.iter().find_map(|need| match *need {
            Need::Running(name) => (!self.is_running(name)).then(|| Blocker::Container {
                name: name.to_string(),
                seen: match self.containers.get(name) {
                    Some(Ok(state)) => describe(state),
                    Some(Err(error)) => format!("cannot be inspected: {error}"),
                    None => "is not running".into(),
                },
            }),
            Need::Tools(node, tools) => {
                match self.tools.get(node) {
                    Some(Ok(missing)) => tools
                        .iter()
                        .find(|t| missing.iter().any(|m| m == *t))
                        .map(|&tool| Blocker::Tool {
                            node: node.to_string(),
                            tool,
                        }),
                    Some(Err(error)) => Some(Blocker::Exec {
                        node: node.to_string(),
                        error: error.clone(),
                    }),
                    None => None,
                }
            }
        })
    }
}

/// The commands each check runs in the probe node (`a`) and in the pod-to-pod peer (`b`).
pub(crate) const RESOLVER_TOOLS: &[&str] = &["cat"];
pub(crate) const DNS64_TOOLS: &[&str] = &["dig"];
pub(crate) const NAT64_TOOLS: &[&str] = &["ping"];
pub(crate) const POD_CLIENT_TOOLS: &[&str] = &["dind-pod", "socat"];
pub(crate) const POD_SERVER_TOOLS: &[&str] = &["dind-pod", "socat", "ss", "nohup"];
pub(crate) const REACH_TOOLS: &[&str] = &["dind-pod", "dig", "socat"];

/// Every command the checks run in `node`, in a stable order.
pub(crate) fn tools_for(probe: bool, peer: bool) -> Vec<&'static str> {
    let mut sets: Vec<&[&'static str]> = Vec::new();
    if probe {
        sets.extend([
            RESOLVER_TOOLS,
            DNS64_TOOLS,
            NAT64_TOOLS,
            POD_CLIENT_TOOLS,
            REACH_TOOLS,
        ]);
    }
    if peer {
        sets.push(POD_SERVER_TOOLS);
    }
    let mut tools: Vec<&'static str> = Vec::new();
    for tool in sets.into_iter().flatten() {
        if !tools.contains(tool) {
            tools.push(tool);
        }
    }
    tools
}

/// A shell line that prints each of `tools` that `sh` cannot find, one per line.
pub(crate) fn missing_tools_argv(tools: &[&str]) -> Vec<String> {
    let mut argv: Vec<String> = [
        "sh",
        "-c",
        r#"for t in "$@"; do command -v "$t" >/dev/null 2>&1 || echo "$t"; done"#,
        "sh",
    ]
    .map(String::from)
    .to_vec();
    argv.extend(tools.iter().map(|t| t.to_string()));
    argv
}

/// The Debian package that has a tool, for the hint.
fn package_of(tool: &str) -> &'static str {
    match tool {
        "dig" => "dnsutils",
        "ping" => "iputils-ping",
        "socat" => "socat",
        "ss" => "iproute2",
        "dind-pod" => "dind's node image",
        _ => "coreutils",
    }
}

/// The `tools` check of a probe node.
pub(crate) fn tools_check(
    node: &str,
    needed: &[&str],
    missing: &Result<Vec<String>, String>,
) -> Check {
    match missing {
        Ok(missing) if missing.is_empty() => {
            Check::ok(CheckId::Tools, node, format!("has {}", needed.join(", ")))
        }
        Ok(missing) => {
            let packages: Vec<String> = missing
                .iter()
                .map(|t| format!("{t} ({})", package_of(t)))
                .collect();
            Check::fail(
                CheckId::Tools,
                node,
                format!("missing: {}, which check network runs there", missing.join(", ")),
                format!(
                    "the node's image needs {}: dind's node image has every one, a --node-image may not; \
                     `docker exec {node} sh -c 'command -v {}'` shows what is there",
                    packages.join(", "),
                    missing[0]
                ),
            )
        }
        Err(error) => Check::fail(
            CheckId::Tools,
            node,
            format!("cannot run commands in it: {error}"),
            format!(
                "`docker exec {node} sh -c true` must work; `dind export logs` collects its state"
            ),
        ),
    }
}

/// The probe node (the first running worker, else the master) and its pod-to-pod peer
/// (another running node, else itself). With no node running, the plan's first choices:
/// the checks that need them are then not run.
pub(crate) fn probe_nodes<'a>(
    plan: &'a ClusterPlan,
    running: &dyn Fn(&str) -> bool,
) -> (&'a NodePlan, &'a NodePlan) {
    let up = |n: &&NodePlan| running(&n.container);
    let is_worker = |n: &&NodePlan| n.node_id > 1;
    let first = plan
        .nodes
        .iter()
        .filter(up)
        .find(is_worker)
        .or_else(|| plan.nodes.iter().find(up))
        .or_else(|| plan.nodes.iter().find(is_worker))
        .unwrap_or(&plan.nodes[0]);
    let other = |n: &&NodePlan| n.container != first.container;
    let second = plan
        .nodes
        .iter()
        .filter(up)
        .find(other)
        .or_else(|| {
            // A running probe node alone probes itself; a stopped one keeps the plan's peer.
            (!running(&first.container))
                .then(|| plan.nodes.iter().find(other))
                .flatten()
        })
        .unwrap_or(first);
    (first, second)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stopped(code: i64) -> Observed {
        Ok(ContainerState::Stopped {
            status: "exited".into(),
            exit_code: code,
        })
    }

    #[test]
    fn container_states_map_to_checks_with_what_to_run() {
        let check = |observed: Observed| container_check("tayga-cluster-4", &observed, 4);
        let running = check(Ok(ContainerState::Running));
        assert!(running.ok && running.hint.is_none());

        let exited = check(stopped(137));
        assert!(!exited.ok);
        assert_eq!(exited.detail, "container is exited (exit code 137)");
        let hint = exited.hint.unwrap();
        assert!(
            hint.contains("`dind up --cluster-id 4` with the cluster's settings starts it"),
            "{hint}"
        );
        assert!(hint.contains("`docker start tayga-cluster-4`"), "{hint}");
        assert!(hint.contains("`docker logs tayga-cluster-4`"), "{hint}");

        let missing = check(Ok(ContainerState::Missing));
        assert_eq!(missing.detail, "container is missing");
        assert!(missing
            .hint
            .unwrap()
            .contains("--cluster-id 4` with the cluster's settings creates it again"));

        let paused = check(Ok(ContainerState::Paused));
        assert!(paused
            .hint
            .unwrap()
            .contains("`docker unpause tayga-cluster-4`"));
        let restarting = check(Ok(ContainerState::Restarting));
        assert_eq!(restarting.detail, "container keeps restarting");
        let unreadable = check(Err("connection refused".into()));
        assert!(!unreadable.ok);
        assert!(unreadable.detail.contains("connection refused"));
    }

    #[test]
    fn a_check_is_blocked_by_its_first_unmet_need() {
        let mut gate = Gate::new([
            ("kube-node-1".to_string(), Ok(ContainerState::Running)),
            ("bind9".to_string(), Ok(ContainerState::Running)),
            ("tayga".to_string(), stopped(0)),
            ("kube-node-2".to_string(), Err("timed out".to_string())),
        ]);
        assert_eq!(
            gate.blocker(&[Need::Running("kube-node-1"), Need::Running("bind9")]),
            None
        );
        let tayga = gate
            .blocker(&[Need::Running("kube-node-1"), Need::Running("tayga")])
            .unwrap();
        assert_eq!(tayga.reason(), "tayga is exited (exit code 0)");
        let not_run = tayga.not_run(CheckId::NodeToNat64, "fd00:10:64:ff9b::ac12:c8");
        assert!(!not_run.ok && not_run.not_run);
        assert_eq!(not_run.detail, "not run: tayga is exited (exit code 0)");
        assert!(not_run.hint.unwrap().contains("`running tayga`"));
        assert_eq!(
            gate.blocker(&[Need::Running("kube-node-2")])
                .unwrap()
                .reason(),
            "kube-node-2 cannot be inspected: timed out"
        );
        assert_eq!(
            gate.blocker(&[Need::Running("nowhere")]).unwrap().reason(),
            "nowhere is not running"
        );

        // Tools count once listed: dig missing blocks what runs dig, not what runs ping.
        assert_eq!(
            gate.blocker(&[Need::Tools("kube-node-1", DNS64_TOOLS)]),
            None
        );
        gate.set_tools("kube-node-1", Ok(vec!["dig".into()]));
        let dig = gate
            .blocker(&[Need::Tools("kube-node-1", REACH_TOOLS)])
            .unwrap();
        assert_eq!(dig.reason(), "kube-node-1 has no `dig`");
        assert!(dig.hint().contains("`tools kube-node-1`"));
        assert_eq!(
            gate.blocker(&[Need::Tools("kube-node-1", NAT64_TOOLS)]),
            None
        );
        gate.set_tools("kube-node-1", Err("OCI runtime exec failed".into()));
        assert_eq!(
            gate.blocker(&[Need::Tools("kube-node-1", NAT64_TOOLS)])
                .unwrap()
                .reason(),
            "commands cannot run in kube-node-1: OCI runtime exec failed"
        );
    }

    #[test]
    fn tools_checks_name_what_is_missing_and_where_it_comes_from() {
        let needed = tools_for(true, false);
        assert_eq!(needed, ["cat", "dig", "ping", "dind-pod", "socat"]);
        assert_eq!(tools_for(false, true), ["dind-pod", "socat", "ss", "nohup"]);
        let good = tools_check("kube-node-1", &needed, &Ok(vec![]));
        assert!(good.ok);
        assert_eq!(good.detail, "has cat, dig, ping, dind-pod, socat");
        let bad = tools_check("kube-node-1", &needed, &Ok(vec!["dig".into()]));
        assert!(!bad.ok);
        assert_eq!(bad.detail, "missing: dig, which check network runs there");
        let hint = bad.hint.unwrap();
        assert!(hint.contains("dig (dnsutils)"), "{hint}");
        assert!(
            hint.contains("`docker exec kube-node-1 sh -c 'command -v dig'`"),
            "{hint}"
        );
        let broken = tools_check("kube-node-1", &needed, &Err("no such container".into()));
        assert!(!broken.ok && broken.detail.contains("no such container"));
        let argv = missing_tools_argv(&["dig", "ping"]);
        assert_eq!(argv[..2], ["sh", "-c"]);
        assert_eq!(argv[3..], ["sh", "dig", "ping"]);
    }

    #[test]
    fn probes_run_from_running_nodes_preferring_workers() {
        let config = crate::test_support::valid(crate::config::Layer::default());
        let plan = crate::plan::plan(&config);
        let names: Vec<&str> = plan.nodes.iter().map(|n| n.container.as_str()).collect();
        assert_eq!(names, ["kube-master", "kube-node-1", "kube-node-2"]);
        let pick = |running: &[&str]| {
            let (a, b) = probe_nodes(&plan, &|n| running.contains(&n));
            (a.container.clone(), b.container.clone())
        };
        let all = ["kube-master", "kube-node-1", "kube-node-2"];
        assert_eq!(pick(&all), ("kube-node-1".into(), "kube-master".into()));
        assert_eq!(
            pick(&["kube-master", "kube-node-2"]),
            ("kube-node-2".into(), "kube-master".into())
        );
        assert_eq!(
            pick(&["kube-master"]),
            ("kube-master".into(), "kube-master".into())
        );
        // Nothing runs: the plan's choice, for the checks to report as not run.
        assert_eq!(pick(&[]), ("kube-node-1".into(), "kube-master".into()));
    }
}
