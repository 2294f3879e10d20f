//! `dind doctor`: preflight checks of the Docker host for a config. Facts are gathered
//! first (Docker and host queries); [`evaluate`] turns them into findings without I/O.

use crate::config::Config;
use crate::engine::docker::Engine;
use crate::engine::host::{self, daemon_masquerades, Backend, HostNet};
use crate::engine::images::{self, ImageKind};
use crate::labels;
use crate::plan::{self, ClusterPlan};
use crate::preflight::{self, DirectIpv6};
use crate::progress::Progress;
use anyhow::{bail, Result};
use ipnet::IpNet;
use serde::Serialize;
use std::fmt::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
}

impl Status {
    fn mark(self) -> &'static str {
        match self {
            Status::Ok => "✓",
            Status::Warn => "!",
            Status::Fail => "✗",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub check: String,
    pub status: Status,
    pub detail: String,
    pub hint: Option<String>,
}

impl Finding {
    fn new(check: &str, status: Status, detail: impl Into<String>) -> Finding {
        Finding {
            check: check.to_string(),
            status,
            detail: detail.into(),
            hint: None,
        }
    }
    fn ok(check: &str, detail: impl Into<String>) -> Finding {
        Finding::new(check, Status::Ok, detail)
    }
    fn hint(mut self, hint: impl Into<String>) -> Finding {
        self.hint = Some(hint.into());
        self
    }
}

pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    /// Warnings do not fail the preflight.
    pub fn passed(&self) -> bool {
        self.findings.iter().all(|f| f.status != Status::Fail)
    }

    pub fn render_table(&self) -> String {
        let width = self
            .findings
            .iter()
            .map(|f| f.check.chars().count())
            .max()
            .unwrap_or(0);
        let mut text = String::new();
        for f in &self.findings {
            let _ = writeln!(
                text,
                "{} {:<width$}  {}",
                f.status.mark(),
                f.check,
                f.detail
            );
            if let Some(hint) = &f.hint {
                let _ = writeln!(text, "  {:<width$}  hint: {hint}", "");
            }
        }
        let count = |s: Status| self.findings.iter().filter(|f| f.status == s).count();
        let _ = writeln!(
            text,
            "{} ok, {} warning(s), {} failed",
            count(Status::Ok),
            count(Status::Warn),
            count(Status::Fail)
        );
        text
    }
}

/// What the checks look at.
#[derive(Clone, Debug)]
pub struct Facts {
    pub daemon_version: String,
    pub api_version: String,
    pub networks: Vec<DockerNetwork>,
    /// Only in ipv6 mode (NAT64); Err when the probe itself could not run.
    pub tun: Option<Result<bool, String>>,
    /// Err when the host could not be inspected (no helper container).
    pub host: Result<HostFacts, String>,
}

#[derive(Clone, Debug, Default)]
pub struct DockerNetwork {
    pub name: String,
    /// The value of its dind cluster label.
    pub cluster: Option<String>,
    pub subnets: Vec<IpNet>,
}

