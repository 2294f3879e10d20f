//! `dind down` and `dind clean`: undo exactly what `up` recorded in the cluster's labels,
//! whatever flags are given now. Each step tolerates what is already gone.

use super::forwarding;
use crate::engine::docker::{container_name, Engine};
use crate::engine::host::HostNet;
use crate::engine::images::{self, ImageKind};
use crate::engine::lock;
use crate::interrupt::Graceful;
use crate::kube::kubeconfig;
use crate::labels::{self, ForwardPolicy, Holder, Record};
use crate::plan::{self, Route};
use crate::progress::Progress;
use crate::render::host_rules::Ip6Rule;
use crate::state::record_of;
use anyhow::Result;
use futures_util::future::try_join_all;
use std::collections::HashMap;

#[derive(Debug, Default)]
pub struct DownReport {
    pub(crate) containers: Vec<String>,
    pub(crate) network: Option<String>,
    pub(crate) rules: Vec<Ip6Rule>,
    pub(crate) routes: Vec<Route>,
    pub(crate) restored_ipv6_forwarding: bool,
    /// The ip6tables FORWARD policy set back to what it was before dind.
    pub(crate) restored_ip6_forward_policy: Option<ForwardPolicy>,
    /// The kubeconfig file the cluster's context was removed from.
    pub(crate) kubeconfig: Option<std::path::PathBuf>,
}

impl DownReport {
    pub(crate) fn is_empty(&self) -> bool {
        self.containers.is_empty()
            && self.network.is_none()
            && self.rules.is_empty()
            && self.routes.is_empty()
            && self.kubeconfig.is_none()
    }
}

pub async fn down(engine: &Engine, cluster_id: u8, progress: &Progress) -> Result<DownReport> {
    // A signal does not cut a removal in half: the first one lets it finish.
    let _graceful = Graceful::hold("finishing the removal");
    // Read from the objects each pass lists (a bad label refuses before anything is removed).
    let mut record = None;
    let mut report = DownReport::default();
    let id = cluster_id.to_string();
    let filter = [(labels::CLUSTER, id.as_str())];
    let helper_image = ImageKind::NodeBase.spec().tag;

    // The last requests of a killed `up` may still be under way in Docker: what appears
    // while `down` runs (and the record it carries) is taken by a further pass.
    for pass in 0..3 {
        let containers = engine.containers_with(&filter).await?;
        let networks = engine.networks_with(&filter).await?;
        if pass > 0 && containers.is_empty() && networks.is_empty() {
            break;
        }
        let found_now = record.is_none() && {
            let labelled = networks
                .iter()
                .map(|n| {
                    (
                        Holder::Network(n.name.clone().unwrap_or_default()),
                        &n.labels,
                    )
                })
                .chain(containers.iter().map(|c| {
                    (
                        Holder::Container(container_name(c).unwrap_or_default()),
                        &c.labels,
                    )
                }));
            record = record_in(cluster_id, labelled)?;
            record.is_some()
        };

        // The containers and the host's routes and rules go side by side: neither needs the
        // other gone (the network, which both need, goes after them).
        let remove_containers = async {
            // The first change: the lock must have started.
            lock::started().await?;
            if containers.is_empty() {
                return Ok(Vec::new());
            }
            progress
                .step("Removing containers", async {
                    let names: Vec<String> = containers.iter().filter_map(container_name).collect();
                    try_join_all(names.iter().map(|n| engine.remove_container(n))).await?;
                    Ok(names)
                })
                .await
        };
        let undo_host = async {
            let can_inspect_host =
                record.is_some() || images::exists(engine, &helper_image).await?;
            if !((pass == 0 || found_now) && can_inspect_host) {
                return Ok((Vec::new(), Vec::new(), None));
            }
            progress
                .run("Removing host routes and rules", async |phase| {
                    let node_base = ImageKind::NodeBase.spec();
                    images::ensure(engine, &node_base, phase).await?;
                    let (rules, routes, helper) =
                        undo_host(engine, cluster_id, record.as_ref(), &helper_image).await?;
                    Ok((rules, routes, Some(helper)))
                })
                .await
        };
        let (removed, undone) = tokio::join!(remove_containers, undo_host);
        report.containers.extend(removed?);
        let (rules, routes, helper) = undone?;
        report.rules.extend(rules);
        report.routes.extend(routes);

        // The helper goes while the network does.
        let remove_network = async {
            let Some(network) = networks.first().and_then(|n| n.name.clone()) else {
                return Ok(None);
            };
            progress
                .step("Removing the network", engine.remove_network(&network))
                .await?;
            Ok::<_, anyhow::Error>(Some(network))
        };
        let remove_helper = async {
            if let Some(helper) = helper {
                helper.remove().await;
            }
        };
        let (network, ()) = tokio::join!(remove_network, remove_helper);
        if let Some(network) = network? {
            report.network = Some(network);
        }
    }

    // Once this network is gone: of concurrent `down`s, the last finds no IPv6 network left.
    let recorded_switch = record.as_ref().is_some_and(|r| r.enabled_ipv6_forwarding);
    if recorded_switch || forwarding::switched_on_by_dind(engine).await? {
        if !images::exists(engine, &helper_image).await? {
            progress
                .run("Preparing the host helper", async |phase| {
                    images::ensure(engine, &ImageKind::NodeBase.spec(), phase).await
                })
                .await?;
        }
        let recorded_policy = record.as_ref().and_then(|r| r.ip6_forward_policy);
        let restored =
            forwarding::restore_when_unused(engine, &helper_image, cluster_id, recorded_policy)
                .await?;
        report.restored_ipv6_forwarding = restored.forwarding;
        report.restored_ip6_forward_policy = restored.policy;
    }

    if let Some(path) = record.as_ref().and_then(|r| r.kubeconfig.clone()) {
        let context = plan::kubernetes::context_name(cluster_id);
        let removed = progress
            .step(
                &format!("Removing context {context} from the kubeconfig"),
                async { kubeconfig::unmerge_from_file(&path, &context) },
            )
            .await?;
        report.kubeconfig = removed.then_some(path);
    }
    Ok(report)
}

