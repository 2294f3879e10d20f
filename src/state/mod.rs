//! What Docker holds about clusters: the record `up` writes in labels, the list of clusters,
//! and `status`.

pub(crate) mod status;

use crate::engine::docker::{container_name, Engine};
use crate::labels::{self, Holder, LabelError, Record, RecordError, Role};
use anyhow::Result;
use std::collections::{BTreeSet, HashMap};

/// The record `up` left on the cluster's network, or on any of its containers when the
/// network is gone. A label that cannot be used is an error naming the object and the label.
pub(crate) async fn find_record(engine: &Engine, cluster_id: u8) -> Result<Option<Record>> {
    Ok(read_record(engine, cluster_id).await??)
}

/// [`find_record`] with the two failures apart: Docker's (outer) and a bad label (inner).
pub(crate) async fn read_record(
    engine: &Engine,
    cluster_id: u8,
) -> Result<Result<Option<Record>, LabelError>> {
    let id = cluster_id.to_string();
    let filter = [(labels::CLUSTER, id.as_str())];
    for network in engine.networks_with(&filter).await? {
        let holder = Holder::Network(network.name.or(network.id).unwrap_or_default());
        match record_of(holder, cluster_id, &network.labels.unwrap_or_default()) {
            Ok(None) => {}
            found => return Ok(found),
        }
    }
    for container in engine.containers_with(&filter).await? {
        let name = container_name(&container)
            .or(container.id)
            .unwrap_or_default();
        match record_of(
            Holder::Container(name),
            cluster_id,
            &container.labels.unwrap_or_default(),
        ) {
            Ok(None) => {}
            found => return Ok(found),
        }
    }
    Ok(Ok(None))
}

/// The record of one object labelled as cluster `cluster_id`'s, checked to be that
/// cluster's.
pub(crate) fn record_of(
    holder: Holder,
    cluster_id: u8,
    object_labels: &HashMap<String, String>,
) -> Result<Option<Record>, LabelError> {
    let bad = |problem: RecordError| LabelError {
        holder: holder.clone(),
        label: labels::RECORD,
        cluster_id: Some(cluster_id),
        problem: problem.into(),
    };
    let Some(record) = Record::from_labels(object_labels).map_err(bad)? else {
        return Ok(None);
    };
    if record.config.cluster_id != cluster_id {
        return Err(bad(RecordError::OtherCluster {
            labelled: cluster_id,
            recorded: record.config.cluster_id,
        }));
    }
    Ok(Some(record))
}

/// The clusters Docker holds objects of, and the objects whose cluster label is no id.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct ClusterList {
    pub(crate) ids: Vec<u8>,
    pub(crate) unreadable: Vec<LabelError>,
}

/// Cluster ids that have a network or a container (other than a host helper) labelled as
/// theirs; an object whose cluster label is no id is left out.
pub(crate) async fn cluster_ids(engine: &Engine) -> Result<Vec<u8>> {
    Ok(list_clusters(engine).await?.ids)
}

/// The clusters of networks and containers (other than host helpers) with a cluster label.
pub(crate) async fn list_clusters(engine: &Engine) -> Result<ClusterList> {
    let networks = engine.networks_having(labels::CLUSTER).await?;
    let containers = engine.containers_having(labels::CLUSTER).await?;
    let networks = networks.into_iter().map(|n| {
        let name = n.name.or(n.id).unwrap_or_default();
        (Holder::Network(name), n.labels.unwrap_or_default())
    });
    let containers = containers.into_iter().map(|c| {
        let name = container_name(&c).or(c.id).unwrap_or_default();
        (Holder::Container(name), c.labels.unwrap_or_default())
    });
    Ok(clusters_in(networks.chain(containers)))
}

/// The node containers of cluster `cluster_id` (from their labels), master first, workers
/// in their number's order.
pub(crate) async fn node_containers(engine: &Engine, cluster_id: u8) -> Result<Vec<String>> {
    let id = cluster_id.to_string();
    let containers = engine
        .containers_with(&[(labels::CLUSTER, id.as_str())])
        .await?;
    Ok(nodes_in(containers.into_iter().map(|c| {
        let name = container_name(&c).or(c.id).unwrap_or_default();
        (name, c.labels.unwrap_or_default())
    })))
}

fn nodes_in(objects: impl Iterator<Item = (String, HashMap<String, String>)>) -> Vec<String> {
    let mut nodes: Vec<(bool, String)> = objects
        .filter_map(|(name, object_labels)| match Role::of(&object_labels)? {
            Role::Master => Some((false, name)),
            Role::Worker => Some((true, name)),
            _ => None,
        })
        .collect();
    // Names differ only in the worker's number: the shorter number is the smaller.
    nodes.sort_by(|(a_worker, a), (b_worker, b)| {
        (a_worker, a.len(), a).cmp(&(b_worker, b.len(), b))
    });
    nodes.into_iter().map(|(_, name)| name).collect()
}

fn clusters_in(objects: impl Iterator<Item = (Holder, HashMap<String, String>)>) -> ClusterList {
    let mut ids = BTreeSet::new();
    let mut unreadable = Vec::new();
    for (holder, object_labels) in objects {
        if Role::of(&object_labels) == Some(Role::HostHelper) {
            continue;
        }
        match labels::cluster_id_of(&object_labels) {
            Ok(id) => ids.extend(id),
            Err(problem) => unreadable.push(LabelError {
                holder,
                label: labels::CLUSTER,
                cluster_id: None,
                problem,
            }),
        }
    }
    ClusterList {
        ids: ids.into_iter().collect(),
        unreadable,
    }
}

#[cfg(test)]
mod tests;