#[derive(Clone, Debug)]
pub struct HostFacts {
    /// net.ipv6.conf.all.disable_ipv6; None when the kernel has no IPv6.
    pub ipv6_disabled: Option<bool>,
    pub backend: Backend,
    /// `ip6tables-save` of that backend; None when it failed.
    pub ip6tables: Option<String>,
    /// `ip -4 route show` and `ip -6 route show`.
    pub routes_v4: String,
    pub routes_v6: String,
    pub ipv6_forwarding: bool,
    /// Only with --allow-aaaa.
    pub egress: Option<Egress>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Egress {
    /// The configured interface, else the host default route's; None when neither.
    pub name: Option<String>,
    pub exists: bool,
    /// net.ipv6.conf.<name>.accept_ra.
    pub accept_ra: Option<u8>,
}

impl Default for HostFacts {
    fn default() -> Self {
        HostFacts {
            ipv6_disabled: Some(false),
            backend: Backend::Nft,
            ip6tables: Some(String::new()),
            routes_v4: String::new(),
            routes_v6: String::new(),
            ipv6_forwarding: false,
            egress: None,
        }
    }
}

pub async fn doctor(engine: &Engine, config: &Config, progress: &Progress) -> Result<Report> {
    let facts = progress
        .run("Inspecting the Docker host", async |phase| {
            gather(engine, config, phase).await
        })
        .await?;
    Ok(Report {
        findings: evaluate(config, &facts),
    })
}

/// The one check `up` cannot do without in ipv6 mode: /dev/net/tun on the Docker host.
/// Builds dind's helper image if it is missing; runs one short-lived container.
pub async fn preflight(engine: &Engine, config: &Config) -> Result<()> {
    if plan::plan(config).nat64.is_none() {
        return Ok(());
    }
    let spec = ImageKind::NodeBase.spec();
    images::ensure(engine, &spec, &Progress::hidden().phase("helper image")).await?;
    if !host::has_tun(engine, &spec.tag, config.cluster_id).await? {
        bail!("{TUN_MISSING}; {TUN_HINT}");
    }
    Ok(())
}

const TUN_MISSING: &str = "NAT64 (tayga) needs /dev/net/tun, and the Docker host has none";
const TUN_HINT: &str = "load the tun module on the Docker host: `modprobe tun`";

async fn gather(engine: &Engine, config: &Config, phase: &crate::progress::Phase) -> Result<Facts> {
    let cluster_plan = plan::plan(config);
    let networks = engine
        .all_networks()
        .await?
        .into_iter()
        .map(|n| DockerNetwork {
            name: n.name.unwrap_or_default(),
            cluster: n.labels.and_then(|l| l.get(labels::CLUSTER).cloned()),
            subnets: n
                .ipam
                .and_then(|i| i.config)
                .unwrap_or_default()
                .iter()
                .filter_map(|c| c.subnet.as_deref()?.parse().ok())
                .collect(),
        })
        .collect();

    phase.message("preparing dind's helper image");
    let spec = ImageKind::NodeBase.spec();
    let image = images::ensure(engine, &spec, phase)
        .await
        .map(|()| spec.tag.clone());
    let (tun, host) = match image {
        Err(err) => {
            let text = format!("{err:#}");
            let tun = cluster_plan.nat64.as_ref().map(|_| Err(text.clone()));
            (tun, Err(text))
        }
        Ok(image) => {
            phase.message("asking the host");
            let tun = async {
                match cluster_plan.nat64 {
                    None => None,
                    Some(_) => Some(
                        host::has_tun(engine, &image, config.cluster_id)
                            .await
                            .map_err(|e| format!("{e:#}")),
                    ),
                }
            };
            let host = host_facts(engine, &image, config);
            let (tun, host) = tokio::join!(tun, host);
            (tun, host.map_err(|e| format!("{e:#}")))
        }
    };
    Ok(Facts {
        daemon_version: engine.server_version.clone(),
        api_version: engine.api_version.clone(),
        networks,
        tun,
        host,
    })
}

async fn host_facts(engine: &Engine, image: &str, config: &Config) -> Result<HostFacts> {
    HostNet::with(engine, image, config.cluster_id, async |host| {
        read_host(host, config).await
    })
    .await
}

async fn read_host(host: &HostNet, config: &Config) -> Result<HostFacts> {
    let run = async |argv: &[&str]| {
        let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
        host.run(&argv).await
    };
    let disable = run(&["cat", "/proc/sys/net/ipv6/conf/all/disable_ipv6"]).await?;
    let ipv6_disabled = disable.success().then(|| disable.stdout.trim() == "1");
    let ip6tables = host.ip6tables_save().await.ok();
    // Exit codes are not checked: `ip -6` fails on a kernel without IPv6, which has no routes.
    let routes_v4 = run(&["ip", "-4", "route", "show"]).await?.stdout;
    let routes_v6 = run(&["ip", "-6", "route", "show"]).await?.stdout;
    let ipv6_forwarding = ipv6_disabled.is_some() && host.ipv6_forwarding().await?;
    let egress = if config.allow_aaaa {
        let name = config
            .egress_interface
            .clone()
            .or_else(|| default_dev(&routes_v6))
            .or_else(|| default_dev(&routes_v4));
        let mut egress = Egress {
            name: name.clone(),
            ..Egress::default()
        };
        if let Some(name) = &name {
            egress.exists = host.interface_exists(name).await?;
            if egress.exists {
                egress.accept_ra = host.accept_ra(name).await?;
            }
        }
        Some(egress)
    } else {
        None
    };
    Ok(HostFacts {
        ipv6_disabled,
        backend: host.backend().await?,
        ip6tables,
        routes_v4,
        routes_v6,
        ipv6_forwarding,
        egress,
    })
}

/// One entry of `ip route show`; multipath continuation lines are folded into it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct HostRoute {
    line: String,
    /// None for the default route.
    dst: Option<IpNet>,
    dev: Option<String>,
    proto: Option<String>,
}

const ROUTE_TYPES: [&str; 9] = [
    "unicast",
    "local",
    "broadcast",
    "multicast",
    "throw",
    "unreachable",
    "prohibit",
    "blackhole",
    "nat",
];

