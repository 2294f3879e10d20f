//! The commands that act on a cluster: `up`, `down`, `clean`, `status`. Each is a list of
//! named, ordered phases over one shared context.

pub mod down;
pub mod specs;
pub mod status;
pub mod up;

use crate::docker::Engine;
use crate::labels::{self, Record};
use anyhow::Result;

/// The record `up` left on the cluster's network, or on any of its containers when the
/// network is gone.
pub async fn find_record(engine: &Engine, cluster_id: u8) -> Result<Option<Record>> {
    let id = cluster_id.to_string();
    let filter = [(labels::CLUSTER, id.as_str())];
    for network in engine.networks_with(&filter).await? {
        if let Some(record) = Record::from_labels(&network.labels.unwrap_or_default())? {
            return Ok(Some(record));
        }
    }
    for container in engine.containers_with(&filter).await? {
        if let Some(record) = Record::from_labels(&container.labels.unwrap_or_default())? {
            return Ok(Some(record));
        }
    }
    Ok(None)
}

/// Cluster ids that have a network or a container labelled as theirs.
pub async fn cluster_ids(engine: &Engine) -> Result<Vec<u8>> {
    let mut ids = std::collections::BTreeSet::new();
    let key = [(labels::CLUSTER, "")];
    let _ = key;
    let mut filters = std::collections::HashMap::new();
    filters.insert("label".to_string(), vec![labels::CLUSTER.to_string()]);
    let networks = engine
        .api()
        .list_networks(Some(
            bollard::query_parameters::ListNetworksOptionsBuilder::default()
                .filters(&filters)
                .build(),
        ))
        .await?;
    for labels_map in networks.into_iter().filter_map(|n| n.labels) {
        if let Some(id) = labels_map.get(labels::CLUSTER).and_then(|v| v.parse().ok()) {
            ids.insert(id);
        }
    }
    let containers = engine
        .api()
        .list_containers(Some(
            bollard::query_parameters::ListContainersOptionsBuilder::default()
                .all(true)
                .filters(&filters)
                .build(),
        ))
        .await?;
    for labels_map in containers.into_iter().filter_map(|c| c.labels) {
        if labels_map.get(labels::ROLE).map(String::as_str) == Some(labels::role::HOST_HELPER) {
            continue;
        }
        if let Some(id) = labels_map.get(labels::CLUSTER).and_then(|v| v.parse().ok()) {
            ids.insert(id);
        }
    }
    Ok(ids.into_iter().collect())
}
