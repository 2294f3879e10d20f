//! What Docker holds about clusters: the record `up` writes in labels, the list of clusters,
//! and `status`.

pub mod status;

use crate::engine::docker::Engine;
use crate::labels::{self, Record};
use anyhow::Result;
use std::collections::BTreeSet;

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

/// Cluster ids that have a network or a container (other than a host helper) labelled as
/// theirs.
pub async fn cluster_ids(engine: &Engine) -> Result<Vec<u8>> {
    let networks = engine.networks_having(labels::CLUSTER).await?;
    let containers = engine.containers_having(labels::CLUSTER).await?;
    let label_sets = networks
        .into_iter()
        .filter_map(|n| n.labels)
        .chain(containers.into_iter().filter_map(|c| c.labels))
        .filter(|l| l.get(labels::ROLE).map(String::as_str) != Some(labels::role::HOST_HELPER));
    let ids: BTreeSet<u8> = label_sets
        .filter_map(|l| l.get(labels::CLUSTER)?.parse().ok())
        .collect();
    Ok(ids.into_iter().collect())
}