fn parse_routes(text: &str) -> Vec<HostRoute> {
    let mut entries: Vec<String> = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match entries.last_mut() {
            Some(last) if line.starts_with(char::is_whitespace) => {
                last.push(' ');
                last.push_str(line.trim());
            }
            _ => entries.push(line.trim().to_string()),
        }
    }
    entries
        .into_iter()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let mut rest = &words[..];
            if rest.first().is_some_and(|w| ROUTE_TYPES.contains(w)) {
                rest = &rest[1..];
            }
            let first = *rest.first()?;
            let dst = if first == "default" {
                None
            } else {
                Some(parse_destination(first)?)
            };
            let after = |key: &str| {
                words
                    .windows(2)
                    .find(|w| w[0] == key)
                    .map(|w| w[1].to_string())
            };
            Some(HostRoute {
                dev: after("dev"),
                proto: after("proto"),
                dst,
                line,
            })
        })
        .collect()
}

/// The interface of the first default route in `routes` (as `up` picks the egress).
fn default_dev(routes: &str) -> Option<String> {
    parse_routes(routes)
        .into_iter()
        .find(|r| r.dst.is_none() && r.dev.is_some())
        .and_then(|r| r.dev)
}

/// `10.1.0.0/16`, or a bare address (a host route).
fn parse_destination(word: &str) -> Option<IpNet> {
    word.parse::<IpNet>()
        .ok()
        .or_else(|| word.parse::<std::net::IpAddr>().ok().map(IpNet::from))
}

fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// The settings that move a planned subnet elsewhere.
fn subnet_flags(cluster_plan: &ClusterPlan, cidr: &IpNet) -> &'static str {
    match cidr {
        IpNet::V4(_) if cluster_plan.nat64.is_some() => "--nat64-v4-prefix or --cluster-id",
        _ => "--mgmt-cidrs or --cluster-id",
    }
}

/// The findings for `facts`, in a fixed order; no I/O.
pub fn evaluate(config: &Config, facts: &Facts) -> Vec<Finding> {
    let cluster_plan = plan::plan(config);
    let mut findings = vec![Finding::ok(
        "daemon",
        format!(
            "Docker {} (API {}) answers",
            facts.daemon_version, facts.api_version
        ),
    )];
    let host = match &facts.host {
        Ok(host) => Some(host),
        Err(err) => {
            findings.push(
                Finding::new(
                    "host-helper",
                    Status::Fail,
                    format!("cannot inspect the Docker host: {err}"),
                )
                .hint(
                    "dind looks at the host through a helper container from its node image; \
                     `dind images build` builds it",
                ),
            );
            None
        }
    };
    if let Some(host) = host {
        findings.push(ipv6_finding(&cluster_plan, host));
        findings.push(Finding::ok(
            "iptables-backend",
            match host.backend {
                Backend::Nft => "nft (dind uses iptables-nft and ip6tables-nft)",
                Backend::Legacy => "legacy (dind uses iptables-legacy and ip6tables-legacy)",
            },
        ));
        findings.push(daemon_nat_finding(facts, host));
    }
    if let Some(tun) = &facts.tun {
        findings.push(match tun {
            Ok(true) => Finding::ok("tun", "/dev/net/tun is present (NAT64 needs it)"),
            Ok(false) => Finding::new("tun", Status::Fail, TUN_MISSING).hint(TUN_HINT),
            Err(err) => Finding::new(
                "tun",
                Status::Fail,
                format!("cannot check /dev/net/tun on the Docker host: {err}"),
            ),
        });
    }
    findings.push(overlap_finding(&cluster_plan, facts, host));
    if let Some(egress) = host.and_then(|h| h.egress.as_ref().map(|e| (h, e))) {
        findings.extend(egress_findings(config, egress.0, egress.1));
    }
    findings
}

fn ipv6_finding(cluster_plan: &ClusterPlan, host: &HostFacts) -> Finding {
    let needed = cluster_plan.network.ipv6;
    let (status, detail) = match host.ipv6_disabled {
        Some(false) => (Status::Ok, "enabled".to_string()),
        Some(true) => (
            Status::Fail,
            "disabled (net.ipv6.conf.all.disable_ipv6=1)".to_string(),
        ),
        None => (
            Status::Fail,
            "the kernel has no IPv6 (no /proc/sys/net/ipv6)".to_string(),
        ),
    };
    match (status, needed) {
        (Status::Ok, _) => Finding::ok("ipv6", detail),
        (_, false) => Finding::ok("ipv6", format!("{detail}; ipv4 mode does not need it")),
        (_, true) => Finding::new("ipv6", status, format!("{detail}; this cluster needs IPv6"))
            .hint("`sysctl -w net.ipv6.conf.all.disable_ipv6=0` on the Docker host"),
    }
}

