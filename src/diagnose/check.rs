//! `dind check network`: what a cluster's pods can reach, and by which path. Every check
//! says what it saw, and a failing one says where to look.

use crate::config::{Config, IpMode};
use crate::engine::docker::{first_lines, Engine};
use crate::engine::host::{self, HostNet};
use crate::engine::images::{self, ImageKind};
use crate::labels::Record;
use crate::plan::{self, ClusterPlan, NodePlan};
use crate::progress::Progress;
use crate::render::host_rules::{self, Ip6Rule};
use crate::state::find_record;
use anyhow::{bail, Context, Result};
use ipnet::Ipv6Net;
use serde::Serialize;
use std::fmt::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub(crate) struct Options {
    pub(crate) names: Vec<String>,
    pub(crate) port: u16,
    pub(crate) host_resolver: Option<IpAddr>,
}

/// What a check looks at; its string form is what the table and the JSON show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CheckId {
    /// A cluster container runs.
    Running,
    /// The probe node's /etc/resolv.conf names DNS64.
    Resolver,
    NodeToDns64,
    NodeToNat64,
    /// The Docker host's route to the NAT64 pool.
    HostRoute,
    /// The Docker host's ip6tables rules of the direct path.
    HostRules,
    HostForwarding,
    PodToPod,
    /// A name, resolved and connected to from a pod.
    Reach,
}

impl CheckId {
    #[cfg(test)]
    pub(crate) const ALL: [CheckId; 9] = [
        CheckId::Running,
        CheckId::Resolver,
        CheckId::NodeToDns64,
        CheckId::NodeToNat64,
        CheckId::HostRoute,
        CheckId::HostRules,
        CheckId::HostForwarding,
        CheckId::PodToPod,
        CheckId::Reach,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CheckId::Running => "running",
            CheckId::Resolver => "resolver",
            CheckId::NodeToDns64 => "node→dns64",
            CheckId::NodeToNat64 => "node→nat64",
            CheckId::HostRoute => "host-route",
            CheckId::HostRules => "host-rules",
            CheckId::HostForwarding => "host-forwarding",
            CheckId::PodToPod => "pod→pod",
            CheckId::Reach => "reach",
        }
    }
}

impl std::fmt::Display for CheckId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CheckId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The way a pod's connection to a name went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Path {
    /// To an address under the DNS64 prefix, through tayga.
    Nat64,
    /// To the name's real IPv6 address (`--allow-aaaa`).
    Direct,
}

impl Path {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Path::Nat64 => "nat64",
            Path::Direct => "direct",
        }
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Path {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One check: what was checked, whether it passed, what was seen, and where to look.
#[derive(Debug, Serialize)]
pub(crate) struct Check {
    pub(crate) check: CheckId,
    pub(crate) target: String,
    pub(crate) ok: bool,
    pub(crate) detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) name: Option<NameResult>,
}

/// What a name looked like from each vantage point, and what a connection did.
#[derive(Debug, Serialize, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NameResult {
    pub(crate) pod_aaaa: Vec<Ipv6Addr>,
    pub(crate) node_aaaa: Vec<Ipv6Addr>,
    pub(crate) host_aaaa: Vec<Ipv6Addr>,
    pub(crate) host_a: Vec<Ipv4Addr>,
    /// The pod's answer lies inside the DNS64 prefix.
    pub(crate) synthesized: bool,
    pub(crate) expected: Expected,
    pub(crate) matches_policy: bool,
    pub(crate) tcp_connected: bool,
    pub(crate) path: Option<Path>,
    /// The IPv4 pool address tayga mapped the probe node to, on the NAT64 path.
    pub(crate) nat64_mapping: Option<Ipv4Addr>,
}

/// What DNS64 should answer for a name, under the cluster's AAAA policy.
#[derive(Debug, Serialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Expected {
    /// An address under the DNS64 prefix.
    Synthesized,
    /// The name's real AAAA record.
    RealAaaa,
    /// Nothing: the policy leaves no IPv6 address for this name.
    NoAnswer,
}

pub(crate) struct Report {
    pub(crate) checks: Vec<Check>,
}

