//! Who switched the Docker host's IPv6 forwarding on. Docker switches it on when it creates
//! an IPv6 network, so a cluster's `up` cannot tell afterwards whether it was on before
//! dind: two `up`s of different clusters at once would each see the other's switch. One
//! host-wide marker, a labelled volume made before the first cluster's network, says that
//! dind switched it on; whichever `down` or rollback finds no IPv6 network left switches it
//! back off and removes the marker.

use crate::engine::docker::Engine;
use crate::engine::host;
use crate::labels;
use anyhow::Result;

/// The marker volume; it holds nothing.
const MARKER: &str = "dind-ipv6-forwarding";
const MARKER_VALUE: &str = "switched-on-by-dind";

pub(crate) async fn switched_on_by_dind(engine: &Engine) -> Result<bool> {
    Ok(!engine
        .volumes_with(&[(labels::IPV6_FORWARDING, MARKER_VALUE)])
        .await?
        .is_empty())
}

/// Says that dind switches forwarding on; before the change, so a concurrent `up` that
/// finds it on also finds the marker.
pub(crate) async fn mark_switched_on(engine: &Engine) -> Result<()> {
    engine
        .create_volume(MARKER, &[(labels::IPV6_FORWARDING, MARKER_VALUE)])
        .await
}

/// Switches forwarding dind switched on back off once no IPv6 network is left, and removes
/// the marker (a concurrent `down` may have removed it first). True when it did.
pub(crate) async fn restore_when_unused(
    engine: &Engine,
    helper_image: &str,
    cluster_id: u8,
) -> Result<bool> {
    if ipv6_network_left(engine).await? {
        return Ok(false);
    }
    host::set_ipv6_forwarding(engine, helper_image, cluster_id, false).await?;
    engine.remove_volume(MARKER).await?;
    Ok(true)
}

/// Any IPv6 network, a cluster's or not: switching forwarding off would cut it off.
async fn ipv6_network_left(engine: &Engine) -> Result<bool> {
    Ok(engine
        .all_networks()
        .await?
        .into_iter()
        .any(|n| n.enable_ipv6 == Some(true)))
}
