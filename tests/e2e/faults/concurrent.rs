//! Concurrent `up`s: those of one cluster take turns on its lock, the first making the
//! cluster and the later ones finding it made and changing nothing; those of different
//! clusters run side by side. Cluster ids: 40 (two, then three `up`s at once), 41 and 42
//! (one `up` each, at once).

use super::Tally;
use crate::support::*;
use anyhow::{bail, ensure, Context, Result};
use dind::engine::docker::Engine;
use dind::engine::lock::lock_name;
use dind::labels;
use tokio::task::JoinSet;

/// 172.18 plus ids from 40 would leave 172.16.0.0/12.
const NAT64: &str = "10.100";
const WAITED: &str = "is locked by `dind up`";

fn up_of(id: &str) -> Vec<&str> {
    up_args(id, &["--nat64-v4-prefix", NAT64])
}

fn guard(id: u8) -> Cluster {
    Cluster {
        id,
        suffix: format!("-cluster-{id}"),
    }
}

pub async fn concurrent_ups() -> Tally {
    let mut tally = Tally::new("concurrent ups");
    let engine = engine().await;
    let wan = match Wan::start().await {
        Ok(wan) => wan,
        Err(err) => {
            tally.record("the simulated Internet", Err(err));
            return tally;
        }
    };
    let before = HostState::capture();
    for count in [2, 3] {
        let outcome = ups_of_one_cluster(&engine, count, &before).await;
        tally.record(&format!("{count} ups of cluster 40 at once"), outcome);
    }
    let outcome = ups_of_two_clusters(&engine, &before).await;
    tally.record("ups of clusters 41 and 42 at once", outcome);
    drop(wan);
    tally
}

async fn ups_of_one_cluster(engine: &Engine, count: usize, before: &HostState) -> Result<()> {
    let cluster = guard(40);
    let mut runs = JoinSet::new();
    for run in 1..=count {
        runs.spawn(async move { (run, dind_async(&up_of("40"), &[]).await) });
    }
    let (first, out) = runs.join_next().await.context("no up ran")??;
    ensure!(
        out.status.success(),
        "up #{first} failed:\n{}",
        stderr(&out)
    );
    let host_after_first = HostState::capture();
    let containers_after_first = container_ids(engine, 40).await?;
    let mut waited = usize::from(stderr(&out).contains(WAITED));
    while let Some(joined) = runs.join_next().await {
        let (run, out) = joined?;
        ensure!(out.status.success(), "up #{run} failed:\n{}", stderr(&out));
        waited += usize::from(stderr(&out).contains(WAITED));
    }
    ensure!(
        waited == count - 1,
        "{waited} of {count} ups waited for the lock, not all but the first"
    );
    one_cluster(engine, 40).await?;
    ensure!(
        container_ids(engine, 40).await? == containers_after_first,
        "the later ups replaced containers"
    );
    same_host(&host_after_first, "the later ups changed the host")?;
    check_network("40")?;
    let out = cluster.down();
    ensure!(out.status.success(), "down failed:\n{}", stderr(&out));
    same_host(before, "down left the host changed")
}

async fn ups_of_two_clusters(engine: &Engine, before: &HostState) -> Result<()> {
    let clusters = [guard(41), guard(42)];
    let (a, b) = tokio::join!(dind_async(&up_of("41"), &[]), dind_async(&up_of("42"), &[]));
    for (id, out) in [(41, a), (42, b)] {
        ensure!(out.status.success(), "up of {id} failed:\n{}", stderr(&out));
        ensure!(
            !stderr(&out).contains(WAITED),
            "up of {id} waited for another cluster's lock:\n{}",
            stderr(&out)
        );
        one_cluster(engine, id).await?;
    }
    // Both downs at once too: whichever ends last finds no IPv6 network left.
    let (a, b) = tokio::join!(
        dind_async(&["down", "--cluster-id", "41"], &[]),
        dind_async(&["down", "--cluster-id", "42"], &[])
    );
    for (id, out) in [(41, a), (42, b)] {
        ensure!(
            out.status.success(),
            "down of {id} failed:\n{}",
            stderr(&out)
        );
    }
    drop(clusters);
    let now = HostState::capture();
    if now.ipv6_forwarding != before.ipv6_forwarding
        || now.ip6_forward_policy() != before.ip6_forward_policy()
    {
        // Restored so that the other scenarios start from the host as it was.
        restore_forwarding(before)?;
        bail!(
            "IPv6 forwarding left {} and the ip6tables FORWARD policy {} after two clusters \
             made and removed at once (were {} and {})",
            now.ipv6_forwarding.trim(),
            now.ip6_forward_policy(),
            before.ipv6_forwarding.trim(),
            before.ip6_forward_policy()
        );
    }
    same_host(before, "down of both left the host changed")
}

