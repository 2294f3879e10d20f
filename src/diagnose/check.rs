//! `dind check network`: what a cluster's pods can reach, and by which path. Every check
//! says what it saw, and a failing one says where to look. Once the cluster's record is
//! read, nothing ends the run early: a container that is down, a command missing in a
//! node or an exec that fails is a failed check, and the checks that need it are shown as
//! not run, with the reason.

mod expectation;
mod gate;
mod name;
mod pod;
mod probing;
mod report;
mod run;

pub(crate) use report::Report;
pub(crate) use run::Options;

use crate::engine::docker::{first_lines, Engine};
use crate::engine::host::{self, HostNet};
use crate::engine::images::{self, ImageKind};
use crate::labels::Record;
use crate::plan::{self, ClusterPlan, Dns64Plan, Nat64Plan, NodePlan};
use crate::progress::Progress;
use crate::render::host_rules::{self, Ip6Rule};
use crate::state::find_record;
use anyhow::{bail, Result};
use gate::{Gate, Need};
use report::{Check, CheckId};
use run::{exec_failed, Host, Run};
use std::time::Duration;

/// Echoes sent through NAT64 before its check fails.
const ECHO_ATTEMPTS: u32 = 3;
const ECHO_RETRY_PAUSE: Duration = Duration::from_millis(500);

pub(crate) async fn check_network(
    engine: &Engine,
    cluster_id: u8,
    options: &Options,
    progress: &Progress,
) -> Result<Report> {
    let Some(record) = find_record(engine, cluster_id).await? else {
        bail!("no dind cluster {cluster_id} here; `dind up --cluster-id {cluster_id}` creates it");
    };
    let plan = plan::plan(&record.config);
    let run = Run {
        engine,
        plan: &plan,
        record: &record,
        options,
    };
    // One helper for the whole run: the host's state and its view of every name. Without
    // it the host's checks fail and the others still run.
    let image = ImageKind::NodeBase.spec();
    let with_host =
        match images::ensure(engine, &image, &Progress::hidden().phase("helper image")).await {
            Ok(()) => {
                HostNet::with(engine, &image.tag, plan.cluster_id, async |host| {
                    Ok(run_checks(&run, Ok(host), progress).await)
                })
                .await
            }
            Err(err) => Err(err),
        };
    Ok(match with_host {
        Ok(report) => report,
        Err(err) => {
            let error = format!("the host helper did not start: {err:#}");
            run_checks(&run, Err(&error), progress).await
        }
    })
}

async fn run_checks(run: &Run<'_>, host: Host<'_>, progress: &Progress) -> Report {
    let Run {
        engine,
        plan,
        record,
        options,
    } = *run;
    let names = if options.names.is_empty() {
        &record.config.probes
    } else {
        &options.names
    };
    let mut checks = Vec::new();

    let phase = progress.phase("Checking containers, DNS64, NAT64 and host state");
    let (mut gate, running) = observe_containers(engine, plan).await;
    checks.extend(running);
    let (a, b) = gate::probe_nodes(plan, &|name| gate.is_running(name));
    checks.extend(check_tools(engine, &mut gate, a, b).await);
    if let (Some(dns64), Some(nat64)) = (&plan.dns64, &plan.nat64) {
        let support = Support {
            engine,
            gate: &gate,
            node: &a.container,
            cluster_id: plan.cluster_id,
        };
        checks.extend(support.checks(dns64, nat64).await);
    }
    checks.extend(check_host(host, plan, record).await);
    phase.finish(true);

    let phase = progress.phase("Probing from a pod");
    let probe = probing::Probing {
        run,
        host,
        gate: &gate,
        node: a,
        peer: b,
    };
    checks.extend(probe.checks(names).await);
    phase.finish(true);
    Report { checks }
}

