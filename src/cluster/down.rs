//! `dind down` and `dind clean`: undo exactly what `up` recorded in the cluster's labels,
//! whatever flags are given now. Each step tolerates what is already gone.

use super::undo::{Executor, Scope, Undo, Undone};
use crate::engine::docker::{container_name, Engine};
use crate::engine::images;
use crate::interrupt::Graceful;
use crate::labels::{self, Holder, Record};
use crate::plan;
use crate::progress::Progress;
use crate::state::record_of;
use anyhow::Result;
use std::collections::HashMap;

/// What `down` removed.
pub type DownReport = Undone;

pub async fn down(engine: &Engine, cluster_id: u8, progress: &Progress) -> Result<DownReport> {
    // A signal does not cut a removal in half: the first one lets it finish.
    let _graceful = Graceful::hold("finishing the removal");
    let executor = Executor::new(engine, cluster_id, progress, Scope::Cluster, false);
    // Read from the objects each pass lists (a bad label refuses before anything is removed).
    let mut record = None;
    let mut report = DownReport::default();
    let id = cluster_id.to_string();
    let filter = [(labels::CLUSTER, id.as_str())];

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
        // The host is looked at once, and again when a record turns up; without a record
        // nor the helper's image, dind never changed this host.
        let host =
            (pass == 0 || found_now) && (record.is_some() || executor.helper_exists().await?);
        let found = Found {
            containers: containers.iter().filter_map(container_name).collect(),
            network: networks.first().and_then(|n| n.name.clone()),
            host: host.then_some(record.as_ref()),
        };
        executor.run(&found.entries(), &mut report).await?;
    }
    // Once this network is gone: of concurrent `down`s, the last finds no IPv6 network left.
    executor
        .run(&recorded(record.as_ref()), &mut report)
        .await?;
    Ok(report)
}

/// What one pass of `down` found of the cluster.
struct Found<'a> {
    containers: Vec<String>,
    network: Option<String>,
    /// Whether to undo the host's rules and routes, with the record when there is one.
    host: Option<Option<&'a Record>>,
}

impl Found<'_> {
    /// The containers and the network the labels name, and on the host every rule tagged
    /// as the cluster's and the routes its record plans.
    fn entries(self) -> Vec<Undo> {
        let mut entries: Vec<Undo> = self.containers.into_iter().map(Undo::Container).collect();
        if let Some(record) = self.host {
            entries.push(Undo::TaggedRules);
            let routes = record.map(|r| plan::plan(&r.config).host.routes);
            entries.extend(routes.into_iter().flatten().map(Undo::Route));
        }
        entries.extend(self.network.map(Undo::Network));
        entries
    }
}

/// What only the record names, undone once no labelled object is left: forwarding (also
/// when the host-wide marker alone says dind switched it on) and the kubeconfig context.
fn recorded(record: Option<&Record>) -> Vec<Undo> {
    let mut entries = vec![Undo::Forwarding {
        switched_on: record.is_some_and(|r| r.enabled_ipv6_forwarding),
        policy: record.and_then(|r| r.ip6_forward_policy),
    }];
    entries.extend(
        record
            .and_then(|r| r.kubeconfig.clone())
            .map(Undo::Kubeconfig),
    );
    entries
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
