//! The probe pods: network namespaces made through a node's CNI config, the pod-to-pod
//! check between two of them, and the name checks run from the first.

use super::gate::{self, Gate, Need};
use super::name;
use super::report::{Check, CheckId};
use super::{exec_failed, Host, Run};
use crate::engine::docker::{Engine, ExecOutput};
use crate::plan::NodePlan;
use anyhow::{Context, Result};
use std::net::IpAddr;

/// A network namespace made through a node's CNI config, deleted again by `remove`.
pub(super) struct ProbePod<'a> {
    engine: &'a Engine,
    pub(super) node: String,
    name: String,
    pub(super) address: IpAddr,
}

impl<'a> ProbePod<'a> {
    async fn create(engine: &'a Engine, node: &str, name: &str) -> Result<ProbePod<'a>> {
        // A pod left by an interrupted check is replaced.
        let _ = engine.exec(node, &["dind-pod", "del", name]).await;
        let out = engine.exec_ok(node, &["dind-pod", "add", name]).await?;
        let address = out
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .with_context(|| format!("dind-pod printed no address for {name} on {node}"))?;
        Ok(ProbePod {
            engine,
            node: node.into(),
            name: name.into(),
            address,
        })
    }

    pub(super) async fn run(&self, argv: &[&str]) -> Result<ExecOutput> {
        let mut full = vec!["dind-pod", "exec", self.name.as_str()];
        full.extend_from_slice(argv);
        self.engine.exec(&self.node, &full).await
    }

    async fn remove(self) {
        let _ = self
            .engine
            .exec(&self.node, &["dind-pod", "del", &self.name])
            .await;
    }
}

pub(super) fn tcp_connect_argv(address: IpAddr, port: u16) -> Vec<String> {
    let target = match address {
        IpAddr::V6(a) => format!("TCP6:[{a}]:{port}"),
        IpAddr::V4(a) => format!("TCP4:{a}:{port}"),
    };
    vec![
        "socat".into(),
        "-T3".into(),
        "/dev/null".into(),
        format!("{target},connect-timeout=3"),
    ]
}

/// How long the pod-to-pod probe server may take to listen.
const LISTEN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

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

async fn pod_to_pod(a: &ProbePod<'_>, b: &ProbePod<'_>) -> Result<Check> {
    const PORT: u16 = 7999;
    let target = format!("{} → {}", a.node, b.node);
    let listen = format!(
        "nohup dind-pod exec {} socat -T5 TCP-LISTEN:{PORT},reuseaddr{} SYSTEM:'echo pong' >/dev/null 2>&1 &",
        b.name,
        if b.address.is_ipv6() { ",ipv6only=0,pf=ip6" } else { "" }
    );
    b.engine.exec_ok(&b.node, &["sh", "-c", &listen]).await?;
    let listening = format!(
        "dind-pod exec {} ss -Hltn 'sport = :{PORT}' | grep -q {PORT}",
        b.name
    );
    let waited = b
        .engine
        .wait_ready(&b.node, &["sh", "-c", &listening], LISTEN_TIMEOUT)
        .await;
    if let Err(err) = waited {
        return Ok(Check::fail(
            CheckId::PodToPod,
            &target,
            format!("the probe server never listened: {err:#}"),
            "see `dind export logs`".into(),
        ));
    }
    let mut argv = tcp_connect_argv(b.address, PORT);
    argv[2] = "-".into();
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let out = a.run(&argv).await?;
    Ok(if out.stdout.trim() == "pong" {
        Check::ok(
            CheckId::PodToPod,
            &target,
            format!("{} reached {}", a.address, b.address),
        )
    } else {
        Check::fail(
            CheckId::PodToPod,
            &target,
            format!("{} could not reach {}: {}", a.address, b.address, out.stderr.trim()),
            format!("each node needs a route to the other's pod CIDR via its address (`ip route` in {})", a.node),
        )
    })
}
