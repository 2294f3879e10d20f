//! `dind status`: clusters, their containers and addresses, AAAA policy, and the host rules
//! installed, read from Docker labels and the host itself.

use super::{list_clusters, read_record};
use crate::config::{IpMode, Nat64Engine};
use crate::engine::docker::{container_name, Engine};
use crate::engine::host::{self, HostNet};
use crate::engine::images::{self, ImageKind};
use crate::labels::{self, ForwardPolicy, LabelError, Record, Role};
use crate::plan;
use anyhow::Result;
use serde::Serialize;
use std::fmt::{self, Write};

/// How DNS64 answers AAAA queries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum AaaaPolicy {
    /// Every name through NAT64.
    SynthesizeAll,
    PassRealAaaa,
}

impl fmt::Display for AaaaPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AaaaPolicy::SynthesizeAll => "synthesize-all",
            AaaaPolicy::PassRealAaaa => "pass-real-aaaa",
        })
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ClusterStatus {
    pub(crate) cluster_id: u8,
    pub(crate) network: Option<String>,
    pub(crate) ip_mode: Option<IpMode>,
    pub(crate) aaaa_policy: Option<AaaaPolicy>,
    pub(crate) dns64_prefix: Option<String>,
    pub(crate) nat64_pool: Option<String>,
    /// The translator the NAT64 container runs (ipv6 mode).
    pub(crate) nat64_engine: Option<Nat64Engine>,
    pub(crate) egress_interface: Option<String>,
    pub(crate) containers: Vec<ContainerStatus>,
    /// None when not read: dind's helper image is absent, or `up` reports a cluster that
    /// has no host rules without starting a helper.
    pub(crate) host_rules: Option<Vec<String>>,
    pub(crate) host_routes: Vec<String>,
    /// The Docker daemon the cluster runs on, as it is now.
    pub(crate) docker: DockerStatus,
    /// What the daemon's own ip6tables rules do for the cluster; None when not read (as
    /// `host_rules`).
    pub(crate) daemon_rules: Option<DaemonRulesStatus>,
    /// The host's ip6tables FORWARD policy now; None when not read, or no filter table.
    pub(crate) ip6_forward_policy: Option<ForwardPolicy>,
    /// The policy before dind switched IPv6 forwarding on, which the last `down` puts back
    /// (the cluster's record); None when dind did not switch forwarding on.
    pub(crate) ip6_forward_policy_before: Option<ForwardPolicy>,
    /// The API server as the Docker host reaches it (Kubernetes clusters only).
    pub(crate) api_server: Option<String>,
    /// The local registry's name on the Docker host and in the nodes, `localhost:5001`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) registry: Option<String>,
    /// The kubeconfig context `up` merged, and the file it is in.
    pub(crate) kube_context: Option<String>,
    pub(crate) kubeconfig: Option<String>,
    /// The master's image and the package versions its build resolved (its labels).
    pub(crate) node_image: Option<String>,
    pub(crate) node_image_versions: std::collections::BTreeMap<String, String>,
}

/// The Docker daemon: version, API, firewall backend.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DockerStatus {
    pub(crate) version: String,
    pub(crate) api_version: String,
    /// As `docker info` names it (Docker 28.2 and later); None: not said.
    pub(crate) firewall_backend: Option<String>,
}

