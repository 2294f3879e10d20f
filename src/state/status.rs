//! `dind status`: clusters, their containers and addresses, AAAA policy, and the host rules
//! installed, read from Docker labels and the host itself.

use super::{cluster_ids, find_record};
use crate::engine::docker::Engine;
use crate::engine::host::HostNet;
use crate::engine::images::{self, ImageKind};
use crate::kube::kubeconfig;
use crate::labels;
use crate::plan;
use crate::render::kubeadm;
use anyhow::Result;
use serde::Serialize;
use std::fmt::Write;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterStatus {
    pub cluster_id: u8,
    pub network: Option<String>,
    pub ip_mode: Option<String>,
    /// "synthesize-all" (every name through NAT64) or "pass-real-aaaa".
    pub aaaa_policy: Option<String>,
    pub dns64_prefix: Option<String>,
    pub nat64_pool: Option<String>,
    pub egress_interface: Option<String>,
    pub containers: Vec<ContainerStatus>,
    /// None when not read: dind's helper image is absent, or `up` reports a cluster that
    /// has no host rules without starting a helper.
    pub host_rules: Option<Vec<String>>,
    pub host_routes: Vec<String>,
    /// The API server as the Docker host reaches it (Kubernetes clusters only).
    pub api_server: Option<String>,
    /// The kubeconfig context `up` merged, and the file it is in.
    pub kube_context: Option<String>,
    pub kubeconfig: Option<String>,
    /// The master's image and the package versions its build resolved (its labels).
    pub node_image: Option<String>,
    pub node_image_versions: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub struct ContainerStatus {
    pub name: String,
    pub role: String,
    pub state: String,
    pub addresses: Vec<String>,
}

/// Host rules are read from the host when `read_host_rules`; `up` passes false for a cluster
/// without them, saving a helper container.
pub async fn status(
    engine: &Engine,
    only: Option<u8>,
    read_host_rules: bool,
) -> Result<Vec<ClusterStatus>> {
    let ids = match only {
        Some(id) => vec![id],
        None => cluster_ids(engine).await?,
    };
    let helper_image = ImageKind::NodeBase.spec().tag;
    let helper_present = images::exists(engine, &helper_image).await?;
    let mut out = Vec::new();
    for id in ids {
        let record = find_record(engine, id).await?;
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
            let labels_map = c.labels.clone().unwrap_or_default();
            let role = labels_map.get(labels::ROLE).cloned().unwrap_or_default();
            if role == labels::role::HOST_HELPER {
                continue;
            }
            if role == labels::role::MASTER {
                node_image = c.image.clone();
                let published = c.ports.iter().flatten().find(|p| {
                    p.private_port == kubeadm::API_SERVER_PORT && p.public_port.is_some()
                });
                api_server = published.and_then(|p| {
                    let ip: std::net::IpAddr = p.ip.as_deref()?.parse().ok()?;
                    Some(kubeadm::api_server_url(ip, p.public_port?))
                });
            }
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
                let keeps_ipv4 = match role.as_str() {
                    labels::role::NAT64 => true,
                    labels::role::DNS64 => dns64_keeps_ipv4,
                    _ => false,
                };
                let ipv6_only = record
                    .as_ref()
                    .is_some_and(|r| r.config.ip_mode == crate::config::IpMode::Ipv6)
                    && !keeps_ipv4;
                if !ipv6_only {
                    addresses.extend(endpoint.ip_address.filter(|a| !a.is_empty()));
                }
            }
            containers.push(ContainerStatus {
                name: c
                    .names
                    .unwrap_or_default()
                    .first()
                    .cloned()
                    .unwrap_or_default()
                    .trim_start_matches('/')
                    .to_string(),
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
        out.push(ClusterStatus {
            cluster_id: id,
            network: cluster_plan.as_ref().map(|p| p.network.name.clone()),
            ip_mode: record.as_ref().map(|r| r.config.ip_mode.to_string()),
            aaaa_policy: record
                .as_ref()
                .filter(|r| r.config.ip_mode != crate::config::IpMode::Ipv4)
                .map(|r| {
                    if r.config.allow_aaaa {
                        "pass-real-aaaa"
                    } else {
                        "synthesize-all"
                    }
                    .to_string()
                }),
            dns64_prefix: cluster_plan
                .as_ref()
                .and_then(|p| p.dns64.as_ref())
                .map(|d| d.prefix.to_string()),
            nat64_pool: cluster_plan
                .as_ref()
                .and_then(|p| p.nat64.as_ref())
                .map(|n| n.pool.to_string()),
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
            kube_context: record
                .as_ref()
                .filter(|r| r.kubeconfig.is_some())
                .map(|_| kubeconfig::context_name(id)),
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

pub fn render_table(clusters: &[ClusterStatus]) -> String {
    let mut text = String::new();
    if clusters.is_empty() {
        text.push_str("no dind clusters\n");
    }
    for c in clusters {
        let dash = "-".to_string();
        let _ = writeln!(
            text,
            "cluster {}  network {}  mode {}  AAAA policy {}",
            c.cluster_id,
            c.network.as_ref().unwrap_or(&dash),
            c.ip_mode.as_ref().unwrap_or(&dash),
            c.aaaa_policy.as_ref().unwrap_or(&dash)
        );
        if let Some(prefix) = &c.dns64_prefix {
            let _ = writeln!(
                text,
                "  DNS64 prefix {prefix}  NAT64 pool {}",
                c.nat64_pool.as_ref().unwrap_or(&dash)
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
                container.role,
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
