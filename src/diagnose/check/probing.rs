//! The checks run from probe pods: pod to pod between two of them, then every name from
//! the first.

use super::gate::{self, Gate, Need};
use super::name;
use super::pod::{pod_to_pod, ProbePod};
use super::report::{Check, CheckId};
use super::run::{exec_failed, Host, Run};
use crate::plan::NodePlan;

/// The checks run from probe pods: pod to pod, then every name.
pub(super) struct Probing<'a> {
    pub(super) run: &'a Run<'a>,
    pub(super) host: Host<'a>,
    pub(super) gate: &'a Gate,
    /// The node of the pod that probes.
    pub(super) node: &'a NodePlan,
    /// The node of the pod-to-pod peer.
    pub(super) peer: &'a NodePlan,
}

impl Probing<'_> {
    pub(super) async fn checks(&self, names: &[String]) -> Vec<Check> {
        let (engine, plan) = (self.run.engine, self.run.plan);
        let (a, b) = (self.node.container.as_str(), self.peer.container.as_str());
        let pair_target = format!("{a} → {b}");
        let port = self.run.options.port;
        let reach_target = |name: &str| format!("{name}:{port}");

        let pair_blocker = self.gate.blocker(&[
            Need::Running(a),
            Need::Running(b),
            Need::Tools(a, gate::POD_CLIENT_TOOLS),
            Need::Tools(b, gate::POD_SERVER_TOOLS),
        ]);
        let mut reach_needs = vec![Need::Running(a)];
        if let Some(dns64) = &plan.dns64 {
            reach_needs.push(Need::Running(&dns64.container));
        }
        if let (Some(nat64), true) = (&plan.nat64, name::dns_crosses_nat64(plan)) {
            reach_needs.push(Need::Running(&nat64.container));
        }
        reach_needs.push(Need::Tools(a, gate::REACH_TOOLS));
        let reach_blocker = self.gate.blocker(&reach_needs);

        let pid = std::process::id();
        let pod_a = if pair_blocker.is_none() || reach_blocker.is_none() {
            Some(ProbePod::create(engine, a, &format!("dind-probe-{pid}-a")).await)
        } else {
            None
        };
        let pod_b = match (&pair_blocker, &pod_a) {
            (None, Some(Ok(_))) => {
                Some(ProbePod::create(engine, b, &format!("dind-probe-{pid}-b")).await)
            }
            _ => None,
        };

        let mut checks = Vec::new();
        checks.push(match (&pair_blocker, &pod_a, &pod_b) {
            (Some(blocker), _, _) => blocker.not_run(CheckId::PodToPod, &pair_target),
            (None, Some(Err(err)), _) => pod_failed(CheckId::PodToPod, &pair_target, a, err),
            (None, _, Some(Err(err))) => pod_failed(CheckId::PodToPod, &pair_target, b, err),
            (None, Some(Ok(pa)), Some(Ok(pb))) => pod_to_pod(pa, pb).await.unwrap_or_else(|err| {
                exec_failed(CheckId::PodToPod, &pair_target, b, &err, plan.cluster_id)
            }),
            (None, _, _) => unreachable!("pod a is made whenever pod-to-pod can run"),
        });
        for name in names {
            let target = reach_target(name);
            checks.push(match (&reach_blocker, &pod_a) {
                (Some(blocker), _) => blocker.not_run(CheckId::Reach, &target),
                (None, Some(Err(err))) => pod_failed(CheckId::Reach, &target, a, err),
                (None, Some(Ok(pod))) => {
                    let probe = name::Probe {
                        run: self.run,
                        host: self.host,
                        pod,
                        node: self.node,
                    };
                    probe.check(name).await
                }
                (None, None) => unreachable!("pod a is made whenever a name can be checked"),
            });
        }
        for pod in [pod_a, pod_b].into_iter().flatten().flatten() {
            pod.remove().await;
        }
        checks
    }
}

/// A check that needed a probe pod on `node`, which could not be made.
fn pod_failed(check: CheckId, target: &str, node: &str, err: &anyhow::Error) -> Check {
    Check::fail(
        check,
        target,
        format!("no probe pod on {node}: {err:#}"),
        format!(
            "`dind-pod add` failed in {node}: it needs the node's CNI config in /etc/cni/net.d \
             and `ip netns`; `dind export logs` collects the node's state"
        ),
    )
}