/// What the daemon's own ip6tables rules provide for a cluster (Docker 27 and later write
/// IPv6 rules; 20.10 none; with the nftables backend they are not in ip6tables at all).
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DaemonRulesStatus {
    /// Docker's own chains are in the host's ip6tables.
    pub(crate) manages_ip6tables: bool,
    /// The cluster's IPv6 sources the daemon masquerades itself.
    pub(crate) masquerades: Vec<String>,
    /// The daemon accepts the bridge's forwarded traffic both ways.
    pub(crate) forwards: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct ContainerStatus {
    pub(crate) name: String,
    /// None: the role label is missing or names no role this dind knows.
    pub(crate) role: Option<Role>,
    pub(crate) state: String,
    pub(crate) addresses: Vec<String>,
}

/// Every cluster (or only one), and the labels that could not be read. A cluster with an
/// unusable record is reported apart, so the others are still listed.
#[derive(Debug, Default)]
pub(crate) struct StatusReport {
    pub(crate) clusters: Vec<ClusterStatus>,
    pub(crate) unreadable: Vec<LabelError>,
}

/// Labels that made clusters unreadable, one line each.
#[derive(Debug, thiserror::Error)]
pub(crate) struct UnreadableClusters(pub Vec<LabelError>);

impl fmt::Display for UnreadableClusters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0[..] {
            [one] => write!(f, "{one}"),
            all => {
                write!(f, "{} dind labels are unusable:", all.len())?;
                for error in all {
                    write!(f, "\n  {error}")?;
                }
                Ok(())
            }
        }
    }
}

impl StatusReport {
    /// The clusters, or an error when any label was unusable.
    pub(crate) fn check(self) -> Result<Vec<ClusterStatus>, UnreadableClusters> {
        if self.unreadable.is_empty() {
            Ok(self.clusters)
        } else {
            Err(UnreadableClusters(self.unreadable))
        }
    }

    /// The table of the readable clusters; "no dind clusters" only when there is nothing at
    /// all, not even an unreadable one.
    pub(crate) fn render_table(&self) -> String {
        if self.clusters.is_empty() && !self.unreadable.is_empty() {
            return String::new();
        }
        render_table(&self.clusters)
    }
}

/// [`report`], failing when any label is unusable.
pub(crate) async fn status(
    engine: &Engine,
    only: Option<u8>,
    read_host_rules: bool,
) -> Result<Vec<ClusterStatus>> {
    Ok(report(engine, only, read_host_rules).await?.check()?)
}

/// Host rules are read from the host when `read_host_rules`; `up` passes false for a cluster
/// without them, saving a helper container.
pub(crate) async fn report(
    engine: &Engine,
    only: Option<u8>,
    read_host_rules: bool,
) -> Result<StatusReport> {
    let mut out = StatusReport::default();
    let ids = match only {
        Some(id) => vec![id],
        None => {
            let list = list_clusters(engine).await?;
            out.unreadable = list.unreadable;
            list.ids
        }
    };
    let host = HostReader::new(engine, read_host_rules).await?;
    for id in ids {
        match read_record(engine, id).await? {
            Ok(record) => out
                .clusters
                .extend(cluster_status(engine, &host, id, record.as_ref()).await?),
            Err(unusable) => out.unreadable.push(unusable),
        }
    }
    Ok(out)
}

/// What every cluster's status reads of the Docker host: the daemon, and the helper image
/// that reads the host's rules.
struct HostReader {
    docker: DockerStatus,
    /// None: the rules are not read (not asked for, or the helper image is absent).
    rules_helper: Option<String>,
}

impl HostReader {
    async fn new(engine: &Engine, read_host_rules: bool) -> Result<HostReader> {
        let helper_image = ImageKind::NodeBase.spec().tag;
        let helper_present = images::exists(engine, &helper_image).await?;
        let daemon = engine.daemon_info().await?;
        Ok(HostReader {
            docker: DockerStatus {
                version: engine.server_version.clone(),
                api_version: engine.api_version.clone(),
                firewall_backend: daemon.firewall_backend.clone(),
            },
            rules_helper: (helper_present && read_host_rules).then_some(helper_image),
        })
    }

    /// The host's `ip6tables-save`, read by a helper container in the cluster's network
    /// namespace; None when not read.
    async fn ip6tables_save(&self, engine: &Engine, id: u8) -> Result<Option<String>> {
        let Some(helper_image) = &self.rules_helper else {
            return Ok(None);
        };
        let save = HostNet::with(engine, helper_image, id, async |host| {
            host.ip6tables_save().await
        })
        .await?;
        Ok(Some(save))
    }
}