impl Report {
    pub(crate) fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }

    pub(crate) fn render_table(&self) -> String {
        let width = self
            .checks
            .iter()
            .map(|c| c.check.as_str().len() + c.target.len() + 1)
            .max()
            .unwrap_or(0);
        let mut text = String::new();
        for check in &self.checks {
            let mark = if check.ok { "✓" } else { "✗" };
            let what = format!("{} {}", check.check, check.target);
            let _ = writeln!(text, "{mark} {what:<width$}  {}", check.detail);
            if let Some(hint) = check.hint.as_ref().filter(|_| !check.ok) {
                let _ = writeln!(text, "  {:<width$}  → {hint}", "");
            }
        }
        let failed = self.checks.iter().filter(|c| !c.ok).count();
        let _ = writeln!(
            text,
            "{} passed, {failed} failed",
            self.checks.len() - failed
        );
        text
    }
}

/// The answer DNS64 should give for a name with `real_aaaa` and `a` records.
pub(crate) fn expected_answer(
    ip_mode: IpMode,
    allow_aaaa: bool,
    real_aaaa: bool,
    a: bool,
) -> Expected {
    match (ip_mode, real_aaaa, a) {
        (IpMode::Ipv6, true, _) if allow_aaaa => Expected::RealAaaa,
        (IpMode::Ipv6, _, true) => Expected::Synthesized,
        (IpMode::Ipv6, _, false) => Expected::NoAnswer,
        (_, true, _) => Expected::RealAaaa,
        (_, false, _) => Expected::NoAnswer,
    }
}

/// How a pod's answer compares with the expectation.
pub(crate) fn classify(
    pod: &[Ipv6Addr],
    prefix: Option<Ipv6Net>,
    host_aaaa: &[Ipv6Addr],
) -> Expected {
    match pod.first() {
        None => Expected::NoAnswer,
        Some(addr) if prefix.is_some_and(|p| p.contains(addr)) => Expected::Synthesized,
        Some(addr) if host_aaaa.contains(addr) => Expected::RealAaaa,
        // An answer that is neither synthesized nor the real record: treat it as real, the
        // mismatch with the host's answer is reported in the detail.
        Some(_) => Expected::RealAaaa,
    }
}