/// The `running` check of every cluster container, and what they say for the gate.
async fn observe_containers(engine: &Engine, plan: &ClusterPlan) -> (Gate, Vec<Check>) {
    let mut names: Vec<&str> = plan.nodes.iter().map(|n| n.container.as_str()).collect();
    names.extend(plan.dns64.iter().map(|d| d.container.as_str()));
    names.extend(plan.nat64.iter().map(|n| n.container.as_str()));
    let observed = futures_util::future::join_all(names.iter().map(async |name| {
        let state = engine
            .container_state(name)
            .await
            .map_err(|err| format!("{err:#}"));
        (name.to_string(), state)
    }))
    .await;
    let checks = observed
        .iter()
        .map(|(name, state)| gate::container_check(name, state, plan.cluster_id))
        .collect();
    (Gate::new(observed), checks)
}

/// Lists the commands the checks run in the probe node and its peer (when they run);
/// the `tools` check of each, and what it found for the gate.
async fn check_tools(engine: &Engine, gate: &mut Gate, a: &NodePlan, b: &NodePlan) -> Vec<Check> {
    let same = a.container == b.container;
    let mut nodes = vec![(&a.container, gate::tools_for(true, same))];
    if !same {
        nodes.push((&b.container, gate::tools_for(false, true)));
    }
    let mut checks = Vec::new();
    for (node, tools) in nodes {
        if !gate.is_running(node) {
            continue;
        }
        let argv = gate::missing_tools_argv(&tools);
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let missing = match engine.exec(node, &argv).await {
            Ok(out) if out.success() => Ok(out
                .stdout
                .lines()
                .map(|l| l.trim().to_string())
                .filter(|l| !l.is_empty())
                .collect()),
            Ok(out) => Err(first_lines(&format!("{}{}", out.stderr, out.stdout), 2)),
            Err(err) => Err(format!("{err:#}")),
        };
        checks.push(gate::tools_check(node, &tools, &missing));
        gate.set_tools(node, missing);
    }
    checks
}

/// Node to DNS64 and node to NAT64, from the probe node, plus the node's resolver.
struct Support<'a> {
    engine: &'a Engine,
    gate: &'a Gate,
    node: &'a str,
    cluster_id: u8,
}

