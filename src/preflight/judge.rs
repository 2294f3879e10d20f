//! The one judgement of the Docker host's facts: pure, so `up` and `doctor` cannot disagree
//! about a host.

use super::facts::{DockerNetwork, Egress, HostFacts, HostNetFacts};
use super::routes::{has_default, HostRoute};
use crate::config::{Config, IpMode};
use crate::engine::host::{daemon_masquerades, docker_chains, forward_policy, Backend};
use crate::engine::info::major_minor;
use crate::labels::ForwardPolicy;
use crate::plan::ClusterPlan;
use crate::plan::Role;
use crate::render::containers::KUBERNETES_NODE_CAPS;
use ipnet::IpNet;
use serde::{Serialize, Serializer};
use std::fmt;

/// Declares [`Check`] with its names, and [`Check::ALL`], so that no variant is left out.
macro_rules! checks {
    ($($variant:ident => $name:literal,)*) => {
        /// What a finding is about.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub(crate) enum Check {
            $($variant,)*
        }

        impl Check {
            #[cfg(test)]
            pub(crate) const ALL: &[Check] = &[$(Check::$variant,)*];

            /// Its name in `doctor`'s table and JSON.
            pub(crate) fn name(self) -> &'static str {
                match self {
                    $(Check::$variant => $name,)*
                }
            }
        }
    };
}

checks! {
    Daemon => "daemon",
    HostHelper => "host-helper",
    Ipv6 => "ipv6",
    IptablesBackend => "iptables-backend",
    DaemonIpv6Nat => "daemon-ipv6-nat",
    DaemonFirewall => "daemon-firewall",
    ForwardPolicy => "forward-policy",
    UserlandProxy => "userland-proxy",
    Tun => "tun",
    Cgroup => "cgroup",
    NodePrivilege => "node-privilege",
    NetworkName => "network-name",
    SubnetOverlap => "subnet-overlap",
    EgressInterface => "egress-interface",
    Ipv6DefaultRoute => "ipv6-default-route",
    Ipv6Forwarding => "ipv6-forwarding",
    AcceptRa => "accept-ra",
}