fn daemon_nat_finding(facts: &Facts, host: &HostFacts) -> Finding {
    let major: u32 = facts
        .daemon_version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    let default = if major >= 27 {
        "ip6tables support is on by default since Docker 27"
    } else {
        "the daemon does not NAT IPv6 by default before Docker 27"
    };
    let Some(save) = &host.ip6tables else {
        return Finding::new(
            "daemon-ipv6-nat",
            Status::Warn,
            format!(
                "Docker {major}: {default}; cannot read the host's ip6tables ({})",
                host.backend.ip6tables_save()
            ),
        );
    };
    let masqueraded: Vec<String> = facts
        .networks
        .iter()
        .flat_map(|n| n.subnets.iter().map(move |s| (n, s)))
        .filter_map(|(n, s)| match s {
            IpNet::V6(v6) if daemon_masquerades(save, v6) => Some(format!("{s} ({})", n.name)),
            _ => None,
        })
        .collect();
    let detail = if masqueraded.is_empty() {
        format!("Docker {major}: {default}; it masquerades no IPv6 network now")
    } else {
        format!(
            "Docker {major}: {default}; it masquerades {}; dind adds no second NAT rule for a \
             subnet the daemon already masquerades",
            masqueraded.join(", ")
        )
    };
    Finding::ok("daemon-ipv6-nat", detail)
}

fn overlap_finding(cluster_plan: &ClusterPlan, facts: &Facts, host: Option<&HostFacts>) -> Finding {
    let id = cluster_plan.cluster_id.to_string();
    let is_ours = |n: &DockerNetwork| {
        n.name == cluster_plan.network.name && n.cluster.as_deref() == Some(id.as_str())
    };
    let foreign: Vec<&DockerNetwork> = facts.networks.iter().filter(|n| !is_ours(n)).collect();
    // A Docker network's own route is reported as that network, not twice.
    let network_subnets: Vec<IpNet> = facts
        .networks
        .iter()
        .flat_map(|n| n.subnets.iter().copied())
        .collect();
    let routes: Vec<HostRoute> = host
        .map(|h| {
            let mut routes = parse_routes(&h.routes_v4);
            routes.extend(parse_routes(&h.routes_v6));
            routes
        })
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.dev.as_deref() != Some(cluster_plan.network.bridge.as_str()))
        .filter(|r| r.dst.is_some_and(|d| !network_subnets.contains(&d)))
        .collect();

    let mut clashes = Vec::new();
    let mut flags: Vec<&str> = Vec::new();
    for ours in &cluster_plan.network.subnets {
        let before = clashes.len();
        for network in &foreign {
            for theirs in network.subnets.iter().filter(|s| overlaps(s, &ours.cidr)) {
                clashes.push(format!(
                    "{} overlaps {theirs} of Docker network {}",
                    ours.cidr, network.name
                ));
            }
        }
        for route in &routes {
            if route.dst.is_some_and(|d| overlaps(&d, &ours.cidr)) {
                clashes.push(format!(
                    "{} overlaps the host route `{}`",
                    ours.cidr, route.line
                ));
            }
        }
        let flag = subnet_flags(cluster_plan, &ours.cidr);
        if clashes.len() > before && !flags.contains(&flag) {
            flags.push(flag);
        }
    }
    let planned: Vec<String> = cluster_plan
        .network
        .subnets
        .iter()
        .map(|s| s.cidr.to_string())
        .collect();
    if clashes.is_empty() {
        let against = if host.is_some() {
            "Docker networks and host routes"
        } else {
            "Docker networks (host routes not checked)"
        };
        return Finding::ok(
            "subnet-overlap",
            format!("{} overlap none of the {against}", planned.join(", ")),
        );
    }
    Finding::new("subnet-overlap", Status::Fail, clashes.join("; "))
        .hint(format!("pick other subnets with {}", flags.join("; or ")))
}