impl Support<'_> {
    async fn checks(&self, dns64: &Dns64Plan, nat64: &Nat64Plan) -> Vec<Check> {
        let node = self.node;
        let resolver = self
            .gated(
                (CheckId::Resolver, node),
                (None, gate::RESOLVER_TOOLS),
                self.resolver(dns64),
            )
            .await;
        let dns64_target = dns64.address.to_string();
        let to_dns64 = self
            .gated(
                (CheckId::NodeToDns64, &dns64_target),
                (Some(&dns64.container), gate::DNS64_TOOLS),
                self.to_dns64(dns64),
            )
            .await;
        // The translator answers pings to its own IPv4 address through its prefix: it works.
        let echo = nat64.prefix.embed(nat64.address_v4).to_string();
        let to_nat64 = self
            .gated(
                (CheckId::NodeToNat64, &echo),
                (Some(&nat64.container), gate::NAT64_TOOLS),
                self.to_nat64(nat64, &echo),
            )
            .await;
        vec![resolver, to_dns64, to_nat64]
    }

    /// Runs `work` in the probe node unless it, the container it talks to, or the tools
    /// it runs are missing; an error of `work` is the check's failure.
    async fn gated(
        &self,
        (check, target): (CheckId, &str),
        (talks_to, tools): (Option<&str>, &[&'static str]),
        work: impl std::future::Future<Output = Result<Check>>,
    ) -> Check {
        let mut needs = vec![Need::Running(self.node)];
        needs.extend(talks_to.map(Need::Running));
        needs.push(Need::Tools(self.node, tools));
        if let Some(blocker) = self.gate.blocker(&needs) {
            return blocker.not_run(check, target);
        }
        work.await
            .unwrap_or_else(|err| exec_failed(check, target, self.node, &err, self.cluster_id))
    }

    async fn resolver(&self, dns64: &Dns64Plan) -> Result<Check> {
        let (node, id) = (self.node, self.cluster_id);
        let resolv = self
            .engine
            .exec_ok(node, &["cat", "/etc/resolv.conf"])
            .await?;
        let servers: Vec<String> = resolv
            .lines()
            .filter_map(|l| l.strip_prefix("nameserver "))
            .map(|s| s.trim().to_string())
            .collect();
        Ok(if servers == [dns64.address.to_string()] {
            Check::ok(
                CheckId::Resolver,
                node,
                format!("/etc/resolv.conf names DNS64 {}", dns64.address),
            )
        } else {
            Check::fail(
                CheckId::Resolver,
                node,
                format!(
                    "/etc/resolv.conf names {servers:?}, not DNS64 {}",
                    dns64.address
                ),
                format!("`dind up --cluster-id {id}` rewrites it"),
            )
        })
    }

    async fn to_dns64(&self, dns64: &Dns64Plan) -> Result<Check> {
        let target = dns64.address.to_string();
        let server = format!("@{}", dns64.address);
        let dig = [
            &name::DIG[..],
            &[server.as_str(), "version.bind", "chaos", "txt"],
        ]
        .concat();
        let out = self.engine.exec(self.node, &dig).await?;
        Ok(if out.success() && !out.stdout.trim().is_empty() {
            Check::ok(
                CheckId::NodeToDns64,
                &target,
                format!("bind9 answers ({})", out.stdout.trim()),
            )
        } else {
            Check::fail(
                CheckId::NodeToDns64,
                &target,
                format!(
                    "no answer: {}",
                    first_lines(&format!("{}{}", out.stdout, out.stderr), 2)
                ),
                format!(
                    "`docker logs {}`; `dind up --cluster-id {}` restarts it",
                    dns64.container, self.cluster_id
                ),
            )
        })
    }

    async fn to_nat64(&self, nat64: &Nat64Plan, echo: &str) -> Result<Check> {
        // A node that has just started may still hold its address as tentative (duplicate
        // address detection) or lack the neighbour entry: one lost echo is not a failure.
        let mut answered = false;
        for attempt in 0..ECHO_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(ECHO_RETRY_PAUSE).await;
            }
            let ping = ["ping", "-6", "-c", "1", "-W", "2", echo];
            if self.engine.exec(self.node, &ping).await?.success() {
                answered = true;
                break;
            }
        }
        Ok(if answered {
            Check::ok(
                CheckId::NodeToNat64,
                echo,
                format!(
                    "{} translates (echo to {} answered)",
                    nat64.engine, nat64.address_v4
                ),
            )
        } else {
            Check::fail(
                CheckId::NodeToNat64,
                echo,
                "no echo reply through the translator".into(),
                format!(
                    "is {} running (`docker logs {}`)? the node's route {} via {} must exist; `dind up --cluster-id {}` repairs both",
                    nat64.container, nat64.container, nat64.prefix, nat64.address_v6, self.cluster_id
                ),
            )
        })
    }
}

/// A host check that could not look: the helper is missing or its command failed.
fn host_unseen(check: CheckId, target: &str, error: &str) -> Check {
    Check::fail(
        check,
        target,
        format!("cannot look: {error}"),
        "dind looks at the Docker host through a short-lived container with host networking \
         and NET_ADMIN; `dind doctor` checks what that needs, `dind export logs` collects the \
         host's routes and rules"
            .into(),
    )
}