/// One cluster's status; None when it has neither a record nor a container.
async fn cluster_status(
    engine: &Engine,
    host: &HostReader,
    id: u8,
    record: Option<&Record>,
) -> Result<Option<ClusterStatus>> {
    let cluster_plan = record.map(|r| plan::plan(&r.config));
    let nodes = read_containers(engine, id, record, cluster_plan.as_ref()).await?;
    if record.is_none() && nodes.containers.is_empty() {
        return Ok(None);
    }
    let node_image_versions = node_image_versions(engine, nodes.node_image.as_deref()).await?;
    let save = host.ip6tables_save(engine, id).await?;
    let read = ClusterReading {
        id,
        record,
        plan: cluster_plan.as_ref(),
        save: save.as_deref(),
    };
    Ok(Some(read.status(nodes, node_image_versions, &host.docker)))
}

/// A cluster's containers (host helpers aside, sorted by name), and what its master tells:
/// the API server's published address and the node image.
struct Nodes {
    containers: Vec<ContainerStatus>,
    api_server: Option<String>,
    node_image: Option<String>,
}

async fn read_containers(
    engine: &Engine,
    id: u8,
    record: Option<&Record>,
    cluster_plan: Option<&plan::ClusterPlan>,
) -> Result<Nodes> {
    let id_text = id.to_string();
    let ipv6_mode = record.is_some_and(|r| r.config.ip_mode == IpMode::Ipv6);
    let dns64_keeps_ipv4 = cluster_plan
        .and_then(|p| p.dns64.as_ref())
        .is_some_and(|d| !d.drop_ipv4);
    let mut nodes = Nodes {
        containers: Vec::new(),
        api_server: None,
        node_image: None,
    };
    for c in engine
        .containers_with(&[(labels::CLUSTER, id_text.as_str())])
        .await?
    {
        let role = Role::of(&c.labels.clone().unwrap_or_default());
        if role == Some(Role::HostHelper) {
            continue;
        }
        if role == Some(Role::Master) {
            nodes.node_image = c.image.clone();
            let ports = c.ports.iter().flatten();
            nodes.api_server = published_api_server(
                ports.map(|p| (p.private_port, p.ip.as_deref(), p.public_port)),
            );
        }
        let name = container_name(&c).unwrap_or_default();
        let endpoints = c.network_settings.and_then(|n| n.networks);
        let endpoints = endpoints.unwrap_or_default().into_values();
        let ipv6_only = ipv6_mode && !keeps_ipv4(role, dns64_keeps_ipv4);
        nodes.containers.push(ContainerStatus {
            name,
            role,
            state: c.state.map(|s| s.to_string()).unwrap_or_default(),
            addresses: addresses(
                endpoints.map(|e| (e.global_ipv6_address, e.ip_address)),
                ipv6_only,
            ),
        });
    }
    nodes.containers.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(nodes)
}

/// The API server as the Docker host reaches it, from the master's published ports
/// (container port, host address, host port).
fn published_api_server<'a>(
    mut ports: impl Iterator<Item = (u16, Option<&'a str>, Option<u16>)>,
) -> Option<String> {
    let (_, ip, public_port) = ports.find(|(private_port, _, public_port)| {
        *private_port == plan::kubernetes::API_SERVER_PORT && public_port.is_some()
    })?;
    let ip: std::net::IpAddr = ip?.parse().ok()?;
    Some(plan::kubernetes::api_server_url(ip, public_port?))
}

/// IPv6-only containers drop the IPv4 address Docker still lists for them; NAT64 keeps it,
/// and so does DNS64 when it forwards to Docker's DNS.
fn keeps_ipv4(role: Option<Role>, dns64_keeps_ipv4: bool) -> bool {
    match role {
        Some(Role::Nat64) => true,
        Some(Role::Dns64) => dns64_keeps_ipv4,
        _ => false,
    }
}

/// A container's addresses from its endpoints' (IPv6, IPv4) addresses, without the IPv4 ones
/// when `ipv6_only`.
fn addresses(
    endpoints: impl Iterator<Item = (Option<String>, Option<String>)>,
    ipv6_only: bool,
) -> Vec<String> {
    let mut addresses = Vec::new();
    for (ipv6, ipv4) in endpoints {
        addresses.extend(ipv6.filter(|a| !a.is_empty()));
        if !ipv6_only {
            addresses.extend(ipv4.filter(|a| !a.is_empty()));
        }
    }
    addresses
}

