//! `dind status`: clusters, their containers and addresses, AAAA policy, and the host rules
//! installed, read from Docker labels and the host itself.

use super::{list_clusters, read_record};
use crate::config::{IpMode, Nat64Engine};
use crate::engine::docker::{container_name, Engine};
use crate::engine::host::{self, HostNet};
use crate::engine::images::{self, ImageKind};
use crate::labels::{self, ForwardPolicy, LabelError, Role};
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
    let helper_image = ImageKind::NodeBase.spec().tag;
    let helper_present = images::exists(engine, &helper_image).await?;
    let daemon = engine.daemon_info().await?;
    let docker = DockerStatus {
        version: engine.server_version.clone(),
        api_version: engine.api_version.clone(),
        firewall_backend: daemon.firewall_backend.clone(),
    };
    for id in ids {
        let record = match read_record(engine, id).await? {
            Ok(record) => record,
            Err(unusable) => {
                out.unreadable.push(unusable);
                continue;
            }
        };
        let id_text = id.to_string();
        let mut containers = Vec::new();
        let mut api_server = None;
        let mut node_image = None;
        let cluster_plan = record.as_ref().map(|r| plan::plan(&r.config));
        let dns64_keeps_ipv4 = cluster_plan
            .as_ref()
            .and_then(|p| p.dns64.as_ref())
            .is_some_and(|d| !d.drop_ipv4);
        for c in engine
            .containers_with(&[(labels::CLUSTER, id_text.as_str())])
            .await?
        {
            let role = Role::of(&c.labels.clone().unwrap_or_default());
            if role == Some(Role::HostHelper) {
                continue;
            }
            if role == Some(Role::Master) {
                node_image = c.image.clone();
                let published = c.ports.iter().flatten().find(|p| {
                    p.private_port == plan::kubernetes::API_SERVER_PORT && p.public_port.is_some()
                });
                api_server = published.and_then(|p| {
                    let ip: std::net::IpAddr = p.ip.as_deref()?.parse().ok()?;
                    Some(plan::kubernetes::api_server_url(ip, p.public_port?))
                });
            }
            let name = container_name(&c).unwrap_or_default();
            let mut addresses = Vec::new();
            for endpoint in c
                .network_settings
                .and_then(|n| n.networks)
                .unwrap_or_default()
                .into_values()
            {
                addresses.extend(endpoint.global_ipv6_address.filter(|a| !a.is_empty()));
                // IPv6-only containers drop the IPv4 address Docker still lists for them
                // (NAT64 keeps it, and so does DNS64 when it forwards to Docker's DNS).
                let keeps_ipv4 = match role {
                    Some(Role::Nat64) => true,
                    Some(Role::Dns64) => dns64_keeps_ipv4,
                    _ => false,
                };
                let ipv6_only = record
                    .as_ref()
                    .is_some_and(|r| r.config.ip_mode == IpMode::Ipv6)
                    && !keeps_ipv4;
                if !ipv6_only {
                    addresses.extend(endpoint.ip_address.filter(|a| !a.is_empty()));
                }
            }
            containers.push(ContainerStatus {
                name,
                role,
                state: c.state.map(|s| s.to_string()).unwrap_or_default(),
                addresses,
            });
        }
        containers.sort_by(|a, b| a.name.cmp(&b.name));
        if record.is_none() && containers.is_empty() {
            continue;
        }
        let node_image_versions = match &node_image {
            Some(image) => images::image_labels(engine, image)
                .await?
                .map(|labels| images::versions_from_labels(&labels).into_iter().collect())
                .unwrap_or_default(),
            None => Default::default(),
        };
        let save = if helper_present && read_host_rules {
            Some(
                HostNet::with(engine, &helper_image, id, async |host| {
                    host.ip6tables_save().await
                })
                .await?,
            )
        } else {
            None
        };
        let host_rules = save.as_deref().map(|save| {
            host::tagged_rules(save, &plan::rule_tag(id))
                .iter()
                .map(|r| r.display())
                .collect()
        });
        let daemon_rules = save.as_deref().zip(cluster_plan.as_ref()).map(|(save, p)| {
            let provided = host::daemon_rules(save, &p.network.bridge, &ipv6_sources(p));
            DaemonRulesStatus {
                manages_ip6tables: !host::docker_chains(save).is_empty(),
                masquerades: provided
                    .masqueraded
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                forwards: provided.forwards,
            }
        });
        out.clusters.push(ClusterStatus {
            cluster_id: id,
            network: cluster_plan.as_ref().map(|p| p.network.name.clone()),
            ip_mode: record.as_ref().map(|r| r.config.ip_mode),
            aaaa_policy: record
                .as_ref()
                .filter(|r| r.config.ip_mode != IpMode::Ipv4)
                .map(|r| {
                    if r.config.allow_aaaa {
                        AaaaPolicy::PassRealAaaa
                    } else {
                        AaaaPolicy::SynthesizeAll
                    }
                }),
            dns64_prefix: cluster_plan
                .as_ref()
                .and_then(|p| p.dns64.as_ref())
                .map(|d| d.prefix.to_string()),
            nat64_pool: cluster_plan
                .as_ref()
                .and_then(|p| p.nat64.as_ref())
                .map(|n| n.pool.to_string()),
            nat64_engine: cluster_plan
                .as_ref()
                .and_then(|p| p.nat64.as_ref())
                .map(|n| n.engine),
            egress_interface: record
                .as_ref()
                .and_then(|r| r.config.egress_interface.clone()),
            containers,
            host_rules,
            host_routes: cluster_plan
                .iter()
                .flat_map(|p| p.host.routes.iter().map(|r| r.to_string()))
                .collect(),
            api_server,
            registry: cluster_plan
                .as_ref()
                .and_then(|p| p.registry.as_ref())
                .map(|r| r.name()),
            kube_context: record
                .as_ref()
                .filter(|r| r.kubeconfig.is_some())
                .map(|_| plan::kubernetes::context_name(id)),
            kubeconfig: record
                .as_ref()
                .and_then(|r| r.kubeconfig.as_ref())
                .map(|p| p.display().to_string()),
            node_image,
            node_image_versions,
            docker: docker.clone(),
            daemon_rules,
            ip6_forward_policy: save.as_deref().and_then(host::forward_policy),
            ip6_forward_policy_before: record.as_ref().and_then(|r| r.ip6_forward_policy),
        });
    }
    Ok(out)
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
        let dash = "-".to_string();
        let or_dash = |value: Option<String>| value.unwrap_or_else(|| dash.clone());
        let _ = writeln!(
            text,
            "cluster {}  network {}  mode {}  AAAA policy {}",
            c.cluster_id,
            c.network.as_ref().unwrap_or(&dash),
            or_dash(c.ip_mode.map(|m| m.to_string())),
            or_dash(c.aaaa_policy.map(|p| p.to_string()))
        );
        if let Some(prefix) = &c.dns64_prefix {
            let _ = writeln!(
                text,
                "  DNS64 prefix {prefix}  NAT64 pool {}  NAT64 engine {}",
                c.nat64_pool.as_ref().unwrap_or(&dash),
                or_dash(c.nat64_engine.map(|e| e.to_string()))
            );
        }
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
                container.role.map_or("-", Role::as_label),
                container.state,
                container.addresses.join(", ")
            );
        }
        if let Some(api) = &c.api_server {
            let _ = writeln!(
                text,
                "  API server {api}  context {} in {}",
                c.kube_context.as_ref().unwrap_or(&dash),
                c.kubeconfig.as_ref().unwrap_or(&dash)
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
                    c.egress_interface.as_ref().unwrap_or(&dash)
                );
                for rule in rules {
                    let _ = writeln!(text, "    {rule}");
                }
            }
            None => text.push_str("  host rules: not read\n"),
        }
    }
    text
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
}