/// The addresses in `dig +short` output (CNAME lines and comments left out).
pub(crate) fn parse_dig<T: std::str::FromStr>(output: &str) -> Vec<T> {
    output
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// tayga logs "assigned new pool address 172.18.0.130 (fd00:20::3)"; the pool address
/// given to `client`, if any.
pub(crate) fn tayga_mapping(log: &str, client: Ipv6Addr) -> Option<Ipv4Addr> {
    log.lines().rev().find_map(|line| {
        let (_, after) = line.split_once(" pool address ")?;
        let (v4, rest) = after.split_once(' ')?;
        let v6: Ipv6Addr = rest
            .trim()
            .trim_start_matches('(')
            .trim_end_matches(')')
            .parse()
            .ok()?;
        (v6 == client).then(|| v4.parse().ok()).flatten()
    })
}

fn ok(check: CheckId, target: &str, detail: String) -> Check {
    Check {
        check,
        target: target.into(),
        ok: true,
        detail,
        hint: None,
        name: None,
    }
}

fn fail(check: CheckId, target: &str, detail: String, hint: String) -> Check {
    Check {
        check,
        target: target.into(),
        ok: false,
        detail,
        hint: Some(hint),
        name: None,
    }
}

/// A network namespace made through a node's CNI config, deleted again by `remove`.
struct ProbePod<'a> {
    engine: &'a Engine,
    node: String,
    name: String,
    address: IpAddr,
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

    async fn run(&self, argv: &[&str]) -> Result<crate::engine::docker::ExecOutput> {
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

/// How long the pod-to-pod probe server may take to listen.
const LISTEN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

const DIG: [&str; 4] = ["dig", "+short", "+time=2", "+tries=2"];

fn tcp_connect_argv(address: IpAddr, port: u16) -> Vec<String> {
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
    // One helper for the whole run: the host's state and its view of every name.
    let image = ImageKind::NodeBase.spec();
    images::ensure(engine, &image, &Progress::hidden().phase("helper image")).await?;
    HostNet::with(engine, &image.tag, plan.cluster_id, async |host| {
        let run = Run {
            engine,
            host,
            plan: &plan,
            record: &record,
            options,
        };
        run_checks(&run, progress).await
    })
    .await
}

/// What every check of one run shares.
struct Run<'a> {
    engine: &'a Engine,
    host: &'a HostNet,
    plan: &'a ClusterPlan,
    record: &'a Record,
    options: &'a Options,
}

async fn run_checks(run: &Run<'_>, progress: &Progress) -> Result<Report> {
    let Run {
        engine,
        host,
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
    progress
        .run(
            "Checking containers, DNS64, NAT64 and host state",
            async |_| {
                checks.extend(check_containers(engine, plan).await?);
                checks.extend(check_support_paths(engine, plan).await?);
                checks.extend(check_host(host, plan, record).await?);
                Ok(())
            },
        )
        .await?;
    if checks.iter().any(|c| c.check == CheckId::Running && !c.ok) {
        return Ok(Report { checks });
    }
    let nodes = probe_nodes(plan);
    let pid = std::process::id();
    let a = ProbePod::create(engine, &nodes.0.container, &format!("dind-probe-{pid}-a")).await?;
    let b = match ProbePod::create(engine, &nodes.1.container, &format!("dind-probe-{pid}-b")).await
    {
        Ok(b) => b,
        Err(err) => {
            a.remove().await;
            return Err(err);
        }
    };
    let result = progress
        .run("Probing from a pod", async |_| {
            let mut found = vec![pod_to_pod(&a, &b).await?];
            for name in names {
                let probe = Probe {
                    run,
                    pod: &a,
                    node: nodes.0,
                };
                found.push(check_name(&probe, name).await?);
            }
            Ok(found)
        })
        .await;
    a.remove().await;
    b.remove().await;
    checks.extend(result?);
    Ok(Report { checks })
}

/// The first worker (or the master) for the probe pod; another node for pod-to-pod.
fn probe_nodes(plan: &ClusterPlan) -> (&NodePlan, &NodePlan) {
    let first = plan
        .nodes
        .iter()
        .find(|n| n.node_id > 1)
        .unwrap_or(&plan.nodes[0]);
    let second = plan
        .nodes
        .iter()
        .find(|n| n.container != first.container)
        .unwrap_or(first);
    (first, second)
}

async fn check_containers(engine: &Engine, plan: &ClusterPlan) -> Result<Vec<Check>> {
    let mut names: Vec<&str> = plan.nodes.iter().map(|n| n.container.as_str()).collect();
    names.extend(plan.dns64.iter().map(|d| d.container.as_str()));
    names.extend(plan.nat64.iter().map(|n| n.container.as_str()));
    let mut checks = Vec::new();
    for name in names {
        let running = engine.is_running(name).await?;
        checks.push(if running {
            ok(CheckId::Running, name, "container is running".into())
        } else {
            fail(
                CheckId::Running,
                name,
                "container is stopped or missing".into(),
                format!("`dind up --cluster-id {}` starts or recreates it; `docker logs {name}` tells why it stopped", plan.cluster_id),
            )
        });
    }
    Ok(checks)
}

/// Node to DNS64 and node to NAT64, from the probe node, plus the node's resolver.
async fn check_support_paths(engine: &Engine, plan: &ClusterPlan) -> Result<Vec<Check>> {
    let (Some(dns64), Some(nat64)) = (&plan.dns64, &plan.nat64) else {
        return Ok(Vec::new());
    };
    let node = &probe_nodes(plan).0.container;
    let id = plan.cluster_id;
    let mut checks = Vec::new();

    let resolv = engine.exec_ok(node, &["cat", "/etc/resolv.conf"]).await?;
    let servers: Vec<String> = resolv
        .lines()
        .filter_map(|l| l.strip_prefix("nameserver "))
        .map(|s| s.trim().to_string())
        .collect();
    checks.push(if servers == [dns64.address.to_string()] {
        ok(
            CheckId::Resolver,
            node,
            format!("/etc/resolv.conf names DNS64 {}", dns64.address),
        )
    } else {
        fail(
            CheckId::Resolver,
            node,
            format!(
                "/etc/resolv.conf names {servers:?}, not DNS64 {}",
                dns64.address
            ),
            format!("`dind up --cluster-id {id}` rewrites it"),
        )
    });

    let server = format!("@{}", dns64.address);
    let dig = [&DIG[..], &[server.as_str(), "version.bind", "chaos", "txt"]].concat();
    let out = engine.exec(node, &dig).await?;
    checks.push(if out.success() && !out.stdout.trim().is_empty() {
        ok(
            CheckId::NodeToDns64,
            &dns64.address.to_string(),
            format!("bind9 answers ({})", out.stdout.trim()),
        )
    } else {
        fail(
            CheckId::NodeToDns64,
            &dns64.address.to_string(),
            format!(
                "no answer: {}",
                first_lines(&format!("{}{}", out.stdout, out.stderr), 2)
            ),
            format!(
                "`docker logs {}`; `dind up --cluster-id {id}` restarts it",
                dns64.container
            ),
        )
    });

    // tayga answers pings to its own IPv4 address through its prefix: the translator works.
    let probe = plan::embed_ipv4(nat64.prefix, nat64.address_v4).to_string();
    let out = engine
        .exec(node, &["ping", "-6", "-c", "1", "-W", "2", &probe])
        .await?;
    checks.push(if out.success() {
        ok(CheckId::NodeToNat64, &probe, format!("tayga translates (echo to {} answered)", nat64.address_v4))
    } else {
        fail(
            CheckId::NodeToNat64,
            &probe,
            "no echo reply through the translator".into(),
            format!(
                "is {} running (`docker logs {}`)? the node's route {} via {} must exist; `dind up --cluster-id {id}` repairs both",
                nat64.container, nat64.container, nat64.prefix, nat64.address_v6
            ),
        )
    });
    Ok(checks)
}

/// The host's route to the NAT64 pool and the rules of the direct path.
async fn check_host(host: &HostNet, plan: &ClusterPlan, record: &Record) -> Result<Vec<Check>> {
    if plan.host.routes.is_empty() && plan.host.direct_ipv6_sources.is_empty() {
        return Ok(Vec::new());
    }
    let id = plan.cluster_id;
    let mut checks = Vec::new();
    for route in &plan.host.routes {
        let present = host.has_route(route).await?;
        checks.push(if present {
            ok(
                CheckId::HostRoute,
                &route.to_string(),
                "present on the Docker host".into(),
            )
        } else {
            fail(
                CheckId::HostRoute,
                &route.to_string(),
                "missing on the Docker host: IPv4 replies cannot find NAT64's pool".into(),
                format!("`dind up --cluster-id {id}` adds it again"),
            )
        });
    }
    if plan.host.direct_ipv6_sources.is_empty() {
        return Ok(checks);
    }
    let save = host.ip6tables_save().await?;
    let daemon_nats = host::daemon_masqueraded(&save, &plan.host.direct_ipv6_sources);
    let present = host::tagged_rules(&save, &plan.host.rule_tag);
    let wanted = host_rules::direct_ipv6_rules(&plan.host, &plan.network.bridge, &daemon_nats);
    let missing: Vec<String> = wanted
        .iter()
        .filter(|w| !present.iter().any(|p| same_rule(p, w)))
        .map(|r| r.display())
        .collect();
    let egress = record.config.egress_interface.clone().unwrap_or_default();
    checks.push(if missing.is_empty() {
        ok(
            CheckId::HostRules,
            &plan.host.rule_tag,
            format!("{} rule(s) for direct IPv6 out of {egress}", wanted.len()),
        )
    } else {
        fail(
            CheckId::HostRules,
            &plan.host.rule_tag,
            format!("missing: {}", missing.join("; ")),
            format!("`dind up --cluster-id {id}` adds them again"),
        )
    });
    let forwarding = host.ipv6_forwarding().await?;
    checks.push(if forwarding {
        ok(
            CheckId::HostForwarding,
            "net.ipv6.conf.all.forwarding",
            "on".into(),
        )
    } else {
        fail(
            CheckId::HostForwarding,
            "net.ipv6.conf.all.forwarding",
            "off: the host forwards no IPv6".into(),
            format!("`dind up --cluster-id {id}` switches it on"),
        )
    });
    Ok(checks)
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

async fn pod_to_pod(a: &ProbePod<'_>, b: &ProbePod<'_>) -> Result<Check> {
    const PORT: &str = "7999";
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
    if waited.is_err() {
        return Ok(fail(
            CheckId::PodToPod,
            &target,
            "the probe server never listened".into(),
            "see `dind export logs`".into(),
        ));
    }
    let mut argv = tcp_connect_argv(b.address, PORT.parse().expect("a port"));
    argv[2] = "-".into();
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let out = a.run(&argv).await?;
    Ok(if out.stdout.trim() == "pong" {
        ok(
            CheckId::PodToPod,
            &target,
            format!("{} reached {}", a.address, b.address),
        )
    } else {
        fail(
            CheckId::PodToPod,
            &target,
            format!("{} could not reach {}: {}", a.address, b.address, out.stderr.trim()),
            format!("each node needs a route to the other's pod CIDR via its address (`ip route` in {})", a.node),
        )
    })
}

/// What a name check needs besides the name.
struct Probe<'a> {
    run: &'a Run<'a>,
    pod: &'a ProbePod<'a>,
    node: &'a NodePlan,
}

async fn check_name(probe: &Probe<'_>, name: &str) -> Result<Check> {
    let result = observe_name(probe, name).await?;
    Ok(judge_name(
        probe.run.plan,
        &probe.run.record.config,
        name,
        probe.run.options.port,
        result,
    ))
}

/// Resolves `name` from the pod, its node and the host, and connects from the pod.
async fn observe_name(probe: &Probe<'_>, name: &str) -> Result<NameResult> {
    let (engine, plan, config) = (probe.run.engine, probe.run.plan, &probe.run.record.config);
    let aaaa = [&DIG[..], &[name, "AAAA"]].concat();
    let pod_aaaa: Vec<Ipv6Addr> = parse_dig(&probe.pod.run(&aaaa).await?.stdout);
    let node_aaaa: Vec<Ipv6Addr> =
        parse_dig(&engine.exec(&probe.node.container, &aaaa).await?.stdout);
    let (host_aaaa, host_a) =
        host_answers(probe.run.host, name, probe.run.options.host_resolver).await?;
    let prefix = plan.dns64.as_ref().map(|d| d.prefix);
    let expected = expected_answer(
        config.ip_mode,
        config.allow_aaaa,
        !host_aaaa.is_empty(),
        !host_a.is_empty(),
    );
    let got = classify(&pod_aaaa, prefix, &host_aaaa);

    let address = pod_aaaa.first().copied().map(IpAddr::V6).or_else(|| {
        // Dual-stack and ipv4 clusters reach IPv4-only names over IPv4.
        (config.ip_mode != IpMode::Ipv6)
            .then(|| host_a.first().copied().map(IpAddr::V4))
            .flatten()
    });
    let tcp_connected = match address {
        Some(address) => {
            let argv = tcp_connect_argv(address, probe.run.options.port);
            let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
            probe.pod.run(&argv).await?.success()
        }
        None => false,
    };
    let via_nat64 =
        matches!(address, Some(IpAddr::V6(a)) if prefix.is_some_and(|p| p.contains(&a)));
    let nat64_mapping = match (&plan.nat64, via_nat64) {
        (Some(nat64), true) => {
            let node_v6 = probe.node.addresses.iter().find_map(|a| match a {
                IpAddr::V6(a) => Some(*a),
                IpAddr::V4(_) => None,
            });
            let log = engine.log_tail(&nat64.container, 5000).await;
            node_v6.and_then(|a| tayga_mapping(&log, a))
        }
        _ => None,
    };
    Ok(NameResult {
        synthesized: got == Expected::Synthesized,
        matches_policy: got == expected,
        pod_aaaa,
        node_aaaa,
        host_aaaa,
        host_a,
        expected,
        tcp_connected,
        path: address.map(|_| if via_nat64 { Path::Nat64 } else { Path::Direct }),
        nat64_mapping,
    })
}

/// Whether a name check passed, what it saw, and where to look when it did not.
fn judge_name(
    plan: &ClusterPlan,
    config: &Config,
    name: &str,
    port: u16,
    result: NameResult,
) -> Check {
    let shown = |v: &[Ipv6Addr]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(",")
        }
    };
    let r = &result;
    let detail = format!(
        "pod AAAA {} (host sees {}), {}, TCP {}{}",
        shown(&r.pod_aaaa),
        shown(&r.host_aaaa),
        if r.matches_policy {
            "as the AAAA policy says".to_string()
        } else {
            format!("expected {:?}", r.expected)
        },
        if r.tcp_connected {
            "connected"
        } else {
            "failed"
        },
        r.path.map(|p| format!(" via {p}")).unwrap_or_default()
    );
    let id = plan.cluster_id;
    let via_nat64 = r.path == Some(Path::Nat64);
    let hint = if r.expected == Expected::NoAnswer && r.pod_aaaa.is_empty() {
        Some(if config.allow_aaaa {
            format!("{name} has neither A nor AAAA records the cluster can use")
        } else {
            format!("{name} has no A record to synthesize from; with --allow-aaaa its AAAA would be used")
        })
    } else if r.path.is_none() {
        Some(format!(
            "the pod got no answer: check DNS64 ({}) and its upstream resolver ({}), `docker logs {}`",
            plan.dns64.as_ref().map(|d| d.address.to_string()).unwrap_or_default(),
            match config.upstream_dns {
                Some(ip) => format!("--upstream-dns {ip}"),
                None => "the Docker host's, through Docker's embedded DNS".to_string(),
            },
            plan.dns64.as_ref().map(|d| d.container.as_str()).unwrap_or("bind9")
        ))
    } else if !r.matches_policy {
        Some(format!(
            "the pod's answer is not what the policy ({}) wants ({:?}): check bind9's dns64 exclude clause (`dind export logs`)",
            if config.allow_aaaa { "--allow-aaaa" } else { "synthesize all" },
            r.expected
        ))
    } else if !r.tcp_connected && via_nat64 {
        Some(format!(
            "through NAT64: is tayga running, does the host route {} exist, does the host masquerade IPv4? \
             `dind up --cluster-id {id}` repairs the first two",
            plan.nat64.as_ref().map(|n| n.pool.to_string()).unwrap_or_default()
        ))
    } else if !r.tcp_connected {
        Some(format!(
            "direct: check the host rules tagged {} (FORWARD, MASQUERADE out of {}) and the egress interface's IPv6 route",
            plan.host.rule_tag,
            config.egress_interface.as_deref().unwrap_or("?")
        ))
    } else {
        None
    };
    let passed = r.matches_policy && (r.expected == Expected::NoAnswer || r.tcp_connected);
    Check {
        check: CheckId::Reach,
        target: format!("{name}:{port}"),
        ok: passed,
        detail,
        hint,
        name: Some(result),
    }
}