/// The package versions the node image's build resolved, from its labels.
async fn node_image_versions(
    engine: &Engine,
    node_image: Option<&str>,
) -> Result<std::collections::BTreeMap<String, String>> {
    let Some(image) = node_image else {
        return Ok(Default::default());
    };
    Ok(images::image_labels(engine, image)
        .await?
        .map(|labels| images::versions_from_labels(&labels).into_iter().collect())
        .unwrap_or_default())
}

/// What was read of one cluster besides its containers: its record, the plan made from it,
/// and the host's `ip6tables-save`.
struct ClusterReading<'a> {
    id: u8,
    record: Option<&'a Record>,
    plan: Option<&'a plan::ClusterPlan>,
    save: Option<&'a str>,
}

impl ClusterReading<'_> {
    fn status(
        &self,
        nodes: Nodes,
        node_image_versions: std::collections::BTreeMap<String, String>,
        docker: &DockerStatus,
    ) -> ClusterStatus {
        let (record, cluster_plan) = (self.record, self.plan);
        let nat64 = cluster_plan.and_then(|p| p.nat64.as_ref());
        ClusterStatus {
            cluster_id: self.id,
            network: cluster_plan.map(|p| p.network.name.clone()),
            ip_mode: record.map(|r| r.config.ip_mode),
            aaaa_policy: record.and_then(aaaa_policy),
            dns64_prefix: cluster_plan
                .and_then(|p| p.dns64.as_ref())
                .map(|d| d.prefix.to_string()),
            nat64_pool: nat64.map(|n| n.pool.to_string()),
            nat64_engine: nat64.map(|n| n.engine),
            egress_interface: record.and_then(|r| r.config.egress_interface.clone()),
            containers: nodes.containers,
            host_rules: self.host_rules(),
            host_routes: cluster_plan
                .iter()
                .flat_map(|p| p.host.routes.iter().map(|r| r.to_string()))
                .collect(),
            api_server: nodes.api_server,
            registry: cluster_plan
                .and_then(|p| p.registry.as_ref())
                .map(|r| r.name()),
            kube_context: record
                .filter(|r| r.kubeconfig.is_some())
                .map(|_| plan::kubernetes::context_name(self.id)),
            kubeconfig: record
                .and_then(|r| r.kubeconfig.as_ref())
                .map(|p| p.display().to_string()),
            node_image: nodes.node_image,
            node_image_versions,
            docker: docker.clone(),
            daemon_rules: self.daemon_rules(),
            ip6_forward_policy: self.save.and_then(host::forward_policy),
            ip6_forward_policy_before: record.and_then(|r| r.ip6_forward_policy),
        }
    }

    /// The host rules tagged as this cluster's.
    fn host_rules(&self) -> Option<Vec<String>> {
        let save = self.save?;
        Some(
            host::tagged_rules(save, &plan::rule_tag(self.id))
                .iter()
                .map(|r| r.display())
                .collect(),
        )
    }

    fn daemon_rules(&self) -> Option<DaemonRulesStatus> {
        let (save, p) = self.save.zip(self.plan)?;
        let provided = host::daemon_rules(save, &p.network.bridge, &ipv6_sources(p));
        Some(DaemonRulesStatus {
            manages_ip6tables: !host::docker_chains(save).is_empty(),
            masquerades: provided
                .masqueraded
                .iter()
                .map(ToString::to_string)
                .collect(),
            forwards: provided.forwards,
        })
    }
}

/// How DNS64 answers AAAA queries; None for an IPv4 cluster, which has no DNS64.
fn aaaa_policy(record: &Record) -> Option<AaaaPolicy> {
    if record.config.ip_mode == IpMode::Ipv4 {
        None
    } else if record.config.allow_aaaa {
        Some(AaaaPolicy::PassRealAaaa)
    } else {
        Some(AaaaPolicy::SynthesizeAll)
    }
}