/// The record carried by the first labelled object that has one.
fn record_in<'a>(
    cluster_id: u8,
    labelled: impl IntoIterator<Item = (Holder, &'a Option<HashMap<String, String>>)>,
) -> Result<Option<Record>> {
    for (holder, object_labels) in labelled {
        let object_labels = object_labels.clone().unwrap_or_default();
        if let Some(record) = record_of(holder, cluster_id, &object_labels)? {
            return Ok(Some(record));
        }
    }
    Ok(None)
}

/// Removes the cluster's host rules and routes through a helper, which is returned still
/// running for the caller to remove (alongside its next step); on failure it is removed.
async fn undo_host(
    engine: &Engine,
    cluster_id: u8,
    record: Option<&Record>,
    helper_image: &str,
) -> Result<(Vec<Ip6Rule>, Vec<Route>, HostNet)> {
    let host = HostNet::start(engine, helper_image, cluster_id).await?;
    let undone = async {
        lock::started().await?;
        let rules = host
            .remove_tagged_rules(&plan::rule_tag(cluster_id))
            .await?;
        let mut routes = Vec::new();
        if let Some(record) = record {
            for route in plan::plan(&record.config).host.routes {
                if host.remove_route(&route).await? {
                    routes.push(route);
                }
            }
        }
        Ok((rules, routes))
    };
    match undone.await {
        Ok((rules, routes)) => Ok((rules, routes, host)),
        Err(err) => {
            host.remove().await;
            Err(err)
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct CleanReport {
    pub(crate) down: DownReport,
    pub(crate) volumes: Vec<String>,
    pub(crate) images_removed: Vec<String>,
    pub(crate) images_in_use: Vec<String>,
}

/// `down`, then the cluster's volumes and every image dind built.
pub(crate) async fn clean(
    engine: &Engine,
    cluster_id: u8,
    progress: &Progress,
) -> Result<CleanReport> {
    let down = down(engine, cluster_id, progress).await?;
    let id = cluster_id.to_string();
    let volumes = engine
        .volumes_with(&[(labels::CLUSTER, id.as_str())])
        .await?;
    let mut removed_volumes = Vec::new();
    for volume in volumes {
        engine.remove_volume(&volume).await?;
        removed_volumes.push(volume);
    }
    let (images_removed, images_in_use) = progress
        .step("Removing dind's images", images::remove_all(engine))
        .await?;
    Ok(CleanReport {
        down,
        volumes: removed_volumes,
        images_removed,
        images_in_use,
    })
}