/// The host's route to the NAT64 pool and the rules of the direct path.
async fn check_host(host: Host<'_>, plan: &ClusterPlan, record: &Record) -> Vec<Check> {
    let mut checks = Vec::new();
    let id = plan.cluster_id;
    for route in &plan.host.routes {
        let target = route.to_string();
        checks.push(match host.map_err(str::to_string) {
            Err(error) => host_unseen(CheckId::HostRoute, &target, &error),
            Ok(host) => match host.has_route(route).await {
                Ok(true) => Check::ok(
                    CheckId::HostRoute,
                    &target,
                    "present on the Docker host".into(),
                ),
                Ok(false) => Check::fail(
                    CheckId::HostRoute,
                    &target,
                    "missing on the Docker host: IPv4 replies cannot find NAT64's pool".into(),
                    format!("`dind up --cluster-id {id}` adds it again"),
                ),
                Err(err) => host_unseen(CheckId::HostRoute, &target, &format!("{err:#}")),
            },
        });
    }
    if plan.host.direct_ipv6_sources.is_empty() {
        return checks;
    }
    let tag = &plan.host.rule_tag;
    let forwarding = "net.ipv6.conf.all.forwarding";
    let host = match host {
        Ok(host) => host,
        Err(error) => {
            checks.push(host_unseen(CheckId::HostRules, tag, error));
            checks.push(host_unseen(CheckId::HostForwarding, forwarding, error));
            return checks;
        }
    };
    checks.push(match host.ip6tables_save().await {
        Ok(save) => host_rules_check(&save, plan, record),
        Err(err) => host_unseen(CheckId::HostRules, tag, &format!("{err:#}")),
    });
    checks.push(match host.ipv6_forwarding().await {
        Ok(true) => Check::ok(CheckId::HostForwarding, forwarding, "on".into()),
        Ok(false) => Check::fail(
            CheckId::HostForwarding,
            forwarding,
            "off: the host forwards no IPv6".into(),
            format!("`dind up --cluster-id {id}` switches it on"),
        ),
        Err(err) => host_unseen(CheckId::HostForwarding, forwarding, &format!("{err:#}")),
    });
    checks
}

/// The direct path's rules, compared with what the host's ip6tables-save shows.
fn host_rules_check(save: &str, plan: &ClusterPlan, record: &Record) -> Check {
    let daemon = host::daemon_rules(save, &plan.network.bridge, &plan.host.direct_ipv6_sources);
    let present = host::tagged_rules(save, &plan.host.rule_tag);
    let wanted = host_rules::direct_ipv6_rules(&plan.host, &plan.network.bridge, &daemon);
    let missing: Vec<String> = wanted
        .iter()
        .filter(|w| !present.iter().any(|p| same_rule(p, w)))
        .map(|r| r.display())
        .collect();
    let egress = record.config.egress_interface.clone().unwrap_or_default();
    let mut docker = Vec::new();
    if !daemon.masqueraded.is_empty() {
        let sources: Vec<String> = daemon.masqueraded.iter().map(|s| s.to_string()).collect();
        docker.push(format!("masquerades {}", sources.join(", ")));
    }
    if daemon.forwards {
        docker.push(format!(
            "accepts what {} forwards and the replies",
            plan.network.bridge
        ));
    }
    let docker = match docker.is_empty() {
        true => String::new(),
        false => format!("; Docker itself {}", docker.join(" and ")),
    };
    if missing.is_empty() {
        Check::ok(
            CheckId::HostRules,
            &plan.host.rule_tag,
            format!(
                "{} rule(s) for direct IPv6 out of {egress}{docker}",
                wanted.len()
            ),
        )
    } else {
        Check::fail(
            CheckId::HostRules,
            &plan.host.rule_tag,
            format!("missing: {}", missing.join("; ")),
            format!("`dind up --cluster-id {}` adds them again", plan.cluster_id),
        )
    }
}