/// The cluster network's IPv6 subnets: what the daemon would masquerade.
fn ipv6_sources(p: &plan::ClusterPlan) -> Vec<ipnet::Ipv6Net> {
    p.network
        .subnets
        .iter()
        .filter_map(|s| match s.cidr {
            ipnet::IpNet::V6(v6) => Some(v6),
            ipnet::IpNet::V4(_) => None,
        })
        .chain(p.host.direct_ipv6_sources.iter().copied())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

pub(crate) fn render_table(clusters: &[ClusterStatus]) -> String {
    let mut text = String::new();
    if clusters.is_empty() {
        text.push_str("no dind clusters\n");
    }
    for c in clusters {
        write_heading(&mut text, c);
        write_containers(&mut text, c);
        write_access(&mut text, c);
        write_host(&mut text, c);
    }
    text
}

const DASH: &str = "-";

/// The cluster's id, network, address mode and AAAA policy, then its DNS64 and NAT64.
fn write_heading(text: &mut String, c: &ClusterStatus) {
    let _ = writeln!(
        text,
        "cluster {}  network {}  mode {}  AAAA policy {}",
        c.cluster_id,
        c.network.as_deref().unwrap_or(DASH),
        or_dash(c.ip_mode),
        or_dash(c.aaaa_policy)
    );
    if let Some(prefix) = &c.dns64_prefix {
        let _ = writeln!(
            text,
            "  DNS64 prefix {prefix}  NAT64 pool {}  NAT64 engine {}",
            c.nat64_pool.as_deref().unwrap_or(DASH),
            or_dash(c.nat64_engine)
        );
    }
}

fn or_dash(value: Option<impl fmt::Display>) -> String {
    value.map_or_else(|| DASH.to_string(), |v| v.to_string())
}

fn write_containers(text: &mut String, c: &ClusterStatus) {
    let _ = writeln!(
        text,
        "  {:<24} {:<8} {:<9} ADDRESSES",
        "CONTAINER", "ROLE", "STATE"
    );
    for container in &c.containers {
        let _ = writeln!(
            text,
            "  {:<24} {:<8} {:<9} {}",
            container.name,
            container.role.map_or(DASH, Role::as_label),
            container.state,
            container.addresses.join(", ")
        );
    }
}

/// How a user reaches the cluster: the API server and kubeconfig, the local registry, the
/// node image.
fn write_access(text: &mut String, c: &ClusterStatus) {
    if let Some(api) = &c.api_server {
        let _ = writeln!(
            text,
            "  API server {api}  context {} in {}",
            c.kube_context.as_deref().unwrap_or(DASH),
            c.kubeconfig.as_deref().unwrap_or(DASH)
        );
    }
    if let Some(registry) = &c.registry {
        let _ = writeln!(
            text,
            "  registry {registry}: `docker push {registry}/IMAGE`, then pods run {registry}/IMAGE"
        );
    }
    if let (Some(image), false) = (&c.node_image, c.node_image_versions.is_empty()) {
        let versions: Vec<String> = c
            .node_image_versions
            .iter()
            .map(|(name, version)| format!("{name} {version}"))
            .collect();
        let _ = writeln!(text, "  node image {image}: {}", versions.join(", "));
    }
}

/// What the cluster set up on the Docker host: routes, the daemon's part, dind's rules.
fn write_host(text: &mut String, c: &ClusterStatus) {
    for route in &c.host_routes {
        let _ = writeln!(text, "  host route: {route}");
    }
    let _ = writeln!(text, "  {}", docker_line(c));
    match &c.host_rules {
        Some(rules) if rules.is_empty() => text.push_str("  host rules: none\n"),
        Some(rules) => {
            let _ = writeln!(
                text,
                "  host rules (egress {}):",
                c.egress_interface.as_deref().unwrap_or(DASH)
            );
            for rule in rules {
                let _ = writeln!(text, "    {rule}");
            }
        }
        None => text.push_str("  host rules: not read\n"),
    }
}

/// The daemon and what its rules do for the cluster, in one line: `Docker 29.8.1 (API 1.56),
/// firewall iptables: it masquerades fd00:20::/64 itself and accepts the bridge's
/// forwarding; ip6tables FORWARD policy DROP (ACCEPT before dind, put back by the last
/// `dind down`)`.
fn docker_line(c: &ClusterStatus) -> String {
    let d = &c.docker;
    let mut line = format!(
        "Docker {} (API {}), firewall {}",
        d.version,
        d.api_version,
        d.firewall_backend.as_deref().unwrap_or("not named")
    );
    match &c.daemon_rules {
        None => {}
        Some(_)
            if d.firewall_backend
                .as_deref()
                .is_some_and(|b| b.starts_with("nftables")) =>
        {
            line.push_str(": its rules are in nft tables, not in ip6tables");
        }
        Some(r) if !r.manages_ip6tables => line.push_str(": it writes no ip6tables rules"),
        Some(r) => {
            let mut does = Vec::new();
            if !r.masquerades.is_empty() {
                does.push(format!("masquerades {} itself", r.masquerades.join(", ")));
            }
            if r.forwards {
                does.push("accepts the bridge's forwarding both ways".to_string());
            }
            if does.is_empty() {
                line.push_str(": it writes ip6tables rules, none for this cluster");
            } else {
                line.push_str(&format!(": it {}", does.join(" and ")));
            }
        }
    }
    if let Some(now) = c.ip6_forward_policy {
        line.push_str(&format!("; ip6tables FORWARD policy {now}"));
        match c.ip6_forward_policy_before {
            Some(before) if before != now => line.push_str(&format!(
                " ({before} before dind, put back by the last `dind down`)"
            )),
            _ => {}
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::{Holder, LabelProblem, RecordError};

    fn bad(name: &str) -> LabelError {
        LabelError {
            holder: Holder::Container(name.into()),
            label: labels::RECORD,
            cluster_id: Some(57),
            problem: LabelProblem::Record(RecordError::Newer(2)),
        }
    }

    fn cluster(id: u8) -> ClusterStatus {
        ClusterStatus {
            cluster_id: id,
            network: Some(plan::network_name(id)),
            ip_mode: Some(IpMode::DualStack),
            aaaa_policy: Some(AaaaPolicy::PassRealAaaa),
            dns64_prefix: None,
            nat64_pool: None,
            nat64_engine: None,
            egress_interface: None,
            containers: vec![ContainerStatus {
                name: "kube-master-cluster-3".into(),
                role: Some(Role::Master),
                state: "running".into(),
                addresses: vec![],
            }],
            host_rules: None,
            host_routes: vec![],
            api_server: None,
            registry: None,
            kube_context: None,
            kubeconfig: None,
            node_image: None,
            node_image_versions: Default::default(),
            docker: DockerStatus {
                version: "20.10.24+dfsg1".into(),
                api_version: "1.41".into(),
                firewall_backend: None,
            },
            daemon_rules: None,
            ip6_forward_policy: None,
            ip6_forward_policy_before: None,
        }
    }

    #[test]
    fn the_docker_line_says_what_the_daemon_does_for_the_cluster() {
        let mut c = cluster(3);
        assert_eq!(
            docker_line(&c),
            "Docker 20.10.24+dfsg1 (API 1.41), firewall not named"
        );
        c.daemon_rules = Some(DaemonRulesStatus::default());
        c.ip6_forward_policy = Some(ForwardPolicy::Accept);
        assert_eq!(
            docker_line(&c),
            "Docker 20.10.24+dfsg1 (API 1.41), firewall not named: it writes no ip6tables \
             rules; ip6tables FORWARD policy ACCEPT"
        );
        c.docker = DockerStatus {
            version: "29.8.1".into(),
            api_version: "1.56".into(),
            firewall_backend: Some("iptables".into()),
        };
        c.daemon_rules = Some(DaemonRulesStatus {
            manages_ip6tables: true,
            masquerades: vec!["fd00:20:3::/64".into()],
            forwards: true,
        });
        c.ip6_forward_policy = Some(ForwardPolicy::Drop);
        c.ip6_forward_policy_before = Some(ForwardPolicy::Accept);
        assert_eq!(
            docker_line(&c),
            "Docker 29.8.1 (API 1.56), firewall iptables: it masquerades fd00:20:3::/64 itself \
             and accepts the bridge's forwarding both ways; ip6tables FORWARD policy DROP \
             (ACCEPT before dind, put back by the last `dind down`)"
        );
        c.docker.firewall_backend = Some("nftables".into());
        assert!(docker_line(&c).contains("firewall nftables: its rules are in nft tables"));
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["docker"]["firewallBackend"], "nftables");
        assert_eq!(json["daemonRules"]["masquerades"][0], "fd00:20:3::/64");
        assert_eq!(json["ip6ForwardPolicy"], "DROP");
        assert_eq!(json["ip6ForwardPolicyBefore"], "ACCEPT");
    }

    #[test]
    fn healthy_clusters_are_listed_beside_an_unreadable_one_which_fails_the_report() {
        let report = StatusReport {
            clusters: vec![cluster(3)],
            unreadable: vec![bad("x")],
        };
        let table = report.render_table();
        assert!(table.starts_with("cluster 3  network kubeadm-dind-net-cluster-3  mode dual-stack  AAAA policy pass-real-aaaa\n"), "{table}");
        assert!(table.contains("kube-master-cluster-3    master"), "{table}");
        let err = report.check().unwrap_err().to_string();
        assert!(
            err.starts_with("the label io.github.dind.record of container x"),
            "{err}"
        );
    }

    #[test]
    fn only_unreadable_clusters_do_not_claim_there_are_none() {
        let report = StatusReport {
            clusters: vec![],
            unreadable: vec![bad("x"), bad("y")],
        };
        assert_eq!(report.render_table(), "");
        let err = report.check().unwrap_err().to_string();
        assert!(
            err.starts_with("2 dind labels are unusable:\n  the label"),
            "{err}"
        );
        assert!(err.contains("container y"), "{err}");
        assert_eq!(StatusReport::default().render_table(), "no dind clusters\n");
    }

    #[test]
    fn typed_modes_policies_and_roles_keep_their_json_strings() {
        let json = serde_json::to_value(cluster(3)).unwrap();
        assert_eq!(json["ipMode"], "dual-stack");
        assert_eq!(json["aaaaPolicy"], "pass-real-aaaa");
        assert_eq!(json["containers"][0]["role"], "master");
        assert_eq!(
            serde_json::to_value(AaaaPolicy::SynthesizeAll).unwrap(),
            "synthesize-all"
        );
    }

    #[test]
    fn the_api_server_is_the_first_published_api_server_port() {
        let ports = [
            (80, Some("::1"), Some(8080)),
            (6443, Some("::1"), None),
            (6443, Some("::1"), Some(32768)),
            (6443, Some("127.0.0.1"), Some(32769)),
        ];
        assert_eq!(
            published_api_server(ports.into_iter()).as_deref(),
            Some("https://[::1]:32768")
        );
        let unpublished = [(6443, Some("::1"), None)];
        assert_eq!(published_api_server(unpublished.into_iter()), None);
    }

    #[test]
    fn an_ipv6_only_container_shows_no_ipv4_address() {
        let endpoints = || {
            [
                (Some("fd00::2".to_string()), Some("172.18.0.2".to_string())),
                (Some(String::new()), None),
            ]
            .into_iter()
        };
        assert_eq!(addresses(endpoints(), true), ["fd00::2"]);
        assert_eq!(addresses(endpoints(), false), ["fd00::2", "172.18.0.2"]);
        assert!(keeps_ipv4(Some(Role::Nat64), false));
        assert!(keeps_ipv4(Some(Role::Dns64), true));
        assert!(!keeps_ipv4(Some(Role::Dns64), false));
        assert!(!keeps_ipv4(Some(Role::Worker), true));
    }
}