fn egress_findings(config: &Config, host: &HostFacts, egress: &Egress) -> Vec<Finding> {
    let Some(name) = &egress.name else {
        return vec![Finding::new(
            "egress-interface",
            Status::Fail,
            "the Docker host has no default route to send direct IPv6 traffic out of",
        )
        .hint("pass --egress-interface IF (or DIND_EGRESS_INTERFACE)")];
    };
    let origin = if config.egress_interface.is_some() {
        "as configured"
    } else {
        "of the host's default route"
    };
    if !egress.exists {
        return vec![Finding::new(
            "egress-interface",
            Status::Fail,
            format!("egress interface {name} ({origin}) does not exist on the Docker host"),
        )
        .hint("fix --egress-interface (or DIND_EGRESS_INTERFACE); `ip link` on the Docker host lists its interfaces")];
    }
    let mut findings = vec![Finding::ok(
        "egress-interface",
        format!("{name} ({origin}) exists"),
    )];

    let defaults: Vec<HostRoute> = parse_routes(&host.routes_v6)
        .into_iter()
        .filter(|r| r.dst.is_none() && r.dev.as_deref() == Some(name.as_str()))
        .collect();
    // The rule `up` refuses on, first; then what this interface has.
    let verdict = preflight::direct_ipv6(config, preflight::has_default_route(&host.routes_v6));
    findings.push(match (verdict, defaults.first()) {
        (DirectIpv6::Refuse(text), _) => Finding::new("ipv6-default-route", Status::Fail, text)
            .hint("`dind up` refuses this too, before it creates anything"),
        (DirectIpv6::Warn(text), _) => Finding::new("ipv6-default-route", Status::Warn, text),
        (DirectIpv6::Fine, Some(route)) => {
            Finding::ok("ipv6-default-route", format!("`{}`", route.line))
        }
        (DirectIpv6::Fine, None) => Finding::new(
            "ipv6-default-route",
            Status::Warn,
            format!("{name} has no IPv6 default route: direct IPv6 cannot work without one"),
        )
        .hint("IPv4-only sites still work through NAT64; pick the interface that has an IPv6 uplink with --egress-interface"),
    });

    findings.push(if host.ipv6_forwarding {
        Finding::ok("ipv6-forwarding", "on")
    } else {
        Finding::new(
            "ipv6-forwarding",
            Status::Warn,
            "off: `dind up` will switch it on (and `dind down` back off)",
        )
    });

    let from_ra = defaults.iter().any(|r| r.proto.as_deref() == Some("ra"));
    let fix = format!("`sysctl net.ipv6.conf.{name}.accept_ra=2` on the Docker host");
    findings.push(match egress.accept_ra {
        Some(1) if from_ra => Finding::new(
            "accept-ra",
            Status::Fail,
            format!(
                "the IPv6 default route of {name} is learned from router advertisements and \
                 accept_ra is 1: with forwarding on, the kernel drops that route"
            ),
        )
        .hint(fix),
        Some(value) => Finding::ok(
            "accept-ra",
            format!(
                "accept_ra of {name} is {value}{}",
                if from_ra {
                    "; its default route is router-advertised"
                } else {
                    ""
                }
            ),
        ),
        None => Finding::ok("accept-ra", format!("{name} has no accept_ra setting")),
    });
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{validate, Layer, Origin, Sourced};
    use Status::{Fail, Ok as Pass, Warn};

    fn config(flags: &[(&str, &str)]) -> Config {
        let mut layer = Layer::default();
        for (key, value) in flags {
            let v = Some(Sourced::new(value.to_string(), Origin::Flag("--test")));
            match *key {
                "cluster-id" => layer.cluster_id = v,
                "ip-mode" => layer.ip_mode = v,
                "allow-aaaa" => layer.allow_aaaa = v,
                "egress-interface" => layer.egress_interface = v,
                "nat64-v4-prefix" => layer.nat64_v4_prefix = v,
                other => panic!("no test flag {other}"),
            }
        }
        validate(layer).expect("a valid test config")
    }

    fn facts(host: HostFacts) -> Facts {
        Facts {
            daemon_version: "20.10.24".into(),
            api_version: "1.41".into(),
            networks: vec![DockerNetwork {
                name: "bridge".into(),
                cluster: None,
                subnets: vec!["172.17.0.0/16".parse().unwrap()],
            }],
            tun: Some(Ok(true)),
            host: Ok(host),
        }
    }

    fn host() -> HostFacts {
        HostFacts {
            routes_v4: "default via 192.0.2.1 dev eth0\n\
                        172.17.0.0/16 dev docker0 proto kernel scope link src 172.17.0.1 linkdown\n\
                        192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.2\n"
                .into(),
            routes_v6: "fd00::/64 dev eth0 proto kernel metric 256 pref medium\n\
                        fe80::/64 dev eth0 proto kernel metric 256 pref medium\n\
                        default via fd00::1 dev eth0 metric 1024 pref medium\n"
                .into(),
            ipv6_forwarding: true,
            ..HostFacts::default()
        }
    }

    fn egress(name: &str) -> Option<Egress> {
        Some(Egress {
            name: Some(name.into()),
            exists: true,
            accept_ra: Some(0),
        })
    }

    fn status_of<'a>(findings: &'a [Finding], check: &str) -> Option<&'a Finding> {
        findings.iter().find(|f| f.check == check)
    }

    /// (what the case is, config flags, facts) -> expected statuses by check; None: absent.
    type Case = (
        &'static str,
        Vec<(&'static str, &'static str)>,
        Facts,
        Vec<(&'static str, Option<Status>)>,
    );

    fn cases() -> Vec<Case> {
        let mut foreign = facts(host());
        foreign.networks.push(DockerNetwork {
            name: "other".into(),
            cluster: None,
            subnets: vec!["fd00:20:51::/64".parse().unwrap()],
        });
        let mut own = facts(host());
        own.networks.push(DockerNetwork {
            name: "kubeadm-dind-net-cluster-51".into(),
            cluster: Some("51".into()),
            subnets: vec![
                "10.151.0.0/16".parse().unwrap(),
                "fd00:20:51::/64".parse().unwrap(),
            ],
        });
        own.host.as_mut().unwrap().routes_v4 += "10.151.0.128/25 via 10.151.0.200 dev br-dind51\n";
        let mut impostor = facts(host());
        impostor.networks.push(DockerNetwork {
            name: "kubeadm-dind-net-cluster-51".into(),
            cluster: None,
            subnets: vec!["fd00:20:51::/64".parse().unwrap()],
        });
        let allow = vec![("allow-aaaa", "true"), ("egress-interface", "eth0")];
        vec![
            (
                "a clean host",
                vec![],
                facts(host()),
                vec![
                    ("daemon", Some(Pass)),
                    ("ipv6", Some(Pass)),
                    ("iptables-backend", Some(Pass)),
                    ("daemon-ipv6-nat", Some(Pass)),
                    ("tun", Some(Pass)),
                    ("subnet-overlap", Some(Pass)),
                    ("egress-interface", None),
                    ("host-helper", None),
                ],
            ),
            (
                "IPv6 disabled",
                vec![],
                facts(HostFacts {
                    ipv6_disabled: Some(true),
                    ..host()
                }),
                vec![("ipv6", Some(Fail))],
            ),
            (
                "IPv6 disabled does not matter in ipv4 mode",
                vec![("ip-mode", "ipv4")],
                Facts {
                    tun: None,
                    ..facts(HostFacts {
                        ipv6_disabled: Some(true),
                        ..host()
                    })
                },
                vec![("ipv6", Some(Pass)), ("tun", None)],
            ),
            (
                "no IPv6 in the kernel",
                vec![],
                facts(HostFacts {
                    ipv6_disabled: None,
                    ..host()
                }),
                vec![("ipv6", Some(Fail))],
            ),
            (
                "no tun",
                vec![],
                Facts {
                    tun: Some(Ok(false)),
                    ..facts(host())
                },
                vec![("tun", Some(Fail))],
            ),
            (
                "the helper cannot start",
                vec![],
                Facts {
                    host: Err("no image".into()),
                    ..facts(host())
                },
                vec![
                    ("host-helper", Some(Fail)),
                    ("ipv6", None),
                    ("subnet-overlap", Some(Pass)),
                ],
            ),
            (
                "unreadable ip6tables",
                vec![],
                facts(HostFacts {
                    ip6tables: None,
                    ..host()
                }),
                vec![("daemon-ipv6-nat", Some(Warn))],
            ),
            (
                "a foreign network on the management subnet",
                vec![("cluster-id", "51"), ("nat64-v4-prefix", "10.100")],
                foreign,
                vec![("subnet-overlap", Some(Fail))],
            ),
            (
                "the cluster's own network and routes",
                vec![("cluster-id", "51"), ("nat64-v4-prefix", "10.100")],
                own,
                vec![("subnet-overlap", Some(Pass))],
            ),
            (
                "a network with the cluster's name that dind did not make",
                vec![("cluster-id", "51"), ("nat64-v4-prefix", "10.100")],
                impostor,
                vec![("subnet-overlap", Some(Fail))],
            ),
            (
                "a host route into the NAT64 subnet",
                vec![],
                facts(HostFacts {
                    routes_v4: "172.18.5.0/24 via 192.0.2.9 dev eth0\n".into(),
                    ..host()
                }),
                vec![("subnet-overlap", Some(Fail))],
            ),
            (
                "a host route covering the management subnet",
                vec![],
                facts(HostFacts {
                    routes_v6: "unreachable fd00::/16 dev lo metric 1024 pref medium\n".into(),
                    ..host()
                }),
                vec![("subnet-overlap", Some(Fail))],
            ),
            (
                "allow-aaaa on a good uplink",
                allow.clone(),
                facts(HostFacts {
                    egress: egress("eth0"),
                    ..host()
                }),
                vec![
                    ("egress-interface", Some(Pass)),
                    ("ipv6-default-route", Some(Pass)),
                    ("ipv6-forwarding", Some(Pass)),
                    ("accept-ra", Some(Pass)),
                ],
            ),
            (
                "allow-aaaa: a missing interface",
                allow.clone(),
                facts(HostFacts {
                    egress: Some(Egress {
                        name: Some("nosuchif0".into()),
                        exists: false,
                        accept_ra: None,
                    }),
                    ..host()
                }),
                vec![
                    ("egress-interface", Some(Fail)),
                    ("ipv6-default-route", None),
                ],
            ),
            (
                "allow-aaaa: no default route at all",
                vec![("allow-aaaa", "true")],
                facts(HostFacts {
                    egress: Some(Egress::default()),
                    ..host()
                }),
                vec![("egress-interface", Some(Fail))],
            ),
            (
                "allow-aaaa: no IPv6 default route, forwarding off",
                allow.clone(),
                facts(HostFacts {
                    routes_v6: "fd00::/64 dev eth0 proto kernel metric 256\n".into(),
                    ipv6_forwarding: false,
                    egress: egress("eth0"),
                    ..host()
                }),
                vec![
                    ("egress-interface", Some(Pass)),
                    ("ipv6-default-route", Some(Warn)),
                    ("ipv6-forwarding", Some(Warn)),
                    ("accept-ra", Some(Pass)),
                ],
            ),
            (
                // The egress falls back to the IPv4 default route's interface, which carries
                // no IPv6: `up` refuses, and so does doctor.
                "allow-aaaa: no IPv6 default route and no --egress-interface",
                vec![("allow-aaaa", "true")],
                facts(HostFacts {
                    routes_v4: "default via 192.0.2.1 dev eth0\n".into(),
                    routes_v6: "fd00::/64 dev eth0 proto kernel metric 256\n".into(),
                    egress: egress("eth0"),
                    ..host()
                }),
                vec![
                    ("egress-interface", Some(Pass)),
                    ("ipv6-default-route", Some(Fail)),
                ],
            ),
            (
                "allow-aaaa: the default route is router-advertised and accept_ra is 1",
                allow.clone(),
                facts(HostFacts {
                    routes_v6:
                        "default via fe80::1 dev eth0 proto ra metric 1024 expires 1790sec\n".into(),
                    egress: Some(Egress {
                        accept_ra: Some(1),
                        ..egress("eth0").unwrap()
                    }),
                    ..host()
                }),
                vec![
                    ("ipv6-default-route", Some(Pass)),
                    ("accept-ra", Some(Fail)),
                ],
            ),
            (
                "allow-aaaa: router-advertised with accept_ra 2",
                allow.clone(),
                facts(HostFacts {
                    routes_v6: "default via fe80::1 dev eth0 proto ra metric 1024\n".into(),
                    egress: Some(Egress {
                        accept_ra: Some(2),
                        ..egress("eth0").unwrap()
                    }),
                    ..host()
                }),
                vec![("accept-ra", Some(Pass))],
            ),
            (
                "allow-aaaa: accept_ra 1 and forwarding off, but no router-advertised route",
                allow.clone(),
                facts(HostFacts {
                    ipv6_forwarding: false,
                    egress: Some(Egress {
                        accept_ra: Some(1),
                        ..egress("eth0").unwrap()
                    }),
                    ..host()
                }),
                vec![("ipv6-forwarding", Some(Warn)), ("accept-ra", Some(Pass))],
            ),
            (
                "allow-aaaa: the default route is on another interface",
                allow,
                facts(HostFacts {
                    routes_v6: "default via fd00:ee::10 dev dind-wan0 metric 1024\n".into(),
                    egress: egress("eth0"),
                    ..host()
                }),
                vec![("ipv6-default-route", Some(Warn))],
            ),
        ]
    }

    #[test]
    fn findings_follow_the_facts() {
        for (what, flags, facts, expected) in cases() {
            let findings = evaluate(&config(&flags), &facts);
            for (check, status) in expected {
                assert_eq!(
                    status_of(&findings, check).map(|f| f.status),
                    status,
                    "{what}: {check} in {findings:#?}"
                );
            }
        }
    }

    #[test]
    fn the_report_fails_only_on_failures() {
        let report = |statuses: &[Status]| Report {
            findings: statuses
                .iter()
                .map(|s| Finding::new("x", *s, "d"))
                .collect(),
        };
        assert!(report(&[Pass, Warn]).passed());
        assert!(!report(&[Pass, Warn, Fail]).passed());
    }

    #[test]
    fn overlap_names_the_network_and_the_flag() {
        let mut f = facts(host());
        f.networks.push(DockerNetwork {
            name: "compose_default".into(),
            cluster: None,
            subnets: vec!["172.18.0.0/16".parse().unwrap()],
        });
        let findings = evaluate(&config(&[]), &f);
        let overlap = status_of(&findings, "subnet-overlap").unwrap();
        assert!(
            overlap.detail.contains("compose_default"),
            "{}",
            overlap.detail
        );
        assert!(overlap
            .hint
            .as_deref()
            .unwrap()
            .contains("--nat64-v4-prefix"));
    }

    #[test]
    fn a_docker_networks_own_route_is_reported_once() {
        let mut f = facts(host());
        f.networks.push(DockerNetwork {
            name: "other".into(),
            cluster: None,
            subnets: vec!["fd00:20::/64".parse().unwrap()],
        });
        f.host.as_mut().unwrap().routes_v6 +=
            "fd00:20::/64 dev br-0123456789ab proto kernel metric 256 linkdown pref medium\n";
        let findings = evaluate(&config(&[]), &f);
        let overlap = status_of(&findings, "subnet-overlap").unwrap();
        assert_eq!(overlap.status, Fail);
        assert!(!overlap.detail.contains("host route"), "{}", overlap.detail);
    }

    #[test]
    fn the_accept_ra_fix_names_the_interface() {
        let f = facts(HostFacts {
            routes_v6: "default via fe80::1 dev wlan0 proto ra metric 600\n".into(),
            egress: Some(Egress {
                name: Some("wlan0".into()),
                exists: true,
                accept_ra: Some(1),
            }),
            ..host()
        });
        let findings = evaluate(
            &config(&[("allow-aaaa", "true"), ("egress-interface", "wlan0")]),
            &f,
        );
        let ra = status_of(&findings, "accept-ra").unwrap();
        assert_eq!(
            ra.hint.as_deref(),
            Some("`sysctl net.ipv6.conf.wlan0.accept_ra=2` on the Docker host")
        );
    }

    #[test]
    fn routes_parse_with_types_host_routes_and_multipath() {
        let routes = parse_routes(
            "default proto ra metric 1024 pref medium\n\
             \tnexthop via fe80::1 dev eth0 weight 1\n\
             \tnexthop via fe80::2 dev eth1 weight 1\n\
             blackhole 10.9.0.0/16\n\
             10.1.2.3 via 192.0.2.1 dev eth0\n\
             garbage line\n",
        );
        assert_eq!(routes.len(), 3, "{routes:#?}");
        assert_eq!(routes[0].dst, None);
        assert_eq!(routes[0].dev.as_deref(), Some("eth0"));
        assert_eq!(routes[0].proto.as_deref(), Some("ra"));
        assert_eq!(routes[1].dst, Some("10.9.0.0/16".parse().unwrap()));
        assert_eq!(routes[2].dst, Some("10.1.2.3/32".parse().unwrap()));
        assert_eq!(
            default_dev("10.0.0.0/8 dev eth1\ndefault via 192.0.2.1 dev eth0\n").as_deref(),
            Some("eth0")
        );
        assert_eq!(default_dev("10.0.0.0/8 dev eth1\n"), None);
    }

    #[test]
    fn the_table_aligns_and_shows_hints() {
        let report = Report {
            findings: vec![
                Finding::ok("daemon", "Docker 28.0.1"),
                Finding::new("tun", Fail, TUN_MISSING).hint(TUN_HINT),
            ],
        };
        let table = report.render_table();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines[0], "✓ daemon  Docker 28.0.1");
        assert_eq!(lines[1], format!("✗ tun     {TUN_MISSING}"));
        assert_eq!(lines[2], format!("          hint: {TUN_HINT}"));
        assert_eq!(lines[3], "1 ok, 0 warning(s), 1 failed");
    }

    #[test]
    fn findings_serialize_with_lowercase_statuses() {
        let json = serde_json::to_value(Finding::new("tun", Warn, "d")).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"check": "tun", "status": "warn", "detail": "d", "hint": null})
        );
    }
}