/// The host's own view of a name, through the helper (host networking, host resolver).
async fn host_answers(
    host: &HostNet,
    name: &str,
    resolver: Option<IpAddr>,
) -> Result<(Vec<Ipv6Addr>, Vec<Ipv4Addr>)> {
    let server = resolver.map(|r| format!("@{r}"));
    let query = |kind: &'static str| {
        let mut argv: Vec<String> = DIG.iter().map(|s| s.to_string()).collect();
        argv.extend(server.clone());
        argv.extend([name.to_string(), kind.to_string()]);
        argv
    };
    let aaaa = host.run(&query("AAAA")).await?;
    let a = host.run(&query("A")).await?;
    Ok((parse_dig(&aaaa.stdout), parse_dig(&a.stdout)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_answers_follow_the_policy() {
        use Expected::*;
        let cases = [
            // mode, allow_aaaa, real AAAA, A, expected
            (IpMode::Ipv6, false, false, true, Synthesized),
            (IpMode::Ipv6, false, true, true, Synthesized),
            (IpMode::Ipv6, false, true, false, NoAnswer),
            (IpMode::Ipv6, true, true, true, RealAaaa),
            (IpMode::Ipv6, true, true, false, RealAaaa),
            (IpMode::Ipv6, true, false, true, Synthesized),
            (IpMode::Ipv6, true, false, false, NoAnswer),
            (IpMode::DualStack, true, true, true, RealAaaa),
            (IpMode::DualStack, true, false, true, NoAnswer),
        ];
        for (mode, allow, real, a, want) in cases {
            assert_eq!(
                expected_answer(mode, allow, real, a),
                want,
                "{mode} allow={allow} aaaa={real} a={a}"
            );
        }
    }

    #[test]
    fn answers_are_classified_by_prefix() {
        let prefix: Ipv6Net = "fd00:10:64:ff9b::/96".parse().unwrap();
        let real: Ipv6Addr = "fd00:ee::10".parse().unwrap();
        let synth: Ipv6Addr = "fd00:10:64:ff9b::c612:a".parse().unwrap();
        assert_eq!(
            classify(&[synth], Some(prefix), &[real]),
            Expected::Synthesized
        );
        assert_eq!(classify(&[real], Some(prefix), &[real]), Expected::RealAaaa);
        assert_eq!(classify(&[], Some(prefix), &[real]), Expected::NoAnswer);
        assert_eq!(classify(&[real], None, &[real]), Expected::RealAaaa);
    }

    #[test]
    fn dig_output_keeps_only_addresses() {
        let out = "alias.example.test.\nfd00:ee::10\n;; connection timed out\n";
        assert_eq!(
            parse_dig::<Ipv6Addr>(out),
            vec!["fd00:ee::10".parse::<Ipv6Addr>().unwrap()]
        );
        assert!(parse_dig::<Ipv4Addr>(out).is_empty());
    }

    #[test]
    fn tayga_mappings_are_found_for_one_client() {
        let log = "starting\nassigned new pool address 172.18.0.130 (fd00:20::3)\n\
                   assigned new pool address 172.18.0.131 (fd00:20::4)\n";
        let node3: Ipv6Addr = "fd00:20::3".parse().unwrap();
        let node5: Ipv6Addr = "fd00:20::5".parse().unwrap();
        assert_eq!(
            tayga_mapping(log, node3),
            Some(Ipv4Addr::new(172, 18, 0, 130))
        );
        assert_eq!(tayga_mapping(log, node5), None);
    }

    fn allow_aaaa_cluster() -> (ClusterPlan, Config) {
        let layer = crate::config::Layer {
            allow_aaaa: Some(crate::config::Sourced::new(
                "true",
                crate::config::Origin::Default,
            )),
            egress_interface: Some(crate::config::Sourced::new(
                "eth0",
                crate::config::Origin::Default,
            )),
            ..Default::default()
        };
        let config = crate::config::validate(layer).unwrap();
        (plan::plan(&config), config)
    }

    fn seen(
        pod: &str,
        path: Option<Path>,
        tcp: bool,
        expected: Expected,
        matches: bool,
    ) -> NameResult {
        NameResult {
            pod_aaaa: parse_dig(pod),
            node_aaaa: parse_dig(pod),
            host_aaaa: vec!["fd00:ee::10".parse().unwrap()],
            host_a: vec![Ipv4Addr::new(198, 18, 0, 10)],
            synthesized: false,
            expected,
            matches_policy: matches,
            tcp_connected: tcp,
            path,
            nat64_mapping: None,
        }
    }

    #[test]
    fn name_checks_point_at_the_failing_part() {
        let (plan, config) = allow_aaaa_cluster();
        let judge = |r| judge_name(&plan, &config, "dual.example.test", 80, r);
        let good = judge(seen(
            "fd00:ee::10",
            Some(Path::Direct),
            true,
            Expected::RealAaaa,
            true,
        ));
        assert!(good.ok && good.hint.is_none(), "{good:?}");
        let direct = judge(seen(
            "fd00:ee::10",
            Some(Path::Direct),
            false,
            Expected::RealAaaa,
            true,
        ));
        assert!(!direct.ok);
        assert!(direct
            .hint
            .unwrap()
            .contains("host rules tagged dind:cluster=0 (FORWARD, MASQUERADE out of eth0)"));
        let nat64 = judge(seen(
            "fd00:10:64:ff9b::c612:a",
            Some(Path::Nat64),
            false,
            Expected::Synthesized,
            true,
        ));
        assert!(nat64.hint.unwrap().contains("host route 172.18.0.128/25"));
        let silent = judge(seen("", None, false, Expected::RealAaaa, false));
        assert!(silent
            .hint
            .unwrap()
            .contains("the pod got no answer: check DNS64 (fd00:20::100)"));
        let wrong = judge(seen(
            "fd00:10:64:ff9b::c612:a",
            Some(Path::Nat64),
            true,
            Expected::RealAaaa,
            false,
        ));
        assert!(!wrong.ok);
        assert!(wrong.hint.unwrap().contains("dns64 exclude clause"));
    }

    #[test]
    fn check_ids_and_paths_print_their_stable_names() {
        let names: Vec<&str> = CheckId::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            names,
            [
                "running",
                "resolver",
                "node→dns64",
                "node→nat64",
                "host-route",
                "host-rules",
                "host-forwarding",
                "pod→pod",
                "reach"
            ]
        );
        for id in CheckId::ALL {
            assert_eq!(serde_json::to_value(id).unwrap(), id.as_str());
            assert_eq!(id.to_string(), id.as_str());
        }
        assert_eq!(serde_json::to_value(Path::Nat64).unwrap(), "nat64");
        assert_eq!(serde_json::to_value(Path::Direct).unwrap(), "direct");
        let check = fail(
            CheckId::NodeToDns64,
            "fd00:20::100",
            "no answer".into(),
            "look".into(),
        );
        let json = serde_json::to_value(&check).unwrap();
        assert_eq!(json["check"], "node→dns64");
        let table = Report {
            checks: vec![check],
        }
        .render_table();
        assert!(table.starts_with("✗ node→dns64 fd00:20::100 "), "{table}");
    }

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
}
