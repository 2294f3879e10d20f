//! Every fact about the Docker host that `up` and `doctor` judge, gathered once: Docker
//! queries, one helper container with host networking, and the /dev/net/tun probe.

use super::routes::{default_dev, parse_routes, HostRoute};
use crate::config::Config;
use crate::engine::docker::{Engine, ExecOutput};
use crate::engine::host::Backend;
use crate::engine::host::{self, HostNet};
use crate::engine::images::{self, ImageKind};
use crate::engine::info::DaemonInfo;
use crate::labels;
use crate::plan::ClusterPlan;
use crate::progress::Phase;
use anyhow::Result;
use ipnet::IpNet;

/// What the checks look at.
#[derive(Clone, Debug)]
pub struct HostFacts {
    pub(crate) daemon_version: String,
    pub(crate) api_version: String,
    /// What `docker info` says: cgroup version, firewall backend, userland proxy.
    pub(crate) daemon: DaemonInfo,
    pub(crate) networks: Vec<DockerNetwork>,
    /// Only when the cluster has NAT64; Err when the probe itself could not run.
    pub tun: Option<Result<bool, String>>,
    /// Err when the host could not be inspected (no helper container).
    pub(crate) host: Result<HostNetFacts, String>,
}

#[derive(Clone, Debug, Default)]
pub struct DockerNetwork {
    pub(crate) name: String,
    /// The value of its dind cluster label.
    pub(crate) cluster: Option<String>,
    pub(crate) subnets: Vec<IpNet>,
}

