//! `dind status`: clusters, their containers and addresses, AAAA policy, and the host rules
//! installed, read from Docker labels and the host itself.

use super::{list_clusters, read_record};
use crate::config::{IpMode, Nat64Engine};
use crate::engine::docker::{container_name, Engine};
use crate::engine::host::HostNet;
use crate::engine::images::{self, ImageKind};
use crate::labels::{self, LabelError, Role};
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
        let host_rules = if helper_present && read_host_rules {
            let rules = HostNet::with(engine, &helper_image, id, async |host| {
                host.list_tagged_rules(&plan::rule_tag(id)).await
            })
            .await?;
            Some(rules.iter().map(|r| r.display()).collect())
        } else {
            None
        };
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
        });
    }
    Ok(out)
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
        }
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
