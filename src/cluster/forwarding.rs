//! Who switched the Docker host's IPv6 forwarding on, and what the ip6tables FORWARD policy
//! was before. Docker switches forwarding on when it creates an IPv6 network (and Docker 28
//! and later set the FORWARD policy to DROP as they do), so a cluster's `up` cannot tell
//! afterwards what the host was like before dind: two `up`s of different clusters at once
//! would each see the other's switch. One host-wide marker, a labelled volume made before the
//! first cluster's network, says that dind switched forwarding on and carries the policy
//! found before; whichever `down` or rollback finds no IPv6 network left switches forwarding
//! back off, puts that policy back and removes the marker.

use crate::engine::docker::Engine;
use crate::engine::host::{self, HostNet};
use crate::labels::{self, ForwardPolicy};
use anyhow::{Context, Result};

/// The marker volume; it holds nothing.
const MARKER: &str = "dind-ipv6-forwarding";
const MARKER_VALUE: &str = "switched-on-by-dind";

/// The marker, when it exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Marker {
    /// The FORWARD policy before dind's first cluster; None on a marker of an older dind.
    pub(crate) policy: Option<ForwardPolicy>,
}

pub(crate) async fn switched_on_by_dind(engine: &Engine) -> Result<bool> {
    Ok(marker(engine).await?.is_some())
}

pub(crate) async fn marker(engine: &Engine) -> Result<Option<Marker>> {
    let Some(labels) = engine.volume_labels(MARKER).await? else {
        return Ok(None);
    };
    if labels.get(labels::IPV6_FORWARDING).map(String::as_str) != Some(MARKER_VALUE) {
        return Ok(None);
    }
    Ok(Some(Marker {
        policy: labels
            .get(labels::IP6_FORWARD_POLICY)
            .and_then(|p| p.parse().ok()),
    }))
}

/// Says that dind switches forwarding on, with the FORWARD policy found before; before the
/// change, so a concurrent `up` that finds it on also finds the marker. A marker that exists
/// already keeps the policy it carries (the first cluster's).
pub(crate) async fn mark_switched_on(engine: &Engine, policy: Option<ForwardPolicy>) -> Result<()> {
    let mut marker_labels = vec![(labels::IPV6_FORWARDING, MARKER_VALUE)];
    if let Some(policy) = policy {
        marker_labels.push((labels::IP6_FORWARD_POLICY, policy.as_str()));
    }
    engine.create_volume(MARKER, &marker_labels).await
}

/// The FORWARD policy a new cluster's record keeps: none when it does not switch forwarding
/// on; else the marker's, which another cluster's `up` found before any network of dind
/// existed; else `found`, read from the host before this `up` changed anything (no filter
/// table is as ACCEPT).
pub(crate) fn policy_before(
    switches_forwarding: bool,
    marker: Option<Marker>,
    found: Option<Option<ForwardPolicy>>,
) -> Option<ForwardPolicy> {
    if !switches_forwarding {
        return None;
    }
    let found = found.map(|p| p.unwrap_or(ForwardPolicy::Accept));
    marker.and_then(|m| m.policy).or(found)
}

/// The policy to set when forwarding goes back off: `want`, unless the host has it already.
fn to_set(now: Option<ForwardPolicy>, want: ForwardPolicy) -> Option<ForwardPolicy> {
    (now.unwrap_or(ForwardPolicy::Accept) != want).then_some(want)
}

/// What [`restore_when_unused`] put back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Restored {
    /// Forwarding switched back off.
    pub(crate) forwarding: bool,
    /// The FORWARD policy set back to this (it was another).
    pub(crate) policy: Option<ForwardPolicy>,
}

/// Once no IPv6 network is left: switches forwarding dind switched on back off, puts the
/// FORWARD policy from before back (the marker's, else `recorded`, the cluster record's),
/// and removes the marker (a concurrent `down` may have removed it first).
pub(crate) async fn restore_when_unused(
    engine: &Engine,
    helper_image: &str,
    cluster_id: u8,
    recorded: Option<ForwardPolicy>,
) -> Result<Restored> {
    if ipv6_network_left(engine).await? {
        return Ok(Restored::default());
    }
    let policy = marker(engine).await?.and_then(|m| m.policy).or(recorded);
    host::set_ipv6_forwarding(engine, helper_image, cluster_id, false).await?;
    let mut restored = Restored {
        forwarding: true,
        policy: None,
    };
    if let Some(policy) = policy {
        restored.policy = HostNet::with(engine, helper_image, cluster_id, async |host| {
            let set = to_set(host.ip6_forward_policy().await?, policy);
            if let Some(policy) = set {
                host.set_ip6_forward_policy(policy).await?;
            }
            Ok(set)
        })
        .await
        .context("cannot put the host's ip6tables FORWARD policy back")?;
    }
    engine.remove_volume(MARKER).await?;
    Ok(restored)
}

/// Any IPv6 network, a cluster's or not: switching forwarding off would cut it off.
async fn ipv6_network_left(engine: &Engine) -> Result<bool> {
    Ok(engine
        .all_networks()
        .await?
        .into_iter()
        .any(|n| n.enable_ipv6 == Some(true)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ForwardPolicy::{Accept, Drop};

    #[test]
    fn the_policy_before_dind_is_the_first_clusters() {
        let marker = |policy| Some(Marker { policy });
        // Forwarding on before dind: Docker leaves the policy alone, nothing to put back.
        assert_eq!(policy_before(false, None, Some(Some(Drop))), None);
        // The first cluster: what it found.
        assert_eq!(policy_before(true, None, Some(Some(Accept))), Some(Accept));
        assert_eq!(policy_before(true, None, Some(None)), Some(Accept));
        // A later one found Docker's DROP, set for the first cluster's network: the marker's.
        assert_eq!(
            policy_before(true, marker(Some(Accept)), Some(Some(Drop))),
            Some(Accept)
        );
        // A marker of an older dind carries none; an unreadable host gives none.
        assert_eq!(
            policy_before(true, marker(None), Some(Some(Drop))),
            Some(Drop)
        );
        assert_eq!(policy_before(true, None, None), None);
    }

    #[test]
    fn the_policy_is_set_only_when_the_host_has_another() {
        assert_eq!(to_set(Some(Drop), Accept), Some(Accept));
        assert_eq!(to_set(Some(Accept), Accept), None);
        assert_eq!(to_set(None, Accept), None);
        assert_eq!(to_set(None, Drop), Some(Drop));
    }
}