impl Serialize for Check {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// Warnings do not stop `up`; failures do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Level {
    #[serde(rename = "ok")]
    Pass,
    Warn,
    Fail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Finding {
    pub(crate) check: Check,
    #[serde(rename = "status")]
    pub(crate) level: Level,
    pub(crate) detail: String,
    pub(crate) hint: Option<String>,
}

impl Finding {
    pub(crate) fn new(check: Check, level: Level, detail: impl Into<String>) -> Finding {
        Finding {
            check,
            level,
            detail: detail.into(),
            hint: None,
        }
    }
    fn pass(check: Check, detail: impl Into<String>) -> Finding {
        Finding::new(check, Level::Pass, detail)
    }
    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Finding {
        self.hint = Some(hint.into());
        self
    }
}

/// The detail, then the hint: what `up` prints.
impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.detail)?;
        if let Some(hint) = &self.hint {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

const TUN_MISSING: &str =
    "NAT64 (tayga or dind-nat64) needs /dev/net/tun, and the Docker host has none";
const TUN_HINT: &str = "load the tun module on the Docker host: `modprobe tun`";

/// The findings for `facts`, in a fixed order; no I/O.
pub(crate) fn judge(
    config: &Config,
    cluster_plan: &ClusterPlan,
    facts: &HostFacts,
) -> Vec<Finding> {
    let mut findings = vec![Finding::pass(
        Check::Daemon,
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
                    Check::HostHelper,
                    Level::Fail,
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
        findings.push(ipv6_finding(cluster_plan, host));
        findings.push(Finding::pass(
            Check::IptablesBackend,
            match host.backend {
                Backend::Nft => "nft (dind uses iptables-nft and ip6tables-nft)",
                Backend::Legacy => "legacy (dind uses iptables-legacy and ip6tables-legacy)",
            },
        ));
        findings.push(daemon_nat_finding(facts, host));
        findings.push(daemon_firewall_finding(cluster_plan, facts, host));
        findings.push(forward_policy_finding(cluster_plan, facts, host));
    }
    findings.push(userland_proxy_finding(config, cluster_plan, facts));
    if let Some(tun) = &facts.tun {
        findings.push(match tun {
            Ok(true) => Finding::pass(Check::Tun, "/dev/net/tun is present (NAT64 needs it)"),
            Ok(false) => Finding::new(Check::Tun, Level::Fail, TUN_MISSING).hint(TUN_HINT),
            Err(err) => Finding::new(
                Check::Tun,
                Level::Fail,
                format!("cannot check /dev/net/tun on the Docker host: {err}"),
            ),
        });
    }
    if config.kubernetes {
        findings.push(cgroup_finding(facts.daemon.cgroup_version));
        findings.push(node_privilege_finding());
    }
    findings.push(network_name_finding(cluster_plan, facts));
    findings.push(overlap_finding(cluster_plan, facts, host));
    if let Some((host, egress)) = host.and_then(|h| h.egress.as_ref().map(|e| (h, e))) {
        findings.extend(egress_findings(config, host, egress));
    }
    findings
}

fn ipv6_finding(cluster_plan: &ClusterPlan, host: &HostNetFacts) -> Finding {
    let needed = cluster_plan.network.ipv6;
    let (level, detail) = match host.ipv6_disabled {
        Some(false) => (Level::Pass, "enabled".to_string()),
        Some(true) => (
            Level::Fail,
            "disabled (net.ipv6.conf.all.disable_ipv6=1)".to_string(),
        ),
        None => (
            Level::Fail,
            "the kernel has no IPv6 (no /proc/sys/net/ipv6)".to_string(),
        ),
    };
    match (level, needed) {
        (Level::Pass, _) => Finding::pass(Check::Ipv6, detail),
        (_, false) => Finding::pass(Check::Ipv6, format!("{detail}; ipv4 mode does not need it")),
        (_, true) => Finding::new(
            Check::Ipv6,
            level,
            format!("{detail}; this cluster needs IPv6"),
        )
        .hint("`sysctl -w net.ipv6.conf.all.disable_ipv6=0` on the Docker host"),
    }
}

/// The daemon's major version; 0 when it cannot be read.
fn major(facts: &HostFacts) -> u32 {
    major_minor(&facts.daemon_version).map_or(0, |(major, _)| major)
}

fn daemon_nat_finding(facts: &HostFacts, host: &HostNetFacts) -> Finding {
    let major = major(facts);
    let default = if major >= 27 {
        "ip6tables support is on by default since Docker 27"
    } else {
        "the daemon does not NAT IPv6 by default before Docker 27"
    };
    if facts.daemon.nftables() {
        return Finding::pass(
            Check::DaemonIpv6Nat,
            format!(
                "Docker {major}: its nftables firewall backend keeps its rules in nft tables of \
                 its own (ip6 docker-bridges), which {} does not show: dind cannot see whether \
                 the daemon masquerades the cluster's prefixes, so with --allow-aaaa it adds its \
                 own NAT and FORWARD rules, which change nothing beside Docker's",
                host.backend.ip6tables_save()
            ),
        );
    }
    let Some(save) = &host.ip6tables else {
        return Finding::new(
            Check::DaemonIpv6Nat,
            Level::Warn,
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
    Finding::pass(Check::DaemonIpv6Nat, detail)
}

/// The daemon's firewall: its backend (`docker info`, API 1.49+) and whether it writes
/// ip6tables rules of its own (Docker 27+: its chains are in the host's ip6tables). With the
/// nftables backend Docker never switches forwarding on, and refuses to create a network
/// while it is off: `up` refuses first.
fn daemon_firewall_finding(
    cluster_plan: &ClusterPlan,
    facts: &HostFacts,
    host: &HostNetFacts,
) -> Finding {
    let backend = match &facts.daemon.firewall_backend {
        Some(backend) => format!("firewall backend {backend}"),
        None => "no firewall backend named (Docker says it from 28.2; before, iptables)".into(),
    };
    if facts.daemon.nftables() {
        return nftables_finding(cluster_plan, host, &backend);
    }
    let ip6 = match &host.ip6tables {
        None => "its ip6tables rules could not be read".to_string(),
        Some(save) => {
            let chains = docker_chains(save);
            if chains.is_empty() {
                "it writes no ip6tables rules (Docker before 27, or ip6tables off)".into()
            } else {
                format!(
                    "it writes its own ip6tables rules (chains {})",
                    chains.join(", ")
                )
            }
        }
    };
    Finding::pass(Check::DaemonFirewall, format!("{backend}; {ip6}"))
}

/// Docker's nftables backend: it never switches forwarding on and refuses to create a
/// network while it is off; and it sets up its embedded DNS in each container with nft rules
/// (table `ip docker-dns`), not the iptables DOCKER_OUTPUT chain from which dind's nodes
/// learn where to hand their pods' DNS (dual-stack and ipv4 modes).
fn nftables_finding(cluster_plan: &ClusterPlan, host: &HostNetFacts, backend: &str) -> Finding {
    let mut off = Vec::new();
    if cluster_plan.network.ipv6 && !host.ipv6_forwarding {
        off.push("net.ipv6.conf.all.forwarding");
    }
    if cluster_plan.network.ipv6 && !host.ipv6_default_forwarding {
        off.push("net.ipv6.conf.default.forwarding");
    }
    let has_ipv4 = cluster_plan
        .network
        .subnets
        .iter()
        .any(|s| s.cidr.addr().is_ipv4());
    if has_ipv4 && !host.ipv4_forwarding {
        off.push("net.ipv4.ip_forward");
    }
    let docker_dns = cluster_plan.nodes.iter().any(|n| n.docker_dns_at.is_some());
    let mut details = Vec::new();
    let mut hints = Vec::new();
    if !off.is_empty() {
        let set: Vec<String> = off.iter().map(|s| format!("{s}=1")).collect();
        details.push(format!(
            "with nftables Docker does not switch forwarding on, and refuses to create the \
             cluster's network while it is off; on the Docker host {} must be 1",
            off.join(", ")
        ));
        hints.push(format!(
            "`sysctl -w {}` on the Docker host first (its firewall must then filter what it \
             forwards)",
            set.join(" ")
        ));
    }
    if docker_dns {
        details.push(
            "with nftables Docker sets up its embedded DNS in each container with nft rules, \
             not the iptables DOCKER_OUTPUT chain from which the nodes of a dual-stack or ipv4 \
             cluster learn where to hand their pods' DNS"
                .to_string(),
        );
        hints.push("use --ip-mode ipv6 (its pods resolve through DNS64)".to_string());
    }
    if details.is_empty() {
        return Finding::pass(
            Check::DaemonFirewall,
            format!("{backend}: Docker's rules are in nft tables of its own; forwarding is on"),
        );
    }
    hints.push(
        "run the daemon with the iptables backend (\"firewall-backend\": \"iptables\" in \
         daemon.json, the default)"
            .to_string(),
    );
    Finding::new(
        Check::DaemonFirewall,
        Level::Fail,
        format!("{backend}: {}", details.join("; ")),
    )
    .hint(hints.join("; or "))
}

/// The ip6tables FORWARD policy now, and what happens to it: Docker 28 and later set it to
/// DROP when they switch IPv6 forwarding on for a network; dind records it and `down` puts
/// it back.
fn forward_policy_finding(
    cluster_plan: &ClusterPlan,
    facts: &HostFacts,
    host: &HostNetFacts,
) -> Finding {
    let Some(save) = &host.ip6tables else {
        return Finding::pass(
            Check::ForwardPolicy,
            "cannot read the host's ip6tables FORWARD policy",
        );
    };
    let (now, shown) = match forward_policy(save) {
        Some(policy) => (policy, policy.to_string()),
        None => (
            ForwardPolicy::Accept,
            "ACCEPT (no filter table)".to_string(),
        ),
    };
    let switches = cluster_plan.network.ipv6 && !host.ipv6_forwarding;
    let drops = major(facts) >= 28 && !docker_chains(save).is_empty() && !facts.daemon.nftables();
    let detail = if switches && drops && now == ForwardPolicy::Accept {
        format!(
            "ip6tables FORWARD policy {shown}; Docker {} sets it to DROP when it switches IPv6 \
             forwarding on for the cluster's network (its own rules let the cluster's traffic \
             through); `dind down` puts {now} back with forwarding",
            facts.daemon_version
        )
    } else if switches {
        format!("ip6tables FORWARD policy {shown}; `dind down` keeps or puts back {now}")
    } else {
        format!("ip6tables FORWARD policy {shown}; IPv6 forwarding is on already, dind leaves it")
    };
    Finding::pass(Check::ForwardPolicy, detail)
}

/// What the cluster publishes where Docker reaches it only through its userland proxy:
/// Docker 28 and later never DNAT `[::1]` (their OUTPUT rule skips `::1/128`), so a port on
/// `[::1]`, or on `[::]` when reached at `[::1]`, answers only through docker-proxy.
pub(crate) fn published_on_ipv6_loopback(
    config: &Config,
    cluster_plan: &ClusterPlan,
) -> Vec<String> {
    let mut found = Vec::new();
    let api = crate::plan::kubernetes::published_loopback(config.ip_mode);
    for node in &cluster_plan.nodes {
        if node.role == Role::Master && api.is_ipv6() {
            found.push(format!("{}: the API server on [{api}]", node.container));
        }
        for port in &node.port_mappings {
            let at = port.listen_address;
            if at.is_ipv6() && (at.is_loopback() || at.is_unspecified()) {
                found.push(format!(
                    "{}: {} port {} on [{at}] (extraPortMappings)",
                    node.container, port.protocol, port.host_port
                ));
            }
        }
    }
    found
}

fn userland_proxy_finding(
    config: &Config,
    cluster_plan: &ClusterPlan,
    facts: &HostFacts,
) -> Finding {
    let needs = published_on_ipv6_loopback(config, cluster_plan);
    let state = match facts.daemon.userland_proxy {
        Some(true) => "on",
        Some(false) => "off",
        None => "not said by the daemon (Docker says it from 29.5; on by default)",
    };
    if needs.is_empty() {
        return Finding::pass(
            Check::UserlandProxy,
            format!("{state}; the cluster publishes nothing on [::1]"),
        );
    }
    if facts.daemon.userland_proxy == Some(false) {
        return Finding::new(
            Check::UserlandProxy,
            Level::Fail,
            format!(
                "Docker runs without its userland proxy, and reaches ports published on [::1] \
                 only through it: {}",
                needs.join("; ")
            ),
        )
        .hint(
            "run the daemon with its userland proxy (drop \"userland-proxy\": false from \
             daemon.json, or --userland-proxy=true); or, for the API server, --ip-mode \
             dual-stack, which publishes it on 127.0.0.1",
        );
    }
    Finding::pass(
        Check::UserlandProxy,
        format!(
            "{state}; it serves what the cluster publishes on [::1] ({})",
            needs.join("; ")
        ),
    )
}

/// Kubernetes nodes run on either cgroup version; on v1 they make their own hierarchies
/// writable and the kubelet is told to accept v1 (failCgroupV1: false).
fn cgroup_finding(version: Option<u8>) -> Finding {
    let detail = match version {
        Some(1) => "cgroup v1: the nodes make their cgroup hierarchies writable in their own \
                    namespace, and the kubelet runs with failCgroupV1: false"
            .to_string(),
        Some(v) => format!("cgroup v{v}"),
        None => "the daemon does not say its cgroup version".to_string(),
    };
    Finding::pass(Check::Cgroup, detail)
}

/// How Kubernetes nodes run: the same on every host.
fn node_privilege_finding() -> Finding {
    Finding::pass(
        Check::NodePrivilege,
        format!(
            "Kubernetes nodes run without --privileged: capabilities {}, seccomp unconfined, \
             a cgroup namespace of their own",
            KUBERNETES_NODE_CAPS.join(", ")
        ),
    )
}

fn is_ours(cluster_plan: &ClusterPlan, network: &DockerNetwork) -> bool {
    network.name == cluster_plan.network.name
        && network.cluster.as_deref() == Some(cluster_plan.cluster_id.to_string().as_str())
}

fn network_name_finding(cluster_plan: &ClusterPlan, facts: &HostFacts) -> Finding {
    let name = &cluster_plan.network.name;
    match facts.networks.iter().find(|n| &n.name == name) {
        None => Finding::pass(
            Check::NetworkName,
            format!("no Docker network is named {name} yet"),
        ),
        Some(network) if is_ours(cluster_plan, network) => Finding::pass(
            Check::NetworkName,
            format!("{name} is this cluster's own network"),
        ),
        Some(_) => Finding::new(
            Check::NetworkName,
            Level::Fail,
            format!("a Docker network named {name} exists but was not made by dind"),
        )
        .hint(format!(
            "remove it (`docker network rm {name}`) or pick another --cluster-id"
        )),
    }
}

fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// Other Docker networks and the host's routes must not reach into the cluster's subnets;
/// the cluster's own network and the routes dind adds through its bridge are no clash.
fn overlap_finding(
    cluster_plan: &ClusterPlan,
    facts: &HostFacts,
    host: Option<&HostNetFacts>,
) -> Finding {
    let foreign: Vec<&DockerNetwork> = facts
        .networks
        .iter()
        .filter(|n| !is_ours(cluster_plan, n))
        .collect();
    // A Docker network's own route is reported as that network, not twice.
    let network_subnets: Vec<IpNet> = facts
        .networks
        .iter()
        .flat_map(|n| n.subnets.iter().copied())
        .collect();
    let routes: Vec<&HostRoute> = host
        .map(|h| h.routes_v4.iter().chain(&h.routes_v6).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|r| !r.uses_dev(&cluster_plan.network.bridge))
        .filter(|r| r.dst.is_some_and(|d| !network_subnets.contains(&d)))
        .collect();

    let mut clashes = Vec::new();
    for ours in &cluster_plan.network.subnets {
        for network in &foreign {
            for theirs in network.subnets.iter().filter(|s| overlaps(s, &ours.cidr)) {
                clashes.push(format!(
                    "subnet {} of this cluster overlaps {theirs} of Docker network {}",
                    ours.cidr, network.name
                ));
            }
        }
        for route in &routes {
            if route.dst.is_some_and(|d| overlaps(&d, &ours.cidr)) {
                clashes.push(format!(
                    "subnet {} of this cluster overlaps the host route `{}`",
                    ours.cidr, route.line
                ));
            }
        }
    }
    if clashes.is_empty() {
        let planned: Vec<String> = cluster_plan
            .network
            .subnets
            .iter()
            .map(|s| s.cidr.to_string())
            .collect();
        let against = if host.is_some() {
            "Docker networks and host routes"
        } else {
            "Docker networks (host routes not checked)"
        };
        return Finding::pass(
            Check::SubnetOverlap,
            format!("{} overlap none of the {against}", planned.join(", ")),
        );
    }
    // The settings that move a planned subnet elsewhere.
    let flags = match cluster_plan.nat64 {
        Some(_) => "--cluster-id, --mgmt-cidrs or --nat64-v4-prefix",
        None => "--cluster-id or --mgmt-cidrs",
    };
    Finding::new(Check::SubnetOverlap, Level::Fail, clashes.join("; "))
        .hint(format!("pick another {flags}"))
}

fn egress_findings(config: &Config, host: &HostNetFacts, egress: &Egress) -> Vec<Finding> {
    let Some(name) = &egress.name else {
        return vec![Finding::new(
            Check::EgressInterface,
            Level::Fail,
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
            Check::EgressInterface,
            Level::Fail,
            format!("egress interface {name} does not exist on the Docker host ({origin})"),
        )
        .hint("fix --egress-interface (or DIND_EGRESS_INTERFACE); `ip link` on the Docker host lists its interfaces")];
    }
    let mut findings = vec![Finding::pass(
        Check::EgressInterface,
        format!("{name} ({origin}) exists"),
    )];

    let defaults: Vec<&HostRoute> = host
        .routes_v6
        .iter()
        .filter(|r| r.is_usable_default() && r.uses_dev(name))
        .collect();
    // The rule for the whole host first; then what this interface has.
    findings.push(
        match (direct_ipv6(config, has_default(&host.routes_v6)), defaults.first()) {
            (DirectIpv6::Refuse(text), _) => {
                Finding::new(Check::Ipv6DefaultRoute, Level::Fail, text)
            }
            (DirectIpv6::Warn(text), _) => Finding::new(Check::Ipv6DefaultRoute, Level::Warn, text),
            (DirectIpv6::Fine, Some(route)) => {
                Finding::pass(Check::Ipv6DefaultRoute, format!("`{}`", route.line))
            }
            (DirectIpv6::Fine, None) => Finding::new(
                Check::Ipv6DefaultRoute,
                Level::Warn,
                format!("{name} has no IPv6 default route: direct IPv6 cannot work without one"),
            )
            .hint("IPv4-only sites still work through NAT64; pick the interface that has an IPv6 uplink with --egress-interface"),
        },
    );

    findings.push(if host.ipv6_forwarding {
        Finding::pass(Check::Ipv6Forwarding, "on")
    } else {
        Finding::new(
            Check::Ipv6Forwarding,
            Level::Warn,
            "off: `dind up` will switch it on (and `dind down` back off)",
        )
    });

    findings.push(accept_ra_finding(
        name,
        egress.accept_ra,
        host.ipv6_forwarding,
        defaults.iter().any(|r| r.is_router_advertised()),
    ));
    findings
}

/// With IPv6 forwarding on, the kernel ignores router advertisements on an interface whose
/// accept_ra is 1. Switching forwarding on (what `up` does for --allow-aaaa) drops the
/// router-advertised default route at once: the host loses IPv6, so that fails. With
/// forwarding on already, the route is there now but no longer renewed: it lapses when it
/// expires, which dind does not cause and the host has already; that warns.
fn accept_ra_finding(
    name: &str,
    accept_ra: Option<u8>,
    forwarding: bool,
    from_ra: bool,
) -> Finding {
    let fix = format!("`sysctl net.ipv6.conf.{name}.accept_ra=2` on the Docker host");
    match accept_ra {
        Some(1) if from_ra && !forwarding => Finding::new(
            Check::AcceptRa,
            Level::Fail,
            format!(
                "the IPv6 default route of {name} is learned from router advertisements and \
                 accept_ra is 1: switching IPv6 forwarding on (--allow-aaaa needs it) makes the \
                 kernel drop that route"
            ),
        )
        .hint(fix),
        Some(1) if from_ra => Finding::new(
            Check::AcceptRa,
            Level::Warn,
            format!(
                "the IPv6 default route of {name} is learned from router advertisements, but \
                 with forwarding on and accept_ra 1 the kernel ignores them: the route is not \
                 renewed and lapses when it expires"
            ),
        )
        .hint(fix),
        Some(value) => Finding::pass(
            Check::AcceptRa,
            format!(
                "accept_ra of {name} is {value}{}",
                if from_ra {
                    "; its default route is router-advertised"
                } else {
                    ""
                }
            ),
        ),
        None => Finding::pass(Check::AcceptRa, format!("{name} has no accept_ra setting")),
    }
}

/// Whether direct IPv6 egress can work, for what `--allow-aaaa` does in an IPv6-only cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum DirectIpv6 {
    /// Not asked for, or the host routes IPv6 out.
    Fine,
    /// The user named the egress interface: go on, but say what was seen.
    Warn(String),
    /// Refuse before anything is created.
    Refuse(String),
}

/// With `--allow-aaaa` in ipv6 mode, DNS64 hands out real AAAA records, so nodes and pods try
/// IPv6 for every dual-stack site, container registries among them. A Docker host without an
/// IPv6 default route (every GitHub-hosted runner) cannot carry that traffic: image pulls
/// and `kubeadm init` fail. Dual-stack nodes fall back to IPv4 and are not judged here.
pub(crate) fn direct_ipv6(config: &Config, host_has_ipv6_default_route: bool) -> DirectIpv6 {
    if !config.allow_aaaa || config.ip_mode != IpMode::Ipv6 || host_has_ipv6_default_route {
        return DirectIpv6::Fine;
    }
    match &config.egress_interface {
        Some(egress) => DirectIpv6::Warn(format!(
            "the Docker host has no IPv6 default route; with --allow-aaaa, pods reach IPv6 sites \
             only if {egress} (--egress-interface) routes IPv6 to them"
        )),
        None => DirectIpv6::Refuse(
            "--allow-aaaa in an ipv6 cluster needs an IPv6 default route on the Docker host, and it \
             has none: nodes would get real AAAA records for sites (container registries among \
             them) they cannot reach, and image pulls and kubeadm init would fail; drop \
             --allow-aaaa (every site then goes through NAT64), use --ip-mode dual-stack, or name \
             an interface that routes IPv6 with --egress-interface"
                .to_string(),
        ),
    }
}

#[cfg(test)]
pub(crate) mod tests;