/// What the host helper sees of the host's network.
#[derive(Clone, Debug)]
pub struct HostNetFacts {
    /// net.ipv6.conf.all.disable_ipv6; None when the kernel has no IPv6.
    pub(crate) ipv6_disabled: Option<bool>,
    pub(crate) backend: Backend,
    /// `ip6tables-save` of that backend; None when it failed.
    pub(crate) ip6tables: Option<String>,
    /// `ip -4 route show` and `ip -6 route show`.
    pub(crate) routes_v4: Vec<HostRoute>,
    pub(crate) routes_v6: Vec<HostRoute>,
    /// net.ipv6.conf.all.forwarding.
    pub(crate) ipv6_forwarding: bool,
    /// net.ipv6.conf.default.forwarding: Docker's nftables backend wants it on too.
    pub(crate) ipv6_default_forwarding: bool,
    /// net.ipv4.ip_forward.
    pub(crate) ipv4_forwarding: bool,
    /// Only with --allow-aaaa.
    pub(crate) egress: Option<Egress>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Egress {
    /// The configured interface, else the host default route's; None when neither.
    pub(crate) name: Option<String>,
    pub(crate) exists: bool,
    /// net.ipv6.conf.<name>.accept_ra.
    pub(crate) accept_ra: Option<u8>,
}

impl Default for HostNetFacts {
    fn default() -> Self {
        HostNetFacts {
            ipv6_disabled: Some(false),
            backend: Backend::Nft,
            ip6tables: Some(String::new()),
            routes_v4: Vec::new(),
            routes_v6: Vec::new(),
            ipv6_forwarding: false,
            ipv6_default_forwarding: false,
            ipv4_forwarding: true,
            egress: None,
        }
    }
}

/// Asks Docker and the host everything [`super::judge`] needs for `config` and its plan. Builds dind's
/// helper image if it is missing; a failure to inspect the host is a fact, not an error.
pub async fn gather(
    engine: &Engine,
    config: &Config,
    cluster_plan: &ClusterPlan,
    phase: &Phase,
) -> Result<HostFacts> {
    let (facts, helper) = gather_keeping_helper(engine, config, cluster_plan, phase).await?;
    if let Some(helper) = helper {
        helper.remove().await;
    }
    Ok(facts)
}

/// [`gather`], and the helper that read the host, still running for the caller's own
/// steps on the host (None when it could not be started or read nothing).
pub(crate) async fn gather_keeping_helper(
    engine: &Engine,
    config: &Config,
    cluster_plan: &ClusterPlan,
    phase: &Phase,
) -> Result<(HostFacts, Option<HostNet>)> {
    let has_nat64 = cluster_plan.nat64.is_some();
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
    let daemon = engine.daemon_info().await?;

    phase.message("preparing dind's helper image");
    let spec = ImageKind::NodeBase.spec();
    let (tun, host) = match images::ensure(engine, &spec, phase).await {
        Err(err) => {
            let text = format!("{err:#}");
            (has_nat64.then(|| Err(text.clone())), Err(text))
        }
        Ok(()) => {
            phase.message("asking the host");
            let tun = async {
                match has_nat64 {
                    false => None,
                    true => Some(
                        host::has_tun(engine, &spec.tag, config.cluster_id)
                            .await
                            .map_err(|e| format!("{e:#}")),
                    ),
                }
            };
            let host = host_net_facts(engine, &spec.tag, config);
            let (tun, host) = tokio::join!(tun, host);
            (tun, host.map_err(|e| format!("{e:#}")))
        }
    };
    let (host, helper) = match host {
        Ok((facts, helper)) => (Ok(facts), Some(helper)),
        Err(err) => (Err(err), None),
    };
    let facts = HostFacts {
        daemon_version: engine.server_version.clone(),
        api_version: engine.api_version.clone(),
        daemon,
        networks,
        tun,
        host,
    };
    Ok((facts, helper))
}

/// The host's facts, and the helper that read them, still running.
async fn host_net_facts(
    engine: &Engine,
    image: &str,
    config: &Config,
) -> Result<(HostNetFacts, HostNet)> {
    let host = HostNet::start(engine, image, config.cluster_id).await?;
    match read_host(&host, config).await {
        Ok(facts) => Ok((facts, host)),
        Err(err) => {
            host.remove().await;
            Err(err)
        }
    }
}

const DISABLE_IPV6: &str = "/proc/sys/net/ipv6/conf/all/disable_ipv6";
const IPV6_FORWARDING: &str = "/proc/sys/net/ipv6/conf/all/forwarding";
const IPV6_DEFAULT_FORWARDING: &str = "/proc/sys/net/ipv6/conf/default/forwarding";
const IPV4_FORWARDING: &str = "/proc/sys/net/ipv4/ip_forward";

/// Reads the host in one exec of the helper (the egress interface, with --allow-aaaa, in
/// a second).
async fn read_host(host: &HostNet, config: &Config) -> Result<HostNetFacts> {
    let argv = |words: &[&str]| words.iter().map(|w| w.to_string()).collect::<Vec<_>>();
    let commands = [
        argv(&["cat", DISABLE_IPV6]),
        argv(&["ip", "-4", "route", "show"]),
        argv(&["ip", "-6", "route", "show"]),
        argv(&["cat", IPV6_FORWARDING]),
        argv(&["cat", IPV6_DEFAULT_FORWARDING]),
        argv(&["cat", IPV4_FORWARDING]),
    ];
    let (outputs, backend, ip6tables) = host.run_all_finding_backend(&commands).await?;
    let [disable, v4, v6, forwarding, default_forwarding, ip_forward] =
        <[_; 6]>::try_from(outputs).expect("one output per command");
    let ipv6_disabled = disable.success().then(|| disable.stdout.trim() == "1");
    // Exit codes are not checked: `ip -6` fails on a kernel without IPv6, which has no routes.
    let routes_v4 = parse_routes(&v4.stdout);
    let routes_v6 = parse_routes(&v6.stdout);
    let ipv6_forwarding = match ipv6_disabled {
        Some(_) => host::succeeded(&["cat", IPV6_FORWARDING], forwarding)?.trim() == "1",
        None => false,
    };
    let on = |out: &ExecOutput| out.success() && out.stdout.trim() == "1";
    let ipv6_default_forwarding = ipv6_disabled.is_some() && on(&default_forwarding);
    let ipv4_forwarding = on(&ip_forward);
    let egress = match config.allow_aaaa {
        true => Some(read_egress(host, config, &routes_v4, &routes_v6).await?),
        false => None,
    };
    Ok(HostNetFacts {
        ipv6_disabled,
        backend,
        ip6tables,
        routes_v4,
        routes_v6,
        ipv6_forwarding,
        ipv6_default_forwarding,
        ipv4_forwarding,
        egress,
    })
}

/// The egress interface as `up` picks it: configured, else the interface of the host's
/// IPv6 default route, else of its IPv4 one.
async fn read_egress(
    host: &HostNet,
    config: &Config,
    routes_v4: &[HostRoute],
    routes_v6: &[HostRoute],
) -> Result<Egress> {
    let name = config
        .egress_interface
        .as_deref()
        .or_else(|| default_dev(routes_v6))
        .or_else(|| default_dev(routes_v4))
        .map(str::to_string);
    let Some(name) = name else {
        return Ok(Egress::default());
    };
    let exists = host.interface_exists(&name).await?;
    let accept_ra = match exists {
        true => host.accept_ra(&name).await?,
        false => None,
    };
    Ok(Egress {
        name: Some(name),
        exists,
        accept_ra,
    })
}