/// Cluster `id`'s containers by name, with their ids.
async fn container_ids(engine: &Engine, id: u8) -> Result<Vec<(String, String)>> {
    let mut containers: Vec<(String, String)> = engine
        .containers_with(&[(labels::CLUSTER, &id.to_string())])
        .await?
        .iter()
        .map(|c| {
            let name = c.names.as_ref().and_then(|n| n.first()).cloned();
            (name.unwrap_or_default(), c.id.clone().unwrap_or_default())
        })
        .collect();
    containers.sort();
    Ok(containers)
}

/// Exactly one cluster `id`: its five containers, one network of its name, with its labels,
/// and no lock left.
async fn one_cluster(engine: &Engine, id: u8) -> Result<()> {
    let mut expected: Vec<String> = [
        "bind9",
        "kube-master",
        "kube-node-1",
        "kube-node-2",
        "tayga",
    ]
    .iter()
    .map(|base| format!("{base}-cluster-{id}"))
    .collect();
    expected.sort();
    let network = format!("kubeadm-dind-net-cluster-{id}");
    let (containers, networks) = labelled(engine, id).await;
    ensure!(
        containers == expected,
        "cluster {id}'s containers: {containers:?}"
    );
    ensure!(
        networks == [network.clone()],
        "cluster {id}'s networks: {networks:?}"
    );
    // Docker lets two networks share a name; only one may have it.
    let named: Vec<_> = engine
        .all_networks()
        .await?
        .into_iter()
        .filter(|n| n.name.as_deref() == Some(&network))
        .collect();
    ensure!(named.len() == 1, "{} networks named {network}", named.len());
    let network_labels = named[0].labels.clone().unwrap_or_default();
    ensure!(
        network_labels.get(labels::CLUSTER) == Some(&id.to_string())
            && network_labels.get(labels::ROLE).map(String::as_str)
                == Some(labels::Role::Network.as_label())
            && network_labels.contains_key(labels::RECORD),
        "{network}'s labels: {network_labels:?}"
    );
    ensure!(
        engine.inspect_container(&lock_name(id)).await?.is_none(),
        "cluster {id}'s lock outlived the ups"
    );
    Ok(())
}

fn same_host(expected: &HostState, what: &str) -> Result<()> {
    let now = HostState::capture();
    let differ: Vec<&str> = [
        ("ipv4 rules", now.ipv4_rules == expected.ipv4_rules),
        ("ipv6 rules", now.ipv6_rules == expected.ipv6_rules),
        ("ipv4 routes", now.ipv4_routes == expected.ipv4_routes),
        ("ipv6 routes", now.ipv6_routes == expected.ipv6_routes),
        (
            "ipv6 forwarding",
            now.ipv6_forwarding == expected.ipv6_forwarding,
        ),
    ]
    .into_iter()
    .filter(|(_, same)| !same)
    .map(|(part, _)| part)
    .collect();
    ensure!(differ.is_empty(), "{what}: {}", differ.join(", "));
    Ok(())
}

fn check_network(id: &str) -> Result<()> {
    let out = dind(
        &[
            "check",
            "network",
            "--cluster-id",
            id,
            "--port",
            "80",
            "--host-resolver",
            WAN_V4,
            "v4only.example.test",
            "dual.example.test",
        ],
        &[],
    );
    ensure!(
        out.status.success(),
        "check network of cluster {id} failed:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
    Ok(())
}