/// ip6tables-save prints a rule's matches in its own order; compare them as sets.
fn same_rule(a: &Ip6Rule, b: &Ip6Rule) -> bool {
    let normalize = |r: &Ip6Rule| {
        let mut words = r.spec.clone();
        words.sort();
        (r.table.clone(), r.chain.clone(), words)
    };
    normalize(a) == normalize(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_compare_regardless_of_match_order() {
        let a = Ip6Rule {
            table: "nat".into(),
            chain: "POSTROUTING".into(),
            spec: ["-s", "fd00:20::/64", "-o", "eth0", "-j", "MASQUERADE"]
                .map(String::from)
                .to_vec(),
        };
        let mut b = a.clone();
        b.spec = ["-o", "eth0", "-s", "fd00:20::/64", "-j", "MASQUERADE"]
            .map(String::from)
            .to_vec();
        assert!(same_rule(&a, &b));
        b.spec[1] = "eth1".into();
        assert!(!same_rule(&a, &b));
    }

    #[test]
    fn a_failed_exec_is_the_checks_failure_with_where_to_look() {
        let err = anyhow::anyhow!("Container kube-node-1 is not running")
            .context("cannot run `cat /etc/resolv.conf` in container kube-node-1");
        let check = exec_failed(CheckId::Resolver, "kube-node-1", "kube-node-1", &err, 7);
        assert!(!check.ok && !check.not_run);
        assert_eq!(
            check.detail,
            "cannot run it in kube-node-1: cannot run `cat /etc/resolv.conf` in container \
             kube-node-1: Container kube-node-1 is not running"
        );
        let hint = check.hint.unwrap();
        assert!(
            hint.contains("`docker ps -a --filter name=kube-node-1`"),
            "{hint}"
        );
        assert!(
            hint.contains("`dind up --cluster-id 7` with the cluster's settings"),
            "{hint}"
        );
    }

    /// Docker 29's rules for cluster 0's bridge (`.ci/engine-smoke 29`), which masquerade
    /// the management /64 and accept the bridge's forwarding: dind's own rule set is the
    /// NAT of the pod CIDR alone, and deleting Docker's masquerade makes dind's own rule for
    /// the /64 missing.
    #[test]
    fn on_docker_29_the_host_rules_are_docker_s_plus_the_pod_cidr_masquerade() {
        let config = crate::test_support::config_from_env(&[
            ("DIND_ALLOW_AAAA_USE", "true"),
            ("DIND_EGRESS_INTERFACE", "eth0"),
        ]);
        let plan = crate::plan::plan(&config);
        let record = Record {
            config,
            enabled_ipv6_forwarding: true,
            ip6_forward_policy: Some(crate::labels::ForwardPolicy::Accept),
            kubeconfig: None,
            api_server_port: None,
            proxy: Default::default(),
        };
        let docker = include_str!("../engine/host/save/docker29.ip6tables-save");
        let pod_nat = "-A POSTROUTING -s fd00:40::/72 -o eth0 -m comment --comment \
                       \"dind:cluster=0\" -j MASQUERADE\n";
        let with_ours = docker.replace(
            "-A POSTROUTING -s fd00:20::/64 ! -o br-dind0 -j MASQUERADE\n",
            &format!("-A POSTROUTING -s fd00:20::/64 ! -o br-dind0 -j MASQUERADE\n{pod_nat}"),
        );
        let check = host_rules_check(&with_ours, &plan, &record);
        assert!(check.ok, "{check:?}");
        assert_eq!(
            check.detail,
            "1 rule(s) for direct IPv6 out of eth0; Docker itself masquerades fd00:20::/64 and \
             accepts what br-dind0 forwards and the replies"
        );
        let without_dockers_nat = with_ours.replace(
            "-A POSTROUTING -s fd00:20::/64 ! -o br-dind0 -j MASQUERADE\n",
            "",
        );
        let check = host_rules_check(&without_dockers_nat, &plan, &record);
        assert!(!check.ok, "{check:?}");
        assert_eq!(
            check.detail,
            "missing: -t nat -A POSTROUTING -s fd00:20::/64 -o eth0 -m comment --comment \
             'dind:cluster=0' -j MASQUERADE"
        );
    }

    #[test]
    fn host_checks_without_a_helper_fail_and_say_why() {
        let check = host_unseen(
            CheckId::HostRoute,
            "172.18.0.128/25 via 172.18.0.200",
            "the host helper did not start: no such image",
        );
        assert!(!check.ok);
        assert_eq!(
            check.detail,
            "cannot look: the host helper did not start: no such image"
        );
        assert!(check.hint.unwrap().contains("`dind doctor`"));
    }
}
